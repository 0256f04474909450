"""The column matrix of a stride-1 2-D convolution, compiled by Numba (reached through
:mod:`cnnlab.compiled`, never imported where Numba is not installed).

NumPy copies a window's rows one strided slice at a time, and a row of a small layer is short (10
values in LeNet-5's second layer), so the copy costs more per row than per value; that is why
``conv.flat_windows`` copies the longer runs of a wide grid, whose extra positions the products
then compute and throw away. Here each row is copied as a block of 16 values (one vector load and
store), so the columns come out compact, over the outputs themselves: LeNet-5's second layer at
batch 32, one thread, 0.066 ms for the wide grid's runs and 0.049 for compact columns, whose
product is 29% smaller and lands in place. A block runs on past its row into the next one, which is
written after it and overwrites the overrun; the last row's overrun lands in 16 spare columns.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SPARE = 16  # values past the end of each sample's columns and each padded image that a copy may touch


@njit(cache=True, nogil=True, inline="always")
def _copy16(source, s, out, t):  # pragma: no cover - compiled
    """out[t : t + 16] = source[s : s + 16], as 16 loads and then 16 stores, which LLVM joins into one
    vector load and store (a loop is left scalar: source and out might overlap). Unsigned indices: no
    check for negative ones."""
    a0 = source[np.uintp(s)]
    a1 = source[np.uintp(s + 1)]
    a2 = source[np.uintp(s + 2)]
    a3 = source[np.uintp(s + 3)]
    a4 = source[np.uintp(s + 4)]
    a5 = source[np.uintp(s + 5)]
    a6 = source[np.uintp(s + 6)]
    a7 = source[np.uintp(s + 7)]
    a8 = source[np.uintp(s + 8)]
    a9 = source[np.uintp(s + 9)]
    a10 = source[np.uintp(s + 10)]
    a11 = source[np.uintp(s + 11)]
    a12 = source[np.uintp(s + 12)]
    a13 = source[np.uintp(s + 13)]
    a14 = source[np.uintp(s + 14)]
    a15 = source[np.uintp(s + 15)]
    out[np.uintp(t)] = a0
    out[np.uintp(t + 1)] = a1
    out[np.uintp(t + 2)] = a2
    out[np.uintp(t + 3)] = a3
    out[np.uintp(t + 4)] = a4
    out[np.uintp(t + 5)] = a5
    out[np.uintp(t + 6)] = a6
    out[np.uintp(t + 7)] = a7
    out[np.uintp(t + 8)] = a8
    out[np.uintp(t + 9)] = a9
    out[np.uintp(t + 10)] = a10
    out[np.uintp(t + 11)] = a11
    out[np.uintp(t + 12)] = a12
    out[np.uintp(t + 13)] = a13
    out[np.uintp(t + 14)] = a14
    out[np.uintp(t + 15)] = a15


@njit(cache=True, nogil=True)
def columns(padded, width, kernel, dilation, out_sizes, cols):  # pragma: no cover - compiled
    """cols[n, : C·kh·kw·OH·OW] (b, C·kh·kw·OH·OW + SPARE) = sample n's column matrix (C·kh·kw, OH·OW),
    from padded (b, C, P + SPARE): each padded image (P values, rows of ``width``) flattened, SPARE
    values after it. Row (c, i, j) holds the input at kernel offset (i·dh, j·dw) of every window."""
    b, C = padded.shape[0], padded.shape[1]
    kh, kw = kernel
    dh, dw = dilation
    OH, OW = out_sizes
    for n in range(b):
        out = cols[n]
        at = 0
        for c in range(C):
            image = padded[n, c]
            for i in range(kh):
                for j in range(kw):
                    for oh in range(OH):
                        start = (oh + i * dh) * width + j * dw
                        for p in range(0, OW, 16):
                            _copy16(image, start + p, out, at + p)
                        at += OW
