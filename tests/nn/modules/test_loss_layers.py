"""Loss layers against torch.nn: values, input gradients, weight buffers, repr, errors."""

import numpy as np
import pytest
import torch
import torch.nn as tnn
from layer_harness import check_layer

import cnnlab
from cnnlab import nn

rng0 = np.random.default_rng(0)
LOGITS = rng0.standard_normal((5, 4))
LABELS = np.array([0, 3, 1, 1, 2])
LABELS_IGNORED = np.array([0, -100, 1, 3, 2])
LOGITS_2D = rng0.standard_normal((2, 4, 3, 3))
LABELS_2D = rng0.integers(0, 4, (2, 3, 3))
PROBS = 1 / (1 + np.exp(-rng0.standard_normal((5, 4))))
TARGETS01 = rng0.random((5, 4))
CLASS_WEIGHT = rng0.random(4) + 0.5


def _layers(name, **kwargs):
    torch_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ours_kwargs = {k: cnnlab.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(nn, name)(**ours_kwargs), getattr(tnn, name)(**torch_kwargs)


CASES = [
    ("CrossEntropyLoss", {}, LOGITS, LABELS),
    ("CrossEntropyLoss", dict(weight=CLASS_WEIGHT, ignore_index=-100), LOGITS, LABELS_IGNORED),
    ("CrossEntropyLoss", dict(label_smoothing=0.2, reduction="sum"), LOGITS, LABELS),
    ("CrossEntropyLoss", dict(reduction="none"), LOGITS_2D, LABELS_2D),
    ("CrossEntropyLoss", {}, LOGITS, PROBS / PROBS.sum(1, keepdims=True)),
    ("NLLLoss", dict(weight=CLASS_WEIGHT), LOGITS, LABELS),
    ("NLLLoss", dict(ignore_index=1, reduction="sum"), LOGITS, LABELS),
    ("BCELoss", {}, PROBS, TARGETS01),
    ("BCELoss", dict(weight=CLASS_WEIGHT, reduction="none"), PROBS, TARGETS01),
    ("BCEWithLogitsLoss", {}, LOGITS, TARGETS01),
    ("BCEWithLogitsLoss", dict(pos_weight=CLASS_WEIGHT, weight=CLASS_WEIGHT), LOGITS, TARGETS01),
    ("MSELoss", {}, LOGITS, TARGETS01),
    ("MSELoss", dict(reduction="sum"), LOGITS, TARGETS01),
    ("L1Loss", dict(reduction="none"), LOGITS, TARGETS01),
    ("SmoothL1Loss", dict(beta=0.5), LOGITS, TARGETS01),
    ("HuberLoss", dict(delta=0.7, reduction="sum"), LOGITS, TARGETS01),
    ("KLDivLoss", dict(reduction="batchmean"), np.log(PROBS), TARGETS01),
    ("KLDivLoss", dict(reduction="sum", log_target=True), np.log(PROBS), np.log(TARGETS01)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs, input, target", CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_loss_matches_torch(name, kwargs, input, target, dtype):
    kwargs = {k: v.astype(dtype) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ours, theirs = _layers(name, **kwargs)
    check_layer(ours, theirs, input, target, dtype=dtype)
    assert repr(ours) == repr(theirs)


def test_weight_buffers_like_torch():
    ours, theirs = _layers("BCEWithLogitsLoss", weight=CLASS_WEIGHT, pos_weight=CLASS_WEIGHT)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "pos_weight"]
    ours, theirs = _layers("CrossEntropyLoss")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    assert [n for n, _ in ours.named_buffers()] == []
    ours, theirs = _layers("NLLLoss", weight=CLASS_WEIGHT)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


@pytest.mark.filterwarnings("ignore:size_average and reduce args:UserWarning")
def test_legacy_reduction_flags():
    assert nn.MSELoss(size_average=False).reduction == tnn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == tnn.L1Loss(reduce=False).reduction == "none"


def test_loss_errors():
    with pytest.raises(
        ValueError, match="MSELoss: reduction must be one of 'none', 'mean', 'sum', got 'avg'"
    ):
        nn.MSELoss(reduction="avg")
    with pytest.raises(
        ValueError, match="CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got 1.5"
    ):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(TypeError, match="weight must be a Tensor or None, got list"):
        nn.NLLLoss(weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="HuberLoss: delta must be positive"):
        nn.HuberLoss(delta=0)
