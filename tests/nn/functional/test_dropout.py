"""Dropout: statistics, exact scaling, gradients equal to mask · scale, evaluation mode, seeding, errors.

Masks come from cnnlab's generator, not PyTorch's, so the comparisons are with the definition (and with
PyTorch's alpha-dropout formula applied to our mask), not with PyTorch's random draws.
"""

import numpy as np
import pytest

import cnnlab
import cnnlab.nn.functional as F

DTYPES = [np.float32, np.float64]
ELEMENTWISE = ["dropout", "alpha_dropout"]
CHANNEL = [  # (op, batched shape, unbatched shape)
    ("dropout1d", (64, 40, 5), (300, 5)),
    ("dropout2d", (64, 40, 3, 2), (300, 2, 3)),
    ("dropout3d", (64, 40, 2, 2, 2), (300, 2, 1, 2)),
]
ALL = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]
SHAPE = {
    "dropout": (20, 30),
    "dropout1d": (4, 5, 6),
    "dropout2d": (4, 5, 3, 2),
    "dropout3d": (4, 5, 2, 2, 2),
    "alpha_dropout": (20, 30),
}


def _apply(op, x, p, training=True):
    return getattr(F, op)(x, p, training)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_exact_scaling(p, dtype):
    out = F.dropout(cnnlab.ones(400, 500, dtype=dtype), p=p).data
    assert out.dtype == dtype
    kept = out != 0
    assert abs(1 - kept.mean() - p) < 0.005  # 200,000 draws: the standard error is about 0.001
    np.testing.assert_array_equal(out[kept], dtype(1) / dtype(1 - p))  # exactly 1/(1-p), in the dtype
    assert abs(out.mean() - 1) < 0.02  # the expectation is preserved


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("op, shape, unbatched_shape", CHANNEL)
def test_channel_dropout_zeroes_whole_channels(op, shape, unbatched_shape, batched):
    shape = shape if batched else unbatched_shape
    lead = 2 if batched else 1
    out = getattr(F, op)(cnnlab.ones(*shape), p=0.3).data
    per_channel = out.reshape(shape[:lead] + (-1,))
    assert np.all(per_channel == per_channel[..., :1]), "a channel was partly dropped"
    kept = per_channel[..., 0] != 0
    assert abs(1 - kept.mean() - 0.3) < 0.05
    np.testing.assert_array_equal(per_channel[kept], np.float32(1) / np.float32(0.7))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["dropout", "dropout1d", "dropout2d", "dropout3d"])
def test_gradient_is_mask_times_scale(op, dtype, rng):
    x = cnnlab.tensor(rng.uniform(1, 2, SHAPE[op]).astype(dtype), requires_grad=True)
    out = _apply(op, x, 0.4)
    upstream = rng.standard_normal(out.shape).astype(dtype)
    out.backward(upstream)
    mask_times_scale = out.data / x.data  # 0 or 1/(1-p)
    assert np.all((mask_times_scale == 0) | np.isclose(mask_times_scale, 1 / 0.6, rtol=1e-6))
    np.testing.assert_allclose(x.grad.data, upstream * mask_times_scale, rtol=1e-6)
    assert x.grad.dtype == dtype


def test_noncontiguous_input(rng):
    base = rng.uniform(1, 2, (50, 60))
    x = cnnlab.tensor(base)[:, ::2]
    out = F.dropout(x, 0.5).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 2 * base[:, ::2][kept])


@pytest.mark.parametrize("op", ALL)
def test_evaluation_mode_is_the_identity(op):
    x = cnnlab.randn(*SHAPE[op], requires_grad=True)
    assert _apply(op, x, 0.5, training=False) is x


@pytest.mark.parametrize("op", ALL)
def test_p_zero_is_the_identity_and_p_one_gives_zeros(op):
    x = cnnlab.randn(*SHAPE[op], requires_grad=True)
    assert _apply(op, x, 0.0) is x
    out = _apply(op, x, 1.0)
    assert not out.data.any() and np.isfinite(out.data).all()
    out.sum().backward()
    assert not x.grad.data.any()


