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
