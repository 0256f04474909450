"""Reuse of freed memory (glibc's malloc thresholds): measured in page faults, not in seconds."""

import os
import resource
import subprocess
import sys

import numpy as np
import pytest

import cnnlab
from cnnlab import memory

glibc = pytest.mark.skipif(memory._mallopt() is None, reason="the C library is not glibc")


@pytest.fixture
def restore_reuse():
    before = cnnlab.get_memory_reuse()
    yield
    cnnlab.set_memory_reuse(before)


def _page_faults_of_allocations(times: int = 10) -> int:
    """Minor page faults while an 8 MB array is allocated, filled and freed ``times`` times."""
    np.ones(2 << 20, np.float32)  # once before counting: the first one may fault either way
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(times):
        a = np.ones(2 << 20, np.float32)
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start


@glibc
def test_freed_memory_is_reused_without_page_faults(restore_reuse):
    assert cnnlab.set_memory_reuse(False) is False
    without = _page_faults_of_allocations()
    assert cnnlab.set_memory_reuse(True) is True
    with_reuse = _page_faults_of_allocations()
    assert cnnlab.get_memory_reuse()
    assert without >= 10 * 500  # fresh pages at every allocation: 2,048 faults of 4 kB per 8 MB array
    assert with_reuse < 100


@glibc
@pytest.mark.parametrize("setting,expected", [(None, "True"), ("1", "True"), ("0", "False")])
def test_import_turns_reuse_on_unless_the_environment_says_0(setting, expected):
    env = {k: v for k, v in os.environ.items() if k != "CNNLAB_MEMORY_REUSE"}
    if setting is not None:
        env["CNNLAB_MEMORY_REUSE"] = setting
    done = subprocess.run([sys.executable, "-c", "import cnnlab; print(cnnlab.get_memory_reuse())"],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == expected


def test_without_glibc_nothing_changes(restore_reuse, monkeypatch):
    monkeypatch.setattr(memory, "_mallopt", lambda: None)
    assert cnnlab.set_memory_reuse(True) is False
    assert cnnlab.get_memory_reuse() is False


@pytest.mark.parametrize("value", [1, "yes", None])
def test_set_memory_reuse_wants_a_bool(value):
    with pytest.raises(TypeError, match=rf"set_memory_reuse: expected enabled to be True or False, got {value!r}"):
        cnnlab.set_memory_reuse(value)
