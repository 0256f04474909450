"""The embedded fashion-mnist-sample and the dataset registry."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

import cnnlab
from cnnlab.data import DataLoader, FashionMNIST, available_datasets, get_dataset
from cnnlab.data import transforms as T
from cnnlab.data.datasets.sample import SAMPLE_DIR, balanced_indices, build_fashion_mnist_sample


@pytest.mark.parametrize("train, n, per_class", [(True, 6000, 600), (False, 1000, 100)])
def test_sample_loads_balanced(train, n, per_class):
    ds = get_dataset("fashion-mnist-sample", train=train)
    assert len(ds) == n and ds.data.shape == (n, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64
    assert np.bincount(ds.targets, minlength=10).tolist() == [per_class] * 10
    assert ds.classes == list(FashionMNIST.classes) and len(ds.classes) == 10
    assert 0 < ds.data.mean() < 255  # real images, not zeros


def test_sample_is_small_and_documented():
    files = sorted(p.name for p in SAMPLE_DIR.iterdir())
    assert files == [
        "README.md",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    ]
    assert sum(p.stat().st_size for p in SAMPLE_DIR.iterdir()) < 4_000_000
    readme = (SAMPLE_DIR / "README.md").read_text()
    assert "MIT" in readme and "Zalando SE" in readme and "first 600" in readme


def test_sample_through_loader():
    ds = get_dataset(
        "fashion-mnist-sample", train=False, transform=T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])
    )
    cnnlab.manual_seed(0)
    x, y = next(iter(DataLoader(ds, batch_size=64, shuffle=True)))
    assert x.shape == (64, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert -1.0 <= x.numpy().min() and x.numpy().max() <= 1.0


def test_balanced_indices_rule():
    labels = np.array([2, 0, 1, 0, 2, 1, 0, 1, 2])
    assert balanced_indices(labels, 2, num_classes=3).tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="class 0 has 3 examples, fewer than 4"):
        balanced_indices(labels, 4, num_classes=3)


SYSTEM = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(
    not (SYSTEM / "t10k-images-idx3-ubyte.gz").is_file(), reason="system Fashion-MNIST not installed"
)
def test_sample_rebuilds_identically_from_system_copy(tmp_path):
    build_fashion_mnist_sample(SYSTEM, tmp_path, train_per_class=1, test_per_class=100)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        got = hashlib.md5((tmp_path / name).read_bytes()).hexdigest()
        assert got == hashlib.md5((SAMPLE_DIR / name).read_bytes()).hexdigest(), name


def test_registry_lists_every_dataset():
    rows = {row["name"]: row for row in available_datasets()}
    assert set(rows) == {"mnist", "fashion-mnist", "kmnist", "cifar10", "cifar100", "fashion-mnist-sample"}
    assert rows["cifar10"]["image_shape"] == (3, 32, 32) and rows["kmnist"]["classes"][0] == "o"
    assert rows["fashion-mnist-sample"]["location"] == str(SAMPLE_DIR)
    assert all(isinstance(r["location"], str) for r in rows.values())


def test_registry_reports_not_found(tmp_path, monkeypatch):
    from cnnlab.data.datasets import download as dl

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(dl, "SYSTEM_DATASETS_DIR", tmp_path / "nothing")
    rows = {row["name"]: row["location"] for row in available_datasets()}
    assert rows["mnist"] == rows["cifar100"] == rows["fashion-mnist"] == "not found"


def test_get_dataset_errors():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; expected one of mnist, fashion-mnist"):
        get_dataset("imagenet")
    assert len(get_dataset("Fashion_MNIST_sample", train=False)) == 1000  # forgiving spelling
