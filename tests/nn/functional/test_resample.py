"""interpolate, pixel_shuffle, pixel_unshuffle and channel_shuffle against PyTorch."""

import numpy as np
import pytest
import torch.nn.functional as TF
from harness import check_against_torch, check_gradients, noncontiguous

import cnnlab
import cnnlab.nn.functional as F

DTYPES = [np.float32, np.float64]


def _interpolate(**kw):
    """The same interpolate call in cnnlab and PyTorch, for check_against_torch."""
    return (lambda a: F.interpolate(a, **kw)), (lambda a: TF.interpolate(a, **kw))


# (mode, input shape, keyword arguments): up and down, odd and even, non-square, integer and fractional
# factors, size and scale_factor, recompute_scale_factor, batch 1
INTERP = [
    ("nearest", (2, 3, 5), dict(size=8)),
    ("nearest", (1, 2, 7), dict(scale_factor=0.5)),
    ("nearest", (2, 2, 4, 5), dict(scale_factor=2)),
    ("nearest", (1, 3, 5, 4), dict(size=(3, 7))),
    ("nearest", (1, 2, 3, 4, 5), dict(scale_factor=(1.5, 2.0, 0.6))),
    ("nearest", (1, 2, 6, 5), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("nearest-exact", (2, 3, 5), dict(size=8)),
    ("nearest-exact", (1, 2, 7, 6), dict(scale_factor=(0.5, 1.5))),
    ("nearest-exact", (1, 1, 3, 4, 5), dict(size=(5, 2, 7))),
    ("linear", (2, 3, 5), dict(size=9)),
    ("linear", (1, 2, 8), dict(scale_factor=0.4)),
    ("linear", (2, 2, 4), dict(scale_factor=2.5)),
    ("linear", (1, 1, 1), dict(size=3)),
    ("bilinear", (2, 3, 4, 5), dict(scale_factor=2)),
    ("bilinear", (1, 2, 7, 6), dict(size=(3, 10))),
    ("bilinear", (1, 4, 5, 5), dict(scale_factor=(1.3, 0.7))),
    ("bilinear", (2, 1, 6, 4), dict(scale_factor=1.5, recompute_scale_factor=True)),
    ("trilinear", (1, 2, 3, 4, 5), dict(scale_factor=2)),
    ("trilinear", (2, 1, 4, 3, 5), dict(size=(2, 5, 4))),
    ("bicubic", (1, 2, 4, 5), dict(scale_factor=2)),
    ("bicubic", (2, 1, 7, 6), dict(size=(4, 9))),
    ("bicubic", (1, 3, 5, 5), dict(scale_factor=(1.6, 0.5))),
    ("area", (2, 3, 7), dict(size=3)),
    ("area", (1, 2, 6, 5), dict(scale_factor=0.5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,shape,kw", INTERP)
def test_interpolate_matches_torch(mode, shape, kw, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    corners = [None] if mode in ("nearest", "nearest-exact", "area") else [None, False, True]
    for align_corners in corners:
        args = dict(kw, mode=mode, align_corners=align_corners)
        check_against_torch(*_interpolate(**args), [x])
    check_against_torch(*_interpolate(**args), [noncontiguous(x)])


SWEEP_MODES = [("nearest", 1), ("nearest-exact", 1), ("linear", 1), ("bicubic", 2), ("nearest", 2)]


@pytest.mark.parametrize("mode,nd", SWEEP_MODES)
def test_interpolate_source_index_sweep(mode, nd, rng):
    """Many size pairs at once: any off-by-one in a source index shows up here."""
    corners = [None] if mode.startswith("nearest") else [False, True]
    for n_in in (1, 2, 3, 5, 8):
        x = rng.standard_normal((1, 2) + (n_in,) * nd)
        for n_out in (1, 2, 4, 7, 9, 16):
            for align_corners in corners:
                args = dict(size=n_out, mode=mode, align_corners=align_corners)
                check_against_torch(*_interpolate(**args), [x])
        for factor in (0.5, 1.7, 3.0, 0.3):
            if int(n_in * factor) == n_in or int(n_in * factor) < 1:
                continue  # an unchanged size with a factor ≠ 1: see test_interpolate_unchanged_size_with_factor
            for align_corners in corners:
                args = dict(scale_factor=factor, mode=mode, align_corners=align_corners)
                check_against_torch(*_interpolate(**args), [x.astype(np.float32)])


@pytest.mark.parametrize(
    "mode,shape",
    [
        ("nearest", (1, 2, 3)),
        ("nearest", (1, 2, 3, 5)),
        ("nearest", (1, 1, 3, 3, 2)),
        ("linear", (1, 2, 3)),
        ("bicubic", (1, 2, 3, 3)),
    ],
)
def test_interpolate_unchanged_size_with_factor(mode, shape, rng):
    """floor(3 · 1.3) = 3: PyTorch's forward kernels treat this case differently per mode (copy or sample
    with the factor) and its backward kernels always copy, so only the forward can match."""
    x = rng.standard_normal(shape)
    args = dict(scale_factor=1.3, mode=mode)
    check_against_torch(*_interpolate(**args), [x], grad=False)


@pytest.mark.parametrize(
    "mode,shape",
    [
        ("nearest", (1, 2, 3, 4)),
        ("bilinear", (1, 1, 3, 4)),
        ("bicubic", (1, 1, 3, 3)),
        ("trilinear", (1, 1, 2, 3, 2)),
        ("nearest-exact", (1, 2, 5)),
    ],
)
def test_interpolate_finite_differences(mode, shape, rng):
    for kw in (dict(scale_factor=2), dict(size=tuple(max(n - 1, 1) for n in shape[2:]))):
        check_gradients(_interpolate(mode=mode, **kw)[0], [rng.standard_normal(shape)])


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample.*` is deprecated:UserWarning")
def test_interpolate_aliases(rng):
    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    check_against_torch(
        lambda a: F.upsample(a, scale_factor=2, mode="bilinear"),
        lambda a: TF.upsample(a, scale_factor=2, mode="bilinear"),
        [x],
    )
    check_against_torch(
        lambda a: F.upsample_nearest(a, size=(5, 7)), lambda a: TF.upsample_nearest(a, size=(5, 7)), [x]
    )
    check_against_torch(
        lambda a: F.upsample_bilinear(a, scale_factor=2),
        lambda a: TF.upsample_bilinear(a, scale_factor=2),
        [x],
    )


def test_interpolate_keeps_float32_and_copies():
    x = cnnlab.ones(1, 1, 2, 2)
    for mode in ("nearest", "bilinear", "bicubic", "nearest-exact"):
        assert F.interpolate(x, scale_factor=2, mode=mode).dtype == np.float32
    same = F.interpolate(x, size=(2, 2))
    same.data[...] = 3
    assert x.data.max() == 1


SHUFFLE = [((1, 4, 2, 3), 2), ((2, 18, 3, 2), 3), ((8, 3, 3), 2), ((2, 3, 4, 1, 5), 2), ((1, 5, 2, 2), 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,r", SHUFFLE)
def test_pixel_shuffle_matches_torch(shape, r, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    check_against_torch(lambda a: F.pixel_shuffle(a, r), lambda a: TF.pixel_shuffle(a, r), [x])
    check_against_torch(lambda a: F.pixel_shuffle(a, r), lambda a: TF.pixel_shuffle(a, r), [noncontiguous(x)])
    unshuffle_shape = shape[:-3] + (shape[-3], shape[-2] * r, shape[-1] * r)
    y = rng.standard_normal(unshuffle_shape).astype(dtype)
    check_against_torch(lambda a: F.pixel_unshuffle(a, r), lambda a: TF.pixel_unshuffle(a, r), [y])
    round_trip = F.pixel_shuffle(F.pixel_unshuffle(cnnlab.tensor(y), r), r)
    np.testing.assert_array_equal(round_trip.data, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape,groups", [((2, 6, 3), 2), ((1, 6, 2, 3), 3), ((2, 4, 1, 2, 2), 4), ((1, 5, 3), 1)]
)
def test_channel_shuffle_matches_torch(shape, groups, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    check_against_torch(lambda a: F.channel_shuffle(a, groups), lambda a: TF.channel_shuffle(a, groups), [x])
    check_against_torch(
        lambda a: F.channel_shuffle(a, groups), lambda a: TF.channel_shuffle(a, groups), [noncontiguous(x)]
    )


# --------------------------------------------------------------------------------------------------
# errors

X = cnnlab.zeros(1, 2, 4, 4)

ERRORS = [
    (
        lambda: F.interpolate(X, size=3, mode="cubic"),
        ValueError,
        "unknown mode 'cubic'; expected one of 'nearest'",
    ),
    (
        lambda: F.interpolate(X, size=3, align_corners=True),
        ValueError,
        "align_corners option can only be set with the interpolating modes.*mode='nearest'",
    ),
    (lambda: F.interpolate(X), ValueError, "either size or scale_factor should be defined"),
    (lambda: F.interpolate(X, size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
    (
        lambda: F.interpolate(X, size=(3, 3, 3)),
        ValueError,
        r"spatial dimensions of \(4, 4\) and size of \(3, 3, 3\)",
    ),
    (lambda: F.interpolate(X, scale_factor=(2,)), ValueError, r"scale_factor of \(2,\)"),
    (
        lambda: F.interpolate(X, size=3, recompute_scale_factor=True),
        ValueError,
        "not meaningful with an explicit size",
    ),
    (
        lambda: F.interpolate(X, size=3, mode="linear"),
        ValueError,
        r"mode 'linear' needs a 3-D input.*\(1, 2, 4, 4\)",
    ),
    (lambda: F.interpolate(cnnlab.zeros(1, 2, 4), size=3, mode="bilinear"), ValueError, "needs a 4-D input"),
    (lambda: F.interpolate(X, size=3, mode="trilinear"), ValueError, "needs a 5-D input"),
    (lambda: F.interpolate(cnnlab.zeros(2, 4), size=3), ValueError, r"3-D, 4-D or 5-D input.*\(2, 4\)"),
    (lambda: F.interpolate(X, size=0), ValueError, r"greater than 0.*output size \(0, 0\)"),
    (lambda: F.interpolate(X, scale_factor=0.1), ValueError, r"greater than 0.*output size \(0, 0\)"),
    (lambda: F.interpolate(X, scale_factor=-2.0), ValueError, "scale_factor to be positive"),
    (lambda: F.interpolate(X, size=2.5), TypeError, "size to be an int"),
    (
        lambda: F.interpolate(X, size=8, mode="bilinear", antialias=True),
        ValueError,
        "antialias=True is not supported",
    ),
    (lambda: F.interpolate(X.numpy(), size=8), TypeError, "input to be a Tensor, got ndarray"),
    (
        lambda: F.pixel_shuffle(cnnlab.zeros(1, 6, 2, 2), 2),
        ValueError,
        r"divisible by upscale_factor² = 4, but input.shape\[-3\]=6",
    ),
    (lambda: F.pixel_shuffle(X, 0), ValueError, "positive upscale_factor, got upscale_factor=0"),
    (
        lambda: F.pixel_shuffle(cnnlab.zeros(4, 4), 2),
        ValueError,
        r"at least 3-D, got a 2-D input of shape \(4, 4\)",
    ),
    (lambda: F.pixel_shuffle(X, 2.0), TypeError, "upscale_factor to be an int, got 2.0"),
    (
        lambda: F.pixel_unshuffle(cnnlab.zeros(1, 1, 4, 3), 2),
        ValueError,
        r"divisible by downscale_factor=2.*\(height 4, width 3\)",
    ),
    (lambda: F.pixel_unshuffle(X, -1), ValueError, "positive downscale_factor, got downscale_factor=-1"),
    (
        lambda: F.channel_shuffle(cnnlab.zeros(1, 5, 2), 2),
        ValueError,
        r"divisible by groups, got 5 channels.*groups=2",
    ),
    (lambda: F.channel_shuffle(X, 0), ValueError, "positive groups, got groups=0"),
    (lambda: F.channel_shuffle(cnnlab.zeros(2, 4), 2), ValueError, "at least 3-D"),
]


@pytest.mark.parametrize("call,error,match", ERRORS)
def test_resample_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
