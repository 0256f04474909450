"""Activation functions: ReLU and its relatives, smooth gates (GELU, SiLU, Mish), the hard
approximations used by mobile networks, and softmax along a dimension.

Each activation is a private :class:`~cnnlab.autograd.Function` with its forward and backward side by
side; the public function validates its arguments and applies it. Gradients at the kinks are PyTorch's
(``relu`` has slope 0 at 0, ``hardtanh`` slope 0 at both ends, ``hardswish`` slope 0 at -3 and 1 at 3).

References: Nair & Hinton (2010) for ReLU; Clevert et al., "Fast and accurate deep network learning by
exponential linear units" (2015); Hendrycks & Gimpel, "Gaussian error linear units" (2016); Ramachandran
et al., "Searching for activation functions" (2017) for SiLU/swish; Misra, "Mish" (2019); Howard et al.,
"Searching for MobileNetV3" (2019) for hardswish; W. J. Cody, "Rational Chebyshev approximations for the
error function", Math. Comp. 23 (1969), for :func:`_erf`.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from ... import compiled
from ...autograd import Function, masked
from ...parallel import alone, split_rows
from ...tensor import Tensor

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "mish",
    "hardswish",
    "hardsigmoid",
    "hardtanh",
    "softplus",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "softmin",
]


# --------------------------------------------------------------------------------------------------
# the error function (NumPy has none): W. J. Cody's rational approximations, about 1e-16 relative

# erf(x) = x P(x²) / Q(x²) for |x| <= 0.46875
_ERF_A = (
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
    1.85777706184603153e-1,
)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
# erfc(x) = exp(-x²) P(x) / Q(x) for 0.46875 < x <= 4
_ERF_C = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
)
_ERF_D = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
# erfc(x) = exp(-x²) / x (1/√π + 1/x² P(1/x²) / Q(1/x²)) for x > 4
_ERF_P = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
    1.63153871373020978e-2,
)
_ERF_Q = (
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)
_ERF_SMALL = 0.46875
_ERF_BIG = 26.55  # erfc(x) underflows to 0 in float64 beyond x ≈ 26.543 (Cody's XBIG)
_RSQRT_PI = 0.5641895835477562869


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """exp(-y²) without the rounding error of forming y² (Cody's split y = ỹ + δ, ỹ a multiple of 1/16)."""
    head = np.trunc(y * 16.0) / 16.0
    return np.exp(-head * head) * np.exp(-(y - head) * (y + head))


def _erfc_positive(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y > 0.46875 (float64), NaN for NaN."""
    out = np.empty_like(y)
    mid = y <= 4.0
    if mid.any():
        t = y[mid]
        num, den = _ERF_C[8] * t, t
        for c, d in zip(_ERF_C[:7], _ERF_D[:7]):
            num, den = (num + c) * t, (den + d) * t
        out[mid] = _exp_minus_square(t) * (num + _ERF_C[7]) / (den + _ERF_D[7])
    tail = ~mid  # includes NaN, which stays NaN
    if tail.any():
        y_tail = y[tail]
        t = np.minimum(y_tail, _ERF_BIG)  # clipped so that t² can't overflow; beyond, erfc is 0
        z = 1.0 / (t * t)
        num, den = _ERF_P[5] * z, z
        for p, q in zip(_ERF_P[:4], _ERF_Q[:4]):
            num, den = (num + p) * z, (den + q) * z
        series = z * (num + _ERF_P[4]) / (den + _ERF_Q[4])
        out[tail] = np.where(y_tail > _ERF_BIG, 0.0, _exp_minus_square(t) * (_RSQRT_PI - series) / t)
    return out


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 0.46875."""
    z = x * x
    num, den = _ERF_A[4] * z, z
    for a, b in zip(_ERF_A[:3], _ERF_B[:3]):
        num, den = (num + a) * z, (den + b) * z
    return x * (num + _ERF_A[3]) / (den + _ERF_B[3])


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function, vectorised, accurate to about 1e-16 relative; float32 stays float32.

    >>> _erf(np.array([0.0, 0.5, -3.0])).round(6).tolist()
    [0.0, 0.5205, -0.999978]
    """
    x = np.asarray(x)
    work = x.astype(np.float64)
    y = np.abs(work)
    out = np.empty_like(work)
    small = y <= _ERF_SMALL
    out[small] = _erf_small(work[small])
    large = ~small
    if large.any():
        out[large] = np.copysign(1.0 - _erfc_positive(y[large]), work[large])
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function 1 - erf(x), accurate in the tails (erfc(10) ≈ 2.09e-45).

    >>> f"{float(_erfc(np.array(10.0))):.12e}"
    '2.088487583763e-45'
    """
    x = np.asarray(x)
    work = x.astype(np.float64)
    y = np.abs(work)
    out = np.empty_like(work)
    small = y <= _ERF_SMALL
    out[small] = 1.0 - _erf_small(work[small])
    large = ~small
    if large.any():
        tail = _erfc_positive(y[large])
        out[large] = np.where(work[large] < 0, 2.0 - tail, tail)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


# --------------------------------------------------------------------------------------------------
# argument checks


def _check_input(op: str, input: Any, allow_integer: bool = False) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected input to be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f" and not (allow_integer and input.dtype.kind in "iu"):
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")
    return input


def _check_number(op: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: expected {name} to be a number, got {type(value).__name__} {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------------
# piecewise linear


_ZERO_RUN = 1 << 16  # elements compared with one shared run of zeros at a time


@functools.cache
def _zeros(dtype: np.dtype) -> np.ndarray:
    zeros = np.zeros(_ZERO_RUN, dtype=dtype)
    zeros.flags.writeable = False
    return zeros


def _at_least_zero(out: np.ndarray, x: np.ndarray) -> None:
    """``out = np.maximum(x, 0)`` (NaN propagates), against runs of a shared array of zeros: NumPy's
    fast loop wants two arrays, and with the scalar 0 takes 2.5 times as long (LeNet-5's first
    activations at batch 64: 113 µs against 44)."""
    if not x.flags.c_contiguous:
        np.maximum(x, x.dtype.type(0), out=out)
        return
    zeros, flat, into = _zeros(x.dtype), x.reshape(-1), out.reshape(-1)
    for i in range(0, flat.size, _ZERO_RUN):
        j = min(flat.size, i + _ZERO_RUN)
        np.maximum(flat[i:j], zeros[: j - i], out=into[i:j])


class _Relu(Function):
    # saves its output, not a mask: the output is usually kept anyway as the next layer's input
    def forward(self, x):
        self.out = out = np.empty(x.shape, dtype=x.dtype)
        kernels = compiled.kernels("activation_kernels", x.dtype) if x.flags.c_contiguous else None
        if kernels is not None and alone(2 * x.nbytes):  # the same numbers in one pass (small: without split_rows)
            kernels.relu(x.ravel(), out.ravel())
        elif kernels is not None:
            split_rows(lambda o, xs: kernels.relu(xs.ravel(), o.ravel()), out, x)
        else:
            split_rows(_at_least_zero, out, x)
        return out

    def backward(self, grad):
        kernels = compiled.kernels("activation_kernels", grad.dtype, self.out.dtype)
        if kernels is not None:  # the same rule in one pass
            dx = np.empty(grad.shape, dtype=grad.dtype)
            split_rows(lambda d, g, o: kernels.relu_backward(g.ravel(), o.ravel(), d.ravel()),
                       dx, np.ascontiguousarray(grad), self.out)
            return dx
        alive = np.empty(grad.shape, dtype=bool)
        # PyTorch lets the gradient through where not out <= 0 (slope 0 at 0, NaN passes its gradient
        # on); as out = max(x, 0) is never negative, that is out != 0, one pass instead of two
        split_rows(lambda a, o: np.not_equal(o, 0, out=a), alive, self.out)
        return masked(grad, alive)


class _Hardtanh(Function):
    def forward(self, x, min_val, max_val):
        self.inside = (x > min_val) & (x < max_val)  # slope 0 at both ends, as in PyTorch
        return np.clip(x, x.dtype.type(min_val), x.dtype.type(max_val))

    def backward(self, grad):
        return grad * self.inside


class _LeakyRelu(Function):
    def forward(self, x, slope):
        self.positive, self.slope = x > 0, slope
        return np.where(self.positive, x, x * slope)

    def backward(self, grad):
        return np.where(self.positive, grad, grad * self.slope)


class _Hardswish(Function):
    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore"):  # -inf · 0 = NaN, as in PyTorch
            return x * np.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        x = self.x
        # 0 up to -3 (inclusive), x/3 + 1/2 in between, 1 from 3 on: PyTorch's boundaries
        slope = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1)).astype(x.dtype, copy=False)
        return grad * slope


# PyTorch's hardsigmoid backward uses the float32 constant 1.0f / 6.0f in every dtype; so do we, so that
# float64 gradients agree bit for bit (it is 1/6 to 3e-8 relative)
_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


class _Hardsigmoid(Function):
    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return np.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        return grad * self.inside * _ONE_SIXTH_F32


# --------------------------------------------------------------------------------------------------
# smooth


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: e^-|x| is at most 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class _Elu(Function):
    def forward(self, x, alpha):
        self.x, self.alpha = x, alpha
        negative = np.minimum(x, 0)  # exp only of what is used: no overflow for large x
        return np.where(x > 0, x, alpha * np.expm1(negative))

    def backward(self, grad):
        x = self.x
        return np.where(x <= 0, grad * (self.alpha * np.exp(np.minimum(x, 0))), grad)


class _Softplus(Function):
    def forward(self, x, beta, threshold):
        self.z = x * beta
        self.linear = self.z > threshold  # reverts to the identity above the threshold, as in PyTorch
        return np.where(self.linear, x, _softplus(self.z) / beta)

    def backward(self, grad):
        return np.where(self.linear, grad, grad * _sigmoid(self.z))


class _Silu(Function):
    def forward(self, x):
        self.x, self.s = x, _sigmoid(x)
        with np.errstate(invalid="ignore"):  # -inf · 0 = NaN, as in PyTorch
            return x * self.s

    def backward(self, grad):
        s = self.s
        return grad * (s * (1 + self.x * (1 - s)))


class _Mish(Function):
    def forward(self, x):
        self.x, self.t = x, np.tanh(_softplus(x))
        with np.errstate(invalid="ignore"):  # -inf · 0 = NaN, as in PyTorch
            return x * self.t

    def backward(self, grad):
        t = self.t
        return grad * (t + self.x * _sigmoid(self.x) * (1 - t * t))


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_KAPPA = 0.044715


class _Gelu(Function):
    def forward(self, x):
        self.x = x
        # x Φ(x) with Φ(x) = erfc(-x/√2) / 2: accurate for negative x too (no 1 + erf cancellation)
        self.cdf = 0.5 * _erfc(-_SQRT_HALF * x)
        with np.errstate(invalid="ignore"):  # -inf · 0 = NaN, as in PyTorch
            return x * self.cdf

    def backward(self, grad):
        x = self.x
        with np.errstate(over="ignore"):  # x² overflows only where exp(-x²/2) is 0 anyway
            pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return grad * (self.cdf + x * pdf)


class _GeluTanh(Function):
    def forward(self, x):
        self.x = x
        with np.errstate(over="ignore", invalid="ignore"):  # x³ = inf only where tanh is ±1 anyway
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_KAPPA * x * x * x))
            return 0.5 * x * (1 + self.t)

    def backward(self, grad):
        x, t = self.x, self.t
        with np.errstate(over="ignore", invalid="ignore"):
            inner = (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * _GELU_KAPPA * x * x))
            slope = 0.5 * (1 + t) + 0.5 * x * np.where(t * t == 1, 0, inner)
        return grad * slope


