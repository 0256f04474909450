"""Padding layers against torch.nn."""

import numpy as np
import pytest
import torch.nn as tnn
from layer_harness import check_layer

from cnnlab import nn

PADS = [
    ("ZeroPad1d", (2, 3, 5), (2, 1)),
    ("ZeroPad2d", (2, 3, 4, 5), 1),
    ("ZeroPad3d", (1, 2, 3, 4, 3), (1, 0, 2, 1, 0, 1)),
    ("ReflectionPad1d", (2, 3, 5), (2, 3)),
    ("ReflectionPad2d", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("ReflectionPad3d", (1, 2, 3, 4, 3), 1),
    ("ReplicationPad1d", (2, 3, 5), 3),
    ("ReplicationPad2d", (3, 4, 5), (1, 2, 3, 0)),
    ("ReplicationPad3d", (1, 2, 3, 4, 3), (2, 0, 1, 1, 0, 2)),
    ("CircularPad1d", (2, 3, 5), (2, 1)),
    ("CircularPad2d", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("CircularPad3d", (1, 2, 3, 4, 3), 1),
]


@pytest.mark.parametrize("name, shape, padding", PADS, ids=lambda v: str(v))
def test_pad_matches_torch(rng, name, shape, padding):
    ours, theirs = getattr(nn, name)(padding), getattr(tnn, name)(padding)
    assert ours.padding == theirs.padding
    check_layer(ours, theirs, rng.standard_normal(shape), dtype=np.float64)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("nd, shape", [(1, (2, 3, 5)), (2, (2, 3, 4, 5)), (3, (1, 2, 3, 4, 3))])
def test_constant_pad_matches_torch(rng, nd, shape):
    padding = tuple(range(1, 2 * nd + 1))
    ours, theirs = (
        getattr(nn, f"ConstantPad{nd}d")(padding, 3.5),
        getattr(tnn, f"ConstantPad{nd}d")(padding, 3.5),
    )
    check_layer(ours, theirs, rng.standard_normal(shape))
    assert repr(ours) == repr(theirs)


def test_pad_errors():
    with pytest.raises(
        TypeError, match=r"ZeroPad2d: padding must be an int or a tuple of 4 ints, got \(1, 2\)"
    ):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(TypeError, match="ReflectionPad1d: padding"):
        nn.ReflectionPad1d(1.5)
