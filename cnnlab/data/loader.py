"""DataLoader: batches from a dataset, shuffled from a seeded generator, optionally prepared ahead.

Each epoch (each ``iter(loader)``) draws, from the loader's generator (cnnlab's default generator unless
one is given): the permutation when ``shuffle`` is on, then one 63-bit seed. Batch ``b`` of the epoch
prepares its random augmentations with a generator seeded from (that seed, b), installed only in the
thread preparing it; so a background thread gives exactly the batches the plain loop gives, and
nothing the training step draws (dropout, say) can shift the augmentations.

``state_dict()``/``load_state_dict()`` save the generator state at the start of the current epoch and the
number of batches already delivered; loading them makes the next ``iter`` resume bit for bit.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor, from_numpy
from .dataset import Dataset
from .transforms import use_generator

__all__ = ["DataLoader", "default_collate"]


def _to_tensor(array: np.ndarray) -> Tensor:
    # integer labels become int64 (PyTorch's label dtype); uint8 stays uint8 (raw pixels); floats keep theirs
    if array.dtype.kind in "iu" and array.dtype != np.uint8:
        array = array.astype(np.int64, copy=False)
    elif array.dtype.kind not in "fiub":
        raise TypeError(f"default_collate: cannot make a tensor of dtype {array.dtype}")
    return from_numpy(np.ascontiguousarray(array))


def default_collate(batch: list[Any]) -> Any:
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts.

    Arrays and Tensors are stacked along a new first axis (float32 stays float32, uint8 stays uint8,
    other integers become int64); Python ints become int64, floats float32, bools bool; strings stay
    a list.

    >>> import numpy as np
    >>> x, y = default_collate([(np.zeros(2, np.float32), 3), (np.ones(2, np.float32), 5)])
    >>> x.shape, x.dtype, y
    ((2, 2), dtype('float32'), tensor([3, 5]))
    """
    if not isinstance(batch, (list, tuple)) or not batch:
        raise ValueError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _to_tensor(np.stack([b.data for b in batch]))
    if isinstance(elem, np.ndarray):
        shapes = {b.shape for b in batch}
        if len(shapes) != 1:
            raise ValueError(
                f"default_collate: samples must share a shape to be stacked, got shapes {sorted(shapes)}"
            )
        return _to_tensor(np.stack(batch))
    if isinstance(elem, (bool, np.bool_)):
        return from_numpy(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, (int, np.integer)):
        return from_numpy(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return from_numpy(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, np.floating):
        return from_numpy(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in elem}
    if isinstance(elem, (tuple, list)):
        if len({len(b) for b in batch}) != 1:
            raise ValueError("default_collate: every sample in a batch must have the same number of fields")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        if hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: samples must be Tensors, NumPy arrays, numbers, strings, dicts or sequences, "
        f"got {type(elem).__name__}"
    )


def _collate_arrays(batch: Any) -> Any:
    """Wrap the arrays of a batch a dataset built itself (``_get_batch``) as Tensors."""
    if isinstance(batch, tuple):
        return tuple(_collate_arrays(b) for b in batch)
    return _to_tensor(np.asarray(batch))


def _batch_generator(epoch_seed: int, batch_index: int) -> _random.Generator:
    seed = int(
        np.random.SeedSequence([epoch_seed, batch_index]).generate_state(1, np.uint64)[0] >> np.uint64(1)
    )
    return _random.Generator(seed)


