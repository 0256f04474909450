"""Pooling for 1-, 2- and 3-D: max, average, adaptive average and adaptive max.

Max and average pooling read the same strided window view as convolution (``conv.windows``): no data
is copied to form the windows, and nothing loops over samples or pixels. Max pooling remembers, for
each output, the flat index of the input element that won; its gradient goes to that element only
(ties go to the first, as in PyTorch). Average pooling's gradient spreads grad/divisor back over each
window with ``col2im``. Adaptive pooling computes PyTorch's windows start = floor(i·n/o),
end = ceil((i+1)·n/o) per axis; average pooling over such windows is separable, so it is one small
matrix product per axis.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ... import compiled
from ...autograd import Function, masked
from ...parallel import alone, shares, starmap
from ...tensor import Tensor
from ._args import check_spatial_input, non_negative, ntuple, output_size, positive
from .conv import cached_lookup, col2im, crop, offset_views, pad_spatial, windows

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
]


# ==================================================================================================
# max: pick the winner of each window, route the gradient back to it


def _flat_index(coords: list[np.ndarray], spatial: tuple[int, ...]) -> np.ndarray:
    """Row-major flat index over the spatial dims (what PyTorch's return_indices gives)."""
    flat = coords[0].astype(np.int64)
    for c, n in zip(coords[1:], spatial[1:]):
        flat = flat * n + c
    return flat


class _ScatterToWinner(Function):
    """Base of the max pools: forward stores ``self.index`` (N, C, *O), the flat spatial index of each
    output's source, and hands it to the caller through the list ``indices``; backward adds each
    output's gradient to that element."""

    def backward(self, grad):
        N, C = self.shape[:2]
        size = math.prod(self.shape[2:])
        offsets = (np.arange(N * C, dtype=np.int64) * size).reshape((N, C) + (1,) * (grad.ndim - 2))
        g = np.zeros(N * C * size, dtype=grad.dtype)
        flat = (self.index + offsets).ravel()
        np.add.at(g, flat, grad.ravel())  # overlapping windows may share a winner: accumulate
        return g.reshape(self.shape)


def _max_over(views: list[np.ndarray], a: int, b: int, out: np.ndarray, winner: np.ndarray | None) -> None:
    """out[a:b] = the elementwise maximum of the ``views`` over samples a:b (NaN propagates, as in
    PyTorch), and, where ``winner`` is given, winner[a:b] = the index of the view that holds it."""
    if (a, b) != (0, len(out)):
        views, out = [v[a:b] for v in views], out[a:b]
        winner = None if winner is None else winner[a:b]
    if len(views) == 1:
        np.copyto(out, views[0])
    else:
        np.maximum(views[0], views[1], out=out)
    tracked = len(views)  # offsets from here on update the winner
    if winner is not None:
        # the winner is the first offset holding the maximum (PyTorch's tie rule): offset k takes over
        # where it beats every earlier one, and as k only grows, winner = max(winner, k·beats). Offset 1
        # against offset 0 gives the first winners, 0 or 1: one comparison written straight into them
        if len(views) > 1 and winner.itemsize == 1:
            np.greater(views[1], views[0], out=winner.view(np.bool_))
            tracked = 2
        else:
            winner[...] = 0
            tracked = 1
        beats, step = np.empty(out.shape, dtype=bool), np.empty_like(winner)
    for k in range(1, len(views)):
        if k >= tracked:
            np.greater(views[k], views[0] if k == 1 else out, out=beats)
            np.maximum(winner, np.multiply(beats, winner.dtype.type(k), out=step), out=winner)
        if k > 1:
            np.maximum(out, views[k], out=out)
    # ... or, in a window holding NaN, its last NaN (PyTorch keeps replacing on NaN)
    if winner is not None and np.isnan(out).any():
        for flat_k, view in enumerate(views):
            np.copyto(winner, flat_k, where=np.isnan(view))


class _MaxPool(Function):
    """Max pooling over strided window views, one pass per kernel offset.

    Forward keeps, per output, only *which kernel offset* won (a small integer). Backward needs no
    flat indices: for each offset k it adds the gradients of the outputs that offset won into the
    same strided view of the (padded) input gradient. A single offset's view never hits an element
    twice, so plain ``+=`` is exact even when windows overlap. The flat indices of
    ``return_indices`` are computed only when asked for.
    """

    def forward(self, x, kernel, stride, padding, dilation, out_sizes, indices):
        self.shape = x.shape
        self.geometry = (kernel, stride, dilation, out_sizes)
        self.pads, self.offsets, padded = _pool_windows(x.shape[2:], kernel, stride, padding, dilation, out_sizes)
        if padded:
            x = pad_spatial(x, self.pads, -np.inf)
        self.padded = x.shape[2:]
        track = indices is not None or self.needs_input_grad[0]
        winner_type = np.int8 if len(self.offsets) <= 127 else np.int32
        self.kernels = _compiled_kernels(x.dtype, kernel, stride, dilation)
        if self.kernels is not None:  # one pass over each window, the winner always kept
            N, C = x.shape[:2]
            out = np.empty((N * C,) + out_sizes, dtype=x.dtype)  # the kernels' rows: (N·C, H, W)
            winner = np.empty(out.shape, dtype=winner_type)
            rows, k, s, pool = x.reshape((N * C,) + x.shape[2:]), kernel[0], stride[0], self.kernels.max_pool_forward
            if alone(x.nbytes):  # (small inputs: no slicing, no dealing out)
                pool(rows, k, s, out, winner)
            else:
                starmap(lambda a, b: pool(rows[a:b], k, s, out[a:b], winner[a:b]), shares(len(rows), x.nbytes))
            out, winner = out.reshape((N, C) + out_sizes), winner.reshape((N, C) + out_sizes)
        else:
            views = [x[at] for at in self.offsets]
            out = np.empty(views[0].shape, dtype=x.dtype)
            winner = np.empty(out.shape, dtype=winner_type) if track else None
            starmap(lambda a, b: _max_over(views, a, b, out, winner), shares(len(out), x.nbytes))
        if not track:
            return out  # inference: nobody will ask who won
        if padded:
            self._avoid_padding(winner, out)
        self.winner = winner
        if indices is not None:
            indices.append(self.flat_indices())
        return out

    def _avoid_padding(self, winner: np.ndarray, out: np.ndarray) -> None:
        """A window whose valid elements are all -inf may have picked a padding cell: PyTorch takes the
        window's first valid element instead."""
        if not np.isneginf(out).any():
            return
        kernel, stride, dilation, out_sizes = self.geometry
        nd = len(kernel)
        offsets = np.unravel_index(winner, kernel)
        valid, first = True, []
        for j, ((p, _), d, s, n) in enumerate(zip(self.pads, dilation, stride, self.shape[2:])):
            start = (np.arange(out_sizes[j]) * s - p).reshape((-1,) + (1,) * (nd - 1 - j))
            coord = start + offsets[j] * d
            valid = valid & (coord >= 0) & (coord < n)
            first.append(np.broadcast_to(-(-np.maximum(-start, 0) // d), winner.shape[2:]))
        if not np.all(valid):
            np.copyto(winner, np.ravel_multi_index(first, kernel).astype(winner.dtype), where=~valid)

    def flat_indices(self) -> np.ndarray:
        """Row-major flat index over the input's spatial dims of each output's source (PyTorch's indices)."""
        kernel, stride, dilation, out_sizes = self.geometry
        nd = len(kernel)
        offsets = np.unravel_index(self.winner, kernel)
        coords = []
        for j, ((p, _), d, s) in enumerate(zip(self.pads, dilation, stride)):
            start = (np.arange(out_sizes[j]) * s - p).reshape((-1,) + (1,) * (nd - 1 - j))
            coords.append(start + offsets[j].astype(np.int64) * d)
        return _flat_index(coords, self.shape[2:])

    def backward(self, grad):
        kernel, stride, dilation, out_sizes = self.geometry
        if self.kernels is not None:
            g = np.empty(self.shape[:2] + self.padded, dtype=grad.dtype)
            rows, grad_rows, winner_rows = _rows(g), _rows(np.ascontiguousarray(grad)), _rows(self.winner)
            k, s = kernel[0], stride[0]
            starmap(lambda a, b: self.kernels.max_pool_backward(grad_rows[a:b], winner_rows[a:b], k, s, rows[a:b]),
                    shares(len(rows), g.nbytes + grad.nbytes))
            return crop(g, self.pads, self.shape[2:])
        # windows side by side that cover the whole (padded) input, as for MaxPool2d(2): every element
        # is in exactly one offset's view, so each view is written once, with no zeros to start from
        tiled = all(d == 1 and s == k and o * s == n
                    for k, s, d, o, n in zip(kernel, stride, dilation, out_sizes, self.padded))
        g = np.empty(self.shape[:2] + self.padded, dtype=grad.dtype)

        def part(a: int, b: int) -> None:  # samples a:b
            gs, grad_s, winner = g[a:b], grad[a:b], self.winner[a:b]
            finite = bool(np.isfinite(grad_s).all())
            if not tiled:
                gs[...] = 0
            for flat_k, at in enumerate(self.offsets):
                view, keep = gs[at], winner == flat_k
                if not tiled:
                    view += masked(grad_s, keep, finite)
                elif finite:
                    np.multiply(grad_s, keep, out=view)
                else:
                    view[...] = 0
                    np.copyto(view, grad_s, where=keep)

        starmap(part, shares(len(g), g.nbytes + grad.nbytes))
        return crop(g, self.pads, self.shape[2:])


def _compiled_kernels(dtype: np.dtype, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """The compiled max-pool kernels (:mod:`.pool_kernels`) if they are on and have this 2-D
    window, else None: the NumPy path."""
    module = compiled.kernels("pool_kernels", dtype)
    if module is None or len(kernel) != 2 or dilation != (1, 1):
        return None
    k, s = kernel[0], stride[0]
    return module if kernel == (k, k) and stride == (s, s) and (k, s) in module.SHAPES else None


def _rows(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) as (N·C, H, W), the compiled kernels' rows."""
    return a.reshape((-1,) + a.shape[2:])


@functools.lru_cache(maxsize=256)
def _pool_windows(spatial, kernel, stride, padding, dilation, out_sizes) -> tuple[tuple, tuple[tuple, ...], bool]:
    """(pads, offsets, padded) of a max pool: the (before, after) padding per axis, -inf enough on the
    right for ceil_mode's last window, for each kernel offset k the index of its strided view over the
    padded input (the elements at offset k of every window), and whether there is any padding. Cached:
    a network pools the same shapes at every step."""
    extra = tuple(max((o - 1) * s + d * (k - 1) + 1 - n - p, 0)
                  for o, s, d, k, n, p in zip(out_sizes, stride, dilation, kernel, spatial, padding))
    pads = tuple(zip(padding, extra))
    return pads, offset_views(kernel, stride, dilation, out_sizes), any(b or a for b, a in pads)


class _AdaptiveMaxPool(_ScatterToWinner):
    def forward(self, x, out_sizes, indices):
        nd = len(out_sizes)
        spatial = x.shape[2:]
        self.shape = x.shape
        tables = [_adaptive_table(n, o) for n, o in zip(spatial, out_sizes)]  # (O_j, K_j) input indices
        index = []
        for j, t in enumerate(tables):
            shape = [1] * (2 * nd)
            shape[2 * j], shape[2 * j + 1] = t.shape
            index.append(t.reshape(shape))
        gathered = x[(slice(None), slice(None)) + tuple(index)]  # (N, C, O1, K1, O2, K2, ...)
        order = (0, 1) + tuple(range(2, 2 + 2 * nd, 2)) + tuple(range(3, 3 + 2 * nd, 2))
        candidates = gathered.transpose(order).reshape(x.shape[:2] + tuple(out_sizes) + (-1,))
        winner = candidates.argmax(axis=-1)
        out = np.take_along_axis(candidates, winner[..., None], axis=-1)[..., 0]
        offsets = np.unravel_index(winner, tuple(t.shape[1] for t in tables))
        coords = []
        for j, (t, k_j) in enumerate(zip(tables, offsets)):
            rows = np.arange(out_sizes[j]).reshape((-1,) + (1,) * (nd - 1 - j))
            coords.append(t[rows, k_j])
        self.index = _flat_index(coords, spatial)
        indices.append(self.index)
        return out


def _adaptive_bounds(n: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows: start = floor(i·n/o), end = ceil((i+1)·n/o)."""
    i = np.arange(o)
    return (i * n) // o, -(-((i + 1) * n) // o)


def _adaptive_table(n: int, o: int) -> np.ndarray:
    """(o, K) input indices of each window, the short windows padded by repeating their last index
    (a repeat after the original never wins a tie, so indices stay PyTorch's)."""
    start, end = _adaptive_bounds(n, o)
    k = int((end - start).max())
    return np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)


# ==================================================================================================
# average


class _AvgPool(Function):
    def forward(self, x, kernel, stride, padding, out_sizes, count_include_pad, divisor_override):
        nd = len(kernel)
        spatial = x.shape[2:]
        extra = tuple(max((o - 1) * s + k - n - p, 0) for o, s, k, n, p in zip(out_sizes, stride, kernel, spatial, padding))
        self.pads = tuple(zip(padding, extra))
        self.geometry = (x.shape, kernel, stride)
        xp = pad_spatial(x, self.pads)
        win = windows(xp, kernel, stride, (1,) * nd, out_sizes)
        sums = win.sum(axis=tuple(range(2 + nd, 2 + 2 * nd)))
        if divisor_override:
            self.divisor = x.dtype.type(divisor_override)
        else:
            counts = 1
            for j, (o, s, k, p, n) in enumerate(zip(out_sizes, stride, kernel, padding, spatial)):
                start = np.arange(o) * s - p
                end = np.minimum(start + k, n + p)
                c = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
                counts = counts * c.reshape((-1,) + (1,) * (nd - 1 - j))
            self.divisor = np.asarray(counts, dtype=x.dtype)
        return (sums / self.divisor).astype(x.dtype, copy=False)

    def backward(self, grad):
        shape, kernel, stride = self.geometry
        nd = len(kernel)
        g = (grad / self.divisor).astype(grad.dtype, copy=False)
        cols = np.broadcast_to(g.reshape(g.shape[:2] + (1,) * nd + g.shape[2:]), g.shape[:2] + tuple(kernel) + g.shape[2:])
        padded = tuple(n + b + a for n, (b, a) in zip(shape[2:], self.pads))
        return crop(col2im(cols, padded, kernel, stride, (1,) * nd), self.pads, shape[2:])


def _averaging_matrix(n: int, o: int, dtype: np.dtype) -> np.ndarray:
    """(o, n): row i averages PyTorch's adaptive window i."""
    start, end = _adaptive_bounds(n, o)
    j = np.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class _AdaptiveAvgPool(Function):
    def forward(self, x, out_sizes):
        self.matrices = [_averaging_matrix(n, o, x.dtype) for n, o in zip(x.shape[2:], out_sizes)]
        out = x
        for j, m in enumerate(self.matrices):  # one small matrix product per spatial axis
            out = np.moveaxis(np.moveaxis(out, 2 + j, -1) @ m.T, -1, 2 + j)
        return np.ascontiguousarray(out)

    def backward(self, grad):
        g = grad
        for j, m in enumerate(self.matrices):
            g = np.moveaxis(np.moveaxis(g, 2 + j, -1) @ m, -1, 2 + j)
        return g


# ==================================================================================================
# argument checks and public functions


def _pool_args(op: str, nd: int, kernel_size, stride, padding, dilation) -> tuple:
    kernel = positive(ntuple(kernel_size, nd, op, "kernel_size"), op, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = positive(ntuple(stride, nd, op, "stride"), op, "stride")
    padding = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
    dilation = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
    return kernel, stride, padding, dilation


def _pool_output(op: str, shape: tuple[int, ...], kernel, stride, padding, dilation, ceil_mode) -> tuple[int, ...]:
    for k, p in zip(kernel, padding):
        if p > k // 2:
            raise ValueError(
                f"{op}: pad should be at most half of the kernel size, but got padding={padding}, "
                f"kernel_size={kernel}" + (f" and dilation={dilation}" if any(d != 1 for d in dilation) else "")
            )
    out = tuple(
        output_size(n, k, s, p, p, d, ceil_mode) for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation)
    )
    if any(o <= 0 for o in out):
        raise ValueError(
            f"{op}: given input of shape {shape}, kernel_size={kernel}, stride={stride}, padding={padding}, "
            f"dilation={dilation}, the calculated output size {out} is too small"
        )
    return out


def _max_pool_geometry(op, nd, shape, kernel_size, stride, padding, dilation, ceil_mode) -> tuple:
    """(kernel, stride, padding, dilation, output sizes), checked; cached, as a network asks the same
    question at every step."""
    return cached_lookup(_cached_max_pool_geometry, op, nd, shape, kernel_size, stride, padding, dilation, ceil_mode)


@functools.lru_cache(maxsize=256)
def _cached_max_pool_geometry(op, nd, shape, kernel_size, stride, padding, dilation, ceil_mode) -> tuple:
    kernel, stride, padding, dilation = _pool_args(op, nd, kernel_size, stride, padding, dilation)
    return kernel, stride, padding, dilation, _pool_output(op, shape, kernel, stride, padding, dilation, ceil_mode)


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    batched = check_spatial_input(input, nd, op)
    x = input if batched else input.unsqueeze(0)
    kernel, stride, padding, dilation, out_sizes = _max_pool_geometry(
        op, nd, x.shape, kernel_size, stride, padding, dilation, ceil_mode
    )
    indices: list[np.ndarray] | None = [] if return_indices else None
    out = _MaxPool.apply(
        x, kernel=kernel, stride=stride, padding=padding, dilation=dilation, out_sizes=out_sizes, indices=indices
    )
    if not return_indices:
        return out if batched else out.squeeze(0)
    return _with_indices(out, indices[0], batched, return_indices)


def _with_indices(out: Tensor, index: np.ndarray, batched: bool, return_indices: bool) -> Any:
    if not batched:
        out, index = out.squeeze(0), index[0]
    return (out, Tensor._make(index, None)) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling.

    Shape: (N, C, L) or (C, L) -> (N, C, L_out), L_out = floor((L + 2p - d(k-1) - 1)/s) + 1
    (rounded up with ceil_mode). ``stride`` defaults to ``kernel_size``.

    >>> import cnnlab
    >>> max_pool1d(cnnlab.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[3.0, 2.0]]]
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling; with ``return_indices`` also the flat index (h·W + w) of each maximum.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).

    >>> import cnnlab
    >>> out, idx = max_pool2d(cnnlab.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> out.tolist(), idx.tolist()
    ([[[[5.0, 7.0], [13.0, 15.0]]]], [[[[5, 7], [13, 15]]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).

    >>> import cnnlab
    >>> max_pool3d(cnnlab.ones(1, 2, 4, 4, 4), 2).shape
    (1, 2, 2, 2, 2)
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    batched = check_spatial_input(input, nd, op)
    x = input if batched else input.unsqueeze(0)
    kernel, stride, padding, _ = _pool_args(op, nd, kernel_size, stride, padding, 1)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer)) or divisor_override <= 0):
        raise ValueError(f"{op}: divisor_override must be a positive int, got {divisor_override!r}")
    if nd == 3 and any(n < k for n, k in zip(x.shape[2:], kernel)):
        # PyTorch's 3-D average pool (alone among the pools) refuses an input smaller than the kernel,
        # padding or not; refusing too keeps the two libraries interchangeable
        raise ValueError(f"{op}: input image {x.shape[2:]} is smaller than kernel_size {kernel}")
    out_sizes = _pool_output(op, x.shape, kernel, stride, padding, (1,) * nd, ceil_mode)
    out = _AvgPool.apply(
        x,
        kernel=kernel,
        stride=stride,
        padding=padding,
        out_sizes=out_sizes,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
    )
    return out if batched else out.squeeze(0)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling.

    Shape: (N, C, L) or (C, L) -> (N, C, L_out).

    >>> import cnnlab
    >>> avg_pool1d(cnnlab.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[2.0, 1.0]]]
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2-D average pooling; ``count_include_pad`` decides whether zero padding counts in the divisor.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).

    >>> import cnnlab
    >>> avg_pool2d(cnnlab.ones(1, 1, 3, 3), 2, padding=1, count_include_pad=False).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """3-D average pooling.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).

    >>> import cnnlab
    >>> avg_pool3d(cnnlab.ones(1, 1, 4, 4, 4), 2).shape
    (1, 1, 2, 2, 2)
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def _adaptive_sizes(op: str, nd: int, x: Tensor, output_size) -> tuple[int, ...]:
    if output_size is None or isinstance(output_size, (int, np.integer)):
        sizes = (output_size,) * nd
    elif isinstance(output_size, (tuple, list)) and len(output_size) in (1, nd):
        sizes = tuple(output_size) * (nd // len(output_size))
    else:
        raise TypeError(f"{op}: expected output_size to be an int or a tuple of {nd} ints (or None), got {output_size!r}")
    sizes = tuple(n if o is None else o for o, n in zip(sizes, x.shape[2:]))
    if not all(isinstance(o, (int, np.integer)) and not isinstance(o, bool) and o > 0 for o in sizes):
        raise ValueError(f"{op}: expected output_size to be positive ints, got {output_size!r}")
    if any(n == 0 for n in x.shape[2:]):
        raise ValueError(f"{op}: expected non-empty spatial dimensions, got input of shape {x.shape}")
    return tuple(int(o) for o in sizes)


def _adaptive(op: str, nd: int, input, output_size, function, return_indices=False):
    batched = check_spatial_input(input, nd, op)
    x = input if batched else input.unsqueeze(0)
    sizes = _adaptive_sizes(op, nd, x, output_size)
    if function is _AdaptiveMaxPool:
        indices: list[np.ndarray] = []
        out = function.apply(x, out_sizes=sizes, indices=indices)
        return _with_indices(out, indices[0], batched, return_indices)
    out = function.apply(x, out_sizes=sizes)
    return out if batched else out.squeeze(0)


def adaptive_avg_pool1d(input, output_size):
    """1-D average pooling to a fixed output length, whatever the input length.

    Shape: (N, C, L) or (C, L) -> (N, C, output_size).

    >>> import cnnlab
    >>> adaptive_avg_pool1d(cnnlab.arange(5.0).reshape(1, 1, 5), 2).tolist()
    [[[1.0, 3.0]]]
    """
    return _adaptive("adaptive_avg_pool1d", 1, input, output_size, _AdaptiveAvgPool)


def adaptive_avg_pool2d(input, output_size):
    """2-D average pooling to a fixed output size; ``adaptive_avg_pool2d(x, 1)`` is global average pooling.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, *output_size); None in output_size keeps that input size.

    >>> import cnnlab
    >>> adaptive_avg_pool2d(cnnlab.ones(2, 3, 7, 5), 1).shape
    (2, 3, 1, 1)
    """
    return _adaptive("adaptive_avg_pool2d", 2, input, output_size, _AdaptiveAvgPool)


def adaptive_avg_pool3d(input, output_size):
    """3-D average pooling to a fixed output size.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size).

    >>> import cnnlab
    >>> adaptive_avg_pool3d(cnnlab.ones(1, 1, 5, 6, 7), (2, 3, None)).shape
    (1, 1, 2, 3, 7)
    """
    return _adaptive("adaptive_avg_pool3d", 3, input, output_size, _AdaptiveAvgPool)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D max pooling to a fixed output length.

    Shape: (N, C, L) or (C, L) -> (N, C, output_size).

    >>> import cnnlab
    >>> adaptive_max_pool1d(cnnlab.tensor([[[1.0, 5.0, 2.0, 4.0, 3.0]]]), 2).tolist()
    [[[5.0, 4.0]]]
    """
    return _adaptive("adaptive_max_pool1d", 1, input, output_size, _AdaptiveMaxPool, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D max pooling to a fixed output size.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, *output_size).

    >>> import cnnlab
    >>> adaptive_max_pool2d(cnnlab.arange(16.0).reshape(1, 1, 4, 4), 1).tolist()
    [[[[15.0]]]]
    """
    return _adaptive("adaptive_max_pool2d", 2, input, output_size, _AdaptiveMaxPool, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D max pooling to a fixed output size.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size).

    >>> import cnnlab
    >>> adaptive_max_pool3d(cnnlab.ones(1, 1, 5, 6, 7), 3).shape
    (1, 1, 3, 3, 3)
    """
    return _adaptive("adaptive_max_pool3d", 3, input, output_size, _AdaptiveMaxPool, return_indices)
