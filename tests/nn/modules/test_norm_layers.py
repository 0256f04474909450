"""BatchNorm, InstanceNorm, LayerNorm, GroupNorm, LocalResponseNorm against torch.nn, running statistics included."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
from harness import assert_close
from layer_harness import check_layer, copy_weights

import cnnlab
from cnnlab import nn

pytestmark = pytest.mark.usefixtures("kernels")  # on NumPy alone and with the compiled kernels

BATCH = [
    ("BatchNorm1d", (6, 3), dict(num_features=3)),
    ("BatchNorm1d", (4, 3, 5), dict(num_features=3, momentum=0.3, eps=1e-3)),
    ("BatchNorm2d", (4, 3, 5, 4), dict(num_features=3)),
    ("BatchNorm2d", (4, 3, 5, 4), dict(num_features=3, affine=False)),
    ("BatchNorm2d", (4, 3, 5, 4), dict(num_features=3, bias=False)),
    ("BatchNorm2d", (4, 3, 3, 3), dict(num_features=3, track_running_stats=False)),
    ("BatchNorm3d", (2, 2, 3, 4, 3), dict(num_features=2, momentum=None)),
]

OTHERS = [
    ("InstanceNorm1d", (2, 3, 7), dict(num_features=3)),
    ("InstanceNorm1d", (3, 7), dict(num_features=3, affine=True)),
    ("InstanceNorm2d", (2, 3, 5, 4), dict(num_features=3, affine=True, track_running_stats=True)),
    ("InstanceNorm3d", (2, 2, 3, 4, 3), dict(num_features=2)),
    ("LayerNorm", (2, 3, 4, 5), dict(normalized_shape=(4, 5))),
    ("LayerNorm", (3, 6), dict(normalized_shape=6, eps=1e-3, bias=False)),
    ("LayerNorm", (3, 6), dict(normalized_shape=6, elementwise_affine=False)),
    ("GroupNorm", (2, 6, 4, 3), dict(num_groups=3, num_channels=6)),
    ("GroupNorm", (2, 4, 5), dict(num_groups=2, num_channels=4, affine=False)),
    ("LocalResponseNorm", (2, 5, 4, 4), dict(size=3, alpha=1e-2, beta=0.5, k=2.0)),
]


def _randomize_affine(layer):
    """Non-trivial weight, bias and running stats, so that evaluation mode is really tested."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
        if getattr(layer, "running_var", None) is not None:
            layer.running_mean.copy_(torch.randn(layer.running_mean.shape, generator=gen))
            layer.running_var.copy_(torch.rand(layer.running_var.shape, generator=gen) + 0.5)


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, shape, kwargs", BATCH + OTHERS, ids=lambda v: str(v))
def test_norm_matches_torch(rng, name, shape, kwargs, dtype, training):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    _randomize_affine(theirs)
    check_layer(ours, theirs, rng.standard_normal(shape) * 2 + 1, dtype=dtype, training=training)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_running_stats_over_several_batches(rng, momentum):
    ours, theirs = nn.BatchNorm2d(3, momentum=momentum), tnn.BatchNorm2d(3, momentum=momentum)
    ours.to(np.float64)
    theirs.double()
    for _ in range(3):
        x = rng.standard_normal((4, 3, 2, 2)) * 3 + 2
        ours(cnnlab.tensor(x))
        theirs(torch.tensor(x))
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert_close(a, b, what=name)
    assert ours.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    assert_close(ours(cnnlab.tensor(x)), theirs(torch.tensor(x)))
    assert ours.num_batches_tracked.item() == 3  # evaluation does not count


def test_eval_uses_loaded_running_stats(rng):
    theirs = tnn.BatchNorm1d(4)
    _randomize_affine(theirs)
    ours = nn.BatchNorm1d(4)
    copy_weights(ours, theirs)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    assert_close(ours.eval()(cnnlab.tensor(x)), theirs.eval()(torch.tensor(x)))


def test_norm_buffers_and_defaults():
    bn = nn.BatchNorm2d(5)
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.running_var.tolist() == [1.0] * 5
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.item() == 0
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm1d(2, track_running_stats=False).state_dict()) == ["weight", "bias"]
    assert list(nn.InstanceNorm2d(2).state_dict()) == list(tnn.InstanceNorm2d(2).state_dict()) == []
    bn.running_mean.data[...] = 3
    bn.num_batches_tracked.data[...] = 7
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0] * 5 and bn.num_batches_tracked.item() == 0


def test_norm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(cnnlab.ones(3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(cnnlab.ones(2, 3, 4, 4))
    with pytest.raises(
        ValueError, match=r"GroupNorm: num_channels \(5\) must be divisible by num_groups \(2\)"
    ):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match="num_features must be >= 1, got 0"):
        nn.BatchNorm1d(0)
    with pytest.raises(ValueError, match="momentum must be in"):
        nn.BatchNorm1d(2, momentum=1.5)
    with pytest.raises(
        ValueError, match=r"expected input's size at dim=1 to match num_features \(3\), but got: 2"
    ):
        nn.InstanceNorm2d(3, affine=True)(cnnlab.ones(1, 2, 4, 4))
    with pytest.raises(TypeError, match="normalized_shape"):
        nn.LayerNorm("4")
