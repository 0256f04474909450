"""cnnlab: convolutional neural networks from first principles on NumPy, numerically identical to PyTorch.

>>> import cnnlab
>>> x = cnnlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x ** 2).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from . import autograd  # first: it defines Function, on which tensor.py builds
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .compiled import get_compiled, set_compiled  # Numba's kernels, where installed (imported at first use)
from .memory import get_memory_reuse, set_memory_reuse  # turns reuse on, unless CNNLAB_MEMORY_REUSE=0
from .parallel import get_num_threads, set_num_threads
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import *  # noqa: F403
from .tensor import Tensor, __all__ as _tensor_all

__version__ = "0.1.0"

__all__ = [
    "autograd",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "Generator",
    "default_generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "get_num_threads",
    "set_num_threads",
    "get_memory_reuse",
    "set_memory_reuse",
    "get_compiled",
    "set_compiled",
    *_tensor_all,
]


def __getattr__(name: str):
    # these load on first use, so `import cnnlab` stays light
    if name in ("nn", "optim", "data", "models"):
        import importlib

        return importlib.import_module(f"cnnlab.{name}")
    raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")