@pytest.mark.parametrize("op", ALL)
def test_same_seed_same_mask(op):
    x = cnnlab.ones(*SHAPE[op])
    cnnlab.manual_seed(123)
    a = _apply(op, x, 0.5).data
    b = _apply(op, x, 0.5).data
    cnnlab.manual_seed(123)
    c = _apply(op, x, 0.5).data
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b), "the next call should draw a fresh mask"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_alpha_dropout_is_pytorchs_formula_and_keeps_mean_and_variance(p, dtype, rng):
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * p + 1) * (1 - p))
    x = cnnlab.tensor(rng.standard_normal((500, 400)).astype(dtype), requires_grad=True)
    out = F.alpha_dropout(x, p, training=True)
    assert out.dtype == dtype
    out.backward(np.ones(out.shape, dtype))
    kept = x.grad.data != 0  # the gradient is a · mask
    np.testing.assert_allclose(x.grad.data[kept], a, rtol=1e-6)
    assert abs(1 - kept.mean() - p) < 0.005
    expected = np.where(kept, a * x.data + alpha * a * p, -alpha * a * (1 - p))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    assert abs(out.data.mean()) < 0.01 and abs(out.data.std() - 1) < 0.01


def test_alpha_dropout_defaults_to_evaluation_mode():
    x = cnnlab.randn(3, 4)
    assert F.alpha_dropout(x) is x


@pytest.mark.parametrize("op", ALL)
def test_float32_stays_float32(op):
    assert _apply(op, cnnlab.randn(*SHAPE[op]), 0.3).dtype == np.float32


def test_dropout2d_and_3d_warn_on_other_ranks_like_pytorch():
    with pytest.warns(UserWarning, match=r"dropout2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input"):
        out = F.dropout2d(cnnlab.ones(40, 30), 0.5).data
    assert np.all(out == out[:, :1])  # treated as unbatched: dimension 0 holds the channels
    with pytest.warns(UserWarning, match=r"dropout3d: expected a 4-D \(unbatched\) or 5-D \(batched\) input"):
        F.dropout3d(cnnlab.ones(4, 3, 2), 0.5)


ERRORS = [
    (
        lambda: F.dropout(cnnlab.ones(3), p=1.5),
        ValueError,
        r"dropout: dropout probability has to be between 0 and 1, but got 1.5",
    ),
    (
        lambda: F.dropout2d(cnnlab.ones(2, 3, 4), p=-0.1),
        ValueError,
        r"dropout2d: dropout probability .* got -0.1",
    ),
    (
        lambda: F.alpha_dropout(cnnlab.ones(3), p="0.5"),
        ValueError,
        r"alpha_dropout: dropout probability .* got '0.5'",
    ),
    (lambda: F.dropout([1.0, 2.0]), TypeError, r"dropout: expected input to be a Tensor, got list"),
    (
        lambda: F.dropout(cnnlab.tensor([1, 2])),
        TypeError,
        r"dropout: expected a floating-point input, got dtype int64",
    ),
    (
        lambda: F.dropout3d(cnnlab.ones(2, 3, 4, 5), training="yes"),
        TypeError,
        r"dropout3d: expected training to be a bool",
    ),
    (
        lambda: F.dropout1d(cnnlab.ones(2, 3, 4, 5)),
        RuntimeError,
        r"dropout1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input, got a 4-D input of shape \(2, 3, 4, 5\)",
    ),
    (
        lambda: F.dropout2d(cnnlab.ones(5)),
        RuntimeError,
        r"dropout2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got a 1-D",
    ),
]


@pytest.mark.parametrize(
    "call, error, message", ERRORS, ids=[m.split(":")[0] + str(i) for i, (_, _, m) in enumerate(ERRORS)]
)
def test_errors_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
