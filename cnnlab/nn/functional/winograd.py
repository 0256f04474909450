"""Winograd's F(2×2, 3×3): 3×3 convolutions with stride 1 in 2.25 times fewer multiplications.

A 2×2 tile of outputs needs 36 multiplications per input and output channel pair directly; Winograd's
algorithm gets it from a 4×4 tile of the input in 16, as Aᵀ·[(G·w·Gᵀ) ⊙ (Bᵀ·d·B)]·A (Lavin & Gray,
"Fast Algorithms for Convolutional Neural Networks", 2016). Summed over the input channels, the
products are 16 matrix products, one per position in the tile:

    M[ξ] = U[ξ] · V[ξ]     U = G·w·Gᵀ (16, OC, C),  V = Bᵀ·d·B (16, C, tiles)

and the outputs are Aᵀ·M·A per tile. The tile transforms are additions only and run compiled
(:mod:`.winograd_kernels`), a block of samples at a time so that V and M stay in the cache; the
matrix products are BLAS's. Both gradients are Winograd convolutions too: the input gradient is the
same algorithm with the kernel flipped and its channels swapped, and the weight gradient sums
(A·dy·Aᵀ) ⊙ V over the tiles (16 products again) and takes it back through G: dw = Gᵀ·dU·G.

Measured on this project's machine, one thread, against the im2col path: the forward of
128×32×28×28 → 32 takes 18 ms instead of 30, of 128×64×14×14 → 64 14 ms instead of 27. The
algorithm's rounding differs from the direct sum's: about 1e-6 of the outputs' magnitude in float32.

It serves the convolutions :func:`serves` accepts (2-D, 3×3, stride and dilation 1, one group, at
least 16 channels in and out, padding up to 2), when the compiled kernels are on; every other
convolution, and all of them on NumPy alone, take the im2col path of :mod:`.conv`.
"""

from __future__ import annotations

import numpy as np

from ... import compiled, parallel
from .conv import Pads, _over_blocks, _workspace

_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])  # the kernel transform
_MIN_CHANNELS = 16  # fewer channels make the 16 products too thin for BLAS
# outputs per channel (of the wider side) below which the products, short rows of tiles against the
# whole transformed kernel, lose to im2col: measured forward and both gradients at batch 32 against the
# im2col path, 128 channels on 16×16 took 0.86 of its time, 256 on 8×8 1.8 times, 512 on 4×4 6 times
_AREA_PER_CHANNEL = 2
_BLOCK_BYTES = 2 << 20  # the transformed tiles of a block of samples (V and M): 1-4 MB ran fastest
_PAD = 16  # elements after each of the 16 planes, so that they are not a multiple of 4 kB apart


def serves(x: np.ndarray, w: np.ndarray, stride, pads: Pads, dilation, groups: int) -> bool:
    """Whether the Winograd path takes the convolution of ``x`` by ``w``."""
    return (w.shape[2:] == (3, 3) and len(pads) == 2  # (the common refusals first: this runs at every call)
            and _fits(x.shape[1], w.shape[0], stride, pads, dilation, groups, _forward_sizes(x.shape[2:], pads),
                      x.dtype, w.dtype))


def serves_transpose(y: np.ndarray, w: np.ndarray, stride, pads: Pads, dilation, groups: int, spatial) -> bool:
    """Whether it takes the transposed convolution of ``y`` by ``w`` (a convolution's input gradient)
    to ``spatial``: with stride 1 there is no output padding, and ``spatial`` is the input's own size."""
    return (w.shape[2:] == (3, 3) and len(pads) == 2
            and _fits(w.shape[1], y.shape[1], stride, pads, dilation, groups, y.shape[2:], y.dtype, w.dtype)
            and tuple(y.shape[2:]) == _forward_sizes(spatial, pads))


def serves_weight(x: np.ndarray, dy: np.ndarray, kernel, stride, pads: Pads, dilation, groups: int) -> bool:
    """Whether it takes the weight gradient of the convolution of ``x`` whose output gradient is ``dy``."""
    return (tuple(kernel) == (3, 3) and len(pads) == 2
            and _fits(x.shape[1], dy.shape[1], stride, pads, dilation, groups, dy.shape[2:], x.dtype, dy.dtype)
            and tuple(dy.shape[2:]) == _forward_sizes(x.shape[2:], pads))


def _fits(channels: int, out_channels: int, stride, pads: Pads, dilation, groups: int, out_sizes, *dtypes) -> bool:
    """The rest of what the three ``serves`` ask of a 3×3 convolution (its kernel checked first)."""
    return (tuple(stride) == (1, 1) and tuple(dilation) == (1, 1) and groups == 1
            and channels >= _MIN_CHANNELS and out_channels >= _MIN_CHANNELS
            and out_sizes[0] * out_sizes[1] >= _AREA_PER_CHANNEL * max(channels, out_channels)
            and all(0 <= p <= 2 for side in pads for p in side)
            and len(set(dtypes)) == 1 and compiled.kernels("winograd_kernels", dtypes[0]) is not None)


def _forward_sizes(spatial, pads: Pads) -> tuple[int, ...]:
    """The output sizes of a 3×3 convolution with stride 1 over ``spatial`` with ``pads``."""
    return tuple(n + before + after - 2 for n, (before, after) in zip(spatial, pads))


def convolve(x: np.ndarray, w: np.ndarray, pads: Pads, bias: np.ndarray | None = None) -> np.ndarray:
    """(N, C, H, W) * (OC, C, 3, 3) with ``pads`` ((top, bottom), (left, right)), plus ``bias``."""
    return _convolve(x, _kernel_transform(w), pads, bias)


