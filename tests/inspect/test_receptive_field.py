"""Receptive fields, checked against what a unit really depends on: the non-zero region of the gradient of
that unit with respect to the input, on sequential and branching (residual, inception) networks."""

import json

import numpy as np
import pytest

import cnnlab
from cnnlab import models, nn
from cnnlab.inspect import receptive_field, receptive_field_for_unit
from cnnlab.nn import functional as F


def positive(model):
    """Positive weights, eval mode, average instead of max pooling (the same windows), so that no
    ReLU is off and no max hides part of a window: the gradient is then non-zero on the whole field."""
    for module in model.modules():
        for name, child in list(module._modules.items()):
            if isinstance(child, nn.MaxPool2d):
                module._modules[name] = nn.AvgPool2d(
                    child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode
                )
    rng = np.random.default_rng(0)
    for p in model.parameters():
        p.data[...] = rng.uniform(0.5, 1.5, p.shape).astype(p.dtype)
    return model.eval()


def gradient_region(model, input_size, layer, position):
    """Index ranges of the non-zero input gradient of output unit ``position`` (channel 0) of ``layer``."""
    outputs = {}
    target = dict(model.named_modules())[layer]
    handle = target.register_forward_hook(lambda m, args, out: outputs.setdefault("y", out))
    x = cnnlab.tensor(
        np.random.default_rng(1).uniform(0.5, 1.5, (1, *input_size)).astype(np.float32), requires_grad=True
    )
    try:
        model(x)
    finally:
        handle.remove()
    y = outputs["y"]
    y[(0, slice(None), *position)].sum().backward()  # every channel: a concatenation mixes branches
    nonzero = np.nonzero(np.abs(x.grad.data[0]).sum(axis=0))
    return tuple(range(int(a.min()), int(a.max()) + 1) for a in nonzero)


