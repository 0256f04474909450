"""shape() and layer_shape(): the output-size formula with its numbers, the costs, the dense comparison."""

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnnlab
from cnnlab import nn
from cnnlab.inspect import OPS, layer_shape, shape
from cnnlab.nn import functional as F


def test_conv2d_formula_with_the_numbers_filled_in():
    r = shape("conv2d", (1, 7, 7), 3, stride=2)
    assert r.input_shape == (1, 1, 7, 7) and r.output_shape == (1, 1, 3, 3)
    assert r.formulas == [
        "H: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((7 + 2·0 - 1·(3-1) - 1)/2) + 1 = floor(4/2) + 1 = 3",
        "W: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((7 + 2·0 - 1·(3-1) - 1)/2) + 1 = floor(4/2) + 1 = 3",
    ]
    assert (r.params, r.macs) == (10, 9 * 10)


def test_why_convolutions_exist():
    r = shape("conv2d", (16, 64, 64), 3, out_channels=32, padding="same")
    assert r.output_shape == (1, 32, 64, 64)
    assert r.params == 32 * 16 * 9 + 32 == 4_640
    # every one of the 16·64·64 inputs to every one of the 32·64·64 outputs, plus a bias each
    assert r.dense_params == 131_072 * (65_536 + 1) == 8_590_065_664
    assert r.macs == 32 * 64 * 64 * (16 * 9 + 1) == 19_005_440
    text = str(r)
    assert "parameters: 4,640   MACs: 19,005,440" in text
    assert (
        "a fully connected layer from the same 65,536 inputs to the same 131,072 outputs: "
        "8,590,065,664 parameters, 8,590,065,664 MACs"
    ) in text
    assert "(1,851,307× the parameters of conv2d)" in text


def test_asymmetric_same_padding_and_dilation_are_written_out():
    r = shape("conv1d", (2, 10), 4, padding="same", dilation=2)
    # total padding d(k-1) = 6, split 3 + 3
    assert r.formulas == [
        "L: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((10 + 2·3 - 2·(4-1) - 1)/1) + 1 = floor(9/1) + 1 = 10"
    ]
    r = shape("conv1d", (1, 10), 2, padding="same")  # one pad: PyTorch puts it after
    assert "floor((10 + 0 + 1 - 1·(2-1) - 1)/1) + 1 = floor(9/1) + 1 = 10" in r.formulas[0]


def test_transposed_convolution_formula():
    r = shape("conv_transpose2d", (8, 7, 7), 3, stride=2, padding=1, output_padding=1)
    assert r.output_shape == (1, 8, 14, 14)
    assert r.formulas[0] == (
        "H: (n - 1)s - 2p + d(k-1) + output_padding + 1 = (7 - 1)·2 - 2·1 + 1·(3-1) + 1 + 1 = 14"
    )
    assert r.params == 8 * 8 * 9 + 8
    assert r.macs == 8 * 49 * 8 * 9 + 8 * 196  # each input times the kernel, plus the bias per output


def test_pooling_formula_default_stride_and_ceil_mode():
    r = shape("max_pool2d", (6, 28, 28), 2)
    assert r.output_shape == (1, 6, 14, 14) and (r.params, r.macs) == (0, 0)
    assert (
        r.formulas[1] == "W: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((28 + 2·0 - 1·(2-1) - 1)/2) + 1 = "
        "floor(26/2) + 1 = 14"
    )
    r = shape("avg_pool1d", (1, 6), 2, stride=2, padding=1, ceil_mode=True)
    # ceil((6 + 2 - 1 - 1)/2) + 1 = 4, but the 4th window would start at 6 + 1 - 1 = in the right padding
    assert r.output_shape == (1, 1, 4)
    r = shape("avg_pool1d", (1, 5), 2, stride=2, padding=1, ceil_mode=True)
    assert r.formulas == [
        "L: ceil((n + 2p - d(k-1) - 1)/s) + 1 = ceil((5 + 2·1 - 1·(2-1) - 1)/2) + 1 = ceil(5/2) "
        "+ 1 = 4, less the last window, which would start in the right padding: 3"
    ]
    assert r.output_shape == (1, 1, 3) and r.macs == 3 * 2


