"""Resampling layers: Upsample (interpolation), PixelShuffle, PixelUnshuffle, ChannelShuffle."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ._common import check_int
from .module import Module

__all__ = ["Upsample", "PixelShuffle", "PixelUnshuffle", "ChannelShuffle"]

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


class Upsample(Module):
    """Resize the spatial dimensions to ``size`` or by ``scale_factor`` (exactly one of them).

    ``mode`` is 'nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area' or 'nearest-exact'.

    Shape: (N, C, *spatial) -> (N, C, *spatial_out).

    >>> import cnnlab
    >>> up = Upsample(scale_factor=2, mode="nearest")
    >>> up(cnnlab.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))[0, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]
    >>> up
    Upsample(scale_factor=2.0, mode='nearest')
    """

    def __init__(
        self,
        size: Any = None,
        scale_factor: Any = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(
                f"Upsample: mode must be one of {', '.join(repr(m) for m in _MODES)}, got {mode!r}"
            )
        if size is None and scale_factor is None:
            raise ValueError("Upsample: either size or scale_factor should be defined, got neither")
        if size is not None and scale_factor is not None:
            raise ValueError("Upsample: only one of size or scale_factor should be defined, got both")
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        info = (
            f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        )
        return info + f", mode={self.mode!r}"


class PixelShuffle(Module):
    """Rearrange (C·r², H, W) into (C, H·r, W·r): sub-pixel convolution's upsampling step.

    Shi et al., "Real-time single image and video super-resolution" (2016).

    Shape: (*, C·r², H, W) -> (*, C, H·r, W·r).

    >>> import cnnlab
    >>> PixelShuffle(3)(cnnlab.randn(1, 9, 4, 4)).shape
    (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = check_int("PixelShuffle", "upscale_factor", upscale_factor)

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of PixelShuffle: (C, H·r, W·r) into (C·r², H, W).

    Shape: (*, C, H·r, W·r) -> (*, C·r², H, W).

    >>> import cnnlab
    >>> PixelUnshuffle(3)(cnnlab.randn(1, 1, 12, 12)).shape
    (1, 9, 4, 4)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = check_int("PixelUnshuffle", "downscale_factor", downscale_factor)

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (g, C/g) -> (C/g, g).

    Zhang et al., "ShuffleNet" (2017).

    Shape: (N, C, *) -> same.

    >>> import cnnlab
    >>> ChannelShuffle(2)(cnnlab.arange(4.0).reshape(1, 4, 1, 1)).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = check_int("ChannelShuffle", "groups", groups)

    def forward(self, input: Tensor) -> Tensor:
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
