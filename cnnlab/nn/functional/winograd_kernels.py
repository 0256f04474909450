"""The tile transforms of Winograd's F(2×2, 3×3), compiled by Numba (reached through
:mod:`cnnlab.compiled`; the convolution around them is :mod:`cnnlab.nn.functional.winograd`).

Each 4×4 tile of the input becomes Bᵀ·d·B, each 4×4 tile of products becomes the 2×2 outputs Aᵀ·m·A,
and each 2×2 tile of output gradients becomes A·g·Aᵀ, with

    Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]

(entries 0 and ±1: additions only). The 16 values of a tile go to 16 planes, one per position ξ
in the tile, so that the products are 16 matrix products, one per plane. Tiles are numbered
(sample, tile row, tile column) within a block of samples.

Each loop does one tile at a time, its 16 values in registers, written to the 16 planes: 16
streams, each contiguous in the tile number. (Written a row of tiles at a time, a plane after the
other, the input transform took two to three times as long; the planes must not lie a multiple of
4 kB apart, see ``winograd._planes``.)
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def input_transform(x, tiles_h, tiles_w, V):  # pragma: no cover - compiled
    """V[ξ, c, t] = (Bᵀ·d·B)[ξ] for the 4×4 tile d of x (b, C, H, W) at (2·i, 2·j), tile t = (n, i, j);
    x is padded so that every tile lies inside it (H, W ≥ 2·tiles + 2)."""
    b, C = x.shape[0], x.shape[1]
    for n in range(b):
        for c in range(C):
            for i in range(tiles_h):
                r0, r1, r2, r3 = x[n, c, 2 * i], x[n, c, 2 * i + 1], x[n, c, 2 * i + 2], x[n, c, 2 * i + 3]
                first = (n * tiles_h + i) * tiles_w
                for j in range(tiles_w):
                    k, t = 2 * j, first + j
                    # Bᵀ·d: rows 0-2, 1+2, 2-1, 1-3 of the tile (a, b, c, d), then the same on the columns
                    a0, a1, a2, a3 = r0[k] - r2[k], r0[k + 1] - r2[k + 1], r0[k + 2] - r2[k + 2], r0[k + 3] - r2[k + 3]
                    b0, b1, b2, b3 = r1[k] + r2[k], r1[k + 1] + r2[k + 1], r1[k + 2] + r2[k + 2], r1[k + 3] + r2[k + 3]
                    c0, c1, c2, c3 = r2[k] - r1[k], r2[k + 1] - r1[k + 1], r2[k + 2] - r1[k + 2], r2[k + 3] - r1[k + 3]
                    d0, d1, d2, d3 = r1[k] - r3[k], r1[k + 1] - r3[k + 1], r1[k + 2] - r3[k + 2], r1[k + 3] - r3[k + 3]
                    V[0, c, t], V[1, c, t], V[2, c, t], V[3, c, t] = a0 - a2, a1 + a2, a2 - a1, a1 - a3
                    V[4, c, t], V[5, c, t], V[6, c, t], V[7, c, t] = b0 - b2, b1 + b2, b2 - b1, b1 - b3
                    V[8, c, t], V[9, c, t], V[10, c, t], V[11, c, t] = c0 - c2, c1 + c2, c2 - c1, c1 - c3
                    V[12, c, t], V[13, c, t], V[14, c, t], V[15, c, t] = d0 - d2, d1 + d2, d2 - d1, d1 - d3


@njit(cache=True, nogil=True)
def output_transform(M, tiles_h, tiles_w, bias, y):  # pragma: no cover - compiled
    """y[n, c, 2i:2i+2, 2j:2j+2] = Aᵀ·m·A (+ bias[c], if ``bias`` has any elements) for the 4×4 tile
    m = M[:, c, t] of tile t = (n, i, j); the last row or column of a tile is left out where y ends."""
    b, C, H, W = y.shape
    for n in range(b):
        for c in range(C):
            shift = bias[c] if bias.size else y.dtype.type(0)
            for i in range(tiles_h):
                first = (n * tiles_h + i) * tiles_w
                h = 2 * i
                for j in range(tiles_w):
                    t, w = first + j, 2 * j
                    # Aᵀ·m: rows 0+1+2 (s) and 1-2-3 (e) of the tile, then the same on the columns
                    s0 = M[0, c, t] + M[4, c, t] + M[8, c, t]
                    s1 = M[1, c, t] + M[5, c, t] + M[9, c, t]
                    s2 = M[2, c, t] + M[6, c, t] + M[10, c, t]
                    s3 = M[3, c, t] + M[7, c, t] + M[11, c, t]
                    e0 = M[4, c, t] - M[8, c, t] - M[12, c, t]
                    e1 = M[5, c, t] - M[9, c, t] - M[13, c, t]
                    e2 = M[6, c, t] - M[10, c, t] - M[14, c, t]
                    e3 = M[7, c, t] - M[11, c, t] - M[15, c, t]
                    y[n, c, h, w] = s0 + s1 + s2 + shift
                    if w + 1 < W:
                        y[n, c, h, w + 1] = s1 - s2 - s3 + shift
                    if h + 1 < H:
                        y[n, c, h + 1, w] = e0 + e1 + e2 + shift
                        if w + 1 < W:
                            y[n, c, h + 1, w + 1] = e1 - e2 - e3 + shift


@njit(cache=True, nogil=True)
def gradient_transform(g, tiles_h, tiles_w, D):  # pragma: no cover - compiled
    """D[ξ, c, t] = (A·g·Aᵀ)[ξ] for the 2×2 tile of output gradients g (b, C, H, W) at (2·i, 2·j),
    zeros standing in past g's last row or column: the gradient of the products M."""
    b, C, H, W = g.shape
    zero = g.dtype.type(0)
    for n in range(b):
        for c in range(C):
            for i in range(tiles_h):
                first = (n * tiles_h + i) * tiles_w
                h = 2 * i
                for j in range(tiles_w):
                    t, w = first + j, 2 * j
                    p = g[n, c, h, w]
                    q = g[n, c, h, w + 1] if w + 1 < W else zero
                    r = g[n, c, h + 1, w] if h + 1 < H else zero
                    s = g[n, c, h + 1, w + 1] if h + 1 < H and w + 1 < W else zero
                    # A·g: rows (p, q), (p + r, q + s), (p - r, q - s), (-r, -s); ·Aᵀ takes each row
                    # (u, v) to (u, u + v, u - v, -v)
                    u1, v1, u2, v2 = p + r, q + s, p - r, q - s
                    D[0, c, t], D[1, c, t], D[2, c, t], D[3, c, t] = p, p + q, p - q, -q
                    D[4, c, t], D[5, c, t], D[6, c, t], D[7, c, t] = u1, u1 + v1, u1 - v1, -v1
                    D[8, c, t], D[9, c, t], D[10, c, t], D[11, c, t] = u2, u2 + v2, u2 - v2, -v2
                    D[12, c, t], D[13, c, t], D[14, c, t], D[15, c, t] = -r, -r - s, s - r, s