# --------------------------------------------------------------------------------------------------
# softmax


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x minus its maximum along ``axis``, so that exp never overflows (logits of 1e4 are fine)."""
    if x.size == 0:
        return x.copy()
    with np.errstate(invalid="ignore"):  # inf - inf = NaN: a row holding inf gives NaN, as in PyTorch
        return x - x.max(axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """log softmax of an array along ``axis``, stably (shared with the losses)."""
    if x.size == 0:
        return x.copy()
    s = _shifted(x, axis)
    with np.errstate(invalid="ignore"):
        return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


class _Softmax(Function):
    def forward(self, x, axis):
        e = np.exp(_shifted(x, axis))
        self.out, self.axis = e / e.sum(axis=axis, keepdims=True), axis
        return self.out

    def backward(self, grad):
        y = self.out
        return y * (grad - (grad * y).sum(axis=self.axis, keepdims=True))


class _LogSoftmax(Function):
    def forward(self, x, axis):
        self.out, self.axis = _log_softmax(x, axis), axis
        return self.out

    def backward(self, grad):
        return grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True)


def _softmax_dim(op: str, input: Tensor, dim: Any) -> int:
    """The axis for a softmax; ``dim=None`` takes PyTorch's legacy implicit choice, with its warning."""
    ndim = input.ndim
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
            "as an argument.",
            UserWarning,
            stacklevel=3,
        )
        return 0 if ndim in (0, 1, 3) else 1
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: expected dim to be an int or None, got {type(dim).__name__} {dim!r}")
    if not lo <= dim <= hi:
        raise IndexError(
            f"{op}: expected dim in the range [{lo}, {hi}] for an input with {ndim} dimensions "
            f"(shape {input.shape}), got dim={dim}"
        )
    return int(dim) % max(ndim, 1)