def convolve_transpose(y: np.ndarray, w: np.ndarray, pads: Pads, spatial) -> np.ndarray:
    """The input gradient of :func:`convolve` (its adjoint): ``y`` (N, OC, Ho, Wo) -> (N, C, *spatial).

    Padding y by 2 - p on each side and convolving with the flipped kernel, channels swapped, gives
    the gradient over the padded input; the sides 2 - p keep only its own positions.
    """
    full = tuple((2 - before, n - o + before) for (before, _), n, o in zip(pads, spatial, y.shape[2:]))
    flipped = w[:, :, ::-1, ::-1].swapaxes(0, 1)  # (C, OC, 3, 3)
    return _convolve(y, _kernel_transform(flipped), full, None)


def correlate_weight(x: np.ndarray, dy: np.ndarray, pads: Pads) -> np.ndarray:
    """The weight gradient (OC, C, 3, 3) of :func:`convolve`, from its input and output gradient:
    Σ over tiles of (A·dy·Aᵀ) ⊙ (Bᵀ·d·B) per channel pair, as 16 products, then Gᵀ·dU·G."""
    kernels = compiled.kernels("winograd_kernels", x.dtype)
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    N, C = x.shape[:2]
    OC = dy.shape[1]
    tiles = _tiles(dy.shape[2:])
    count = tiles[0] * tiles[1]

    def block(n0: int, n1: int) -> np.ndarray:
        V = _input_planes(kernels, x[n0:n1], pads, tiles)
        D = _planes("winograd products", OC, (n1 - n0) * count, x.dtype)
        kernels.gradient_transform(dy[n0:n1], *tiles, D)
        return np.matmul(D, V.swapaxes(1, 2))  # (16, OC, C)

    parts = _over_blocks(block, N, 16 * (C + OC) * count * x.dtype.itemsize, _BLOCK_BYTES)
    dU = parallel.added(parts).reshape(4, 4, OC, C)
    return np.einsum("ia,ijoc,jb->ocab", _G, dU, _G).astype(x.dtype, copy=False)


def _convolve(x: np.ndarray, U: np.ndarray, pads: Pads, bias: np.ndarray | None) -> np.ndarray:
    """The convolution of ``x`` with the transformed kernel ``U`` (16, OC, C)."""
    kernels = compiled.kernels("winograd_kernels", x.dtype)
    x = np.ascontiguousarray(x)
    N, C = x.shape[:2]
    OC = U.shape[1]
    out_sizes = _forward_sizes(x.shape[2:], pads)
    tiles = _tiles(out_sizes)
    count = tiles[0] * tiles[1]
    out = np.empty((N, OC) + out_sizes, dtype=x.dtype)
    shift = np.empty(0, dtype=x.dtype) if bias is None else bias.astype(x.dtype, copy=False)

    def block(n0: int, n1: int) -> None:
        V = _input_planes(kernels, x[n0:n1], pads, tiles)
        M = _planes("winograd products", OC, (n1 - n0) * count, x.dtype)
        np.matmul(U, V, out=M)
        kernels.output_transform(M, *tiles, shift, out[n0:n1])

    _over_blocks(block, N, 16 * (C + OC) * count * x.dtype.itemsize, _BLOCK_BYTES)
    return out


def _tiles(out_sizes) -> tuple[int, int]:
    """2×2 output tiles per column and per row (the last one cut short where a size is odd)."""
    return (out_sizes[0] + 1) // 2, (out_sizes[1] + 1) // 2


def _input_planes(kernels, x: np.ndarray, pads: Pads, tiles: tuple[int, int]) -> np.ndarray:
    """V = Bᵀ·d·B for every tile of a block of samples (16, C, b·tiles), in this thread's scratch."""
    V = _planes("winograd input", x.shape[1], len(x) * tiles[0] * tiles[1], x.dtype)
    kernels.input_transform(_padded(x, pads, tiles), *tiles, V)
    return V


def _padded(x: np.ndarray, pads: Pads, tiles: tuple[int, int]) -> np.ndarray:
    """A block of samples with its padding, and zeros below and to the right up to the last tile's
    edge (2·tiles + 2), in a scratch array of this thread's."""
    (top, _), (left, _) = pads
    b, C, H, W = x.shape
    out = _workspace.get("winograd padded", (b, C, 2 * tiles[0] + 2, 2 * tiles[1] + 2), x.dtype)
    out[:, :, :top] = 0
    out[:, :, top + H:] = 0
    out[:, :, top:top + H, :left] = 0
    out[:, :, top:top + H, left + W:] = 0
    out[:, :, top:top + H, left:left + W] = x
    return out


def _planes(name: str, channels: int, tiles: int, dtype: np.dtype) -> np.ndarray:
    """(16, channels, tiles), a scratch array whose planes lie ``_PAD`` elements further apart than
    their size (16 planes exactly 64 kB apart, as for 64 channels of 256 tiles, fall on the same
    cache sets: the transforms ran 9 times slower)."""
    size = channels * tiles
    flat = _workspace.get(name, (16, size + _PAD), dtype)
    return flat[:, :size].reshape(16, channels, tiles)


def _kernel_transform(w: np.ndarray) -> np.ndarray:
    """U = G·w·Gᵀ as 16 planes (16, OC, C), in float64 and then rounded to w's dtype."""
    OC, C = w.shape[:2]
    U = np.einsum("ik,ockl,jl->ijoc", _G, w.astype(np.float64), _G)
    return np.ascontiguousarray(U.reshape(16, OC, C), dtype=w.dtype)
