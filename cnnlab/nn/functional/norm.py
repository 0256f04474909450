"""Normalisation: batch, layer, group and instance norm, local response norm and ``normalize``.

Batch, layer, group and instance norm are one operation seen four ways: standardise ``x`` over some axes,
then scale and shift. They share :class:`_Normalize`, whose backward is the closed form

    dx = (g - mean(g) - x̂ · mean(g · x̂)) / σ,    g = dy · weight,   σ = sqrt(var + eps)

with the means taken over the normalised axes (batch norm, the one every CNN trains with, has its own
per-channel implementation of the same formula, :class:`_BatchNorm`, built for speed). What differs is
only which axes are normalised and how ``weight`` and ``bias`` broadcast:

    batch_norm     (N, C, *S)  over N and S          weight (C,) as (1, C, 1, ...)
    instance_norm  (N, C, *S)  over S                weight (C,) as (1, C, 1, ...)
    group_norm     (N, G, C/G, S) over C/G and S     weight (C,) as (1, G, C/G, 1)
    layer_norm     (*, *D)     over the trailing D   weight D, as it is

References: Ioffe & Szegedy 2015 (batch norm), Ba et al. 2016 (layer norm), Ulyanov et al. 2016 (instance
norm), Wu & He 2018 (group norm), Krizhevsky et al. 2012 (local response norm).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ... import compiled
from ...autograd import Function
from ...parallel import shares, split_rows, starmap
from ...tensor import Tensor
from ._reduce import channel_dots, channel_sums

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "local_response_norm", "normalize"]


# ==================================================================================================
# the shared normalisation


def _moments(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance over ``axes`` (kept as size-1 axes), two-pass for accuracy."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return mean, var


class _Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) · weight + bias, with mean and var over ``axes``.

    ``mean`` and ``var`` (keepdims shapes) come in precomputed so that batch norm can reuse them for its
    running statistics; ``weight`` and ``bias`` are None or already shaped to broadcast against ``x``.
    """

    def forward(self, x, weight, bias, mean, var, axes, eps):
        self.axes = axes
        self.inv_std = 1 / np.sqrt(var + x.dtype.type(eps))  # (1 / σ) with keepdims shape
        self.x_hat = (x - mean) * self.inv_std
        self.weight = weight
        self.affine_shape = weight.shape if weight is not None else None if bias is None else bias.shape
        out = self.x_hat if weight is None else self.x_hat * weight
        if bias is not None:
            out = out + bias
        return out if out is not self.x_hat else out.copy()

    def backward(self, grad):
        x_hat, axes, weight = self.x_hat, self.axes, self.weight
        gx = gw = gb = None
        weighted_x_hat = grad * x_hat
        if self.needs_input_grad[1]:
            gw = _sum_to(weighted_x_hat, self.affine_shape)
        if self.needs_input_grad[2]:
            gb = _sum_to(grad, self.affine_shape)
        if self.needs_input_grad[0]:
            lead = x_hat.ndim - (0 if weight is None else weight.ndim)
            if weight is None or all(a < lead or weight.shape[a - lead] == 1 for a in axes):
                # the weight is constant over the normalised axes (batch norm): it factors out of the
                # means below, so g = grad·weight need not be formed
                g, scale = grad, self.inv_std if weight is None else weight * self.inv_std
                mean_gx = weighted_x_hat.mean(axis=axes, keepdims=True)
            else:
                g, scale = grad * weight, self.inv_std
                mean_gx = (g * x_hat).mean(axis=axes, keepdims=True)
            # dx = (g - mean(g) - x̂·mean(g·x̂)) / σ, built in place in one new array
            gx = x_hat * (-mean_gx * scale)
            gx += g * scale
            gx -= g.mean(axis=axes, keepdims=True) * scale
        return gx, gw, gb


