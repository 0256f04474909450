"""cnnlab.parallel: threaded copies give exactly NumPy's copies, along whichever axis they split."""

import numpy as np
import pytest

from cnnlab import parallel


@pytest.fixture
def two_threads():
    before = parallel.get_num_threads()
    parallel.set_num_threads(2)
    yield
    parallel.set_num_threads(before)


@pytest.mark.parametrize("shape,axes", [((64, 3, 40, 40), (1, 0, 3, 2)), ((1, 3, 300, 300), (3, 2, 1, 0))])
def test_threaded_copy_equals_numpy(shape, axes, two_threads, rng):
    a = rng.standard_normal(shape).astype(np.float32).transpose(axes)
    assert a.size >= 1 << 17  # large enough to be split between the threads
    b = parallel.contiguous(a)
    assert b.flags.c_contiguous and np.array_equal(a, b)
    out = np.empty_like(b)
    parallel.copy_into(out, a[..., ::-1])
    assert np.array_equal(out, a[..., ::-1])


def test_contiguous_returns_a_contiguous_array_itself():
    a = np.zeros((3, 4), np.float32)
    assert parallel.contiguous(a) is a


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_positive_int(bad):
    with pytest.raises(ValueError, match=r"set_num_threads: expected a positive int, got"):
        parallel.set_num_threads(bad)
