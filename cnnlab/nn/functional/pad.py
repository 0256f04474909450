"""Padding: ``pad`` with PyTorch's modes 'constant', 'reflect', 'replicate' and 'circular'.

``pad`` is PyTorch's flat tuple, last dimension first: (left, right) pads the last dimension, (left, right,
top, bottom) the last two, (left, right, top, bottom, front, back) the last three. Negative values crop.

Constant padding writes the input into a block filled with ``value``. The other modes are gathers: for
each padded axis one index array says which input position every output position copies,

    reflect    [2 1 | 0 1 2 3 | 2 1]    (the edge is not repeated)
    replicate  [0 0 | 0 1 2 3 | 3 3]
    circular   [2 3 | 0 1 2 3 | 0 1]

so the forward is one fancy index and the backward sums each output gradient into its source: a slice
copy for the untouched core, ``np.add.at`` for the few margin positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...autograd import Function
from ...tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


class _ConstantPad(Function):
    """Copy the (cropped) input into a block of ``value``; widths are (before, after) for every axis."""

    def forward(self, x, widths, value):
        out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, widths))
        # source and destination of the copied block: negative widths crop the source
        self.src = tuple(slice(max(-b, 0), n - max(-a, 0)) for n, (b, a) in zip(x.shape, widths))
        self.dst = tuple(slice(max(b, 0), o - max(a, 0)) for o, (b, a) in zip(out_shape, widths))
        self.shape = x.shape
        out = np.full(out_shape, value, dtype=x.dtype)
        out[self.dst] = x[self.src]
        return out

    def backward(self, grad):
        g = np.zeros(self.shape, dtype=grad.dtype)
        g[self.src] = grad[self.dst]
        return g


class _GatherPad(Function):
    """out = x[..., index_0, index_1, ...]: one source index per padded (trailing) axis."""

    def forward(self, x, axes):
        # axes: per padded axis (index, core): index (out,) of source positions; core (lo, c0, m) says that
        # out[lo:lo+m] is x[c0:c0+m] untouched, the rest are margins
        self.shape, self.axes = x.shape, axes
        return x[(Ellipsis,) + np.ix_(*(index for index, _ in axes))]

    def backward(self, grad):
        lead = len(self.shape) - len(self.axes)
        for k, (index, (lo, c0, m)) in enumerate(self.axes):
            axis = lead + k
            g = np.zeros(grad.shape[:axis] + (self.shape[axis],) + grad.shape[axis + 1 :], dtype=grad.dtype)
            before = (slice(None),) * axis
            g[before + (slice(c0, c0 + m),)] = grad[before + (slice(lo, lo + m),)]
            margin = np.r_[0:lo, lo + m : len(index)]  # a few positions; sources may repeat, so add.at
            if margin.size:
                np.add.at(g, before + (index[margin],), grad[before + (margin,)])
            grad = g
        return grad


def _gather_index(mode: str, n: int, left: int, right: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Source position of every output position along one axis, and the identity core (lo, c0, m)."""
    out = n + left + right
    lo, c0 = max(left, 0), max(-left, 0)
    m = n - c0 - max(-right, 0)  # the input positions that survive cropping
    i = np.arange(out) - left  # position in input coordinates
    if mode == "reflect":
        i = np.abs(i)
        i = np.where(i >= n, 2 * (n - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, n - 1)
    else:  # circular wraps around the cropped input, as PyTorch
        i = c0 + (np.arange(out) - lo) % max(m, 1)
    return i.astype(np.intp), (lo, c0, m)


def _check_pad(input: object, pad: object, mode: str, value: object) -> tuple[int, ...]:
    op = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if not isinstance(pad, (tuple, list)) or not all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad
    ):
        raise TypeError(
            f"{op}: expected pad to be a tuple of ints (left, right, top, bottom, ...), got {pad!r}"
        )
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ValueError(
            f"{op}: expected pad to have an even length, a (before, after) pair per dimension, last dimension "
            f"first; got pad={pad} of length {len(pad)}"
        )
    if len(pad) // 2 > input.ndim:
        raise ValueError(
            f"{op}: padding length should be at most twice the input dimension, but got padding length "
            f"{len(pad)} and input of dimension {input.ndim} (shape {input.shape})"
        )
    if mode not in _MODES:
        raise ValueError(f"{op}: unknown mode {mode!r}; expected one of {', '.join(repr(m) for m in _MODES)}")
    if mode != "constant" and value is not None and value != 0:
        raise ValueError(
            f"{op}: mode {mode!r} doesn't take a value argument (only 'constant' does), got value={value!r}"
        )
    return pad


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative values, crop) the trailing dimensions of ``input``.

    ``pad`` = (left, right[, top, bottom[, front, back]]), last dimension first. 'constant' fills with
    ``value`` (0 by default) and pads any number of dimensions; 'reflect', 'replicate' and 'circular' pad
    the last 1, 2 or 3 dimensions of a (C, *) or (N, C, *) input. Reflect padding must be smaller than
    the dimension it pads; circular padding may wrap around at most once.

    Shape: (*, D_1, ..., D_k) -> (*, D_1 + front + back, ..., D_k + left + right), k = len(pad) // 2.

    >>> import cnnlab
    >>> x = cnnlab.tensor([[[0.0, 1.0, 2.0]]])
    >>> pad(x, (2, 1))
    tensor([[[0., 0., 0., 1., 2., 0.]]])
    >>> pad(x, (2, 1), mode="reflect")
    tensor([[[2., 1., 0., 1., 2., 1.]]])
    >>> pad(x, (2, 1), mode="circular")
    tensor([[[1., 2., 0., 1., 2., 0.]]])
    """
    op = "pad"
    pads = _check_pad(input, pad, mode, value)
    k = len(pads) // 2
    x = input
    # pairs[d] = (before, after) for the d-th padded axis, counted from the first of the last k axes
    pairs = [(pads[2 * i], pads[2 * i + 1]) for i in range(k)][::-1]
    axes_sizes = x.shape[x.ndim - k :]
    for d, (n, (b, a)) in enumerate(zip(axes_sizes, pairs)):
        axis = x.ndim - k + d
        if n - max(-b, 0) - max(-a, 0) < 0 or n + b + a < 0:
            raise ValueError(
                f"{op}: padding ({b}, {a}) at dimension {axis} of input of shape {x.shape} crops more than the "
                f"{n} elements there, which would leave a negative output size {n + b + a}"
            )

    if mode == "constant":
        widths = ((0, 0),) * (x.ndim - k) + tuple(pairs)
        fill = 0 if value is None else value
        return _ConstantPad.apply(x, widths=widths, value=fill)

    if not 1 <= k <= 3 or x.ndim not in (k + 1, k + 2):
        raise ValueError(
            f"{op}: mode {mode!r} pads the last 1, 2 or 3 dimensions of a (C, *) or (N, C, *) input: a pad of "
            f"length 2 needs a 2-D or 3-D input, length 4 a 3-D or 4-D input, length 6 a 4-D or 5-D input; "
            f"got pad={pads} and an input of shape {x.shape}"
        )
    axes = []
    for d, (n, (b, a)) in enumerate(zip(axes_sizes, pairs)):
        axis = x.ndim - k + d
        if n == 0:
            raise ValueError(
                f"{op}: mode {mode!r} needs non-empty padded dimensions, got size 0 at dimension {axis} of input "
                f"of shape {x.shape}"
            )
        if mode == "reflect" and (b >= n or a >= n):
            raise ValueError(
                f"{op}: argument pad: Padding size should be less than the corresponding input dimension for "
                f"mode 'reflect', but got: padding ({b}, {a}) at dimension {axis} of input of shape {x.shape}"
            )
        kept = n - max(-b, 0) - max(-a, 0)
        if mode == "circular" and (b > kept or a > kept):
            raise ValueError(
                f"{op}: argument pad: circular padding ({b}, {a}) at dimension {axis} of input of shape {x.shape} "
                f"would wrap around the {kept} elements there more than once"
            )
        axes.append(_gather_index(mode, n, b, a))
    return _GatherPad.apply(x, axes=tuple(axes))
