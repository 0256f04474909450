"""DataLoader: shapes, dtypes, order, determinism, prefetching and resume; the dataset containers."""

from collections import namedtuple

import numpy as np
import pytest

import cnnlab
from cnnlab.data import (
    ArrayDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    FashionMNISTSample,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from cnnlab.data import transforms as T


def _arrays(n=10):
    x = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)
    return x, np.arange(n) % 3


class _PerSample(Dataset):
    """The same data as ArrayDataset(_arrays()) but without the batched fast path."""

    def __init__(self, n=10):
        self.x, self.y = _arrays(n)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def _epoch(loader):
    return [(x.numpy().copy(), y.numpy().copy()) for x, y in loader]


def _same(a, b):
    return len(a) == len(b) and all(
        np.array_equal(xa, xb) and np.array_equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b)
    )


def test_batches_shapes_and_dtypes():
    loader = DataLoader(ArrayDataset(*_arrays()), batch_size=4)
    batches = _epoch(loader)
    assert len(loader) == 3 and [x.shape for x, _ in batches] == [(4, 2, 3), (4, 2, 3), (2, 2, 3)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    x, y = _arrays()
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)  # no shuffle: in order
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)


def test_fast_path_equals_per_sample_path():
    fast = _epoch(
        DataLoader(ArrayDataset(*_arrays()), batch_size=3, shuffle=True, generator=cnnlab.Generator(1))
    )
    slow = _epoch(DataLoader(_PerSample(), batch_size=3, shuffle=True, generator=cnnlab.Generator(1)))
    assert _same(fast, slow)


def test_drop_last():
    loader = DataLoader(ArrayDataset(*_arrays()), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [x.shape[0] for x, _ in loader] == [4, 4]
    assert len(DataLoader(ArrayDataset(*_arrays(8)), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_a_permutation_fixed_by_manual_seed():
    ds = ArrayDataset(np.arange(50))
    cnnlab.manual_seed(123)
    first = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=7, shuffle=True)])
    cnnlab.manual_seed(123)
    again = np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=7, shuffle=True)])
    assert sorted(first.tolist()) == list(range(50))
    assert first.tolist() == again.tolist() and first.tolist() != list(range(50))


def test_epochs_differ_but_reproduce():
    ds = ArrayDataset(np.arange(30))

    def two_epochs(seed):
        loader = DataLoader(ds, batch_size=30, shuffle=True, generator=cnnlab.Generator(seed))
        return [next(iter(loader))[0].tolist() for _ in range(2)]

    e1, e2 = two_epochs(5)
    assert e1 != e2
    assert two_epochs(5) == [e1, e2]


def test_own_generator_leaves_default_alone():
    state = cnnlab.get_rng_state()
    list(DataLoader(ArrayDataset(np.arange(10)), batch_size=3, shuffle=True, generator=cnnlab.Generator(0)))
    assert cnnlab.get_rng_state() == state


def _augmented_sample():
    aug = T.Compose(
        [T.ToTensor(), T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.RandomRotation(15)]
    )
    return Subset(FashionMNISTSample(train=False, transform=aug), np.arange(200))


def test_prefetch_yields_the_same_batches():
    ds = _augmented_sample()
    plain = _epoch(DataLoader(ds, batch_size=32, shuffle=True, generator=cnnlab.Generator(3)))
    loader = DataLoader(ds, batch_size=32, shuffle=True, generator=cnnlab.Generator(3), prefetch=True)
    ahead = []
    for x, y in loader:
        cnnlab.rand(100)  # the training step drawing random numbers must not shift the augmentations
        ahead.append((x.numpy().copy(), y.numpy().copy()))
    assert _same(plain, ahead) and len(plain) == 7


def test_prefetch_per_sample_path_and_errors():
    plain = _epoch(DataLoader(_PerSample(), batch_size=4, shuffle=True, generator=cnnlab.Generator(2)))
    ahead = _epoch(
        DataLoader(_PerSample(), batch_size=4, shuffle=True, generator=cnnlab.Generator(2), prefetch=True)
    )
    assert _same(plain, ahead)

    class Broken(_PerSample):
        def __getitem__(self, i):
            if i == 7:
                raise KeyError("sample 7 is broken")
            return super().__getitem__(i)

    with pytest.raises(KeyError, match="sample 7 is broken"):
        list(DataLoader(Broken(), batch_size=4, prefetch=True))


def test_prefetch_early_break_stops_thread():
    import threading

    loader = DataLoader(ArrayDataset(np.arange(100)), batch_size=2, prefetch=True)
    it = iter(loader)
    next(it)
    it.close()
    assert not any(t.name == "cnnlab-DataLoader-prefetch" for t in threading.enumerate())