class _BatchNorm(Function):
    """Training-mode batch norm on (N, C, L): the same closed form as :class:`_Normalize`, written per
    channel so that each pass over the activations is one NumPy call.

    The per-channel sums are matrix products (a BLAS product with a vector of ones, a batch of dot
    products), which run on every core and are several times faster than NumPy's reductions over the
    axes (0, 2). Nothing of activation size is saved beyond the input (x̂ is recomputed in backward), and
    backward folds the closed form into per-channel coefficients:

        dx = a·g + b·(x - μ) + c,   a = w/σ,   b = -a·mean(g·x̂)/σ,   c = -a·mean(g)

    ``stats`` receives the batch mean and biased variance (C,), for the running statistics.
    """

    def forward(self, x, weight, bias, eps, stats):
        N, C = x.shape[:2]
        x3 = x.reshape(N, C, -1)
        # compiled: each channel whole, its second pass from the cache (1-D features, L = 1, would be
        # read one element per cache line: 4x slower than NumPy's products, measured at 128 x 512)
        self.kernels = None if x3.shape[2] == 1 else compiled.kernels(
            "norm_kernels", x.dtype, *(p.dtype for p in (weight, bias) if p is not None))
        if self.kernels is not None:
            x3 = np.ascontiguousarray(x3)
            out, mean, var, inv_std = np.empty(x3.shape, dtype=x.dtype), *(np.empty(C, dtype=x.dtype) for _ in range(3))
            none = np.empty(0, dtype=x.dtype)
            w, b, e = none if weight is None else weight, none if bias is None else bias, x.dtype.type(eps)
            starmap(lambda c0, c1: self.kernels.batch_norm_forward(x3, w, b, e, c0, c1, out, mean, var, inv_std),
                    shares(C, x.nbytes))
            self.x, self.mean, self.inv_std = x3, mean, inv_std
            self.scale = inv_std if weight is None else weight * inv_std
            stats += [mean, var]
            return out.reshape(x.shape)
        count = x3.shape[0] * x3.shape[2]
        mean = channel_sums(x3) / count
        out = np.empty(x3.shape, dtype=x.dtype)  # centred, then scaled and shifted in place
        split_rows(lambda o, xs: np.subtract(xs, mean[:, None], out=o), out, x3)
        var = channel_dots(out, out) / count
        inv_std = (1 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype, copy=False)
        scale = inv_std if weight is None else weight * inv_std

        def scale_shift(o: np.ndarray) -> None:
            o *= scale[:, None]
            if bias is not None:
                o += bias[:, None]

        split_rows(scale_shift, out)
        self.x, self.mean, self.inv_std, self.scale = x3, mean, inv_std, scale
        stats += [mean, var]
        return out.reshape(x.shape)

    def backward(self, grad):
        x3, mean, inv_std, scale = self.x, self.mean, self.inv_std, self.scale
        g = grad.reshape(x3.shape)
        if self.kernels is not None and grad.dtype == x3.dtype:
            g = np.ascontiguousarray(g)
            sum_g, sum_g_xhat = np.empty(len(mean), dtype=x3.dtype), np.empty(len(mean), dtype=x3.dtype)
            dx = np.empty(x3.shape if self.needs_input_grad[0] else (0, 0, 0), dtype=x3.dtype)
            starmap(lambda c0, c1: self.kernels.batch_norm_backward(g, x3, mean, inv_std, scale, c0, c1,
                                                                    sum_g, sum_g_xhat, dx),
                    shares(len(mean), 2 * x3.nbytes))
            return (dx.reshape(grad.shape) if self.needs_input_grad[0] else None,
                    sum_g_xhat if self.needs_input_grad[1] else None, sum_g if self.needs_input_grad[2] else None)
        count = x3.shape[0] * x3.shape[2]
        sum_g = channel_sums(g)
        centered = np.empty(x3.shape, dtype=np.result_type(x3, mean))
        split_rows(lambda c, xs: np.subtract(xs, mean[:, None], out=c), centered, x3)
        sum_g_xhat = channel_dots(g, centered) * inv_std  # Σ g·x̂
        gx = None
        if self.needs_input_grad[0]:
            a, b, c = scale[:, None], (-scale * inv_std * sum_g_xhat / count)[:, None], (scale * sum_g / count)[:, None]

            def combine(dx: np.ndarray, gs: np.ndarray) -> None:  # dx = a·g + b·(x - μ) - c, over x - μ
                dx *= b
                dx -= c
                dx += gs * a

            split_rows(combine, centered, g)
            gx = centered.reshape(grad.shape)
        gw = sum_g_xhat if self.needs_input_grad[1] else None
        gb = sum_g if self.needs_input_grad[2] else None
        return gx, gw, gb