@settings(max_examples=60, deadline=None)
@given(
    op=st.sampled_from(["conv", "max_pool", "avg_pool", "conv_transpose"]),
    nd=st.integers(1, 2),
    n=st.integers(4, 9),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 1),
    d=st.integers(1, 2),
    ceil=st.booleans(),
)
def test_the_shape_is_what_the_op_produces(op, nd, n, k, s, p, d, ceil):
    if op.endswith("pool") and p > k // 2:
        p = 0
    if op == "avg_pool":
        d = 1
    assume(op == "conv_transpose" or d * (k - 1) + 1 <= n + 2 * p)  # the (dilated) kernel fits
    x = cnnlab.zeros(*((1, 2) + (n,) * nd))
    name = f"{op}{nd}d"
    if op == "conv":
        y = getattr(F, name)(x, cnnlab.zeros(3, 2, *(k,) * nd), None, s, p, d)
        r = shape(name, x.shape, k, out_channels=3, stride=s, padding=p, dilation=d)
    elif op == "conv_transpose":
        y = getattr(F, name)(x, cnnlab.zeros(2, 3, *(k,) * nd), None, s, p, 0, 1, d)
        r = shape(name, x.shape, k, out_channels=3, stride=s, padding=p, dilation=d)
    else:
        if op == "max_pool":
            y = getattr(F, name)(x, k, s, p, d, ceil_mode=ceil)
        else:
            y = getattr(F, name)(x, k, s, p, ceil)
        r = shape(name, x.shape, k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    assert r.output_shape == tuple(y.shape)
    assert [f.rsplit(" ", 1)[-1] for f in r.formulas] == [str(v) for v in y.shape[2:]]


@pytest.mark.parametrize(
    "layer, input_shape",
    [
        (nn.Conv2d(16, 32, 3, padding="same"), (16, 64, 64)),
        (nn.Conv2d(4, 8, (3, 5), stride=(2, 1), groups=2, bias=False), (4, 9, 11)),
        (nn.ConvTranspose1d(3, 6, 4, stride=2, padding=1), (3, 10)),
        (nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 9, 9)),
        (nn.AvgPool2d(2), (3, 8, 8)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else None,
)
def test_layer_shape_reads_the_hyperparameters_of_a_layer(layer, input_shape):
    r = layer_shape(layer, input_shape)
    y = layer(cnnlab.zeros(1, *input_shape))
    assert r.output_shape == tuple(y.shape)
    assert r.params == sum(p.numel() for p in layer.parameters())


def test_layer_shape_runs_any_other_layer_once():
    r = layer_shape(nn.Linear(400, 120), (400,))
    assert (r.op, r.output_shape, r.params, r.macs, r.formulas) == ("Linear", (1, 120), 48_120, 48_120, [])
    r = layer_shape(nn.BatchNorm2d(6), (6, 4, 4))
    assert (r.output_shape, r.params, r.macs) == ((1, 6, 4, 4), 12, 96)


def test_to_dict_is_json():
    data = json.loads(json.dumps(shape("conv2d", (3, 5, 5), 3).to_dict()))
    assert data["output_shape"] == [1, 3, 3, 3] and data["params"] == 84 and len(data["formulas"]) == 2


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: shape("conv4d", (1, 5, 5), 3),
            ValueError,
            "shape: unknown op 'conv4d'; expected one of conv1d, conv2d, conv3d, conv_transpose1d",
        ),
        (
            lambda: shape("conv2d", (1, 5), 3),
            ValueError,
            "conv2d: expected input_shape (C, H, W) or (N, C, H, W), got (1, 5)",
        ),
        (
            lambda: shape("conv2d", (1, -5, 5), 3),
            ValueError,
            "shape: expected input_shape to be a tuple of ints >= 1, got (1, -5, 5)",
        ),
        (
            lambda: shape("conv2d", (1, 3, 3), 5),
            ValueError,
            "kernel size can't be greater than the actual input size",
        ),
        (
            lambda: shape("conv2d", (3, 8, 8), 3, out_channels=4, groups=2),
            ValueError,
            "conv2d: in_channels (3) and out_channels (4) must be divisible by groups (2)",
        ),
        (
            lambda: shape("conv_transpose2d", (4, 8, 8), 3, out_channels=6, groups=4),
            ValueError,
            "conv_transpose2d: in_channels (4) and out_channels (6) must be divisible by groups (4)",
        ),
        (lambda: shape("conv2d", (3, 8, 8), 3, stride=0), ValueError, "stride"),
        (
            lambda: shape("max_pool2d", (1, 8, 8), 2, padding=2),
            ValueError,
            "max_pool2d: pad should be at most half of the kernel size, got padding=(2, 2), kernel_size=(2, 2)",
        ),
        (
            lambda: shape("avg_pool2d", (1, 8, 8), 2, dilation=2),
            ValueError,
            "avg_pool2d: average pooling has no dilation, got dilation=(2, 2)",
        ),
        (
            lambda: shape("conv_transpose1d", (1, 5), 3, stride=2, output_padding=2),
            ValueError,
            "conv_transpose1d: output_padding must be smaller than either stride or dilation",
        ),
        (
            lambda: shape("conv_transpose1d", (1, 1), 1, padding=1),
            ValueError,
            "conv_transpose1d: the output size along L would be -1, for input shape (1, 1, 1)",
        ),
        (
            lambda: layer_shape(nn.Conv2d(3, 4, 3), (1, 8, 8)),
            ValueError,
            "Conv2d: expected input_shape (3, H, W) with 3 channels, got (1, 8, 8)",
        ),
        (
            lambda: layer_shape("conv", (1, 8, 8)),
            TypeError,
            "layer_shape: expected a cnnlab.nn.Module, got str",
        ),
    ],
)
def test_errors_say_what_was_expected_and_what_was_received(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_ops_lists_every_family_and_dimension():
    assert len(OPS) == 12 and "conv_transpose3d" in OPS and "avg_pool1d" in OPS
