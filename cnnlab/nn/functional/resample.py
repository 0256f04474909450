"""Resampling: ``interpolate`` (and its ``upsample`` aliases), ``pixel_shuffle``, ``pixel_unshuffle`` and
``channel_shuffle``.

Interpolation is separable: along each spatial axis every output position is a weighted sum of a few
input positions (1 for nearest, 2 for linear, 4 for cubic). One axis at a time, the forward gathers those
taps and sums them; the backward multiplies by the transposed (in, out) interpolation matrix, which sums
every output gradient into the inputs it came from. Source positions follow PyTorch's CPU kernels exactly
(``aten/src/ATen/native/UpSample.h``): the same scale (in/out for a given size, 1/scale_factor for a given
factor), the same half-pixel or corner-aligned source index, the same clamping, in the same precision.

The shuffles are reshapes and permutations of Tensor ops, so their gradients come for free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autograd import Function
from ...tensor import Tensor
from . import pool

__all__ = [
    "channel_shuffle",
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_NDIM = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}  # modes tied to one input rank


# ==================================================================================================
# taps: which input positions, with which weights, make each output position along one axis


def _compute_scale(n_in: int, n_out: int, align_corners: bool, scale: float | None, dt: type) -> Any:
    """PyTorch's area_pixel_compute_scale: input step per output step, in the kernel's precision ``dt``."""
    if align_corners:
        return dt((n_in - 1) / (n_out - 1)) if n_out > 1 else dt(0)
    if scale is not None and scale > 0:
        return dt(1.0 / scale)
    return dt(n_in) / dt(n_out)


def _source_index(scale: Any, n_out: int, align_corners: bool, cubic: bool, dt: type) -> np.ndarray:
    """PyTorch's area_pixel_compute_source_index for every output position, in precision ``dt``."""
    j = np.arange(n_out, dtype=dt)
    if align_corners:
        return scale * j
    src = scale * (j + dt(0.5)) - dt(0.5)
    return src if cubic else np.maximum(src, dt(0))


def _floor(src: np.ndarray, n_in: int) -> np.ndarray:
    # PyTorch floors with floorf, i.e. after rounding to float32, even when the kernel computes in double
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.intp), n_in - 1)


def _cubic_weights(t: np.ndarray, dt: type) -> np.ndarray:
    """Keys' cubic convolution (A = -0.75, as PyTorch) for the 4 taps at offsets -1, 0, 1, 2: (4, out)."""
    A = dt(-0.75)

    def near(x):  # |x| <= 1
        return ((A + dt(2)) * x - (A + dt(3))) * x * x + dt(1)

    def far(x):  # 1 < |x| < 2
        return ((A * x - dt(5) * A) * x + dt(8) * A) * x - dt(4) * A

    one = dt(1)
    return np.stack([far(t + one), near(t), near(one - t), far(one - t + one)])


