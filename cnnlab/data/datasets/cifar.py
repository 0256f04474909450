"""CIFAR-10 and CIFAR-100 from the *binary* distributions, read record by record; never unpickled.

CIFAR-10 (``cifar-10-binary.tar.gz``): ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and ``test_batch.bin``,
each a run of 3073-byte records: 1 label byte, then 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
each 32×32 row-major). CIFAR-100 (``cifar-100-binary.tar.gz``): ``cifar-100-binary/train.bin`` and
``test.bin``, 3074-byte records: coarse label byte, fine label byte, 3072 pixel bytes.
Members are read straight out of the tar (nothing is extracted); an already extracted directory works too.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .base import ImageArrayDataset
from .download import candidate_dirs, ensure_dataset

__all__ = ["CIFAR10", "CIFAR100", "parse_cifar_records"]

_PIXELS = 3 * 32 * 32


def parse_cifar_records(raw: bytes, label_bytes: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Split CIFAR binary records into images (N, 32, 32, 3) uint8 and labels (N, label_bytes) uint8.

    >>> rec = bytes([7]) + bytes(range(256)) * 12
    >>> images, labels = parse_cifar_records(rec * 2, 1, "demo.bin")
    >>> images.shape, labels[:, 0].tolist()
    ((2, 32, 32, 3), [7, 7])
    """
    record = label_bytes + _PIXELS
    if len(raw) == 0 or len(raw) % record:
        raise ValueError(
            f"{source}: expected a whole number of {record}-byte records ({label_bytes} label "
            f"byte{'s' if label_bytes > 1 else ''} + {_PIXELS} pixel bytes), got {len(raw)} bytes "
            f"({len(raw) // record} records and {len(raw) % record} bytes left over)"
        )
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
    labels = rows[:, :label_bytes].copy()
    images = rows[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # N,C,H,W -> N,H,W,C
    return images, labels


def _read_members(
    location: Path, archive: str, folder: str, members: tuple[str, ...]
) -> list[tuple[str, bytes]]:
    """The bytes of each member, from ``location/archive`` (a tar.gz) or ``location/folder`` (extracted)."""
    extracted = location / folder
    if all((extracted / m).is_file() for m in members):
        return [(str(extracted / m), (extracted / m).read_bytes()) for m in members]
    path = location / archive
    out = []
    try:
        with tarfile.open(path, "r:*") as tar:
            for m in members:
                name = f"{folder}/{m}"
                try:
                    info = tar.getmember(name)
                except KeyError:
                    raise ValueError(f"{path}: the archive has no member {name!r}") from None
                if not info.isfile():
                    raise ValueError(f"{path}: member {name!r} is not a regular file")
                stream = tar.extractfile(info)
                if stream is None:
                    raise ValueError(f"{path}: member {name!r} cannot be read")
                out.append((f"{path}:{name}", stream.read()))
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(
            f"{path}: not a readable tar archive ({error}); delete it and download it again"
        ) from None
    return out


def _cifar_dir(name: str, archive: str, folder: str, md5: str, url: str, root, download: bool) -> Path:
    # an extracted folder counts as found; otherwise look for (or fetch) the archive
    for directory in candidate_dirs(name, root):
        if (directory / folder).is_dir():
            return directory
    base, filename = url.rsplit("/", 1)
    return ensure_dataset(name, [(filename, md5)], [base], root=root, download=download)


class CIFAR10(ImageArrayDataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images, 32×32×3 uint8 (HWC), 10 classes.

    ``data`` is (N, 32, 32, 3) uint8 as in torchvision; apply ``ToTensor`` for float32 (3, 32, 32).
    """

    name = "cifar10"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    archive = "cifar-10-binary.tar.gz"
    folder = "cifar-10-batches-bin"
    train_members = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
    test_members = ("test_batch.bin",)
    label_bytes = 1
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = True,
    ) -> None:
        directory = _cifar_dir(self.name, self.archive, self.folder, self.md5, self.url, root, download)
        members = self.train_members if train else self.test_members
        parts = [
            parse_cifar_records(raw, self.label_bytes, src)
            for src, raw in _read_members(directory, self.archive, self.folder, members)
        ]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
        self.train = train
        self._set_labels(labels)
        super().__init__(
            images, self._fine(labels), self.classes, transform, target_transform, source=directory
        )

    def _set_labels(self, labels: np.ndarray) -> None:
        pass

    def _fine(self, labels: np.ndarray) -> np.ndarray:
        return labels[:, -1]


_CIFAR100_FINE = (
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
)
_CIFAR100_COARSE = (
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
)


class CIFAR100(CIFAR10):
    """CIFAR-100: 50,000 + 10,000 colour images, 32×32×3 uint8, 100 fine classes in 20 superclasses.

    ``targets`` are the fine labels; ``coarse_targets`` and ``coarse_classes`` hold the superclasses.
    """

    name = "cifar100"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    md5 = "03b5dce01913d631647c71ecec9e9cb8"
    archive = "cifar-100-binary.tar.gz"
    folder = "cifar-100-binary"
    train_members = ("train.bin",)
    test_members = ("test.bin",)
    label_bytes = 2
    classes = _CIFAR100_FINE
    coarse_classes = _CIFAR100_COARSE

    def _set_labels(self, labels: np.ndarray) -> None:
        coarse = labels[:, 0]
        if coarse.size and coarse.max() >= len(self.coarse_classes):
            raise ValueError(f"CIFAR100: coarse labels must lie in [0, 19], found {coarse.max()}")
        self.coarse_targets = coarse
