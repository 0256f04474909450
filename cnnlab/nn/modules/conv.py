"""Convolution layers: Conv1d/2d/3d (with padding modes), ConvTranspose1d/2d/3d, Unfold and Fold.

Written once for any number of spatial dimensions; the 1/2/3-D classes only fix ``nd`` and the F op.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from ...tensor import Tensor
from .. import functional as F
from .. import init
from ._common import check_device, check_int, new_parameter, ntuple
from .module import Module

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Unfold",
    "Fold",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive_tuple(layer: str, name: str, value: Any, nd: int, minimum: int) -> tuple[int, ...]:
    values = ntuple(value, nd, layer, name)
    for v in values:
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"{layer}: {name} must be an int or a tuple of {nd} ints, got {value!r}")
        if v < minimum:
            raise ValueError(
                f"{layer}: {name} must be {'positive' if minimum else 'non-negative'}, got {name}={value!r}"
            )
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    """Hyperparameters, weight and bias shared by every convolution and transposed convolution."""

    nd: int
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int],
        padding: str | int | Sequence[int],
        dilation: int | Sequence[int],
        output_padding: int | Sequence[int],
        groups: int,
        bias: bool,
        padding_mode: str,
        device: Any,
        dtype: Any,
    ) -> None:
        super().__init__()
        name, nd = type(self).__name__, self.nd
        check_device(name, device)
        in_channels = check_int(name, "in_channels", in_channels)
        out_channels = check_int(name, "out_channels", out_channels)
        groups = check_int(name, "groups", groups)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        kernel_size = _positive_tuple(name, "kernel_size", kernel_size, nd, 1)
        stride = _positive_tuple(name, "stride", stride, nd, 1)
        dilation = _positive_tuple(name, "dilation", dilation, nd, 1)
        output_padding = _positive_tuple(name, "output_padding", output_padding, nd, 0)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"{name}: padding must be 'valid', 'same', an int or a tuple of ints, got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions, got stride={stride}"
                )
        else:
            padding = _positive_tuple(name, "padding", padding, nd, 0)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got {padding_mode!r}"
            )
        if self.transposed and padding_mode != "zeros":
            raise ValueError(
                f'{name}: only "zeros" padding mode is supported, got padding_mode={padding_mode!r}'
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = self.transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's layout: last dimension first, (before, after) for each
        if isinstance(padding, str):
            pads = [0, 0] * nd
            if padding == "same":
                for i, (d, k) in enumerate(zip(dilation, kernel_size)):
                    total = d * (k - 1)
                    j = nd - 1 - i
                    pads[2 * j], pads[2 * j + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding) for _ in range(2)]
        if self.transposed:
            shape = (in_channels, out_channels // groups) + kernel_size
        else:
            shape = (out_channels, in_channels // groups) + kernel_size
        self.weight = new_parameter(shape, dtype)
        if bias:
            self.bias = new_parameter((out_channels,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # U(±1/sqrt(fan_in)), fan_in = weight.shape[1] * prod(kernel_size) (for transposed ones too, as PyTorch)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self.nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    conv: Callable[..., Tensor]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            0,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def forward(self, input: Tensor) -> Tensor:
        conv = type(self).conv
        if self.padding_mode != "zeros":
            # pad explicitly (reflect/replicate/circular), then convolve without padding, as PyTorch does
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution over a signal of several channels.

    ``padding`` is an int, a tuple, 'valid' or 'same'; ``padding_mode`` is 'zeros', 'reflect',
    'replicate' or 'circular'.

    Shape: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out), L_out = floor((L + 2p - d(k-1) - 1)/s) + 1.

    >>> import cnnlab
    >>> layer = Conv1d(16, 33, 3, stride=2)
    >>> layer(cnnlab.randn(20, 16, 50)).shape
    (20, 33, 24)
    >>> layer
    Conv1d(16, 33, kernel_size=(3,), stride=(2,))
    """

    nd = 1
    conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over an image of several channels.

    ``padding`` is an int, a tuple, 'valid' or 'same'; ``padding_mode`` is 'zeros', 'reflect',
    'replicate' or 'circular'.

    Shape: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = floor((H + 2p - d(KH-1) - 1)/s) + 1.

    >>> import cnnlab
    >>> layer = Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2))
    >>> layer(cnnlab.randn(2, 16, 20, 20)).shape
    (2, 33, 13, 20)
    >>> layer
    Conv2d(16, 33, kernel_size=(3, 5), stride=(2, 1), padding=(4, 2))
    """

    nd = 2
    conv = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D convolution over a volume of several channels.

    Shape: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out).

    >>> import cnnlab
    >>> Conv3d(4, 6, 3, padding=1)(cnnlab.randn(2, 4, 5, 6, 7)).shape
    (2, 6, 5, 6, 7)
    """

    nd = 3
    conv = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    transposed = True
    conv_transpose: Callable[..., Tensor]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(padding, str):
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}"
            )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            output_padding,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        """The output_padding that gives ``output_size`` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        nd = self.nd
        lead = 2 if input.ndim == nd + 2 else 1
        output_size = tuple(output_size)
        if len(output_size) == lead + nd:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(
                f"{type(self).__name__}: output_size must have {nd} or {lead + nd} elements (got {len(output_size)})"
            )
        min_sizes = [
            (input.shape[lead + i] - 1) * self.stride[i]
            - 2 * self.padding[i]
            + self.dilation[i] * (self.kernel_size[i] - 1)
            + 1
            for i in range(nd)
        ]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if not lo <= size <= hi:
                raise ValueError(
                    f"requested an output size of {list(output_size)}, but valid sizes range from {min_sizes} to "
                    f"{max_sizes} (for an input of {tuple(input.shape[lead:])})"
                )
        return tuple(size - lo for size, lo in zip(output_size, min_sizes))

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return type(self).conv_transpose(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input).

    Shape: (N, C_in, L) -> (N, C_out, L_out), L_out = (L-1)s - 2p + d(k-1) + output_padding + 1.

    >>> import cnnlab
    >>> ConvTranspose1d(4, 2, 3, stride=2)(cnnlab.randn(1, 4, 5)).shape
    (1, 2, 11)
    """

    nd = 1
    conv_transpose = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (sometimes called deconvolution); ``output_size`` may be given to forward.

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out), H_out = (H-1)s - 2p + d(KH-1) + output_padding + 1.

    >>> import cnnlab
    >>> up = ConvTranspose2d(16, 16, 3, stride=2, padding=1)
    >>> up(cnnlab.randn(1, 16, 6, 6), output_size=(1, 16, 12, 12)).shape
    (1, 16, 12, 12)
    """

    nd = 2
    conv_transpose = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution.

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out).

    >>> import cnnlab
    >>> ConvTranspose3d(2, 4, 2, stride=2)(cnnlab.randn(1, 2, 3, 3, 3)).shape
    (1, 4, 6, 6, 6)
    """

    nd = 3
    conv_transpose = staticmethod(F.conv_transpose3d)


class Unfold(Module):
    """Extract sliding local blocks (im2col): each column of the output is one flattened window.

    Shape: (N, C, H, W) -> (N, C·KH·KW, L), L the number of windows.

    >>> import cnnlab
    >>> Unfold(kernel_size=(2, 3))(cnnlab.randn(2, 5, 3, 4)).shape
    (2, 30, 4)
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """Combine sliding local blocks into an image (col2im), summing where they overlap.

    Shape: (N, C·KH·KW, L) -> (N, C, *output_size).

    >>> import cnnlab
    >>> Fold(output_size=(4, 5), kernel_size=(2, 2))(cnnlab.randn(1, 3 * 2 * 2, 12)).shape
    (1, 3, 4, 5)
    """

    def __init__(
        self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
    ) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )
