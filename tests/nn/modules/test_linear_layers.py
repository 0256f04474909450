"""Identity, Linear, Bilinear, Flatten, Unflatten against torch.nn."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
from layer_harness import check_layer

import cnnlab
from cnnlab import nn

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(rng, dtype, bias):
    x = rng.standard_normal((4, 3, 5))
    check_layer(nn.Linear(5, 6, bias=bias), tnn.Linear(5, 6, bias=bias), x, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear_matches_torch(rng, dtype):
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    check_layer(nn.Bilinear(3, 5, 2), tnn.Bilinear(3, 5, 2), x1, x2, dtype=dtype)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.Flatten(), tnn.Flatten()),
        (nn.Flatten(0, 2), tnn.Flatten(0, 2)),
        (nn.Unflatten(2, (2, 3)), tnn.Unflatten(2, (2, 3))),
        (nn.Identity(3, foo=1), tnn.Identity(3, foo=1)),
    ],
    ids=repr,
)
def test_shape_layers_match_torch(rng, ours, theirs):
    check_layer(ours, theirs, rng.standard_normal((2, 3, 6, 2)))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("layer", [nn.Linear(20, 30), nn.Bilinear(20, 5, 3)], ids=lambda m: type(m).__name__)
def test_default_init_bounds(layer):
    bound = 1 / math.sqrt(20)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.8 * bound  # spread over the whole range, not a smaller one
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


def test_init_is_reproducible_under_manual_seed():
    cnnlab.manual_seed(3)
    a = nn.Linear(4, 4).weight.data.copy()
    cnnlab.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 4).weight.data, a)


def test_linear_errors():
    with pytest.raises(TypeError, match="Linear: in_features must be an int"):
        nn.Linear(2.5, 3)
    with pytest.raises(ValueError, match="out_features must be >= 0, got -1"):
        nn.Linear(2, -1)
    with pytest.raises(ValueError, match="in_features = 4"):
        nn.Linear(4, 2)(cnnlab.ones(3, 5))
    with pytest.raises(ValueError, match="CPU only"):
        nn.Linear(2, 2, device="cuda")
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 6)


def test_repr():
    assert repr(nn.Linear(3, 4, bias=False)) == repr(tnn.Linear(3, 4, bias=False))
    assert repr(nn.Bilinear(3, 4, 5)) == repr(tnn.Bilinear(3, 4, 5))
    assert torch.is_tensor(tnn.Linear(1, 1).weight)  # the oracle is the installed torch


def test_linear_function_errors():
    w = cnnlab.ones(2, 3)
    with pytest.raises(TypeError, match="expected input and weight to be Tensors, got ndarray and Tensor"):
        cnnlab.nn.functional.linear(np.ones((1, 3)), w)
    with pytest.raises(ValueError, match=r"expected weight of shape \(out_features, in_features\), got shape \(6,\)"):
        cnnlab.nn.functional.linear(cnnlab.ones(1, 3), cnnlab.ones(6))
    with pytest.raises(ValueError, match=r"in_features = 3 \(weight.shape\[1\]\), got input of shape \(\)"):
        cnnlab.nn.functional.linear(cnnlab.tensor(1.0), w)
    with pytest.raises(ValueError, match=r"expected bias of shape \(2,\), got shape \(3,\)"):
        cnnlab.nn.functional.linear(cnnlab.ones(1, 3), w, cnnlab.ones(3))
