"""Loss functions with PyTorch's names, arguments and reductions.

Classification: ``cross_entropy`` (one fused log-softmax + gather, with class weights, ``ignore_index``
and label smoothing, or probability targets), ``nll_loss``, ``binary_cross_entropy`` and the stable
``binary_cross_entropy_with_logits``. Regression: ``mse_loss``, ``l1_loss``, ``smooth_l1_loss``,
``huber_loss``. Distributions: ``kl_div``.

Conventions shared with PyTorch: ``reduction`` is 'none', 'mean' or 'sum' (``kl_div`` adds
'batchmean'); the deprecated ``size_average``/``reduce`` flags map onto it, with PyTorch's warning. With
class weights and ``reduction='mean'`` the sum is divided by the total weight of the targets that are
not ignored, not by their number. Class weights and ``pos_weight`` are constants: like PyTorch, no
gradient flows into them. NaN and Inf in the input reach the loss; nothing is clamped away except the
logarithms of ``binary_cross_entropy``, clamped at -100 as PyTorch does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...autograd import Function, is_grad_enabled
from ...tensor import Tensor, result_type
from .activation import _log_softmax, _sigmoid

__all__ = [
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
]

_REDUCTIONS = ("none", "mean", "sum")


# --------------------------------------------------------------------------------------------------
# argument checks


def _reduction(
    op: str, size_average: Any, reduce: Any, reduction: Any, valid: tuple[str, ...] = _REDUCTIONS
) -> str:
    """``reduction``, or the one PyTorch's deprecated ``size_average``/``reduce`` flags stand for."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    if not isinstance(reduction, str) or reduction not in valid:
        raise ValueError(
            f"{op}: reduction must be one of {', '.join(repr(r) for r in valid)}, got {reduction!r}"
        )
    return reduction


def _check_tensor(op: str, name: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(value).__name__}")
    return value


def _check_input(op: str, input: Any) -> Tensor:
    _check_tensor(op, "input", input)
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {input.dtype}")
    return input


def _check_number(op: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: expected {name} to be a number, got {type(value).__name__} {value!r}")
    return float(value)


def _constant(op: str, name: str, value: Any, dtype: np.dtype) -> np.ndarray | None:
    """A weight argument as an array of the input's dtype; weights take no gradient (as in PyTorch)."""
    if value is None:
        return None
    _check_tensor(op, name, value)
    if value.dtype.kind != "f":
        raise TypeError(f"{op}: expected {name} to be a floating-point Tensor, got dtype {value.dtype}")
    if value.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{op}: {name} is not differentiable (as in PyTorch), but it requires grad; pass {name}.detach()"
        )
    return value.data.astype(dtype, copy=False)


def _promote(op: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:
    """Input and target of an elementwise loss in their common dtype, broadcast-checked."""
    _check_input(op, input)
    _check_tensor(op, "target", target)
    if target.dtype.kind not in "fiu":
        raise TypeError(f"{op}: expected a numeric target, got dtype {target.dtype}")
    if target.shape != input.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(
                f"{op}: expected target of the input's shape {input.shape} (or one that broadcasts to it), "
                f"got target of shape {target.shape}"
            ) from None
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
            "same size.",
            UserWarning,
            stacklevel=3,
        )
    dtype = result_type(input, target)
    return input.to(dtype), target.to(dtype)


