"""The autograd engine: the backward walk, accumulation, graph retention, grad modes, deep graphs,
custom Functions and gradcheck."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.autograd import Function, GradcheckError, gradcheck, unbroadcast

# ==================================================================================================
# the backward walk


def test_chain_rule_through_a_diamond() -> None:
    x = cnnlab.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 2
    z = (y * y + y).sum()  # y is used three times
    z.backward()
    np.testing.assert_allclose(x.grad.data, (2 * (2 * x.data) + 1) * 2)


def test_gradients_accumulate_over_two_backward_calls() -> None:
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3.0 + 2.0, 3.0 + 4.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_grad_is_a_fresh_array_not_an_alias_of_the_graph() -> None:
    x = cnnlab.ones(3, requires_grad=True)
    upstream = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    (x + 0).backward(upstream)
    upstream[0] = 100.0
    assert x.grad.tolist() == [1.0, 2.0, 3.0]
    assert not x.grad.requires_grad


def test_backward_with_an_explicit_gradient() -> None:
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(cnnlab.tensor([1.0, 0.5]))
    assert x.grad.tolist() == [2.0, 2.0]
    z = cnnlab.tensor(3.0, requires_grad=True)
    z.backward()  # a leaf: its own gradient is 1
    assert z.grad.item() == 1.0


def test_inputs_that_need_no_gradient_get_none() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    c = cnnlab.ones(2)
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


def test_retain_graph_allows_a_second_backward() -> None:
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_second_backward_without_retain_graph_fails_clearly() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    assert y.grad_fn.released  # the saved arrays are gone
    with pytest.raises(
        RuntimeError,
        match=r"backward: trying to backward through the graph a second time; its "
        r"saved arrays were freed by the first call",
    ):
        y.backward()


def test_shared_subgraph_freed_by_one_backward_fails_the_other() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    h = x.tanh()
    a, b = h.sum(), (h * 2).sum()
    a.backward()
    with pytest.raises(RuntimeError, match="second time"):
        b.backward()


def test_retain_grad_keeps_the_gradient_of_a_non_leaf() -> None:
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = x * 4
    h.retain_grad()
    (h * h + k).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert k.grad is None
    assert x.grad.tolist() == [18.0 + 4.0, 36.0 + 4.0]


def test_leaf_and_grad_fn() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.name == "MulBackward" and repr(y.grad_fn) == "<MulBackward>"
    assert cnnlab.ones(2).is_leaf and not (cnnlab.ones(2) * 2).requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad


def test_detach_shares_data_and_cuts_the_graph() -> None:
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    (x * d).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]  # d is a constant
    e = x.detach()
    assert np.shares_memory(e.data, x.data)
    h = x * 2
    assert h.detach_() is h and h.is_leaf and not h.requires_grad


# ==================================================================================================
# grad modes


def test_no_grad_as_context_manager() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    with cnnlab.no_grad():
        assert not cnnlab.is_grad_enabled()
        y = x * 2
    assert cnnlab.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_as_decorator_and_restores_the_mode_after_an_exception() -> None:
    @cnnlab.no_grad()
    def double(t: cnnlab.Tensor) -> cnnlab.Tensor:
        assert not cnnlab.is_grad_enabled()
        return t * 2

    assert double.__name__ == "double"
    assert not double(cnnlab.ones(1, requires_grad=True)).requires_grad
    assert cnnlab.is_grad_enabled()
    with pytest.raises(ZeroDivisionError), cnnlab.no_grad():
        raise ZeroDivisionError
    assert cnnlab.is_grad_enabled()


def test_set_grad_enabled_and_enable_grad_nest() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    with cnnlab.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with cnnlab.enable_grad():
            assert (x * 2).requires_grad
        with cnnlab.set_grad_enabled(True):
            assert cnnlab.is_grad_enabled()
        assert not cnnlab.is_grad_enabled()
    assert (x * 2).requires_grad

    @cnnlab.set_grad_enabled(False)
    def f() -> bool:
        return cnnlab.is_grad_enabled()

    assert f() is False and cnnlab.is_grad_enabled()


def test_backward_inside_no_grad_still_computes_gradients() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    y = (x * 3).sum()
    with cnnlab.no_grad():
        y.backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert cnnlab.is_grad_enabled()


# ==================================================================================================
# deep graphs: the walk is iterative


def test_a_5000_op_chain_backpropagates_without_recursion_error() -> None:
    assert sys.getrecursionlimit() < 5000 * 2
    x = cnnlab.tensor([0.5, -1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001**5000] * 2, rtol=1e-3)
    del y  # tearing down a deep graph must not overflow either


def test_a_deep_unreleased_graph_can_be_dropped() -> None:
    y = cnnlab.ones(2, requires_grad=True)
    for _ in range(20000):
        y = y + 1
    del y


def test_a_150_block_residual_chain_matches_torch() -> None:
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((4, 4)) * 0.1 for _ in range(150)]
    x0 = rng.standard_normal((3, 4))
    grads = []
    for lib in (cnnlab, torch):
        x = lib.tensor(x0, requires_grad=True)
        ws = [lib.tensor(w, requires_grad=True) for w in weights]
        h = x
        for w in ws:
            h = h + (h @ w).tanh()  # each block: a skip connection around matmul + tanh
        (h * h).mean().backward()
        grads.append([np.asarray(x.grad.tolist())] + [np.asarray(ws[i].grad.tolist()) for i in (0, 75, 149)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# ==================================================================================================
# errors


def test_backward_on_a_non_scalar_needs_a_gradient() -> None:
    y = cnnlab.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(
        RuntimeError,
        match=r"backward: grad can be implicitly created only for scalar outputs; "
        r"this tensor has shape \(2, 3\)",
    ):
        y.backward()


def test_backward_gradient_of_the_wrong_shape() -> None:
    y = cnnlab.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(
        RuntimeError,
        match=r"backward: gradient must have the tensor's shape \(2, 3\), "
        r"got shape \(3,\)",
    ):
        y.backward(np.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad() -> None:
    with pytest.raises(RuntimeError, match="backward: element 0 of tensors does not require grad"):
        cnnlab.ones(1).backward()
    with cnnlab.no_grad():
        y = cnnlab.ones(1, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        y.backward()


def test_requires_grad_can_only_be_cleared_on_leaves() -> None:
    y = cnnlab.ones(1, requires_grad=True) * 2
    with pytest.raises(
        RuntimeError, match=r"requires_grad: can only be changed on leaf tensors; use \.detach\(\)"
    ):
        y.requires_grad = False


def test_retain_grad_needs_requires_grad() -> None:
    with pytest.raises(
        RuntimeError, match="retain_grad: can't retain the gradient of a tensor that does not"
    ):
        cnnlab.ones(1).retain_grad()


# ==================================================================================================
# custom Functions, and the engine's checks on them


class _Cube(Function):
    def forward(self, x, scale):
        self.x, self.scale = x, scale
        return scale * x**3

    def backward(self, grad):
        return grad * self.scale * 3 * self.x**2


class _CubeWithWrongBackward(_Cube):
    def backward(self, grad):
        return grad * self.scale * 2 * self.x**2  # should be 3


class _TwoInputs(Function):
    def forward(self, a, b):
        self.seen = self.needs_input_grad
        return a * b

    def backward(self, grad):
        return grad


class _WrongShape(Function):
    def forward(self, x):
        return x.sum()

    def backward(self, grad):
        return np.ones(3)


def test_a_custom_function_with_keyword_parameters() -> None:
    x = cnnlab.tensor([1.0, 2.0], requires_grad=True)
    y = _Cube.apply(x, scale=2.0)
    assert y.tolist() == [2.0, 16.0] and y.grad_fn.name == "CubeBackward"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]


def test_needs_input_grad_is_set_before_forward() -> None:
    a = cnnlab.ones(2, requires_grad=True)
    out = _TwoInputs.apply(a, cnnlab.ones(2))
    assert out.grad_fn.seen == (True, False)
    with cnnlab.no_grad():
        plain = _TwoInputs.apply(a, np.ones(2))
    assert plain.grad_fn is None


def test_engine_names_a_backward_that_returns_the_wrong_number_of_gradients() -> None:
    out = _TwoInputs.apply(cnnlab.ones(2, requires_grad=True), cnnlab.ones(2, requires_grad=True))
    with pytest.raises(RuntimeError, match="TwoInputsBackward: backward returned 1 gradients for 2 inputs"):
        out.sum().backward()
    assert cnnlab.is_grad_enabled()  # the grad mode is restored after a failing backward


def test_engine_names_a_backward_that_returns_the_wrong_shape() -> None:
    out = _WrongShape.apply(cnnlab.ones(2, requires_grad=True))
    with pytest.raises(
        RuntimeError,
        match=r"WrongShapeBackward: backward returned a gradient of shape \(3,\) "
        r"for an input of shape \(2,\)",
    ):
        out.backward()


def test_unbroadcast() -> None:
    g = np.arange(24.0).reshape(2, 3, 4)
    assert unbroadcast(g, (3, 1)).tolist() == g.sum(axis=(0, 2), keepdims=True)[0].tolist()
    assert unbroadcast(g, ()).item() == g.sum()
    assert unbroadcast(g, (2, 3, 4)) is g
    with pytest.raises(
        ValueError,
        match=r"unbroadcast: a gradient of shape \(3, 4\) can't come from an input of "
        r"shape \(2, 4\)",
    ):
        unbroadcast(np.ones((3, 4)), (2, 4))
    with pytest.raises(ValueError, match="unbroadcast"):
        unbroadcast(np.ones(3), (1, 3, 1))


# ==================================================================================================
# gradcheck


def test_gradcheck_passes_a_correct_backward() -> None:
    x = cnnlab.randn(3, 2, dtype=cnnlab.float64, requires_grad=True)
    assert gradcheck(lambda t: _Cube.apply(t, scale=0.5), [x])


def test_gradcheck_catches_a_wrong_backward_and_names_the_input() -> None:
    c = cnnlab.randn(2, dtype=cnnlab.float64)  # a constant in position 0
    x = cnnlab.randn(2, dtype=cnnlab.float64, requires_grad=True)
    with pytest.raises(
        GradcheckError,
        match=r"gradcheck: gradient of input 1 \(shape \(2,\)\) disagrees with finite "
        r"differences; worst at \(\d,\): analytic .*, numerical",
    ):
        gradcheck(lambda k, t: _CubeWithWrongBackward.apply(t, scale=1.0) + k, [c, x])
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_needs_float64_inputs_that_require_grad() -> None:
    with pytest.raises(
        TypeError, match="gradcheck: input 0 must be float64 for finite differences, got float32"
    ):
        gradcheck(lambda t: t * 2, [cnnlab.ones(2, requires_grad=True)])
    with pytest.raises(
        ValueError, match="gradcheck: expected at least one input tensor with requires_grad=True"
    ):
        gradcheck(lambda t: t * 2, [cnnlab.ones(2, dtype=cnnlab.float64)])
    with pytest.raises(TypeError, match="gradcheck: func must return a Tensor, got tuple"):
        gradcheck(lambda t: (t, t), [cnnlab.ones(2, dtype=cnnlab.float64, requires_grad=True)])
