"""MNIST, Fashion-MNIST and Kuzushiji-MNIST from their official IDX files.

The files are found (or fetched) as :mod:`cnnlab.data.datasets.download` describes; the published
MD5 checksums below are those of the official gzip files (the same ones torchvision checks).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import ImageArrayDataset
from .download import ensure_dataset
from .idx import read_idx

__all__ = ["KMNIST", "MNIST", "FashionMNIST", "load_idx_pair"]


def load_idx_pair(images_path: Path, labels_path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file (N, H, W uint8) and its labels file (N, uint8) and check they belong together."""
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError(
            f"{images_path} / {labels_path}: expected uint8 images and labels, got {images.dtype} and {labels.dtype}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path}: holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"{labels_path}: labels must lie in [0, {num_classes - 1}], found {labels.max()}")
    return images, labels.astype(np.int64)


def _find(directory: Path, filename: str) -> Path:
    gz = directory / filename
    return gz if gz.is_file() else directory / filename.removesuffix(".gz")


class _MNISTLike(ImageArrayDataset):
    name = ""
    mirrors: tuple[str, ...] = ()
    resources: tuple[tuple[str, str], ...] = ()
    classes: tuple[str, ...] = ()
    hint = ""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = True,
    ) -> None:
        directory = ensure_dataset(
            self.name, self.resources, self.mirrors, root=root, download=download, hint=self.hint
        )
        prefix = "train" if train else "t10k"
        images, labels = load_idx_pair(
            _find(directory, f"{prefix}-images-idx3-ubyte.gz"),
            _find(directory, f"{prefix}-labels-idx1-ubyte.gz"),
            len(self.classes),
        )
        self.train = train
        super().__init__(images, labels, self.classes, transform, target_transform, source=directory)


class MNIST(_MNISTLike):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28 uint8, 10 classes.

    ``root``: a directory holding the four IDX files (searched alone when given); otherwise the cache and
    ``/usr/share/datasets/mnist`` are searched and, with ``download=True``, the files are downloaded.
    """

    name = "mnist"
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    resources = (
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    )
    classes = (
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    )


class FashionMNIST(_MNISTLike):
    """Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of clothing, 28×28 uint8, 10 classes.

    Found in ``/usr/share/datasets/fashion-mnist`` once ``apt-get install dataset-fashion-mnist`` has run.
    """

    name = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
    classes = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
    hint = "run `apt-get install dataset-fashion-mnist` (installs to /usr/share/datasets/fashion-mnist)"


class KMNIST(_MNISTLike):
    """Kuzushiji-MNIST: cursive Japanese (hiragana) characters, 60,000 + 10,000 images, 28×28 uint8, 10 classes."""

    name = "kmnist"
    mirrors = ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)
    resources = (
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    )
    classes = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
