"""Reuse freed memory instead of handing it back to the system (glibc's malloc, on by default).

A training step allocates the same large arrays (activations, gradients, temporaries) at every step
and frees them again. glibc's malloc serves blocks above a threshold with fresh ``mmap`` pages and
returns freed memory at the top of the heap to the system, so the next step touches new pages: one
page fault per 4 kB, over a hundred thousand of them a second. Measured on LeNet-5 (batch 256, this
project's 2-core machine): 5,000 page faults and 11 ms of system time per 38 ms step. With every block
of up to 32 MB taken from the heap and up to 1 GB of freed heap kept for reuse, there are none, and
the step takes 25 ms. PyTorch users get the same effect by preloading jemalloc or tcmalloc. All
threads share one heap (glibc otherwise gives each thread its own, and each would keep the peak of
what its thread freed): what cnnlab's worker threads (:mod:`cnnlab.parallel`) free serves the main
thread, and the other way round (ResNet-18's training step on two threads: 483 -> 463 MB).

This is a setting of the whole process (it changes how the C library allocates for everyone in it),
so it is explicit: ``import cnnlab`` turns it on where the C library is glibc, unless the environment
variable ``CNNLAB_MEMORY_REUSE`` is ``0``; :func:`set_memory_reuse` turns it off (glibc's fixed
default thresholds, 128 kB, and a heap per thread) or on again. Elsewhere (macOS, Windows, musl) it does nothing. It serves
every library in the process (PyTorch's ops, run beside cnnlab, fault less too). Peak memory grows a
little, from fragmentation (ResNet-18's training step: 439 -> 451 MB).

>>> import cnnlab
>>> before = cnnlab.get_memory_reuse()
>>> cnnlab.set_memory_reuse(False), cnnlab.get_memory_reuse()
(False, False)
>>> _ = cnnlab.set_memory_reuse(before)
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["get_memory_reuse", "set_memory_reuse"]

_M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_REUSE = {_M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 1 << 30, _M_ARENA_MAX: 1}  # 32 MB: the largest glibc accepts
_DEFAULT = {_M_MMAP_THRESHOLD: 128 << 10, _M_TRIM_THRESHOLD: 128 << 10, _M_ARENA_MAX: 0}

_enabled = False


def _mallopt():
    """glibc's ``mallopt``, or None where the C library is not glibc."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        return ctypes.CDLL(None).mallopt
    except (AttributeError, ValueError, OSError):  # no confstr name, no such symbol: not glibc
        return None


def get_memory_reuse() -> bool:
    """Whether freed memory is kept for reuse (see :func:`set_memory_reuse`)."""
    return _enabled


def set_memory_reuse(enabled: bool) -> bool:
    """Keep freed memory (of blocks up to 32 MB, up to 1 GB of it) for the next allocation instead of
    returning it to the system, or go back to glibc's default thresholds. Returns whether reuse is
    now on: always False where the C library is not glibc."""
    global _enabled
    if not isinstance(enabled, bool):
        raise TypeError(f"set_memory_reuse: expected enabled to be True or False, got {enabled!r}")
    mallopt = _mallopt()
    if mallopt is None:
        _enabled = False
        return False
    for parameter, value in (_REUSE if enabled else _DEFAULT).items():
        mallopt(parameter, value)
    _enabled = enabled
    return enabled


if os.environ.get("CNNLAB_MEMORY_REUSE", "1") != "0":
    set_memory_reuse(True)