def _same_shape(op: str, input: Tensor, target: Any) -> Tensor:
    _check_tensor(op, "target", target)
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: expected target of the input's shape {input.shape}, got target of shape {target.shape}"
        )
    if target.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point target, got dtype {target.dtype}")
    return target.to(input.dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _weighted(
    op: str, loss: Tensor, weight: Any, input: Tensor, reduction: str, mean_by_weight: bool
) -> Tensor:
    """PyTorch's elementwise ``weight`` of the regression losses: the loss times weight (weight is
    differentiable here); 'mean' divides by the sum of the weights (mse, l1) or by the count (huber)."""
    if weight is None:
        return _reduce(loss, reduction)
    _check_tensor(op, "weight", weight)
    if weight.shape != input.shape:
        raise ValueError(
            f"{op}: expected weight of the input's shape {input.shape}, got weight of shape {weight.shape}"
        )
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------------------------------
# classification with class indices: one Function for nll_loss and cross_entropy


def _class_target(op: str, input: Tensor, target: Any, ignore_index: Any) -> np.ndarray:
    """Check a class-index target against an (N, C, d1, ...) input; return it as an int64 array."""
    N, C = input.shape[:2]
    expected = (N,) + input.shape[2:]
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: expected target of an integer dtype (class indices) and shape {expected}, or of a "
            f"floating dtype and the input's shape {input.shape} (class probabilities, cross_entropy only); "
            f"got target of dtype {target.dtype} and shape {target.shape}"
        )
    if target.shape != expected:
        raise ValueError(
            f"{op}: expected target of shape {expected} (the input's shape without the class dimension 1), "
            f"got target of shape {target.shape} for input of shape {input.shape}"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(
            f"{op}: expected ignore_index to be an int, got {type(ignore_index).__name__} {ignore_index!r}"
        )
    t = target.data.astype(np.int64, copy=False)
    bad = ((t < 0) | (t >= C)) & (t != ignore_index)
    if bad.any():
        value = t.reshape(-1)[np.flatnonzero(bad)[0]]
        raise IndexError(
            f"{op}: target {value} is out of bounds for {C} classes (expected values in [0, {C - 1}] "
            f"or ignore_index={ignore_index})"
        )
    return t


class _ClassLoss(Function):
    """Weighted negative log likelihood of class indices along axis 1, optionally of log_softmax(x)
    (cross entropy, fused) and with label smoothing.

    x (N, C, *S), target (N, *S). Per element i: nll_i = -w[t_i] logp[i, t_i], smooth_i = -Σ_c w_c logp[i, c],
    both 0 where t_i = ignore_index; loss_i = (1 - ε) nll_i + ε/C smooth_i. 'mean' divides the sum by the
    total weight w[t_i] of the kept targets (their number, without class weights), as PyTorch does.
    """

    def forward(self, x, target, weight, ignore_index, reduction, smoothing, from_logits):
        C = x.shape[1]
        logp = _log_softmax(x, axis=1) if from_logits else x
        ignored = target == ignore_index
        safe = np.where(ignored, 0, target)[:, None]  # (N, 1, *S): an index for take_along_axis
        w_t = (weight[safe[:, 0]] if weight is not None else np.ones(target.shape, x.dtype)) * ~ignored
        picked = np.take_along_axis(logp, safe, axis=1)[:, 0]  # (N, *S)
        # where, not a product: an ignored element contributes 0 even if its row holds NaN or -inf
        nll = np.where(ignored, x.dtype.type(0), -w_t * picked)
        self.logp, self.safe, self.w_t, self.ignored = logp, safe, w_t, ignored
        self.weight, self.reduction, self.smoothing, self.from_logits = (
            weight,
            reduction,
            smoothing,
            from_logits,
        )

        smooth = None
        if smoothing > 0:
            w = weight.reshape((1, C) + (1,) * (x.ndim - 2)) if weight is not None else None
            smooth = -(logp * w if w is not None else logp).sum(axis=1)
            smooth = np.where(ignored, x.dtype.type(0), smooth)

        with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: 0/0 = NaN, as PyTorch
            if reduction == "none":
                out = nll if smooth is None else (1 - smoothing) * nll + (smoothing / C) * smooth
            elif reduction == "sum":
                out = (
                    nll.sum()
                    if smooth is None
                    else (1 - smoothing) * nll.sum() + (smoothing / C) * smooth.sum()
                )
            else:
                self.total = w_t.sum()
                out = nll.sum() / self.total
                if smooth is not None:
                    out = (1 - smoothing) * out + (smoothing / C) * (smooth.sum() / self.total)
        return np.asarray(out, dtype=x.dtype)

    def backward(self, grad):
        logp, safe, w_t, eps = self.logp, self.safe, self.w_t, self.smoothing
        C = logp.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: NaN, as in PyTorch
            per = grad / self.total if self.reduction == "mean" else grad  # (N, *S) for 'none', else ()
            # ignored targets take no gradient, even when the mean is NaN (where, not a product)
            zero = logp.dtype.type(0)
            a = np.where(self.ignored, zero, (1 - eps) * per * w_t)  # -(d loss / d logp) at the target class
            # G = d loss / d logp: -a at the target class, minus ε/C · b_i · w_c everywhere
            if eps > 0:
                b = np.where(self.ignored, zero, (eps / C) * per)[:, None]
                w = self.weight.reshape((1, C) + (1,) * (logp.ndim - 2)) if self.weight is not None else 1
                g = np.empty_like(logp)
                g[...] = -(b * w)
            else:
                g = np.zeros_like(logp)
            at_target = np.take_along_axis(g, safe, axis=1) - a[:, None]
            np.put_along_axis(g, safe, at_target, axis=1)
            if self.from_logits:  # through log_softmax: dx = G - softmax · Σ_c G
                g = g - np.exp(logp) * g.sum(axis=1, keepdims=True)
        return g.astype(logp.dtype, copy=False)


class _SoftTargetCrossEntropy(Function):
    """Cross entropy with class probabilities: loss_i = -Σ_c w_c t'_ic log_softmax(x)_ic with
    t' = (1 - ε) t + ε/C; 'mean' divides by the number of elements N·d1·…, not by the weights."""

    def forward(self, x, target, weight, reduction, smoothing):
        C = x.shape[1]
        logp = _log_softmax(x, axis=1)
        w = weight.reshape((1, C) + (1,) * (x.ndim - 2)) if weight is not None else None
        t = (1 - smoothing) * target + smoothing / C if smoothing > 0 else target
        tw = t * w if w is not None else t
        per = -(tw * logp).sum(axis=1)  # (N, *S)
        self.logp, self.tw, self.w, self.reduction, self.smoothing = logp, tw, w, reduction, smoothing
        self.count = per.size
        if reduction == "none":
            return per
        total = per.sum()
        return np.asarray(total / x.dtype.type(self.count) if reduction == "mean" else total, dtype=x.dtype)

    def backward(self, grad):
        logp = self.logp
        scale = grad / logp.dtype.type(self.count) if self.reduction == "mean" else grad
        scale = np.asarray(scale)[:, None] if self.reduction == "none" else scale  # (N, 1, *S) or ()
        gx = gt = None
        if self.needs_input_grad[0]:
            g = -scale * self.tw  # d loss / d logp
            gx = g - np.exp(logp) * g.sum(axis=1, keepdims=True)
        if self.needs_input_grad[1]:
            gt = -(1 - self.smoothing) * scale * (logp * self.w if self.w is not None else logp)
        return gx, gt


def _unbatched(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, bool]:
    """(C,) input with a 0-d (or (C,) probability) target becomes a batch of one."""
    if input.ndim == 1:
        return input.reshape(1, -1), target.reshape((1,) + target.shape), True
    return input, target, False


def _check_class_input(op: str, input: Any, target: Any) -> None:
    _check_input(op, input)
    _check_tensor(op, "target", target)
    if input.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (C,) or (N, C, d1, ...), got a 0-d input")


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood: -weight[t] · input[t] for each target class index t.

    ``input`` holds log-probabilities. Targets equal to ``ignore_index`` contribute 0 and, with
    'mean', are left out of the denominator (the sum of the weights of the kept targets).

    Shape: input (N, C) or (N, C, d1, ...) or (C,), target (N,) or (N, d1, ...) or () -> scalar, or the
    target's shape with ``reduction='none'``.

    >>> import cnnlab
    >>> nll_loss(cnnlab.tensor([[-1.0, -2.0], [-3.0, -0.5]]), cnnlab.tensor([1, 1])).item()
    1.25
    """
    op = "nll_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_class_input(op, input, target)
    x, t, unbatched = _unbatched(input, target)
    t = _class_target(op, x, t, ignore_index)
    w = _weight_of_classes(op, weight, x)
    out = _ClassLoss.apply(
        x,
        target=t,
        weight=w,
        ignore_index=ignore_index,
        reduction=reduction,
        smoothing=0.0,
        from_logits=False,
    )
    return out.reshape(()) if unbatched and reduction == "none" else out


def _weight_of_classes(op: str, weight: Any, x: Tensor) -> np.ndarray | None:
    w = _constant(op, "weight", weight, x.dtype)
    if w is not None and w.shape != (x.shape[1],):
        raise ValueError(
            f"{op}: expected weight of shape (C,) = ({x.shape[1]},), one per class, "
            f"got weight of shape {w.shape}"
        )
    return w


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits and class indices (or class probabilities), computed as one fused
    log-softmax and gather.

    With indices, targets equal to ``ignore_index`` are skipped, and 'mean' divides by the total weight
    of the kept targets. ``label_smoothing`` ε mixes the one-hot target with the uniform distribution:
    loss = (1 - ε) · nll + ε/C · Σ_c -weight_c log p_c. With probabilities (a floating target of the
    input's shape), loss = -Σ_c weight_c target_c log p_c and 'mean' divides by the number of elements.

    Shape: input (N, C) or (N, C, d1, ...) or (C,); target (N,) / (N, d1, ...) / () of class indices or
    of the input's shape for probabilities -> scalar, or (N, d1, ...) with ``reduction='none'``.

    >>> import cnnlab
    >>> round(cross_entropy(cnnlab.zeros(3, 4), cnnlab.tensor([0, 1, 3])).item(), 4)
    1.3863
    >>> round(cross_entropy(cnnlab.tensor([[1e4, 0.0]]), cnnlab.tensor([1])).item(), 1)
    10000.0
    """
    op = "cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_class_input(op, input, target)
    eps = _check_number(op, "label_smoothing", label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    probabilities = target.dtype.kind == "f" and target.shape == input.shape
    x, t, unbatched = _unbatched(input, target)
    w = _weight_of_classes(op, weight, x)
    if probabilities:
        if ignore_index != -100:
            raise ValueError(
                f"{op}: ignore_index is not supported with class-probability targets (a floating target of "
                f"the input's shape), got ignore_index={ignore_index}"
            )
        if t.dtype != x.dtype:
            t = t.to(x.dtype)
        out = _SoftTargetCrossEntropy.apply(x, t, weight=w, reduction=reduction, smoothing=eps)
    else:
        indices = _class_target(op, x, t, ignore_index)
        out = _ClassLoss.apply(
            x,
            target=indices,
            weight=w,
            ignore_index=ignore_index,
            reduction=reduction,
            smoothing=eps,
            from_logits=True,
        )
    return out.reshape(()) if unbatched and reduction == "none" else out


# --------------------------------------------------------------------------------------------------
# binary classification


_BCE_EPSILON = float(np.float32(1e-12))


class _BinaryCrossEntropy(Function):
    def forward(self, x, t, weight):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)  # PyTorch clamps the logarithms at -100: finite at 0 and 1
            log_1mx = np.maximum(np.log1p(-x), -100)
        self.x, self.t, self.weight = x, t, weight
        loss = (t - 1) * log_1mx - t * log_x
        return loss if weight is None else loss * weight

    def backward(self, grad):
        x, t = self.x, self.t
        g = grad if self.weight is None else grad * self.weight
        gx = gt = None
        if self.needs_input_grad[0]:
            # (x - t) / (x (1 - x)), the denominator kept from 0 as PyTorch does (EPSILON: float32 1e-12)
            gx = g * (x - t) / np.maximum((1 - x) * x, _BCE_EPSILON)
        if self.needs_input_grad[1]:
            with np.errstate(
                divide="ignore", invalid="ignore"
            ):  # unclamped here, as in PyTorch: ±inf at 0, 1
                gt = g * (np.log1p(-x) - np.log(x))
        return gx, gt


class _BinaryCrossEntropyWithLogits(Function):
    """(1 - t) x - (1 + (p - 1) t) log σ(x), with log σ(x) = min(x, 0) - log1p(e^-|x|): no overflow."""

    def forward(self, x, t, weight, pos_weight):
        log_sig = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
        lw = 1 + (pos_weight - 1) * t if pos_weight is not None else None
        loss = (1 - t) * x - (lw * log_sig if lw is not None else log_sig)
        self.x, self.t, self.weight, self.pos_weight, self.lw, self.log_sig = (
            x,
            t,
            weight,
            pos_weight,
            lw,
            log_sig,
        )
        return loss if weight is None else loss * weight

    def backward(self, grad):
        x, t, pw = self.x, self.t, self.pos_weight
        g = grad if self.weight is None else grad * self.weight
        gx = gt = None
        if self.needs_input_grad[0]:
            s = _sigmoid(x)
            gx = g * (s - t if pw is None else self.lw * s - pw * t)
        if self.needs_input_grad[1]:
            gt = g * (-x if pw is None else -x - (pw - 1) * self.log_sig)
        return gx, gt


def _broadcast_weight(op: str, name: str, value: Any, input: Tensor) -> np.ndarray | None:
    w = _constant(op, name, value, input.dtype)
    if w is not None:
        try:
            np.broadcast_shapes(w.shape, input.shape)
        except ValueError:
            raise ValueError(
                f"{op}: expected {name} to broadcast to the input's shape {input.shape}, got {name} of shape "
                f"{w.shape}"
            ) from None
    return w


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross entropy -w (t log x + (1 - t) log(1 - x)) between probabilities x and targets t,
    with both logarithms clamped at -100 as PyTorch does.

    Shape: input (*), target (*) of the same shape, weight broadcastable to it -> scalar, or (*) with
    ``reduction='none'``.

    >>> import cnnlab
    >>> round(binary_cross_entropy(cnnlab.tensor([0.5, 0.9]), cnnlab.tensor([1.0, 1.0])).item(), 4)
    0.3993
    """
    op = "binary_cross_entropy"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_input(op, input)
    target = _same_shape(op, input, target)
    w = _broadcast_weight(op, "weight", weight, input)
    x = input.data
    if x.size and not (x.min() >= 0 and x.max() <= 1):  # NaN fails both comparisons
        raise ValueError(
            f"{op}: expected all elements of input to be probabilities between 0 and 1, got values from "
            f"{x.min()} to {x.max()} (for logits use binary_cross_entropy_with_logits)"
        )
    return _reduce(_BinaryCrossEntropy.apply(input, target, weight=w), reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy of sigmoid(input), computed stably from the logits.

    loss = -w (p t log σ(x) + (1 - t) log(1 - σ(x))), with ``pos_weight`` p weighting the positive term
    (p broadcasts along the last, class, dimension).

    Shape: input (*), target (*) of the same shape -> scalar, or (*) with ``reduction='none'``.

    >>> import cnnlab
    >>> loss = binary_cross_entropy_with_logits(cnnlab.tensor([0.0, 100.0]), cnnlab.tensor([1.0, 1.0]))
    >>> round(loss.item(), 4)
    0.3466
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, size_average, reduce, reduction)
    _check_input(op, input)
    target = _same_shape(op, input, target)
    w = _broadcast_weight(op, "weight", weight, input)
    pw = _broadcast_weight(op, "pos_weight", pos_weight, input)
    return _reduce(_BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw), reduction)


# --------------------------------------------------------------------------------------------------
# regression: pointwise in d = input - target; the target's gradient is minus the input's


class _Pointwise(Function):
    """A loss of d = x - t; subclasses give ``value(d)`` and ``slope(d)``."""

    def forward(self, x, t, **params):
        self.params = params
        self.d = x - t
        return self.value(self.d, **params)

    def backward(self, grad):
        g = grad * self.slope(self.d, **self.params)
        return (g if self.needs_input_grad[0] else None), (-g if self.needs_input_grad[1] else None)


class _Squared(_Pointwise):
    @staticmethod
    def value(d):
        return d * d

    @staticmethod
    def slope(d):
        return 2 * d


class _Absolute(_Pointwise):
    @staticmethod
    def value(d):
        return np.abs(d)

    @staticmethod
    def slope(d):
        return np.sign(d)


class _SmoothL1(_Pointwise):
    @staticmethod
    def value(d, beta):
        a = np.abs(d)
        return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    @staticmethod
    def slope(d, beta):
        return np.clip(d / beta, -1, 1)  # sign(d) outside (-beta, beta), d / beta inside


class _Huber(_Pointwise):
    @staticmethod
    def value(d, delta):
        a = np.abs(d)
        return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def slope(d, delta):
        return np.clip(d, -delta, delta)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Squared error (x - t)², optionally times an elementwise ``weight`` ('mean' then divides by the sum
    of the weights, as in PyTorch).

    Shape: input (*), target (*) -> scalar, or (*) with ``reduction='none'``.

    >>> import cnnlab
    >>> mse_loss(cnnlab.tensor([1.0, 2.0]), cnnlab.tensor([0.0, 0.0])).item()
    2.5
    """
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    x, t = _promote("mse_loss", input, target)
    return _weighted("mse_loss", _Squared.apply(x, t), weight, input, reduction, mean_by_weight=True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Absolute error |x - t| (the slope at 0 is 0), optionally times an elementwise ``weight`` ('mean'
    then divides by the sum of the weights, as in PyTorch).

    Shape: input (*), target (*) -> scalar, or (*) with ``reduction='none'``.

    >>> import cnnlab
    >>> l1_loss(cnnlab.tensor([1.0, -2.0]), cnnlab.tensor([0.0, 0.0])).item()
    1.5
    """
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    x, t = _promote("l1_loss", input, target)
    return _weighted("l1_loss", _Absolute.apply(x, t), weight, input, reduction, mean_by_weight=True)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d² / beta where |d| < beta, else |d| - 0.5 beta, for d = x - t; beta = 0 is the L1 loss.

    Shape: input (*), target (*) -> scalar, or (*) with ``reduction='none'``.

    >>> import cnnlab
    >>> smooth_l1_loss(cnnlab.tensor([0.5, 3.0]), cnnlab.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    op = "smooth_l1_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    beta = _check_number(op, "beta", beta)
    if beta < 0:
        raise ValueError(f"{op}: expected beta >= 0 (0 gives the L1 loss), got beta={beta}")
    x, t = _promote(op, input, target)
    loss = _Absolute.apply(x, t) if beta == 0 else _SmoothL1.apply(x, t, beta=beta)
    return _reduce(loss, reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """0.5 d² where |d| < delta, else delta (|d| - 0.5 delta), for d = x - t; an elementwise ``weight``
    scales each element ('mean' stays the mean over elements, as in PyTorch).

    Shape: input (*), target (*) -> scalar, or (*) with ``reduction='none'``.

    >>> import cnnlab
    >>> huber_loss(cnnlab.tensor([0.5, 3.0]), cnnlab.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    op = "huber_loss"
    reduction = _reduction(op, None, None, reduction)
    delta = _check_number(op, "delta", delta)
    if delta <= 0:
        raise ValueError(f"{op}: expected delta > 0, got delta={delta}")
    x, t = _promote(op, input, target)
    return _weighted(op, _Huber.apply(x, t, delta=delta), weight, input, reduction, mean_by_weight=False)


# --------------------------------------------------------------------------------------------------
# distributions


class _KLDiv(Function):
    """Pointwise t (log t - x), or e^t (t - x) for log-space targets; t log t is 0 at t = 0."""

    def forward(self, x, t, log_target):
        self.x, self.t, self.log_target = x, t, log_target
        if log_target:
            self.p = np.exp(t)
            return self.p * (t - x)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_log_t = np.where(t == 0, x.dtype.type(0), t * np.log(t))  # NaN for t < 0, as PyTorch
        return t_log_t - t * x

    def backward(self, grad):
        x, t = self.x, self.t
        gx = gt = None
        if self.needs_input_grad[0]:
            gx = -grad * (self.p if self.log_target else t)
        if self.needs_input_grad[1]:
            if self.log_target:
                gt = grad * self.p * (t - x + 1)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gt = grad * (np.log(t) + 1 - x)
        return gx, gt


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence KL(target ‖ exp(input)) pointwise: t (log t - x), input in log space.

    ``reduction='batchmean'`` divides the sum by the batch size (the true KL divergence per sample);
    'mean' divides by the number of elements and warns, as PyTorch does. ``log_target`` takes the target
    in log space too.

    Shape: input (*), target (*) -> scalar, or (*) with ``reduction='none'``.

    >>> import cnnlab
    >>> p = cnnlab.tensor([[0.25, 0.75]])
    >>> kl_div(p.log(), p, reduction="batchmean").item()
    0.0
    """
    op = "kl_div"
    reduction = _reduction(op, size_average, reduce, reduction, valid=("none", "batchmean", "sum", "mean"))
    if not isinstance(log_target, (bool, np.bool_)):
        raise TypeError(
            f"{op}: expected log_target to be a bool, got {type(log_target).__name__} {log_target!r}"
        )
    x, t = _promote(op, input, target)
    loss = _KLDiv.apply(x, t, log_target=bool(log_target))
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning,
            stacklevel=2,
        )
        return loss.mean()
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)
