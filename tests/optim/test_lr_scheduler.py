"""Schedulers against PyTorch: the same lrs (and momenta, for OneCycleLR) at every step, and resumable state.

Each scheduler drives an optimiser with two parameter groups (lr 0.1 and 0.01) for 30 steps, in cnnlab
and in torch; the lrs must agree to the last bit or nearly (1e-12), since both compute them in Python
floats with the same formulas.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import optim
from cnnlab.nn import Parameter
from cnnlab.optim import lr_scheduler

STEPS = 30
# the monitored value fed to ReduceLROnPlateau: improvements, plateaus, noise below the threshold
# fmt: off
METRICS = [1.0, 0.9, 0.95, 0.95, 0.94, 0.9, 0.91, 0.92, 0.93, 0.89, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6,
           0.7, 0.8, 0.9, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.39]
# fmt: on


def _halving(epoch: int) -> float:
    return 0.5 ** (epoch // 4)


# (optimiser name, optimiser options, scheduler name, scheduler options): options may hold callables
CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("SGD", {}, "StepLR", {"step_size": 7, "gamma": 0.5}),
    ("SGD", {}, "StepLR", {"step_size": 1}),
    ("SGD", {}, "MultiStepLR", {"milestones": [3, 8, 8, 20], "gamma": 0.3}),
    ("SGD", {}, "ExponentialLR", {"gamma": 0.9}),
    ("SGD", {}, "CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("SGD", {}, "CosineAnnealingLR", {"T_max": 7}),
    ("SGD", {}, "LambdaLR", {"lr_lambda": lambda epoch: 0.95**epoch}),
    ("SGD", {}, "LambdaLR", {"lr_lambda": [_halving, lambda epoch: 1.0 / (1 + epoch)]}),
    ("SGD", {}, "LinearLR", {"start_factor": 0.2, "total_iters": 6}),
    ("SGD", {}, "LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 10}),
    ("SGD", {}, "ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("SGD", {"momentum": 0.9}, "OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": STEPS + 1}),
    ("SGD", {"momentum": 0.9}, "OneCycleLR", {"max_lr": 1.0, "total_steps": 40, "anneal_strategy": "linear"}),
    (
        "SGD",
        {"momentum": 0.9},
        "OneCycleLR",
        {"max_lr": 0.3, "epochs": 4, "steps_per_epoch": 8, "three_phase": True, "pct_start": 0.25},
    ),
    (
        "SGD",
        {},
        "OneCycleLR",
        {
            "max_lr": 0.3,
            "total_steps": STEPS + 1,
            "cycle_momentum": False,
            "div_factor": 10.0,
            "final_div_factor": 100.0,
        },
    ),
    (
        "Adam",
        {},
        "OneCycleLR",
        {"max_lr": 0.01, "total_steps": STEPS + 1, "base_momentum": [0.8, 0.7], "max_momentum": 0.9},
    ),
    ("RMSprop", {"momentum": 0.5}, "OneCycleLR", {"max_lr": 0.01, "total_steps": 35}),
    ("SGD", {}, "ReduceLROnPlateau", {"patience": 2, "factor": 0.5}),
    ("SGD", {}, "ReduceLROnPlateau", {"patience": 1, "factor": 0.5, "cooldown": 2, "min_lr": [0.02, 0.001]}),
    (
        "SGD",
        {},
        "ReduceLROnPlateau",
        {"mode": "max", "patience": 0, "threshold": 0.05, "threshold_mode": "abs"},
    ),
    ("SGD", {}, "ReduceLROnPlateau", {"mode": "max", "patience": 3, "threshold_mode": "rel", "eps": 1e-3}),
    (
        "SGD",
        {},
        "ReduceLROnPlateau",
        {"threshold": 0.01, "threshold_mode": "abs", "min_lr": 0.004, "patience": 0},
    ),
]


def case_id(case: tuple[str, dict[str, Any], str, dict[str, Any]]) -> str:
    opt, _, name, options = case
    return f"{opt}-{name}-" + "-".join(
        f"{k}={v}" for k, v in options.items() if not callable(v) and k != "lr_lambda"
    )


def _optimizer(module: Any, name: str, options: dict[str, Any], param_module: Any) -> Any:
    make = (
        (lambda: Parameter(cnnlab.zeros(2)))
        if param_module is cnnlab
        else (lambda: torch.nn.Parameter(torch.zeros(2)))
    )
    return getattr(module, name)([{"params": [make()]}, {"params": [make()], "lr": 0.01}], lr=0.1, **options)


class Pair:
    """An optimiser and a scheduler in cnnlab, and the same in torch."""

    def __init__(self, case: tuple[str, dict[str, Any], str, dict[str, Any]]) -> None:
        opt_name, opt_options, name, options = case
        self.opt = _optimizer(optim, opt_name, opt_options, cnnlab)
        self.topt = _optimizer(torch.optim, opt_name, opt_options, torch)
        self.sched = getattr(lr_scheduler, name)(self.opt, **options)
        self.tsched = getattr(torch.optim.lr_scheduler, name)(self.topt, **options)
        self.plateau = name == "ReduceLROnPlateau"

    def step(self, epoch: int) -> None:
        self.opt.step()
        self.topt.step()
        if self.plateau:
            self.sched.step(METRICS[epoch])
            self.tsched.step(METRICS[epoch])
        else:
            self.sched.step()
            self.tsched.step()

    def assert_equal(self, what: str) -> None:
        assert self.sched.get_last_lr() == pytest.approx(self.tsched.get_last_lr(), rel=1e-12, abs=0), what
        for group, tgroup in zip(self.opt.param_groups, self.topt.param_groups):
            assert group["lr"] == pytest.approx(tgroup["lr"], rel=1e-12, abs=0), what
            for key in ("momentum", "betas"):
                if key in group:
                    assert group[key] == pytest.approx(tgroup[key], rel=1e-12, abs=0), f"{what}: {key}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_lrs_match_torch(case: tuple[str, dict[str, Any], str, dict[str, Any]]) -> None:
    pair = Pair(case)
    pair.assert_equal("at construction")
    assert pair.sched.last_epoch == pair.tsched.last_epoch
    for epoch in range(STEPS):
        pair.step(epoch)
        pair.assert_equal(f"step {epoch + 1}")
        assert pair.sched.last_epoch == pair.tsched.last_epoch


def _json_round_trip(state: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint stores no code and no pickle: drop the callables, go through JSON."""
    return json.loads(json.dumps({k: v for k, v in state.items() if not callable(v)}, allow_nan=True))


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_state_dict_matches_torch_and_resumes(case: tuple[str, dict[str, Any], str, dict[str, Any]]) -> None:
    pair = Pair(case)
    for epoch in range(10):
        pair.step(epoch)
    ours, theirs = pair.sched.state_dict(), pair.tsched.state_dict()
    assert set(ours) == set(theirs) - {"_get_lr_called_within_step", "_is_initial"}
    saved_sched, saved_opt = _json_round_trip(ours), pair.opt.state_dict()
    # a fresh optimiser and scheduler (as built by the training script), then the saved state loaded
    opt = _optimizer(optim, case[0], case[1], cnnlab)
    sched = getattr(lr_scheduler, case[2])(opt, **case[3])
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    for epoch in range(10, STEPS):
        pair.step(epoch)
        opt.step()
        sched.step(METRICS[epoch]) if pair.plateau else sched.step()
        assert sched.get_last_lr() == pair.sched.get_last_lr(), f"step {epoch + 1}"
        assert [g.get("betas", g.get("momentum")) for g in opt.param_groups] == [
            g.get("betas", g.get("momentum")) for g in pair.opt.param_groups
        ]


