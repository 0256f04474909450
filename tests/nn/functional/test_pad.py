"""F.pad in its four modes against PyTorch and finite differences."""

import numpy as np
import pytest
import torch.nn.functional as TF
from harness import check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F

DTYPES = [np.float32, np.float64]
MODES = ["constant", "reflect", "replicate", "circular"]

# (input shape, pad): 1-D, 2-D, 3-D padding of batched and unbatched inputs; odd/even, asymmetric,
# zero and negative (cropping) widths
CASES = [
    ((2, 3, 5), (2, 1)),
    ((3, 6), (1, 3)),
    ((1, 1, 4), (0, 0)),
    ((2, 3, 5), (-1, 2)),
    ((2, 3, 5), (3, -2)),
    ((2, 2, 5, 4), (1, 2, 3, 0)),
    ((2, 5, 4), (2, 2, 1, 1)),
    ((1, 2, 3, 6), (-1, 2, 2, -1)),
    ((1, 2, 4, 5, 3), (1, 1, 2, 0, 1, 2)),
    ((2, 3, 3, 4), (0, 1, 2, 1, 1, 0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape,pad", CASES)
def test_pad_matches_torch(shape, pad, mode, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    check_against_torch(lambda a: F.pad(a, pad, mode), lambda a: TF.pad(a, pad, mode), [x])
    check_against_torch(lambda a: F.pad(a, pad, mode), lambda a: TF.pad(a, pad, mode), [noncontiguous(x)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape,pad,value",
    [
        ((3,), (2, 1), 1.5),
        ((2, 3), (1, 1, 2, 0), -2.0),
        ((2, 3, 4), (0, 0, 0, 0, 1, 1), 0.25),
        ((1, 2, 3, 4, 5), (1, -1, 0, 2, -1, 1, 1, 0, 2, 0), 3.0),  # 5 padded dims: constant pads any number
        ((2, 3, 4), (-2, -2), 0.0),  # crops to nothing
    ],
)
def test_constant_pad_any_dims_and_value(shape, pad, value, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    check_against_torch(lambda a: F.pad(a, pad, value=value), lambda a: TF.pad(a, pad, value=value), [x])


@pytest.mark.parametrize(
    "mode,pad", [("reflect", (3, 3, 2, 2)), ("circular", (4, 4, 3, 3)), ("replicate", (6, 7, 5, 0))]
)
def test_pad_at_the_mode_limits(mode, pad, rng):
    x = rng.standard_normal((1, 2, 3, 4))
    check_against_torch(lambda a: F.pad(a, pad, mode), lambda a: TF.pad(a, pad, mode), [x])


def test_pad_values_and_dtype():
    x = cnnlab.tensor([[[0.0, 1.0, 2.0, 3.0]]])
    assert F.pad(x, (2, 2), "reflect").tolist() == [[[2, 1, 0, 1, 2, 3, 2, 1]]]
    assert F.pad(x, (2, 2), "replicate").tolist() == [[[0, 0, 0, 1, 2, 3, 3, 3]]]
    assert F.pad(x, (2, 2), "circular").tolist() == [[[2, 3, 0, 1, 2, 3, 0, 1]]]
    assert F.pad(x, (1, -2), value=9.0).tolist() == [[[9, 0, 1]]]
    for mode in MODES:
        assert F.pad(x, (1, 1), mode).dtype == np.float32
    assert F.pad(cnnlab.tensor([1, 2]), (1, 0), value=7).tolist() == [7, 1, 2]  # integers pad too


def test_pad_output_does_not_alias_input():
    x = cnnlab.ones(1, 2, 3)
    out = F.pad(x, (0, 0))
    out.data[...] = 5
    assert x.data.max() == 1


@pytest.mark.parametrize("mode", MODES)
def test_pad_finite_differences(mode, rng):
    check_gradients(lambda a: F.pad(a, (2, 1, -1, 2), mode), [rng.standard_normal((2, 3, 4))])
    check_gradients(lambda a: F.pad(a, (1, 0, 0, 2, 2, 1), mode), [rng.standard_normal((1, 3, 3, 2))])


# --------------------------------------------------------------------------------------------------
# errors

X = cnnlab.zeros(1, 1, 3, 3)

ERRORS = [
    (lambda: F.pad(X, (1, 1, 1)), ValueError, r"even length.*pad=\(1, 1, 1\) of length 3"),
    (lambda: F.pad(X, (1,) * 10), ValueError, "padding length 10 and input of dimension 4"),
    (
        lambda: F.pad(X, (1, 1), mode="wrap"),
        ValueError,
        "unknown mode 'wrap'; expected one of 'constant', 'reflect', 'replicate', 'circular'",
    ),
    (
        lambda: F.pad(X, (3, 3, 0, 0), mode="reflect"),
        ValueError,
        (
            r"argument pad: Padding size should be less than the corresponding input dimension.*"
            r"padding \(3, 3\) at dimension 3 of input of shape \(1, 1, 3, 3\)"
        ),
    ),
    (lambda: F.pad(X, (0, 0, 1, 3), mode="reflect"), ValueError, r"padding \(1, 3\) at dimension 2"),
    (
        lambda: F.pad(X, (4, 0, 0, 0), mode="circular"),
        ValueError,
        r"circular padding \(4, 0\).*more than once",
    ),
    (lambda: F.pad(X, (1, 1), mode="reflect", value=1.0), ValueError, "mode 'reflect' doesn't take a value"),
    (
        lambda: F.pad(X, (1, 1), mode="replicate"),
        ValueError,
        r"length 2 needs a 2-D or 3-D input.*pad=\(1, 1\) and an input of shape \(1, 1, 3, 3\)",
    ),
    (lambda: F.pad(cnnlab.zeros(3), (1, 1), mode="reflect"), ValueError, r"input of shape \(3,\)"),
    (lambda: F.pad(cnnlab.zeros(1, 1, 2, 2, 2, 2), (1,) * 8, mode="replicate"), ValueError, "last 1, 2 or 3"),
    (lambda: F.pad(cnnlab.zeros(2, 0), (1, 1), mode="replicate"), ValueError, "non-empty padded dimensions"),
    (lambda: F.pad(X, (-2, -2)), ValueError, r"padding \(-2, -2\) at dimension 3.*negative output size -1"),
    (lambda: F.pad(X, 1), TypeError, "pad to be a tuple of ints"),
    (lambda: F.pad(X, (1.5, 1)), TypeError, "pad to be a tuple of ints"),
    (lambda: F.pad(X.numpy(), (1, 1)), TypeError, "input to be a Tensor, got ndarray"),
]


@pytest.mark.parametrize("call,error,match", ERRORS)
def test_pad_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
