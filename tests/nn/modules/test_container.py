"""Sequential, ModuleList and ModuleDict: construction, indexing, mutation, repr against torch.nn."""

from collections import OrderedDict

import numpy as np
import pytest
import torch.nn as tnn

import cnnlab
from cnnlab import nn


def test_sequential_from_modules_and_ordered_dict():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    assert list(seq._modules) == ["0", "1"]
    named = nn.Sequential(OrderedDict(fc1=nn.Linear(3, 4), fc2=nn.Linear(4, 2)))
    assert list(named.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert named.fc1 is named[0]
    x = cnnlab.randn(5, 3)
    expected = named[1](named[0](x))
    np.testing.assert_array_equal(named(x).data, expected.data)


def test_sequential_indexing_slicing_len_iter_append():
    layers = [nn.Linear(2, 2), nn.Identity(), nn.Flatten()]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2] and list(head._modules) == ["0", "1"]
    seq.append(nn.Identity())
    assert len(seq) == 4 and list(seq._modules)[-1] == "3"
    seq[1] = nn.Flatten()
    assert isinstance(seq[1], nn.Flatten)
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        seq[5]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers.extend([nn.Linear(2, 3)])
    layers.insert(1, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Linear", "Identity", "ReLU", "Linear"]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    assert layers[-1].out_features == 3
    assert len(layers[1:]) == 3
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(nn.ReLU())


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.ReLU()
    heads.update([("c", nn.Identity())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(heads.pop("b"), nn.ReLU) and list(heads.keys()) == ["a", "c"]


def _build(lib):
    return lib.Sequential(
        lib.ModuleList([lib.Linear(2, 2), lib.Linear(2, 2), lib.ReLU(), lib.ReLU(), lib.Linear(2, 2)]),
        lib.ModuleDict({"x": lib.Sequential(lib.Linear(1, 1)), "y": lib.Identity()}),
        lib.Sequential(),
    )


def test_container_repr_matches_torch():
    assert repr(_build(nn)) == repr(_build(tnn))
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList())
