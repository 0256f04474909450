"""Threads: a large op's batch split between the machine's cores, the way PyTorch's intra-op threads do.

NumPy runs every pass over an array on one core; only BLAS spreads its matrix products over several.
Much of a CNN's time is such one-core passes (a convolution's column copies, ReLU, batch norm, pooling),
so cnnlab splits the batch of each large op into chunks and deals them out to its threads: each thread
runs the whole op, matrix products included, on its own samples. NumPy releases the GIL while it
copies, computes or multiplies, so the chunks really run side by side. Measured on 2 cores: ReLU on
128×32×28×28 takes 1.5 ms on one thread and 0.8 ms on two; a 3×3 convolution layer's forward 15% less.

BLAS's own threads would fight cnnlab's for the cores (OpenBLAS's idle workers busy-wait for about
0.1 s after each product), so while cnnlab runs more than one thread it holds NumPy's OpenBLAS at one
thread, from the first op it splits until :func:`set_num_threads` (1) gives the old count back. Like
memory reuse (:mod:`cnnlab.memory`) this is a setting of the whole process: a NumPy product of your
own, made meanwhile, runs on one core.

The number of threads is the number of cores this process may run on where NumPy's BLAS is OpenBLAS
(the BLAS of NumPy's wheels; its thread count can then be held), and 1 elsewhere, unless
``CNNLAB_NUM_THREADS`` or :func:`set_num_threads` says otherwise. Small ops (under about 4 MB of
work) and ops inside a chunk already running on a thread are not split.

>>> calls = starmap(lambda start, stop: stop - start, shares(10, 0))
>>> calls  # too little work to split: one chunk, run here
[10]
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = ["added", "alone", "get_num_threads", "set_num_threads", "shares", "split_rows", "starmap", "whole"]

T = TypeVar("T")

MIN_WORK = 4 << 20  # bytes: below this an op runs on one thread (handing it out costs more than it saves)
CALLER_EXTRA = 256 << 10  # bytes of work the calling thread takes beyond an even share (see cuts)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _OpenBLAS:
    """The thread-count functions of the OpenBLAS that NumPy loaded (as ctypes functions), found among
    the libraries of NumPy's wheel or, on Linux, the ones this process has mapped."""

    _PREFIXES = ("scipy_openblas", "openblas")  # NumPy's wheels rename the library's symbols
    _SUFFIXES = ("64_", "_64_", "")

    def __init__(self) -> None:
        self.set = self.get = None
        for path in self._candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix in self._PREFIXES:
                for suffix in self._SUFFIXES:
                    setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    if setter is not None and getter is not None:
                        setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                        self.set, self.get = setter, getter
                        return

    @staticmethod
    def _candidates() -> list[str]:
        root = os.path.dirname(os.path.dirname(np.__file__))
        found = [p for d in ("numpy.libs", os.path.join("numpy", ".dylibs")) for p in glob.glob(os.path.join(root, d, "*openblas*"))]
        try:
            with open("/proc/self/maps") as maps:  # a system NumPy linked to the system's OpenBLAS
                found += sorted({line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1]})
        except OSError:
            pass
        return found


def _threads_from_environment(blas_settable: bool) -> int:
    """``CNNLAB_NUM_THREADS`` where set, else the cores where BLAS's threads can be held, else 1."""
    value = os.environ.get("CNNLAB_NUM_THREADS", "").strip()
    if not value:
        return _cores() if blas_settable else 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"CNNLAB_NUM_THREADS: expected a positive int, got {value!r}")
    return int(value)


_blas = _OpenBLAS()
_threads = _threads_from_environment(_blas.set is not None)
_blas_before: int | None = None  # OpenBLAS's thread count before cnnlab held it at one
_lock = threading.Lock()  # guards the workers' start and stop
_in_use = threading.Lock()  # held while a starmap has the workers (a second caller runs its chunks itself)
_local = threading.local()  # .inside: this thread is running a chunk


