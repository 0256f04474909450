"""Conv1d/2d/3d (every padding mode, 'same'/'valid'), ConvTranspose1d/2d/3d, Unfold, Fold against torch.nn."""

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn
from layer_harness import check_layer

import cnnlab
from cnnlab import nn

pytestmark = pytest.mark.usefixtures("kernels")  # on NumPy alone and with the compiled kernels

CONV = [
    ("Conv1d", (2, 4, 9), dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1)),
    ("Conv1d", (4, 9), dict(in_channels=4, out_channels=2, kernel_size=3, padding="same", dilation=2)),
    (
        "Conv2d",
        (2, 4, 7, 6),
        dict(in_channels=4, out_channels=6, kernel_size=(3, 2), padding=(1, 2), groups=2),
    ),
    ("Conv2d", (1, 3, 6, 6), dict(in_channels=3, out_channels=4, kernel_size=4, padding="same", bias=False)),
    (
        "Conv2d",
        (1, 3, 6, 5),
        dict(in_channels=3, out_channels=4, kernel_size=3, padding="valid", stride=(1, 2)),
    ),
    (
        "Conv3d",
        (1, 2, 4, 5, 4),
        dict(in_channels=2, out_channels=3, kernel_size=(2, 3, 2), padding=1, stride=2),
    ),
]

PADDED = [
    ("Conv1d", (2, 3, 8), dict(in_channels=3, out_channels=2, kernel_size=3, padding=2)),
    (
        "Conv2d",
        (2, 2, 6, 7),
        dict(in_channels=2, out_channels=4, kernel_size=(3, 4), padding=(1, 2), stride=2),
    ),
    (
        "Conv2d",
        (1, 2, 6, 7),
        dict(in_channels=2, out_channels=2, kernel_size=(3, 4), padding="same", dilation=(2, 1)),
    ),
    ("Conv3d", (1, 2, 4, 4, 5), dict(in_channels=2, out_channels=2, kernel_size=3, padding=(1, 0, 2))),
]

TRANSPOSED = [
    (
        "ConvTranspose1d",
        (2, 4, 5),
        dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1),
    ),
    (
        "ConvTranspose2d",
        (2, 4, 3, 4),
        dict(in_channels=4, out_channels=2, kernel_size=(3, 2), stride=(2, 1), groups=2),
    ),
    (
        "ConvTranspose2d",
        (1, 2, 4, 4),
        dict(in_channels=2, out_channels=3, kernel_size=3, dilation=2, bias=False),
    ),
    (
        "ConvTranspose3d",
        (1, 2, 2, 3, 2),
        dict(in_channels=2, out_channels=3, kernel_size=2, stride=2, padding=(0, 1, 0)),
    ),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, shape, kwargs", CONV + TRANSPOSED, ids=lambda v: str(v))
def test_conv_matches_torch(rng, name, shape, kwargs, dtype):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    check_layer(ours, theirs, rng.standard_normal(shape), dtype=dtype)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("name, shape, kwargs", PADDED, ids=lambda v: str(v))
def test_padding_modes_match_torch(rng, name, shape, kwargs, mode):
    ours = getattr(nn, name)(**kwargs, padding_mode=mode)
    theirs = getattr(tnn, name)(**kwargs, padding_mode=mode)
    assert ours._reversed_padding_repeated_twice == list(theirs._reversed_padding_repeated_twice)
    check_layer(ours, theirs, rng.standard_normal(shape), dtype=np.float64)
    assert repr(ours) == repr(theirs)


def test_conv_transpose_output_size(rng):
    kwargs = dict(in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=1)
    ours, theirs = nn.ConvTranspose2d(**kwargs), tnn.ConvTranspose2d(**kwargs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((1, 3, 5, 5)).astype(np.float32)
    out = ours(cnnlab.tensor(x), output_size=(10, 9))
    expected = theirs(torch.tensor(x), output_size=(10, 9))
    assert out.shape == tuple(expected.shape) == (1, 2, 10, 9)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert ours(cnnlab.tensor(x), output_size=[1, 2, 9, 10]).shape == (1, 2, 9, 10)
    with pytest.raises(
        ValueError,
        match=r"requested an output size of \[12, 9\], but valid sizes range from \[9, 9\] to \[10, 10\]",
    ):
        ours(cnnlab.tensor(x), output_size=(12, 9))


@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (
            nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2),
            tnn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2),
            (2, 3, 5, 6),
        ),
        (nn.Fold((4, 5), 2, stride=1), tnn.Fold((4, 5), 2, stride=1), (2, 3 * 4, 12)),
    ],
    ids=["Unfold", "Fold"],
)
def test_unfold_fold_match_torch(rng, ours, theirs, shape):
    check_layer(ours, theirs, rng.standard_normal(shape))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (nn.Conv2d(6, 4, (3, 5), groups=2), tnn.Conv2d(6, 4, (3, 5), groups=2)),
        (nn.Conv1d(3, 8, 7), tnn.Conv1d(3, 8, 7)),
        (nn.ConvTranspose2d(6, 4, 3, groups=2), tnn.ConvTranspose2d(6, 4, 3, groups=2)),
        (nn.ConvTranspose3d(4, 8, 2), tnn.ConvTranspose3d(4, 8, 2)),
    ],
    ids=lambda m: type(m).__name__,
)
def test_default_init_uses_torch_fan_in(ours, theirs):
    assert ours.weight.shape == tuple(theirs.weight.shape)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(theirs.weight)
    assert nn.init._calculate_fan_in_and_fan_out(ours.weight) == (fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give this bound
    assert np.abs(ours.weight.data).max() <= bound and np.abs(ours.weight.data).max() > 0.5 * bound
    assert np.abs(ours.bias.data).max() <= bound


def test_conv_errors():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(
        ValueError, match="padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got 'foo'"
    ):
        nn.Conv2d(1, 1, 3, padding_mode="foo")
    with pytest.raises(ValueError, match="padding must be 'valid', 'same'.*got 'full'"):
        nn.Conv1d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        nn.Conv2d(1, 1, (3, 0))
    with pytest.raises(TypeError, match="stride must be an int or a tuple of 3 ints"):
        nn.Conv3d(1, 1, 3, stride=(1, 2))
    with pytest.raises(ValueError, match="groups must be >= 1, got 0"):
        nn.Conv1d(1, 1, 3, groups=0)
    with pytest.raises(ValueError, match='only "zeros" padding mode'):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="expected input .* to have 3 channels"):
        nn.Conv2d(3, 4, 3)(cnnlab.ones(1, 2, 5, 5))
