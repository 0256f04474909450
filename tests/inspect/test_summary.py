"""summary(): the totals of the training issue, and parameters and MACs equal to torchinfo's."""

import json

import numpy as np
import pytest
import torch
import torchinfo

import cnnlab
from cnnlab import models, nn
from cnnlab.inspect import summary

# ------------------------------------------------------------------------- torch twins of the models


def to_torch(module):
    """A PyTorch twin of a cnnlab module, built from its attributes. A custom Module becomes a
    Sequential of its children: right for networks whose forward calls the children in order, which
    ``test_twins_compute_what_the_models_compute`` confirms for every registered model."""
    tnn = torch.nn
    name = type(module).__name__
    if isinstance(module, nn.Sequential) or not hasattr(tnn, name):
        return tnn.Sequential(*(to_torch(child) for child in module.children()))
    if isinstance(module, (nn.Conv2d, nn.Conv1d)):
        return getattr(tnn, name)(
            module.in_channels,
            module.out_channels,
            module.kernel_size,
            module.stride,
            module.padding,
            module.dilation,
            module.groups,
            module.bias is not None,
        )
    if isinstance(module, nn.Linear):
        return tnn.Linear(module.in_features, module.out_features, module.bias is not None)
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return getattr(tnn, name)(module.num_features, module.eps, module.momentum)
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        return getattr(tnn, name)(module.kernel_size, module.stride, module.padding)
    if isinstance(module, nn.Dropout):
        return tnn.Dropout(module.p)
    return getattr(tnn, name)()  # ReLU, Flatten: no hyperparameters that matter here


def twin(model):
    theirs = to_torch(model)
    ours_keys = list(model.state_dict())
    theirs_keys = list(theirs.state_dict())
    # a custom Module's children are numbered in the twin ("features.0" -> "0.0"): compare the values
    assert len(ours_keys) == len(theirs_keys)
    theirs.load_state_dict(
        {k: torch.from_numpy(np.array(v.data)) for k, v in zip(theirs_keys, model.state_dict().values())}
    )
    return theirs


MODELS = sorted(models.available_models())


