"""Weight initialisers, in place and without recording a graph, with PyTorch's names and formulas.

Every random initialiser draws from :data:`cnnlab.random.default_generator`, or from the
:class:`cnnlab.random.Generator` it is given.

References: Glorot and Bengio, "Understanding the difficulty of training deep feedforward neural
networks" (2010) for xavier_*; He et al., "Delving deep into rectifiers" (2015) for kaiming_*;
Saxe et al., "Exact solutions to the nonlinear dynamics of learning in deep linear networks" (2013)
for orthogonal_.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def _rng(generator: _random.Generator | None) -> np.random.Generator:
    return (generator or _random.default_generator).numpy


def _check(tensor: Any, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a cnnlab Tensor, got {type(tensor).__name__}")
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into the tensor's array (its dtype is kept), outside the graph."""
    with no_grad():
        tensor.data[...] = values
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (the factor by which it shrinks the variance).

    >>> round(calculate_gain("relu"), 4)
    1.4142
    >>> round(calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
        f"{', '.join(repr(n) for n in (*_LINEAR_FNS, 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'))}"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: dims 1 and 0 times the receptive field (the product of dims 2:).

    >>> import cnnlab
    >>> _calculate_fan_in_and_fan_out(cnnlab.empty(16, 3, 5, 5))
    (75, 400)
    """
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: _random.Generator | None = None
) -> Tensor:
    """Fill with values drawn from U(a, b).

    >>> import cnnlab
    >>> w = uniform_(cnnlab.empty(3, 5), -1.0, 1.0)
    >>> bool((w.abs() <= 1.0).all())
    True
    """
    _check(tensor, "uniform_")
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: _random.Generator | None = None
) -> Tensor:
    """Fill with values drawn from N(mean, std²).

    >>> import cnnlab
    >>> normal_(cnnlab.empty(2, 3)).shape
    (2, 3)
    """
    _check(tensor, "normal_")
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: _random.Generator | None = None,
) -> Tensor:
    """Fill with values from N(mean, std²) truncated to [a, b] (redrawing those outside).

    >>> import cnnlab
    >>> w = trunc_normal_(cnnlab.empty(100), std=1.0, a=-0.5, b=0.5)
    >>> bool((w.abs() <= 0.5).all())
    True
    """
    _check(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    rng = _rng(generator)
    values = rng.normal(mean, std, size=tensor.shape)
    outside = (values < a) | (values > b)
    for _ in range(1000):  # rejection sampling; each round keeps a fixed share of the rest
        if not outside.any():
            break
        values[outside] = rng.normal(mean, std, size=int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, np.clip(values, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    >>> import cnnlab
    >>> constant_(cnnlab.empty(2), 0.5).tolist()
    [0.5, 0.5]
    """
    return _fill(_check(tensor, "constant_"), val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    >>> import cnnlab
    >>> ones_(cnnlab.empty(2)).tolist()
    [1.0, 1.0]
    """
    return _fill(_check(tensor, "ones_"), 1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    >>> import cnnlab
    >>> zeros_(cnnlab.empty(2)).tolist()
    [0.0, 0.0]
    """
    return _fill(_check(tensor, "zeros_"), 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal).

    >>> import cnnlab
    >>> eye_(cnnlab.empty(2, 3)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(
            f"eye_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the convolution is the identity.

    >>> import cnnlab
    >>> dirac_(cnnlab.empty(2, 2, 3))[:, :, 1].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    _check(tensor, "dirac_")
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    if tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups ({groups})")
    out_per_group = tensor.shape[0] // groups
    min_dim = min(out_per_group, tensor.shape[1])
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain·sqrt(6 / (fan_in + fan_out)).

    >>> import cnnlab
    >>> w = xavier_uniform_(cnnlab.empty(3, 5))
    >>> bool((w.abs() <= 0.8661).all())
    True
    """
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: _random.Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std²), std = gain·sqrt(2 / (fan_in + fan_out)).

    >>> import cnnlab
    >>> xavier_normal_(cnnlab.empty(3, 5)).shape
    (3, 5)
    """
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tensor.shape:
        return None  # nothing to fill (PyTorch warns and returns)
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: _random.Generator | None = None,
) -> Tensor:
    """He uniform: U(-bound, bound), bound = gain·sqrt(3 / fan), gain from ``nonlinearity`` and ``a``.

    Layers call it with ``a=sqrt(5)``, which gives bound = 1/sqrt(fan_in).

    >>> import cnnlab, math
    >>> w = kaiming_uniform_(cnnlab.empty(4, 25), a=math.sqrt(5))
    >>> bool((w.abs() <= 0.2).all())
    True
    """
    _check(tensor, "kaiming_uniform_")
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: _random.Generator | None = None,
) -> Tensor:
    """He normal: N(0, std²), std = gain / sqrt(fan).

    >>> import cnnlab
    >>> kaiming_normal_(cnnlab.empty(8, 3, 3, 3), mode="fan_out", nonlinearity="relu").shape
    (8, 3, 3, 3)
    """
    _check(tensor, "kaiming_normal_")
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: _random.Generator | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix (dims after the first are flattened), times ``gain``.

    >>> import cnnlab, numpy as np
    >>> w = orthogonal_(cnnlab.empty(3, 5))
    >>> np.allclose(w.data @ w.data.T, np.eye(3), atol=1e-5)
    True
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # makes the decomposition unique, so q is uniformly distributed
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
