"""The small gallery that ``cnnlab train`` leaves in a run directory: what the model learned, at a glance.

``RUN_DIR/gallery/`` gets ``filters.png`` (the first conv layer's kernels), ``feature_maps.png`` (every
conv and pool layer for one test image) and ``grad_cam.png`` (Grad-CAM of the predicted class for a
few test images of different classes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.functional.activation import softmax
from ..nn.modules.module import Module
from ..tensor import Tensor
from ._common import explaining
from .cam import grad_cam
from .feature_maps import conv_pool_layers, feature_maps
from .filters import conv_layers, filters
from .plots import plot_feature_overview, plot_filters, plot_grad_cam

__all__ = ["GALLERY", "pick_examples", "write_gallery"]

GALLERY = "gallery"


def pick_examples(dataset: Any, count: int = 4, scan: int = 200) -> list[int]:
    """Indices of up to ``count`` items of ``dataset`` with different labels, from its first ``scan``.

    >>> pick_examples([(None, 0), (None, 0), (None, 3), (None, 1)], count=2)
    [0, 2]
    """
    picked, seen = [], set()
    for i in range(min(len(dataset), scan)):
        label = int(dataset[i][1])
        if label not in seen:
            seen.add(label)
            picked.append(i)
            if len(picked) == count:
                break
    return picked


def write_gallery(
    run_dir: str | os.PathLike,
    model: Module,
    dataset: Any,
    classes: Sequence[str] | None = None,
    count: int = 4,
) -> list[Path]:
    """Write filters.png, feature_maps.png and grad_cam.png under ``run_dir/gallery``; return their paths.

    ``dataset`` yields (image (C, H, W), label) as the model expects its inputs (e.g. the run's
    normalised test set). Models without a conv layer get no filter or Grad-CAM picture.
    """
    out = Path(run_dir) / GALLERY  # created by the first picture written into it
    written: list[Path] = []
    indices = pick_examples(dataset, count)
    if not indices:
        return written
    images = np.stack([np.asarray(dataset[i][0], dtype=np.float32) for i in indices])  # (N, C, H, W)
    labels = [int(dataset[i][1]) for i in indices]
    names = list(classes) if classes is not None else None

    def name(k: int) -> str:
        return names[k] if names is not None and 0 <= k < len(names) else str(k)

    has_conv = bool(conv_layers(model))
    if has_conv:
        first = conv_layers(model)[0]
        weight = filters(model, first)
        OC, IC, KH, KW = weight.shape
        title = f"Filters of the first conv layer ({first}): {OC} × {IC} × {KH}×{KW}"
        written.append(plot_filters(weight, out / "filters.png", title=title))
    if conv_pool_layers(model):
        maps = feature_maps(model, images[:1])
        written.append(
            plot_feature_overview(
                maps,
                out / "feature_maps.png",
                image=images[0],
                title=f"Feature maps of a test image ({name(labels[0])}): strongest channels, each on its own scale",
            )
        )
    if has_conv:
        with no_grad(), explaining(model):
            probs = softmax(model(Tensor(images)), dim=1).data
        predicted = probs.argmax(axis=1)
        cams = grad_cam(model, images, target=predicted)
        captions = [
            f"true {name(t)}\npredicted {name(p)} ({100 * probs[n, p]:.0f}%)"
            for n, (t, p) in enumerate(zip(labels, predicted))
        ]
        written.append(
            plot_grad_cam(
                images, cams, out / "grad_cam.png", labels=captions, title="Grad-CAM of the predicted class"
            )
        )
    return written
