import numpy as np
import pytest

import cnnlab


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seed, so failures reproduce."""
    cnnlab.manual_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(params=["numpy", "compiled"])
def kernels(request):
    """Runs a test twice: on NumPy alone, and with Numba's compiled kernels (skipped where Numba is
    not installed). The setting is restored after."""
    before = cnnlab.get_compiled()
    if request.param == "compiled":
        pytest.importorskip("numba")
    cnnlab.set_compiled(request.param == "compiled")
    yield request.param
    cnnlab.set_compiled(before)
