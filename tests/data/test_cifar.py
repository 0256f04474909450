"""CIFAR readers on small binary archives the tests write: layout, labels, and damaged records."""

import io
import tarfile

import numpy as np
import pytest

from cnnlab.data import CIFAR10, CIFAR100, DatasetNotFoundError


def _records(labels, images):
    """CIFAR binary records: label byte(s), then the R, G and B planes of a 32×32 image."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # N,H,W,C -> N,C*H*W
    return np.concatenate([np.asarray(labels, np.uint8).reshape(len(images), -1), planes], axis=1).tobytes()


def _images(n, seed):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


@pytest.fixture
def cifar10_root(tmp_path):
    members, expected = {}, {}
    for i, name in enumerate([f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]):
        images, labels = _images(2, i), [i % 10, (i + 3) % 10]
        members[f"cifar-10-batches-bin/{name}"] = _records(labels, images)
        expected[name] = (images, labels)
    _tar(tmp_path / "cifar-10-binary.tar.gz", members)
    return tmp_path, expected


def test_cifar10_from_archive(cifar10_root):
    root, expected = cifar10_root
    train = CIFAR10(root=root, train=True, download=False)
    assert train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64
    want = np.concatenate([expected[f"data_batch_{k}.bin"][0] for k in range(1, 6)])
    np.testing.assert_array_equal(train.data, want)  # the R/G/B planes land in HWC order
    assert train.targets.tolist() == [0, 3, 1, 4, 2, 5, 3, 6, 4, 7]
    test = CIFAR10(root=root, train=False, download=False)
    np.testing.assert_array_equal(test.data, expected["test_batch.bin"][0])
    image, target = test[1]
    assert image.shape == (32, 32, 3) and target == 8
    assert test.classes[0] == "airplane" and len(test.classes) == 10


def test_cifar10_pixel_planes(tmp_path):
    # one record whose red plane is 1, green 2, blue 3: every pixel must read (1, 2, 3)
    record = bytes([4]) + bytes([1]) * 1024 + bytes([2]) * 1024 + bytes([3]) * 1024
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(record)
    ds = CIFAR10(root=tmp_path, train=False, download=False)  # an extracted folder works too
    assert ds.targets.tolist() == [4]
    assert (ds.data[0] == np.array([1, 2, 3], np.uint8)).all()


def test_cifar10_bad_record_size(tmp_path):
    _tar(tmp_path / "cifar-10-binary.tar.gz", {"cifar-10-batches-bin/test_batch.bin": bytes(3073 * 2 + 5)})
    with pytest.raises(
        ValueError,
        match=r"test_batch.bin: expected a whole number of 3073-byte records .* got 6151 bytes \(2 records and 5 bytes left over\)",
    ):
        CIFAR10(root=tmp_path, train=False, download=False)


def test_cifar10_missing_member(tmp_path):
    _tar(tmp_path / "cifar-10-binary.tar.gz", {"cifar-10-batches-bin/test_batch.bin": bytes(3073)})
    with pytest.raises(ValueError, match=r"has no member 'cifar-10-batches-bin/data_batch_1.bin'"):
        CIFAR10(root=tmp_path, train=True, download=False)


def test_cifar10_label_out_of_range(tmp_path):
    _tar(
        tmp_path / "cifar-10-binary.tar.gz",
        {"cifar-10-batches-bin/test_batch.bin": bytes([12]) + bytes(3072)},
    )
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 9\]"):
        CIFAR10(root=tmp_path, train=False, download=False)


def test_cifar10_not_a_tar(tmp_path):
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"this is not a tar archive")
    with pytest.raises(ValueError, match=r"cifar-10-binary.tar.gz: not a readable tar archive"):
        CIFAR10(root=tmp_path, train=False, download=False)


def test_cifar10_not_found(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"cifar10: files not found .* download=False; pass root="):
        CIFAR10(root=tmp_path, download=False)


def test_cifar100_coarse_and_fine(tmp_path):
    images = _images(3, 7)
    labels = np.array([[0, 4], [19, 99], [5, 50]])  # (coarse, fine)
    _tar(
        tmp_path / "cifar-100-binary.tar.gz",
        {
            "cifar-100-binary/train.bin": _records(labels, images),
            "cifar-100-binary/test.bin": _records(labels[:1], images[:1]),
        },
    )
    ds = CIFAR100(root=tmp_path, train=True, download=False)
    np.testing.assert_array_equal(ds.data, images)
    assert ds.targets.tolist() == [4, 99, 50]
    assert ds.coarse_targets.tolist() == [0, 19, 5]
    assert len(ds.classes) == 100 and ds.classes[99] == "worm" and ds.coarse_classes[19] == "vehicles_2"
    assert len(CIFAR100(root=tmp_path, train=False, download=False)) == 1


def test_cifar100_bad_record_size(tmp_path):
    _tar(tmp_path / "cifar-100-binary.tar.gz", {"cifar-100-binary/test.bin": bytes(3073)})
    with pytest.raises(ValueError, match=r"expected a whole number of 3074-byte records \(2 label bytes"):
        CIFAR100(root=tmp_path, train=False, download=False)
