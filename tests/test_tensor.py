"""Tensor operations: one row per op in a table checked against PyTorch and finite differences, then
the rules the table can't show (ties, dtypes, NumPy interop, factories, in-place updates, errors)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from harness import assert_close, check_against_torch, check_gradients, noncontiguous

import cnnlab

# ==================================================================================================
# the op table


@dataclass
class Row:
    """One op: ``ours`` runs on cnnlab tensors, ``theirs`` (default: the same callable) on torch tensors.

    ``shapes`` gives one random input per entry; ``domain`` keeps the values where the op is smooth:
    "any" (normal), "positive" (0.5 .. 2), "away" (|x| in 0.5 .. 2, random sign). ``fd`` is False for
    rows without a gradient to check by finite differences.
    """

    id: str
    ours: Callable[..., Any]
    shapes: tuple = ((2, 3),)
    theirs: Callable[..., Any] | None = None
    domain: str | tuple = "any"
    fd: bool = True
    grad: bool = True


def ns(f: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """A row for a namespace function: ``f(lib, *inputs)`` with lib cnnlab or torch."""
    return {"ours": lambda *a: f(cnnlab, *a), "theirs": lambda *a: f(torch, *a)}


ARR = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3) + 0.25  # a NumPy operand, no zeros
ARR_T = torch.from_numpy(ARR)

ROWS = [
    # arithmetic, with broadcasting both ways, Python scalars and NumPy values on either side
    Row("add", lambda a, b: a + b, ((2, 3), (2, 3))),
    Row("add_bcast_right", lambda a, b: a + b, ((2, 3), (3,))),
    Row("add_bcast_left", lambda a, b: a + b, ((3,), (2, 3))),
    Row("add_bcast_both", lambda a, b: a + b, ((4, 1), (1, 3))),
    Row("add_bcast_3d", lambda a, b: a + b, ((2, 1, 3), (4, 1))),
    Row("add_0d_right", lambda a, b: a + b, ((2, 3), ())),
    Row("add_0d_left", lambda a, b: a + b, ((), (2, 3))),
    Row("add_0d_0d", lambda a, b: a + b, ((), ())),
    Row("add_method", lambda a, b: a.add(b), ((2, 3), (3,))),
    Row("add_scalar", lambda a: a + 2),
    Row("radd_scalar", lambda a: 2.5 + a),
    Row("add_numpy_scalar", lambda a: a + np.float32(1.5)),
    Row("radd_numpy_array", lambda a: ARR + a, theirs=lambda a: ARR_T + a),
    Row("add_numpy_array", lambda a: a + ARR, theirs=lambda a: a + ARR_T),
    Row("sub", lambda a, b: a - b, ((2, 3), (2, 3))),
    Row("sub_bcast", lambda a, b: a - b, ((3,), (2, 1))),
    Row("rsub_scalar", lambda a: 1.5 - a),
    Row("sub_scalar", lambda a: a - 1),
    Row("rsub_numpy_array", lambda a: ARR - a, theirs=lambda a: ARR_T - a),
    Row("mul", lambda a, b: a * b, ((2, 3), (2, 3))),
    Row("mul_bcast", lambda a, b: a * b, ((1, 3), (2, 1))),
    Row("mul_0d", lambda a, b: a * b, ((), (2, 3))),
    Row("rmul_scalar", lambda a: 3 * a),
    Row("rmul_numpy_array", lambda a: ARR * a, theirs=lambda a: ARR_T * a),
    Row("mul_batch1", lambda a, b: a * b, ((1, 3, 1), (1, 1, 4))),
    Row("div", lambda a, b: a / b, ((2, 3), (2, 3)), domain=("any", "away")),
    Row("div_bcast", lambda a, b: a / b, ((2, 3), (3,)), domain=("any", "away")),
    Row("div_bcast_left", lambda a, b: a / b, ((3,), (2, 3)), domain=("any", "away")),
    Row("div_scalar", lambda a: a / 4),
    Row("rdiv_scalar", lambda a: 2.0 / a, domain="away"),
    Row("rdiv_numpy_array", lambda a: ARR / a, theirs=lambda a: ARR_T / a, domain="away"),
    Row("neg", lambda a: -a),
    Row("pow_2", lambda a: a**2),
    Row("pow_3", lambda a: a**3),
    Row("pow_half", lambda a: a**0.5, domain="positive"),
    Row("pow_neg", lambda a: a**-1.5, domain="positive"),
    Row("pow_0", lambda a: a**0),
    Row("pow_method", lambda a: a.pow(2)),
    Row("rpow_scalar", lambda a: 2**a),
    Row("rpow_float", lambda a: 2.5**a),
    Row("pow_tensor", lambda a, b: a**b, ((2, 3), (2, 3)), domain=("positive", "any")),
    Row("pow_tensor_bcast", lambda a, b: a**b, ((2, 3), (3,)), domain=("positive", "any")),
    # matrix products
    Row("matmul", lambda a, b: a @ b, ((2, 3), (3, 4))),
    Row("matmul_vec_mat", lambda a, b: a @ b, ((3,), (3, 4))),
    Row("matmul_mat_vec", lambda a, b: a @ b, ((2, 3), (3,))),
    Row("matmul_vec_vec", lambda a, b: a @ b, ((3,), (3,))),
    Row("matmul_batched", lambda a, b: a @ b, ((2, 2, 3), (3, 4))),
    Row("matmul_broadcast", lambda a, b: a @ b, ((2, 1, 2, 3), (5, 3, 4))),
    Row("matmul_batch1", lambda a, b: a @ b, ((1, 1, 3), (1, 3, 1))),
    Row("matmul_method", lambda a, b: a.matmul(b), ((2, 3), (3, 2))),
    Row("matmul_fn", **ns(lambda m, a, b: m.matmul(a, b)), shapes=((4, 3), (3,))),
    Row("rmatmul_numpy", lambda a: ARR @ a, theirs=lambda a: ARR_T.to(a.dtype) @ a, shapes=((3, 2),)),
    # elementwise functions
    Row("exp", lambda a: a.exp()),
    Row("exp_fn", **ns(lambda m, a: m.exp(a))),
    Row("log", lambda a: a.log(), domain="positive"),
    Row("sqrt", lambda a: a.sqrt(), domain="positive"),
    Row("abs", lambda a: a.abs(), domain="away"),
    Row("tanh", lambda a: a.tanh()),
    Row("sigmoid", lambda a: a.sigmoid()),
    Row("relu", lambda a: a.relu(), domain="away"),
    Row("clamp", lambda a: a.clamp(-0.5, 0.7)),
    Row("clamp_min", lambda a: a.clamp(min=-0.3)),
    Row("clamp_max", lambda a: a.clamp(max=0.2)),
    Row(
        "clamp_tensors",
        lambda a, lo, hi: a.clamp(lo, hi),
        ((2, 3), (3,), (2, 1)),
        domain=("any", "any", "any"),
    ),
    Row("clamp_fn", **ns(lambda m, a: m.clamp(a, min=0.1))),
    Row("maximum", lambda a, b: a.maximum(b), ((2, 3), (2, 3))),
    Row("maximum_bcast", **ns(lambda m, a, b: m.maximum(a, b)), shapes=((2, 3), (3,))),
    Row("minimum", lambda a, b: a.minimum(b), ((2, 1), (1, 3))),
    Row("minimum_fn", **ns(lambda m, a, b: m.minimum(a, b)), shapes=((3,), (2, 3))),
    Row("where", **ns(lambda m, a, b: m.where(a > 0, a, b)), shapes=((2, 3), (2, 3))),
    Row("where_bcast", **ns(lambda m, a, b: m.where(b > 0, a, b)), shapes=((2, 3), (3,))),
    Row("where_scalar", **ns(lambda m, a: m.where(a > 0, a, 0.0))),
    # reductions
    Row("sum", lambda a: a.sum(), ((2, 3, 4),)),
    Row("sum_dim", lambda a: a.sum(1), ((2, 3, 4),)),
    Row("sum_neg_dim", lambda a: a.sum(dim=-1), ((2, 3, 4),)),
    Row("sum_dims_keepdim", lambda a: a.sum(dim=(0, 2), keepdim=True), ((2, 3, 4),)),
    Row("sum_0d", lambda a: a.sum(), ((),)),
    Row("sum_0d_dim", lambda a: a.sum(0), ((),)),
    Row("sum_fn", **ns(lambda m, a: m.sum(a, 0)), shapes=((1, 3),)),
    Row("mean", lambda a: a.mean(), ((2, 3, 4),)),
    Row("mean_dim", lambda a: a.mean(dim=1), ((2, 3, 4),)),
    Row("mean_dims_keepdim", lambda a: a.mean(dim=(0, -1), keepdim=True), ((2, 3, 4),)),
    Row("var", lambda a: a.var(), ((2, 3, 4),)),
    Row("var_dim_biased", lambda a: a.var(dim=1, unbiased=False), ((2, 3, 4),)),
    Row("var_dims_keepdim", lambda a: a.var(dim=(0, 2), keepdim=True), ((2, 3, 4),)),
    Row("var_correction", lambda a: a.var(dim=0, correction=0), ((4, 3),)),
    Row("std", lambda a: a.std(), ((2, 3, 4),)),
    Row("std_dim", lambda a: a.std(dim=-1, keepdim=True), ((2, 3, 4),)),
    Row("max", lambda a: a.max(), ((2, 3, 4),)),
    Row("min", lambda a: a.min(), ((2, 3, 4),)),
    Row("max_dim", lambda a: a.max(1), ((2, 3, 4),)),
    Row("max_dim_keepdim", lambda a: a.max(dim=-1, keepdim=True), ((2, 3, 4),)),
    Row("min_dim", lambda a: a.min(0), ((2, 3),)),
    Row("max_0d_dim", lambda a: a.max(0), ((),)),
    Row("max_fn", **ns(lambda m, a: m.max(a, 1)), shapes=((2, 3),)),
    Row("max_elementwise", lambda a, b: a.max(b), ((2, 3), (2, 3))),
    Row("amax", lambda a: a.amax(dim=1), ((2, 3, 4),)),
    Row("amin", lambda a: a.amin(dim=(0, 2), keepdim=True), ((2, 3, 4),)),
    Row("argmax", lambda a: a.argmax(), ((2, 3, 4),), fd=False),
    Row("argmax_dim", lambda a: a.argmax(dim=1, keepdim=True), ((2, 3, 4),), fd=False),
    Row("argmin_dim", lambda a: a.argmin(2), ((2, 3, 4),), fd=False),
    # shape
    Row("reshape", lambda a: a.reshape(3, 2)),
    Row("reshape_tuple_infer", lambda a: a.reshape((-1, 4)), ((2, 3, 4),)),
    Row("reshape_0d", lambda a: a.reshape(1, 1), ((),)),
    Row("view", lambda a: a.contiguous().view(6)),
    Row("permute", lambda a: a.permute(2, 0, 1), ((2, 3, 4),)),
    Row("permute_neg", lambda a: a.permute(-1, 0, 1), ((2, 3, 4),)),
    Row("transpose", lambda a: a.transpose(0, 2), ((2, 3, 4),)),
    Row("transpose_fn", **ns(lambda m, a: m.transpose(a, -1, 0)), shapes=((2, 3, 4),)),
    Row("t", lambda a: a.t()),
    Row("flatten", lambda a: a.flatten(), ((2, 3, 4),)),
    Row("flatten_start", lambda a: a.flatten(1), ((2, 3, 4),)),
    Row("flatten_range", lambda a: a.flatten(0, 1), ((2, 3, 4),)),
    Row("squeeze", lambda a: a.squeeze(), ((1, 3, 1),)),
    Row("squeeze_dim", lambda a: a.squeeze(0), ((1, 3, 1),)),
    Row("squeeze_nonsingleton", lambda a: a.squeeze(1), ((1, 3, 1),)),
    Row("unsqueeze", lambda a: a.unsqueeze(0)),
    Row("unsqueeze_neg", lambda a: a.unsqueeze(-1)),
    Row("expand", lambda a: a.expand(4, 3), ((1, 3),)),
    Row("expand_new_dims", lambda a: a.expand(2, -1, 3), ((4, 1),)),
    Row("expand_as", lambda a, b: a.expand_as(b), ((3,), (2, 3))),
    Row("repeat", lambda a: a.repeat(2, 1, 3)),
    Row("cat", **ns(lambda m, a, b: m.cat([a, b])), shapes=((2, 3), (1, 3))),
    Row("cat_dim1", **ns(lambda m, a, b, c: m.cat([a, b, c], dim=1)), shapes=((2, 3), (2, 1), (2, 2))),
    Row("cat_neg_dim", **ns(lambda m, a, b: m.cat((a, b), -1)), shapes=((2, 3), (2, 2))),
    Row("stack", **ns(lambda m, a, b: m.stack([a, b])), shapes=((2, 3), (2, 3))),
    Row("stack_last", **ns(lambda m, a, b: m.stack([a, b], dim=-1)), shapes=((2, 3), (2, 3))),
    Row("chunk", lambda a: a.chunk(2, dim=1), ((2, 5),)),
    Row("split", lambda a: a.split(2), ((5, 2),)),
    Row("split_sizes", lambda a: a.split([1, 3], dim=1), ((2, 4),)),
    Row("chunk_more_than_size", lambda a: a.chunk(4), ((3, 2),)),
    Row("clone", lambda a: a.clone()),
    Row("contiguous", lambda a: a.transpose(0, 1).contiguous()),
    Row("double", lambda a: a.double() * 2),
    Row("float", lambda a: a.float() * 2, fd=False),  # float32 in the middle: too coarse for differences
    Row("to_dtype", lambda a: a.to(cnnlab.float64) if isinstance(a, cnnlab.Tensor) else a.to(torch.float64)),
    # indexing: basic, integer arrays (repeats accumulate), boolean masks, None and Ellipsis
    Row("index_int", lambda a: a[1]),
    Row("index_neg_int", lambda a: a[-1, 0]),
    Row("index_slice", lambda a: a[:, 1:3]),
    Row("index_step", lambda a: a[::2, 1::2], ((5, 4),)),
    Row("index_none", lambda a: a[None, 1]),
    Row("index_ellipsis", lambda a: a[..., 0], ((2, 3, 4),)),
    Row("index_ellipsis_none", lambda a: a[..., None, 1:], ((2, 3, 4),)),
    Row("index_int_array", lambda a: a[[2, 0, 2, 2]], ((3, 2),)),
    Row("index_int_array_2d", lambda a: a[[0, 1, 1], [2, 2, 0]]),
    Row("index_int_array_dim1", lambda a: a[:, [2, 0, 2]]),
    Row("index_int_array_nested", lambda a, i: a[i], ((2, 3), "int:[[0, 1], [1, 1]]")),
    Row("index_bool_mask", lambda a: a[a > 0]),
    Row("index_bool_rows", lambda a: a[[True, False, True]], ((3, 2),)),
    Row("index_tensor", lambda a, i: a[i], ((4, 2), "int:[3, 0, 3]")),
    Row("gather", lambda a, i: a.gather(1, i), ((2, 3), "int:[[0, 0], [2, 1]]")),
    Row("gather_dim0", lambda a, i: a.gather(0, i), ((3, 2), "int:[[2, 2], [0, 0], [1, 2]]")),
    Row("masked_fill", lambda a: a.masked_fill(a > 0.5, -1.0)),
]


_ROW_IDS = [row.id for row in ROWS]
assert len(set(_ROW_IDS)) == len(_ROW_IDS), "duplicate row ids"


def _inputs(row: Row, dtype: Any, seed: int = 0) -> list[Any]:
    rng = np.random.default_rng(seed)
    domains = row.domain if isinstance(row.domain, tuple) else (row.domain,) * len(row.shapes)
    inputs = []
    for shape, domain in zip(row.shapes, domains):
        if isinstance(shape, str):  # an integer array written out, e.g. "int:[0, 2]"
            inputs.append(np.array(json.loads(shape[4:]), dtype=np.int64))
            continue
        if domain == "positive":
            x = rng.uniform(0.5, 2.0, shape)
        elif domain == "away":
            x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        else:
            x = rng.standard_normal(shape)
        inputs.append(np.asarray(x, dtype=dtype))
    return inputs


@pytest.mark.parametrize("layout", ["contiguous", "noncontiguous"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("row", ROWS, ids=_ROW_IDS)
def test_op_matches_torch(row: Row, dtype: Any, layout: str) -> None:
    inputs = _inputs(row, dtype)
    if layout == "noncontiguous":
        strided = [
            noncontiguous(x) if x.dtype.kind == "f" and x.ndim and x.shape[-1] > 1 else x for x in inputs
        ]
        if all(a is b for a, b in zip(strided, inputs)):
            pytest.skip("no input with a last dimension to stride")
        inputs = strided
    check_against_torch(row.ours, row.theirs or row.ours, inputs, grad=row.grad)


@pytest.mark.parametrize("row", [r for r in ROWS if r.fd], ids=[r.id for r in ROWS if r.fd])
def test_op_gradients_by_finite_differences(row: Row) -> None:
    check_gradients(row.ours, _inputs(row, np.float64, seed=1))


def test_op_table_covers_the_tensor_api() -> None:
    # each of these public names has at least one row whose id starts with it
    for name in [
        "add",
        "sub",
        "mul",
        "div",
        "pow",
        "neg",
        "matmul",
        "exp",
        "log",
        "sqrt",
        "abs",
        "tanh",
        "sigmoid",
        "clamp",
        "maximum",
        "minimum",
        "where",
        "sum",
        "mean",
        "var",
        "std",
        "max",
        "min",
        "argmax",
        "reshape",
        "view",
        "permute",
        "transpose",
        "flatten",
        "squeeze",
        "unsqueeze",
        "expand",
        "cat",
        "stack",
        "index",
    ]:
        assert any(i == name or i.startswith(name + "_") for i in _ROW_IDS), name


# ==================================================================================================
# comparisons: boolean results, no graph


@pytest.mark.parametrize(
    "op",
    ["lt", "le", "gt", "ge", "eq", "ne"],
)
def test_comparisons_match_torch_and_record_nothing(op: str) -> None:
    a = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]], dtype=np.float32)
    b = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    x = cnnlab.tensor(a, requires_grad=True)
    ours = getattr(x, op)(cnnlab.tensor(b))
    theirs = getattr(torch.from_numpy(a), op)(torch.from_numpy(b))
    assert ours.dtype == np.bool_ and not ours.requires_grad
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal(getattr(x, op)(1.0).data, getattr(torch.from_numpy(a), op)(1.0).numpy())


def test_comparison_operators() -> None:
    x = cnnlab.tensor([1.0, 2.0, 3.0])
    assert (x < 2).tolist() == [True, False, False]
    assert (x >= 2).tolist() == [False, True, True]
    assert (x == cnnlab.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (x != 2.0).tolist() == [True, False, True]
    assert (~(x > 1)).tolist() == [True, False, False]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert ((x < 2) | (x > 2)).tolist() == [True, False, True]


# ==================================================================================================
# ties, boundaries and other points where the derivative is a convention


def _grad_of(fn: Callable, values: Any, lib: Any) -> np.ndarray:
    if lib is torch:
        x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    else:
        x = cnnlab.tensor(values, dtype=cnnlab.float64, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy() if lib is torch else x.grad.data


def test_full_max_and_min_distribute_ties_evenly() -> None:
    values = [[1.0, 3.0, 3.0], [0.0, 3.0, -2.0]]
    np.testing.assert_allclose(
        _grad_of(lambda x: x.max(), values, cnnlab), [[0, 1 / 3, 1 / 3], [0, 1 / 3, 0]]
    )
    np.testing.assert_allclose(
        _grad_of(lambda x: x.min(), [[1.0, -2.0], [-2.0, 5.0]], cnnlab), [[0, 0.5], [0.5, 0]]
    )
    for fn in (lambda x: x.max() * 3, lambda x: x.min()):
        np.testing.assert_allclose(_grad_of(fn, values, cnnlab), _grad_of(fn, values, torch))


def test_max_along_dim_returns_values_and_indices_and_routes_gradient_to_the_index() -> None:
    x = cnnlab.tensor([[1.0, 3.0, 3.0], [4.0, 0.0, 4.0]], requires_grad=True)
    out = x.max(dim=1)
    assert isinstance(out, tuple) and out._fields == ("values", "indices")
    values, indices = out
    assert values.tolist() == [3.0, 4.0] and indices.tolist() == [1, 0] and indices.dtype == np.int64
    assert out.values is values and out.indices is indices
    (values * cnnlab.tensor([1.0, 10.0])).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [10.0, 0.0, 0.0]]
    t = torch.tensor([[1.0, 3.0, 3.0], [4.0, 0.0, 4.0]])
    assert indices.tolist() == t.max(dim=1).indices.tolist()
    mins = cnnlab.tensor([[2.0, 1.0, 1.0]]).min(dim=1, keepdim=True)
    assert mins.values.tolist() == [[1.0]] and mins.indices.tolist() == [[1]]


def test_amax_distributes_ties_along_the_dim_like_torch() -> None:
    values = [[1.0, 3.0, 3.0], [4.0, 0.0, 2.0]]
    ours = _grad_of(lambda x: x.amax(dim=1), values, cnnlab)
    np.testing.assert_allclose(ours, [[0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_allclose(ours, _grad_of(lambda x: x.amax(dim=1), values, torch))


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_and_minimum_split_ties_in_half(op: str) -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 5.0, 0.0])
    grads = []
    for lib in (cnnlab, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b, requires_grad=True)
        getattr(lib, op)(x, y).sum().backward()
        grads.append((np.asarray(x.grad.tolist()), np.asarray(y.grad.tolist())))
    (gx, gy), (tx, ty) = grads
    assert gx[0] == gy[0] == 0.5
    np.testing.assert_array_equal(gx, tx)
    np.testing.assert_array_equal(gy, ty)


def test_clamp_passes_the_gradient_at_the_boundaries() -> None:
    values = [-1.0, -0.5, 0.0, 0.5, 1.0]
    ours = _grad_of(lambda x: x.clamp(-0.5, 0.5), values, cnnlab)
    np.testing.assert_array_equal(ours, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(ours, _grad_of(lambda x: x.clamp(-0.5, 0.5), values, torch))


def test_clamp_with_tensor_bounds_sends_gradient_to_the_bounds() -> None:
    grads = []
    for lib in (cnnlab, torch):
        x = lib.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], requires_grad=True)
        lo = lib.tensor([-0.5] * 4 + [2.0], requires_grad=True)  # the last has min > max: the output is max
        hi = lib.tensor([0.5] * 5, requires_grad=True)
        out = x.clamp(lo, hi)
        out.sum().backward()
        grads.append([np.asarray(t.tolist()) for t in (out, x.grad, lo.grad, hi.grad)])
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)
    assert grads[0][0].tolist() == [-0.5, -0.5, 0.0, 0.5, 0.5]


def test_abs_has_zero_gradient_at_zero() -> None:
    np.testing.assert_array_equal(_grad_of(lambda x: x.abs(), [-2.0, 0.0, 3.0], cnnlab), [-1.0, 0.0, 1.0])


def test_pow_with_zero_exponent_at_zero_base_gives_zero_gradient_like_torch() -> None:
    grads = []
    for lib in (cnnlab, torch):
        x = lib.tensor([0.0, 2.0], requires_grad=True)
        e = lib.tensor([0.0, 0.0], requires_grad=True)
        (x**e).sum().backward()
        grads.append((x.grad.tolist(), e.grad.tolist()))
    assert grads[0][0] == [0.0, 0.0]
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6)


def test_std_of_a_constant_has_zero_gradient_like_torch() -> None:
    x = cnnlab.ones(4, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0] * 4


def test_sqrt_and_log_at_zero_give_inf_like_torch() -> None:
    x = cnnlab.tensor([0.0, 4.0], requires_grad=True)
    x.sqrt().sum().backward()
    assert x.grad.tolist() == [float("inf"), 0.25]
    y = cnnlab.tensor([0.0, 2.0])
    assert y.log().tolist() == [float("-inf"), pytest.approx(np.log(2.0))]


def test_repeated_integer_indices_accumulate_their_gradients() -> None:
    x = cnnlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y = cnnlab.zeros(2, 2, requires_grad=True)
    y[[1, 1], [0, 0]].sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0], [2.0, 0.0]]


def test_boolean_mask_selects_and_scatters_back() -> None:
    x = cnnlab.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]
    assert picked.tolist() == [1.0, 4.0]
    (picked * cnnlab.tensor([2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [0.0, 3.0]]
    mask = cnnlab.tensor([True, False])
    assert x[mask].shape == (1, 2)


def test_none_and_ellipsis_indexing() -> None:
    x = cnnlab.arange(24, dtype=cnnlab.float32).reshape(2, 3, 4)
    assert x[None].shape == (1, 2, 3, 4)
    assert x[..., None].shape == (2, 3, 4, 1)
    assert x[0, ..., 1].tolist() == [1.0, 5.0, 9.0]
    assert x[:, None, 1, ...].shape == (2, 1, 4)


def test_iterating_yields_rows_and_a_0d_tensor_is_not_iterable() -> None:
    rows = list(cnnlab.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError, match="0-d"):
        iter(cnnlab.tensor(1.0))


# ==================================================================================================
# dtypes


def test_dtype_inference_from_python_values() -> None:
    assert cnnlab.tensor(1.5).dtype == np.float32
    assert cnnlab.tensor([1.0, 2.0]).dtype == np.float32
    assert cnnlab.tensor([1, 2]).dtype == np.int64
    assert cnnlab.tensor(3).dtype == np.int64
    assert cnnlab.tensor([True, False]).dtype == np.bool_
    assert cnnlab.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert cnnlab.tensor([1, 2], dtype=cnnlab.float64).dtype == np.float64
    assert cnnlab.get_default_dtype() == np.float32


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: cnnlab.ones(2) * 2.5, np.float32),
        (lambda: cnnlab.ones(2) + 3, np.float32),
        (lambda: 2.5 - cnnlab.ones(2), np.float32),
        (lambda: cnnlab.ones(2) * np.float64(2.0), np.float32),
        (lambda: np.float64(2.0) / cnnlab.ones(2), np.float32),
        (lambda: cnnlab.ones(2) ** np.float64(2.0), np.float32),
        (lambda: cnnlab.ones(2) + cnnlab.ones(2, dtype=cnnlab.float64), np.float64),
        (lambda: cnnlab.ones(2, dtype=cnnlab.float64) * cnnlab.ones(2), np.float64),
        (lambda: cnnlab.ones(2) + cnnlab.tensor(1.0, dtype=cnnlab.float64), np.float32),  # 0-d is weaker
        (lambda: cnnlab.tensor(1.0) + cnnlab.tensor(1.0, dtype=cnnlab.float64), np.float64),
        (lambda: cnnlab.ones(2) + cnnlab.tensor([1, 2]), np.float32),
        (lambda: cnnlab.tensor([1, 2]) + 2.5, np.float32),
        (lambda: cnnlab.tensor([1, 2]) * 2, np.int64),
        (lambda: cnnlab.tensor([1, 2]) / cnnlab.tensor([2, 2]), np.float32),
        (lambda: cnnlab.tensor([1, 2]) / 2, np.float32),
        (lambda: cnnlab.tensor([True]) + 1, np.int64),
        (lambda: cnnlab.tensor([True]) * 2.5, np.float32),
        (lambda: 2.5 ** cnnlab.tensor([1, 2]), np.float32),
        (lambda: cnnlab.tensor([1, 2]) ** 2, np.int64),
        (lambda: cnnlab.tensor([1, 2]).exp(), np.float32),
        (lambda: cnnlab.tensor([1, 2]).sum(), np.int64),
        (lambda: cnnlab.ones(2) + [1.0, 2.0], np.float32),
        (lambda: cnnlab.ones(2) + np.ones(2), np.float64),
        (lambda: cnnlab.cat([cnnlab.ones(2), cnnlab.ones(2, dtype=cnnlab.float64)]), np.float64),
        (lambda: cnnlab.where(cnnlab.tensor([True]), cnnlab.tensor([1]), 0.5), np.float32),
        (lambda: cnnlab.ones(2, dtype=cnnlab.float64).maximum(cnnlab.ones(2)), np.float64),
    ],
)
def test_type_promotion_follows_torch(make: Callable, expected: Any) -> None:
    assert make().dtype == expected


def test_type_promotion_agrees_with_torch_result_type() -> None:
    samples = {
        "f32": (np.ones(2, np.float32), torch.ones(2)),
        "f64": (np.ones(2, np.float64), torch.ones(2, dtype=torch.float64)),
        "i64": (np.ones(2, np.int64), torch.ones(2, dtype=torch.int64)),
        "i32": (np.ones(2, np.int32), torch.ones(2, dtype=torch.int32)),
        "u8": (np.ones(2, np.uint8), torch.ones(2, dtype=torch.uint8)),
        "bool": (np.ones(2, np.bool_), torch.ones(2, dtype=torch.bool)),
        "f32_0d": (np.array(1.0, np.float32), torch.tensor(1.0)),
        "f64_0d": (np.array(1.0, np.float64), torch.tensor(1.0, dtype=torch.float64)),
        "i64_0d": (np.array(1, np.int64), torch.tensor(1)),
        "bool_0d": (np.array(True), torch.tensor(True)),
        "float": (2.5, 2.5),
        "int": (2, 2),
        "bool_scalar": (True, True),
    }
    for ka, (na, ta) in samples.items():
        for kb, (nb, tb) in samples.items():
            if not isinstance(ta, torch.Tensor) and not isinstance(tb, torch.Tensor):
                continue
            theirs = torch.result_type(ta, tb)
            ours = cnnlab.result_type(na, nb)
            assert str(ours) == str(theirs).replace("torch.", ""), (ka, kb)


def test_gradient_has_the_dtype_of_its_input() -> None:
    a = cnnlab.ones(2, requires_grad=True)
    b = cnnlab.ones(2, dtype=cnnlab.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_float64_runs_end_to_end() -> None:
    x = cnnlab.randn(3, 4, dtype=cnnlab.float64, requires_grad=True)
    y = ((x @ x.T).tanh().exp().sum(dim=1).log() * 2.0 - x.mean()).var()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64


# ==================================================================================================
# NumPy interop, conversion and introspection


def test_numpy_interop() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    shared = cnnlab.from_numpy(a)
    a[0, 0] = 10.0
    assert shared[0, 0].item() == 10.0 and shared.numpy() is a
    copied = cnnlab.tensor(a)
    a[0, 0] = 20.0
    assert copied[0, 0].item() == 10.0
    assert np.asarray(copied).dtype == np.float32 and np.array(copied, dtype=np.float64).dtype == np.float64
    assert np.array_equal(np.asarray(shared), a)
    assert isinstance(a + shared, cnnlab.Tensor)  # NumPy defers to the tensor's reflected operator
    assert cnnlab.from_numpy(np.arange(3)).dtype == np.int64
    assert cnnlab.from_numpy(np.zeros(2, np.float64)).dtype == np.float64


def test_item_and_python_conversions() -> None:
    assert cnnlab.tensor([[2.5]]).item() == 2.5
    assert isinstance(cnnlab.tensor(3).item(), int)
    assert float(cnnlab.tensor(1.5)) == 1.5 and int(cnnlab.tensor(7)) == 7
    assert bool(cnnlab.tensor([1.0])) is True
    assert cnnlab.tensor([[1.0, 2.0]]).tolist() == [[1.0, 2.0]]
    assert [0, 1, 2][cnnlab.tensor(2)] == 2  # __index__


def test_numpy_of_a_tensor_requiring_grad_needs_detach() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_introspection() -> None:
    x = cnnlab.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(-1) == 4 and x.size(1) == 3
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2
    assert x.element_size() == 4 and x.device == "cpu" and x.is_floating_point()
    assert not cnnlab.tensor([1]).is_floating_point()
    assert x.is_contiguous() and not x.transpose(0, 1).is_contiguous()
    assert repr(cnnlab.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(cnnlab.ones(1, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(cnnlab.ones(1, requires_grad=True) * 2)
    assert "dtype=cnnlab.float64" in repr(cnnlab.zeros(1, dtype=cnnlab.float64))


def test_casts_are_differentiable() -> None:
    x = cnnlab.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.grad_fn is not None
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0]
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, 2]
    assert x.to(cnnlab.float32) is x and x.to("cpu") is x
    assert x.detach().to(cnnlab.ones(1, dtype=cnnlab.float64)).dtype == np.float64


# ==================================================================================================
# factories and random tensors


def test_factories() -> None:
    assert cnnlab.zeros(2, 3).tolist() == [[0.0] * 3] * 2 and cnnlab.zeros((2, 3)).dtype == np.float32
    assert cnnlab.ones(3, dtype=cnnlab.float64).dtype == np.float64
    assert cnnlab.ones(2, requires_grad=True).requires_grad
    assert (
        cnnlab.full((2, 2), 1.5).tolist() == [[1.5, 1.5]] * 2 and cnnlab.full((2,), 1.5).dtype == np.float32
    )
    assert cnnlab.full((2,), 7).dtype == np.int64
    assert cnnlab.arange(4).tolist() == [0, 1, 2, 3] and cnnlab.arange(4).dtype == np.int64
    assert cnnlab.arange(1, 2, 0.25).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert cnnlab.arange(1, 2, 0.25).dtype == np.float32
    assert cnnlab.arange(5, 0, -2).tolist() == [5, 3, 1]
    np.testing.assert_array_equal(cnnlab.arange(0, 1, 0.1).data, torch.arange(0, 1, 0.1).numpy())
    x = cnnlab.ones(2, 3, dtype=cnnlab.float64)
    assert cnnlab.zeros_like(x).dtype == np.float64 and cnnlab.zeros_like(x).shape == (2, 3)
    assert cnnlab.ones_like(x, dtype=cnnlab.float32).dtype == np.float32
    assert cnnlab.ones_like(x).tolist() == x.tolist()
    assert cnnlab.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert cnnlab.empty(2, 2).shape == (2, 2)


def test_random_factories_are_seeded_and_in_range() -> None:
    cnnlab.manual_seed(123)
    a = cnnlab.rand(1000)
    b = cnnlab.randn(2, 3, dtype=cnnlab.float64)
    cnnlab.manual_seed(123)
    assert np.array_equal(cnnlab.rand(1000).data, a.data)
    assert np.array_equal(cnnlab.randn(2, 3, dtype=cnnlab.float64).data, b.data)
    assert a.dtype == np.float32 and 0.0 <= a.min().item() and a.max().item() < 1.0
    assert b.dtype == np.float64
    n = cnnlab.randn(10000)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1.0) < 0.05
    ints = cnnlab.randint(3, 7, (100,))
    assert ints.dtype == np.int64 and set(ints.tolist()) == {3, 4, 5, 6}
    assert cnnlab.rand(2, 2, requires_grad=True).requires_grad
    assert cnnlab.randn_like(b).dtype == np.float64 and cnnlab.rand_like(a).shape == (1000,)


# ==================================================================================================
# in-place updates


def test_inplace_operators_update_memory_outside_the_graph() -> None:
    base = np.zeros(3, dtype=np.float32)
    x = cnnlab.from_numpy(base)
    alias = x
    x += 1
    x *= 3
    x -= cnnlab.tensor([1.0, 2.0, 3.0])
    x /= 2
    assert x is alias and base.tolist() == [1.0, 0.5, 0.0]


def test_inplace_operator_on_a_parameter_under_no_grad_updates_it() -> None:
    p = cnnlab.ones(2, requires_grad=True)
    (p * 3).sum().backward()
    before = p
    with cnnlab.no_grad():
        p -= 0.5 * p.grad
    assert p is before and p.is_leaf and p.tolist() == [-0.5, -0.5]


def test_inplace_operator_while_recording_rebinds_to_a_new_node() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    h = x * 2
    original = h
    h += x
    assert h is not original and original.tolist() == [2.0, 2.0]
    h.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_inplace_methods() -> None:
    x = cnnlab.zeros(2, 2)
    assert x.add_(1).mul_(4).sub_(cnnlab.ones(2), alpha=2).div_(2) is x
    assert x.tolist() == [[1.0, 1.0]] * 2
    x.fill_(3.0)
    assert x.tolist() == [[3.0, 3.0]] * 2
    x.zero_()
    assert x.tolist() == [[0.0, 0.0]] * 2
    x.copy_(np.array([1.0, 2.0]))
    assert x.tolist() == [[1.0, 2.0]] * 2
    x.clamp_(max=1.5)
    assert x.tolist() == [[1.0, 1.5]] * 2
    x.add_(1e-8, alpha=0.5)
    assert x.dtype == np.float32
    g = cnnlab.Generator(3)
    x.uniform_(-1, 1, generator=g)
    assert (x.abs() <= 1).all().item()
    x.normal_(generator=g)


def test_setitem_writes_into_a_tensor_outside_the_graph() -> None:
    x = cnnlab.zeros(2, 3)
    x[0] = cnnlab.tensor([1.0, 2.0, 3.0])
    x[1, x[0] > 1.5] = 9.0
    assert x.tolist() == [[1.0, 2.0, 3.0], [0.0, 9.0, 9.0]]


# ==================================================================================================
# errors name the argument and the shapes involved


def test_reshape_to_an_incompatible_shape() -> None:
    with pytest.raises(RuntimeError, match=r"reshape: shape \[4, 2\] is invalid for input of size 6"):
        cnnlab.ones(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match=r"shape \[-1, -1\] is invalid"):
        cnnlab.ones(2, 3).reshape(-1, -1)
    with pytest.raises(RuntimeError, match=r"shape \[-2, 3\] is invalid for input of size 6"):
        cnnlab.ones(2, 3).reshape(-2, 3)
    with pytest.raises(RuntimeError, match=r"shape \[4, -1\] is invalid for input of size 6"):
        cnnlab.ones(2, 3).view(4, -1)
    with pytest.raises(TypeError, match="size: expected a sequence of ints"):
        cnnlab.ones(2, 3).reshape(2.0, 3)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a * b,
        lambda a, b: b - a,
        lambda a, b: a / b,
        lambda a, b: a.maximum(b),
        lambda a, b: a**b,
    ],
)
def test_mismatched_broadcast_names_both_shapes(op: Callable) -> None:
    with pytest.raises(
        RuntimeError,
        match=r"size of tensor a \(3\) must match the size of tensor b \(4\).*"
        r"\(2, 3\).*\(4,\)|\(4,\).*\(2, 3\)",
    ):
        op(cnnlab.ones(2, 3), cnnlab.ones(4))


def test_other_shape_errors() -> None:
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        cnnlab.ones(2, 3) @ cnnlab.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(3,\) and \(2,\)"):
        cnnlab.ones(3) @ cnnlab.ones(2)
    with pytest.raises(RuntimeError, match=r"matmul: batch dimensions.*\(2,\), \(3,\)"):
        cnnlab.ones(2, 4, 3) @ cnnlab.ones(3, 3, 4)
    with pytest.raises(RuntimeError, match=r"matmul: both arguments need to be at least 1-D.*\(\)"):
        cnnlab.ones(2) @ cnnlab.tensor(2.0)
    with pytest.raises(RuntimeError, match=r"where: condition, input and other.*\(2,\), \(3,\), \(3,\)"):
        cnnlab.where(cnnlab.ones(2) > 0, cnnlab.ones(3), cnnlab.ones(3))
    with pytest.raises(
        RuntimeError, match=r"expand: the size of dimension 1 \(3\) must match.*\(2, 3\) to \(2, 4\)"
    ):
        cnnlab.ones(2, 3).expand(2, 4)
    with pytest.raises(RuntimeError, match=r"expand: the number of sizes \(1\).*dimensions \(2\)"):
        cnnlab.ones(2, 3).expand(3)
    with pytest.raises(RuntimeError, match=r"expand: sizes \[-1, 3\] must be non-negative.*shape \(3,\)"):
        cnnlab.ones(3).expand(-1, 3)
    with pytest.raises(
        RuntimeError, match=r"permute: dims \[0\] must name each of the 2 dimensions.*\(2, 3\)"
    ):
        cnnlab.ones(2, 3).permute(0)
    with pytest.raises(IndexError, match=r"permute: expected an int in the range \[-2, 1\].*got 5"):
        cnnlab.ones(2, 3).permute(0, 5)
    with pytest.raises(RuntimeError, match=r"permute: dims \[0, -2\] is not a permutation"):
        cnnlab.ones(2, 3).permute(0, -2)
    with pytest.raises(RuntimeError, match=r"flatten: start_dim \(2\) cannot come after end_dim \(1\)"):
        cnnlab.ones(2, 3, 4).flatten(2, 1)


def test_cat_and_stack_mismatches() -> None:
    with pytest.raises(
        RuntimeError,
        match=r"cat: sizes of tensors must match except in dimension 0; "
        r"tensor 0 has shape \(2, 3\), tensor 1 has shape \(2, 4\)",
    ):
        cnnlab.cat([cnnlab.ones(2, 3), cnnlab.ones(2, 4)])
    with pytest.raises(RuntimeError, match=r"tensor 1 has shape \(2,\)"):
        cnnlab.cat([cnnlab.ones(2, 3), cnnlab.ones(2)], dim=1)
    with pytest.raises(RuntimeError, match=r"cat: zero-dimensional tensor \(at position 1\)"):
        cnnlab.cat([cnnlab.ones(1), cnnlab.tensor(1.0)])
    with pytest.raises(ValueError, match="cat: expected a non-empty sequence"):
        cnnlab.cat([])
    with pytest.raises(IndexError, match=r"dim: expected an int in the range \[-2, 1\].*got 2"):
        cnnlab.cat([cnnlab.ones(2, 3), cnnlab.ones(2, 3)], dim=2)
    with pytest.raises(
        RuntimeError,
        match=r"stack: expects each tensor to be equal size, but got \(2,\) at entry 0 "
        r"and \(3,\) at entry 2",
    ):
        cnnlab.stack([cnnlab.ones(2), cnnlab.ones(2), cnnlab.ones(3)])
    with pytest.raises(ValueError, match="stack: expected a non-empty sequence"):
        cnnlab.stack([])


@pytest.mark.parametrize(
    "call, pattern",
    [
        (
            lambda x: x.sum(3),
            r"dim: expected an int in the range \[-3, 2\] for a tensor with 3 dimensions, got 3",
        ),
        (lambda x: x.mean(dim=-4), r"dim: .*\[-3, 2\].*got -4"),
        (lambda x: x.max(dim=5), r"dim: .*got 5"),
        (lambda x: x.argmax(dim=3), r"dim: .*got 3"),
        (lambda x: x.squeeze(7), r"dim: .*got 7"),
        (lambda x: x.unsqueeze(4), r"dim: expected an int in the range \[-4, 3\].*got 4"),
        (lambda x: x.transpose(0, 3), r"dim1: .*got 3"),
        (lambda x: x.flatten(5), r"start_dim: .*got 5"),
        (lambda x: x.size(3), r"dim: .*got 3"),
        (lambda x: x.sum(dim=1.0), r"dim: .*got 1\.0"),
        (lambda x: x.gather(3, cnnlab.tensor([[[0]]])), r"dim: .*got 3"),
    ],
)
def test_bad_dim_indices(call: Callable, pattern: str) -> None:
    with pytest.raises(IndexError, match=pattern):
        call(cnnlab.ones(2, 3, 4))


def test_indexing_errors_name_the_shape() -> None:
    with pytest.raises(
        IndexError, match=r"index: index 5 is out of bounds .* tensor of shape \(3,\) with \[5\]"
    ):
        cnnlab.ones(3)[5]
    with pytest.raises(IndexError, match=r"tensor of shape \(2, 3\) with \[0, 0, 0\]"):
        cnnlab.ones(2, 3)[0, 0, 0]
    with pytest.raises(IndexError, match=r"shape \(2, 3\) with \[<tensor of shape \(2,\), dtype float32>\]"):
        cnnlab.ones(2, 3)[cnnlab.ones(2)]
    with pytest.raises(ValueError, match=r"setitem: .*value of shape \(4,\) into a tensor of shape \(3,\)"):
        cnnlab.zeros(3)[:] = np.ones(4)
    with pytest.raises(
        IndexError, match=r"gather: index out of range \[0, 2\] for dimension 1 .*\(2, 3\).*to 5"
    ):
        cnnlab.ones(2, 3).gather(1, cnnlab.tensor([[0], [5]]))
    with pytest.raises(RuntimeError, match=r"gather: index must have as many dimensions.*\(2,\).*\(2, 3\)"):
        cnnlab.ones(2, 3).gather(1, cnnlab.tensor([0, 1]))
    with pytest.raises(TypeError, match="gather: expected an integer index, got dtype float32"):
        cnnlab.ones(2, 3).gather(1, cnnlab.ones(2, 1))


def test_requires_grad_only_on_floating_tensors() -> None:
    with pytest.raises(RuntimeError, match="requires_grad: only floating-point tensors.*got dtype int64"):
        cnnlab.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires_grad: only floating-point.*int64"):
        cnnlab.zeros(2, dtype=cnnlab.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires_grad: only floating-point.*bool"):
        cnnlab.tensor([True]).requires_grad_()


def test_item_on_a_multi_element_tensor() -> None:
    with pytest.raises(ValueError, match=r"item: only one-element tensors .* got shape \(2, 2\)"):
        cnnlab.ones(2, 2).item()
    with pytest.raises(RuntimeError, match="bool: a tensor with 2 elements has no single truth value"):
        bool(cnnlab.ones(2))


def test_inplace_on_a_leaf_requiring_grad() -> None:
    x = cnnlab.ones(2, requires_grad=True)
    for name, call in [
        ("add_", lambda: x.add_(1)),
        ("mul_", lambda: x.mul_(2)),
        ("fill_", lambda: x.fill_(0)),
        ("zero_", lambda: x.zero_()),
        ("copy_", lambda: x.copy_(np.zeros(2))),
        ("uniform_", lambda: x.uniform_()),
        ("clamp_", lambda: x.clamp_(0, 1)),
    ]:
        with pytest.raises(
            RuntimeError, match="a leaf tensor that requires grad is being used in an in-place"
        ):
            call()
    with pytest.raises(RuntimeError, match=r"\+=: a leaf tensor that requires grad"):
        x += 1
    with pytest.raises(RuntimeError, match="setitem: in-place assignment into a tensor that requires grad"):
        x[0] = 3.0
    assert x.tolist() == [1.0, 1.0]
    with cnnlab.no_grad():
        x.add_(1)
        x[0] = 5.0
    assert x.tolist() == [5.0, 2.0]


def test_inplace_method_on_a_graph_node_is_refused() -> None:
    y = cnnlab.ones(2, requires_grad=True).exp()
    with pytest.raises(
        RuntimeError,
        match=r"add_: in-place operations on a tensor that is part of the graph "
        r"\(ExpBackward\) are not recorded",
    ):
        y.add_(1)


def test_inplace_shape_and_dtype_errors() -> None:
    with pytest.raises(
        RuntimeError,
        match=r"add_: the other operand of shape \(2, 2\) does not broadcast to the "
        r"shape \(2,\)",
    ):
        cnnlab.zeros(2).add_(cnnlab.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"/=: result type float32 can't be cast to the dtype .* int64"):
        x = cnnlab.tensor([1, 2])
        x /= 2
    with pytest.raises(RuntimeError, match=r"copy_: the source of shape \(3,\) does not broadcast .* \(2,\)"):
        cnnlab.zeros(2).copy_(np.ones(3))
    with pytest.raises(RuntimeError, match=r"read-only"):
        cnnlab.zeros(1).expand(3).add_(1)


def test_other_value_errors() -> None:
    with pytest.raises(TypeError, match="tensor: expected numbers, got an array of dtype <U1"):
        cnnlab.tensor(["a"])
    with pytest.raises(TypeError, match="from_numpy: expected np.ndarray, got list"):
        cnnlab.from_numpy([1.0])
    with pytest.raises(TypeError, match="from_numpy: expected an array of numbers, got dtype object"):
        cnnlab.from_numpy(np.array([None]))
    with pytest.raises(
        RuntimeError, match=r"split: sizes \[2, 2\] must be non-negative and sum to 5.*\(5, 2\)"
    ):
        cnnlab.ones(5, 2).split([2, 2])
    with pytest.raises(RuntimeError, match="split: split_size must be a positive int, got 0"):
        cnnlab.ones(5).split(0)
    with pytest.raises(RuntimeError, match="chunk: chunks must be a positive int, got 0"):
        cnnlab.ones(5).chunk(0)
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        cnnlab.ones(2).clamp()
    with pytest.raises(RuntimeError, match=r"clamp: input and min: .*\(2,\), \(3,\)"):
        cnnlab.ones(2).clamp(min=cnnlab.zeros(3))
    with pytest.raises(RuntimeError, match="mean: expected a floating-point tensor, got dtype int64"):
        cnnlab.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match=r"max: expected a non-empty tensor, got shape \(0,\)"):
        cnnlab.zeros(0).max()
    with pytest.raises(
        IndexError, match=r"min: cannot reduce over dim 0 of an empty tensor of shape \(0, 2\)"
    ):
        cnnlab.zeros(0, 2).min(0)
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        cnnlab.arange(0, 1, 0)
    with pytest.raises(ValueError, match="to: cnnlab runs on the CPU only; got device 'cuda'"):
        cnnlab.ones(1).to("cuda")
    with pytest.raises(
        TypeError, match="unsupported operand: expected a tensor, a number or an array, got object"
    ):
        cnnlab.ones(1) + object()
    with pytest.raises(TypeError, match="neg: negation.*bool tensor"):
        -cnnlab.tensor([True])
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(cnnlab.tensor(1.0))
    with pytest.raises(RuntimeError, match="t: expects a tensor with <= 2 dimensions, got 3"):
        cnnlab.ones(1, 1, 1).t()


def test_assert_close_helper_rejects_a_wrong_value() -> None:
    # the harness this file relies on can fail: a wrong value and a wrong dtype are both caught
    with pytest.raises(AssertionError):
        assert_close(cnnlab.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]))
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(cnnlab.tensor([1.0], dtype=cnnlab.float64), torch.tensor([1.0]))
    with pytest.raises(AssertionError, match="gradient of input 0"):
        check_against_torch(lambda a: a.detach() * 2 + a * 0, lambda a: a * 2, [np.ones(2, np.float32)])
    with pytest.raises(AssertionError):
        check_against_torch(lambda a: a * 2, lambda a: a * 3, [np.ones(2, np.float32)])


def test_repeated_dims_are_refused() -> None:
    with pytest.raises(RuntimeError, match=r"dim: each dimension may appear only once, got \(0, -3\)"):
        cnnlab.ones(2, 3, 4).var(dim=(0, -3))
