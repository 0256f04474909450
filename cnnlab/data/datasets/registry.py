"""Datasets by name: ``get_dataset("fashion-mnist")`` and a listing of what is where."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .cifar import CIFAR10, CIFAR100
from .download import candidate_dirs, find_dataset_dir
from .mnist import KMNIST, MNIST, FashionMNIST
from .sample import SAMPLE_DIR, FashionMNISTSample

__all__ = ["DATASETS", "available_datasets", "get_dataset"]

# name -> (class, image shape as ToTensor gives it)
DATASETS: dict[str, tuple[type, tuple[int, int, int]]] = {
    "mnist": (MNIST, (1, 28, 28)),
    "fashion-mnist": (FashionMNIST, (1, 28, 28)),
    "kmnist": (KMNIST, (1, 28, 28)),
    "cifar10": (CIFAR10, (3, 32, 32)),
    "cifar100": (CIFAR100, (3, 32, 32)),
    "fashion-mnist-sample": (FashionMNISTSample, (1, 28, 28)),
}


def _lookup(name: str) -> tuple[type, tuple[int, int, int]]:
    key = name.lower().replace("_", "-") if isinstance(name, str) else name
    if key not in DATASETS:
        raise ValueError(f"get_dataset: unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    return DATASETS[key]


def get_dataset(
    name: str,
    train: bool = True,
    root: str | os.PathLike | None = None,
    download: bool = True,
    transform: Callable | None = None,
    target_transform: Callable | None = None,
) -> Any:
    """The dataset called ``name`` (see :func:`available_datasets`), found or downloaded as usual.

    >>> ds = get_dataset("fashion-mnist-sample", train=False)
    >>> len(ds), ds.classes[0]
    (1000, 'T-shirt/top')
    """
    cls, _ = _lookup(name)
    return cls(
        root=root, train=train, transform=transform, target_transform=target_transform, download=download
    )


def _location(cls: type, root: str | os.PathLike | None) -> str:
    if cls is FashionMNISTSample:
        return str(SAMPLE_DIR if root is None else root)
    if cls in (CIFAR10, CIFAR100):
        for directory in candidate_dirs(cls.name, root):
            if (directory / cls.folder).is_dir() or (directory / cls.archive).is_file():
                return str(directory)
        return "not found"
    found = find_dataset_dir(cls.name, [f for f, _ in cls.resources], root)
    return "not found" if found is None else str(found)


def available_datasets(root: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per known dataset: name, classes, image shape (C, H, W), and where its files are (or 'not found').

    Looks only; never downloads.

    >>> rows = {row["name"]: row for row in available_datasets()}
    >>> rows["fashion-mnist-sample"]["image_shape"], len(rows["cifar100"]["classes"])
    ((1, 28, 28), 100)
    """
    return [
        {"name": name, "classes": list(cls.classes), "image_shape": shape, "location": _location(cls, root)}
        for name, (cls, shape) in DATASETS.items()
    ]
