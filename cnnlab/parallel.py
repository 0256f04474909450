"""Threads for the memory-bound copies that NumPy does on one core (off by default).

BLAS already spreads a matrix product over the machine's cores, but NumPy copies an array (forming the
column matrix of a convolution, transposing a result) on one core, and such copies are a large part of
a CNN's time. :func:`contiguous` and :func:`copy_into` cut a copy into blocks along one axis and hand
them to a small pool of threads; NumPy releases the GIL while it copies, so the blocks really run side
by side. Small arrays are copied directly (threads would cost more than they save).

The number of threads is 1 (no threads) unless ``CNNLAB_NUM_THREADS`` or :func:`set_num_threads` says
otherwise. Measured on 2 cores, copies right after a BLAS product gain nothing from threads: OpenBLAS's
workers keep spinning for a while after a product, and the copy threads only compete with them for
the cores (a convolution layer's forward and backward were 3-7% slower with 2 copy threads). Threads
pay where BLAS is given fewer threads than the machine has cores.

>>> import numpy as np
>>> a = np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)
>>> b = contiguous(a)
>>> b.flags.c_contiguous, bool((a == b).all())
(True, True)
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["contiguous", "copy_into", "get_num_threads", "set_num_threads"]

_MIN_ELEMENTS = 1 << 17  # below this (0.5 MB of float32), one thread is faster
_BLOCK_BYTES = 1 << 20  # aim for blocks of about 1 MB: enough of them to balance the threads


_threads = int(os.environ.get("CNNLAB_NUM_THREADS", "0") or 0) or 1
_pool: ThreadPoolExecutor | None = None


def get_num_threads() -> int:
    """How many threads cnnlab's copies use."""
    return _threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for cnnlab's copies (1: no threads at all)."""
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    if n != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n


def copy_into(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[...] = src`` (same shape), the work shared between the threads for large arrays."""
    if _threads == 1 or dst.size < _MIN_ELEMENTS:
        np.copyto(dst, src)
        return
    axis = next((i for i, n in enumerate(dst.shape) if n >= 2 * _threads), None)
    if axis is None:
        np.copyto(dst, src)
        return
    n = dst.shape[axis]
    blocks = min(n, max(_threads, dst.nbytes // _BLOCK_BYTES))
    bounds = [n * i // blocks for i in range(blocks + 1)]
    lead = (slice(None),) * axis
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_threads, thread_name_prefix="cnnlab-copy")
    jobs = [
        _pool.submit(np.copyto, dst[lead + (slice(a, b),)], src[lead + (slice(a, b),)])
        for a, b in zip(bounds, bounds[1:])
    ]
    for job in jobs:
        job.result()


def contiguous(a: np.ndarray) -> np.ndarray:
    """``np.ascontiguousarray(a)``, copied by every thread when ``a`` is a large strided view."""
    if a.flags.c_contiguous:
        return a
    out = np.empty(a.shape, dtype=a.dtype)
    copy_into(out, a)
    return out
