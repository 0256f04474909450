"""Argument checks shared by the convolution and pooling families.

Every check names the op and the argument, says what was expected and echoes what was received.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor

__all__: list[str] = []


def ntuple(value: Any, n: int, op: str, name: str) -> tuple[int, ...]:
    """``value`` as a tuple of ``n`` ints: an int is repeated, a sequence must have length n (or 1)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        if len(value) == n:
            return tuple(int(v) for v in value)
        if len(value) == 1:
            return (int(value[0]),) * n
    raise TypeError(f"{op}: expected {name} to be an int or a tuple of {n} ints, got {value!r}")


def positive(values: tuple[int, ...], op: str, name: str) -> tuple[int, ...]:
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: expected {name} to be positive, got {name}={values}")
    return values


def non_negative(values: tuple[int, ...], op: str, name: str) -> tuple[int, ...]:
    if any(v < 0 for v in values):
        raise ValueError(f"{op}: expected {name} to be non-negative, got {name}={values}")
    return values


def check_tensor(x: Any, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")
    return x


def check_spatial_input(x: Tensor, nd: int, op: str) -> bool:
    """Check that ``x`` is (N, C, *spatial) or unbatched (C, *spatial); True when batched."""
    check_tensor(x, op, "input")
    data = x.data  # (not the properties: this runs in every convolution and pool)
    if data.ndim != nd + 2 and data.ndim != nd + 1:
        raise ValueError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
            f"got a {data.ndim}-D input of shape {data.shape}"
        )
    if data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {data.dtype}")
    return data.ndim == nd + 2


def output_size(
    size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int, ceil_mode: bool = False
) -> int:
    """floor((n + p_before + p_after - d(k-1) - 1) / s) + 1; with ceil_mode, rounded up, but the last
    window must start inside the input or its left padding (PyTorch's rule)."""
    span = size + pad_before + pad_after - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad_before:
        out -= 1
    return out
