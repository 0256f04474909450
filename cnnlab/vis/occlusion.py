"""Occlusion sensitivity: how much the target class's probability drops when a patch is hidden.

Zeiler and Fergus, "Visualizing and understanding convolutional networks" (2014), figure 7. A
``patch`` × ``patch`` square of ``baseline`` values slides over the image by ``stride``; the last
position in each direction is moved in to touch the edge so that every pixel is covered. Each pixel's
value is the drop p(target | x) - p(target | x occluded), averaged over the patches that cover it.
All occluded copies go through the model in batches, one forward per batch, with no graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.functional.activation import softmax
from ..nn.modules.module import Module
from ..tensor import Tensor
from ._common import as_batch, check_logits, check_model, check_positive_int, check_targets, explaining

__all__ = ["occlusion", "patch_positions"]


def patch_positions(size: int, patch: int, stride: int) -> list[int]:
    """Start offsets of a ``patch`` sliding by ``stride`` along ``size`` pixels, the last one flush with the edge.

    >>> patch_positions(10, 4, 3)
    [0, 3, 6]
    >>> patch_positions(11, 4, 3)
    [0, 3, 6, 7]
    """
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def _pair(value: Any, op: str, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return check_positive_int(value[0], op, name), check_positive_int(value[1], op, name)
    v = check_positive_int(value, op, name)
    return v, v


def occlusion(
    model: Module,
    x: Any,
    target: Any = None,
    patch: int | tuple[int, int] = 8,
    stride: int | tuple[int, int] = 4,
    baseline: float | Sequence[float] = 0.0,
    batch_size: int = 256,
) -> np.ndarray:
    """The drop in the target class's probability when each region of the image is occluded.

    ``target`` defaults to the predicted class. ``baseline`` is the value hiding the patch: a number,
    or one per channel (say, black in a normalised model's units, (0 - mean) / std). Positive values
    mark regions the prediction relies on; negative ones regions whose removal makes the class more
    likely.

    Shape: x (N, C, H, W) -> (N, H, W).

    >>> import numpy as np
    >>> from cnnlab.models import lenet5
    >>> occlusion(lenet5(), np.zeros((1, 1, 28, 28), np.float32), patch=14, stride=14).shape
    (1, 28, 28)
    """
    op = "occlusion"
    model = check_model(model, op)
    x = as_batch(x, op)
    N, C, H, W = x.shape
    ph, pw = _pair(patch, op, "patch")
    sh, sw = _pair(stride, op, "stride")
    batch_size = check_positive_int(batch_size, op, "batch_size")
    if ph > H or pw > W:
        raise ValueError(f"{op}: expected patch no larger than the image ({H}×{W}), got patch {ph}×{pw}")
    try:
        fill = np.asarray(baseline, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        fill = np.empty(0)
    if len(fill) not in (1, C) or not np.isfinite(fill).all():
        raise ValueError(
            f"{op}: expected baseline to be a number or {C} numbers (one per channel), got {baseline!r}"
        )
    fill = fill.astype(x.dtype)[:, None, None]  # (1 or C, 1, 1)
    ys, xs = patch_positions(H, ph, sh), patch_positions(W, pw, sw)
    # which rows / columns each patch position covers: (Y, H) and (X, W); a patch is their outer product
    rows = (np.arange(H) >= np.asarray(ys)[:, None]) & (np.arange(H) < np.asarray(ys)[:, None] + ph)
    cols = (np.arange(W) >= np.asarray(xs)[:, None]) & (np.arange(W) < np.asarray(xs)[:, None] + pw)
    Y, X = len(ys), len(xs)
    P = Y * X  # positions, row-major: p = y_index * X + x_index
    image, position = np.divmod(np.arange(N * P), P)  # every (image, position), batched across images
    drops = np.empty(N * P)
    with no_grad(), explaining(model):
        logits = check_logits(model(Tensor(x)), op)
        targets = check_targets(target, logits.data, op)
        clean = softmax(logits, dim=1).data[np.arange(N), targets].astype(np.float64)  # (N,)
        for start in range(0, N * P, batch_size):
            n, p = image[start : start + batch_size], position[start : start + batch_size]
            hidden = rows[p // X][:, :, None] & cols[p % X][:, None, :]  # (B, H, W): each copy's patch
            batch = np.where(hidden[:, None], fill, x[n])  # (B, C, H, W)
            probs = softmax(model(Tensor(batch)), dim=1).data
            drops[start : start + batch_size] = clean[n] - probs[np.arange(len(n)), targets[n]]
    # each pixel: the mean drop over the patches covering it; separable, as a patch is rows × columns
    drops = drops.reshape(N, Y, X)
    rows, cols = rows.astype(np.float64), cols.astype(np.float64)
    total = np.einsum("yh,nyx,xw->nhw", rows, drops, cols)
    count = rows.sum(axis=0)[:, None] * cols.sum(axis=0)[None, :]  # (H, W), never 0: the edge is covered
    return (total / count).astype(x.dtype)
