"""Loss layers: each holds its options (and weight buffers, as PyTorch) and calls the F loss."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = [
    "CrossEntropyLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "KLDivLoss",
]


def _legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce flags to ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _optional_tensor(layer: str, name: str, value: Any) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    raise TypeError(f"{layer}: {name} must be a Tensor or None, got {type(value).__name__}")


class _Loss(Module):
    _reductions = ("none", "mean", "sum")

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in self._reductions:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {', '.join(repr(r) for r in self._reductions)}, "
                f"got {reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(type(self).__name__, "weight", weight))


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy between logits and class indices (or class probabilities), with optional class
    weights, ``ignore_index`` and ``label_smoothing``.

    Shape: input (N, C) or (N, C, d1, ...), target (N) or (N, d1, ...) of indices, or the shape of input
    for probabilities -> scalar (or (N, d1, ...) with reduction='none').

    >>> import cnnlab
    >>> loss = CrossEntropyLoss()
    >>> round(loss(cnnlab.zeros(3, 4), cnnlab.tensor([0, 1, 3])).item(), 4)
    1.3863
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
            )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities at the target classes.

    Shape: input (N, C) or (N, C, d1, ...), target (N) or (N, d1, ...) -> scalar (or per element).

    >>> import cnnlab
    >>> NLLLoss()(cnnlab.tensor([[-1.0, -2.0]]), cnnlab.tensor([1])).item()
    2.0
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """Binary cross entropy between probabilities and targets in [0, 1] (log clamped at -100, as PyTorch).

    Shape: input (*), target (*) -> scalar (or (*) with reduction='none').

    >>> import cnnlab
    >>> round(BCELoss()(cnnlab.tensor([0.5]), cnnlab.tensor([1.0])).item(), 4)
    0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross entropy in one numerically stable step; ``pos_weight`` weights positives.

    Shape: input (*), target (*) -> scalar (or (*) with reduction='none').

    >>> import cnnlab
    >>> round(BCEWithLogitsLoss()(cnnlab.tensor([0.0]), cnnlab.tensor([1.0])).item(), 4)
    0.6931
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor("BCEWithLogitsLoss", "weight", weight))
        self.register_buffer("pos_weight", _optional_tensor("BCEWithLogitsLoss", "pos_weight", pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class MSELoss(_Loss):
    """Mean squared error: (input - target)².

    Shape: input (*), target (*) -> scalar (or (*) with reduction='none').

    >>> import cnnlab
    >>> MSELoss()(cnnlab.tensor([1.0, 3.0]), cnnlab.tensor([0.0, 0.0])).item()
    5.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: |input - target|.

    Shape: input (*), target (*) -> scalar (or (*) with reduction='none').

    >>> import cnnlab
    >>> L1Loss()(cnnlab.tensor([1.0, -3.0]), cnnlab.tensor([0.0, 0.0])).item()
    2.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5·d²/beta where |d| < beta, else |d| - 0.5·beta (d = input - target).

    Shape: input (*), target (*) -> scalar (or (*) with reduction='none').

    >>> import cnnlab
    >>> SmoothL1Loss()(cnnlab.tensor([0.5, 3.0]), cnnlab.tensor([0.0, 0.0])).item()
    1.3125
    """

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta) (d = input - target).

    Shape: input (*), target (*) -> scalar (or (*) with reduction='none').

    >>> import cnnlab
    >>> HuberLoss(delta=2.0)(cnnlab.tensor([1.0, 3.0]), cnnlab.tensor([0.0, 0.0])).item()
    2.25
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence target·(log target - input), input being log-probabilities
    (and target too when ``log_target``). Use reduction='batchmean' for the mathematical KL.

    Shape: input (*), target (*) -> scalar (or (*) with reduction='none').

    >>> import cnnlab
    >>> KLDivLoss(reduction="batchmean")(cnnlab.tensor([[-0.6931, -0.6931]]), cnnlab.tensor([[0.5, 0.5]])).abs().item() < 1e-4
    True
    """

    _reductions = ("none", "mean", "sum", "batchmean")

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
