"""Losses against PyTorch (value and the gradients of input and floating targets) for every option,
finite differences, NaN propagation and error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from harness import check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F

DTYPES = [np.float32, np.float64]

R = np.random.default_rng(1)
LOGITS = R.standard_normal((6, 5)) * 2
LABELS = np.array([0, 4, 1, 3, 2, 4])
LABELS_IGNORED = np.array([0, -100, 1, 3, -100, 4])
LOGITS_4D = R.standard_normal((2, 5, 3, 4))
LABELS_4D = R.integers(0, 5, (2, 3, 4))
LABELS_4D_IGNORED = np.where(R.random((2, 3, 4)) < 0.3, -100, LABELS_4D)
LOGITS_1 = R.standard_normal((1, 5))
LABELS_1 = np.array([2])
LOGITS_C = R.standard_normal(5)
LABEL_0D = np.array(3)
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
PROBS_4D = np.exp(LOGITS_4D) / np.exp(LOGITS_4D).sum(1, keepdims=True)
CLASS_WEIGHT = R.random(5) + 0.5
LOG_PROBS = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))

P01 = 1 / (1 + np.exp(-R.standard_normal((4, 3))))  # probabilities for binary cross entropy
T01 = R.random((4, 3))
T_HARD = (R.random((4, 3)) < 0.5).astype(np.float64)
X = R.standard_normal((4, 3))
Y = R.standard_normal((4, 3))
W3 = R.random(3) + 0.5
W43 = R.random((4, 3)) + 0.5
POSITIVE = R.random((6, 5)) + 0.05  # an unnormalised target for kl_div

# one row per op and configuration: (id, op, kwargs, input, target); arrays in kwargs are constants
# (class weights, pos_weight, elementwise weights), made in the dtype of the row
CASES = [
    ("ce", "cross_entropy", {}, LOGITS, LABELS),
    ("ce_batch1", "cross_entropy", {}, LOGITS_1, LABELS_1),
    ("ce_unbatched", "cross_entropy", {}, LOGITS_C, LABEL_0D),
    ("ce_unbatched_none", "cross_entropy", dict(reduction="none"), LOGITS_C, LABEL_0D),
    ("ce_sum", "cross_entropy", dict(reduction="sum"), LOGITS, LABELS),
    ("ce_none", "cross_entropy", dict(reduction="none"), LOGITS, LABELS),
    ("ce_weight", "cross_entropy", dict(weight=CLASS_WEIGHT), LOGITS, LABELS),
    ("ce_weight_sum", "cross_entropy", dict(weight=CLASS_WEIGHT, reduction="sum"), LOGITS, LABELS),
    ("ce_ignore", "cross_entropy", {}, LOGITS, LABELS_IGNORED),
    ("ce_ignore_3", "cross_entropy", dict(ignore_index=3), LOGITS, LABELS),
    ("ce_weight_ignore", "cross_entropy", dict(weight=CLASS_WEIGHT), LOGITS, LABELS_IGNORED),
    (
        "ce_weight_ignore_none",
        "cross_entropy",
        dict(weight=CLASS_WEIGHT, reduction="none"),
        LOGITS,
        LABELS_IGNORED,
    ),
    ("ce_smooth", "cross_entropy", dict(label_smoothing=0.1), LOGITS, LABELS),
    ("ce_smooth_ignore", "cross_entropy", dict(label_smoothing=0.3), LOGITS, LABELS_IGNORED),
    ("ce_smooth_weight", "cross_entropy", dict(label_smoothing=0.2, weight=CLASS_WEIGHT), LOGITS, LABELS),
    (
        "ce_smooth_weight_ignore",
        "cross_entropy",
        dict(label_smoothing=0.2, weight=CLASS_WEIGHT),
        LOGITS,
        LABELS_IGNORED,
    ),
    (
        "ce_smooth_weight_ignore_sum",
        "cross_entropy",
        dict(label_smoothing=0.2, weight=CLASS_WEIGHT, reduction="sum"),
        LOGITS,
        LABELS_IGNORED,
    ),
    (
        "ce_smooth_weight_ignore_none",
        "cross_entropy",
        dict(label_smoothing=0.2, weight=CLASS_WEIGHT, reduction="none"),
        LOGITS,
        LABELS_IGNORED,
    ),
    ("ce_smooth_1", "cross_entropy", dict(label_smoothing=1.0), LOGITS, LABELS),
    ("ce_4d", "cross_entropy", {}, LOGITS_4D, LABELS_4D),
    ("ce_4d_none", "cross_entropy", dict(reduction="none"), LOGITS_4D, LABELS_4D),
    (
        "ce_4d_all_options",
        "cross_entropy",
        dict(weight=CLASS_WEIGHT, label_smoothing=0.15),
        LOGITS_4D,
        LABELS_4D_IGNORED,
    ),
    ("ce_probs", "cross_entropy", {}, LOGITS, PROBS),
    ("ce_probs_unbatched", "cross_entropy", {}, LOGITS_C, PROBS[0]),
    ("ce_probs_weight_sum", "cross_entropy", dict(weight=CLASS_WEIGHT, reduction="sum"), LOGITS, PROBS),
    (
        "ce_probs_smooth_weight",
        "cross_entropy",
        dict(weight=CLASS_WEIGHT, label_smoothing=0.2),
        LOGITS,
        PROBS,
    ),
    ("ce_probs_4d_none", "cross_entropy", dict(reduction="none", label_smoothing=0.1), LOGITS_4D, PROBS_4D),
    ("nll", "nll_loss", {}, LOG_PROBS, LABELS),
    ("nll_batch1", "nll_loss", {}, LOG_PROBS[:1], LABELS[:1]),
    ("nll_unbatched", "nll_loss", {}, LOG_PROBS[0], LABEL_0D),
    ("nll_weight_ignore", "nll_loss", dict(weight=CLASS_WEIGHT), LOG_PROBS, LABELS_IGNORED),
    ("nll_ignore_1_sum", "nll_loss", dict(ignore_index=1, reduction="sum"), LOG_PROBS, LABELS),
    (
        "nll_4d_weight_none",
        "nll_loss",
        dict(weight=CLASS_WEIGHT, reduction="none"),
        LOGITS_4D,
        LABELS_4D_IGNORED,
    ),
    ("bce", "binary_cross_entropy", {}, P01, T01),
    ("bce_hard", "binary_cross_entropy", {}, P01, T_HARD),
    ("bce_weight", "binary_cross_entropy", dict(weight=W3), P01, T01),
    ("bce_weight_none", "binary_cross_entropy", dict(weight=W43, reduction="none"), P01, T01),
    ("bce_sum", "binary_cross_entropy", dict(reduction="sum"), P01, T01),
    ("bce_logits", "binary_cross_entropy_with_logits", {}, X * 3, T01),
    ("bce_logits_weight", "binary_cross_entropy_with_logits", dict(weight=W3), X, T01),
    ("bce_logits_pos_weight", "binary_cross_entropy_with_logits", dict(pos_weight=W3), X, T01),
    (
        "bce_logits_both_none",
        "binary_cross_entropy_with_logits",
        dict(weight=W43, pos_weight=W3, reduction="none"),
        X,
        T01,
    ),
    (
        "bce_logits_both_sum",
        "binary_cross_entropy_with_logits",
        dict(weight=W3, pos_weight=W3, reduction="sum"),
        X,
        T_HARD,
    ),
    ("mse", "mse_loss", {}, X, Y),
    ("mse_sum", "mse_loss", dict(reduction="sum"), X, Y),
    ("mse_none", "mse_loss", dict(reduction="none"), X, Y),
    ("mse_weight", "mse_loss", dict(weight=W43), X, Y),
    ("l1", "l1_loss", {}, X, Y),
    ("l1_none", "l1_loss", dict(reduction="none"), X, Y),
    ("l1_weight_sum", "l1_loss", dict(weight=W43, reduction="sum"), X, Y),
    ("smooth_l1", "smooth_l1_loss", {}, X, Y),
    ("smooth_l1_beta_0.5_none", "smooth_l1_loss", dict(beta=0.5, reduction="none"), X, Y),
    ("smooth_l1_beta_0", "smooth_l1_loss", dict(beta=0.0), X, Y),
    ("huber", "huber_loss", {}, X * 2, Y),
    ("huber_delta_0.7_sum", "huber_loss", dict(delta=0.7, reduction="sum"), X * 2, Y),
    ("huber_weight", "huber_loss", dict(weight=W43, delta=0.5), X * 2, Y),
    ("kl_batchmean", "kl_div", dict(reduction="batchmean"), LOG_PROBS, PROBS),
    ("kl_sum", "kl_div", dict(reduction="sum"), LOG_PROBS, POSITIVE),
    ("kl_none", "kl_div", dict(reduction="none"), LOG_PROBS, PROBS),
    ("kl_mean", "kl_div", dict(reduction="mean"), LOG_PROBS, PROBS),
    (
        "kl_log_target",
        "kl_div",
        dict(reduction="batchmean", log_target=True),
        LOG_PROBS,
        LOG_PROBS[::-1].copy(),
    ),
    (
        "kl_log_target_none",
        "kl_div",
        dict(reduction="none", log_target=True),
        LOG_PROBS,
        LOG_PROBS[::-1].copy(),
    ),
]
IDS = [c[0] for c in CASES]


def _kwargs(kwargs, dtype, make):
    return {k: make(v.astype(dtype)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def _pair(op, kwargs, dtype):
    ours_kw = _kwargs(kwargs, dtype, cnnlab.tensor)
    theirs_kw = _kwargs(kwargs, dtype, torch.tensor)
    return (lambda x, t: getattr(F, op)(x, t, **ours_kw)), (lambda x, t: getattr(TF, op)(x, t, **theirs_kw))


def _cast(a, dtype):
    return a.astype(dtype) if a.dtype.kind == "f" else a


pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, op, kwargs, input, target", CASES, ids=IDS)
def test_matches_torch(name, op, kwargs, input, target, dtype):
    ours, theirs = _pair(op, kwargs, dtype)
    out = check_against_torch(ours, theirs, [_cast(input, dtype), _cast(target, dtype)])
    assert out.dtype == dtype


@pytest.mark.parametrize("name, op, kwargs, input, target", CASES, ids=IDS)
def test_noncontiguous_inputs(name, op, kwargs, input, target):
    ours, theirs = _pair(op, kwargs, np.float32)
    x = noncontiguous(input.astype(np.float32))
    t = noncontiguous(_cast(target, np.float32)) if target.ndim else target
    check_against_torch(ours, theirs, [x, t])


@pytest.mark.parametrize("name, op, kwargs, input, target", CASES, ids=IDS)
def test_finite_differences(name, op, kwargs, input, target):
    ours, _ = _pair(op, kwargs, np.float64)
    check_gradients(ours, [input, target if target.dtype.kind == "f" else cnnlab.tensor(target)])


# --------------------------------------------------------------------------------------------------
# numerics


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_is_stable_at_extreme_logits(smoothing, dtype):
    x = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [0.0, 0.0, 0.0]], dtype=dtype)
    t = np.array([0, 2, 1])
    out = check_against_torch(
        lambda a, b: F.cross_entropy(a, b, label_smoothing=smoothing),
        lambda a, b: TF.cross_entropy(a, b, label_smoothing=smoothing),
        [x, t],
    )
    assert np.isfinite(out.data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos_weight", [None, 2.5])
def test_bce_with_logits_is_stable_at_extreme_logits(pos_weight, dtype):
    x = np.array([-1e4, -100.0, -30.0, 30.0, 100.0, 1e4], dtype=dtype)
    t = np.array([0.0, 1.0, 0.3, 0.7, 0.0, 1.0], dtype=dtype)
    pw = None if pos_weight is None else np.full(6, pos_weight, dtype)
    out = check_against_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, pos_weight=None if pw is None else cnnlab.tensor(pw)
        ),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, pos_weight=None if pw is None else torch.tensor(pw)
        ),
        [x, t],
    )
    assert np.isfinite(out.data)


def test_bce_clamps_the_logarithm_at_minus_100_like_torch():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    out = check_against_torch(
        lambda a, b: F.binary_cross_entropy(a, b, reduction="none"),
        lambda a, b: TF.binary_cross_entropy(a, b, reduction="none"),
        [x, t],
    )
    np.testing.assert_allclose(out.data[:4], [100.0, 100.0, 0.0, 0.0])


@pytest.mark.parametrize(
    "op, x, t",
    [
        ("cross_entropy", np.array([[np.nan, 0.0], [0.0, 1.0]]), np.array([1, 0])),
        ("cross_entropy", np.array([[np.inf, 0.0], [0.0, 1.0]]), np.array([1, 0])),
        ("nll_loss", np.array([[np.nan, -1.0], [-1.0, -1.0]]), np.array([0, 1])),
        ("mse_loss", np.array([np.inf, 1.0]), np.array([0.0, 0.0])),
        ("l1_loss", np.array([np.nan, 1.0]), np.array([0.0, 0.0])),
        ("smooth_l1_loss", np.array([np.inf, 1.0]), np.array([0.0, 0.0])),
        ("huber_loss", np.array([np.nan, 1.0]), np.array([0.0, 0.0])),
        ("binary_cross_entropy_with_logits", np.array([np.nan, 1.0]), np.array([0.0, 1.0])),
        ("kl_div", np.array([np.nan, -1.0]), np.array([0.5, 0.5])),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_nan_and_inf_reach_the_loss(op, x, t):
    out = check_against_torch(
        lambda a, b: getattr(F, op)(a, b, reduction="sum"),
        lambda a, b: getattr(TF, op)(a, b, reduction="sum"),
        [x, t],
        grad=False,
    )
    assert not np.isfinite(out.data)


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_ignored_rows_do_not_leak_nan_like_torch(op):
    x = np.array([[np.nan, 0.0, 1.0], [0.5, 0.0, 1.0]])
    t = np.array([-100, 2])
    out = check_against_torch(getattr(F, op), getattr(TF, op), [x, t])
    assert np.isfinite(out.data)


def test_all_targets_ignored_gives_nan_like_torch():
    x, t = LOGITS[:2], np.array([-100, -100])
    check_against_torch(lambda a, b: F.cross_entropy(a, b), lambda a, b: TF.cross_entropy(a, b), [x, t])


def test_weight_with_mean_divides_by_the_kept_weights():
    x = cnnlab.zeros(3, 2)
    t = cnnlab.tensor([0, 1, -100])
    w = cnnlab.tensor([1.0, 3.0])
    np.testing.assert_allclose(
        F.cross_entropy(x, t, weight=w).item(), np.log(2), rtol=1e-6
    )  # (1 + 3) ln 2 / 4
    np.testing.assert_allclose(
        F.cross_entropy(x, t, weight=w, reduction="sum").item(), 4 * np.log(2), rtol=1e-6
    )


@pytest.mark.filterwarnings("ignore:Using a target size:UserWarning")
def test_mse_broadcasts_a_target_of_another_shape_like_torch():
    check_against_torch(F.mse_loss, TF.mse_loss, [X[:, :1].copy(), X[0].copy()])


def test_mse_warns_about_a_broadcast_target():
    x, t = cnnlab.tensor(X[:, :1]), cnnlab.tensor(X[0])
    with pytest.warns(
        UserWarning, match=r"Using a target size \(\(3,\)\) that is different to the input size"
    ):
        F.mse_loss(x, t)


def test_legacy_size_average_and_reduce_flags_warn_and_map_like_torch():
    x, t = X, Y
    with pytest.warns(
        UserWarning, match="size_average and reduce args will be deprecated, please use reduction='sum'"
    ):
        ours = F.mse_loss(cnnlab.tensor(x), cnnlab.tensor(t), size_average=False)
    np.testing.assert_allclose(ours.item(), ((x - t) ** 2).sum(), rtol=1e-12)
    with pytest.warns(UserWarning, match="reduction='none'"):
        ours = F.cross_entropy(cnnlab.tensor(LOGITS), cnnlab.tensor(LABELS), reduce=False)
    assert ours.shape == (6,)


def test_mixed_dtypes_promote_like_torch():
    check_against_torch(F.mse_loss, TF.mse_loss, [X.astype(np.float32), Y])
    out = F.mse_loss(cnnlab.tensor(X.astype(np.float32)), cnnlab.tensor([[1, 2, 3]] * 4))
    assert out.dtype == np.float32


# --------------------------------------------------------------------------------------------------
# errors


def _t(a):
    return cnnlab.tensor(np.asarray(a))


ERRORS = [
    (
        lambda: F.cross_entropy(_t(LOGITS), _t([0, 10, 1, 3, 2, 4])),
        IndexError,
        r"cross_entropy: target 10 is out of bounds for 5 classes \(expected values in \[0, 4\] or ignore_index=-100\)",
    ),
    (
        lambda: F.nll_loss(_t(LOGITS), _t([0, -1, 1, 3, 2, 4])),
        IndexError,
        r"nll_loss: target -1 is out of bounds for 5 classes",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS[:5])),
        ValueError,
        (
            r"cross_entropy: expected target of shape \(6,\) \(the input's shape without the class dimension 1\), "
            r"got target of shape \(5,\)"
        ),
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS_4D), _t(LABELS_4D[:, :2])),
        ValueError,
        r"cross_entropy: expected target of shape \(2, 3, 4\)",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS.astype(np.float32))),
        TypeError,
        r"cross_entropy: expected target of an integer dtype \(class indices\).*got target of dtype float32",
    ),
    (lambda: F.nll_loss(_t(LOGITS), _t(PROBS)), TypeError, r"nll_loss: expected target of an integer dtype"),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS), reduction="avg"),
        ValueError,
        r"cross_entropy: reduction must be one of 'none', 'mean', 'sum', got 'avg'",
    ),
    (
        lambda: F.kl_div(_t(X), _t(Y), reduction="batch"),
        ValueError,
        r"kl_div: reduction must be one of 'none', 'batchmean', 'sum', 'mean', got 'batch'",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS), weight=_t(np.ones(4))),
        ValueError,
        r"cross_entropy: expected weight of shape \(C,\) = \(5,\), one per class, got weight of shape \(4,\)",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS), weight=[1.0] * 5),
        TypeError,
        r"cross_entropy: expected weight to be a Tensor, got list",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS), weight=cnnlab.ones(5, requires_grad=True)),
        RuntimeError,
        r"cross_entropy: weight is not differentiable",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS), label_smoothing=1.5),
        ValueError,
        r"cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.5",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(PROBS), ignore_index=1),
        ValueError,
        r"cross_entropy: ignore_index is not supported with class-probability targets",
    ),
    (
        lambda: F.cross_entropy(_t(LOGITS), _t(LABELS), ignore_index=1.5),
        TypeError,
        r"cross_entropy: expected ignore_index to be an int",
    ),
    (
        lambda: F.cross_entropy(_t(2.0), _t(0)),
        ValueError,
        r"cross_entropy: expected input of shape \(C,\) or \(N, C, d1, ...\), got a 0-d",
    ),
    (
        lambda: F.cross_entropy(LOGITS, _t(LABELS)),
        TypeError,
        r"cross_entropy: expected input to be a Tensor, got ndarray",
    ),
    (
        lambda: F.nll_loss(_t(LOGITS), LABELS),
        TypeError,
        r"nll_loss: expected target to be a Tensor, got ndarray",
    ),
    (
        lambda: F.cross_entropy(_t(LABELS), _t(LABELS)),
        TypeError,
        r"cross_entropy: expected a floating-point input, got dtype int64",
    ),
    (
        lambda: F.binary_cross_entropy(_t(P01), _t(T01[:, :1])),
        ValueError,
        r"binary_cross_entropy: expected target of the input's shape \(4, 3\), got target of shape \(4, 1\)",
    ),
    (
        lambda: F.binary_cross_entropy(_t([0.5, 1.5]), _t([1.0, 1.0])),
        ValueError,
        r"binary_cross_entropy: expected all elements of input to be probabilities between 0 and 1, got values from 0.5 to 1.5",
    ),
    (
        lambda: F.binary_cross_entropy(_t([0.5, np.nan]), _t([1.0, 1.0])),
        ValueError,
        r"binary_cross_entropy: expected all elements of input to be probabilities between 0 and 1",
    ),
    (
        lambda: F.binary_cross_entropy(_t(P01), _t(T01), weight=_t(np.ones(4))),
        ValueError,
        r"binary_cross_entropy: expected weight to broadcast to the input's shape \(4, 3\), got weight of shape \(4,\)",
    ),
    (
        lambda: F.binary_cross_entropy_with_logits(_t(X), _t(T01 > 0.5)),
        TypeError,
        r"binary_cross_entropy_with_logits: expected a floating-point target, got dtype bool",
    ),
    (
        lambda: F.binary_cross_entropy_with_logits(_t(X), _t(T01), pos_weight=_t(np.ones(2))),
        ValueError,
        r"binary_cross_entropy_with_logits: expected pos_weight to broadcast",
    ),
    (
        lambda: F.mse_loss(_t(X), _t(Y[:, :2])),
        ValueError,
        r"mse_loss: expected target of the input's shape \(4, 3\) \(or one that broadcasts to it\), got target of shape \(4, 2\)",
    ),
    (
        lambda: F.mse_loss(_t(X), _t(Y), weight=_t(W3)),
        ValueError,
        r"mse_loss: expected weight of the input's shape \(4, 3\), got weight of shape \(3,\)",
    ),
    (lambda: F.l1_loss(_t(X), _t(Y > 0)), TypeError, r"l1_loss: expected a numeric target, got dtype bool"),
    (
        lambda: F.smooth_l1_loss(_t(X), _t(Y), beta=-1.0),
        ValueError,
        r"smooth_l1_loss: expected beta >= 0 \(0 gives the L1 loss\), got beta=-1.0",
    ),
    (
        lambda: F.huber_loss(_t(X), _t(Y), delta=0),
        ValueError,
        r"huber_loss: expected delta > 0, got delta=0.0",
    ),
    (lambda: F.huber_loss(_t(X), _t(Y), delta="1"), TypeError, r"huber_loss: expected delta to be a number"),
    (
        lambda: F.kl_div(_t(X), _t(Y), log_target=1),
        TypeError,
        r"kl_div: expected log_target to be a bool, got int",
    ),
]


@pytest.mark.parametrize(
    "call, error, message", ERRORS, ids=[m.split(":")[0] + str(i) for i, (_, _, m) in enumerate(ERRORS)]
)
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
