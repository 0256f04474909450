"""Dropout: zero random elements (or whole channels) during training and rescale the survivors.

Srivastava et al., "Dropout: a simple way to prevent neural networks from overfitting" (2014); Tompson
et al., "Efficient object localization using convolutional networks" (2015) for channel dropout;
Klambauer et al., "Self-normalizing neural networks" (2017) for alpha dropout.

Masks are drawn from :data:`cnnlab.random.default_generator`, so ``cnnlab.manual_seed`` fixes them. The
forward multiplies by a saved array and the backward multiplies the gradient by the same array.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ... import random as _random
from ...autograd import Function
from ...tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]

# SELU's negative saturation value -λα (Klambauer et al.): alpha dropout sets dropped units to it
_SELU_SATURATION = 1.7580993408473766


class _Affine(Function):
    """x · scale + shift, with scale and shift fixed arrays (the mask, already scaled)."""

    def forward(self, x, scale, shift):
        self.scale = scale
        with np.errstate(invalid="ignore"):  # a dropped inf gives NaN, as in PyTorch (inf · 0)
            out = x * scale
        return out if shift is None else out + shift

    def backward(self, grad):
        return grad * self.scale


def _check(op: str, input: Any, p: Any, training: Any) -> float:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"{op}: expected training to be a bool, got {type(training).__name__} {training!r}")
    return float(p)


def _keep_mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> np.ndarray:
    """1/(1-p) where an element survives (probability 1 - p), else 0, in ``dtype``."""
    rng = _random.default_generator.numpy
    keep = rng.random(shape, dtype=np.float32 if dtype == np.float32 else np.float64) >= p
    return keep * dtype.type(1.0 / (1.0 - p))


def _drop(input: Tensor, p: float, training: bool, mask_shape: tuple[int, ...]) -> Tensor:
    if not training or p == 0 or input.numel() == 0:
        return input  # the identity, as in PyTorch
    if p == 1:
        return _Affine.apply(input, scale=np.zeros(mask_shape, dtype=input.dtype), shift=None)
    return _Affine.apply(input, scale=_keep_mask(mask_shape, p, input.dtype), shift=None)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p); the identity when not
    ``training``. ``inplace`` is accepted for PyTorch compatibility; the result is a new tensor.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> _ = cnnlab.manual_seed(0)
    >>> out = dropout(cnnlab.ones(1000), p=0.25)
    >>> sorted({round(v, 4) for v in out.tolist()})
    [0.0, 1.3333]
    >>> dropout(cnnlab.ones(3), p=0.25, training=False).tolist()
    [1.0, 1.0, 1.0]
    """
    p = _check("dropout", input, p, training)
    return _drop(input, p, training, input.shape)


def _channel_dropout(op: str, nd: int, input: Tensor, p: Any, training: Any, strict: bool) -> Tensor:
    """Zero whole channels: one draw per (n, c) of a batched (N, C, *spatial) input, or per channel of an
    unbatched (C, *spatial) one; PyTorch's rule decides which it is from the number of dimensions."""
    p = _check(op, input, p, training)
    expected = (nd + 1, nd + 2)
    if input.ndim not in expected:
        message = (
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got a {input.ndim}-D "
            f"input of shape {input.shape}"
        )
        if strict or input.ndim < 2:
            raise RuntimeError(message)
        warnings.warn(
            f"{message}; this is deprecated. The input is treated as unbatched, with channels in "
            "dimension 0 (use dropout for elementwise dropout).",
            UserWarning,
            stacklevel=3,
        )
    batched = input.ndim == nd + 2
    lead = 2 if batched else 1  # (N, C) or (C,)
    mask_shape = input.shape[:lead] + (1,) * (input.ndim - lead)
    return _drop(input, p, training, mask_shape)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (each length-L signal) with probability ``p``, scaling the rest by 1/(1-p).

    Shape: (N, C, L) or (C, L) -> same.

    >>> import cnnlab
    >>> out = dropout1d(cnnlab.ones(4, 8, 5), p=0.5)
    >>> bool((out == out[..., :1]).all())  # constant along L
    True
    """
    return _channel_dropout("dropout1d", 1, input, p, training, strict=True)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (each H×W feature map) with probability ``p``, scaling the rest by 1/(1-p).

    Shape: (N, C, H, W) or (C, H, W) -> same. Other ranks work with PyTorch's deprecation warning.

    >>> import cnnlab
    >>> out = dropout2d(cnnlab.ones(4, 8, 3, 3), p=0.5)
    >>> bool((out == out[..., :1, :1]).all())  # constant over each feature map
    True
    """
    return _channel_dropout("dropout2d", 2, input, p, training, strict=False)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (each D×H×W volume) with probability ``p``, scaling the rest by 1/(1-p).

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same. Other ranks work with PyTorch's deprecation warning.

    >>> import cnnlab
    >>> dropout3d(cnnlab.ones(2, 4, 3, 3, 3), p=0.5).shape
    (2, 4, 3, 3, 3)
    """
    return _channel_dropout("dropout3d", 3, input, p, training, strict=False)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for self-normalising (SELU) networks: dropped units take SELU's saturation value and an
    affine correction a·x + b keeps zero mean and unit variance. The identity when not ``training``.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> _ = cnnlab.manual_seed(0)
    >>> out = alpha_dropout(cnnlab.randn(200, 250), p=0.2, training=True)
    >>> abs(out.mean().item()) < 0.02 and abs(out.std().item() - 1) < 0.02
    True
    """
    p = _check("alpha_dropout", input, p, training)
    if not training or p == 0 or input.numel() == 0:
        return input
    dtype = input.dtype
    if p == 1:
        return _Affine.apply(input, scale=np.zeros(input.shape, dtype=dtype), shift=None)
    rng = _random.default_generator.numpy
    keep = rng.random(input.shape, dtype=np.float32 if dtype == np.float32 else np.float64) >= p
    # kept: a·x + α·a·p; dropped: -α·a·(1 - p), with a = 1/√((α² p + 1)(1 - p)), as PyTorch computes it
    a = 1.0 / math.sqrt((_SELU_SATURATION**2 * p + 1) * (1 - p))
    scale = keep * dtype.type(a)
    shift = ((keep.astype(dtype) - 1 + dtype.type(p)) * dtype.type(_SELU_SATURATION * a)).astype(
        dtype, copy=False
    )
    return _Affine.apply(input, scale=scale, shift=shift)
