"""Gradient clipping and flattening parameters to one vector, with PyTorch's semantics."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..tensor import Tensor, cat

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(a: np.ndarray, norm_type: float) -> np.ndarray:
    a = np.abs(a.reshape(-1))
    if norm_type == float("inf"):
        return a.max() if a.size else np.zeros((), a.dtype)
    if norm_type == float("-inf"):
        return a.min() if a.size else np.full((), np.inf, a.dtype)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(a), dtype=a.dtype)
    if norm_type == 1:
        return a.sum()
    if norm_type == 2:
        return np.sqrt(np.dot(a, a))
    return np.power(np.power(a, norm_type).sum(), 1.0 / norm_type).astype(a.dtype)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients in place so that their joint norm is at most ``max_norm``; return that norm.

    The norm is taken over all gradients together, as if they were one vector. Gradients are multiplied by
    min(1, max_norm / (total_norm + 1e-6)), as in PyTorch.

    >>> import cnnlab
    >>> p = cnnlab.nn.Parameter(cnnlab.zeros(2))
    >>> p.grad = cnnlab.tensor([3.0, 4.0])
    >>> clip_grad_norm_([p], max_norm=1.0)
    tensor(5.)
    >>> p.grad
    tensor([0.6, 0.8])
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros((), np.float32))
    dtype = grads[0].dtype
    norms = np.stack([_vector_norm(g.data, norm_type).astype(dtype) for g in grads])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.minimum(dtype.type(float(max_norm)) / (total + dtype.type(1e-6)), dtype.type(1.0))
        for g in grads:  # in place, as PyTorch's mul_ (a non-finite norm spreads NaN, as there)
            np.multiply(g.data, coef, out=g.data, casting="unsafe")
    return Tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place.

    >>> import cnnlab
    >>> p = cnnlab.nn.Parameter(cnnlab.zeros(3))
    >>> p.grad = cnnlab.tensor([-2.0, 0.5, 3.0])
    >>> clip_grad_value_(p, 1.0)
    >>> p.grad
    tensor([-1. ,  0.5,  1. ])
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable).

    >>> import cnnlab
    >>> parameters_to_vector(cnnlab.nn.Linear(3, 2).parameters()).shape
    (8,)
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place (the inverse of the above).

    >>> import cnnlab
    >>> layer = cnnlab.nn.Linear(3, 2)
    >>> vector_to_parameters(cnnlab.zeros(8), layer.parameters())
    >>> layer.bias.tolist()
    [0.0, 0.0]
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected cnnlab.Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: expected a vector of {total} elements, got shape {tuple(vec.shape)}"
        )
    offset = 0
    for p in parameters:  # writes into the arrays directly: no graph is recorded
        n = p.numel()
        p.data[...] = vec.data[offset : offset + n].reshape(p.shape)
        offset += n
