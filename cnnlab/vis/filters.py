"""Filters: the learned kernels of a convolution layer, as arrays ready to draw.

A first layer on colour images has kernels of shape (3, KH, KW) that are images themselves; deeper
layers have one kernel per input channel, drawn one per cell or summarised by their norms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.modules.conv import Conv2d
from ..nn.modules.module import Module
from ._common import check_model, find_layer

__all__ = ["FILTER_MODES", "conv_layers", "filter_grid", "filters"]

FILTER_MODES = ("auto", "rgb", "channels", "norm")


def conv_layers(model: Module) -> list[str]:
    """Names of the model's Conv2d layers, in ``named_modules()`` order.

    >>> from cnnlab.models import lenet5
    >>> conv_layers(lenet5())
    ['features.0', 'features.3']
    """
    return [name for name, m in model.named_modules() if name and isinstance(m, Conv2d)]


def filters(model: Module, layer: str | None = None) -> np.ndarray:
    """The weights of the Conv2d ``layer`` (default: the first one), a copy.

    Shape: (OC, IC / groups, KH, KW).

    >>> from cnnlab.models import lenet5
    >>> filters(lenet5()).shape
    (6, 1, 5, 5)
    """
    op = "filters"
    model = check_model(model, op)
    names = conv_layers(model)
    if not names:
        raise ValueError(f"{op}: the model has no Conv2d layer")
    if layer is None:
        layer = names[0]
    module = find_layer(model, layer, op)
    if not isinstance(module, Conv2d):
        raise ValueError(  # noqa: TRY004 -- a wrong layer name is a wrong value
            f"{op}: expected layer to name a Conv2d, got {layer!r} ({type(module).__name__}); "
            f"Conv2d layers: {', '.join(names)}"
        )
    return np.array(module.weight.data)


def filter_grid(weight: Any, mode: str = "auto") -> tuple[np.ndarray, str]:
    """Arrange a (OC, IC, KH, KW) kernel bank as cells to draw: returns (cells, the mode used).

    ``'rgb'`` (needs IC = 3): (OC, KH, KW, 3), each kernel scaled to [0, 1] by the bank's largest
    magnitude so that grey is zero. ``'channels'``: (OC, IC, KH, KW), one cell per input channel.
    ``'norm'``: (OC, IC), the L2 norm of each kernel slice. ``'auto'`` picks rgb for 3 input
    channels, channels for at most 8, else norm.

    >>> cells, mode = filter_grid(np.ones((4, 3, 5, 5)))
    >>> cells.shape, mode
    ((4, 5, 5, 3), 'rgb')
    """
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != 4:
        raise ValueError(f"filter_grid: expected weights of shape (OC, IC, KH, KW), got shape {weight.shape}")
    if mode not in FILTER_MODES:
        raise ValueError(f"filter_grid: unknown mode {mode!r}; expected one of {', '.join(FILTER_MODES)}")
    IC = weight.shape[1]
    if mode == "auto":
        mode = "rgb" if IC == 3 else "channels" if IC <= 8 else "norm"
    if mode == "rgb":
        if IC != 3:
            raise ValueError(
                f"filter_grid: mode 'rgb' needs 3 input channels, got weights of shape {weight.shape}"
            )
        scale = np.abs(weight).max() or 1.0
        return 0.5 + 0.5 * np.moveaxis(weight, 1, -1) / scale, mode
    if mode == "norm":
        return np.sqrt((weight**2).sum(axis=(2, 3))), mode
    return weight, mode
