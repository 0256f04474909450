"""Whole networks: the same weights and the same data give PyTorch's losses, step after step.

The PyTorch twins are the benchmark's networks (``benchmarks/nets.py``, written once against the
``nn`` API and built here with ``torch.nn``), so the benchmark times networks these tests check.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from harness import assert_close

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import nets  # (after the path: the benchmark folder is not a package)

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import models


def copy_weights(ours, theirs):
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.data)) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize(
    "make_optimizers",
    [
        lambda a, b: (cnnlab.optim.SGD(a, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
                      torch.optim.SGD(b, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)),
        lambda a, b: (cnnlab.optim.Adam(a, lr=1e-3), torch.optim.Adam(b, lr=1e-3)),
    ],
    ids=["sgd-nesterov", "adam"],
)
def test_lenet5_training_steps_match_torch(make_optimizers):
    ours, theirs = models.lenet5(), nets.lenet5(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(ours, theirs)
    opt_ours, opt_theirs = make_optimizers(ours.parameters(), theirs.parameters())
    rng = np.random.default_rng(0)
    for step in range(5):
        x = rng.random((16, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 16)
        loss_ours = F.cross_entropy(ours(cnnlab.tensor(x)), cnnlab.tensor(y))
        loss_theirs = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        assert_close(loss_ours, loss_theirs, rtol=1e-4, atol=1e-5, what=f"loss at step {step}")
        for opt, loss in ((opt_ours, loss_ours), (opt_theirs, loss_theirs)):
            opt.zero_grad()
            loss.backward()
            opt.step()
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert_close(a, b, rtol=1e-3, atol=1e-5, what=name)


def test_fashion_cnn_matches_torch_in_eval_mode():
    theirs = nets.fashion_cnn(torch.nn)
    ours = models.fashion_cnn()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    trainable = sum(p.numel() for p in ours.parameters())
    statistics = sum(b.numel() for name, b in ours.named_buffers() if "running" in name)
    assert (trainable, statistics, trainable + statistics) == (1_677_674, 1_408, 1_679_082)
    # one training-mode step of batch statistics, then compare in eval mode
    x = np.random.default_rng(1).random((8, 1, 28, 28), dtype=np.float32)
    copy_weights(ours, theirs)
    ours.eval()
    theirs.eval()
    out = ours(cnnlab.tensor(x))
    expected = theirs(torch.from_numpy(x))
    assert_close(out, expected, rtol=1e-4, atol=1e-4)


def test_deep_residual_chain_backward_is_iterative():
    # 400 residual blocks (1,600 nodes): deeper than a recursive walk could go under the default limit
    x = cnnlab.randn(1, 2, 6, 6, requires_grad=True)
    w = cnnlab.randn(2, 2, 3, 3, requires_grad=True) * 0.05
    h = x
    for _ in range(400):
        h = h + F.relu(F.conv2d(h, w, padding=1))
    h.sum().backward()
    assert x.grad is not None and np.all(np.isfinite(x.grad.data))
