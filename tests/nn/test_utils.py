"""clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters against torch.nn.utils."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.nn import utils

SHAPES = [(3, 4), (5,), (2, 2, 3)]


def _params(rng, scale=1.0, dtype=np.float32):
    grads = [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]
    ours, theirs = [], []
    for g in grads:
        p = cnnlab.nn.Parameter(cnnlab.zeros(*g.shape, dtype=dtype))
        p.grad = cnnlab.tensor(g)
        ours.append(p)
        t = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        t.grad = torch.tensor(g)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm, dtype):
    ours, theirs = _params(rng, dtype=dtype)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total.dtype == expected.numpy().dtype
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-6, atol=1e-7)
        assert p.grad.dtype == dtype


def test_clip_grad_norm_single_tensor_and_no_grads(rng):
    ours, theirs = _params(rng)
    assert utils.clip_grad_norm_(ours[0], 1.0).item() == pytest.approx(
        torch.nn.utils.clip_grad_norm_(theirs[0], 1.0).item()
    )
    assert utils.clip_grad_norm_([cnnlab.nn.Parameter(cnnlab.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite(rng):
    ours, _ = _params(rng)
    ours[0].grad.data[0, 0] = np.inf
    with pytest.raises(
        RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"
    ):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert np.isinf(utils.clip_grad_norm_(ours, 1.0).item())


def test_clip_grad_value_matches_torch(rng):
    ours, theirs = _params(rng, scale=3.0)
    assert utils.clip_grad_value_(ours, 1.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_parameters_to_vector_and_back():
    layer = cnnlab.nn.Linear(3, 2)
    vec = utils.parameters_to_vector(layer.parameters())
    expected = np.concatenate([layer.weight.data.ravel(), layer.bias.data])
    np.testing.assert_array_equal(vec.data, expected)
    vec.sum().backward()  # differentiable
    assert layer.weight.grad.tolist() == [[1.0] * 3] * 2
    weight = layer.weight
    utils.vector_to_parameters(cnnlab.arange(8.0), layer.parameters())
    assert layer.weight is weight and layer.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert layer.bias.tolist() == [6.0, 7.0]
    with pytest.raises(TypeError, match="expected cnnlab.Tensor, but got: list"):
        utils.vector_to_parameters([1.0], layer.parameters())
    with pytest.raises(ValueError, match="expected a vector of 8 elements"):
        utils.vector_to_parameters(cnnlab.zeros(7), layer.parameters())