def _sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes where an array of ``shape`` (same ndim or trailing) was broadcast."""
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes).reshape(shape) if axes else grad


def _normalize(
    x: Tensor,
    axes: tuple[int, ...],
    weight: Tensor | None,
    bias: Tensor | None,
    affine_shape: tuple[int, ...],
    eps: float,
) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Standardise over ``axes`` and apply the affine part; also return the (keepdims) batch moments."""
    mean, var = _moments(x.data, axes)
    w = None if weight is None else weight.reshape(affine_shape)
    b = None if bias is None else bias.reshape(affine_shape)
    out = _Normalize.apply(x, w, b, mean=mean, var=var, axes=axes, eps=eps)
    return out, mean, var


def _affine_eval(x: Tensor, mean: Tensor, var: Tensor, weight, bias, eps: float) -> Tensor:
    """x · scale + shift per channel (axis 1) with fixed statistics, as PyTorch's eval-mode batch norm."""
    dt = x.dtype
    inv_std = Tensor._make(1 / np.sqrt(var.data.astype(dt, copy=False) + dt.type(eps)), None)
    scale = inv_std if weight is None else weight * inv_std  # (C,)
    shift = Tensor._make(-mean.data.astype(dt, copy=False), None) * scale
    if bias is not None:
        shift = shift + bias
    return _ChannelAffine.apply(x, scale, shift)


class _ChannelAffine(Function):
    """x · scale + shift with one value per channel (axis 1): one new array, the shift added in place,
    the batch split between cnnlab's threads."""

    def forward(self, x, scale, shift):
        self.x, self.scale = x, scale
        per_channel = (1, -1) + (1,) * (x.ndim - 2)
        scale, shift = scale.reshape(per_channel), shift.reshape(per_channel)
        out = np.empty(np.broadcast_shapes(x.shape, scale.shape), dtype=np.result_type(x, scale))

        def affine(o: np.ndarray, xs: np.ndarray) -> None:
            np.multiply(xs, scale, out=o)
            o += shift

        split_rows(affine, out, x)
        return out

    def backward(self, grad):
        gx = None
        if self.needs_input_grad[0]:
            gx = np.empty(grad.shape, dtype=np.result_type(grad, self.scale))
            per_channel = self.scale.reshape((1, -1) + (1,) * (grad.ndim - 2))
            split_rows(lambda o, gs: np.multiply(gs, per_channel, out=o), gx, grad)
        gscale = channel_dots(grad, self.x) if self.needs_input_grad[1] else None
        gshift = channel_sums(grad) if self.needs_input_grad[2] else None
        return gx, gscale, gshift


def _update_running(
    running_mean: Tensor | None,
    running_var: Tensor | None,
    mean: np.ndarray,
    var: np.ndarray,
    count: int,
    momentum: float,
) -> None:
    """running ← (1 - momentum) · running + momentum · batch, in place; var unbiased (count / (count - 1))."""
    if running_mean is not None:
        rm = running_mean.data
        rm[...] = (1 - momentum) * rm + momentum * mean.reshape(rm.shape)
    if running_var is not None:
        rv = running_var.data
        unbiased = var.reshape(rv.shape) * (count / (count - 1))
        rv[...] = (1 - momentum) * rv + momentum * unbiased


# ==================================================================================================
# argument checks


