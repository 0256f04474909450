"""Every differentiable neural-network operation, one file per family, with PyTorch's names.

``import cnnlab.nn.functional as F`` then ``F.conv2d``, ``F.relu``, ``F.cross_entropy`` …
(Some families share a name with a function, as ``pad`` does, so the families are loaded by name.)
"""

import importlib

_FAMILIES = ("activation", "conv", "dropout", "linear", "loss", "norm", "pad", "pool", "resample")

__all__: list[str] = []
for _family in _FAMILIES:
    _module = importlib.import_module(f"{__name__}.{_family}")
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
    __all__ += _module.__all__
del _family, _module, _name
