"""ImageFolder: a directory with one sub-directory of images per class, read through Pillow."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Dataset, _check_index

__all__ = ["IMG_EXTENSIONS", "ImageFolder"]

IMG_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")


class ImageFolder(Dataset):
    """Images in ``root/<class>/**/<file>``; classes are the sub-directory names, sorted.

    Item ``i`` is ``(image, class_index)``: the image as a uint8 array, ``(H, W)`` in mode 'L' or
    ``(H, W, 3)`` in mode 'RGB' (the default, as torchvision), after ``transform``. Files are matched by
    extension, case-insensitively, and listed in sorted order.

    >>> import tempfile, os, numpy as np
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(root, "cat"))
    >>> Image.fromarray(np.full((4, 5), 200, np.uint8)).save(os.path.join(root, "cat", "a.png"))
    >>> ds = ImageFolder(root, mode="L")
    >>> ds.classes, ds[0][0].shape, ds[0][1]
    (['cat'], (4, 5), 0)
    """

    def __init__(
        self,
        root: str | os.PathLike,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        extensions: Sequence[str] = IMG_EXTENSIONS,
        mode: str = "RGB",
    ) -> None:
        if mode not in ("L", "RGB"):
            raise ValueError(f"ImageFolder: mode must be 'L' (grayscale) or 'RGB', got {mode!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"ImageFolder: root {str(self.root)!r} is not a directory")
        extensions = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        self.classes = sorted(
            d.name for d in self.root.iterdir() if d.is_dir() and not d.name.startswith(".")
        )
        if not self.classes:
            raise FileNotFoundError(f"ImageFolder: {str(self.root)!r} has no class sub-directories")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples: list[tuple[str, int]] = []
        for c in self.classes:
            for dirpath, dirnames, filenames in os.walk(self.root / c, followlinks=True):
                dirnames.sort()
                for f in sorted(filenames):
                    if f.lower().endswith(extensions):
                        self.samples.append((os.path.join(dirpath, f), self.class_to_idx[c]))
        if not self.samples:
            raise FileNotFoundError(
                f"ImageFolder: no files with extensions {', '.join(extensions)} under {str(self.root)!r}"
            )
        self.targets = np.array([t for _, t in self.samples], dtype=np.int64)
        self.extensions = extensions
        self.mode = mode
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, path: str) -> np.ndarray:
        """Read one image file as a uint8 array in this folder's mode."""
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                return np.asarray(image.convert(self.mode), dtype=np.uint8)
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"ImageFolder: cannot read image {path!r}: {error}") from None

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[_check_index(index, len(self), "ImageFolder")]
        image: Any = self.load(path)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        return f"ImageFolder(root={str(self.root)!r}, n={len(self)}, classes={len(self.classes)}, mode={self.mode!r})"