class _Worker:
    """A thread that runs one job at a time, handed over through two locks: ``go`` is released when
    a job is waiting, ``done`` when it has finished (about 30 µs a round trip on this project's
    machine, against 40-50 µs through ``concurrent.futures``)."""

    def __init__(self) -> None:
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.job: tuple[Callable[..., Any], Sequence[tuple[Any, ...]]] | None = None
        self.result: Any = None
        self.failed = False
        threading.Thread(target=self._loop, name="cnnlab", daemon=True).start()

    def _loop(self) -> None:
        # the job and its result are let go of as soon as they are handed over: they hold arrays
        # (an op's input, its output) that must be freed when the op is done with them
        while True:
            self.go.acquire()
            job, self.job = self.job, None
            if job is None:  # asked to stop
                return
            try:
                self.result, self.failed = _run(*job), False
            except BaseException as error:  # noqa: BLE001 (handed to the caller, raised there)
                self.result, self.failed = error, True
            del job
            self.done.release()

    def submit(self, fn: Callable[..., Any], chunks: Sequence[tuple[Any, ...]]) -> None:
        self.job = (fn, chunks)
        self.go.release()

    def wait(self) -> list[Any]:
        self.done.acquire()
        result, self.result = self.result, None
        return result

    def stop(self) -> None:
        self.job = None
        self.go.release()


_workers: list[_Worker] = []


def _forget_workers() -> None:
    """In a forked child: the workers' threads did not come along; start new ones when needed."""
    global _lock, _in_use
    _workers.clear()
    _lock, _in_use = threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def get_num_threads() -> int:
    """How many threads cnnlab splits a large op between."""
    return _threads


def set_num_threads(n: int) -> None:
    """Split large ops between ``n`` threads (1: no threads, and NumPy's BLAS gets its own count back)."""
    global _threads, _blas_before
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    with _lock, _in_use:
        if n != _threads:
            for worker in _workers:
                worker.stop()
            _workers.clear()
        if n == 1 and _blas_before is not None:
            _blas.set(_blas_before)
            _blas_before = None
        _threads = n


def alone(work: float) -> bool:
    """Whether an op that moves ``work`` bytes runs on the calling thread alone, in one share (as
    :func:`shares` and :func:`split_rows` decide): a small op can then skip their calls and slicing,
    which on LeNet-5's single image cost as much as some of its ops."""
    return work < MIN_WORK or _threads == 1


def shares(n: int, work: int) -> list[tuple[int, int]]:
    """``range(n)`` cut into one contiguous (start, stop) per thread (see :func:`cuts`), or left
    whole where ``work`` (bytes the op moves) is too little to split."""
    if alone(work) or n < 2:
        return [(0, n)]
    bounds = cuts(n, min(n, _threads), work)
    return list(itertools.pairwise(bounds))


def cuts(n: int, parts: int, work: float) -> list[int]:
    """The bounds 0 = b_0 < b_1 < ... < b_parts = n that cut ``range(n)`` (``work`` bytes in all, 1 ≤
    ``parts`` ≤ n) into contiguous shares, the last, the calling thread's, ``CALLER_EXTRA`` bytes
    longer than each of the others (at most half of the work is extra).

    The calling thread starts its share first, and a worker 20-40 µs later (woken, then waiting for
    the interpreter's lock); a caller that finishes first waits another 20-30 µs to be woken by the
    worker's end, one that finishes last does not wait. Measured on this project's 2-core machine:
    with even shares, the forward pass of LeNet-5's second convolution at batch 64 spent 70 µs of its
    410 on the hand-over, and LeNet-5's training step at batch 64 took 2% less time with the extra
    (its convolutions' shares 30 and 34 samples), at batch 256 and fashion_cnn's at 128 the same. A
    fixed amount, the extra is 6% of the least work that is split (``MIN_WORK``), nothing of 100 MB.

    >>> cuts(64, 2, 64 * 84_000)  # 256 kB: 3 samples of 84 kB
    [0, 30, 64]
    """
    extra = min(n * CALLER_EXTRA / work, n / 2) if work > 0 else 0.0
    each = (n - extra) / parts
    return [min(max(round(each * j), j), n - parts + j) for j in range(parts)] + [n]


