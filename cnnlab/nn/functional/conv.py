"""Convolution, transposed convolution, unfold (im2col) and fold (col2im), for any number of spatial dims.

Everything here rests on three array functions, each written once for 1-, 2- and 3-D:

* ``im2col``: a strided *view* of the padded input, one window per output position, copied into a
  column matrix (C·K, N·L), so that a convolution is a single BLAS product (taken a few samples at a
  time, so that the column matrix stays in the CPU's cache).
* ``col2im``: the adjoint of im2col. It adds the columns back into an image, one kernel offset at a
  time (K slices added, never a loop over pixels), summing where windows overlap.
* the three convolutions of the textbook: the forward one, the *transposed* one (W^T applied to the
  columns, then col2im), and the correlation of an input with an output gradient.

With stride 1 the windows have a second, faster form (``flat_windows``): flatten each padded image, and
the inputs at one kernel offset of *every* window are a single contiguous run, so the column matrix is
copied (and col2im added back) in long runs instead of rows a few elements long. The price is a grid
as wide as the padded input: its extra positions are computed and sliced off.

They are one another's gradients: the input gradient of a convolution is the transposed convolution of
the output gradient with the same (flipped, in effect) kernel; the input gradient of a transposed
convolution is the convolution; both weight gradients are the correlation. References: Dumoulin and
Visin, "A guide to convolution arithmetic for deep learning" (2016); PyTorch's Conv docs for the API.

Padding ``'same'`` with stride > 1 is an extension (PyTorch refuses it): it follows TensorFlow, output
ceil(n / s), total padding max(s·(ceil(n/s) - 1) + (k-1)·d + 1 - n, 0), floor half before.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ... import compiled, parallel
from ...autograd import Function
from ...tensor import Tensor
from ._args import check_spatial_input, check_tensor, non_negative, ntuple, output_size, positive
from ._reduce import channel_sums

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "unfold",
    "fold",
]

Pads = tuple[tuple[int, int], ...]  # (before, after) for each spatial axis


# ==================================================================================================
# the array machinery


def windows(
    xp: np.ndarray,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    out_sizes: Sequence[int] | None = None,
) -> np.ndarray:
    """A read-only view (N, C, *O, *K) of every kernel window of the (already padded) ``xp``.

    No data moves: window (o, k) starts at o·s + k·d, so its strides are the input's strides times s
    (over output positions) and times d (over kernel offsets). ``out_sizes`` keeps only the first
    windows along each axis (where more padding than the op needs was added, as for ceil_mode).
    """
    spatial = xp.shape[2:]
    out = tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(spatial, kernel, stride, dilation))
    if out_sizes is not None:
        out = tuple(min(o, limit) for o, limit in zip(out, out_sizes))
    st = xp.strides
    shape = xp.shape[:2] + out + tuple(kernel)
    strides = st[:2] + tuple(a * s for a, s in zip(st[2:], stride)) + tuple(a * d for a, d in zip(st[2:], dilation))
    return strided_view(xp, shape, strides)


def strided_view(a: np.ndarray, shape, strides, writeable: bool = False) -> np.ndarray:
    """``as_strided(a, shape, strides, writeable=writeable)``, a few times faster where ``a`` is
    contiguous (a network asks for two such views per convolution)."""
    if not a.flags.c_contiguous:
        return as_strided(a, shape=shape, strides=strides, writeable=writeable)
    view = np.ndarray(shape, a.dtype, buffer=a, strides=strides)
    view.flags.writeable = writeable and a.flags.writeable
    return view


def sample_view(xp: np.ndarray, kernel, stride, dilation, out_sizes=None) -> np.ndarray:
    """The windows of a padded input as a strided view (N, C, *K, *O): sample n's column matrix
    (C·K, L) once copied. ``out_sizes`` keeps only the first windows along each axis (the others
    would need more padding)."""
    nd = len(kernel)
    win = windows(xp, kernel, stride, dilation, out_sizes)  # (N, C, *O, *K)
    return win.transpose((0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd)))


def im2col(xp: np.ndarray, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
           out_sizes: Sequence[int] | None = None) -> np.ndarray:
    """The column matrix (N, C·K, L) of a padded input: column l holds the window of output position l."""
    N, C = xp.shape[:2]
    return np.ascontiguousarray(sample_view(xp, kernel, stride, dilation, out_sizes)).reshape(N, C * math.prod(kernel), -1)


def sample_blocks(n: int, bytes_per_sample: int, budget: int | None = None,
                  work_per_sample: float | None = None) -> list[tuple[int, int]]:
    """Split a batch of ``n`` into blocks of about ``budget`` bytes (default: a column matrix that fits
    the CPU's cache, about 4 MB); at least one sample per block. Where the work (``work_per_sample``,
    in bytes moved, by default ``bytes_per_sample``) is worth splitting, the blocks come in a multiple
    of the thread count, each thread's blocks at most one sample apart, so that :mod:`cnnlab.parallel`
    deals each thread its share (:func:`cnnlab.parallel.cuts`: the calling thread's a little longer).
    (Blocks of one rounded-up size would leave a short last block: 32 samples in 12 blocks made 10 of 3
    and one of 2, and the threads 18 and 14.)"""
    work = n * (work_per_sample or bytes_per_sample)
    if _one_small_block(n * bytes_per_sample, work, budget):  # (small batches: one block, on this thread)
        return [(0, n)]
    size = max(1, min(n, (budget or _BLOCK_BYTES) // max(bytes_per_sample, 1)))
    threads = len(parallel.shares(n, work))
    count = -(-n // size)
    count = min(n, -(-count // threads) * threads) if n else 1
    if count % threads:  # (fewer samples than blocks for every thread: one sample each)
        return [(n * i // count, n * (i + 1) // count) for i in range(count)]
    per = count // threads
    runs = parallel.cuts(n, threads, work)
    return [(a + (b - a) * i // per, a + (b - a) * (i + 1) // per) for a, b in itertools.pairwise(runs) for i in range(per)]


def _one_small_block(nbytes: int, work: float, budget: int | None) -> bool:
    """Whether a batch of ``nbytes`` (``work``, in bytes moved) fits one block and is too little work
    to split."""
    return work < parallel.MIN_WORK and nbytes <= (budget or _BLOCK_BYTES)


def _over_blocks(block, n: int, bytes_per_sample: int, budget: int | None = None,
                 work_per_sample: float | None = None) -> list:
    """``block(n0, n1)`` for the :func:`sample_blocks` of a batch of ``n``, on cnnlab's threads."""
    work = work_per_sample or bytes_per_sample
    if _one_small_block(n * bytes_per_sample, n * work, budget):
        return [block(0, n)]  # (as for a single image: no dealing out)
    blocks = sample_blocks(n, bytes_per_sample, budget, work)
    return parallel.starmap(block, blocks, costs=[(n1 - n0) * work for n0, n1 in blocks])


def _product_work(column_bytes: int, multiply_adds: int) -> float:
    """The work of a sample's column matrix and its matrix product, in bytes moved: a multiply-add
    weighs about 0.3 bytes (OpenBLAS makes 50 G of them a second on one of this project's cores, which
    copy 16 GB a second). LeNet-5's second layer at batch 64, compact columns: 3.8 MB of columns and
    0.3 ms of products, which two threads share."""
    return column_bytes + 0.3 * multiply_adds


_BLOCK_BYTES = 4 << 20
_SMALL_GRADIENT = 1024  # weight gradients of at most this many values are summed per sample
_THIN_KERNEL = 256  # column matrices of fewer rows (C·K) are multiplied per sample
_WIDE_GRADIENT = 256  # weight gradients with this many output channels (per group) come out untransposed
_KEEP_BYTES = 64 << 20
_FLAT_WASTE, _FLAT_WASTE_ADDS = 8, 32  # see _flat_pays
_SMALL_BYTES = 64 << 10


def _budget(weight_bytes: int) -> int:
    """Column bytes per block of samples: about the CPU's cache (``_BLOCK_BYTES``), or twice the
    weights where they are larger. Each block's product reads the whole weight matrix, so a deep layer
    with few pixels (512 channels of 4×4: 9 MB of weights, 0.3 MB of columns per sample) would spend
    its products re-reading weights. Measured on ResNet-18's 256- and 512-channel 3×3 layers at batch
    32: forward and backward 7-10% faster; the layers with 64-128 channels keep their blocks.
    """
    return max(_BLOCK_BYTES, 2 * weight_bytes)


class _Workspace(threading.local):
    """Scratch arrays reused from call to call (one set per thread): large temporaries allocated anew
    at every step cost page faults; these are allocated once and stay warm in the cache."""

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        nbytes = math.prod(shape) * dtype.itemsize
        if not _SMALL_BYTES < nbytes <= _KEEP_BYTES:
            # small: malloc hands out a warm block faster than a view can be cut from the buffer;
            # a single huge sample: not worth holding on to after this call
            return np.empty(shape, dtype=dtype)
        buffer = self.buffers.get(name)
        if buffer is None or buffer.nbytes < nbytes:
            buffer = self.buffers[name] = np.empty(nbytes, np.uint8)
        return buffer[:nbytes].view(dtype).reshape(shape)


_workspace = _Workspace()


def col2im(
    cols: np.ndarray,
    padded: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Add columns (N, C, *K, *O) back into an image (N, C, *padded); overlapping windows sum.

    One strided slice per kernel offset: for each k, every output position's value lands at o·s + k·d.
    With ``out``, the columns are added into that image instead of a new one of zeros.
    """
    nd = len(kernel)
    N, C = cols.shape[:2]
    out_sizes = cols.shape[2 + nd :]
    image = np.zeros((N, C) + tuple(padded), dtype=cols.dtype) if out is None else out
    targets = offset_views(tuple(kernel), tuple(stride), tuple(dilation), out_sizes)
    for k, target in zip(np.ndindex(*kernel), targets):
        image[target] += cols[(slice(None), slice(None)) + k]
    return image


def pad_spatial(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """``x`` (N, C, *S) with ``value`` added around its spatial dims (one allocation and one copy)."""
    if not any(b or a for b, a in pads):
        return x
    out = np.empty(x.shape[:2] + tuple(n + b + a for n, (b, a) in zip(x.shape[2:], pads)), dtype=x.dtype)
    _fill(out, value, _interior(x.shape[2:], pads), x)
    return out


def _fill(out: np.ndarray, value: float, region: tuple, source: np.ndarray, view: np.ndarray | None = None) -> None:
    """``out[...] = value``, then ``(view or out)[region] = source``, where ``view`` is another view of
    ``out`` with the same first axis: sample by sample, shared between cnnlab's threads."""
    view = out if view is None else view
    shares = parallel.shares(len(out), out.nbytes)
    if len(shares) == 1:  # (small arrays: no slicing, no dealing out)
        out[...] = value
        view[region] = source
        return

    def fill(n0: int, n1: int) -> None:
        out[n0:n1] = value
        view[n0:n1][region] = source[n0:n1]

    parallel.starmap(fill, shares)


def crop(x: np.ndarray, pads: Pads, spatial: Sequence[int]) -> np.ndarray:
    """The inverse of padding: the region (N, C, *spatial) that starts after the ``before`` pads."""
    return x[_interior(tuple(spatial), pads)]


# The geometry below depends only on shapes, and a network asks the same few questions at every step:
# cached, so that a small batch (one image, 28×28) does not spend its time on Python arithmetic.


@functools.lru_cache(maxsize=1024)
def _output_sizes(spatial, kernel, stride, pads: Pads, dilation) -> tuple[int, ...]:
    return tuple(output_size(n, k, s, b, a, d) for n, k, s, (b, a), d in zip(spatial, kernel, stride, pads, dilation))


@functools.lru_cache(maxsize=1024)
def _leading(sizes) -> tuple:
    """The index of the first ``sizes`` positions along each spatial axis (N and C whole)."""
    return (Ellipsis,) + tuple(slice(0, n) for n in sizes)


@functools.lru_cache(maxsize=1024)
def _interior(spatial, pads: Pads) -> tuple:
    """The index of the input's own positions inside its padded copy."""
    return (Ellipsis,) + tuple(slice(b, b + n) for n, (b, _) in zip(spatial, pads))


@functools.lru_cache(maxsize=1024)
def offset_views(kernel, stride, dilation, out_sizes) -> tuple[tuple, ...]:
    """For each kernel offset k, in kernel order, the index (N and C whole) of its strided view over a
    padded image: the element at offset k of every window, o·s + k·d along each axis."""
    return tuple(
        (slice(None), slice(None)) + tuple(slice(ki * d, ki * d + s * (o - 1) + 1, s)
                                           for ki, d, s, o in zip(k, dilation, stride, out_sizes))
        for k in np.ndindex(*kernel)
    )


def convolve(x: np.ndarray, w: np.ndarray, stride, pads: Pads, dilation, groups: int,
             bias: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlation (what deep learning calls convolution): (N, C, *S) * (OC, C/g, *K) -> (N, OC, *O),
    plus ``bias`` (OC,) if given (added block by block, while the block is in the cache).

    A few samples at a time (so that their column matrix stays in the CPU's cache): copy their windows
    into a column matrix and multiply by the weights (G, OC/g, C/g·K): per sample (b, G, C/g·K, L) for
    thin kernels, else as one matrix (G, C/g·K, b·L) whose product (OC, b, L) is put in place as
    (b, OC, L). With stride 1 the columns are the runs of :func:`flat_windows`, over the wide grid,
    whose extra positions are sliced off the product; with compiled kernels, thin 2-D kernels with
    stride 1 get compact columns instead (:func:`_compiled_columns`), and their products land in place.
    """
    if winograd.serves(x, w, stride, pads, dilation, groups):
        return winograd.convolve(x, w, pads, bias)
    N, C = x.shape[:2]
    OC, kernel = w.shape[0], w.shape[2:]
    plan = _convolve_plan(x.shape[1:], w.shape, stride, pads, dilation, groups)
    out_sizes, grid, per_sample = plan.out_sizes, plan.grid, plan.per_sample
    if plan.depthwise:
        return _convolve_depthwise(x, w, stride, pads, dilation, out_sizes, bias)
    dtype = x.dtype if x.dtype == w.dtype else np.result_type(x, w)
    columns = _compiled_columns(x, w, plan.compact)
    if columns is not None:  # compact columns, copied by the compiled kernel from the padded images
        grid, view = out_sizes, columns.source
    else:
        view = _column_source(x, plan.flat, kernel, stride, pads, dilation, out_sizes)  # (N, C, *K, *grid)
    L, CK = math.prod(grid), plan.rows
    weights = w.reshape(groups, OC // groups, -1)
    out = np.empty((N, OC) + out_sizes, dtype=dtype)
    per_channel = None if bias is None else bias.reshape(plan.per_channel)
    at = () if per_sample else (slice(None),) * (1 + len(kernel))
    if not per_sample:
        view = _samples_after_kernel(view, len(kernel))  # (C, *K, N, *grid)

    def block(n0: int, n1: int) -> None:
        b = n1 - n0
        source = view[at + (slice(n0, n1),)]
        if columns is not None:
            cols = columns.copy(source, CK * L, dilation, out_sizes)
        elif per_sample and source.flags.c_contiguous:  # a pointwise (1×1, stride 1) kernel: x is its own columns
            cols = source
        else:
            cols = _workspace.get("columns", source.shape, dtype)
            np.copyto(cols, source)
        if per_sample:
            in_place = grid == out_sizes  # no extra grid positions: the product is written straight into place
            product = out[n0:n1] if in_place else _workspace.get("product", (b, OC) + grid, dtype)
            if b == 1 and groups == 1:  # (one image: np.dot calls BLAS with 1 µs less around it than matmul)
                np.dot(weights[0], cols.reshape(CK, L), out=product.reshape(OC, L))
            else:
                np.matmul(weights, cols.reshape(b, groups, CK // groups, L), out=product.reshape(b, groups, OC // groups, L))
            if in_place:
                if bias is not None:
                    _add_to_channels(product.reshape(b, OC, L), bias, per_channel)
                return
        else:
            product = _workspace.get("product", (groups, OC // groups, b * L), dtype)
            np.matmul(weights, cols.reshape(groups, CK // groups, -1), out=product)
            product = product.reshape((OC, b) + grid).swapaxes(0, 1)
        if bias is None:
            np.copyto(out[n0:n1], product[plan.compact_outputs])
        else:
            np.add(product[plan.compact_outputs], per_channel, out=out[n0:n1])

    _over_blocks(block, N, CK * L * dtype.itemsize, _budget(w.nbytes),
                 _product_work(CK * L * dtype.itemsize, OC * CK // groups * L))
    return out


class _ConvolvePlan(NamedTuple):
    """What :func:`convolve` decides from the shapes alone (see :func:`_convolve_plan`)."""

    out_sizes: tuple[int, ...]
    flat: bool  # the columns are flat_windows' runs (see _flat_pays)
    grid: tuple[int, ...]  # the positions the products cover: the wide grid, or the outputs themselves
    per_sample: bool  # products per sample (thin kernels), or one over a block's samples side by side
    depthwise: bool
    compact: tuple | None  # where compiled compact columns may serve, their _compact_layout
    rows: int  # of a sample's column matrix, C·K
    per_channel: tuple[int, ...]  # the shape that broadcasts a bias (OC,) over an output (N, OC, *O)
    compact_outputs: tuple  # the index of the real outputs in the grid


def _add_to_channels(out: np.ndarray, bias: np.ndarray, per_channel: np.ndarray) -> None:
    """``out`` (b, OC, L) += ``bias`` (OC,) by the compiled kernel (3-4 times faster, see
    :mod:`.bias_kernels`), else as NumPy's broadcast of ``per_channel``, the bias as (OC, 1, ...)."""
    kernels = compiled.kernels("bias_kernels", out.dtype, bias.dtype)
    if kernels is None:
        out += per_channel.reshape(-1, 1)
    else:
        kernels.add_to_channels(out, bias)


@functools.lru_cache(maxsize=1024)
def _convolve_plan(in_shape, w_shape, stride, pads: Pads, dilation, groups: int) -> _ConvolvePlan:
    """What :func:`convolve` decides from the shapes alone, for an input (C, *S) and weights
    (OC, C/g, *K), cached, so that a small batch does not spend its time on Python arithmetic: the
    output sizes, whether the columns are :func:`flat_windows`' runs (see :func:`_flat_pays`), the grid
    the products cover, and whether they are taken per sample: thin kernels (C·K < 256, as in LeNet)
    are faster as per-sample products, wider ones as one product over a block's samples side by side,
    transposed afterwards."""
    C, spatial = in_shape[0], in_shape[1:]
    OC, kernel = w_shape[0], w_shape[2:]
    out_sizes = _output_sizes(spatial, kernel, stride, pads, dilation)
    flat, grid = _columns_grid(C, OC, kernel, stride, pads, dilation, spatial, out_sizes)
    per_sample = C * math.prod(kernel) < _THIN_KERNEL
    return _ConvolvePlan(out_sizes, flat, grid, per_sample, groups == C > 1,
                         _compact_layout(spatial, kernel, stride, pads) if per_sample else None,
                         C * math.prod(kernel), (-1,) + (1,) * len(kernel), _leading(out_sizes))


class _CompiledColumns(NamedTuple):
    """The compiled column copy (:mod:`cnnlab.nn.functional.im2col_kernels`) of one convolution."""

    kernels: Any  # the module of compiled kernels
    source: np.ndarray  # the padded images, flattened, with spare values after each: (N, C, P + SPARE)
    width: int  # of a padded image
    kernel: tuple[int, int]

    def copy(self, source: np.ndarray, length: int, dilation, out_sizes) -> np.ndarray:
        """The column matrices of the samples of ``source`` (a slice of ``self.source``), as a view
        (b, length) of a workspace array (b, length + SPARE)."""
        cols = _workspace.get("columns", (len(source), length + self.kernels.SPARE), source.dtype)
        self.kernels.columns(source, self.width, self.kernel, tuple(dilation), tuple(out_sizes), cols)
        return cols[:, :length]


def _compiled_columns(x: np.ndarray, other: np.ndarray, layout: tuple | None) -> _CompiledColumns | None:
    """The compiled column copy for a 2-D stride-1 convolution of ``x`` (by weights, or with output
    gradients, ``other``, of its dtype) whose :func:`_compact_layout` is ``layout``, or None where it
    does not serve: other strides and dimensions (no layout), other dtypes, no Numba.

    Its columns are compact, over the outputs themselves, and copied faster than the wide grid's runs
    (whose extra positions the products compute and throw away), so the forward products land in
    place and the weight gradient's output gradients need no spreading onto a grid. LeNet-5's training
    step, alternating in one process with the wide grid: 0.88 of the time at batch 64, 0.84 at 256
    (with :func:`_product_work` sharing its second layer between the threads); fashion_cnn's the same,
    ResNet-18's 0.97 (its first layer)."""
    kernels = None if layout is None or x.dtype != other.dtype else compiled.kernels("im2col_kernels", x.dtype)
    if kernels is None:
        return None
    padded, interior, size, kernel = layout
    return _CompiledColumns(kernels, _flat_padded(x, interior, padded, size + kernels.SPARE), padded[1], kernel)


@functools.lru_cache(maxsize=1024)
def _compact_layout(spatial, kernel, stride, pads: Pads) -> tuple | None:
    """For :func:`_compiled_columns`, from the shapes alone: (the padded sizes, the index of the input's
    own values in them, their product, the kernel), or None for the convolutions it does not serve:
    other strides and dimensions, and a 1×1 kernel (its input is its own column matrix)."""
    if len(kernel) != 2 or tuple(stride) != (1, 1) or _pointwise(kernel, stride, pads):
        return None
    padded = tuple(n + b + a for n, (b, a) in zip(spatial, pads))
    return padded, _interior(spatial, pads), math.prod(padded), tuple(kernel)


def _columns_grid(in_channels: int, out_channels: int, kernel, stride, pads: Pads, dilation, spatial, out_sizes
                  ) -> tuple[bool, tuple[int, ...]]:
    """(flat, grid): whether the columns are :func:`flat_windows`' runs (see :func:`_flat_pays`), and
    the grid the products cover, the wide grid or the outputs themselves."""
    flat = _flat_pays(in_channels, out_channels, kernel, stride, pads, spatial, out_sizes)
    return flat, (_flat_grid(spatial, pads, kernel, dilation, out_sizes)[2] if flat else tuple(out_sizes))


def _column_source(x: np.ndarray, flat: bool, kernel, stride, pads: Pads, dilation, out_sizes) -> np.ndarray:
    """The windows of ``x`` to copy into a column matrix, as a view (N, C, *K, *grid): the contiguous
    runs of :func:`flat_windows` over its wide grid (one axis) where ``flat`` (see :func:`_flat_pays`),
    otherwise the strided windows of the padded input over the output grid itself.
    """
    if flat:
        return flat_windows(x, pads, kernel, dilation, out_sizes)[1]
    return sample_view(pad_spatial(x, pads), kernel, stride, dilation, out_sizes)


@functools.lru_cache(maxsize=1024)
def _flat_pays(in_channels: int, out_channels: int, kernel, stride, pads: Pads, spatial, out_sizes,
               adds: bool = False) -> bool:
    """Whether a stride-1 convolution (in -> out channels, input ``spatial``, output ``out_sizes``) should
    run over the wide grid of :func:`flat_windows`; ``adds``: for :func:`_flat_col2im`, which adds
    columns back instead of copying them.

    The grid's runs copy (and add back) much faster than rows of strided windows, but the grid has
    extra positions: the products compute them and throw them away, the product is sliced to the real
    outputs, and gradients are spread onto the grid. So only where the columns outweigh the outputs,
    C·K ≥ 2·D, and the wasted products stay small, (L_grid - L)·D ≤ 8·L where the columns are copied
    and ≤ 32·L where they are added back (strided adds cost more than strided copies). Measured: a
    1 -> 32 channel 3×3 layer takes twice as long on the grid, and so does a 512-channel 4×4 one (a
    grid 1.5 times too wide); LeNet's 6 -> 16 channel 5×5 layer takes 25% less time, a 64-channel
    32×32 one 20% less. The 64- and 128-channel 14×14 and 16×16 layers (grids 1.14 and 1.125 times
    the outputs) copy their columns 5-9% faster from strided windows, but fashion_cnn's 32 -> 64
    layer's input gradient by col2im took 23% longer with strided adds.
    """
    if not all(s == 1 for s in stride) or _pointwise(kernel, stride, pads):
        return False
    real = math.prod(out_sizes[1:])
    grid = math.prod(n + b + a for n, (b, a) in zip(spatial[1:], pads[1:]))
    waste = _FLAT_WASTE_ADDS if adds else _FLAT_WASTE
    return in_channels * math.prod(kernel) >= 2 * out_channels and (grid - real) * out_channels <= waste * real


def _samples_after_kernel(view: np.ndarray, nd: int) -> np.ndarray:
    """(N, C, *K, *grid) -> (C, *K, N, *grid): a block of samples [n0:n1] is then the column matrix
    (C·K, (n1-n0)·L) of those samples side by side."""
    return view.transpose((1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, view.ndim)))


def flat_windows(x: np.ndarray, pads: Pads, kernel, dilation, out_sizes) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """For a stride-1 window sweep: ``x`` padded, each (n, c) image flattened, as (N, C, P + tail), so
    that the inputs at kernel offset k of *every* window form one contiguous run.

    The runs cover the "wide grid" ``wide`` = (O_0, P_1, ..., P_last): every row runs on across the
    padded width, so each row carries P_i - O_i positions past the real outputs (slice them off with
    ``[..., :O_1, ...]``). Returns (flat, the runs as a read-only view (N, C, *K, L) of ``flat``,
    where L = prod(wide), and wide). Copying or multiplying long contiguous runs is about twice as fast
    as over strided window views, whose rows are only O_last long.
    """
    N, C = x.shape[:2]
    layout = _flat_layout(x.shape[2:], pads, kernel, dilation, out_sizes, x.itemsize)
    flat = _flat_padded(x, layout.interior, layout.padded, layout.length)
    runs = strided_view(flat, (N, C) + layout.runs_shape, flat.strides[:2] + layout.runs_strides)
    return flat, runs, layout.wide


def _flat_padded(x: np.ndarray, interior: tuple, padded: tuple[int, ...], length: int) -> np.ndarray:
    """``x`` (N, C, *S) zero-padded to ``padded`` (its own values at ``interior``), each (n, c) image
    flattened into a row of ``length`` ≥ prod(padded) values, zeros after the image: (N, C, length)."""
    N, C = x.shape[:2]
    if parallel.alone(N * C * length * x.itemsize):  # (small: calloc's zeros come sooner than a fill of our own)
        flat = np.zeros((N, C, length), dtype=x.dtype)
        flat[:, :, : math.prod(padded)].reshape((N, C) + padded)[interior] = x
        return flat
    flat = np.empty((N, C, length), dtype=x.dtype)
    _fill(flat, 0, interior, x, view=flat[:, :, : math.prod(padded)].reshape((N, C) + padded))
    return flat


@functools.lru_cache(maxsize=1024)
def _flat_grid(spatial, pads: Pads, kernel, dilation, out_sizes) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
    """(padded size, tail, wide grid) of :func:`flat_windows`: the tail is how far the last offset's
    run reaches past the flattened image."""
    padded = tuple(n + b + a for n, (b, a) in zip(spatial, pads))
    steps = _flat_steps(padded)
    tail = sum(d * (k - 1) * st for k, d, st in zip(kernel[1:], dilation[1:], steps[1:]))
    return padded, tail, (out_sizes[0],) + padded[1:]


class _FlatLayout(NamedTuple):
    """Where :func:`flat_windows` puts things in each (n, c) row of ``flat``, in elements and bytes."""

    padded: tuple[int, ...]  # the padded image's sizes
    wide: tuple[int, ...]  # the wide grid
    size: int  # of the padded image
    length: int  # of the row: the image and the tail
    interior: tuple  # the index of the input's own positions in the padded image
    runs_shape: tuple[int, ...]  # (*K, L)
    runs_strides: tuple[int, ...]  # bytes between kernel offsets along each axis, then 1 element


@functools.lru_cache(maxsize=1024)
def _flat_layout(spatial, pads: Pads, kernel, dilation, out_sizes, itemsize: int) -> _FlatLayout:
    padded, tail, wide = _flat_grid(spatial, pads, kernel, dilation, out_sizes)
    size = math.prod(padded)
    strides = tuple(st * d * itemsize for st, d in zip(_flat_steps(padded), dilation)) + (itemsize,)
    return _FlatLayout(padded, wide, size, size + tail, _interior(spatial, pads), tuple(kernel) + (math.prod(wide),),
                       strides)


@functools.lru_cache(maxsize=1024)
def _flat_steps(padded) -> tuple[int, ...]:
    """How far apart, in elements, neighbours along each spatial axis lie in the flattened image."""
    return tuple(math.prod(padded[i + 1 :]) for i in range(len(padded)))


def _onto_grid(name: str, y: np.ndarray, grid: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``y`` (..., *O) in the workspace array ``name`` (..., *grid), zeros past each row's real
    positions: a block's gradients spread onto the grid while they are in the cache."""
    lead, sizes = y.shape[: -len(grid)], y.shape[-len(grid) :]
    out = _workspace.get(name, lead + tuple(grid), dtype)
    if sizes == tuple(grid):
        np.copyto(out, y)
    else:
        _fill(out, 0, _leading(sizes), y)
    return out


def to_wide_grid(y: np.ndarray, wide: tuple[int, ...]) -> np.ndarray:
    """``y`` (N, D, *O) spread onto the wide grid of :func:`flat_windows`, as (N, D, L), zeros past each
    row's real outputs (so that products over the grid add nothing there)."""
    N, D = y.shape[:2]
    if y.shape[2:] == wide:
        return y.reshape(N, D, -1)
    spread = np.empty((N, D) + wide, dtype=y.dtype)
    _fill(spread, 0, _leading(y.shape[2:]), y)
    return spread.reshape(N, D, -1)


def _convolve_depthwise(x: np.ndarray, w: np.ndarray, stride, pads: Pads, dilation, out_sizes, bias=None) -> np.ndarray:
    """A depthwise convolution (groups = C): each channel meets only its own m = OC/C filters, so a
    matrix product would be one row long. Instead, one multiply-add per kernel offset:
    out[:, c, j] += w[c·m + j, k] · (the inputs at offset k of every window of channel c).

    With stride 1 the inputs of an offset are one contiguous run per image (:func:`flat_windows`);
    otherwise a strided window view. The batch is taken a few samples at a time so that the output
    block and its temporary stay in the CPU's cache across the K passes.
    """
    N, C = x.shape[:2]
    OC, kernel = w.shape[0], w.shape[2:]
    nd, m = len(kernel), OC // C
    dtype = np.result_type(x, w)
    kernels = compiled.kernels("depthwise_kernels", x.dtype) if nd == 2 and x.dtype == w.dtype else None
    if kernels is not None:  # compiled: each output row summed over the kernel in one loop
        x, taps = np.ascontiguousarray(x), np.ascontiguousarray(w.reshape((C, m) + tuple(kernel)))
        out = np.empty((N, C, m) + tuple(out_sizes), dtype=dtype)
        shift = np.empty(0, dtype=dtype) if bias is None else bias.astype(dtype, copy=False)
        parallel.starmap(lambda n0, n1: kernels.depthwise_forward(x[n0:n1], taps, shift, pads[0][0], pads[1][0],
                                                                  tuple(stride), tuple(dilation), out[n0:n1]),
                         parallel.shares(N, x.nbytes + out.nbytes))
        return out.reshape((N, OC) + tuple(out_sizes))
    out = np.empty((N, C, m) + tuple(out_sizes), dtype=dtype)
    flat = all(s == 1 for s in stride)
    if flat:
        _, source, wide = flat_windows(x, pads, kernel, dilation, out_sizes)  # (N, C, *K, L)
        length = math.prod(wide)
        runs = [(slice(None), slice(None), None) + k for k in np.ndindex(*kernel)]  # (N, C, 1, L): over the m filters
        taps = w.reshape(1, C, m, 1, -1)
        compact = (Ellipsis,) + tuple(slice(0, o) for o in out_sizes[1:])
        block_shape = (C, m, length)
    else:
        source = windows(pad_spatial(x, pads), kernel, stride, dilation, out_sizes)[:, :, None]  # (N, C, 1, *O, *K)
        runs = [(Ellipsis,) + k for k in np.ndindex(*kernel)]
        taps = w.reshape((1, C, m) + (1,) * nd + (-1,))
        block_shape = (C, m) + tuple(out_sizes)
    bias = None if bias is None else bias.reshape((1, C, m) + (1,) * (1 if flat else nd))

    def block(n0: int, n1: int) -> None:
        o = _workspace.get("accumulator", (n1 - n0,) + block_shape, dtype) if flat else out[n0:n1]
        t = _workspace.get("product", o.shape, dtype)
        x_n = source[n0:n1]
        for i, run in enumerate(runs):
            np.multiply(taps[..., i], x_n[run], out=o if i == 0 else t)
            if i:
                o += t
        if bias is not None:
            o += bias
        if flat:
            np.copyto(out[n0:n1], o.reshape((n1 - n0, C, m) + wide)[compact])

    _over_blocks(block, N, math.prod(block_shape) * dtype.itemsize, budget=1 << 20)
    return out.reshape((N, OC) + tuple(out_sizes))


def convolve_transpose(y: np.ndarray, w: np.ndarray, stride, pads: Pads, dilation, groups: int, spatial) -> np.ndarray:
    """The transposed convolution: columns W^T·y added back by col2im, then the padding cropped.

    ``y`` (N, C_in, *I) with ``w`` (C_in, OC/g, *K) gives (N, OC, *spatial). As the adjoint of
    :func:`convolve` with the same geometry, it is also that convolution's input gradient.
    """
    if winograd.serves_transpose(y, w, stride, pads, dilation, groups, spatial):
        return winograd.convolve_transpose(y, w, pads, spatial)
    N, C_in = y.shape[:2]
    kernel, y_spatial = w.shape[2:], y.shape[2:]
    OCg = w.shape[1]
    L = math.prod(y_spatial)
    # Two ways to the same numbers; take the one that moves less memory. The full convolution copies
    # a column matrix of C_in·K per output pixel; W^T·y makes OC·K columns per input pixel and then
    # adds them back in K strided passes (counted twice). Expanding layers (OC < C_in) favour col2im,
    # and so does a tie: the flipped convolution's product then has only OC rows (measured on a 3-D
    # layer of 8 -> 16 channels: 28 ms flipped, 17 ms by col2im).
    flip_cost = C_in * math.prod(spatial)
    col2im_cost = 2 * groups * OCg * L
    if all(s == 1 for s in stride) and flip_cost < col2im_cost:
        # the textbook form: a full convolution of y with the flipped, transposed kernel, where y is
        # padded by d(k-1) - p on each side (cropped where that is negative)
        flipped = w.reshape((groups, C_in // groups, OCg) + tuple(kernel)).swapaxes(1, 2)
        flipped = flipped[(Ellipsis,) + (slice(None, None, -1),) * len(kernel)].reshape((groups * OCg, C_in // groups) + tuple(kernel))
        full = tuple((d * (k - 1) - b, d * (k - 1) - a) for k, d, (b, a) in zip(kernel, dilation, pads))
        y = y[(slice(None), slice(None)) + tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(full, y.shape[2:]))]
        full = tuple((max(b, 0), max(a, 0)) for b, a in full)
        return convolve(y, np.ascontiguousarray(flipped), stride, full, dilation, groups)
    # a few samples at a time, so that their columns are added back while they are still in the cache
    dtype = np.result_type(y, w)
    K = math.prod(kernel)
    wt = w.reshape(groups, C_in // groups, OCg * K).transpose(0, 2, 1)  # (G, OC/g·K, C_in/g)
    y = y.reshape(N, groups, C_in // groups, L)
    if _pointwise(kernel, stride, pads) and tuple(spatial) == y_spatial:  # the columns are the image
        out = np.empty((N, groups, OCg, L), dtype=dtype)
        parallel.split_rows(lambda o, ys: np.matmul(wt, ys, out=o), out, y)
        return out.reshape((N, groups * OCg) + tuple(spatial))
    if _flat_pays(groups * OCg, C_in, kernel, stride, pads, spatial, y_spatial, adds=True):  # (columns of OC·K rows)
        return _flat_col2im(wt, y.reshape((N, groups, C_in // groups) + y_spatial), kernel, pads, dilation, spatial)
    padded = tuple(n + b + a for n, (b, a) in zip(spatial, pads))
    image = np.empty((N, groups * OCg) + padded, dtype=dtype)

    def block(n0: int, n1: int) -> None:
        cols = _workspace.get("columns", (n1 - n0, groups, OCg * K, L), dtype)
        np.matmul(wt, y[n0:n1], out=cols)
        cols = cols.reshape((n1 - n0, groups * OCg) + tuple(kernel) + y_spatial)
        image[n0:n1] = 0
        col2im(cols, padded, kernel, stride, dilation, out=image[n0:n1])

    _over_blocks(block, N, groups * OCg * K * L * dtype.itemsize, _budget(w.nbytes))
    return crop(image, pads, spatial)


def _flat_col2im(wt: np.ndarray, y: np.ndarray, kernel, pads: Pads, dilation, spatial) -> np.ndarray:
    """W^T·y added back by col2im, with stride 1, over the flat images of :func:`flat_windows`.

    ``y`` (N, G, C_in/g, *I). A block's samples lie end to end, each on S = padded size + tail flat
    positions. Each sample's ``y``, spread onto the wide grid (L positions, zeros past each row's real
    ones), is multiplied by the weights (rows ordered by kernel offset) straight into the first L of
    its S columns; the other S - L are zeros. The columns of offset k then add into the block's flat
    images in a single contiguous run that starts at k's position: K adds of OC·b·S elements, instead
    of K·OC·b adds of L. A sample's run ends inside its own S positions or carries the zeros past its L
    onto the next sample's. Against K·OC·b adds of L, LeNet-5's second layer's input gradient at batch
    256 took 24% less time on one thread, 5% less on two; taking the products over the L positions
    only (not over all S, a product of the whole block) took another 15-20% off it (S/L = 1.4), 5% off
    fashion_cnn's 32 -> 64 channel layer (1.15).
    """
    N, groups, Cg = y.shape[:3]
    K = math.prod(kernel)
    OCg = wt.shape[1] // K
    dtype = np.result_type(wt, y)
    layout = _flat_layout(tuple(spatial), pads, kernel, dilation, y.shape[3:], dtype.itemsize)
    padded, wide, size, S, L = layout.padded, layout.wide, layout.size, layout.length, layout.runs_shape[-1]
    starts = _offset_starts(padded, kernel, dilation)
    by_offset = np.ascontiguousarray(wt.reshape(groups, OCg, K, Cg).swapaxes(1, 2)).reshape(groups, 1, K * OCg, Cg)
    out = np.empty((N, groups * OCg) + tuple(spatial), dtype=dtype)
    kernels = compiled.kernels("col2im_kernels", dtype)  # adds each offset's runs while a row is in the cache
    run_starts = np.array(starts) if kernels is not None else None  # (as the kernel takes them)

    def block(n0: int, n1: int) -> None:
        b = n1 - n0
        spread = _onto_grid("gradients", y[n0:n1].swapaxes(0, 1), wide, dtype)  # (G, b, C_in/g, *wide)
        cols = _workspace.get("columns", (groups, K * OCg, b, S), dtype)
        if kernels is None:
            cols[..., L:] = 0
        # one product per sample, each written as a matrix whose rows are b·S apart
        np.matmul(by_offset, spread.reshape(groups, b, Cg, L), out=cols[..., :L].swapaxes(1, 2))
        cols = cols.reshape(groups, K, OCg, b * S)
        flat = _workspace.get("product", (groups, OCg, b * S + starts[-1]), dtype)
        if kernels is not None:
            kernels.add_runs(cols, run_starts, S, L, flat)
        else:
            flat[...] = 0
            for k, start in enumerate(starts):
                flat[:, :, start : start + b * S] += cols[:, k]
        images = flat[:, :, : b * S].reshape(groups * OCg, b, S)[:, :, :size].reshape((groups * OCg, b) + padded)
        np.copyto(out[n0:n1], crop(images, pads, spatial).swapaxes(0, 1))

    _over_blocks(block, N, groups * OCg * K * S * dtype.itemsize, _budget(wt.nbytes))
    return out


@functools.lru_cache(maxsize=1024)
def _offset_starts(padded, kernel, dilation) -> tuple[int, ...]:
    """Where each kernel offset's run starts in the flattened padded image, in kernel order."""
    steps = _flat_steps(padded)
    return tuple(sum(k * d * st for k, d, st in zip(offset, dilation, steps)) for offset in np.ndindex(*kernel))


def _pointwise(kernel, stride, pads: Pads) -> bool:
    """A 1×1 kernel with stride 1 and no padding: the input is its own column matrix."""
    return all(k == 1 for k in kernel) and all(s == 1 for s in stride) and not any(b or a for b, a in pads)


def correlate_weight(x: np.ndarray, dy: np.ndarray, kernel, stride, pads: Pads, dilation, groups: int) -> np.ndarray:
    """The weight gradient: the correlation of the input ``x`` (N, C, *S) with ``dy`` (N, D, *O).

    Returns (D, C/g, *K), C-contiguous: per block of samples and per group one GEMM, the blocks'
    products summed. With fewer than 256 output channels per group the GEMM gives the transposed
    gradient, (C/g·K, b·L) @ (b·L, D/g): the block's column matrix times its output gradients, read
    transposed (OpenBLAS runs this orientation up to twice as fast as dy @ cols^T when D is small), and
    the small sum is transposed at the end. With 256 or more, dy @ cols^T gives the gradient in its
    own layout: the products are 3-4% slower, but a transposed (D, C·K) view would cost more where it
    is read, in the optimiser's update (SGD's step over ResNet-18's gradients: 26 ms against 7 ms
    with all of them contiguous), and transposing 512 × 4608 values takes NumPy 5-10 ms.
    A small gradient (D·C·K/g ≤ 1024, as in a first layer) is a long sum that BLAS splits poorly as
    one thin product: it is taken per sample, cols_n @ dy_n^T, and summed. So are the thin kernels'
    (C·K < 256, D/g < 256) where the compiled kernels copy compact columns (:func:`_compiled_columns`):
    LeNet-5's training step at batch 64 took 3% less time than with its second layer's gradient as
    one product over the wide grid (at batch 256 the same). Over the flat grid each block's output
    gradients are spread onto the grid (zeros past each row's real positions) in a scratch array of
    the block's own: 6-10% faster than spreading the whole batch's first.
    """
    N, C = x.shape[:2]
    D = dy.shape[1]
    if winograd.serves_weight(x, dy, kernel, stride, pads, dilation, groups):
        return winograd.correlate_weight(x, dy, pads)
    if groups == C > 1:
        kernels = compiled.kernels("depthwise_kernels", x.dtype) if len(kernel) == 2 and x.dtype == dy.dtype else None
        if kernels is not None:  # compiled: per channel, float64 sums over the batch
            x, g = np.ascontiguousarray(x), np.ascontiguousarray(dy).reshape((N, C, D // C) + dy.shape[2:])
            dw = np.empty((C, D // C) + tuple(kernel), dtype=x.dtype)
            parallel.starmap(lambda c0, c1: kernels.depthwise_weight(x, g, pads[0][0], pads[1][0], tuple(stride),
                                                                     tuple(dilation), c0, c1, dw),
                             parallel.shares(C, x.nbytes + dy.nbytes))
            return dw.reshape((D, 1) + tuple(kernel))
        # depthwise: per kernel offset, each channel's inputs dotted with its own output gradients
        g = dy.reshape((N, C, D // C) + dy.shape[2:])
        if all(s == 1 for s in stride):  # over contiguous runs, the gradient spread on the wide grid
            flat, source, wide = flat_windows(x, pads, kernel, dilation, dy.shape[2:])  # (N, C, *K, L)
            g = to_wide_grid(dy, wide).reshape(N, C, D // C, -1)
            offsets = list(np.ndindex(*kernel))

            # a few samples at a time, so that their gradients and inputs stay in the cache for all K offsets
            def block(n0: int, n1: int) -> np.ndarray:
                return np.stack([np.einsum("ncjl,ncl->cj", g[n0:n1], source[(slice(n0, n1), slice(None)) + k]) for k in offsets])

            parts = _over_blocks(block, N, g[0].nbytes + flat[0].nbytes, budget=4 << 20)
            taps = _summed(parts, (len(offsets), C, D // C), np.result_type(x, dy))
        else:
            win = windows(pad_spatial(x, pads), kernel, stride, dilation, dy.shape[2:])
            axes = "xyz"[: len(kernel)]
            taps = [np.einsum(f"ncj{axes},nc{axes}->cj", g, win[(Ellipsis,) + k]) for k in np.ndindex(*kernel)]
        return np.stack(taps, axis=-1).reshape((D, 1) + tuple(kernel))
    dtype = np.result_type(x, dy)
    nd = len(kernel)
    out_sizes = dy.shape[2:]  # (a transposed convolution's output padding may leave windows unused)
    CK = C * math.prod(kernel)
    per_sample = _pointwise(kernel, stride, pads) or D * CK // groups <= _SMALL_GRADIENT
    thin = CK < _THIN_KERNEL and D // groups < _WIDE_GRADIENT  # (compact columns: products per sample pay)
    columns = _compiled_columns(x, dy, _compact_layout(x.shape[2:], kernel, stride, pads)) if per_sample or thin else None
    per_sample = per_sample or columns is not None
    if columns is not None:  # compact columns from the compiled kernel; the gradients as they are
        grid, view = out_sizes, columns.source
    else:
        flat, grid = _columns_grid(C, D, kernel, stride, pads, dilation, x.shape[2:], out_sizes)
        view = _column_source(x, flat, kernel, stride, pads, dilation, out_sizes)  # (N, C, *K, *grid)
    L = math.prod(grid)
    transposed = per_sample or D // groups < _WIDE_GRADIENT  # the products give (C/g·K, D/g)
    if per_sample:

        def block(n0: int, n1: int) -> np.ndarray:
            b = n1 - n0
            cols = view[n0:n1]
            if columns is not None:
                cols = columns.copy(cols, CK * L, dilation, out_sizes)
            elif not cols.flags.c_contiguous:  # (a pointwise kernel's input is its own column matrix)
                cols = _workspace.get("columns", cols.shape, dtype)
                np.copyto(cols, view[n0:n1])
            g = dy[n0:n1] if grid == out_sizes else _onto_grid("gradients", dy[n0:n1], grid, dtype)
            g = g.reshape(b, groups, D // groups, L).transpose(0, 1, 3, 2)  # (b, G, L, D/g)
            return (cols.reshape(b, groups, CK // groups, L) @ g).sum(axis=0)

    else:
        view = _samples_after_kernel(view, nd)  # (C, *K, N, *grid)
        at = (slice(None),) * (1 + nd)
        grads = dy.swapaxes(0, 1)  # (D, N, *O)

        def block(n0: int, n1: int) -> np.ndarray:
            source = view[at + (slice(n0, n1),)]
            cols = _workspace.get("columns", source.shape, dtype)
            np.copyto(cols, source)
            g = _onto_grid("gradients", grads[:, n0:n1], grid, dtype)
            cols, g = cols.reshape(groups, CK // groups, -1), g.reshape(groups, D // groups, -1)
            return cols @ g.transpose(0, 2, 1) if transposed else g @ cols.transpose(0, 2, 1)

    parts = _over_blocks(block, N, CK * L * dtype.itemsize, _budget(D * CK // groups * dtype.itemsize),
                         _product_work(CK * L * dtype.itemsize, D * CK // groups * L))
    if not transposed:
        dw = _summed(parts, (groups, D // groups, CK // groups), dtype)
        return dw.reshape((D, C // groups) + tuple(kernel))
    dw_t = _summed(parts, (groups, CK // groups, D // groups), dtype)
    return np.ascontiguousarray(dw_t.transpose(0, 2, 1)).reshape((D, C // groups) + tuple(kernel))


def _summed(parts: list[np.ndarray], shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The sum of the blocks' partial gradients (zeros of ``shape`` for an empty batch)."""
    return parallel.added(parts) if parts else np.zeros(shape, dtype=dtype)


# ==================================================================================================
# differentiable ops


class _Conv(Function):
    def forward(self, x, w, b, stride, pads, dilation, groups):
        self.x, self.w = x, w
        self.geometry = (stride, pads, dilation, groups)
        return convolve(x, w, stride, pads, dilation, groups, b)

    def backward(self, grad):
        stride, pads, dilation, groups = self.geometry
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = convolve_transpose(grad, self.w, stride, pads, dilation, groups, self.x.shape[2:])
        if self.needs_input_grad[1]:
            dw = correlate_weight(self.x, grad, self.w.shape[2:], stride, pads, dilation, groups)
        if self.needs_input_grad[2]:
            db = channel_sums(grad)
        return dx, dw, db


class _ConvTranspose(Function):
    def forward(self, x, w, b, stride, pads, dilation, groups, spatial):
        self.x, self.w = x, w
        self.geometry = (stride, pads, dilation, groups)
        out = convolve_transpose(x, w, stride, pads, dilation, groups, spatial)
        if b is not None:
            out += b.reshape((1, -1) + (1,) * (x.ndim - 2))
        return out

    def backward(self, grad):
        stride, pads, dilation, groups = self.geometry
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = convolve(grad, self.w, stride, pads, dilation, groups)
            dx = dx[(slice(None), slice(None)) + tuple(slice(0, n) for n in self.x.shape[2:])]
        if self.needs_input_grad[1]:
            dw = correlate_weight(grad, self.x, self.w.shape[2:], stride, pads, dilation, groups)
        if self.needs_input_grad[2]:
            db = channel_sums(grad)
        return dx, dw, db


# ==================================================================================================
# shape rules: validate and return the geometry, without running anything


def conv_geometry(
    op: str,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> tuple[tuple[int, ...], Pads, tuple[int, ...], tuple[int, ...]]:
    """Check a convolution's arguments; return (stride, pads, dilation, output shape).

    ``input_shape`` is batched (N, C, *S). Used by :func:`conv2d` and friends, and by tools that need
    the output shape without running the op.

    >>> conv_geometry("conv2d", (8, 3, 32, 32), (16, 3, 3, 3), 2, 1, 1, 1)[3]
    (8, 16, 16, 16)
    """
    return cached_lookup(_cached_geometry, op, input_shape, weight_shape, stride, padding, dilation, groups)


def cached_lookup(cached: Any, *args: Any) -> Any:
    """``cached(*args)`` through its ``lru_cache``: with the arguments as given (the usual case, as a
    network asks at every step), else with lists made tuples, else uncached where an argument cannot
    be a cache key (the function's own checks then say what is wrong)."""
    try:
        return cached(*args)
    except TypeError:  # a list (not a cache key), or an argument the checks reject
        pass
    try:
        return cached(*map(_hashable, args))
    except TypeError:
        return cached.__wrapped__(*args)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _conv_geometry(op, input_shape, weight_shape, stride, padding, dilation, groups):
    nd = len(input_shape) - 2
    if len(weight_shape) != nd + 2:
        raise ValueError(
            f"{op}: expected a {nd + 2}-D weight (out_channels, in_channels/groups, *kernel_size), "
            f"got weight of shape {tuple(weight_shape)}"
        )
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{op}: expected groups to be a positive int, got groups={groups!r}")
    N, C = input_shape[:2]
    OC, Cg = weight_shape[:2]
    kernel = tuple(weight_shape[2:])
    if Cg * groups != C:
        raise ValueError(
            f"{op}: given groups={groups} and weight of shape {tuple(weight_shape)}, expected input "
            f"{tuple(input_shape)} to have {Cg * groups} channels (weight.shape[1] * groups = {Cg} * {groups}), "
            f"but got {C} channels instead"
        )
    if OC % groups:
        raise ValueError(f"{op}: out_channels ({OC}, weight.shape[0]) must be divisible by groups ({groups})")
    stride = positive(ntuple(stride, nd, op, "stride"), op, "stride")
    dilation = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
    spatial = input_shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads: Pads = ((0, 0),) * nd
        elif padding == "same":
            pads = tuple(_same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, stride, dilation))
        else:
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    else:
        p = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
        pads = tuple((v, v) for v in p)
    for n, k, (b, a), d in zip(spatial, kernel, pads, dilation):
        if n + b + a < d * (k - 1) + 1:
            raise ValueError(
                f"{op}: calculated padded input size per channel {tuple(n + b + a for n, (b, a) in zip(spatial, pads))} "
                f"is smaller than the (dilated) kernel size "
                f"{tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))}; kernel size can't be greater than "
                f"the actual input size (input shape {tuple(input_shape)}, weight shape {tuple(weight_shape)})"
            )
    out = tuple(output_size(n, k, s, b, a, d) for n, k, s, (b, a), d in zip(spatial, kernel, stride, pads, dilation))
    return stride, pads, dilation, (N, OC) + out


def conv_transpose_geometry(
    op: str,
    input_shape: tuple[int, ...],
    weight_shape: tuple[int, ...],
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Check a transposed convolution's arguments; return (stride, padding, dilation, output spatial
    size), the size (n - 1)s - 2p + d(k - 1) + output_padding + 1 per axis, which the caller checks
    is positive. ``input_shape`` is batched (N, C, *S), ``weight_shape`` (C, OC/g, *K).

    >>> conv_transpose_geometry("conv_transpose2d", (1, 4, 5, 5), (4, 2, 3, 3), 2, 1, 1, 1, 1)[3]
    (10, 10)
    """
    nd = len(input_shape) - 2
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{op}: expected groups to be a positive int, got groups={groups!r}")
    C = input_shape[1]
    if weight_shape[0] != C:
        raise ValueError(
            f"{op}: given weight of shape {tuple(weight_shape)}, expected input {tuple(input_shape)} to have "
            f"{weight_shape[0]} channels (weight.shape[0]), but got {C} channels instead"
        )
    if C % groups:
        raise ValueError(f"{op}: in_channels ({C}) must be divisible by groups ({groups})")
    stride = positive(ntuple(stride, nd, op, "stride"), op, "stride")
    dilation = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
    padding = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
    output_padding = non_negative(ntuple(output_padding, nd, op, "output_padding"), op, "output_padding")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(
                f"{op}: output_padding must be smaller than either stride or dilation, got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    spatial = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip(input_shape[2:], stride, padding, dilation, weight_shape[2:], output_padding)
    )
    return stride, padding, dilation, spatial


_cached_geometry = functools.lru_cache(maxsize=4096)(_conv_geometry)  # a network asks the same few questions


def _same_padding(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """(before, after) so that the output has ceil(n/s) positions; the odd leftover goes after."""
    total = max(s * (-(-n // s) - 1) + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def _check_operands(op: str, input: Tensor, weight: Tensor, bias: Tensor | None, nd: int) -> bool:
    batched = check_spatial_input(input, nd, op)
    check_tensor(weight, op, "weight")
    if weight.data.dtype != input.data.dtype:
        raise TypeError(f"{op}: expected input and weight to have the same dtype, got {input.dtype} and {weight.dtype}")
    if bias is not None:
        check_tensor(bias, op, "bias")
    return batched


def _conv(op: str, nd: int, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    batched = _check_operands(op, input, weight, bias, nd)
    x = input if batched else input.unsqueeze(0)
    stride, pads, dilation, out_shape = conv_geometry(op, x.data.shape, weight.data.shape, stride, padding, dilation, groups)
    if bias is not None and bias.data.shape != out_shape[1:2]:
        raise ValueError(f"{op}: expected bias of shape ({weight.shape[0]},) (out_channels), got {bias.shape}")
    out = _Conv.apply(x, weight, bias, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return out if batched else out.squeeze(0)


def _conv_transpose(op: str, nd: int, input, weight, bias, stride, padding, output_padding, groups, dilation):
    batched = _check_operands(op, input, weight, bias, nd)
    x = input if batched else input.unsqueeze(0)
    if weight.ndim != nd + 2:
        raise ValueError(
            f"{op}: expected a {nd + 2}-D weight (in_channels, out_channels/groups, *kernel_size), "
            f"got weight of shape {weight.shape}"
        )
    stride, padding, dilation, spatial = conv_transpose_geometry(
        op, x.shape, weight.shape, stride, padding, output_padding, groups, dilation
    )
    if any(n <= 0 for n in spatial):
        raise ValueError(f"{op}: the output size {spatial} is too small for input of shape {input.shape}")
    OC = weight.shape[1] * groups
    if bias is not None and bias.shape != (OC,):
        raise ValueError(f"{op}: expected bias of shape ({OC},) (out_channels), got {bias.shape}")
    pads = tuple((p, p) for p in padding)
    out = _ConvTranspose.apply(
        x, weight, bias, stride=stride, pads=pads, dilation=dilation, groups=groups, spatial=spatial
    )
    return out if batched else out.squeeze(0)


# ==================================================================================================
# the public functions


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution (cross-correlation) over an input of several channels.

    Shape: input (N, C_in, L) or (C_in, L), weight (C_out, C_in/groups, K) -> (N, C_out, L_out),
    L_out = floor((L + 2p - d(K-1) - 1) / s) + 1. ``padding`` may be 'valid' or 'same'.

    >>> import cnnlab
    >>> conv1d(cnnlab.ones(1, 1, 5), cnnlab.ones(1, 1, 3)).tolist()
    [[[3.0, 3.0, 3.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation) over an input of several channels.

    Shape: input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in/groups, KH, KW)
    -> (N, C_out, H_out, W_out), H_out = floor((H + 2p - d(KH-1) - 1) / s) + 1.

    >>> import cnnlab
    >>> x = cnnlab.arange(9.0).reshape(1, 1, 3, 3)
    >>> w = cnnlab.tensor([[[[0.0, 1.0], [2.0, 3.0]]]])
    >>> conv2d(x, w).tolist()
    [[[[19.0, 25.0], [37.0, 43.0]]]]
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-D convolution (cross-correlation) over an input of several channels.

    Shape: input (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_out, C_in/groups, KD, KH, KW)
    -> (N, C_out, D_out, H_out, W_out).

    >>> import cnnlab
    >>> conv3d(cnnlab.ones(2, 4, 5, 5, 5), cnnlab.ones(6, 2, 3, 3, 3), groups=2, padding="same").shape
    (2, 6, 5, 5, 5)
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """1-D transposed convolution (the gradient of conv1d with respect to its input).

    Shape: input (N, C_in, L), weight (C_in, C_out/groups, K) -> (N, C_out, L_out),
    L_out = (L - 1)s - 2p + d(K-1) + output_padding + 1.

    >>> import cnnlab
    >>> conv_transpose1d(cnnlab.ones(1, 1, 3), cnnlab.ones(1, 1, 2), stride=2).tolist()
    [[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """2-D transposed convolution (sometimes called deconvolution).

    Shape: input (N, C_in, H, W), weight (C_in, C_out/groups, KH, KW) -> (N, C_out, H_out, W_out),
    H_out = (H - 1)s - 2p + d(KH-1) + output_padding + 1.

    >>> import cnnlab
    >>> conv_transpose2d(cnnlab.ones(1, 4, 8, 8), cnnlab.ones(4, 2, 3, 3), stride=2, padding=1, output_padding=1).shape
    (1, 2, 16, 16)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1) -> Tensor:
    """3-D transposed convolution.

    Shape: input (N, C_in, D, H, W), weight (C_in, C_out/groups, KD, KH, KW) -> (N, C_out, D_out, H_out, W_out).

    >>> import cnnlab
    >>> conv_transpose3d(cnnlab.ones(1, 2, 3, 3, 3), cnnlab.ones(2, 1, 2, 2, 2), stride=2).shape
    (1, 1, 6, 6, 6)
    """
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation)


# ==================================================================================================
# unfold and fold


class _Unfold(Function):
    def forward(self, x, kernel, stride, pads, dilation):
        self.geometry = (x.shape, kernel, stride, pads, dilation)
        return im2col(pad_spatial(x, pads), kernel, stride, dilation)

    def backward(self, grad):
        shape, kernel, stride, pads, dilation = self.geometry
        return _fold_array(grad, shape[1], shape[2:], kernel, stride, pads, dilation)


class _Fold(Function):
    def forward(self, cols, channels, spatial, kernel, stride, pads, dilation):
        self.geometry = (kernel, stride, pads, dilation)
        return _fold_array(cols, channels, spatial, kernel, stride, pads, dilation)

    def backward(self, grad):
        kernel, stride, pads, dilation = self.geometry
        return im2col(pad_spatial(grad, pads), kernel, stride, dilation)


def _fold_array(cols, channels, spatial, kernel, stride, pads, dilation) -> np.ndarray:
    N = cols.shape[0]
    padded = tuple(n + b + a for n, (b, a) in zip(spatial, pads))
    blocks = tuple(output_size(n, k, s, b, a, d) for n, k, s, (b, a), d in zip(spatial, kernel, stride, pads, dilation))
    image = col2im(cols.reshape((N, channels) + tuple(kernel) + blocks), padded, kernel, stride, dilation)
    return np.ascontiguousarray(crop(image, pads, spatial))


def _window_args(op, kernel_size, dilation, padding, stride):
    kernel = positive(ntuple(kernel_size, 2, op, "kernel_size"), op, "kernel_size")
    dilation = positive(ntuple(dilation, 2, op, "dilation"), op, "dilation")
    padding = non_negative(ntuple(padding, 2, op, "padding"), op, "padding")
    stride = positive(ntuple(stride, 2, op, "stride"), op, "stride")
    return kernel, dilation, tuple((p, p) for p in padding), stride


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks (im2col): each column is one flattened kernel window.

    Shape: input (N, C, H, W) or (C, H, W) -> (N, C·KH·KW, L), L the number of windows.

    >>> import cnnlab
    >>> unfold(cnnlab.arange(9.0).reshape(1, 1, 3, 3), 2)[0].tolist()
    [[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]
    """
    batched = check_spatial_input(input, 2, "unfold")
    x = input if batched else input.unsqueeze(0)
    kernel, dilation, pads, stride = _window_args("unfold", kernel_size, dilation, padding, stride)
    for n, k, (b, a), d, s in zip(x.shape[2:], kernel, pads, dilation, stride):
        if output_size(n, k, s, b, a, d) <= 0:
            raise ValueError(
                f"unfold: the kernel {kernel} (dilation {dilation}) does not fit the padded input "
                f"{tuple(n + b + a for n, (b, a) in zip(x.shape[2:], pads))} of input shape {input.shape}"
            )
    out = _Unfold.apply(x, kernel=kernel, stride=stride, pads=pads, dilation=dilation)
    return out if batched else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding local blocks into an image (col2im), summing where blocks overlap.

    Shape: input (N, C·KH·KW, L) or (C·KH·KW, L) -> (N, C, *output_size).

    >>> import cnnlab
    >>> fold(cnnlab.ones(1, 4, 4), (3, 3), 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    check_tensor(input, "fold", "input")
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D (unbatched) or 3-D (batched) input, got shape {input.shape}")
    batched = input.ndim == 3
    cols = input if batched else input.unsqueeze(0)
    spatial = positive(ntuple(output_size, 2, "fold", "output_size"), "fold", "output_size")
    kernel, dilation, pads, stride = _window_args("fold", kernel_size, dilation, padding, stride)
    K = math.prod(kernel)
    if cols.shape[1] % K:
        raise ValueError(
            f"fold: expected size of input's dimension 1 ({cols.shape[1]}) to be divisible by the product of "
            f"kernel_size ({K})"
        )
    blocks = [_output_blocks(n, k, s, b, a, d) for n, k, s, (b, a), d in zip(spatial, kernel, stride, pads, dilation)]
    if cols.shape[2] != math.prod(blocks):
        raise ValueError(
            f"fold: given output_size={spatial}, kernel_size={kernel}, dilation={dilation}, padding="
            f"{tuple(b for b, _ in pads)}, stride={stride}, expected size of input's dimension 2 to match the "
            f"calculated number of sliding blocks {' * '.join(map(str, blocks))} = {math.prod(blocks)}, "
            f"but got {cols.shape[2]}"
        )
    out = _Fold.apply(
        cols, channels=cols.shape[1] // K, spatial=spatial, kernel=kernel, stride=stride, pads=pads, dilation=dilation
    )
    return out if batched else out.squeeze(0)


def _output_blocks(n, k, s, b, a, d) -> int:
    return max(output_size(n, k, s, b, a, d), 0)


# the Winograd path for 3×3 stride-1 layers: imported last, as it builds on the helpers above
from . import winograd
