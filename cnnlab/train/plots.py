"""The plots of a run, as PNG files: learning curves, the confusion matrix, misclassified images.

matplotlib is imported inside each function and drawn through its object API (``Figure`` and the Agg
canvas), so no global backend is switched and nothing is shown on screen. Files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..files import save_figure

__all__ = ["plot_confusion_matrix", "plot_history", "plot_misclassified"]

_TRAIN, _VAL = "#1f77b4", "#d62728"


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")




def plot_history(
    history: Sequence[dict[str, Any]], path: str | os.PathLike, title: str | None = None
) -> None:
    """Loss and accuracy per epoch, train and validation, side by side; marks the best validation epoch."""
    if not history:
        raise ValueError("plot_history: the history is empty; train at least one epoch first")
    fig = _figure(10, 4)
    epochs = [row["epoch"] for row in history]
    axes = fig.subplots(1, 2)
    for ax, metric, label, scale in (
        (axes[0], "loss", "cross-entropy loss", 1.0),
        (axes[1], "accuracy", "accuracy (%)", 100.0),
    ):
        for prefix, name, color in (("", "train", _TRAIN), ("val_", "validation", _VAL)):
            values = [row.get(prefix + metric) for row in history]
            if all(v is None for v in values):
                continue
            ys = [np.nan if v is None else scale * v for v in values]
            if prefix == "val_" and not all(np.isnan(ys)):
                best = int(np.nanargmin(ys) if metric == "loss" else np.nanargmax(ys))
                shown = f"{ys[best]:.3f}" if metric == "loss" else f"{ys[best]:.1f}%"
                name = f"{name} (best {shown}, epoch {epochs[best]})"
                ax.plot([epochs[best]], [ys[best]], marker="*", markersize=14, color=color, zorder=3)
            ax.plot(epochs, ys, marker="o", markersize=4, color=color, label=name, linewidth=2)
        ax.set_title("Loss" if metric == "loss" else "Accuracy")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.margins(x=0.05, y=0.1)
        ax.legend(loc="upper right" if metric == "loss" else "lower right")
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
    if title:
        fig.suptitle(title, fontsize=12)
    save_figure(fig, path)


def plot_confusion_matrix(
    matrix: Any, class_names: Sequence[str], path: str | os.PathLike, title: str | None = None
) -> None:
    """The confusion matrix as a heat map: rows true class, columns predicted, each row as percentages.

    Every cell shows its count; the colour is the share of the true class (so rare classes read as
    clearly as common ones), and each row label carries the class's accuracy.
    """
    matrix = np.asarray(matrix)
    k = len(matrix)
    if matrix.shape != (k, k) or len(class_names) != k:
        raise ValueError(
            f"plot_confusion_matrix: expected a square matrix with one row per class ({len(class_names)} names), "
            f"got shape {matrix.shape}"
        )
    totals = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    size = max(5.0, 0.6 * k + 2.5)
    fig = _figure(size + 1.2, size)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02, label="share of the true class")
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8 if k > 12 else 9,
                    color="white" if share[i, j] > 0.5 else "black",
                )
    recall = np.divide(np.diag(matrix), totals[:, 0], out=np.zeros(k), where=totals[:, 0] > 0)
    ax.set_xticks(range(k), labels=list(class_names), rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), labels=[f"{name} ({100 * r:.0f}%)" for name, r in zip(class_names, recall)])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class (accuracy)")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(title or f"Confusion matrix: {100 * accuracy:.1f}% of {matrix.sum()} images correct")
    save_figure(fig, path)


def plot_misclassified(
    images: Any,
    true: Sequence[int],
    predicted: Sequence[int],
    confidence: Sequence[float],
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str | None = None,
    columns: int = 6,
) -> None:
    """A grid of images with their true and predicted labels and the model's confidence.

    ``images`` is (N, H, W) or (N, H, W, C) uint8, or (N, C, H, W) floats (scaled per image).
    """
    images = np.asarray(images)
    n = len(images)
    fig_rows = max(1, -(-n // columns))
    fig = _figure(1.9 * columns, 2.15 * fig_rows + 0.5)
    axes = np.atleast_1d(fig.subplots(fig_rows, columns, squeeze=False)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, image, t, p, c in zip(axes, images, true, predicted, confidence):
        if image.dtype != np.uint8:
            if image.ndim == 3:
                image = np.moveaxis(image, 0, -1)  # C,H,W -> H,W,C
            lo, hi = float(image.min()), float(image.max())
            image = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
        ax.set_title(
            f"true: {class_names[t]}\npred: {class_names[p]} ({100 * c:.0f}%)", fontsize=8.5, color="#b00020"
        )
    if n == 0:
        axes[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center", fontsize=12)
    fig.suptitle(title or "Misclassified test images", fontsize=12)
    save_figure(fig, path)
