"""Ready-made networks, each a function returning an ``nn.Module``, and a registry by name.

>>> sorted(available_models())
['fashion_cnn', 'lenet5', 'mlp']
"""

from __future__ import annotations

from typing import Any, Callable

from .. import nn
from .fashion_cnn import FashionCNN, fashion_cnn
from .lenet import LeNet5, lenet5
from .mlp import MLP, mlp

__all__ = ["LeNet5", "lenet5", "FashionCNN", "fashion_cnn", "MLP", "mlp", "get_model", "available_models"]

_REGISTRY: dict[str, Callable[..., nn.Module]] = {"lenet5": lenet5, "fashion_cnn": fashion_cnn, "mlp": mlp}


def available_models() -> list[str]:
    return list(_REGISTRY)


def get_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a model by name (``'lenet5'``, ``'fashion_cnn'``, ``'mlp'``)."""
    key = name.replace("-", "_").lower()
    if key not in _REGISTRY:
        raise ValueError(f"get_model: unknown model {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key](**kwargs)
