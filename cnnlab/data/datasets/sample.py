"""``fashion-mnist-sample``: a class-balanced slice of Fashion-MNIST shipped inside the package.

6,000 training images (600 per class) and 1,000 test images (100 per class), 28×28 uint8, as gzipped IDX
files in ``cnnlab/data/datasets/sample/``; no network and nothing to install. Selection rule: for each
class, the first 600 (train) / 100 (test) images of that class in the official files' order, kept in
that order. Fashion-MNIST is MIT-licensed, © 2017 Zalando SE (see sample/README.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import ImageArrayDataset
from .idx import write_idx
from .mnist import FashionMNIST, load_idx_pair

__all__ = ["SAMPLE_DIR", "FashionMNISTSample", "balanced_indices", "build_fashion_mnist_sample"]

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
TRAIN_PER_CLASS, TEST_PER_CLASS = 600, 100


def balanced_indices(labels: np.ndarray, per_class: int, num_classes: int = 10) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class, in the original order.

    >>> balanced_indices(np.array([1, 0, 1, 1, 0, 0]), 2, num_classes=2).tolist()
    [0, 1, 2, 4]
    """
    picked = []
    for c in range(num_classes):
        where = np.flatnonzero(labels == c)
        if len(where) < per_class:
            raise ValueError(f"balanced_indices: class {c} has {len(where)} examples, fewer than {per_class}")
        picked.append(where[:per_class])
    return np.sort(np.concatenate(picked))


def build_fashion_mnist_sample(
    source: str | os.PathLike | None = None,
    dest: str | os.PathLike = SAMPLE_DIR,
    train_per_class: int = TRAIN_PER_CLASS,
    test_per_class: int = TEST_PER_CLASS,
) -> None:
    """Rebuild the sample's four IDX files in ``dest`` from the full Fashion-MNIST (found as usual).

    Deterministic: the same source files give byte-identical output (gzip without timestamps).
    """
    for train, per_class, prefix in ((True, train_per_class, "train"), (False, test_per_class, "t10k")):
        full = FashionMNIST(root=source, train=train, download=False)
        keep = balanced_indices(full.targets, per_class, len(full.classes))
        write_idx(Path(dest) / f"{prefix}-images-idx3-ubyte.gz", full.data[keep])
        write_idx(Path(dest) / f"{prefix}-labels-idx1-ubyte.gz", full.targets[keep].astype(np.uint8))


class FashionMNISTSample(ImageArrayDataset):
    """The embedded Fashion-MNIST sample: 6,000 training / 1,000 test images, 10 balanced classes.

    >>> ds = FashionMNISTSample(train=False)
    >>> len(ds), ds.data.shape[1:], ds.classes[9]
    (1000, (28, 28), 'Ankle boot')
    """

    name = "fashion-mnist-sample"
    classes = FashionMNIST.classes

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        directory = Path(root) if root is not None else SAMPLE_DIR
        prefix = "train" if train else "t10k"
        images, labels = load_idx_pair(
            directory / f"{prefix}-images-idx3-ubyte.gz",
            directory / f"{prefix}-labels-idx1-ubyte.gz",
            len(self.classes),
        )
        self.train = train
        super().__init__(images, labels, self.classes, transform, target_transform, source=directory)