def check_units_of(model, input_size, layers, every=False):
    """Every unit (``every``), or the corners, the centre and one unit between, of each layer."""
    table = receptive_field(model, input_size)
    for layer in layers:
        size = table[layer].output_size
        if every:
            positions = list(np.ndindex(*size))
        else:
            picks = [sorted({0, n // 3, n // 2, n - 1}) for n in size]
            positions = [tuple(p[i % len(p)] for p in picks) for i in range(4)] + [
                (0,) * len(size),
                tuple(n - 1 for n in size),
            ]
        for position in positions:
            expected = gradient_region(model, input_size, layer, position)
            assert receptive_field_for_unit(model, input_size, layer, position) == expected, (layer, position)


# ----------------------------------------------------------------------------------- sequential


def test_lenet5_fields_layer_by_layer():
    rf = receptive_field(models.lenet5(), (1, 28, 28))
    table = {r.name: (r.output_size, r.jump, r.rf, r.start) for r in rf.rows}
    assert table["features.0"] == ((28, 28), (1, 1), (5, 5), (0, 0))  # padding 2: unit 0 centred on pixel 0
    assert table["features.2"] == ((14, 14), (2, 2), (6, 6), (0.5, 0.5))
    assert table["features.3"] == ((10, 10), (2, 2), (14, 14), (4.5, 4.5))
    assert table["features.5"] == ((5, 5), (4, 4), (16, 16), (5.5, 5.5))
    assert rf["classifier.1"].is_global and rf["classifier.1"].output_size == ()


def test_lenet5_units_see_what_their_gradient_says():
    model = positive(models.lenet5())
    check_units_of(model, (1, 28, 28), ["features.0", "features.3", "features.5"])
    # a unit at the border: its field is clipped to the image
    assert receptive_field_for_unit(model, (1, 28, 28), "features.3", (0, 9)) == (range(12), range(16, 28))


def test_the_real_lenet5_with_max_pooling_depends_on_no_pixel_outside_the_field():
    model = models.lenet5().eval()
    for position in [(0, 0), (2, 3), (4, 4)]:
        region = receptive_field_for_unit(model, (1, 28, 28), "features.5", position)
        seen = gradient_region(model, (1, 28, 28), "features.5", position)
        assert all(s.start >= r.start and s.stop <= r.stop for s, r in zip(seen, region))


def test_fashion_cnn_blocks_and_batch_norm():
    model = positive(models.fashion_cnn())
    rf = receptive_field(model, (1, 28, 28))
    assert (rf["features.0"].rf, rf["features.0"].jump) == ((6, 6), (2, 2))  # 3, 5, then the pool: 6
    assert (rf["features.1"].rf, rf["features.1"].jump, rf["features.1"].output_size) == (
        (16, 16),
        (4, 4),
        (7, 7),
    )
    check_units_of(model, (1, 28, 28), ["features.0.3", "features.1"])


def test_strides_dilations_and_rectangular_kernels():
    model = positive(
        nn.Sequential(
            nn.Conv2d(1, 2, (3, 1), stride=(1, 2), padding=(1, 0)),
            nn.ReLU(),
            nn.Conv2d(2, 2, 3, dilation=2, padding=1),
            nn.AvgPool2d(2, stride=1),
            nn.Conv2d(2, 1, (1, 3), stride=2),
        )
    )
    rf = receptive_field(model, (1, 17, 19))
    assert rf["2"].rf == (7, 9) and rf["2"].jump == (1, 2)
    check_units_of(model, (1, 17, 19), ["0", "2", "3", "4"], every=True)


def test_one_dimensional_networks():
    model = nn.Sequential(nn.Conv1d(1, 2, 5, stride=2), nn.ReLU(), nn.Conv1d(2, 1, 3, dilation=3))
    rf = receptive_field(model, (1, 40))
    assert (rf["2"].rf, rf["2"].jump, rf["2"].start) == ((17,), (2,), (8,))
    assert receptive_field_for_unit(model, (1, 40), "2", (3,)) == (range(6, 23),)


# ---------------------------------------------------------------------------------- branching


class Residual(nn.Module):
    """x + conv(relu(conv(x))), with a strided 1×1 shortcut when the shape changes."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        skip = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.conv2(self.relu(self.conv1(x))) + skip)


class Inception(nn.Module):
    """Branches of 1×1, 3×3, 5×5 and pool-then-1×1, concatenated over channels."""

    def __init__(self, cin):
        super().__init__()
        self.b1 = nn.Conv2d(cin, 2, 1)
        self.b3 = nn.Conv2d(cin, 2, 3, padding=1)
        self.b5 = nn.Conv2d(cin, 2, 5, padding=2)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.bp = nn.Conv2d(cin, 2, 1)

    def forward(self, x):
        return cnnlab.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(self.pool(x))], dim=1)


def resnet():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), Residual(4, 4), Residual(4, 8, stride=2), Residual(8, 8)
    )


def test_residual_network_fields():
    rf = receptive_field(resnet(), (1, 16, 16))
    # the longest path wins: stem 3, then +4 per block at jump 1, +2+4 through the strided block …
    assert [(r.name, r.rf[0], r.jump[0]) for r in rf.rows if r.name in ("0", "1", "2", "3")] == [
        ("0", 3, 1),
        ("1", 7, 1),
        ("2", 13, 2),
        ("3", 21, 2),
    ]


def test_residual_network_units_see_what_their_gradient_says():
    model = positive(resnet())
    check_units_of(model, (1, 16, 16), ["1", "2.conv1", "2", "3"])


def test_a_residual_block_with_an_identity_shortcut_keeps_the_longer_path():
    model = positive(nn.Sequential(Residual(1, 1)))
    assert receptive_field_for_unit(model, (1, 9, 9), "0", (4, 4)) == (range(2, 7), range(2, 7))
    assert gradient_region(model, (1, 9, 9), "0", (4, 4)) == (range(2, 7), range(2, 7))


def test_inception_takes_the_largest_branch():
    model = positive(nn.Sequential(nn.Conv2d(1, 3, 3, stride=2), Inception(3), nn.Conv2d(8, 1, 3)))
    rf = receptive_field(model, (1, 21, 21))
    assert rf["1"].rf == (11, 11)  # 3, then the 5×5 branch at jump 2
    check_units_of(model, (1, 21, 21), ["1", "2"], every=True)


def test_functional_convolutions_inside_forward_are_followed():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(cnnlab.ones(1, 1, 3, 3))

        def forward(self, x):
            y = F.conv2d(x, self.w, stride=2)
            return F.avg_pool2d(F.relu(y), 2) + 0

    model = Functional()
    region = receptive_field_for_unit(model, (1, 15, 15), "", (1, 2))
    # pool rows 2-3, cols 4-5 of the convolution; those read input rows 4..8, cols 8..12
    assert region == (range(4, 9), range(8, 13))
    assert gradient_region_root(model, (1, 15, 15), (1, 2)) == region


def gradient_region_root(model, input_size, position):
    x = cnnlab.tensor(np.ones((1, *input_size), dtype=np.float32), requires_grad=True)
    model(x)[(0, 0, *position)].backward()
    nonzero = np.nonzero(x.grad.data[0, 0])
    return tuple(range(int(a.min()), int(a.max()) + 1) for a in nonzero)


# ------------------------------------------------------------------------------ table and errors


def test_table_and_json():
    rf = receptive_field(models.lenet5(), (1, 28, 28))
    lines = str(rf).splitlines()
    assert lines[0] == "LeNet5, input (1, 28, 28)"
    assert lines[1].split() == ["layer", "(type)", "output", "jump", "receptive", "field", "start"]
    assert next(line for line in lines if line.startswith("features.3 ")).split() == [
        "features.3",
        "(Conv2d)",
        "10×10",
        "2×2",
        "14×14",
        "4.5×4.5",
    ]
    assert next(line for line in lines if line.startswith("classifier.5 ")).split()[-3:] == [
        "whole",
        "input",
        "-",
    ]
    data = json.loads(json.dumps(rf.to_dict()))
    assert data["rows"][0] == {
        "name": "features.0",
        "type": "Conv2d",
        "output_size": [28, 28],
        "jump": [1, 1],
        "rf": [5, 5],
        "start": [0, 0],
        "global": False,
    }


def test_the_model_is_left_as_it_was():
    model = models.fashion_cnn().train()
    receptive_field(model, (1, 28, 28))
    receptive_field_for_unit(model, (1, 28, 28), "features.1", (3, 3))
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: receptive_field(models.lenet5(), (28, 28, 1, 1, 1)),
            "receptive_field: expected input_size (C, H, W) (or (C, L), (C, D, H, W)) of positive ints",
        ),
        (
            lambda: receptive_field_for_unit(models.lenet5(), (1, 28, 28), "features.9", (0, 0)),
            "receptive_field_for_unit: unknown layer 'features.9'; layers: features.0, features.1,",
        ),
        (
            lambda: receptive_field_for_unit(models.lenet5(), (1, 28, 28), "features.3", (10, 0)),
            "position (10, 0) is outside layer 'features.3''s output map of size (10, 10)",
        ),
        (
            lambda: receptive_field_for_unit(models.lenet5(), (1, 28, 28), "features.3", (1,)),
            "receptive_field_for_unit: expected position to be 2 ints, got (1,)",
        ),
        (
            lambda: receptive_field(nn.Sequential(nn.ConvTranspose2d(1, 1, 2)), (1, 8, 8)),
            "receptive_field: transposed convolutions (ConvTranspose2d) are not supported",
        ),
        (
            lambda: receptive_field(nn.Sequential(nn.Upsample(scale_factor=2)), (1, 8, 8)),
            "layer '0' (Upsample) changes the spatial size from (8, 8) to (16, 16) and has no receptive-field rule",
        ),
        (lambda: receptive_field(models.lenet5(), (1, 28, 28))["features.9"], "no layer named 'features.9'"),
    ],
)
def test_errors_name_what_is_wrong(call, message):
    with pytest.raises((ValueError, KeyError)) as info:
        call()
    assert message in str(info.value)


def test_a_model_that_is_not_a_module_is_refused():
    with pytest.raises(
        TypeError, match="receptive_field: expected model to be a cnnlab.nn.Module, got function"
    ):
        receptive_field(models.lenet5, (1, 28, 28))