def test_augmentation_fast_path_differs_per_image_and_epoch():
    ds = _augmented_sample()
    loader = DataLoader(ds, batch_size=200, generator=cnnlab.Generator(0))
    a, b = next(iter(loader))[0].numpy(), next(iter(loader))[0].numpy()
    assert not np.array_equal(a, b)  # a new epoch draws new augmentations
    assert a.shape == (200, 1, 28, 28) and a.dtype == np.float32


def test_state_dict_resumes_next_epoch_bit_identically():
    ds = _augmented_sample()
    loader = DataLoader(ds, batch_size=50, shuffle=True, generator=cnnlab.Generator(9))
    _epoch(loader)
    saved = loader.state_dict()
    expected = _epoch(loader)
    other = DataLoader(ds, batch_size=50, shuffle=True, generator=cnnlab.Generator(1234))
    other.load_state_dict(saved)
    assert _same(_epoch(other), expected)


def test_state_dict_resumes_mid_epoch():
    ds = _augmented_sample()
    loader = DataLoader(ds, batch_size=40, shuffle=True, generator=cnnlab.Generator(4), prefetch=True)
    full = _epoch(DataLoader(ds, batch_size=40, shuffle=True, generator=cnnlab.Generator(4)))
    it = iter(loader)
    next(it), next(it)
    saved = loader.state_dict()
    assert saved["batches_done"] == 2
    it.close()
    resumed = DataLoader(ds, batch_size=40, shuffle=True, generator=cnnlab.Generator(0))
    resumed.load_state_dict(saved)
    assert _same(_epoch(resumed), full[2:])
    assert len(_epoch(resumed)) == 5  # and the epoch after is whole again


def test_state_dict_is_json_serialisable():
    import json

    loader = DataLoader(
        ArrayDataset(np.arange(10)), batch_size=3, shuffle=True, generator=cnnlab.Generator(0)
    )
    state = json.loads(json.dumps(loader.state_dict()))
    first = _epoch_y(loader)
    loader.load_state_dict(state)
    assert _epoch_y(loader) == first


def _epoch_y(loader):
    return [b[0].tolist() for b in loader]


def test_default_collate_structures():
    Pair = namedtuple("Pair", "image label")
    batch = default_collate([Pair(np.ones(2, np.float32), 1), Pair(np.zeros(2, np.float32), 2)])
    assert isinstance(batch, Pair) and batch.image.shape == (2, 2) and batch.label.tolist() == [1, 2]
    d = default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])
    assert d["x"].dtype == np.float32 and d["x"].tolist() == [1.5, 2.5] and d["name"] == ["a", "b"]
    t = default_collate([cnnlab.ones(3), cnnlab.zeros(3)])
    assert t.shape == (2, 3) and t.dtype == np.float32
    assert default_collate([np.uint8(3), np.uint8(4)]).dtype == np.int64
    assert default_collate([True, False]).dtype == np.bool_


def test_default_collate_errors():
    with pytest.raises(
        ValueError, match=r"samples must share a shape to be stacked, got shapes \[\(2,\), \(3,\)\]"
    ):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="got object"):
        default_collate([object()])


def test_custom_collate_fn():
    loader = DataLoader(ArrayDataset(np.arange(5)), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 1]


def test_loader_argument_errors():
    ds = ArrayDataset(np.arange(5))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="generator must be a cnnlab.Generator, got Generator"):
        DataLoader(ds, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="dataset must define __getitem__ and __len__, got int"):
        DataLoader(3)


def test_containers():
    x, y = _arrays()
    ds = TensorDataset(cnnlab.tensor(x), cnnlab.tensor(y))
    assert len(ds) == 10 and ds[-1][1] == y[-1]
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of length 10"):
        ds[10]
    with pytest.raises(
        ValueError, match=r"arrays must share their first dimension, got shapes \(10, 2, 3\), \(4,\)"
    ):
        ArrayDataset(x, y[:4])
    sub = Subset(ds, [9, 0])
    assert sub[0][1] == y[9] and len(sub) == 2
    both = ConcatDataset([sub, ds])
    assert len(both) == 12 and both[2][1] == y[0]
    assert len(sub + ds) == 12


def test_random_split_partitions():
    parts = random_split(ArrayDataset(np.arange(10)), [3, 7], generator=cnnlab.Generator(0))
    got = sorted(int(p[i][0]) for p in parts for i in range(len(p)))
    assert got == list(range(10)) and [len(p) for p in parts] == [3, 7]
    again = random_split(ArrayDataset(np.arange(10)), [3, 7], generator=cnnlab.Generator(0))
    assert parts[0].indices.tolist() == again[0].indices.tolist()
    assert [len(p) for p in random_split(ArrayDataset(np.arange(10)), [0.5, 0.3, 0.2])] == [5, 3, 2]
    with pytest.raises(ValueError, match="summing to the dataset's length 10"):
        random_split(ArrayDataset(np.arange(10)), [3, 3])