def _apply_softmax(
    op: str, fn: type[Function], input: Tensor, dim: Any, dtype: Any, negate: bool = False
) -> Tensor:
    _check_input(op, input, allow_integer=dtype is not None)
    axis = _softmax_dim(op, input, dim)
    if dtype is not None:
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"{op}: expected dtype to be a floating-point dtype, got {np.dtype(dtype)}")
        input = input.to(dtype)
    if negate:
        input = -input
    if input.ndim == 0:  # a single element: softmax 1, log_softmax 0
        return fn.apply(input.reshape(1), axis=0).reshape(())
    return fn.apply(input, axis=axis)


# --------------------------------------------------------------------------------------------------
# public functions


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Rectified linear unit, max(x, 0), elementwise; the slope at 0 is 0.

    Shape: (*) -> (*). ``inplace`` is accepted for PyTorch compatibility; the result is a new tensor.

    >>> import cnnlab
    >>> relu(cnnlab.tensor([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """
    return _Relu.apply(_check_input("relu", input, allow_integer=True))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) elementwise (``hardtanh(x, 0, 6)``); slope 0 at 0 and at 6.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> relu6(cnnlab.tensor([-1.0, 3.0, 8.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return _Hardtanh.apply(_check_input("relu6", input), min_val=0.0, max_val=6.0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamp to [min_val, max_val]; the slope is 1 strictly inside, 0 elsewhere (including the ends).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> hardtanh(cnnlab.tensor([-2.0, 0.5, 2.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    _check_input("hardtanh", input)
    min_val = _check_number("hardtanh", "min_val", min_val)
    max_val = _check_number("hardtanh", "max_val", max_val)
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: expected min_val <= max_val, got min_val={min_val} and max_val={max_val}"
        )
    return _Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope · x otherwise; the slope at 0 is negative_slope.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> leaky_relu(cnnlab.tensor([-2.0, 3.0]), 0.5).tolist()
    [-1.0, 3.0]
    """
    _check_input("leaky_relu", input)
    slope = _check_number("leaky_relu", "negative_slope", negative_slope)
    return _LeakyRelu.apply(input, slope=slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Exponential linear unit: x for x > 0, alpha · (eˣ - 1) otherwise.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> [round(v, 4) for v in elu(cnnlab.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    _check_input("elu", input)
    return _Elu.apply(input, alpha=_check_number("elu", "alpha", alpha))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit x · Φ(x), exactly (``approximate='none'``) or with the tanh formula.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> [round(v, 4) for v in gelu(cnnlab.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.1587, 0.0, 0.8413]
    """
    _check_input("gelu", input)
    if approximate == "none":
        return _Gelu.apply(input)
    if approximate == "tanh":
        return _GeluTanh.apply(input)
    raise ValueError(f"gelu: approximate must be one of 'none', 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """Sigmoid linear unit (swish) x · σ(x).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> [round(v, 4) for v in silu(cnnlab.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.2689, 0.0, 0.7311]
    """
    return _Silu.apply(_check_input("silu", input))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · tanh(softplus(x)).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> [round(v, 4) for v in mish(cnnlab.tensor([-1.0, 1.0])).tolist()]
    [-0.3034, 0.8651]
    """
    return _Mish.apply(_check_input("mish", input))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6, the piecewise approximation of swish from MobileNetV3.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> hardswish(cnnlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [-0.0, 0.0, 4.0]
    """
    return _Hardswish.apply(_check_input("hardswish", input))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6, the piecewise linear approximation of the sigmoid.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> hardsigmoid(cnnlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return _Hardsigmoid.apply(_check_input("hardsigmoid", input))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta·x)) / beta, reverting to x where beta · x > threshold.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> [round(v, 4) for v in softplus(cnnlab.tensor([0.0, 30.0])).tolist()]
    [0.6931, 30.0]
    """
    _check_input("softplus", input)
    beta = _check_number("softplus", "beta", beta)
    threshold = _check_number("softplus", "threshold", threshold)
    if beta == 0:
        raise ValueError(f"softplus: expected a nonzero beta, got beta={beta}")
    return _Softplus.apply(input, beta=beta, threshold=threshold)


def sigmoid(input: Tensor) -> Tensor:
    """The logistic function 1 / (1 + e⁻ˣ), computed without overflow.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> sigmoid(cnnlab.tensor([0.0])).tolist()
    [0.5]
    """
    return _check_input("sigmoid", input, allow_integer=True).sigmoid()


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent, elementwise.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> tanh(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """
    return _check_input("tanh", input, allow_integer=True).tanh()


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(x) / Σ exp(x) along ``dim``, computed stably (the maximum is subtracted first).

    ``dim=None`` is PyTorch's deprecated implicit choice (dim 0 for 0-, 1- and 3-D inputs, else 1),
    with its warning. ``dtype`` casts the input first.

    Shape: (*) -> (*), summing to 1 along ``dim``.

    >>> import cnnlab
    >>> softmax(cnnlab.tensor([[0.0, 0.0], [0.0, 1e4]]), dim=1).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
    """
    return _apply_softmax("softmax", _Softmax, input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably as x - max - log Σ exp(x - max).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> log_softmax(cnnlab.tensor([[0.0, 1e4]]), dim=1).tolist()
    [[-10000.0, 0.0]]
    """
    return _apply_softmax("log_softmax", _LogSoftmax, input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-x) along ``dim``: the smallest entries get the largest weights.

    Shape: (*) -> (*), summing to 1 along ``dim``.

    >>> import cnnlab
    >>> softmin(cnnlab.tensor([0.0, 1e4]), dim=0).tolist()
    [1.0, 0.0]
    """
    return _apply_softmax("softmin", _Softmax, input, dim, dtype, negate=True)