def test_lr_lambda_objects_keep_their_attributes() -> None:
    class Warmup:
        def __init__(self, steps: int) -> None:
            self.steps = steps

        def __call__(self, epoch: int) -> float:
            return min(1.0, (epoch + 1) / self.steps)

    opt = _optimizer(optim, "SGD", {}, cnnlab)
    state = lr_scheduler.LambdaLR(opt, Warmup(4)).state_dict()
    assert state["lr_lambdas"] == [{"steps": 4}, {"steps": 4}]
    plain = lr_scheduler.LambdaLR(opt, lambda epoch: 1.0).state_dict()
    assert plain["lr_lambdas"] == [None, None]
    target = Warmup(10)
    lr_scheduler.LambdaLR(_optimizer(optim, "SGD", {}, cnnlab), target).load_state_dict(state)
    assert target.steps == 4


def test_scheduler_learns_from_the_optimizer_it_drives() -> None:
    # SGD at the scheduled lr: p -= lr * grad, with lr halving every step
    w = Parameter(cnnlab.zeros(1))
    opt = optim.SGD([w], lr=1.0)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        w.grad = cnnlab.ones(1)
        opt.step()
        sched.step()
    np.testing.assert_allclose(w.data, [-1.75])


# ------------------------------------------------------------------------------------------------ errors


def test_errors() -> None:
    opt = _optimizer(optim, "SGD", {}, cnnlab)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=2)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive number of epochs, got 0"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        lr_scheduler.ExponentialLR(opt, gamma=0.9, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1"):
        lr_scheduler.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor expected to be greater than 0"):
        lr_scheduler.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="Factor should be < 1.0, got factor=1.5"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode 'lowest' is unknown! Expected 'min' or 'max'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="threshold mode 'relative' is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 3"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1, 0.1, 0.1])


def test_one_cycle_errors() -> None:
    opt = _optimizer(optim, "SGD", {"momentum": 0.9}, cnnlab)
    with pytest.raises(
        ValueError, match=r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"
    ):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="Expected positive integer steps_per_epoch, but got -1"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=-1)
    with pytest.raises(ValueError, match="Expected float between 0 and 1 pct_start, but got 1.5"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(
        ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got 'exp'"
    ):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
        lr_scheduler.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1 .* Adagrad has neither"):
        lr_scheduler.OneCycleLR(_optimizer(optim, "Adagrad", {}, cnnlab), max_lr=0.1, total_steps=10)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    sched.step(), sched.step(), sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()


def test_every_public_scheduler_is_exported() -> None:
    names = set(lr_scheduler.__all__)
    assert {
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
        "LambdaLR",
        "LinearLR",
        "ConstantLR",
        "LRScheduler",
    } <= names
    assert cnnlab.optim.lr_scheduler.StepLR is lr_scheduler.StepLR
    assert set(optim.__all__) >= {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Optimizer", "lr_scheduler"}
    assert all(getattr(lr_scheduler, n).__doc__ for n in names)
