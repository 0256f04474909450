"""Fully connected layers: ``linear`` (y = x Wᵀ + b) and ``flatten``."""

from __future__ import annotations

import numpy as np

from ... import compiled, parallel
from ...autograd import Function
from ...tensor import Tensor

__all__ = ["linear", "bilinear", "flatten"]


class _Linear(Function):
    def forward(self, x, weight, bias):
        self.x, self.weight = x, weight
        # (..., in) @ (in, out): one BLAS product over all leading dimensions at once (its rows shared
        # between cnnlab's threads)
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        out = np.empty((len(x2), len(weight)), dtype=x.dtype if x.dtype == weight.dtype else np.result_type(x, weight))
        if parallel.alone(2 * out.nbytes):  # (a few rows: without split_rows' call)
            _rows(out, x2, weight, bias)
        else:
            parallel.split_rows(lambda o, xs: _rows(o, xs, weight, bias), out, x2)
        return out if x.ndim == 2 else out.reshape(x.shape[:-1] + (len(weight),))

    def backward(self, grad):
        g = grad.reshape(-1, grad.shape[-1])  # (M, out)
        x2 = self.x.reshape(-1, self.x.shape[-1])
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            gx = np.empty(x2.shape, dtype=np.result_type(g, self.weight))
            parallel.split_rows(lambda o, gs: np.matmul(gs, self.weight, out=o), gx, g)
            gx = gx.reshape(self.x.shape)
        if self.needs_input_grad[1]:  # Σ over the rows' shares of gᵀ·x
            gw = parallel.added(parallel.split_rows(lambda gs, xs: gs.T @ xs, g, x2))
        if self.needs_input_grad[2]:
            gb = g.sum(axis=0)
        return gx, gw, gb


def _rows(out: np.ndarray, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    np.dot(x, weight.T, out=out)  # (2-D: the same BLAS call as np.matmul's, 0.4 µs sooner)
    if bias is None:
        return
    kernels = compiled.kernels("bias_kernels", out.dtype, bias.dtype)
    if kernels is None:
        out += bias
    else:  # (3 times as fast as NumPy's broadcast, see bias_kernels)
        kernels.add_to_features(out, bias)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Apply y = x Wᵀ + b.

    Shape: input (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> (*, out_features).

    >>> import cnnlab
    >>> linear(cnnlab.ones(2, 3), cnnlab.ones(4, 3), cnnlab.zeros(4)).shape
    (2, 4)
    """
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(
            f"linear: expected input and weight to be Tensors, got {type(input).__name__} and {type(weight).__name__}"
        )
    shape, w_shape = input.data.shape, weight.data.shape
    if len(w_shape) != 2:
        raise ValueError(f"linear: expected weight of shape (out_features, in_features), got shape {w_shape}")
    if not shape or shape[-1] != w_shape[1]:
        raise ValueError(
            f"linear: expected input with last dimension in_features = {w_shape[1]} "
            f"(weight.shape[1]), got input of shape {shape}"
        )
    if bias is not None and bias.data.shape != w_shape[:1]:
        raise ValueError(f"linear: expected bias of shape ({w_shape[0]},), got shape {bias.shape}")
    return _Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Apply y = x1ᵀ A x2 + b for each output feature.

    Shape: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out,) -> (*, out).

    >>> import cnnlab
    >>> bilinear(cnnlab.ones(2, 3), cnnlab.ones(2, 4), cnnlab.ones(5, 3, 4)).shape
    (2, 5)
    """
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ValueError(
            f"bilinear: expected weight (out, in1, in2) matching input1 (*, in1) and input2 (*, in2), got "
            f"weight {weight.shape}, input1 {input1.shape}, input2 {input2.shape}"
        )
    # (*, in1) @ (out, in1, in2) -> (out, *, in2); times x2 and summed over in2 -> (out, *)
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    projected = (x1 @ weight.permute(1, 0, 2).reshape(weight.shape[1], -1)).reshape(
        x1.shape[0], weight.shape[0], weight.shape[2]
    )  # (M, out, in2)
    out = (projected * x2.unsqueeze(1)).sum(dim=2)  # (M, out)
    if bias is not None:
        out = out + bias
    return out.reshape(input1.shape[:-1] + (weight.shape[0],))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` … ``end_dim`` into one.

    >>> import cnnlab
    >>> flatten(cnnlab.zeros(2, 3, 4), 1).shape
    (2, 12)
    """
    return input.flatten(start_dim, end_dim)
