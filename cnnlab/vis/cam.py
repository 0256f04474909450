"""Class-activation maps: Grad-CAM, Grad-CAM++ and HiResCAM, on cnnlab's own autograd graph.

With A the chosen layer's output (N, K, h, w) and G = d(logit of the target class)/dA:

    gradcam     cam = ReLU( sum_k mean_ij(G_k) · A_k )                        Selvaraju et al. 2017
    gradcam++   cam = ReLU( sum_k (sum_ij ReLU(G_kij) · a_kij) · A_k ),
                a_kij = G_kij² / (2 G_kij² + sum_ab(A_kab) · G_kij³)          Chattopadhay et al. 2018
    hirescam    cam = ReLU( sum_k G_k ⊙ A_k )                                 Draelos and Carin 2020

(Grad-CAM++'s weights are those of its closed form with the exponential of the score, as the paper
and the pytorch-grad-cam library compute them.) The map is then upsampled to the input's size with
bilinear interpolation and scaled to [0, 1] per image.

The layer's output is captured by a forward hook that replaces it with a detached leaf, so one
backward pass fills ``A.grad`` and stops there; the hook is removed before returning, the model's
train/eval mode and its parameters' gradients are left as they were, and no graph outlives the call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.functional.resample import interpolate
from ..nn.modules.module import Module
from ..tensor import Tensor
from ._common import (
    as_batch,
    capture,
    check_logits,
    check_model,
    check_targets,
    default_conv_layer,
    explaining,
    find_layer,
)

__all__ = ["CAM_METHODS", "grad_cam", "normalize_maps", "upsample_maps"]

CAM_METHODS = ("gradcam", "gradcam++", "hirescam")


def _cam_from(A: np.ndarray, G: np.ndarray, method: str) -> np.ndarray:
    """(N, K, h, w) activations and gradients -> (N, h, w) map before the ReLU."""
    if method == "gradcam":
        weights = G.mean(axis=(2, 3))  # (N, K): global-average-pooled gradients
        return np.einsum("nk,nkhw->nhw", weights, A)
    if method == "gradcam++":
        g2 = G * G
        g3 = g2 * G
        sum_a = A.sum(axis=(2, 3), keepdims=True)  # (N, K, 1, 1)
        denominator = 2 * g2 + sum_a * g3
        alpha = np.divide(g2, denominator, out=np.zeros_like(g2), where=denominator != 0)
        weights = (np.maximum(G, 0) * alpha).sum(axis=(2, 3))  # (N, K)
        return np.einsum("nk,nkhw->nhw", weights, A)
    return (G * A).sum(axis=1)  # hirescam: element-wise, no pooling of the gradients


def upsample_maps(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, h, w) maps -> (N, H, W) with bilinear interpolation (``align_corners=False``), as PyTorch.

    >>> upsample_maps(np.array([[[0.0, 1.0]]]), (1, 4)).round(2).tolist()
    [[[0.0, 0.25, 0.75, 1.0]]]
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.shape[1:] == tuple(size):
        return maps
    with no_grad():
        up = interpolate(Tensor(maps[:, None]), size=tuple(size), mode="bilinear", align_corners=False)
    return up.data[:, 0]


def normalize_maps(maps: np.ndarray) -> np.ndarray:
    """Scale each map of (N, ...) to [0, 1] by its own minimum and maximum (a flat map becomes zeros).

    >>> normalize_maps(np.array([[2.0, 4.0, 3.0]])).tolist()
    [[0.0, 1.0, 0.5]]
    """
    maps = np.asarray(maps, dtype=np.float64)
    axes = tuple(range(1, maps.ndim))
    lo = maps.min(axis=axes, keepdims=True)
    span = maps.max(axis=axes, keepdims=True) - lo
    return np.divide(maps - lo, span, out=np.zeros_like(maps), where=span > 0)


def grad_cam(
    model: Module,
    x: Any,
    target: Any = None,
    layer: str | None = None,
    method: str = "gradcam",
    relu: bool = True,
    upsample: bool = True,
    normalize: bool = True,
) -> np.ndarray:
    """The class-activation map of ``target`` (default: the predicted class) at the conv ``layer``.

    ``layer`` is a name from ``model.named_modules()`` whose output is (N, K, h, w); the default is
    the last Conv2d whose output has spatial extent. ``method`` is 'gradcam', 'gradcam++' or
    'hirescam'. ``relu=False`` keeps the negative evidence; ``upsample=False`` returns the map at
    the layer's resolution; ``normalize=False`` returns it unscaled.

    Shape: x (N, C, H, W) -> (N, H, W), each map in [0, 1].

    >>> import numpy as np
    >>> from cnnlab.models import lenet5
    >>> x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    >>> cam = grad_cam(lenet5(), x, target=3)
    >>> cam.shape, float(cam.min()) >= 0.0, float(cam.max()) <= 1.0
    ((2, 28, 28), True, True)
    """
    op = "grad_cam"
    model = check_model(model, op)
    x = as_batch(x, op)
    if method not in CAM_METHODS:
        raise ValueError(f"{op}: unknown method {method!r}; expected one of {', '.join(CAM_METHODS)}")
    if layer is None:
        layer = default_conv_layer(model, x, op)
    else:
        find_layer(model, layer, op)
    with explaining(model), capture(model, [layer], op, as_leaf=True) as captured:
        logits = check_logits(model(Tensor(x)), op)
        if layer not in captured:
            raise ValueError(f"{op}: layer {layer!r} did not run in the model's forward pass")
        activation = captured[layer]
        if activation.ndim != 4:
            raise ValueError(
                f"{op}: expected layer {layer!r} to output (N, K, h, w) feature maps, got shape {activation.shape}"
            )
        targets = check_targets(target, logits.data, op)
        seed = np.zeros_like(logits.data)
        seed[np.arange(len(targets)), targets] = 1  # d(sum_n logit[n, target_n]) / d(logits)
        logits.backward(seed)
        A = activation.data.astype(np.float64)
        G = activation.grad.data.astype(np.float64)
    del logits, activation, captured  # the graph was freed by backward; drop the last references
    cam = _cam_from(A, G, method)
    if relu:
        cam = np.maximum(cam, 0)
    if upsample:
        cam = upsample_maps(cam, x.shape[2:])
    if normalize:
        cam = normalize_maps(cam)
    return cam.astype(x.dtype)
