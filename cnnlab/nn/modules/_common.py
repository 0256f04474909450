"""Small helpers shared by the layers: argument checks and parameter construction."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor
from ..parameter import Parameter

__all__: list[str] = []


def new_parameter(shape: tuple[int, ...], dtype: Any = None, fill: float | None = None) -> Parameter:
    """An uninitialised (or filled) float parameter; float32 unless ``dtype`` says otherwise."""
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"parameters must have a floating-point dtype, got dtype={dtype}")
    data = np.empty(shape, dtype=dtype) if fill is None else np.full(shape, fill, dtype=dtype)
    return Parameter(Tensor(data))


def new_buffer(shape: tuple[int, ...], fill: float, dtype: Any = None) -> Tensor:
    return Tensor(np.full(shape, fill, dtype=np.dtype(np.float32 if dtype is None else dtype)))


def check_device(layer: str, device: Any) -> None:
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{layer}: cnnlab runs on the CPU only; got device={device!r}")


def check_int(layer: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= minimum, or a clear error naming the argument."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{layer}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_reduction(layer: str, reduction: str) -> str:
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{layer}: reduction must be one of 'none', 'mean', 'sum', got {reduction!r}")
    return reduction


def ntuple(value: Any, n: int, layer: str, name: str) -> tuple:
    """An int repeated n times, or a sequence of length n, as a tuple (PyTorch's _pair/_triple)."""
    if isinstance(value, (int, np.integer, float)) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)) and len(value) == n:
        return tuple(value)
    raise TypeError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {value!r}")
