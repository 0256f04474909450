"""Upsample, PixelShuffle, PixelUnshuffle, ChannelShuffle against torch.nn."""

import numpy as np
import pytest
import torch.nn as tnn
from layer_harness import check_layer

from cnnlab import nn

CASES = [
    ("Upsample", dict(scale_factor=2), (1, 2, 3, 4)),
    ("Upsample", dict(size=(5, 7), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    ("Upsample", dict(scale_factor=(2.0, 1.5), mode="bilinear"), (2, 2, 3, 4)),
    ("Upsample", dict(size=9, mode="linear"), (1, 2, 4)),
    ("Upsample", dict(scale_factor=2, mode="nearest"), (1, 1, 2, 2, 3)),
    ("PixelShuffle", dict(upscale_factor=2), (2, 8, 3, 3)),
    ("PixelUnshuffle", dict(downscale_factor=2), (2, 2, 4, 6)),
    ("ChannelShuffle", dict(groups=3), (2, 6, 2, 2)),
]


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=lambda v: str(v))
def test_resample_matches_torch(rng, name, kwargs, shape):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(tnn, name)(**kwargs)
    check_layer(ours, theirs, rng.standard_normal(shape), dtype=np.float64)
    assert repr(ours) == repr(theirs)


def test_upsample_attributes_and_errors():
    up = nn.Upsample(scale_factor=3)
    assert up.scale_factor == 3.0 and isinstance(up.scale_factor, float)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        nn.Upsample()
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        nn.Upsample(size=4, scale_factor=2)
    with pytest.raises(ValueError, match="Upsample: mode must be one of .*got 'cubic'"):
        nn.Upsample(scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match="PixelShuffle: upscale_factor must be >= 1, got 0"):
        nn.PixelShuffle(0)
