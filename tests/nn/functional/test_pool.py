"""Max, average and adaptive pooling against PyTorch and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from harness import check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F

pytestmark = pytest.mark.usefixtures("kernels")  # every test on NumPy alone and with the compiled kernels

DTYPES = [np.float32, np.float64]

POOL = [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (1, (1, 2, 8), dict(kernel_size=2)),
    (2, (2, 3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    (2, (2, 3, 8, 8), dict(kernel_size=2)),
    (2, (1, 2, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    (2, (1, 1, 5, 5), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    (3, (1, 2, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 3), padding=(1, 1, 0), ceil_mode=True)),
    (3, (2, 1, 4, 4, 4), dict(kernel_size=2)),
]

DILATED = [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    (2, (1, 2, 9, 7), dict(kernel_size=3, stride=2, padding=1, dilation=(2, 1))),
    (3, (1, 1, 6, 5, 7), dict(kernel_size=2, dilation=2, padding=1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,kw", POOL + DILATED)
def test_max_pool_matches_torch(nd, shape, kw, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    name = f"max_pool{nd}d"
    ours = lambda a: getattr(F, name)(a, return_indices=True, **kw)  # noqa: E731
    theirs = lambda a: getattr(TF, name)(a, return_indices=True, **kw)  # noqa: E731
    check_against_torch(ours, theirs, [x])
    check_against_torch(ours, theirs, [noncontiguous(x)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("nd,shape,kw", POOL)
def test_avg_pool_matches_torch(nd, shape, kw, count_include_pad, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    name = f"avg_pool{nd}d"
    check_against_torch(
        lambda a: getattr(F, name)(a, count_include_pad=count_include_pad, **kw),
        lambda a: getattr(TF, name)(a, count_include_pad=count_include_pad, **kw),
        [x],
    )


@pytest.mark.parametrize("divisor", [1, 5])
def test_avg_pool_divisor_override(divisor, rng):
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    check_against_torch(
        lambda a: F.avg_pool2d(a, 3, 2, 1, divisor_override=divisor),
        lambda a: TF.avg_pool2d(a, 3, 2, 1, divisor_override=divisor),
        [x],
    )


def test_max_pool_ties_go_to_the_first_maximum():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = 1
    out, idx = check_against_torch(
        lambda a: F.max_pool2d(a, 3, 1, 1, return_indices=True),
        lambda a: TF.max_pool2d(a, 3, 1, 1, return_indices=True),
        [x],
    )
    assert idx[0, 0, 1, 1].item() == 0  # both 1s are in this window: the first in scan order wins


def test_max_pool_all_minus_infinity_points_inside_the_input():
    x = np.full((1, 1, 3, 3), -np.inf, np.float32)
    check_against_torch(
        lambda a: F.max_pool2d(a, 2, 2, 1, return_indices=True),
        lambda a: TF.max_pool2d(a, 2, 2, 1, return_indices=True),
        [x],
        grad=False,
    )


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool_nan_propagates_and_wins_as_in_torch(kw, rng):
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = x[1, 1, 4, 4] = np.nan
    out, idx = check_against_torch(
        lambda a: F.max_pool2d(a, return_indices=True, **kw),
        lambda a: TF.max_pool2d(a, return_indices=True, **kw),
        [x],
        grad=False,
    )
    assert np.isnan(out.numpy()[0, 0]).any()


def test_max_pool_gradient_of_overlapping_windows_and_ties_matches_torch(rng):
    x = rng.integers(0, 3, (2, 3, 7, 7)).astype(np.float64)  # many ties, windows overlap
    check_against_torch(
        lambda a: F.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True),
        lambda a: TF.max_pool2d(a, 3, stride=2, padding=1, ceil_mode=True),
        [x],
    )


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 3, 9, 7)])  # windows tile the input / leave a rim
def test_max_pool_gradient_of_side_by_side_windows_with_ties_and_nan_matches_torch(shape, rng):
    x = rng.integers(0, 3, shape).astype(np.float64)  # many ties: the first maximum takes the gradient
    x[0, 0, 1, 1] = x[1, 2, 4, 5] = np.nan  # the NaN wins its window, value and gradient
    check_against_torch(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [x])


@pytest.mark.parametrize("kernel", [1, 12])  # one offset; more offsets (144) than an int8 winner holds
def test_max_pool_with_one_or_many_kernel_offsets_matches_torch(kernel, rng):
    x = rng.integers(0, 5, (2, 2, 13, 13)).astype(np.float32)  # ties among the many offsets
    check_against_torch(
        lambda a: F.max_pool2d(a, kernel, stride=1, return_indices=True),
        lambda a: TF.max_pool2d(a, kernel, stride=1, return_indices=True),
        [x],
    )


def test_max_pool_gradient_with_minus_infinity_windows_lands_inside(rng):
    x = np.full((1, 2, 5, 5), -np.inf, np.float32)
    x[0, 1, 2:, 2:] = rng.standard_normal((3, 3))
    check_against_torch(
        lambda a: F.max_pool2d(a, 2, 2, 1, ceil_mode=True),
        lambda a: TF.max_pool2d(a, 2, 2, 1, ceil_mode=True),
        [x],
    )


def test_max_pool_gradient_reaches_only_the_winner():
    x = cnnlab.tensor([[[1.0, 3.0, 2.0, 5.0]]], requires_grad=True)
    F.max_pool1d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[0.0, 1.0, 0.0, 1.0]]]


def test_avg_pool_gradient_spreads_one_over_q():
    x = cnnlab.ones(1, 1, 4, requires_grad=True)
    F.avg_pool1d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[0.5, 0.5, 0.5, 0.5]]]


ADAPTIVE = [
    (1, (2, 3, 10), 4),
    (1, (1, 2, 3), 5),
    (2, (2, 3, 7, 9), (3, 4)),
    (2, (1, 2, 5, 5), (5, 2)),
    (2, (1, 1, 4, 6), (None, 4)),
    (2, (2, 4, 6, 6), 1),
    (3, (1, 2, 5, 7, 6), (2, 3, 4)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,size", ADAPTIVE)
def test_adaptive_pools_match_torch(nd, shape, size, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    avg, mx = f"adaptive_avg_pool{nd}d", f"adaptive_max_pool{nd}d"
    check_against_torch(lambda a: getattr(F, avg)(a, size), lambda a: getattr(TF, avg)(a, size), [x])
    check_against_torch(
        lambda a: getattr(F, mx)(a, size, return_indices=True),
        lambda a: getattr(TF, mx)(a, size, return_indices=True),
        [x],
    )


@pytest.mark.parametrize(
    "fn,shape",
    [
        (lambda a: F.avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 5)),
        (lambda a: F.avg_pool3d(a, 2, 1, 1), (1, 1, 3, 3, 3)),
        (lambda a: F.max_pool2d(a, 3, 2, 1), (1, 2, 6, 5)),
        (lambda a: F.max_pool1d(a, 2, 1, dilation=2), (1, 2, 7)),
        (lambda a: F.adaptive_avg_pool2d(a, (3, 2)), (1, 2, 7, 5)),
        (lambda a: F.adaptive_max_pool2d(a, (3, 2)), (1, 2, 7, 5)),
    ],
)
def test_pool_finite_differences(fn, shape, rng):
    check_gradients(fn, [rng.standard_normal(shape)])


def test_unbatched_pooling():
    out, idx = F.max_pool2d(cnnlab.arange(16.0).reshape(1, 4, 4), 2, return_indices=True)
    assert out.shape == (1, 2, 2) and idx.tolist() == [[[5, 7], [13, 15]]]
    assert F.adaptive_avg_pool1d(cnnlab.ones(3, 7), 2).shape == (3, 2)


def test_pooling_under_no_grad_still_returns_indices():
    with cnnlab.no_grad():
        _, idx = F.max_pool2d(cnnlab.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    assert idx.tolist() == [[[[5, 7], [13, 15]]]]


ERRORS = [
    (lambda: F.max_pool2d(cnnlab.ones(1, 1, 4, 4), 3, padding=2), ValueError, r"pad should be at most half of the kernel size.*padding=\(2, 2\)"),
    (lambda: F.avg_pool2d(cnnlab.ones(1, 1, 4, 4), 2, padding=2), ValueError, r"pad should be at most half"),
    (lambda: F.max_pool2d(cnnlab.ones(1, 1, 2, 2), 3), ValueError, r"output size \(0, 0\) is too small"),
    (lambda: F.avg_pool2d(cnnlab.ones(1, 4, 4), 2, stride=0), ValueError, r"stride to be positive"),
    (lambda: F.max_pool2d(cnnlab.ones(1, 4, 4), 0), ValueError, r"kernel_size to be positive"),
    (lambda: F.max_pool2d(cnnlab.ones(4, 4), 2), ValueError, r"3-D \(unbatched\) or 4-D \(batched\) input, got a 2-D input"),
    (lambda: F.max_pool2d(cnnlab.ones(1, 1, 4, 4, dtype=cnnlab.int64), 2), TypeError, r"floating-point input, got dtype int64"),
    (lambda: F.adaptive_avg_pool2d(cnnlab.ones(1, 1, 4, 4), 0), ValueError, r"output_size to be positive"),
    (lambda: F.adaptive_max_pool2d(cnnlab.ones(1, 1, 4, 4), (1, 2, 3)), TypeError, r"output_size to be an int or a tuple of 2"),
    (lambda: F.avg_pool2d(cnnlab.ones(1, 1, 4, 4), 2, divisor_override=0), ValueError, r"divisor_override must be a positive int"),
]


@pytest.mark.parametrize("call,error,message", ERRORS)
def test_pool_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("nd,shape,kw", [c for c in POOL if not c[2].get("ceil_mode")])
@pytest.mark.parametrize("reduce", ["max", "avg"])
def test_pool_matches_the_definition(nd, shape, kw, reduce, rng):
    import reference

    x = rng.standard_normal(shape)
    stride = kw.get("stride") or kw["kernel_size"]
    ours = getattr(F, f"{reduce}_pool{nd}d")(cnnlab.tensor(x), **kw)
    expected = reference.pool(x, kw["kernel_size"], stride, kw.get("padding", 0), reduce)
    np.testing.assert_allclose(ours.data, expected, rtol=1e-12, atol=1e-12)


def test_max_pool_stops_inf_gradients_at_the_losers_as_torch_does():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    upstream = np.array([[[[np.inf, 1.0], [np.nan, -np.inf]]]], np.float32)
    ours = cnnlab.tensor(x, requires_grad=True)
    F.max_pool2d(ours, 2).backward(upstream)
    theirs = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(theirs, 2).backward(torch.from_numpy(upstream))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
