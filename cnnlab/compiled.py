"""Compiled kernels: the loops NumPy cannot fuse, compiled by Numba where it is installed
(``pip install 'cnnlab[fast]'``).

NumPy makes one pass over memory per operation, and some ops are many passes where a loop would be
one. Max pooling is the one cnnlab compiles: in NumPy it reads every kernel offset's view of the input
three times (the running maximum, and the comparisons that track its winner); compiled, each window
is read once. Measured on this project's machine, one thread, ``MaxPool2d(2)`` forward and backward on
128×32×28×28: 6.4 ms in NumPy, 2.3 ms compiled; LeNet-5's two pools at batch 64: 1.1 ms -> 0.35 ms.
The loops themselves are in :mod:`cnnlab.nn.functional.pool_kernels`.

The NumPy path stays whole: it runs where Numba is not installed, when the environment variable
``CNNLAB_COMPILED`` is ``0``, and after :func:`set_compiled` (False). The two give the same numbers
(the pooling tests run both). Numba is imported at the first op that can use it, not by
``import cnnlab``, and each kernel is compiled at its first call for each dtype, then cached on disk
(Numba's cache), so later processes load it in milliseconds.

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

__all__ = ["get_compiled", "set_compiled"]

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
    if not (_enabled if _enabled is not None else get_compiled()) or any(d not in _TYPES for d in dtypes):
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
