"""Module mechanics: registration, iteration, state_dict / load_state_dict, modes, dtype, hooks, repr."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as tnn

import cnnlab
from cnnlab import nn


def _pair(build):
    """The same model built from cnnlab.nn and from torch.nn."""
    return build(nn), build(tnn)


def _nested(lib):
    return lib.Sequential(
        OrderedDict(
            features=lib.Sequential(lib.Conv2d(3, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU()),
            blocks=lib.ModuleList([lib.Linear(4, 4), lib.BatchNorm1d(4), lib.Linear(4, 4, bias=False)]),
            heads=lib.ModuleDict({"cls": lib.Linear(4, 10), "norm": lib.LayerNorm(10)}),
        )
    )


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("scale", cnnlab.ones(2))
        self.register_buffer("cache", cnnlab.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


# --------------------------------------------------------------------------------------------------
# registration


def test_setattr_registers_parameters_modules_and_buffers():
    net = Net()
    assert list(net._parameters) == []
    assert list(net._modules) == ["fc"]
    assert list(net._buffers) == ["scale", "cache"]
    assert [n for n, _ in net.named_parameters()] == ["fc.weight", "fc.bias"]
    assert [n for n, _ in net.named_buffers()] == ["scale", "cache"]
    net.w = nn.Parameter(cnnlab.zeros(1))
    assert "w" in net._parameters and net.w is net._parameters["w"]
    net.scale = cnnlab.full((2,), 3.0)  # assigning to a buffer name updates the buffer
    assert net._buffers["scale"].tolist() == [3.0, 3.0]
    del net.w
    assert "w" not in net._parameters
    with pytest.raises(AttributeError, match="no attribute 'w'"):
        net.w
    assert "fc" in dir(net) and "scale" in dir(net)


def test_assigning_a_plain_tensor_to_a_parameter_name_raises():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = cnnlab.zeros(2, 2)
    layer.bias = None
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]


def _attributes_agree(module):
    """Every registered name is the same object as an attribute (found without __getattr__), and no
    attribute is left over from an entry that is gone."""
    for m in module.modules():
        for registry in (m._parameters, m._buffers, m._modules):
            for name, value in registry.items():
                assert m.__dict__[name] is value, name


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s._modules.__setitem__("1", nn.Tanh()),
        lambda s: s._modules.pop("1"),
        lambda s: s._modules.pop("9", None),
        lambda s: s._modules.popitem(),
        lambda s: s._modules.clear(),
        lambda s: s._modules.setdefault("7", nn.Tanh()),
        lambda s: s._modules.update({"1": nn.Tanh()}, extra=nn.Tanh()),
        lambda s: s._modules.__ior__({"1": nn.Tanh()}),
        lambda s: s._modules.__delitem__("0"),
        lambda s: s.__delitem__(0),  # Sequential renumbers its children
        lambda s: s.append(nn.Tanh()),
        lambda s: setattr(s, "1", nn.Tanh()),
        lambda s: delattr(s, "1"),
        lambda s: setattr(s[0], "weight", nn.Parameter(cnnlab.zeros(2, 2))),
        lambda s: setattr(s[0], "bias", None),
        lambda s: s[0]._parameters.pop("bias"),
        lambda s: s[0].register_buffer("bias_scale", cnnlab.ones(2)),
    ],
)
def test_registered_entries_are_plain_attributes_whatever_changes_them(change):
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    before = {name: getattr(seq, name) for name in seq._modules}
    change(seq)
    _attributes_agree(seq)
    for name in before.keys() - seq._modules.keys():  # gone from the registry, gone as an attribute
        assert name not in seq.__dict__
        with pytest.raises(AttributeError, match=f"no attribute '{name}'"):
            getattr(seq, name)


def test_a_copy_of_a_registry_is_a_plain_mapping_that_leaves_the_module_alone():
    layer = nn.Linear(2, 2)
    weight = layer.weight
    for other in (layer._parameters.copy(), layer._parameters | {}, {} | layer._parameters):
        assert type(other) is OrderedDict and list(other) == ["weight", "bias"]
        other["weight"] = nn.Parameter(cnnlab.zeros(2, 2))
        other.pop("bias")
        assert layer.weight is weight and layer._parameters["weight"] is weight and layer.bias is not None
    _attributes_agree(layer)


def test_registered_entries_stay_plain_attributes_in_copies():
    import copy

    net = Net()
    for twin in (copy.deepcopy(net), copy.copy(net)):
        _attributes_agree(twin)
        twin.fc = nn.Linear(3, 2)  # the copy's own registry: the original keeps its layer
        assert twin.fc is twin._modules["fc"] and net.fc is net._modules["fc"] and net.fc is not twin.fc
        _attributes_agree(net)
    deep = copy.deepcopy(net)
    assert deep.fc.weight is not net.fc.weight and np.array_equal(deep.fc.weight.data, net.fc.weight.data)
    assert deep.fc.weight is deep.fc._parameters["weight"]


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match=r'contain "\."'):
        m.register_buffer("a.b", cnnlab.zeros(1))
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("p", cnnlab.zeros(1))
    with pytest.raises(TypeError, match="is not a Module"):
        m.add_module("x", 3)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("train", cnnlab.zeros(1))

    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_shared_parameters_and_modules_are_yielded_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]  # as PyTorch: not deduplicated
    tied = tnn.Sequential(tnn.Linear(2, 2), tnn.ReLU())
    tied.append(tied[0])
    assert list(tied.state_dict()) == list(model.state_dict())


def test_children_modules_and_prefix():
    ours, theirs = _pair(_nested)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters(prefix="model")] == [
        n for n, _ in theirs.named_parameters(prefix="model")
    ]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == []
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert ours.get_submodule("heads.cls") is ours.heads["cls"]


# --------------------------------------------------------------------------------------------------
# state_dict


def test_state_dict_keys_equal_torch_for_nested_containers():
    ours, theirs = _pair(_nested)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert a.shape == tuple(b.shape), k
        assert a.dtype == b.numpy().dtype, k  # float32 parameters, int64 num_batches_tracked


def test_state_dict_shares_data_and_is_detached():
    layer = nn.Linear(2, 2)
    sd = layer.state_dict()
    assert not sd["weight"].requires_grad
    assert sd["weight"].data is layer.weight.data
    net = Net()
    assert list(net.state_dict()) == [
        "scale",
        "fc.weight",
        "fc.bias",
    ]  # own entries first, non-persistent out


def test_load_state_dict_from_torch_copies_in_place():
    ours, theirs = _pair(_nested)
    weight = ours.features[0].weight
    array = weight.data
    result = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert ours.features[0].weight is weight and weight.data is array  # same Parameter, same array
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.numpy(), err_msg=k)


def test_load_state_dict_accepts_tensors_and_keeps_dtype():
    src, dst = nn.Linear(3, 2), nn.Linear(3, 2).double()
    dst.load_state_dict(src.state_dict())
    assert dst.weight.dtype == np.float64
    np.testing.assert_allclose(dst.weight.data, src.weight.data)


def test_load_state_dict_strict_errors_use_torch_wording():
    model = nn.Sequential(nn.Linear(2, 4))
    bad = {"0.weight": np.zeros((3, 2), np.float32), "0.bias": np.zeros(4, np.float32), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tUnexpected key(s) in state_dict: "extra". \n'
        "\tsize mismatch for 0.weight: copying a param with shape (3, 2) from checkpoint, "
        "the shape in current model is (4, 2)."
    )
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.weight". '):
        model.load_state_dict({"0.bias": np.zeros(4)})
    # torch words the same situation the same way (up to its torch.Size spelling)
    with pytest.raises(
        RuntimeError,
        match=r"Error\(s\) in loading state_dict for Sequential:\n\tMissing key\(s\) in "
        r'state_dict: "0.weight". ',
    ):
        tnn.Sequential(tnn.Linear(2, 4)).load_state_dict({"0.bias": torch.zeros(4)})


def test_load_state_dict_non_strict_reports_keys():
    model = nn.Sequential(nn.Linear(2, 4))
    result = model.load_state_dict({"0.bias": np.ones(4), "other": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.weight"] and result.unexpected_keys == ["other"]
    assert model[0].bias.tolist() == [1.0] * 4
    with pytest.raises(RuntimeError, match="size mismatch for 0.bias"):
        model.load_state_dict({"0.bias": np.ones(5)}, strict=False)  # a size mismatch always raises


def test_batchnorm_loads_without_num_batches_tracked():
    bn = nn.BatchNorm1d(3)
    sd = {k: v for k, v in nn.BatchNorm1d(3).state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd).missing_keys == []


# --------------------------------------------------------------------------------------------------
# modes, gradients, dtype, apply


def test_train_eval_recursive():
    ours, _ = _pair(_nested)
    assert all(m.training for m in ours.modules())
    assert ours.eval() is ours
    assert not any(m.training for m in ours.modules())
    ours.heads.train()
    assert ours.heads["cls"].training and not ours.features.training
    with pytest.raises(ValueError, match="boolean"):
        ours.train("yes")


def test_requires_grad_and_zero_grad():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model(cnnlab.ones(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_to_dtype_keeps_parameter_objects_and_casts_floating_buffers():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    params = list(model.parameters())
    assert model.double() is model
    assert list(model.parameters())[0] is params[0]
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    assert model[0](cnnlab.ones(4, 3, dtype=cnnlab.float64)).dtype == np.float64
    model.to(cnnlab.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.to("cpu") is model
    with pytest.raises(ValueError, match="CPU only"):
        model.to("cuda")


def test_dtype_factory_kwarg():
    assert nn.Linear(2, 3, dtype=cnnlab.float64).weight.dtype == np.float64
    assert nn.Conv2d(1, 1, 3, dtype=np.float64).bias.dtype == np.float64
    assert nn.BatchNorm2d(2, dtype=np.float64).running_var.dtype == np.float64
    assert nn.Linear(2, 3).weight.dtype == np.float32


def test_apply_visits_children_first():
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


# --------------------------------------------------------------------------------------------------
# hooks


def test_forward_hooks_and_removal():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(("post", out.shape)))
    layer(cnnlab.ones(5, 2))
    assert calls == [("pre", (5, 2)), ("post", (5, 2))]
    pre.remove()
    post.remove()
    layer(cnnlab.ones(5, 2))
    assert len(calls) == 2


def test_hooks_can_replace_input_and_output():
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    handle = layer.register_forward_hook(lambda m, args, out: out + 1)
    assert layer(cnnlab.ones(1)).tolist() == [3.0]
    handle.remove()
    assert layer(cnnlab.ones(1)).tolist() == [2.0]


def test_missing_forward():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


# --------------------------------------------------------------------------------------------------
# repr


def _representative(lib):
    return lib.Sequential(
        OrderedDict(
            stem=lib.Sequential(
                lib.Conv2d(3, 16, 3, stride=2, padding=1, bias=False),
                lib.BatchNorm2d(16, momentum=None),
                lib.ReLU(inplace=True),
                lib.Conv2d(16, 16, (3, 5), padding="same", dilation=(1, 2), groups=4, padding_mode="reflect"),
                lib.MaxPool2d(2, ceil_mode=True),
            ),
            blocks=lib.ModuleList(
                [lib.Linear(8, 8), lib.Linear(8, 8), lib.GELU(approximate="tanh"), lib.Linear(8, 8)]
            ),
            heads=lib.ModuleDict({"cls": lib.Linear(8, 10), "drop": lib.Dropout(0.25)}),
            up=lib.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
            c1=lib.Conv1d(2, 4, 3, padding="valid"),
            c3=lib.Conv3d(2, 4, 3, padding=1, padding_mode="circular"),
            pools=lib.Sequential(
                lib.AvgPool1d(3),
                lib.AvgPool2d(2, stride=1),
                lib.AdaptiveAvgPool2d((1, 1)),
                lib.AdaptiveMaxPool1d(4),
                lib.MaxPool1d(3, 2, 1),
            ),
            pads=lib.Sequential(
                lib.ZeroPad2d(1),
                lib.ConstantPad1d((1, 2), 3.5),
                lib.ReflectionPad2d((1, 1, 2, 0)),
                lib.ReplicationPad3d(2),
                lib.CircularPad1d(1),
            ),
            acts=lib.Sequential(
                lib.ReLU6(),
                lib.LeakyReLU(0.2),
                lib.ELU(alpha=0.5, inplace=True),
                lib.SiLU(),
                lib.Hardswish(),
                lib.Hardsigmoid(),
                lib.Hardtanh(-2.0, 2.0),
                lib.Softplus(beta=2.0),
                lib.Mish(),
                lib.Sigmoid(),
                lib.Tanh(),
                lib.Softmax(dim=1),
                lib.LogSoftmax(dim=-1),
                lib.Softmin(dim=0),
            ),
            norms=lib.Sequential(
                lib.BatchNorm1d(4, affine=False),
                lib.InstanceNorm2d(3),
                lib.LayerNorm([4, 5], eps=1e-6),
                lib.GroupNorm(2, 4),
                lib.LocalResponseNorm(3),
            ),
            misc=lib.Sequential(
                lib.Flatten(),
                lib.Unflatten(1, (2, 4)),
                lib.Identity(),
                lib.Bilinear(2, 3, 4),
                lib.Unfold(kernel_size=(2, 3)),
                lib.Fold(output_size=(4, 5), kernel_size=2),
                lib.Upsample(scale_factor=2, mode="bilinear"),
                lib.Upsample(size=(3, 4)),
                lib.PixelShuffle(2),
                lib.PixelUnshuffle(2),
                lib.ChannelShuffle(2),
                lib.Dropout2d(),
                lib.AlphaDropout(0.1),
            ),
            losses=lib.ModuleList(
                [lib.CrossEntropyLoss(label_smoothing=0.1), lib.MSELoss(), lib.KLDivLoss()]
            ),
            empty=lib.ModuleList(),
        )
    )


def test_repr_equals_torch():
    ours, theirs = _pair(_representative)
    assert repr(ours) == repr(theirs)


def test_state_dict_keys_equal_torch_for_representative_model():
    ours, theirs = _pair(_representative)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert a.shape == tuple(b.shape), k