def starmap(fn: Callable[..., T], chunks: Sequence[tuple[Any, ...]], costs: Sequence[int] | None = None) -> list[T]:
    """``[fn(*chunk) for chunk in chunks]``, the chunks dealt out in contiguous runs, one run per
    thread (the last on the calling thread), each run in order. Returns the results in chunk order; an
    exception raised by any chunk is raised here.

    ``costs`` (bytes each chunk moves) balances the runs by cost instead of by count, as :func:`cuts`
    does (the calling thread's run ``CALLER_EXTRA`` bytes longer): each run takes the chunks whose
    middles fall in its share. Chunks that cost less than ``MIN_WORK`` in all run here, one after the
    other. A single chunk that costs more
    (a convolution of one large image) runs here with BLAS's threads given back for the while, so that
    its matrix products still use every core.
    """
    small = costs is not None and sum(costs) < MIN_WORK
    if _threads == 1 or len(chunks) == 1 and (costs is None or small):  # the common case at small batches
        return [fn(*chunk) for chunk in chunks]
    runs = 1 if small else min(_threads, len(chunks))
    inside = getattr(_local, "inside", False)
    if len(chunks) == 1 and not inside and _blas_before is not None:  # one large chunk
        _blas.set(_threads)
        try:
            return [fn(*chunks[0])]
        finally:
            _blas.set(1)
    if runs <= 1 or inside or not _in_use.acquire(blocking=False):
        return [fn(*chunk) for chunk in chunks]
    try:
        workers = _start()[: runs - 1]
        if costs is None:
            bounds = [len(chunks) * i // runs for i in range(runs + 1)]
        else:  # each run the chunks whose middles lie in its share of the costs (see cuts)
            total = sum(costs)
            each = (total - min(CALLER_EXTRA, total / 2)) / runs
            ends = list(itertools.accumulate(costs, initial=0))
            middles = [(a + b) / 2 for a, b in itertools.pairwise(ends)]
            bounds = [sum(1 for m in middles if m < each * j) for j in range(runs)] + [len(chunks)]
        for worker, a, b in zip(workers, bounds, bounds[1:]):
            worker.submit(fn, chunks[a:b])
        try:
            mine = _run(fn, chunks[bounds[-2] :])
        finally:
            results = [worker.wait() for worker in workers]
        for worker, result in zip(workers, results):
            if worker.failed:
                raise result
        return [r for result in results for r in result] + mine
    finally:
        _in_use.release()


def split_rows(fn: Callable[..., T], *arrays: np.ndarray) -> list[T]:
    """``fn(*parts)`` for the ``arrays`` (of one length along axis 0) cut along that axis into one share
    per thread, as :func:`starmap` runs them; ``[fn(*arrays)]`` where they are small or 0-d."""
    work = arrays[0].nbytes * len(arrays)  # (about: the others may have smaller items)
    if alone(work) or arrays[0].ndim == 0:
        return [fn(*arrays)]  # (the common case at small batches: no slicing, no dealing out)
    return starmap(lambda a, b: fn(*(x[a:b] for x in arrays)), shares(len(arrays[0]), work))


def whole(fn: Callable[..., T], *args: Any, work: int) -> T:
    """``fn(*args)`` as one chunk, on this thread: an op that is not split (a general matrix product)
    still gets BLAS's threads for its products where ``work`` (bytes) is worth them."""
    return starmap(fn, [args], costs=[work])[0]


def added(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The sum of the chunks' partial results (sums over their samples), added in chunk order, into
    the first of them."""
    total = parts[0]
    for part in parts[1:]:
        total += part
    return total


def _run(fn: Callable[..., T], chunks: Sequence[tuple[Any, ...]]) -> list[T]:
    _local.inside = True
    try:
        return [fn(*chunk) for chunk in chunks]
    finally:
        _local.inside = False


def _start() -> list[_Worker]:
    """The worker threads (one fewer than the threads: the caller runs a share too), started on first
    use, with NumPy's BLAS held at one thread."""
    global _blas_before
    with _lock:
        if not _workers:
            if _blas.set is not None and _blas_before is None:
                _blas_before = _blas.get()
                _blas.set(1)
            _workers.extend(_Worker() for _ in range(_threads - 1))
        return _workers
