"""Dropout layers: identity in evaluation, the right statistics in training, PyTorch's repr and errors."""

import numpy as np
import pytest
import torch.nn as tnn

import cnnlab
from cnnlab import nn

LAYERS = [
    ("Dropout", (200, 50)),
    ("Dropout1d", (40, 50, 3)),
    ("Dropout2d", (40, 50, 2, 2)),
    ("Dropout3d", (40, 50, 1, 2, 2)),
    ("AlphaDropout", (200, 50)),
]


@pytest.mark.parametrize("name, shape", LAYERS)
def test_eval_is_identity(name, shape):
    layer = getattr(nn, name)(p=0.5).eval()
    x = cnnlab.randn(*shape)
    np.testing.assert_array_equal(layer(x).data, x.data)


@pytest.mark.parametrize("name, shape", LAYERS[:4])
def test_training_zeroes_and_rescales(name, shape):
    layer = getattr(nn, name)(p=0.25)
    out = layer(cnnlab.ones(*shape)).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.03
    if name != "Dropout":  # whole channels: constant over the spatial dimensions
        flat = out.reshape(shape[0], shape[1], -1)
        assert np.all(flat == flat[..., :1])


def test_alpha_dropout_keeps_mean_and_variance():
    out = nn.AlphaDropout(p=0.2)(cnnlab.randn(400, 250)).data
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02


@pytest.mark.parametrize("name, shape", LAYERS)
def test_p_zero_and_one(name, shape):
    x = cnnlab.randn(*shape)
    np.testing.assert_allclose(getattr(nn, name)(p=0.0)(x).data, x.data)
    if name != "AlphaDropout":
        assert not getattr(nn, name)(p=1.0)(x).data.any()


def test_gradient_flows_through_kept_elements():
    x = cnnlab.ones(100, 100, requires_grad=True)
    out = nn.Dropout(0.5)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)


@pytest.mark.parametrize("name", [n for n, _ in LAYERS])
def test_repr_and_errors(name):
    assert repr(getattr(nn, name)(0.3, inplace=True)) == repr(getattr(tnn, name)(0.3, inplace=True))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        getattr(nn, name)(1.5)
