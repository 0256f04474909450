"""Training-mode batch norm, compiled by Numba (reached through :mod:`cnnlab.compiled`, never
imported where Numba is not installed).

The NumPy path (:class:`cnnlab.nn.functional.norm._BatchNorm`) makes one pass over the activations
per NumPy call: six in the forward (sum, centre, sum of squares, scale, shift) and six in the
backward. Here each channel is done whole before the next: its statistics, then its outputs (or its
gradient sums, then its input gradient). A channel of a batch is a few hundred kB, so the second
pass reads it from the cache, not from memory. cnnlab's threads take a share of the channels each.

The sums run over float64 accumulators, summed in whatever order vectorises (``reassoc``: the
order changes, the values do not lose precision); the elementwise arithmetic is the NumPy path's,
operation for operation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(fastmath={"reassoc"}, nogil=True, cache=True)
def _sum(x, c):  # pragma: no cover - compiled
    """Σ x[:, c, :] in float64."""
    s = 0.0
    for n in range(x.shape[0]):
        for i in range(x.shape[2]):
            s += x[n, c, i]
    return s


@njit(fastmath={"reassoc"}, nogil=True, cache=True)
def _centred_dot(a, x, c, m):  # pragma: no cover - compiled
    """Σ a[:, c, :]·(x[:, c, :] - m) in float64, the difference taken in x's dtype."""
    s = 0.0
    for n in range(x.shape[0]):
        for i in range(x.shape[2]):
            s += a[n, c, i] * (x[n, c, i] - m)
    return s


@njit(cache=True, nogil=True)
def batch_norm_forward(x, weight, bias, eps, c0, c1, out, mean, var, inv_std):  # pragma: no cover - compiled
    """For channels c0:c1 of x (N, C, L): mean, biased var and 1/sqrt(var + eps) (``eps`` of x's
    dtype) into (C,) arrays of x's dtype, and out = (x - mean)·scale + bias, scale = weight/σ (1/σ without weight; no bias
    without one: ``weight``/``bias`` of size 0)."""
    count = x.shape[0] * x.shape[2]
    for c in range(c0, c1):
        m = x.dtype.type(_sum(x, c) / count)
        v = x.dtype.type(_centred_dot(x, x, c, m) / count)
        inv = x.dtype.type(1) / np.sqrt(v + eps)
        scale = inv if weight.size == 0 else weight[c] * inv
        mean[c], var[c], inv_std[c] = m, v, inv
        for n in range(x.shape[0]):
            o, xs = out[n, c], x[n, c]
            if bias.size == 0:
                for i in range(x.shape[2]):
                    o[i] = (xs[i] - m) * scale
            else:
                b = bias[c]
                for i in range(x.shape[2]):
                    o[i] = (xs[i] - m) * scale + b


@njit(cache=True, nogil=True)
def batch_norm_backward(g, x, mean, inv_std, scale, c0, c1, sum_g, sum_g_xhat, dx):  # pragma: no cover - compiled
    """For channels c0:c1: Σg and Σg·x̂ into (C,) arrays, and, where ``dx`` has any elements,
    dx = (x - μ)·b - c + g·a with a = scale, b = -a·Σg·x̂/(σ·count), c = a·Σg/count."""
    count = x.dtype.type(x.shape[0] * x.shape[2])
    for c in range(c0, c1):
        m, inv = mean[c], inv_std[c]
        sg = x.dtype.type(_sum(g, c))
        sgx = x.dtype.type(_centred_dot(g, x, c, m)) * inv
        sum_g[c], sum_g_xhat[c] = sg, sgx
        if dx.size == 0:
            continue
        a = scale[c]
        b = -a * inv * sgx / count
        k = a * sg / count
        for n in range(x.shape[0]):
            d, xs, gs = dx[n, c], x[n, c], g[n, c]
            for i in range(x.shape[2]):
                d[i] = (xs[i] - m) * b - k + gs[i] * a
