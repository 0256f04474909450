"""The shared shape of in-memory image datasets (MNIST family, CIFAR): uint8 ``data``, int64 ``targets``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Dataset, _check_index

__all__ = ["ImageArrayDataset"]


class ImageArrayDataset(Dataset):
    """Images held in memory as a uint8 array ``data`` (N, H, W[, C]) with int64 ``targets`` (N,).

    Item ``i`` is ``(image, target)``: the image as a uint8 array (``transform`` applied if given) and
    the target as a Python int (``target_transform`` applied if given), as in torchvision.
    Batches are built with one fancy index when the transform has a batched form.

    >>> import numpy as np
    >>> ds = ImageArrayDataset(np.zeros((3, 2, 2), np.uint8), np.array([0, 1, 1]), classes=["a", "b"])
    >>> image, target = ds[2]
    >>> image.shape, target, ds.class_to_idx
    ((2, 2), 1, {'a': 0, 'b': 1})
    """

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        classes: list[str],
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        source: Path | str | None = None,
    ) -> None:
        name = type(self).__name__
        if data.dtype != np.uint8 or data.ndim not in (3, 4):
            raise ValueError(
                f"{name}: data must be uint8 of shape (N, H, W[, C]), got {data.dtype}{list(data.shape)}"
            )
        targets = np.asarray(targets).astype(np.int64, copy=False)
        if targets.shape != (len(data),):
            raise ValueError(
                f"{name}: expected {len(data)} targets for {len(data)} images, got shape {targets.shape}"
            )
        if targets.size and (targets.min() < 0 or targets.max() >= len(classes)):
            raise ValueError(
                f"{name}: targets must lie in [0, {len(classes) - 1}] ({len(classes)} classes), "
                f"got values from {targets.min()} to {targets.max()}"
            )
        self.data = data
        self.targets = targets
        self.classes = list(classes)
        self.transform = transform
        self.target_transform = target_transform
        self.source = None if source is None else Path(source)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = _check_index(index, len(self), type(self).__name__)
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _get_batch(self, indices: np.ndarray) -> Any:
        if self.target_transform is not None:
            return NotImplemented
        images = self.data[indices]
        if self.transform is not None:
            if not getattr(self.transform, "supports_batch", False) or not hasattr(
                self.transform, "apply_batch"
            ):
                return NotImplemented
            images = self.transform.apply_batch(images)
        return images, self.targets[indices]

    def __repr__(self) -> str:
        where = f", source={str(self.source)!r}" if self.source else ""
        return f"{type(self).__name__}(n={len(self)}, shape={self.data.shape[1:]}, classes={len(self.classes)}{where})"
