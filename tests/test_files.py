"""Atomic writes: whole files or none, with ordinary permissions."""

import os
import stat

import pytest

from cnnlab.files import atomic_write_bytes, atomic_write_text


def test_atomic_write_gives_the_permissions_of_an_ordinary_open(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    atomic_write_text(path, "héllo")
    mask = os.umask(0)
    os.umask(mask)
    assert path.read_text(encoding="utf-8") == "héllo"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert os.listdir(path.parent) == ["a.txt"]


def test_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "b.bin"
    atomic_write_bytes(path, b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "not bytes")  # f.write refuses str: the write fails midway
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["b.bin"]
