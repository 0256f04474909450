"""Compiled kernels: the loops NumPy cannot fuse, compiled by Numba where it is installed
(``pip install 'cnnlab[fast]'``).

NumPy makes one pass over memory per operation, and some ops are many passes where a loop would be
one. These ops have compiled kernels, each in a module beside its NumPy path:

- 2-D max pooling (:mod:`cnnlab.nn.functional.pool_kernels`): NumPy reads each kernel offset's view
  three times (the running maximum, and the comparisons that track its winner); compiled, each window
  is read once. ``MaxPool2d(2)`` forward and backward on 128×32×28×28: 5.2 -> 2.0 ms.
- ReLU and its gradient (:mod:`cnnlab.nn.functional.activation_kernels`): one pass each, where
  NumPy's gradient takes four.
- Training-mode batch norm (:mod:`cnnlab.nn.functional.norm_kernels`): a channel at a time, its
  second pass from the cache; 1.8-2× faster on the activations of a convolution.
- 2-D depthwise convolution (:mod:`cnnlab.nn.functional.depthwise_kernels`): each output row summed
  over the kernel in one loop, where NumPy makes two passes per kernel offset; MobileNet's block
  (depthwise 3×3 on 64×32×56×56, then 1×1) forward and backward 74 -> 60 ms.
- 3×3 convolutions with stride 1 (:mod:`cnnlab.nn.functional.winograd_kernels`): the tile transforms
  of Winograd's F(2×2, 3×3), which takes 2.25 times fewer multiplications than the direct sum
  (:mod:`cnnlab.nn.functional.winograd`); forward and both gradients of a 32-channel layer on
  28×28 in 0.61 of the im2col path's time.
- The column matrix of other 2-D convolutions with stride 1 (:mod:`cnnlab.nn.functional.im2col_kernels`):
  compact columns, each window row copied as one vector, where NumPy copies the longer runs of a
  wider grid and the products compute positions that are thrown away.
- The adding back of their columns for the input gradient (:mod:`cnnlab.nn.functional.col2im_kernels`):
  every kernel offset's run added while an image row is in the cache, one pass instead of one per offset.
- A bias added to a convolution's or a linear layer's outputs (:mod:`cnnlab.nn.functional.bias_kernels`):
  plain loops, 3-4 times as fast as NumPy's broadcast, which costs about 1 µs before its first addition.

Together, measured in one process, alternating with NumPy alone: LeNet-5's training step at batch
64 takes 0.65 of the time (4.1 against 6.1 ms), at batch 256 0.68, fashion_cnn's at batch 128 0.70
(129 against 187 ms), ResNet-18's at batch 32 0.87.

The NumPy path stays whole: it runs where Numba is not installed, when the environment variable
``CNNLAB_COMPILED`` is ``0``, and after :func:`set_compiled` (False); the tests run both. Numba is
imported at the first op that can use it, not by ``import cnnlab``, and each kernel is compiled at its
first call for each dtype and cached on disk (Numba's cache), so later processes load it in
milliseconds. Loading Numba costs about 0.3 s and 100 MB once per process; :func:`load` does it at
once, ahead of a first step that is timed.

>>> import cnnlab
>>> before = cnnlab.get_compiled()
>>> cnnlab.set_compiled(False), cnnlab.get_compiled()
(False, False)
>>> _ = cnnlab.set_compiled(before)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from types import ModuleType

import numpy as np

__all__ = ["get_compiled", "load", "set_compiled"]

_enabled: bool | None = None  # None: not decided until the first op asks
_loaded: dict[str, ModuleType] = {}


def _numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def get_compiled() -> bool:
    """Whether ops run their compiled kernels (see :func:`set_compiled`)."""
    global _enabled
    if _enabled is None:
        _enabled = os.environ.get("CNNLAB_COMPILED", "1") != "0" and _numba_installed()
    return _enabled


def set_compiled(enabled: bool) -> bool:
    """Run the ops that have one through their compiled kernel (True) or through NumPy alone (False).
    Returns whether compiled kernels are now on. Turning them on needs Numba."""
    global _enabled
    if not isinstance(enabled, bool):
        raise TypeError(f"set_compiled: expected enabled to be True or False, got {enabled!r}")
    if enabled and not _numba_installed():
        raise ModuleNotFoundError("set_compiled: compiled kernels need Numba, which is not installed: "
                                  "pip install 'cnnlab[fast]'")
    _enabled = enabled
    return enabled


_TYPES = (np.dtype(np.float32), np.dtype(np.float64))  # the dtypes the kernels are compiled for


def kernels(name: str, *dtypes: np.dtype) -> ModuleType | None:
    """The module of compiled kernels ``cnnlab.nn.functional.<name>`` if compiled kernels are on and
    every one of ``dtypes`` (the arrays' the kernels would take) is float32 or float64, else None: the
    caller takes its NumPy path."""
    if not (_enabled if _enabled is not None else get_compiled()):
        return None
    for dtype in dtypes:  # (a loop, not any(): this runs in most ops, and a generator costs 0.1 µs)
        if dtype not in _TYPES:
            return None
    module = _loaded.get(name)
    if module is None:
        try:
            module = _loaded[name] = importlib.import_module(f"cnnlab.nn.functional.{name}")
        except ImportError as error:  # a Numba that does not work with this NumPy or Python
            set_compiled(False)
            warnings.warn(f"cnnlab: compiled kernels turned off, as Numba failed to load ({error}); "
                          "ops run on NumPy alone", stacklevel=3)
            return None
    return module


def load() -> bool:
    """Load Numba and the float32 code of every compiled kernel now, rather than at the first op that
    uses each: about 0.3 s and 100 MB of memory (Numba and LLVM), once per process. Call it at
    start-up to keep that out of a first step that is timed. Returns whether compiled kernels are on
    (if not, nothing is loaded)."""
    if not get_compiled():
        return False
    from .nn import functional as F
    from .tensor import ones

    x = ones(2, 16, 6, 6, requires_grad=True)  # each kernel, forward and back
    w = ones(16, 16, 3, 3, requires_grad=True)
    y = F.relu(F.batch_norm(F.conv2d(x, w, padding=1), None, None, training=True))
    y = F.conv2d(y, w[:, :1], padding=1, groups=16)
    sum(F.max_pool2d(y, k, s).sum() for k, s in ((2, 2), (3, 2), (3, 1))).backward()
    F.conv2d(ones(1, 2, 8, 8, requires_grad=True), ones(4, 2, 5, 5), ones(4)).sum().backward()  # col2im's adds
    F.linear(ones(1, 2), ones(3, 2), ones(3))  # the bias kernels
    return get_compiled()
