"""Max, average and adaptive pooling layers against torch.nn."""

import numpy as np
import pytest
import torch.nn as tnn
from layer_harness import check_layer

import cnnlab
from cnnlab import nn

pytestmark = pytest.mark.usefixtures("kernels")  # on NumPy alone and with the compiled kernels

POOLS = [
    ("MaxPool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("MaxPool2d", (2, 3, 8, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2))),
    ("MaxPool2d", (2, 3, 8, 8), dict(kernel_size=2, return_indices=True)),
    ("MaxPool3d", (1, 2, 4, 5, 6), dict(kernel_size=2, padding=1)),
    ("AvgPool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("AvgPool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("AvgPool2d", (1, 2, 6, 6), dict(kernel_size=2, divisor_override=3)),
    ("AvgPool3d", (1, 2, 4, 4, 5), dict(kernel_size=(2, 2, 3), stride=1)),
    ("AdaptiveAvgPool1d", (2, 3, 10), dict(output_size=4)),
    ("AdaptiveAvgPool2d", (2, 3, 7, 9), dict(output_size=(3, None))),
    ("AdaptiveAvgPool3d", (1, 2, 5, 6, 7), dict(output_size=(2, 3, 4))),
    ("AdaptiveMaxPool1d", (2, 3, 10), dict(output_size=3)),
    ("AdaptiveMaxPool2d", (2, 3, 7, 9), dict(output_size=(4, 5), return_indices=True)),
    ("AdaptiveMaxPool3d", (1, 2, 5, 6, 7), dict(output_size=2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, shape, kwargs", POOLS, ids=lambda v: str(v))
def test_pool_matches_torch(rng, name, shape, kwargs, dtype):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    check_layer(ours, theirs, rng.standard_normal(shape), dtype=dtype)
    assert repr(ours) == repr(theirs)


def test_pool_defaults_and_attributes():
    pool = nn.MaxPool2d(3)
    assert (pool.kernel_size, pool.stride, pool.padding, pool.dilation) == (3, 3, 0, 1)
    assert nn.AvgPool1d(4).kernel_size == (4,) == tnn.AvgPool1d(4).kernel_size
    assert list(nn.MaxPool2d(2).state_dict()) == []


def test_pool_errors():
    with pytest.raises(ValueError, match="divisor_override"):
        nn.AvgPool2d(2, divisor_override=0)
    with pytest.raises(ValueError, match="max_pool2d"):
        nn.MaxPool2d(2)(cnnlab.ones(2, 3, 4, 5, 6))