class DataLoader:
    """Iterate over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    ``shuffle`` draws a fresh permutation every epoch from ``generator`` (default: cnnlab's default
    generator, so ``cnnlab.manual_seed`` fixes the order). ``drop_last`` drops a final short batch.
    ``collate_fn`` turns a list of samples into a batch (default: :func:`default_collate`). When the
    dataset can build whole batches itself (array datasets, MNIST/CIFAR without per-image transforms)
    and no ``collate_fn`` is given, each batch is one fancy index, with no loop over samples.
    ``prefetch=True`` prepares the next batch in one background thread while the current one is used.

    >>> import numpy as np, cnnlab
    >>> from cnnlab.data import ArrayDataset
    >>> loader = DataLoader(ArrayDataset(np.zeros((10, 3), np.float32), np.arange(10)), batch_size=4)
    >>> len(loader), [tuple(x.shape) for x, y in loader]
    (3, [(4, 3), (4, 3), (2, 3)])
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        generator: _random.Generator | None = None,
        prefetch: bool = False,
    ) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"DataLoader: dataset must define __getitem__ and __len__, got {type(dataset).__name__}"
            )
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if generator is not None and not isinstance(generator, _random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a cnnlab.Generator, got {type(generator).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self._generator = generator
        self.prefetch = bool(prefetch)
        self._epoch_start_state: dict[str, Any] | None = None
        self._delivered = 0
        self._resume_skip = 0

    @property
    def generator(self) -> _random.Generator:
        """The generator the shuffle order and augmentation seeds are drawn from."""
        return self._generator if self._generator is not None else _random.default_generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def state_dict(self) -> dict[str, Any]:
        """Where the loader stands: generator state at the start of this epoch and batches delivered."""
        if self._epoch_start_state is not None:
            return {"generator": self._epoch_start_state, "batches_done": self._delivered}
        return {"generator": self.generator.get_state(), "batches_done": 0}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the next ``iter`` continues exactly where that one stood."""
        if not isinstance(state, dict) or "generator" not in state:
            raise ValueError(
                "DataLoader.load_state_dict: expected a dictionary from state_dict() with a 'generator' entry"
            )
        done = int(state.get("batches_done", 0))
        if not 0 <= done <= len(self):
            raise ValueError(
                f"DataLoader.load_state_dict: batches_done must lie in [0, {len(self)}], got {done}"
            )
        self.generator.set_state(state["generator"])
        self._resume_skip = done
        self._epoch_start_state = None
        self._delivered = 0

    def _epoch_plan(self) -> tuple[list[np.ndarray], int]:
        gen = self.generator
        self._epoch_start_state = gen.get_state()
        n = len(self.dataset)
        order = gen.numpy.permutation(n) if self.shuffle else np.arange(n)
        epoch_seed = int(gen.numpy.integers(0, 2**63))
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        batches = [order[i : i + self.batch_size] for i in range(0, stop, self.batch_size)]
        return batches, epoch_seed

    def _fetch(self, indices: np.ndarray, epoch_seed: int, batch_index: int) -> Any:
        with use_generator(_batch_generator(epoch_seed, batch_index)):
            if self.collate_fn is None:
                get_batch = getattr(self.dataset, "_get_batch", None)
                if get_batch is not None:
                    batch = get_batch(indices)
                    if batch is not NotImplemented:
                        return _collate_arrays(batch)
            collate = self.collate_fn or default_collate
            return collate([self.dataset[int(i)] for i in indices])

    def __iter__(self) -> Iterator[Any]:
        batches, epoch_seed = self._epoch_plan()
        skip, self._resume_skip = self._resume_skip, 0
        self._delivered = skip
        work = list(enumerate(batches))[skip:]
        if self.prefetch:
            return self._iter_prefetch(work, epoch_seed)
        return self._iter_plain(work, epoch_seed)

    def _finish_epoch(self) -> None:
        self._epoch_start_state = None
        self._delivered = 0

    def _iter_plain(self, work: list[tuple[int, np.ndarray]], epoch_seed: int) -> Iterator[Any]:
        for b, indices in work:
            batch = self._fetch(indices, epoch_seed, b)
            self._delivered = b + 1
            yield batch
        self._finish_epoch()

    def _iter_prefetch(self, work: list[tuple[int, np.ndarray]], epoch_seed: int) -> Iterator[Any]:
        ready: queue.Queue = queue.Queue(maxsize=1)  # one batch waiting while the consumer holds another
        stop = threading.Event()
        done = object()

        def produce() -> None:
            try:
                for b, indices in work:
                    item = (b, self._fetch(indices, epoch_seed, b), None)
                    while not stop.is_set():
                        try:
                            ready.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                item = (None, done, None)
            except Exception as error:  # noqa: BLE001 (any failure is handed to the consumer and raised there)
                item = (None, None, error)
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        thread = threading.Thread(target=produce, name="cnnlab-DataLoader-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                b, batch, error = ready.get()
                if error is not None:
                    raise error
                if batch is done:
                    break
                self._delivered = b + 1
                yield batch
            self._finish_epoch()
        finally:
            stop.set()
            thread.join()

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}(len={len(self.dataset)}), batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, prefetch={self.prefetch})"
        )
