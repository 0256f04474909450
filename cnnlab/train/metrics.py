"""Classification metrics on NumPy arrays: accuracy, top-k accuracy, the confusion matrix, per-class accuracy.

Each function takes logits (or probabilities) of shape (N, K) and integer targets of shape (N,); they
accept ``Tensor`` or ``ndarray``. :class:`MetricAccumulator` sums them over the batches of an epoch
without keeping the batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MetricAccumulator", "accuracy", "confusion_matrix", "per_class_accuracy", "topk_accuracy"]


def _array(x: Any) -> np.ndarray:
    data = getattr(x, "data", x)  # Tensor -> its ndarray
    return np.asarray(data)


def _check(logits: Any, targets: Any, op: str) -> tuple[np.ndarray, np.ndarray]:
    logits, targets = _array(logits), _array(targets)
    if logits.ndim != 2:
        raise ValueError(f"{op}: expected logits of shape (N, num_classes), got shape {logits.shape}")
    if targets.shape != (logits.shape[0],):
        raise ValueError(
            f"{op}: expected targets of shape ({logits.shape[0]},) to match logits {logits.shape}, "
            f"got shape {targets.shape}"
        )
    return logits, targets.astype(np.int64, copy=False)


def accuracy(logits: Any, targets: Any) -> float:
    """Fraction of rows whose largest logit is at the target class.

    >>> accuracy([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], [1, 0, 0])
    0.6666666666666666
    """
    logits, targets = _check(logits, targets, "accuracy")
    return float(np.mean(logits.argmax(axis=1) == targets)) if len(targets) else 0.0


def _topk_hits(logits: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    # (N,) bool: the target is among the k largest logits. A row's rank of the target is the number of
    # logits strictly greater than it; ties count in the target's favour, as argsort-based top-k may not.
    k = min(k, logits.shape[1])
    target_logit = np.take_along_axis(logits, targets[:, None], axis=1)
    return (logits > target_logit).sum(axis=1) < k


def topk_accuracy(logits: Any, targets: Any, k: int = 5) -> float:
    """Fraction of rows whose target class is among the ``k`` largest logits.

    >>> topk_accuracy([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]], [2, 2], k=2)
    0.5
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"topk_accuracy: k must be a positive integer, got {k!r}")
    logits, targets = _check(logits, targets, "topk_accuracy")
    return float(np.mean(_topk_hits(logits, targets, int(k)))) if len(targets) else 0.0


def confusion_matrix(predictions: Any, targets: Any, num_classes: int) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class.

    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=3)
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 1, 1]])
    """
    predictions = _array(predictions).astype(np.int64, copy=False).ravel()
    targets = _array(targets).astype(np.int64, copy=False).ravel()
    if predictions.shape != targets.shape:
        raise ValueError(
            f"confusion_matrix: predictions and targets must have the same length, "
            f"got {predictions.shape[0]} and {targets.shape[0]}"
        )
    for name, values in (("predictions", predictions), ("targets", targets)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"confusion_matrix: {name} must lie in [0, {num_classes}), got values from "
                f"{values.min()} to {values.max()}"
            )
    flat = np.bincount(targets * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def per_class_accuracy(matrix: Any) -> np.ndarray:
    """Recall of each class from a confusion matrix: the diagonal over the row sums (NaN for empty rows).

    >>> per_class_accuracy([[3, 1], [0, 4]])
    array([0.75, 1.  ])
    """
    matrix = _array(matrix)
    totals = matrix.sum(axis=1)
    out = np.full(len(matrix), np.nan)
    np.divide(np.diag(matrix), totals, out=out, where=totals > 0)
    return out


class MetricAccumulator:
    """Running loss, accuracy, top-k accuracy and confusion matrix over the batches of an epoch.

    >>> m = MetricAccumulator(num_classes=3, topk=(2,))
    >>> m.update(loss=0.5, logits=[[2.0, 1.0, 0.0], [0.0, 1.0, 2.0]], targets=[0, 1])
    >>> m.result()["accuracy"], m.result()["top2_accuracy"], m.result()["loss"]
    (0.5, 1.0, 0.5)
    """

    def __init__(self, num_classes: int | None = None, topk: Sequence[int] = (5,)) -> None:
        self.num_classes = num_classes
        self.topk = tuple(int(k) for k in topk)
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self.count = 0
        self.loss_sum = 0.0
        self.correct = 0
        self.topk_correct = {k: 0 for k in self.topk}
        self.matrix: np.ndarray | None = None

    def update(self, loss: float, logits: Any, targets: Any) -> None:
        """Add one batch: its mean ``loss`` and its (N, K) ``logits`` against (N,) ``targets``."""
        logits, targets = _check(logits, targets, "MetricAccumulator.update")
        n, classes = logits.shape
        if self.num_classes is None:
            self.num_classes = classes
        predictions = logits.argmax(axis=1)
        self.count += n
        self.loss_sum += float(loss) * n
        self.correct += int((predictions == targets).sum())
        for k in self.topk:
            self.topk_correct[k] += int(_topk_hits(logits, targets, k).sum())
        batch_matrix = confusion_matrix(predictions, targets, max(self.num_classes, classes))
        self.matrix = batch_matrix if self.matrix is None else self.matrix + batch_matrix

    @property
    def loss(self) -> float:
        return self.loss_sum / self.count if self.count else float("nan")

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else float("nan")

    def result(self, detailed: bool = False) -> dict[str, Any]:
        """The metrics so far; ``detailed`` adds per-class accuracy and the confusion matrix (as lists)."""
        out: dict[str, Any] = {"loss": self.loss, "accuracy": self.accuracy}
        for k in self.topk:
            out[f"top{k}_accuracy"] = self.topk_correct[k] / self.count if self.count else float("nan")
        if detailed:
            matrix = (
                self.matrix if self.matrix is not None else np.zeros((self.num_classes or 0,) * 2, np.int64)
            )
            out["per_class_accuracy"] = [
                None if np.isnan(a) else float(a) for a in per_class_accuracy(matrix)
            ]
            out["confusion_matrix"] = matrix.tolist()
            out["num_samples"] = self.count
        return out
