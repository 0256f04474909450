"""Pictures of the explanations, as PNG files: grids of feature maps and filters, heat maps over images.

matplotlib is imported inside each function and drawn through its object API (``Figure`` and the Agg
canvas), so no global backend is switched and nothing is shown on screen; files are written
atomically. Each function takes the arrays the methods return (and the image they explain, as the
model saw it: (C, H, W), drawn scaled to its own range) and returns the path it wrote.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..files import save_figure
from ._common import display_image
from .filters import filter_grid

__all__ = [
    "plot_feature_maps",
    "plot_feature_overview",
    "plot_filters",
    "plot_grad_cam",
    "plot_maximized",
    "plot_methods",
    "plot_occlusion",
    "plot_saliency",
]

HEAT = "inferno"  # class-activation maps and saliency magnitudes: dark = nothing, bright = evidence
DIVERGING = "RdBu_r"  # signed maps: red for the class, blue against it, white for zero
FEATURES = "viridis"


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")




def _show_image(ax: Any, image: np.ndarray, title: str | None = None) -> None:
    shown = display_image(image)
    ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def _off(ax: Any) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _symmetric(values: np.ndarray) -> float:
    limit = float(np.abs(values).max())
    return limit if limit > 0 else 1.0


def _one_image(maps: np.ndarray, op: str) -> np.ndarray:
    maps = np.asarray(maps)
    if maps.ndim == 4:
        if maps.shape[0] != 1:
            raise ValueError(
                f"{op}: expected the maps of one image (C, H, W) or (1, C, H, W), got shape {maps.shape}"
            )
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"{op}: expected feature maps of shape (C, H, W), got shape {maps.shape}")
    return maps


def plot_feature_maps(
    maps: Any,
    path: str | os.PathLike,
    title: str | None = None,
    shared_scale: bool = True,
    max_channels: int = 64,
    image: Any = None,
) -> Path:
    """A grid of one image's feature maps (C, H, W), one cell per channel, with a colour bar.

    ``shared_scale=True`` draws every channel on one colour scale (so strong and weak channels can be
    compared); False scales each channel to its own range (so every pattern is visible). ``image``,
    if given, is drawn first for reference.
    """
    maps = _one_image(maps, "plot_feature_maps")
    C = min(len(maps), max_channels)
    cells = C + (image is not None)
    columns = min(cells, 8)
    rows = math.ceil(cells / columns)
    fig = _figure(1.45 * columns + 0.9, 1.5 * rows + 0.6)
    axes = np.asarray(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes:
        ax.axis("off")
    lo, hi = float(maps[:C].min()), float(maps[:C].max())
    offset = 0
    if image is not None:
        _show_image(axes[0], np.asarray(image), "input")
        axes[0].axis("on")
        offset = 1
    drawn = None
    for c in range(C):
        ax = axes[offset + c]
        ax.axis("on")
        _off(ax)
        if shared_scale:
            drawn = ax.imshow(
                maps[c], cmap=FEATURES, vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest"
            )
        else:
            ax.imshow(maps[c], cmap=FEATURES, interpolation="nearest")
        ax.set_title(f"ch {c}", fontsize=8)
    if drawn is not None:
        fig.colorbar(drawn, ax=axes.tolist(), shrink=0.8, label="activation")
    shown = f" (first {C} of {len(maps)})" if C < len(maps) else ""
    scale = "shared colour scale" if shared_scale else "each channel on its own scale"
    fig.suptitle((title or "Feature maps") + f"{shown}: {scale}", fontsize=11)
    return save_figure(fig, path)


def _mosaic(maps: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Channels ``order`` of (C, h, w) maps side by side, each scaled to [0, 1], NaN gaps between them;
    also the x position of each cell's centre (for its label)."""
    _, h, w = maps.shape
    gap = max(1, h // 8)
    out = np.full((h, len(order) * (w + gap) - gap), np.nan)
    for j, c in enumerate(order):
        out[:, j * (w + gap) : j * (w + gap) + w] = display_image(maps[c])
    return out, [j * (w + gap) + (w - 1) / 2 for j in range(len(order))]


def plot_feature_overview(
    maps: Mapping[str, Any],
    path: str | os.PathLike,
    image: Any = None,
    channels: int = 8,
    title: str | None = None,
) -> Path:
    """Every layer of ``maps`` ({name: (1, C, H, W) or (C, H, W)}) as one row of its strongest channels.

    Each row shows the ``channels`` channels with the largest mean activation, each scaled to its own
    range (dark: its lowest value, bright: its highest), labelled with the layer's name and output
    shape: the picture of how an image turns into ever smaller, more abstract maps. Each row is one
    mosaic image, so that drawing stays fast for deep networks.
    """
    from matplotlib import colormaps

    layers = {
        name: _one_image(a, "plot_feature_overview") for name, a in maps.items() if np.ndim(a) in (3, 4)
    }
    if not layers:
        raise ValueError("plot_feature_overview: expected at least one layer with (C, H, W) maps, got none")
    rows = len(layers) + (image is not None)
    fig = _figure(1.15 * channels + 1.4, 1.3 * rows + 0.5)
    axes = np.asarray(fig.subplots(rows, 1, squeeze=False)).ravel()
    cmap = colormaps[FEATURES].with_extremes(bad="white")
    r = 0
    if image is not None:
        _show_image(axes[0], np.asarray(image))
        axes[0].set_ylabel("input", fontsize=9)
        axes[0].set_anchor("W")
        r = 1
    for name, a in layers.items():
        order = np.argsort(-a.reshape(len(a), -1).mean(axis=1), kind="stable")[:channels]
        mosaic, centres = _mosaic(a, order)
        ax = axes[r]
        ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        ax.set_anchor("W")
        ax.set_xticks(centres, [f"ch {c}" for c in order], fontsize=7)
        ax.tick_params(length=0)
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_ylabel(f"{name}\n{a.shape[0]}×{a.shape[1]}×{a.shape[2]}", fontsize=8)
        r += 1
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    bar = fig.colorbar(
        ScalarMappable(Normalize(0, 1), cmap), ax=axes.tolist(), shrink=0.5, ticks=[0, 1], panchor=False
    )
    bar.ax.set_yticklabels(["min", "max"], fontsize=8)
    bar.set_label("each map's own range", fontsize=8)
    fig.suptitle(
        title or "Feature maps, layer by layer (strongest channels, each on its own scale)", fontsize=11
    )
    return save_figure(fig, path)


def plot_filters(
    weight: Any, path: str | os.PathLike, mode: str = "auto", title: str | None = None, max_filters: int = 64
) -> Path:
    """A conv layer's kernels (OC, IC, KH, KW) as a grid: in colour, per input channel, or as norms.

    See :func:`cnnlab.vis.filter_grid` for the modes. Kernels are drawn on one diverging scale
    centred on zero (red positive, blue negative), so their relative strengths show.
    """
    cells, mode = filter_grid(weight, mode)
    weight = np.asarray(weight)
    OC = min(len(cells), max_filters)
    cells = cells[:OC]
    if mode == "norm":
        fig = _figure(max(4.0, 0.22 * cells.shape[1] + 2), max(3.0, 0.22 * OC + 1.2))
        ax = fig.subplots()
        drawn = ax.imshow(cells, cmap="viridis", aspect="auto", interpolation="nearest")
        ax.set_xlabel("input channel")
        ax.set_ylabel("filter")
        fig.colorbar(drawn, ax=ax, label="L2 norm of the kernel")
    elif mode == "rgb":
        columns = min(OC, 8)
        rows = math.ceil(OC / columns)
        fig = _figure(1.2 * columns + 0.4, 1.25 * rows + 0.6)
        axes = np.asarray(fig.subplots(rows, columns, squeeze=False)).ravel()
        for ax in axes:
            ax.axis("off")
        for k in range(OC):
            axes[k].imshow(np.clip(cells[k], 0, 1), interpolation="nearest")
            axes[k].set_title(str(k), fontsize=8)
    else:
        IC = cells.shape[1]
        per_row = min(OC, max(1, 8 // IC) if IC <= 8 else 1)
        columns = per_row * IC
        rows = math.ceil(OC / per_row)
        limit = _symmetric(cells)
        fig = _figure(0.9 * columns + 1.3, 0.95 * rows + 0.7)
        axes = np.asarray(fig.subplots(rows, columns, squeeze=False))
        for ax in axes.ravel():
            ax.axis("off")
        drawn = None
        for k in range(OC):
            r, group = divmod(k, per_row)
            for i in range(IC):
                ax = axes[r, group * IC + i]
                ax.axis("on")
                _off(ax)
                drawn = ax.imshow(
                    cells[k, i], cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest"
                )
                ax.set_title(f"{k}" if IC == 1 else f"{k}.{i}", fontsize=7, pad=2)
        fig.colorbar(drawn, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    OCall, IC, KH, KW = weight.shape
    shown = f", first {OC} of {OCall}" if OC < OCall else ""
    how = {
        "rgb": "in colour (grey = 0)",
        "channels": "per input channel" if IC > 1 else "",
        "norm": "kernel norms",
    }[mode]
    fig.suptitle(
        title or f"Filters: {OCall} × {IC} × {KH}×{KW}{shown}" + (f", {how}" if how else ""), fontsize=11
    )
    return save_figure(fig, path)


def _labels(labels: Sequence[str] | None, n: int) -> list[str]:
    return list(labels) if labels is not None else [""] * n


def plot_grad_cam(
    images: Any,
    cams: Any,
    path: str | os.PathLike,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    alpha: float = 0.5,
) -> Path:
    """One row per image: the image, its class-activation map, and the map laid over the image.

    ``images`` (N, C, H, W), ``cams`` (N, H, W) in [0, 1]; ``labels`` one caption per image (for
    example the class explained and its probability).
    """
    images, cams = np.asarray(images), np.asarray(cams)
    N = len(images)
    labels = _labels(labels, N)
    fig = _figure(7.2, 2.35 * N + 0.5)
    axes = np.asarray(fig.subplots(N, 3, squeeze=False))
    drawn = None
    for n in range(N):
        _show_image(axes[n, 0], images[n], labels[n] or "input")
        drawn = axes[n, 1].imshow(cams[n], cmap="jet", vmin=0, vmax=1, interpolation="bilinear")
        _off(axes[n, 1])
        axes[n, 1].set_title("class-activation map", fontsize=9)
        shown = display_image(images[n])
        axes[n, 2].imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        axes[n, 2].imshow(cams[n], cmap="jet", vmin=0, vmax=1, alpha=alpha, interpolation="bilinear")
        _off(axes[n, 2])
        axes[n, 2].set_title("overlay", fontsize=9)
    fig.colorbar(drawn, ax=axes[:, 1:].ravel().tolist(), shrink=0.8, label="relevance (scaled to [0, 1])")
    fig.suptitle(title or "Grad-CAM", fontsize=11)
    return save_figure(fig, path)


def plot_saliency(
    images: Any,
    attributions: Any,
    path: str | os.PathLike,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """One row per image: the image, the magnitude of its attributions, and their sign.

    ``attributions`` are shaped like ``images`` (N, C, H, W); the magnitude is the largest absolute
    value over channels, the signed map their sum over channels (red for, blue against the class).
    """
    images, attributions = np.asarray(images), np.asarray(attributions, dtype=np.float64)
    N = len(images)
    labels = _labels(labels, N)
    fig = _figure(8.4, 2.35 * N + 0.5)
    axes = np.asarray(fig.subplots(N, 3, squeeze=False))
    for n in range(N):
        _show_image(axes[n, 0], images[n], labels[n] or "input")
        magnitude = np.abs(attributions[n]).max(axis=0)
        hot = axes[n, 1].imshow(magnitude, cmap=HEAT, vmin=0, interpolation="nearest")
        axes[n, 1].set_title("|attribution|", fontsize=9)
        fig.colorbar(hot, ax=axes[n, 1], shrink=0.85)
        signed = attributions[n].sum(axis=0)
        limit = _symmetric(signed)
        cold = axes[n, 2].imshow(signed, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
        axes[n, 2].set_title("signed (red: for the class)", fontsize=9)
        fig.colorbar(cold, ax=axes[n, 2], shrink=0.85)
        _off(axes[n, 1])
        _off(axes[n, 2])
    fig.suptitle(title or "Saliency", fontsize=11)
    return save_figure(fig, path)


def plot_occlusion(
    image: Any,
    maps: Mapping[str, Any] | Any,
    path: str | os.PathLike,
    title: str | None = None,
    label: str | None = None,
) -> Path:
    """The image and its occlusion-sensitivity maps side by side, one per patch size, on one scale.

    ``maps`` is {caption: (H, W)} (e.g. ``{"patch 4": m4, "patch 8": m8}``) or a single (H, W) map;
    red is a drop in the target's probability when that region is hidden, blue a rise.
    """
    if not isinstance(maps, Mapping):
        maps = {"occlusion": maps}
    maps = {k: np.asarray(v, dtype=np.float64).reshape(np.shape(v)[-2:]) for k, v in maps.items()}
    limit = max(_symmetric(m) for m in maps.values())
    fig = _figure(2.3 * (len(maps) + 1) + 0.8, 2.9)
    axes = np.asarray(fig.subplots(1, len(maps) + 1, squeeze=False)).ravel()
    _show_image(axes[0], np.asarray(image), label or "input")
    drawn = None
    for ax, (caption, m) in zip(axes[1:], maps.items()):
        drawn = ax.imshow(m, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(caption, fontsize=9)
        _off(ax)
    fig.colorbar(drawn, ax=axes[1:].tolist(), shrink=0.85, label="drop in probability")
    fig.suptitle(title or "Occlusion sensitivity", fontsize=11)
    return save_figure(fig, path)


def plot_maximized(
    images: Any,
    path: str | os.PathLike,
    titles: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Images from :func:`cnnlab.vis.maximize` side by side, each scaled to its own range."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    K = len(images)
    columns = min(K, 8)
    rows = math.ceil(K / columns)
    fig = _figure(1.6 * columns + 0.4, 1.75 * rows + 0.6)
    axes = np.asarray(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes:
        ax.axis("off")
    titles = list(titles) if titles is not None else [str(k) for k in range(K)]
    for k in range(K):
        _show_image(axes[k], images[k], titles[k])
        axes[k].axis("on")
    fig.suptitle(title or "Activation maximisation", fontsize=11)
    return save_figure(fig, path)


def plot_methods(
    image: Any,
    panels: Mapping[str, Any],
    path: str | os.PathLike,
    title: str | None = None,
    label: str | None = None,
) -> Path:
    """One image and several explanations of it in a row, each with its colour bar.

    ``panels`` is {caption: map} or {caption: (map, kind)}, kind one of ``'cam'`` (an (H, W) map in
    [0, 1], drawn over the image), ``'attribution'`` (a (C, H, W) attribution, drawn as its largest
    magnitude over channels) or ``'signed'`` (an (H, W) map drawn red/blue around zero, e.g.
    occlusion). Without a kind, (C, H, W) arrays are attributions and (H, W) ones CAMs.
    """
    fig = _figure(2.35 * (len(panels) + 1) + 0.2, 2.75)
    axes = np.asarray(fig.subplots(1, len(panels) + 1, squeeze=False)).ravel()
    _show_image(axes[0], np.asarray(image), label or "input")
    shown = display_image(np.asarray(image))
    for ax, (caption, panel) in zip(axes[1:], panels.items()):
        m, kind = panel if isinstance(panel, tuple) else (panel, None)
        m = np.asarray(m, dtype=np.float64)
        kind = kind or ("attribution" if m.ndim == 3 else "cam")
        if kind not in ("cam", "attribution", "signed"):
            raise ValueError(
                f"plot_methods: unknown kind {kind!r} for {caption!r}; expected cam, attribution or signed"
            )
        if kind == "attribution":
            m = np.abs(m).max(axis=0) if m.ndim == 3 else np.abs(m)
            drawn = ax.imshow(m, cmap=HEAT, vmin=0, vmax=_symmetric(m), interpolation="nearest")
        elif kind == "signed":
            limit = _symmetric(m)
            drawn = ax.imshow(m, cmap=DIVERGING, vmin=-limit, vmax=limit, interpolation="nearest")
        else:
            from matplotlib.cm import ScalarMappable
            from matplotlib.colors import Normalize

            ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
            ax.imshow(m, cmap="jet", vmin=0, vmax=1, alpha=0.5, interpolation="bilinear")
            drawn = ScalarMappable(
                Normalize(0, 1), cmap="jet"
            )  # the bar in full colour, not half-transparent
        fig.colorbar(drawn, ax=ax, shrink=0.8, format="%.2g")
        ax.set_title(caption, fontsize=9)
        _off(ax)
    if title:
        fig.suptitle(title, fontsize=11)
    return save_figure(fig, path)
