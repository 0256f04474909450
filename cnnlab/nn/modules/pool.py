"""Pooling layers: max, average, adaptive average and adaptive max, for 1/2/3-D inputs.

The hyperparameters are stored as given (PyTorch's convention, which its ``repr`` shows), with
``stride`` defaulting to ``kernel_size``; the F op checks them.
"""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ._common import ntuple
from .module import Module

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
]


class _MaxPoolNd(Module):
    op: str

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return getattr(F, self.op)(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling; with ``return_indices`` it also returns the flat index of each maximum.

    Shape: (N, C, L) -> (N, C, L_out), L_out = floor((L + 2p - d(k-1) - 1)/s) + 1.

    >>> import cnnlab
    >>> MaxPool1d(3, stride=2)(cnnlab.randn(20, 16, 50)).shape
    (20, 16, 24)
    """

    op = "max_pool1d"


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling; with ``return_indices`` it also returns the flat index of each maximum.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2p - d(KH-1) - 1)/s) + 1.

    >>> import cnnlab
    >>> pool = MaxPool2d(2)
    >>> pool(cnnlab.randn(1, 3, 28, 28)).shape
    (1, 3, 14, 14)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    op = "max_pool2d"


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling.

    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    >>> import cnnlab
    >>> MaxPool3d(2)(cnnlab.randn(1, 2, 4, 6, 8)).shape
    (1, 2, 2, 3, 4)
    """

    op = "max_pool3d"


class AvgPool1d(Module):
    """1-D average pooling.

    Shape: (N, C, L) -> (N, C, L_out), L_out = floor((L + 2p - k)/s) + 1.

    >>> import cnnlab
    >>> pool = AvgPool1d(3, stride=2)
    >>> pool(cnnlab.tensor([[[1.0, 2, 3, 4, 5, 6, 7]]])).tolist()
    [[[2.0, 4.0, 6.0]]]
    >>> pool
    AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        # AvgPool1d is PyTorch's one pooling layer that stores 1-tuples
        self.kernel_size = ntuple(kernel_size, 1, "AvgPool1d", "kernel_size")
        self.stride = ntuple(stride if stride is not None else kernel_size, 1, "AvgPool1d", "stride")
        self.padding = ntuple(padding, 1, "AvgPool1d", "padding")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    op: str

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        if divisor_override is not None and (
            isinstance(divisor_override, bool)
            or not isinstance(divisor_override, int)
            or divisor_override == 0
        ):
            raise ValueError(
                f"{type(self).__name__}: divisor_override must be a non-zero int or None, got {divisor_override!r}"
            )
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self.op)(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling (``count_include_pad`` and ``divisor_override`` as in PyTorch).

    Shape: (N, C, H, W) -> (N, C, H_out, W_out), H_out = floor((H + 2p - KH)/s) + 1.

    >>> import cnnlab
    >>> AvgPool2d((3, 2), stride=(2, 1))(cnnlab.randn(20, 16, 50, 32)).shape
    (20, 16, 24, 31)
    """

    op = "avg_pool2d"


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling.

    Shape: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out).

    >>> import cnnlab
    >>> AvgPool3d(2)(cnnlab.randn(1, 2, 4, 4, 4)).shape
    (1, 2, 2, 2, 2)
    """

    op = "avg_pool3d"


class _AdaptivePoolNd(Module):
    op: str

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Any:
        return getattr(F, self.op)(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """1-D average pooling to a fixed output length, whatever the input length.

    Shape: (N, C, L) -> (N, C, output_size).

    >>> import cnnlab
    >>> AdaptiveAvgPool1d(5)(cnnlab.randn(1, 64, 8)).shape
    (1, 64, 5)
    """

    op = "adaptive_avg_pool1d"


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """2-D average pooling to a fixed output size (None keeps that dimension's input size).

    Shape: (N, C, H, W) -> (N, C, *output_size).

    >>> import cnnlab
    >>> AdaptiveAvgPool2d((5, 7))(cnnlab.randn(1, 64, 8, 9)).shape
    (1, 64, 5, 7)
    """

    op = "adaptive_avg_pool2d"


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """3-D average pooling to a fixed output size.

    Shape: (N, C, D, H, W) -> (N, C, *output_size).

    >>> import cnnlab
    >>> AdaptiveAvgPool3d(1)(cnnlab.randn(1, 4, 3, 5, 7)).shape
    (1, 4, 1, 1, 1)
    """

    op = "adaptive_avg_pool3d"


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return getattr(F, self.op)(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-D max pooling to a fixed output length.

    Shape: (N, C, L) -> (N, C, output_size).

    >>> import cnnlab
    >>> AdaptiveMaxPool1d(5)(cnnlab.randn(1, 64, 8)).shape
    (1, 64, 5)
    """

    op = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """2-D max pooling to a fixed output size.

    Shape: (N, C, H, W) -> (N, C, *output_size).

    >>> import cnnlab
    >>> AdaptiveMaxPool2d((5, 7))(cnnlab.randn(1, 64, 8, 9)).shape
    (1, 64, 5, 7)
    """

    op = "adaptive_max_pool2d"


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-D max pooling to a fixed output size.

    Shape: (N, C, D, H, W) -> (N, C, *output_size).

    >>> import cnnlab
    >>> AdaptiveMaxPool3d(2)(cnnlab.randn(1, 4, 4, 5, 6)).shape
    (1, 4, 2, 2, 2)
    """

    op = "adaptive_max_pool3d"
