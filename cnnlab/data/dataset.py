"""Datasets: anything with ``__getitem__`` and ``__len__``, plus the containers PyTorch users know.

A dataset may also offer ``_get_batch(indices)``, returning a whole batch as a tuple of stacked arrays
from one fancy index (or ``NotImplemented``); :class:`~cnnlab.data.DataLoader` uses it when present so
array-backed datasets are batched without a Python loop over samples.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["ArrayDataset", "ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(index)`` and ``__len__()``.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> [Squares()[i] for i in range(4)]
    [0, 1, 4, 9]
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    def _get_batch(self, indices: np.ndarray) -> Any:
        return NotImplemented


def _check_index(index: Any, length: int, owner: str) -> int:
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise TypeError(f"{owner}: index must be an int, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"{owner}: index {index} is out of range for a dataset of length {length}")
    return int(index) % length


class ArrayDataset(Dataset):
    """A dataset over arrays that share their first dimension; item ``i`` is ``tuple(a[i] for a in arrays)``.

    Accepts NumPy arrays, cnnlab Tensors or anything ``np.asarray`` takes. ``transform`` applies to the
    first array's items, ``target_transform`` to the second's. Without transforms (or with transforms
    that have a batched form) the DataLoader builds each batch with one fancy index per array.

    >>> import numpy as np
    >>> ds = ArrayDataset(np.zeros((5, 2), np.float32), np.arange(5))
    >>> len(ds), ds[3][1]
    (5, np.int64(3))
    """

    def __init__(
        self, *arrays: Any, transform: Callable | None = None, target_transform: Callable | None = None
    ) -> None:
        if not arrays:
            raise ValueError("ArrayDataset: expected at least one array, got none")
        self.arrays = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(f"ArrayDataset: arrays must share their first dimension, got shapes {shapes}")
        if target_transform is not None and len(self.arrays) < 2:
            raise ValueError("ArrayDataset: target_transform needs a second array (the targets)")
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        index = _check_index(index, len(self), type(self).__name__)
        items = [a[index] for a in self.arrays]
        if self.transform is not None:
            items[0] = self.transform(items[0])
        if self.target_transform is not None:
            items[1] = self.target_transform(items[1])
        return tuple(items)

    def _get_batch(self, indices: np.ndarray) -> Any:
        if self.target_transform is not None:
            return NotImplemented
        batch = [a[indices] for a in self.arrays]
        if self.transform is not None:
            apply = getattr(self.transform, "apply_batch", None)
            if apply is None or not getattr(self.transform, "supports_batch", True):
                return NotImplemented
            batch[0] = apply(batch[0])
        return tuple(batch)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"{type(self).__name__}({shapes})"


class TensorDataset(ArrayDataset):
    """PyTorch's name for :class:`ArrayDataset`: item ``i`` is ``tuple(t[i] for t in tensors)``.

    >>> import cnnlab
    >>> ds = TensorDataset(cnnlab.zeros(3, 2), cnnlab.tensor([7, 8, 9]))
    >>> int(ds[1][1])
    8
    """


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order.

    >>> import numpy as np
    >>> sub = Subset(ArrayDataset(np.arange(10)), [7, 2])
    >>> [int(sub[i][0]) for i in range(len(sub))]
    [7, 2]
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [{-n}, {n - 1}] for a dataset of length {n}")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[_check_index(index, len(self), "Subset")])]

    def _get_batch(self, indices: np.ndarray) -> Any:
        inner = getattr(self.dataset, "_get_batch", None)
        return NotImplemented if inner is None else inner(self.indices[indices] % len(self.dataset))


class ConcatDataset(Dataset):
    """Several datasets end to end.

    >>> import numpy as np
    >>> both = ConcatDataset([ArrayDataset(np.arange(3)), ArrayDataset(np.arange(10, 12))])
    >>> len(both), int(both[4][0])
    (5, 11)
    """

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: expected at least one dataset, got none")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        index = _check_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: _random.Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths (or fractions summing to 1).

    The permutation comes from ``generator`` (default: cnnlab's default generator), so a seed fixes it.
    Fractions are turned into counts as PyTorch does: floor each, then hand the remainder out round-robin.

    >>> import numpy as np, cnnlab
    >>> train, val = random_split(ArrayDataset(np.arange(10)), [0.8, 0.2], generator=cnnlab.Generator(0))
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths must be non-negative ints summing to the dataset's length {n} "
            f"(or fractions summing to 1), got {lengths}"
        )
    gen = generator if generator is not None else _random.default_generator
    order = gen.numpy.permutation(n)
    bounds = np.cumsum([0, *lengths])
    return [Subset(dataset, order[a:b]) for a, b in itertools.pairwise(bounds)]
