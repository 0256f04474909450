"""Input attributions from gradients: vanilla gradient, gradient × input, SmoothGrad, Integrated Gradients.

All four differentiate the target class's logit with respect to the input pixels:

    gradient              dS/dx                                               Simonyan et al. 2014
    gradient_x_input      x ⊙ dS/dx                                           Shrikumar et al. 2016
    smoothgrad            mean over n of dS/dx at x + ε_n, ε_n ~ N(0, σ²),
                          σ = noise_level · (max x - min x) per image         Smilkov et al. 2017
    integrated_gradients  (x - x') ⊙ ∫_0^1 dS/dx at x' + α(x - x') dα,
                          the integral by the trapezoidal rule over ``steps``  Sundararajan et al. 2017

Integrated Gradients is complete: its attributions sum to S(x) - S(x'); the difference that the
quadrature leaves is its *completeness error* (``return_delta=True``). The noisy copies and the path
points are stacked into batches, one forward and one backward per batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..nn.modules.module import Module
from ..tensor import Tensor
from ._common import as_batch, check_logits, check_model, check_positive_int, check_targets, explaining

__all__ = ["SALIENCY_METHODS", "input_gradients", "integrated_gradients", "saliency", "smoothgrad"]

SALIENCY_METHODS = ("gradient", "gradient_x_input", "smoothgrad", "integrated_gradients")
_OPTIONS = {
    "gradient": ("batch_size",),
    "gradient_x_input": ("batch_size",),
    "smoothgrad": ("noise_level", "samples", "generator", "batch_size"),
    "integrated_gradients": ("baseline", "steps", "batch_size", "return_delta"),
}


def input_gradients(
    model: Module, x: np.ndarray, targets: np.ndarray, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """d(logit[i, targets[i]])/dx[i] for every image, in batches; also the logits themselves.

    The model must already be in the state the caller wants (``explaining`` puts it in eval mode with
    frozen parameters). Shape: x (M, C, H, W), targets (M,) -> (M, C, H, W), (M,).
    """
    grads = np.empty(x.shape, dtype=np.float64)
    scores = np.empty(len(x), dtype=np.float64)
    for start in range(0, len(x), batch_size):
        stop = min(start + batch_size, len(x))
        leaf = Tensor(x[start:stop], requires_grad=True)
        logits = check_logits(model(leaf), "saliency")
        rows = np.arange(stop - start)
        seed = np.zeros_like(logits.data)
        seed[rows, targets[start:stop]] = 1
        scores[start:stop] = logits.data[rows, targets[start:stop]]
        logits.backward(seed)
        grads[start:stop] = leaf.grad.data
    return grads, scores


def _predicted(model: Module, x: np.ndarray, target: Any, op: str) -> tuple[np.ndarray, np.ndarray]:
    """The target of each image and the logits of the clean batch."""
    with no_grad():
        logits = check_logits(model(Tensor(x)), op).data
    return check_targets(target, logits, op), logits


def smoothgrad(
    model: Module,
    x: Any,
    target: Any = None,
    noise_level: float = 0.15,
    samples: int = 25,
    generator: _random.Generator | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """SmoothGrad: the gradient averaged over ``samples`` noisy copies of each image.

    The noise is Gaussian with standard deviation ``noise_level`` times the image's value range,
    drawn from ``generator`` (default: cnnlab's global one). Shape: like ``x``.

    >>> import numpy as np
    >>> from cnnlab.models import lenet5
    >>> smoothgrad(lenet5(), np.zeros((1, 1, 28, 28), np.float32), samples=4).shape
    (1, 1, 28, 28)
    """
    op = "smoothgrad"
    model = check_model(model, op)
    x = as_batch(x, op)
    samples = check_positive_int(samples, op, "samples")
    batch_size = check_positive_int(batch_size, op, "batch_size")
    if not np.isfinite(noise_level) or noise_level < 0:
        raise ValueError(
            f"{op}: expected noise_level >= 0 (a share of the image's range), got {noise_level!r}"
        )
    rng = (generator or _random.default_generator).numpy
    N = len(x)
    span = (x.reshape(N, -1).max(axis=1) - x.reshape(N, -1).min(axis=1)).astype(np.float64)
    sigma = noise_level * np.where(span > 0, span, 1.0)  # (N,)
    with explaining(model):
        targets, _ = _predicted(model, x, target, op)
        noise = rng.standard_normal((N, samples) + x.shape[1:]) * sigma[:, None, None, None, None]
        noisy = (x[:, None] + noise).astype(x.dtype).reshape((N * samples,) + x.shape[1:])  # image-major
        grads, _ = input_gradients(model, noisy, np.repeat(targets, samples), batch_size)
    return grads.reshape((N, samples) + x.shape[1:]).mean(axis=1).astype(x.dtype)


def integrated_gradients(
    model: Module,
    x: Any,
    target: Any = None,
    baseline: Any = 0.0,
    steps: int = 50,
    batch_size: int = 256,
    return_delta: bool = False,
) -> Any:
    """Integrated Gradients from ``baseline`` (a number or an array broadcastable to ``x``) to ``x``.

    With ``return_delta=True`` also returns the completeness error per image,
    ``sum(attributions) - (S(x) - S(baseline))``, which shrinks as ``steps`` grows.
    Shape: like ``x`` (and (N,) for the error).

    >>> import numpy as np
    >>> from cnnlab.models import lenet5
    >>> x = np.random.default_rng(0).standard_normal((1, 1, 28, 28)).astype(np.float32)
    >>> attributions, delta = integrated_gradients(lenet5(), x, steps=32, return_delta=True)
    >>> attributions.shape, delta.shape
    ((1, 1, 28, 28), (1,))
    """
    op = "integrated_gradients"
    model = check_model(model, op)
    x = as_batch(x, op)
    steps = check_positive_int(steps, op, "steps")
    batch_size = check_positive_int(batch_size, op, "batch_size")
    try:
        base = np.broadcast_to(
            np.asarray(baseline.data if isinstance(baseline, Tensor) else baseline, dtype=x.dtype), x.shape
        )
    except ValueError:
        raise ValueError(
            f"{op}: expected baseline to be a number or an array broadcastable to {x.shape}, got shape "
            f"{np.shape(baseline)}"
        ) from None
    N = len(x)
    alphas = np.linspace(0.0, 1.0, steps + 1)  # the trapezoidal rule's nodes
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2
    with explaining(model):
        targets, _ = _predicted(model, x, target, op)
        diff = x.astype(np.float64) - base
        path = base[:, None] + alphas[None, :, None, None, None] * diff[:, None]  # (N, steps+1, C, H, W)
        path = path.astype(x.dtype).reshape((N * (steps + 1),) + x.shape[1:])
        grads, scores = input_gradients(model, path, np.repeat(targets, steps + 1), batch_size)
    grads = grads.reshape((N, steps + 1) + x.shape[1:])
    scores = scores.reshape(N, steps + 1)
    attributions = diff * np.tensordot(weights, grads, axes=([0], [1]))
    if not return_delta:
        return attributions.astype(x.dtype)
    delta = attributions.reshape(N, -1).sum(axis=1) - (scores[:, -1] - scores[:, 0])
    return attributions.astype(x.dtype), delta


def saliency(model: Module, x: Any, target: Any = None, method: str = "gradient", **options: Any) -> Any:
    """Attributions of ``target`` (default: the predicted class) to each input value, by ``method``.

    Methods and their options: 'gradient' and 'gradient_x_input' (batch_size); 'smoothgrad'
    (noise_level=0.15, samples=25, generator, batch_size); 'integrated_gradients' (baseline=0.0,
    steps=50, batch_size, return_delta=False). Shape: like ``x``.

    >>> import numpy as np
    >>> from cnnlab.models import lenet5
    >>> saliency(lenet5(), np.ones((2, 1, 28, 28), np.float32), target=1, method="gradient_x_input").shape
    (2, 1, 28, 28)
    """
    op = "saliency"
    if method not in SALIENCY_METHODS:
        raise ValueError(f"{op}: unknown method {method!r}; expected one of {', '.join(SALIENCY_METHODS)}")
    unknown = sorted(set(options) - set(_OPTIONS[method]))
    if unknown:
        raise TypeError(
            f"{op}: method {method!r} takes no option {unknown[0]!r}; its options: {', '.join(_OPTIONS[method])}"
        )
    if method == "smoothgrad":
        return smoothgrad(model, x, target, **options)
    if method == "integrated_gradients":
        return integrated_gradients(model, x, target, **options)
    model = check_model(model, op)
    x = as_batch(x, op)
    batch_size = check_positive_int(options.get("batch_size", 256), op, "batch_size")
    with explaining(model):
        targets, _ = _predicted(model, x, target, op)
        grads, _ = input_gradients(model, x, targets, batch_size)
    if method == "gradient_x_input":
        grads = grads * x
    return grads.astype(x.dtype)
