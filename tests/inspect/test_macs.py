"""True MAC counts per layer type: convolutions against PyTorch's own FLOP counter, the rest by hand."""

import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import cnnlab
from cnnlab import nn
from cnnlab.inspect import MAC_RULES, layer_macs, summary, torchinfo_macs


def torch_macs(module, x):
    """Multiply-adds PyTorch's FlopCounterMode counts for one call (it counts 2 FLOPs each, no bias)."""
    with FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2


def ours(layer, input_shape):
    y = layer(cnnlab.zeros(*input_shape))
    return layer_macs(layer, input_shape, tuple(y.shape)), tuple(y.shape)


CONVS = [
    # (cnnlab layer, torch layer, input shape)
    ("dense", lambda m: m.Conv2d(4, 6, 3, stride=2, padding=1), (2, 4, 9, 9)),
    ("grouped", lambda m: m.Conv2d(6, 9, 3, groups=3, dilation=2), (1, 6, 11, 10)),
    ("depthwise", lambda m: m.Conv2d(8, 8, 3, groups=8, padding=1), (2, 8, 7, 7)),
    ("depthwise-multiplier", lambda m: m.Conv2d(4, 12, 5, groups=4), (1, 4, 9, 9)),
    ("pointwise", lambda m: m.Conv2d(8, 16, 1), (1, 8, 5, 5)),
    ("1d", lambda m: m.Conv1d(3, 5, 4, stride=3), (2, 3, 20)),
    ("3d", lambda m: m.Conv3d(2, 4, (2, 3, 3), groups=2), (1, 2, 4, 6, 6)),
    ("transposed", lambda m: m.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 5)),
    ("transposed-grouped", lambda m: m.ConvTranspose2d(6, 4, 3, stride=2, groups=2), (1, 6, 4, 5)),
    ("transposed-1d", lambda m: m.ConvTranspose1d(3, 2, 5, stride=3, dilation=2), (1, 3, 7)),
    ("transposed-3d", lambda m: m.ConvTranspose3d(2, 2, 2, stride=2), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("make, shape", [c[1:] for c in CONVS], ids=[c[0] for c in CONVS])
def test_convolution_macs_equal_pytorch_flop_counter(make, shape, bias):
    mine, theirs = make(nn), make(torch.nn)
    if not bias:
        mine.bias = theirs.bias = None
    macs, out = ours(mine, shape)
    # PyTorch counts the products; the bias is one more add per output element
    assert macs == torch_macs(theirs, torch.zeros(shape)) + (math.prod(out) if bias else 0)


def test_grouped_and_depthwise_convolutions_cost_groups_times_less():
    dense, _ = ours(nn.Conv2d(8, 8, 3, padding=1), (1, 8, 10, 10))
    grouped, _ = ours(nn.Conv2d(8, 8, 3, padding=1, groups=4), (1, 8, 10, 10))
    depthwise, _ = ours(nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), (1, 8, 10, 10))
    assert dense == 800 * (72 + 1) and grouped == 800 * (18 + 1) and depthwise == 800 * 9


def test_transposed_convolution_multiplies_every_input_by_the_kernel():
    # 2·3·3 inputs, each times 5·2·2 weights, scattered; then one bias add per output (2, 5, 6, 6)
    macs, out = ours(nn.ConvTranspose2d(3, 5, 2, stride=2), (2, 3, 3, 3))
    assert out == (2, 5, 6, 6) and macs == 2 * 3 * 9 * 5 * 4 + 2 * 5 * 36


def test_linear_and_bilinear():
    assert ours(nn.Linear(20, 7), (3, 20))[0] == 3 * 7 * 21
    assert ours(nn.Linear(20, 7, bias=False), (3, 20))[0] == 3 * 7 * 20
    assert layer_macs(nn.Bilinear(4, 5, 3), (2, 4), (2, 3)) == 2 * 3 * (20 + 4 + 1)


