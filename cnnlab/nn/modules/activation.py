"""Activation layers: each holds its hyperparameters and calls the F op of the same name."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = [
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Hardswish",
    "Hardsigmoid",
    "Hardtanh",
    "Softplus",
    "Mish",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Softmin",
]


def _inplace_repr(inplace: bool, leading: str = "") -> str:
    return f"{leading}inplace=True" if inplace else ""


class ReLU(Module):
    """max(0, x), element-wise.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> ReLU()(cnnlab.tensor([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardtanh(Module):
    """x clamped to [min_val, max_val], element-wise.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Hardtanh(-2.0, 2.0)(cnnlab.tensor([-3.0, 0.5, 3.0])).tolist()
    [-2.0, 0.5, 2.0]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if not max_val > min_val:
            raise ValueError(
                f"{type(self).__name__}: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_repr(self.inplace, ', ')}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6), element-wise (Hardtanh on [0, 6]).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> ReLU6()(cnnlab.tensor([-1.0, 3.0, 8.0])).tolist()
    [0.0, 3.0, 6.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """x for x >= 0, negative_slope·x otherwise.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> LeakyReLU(0.5)(cnnlab.tensor([-2.0, 3.0])).tolist()
    [-1.0, 3.0]
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace, ', ')}"


class ELU(Module):
    """x for x > 0, alpha·(exp(x) - 1) otherwise.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> ELU()(cnnlab.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_repr(self.inplace, ', ')}"


class GELU(Module):
    """x·Φ(x), Φ the standard normal CDF; ``approximate='tanh'`` uses the tanh approximation.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> GELU()(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be one of 'none', 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x·sigmoid(x) (also called swish).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> SiLU()(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Mish(Module):
    """x·tanh(softplus(x)).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Mish()(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardswish(Module):
    """x·relu6(x + 3)/6.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Hardswish()(cnnlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [-0.0, 0.0, 4.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input, self.inplace)


class Hardsigmoid(Module):
    """relu6(x + 3)/6.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Hardsigmoid()(cnnlab.tensor([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input, self.inplace)


class Softplus(Module):
    """log(1 + exp(beta·x))/beta, linear above ``threshold`` for stability.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Softplus()(cnnlab.tensor([30.0])).tolist()
    [30.0]
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Sigmoid(Module):
    """1/(1 + exp(-x)).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Sigmoid()(cnnlab.tensor([0.0])).tolist()
    [0.5]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Tanh()(cnnlab.tensor([0.0])).tolist()
    [0.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class _SoftmaxBase(Module):
    op: str

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self.op)(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x_i) / Σ_j exp(x_j) along ``dim``.

    Shape: (*) -> (*), summing to 1 along ``dim``.

    >>> import cnnlab
    >>> Softmax(dim=1)(cnnlab.zeros(1, 4)).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """

    op = "softmax"


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) along ``dim``, computed stably.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> round(LogSoftmax(dim=1)(cnnlab.zeros(1, 2))[0, 0].item(), 4)
    -0.6931
    """

    op = "log_softmax"


class Softmin(_SoftmaxBase):
    """softmax(-x) along ``dim``.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Softmin(dim=0)(cnnlab.zeros(2)).tolist()
    [0.5, 0.5]
    """

    op = "softmin"
