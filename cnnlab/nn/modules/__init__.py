"""The layers: Module, the containers, and one file per family mirroring ``cnnlab.nn.functional``."""

from .activation import *  # noqa: F403
from .activation import __all__ as _activation
from .container import *  # noqa: F403
from .container import __all__ as _container
from .conv import *  # noqa: F403
from .conv import __all__ as _conv
from .dropout import *  # noqa: F403
from .dropout import __all__ as _dropout
from .linear import *  # noqa: F403
from .linear import __all__ as _linear
from .loss import *  # noqa: F403
from .loss import __all__ as _loss
from .module import Module, RemovableHandle
from .norm import *  # noqa: F403
from .norm import __all__ as _norm
from .pad import *  # noqa: F403
from .pad import __all__ as _pad
from .pool import *  # noqa: F403
from .pool import __all__ as _pool
from .resample import *  # noqa: F403
from .resample import __all__ as _resample

__all__ = [
    "Module",
    "RemovableHandle",
    *_container,
    *_linear,
    *_conv,
    *_pool,
    *_pad,
    *_activation,
    *_norm,
    *_dropout,
    *_loss,
    *_resample,
]
