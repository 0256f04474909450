"""Whole networks: the same weights and the same data give PyTorch's losses, step after step."""

import numpy as np
import pytest
import torch
from harness import assert_close

import cnnlab
import cnnlab.nn.functional as F
from cnnlab import models


def torch_lenet5():
    tnn = torch.nn

    class LeNet5(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
            )
            self.classifier = tnn.Sequential(
                tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10)
            )

        def forward(self, x):
            return self.classifier(self.features(x))

    return LeNet5()


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
    ours, theirs = models.lenet5(), torch_lenet5()
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
    tnn = torch.nn

    def block(cin, cout):
        return tnn.Sequential(
            tnn.Conv2d(cin, cout, 3, padding=1), tnn.ReLU(), tnn.BatchNorm2d(cout),
            tnn.Conv2d(cout, cout, 3, padding=1), tnn.ReLU(), tnn.BatchNorm2d(cout),
            tnn.MaxPool2d(2), tnn.Dropout(0.25),
        )

    theirs = tnn.Module()
    theirs.features = tnn.Sequential(block(1, 32), block(32, 64))
    theirs.classifier = tnn.Sequential(
        tnn.Flatten(), tnn.Linear(3136, 512), tnn.ReLU(), tnn.BatchNorm1d(512), tnn.Dropout(0.5), tnn.Linear(512, 10)
    )
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
    expected = theirs.classifier(theirs.features(torch.from_numpy(x)))
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