def _taps(
    mode: str, n_in: int, n_out: int, align_corners: bool, scale: float | None, dtype: np.dtype, nd: int
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(index (K, out), weight (K, out) or None for a plain copy) along one axis; None when the axis is
    left as it is."""
    dt = dtype.type  # PyTorch computes indices and weights in the input's precision (opmath)
    if mode == "nearest" and nd == 2 and n_in == n_out:
        # PyTorch's 2-D nearest kernel copies an axis whose size is unchanged, even when a scale_factor such
        # as 1.3 (floor(3 · 1.3) = 3) says otherwise; its 1-D and 3-D kernels sample with the factor
        return None
    if mode in ("nearest", "nearest-exact"):
        s = _compute_scale(n_in, n_out, False, scale, dt)
        if mode == "nearest":
            index = _floor(_source_index(s, n_out, True, False, dt), n_in)
        else:
            # PyTorch adds 0.5 in double before its float32 floor
            index = _floor(_source_index(s, n_out, False, False, dt).astype(np.float64) + 0.5, n_in)
        if n_in == n_out and np.array_equal(index, np.arange(n_in)):
            return None
        return index[None], None
    if mode == "linear":
        if n_in == n_out:  # PyTorch copies whatever the scale factor says
            return None
        s = _compute_scale(n_in, n_out, align_corners, scale, dt)
        src = _source_index(s, n_out, align_corners, False, dt)
        i0 = _floor(src, n_in)
        lam1 = np.clip(src - i0.astype(dt), dt(0), dt(1))
        i1 = i0 + (i0 < n_in - 1)
        return np.stack([i0, i1]), np.stack([dt(1) - lam1, lam1])
    # cubic: 4 taps at i0 - 1 … i0 + 2, clamped to the edge
    s = _compute_scale(n_in, n_out, align_corners, scale, dt)
    src = _source_index(s, n_out, align_corners, True, dt)
    i0 = _floor(src, n_in)
    t = np.clip(src - i0.astype(dt), dt(0), dt(1))
    index = np.clip(i0[None] + np.arange(-1, 3)[:, None], 0, n_in - 1)
    return index, _cubic_weights(t, dt)


class _Resample(Function):
    """Separable resampling: along each spatial axis, out[j] = Σ_k weight[k, j] · in[index[k, j]]."""

    def forward(self, x, axes):
        # axes: (axis, n_in, index (K, out), weight (K, out) or None) for each axis that changes
        self.axes = axes
        for axis, _, index, weight in axes:
            if weight is None:
                x = np.take(x, index[0], axis=axis)
                continue
            bshape = (-1,) + (1,) * (x.ndim - 1 - axis)  # weights broadcast along the axis
            out = np.take(x, index[0], axis=axis) * weight[0].reshape(bshape)
            for k in range(1, len(index)):  # K ≤ 4 taps
                out += np.take(x, index[k], axis=axis) * weight[k].reshape(bshape)
            x = out
        return x if self.axes else x.copy()

    def backward(self, grad):
        for axis, n_in, index, weight in reversed(self.axes):
            n_out = index.shape[1]
            # the (out, in) interpolation matrix; its transpose carries the gradient back
            matrix = np.zeros((n_out, n_in), dtype=grad.dtype)
            rows = np.broadcast_to(np.arange(n_out), index.shape)
            np.add.at(matrix, (rows, index), 1 if weight is None else weight)
            grad = np.moveaxis(np.moveaxis(grad, axis, -1) @ matrix, -1, axis)
        return grad


# ==================================================================================================
# interpolate


def _spatial_tuple(value: Any, nd: int, name: str, kind: type, x: Tensor) -> list:
    """``size`` or ``scale_factor`` as a list of ``nd`` numbers."""
    if isinstance(value, (tuple, list)):
        if len(value) != nd:
            raise ValueError(
                f"interpolate: input and {name} must have the same number of spatial dimensions, but got input "
                f"with spatial dimensions of {tuple(x.shape[2:])} and {name} of {tuple(value)}. Please provide "
                f"input in (N, C, d1, ..., dK) format and {name} as (v1, ..., vK)"
            )
        values = list(value)
    else:
        values = [value] * nd
    ok = (int, np.integer) if kind is int else (int, float, np.integer, np.floating)
    if not all(isinstance(v, ok) and not isinstance(v, bool) for v in values):
        raise TypeError(
            f"interpolate: expected {name} to be {'an int' if kind is int else 'a number'} or a tuple "
            f"of {nd}, got {value!r}"
        )
    return [kind(v) for v in values]


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dimensions of ``input`` to ``size`` or by ``scale_factor``.

    Modes: 'nearest' (PyTorch's legacy floor rule), 'nearest-exact' (pixel centres, as Pillow),
    'linear' (3-D input), 'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D), 'area' (adaptive average
    pooling). ``align_corners=True`` maps the corner pixels onto each other; False (the default for the
    interpolating modes) maps pixel areas. With ``scale_factor`` the output size is floor(in · factor) and
    the factor itself sets the sampling step, unless ``recompute_scale_factor=True``.

    Shape: (N, C, *in) -> (N, C, *out) with 1 to 3 spatial dimensions.

    >>> import cnnlab
    >>> x = cnnlab.tensor([[[1.0, 2.0]]])
    >>> interpolate(x, scale_factor=2)
    tensor([[[1., 1., 2., 2.]]])
    >>> interpolate(x, size=4, mode="linear")
    tensor([[[1.  , 1.25, 1.75, 2.  ]]])
    >>> interpolate(x, size=3, mode="linear", align_corners=True)
    tensor([[[1. , 1.5, 2. ]]])
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}; expected one of {', '.join(repr(m) for m in _MODES)}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear | "
                f"bicubic | trilinear; got align_corners={align_corners!r} with mode={mode!r}"
            )
    elif align_corners is None:
        align_corners = False
    if not 3 <= input.ndim <= 5:
        raise ValueError(
            f"{op}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got a {input.ndim}-D input of shape "
            f"{input.shape}"
        )
    if mode in _NDIM and input.ndim != _NDIM[mode]:
        raise ValueError(
            f"{op}: mode {mode!r} needs a {_NDIM[mode]}-D input, got a {input.ndim}-D input of shape {input.shape}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported by cnnlab; got antialias={antialias!r}")

    nd = input.ndim - 2
    in_sizes = list(input.shape[2:])
    scales: list[float | None] = [None] * nd
    if size is not None and scale_factor is not None:
        raise ValueError(
            f"{op}: only one of size or scale_factor should be defined, got size={size!r} and "
            f"scale_factor={scale_factor!r}"
        )
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(
                f"{op}: recompute_scale_factor is not meaningful with an explicit size, got size={size!r}"
            )
        out_sizes = _spatial_tuple(size, nd, "size", int, input)
    elif scale_factor is not None:
        factors = _spatial_tuple(scale_factor, nd, "scale_factor", float, input)
        if not all(f > 0 and math.isfinite(f) for f in factors):
            raise ValueError(f"{op}: expected scale_factor to be positive and finite, got {scale_factor!r}")
        out_sizes = [math.floor(n * f) for n, f in zip(in_sizes, factors)]
        if not recompute_scale_factor and mode != "area":
            scales = factors
    else:
        raise ValueError(f"{op}: either size or scale_factor should be defined, got neither")
    if min(in_sizes) <= 0 or min(out_sizes) <= 0:
        raise ValueError(
            f"{op}: input and output sizes should be greater than 0, but got input spatial size {tuple(in_sizes)} "
            f"and output size {tuple(out_sizes)}"
        )

    if mode == "area":
        return getattr(pool, f"adaptive_avg_pool{nd}d")(input, tuple(out_sizes))
    kind = {"nearest": "nearest", "nearest-exact": "nearest-exact", "bicubic": "cubic"}.get(mode, "linear")
    axes = []
    for d, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        taps = _taps(kind, n_in, n_out, bool(align_corners), scale, input.dtype, nd)
        if taps is not None:
            axes.append((2 + d, n_in) + taps)
    return _Resample.apply(input, axes=tuple(axes))


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """The older name of :func:`interpolate`.

    Shape: (N, C, *in) -> (N, C, *out).

    >>> import cnnlab
    >>> upsample(cnnlab.ones(1, 1, 2, 2), scale_factor=2).shape
    (1, 1, 4, 4)
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """``interpolate(input, size, scale_factor, mode='nearest')``.

    Shape: (N, C, *in) -> (N, C, *out).

    >>> import cnnlab
    >>> upsample_nearest(cnnlab.ones(1, 1, 2), size=3).shape
    (1, 1, 3)
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``, as PyTorch.

    Shape: (N, C, H, W) -> (N, C, H_out, W_out).

    >>> import cnnlab
    >>> upsample_bilinear(cnnlab.ones(1, 1, 2, 2), scale_factor=2).shape
    (1, 1, 4, 4)
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ==================================================================================================
# shuffles


def _check_factor(op: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: expected {name} to be an int, got {value!r}")
    if value <= 0:
        raise ValueError(f"{op}: expected a positive {name}, got {name}={value}")
    return int(value)


def _check_rank3(op: str, x: Any, expected: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x.ndim < 3:
        raise ValueError(
            f"{op}: expected input of shape {expected}, at least 3-D, got a {x.ndim}-D input of shape "
            f"{x.shape}"
        )
    return x


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange channel blocks into space: (*, C·r², H, W) -> (*, C, H·r, W·r), r = upscale_factor.

    Shape: (*, C·r², H, W) -> (*, C, H·r, W·r).

    >>> import cnnlab
    >>> pixel_shuffle(cnnlab.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    op = "pixel_shuffle"
    x = _check_rank3(op, input, "(*, C·r², H, W)")
    r = _check_factor(op, "upscale_factor", upscale_factor)
    *lead, C, H, W = x.shape
    if C % (r * r):
        raise ValueError(
            f"{op}: expected the channel dimension of input to be divisible by upscale_factor² = {r * r}, but "
            f"input.shape[-3]={C} is not (input of shape {x.shape})"
        )
    k = len(lead)
    y = x.reshape(*lead, C // (r * r), r, r, H, W)
    # (*, C, r, r, H, W) -> (*, C, H, r, W, r): each r×r block of channels becomes an r×r patch of pixels
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return y.reshape(*lead, C // (r * r), H * r, W * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearrange space into channel blocks, the inverse of :func:`pixel_shuffle`.

    Shape: (*, C, H·r, W·r) -> (*, C·r², H, W), r = downscale_factor.

    >>> import cnnlab
    >>> pixel_unshuffle(cnnlab.arange(4.0).reshape(1, 1, 2, 2), 2).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    op = "pixel_unshuffle"
    x = _check_rank3(op, input, "(*, C, H·r, W·r)")
    r = _check_factor(op, "downscale_factor", downscale_factor)
    *lead, C, H, W = x.shape
    if H % r or W % r:
        raise ValueError(
            f"{op}: expected the height and width of input to be divisible by downscale_factor={r}, got "
            f"input of shape {x.shape} (height {H}, width {W})"
        )
    k = len(lead)
    y = x.reshape(*lead, C, H // r, r, W // r, r)
    # (*, C, H, r, W, r) -> (*, C, r, r, H, W)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return y.reshape(*lead, C * r * r, H // r, W // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups (ShuffleNet): channel g·(C/groups) + i moves to
    i·groups + g.

    Shape: (N, C, *) -> (N, C, *), C divisible by groups.

    >>> import cnnlab
    >>> channel_shuffle(cnnlab.arange(6.0).reshape(1, 6, 1), 2).flatten().tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    op = "channel_shuffle"
    x = _check_rank3(op, input, "(N, C, *)")
    g = _check_factor(op, "groups", groups)
    N, C, *spatial = x.shape
    if C % g:
        raise ValueError(
            f"{op}: expected the number of channels to be divisible by groups, got {C} channels (input of shape "
            f"{x.shape}) and groups={g}"
        )
    # (N, g, C/g, *) -> (N, C/g, g, *)
    return x.reshape(N, g, C // g, *spatial).transpose(1, 2).reshape(x.shape)
