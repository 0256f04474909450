"""2-D depthwise convolution (groups = channels), compiled by Numba (reached through
:mod:`cnnlab.compiled`; the NumPy path is ``conv._convolve_depthwise``).

Each channel meets only its own few filters, so there is no matrix product to hand to BLAS: the
NumPy path makes two passes over the output per kernel offset (a product, then its sum), nine for a
3×3 kernel. Here each output row is summed in one loop over the kernel, the row in registers and
the cache; the padding is never copied (rows and columns outside the input are skipped, as they add
nothing). Indices that could be negative as far as the compiler knows are cast to ``np.uintp``:
Numba then drops its check for negative indices, which otherwise keeps the inner loops from being
vectorised (the forward took 45 ms instead of 12 on 64×32×56×56 on one thread). The weight gradient sums, per channel and kernel offset, the products of the output
gradients with the input they met, over float64 accumulators (in whatever order vectorises).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always")
def _columns(kw, dilation, left, stride, W, Wo):  # pragma: no cover - compiled
    """For each kernel column b: the shift from output column o to its input column (o·stride +
    shift), and the outputs lo:hi whose input column lies inside the row (the others meet padding).
    Worked out once per call, not per output row."""
    shift, lo, hi = np.empty(kw, np.intp), np.empty(kw, np.intp), np.empty(kw, np.intp)
    for b in range(kw):
        shift[b] = b * dilation - left
        lo[b] = max(0, (-shift[b] + stride - 1) // stride)
        hi[b] = min(Wo, (W - 1 - shift[b]) // stride + 1)
    return shift, lo, hi


@njit(cache=True, nogil=True)
def depthwise_forward(x, w, bias, top, left, stride, dilation, out):  # pragma: no cover - compiled
    """out[n, c, j] (N, C, m, Ho, Wo) = the correlation of x[n, c] (N, C, H, W), padded by ``top``
    and ``left`` (and as far as the windows reach on the other sides), with w[c, j] (C, m, kh, kw),
    plus bias[c·m + j] if ``bias`` has any elements (added last, as the NumPy path does)."""
    N, C, m, Ho, Wo = out.shape
    H, W = x.shape[2], x.shape[3]
    kh, kw = w.shape[2], w.shape[3]
    sh, sw = stride
    dh, dw = dilation
    shifts, los, his = _columns(kw, dw, left, sw, W, Wo)
    for n in range(N):
        for c in range(C):
            for j in range(m):
                for h in range(Ho):
                    for o in range(Wo):
                        out[n, c, j, h, np.uintp(o)] = 0
                    for a in range(kh):
                        r = h * sh + a * dh - top
                        if r < 0 or r >= H:
                            continue
                        for b in range(kw):
                            shift, lo, hi = shifts[b], los[b], his[b]
                            tap = w[c, j, a, b]
                            if sw == 1:  # (contiguous: the loop the compiler vectorises)
                                for o in range(lo, hi):
                                    out[n, c, j, h, np.uintp(o)] += tap * x[n, c, r, np.uintp(o + shift)]
                            else:
                                for o in range(lo, hi):
                                    out[n, c, j, h, o] += tap * x[n, c, r, o * sw + shift]
                    if bias.size:
                        shift = bias[c * m + j]
                        for o in range(Wo):
                            out[n, c, j, h, np.uintp(o)] += shift


@njit(cache=True, nogil=True)
def depthwise_weight(x, dy, top, left, stride, dilation, c0, c1, dw_out):  # pragma: no cover - compiled
    """dw_out[c, j, a, b] (C, m, kh, kw), for channels c0:c1: Σ over samples and outputs of
    dy[n, c, j] (N, C, m, Ho, Wo) times the input each met at offset (a, b). Each offset keeps a row
    of float64 sums, one per output column, added up at the end."""
    N, _, m, Ho, Wo = dy.shape
    H, W = x.shape[2], x.shape[3]
    kh, kw = dw_out.shape[2], dw_out.shape[3]
    sh, sw = stride
    dh, dw = dilation
    shifts, los, his = _columns(kw, dw, left, sw, W, Wo)
    sums = np.empty((kh, kw, Wo), dtype=np.float64)
    for c in range(c0, c1):
        for j in range(m):
            sums[:] = 0
            for n in range(N):
                for h in range(Ho):
                    for a in range(kh):
                        r = h * sh + a * dh - top
                        if r < 0 or r >= H:
                            continue
                        for b in range(kw):
                            shift, lo, hi = shifts[b], los[b], his[b]
                            if sw == 1:
                                for o in range(lo, hi):
                                    sums[a, b, np.uintp(o)] += dy[n, c, j, h, np.uintp(o)] * x[n, c, r, np.uintp(o + shift)]
                            else:
                                for o in range(lo, hi):
                                    sums[a, b, o] += dy[n, c, j, h, o] * x[n, c, r, o * sw + shift]
            for a in range(kh):
                for b in range(kw):
                    dw_out[c, j, a, b] = sums[a, b].sum()
