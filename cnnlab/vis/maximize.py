"""Activation maximisation: the input image that a channel (or a class) responds to most.

Erhan et al. 2009; Simonyan et al. 2014 (class models); Yosinski et al. 2015 (the regularisers);
Olah et al., "Feature visualization", Distill 2017 (jitter and scaling as transformation robustness).

Starting from faint noise around the middle of the valid input range, gradient ascent (Adam, steps
measured in units of that range) raises the mean activation of the chosen channel. Left alone it
would find high-frequency noise; the regularisers keep it to patterns:

* **L2 decay** pulls the image towards the middle grey a little every step;
* **jitter** shifts it by a random offset of up to ``jitter`` pixels before each forward pass;
* **random scaling** enlarges it by a random factor in [1, ``scale``] and crops the centre;
* **blur** smooths it with a Gaussian every ``blur_every`` steps, or **total variation** (``tv``)
  penalises differences between neighbouring pixels.

Several channels are optimised together as one batch. The image is clipped to ``value_range`` after
every step, so the result is always a valid input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..nn.functional.resample import interpolate
from ..nn.modules.module import Module
from ..tensor import Tensor
from ._common import check_model, check_positive_int, explaining, find_layer, input_channels

__all__ = ["gaussian_blur", "maximize"]


class _Stop(Exception):
    """Raised by the capturing hook: nothing after the chosen layer needs to run."""


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Blur (N, C, H, W) images with a separable Gaussian of standard deviation ``sigma`` (reflect padding).

    >>> x = np.zeros((1, 1, 5, 5)); x[0, 0, 2, 2] = 1.0
    >>> bool(gaussian_blur(x, 1.0)[0, 0, 2, 2] < 0.5)
    True
    >>> bool(np.allclose(gaussian_blur(np.full((1, 1, 5, 5), 3.0), 1.0), 3.0))
    True
    """
    if sigma <= 0:
        return images
    radius = max(1, round(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    out = np.asarray(images, dtype=np.float64)
    for axis in (2, 3):
        n = out.shape[axis]
        r = min(radius, n - 1)
        pad = [(0, 0)] * 4
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="reflect") if r > 0 else out
        k = taps[radius - r : radius + r + 1]
        k = k / k.sum()
        out = sum(w * np.take(padded, np.arange(i, i + n), axis=axis) for i, w in enumerate(k))
    return out


def maximize(
    model: Module,
    layer: str | None,
    channel: int | Sequence[int],
    steps: int = 200,
    size: int | tuple[int, int] = 28,
    lr: float = 0.05,
    l2: float = 1e-3,
    jitter: int = 2,
    scale: float = 1.1,
    blur_every: int = 4,
    blur_sigma: float = 0.5,
    tv: float = 0.0,
    value_range: tuple[Any, Any] = (0.0, 1.0),
    in_channels: int | None = None,
    generator: _random.Generator | None = None,
    return_activations: bool = False,
) -> Any:
    """An input image that maximises the mean activation of ``channel`` of ``layer``.

    ``layer`` is a name from ``model.named_modules()``, or None for the model's output (then
    ``channel`` is a class and its logit is maximised). A list of channels gives one image each,
    optimised together. ``return_activations=True`` also returns the objective on the starting noise
    and on the result, per channel. ``blur_every=0`` turns the blur off. ``value_range`` is the
    valid input range (low, high), numbers or one per input channel: for a model trained on
    normalised data, ((0 - mean) / std, (1 - mean) / std).

    Shape: (C, H, W) for one channel, (K, C, H, W) for a list of K; C from the first Conv2d.

    >>> from cnnlab.models import lenet5
    >>> image = maximize(lenet5(), "features.0", 2, steps=5)
    >>> image.shape, bool(image.min() >= 0.0 and image.max() <= 1.0)
    ((1, 28, 28), True)
    """
    op = "maximize"
    model = check_model(model, op)
    if layer is not None:
        find_layer(model, layer, op)
    single = isinstance(channel, (int, np.integer)) and not isinstance(channel, bool)
    channels = [channel] if single else list(channel)
    if not channels or any(
        isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0 for c in channels
    ):
        raise ValueError(
            f"{op}: expected channel to be a non-negative int or a list of them, got {channel!r}"
        )
    steps = check_positive_int(steps, op, "steps")
    H, W = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    check_positive_int(H, op, "size")
    check_positive_int(W, op, "size")
    # the valid range: numbers, or one number per input channel (a normalised RGB model's range)
    lo, hi = (np.asarray(v, dtype=np.float64) for v in value_range)
    lo, hi = (v.reshape(-1, 1, 1) if v.ndim == 1 else v for v in (lo, hi))
    if not np.all(hi > lo):
        raise ValueError(f"{op}: expected value_range (low, high) with low < high, got {value_range!r}")
    if scale < 1:
        raise ValueError(f"{op}: expected scale >= 1 (the largest random enlargement), got {scale!r}")
    C = in_channels if in_channels is not None else input_channels(model)
    K = len(channels)
    rng = (generator or _random.default_generator).numpy
    mid, span = (lo + hi) / 2, hi - lo
    image = np.clip(mid + 0.05 * span * rng.standard_normal((K, C, H, W)), lo, hi)  # faint noise
    index = np.asarray(channels)
    module = find_layer(model, layer, op) if layer is not None else None

    def objective(batch: Tensor) -> Tensor:
        """Per image, the mean activation of its channel (or its class logit): (K,)."""
        captured: list[Any] = []
        if module is None:
            captured.append(model(batch))
        else:

            def hook(m: Module, args: Any, output: Any) -> None:
                captured.append(output)
                raise _Stop  # nothing after the chosen layer needs to run

            handle = module.register_forward_hook(hook)
            try:
                model(batch)
            except _Stop:
                pass
            finally:
                handle.remove()
        act = captured[0] if captured else None
        if not isinstance(act, Tensor) or act.ndim < 2:
            raise ValueError(f"{op}: layer {layer!r} did not produce a (N, channels, ...) tensor")
        if index.max() >= act.shape[1]:
            where = f"layer {layer!r}" if layer is not None else "the model's output"
            raise ValueError(
                f"{op}: channel out of range: {where} has {act.shape[1]} channels, got channel {int(index.max())}"
            )
        picked = act[np.arange(K), index]  # (K, ...) one channel per image
        return picked.reshape(K, -1).mean(dim=1)

    with explaining(model):
        with no_grad():
            start = objective(Tensor(image.astype(np.float32))).data.astype(np.float64)
        m = np.zeros_like(image)
        v = np.zeros_like(image)
        for step in range(1, steps + 1):
            dy, dx = rng.integers(-jitter, jitter + 1, size=2) if jitter > 0 else (0, 0)
            shifted = np.roll(image, (int(dy), int(dx)), axis=(2, 3))
            leaf = Tensor(shifted.astype(np.float32), requires_grad=True)
            batch = leaf
            factor = rng.uniform(1.0, scale) if scale > 1 else 1.0
            if factor > 1:
                big = (round(H * factor), round(W * factor))
                top, left = (big[0] - H) // 2, (big[1] - W) // 2
                batch = interpolate(leaf, size=big, mode="bilinear")[:, :, top : top + H, left : left + W]
            loss = -objective(batch).sum()
            if tv > 0:
                dv = leaf[:, :, 1:] - leaf[:, :, :-1]  # vertical and horizontal neighbour differences
                dh = leaf[:, :, :, 1:] - leaf[:, :, :, :-1]
                loss = loss + tv * ((dv * dv).sum() + (dh * dh).sum())
            loss.backward()
            grad = np.roll(leaf.grad.data.astype(np.float64), (-int(dy), -int(dx)), axis=(2, 3))
            # Adam on the pixels, the step in units of the valid range (ascent: grad is of -objective)
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            update = (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
            image = image - lr * span * update
            image = mid + (1 - l2) * (image - mid)
            if blur_every and step % blur_every == 0:
                image = gaussian_blur(image, blur_sigma)
            image = np.clip(image, lo, hi)
        with no_grad():
            final = objective(Tensor(image.astype(np.float32))).data.astype(np.float64)
    result = image.astype(np.float32)
    if single:
        result, start, final = result[0], start[0], final[0]
    return (result, start, final) if return_activations else result
