"""Initialisers: shapes, exact bounds, sample statistics, fans and gains equal to PyTorch's."""

import math

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.nn import init

SHAPES = [(30, 20), (16, 3, 5, 5), (8, 4, 3), (4, 6, 2, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_equal_torch(shape):
    assert init._calculate_fan_in_and_fan_out(
        cnnlab.empty(*shape)
    ) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fan_needs_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(cnnlab.empty(5))


@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("conv2d",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu",),
    ],
)
def test_gain_equals_torch(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def test_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def _bound_and_std(name, shape, **kwargs):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if name.startswith("xavier"):
        std = kwargs.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
        std = torch.nn.init.calculate_gain(
            kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)
        ) / math.sqrt(fan)
    return math.sqrt(3.0) * std, std


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("kaiming_uniform_", dict(a=math.sqrt(5))),
        ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
        ("xavier_uniform_", dict(gain=2.0)),
    ],
)
@pytest.mark.parametrize("shape", [(256, 128), (64, 32, 3, 3)])
def test_uniform_initialisers_bounds_and_std(name, kwargs, shape):
    w = getattr(init, name)(cnnlab.empty(*shape), **kwargs)
    bound, std = _bound_and_std(name, shape, **kwargs)
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w.data).max() <= np.float32(bound)
    assert np.abs(w.data).max() > 0.99 * bound
    assert w.data.std() == pytest.approx(std, rel=0.02)
    # PyTorch's own draw has the same bound
    theirs = getattr(torch.nn.init, name)(torch.empty(shape), **kwargs)
    assert theirs.abs().max().item() <= bound + 1e-6


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
        ("xavier_normal_", dict(gain=0.5)),
        ("kaiming_normal_", {}),
    ],
)
def test_normal_initialisers_std(name, kwargs):
    shape = (128, 64, 3, 3)
    w = getattr(init, name)(cnnlab.empty(*shape), **kwargs)
    _, std = _bound_and_std(name, shape, **kwargs)
    assert abs(w.data.mean()) < 0.01 * std * 10
    assert w.data.std() == pytest.approx(std, rel=0.01)


def test_uniform_normal_constant():
    w = init.uniform_(cnnlab.empty(10000), -0.5, 2.0)
    assert w.data.min() >= -0.5 and w.data.max() <= 2.0 and w.data.mean() == pytest.approx(0.75, abs=0.03)
    w = init.normal_(cnnlab.empty(20000), 1.0, 3.0)
    assert w.data.mean() == pytest.approx(1.0, abs=0.06) and w.data.std() == pytest.approx(3.0, rel=0.02)
    assert init.constant_(cnnlab.empty(3), 0.25).tolist() == [0.25] * 3
    assert init.ones_(cnnlab.empty(2)).tolist() == [1.0, 1.0]
    assert init.zeros_(cnnlab.empty(2)).tolist() == [0.0, 0.0]


def test_trunc_normal():
    w = init.trunc_normal_(cnnlab.empty(20000), mean=0.5, std=1.0, a=-1.0, b=1.0)
    assert w.data.min() >= -1.0 and w.data.max() <= 1.0
    theirs = torch.nn.init.trunc_normal_(torch.empty(20000), mean=0.5, std=1.0, a=-1.0, b=1.0)
    assert w.data.mean() == pytest.approx(theirs.mean().item(), abs=0.03)
    assert w.data.std() == pytest.approx(theirs.std().item(), abs=0.03)


def test_eye_dirac_orthogonal_equal_torch():
    np.testing.assert_array_equal(
        init.eye_(cnnlab.empty(3, 5)).data, torch.nn.init.eye_(torch.empty(3, 5)).numpy()
    )
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 3, 3, 1), 1)]:
        np.testing.assert_array_equal(
            init.dirac_(cnnlab.empty(*shape), groups).data,
            torch.nn.init.dirac_(torch.empty(shape), groups).numpy(),
        )
    w = init.orthogonal_(cnnlab.empty(6, 3, 2), gain=2.0).data.reshape(6, 6)
    np.testing.assert_allclose(w @ w.T, 4 * np.eye(6), atol=1e-5)


def test_in_place_without_graph_and_on_parameters():
    p = cnnlab.nn.Parameter(cnnlab.empty(4, 3))
    array = p.data
    out = init.kaiming_uniform_(p, a=math.sqrt(5))
    assert out is p and p.data is array and p.grad_fn is None and p.requires_grad


def test_generator_and_default_generator():
    g1, g2 = cnnlab.Generator(5), cnnlab.Generator(5)
    a = init.xavier_uniform_(cnnlab.empty(4, 4), generator=g1).data.copy()
    np.testing.assert_array_equal(init.xavier_uniform_(cnnlab.empty(4, 4), generator=g2).data, a)
    cnnlab.manual_seed(1)
    b = init.normal_(cnnlab.empty(5)).data.copy()
    cnnlab.manual_seed(1)
    np.testing.assert_array_equal(init.normal_(cnnlab.empty(5)).data, b)


def test_mode_error_and_dtype_kept():
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(cnnlab.empty(2, 2), mode="fan_avg")
    assert init.kaiming_normal_(cnnlab.empty(3, 3, dtype=cnnlab.float64)).dtype == np.float64