def _check_input(op: str, x: object, min_ndim: int, expected: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(x).__name__}")
    if x.ndim < min_ndim:
        raise ValueError(
            f"{op}: expected input of shape {expected}, got a {x.ndim}-D input of shape {x.shape}"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
    return x


def _check_per_channel(op: str, C: int, x: Tensor, **tensors: Tensor | None) -> None:
    """Each named tensor (weight, bias, running stats) is None or holds one value per channel."""
    for name, t in tensors.items():
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor or None, got {type(t).__name__}")
        if t.shape != (C,):
            raise ValueError(
                f"{op}: expected {name} of shape ({C},), one value per channel of the input of shape {x.shape}, "
                f"got shape {t.shape}"
            )


def _check_float(op: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: expected {name} to be a float, got {value!r}")
    return float(value)


def _check_eps(op: str, eps: object, training: bool) -> float:
    eps = _check_float(op, "eps", eps)
    if training and eps <= 0:
        raise ValueError(f"{op}: eps must be positive during training, got {eps}")
    if eps < 0:
        raise ValueError(f"{op}: eps must be non-negative, got {eps}")
    return eps


# ==================================================================================================
# public functions


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> Tensor:
    """Normalise each channel over the batch and spatial dimensions, then scale by weight and add bias.

    In training the batch's mean and biased variance normalise, and the running statistics (if given) are
    updated in place: running ← (1 - momentum)·running + momentum·batch, with the unbiased variance. In
    evaluation the running statistics normalise.

    Shape: input (N, C) or (N, C, *); running_mean, running_var, weight, bias (C,) -> same as input.

    >>> import cnnlab
    >>> x = cnnlab.tensor([[1.0], [3.0]])
    >>> rm, rv = cnnlab.zeros(1), cnnlab.ones(1)
    >>> batch_norm(x, rm, rv, training=True)
    tensor([[-1.],
            [ 1.]])
    >>> rm, rv
    (tensor([0.2]), tensor([1.1]))
    """
    op = "batch_norm"
    x = _check_input(op, input, 2, "(N, C) or (N, C, *)")
    C = x.shape[1]
    _check_per_channel(op, C, x, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if (running_mean is None) != (running_var is None):
        missing = "running_mean" if running_mean is None else "running_var"
        raise ValueError(
            f"{op}: running_mean and running_var must either both be None or neither be None, got {missing}=None"
        )
    eps = _check_eps(op, eps, training)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{op}: running_mean and running_var must be given in evaluation mode (training=False), got "
                f"running_mean={'None' if running_mean is None else 'a Tensor'} and "
                f"running_var={'None' if running_var is None else 'a Tensor'}"
            )
        return _affine_eval(x, running_mean, running_var, weight, bias, eps)

    momentum = _check_float(op, "momentum", momentum)
    count = x.shape[0] * math.prod(x.shape[2:])  # values per channel
    if count <= 1:
        raise ValueError(
            f"{op}: Expected more than 1 value per channel when training, got input size {x.shape}"
        )
    stats: list[np.ndarray] = []
    out = _BatchNorm.apply(x, weight, bias, eps=eps, stats=stats)
    _update_running(running_mean, running_var, *stats, count, momentum)
    return out


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> Tensor:
    """Normalise each channel of each sample over its spatial dimensions, then scale and shift per channel.

    With ``use_input_stats`` the sample's own statistics normalise and the running statistics (if given)
    move towards their mean over the batch; otherwise the running statistics normalise.

    Shape: input (N, C, *) with at least one spatial dimension; running stats, weight, bias (C,) -> same.

    >>> import cnnlab
    >>> instance_norm(cnnlab.tensor([[[1.0, 3.0]]]))
    tensor([[[-1.,  1.]]])
    """
    op = "instance_norm"
    x = _check_input(op, input, 3, "(N, C, *) with at least one spatial dimension")
    C = x.shape[1]
    _check_per_channel(op, C, x, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    eps = _check_eps(op, eps, use_input_stats)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(
                f"{op}: running_mean and running_var must be given when use_input_stats=False, got "
                f"running_mean={'None' if running_mean is None else 'a Tensor'} and "
                f"running_var={'None' if running_var is None else 'a Tensor'}"
            )
        return _affine_eval(x, running_mean, running_var, weight, bias, eps)

    momentum = _check_float(op, "momentum", momentum)
    count = math.prod(x.shape[2:])  # values per channel of one sample
    if count <= 1:
        raise ValueError(
            f"{op}: Expected more than 1 spatial element when training, got input size {x.shape}"
        )
    axes = tuple(range(2, x.ndim))
    shape = (1, C) + (1,) * (x.ndim - 2)
    out, mean, var = _normalize(x, axes, weight, bias, shape, eps)
    # PyTorch folds N into C, updates N copies of the running stats and keeps their average
    _update_running(running_mean, running_var, mean.mean(axis=0), var.mean(axis=0), count, momentum)
    return out


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
) -> Tensor:
    """Normalise each sample over its trailing ``normalized_shape`` dimensions, then scale and shift
    elementwise.

    Shape: input (*, *normalized_shape); weight, bias normalized_shape -> same as input.

    >>> import cnnlab
    >>> layer_norm(cnnlab.tensor([[1.0, 3.0], [0.0, 4.0]]), (2,))
    tensor([[-1.,  1.],
            [-1.,  1.]])
    """
    op = "layer_norm"
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        normalized_shape = (int(normalized_shape),)
    if not isinstance(normalized_shape, (tuple, list)) or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in normalized_shape
    ):
        raise TypeError(
            f"{op}: expected normalized_shape to be an int or a sequence of ints, got {normalized_shape!r}"
        )
    normalized_shape = tuple(int(n) for n in normalized_shape)
    if not normalized_shape:
        raise ValueError(f"{op}: expected normalized_shape to have at least one dimension, got ()")
    x = _check_input(op, input, len(normalized_shape), f"(*, {', '.join(map(str, normalized_shape))})")
    k = len(normalized_shape)
    if x.shape[-k:] != normalized_shape:
        raise ValueError(
            f"{op}: given normalized_shape={normalized_shape}, expected input of shape "
            f"(*, {', '.join(map(str, normalized_shape))}), got input of shape {x.shape}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != normalized_shape):
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{op}: expected {name} of shape normalized_shape={normalized_shape}, got {got}")
    eps = _check_float(op, "eps", eps)
    axes = tuple(range(x.ndim - k, x.ndim))
    return _normalize(x, axes, weight, bias, normalized_shape, eps)[0]


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-05,
) -> Tensor:
    """Split the channels into ``num_groups`` groups; normalise each group of each sample over its channels
    and spatial positions, then scale and shift per channel.

    Shape: input (N, C, *) with C divisible by num_groups; weight, bias (C,) -> same as input.

    >>> import cnnlab
    >>> group_norm(cnnlab.tensor([[1.0, 3.0, 5.0, 5.0]]), 2)
    tensor([[-1.,  1.,  0.,  0.]])
    """
    op = "group_norm"
    x = _check_input(op, input, 2, "(N, C, *)")
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups <= 0:
        raise ValueError(f"{op}: expected num_groups to be a positive int, got {num_groups!r}")
    N, C = x.shape[:2]
    G = int(num_groups)
    if C % G:
        raise ValueError(
            f"{op}: expected the number of channels to be divisible by num_groups, got input of shape {x.shape} "
            f"({C} channels) and num_groups={G}"
        )
    _check_per_channel(op, C, x, weight=weight, bias=bias)
    eps = _check_float(op, "eps", eps)
    # (N, C, *S) -> (N, G, C/G, prod S): a group is the last two axes, a channel the third
    grouped = x.reshape(N, G, C // G, math.prod(x.shape[2:]))
    out = _normalize(grouped, (2, 3), weight, bias, (1, G, C // G, 1), eps)[0]
    return out.reshape(x.shape)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Divide each value by (k + alpha · mean of the squares over ``size`` neighbouring channels) ** beta.

    The window covers channels c - size//2 … c + (size-1)//2, zero beyond the edges, and the mean always
    divides by ``size`` (as PyTorch and AlexNet).

    Shape: input (N, C, *) with at least one spatial dimension -> same.

    >>> import cnnlab
    >>> local_response_norm(cnnlab.ones(1, 4, 1), 2, alpha=1.0, beta=1.0, k=0.0)
    tensor([[[2.],
             [1.],
             [1.],
             [1.]]])
    """
    op = "local_response_norm"
    x = _check_input(op, input, 3, "(N, C, *) with at least one spatial dimension")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise ValueError(f"{op}: expected size to be a positive int, got {size!r}")
    alpha, beta, k = (_check_float(op, name, v) for name, v in (("alpha", alpha), ("beta", beta), ("k", k)))
    if x.numel() == 0:
        return x
    C = x.shape[1]
    # band (C, C): band[c, c'] = 1 when c' lies in c's window, so the windowed sum over channels is one matmul
    c = np.arange(C)
    offset = c[None, :] - c[:, None]  # c' - c
    band = ((offset >= -(size // 2)) & (offset <= (size - 1) // 2)).astype(x.dtype)
    squares = (x * x).transpose(1, -1)  # (N, *, C): channels last for the matmul
    window = (squares @ Tensor._make(band.T, None)).transpose(1, -1)  # (N, C, *)
    div = (window / size * alpha + k) ** beta
    return x / div


class _PNorm(Function):
    """‖x‖_p along ``axis`` (kept); the gradient is 0 where the norm is 0, as PyTorch's."""

    def forward(self, x, p, axis):
        self.x, self.p, self.axis = x, p, axis
        a = np.abs(x)
        if p == math.inf:
            out = (
                a.max(axis=axis, keepdims=True)
                if x.shape[axis]
                else np.zeros_like(a.sum(axis, keepdims=True))
            )
        elif p == 1:
            out = a.sum(axis=axis, keepdims=True)
        elif p == 2:
            out = np.sqrt((x * x).sum(axis=axis, keepdims=True))
        else:
            out = (a ** x.dtype.type(p)).sum(axis=axis, keepdims=True) ** x.dtype.type(1 / p)
        self.out = out
        return out

    def backward(self, grad):
        x, p, norm = self.x, self.p, self.out
        dt = x.dtype.type
        zero = norm == 0
        safe = np.where(zero, dt(1), norm)
        if p == math.inf:
            mask = np.abs(x) == norm
            g = np.sign(x) * mask * (grad / mask.sum(axis=self.axis, keepdims=True))
        elif p == 1:
            g = np.sign(x) * grad
        elif p == 2:
            g = x * (grad / safe)
        else:
            g = np.sign(x) * np.abs(x) ** dt(p - 1) * (grad / safe ** dt(p - 1))
        return np.where(zero, dt(0), g)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """Divide ``input`` by its p-norm along ``dim``: x / max(‖x‖_p, eps).

    Shape: any -> same.

    >>> import cnnlab
    >>> normalize(cnnlab.tensor([[3.0, 4.0]]))
    tensor([[0.6, 0.8]])
    """
    op = "normalize"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")
    p = _check_float(op, "p", p)
    if not p > 0:
        raise ValueError(f"{op}: expected p to be positive (or math.inf), got p={p}")
    eps = _check_float(op, "eps", eps)
    ndim = max(input.ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
        raise IndexError(
            f"{op}: expected dim in the range [{-ndim}, {ndim - 1}] for an input of shape {input.shape}, got {dim!r}"
        )
    x = input if input.ndim else input.reshape(1)
    norm = _PNorm.apply(x, p=p, axis=int(dim) % ndim).clamp(min=eps)
    return (x / norm).reshape(input.shape)
