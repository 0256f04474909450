"""Batch, instance, layer and group norm, local response norm and normalize against PyTorch."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from harness import assert_close, check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F

DTYPES = [np.float32, np.float64]

# (input shape, affine): (N, C), (N, C, L), (N, C, H, W), (N, C, D, H, W); odd and even, batch 1, non-square
BATCH_SHAPES = [(5, 3), (4, 2, 7), (1, 3, 4), (2, 3, 5, 4), (1, 2, 3, 3), (2, 2, 3, 2, 4)]
AFFINE = ["both", "none", "weight", "bias"]


def _affine(C, which, dtype, rng):
    w = rng.standard_normal(C).astype(dtype) if which in ("both", "weight") else None
    b = rng.standard_normal(C).astype(dtype) if which in ("both", "bias") else None
    return w, b


@pytest.mark.usefixtures("kernels")  # training-mode batch norm has compiled kernels
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", AFFINE)
@pytest.mark.parametrize("shape", BATCH_SHAPES)
def test_batch_norm_training_matches_torch(shape, which, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype) * 3 + 1
    w, b = _affine(shape[1], which, dtype, rng)
    check_against_torch(
        lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True),
        lambda a, w, b: TF.batch_norm(a, None, None, w, b, training=True),
        [x, w, b],
    )


@pytest.mark.usefixtures("kernels")  # training-mode batch norm has compiled kernels
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 5), (3, 2, 4, 5)])
def test_batch_norm_noncontiguous(shape, training, dtype, rng):
    x = noncontiguous(rng.standard_normal(shape).astype(dtype))
    w, b = _affine(shape[1], "both", dtype, rng)
    rm, rv = np.zeros(shape[1], dtype), np.ones(shape[1], dtype)
    check_against_torch(
        lambda a, w, b: F.batch_norm(a, cnnlab.tensor(rm), cnnlab.tensor(rv), w, b, training),
        lambda a, w, b: TF.batch_norm(a, torch.tensor(rm), torch.tensor(rv), w, b, training),
        [x, w, b],
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", AFFINE)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 5, 4), (2, 2, 3, 2, 4)])
def test_batch_norm_eval_matches_torch(shape, which, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    w, b = _affine(shape[1], which, dtype, rng)
    rm = rng.standard_normal(shape[1]).astype(dtype)
    rv = rng.uniform(0.5, 2, shape[1]).astype(dtype)
    check_against_torch(
        lambda a, w, b: F.batch_norm(a, cnnlab.tensor(rm), cnnlab.tensor(rv), w, b, training=False, eps=1e-3),
        lambda a, w, b: TF.batch_norm(a, torch.tensor(rm), torch.tensor(rv), w, b, training=False, eps=1e-3),
        [x, w, b],
    )


@pytest.mark.usefixtures("kernels")  # training-mode batch norm has compiled kernels
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 3), (4, 2, 5), (2, 3, 4, 5), (1, 2, 2, 3, 3)])
def test_batch_norm_running_stats_follow_torch(shape, dtype, rng):
    C = shape[1]
    ours_m, ours_v = cnnlab.zeros(C, dtype=dtype), cnnlab.ones(C, dtype=dtype)
    theirs_m, theirs_v = torch.from_numpy(np.zeros(C, dtype)), torch.from_numpy(np.ones(C, dtype))
    for step, momentum in enumerate([0.1, 0.1, 0.3, 1.0, 0.05]):
        x = rng.standard_normal(shape).astype(dtype) * (step + 1) + step
        out = F.batch_norm(cnnlab.tensor(x), ours_m, ours_v, training=True, momentum=momentum)
        expected = TF.batch_norm(torch.from_numpy(x), theirs_m, theirs_v, training=True, momentum=momentum)
        assert_close(out, expected)
        assert_close(ours_m, theirs_m, what="running_mean")
        assert_close(ours_v, theirs_v, what="running_var")
    # evaluation with the accumulated statistics
    x = rng.standard_normal(shape).astype(dtype)
    assert_close(
        F.batch_norm(cnnlab.tensor(x), ours_m, ours_v), TF.batch_norm(torch.from_numpy(x), theirs_m, theirs_v)
    )


@pytest.mark.usefixtures("kernels")  # training-mode batch norm has compiled kernels
def test_batch_norm_updates_running_stats_in_place(rng):
    rm, rv = cnnlab.zeros(2), cnnlab.ones(2)
    mean_array, var_array = rm.data, rv.data
    F.batch_norm(cnnlab.tensor(rng.standard_normal((4, 2)).astype(np.float32)), rm, rv, training=True)
    assert rm.data is mean_array and rv.data is var_array
    assert rm.dtype == np.float32 and rv.dtype == np.float32
    assert np.any(rm.data != 0) and np.any(rv.data != 1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", ["both", "none"])
@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 4, 3), (3, 2, 3, 4), (2, 2, 2, 3, 3)])
def test_instance_norm_matches_torch(shape, which, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    w, b = _affine(shape[1], which, dtype, rng)
    check_against_torch(
        lambda a, w, b: F.instance_norm(a, weight=w, bias=b),
        lambda a, w, b: TF.instance_norm(a, weight=w, bias=b),
        [x, w, b],
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 3, 4)])
def test_instance_norm_running_stats_follow_torch(shape, dtype, rng):
    C = shape[1]
    ours = [cnnlab.zeros(C, dtype=dtype), cnnlab.ones(C, dtype=dtype)]
    theirs = [torch.from_numpy(np.zeros(C, dtype)), torch.from_numpy(np.ones(C, dtype))]
    for step in range(3):
        x = rng.standard_normal(shape).astype(dtype) * (step + 2) + step
        assert_close(
            F.instance_norm(cnnlab.tensor(x), *ours, momentum=0.2),
            TF.instance_norm(torch.from_numpy(x), *theirs, momentum=0.2),
        )
        assert_close(ours[0], theirs[0], what="running_mean")
        assert_close(ours[1], theirs[1], what="running_var")
    # use_input_stats=False normalises with the running statistics, with gradients for input and affine
    x = rng.standard_normal(shape).astype(dtype)
    w, b = _affine(C, "both", dtype, rng)
    rm, rv = ours[0].data.copy(), ours[1].data.copy()
    check_against_torch(
        lambda a, w, b: F.instance_norm(a, cnnlab.tensor(rm), cnnlab.tensor(rv), w, b, use_input_stats=False),
        lambda a, w, b: TF.instance_norm(a, torch.tensor(rm), torch.tensor(rv), w, b, use_input_stats=False),
        [x, w, b],
    )


LAYER = [
    ((4, 5), (5,)),
    ((2, 3, 4), (4,)),
    ((2, 3, 4), (3, 4)),
    ((3, 2, 5, 4), (2, 5, 4)),
    ((1, 7), 7),
    ((2, 3, 4, 5), [4, 5]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", AFFINE)
@pytest.mark.parametrize("shape,normalized", LAYER)
def test_layer_norm_matches_torch(shape, normalized, which, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype) * 2 - 1
    ns = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    w = rng.standard_normal(ns).astype(dtype) if which in ("both", "weight") else None
    b = rng.standard_normal(ns).astype(dtype) if which in ("both", "bias") else None
    check_against_torch(
        lambda a, w, b: F.layer_norm(a, normalized, w, b, eps=1e-4),
        lambda a, w, b: TF.layer_norm(a, ns, w, b, eps=1e-4),
        [x, w, b],
    )
    check_against_torch(
        lambda a, w, b: F.layer_norm(a, normalized, w, b),
        lambda a, w, b: TF.layer_norm(a, ns, w, b),
        [noncontiguous(x), w, b],
    )


GROUP = [
    ((2, 6), 3),
    ((2, 4, 5), 2),
    ((1, 6, 3, 4), 3),
    ((3, 4, 3, 3), 1),
    ((2, 4, 2, 3), 4),
    ((2, 6, 2, 2, 3), 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("which", ["both", "none", "weight"])
@pytest.mark.parametrize("shape,groups", GROUP)
def test_group_norm_matches_torch(shape, groups, which, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype) + 0.5
    w, b = _affine(shape[1], which, dtype, rng)
    check_against_torch(
        lambda a, w, b: F.group_norm(a, groups, w, b),
        lambda a, w, b: TF.group_norm(a, groups, w, b),
        [x, w, b],
    )
    check_against_torch(
        lambda a, w, b: F.group_norm(a, groups, w, b),
        lambda a, w, b: TF.group_norm(a, groups, w, b),
        [noncontiguous(x), w, b],
    )


LRN = [
    ((2, 5, 7), 3, {}),
    ((2, 6, 4), 2, dict(alpha=0.1, beta=0.5, k=2.0)),
    ((1, 7, 3, 4), 5, dict(alpha=1e-2)),
    ((2, 3, 4, 4), 4, dict(beta=1.0)),
    ((1, 4, 2, 3, 3), 3, dict(alpha=0.05, k=0.5)),
    ((1, 3, 5), 7, {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,size,kw", LRN)
def test_local_response_norm_matches_torch(shape, size, kw, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype) * 3
    check_against_torch(
        lambda a: F.local_response_norm(a, size, **kw), lambda a: TF.local_response_norm(a, size, **kw), [x]
    )
    check_against_torch(
        lambda a: F.local_response_norm(a, size, **kw),
        lambda a: TF.local_response_norm(a, size, **kw),
        [noncontiguous(x)],
    )


NORMALIZE = [
    ((4, 5), {}),
    ((2, 3, 4), dict(dim=-1)),
    ((2, 3, 4), dict(p=1.0, dim=0)),
    ((3, 4), dict(p=3.0, dim=1)),
    ((2, 3, 2, 2), dict(p=math.inf, dim=1)),
    ((5,), dict(dim=0)),
    ((3, 4), dict(p=0.5, dim=1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", NORMALIZE)
def test_normalize_matches_torch(shape, kw, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    check_against_torch(lambda a: F.normalize(a, **kw), lambda a: TF.normalize(a, **kw), [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalize_zero_vector_gradient(dtype):
    x = np.zeros((2, 3), dtype)
    x[1] = [1.0, -2.0, 2.0]
    check_against_torch(lambda a: F.normalize(a, dim=1), lambda a: TF.normalize(a, dim=1), [x])


GRADCHECK = [
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (3, 2, 3), 2),
    (
        "batch_norm_eval",
        lambda x, w, b: F.batch_norm(
            x, cnnlab.zeros(2, dtype=np.float64) + 0.3, cnnlab.ones(2, dtype=np.float64) * 2, w, b
        ),
        (3, 2, 3),
        2,
    ),
    ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 2, 4), 2),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3,), w, b), (2, 2, 3), 3),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 3), 4),
]


@pytest.mark.usefixtures("kernels")  # training-mode batch norm has compiled kernels
@pytest.mark.parametrize("name,fn,shape,C", GRADCHECK, ids=[g[0] for g in GRADCHECK])
def test_norm_finite_differences(name, fn, shape, C, rng):
    check_gradients(fn, [rng.standard_normal(shape), rng.standard_normal(C), rng.standard_normal(C)])


def test_lrn_and_normalize_finite_differences(rng):
    check_gradients(
        lambda x: F.local_response_norm(x, 3, alpha=0.3, beta=0.6, k=1.5), [rng.standard_normal((2, 4, 3))]
    )
    check_gradients(lambda x: F.normalize(x, p=3.0, dim=0), [rng.standard_normal((3, 4))])


@pytest.mark.usefixtures("kernels")  # training-mode batch norm has compiled kernels
def test_float32_stays_float32(rng):
    x = cnnlab.tensor(rng.standard_normal((4, 3, 2)).astype(np.float32), requires_grad=True)
    w, b = cnnlab.ones(3, requires_grad=True), cnnlab.zeros(3, requires_grad=True)
    outs = [
        F.batch_norm(x, cnnlab.zeros(3), cnnlab.ones(3), w, b, training=True),
        F.batch_norm(x, cnnlab.zeros(3), cnnlab.ones(3), w, b),
        F.instance_norm(x, weight=w, bias=b),
        F.layer_norm(x, (3, 2)),
        F.group_norm(x, 3, w, b),
        F.local_response_norm(x, 2),
        F.normalize(x),
    ]
    for out in outs:
        assert out.dtype == np.float32
        out.sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


# --------------------------------------------------------------------------------------------------
# errors

X4 = cnnlab.zeros(2, 3, 4, 4)

ERRORS = [
    (
        lambda: F.batch_norm(X4, cnnlab.zeros(4), cnnlab.ones(3)),
        ValueError,
        r"running_mean of shape \(3,\).*got shape \(4,\)",
    ),
    (
        lambda: F.batch_norm(X4, None, None, cnnlab.ones(2), training=True),
        ValueError,
        r"weight of shape \(3,\)",
    ),
    (
        lambda: F.batch_norm(X4, None, None, bias=cnnlab.ones(5), training=True),
        ValueError,
        r"bias of shape \(3,\)",
    ),
    (
        lambda: F.batch_norm(cnnlab.zeros(1, 3), None, None, training=True),
        ValueError,
        r"Expected more than 1 value per channel when training, got input size \(1, 3\)",
    ),
    (
        lambda: F.batch_norm(cnnlab.zeros(1, 3, 1, 1), None, None, training=True),
        ValueError,
        r"Expected more than 1 value per channel when training, got input size \(1, 3, 1, 1\)",
    ),
    (
        lambda: F.batch_norm(X4, None, None),
        ValueError,
        "running_mean and running_var must be given in evaluation",
    ),
    (
        lambda: F.batch_norm(X4, cnnlab.zeros(3), None, training=True),
        ValueError,
        "running_mean and running_var must either both be None or neither be None, got running_var=None",
    ),
    (
        lambda: F.batch_norm(X4, None, None, training=True, eps=0.0),
        ValueError,
        "eps must be positive during training, got 0.0",
    ),
    (
        lambda: F.batch_norm(X4, cnnlab.zeros(3), cnnlab.ones(3), eps=-1.0),
        ValueError,
        "eps must be non-negative, got -1.0",
    ),
    (
        lambda: F.batch_norm(cnnlab.zeros(3), None, None, training=True),
        ValueError,
        r"\(N, C\).*1-D input of shape \(3,\)",
    ),
    (
        lambda: F.batch_norm(X4.numpy(), None, None, training=True),
        TypeError,
        "input to be a Tensor, got ndarray",
    ),
    (
        lambda: F.batch_norm(cnnlab.zeros(2, 3, dtype=cnnlab.int64), None, None, training=True),
        TypeError,
        "floating-point input, got dtype int64",
    ),
    (
        lambda: F.batch_norm(X4, None, None, training=True, momentum=None),
        TypeError,
        "momentum to be a float, got None",
    ),
    (lambda: F.instance_norm(cnnlab.zeros(2, 3)), ValueError, r"at least one spatial dimension.*\(2, 3\)"),
    (lambda: F.instance_norm(cnnlab.zeros(2, 3, 1)), ValueError, "Expected more than 1 spatial element"),
    (lambda: F.instance_norm(X4, weight=cnnlab.ones(4)), ValueError, r"weight of shape \(3,\)"),
    (
        lambda: F.instance_norm(X4, use_input_stats=False),
        ValueError,
        "running_mean and running_var must be given",
    ),
    (
        lambda: F.layer_norm(X4, (3, 4)),
        ValueError,
        r"normalized_shape=\(3, 4\).*\(\*, 3, 4\).*\(2, 3, 4, 4\)",
    ),
    (
        lambda: F.layer_norm(X4, (4,), cnnlab.ones(3)),
        ValueError,
        r"weight of shape normalized_shape=\(4,\), got \(3,\)",
    ),
    (lambda: F.layer_norm(X4, "4"), TypeError, "normalized_shape to be an int or a sequence of ints"),
    (lambda: F.layer_norm(cnnlab.zeros(4), (2, 4)), ValueError, r"1-D input of shape \(4,\)"),
    (
        lambda: F.group_norm(X4, 2),
        ValueError,
        r"divisible by num_groups.*\(2, 3, 4, 4\) \(3 channels\) and num_groups=2",
    ),
    (lambda: F.group_norm(X4, 0), ValueError, "num_groups to be a positive int, got 0"),
    (lambda: F.group_norm(X4, 3, cnnlab.ones(4)), ValueError, r"weight of shape \(3,\)"),
    (
        lambda: F.local_response_norm(cnnlab.zeros(2, 3), 2),
        ValueError,
        r"at least one spatial dimension.*\(2, 3\)",
    ),
    (lambda: F.local_response_norm(X4, 0), ValueError, "size to be a positive int, got 0"),
    (lambda: F.normalize(X4, dim=4), IndexError, r"dim in the range \[-4, 3\].*got 4"),
    (lambda: F.normalize(X4, p=0), ValueError, "p to be positive"),
]


@pytest.mark.parametrize("call,error,match", ERRORS)
def test_norm_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
