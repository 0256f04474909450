"""ReLU and its gradient, compiled by Numba (reached through :mod:`cnnlab.compiled`, never imported
where Numba is not installed).

The forward is one pass: 29 µs on LeNet-5's first activations at batch 64 (64×6×28×28), where
NumPy takes 44 against runs of zeros (``activation._at_least_zero``) and 113 against the scalar 0.

In NumPy the gradient takes four passes: the mask ``out != 0``, the product with it, and a check
for infinities (Inf·0 would make NaN where PyTorch gives 0). Here it is one pass that selects
instead of multiplying, so the infinities need no check. LeNet-5's ReLU gradients at batch 64:
0.39 -> 0.21 ms per step; ReLU forward and backward on 128×32×28×28: 4.9 -> 3.0 ms.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def relu(x, out):  # pragma: no cover - compiled
    """out = max(x, 0) for flat arrays, bit for bit as ``np.maximum(x, 0)``: NaN stays NaN, -0 gives 0."""
    zero = out.dtype.type(0)
    for i in range(out.size):
        v = x[i]
        out[i] = v if v > zero or np.isnan(v) else zero


@njit(cache=True, nogil=True)
def relu_backward(grad, out, dx):  # pragma: no cover - compiled
    """dx = grad where out != 0, else 0, for flat arrays: PyTorch's rule (the gradient passes where
    not out <= 0; a ReLU's output is never negative, and NaN passes its gradient on)."""
    zero = dx.dtype.type(0)
    for i in range(dx.size):
        dx[i] = grad[i] if out[i] != 0 else zero
