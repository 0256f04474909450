"""Padding layers: zero, constant, reflection, replication and circular padding for 1/2/3-D inputs.

``padding`` is an int (the same on every side) or a tuple in F.pad's order: (left, right) for 1-D,
(left, right, top, bottom) for 2-D, (left, right, top, bottom, front, back) for 3-D.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = [
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
]


def _padding(layer: str, padding: Any, n: int) -> tuple[int, ...]:
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * n
    if (
        isinstance(padding, (tuple, list))
        and len(padding) == n
        and all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding)
    ):
        return tuple(int(p) for p in padding)
    raise TypeError(f"{layer}: padding must be an int or a tuple of {n} ints, got {padding!r}")


class _PadNd(Module):
    nd: int
    mode: str

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _padding(type(self).__name__, padding, 2 * self.nd)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    mode = "constant"

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with a constant.

    Shape: (N, C, W) or (C, W) -> (..., W + left + right).

    >>> import cnnlab
    >>> ConstantPad1d((1, 2), 3.5)(cnnlab.zeros(1, 2)).tolist()
    [[3.5, 0.0, 0.0, 3.5, 3.5]]
    """

    nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with a constant.

    Shape: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ConstantPad2d((3, 0, 2, 1), 3.5)(cnnlab.zeros(1, 2, 2)).shape
    (1, 5, 5)
    """

    nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with a constant.

    Shape: (N, C, D, H, W) -> (N, C, D + front + back, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ConstantPad3d(1, 3.5)(cnnlab.zeros(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dimension with zeros.

    Shape: (N, C, W) -> (N, C, W + left + right).

    >>> import cnnlab
    >>> ZeroPad1d(2)(cnnlab.ones(1, 1, 2)).tolist()
    [[[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]]]
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dimensions with zeros.

    Shape: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ZeroPad2d((1, 1, 2, 0))(cnnlab.ones(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dimensions with zeros.

    Shape: (N, C, D, H, W) -> (N, C, D + front + back, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ZeroPad3d(1)(cnnlab.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dimension with the reflection of the input (the edge itself is not repeated).

    Shape: (N, C, W) -> (N, C, W + left + right); each pad must be smaller than W.

    >>> import cnnlab
    >>> ReflectionPad1d(2)(cnnlab.arange(4.0).reshape(1, 1, 4)).tolist()
    [[[2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
    """

    nd, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last two dimensions with the reflection of the input.

    Shape: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ReflectionPad2d(2)(cnnlab.randn(1, 1, 3, 3)).shape
    (1, 1, 7, 7)
    """

    nd, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last three dimensions with the reflection of the input.

    Shape: (N, C, D, H, W) -> (N, C, D + front + back, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ReflectionPad3d(1)(cnnlab.randn(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    nd, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dimension by repeating the edge value.

    Shape: (N, C, W) -> (N, C, W + left + right).

    >>> import cnnlab
    >>> ReplicationPad1d((2, 1))(cnnlab.arange(3.0).reshape(1, 1, 3)).tolist()
    [[[0.0, 0.0, 0.0, 1.0, 2.0, 2.0]]]
    """

    nd, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last two dimensions by repeating the edge values.

    Shape: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ReplicationPad2d((1, 1, 2, 0))(cnnlab.randn(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """

    nd, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last three dimensions by repeating the edge values.

    Shape: (N, C, D, H, W) -> (N, C, D + front + back, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> ReplicationPad3d(3)(cnnlab.randn(1, 1, 2, 2, 2)).shape
    (1, 1, 8, 8, 8)
    """

    nd, mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad the last dimension by wrapping around (periodic boundary).

    Shape: (N, C, W) -> (N, C, W + left + right).

    >>> import cnnlab
    >>> CircularPad1d(2)(cnnlab.arange(4.0).reshape(1, 1, 4)).tolist()
    [[[2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 0.0, 1.0]]]
    """

    nd, mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad the last two dimensions by wrapping around.

    Shape: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> CircularPad2d((1, 1, 2, 0))(cnnlab.randn(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """

    nd, mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pad the last three dimensions by wrapping around.

    Shape: (N, C, D, H, W) -> (N, C, D + front + back, H + top + bottom, W + left + right).

    >>> import cnnlab
    >>> CircularPad3d(1)(cnnlab.randn(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    nd, mode = 3, "circular"
