"""Activations against PyTorch (values and gradients, kinks included) and finite differences; the
private erf against math.erf; softmax stability; error messages."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from harness import check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F
from cnnlab.nn.functional.activation import _erf, _erfc

DTYPES = [np.float32, np.float64]

# one row per op and configuration: (id, ours, theirs)
ELEMENTWISE = [
    ("relu", F.relu, TF.relu),
    ("relu6", F.relu6, TF.relu6),
    ("leaky_relu", F.leaky_relu, TF.leaky_relu),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    ("elu", F.elu, TF.elu),
    ("elu_0.5", lambda x: F.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
    ("gelu", F.gelu, TF.gelu),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    ("silu", F.silu, TF.silu),
    ("mish", F.mish, TF.mish),
    ("hardswish", F.hardswish, TF.hardswish),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid),
    ("hardtanh", F.hardtanh, TF.hardtanh),
    ("hardtanh_-0.5_2", lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
    ("softplus", F.softplus, TF.softplus),
    (
        "softplus_2_3",
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: TF.softplus(x, beta=2.0, threshold=3.0),
    ),
    ("softplus_-1", lambda x: F.softplus(x, beta=-1.0), lambda x: TF.softplus(x, beta=-1.0)),
    ("sigmoid", F.sigmoid, TF.sigmoid),
    ("tanh", F.tanh, TF.tanh),
]

SOFTMAX = [
    ("softmax_1", lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    ("softmax_-1", lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    ("softmax_0", lambda x: F.softmax(x, dim=0), lambda x: TF.softmax(x, dim=0)),
    ("log_softmax_1", lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1)),
    ("log_softmax_-1", lambda x: F.log_softmax(x, dim=-1), lambda x: TF.log_softmax(x, dim=-1)),
    ("log_softmax_0", lambda x: F.log_softmax(x, dim=0), lambda x: TF.log_softmax(x, dim=0)),
    ("softmin_1", lambda x: F.softmin(x, dim=1), lambda x: TF.softmin(x, dim=1)),
    ("softmin_-1", lambda x: F.softmin(x, dim=-1), lambda x: TF.softmin(x, dim=-1)),
]

ALL = ELEMENTWISE + SOFTMAX
SHAPES = [(1, 7), (3, 4, 5), (2, 3, 2, 4)]


def _ids(rows):
    return [row[0] for row in rows]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, ours, theirs", ALL, ids=_ids(ALL))
def test_matches_torch(name, ours, theirs, shape, dtype, rng):
    x = (rng.standard_normal(shape) * 3).astype(dtype)  # * 3: both sides of every kink at ±1, ±3, 6
    check_against_torch(ours, theirs, [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, ours, theirs", ALL, ids=_ids(ALL))
def test_noncontiguous_input(name, ours, theirs, dtype, rng):
    x = (rng.standard_normal((3, 5)) * 3).astype(dtype)
    check_against_torch(ours, theirs, [noncontiguous(x)])


KINKS = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 1.5, 20.0, -20.0, 10.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, ours, theirs", ELEMENTWISE, ids=_ids(ELEMENTWISE))
@pytest.mark.usefixtures("kernels")  # ReLU has a compiled gradient
def test_gradients_at_kinks_match_torch(name, ours, theirs, dtype):
    """Values exactly on the boundaries: relu at 0, relu6 at 0 and 6, hardtanh at ±1, hardswish and
    hardsigmoid at ±3, softplus at its threshold (20, and 1.5 for beta=2, threshold=3)."""
    check_against_torch(ours, theirs, [KINKS.astype(dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, ours, theirs", ELEMENTWISE, ids=_ids(ELEMENTWISE))
def test_large_inputs_are_finite_and_match_torch(name, ours, theirs, dtype):
    x = np.array([-1e4, -100.0, -40.0, 40.0, 100.0, 1e4], dtype=dtype)
    out = check_against_torch(ours, theirs, [x])  # RuntimeWarnings (overflow) are errors in this suite
    assert np.isfinite(out.data).all()


NOT_GELU = [row for row in ELEMENTWISE if row[0] != "gelu"]


@pytest.mark.parametrize("name, ours, theirs", NOT_GELU, ids=_ids(NOT_GELU))
@pytest.mark.usefixtures("kernels")  # ReLU has a compiled gradient
def test_nan_and_inf_like_torch(name, ours, theirs):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0], dtype=np.float32)
    check_against_torch(ours, theirs, [x], grad=False)


def test_gelu_of_nan_and_inf():
    # PyTorch's vectorised erf gives gelu(inf) = NaN on CPU; x Φ(x) -> inf is the limit, and what we give
    out = F.gelu(cnnlab.tensor([np.nan, np.inf, -np.inf, 0.0])).data
    np.testing.assert_array_equal(out, [np.nan, np.inf, np.nan, 0.0])


@pytest.mark.parametrize("name, ours, theirs", ALL, ids=_ids(ALL))
def test_finite_differences(name, ours, theirs, rng):
    x = rng.standard_normal((2, 3)) * 2
    x[np.abs(np.abs(x) - 1) < 0.05] += 0.2  # keep finite differences off the kinks at ±1 (hardtanh)
    check_gradients(ours, [x])


def test_float32_stays_float32():
    x = cnnlab.randn(4, 3)
    for name, ours, _ in ALL:
        assert ours(x).dtype == np.float32, name


def test_inplace_is_accepted_and_computes_out_of_place():
    x = cnnlab.tensor([-1.0, 2.0])
    for fn in (F.relu, F.relu6, F.leaky_relu, F.elu, F.silu, F.mish, F.hardswish, F.hardsigmoid, F.hardtanh):
        out = fn(x, inplace=True)
        assert out is not x and x.tolist() == [-1.0, 2.0]


def test_relu_of_integers_stays_integer():
    out = F.relu(cnnlab.tensor([-2, 0, 3]))
    assert out.dtype == np.int64 and out.tolist() == [0, 0, 3]


# --------------------------------------------------------------------------------------------------
# softmax family


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, ours, theirs", SOFTMAX, ids=_ids(SOFTMAX))
def test_softmax_is_stable_at_extreme_logits(name, ours, theirs, dtype):
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]], dtype=dtype)
    out = check_against_torch(ours, theirs, [x])
    assert np.isfinite(out.data).all()


def test_softmax_values_at_extreme_logits():
    x = cnnlab.tensor([[1e4, 0.0, -1e4]], dtype=cnnlab.float64, requires_grad=True)
    np.testing.assert_array_equal(F.softmax(x, dim=1).data, [[1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(F.log_softmax(x, dim=1).data, [[0.0, -1e4, -2e4]])


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
def test_implicit_dim_follows_torch_and_warns(op, ndim, rng):
    x = rng.standard_normal((2, 3, 4, 5)[:ndim])
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {op} has been deprecated"):
        ours = getattr(F, op)(cnnlab.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(TF, op)(torch.tensor(x))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
def test_softmax_dtype_argument_casts_first(op, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    check_against_torch(
        lambda a: getattr(F, op)(a, dim=1, dtype=cnnlab.float64),
        lambda a: getattr(TF, op)(a, dim=1, dtype=torch.float64),
        [x],
    )


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
def test_softmax_of_a_scalar_and_of_an_empty_tensor(op):
    check_against_torch(
        lambda a: getattr(F, op)(a, dim=0), lambda a: getattr(TF, op)(a, dim=0), [np.array(2.5)]
    )
    check_against_torch(
        lambda a: getattr(F, op)(a, dim=0), lambda a: getattr(TF, op)(a, dim=0), [np.zeros((0, 3))]
    )


def test_softmax_row_with_nan_gives_nan():
    out = F.softmax(cnnlab.tensor([[np.nan, 1.0], [0.0, 1.0]]), dim=1).data
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()


# --------------------------------------------------------------------------------------------------
# the private error function


ERF_POINTS = np.concatenate(
    [
        np.linspace(-7, 7, 2001),
        [
            0.0,
            -0.0,
            1e-300,
            1e-20,
            1e-8,
            0.46875,
            0.46876,
            4.0,
            4.0000001,
            5.9,
            26.5,
            -26.5,
            27.0,
            30.0,
            1e10,
            1e300,
        ],
        -np.geomspace(1e-12, 6, 97),
    ]
)


def test_erf_matches_math_erf():
    ours = _erf(ERF_POINTS)
    expected = np.array([math.erf(v) for v in ERF_POINTS])
    np.testing.assert_allclose(ours, expected, rtol=2e-15, atol=1e-300)


def test_erfc_matches_math_erfc_in_the_tails():
    points = np.concatenate([ERF_POINTS, np.linspace(-10, 27, 1001)])
    ours = _erfc(points)
    expected = np.array([math.erfc(v) for v in points])
    np.testing.assert_allclose(ours, expected, rtol=5e-14, atol=1e-300)


def test_erf_special_values_and_dtype():
    out = _erf(np.array([np.nan, np.inf, -np.inf], dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [np.nan, 1.0, -1.0])
    np.testing.assert_array_equal(_erfc(np.array([np.inf, -np.inf, 40.0])), [0.0, 2.0, 0.0])
    assert np.isnan(_erfc(np.array([np.nan]))).all()


# --------------------------------------------------------------------------------------------------
# errors


ERRORS = [
    (lambda: F.relu([1.0, 2.0]), TypeError, r"relu: expected input to be a Tensor, got list"),
    (
        lambda: F.elu(cnnlab.tensor([1, 2])),
        TypeError,
        r"elu: expected a floating-point input, got dtype int64",
    ),
    (
        lambda: F.gelu(cnnlab.zeros(2), approximate="fast"),
        ValueError,
        r"gelu: approximate must be one of 'none', 'tanh', got 'fast'",
    ),
    (
        lambda: F.hardtanh(cnnlab.zeros(2), 2.0, 1.0),
        ValueError,
        r"hardtanh: expected min_val <= max_val, got min_val=2.0 and max_val=1.0",
    ),
    (
        lambda: F.leaky_relu(cnnlab.zeros(2), "0.1"),
        TypeError,
        r"leaky_relu: expected negative_slope to be a number",
    ),
    (
        lambda: F.elu(cnnlab.zeros(2), alpha=None),
        TypeError,
        r"elu: expected alpha to be a number, got NoneType",
    ),
    (
        lambda: F.softplus(cnnlab.zeros(2), beta=0),
        ValueError,
        r"softplus: expected a nonzero beta, got beta=0.0",
    ),
    (
        lambda: F.softmax(cnnlab.zeros(2, 3), dim=2),
        IndexError,
        r"softmax: expected dim in the range \[-2, 1\] for an input with 2 dimensions \(shape \(2, 3\)\), got dim=2",
    ),
    (
        lambda: F.log_softmax(cnnlab.zeros(2, 3), dim=1.0),
        TypeError,
        r"log_softmax: expected dim to be an int or None",
    ),
    (
        lambda: F.softmin(cnnlab.zeros(2, 3), dim=1, dtype=cnnlab.int64),
        TypeError,
        r"softmin: expected dtype to be a floating-point dtype, got int64",
    ),
    (
        lambda: F.softmax(cnnlab.tensor([1, 2]), dim=0),
        TypeError,
        r"softmax: expected a floating-point input, got dtype",
    ),
]


@pytest.mark.parametrize(
    "call, error, message", ERRORS, ids=[e[2].split(":")[0] + str(i) for i, e in enumerate(ERRORS)]
)
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.usefixtures("kernels")  # ReLU has a compiled gradient
def test_relu_stops_inf_and_nan_gradients_where_it_is_dead_as_torch_does():
    import torch

    x = np.array([-1.0, 2.0, 0.0, np.nan, 3.0, -0.0, -np.inf, np.inf], np.float32)
    upstream = np.array([np.inf, np.nan, np.nan, 1.0, -np.inf, 5.0, 6.0, 7.0], np.float32)
    ours = cnnlab.tensor(x, requires_grad=True)
    F.relu(ours).backward(upstream)
    theirs = torch.tensor(x, requires_grad=True)
    torch.relu(theirs).backward(torch.from_numpy(upstream))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())  # [0, nan, 0, 1, -inf, 0, 0, 7]



@pytest.mark.usefixtures("kernels")
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_relu_is_np_maximum_bit_for_bit_over_many_runs_of_zeros(dtype, layout, rng):
    # 3·4·101·107 = 129,684 values: NumPy's path compares them with two runs of 65,536 zeros, the second short
    x = (rng.standard_normal((3, 4, 101, 107)) * 5).astype(dtype)
    if dtype != np.int32:
        x.flat[[0, 1, 2, 3, 4, 65_535, 65_536, 129_683]] = [0.0, -0.0, np.nan, np.inf, -np.inf, -1.0, -2.0, -3.0]
    F.relu(cnnlab.tensor(-x))  # (its output, freed, is likely where the next one goes: no stale right answers)
    t = cnnlab.tensor(x)
    if layout == "transposed":  # a view: the input reaches ReLU non-contiguous
        t, x = t.transpose(2, 3), x.transpose(0, 1, 3, 2)
        assert not t.data.flags.c_contiguous
    out = F.relu(t).numpy()
    expected = np.maximum(x, dtype(0))
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(np.ascontiguousarray(out).view(np.uint8), np.ascontiguousarray(expected).view(np.uint8))