@pytest.mark.parametrize(
    "layer, shape, expected",
    [
        (nn.BatchNorm2d(6), (2, 6, 5, 5), 300),  # one multiply-add per element, statistics folded
        (nn.BatchNorm1d(10), (4, 10), 40),
        (nn.GroupNorm(2, 6), (1, 6, 4, 4), 96),
        (nn.LayerNorm(8), (3, 8), 24),
        (nn.InstanceNorm2d(3), (1, 3, 4, 4), 48),
        (nn.AvgPool2d(2), (1, 3, 8, 8), 3 * 16 * 4),  # a window of 4 values is 4 multiply-adds
        (nn.AvgPool2d(3, stride=1, padding=1), (1, 2, 5, 5), 2 * 25 * 9),
        (nn.AvgPool1d(4, stride=2), (2, 3, 10), 2 * 3 * 4 * 4),
        (nn.AdaptiveAvgPool2d(1), (1, 4, 7, 7), 4 * 49),  # global average: every element once
        (nn.AdaptiveAvgPool2d((2, 3)), (1, 1, 5, 7), 3 * 2 * 3 * 3),  # windows 3,3 rows × 3,3,3 cols
        (nn.MaxPool2d(2), (1, 3, 8, 8), 0),
        (nn.AdaptiveMaxPool2d(2), (1, 3, 8, 8), 0),
        (nn.ReLU(), (1, 3, 8, 8), 0),
        (nn.Dropout(0.5), (1, 3, 8, 8), 0),
        (nn.Flatten(), (1, 3, 8, 8), 0),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else None,
)
def test_pooling_normalisation_and_free_layers(layer, shape, expected):
    layer.eval()
    assert ours(layer, shape)[0] == expected


def test_adaptive_average_windows_overlap_as_pytorch_takes_them():
    # 5 -> 3 takes windows [0,2) [1,4) [3,5): 2 + 3 + 2 = 7 elements per channel and row
    assert layer_macs(nn.AdaptiveAvgPool1d(3), (1, 2, 5), (1, 2, 3)) == 2 * 7


def test_a_subclass_uses_its_parents_rule_and_an_unknown_layer_costs_nothing():
    class MyConv(nn.Conv2d):
        pass

    class Custom(nn.Module):
        def forward(self, x):
            return x * 2

    assert MyConv not in MAC_RULES
    assert ours(MyConv(2, 3, 3), (1, 2, 5, 5))[0] == ours(nn.Conv2d(2, 3, 3), (1, 2, 5, 5))[0] == 3 * 9 * 19
    assert ours(Custom(), (1, 2, 5, 5))[0] == 0


def test_torchinfo_convention():
    # convolutions: parameters × output positions; anything else: parameters × batch
    assert torchinfo_macs(nn.Conv2d(3, 4, 3), (2, 3, 6, 6), (2, 4, 4, 4)) == 112 * 2 * 16
    assert torchinfo_macs(nn.ConvTranspose2d(3, 4, 2, stride=2), (1, 3, 3, 3), (1, 4, 6, 6)) == (48 + 4) * 36
    assert torchinfo_macs(nn.BatchNorm2d(6), (5, 6, 4, 4), (5, 6, 4, 4)) == 12 * 5
    assert torchinfo_macs(nn.AvgPool2d(2), (1, 3, 8, 8), (1, 3, 4, 4)) == 0


def test_summary_counts_a_network_of_every_kind():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),  # 8·64·(27+1)  = 14,336
        nn.BatchNorm2d(8),  # 512
        nn.Conv2d(8, 8, 3, padding=1, groups=8),  # 8·64·(9+1) = 5,120
        nn.AvgPool2d(2),  # 8·16·4       = 512
        nn.ConvTranspose2d(8, 4, 2, stride=2),  # 8·16·4·4 + 4·64 = 2,304
        nn.MaxPool2d(2),  # 0
        nn.AdaptiveAvgPool2d(1),  # 4·16         = 64
        nn.Flatten(),
        nn.Linear(4, 2),  # 2·5          = 10
    )
    s = summary(net, (3, 8, 8))
    assert [r["macs"] for r in s.rows] == [14_336, 512, 5_120, 512, 2_304, 0, 64, 0, 10]
    assert s.totals["macs"] == 22_858
