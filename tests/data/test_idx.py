"""IDX reader and writer: round trips and every kind of damaged file, with the messages pinned."""

import gzip
import struct

import numpy as np
import pytest

from cnnlab.data import read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["x-idx", "x-idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    array = (np.arange(2 * 3 * 4) - 7).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_header_bytes_and_big_endian(tmp_path):
    write_idx(tmp_path / "a", np.array([1, 256], dtype=np.int32))
    raw = (tmp_path / "a").read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0C, 1])
    assert raw[4:8] == struct.pack(">I", 2)
    assert raw[8:] == struct.pack(">ii", 1, 256)


def test_gzip_output_is_deterministic(tmp_path):
    array = np.arange(100, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert not list(tmp_path.glob(".*part"))  # no temporary files left


def test_gzip_recognised_by_content_not_name(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(5, dtype=np.uint8))
    (tmp_path / "renamed").write_bytes((tmp_path / "x.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "renamed"), np.arange(5))


def _images_file(tmp_path, n=3, name="train-images-idx3-ubyte"):
    write_idx(tmp_path / name, np.zeros((n, 28, 28), np.uint8))
    return tmp_path / name


def test_truncated_data(tmp_path):
    path = _images_file(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(
        ValueError, match=r"train-images-idx3-ubyte: expected 2368 bytes for 3×28×28 uint8 images, got 1000"
    ):
        read_idx(path)


def test_truncated_gzip_data_names_file_and_sizes(tmp_path):
    # a well-formed gzip stream whose IDX content is short: the example from the issue
    header = bytes([0, 0, 8, 3]) + struct.pack(">III", 60000, 28, 28)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(1000 - 16)))
    with pytest.raises(
        ValueError,
        match=r"train-images-idx3-ubyte.gz: expected 47040016 bytes for 60000×28×28 uint8 images, got 1000",
    ):
        read_idx(path)


def test_too_long(tmp_path):
    path = _images_file(tmp_path)
    path.write_bytes(path.read_bytes() + b"\x00" * 5)
    with pytest.raises(ValueError, match=r"expected 2368 bytes for 3×28×28 uint8 images, got 2373"):
        read_idx(path)


def test_label_size_mismatch(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + bytes(7))
    with pytest.raises(ValueError, match=r"labels-idx1-ubyte: expected 18 bytes for 10 uint8 labels, got 15"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = _images_file(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[0] = 0x12
    path.write_bytes(bytes(raw))
    with pytest.raises(
        ValueError, match=r"train-images-idx3-ubyte: not an IDX file: magic number 0x12000803"
    ):
        read_idx(path)


def test_unknown_type_code(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match=r"magic number 0x00000701 is not 0x0000 followed by a type code"):
        read_idx(path)


def test_wrong_dimension_count(tmp_path):
    path = _images_file(tmp_path)
    with pytest.raises(
        ValueError,
        match=r"expected a 1-dimensional IDX file \(magic 0x00000801\), the header says 3 dimensions",
    ):
        read_idx(path, ndim=1)


def test_header_shorter_than_declared_dims(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 5))
    with pytest.raises(
        ValueError, match=r"truncated IDX header: expected 12 bytes of sizes for 3 dimensions, got 4"
    ):
        read_idx(path)


def test_shorter_than_magic(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match=r"f: not an IDX file: 2 bytes long"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    write_idx(tmp_path / "t.gz", np.arange(1000, dtype=np.int32))
    raw = (tmp_path / "t.gz").read_bytes()
    (tmp_path / "t.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"t.gz: corrupt gzip stream .*download it again"):
        read_idx(tmp_path / "t.gz")


def test_corrupt_gzip_stream(tmp_path):
    write_idx(tmp_path / "c.gz", np.arange(1000, dtype=np.int32))
    raw = bytearray((tmp_path / "c.gz").read_bytes())
    raw[3] = 0xFF  # reserved flag bits: not a valid gzip header
    (tmp_path / "c.gz").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"c.gz: corrupt gzip stream"):
        read_idx(tmp_path / "c.gz")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope: no such IDX file"):
        read_idx(tmp_path / "nope")


def test_write_rejects_bad_dtype(tmp_path):
    with pytest.raises(TypeError, match="write_idx: array dtype must be one of .* got int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))