@pytest.mark.parametrize("name", MODELS)
def test_twins_compute_what_the_models_compute(name):
    model = models.get_model(name)
    theirs = twin(model)
    model.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(
        model(cnnlab.tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-4
    )


@pytest.fixture(scope="module")
def torchinfo_stats():
    cache = {}

    def get(name):
        if name not in cache:
            cnnlab.manual_seed(0)
            cache[name] = torchinfo.summary(
                twin(models.get_model(name)), input_size=(1, 1, 28, 28), verbose=0, device="cpu"
            )
        return cache[name]

    return get


# ------------------------------------------------------------------------------------ the totals


def test_lenet5_totals():
    s = summary(models.lenet5(), (1, 28, 28))
    t = s.totals
    assert (t["trainable_params"], t["frozen_params"], t["buffers"]) == (61_706, 0, 0)
    assert t["total_params"] == t["total_with_buffers"] == 61_706
    # conv1 28·28·6·(25+1) + conv2 10·10·16·(150+1) + fc 120·401 + 84·121 + 10·85
    assert t["macs"] == 122_304 + 241_600 + 48_120 + 10_164 + 850 == 423_038
    text = str(s)
    assert "Trainable params: 61,706" in text and "Total MACs: 423,038" in text


def test_fashion_cnn_totals_count_the_running_statistics_as_keras_does():
    s = summary(models.fashion_cnn(), (1, 28, 28))
    t = s.totals
    assert t["trainable_params"] == 1_677_674
    assert t["buffers"] == 1_408  # running mean and variance of 32+32+64+64+512 features; no counters
    assert t["total_params"] == 1_677_674
    assert t["total_with_buffers"] == 1_679_082
    text = str(s)
    assert "Non-trainable running statistics (buffers): 1,408" in text
    assert "Total params with buffers (as Keras counts): 1,679,082" in text


def test_frozen_parameters_are_counted_apart():
    model = models.lenet5()
    for p in model.features.parameters():
        p.requires_grad = False
    t = summary(model, (1, 28, 28)).totals
    assert (t["trainable_params"], t["frozen_params"], t["total_params"]) == (59_134, 2_572, 61_706)


def test_memory_is_input_activations_twice_and_parameters():
    t = summary(models.lenet5(), (1, 28, 28), batch_size=2).totals
    assert t["input_mb"] == pytest.approx(2 * 784 * 4 / 1e6)
    # conv+relu, pool, conv+relu, pool, flatten, fc+relu, fc+relu, fc: every leaf output, per sample
    leaf_outputs = 2 * 6 * 28 * 28 + 6 * 14 * 14 + 2 * 16 * 10 * 10 + 16 * 5 * 5 + 400 + 2 * 120 + 2 * 84 + 10
    assert t["activations_mb"] == pytest.approx(2 * 2 * leaf_outputs * 4 / 1e6)
    assert t["params_mb"] == pytest.approx(61_706 * 4 / 1e6)
    assert t["total_mb"] == pytest.approx(t["input_mb"] + t["activations_mb"] + t["params_mb"])


# ------------------------------------------------------------------------------- rows and depth


def test_rows_follow_the_call_order_with_shapes_params_and_macs():
    s = summary(models.lenet5(), (1, 28, 28))
    assert [r["name"] for r in s.rows][:4] == ["features", "features.0", "features.1", "features.2"]
    conv = s.rows[1]
    assert conv == {
        "name": "features.0",
        "type": "Conv2d",
        "depth": 2,
        "output_shape": [1, 6, 28, 28],
        "params": 156,
        "macs": 122_304,
        "shared": False,
    }
    assert s.rows[0]["macs"] == sum(r["macs"] for r in s.rows if r["name"].startswith("features."))
    assert s.rows[-1]["output_shape"] == [1, 10]


def test_depth_limits_the_rows_but_not_the_totals():
    deep, shallow = (
        summary(models.fashion_cnn(), (1, 28, 28)),
        summary(models.fashion_cnn(), (1, 28, 28), depth=1),
    )
    assert [r["name"] for r in shallow.rows] == ["features", "classifier"]
    assert [r["depth"] for r in deep.rows if r["name"] == "features.0.3"] == [3]
    assert shallow.totals == deep.totals
    assert sum(r["macs"] for r in shallow.rows) == deep.totals["macs"]


def test_the_table_and_the_json_carry_the_same_rows():
    s = summary(models.lenet5(), (1, 28, 28), depth=2)
    data = json.loads(s.to_json())
    assert data["model"] == "LeNet5" and data["input_shape"] == [1, 1, 28, 28]
    assert data["rows"] == s.rows and data["totals"]["trainable_params"] == 61_706
    lines = str(s).splitlines()
    assert lines[0] == "LeNet5, input (1, 1, 28, 28)"
    assert lines[2].split() == ["Layer", "(type)", "Output", "shape", "Param", "#", "MACs"]
    row = next(line for line in lines if line.strip().startswith("0 (Conv2d)"))
    assert row.split()[-2:] == ["156", "122,304"] and "[1, 6, 28, 28]" in row
    relu = next(line for line in lines if line.strip().startswith("1 (ReLU)"))
    assert relu.split()[-2:] == ["--", "--"]


def test_a_shared_module_counts_its_parameters_once_and_its_macs_per_call():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    s = summary(Twice(), (2, 5, 5))
    assert [(r["name"], r["shared"]) for r in s.rows] == [("conv", False), ("conv", True)]
    assert s.totals["total_params"] == 2 * 2 * 9 + 2 == 38
    assert s.totals["macs"] == 2 * (2 * 25 * (18 + 1))
    assert "(shared)" in str(s)


def test_a_single_layer_is_its_own_row():
    s = summary(nn.Conv2d(3, 8, 3, groups=1), (3, 8, 8))
    assert [(r["name"], r["output_shape"], r["params"], r["macs"]) for r in s.rows] == [
        ("Conv2d", [1, 8, 6, 6], 224, 8 * 36 * 28)
    ]


def test_the_model_is_left_as_it_was():
    model = models.fashion_cnn()
    model.train()
    model.features[0][0].eval()
    before = [m.training for m in model.modules()]
    summary(model, (1, 28, 28))
    assert [m.training for m in model.modules()] == before
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_hooks_are_removed_when_the_forward_pass_fails():
    model = models.lenet5()
    with pytest.raises(ValueError):
        summary(model, (1, 32, 32))  # 16·6·6 features reach a Linear(400, 120)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"input_size": (1, 0, 28)},
            "expected input_size to be a tuple of positive ints without the batch "
            "dimension, such as (1, 28, 28), got (1, 0, 28)",
        ),
        ({"input_size": "1,28,28"}, "got '1,28,28'"),
        ({"depth": 0}, "expected depth to be a positive int, got 0"),
        ({"batch_size": 1.5}, "expected batch_size to be a positive int, got 1.5"),
        ({"macs": "fvcore"}, "expected macs to be 'exact' or 'torchinfo', got 'fvcore'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"input_size": (1, 28, 28), **kwargs}
    with pytest.raises(ValueError) as info:
        summary(models.lenet5(), **args)
    assert message in str(info.value) and str(info.value).startswith("summary: ")


def test_a_model_that_is_not_a_module_is_refused():
    with pytest.raises(TypeError, match="summary: expected model to be a cnnlab.nn.Module, got function"):
        summary(models.lenet5, (1, 28, 28))


# ------------------------------------------------------------------------------------- torchinfo


@pytest.mark.parametrize("name", MODELS)
def test_parameters_equal_torchinfo(name, torchinfo_stats):
    stats = torchinfo_stats(name)
    t = summary(models.get_model(name), (1, 28, 28)).totals
    assert t["total_params"] == stats.total_params
    assert t["trainable_params"] == stats.trainable_params


@pytest.mark.parametrize("name", MODELS)
def test_macs_equal_torchinfo_layer_by_layer(name, torchinfo_stats):
    stats = torchinfo_stats(name)
    theirs = [(layer.class_name, layer.macs) for layer in stats.summary_list if layer.is_leaf_layer]
    s = summary(models.get_model(name), (1, 28, 28), macs="torchinfo")
    ours = [(r["type"], r["macs"]) for r in s.rows if r["type"] != "Sequential"]  # the leaf layers
    assert ours == theirs
    assert s.totals["macs"] == stats.total_mult_adds
    # the exact count agrees with torchinfo wherever torchinfo's is the true one: convolutions and
    # linear layers (it counts normalisation as 2·C per sample, the exact count is one per element)
    exact = summary(models.get_model(name), (1, 28, 28))
    for row, (kind, macs) in zip((r for r in exact.rows if r["type"] != "Sequential"), theirs):
        if kind in ("Conv2d", "Linear", "ReLU", "MaxPool2d", "Flatten", "Dropout"):
            assert row["macs"] == macs, row


def test_exact_and_torchinfo_counts_differ_only_in_normalisation():
    exact = summary(models.fashion_cnn(), (1, 28, 28)).totals["macs"]
    like_torchinfo = summary(models.fashion_cnn(), (1, 28, 28), macs="torchinfo").totals["macs"]
    # BatchNorm: torchinfo counts 2·C, the exact count one multiply-add per element
    elements = 2 * 32 * 28 * 28 + 2 * 64 * 14 * 14 + 512
    assert exact - like_torchinfo == elements - 2 * (32 + 32 + 64 + 64 + 512)
