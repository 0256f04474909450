"""Every differentiable neural-network operation, one file per family, with PyTorch's names.

>>> import cnnlab.nn.functional as F
"""

from .activation import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .norm import *  # noqa: F403
from .pad import *  # noqa: F403
from .pool import *  # noqa: F403
from .resample import *  # noqa: F403
from . import activation, conv, dropout, linear, loss, norm, pad, pool, resample

__all__ = [
    name
    for module in (activation, conv, dropout, linear, loss, norm, pad, pool, resample)
    for name in module.__all__
]
