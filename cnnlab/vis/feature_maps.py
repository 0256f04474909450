"""Feature maps: what each layer of a network computes for an input image.

One forward pass with the named layers' outputs recorded (no graph, eval mode, hooks removed after).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.modules.module import Module
from ..tensor import Tensor
from ._common import CONV_POOL, as_batch, capture, check_model, explaining, find_layer

__all__ = ["conv_pool_layers", "feature_maps"]


def conv_pool_layers(model: Module) -> list[str]:
    """Names of the model's 2-D convolution and pooling layers, in ``named_modules()`` order.

    >>> from cnnlab.models import lenet5
    >>> conv_pool_layers(lenet5())
    ['features.0', 'features.2', 'features.3', 'features.5']
    """
    return [name for name, m in model.named_modules() if name and isinstance(m, CONV_POOL)]


def feature_maps(model: Module, x: Any, layers: str | Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The outputs of ``layers`` (names from ``named_modules()``) for the images ``x``.

    ``layers=None`` takes every conv and pool layer. The dictionary is ordered as the forward pass
    ran the layers. Shape: x (N, C, H, W) -> {name: (N, C', H', W')} (whatever each layer returns).

    >>> import numpy as np
    >>> from cnnlab.models import lenet5
    >>> maps = feature_maps(lenet5(), np.zeros((1, 1, 28, 28), np.float32))
    >>> {name: a.shape for name, a in maps.items()}["features.3"]
    (1, 16, 10, 10)
    """
    op = "feature_maps"
    model = check_model(model, op)
    x = as_batch(x, op)
    if layers is None:
        names = conv_pool_layers(model)
        if not names:
            raise ValueError(
                f"{op}: the model has no conv or pool layer; pass layers= with names from named_modules()"
            )
    elif isinstance(layers, str):
        names = [layers]
    else:
        names = list(layers)
    for name in names:
        find_layer(model, name, op, "layer")
    with no_grad(), explaining(model), capture(model, names, op) as outputs:
        model(Tensor(x))
    missing = [n for n in names if n not in outputs]
    if missing:
        raise ValueError(f"{op}: layer {missing[0]!r} did not run in the model's forward pass")
    return {name: np.array(t.data) for name, t in outputs.items()}
