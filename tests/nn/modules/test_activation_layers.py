"""Activation layers against torch.nn."""

import numpy as np
import pytest
import torch.nn as tnn
from layer_harness import check_layer

from cnnlab import nn

ACTIVATIONS = [
    ("ReLU", {}),
    ("ReLU6", {}),
    ("LeakyReLU", dict(negative_slope=0.2)),
    ("ELU", dict(alpha=0.7)),
    ("GELU", {}),
    ("GELU", dict(approximate="tanh")),
    ("SiLU", {}),
    ("Hardswish", {}),
    ("Hardsigmoid", {}),
    ("Hardtanh", dict(min_val=-0.5, max_val=1.5)),
    ("Softplus", dict(beta=2.0, threshold=3.0)),
    ("Mish", {}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("Softmax", dict(dim=1)),
    ("LogSoftmax", dict(dim=-1)),
    ("Softmin", dict(dim=0)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=lambda v: str(v))
def test_activation_matches_torch(rng, name, kwargs, dtype):
    x = rng.standard_normal((3, 4, 5)) * 3
    ours, theirs = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    check_layer(ours, theirs, x, dtype=dtype)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    "name", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Mish", "Hardswish", "Hardsigmoid", "Hardtanh"]
)
def test_inplace_repr_matches_torch(name):
    assert repr(getattr(nn, name)(inplace=True)) == repr(getattr(tnn, name)(inplace=True))


def test_activation_errors():
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(-1.0\) must be greater than min_val \(1.0\)"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="GELU: approximate must be one of 'none', 'tanh', got 'erf'"):
        nn.GELU(approximate="erf")
