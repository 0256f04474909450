"""ReLU's gradient, compiled by Numba (reached through :mod:`cnnlab.compiled`, never imported where
Numba is not installed).

In NumPy the gradient takes four passes: the mask ``out != 0``, the product with it, and a check
for infinities (Inf·0 would make NaN where PyTorch gives 0). Here it is one pass that selects
instead of multiplying, so the infinities need no check. LeNet-5's ReLU gradients at batch 64:
0.39 -> 0.21 ms per step; ReLU forward and backward on 128×32×28×28: 4.9 -> 3.0 ms.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def relu_backward(grad, out, dx):  # pragma: no cover - compiled
    """dx = grad where out != 0, else 0, for flat arrays: PyTorch's rule (the gradient passes where
    not out <= 0; a ReLU's output is never negative, and NaN passes its gradient on)."""
    zero = dx.dtype.type(0)
    for i in range(dx.size):
        dx[i] = grad[i] if out[i] != 0 else zero
