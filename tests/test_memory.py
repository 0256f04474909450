"""Reuse of freed memory (glibc's malloc thresholds): measured in page faults, not in seconds."""

import os
import subprocess
import sys

import pytest

import cnnlab
from cnnlab import memory

glibc = pytest.mark.skipif(memory._mallopt() is None, reason="the C library is not glibc")


@pytest.fixture
def restore_reuse():
    before = cnnlab.get_memory_reuse()
    yield
    cnnlab.set_memory_reuse(before)


_COUNT_FAULTS = """
import resource, sys
import numpy as np
import cnnlab
def step():  # three 8 MB arrays: more than glibc, left to itself, keeps once they are freed
    arrays = [np.ones(2 << 20, np.float32) for _ in range(3)]
    del arrays
step()  # once before counting: the first one faults either way
start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(cnnlab.get_memory_reuse(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
"""


def _page_faults_of_allocations(reuse: str) -> tuple[str, int]:
    """Minor page faults while three 8 MB arrays are allocated, filled and freed ten times, in a
    fresh process (in this one, earlier tests have left free memory that would serve them either way).
    Left to itself, glibc faults here too (about 10,000 times): it returns the 24 MB to the system."""
    env = dict(os.environ, CNNLAB_MEMORY_REUSE=reuse)
    done = subprocess.run([sys.executable, "-c", _COUNT_FAULTS], capture_output=True, text=True, env=env, check=True)
    enabled, faults = done.stdout.split()
    return enabled, int(faults)


@glibc
def test_freed_memory_is_reused_without_page_faults():
    enabled, faults = _page_faults_of_allocations("1")
    assert enabled == "True"
    assert faults < 10  # the same memory every time
    enabled, faults = _page_faults_of_allocations("0")
    assert enabled == "False"
    # fresh pages at every allocation: at least one fault each (2,048 with 4 kB pages; 4 where the
    # kernel gives NumPy's large arrays 2 MB pages)
    assert faults >= 30


_PEAK_OF_TWO_THREADS = """
import threading
import numpy as np
import cnnlab
def peak_kb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1])
def step():  # 24 MB allocated, filled and freed
    arrays = [np.ones(2 << 20, np.float32) for _ in range(3)]
    del arrays
start = peak_kb()
for _ in range(3):
    worker = threading.Thread(target=step)
    worker.start()
    worker.join()
    step()
print((peak_kb() - start) // 1024)
"""


@glibc
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="no /proc")
def test_memory_freed_by_one_thread_serves_the_next_thread():
    """cnnlab's threads (:mod:`cnnlab.parallel`) allocate too: with one heap for all threads, what a
    worker frees serves the main thread, instead of each thread's heap keeping its own peak."""
    done = subprocess.run([sys.executable, "-c", _PEAK_OF_TWO_THREADS], capture_output=True, text=True,
                          env=dict(os.environ, CNNLAB_MEMORY_REUSE="1"), check=True)
    assert int(done.stdout) < 36  # MB: the 24 MB once (two heaps would keep 48)


@glibc
def test_reuse_can_be_turned_off_and_on_again(restore_reuse):
    assert cnnlab.set_memory_reuse(False) is False
    assert cnnlab.get_memory_reuse() is False
    assert cnnlab.set_memory_reuse(True) is True
    assert cnnlab.get_memory_reuse() is True


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
