"""2-D max pooling's two loops, compiled by Numba (reached through :mod:`cnnlab.compiled`, never
imported where Numba is not installed).

In NumPy, max pooling makes passes over memory per kernel offset: one for the running maximum and two
more for the running winner (:func:`cnnlab.nn.functional.pool._max_over`). Here each window is read
once, with its maximum and winner held in registers, and the gradient goes back in one pass. Both
kernels release the GIL, so :mod:`cnnlab.parallel`'s threads run them side by side on their own rows.

The window's size and stride are constants of the compiled code: with them known, the compiler
unrolls the window and vectorises over the outputs of a row, three times faster than the same loop
over sizes read at run time (measured: 2×2, stride 2, on 4096 rows of 28×28: 1.3 ms against 3.9 ms).
So the kernels serve the undilated square windows in :data:`SHAPES`, the pools of nearly every CNN;
any other pool takes the NumPy path. The rules are PyTorch's, as in the NumPy path: the first offset
holding the maximum wins; a window holding NaN gives NaN, and its last NaN wins.
"""

from __future__ import annotations

import math

from numba import njit

SHAPES = ((2, 2), (3, 2), (3, 1))  # (kernel, stride) pairs with a compiled kernel


@njit(inline="always")
def _forward(x, k, s, out, winner):  # pragma: no cover - compiled
    M, Oh, Ow = out.shape
    for m in range(M):
        for i in range(Oh):
            o, wn = out[m, i], winner[m, i]
            for j in range(Ow):
                best = x[m, i * s, j * s]
                win = 0
                for a in range(k):
                    for b in range(k):
                        v = x[m, i * s + a, j * s + b]
                        if v > best or math.isnan(v):
                            best = v
                            win = a * k + b
                o[j] = best
                wn[j] = win


@njit(cache=True, nogil=True)
def max_pool_forward(x, k, s, out, winner):  # pragma: no cover - compiled
    """out[m, i, j] = the maximum of window (i, j) of x[m] (M, H, W), k×k with stride s, and
    winner[m, i, j] its row-major offset in the window; (k, s) one of :data:`SHAPES`."""
    if k == 2 and s == 2:
        _forward(x, 2, 2, out, winner)
    elif k == 3 and s == 2:
        _forward(x, 3, 2, out, winner)
    elif k == 3 and s == 1:
        _forward(x, 3, 1, out, winner)
    else:
        raise ValueError("max_pool_forward: no compiled kernel for this window")


@njit(inline="always")
def _backward(grad, winner, k, s, g):  # pragma: no cover - compiled
    M, Oh, Ow = grad.shape
    zero = g.dtype.type(0)
    if k == s:  # windows side by side: every element is in at most one, written once
        for m in range(M):
            for i in range(Oh):
                for a in range(k):
                    row = g[m, i * k + a]
                    gr, wn = grad[m, i], winner[m, i]
                    for j in range(Ow):
                        for b in range(k):
                            row[j * k + b] = gr[j] if wn[j] == a * k + b else zero
            g[m, Oh * k:] = 0  # the rim no window reached
            g[m, : Oh * k, Ow * k:] = 0
    else:  # overlapping windows may share a winner: their gradients add up
        for m in range(M):
            g[m] = 0
            for i in range(Oh):
                for j in range(Ow):
                    a, b = divmod(winner[m, i, j], k)
                    g[m, i * s + a, j * s + b] += grad[m, i, j]


@njit(cache=True, nogil=True)
def max_pool_backward(grad, winner, k, s, g):  # pragma: no cover - compiled
    """g[m] (M, H, W) = each output's gradient at its window's winner, zero elsewhere."""
    if k == 2 and s == 2:
        _backward(grad, winner, 2, 2, g)
    elif k == 3 and s == 2:
        _backward(grad, winner, 3, 2, g)
    elif k == 3 and s == 1:
        _backward(grad, winner, 3, 1, g)
    else:
        raise ValueError("max_pool_backward: no compiled kernel for this window")
