"""What the visualisation methods share: checking inputs, finding layers, capturing a layer's output.

Every method runs the model in eval mode with its parameters' ``requires_grad`` switched off, so that
an explanation leaves no gradient on the weights and builds no graph through them; both are restored
afterwards, whatever happens. A layer's output is captured by a forward hook that is removed in a
``finally`` block, so nothing is left registered on the model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.modules.conv import Conv2d
from ..nn.modules.module import Module
from ..nn.modules.pool import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    MaxPool2d,
)
from ..tensor import Tensor

__all__: list[str] = []

CONV_POOL = (Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d)


def as_batch(x: Any, op: str, name: str = "x") -> np.ndarray:
    """``x`` (a Tensor or an array of shape (N, C, H, W)) as a floating-point array, detached."""
    if isinstance(x, Tensor):
        array = x.data
    elif isinstance(x, np.ndarray):
        array = x
    else:
        raise TypeError(
            f"{op}: expected {name} to be a Tensor or an ndarray of shape (N, C, H, W), "
            f"got {type(x).__name__}"
        )
    if array.ndim != 4:
        raise ValueError(
            f"{op}: expected {name} of shape (N, C, H, W), got shape {tuple(array.shape)}"
            + ("; add a batch dimension with x[None]" if array.ndim == 3 else "")
        )
    if array.shape[0] == 0:
        raise ValueError(f"{op}: expected at least one image in {name}, got shape {tuple(array.shape)}")
    if array.dtype.kind != "f":
        array = array.astype(np.float32)
    return array


def check_model(model: Any, op: str) -> Module:
    if not isinstance(model, Module):
        raise TypeError(f"{op}: expected model to be a cnnlab.nn.Module, got {type(model).__name__}")
    return model


def find_layer(model: Module, name: str, op: str, argument: str = "layer") -> Module:
    """The submodule called ``name`` in ``model.named_modules()``; an unknown name lists the valid ones."""
    modules = dict(model.named_modules())
    if not isinstance(name, str) or name not in modules or name == "":
        names = [n for n in modules if n]
        raise ValueError(f"{op}: unknown {argument} {name!r}; available: {', '.join(names)}")
    return modules[name]


def check_positive_int(value: Any, op: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: expected {name} to be a positive integer, got {value!r}")
    return int(value)


def check_targets(target: Any, logits: np.ndarray, op: str) -> np.ndarray:
    """One class index per image: ``None`` -> the predicted class; an int -> that class for all."""
    N, K = logits.shape
    if target is None:
        return logits.argmax(axis=1)
    if isinstance(target, Tensor):
        target = target.data
    targets = np.asarray(target)
    if targets.dtype.kind not in "iu" or targets.ndim > 1:
        raise ValueError(
            f"{op}: expected target to be None, a class index or one index per image, got {target!r}"
        )
    targets = np.broadcast_to(targets, (N,)) if targets.ndim == 0 else targets
    if len(targets) != N:
        raise ValueError(f"{op}: expected {N} targets (one per image), got {len(targets)}")
    bad = (targets < 0) | (targets >= K)
    if bad.any():
        raise ValueError(
            f"{op}: target out of range: expected class indices in [0, {K - 1}] for a model with {K} outputs, "
            f"got {int(targets[bad][0])}"
        )
    return targets.astype(np.int64)


def check_logits(out: Any, op: str) -> Tensor:
    if not isinstance(out, Tensor) or out.ndim != 2:
        shape = getattr(out, "shape", None)
        raise ValueError(f"{op}: expected the model to return logits of shape (N, classes), got {shape}")
    return out


@contextlib.contextmanager
def explaining(model: Module) -> Iterator[Module]:
    """Eval mode and no parameter gradients for the duration; the model's state is restored after."""
    modes = [(m, m.training) for m in model.modules()]
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    model.eval()
    for p in params:
        p.requires_grad = False
    try:
        yield model
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad = flag
        for m, mode in modes:
            m.training = mode


@contextlib.contextmanager
def capture(
    model: Module, names: Sequence[str], op: str, as_leaf: bool = False
) -> Iterator[dict[str, Tensor]]:
    """Record the outputs of the named layers during the forward passes run inside the block.

    With ``as_leaf`` the (single) captured output is replaced by a detached copy that requires a
    gradient: the graph then starts at that layer, and backward fills its ``.grad`` without going
    further down. The hooks are removed when the block ends, even on error.
    """
    outputs: dict[str, Tensor] = {}
    handles = []

    def hook_for(name: str) -> Any:
        def hook(module: Module, args: Any, output: Any) -> Any:
            if not isinstance(output, Tensor):
                raise TypeError(f"{op}: layer {name!r} returns {type(output).__name__}, expected a Tensor")
            if as_leaf:
                output = output.detach().requires_grad_()
                outputs[name] = output
                return output
            outputs[name] = output
            return None

        return hook

    try:
        for name in names:
            handles.append(find_layer(model, name, op).register_forward_hook(hook_for(name)))
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def layer_outputs(model: Module, x: np.ndarray, op: str) -> dict[str, tuple[int, ...]]:
    """Shapes of the outputs of every named layer for ``x``, in the order the forward pass ran them."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    try:
        for name, module in model.named_modules():
            if name:

                def hook(m: Module, args: Any, out: Any, name: str = name) -> None:
                    shapes.setdefault(name, tuple(getattr(out, "shape", ())))

                handles.append(module.register_forward_hook(hook))
        with no_grad(), explaining(model):
            model(Tensor(x))
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def default_conv_layer(model: Module, x: np.ndarray, op: str) -> str:
    """The last Conv2d (in execution order) whose output still has spatial extent (H·W > 1)."""
    modules = dict(model.named_modules())
    shapes = layer_outputs(model, x[:1], op)
    convs = [
        n for n, s in shapes.items() if isinstance(modules[n], Conv2d) and len(s) == 4 and s[2] * s[3] > 1
    ]
    if not convs:
        raise ValueError(f"{op}: the model has no Conv2d layer with a spatial output; pass layer= explicitly")
    return convs[-1]


def input_channels(model: Module) -> int:
    """Input channels of a model: those of its first Conv2d (1 when it has none)."""
    for m in model.modules():
        if isinstance(m, Conv2d):
            return int(m.in_channels)
    return 1


def display_image(image: np.ndarray) -> np.ndarray:
    """(C, H, W) floats -> (H, W) or (H, W, 3) in [0, 1] for imshow, scaled by the image's own range."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image[:3], 0, -1)
    lo, hi = float(image.min()), float(image.max())
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps (ties get their average rank).

    >>> rank_correlation(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 15.0]))
    0.5
    """

    def ranks(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64).ravel()
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=r)
        return sums[inverse] / counts[inverse]

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else 0.0
