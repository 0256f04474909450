"""Optimisers against PyTorch: the same parameters and gradients, the same parameters after every step.

Each case runs cnnlab and torch side by side on two parameter groups with different lrs (a (3, 4) weight
in the first; a (5,) vector and a (2,) vector that never gets a gradient in the second), feeding the same
random gradients for ten steps, in float32 and float64. State dicts are checked for PyTorch's structure,
for surviving a JSON round trip, and for resuming exactly where an uninterrupted run would be.
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

torch.set_num_threads(1)

TOLERANCE = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}
SHAPES = [(3, 4), (5,), (2,)]  # the last never gets a gradient: it must be skipped
LRS = (0.05, 0.01)
TORCH_ONLY_OPTIONS = {"foreach", "fused", "capturable", "differentiable"}

CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"momentum": 0.8, "nesterov": True}),
    ("SGD", {"weight_decay": 0.1}),
    ("SGD", {"momentum": 0.9, "weight_decay": 0.05, "maximize": True}),
    ("SGD", {"momentum": 0.5, "nesterov": True, "weight_decay": 0.2}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"maximize": True}),
    ("Adam", {"betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"maximize": True, "betas": (0.5, 0.9)}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"maximize": True, "alpha": 0.9, "eps": 1e-6}),
    ("Adagrad", {}),
    ("Adagrad", {"lr_decay": 0.1}),
    ("Adagrad", {"weight_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"maximize": True, "eps": 1e-6}),
]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, options = case
    return name + ("-" + "-".join(f"{k}={v}" for k, v in options.items()) if options else "")


class Pair:
    """The same parameters and optimiser in cnnlab and in torch."""

    def __init__(
        self,
        name: str,
        options: dict[str, Any],
        dtype: Any,
        seed: int = 0,
        values: list[np.ndarray] | None = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        values = values or [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
        self.ours = [Parameter(cnnlab.Tensor(v.copy())) for v in values]
        self.theirs = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
        self.name, self.options = name, options
        self.opt = self.build(getattr(optim, name), self.ours)
        self.topt = self.build(getattr(torch.optim, name), self.theirs)

    def build(self, cls: Any, params: list[Any]) -> Any:
        groups = [{"params": params[:1]}, {"params": params[1:], "lr": LRS[1]}]
        return cls(groups, lr=LRS[0], **self.options)

    def step(self, grads: list[np.ndarray]) -> None:
        for p, q, g in zip(self.ours, self.theirs, grads):
            p.grad = cnnlab.Tensor(g.copy())
            q.grad = torch.from_numpy(g.copy())
        self.opt.step()
        self.topt.step()

    def assert_close(self, what: str) -> None:
        for i, (p, q) in enumerate(zip(self.ours, self.theirs)):
            assert p.data.dtype == q.detach().numpy().dtype, f"{what}: parameter {i}"
            np.testing.assert_allclose(
                p.data, q.detach().numpy(), err_msg=f"{what}: parameter {i}", **TOLERANCE[p.data.dtype.type]
            )


def gradients(rng: np.random.Generator, dtype: Any, step: int) -> list[np.ndarray]:
    """Gradients for SHAPES[:2] that change scale from step to step (so amsgrad's maximum matters)."""
    scale = (0.5, 2.0, 1.0)[step % 3]
    return [(scale * rng.standard_normal(shape)).astype(dtype) for shape in SHAPES[:2]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_steps_match_torch(case: tuple[str, dict[str, Any]], dtype: Any) -> None:
    pair = Pair(*case, dtype)
    arrays = [p.data for p in pair.ours]
    rng = np.random.default_rng(1)
    for step in range(10):
        pair.step(gradients(rng, dtype, step))
        pair.assert_close(f"step {step + 1}")
    # updated in place: Modules keep their arrays; dtypes kept, the parameter without a gradient untouched
    assert all(p.data is a for p, a in zip(pair.ours, arrays))
    for s in pair.opt.state.values():
        for value in s.values():
            assert not isinstance(value, np.ndarray) or value.dtype == dtype
    assert pair.ours[2] not in pair.opt.state or case[0] == "Adagrad"


def _json_round_trip(state_dict: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint without pickle gives back: arrays as lists, tuples as lists, keys as strings."""

    def encode(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return {"__array__": value.tolist(), "shape": list(value.shape)}
        raise TypeError(f"not JSON-able: {type(value).__name__}")

    def decode(value: dict[str, Any]) -> Any:
        if "__array__" in value:
            return np.array(value["__array__"]).reshape(value["shape"])
        return value

    return json.loads(json.dumps(state_dict, default=encode), object_hook=decode)


def _plain(value: Any) -> bool:
    """Only numbers, strings, arrays and containers of them: storable without pickle."""
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, np.ndarray))


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_state_dict_matches_torch_and_resumes(case: tuple[str, dict[str, Any]]) -> None:
    dtype = np.float32
    rng = np.random.default_rng(2)
    grads = [gradients(rng, dtype, step) for step in range(6)]
    pair = Pair(*case, dtype)
    for g in grads[:3]:
        pair.step(g)
    ours, theirs = pair.opt.state_dict(), pair.topt.state_dict()
    assert _plain(ours)

    # PyTorch's structure: the same indices, state names, group options and values
    assert set(ours) == {"state", "param_groups"}
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for index, state in ours["state"].items():
        assert set(state) == set(theirs["state"][index]), f"state of parameter {index}"
        for key, value in state.items():
            np.testing.assert_allclose(
                np.asarray(value, dtype=np.float64),
                np.asarray(theirs["state"][index][key], dtype=np.float64),
                rtol=1e-5,
                atol=1e-6,
                err_msg=key,
            )
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for group, tgroup in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(group) == set(tgroup) - TORCH_ONLY_OPTIONS
        for key in group:
            assert group[key] == tgroup[key], key

    # resuming from the saved state (through JSON) gives exactly the uninterrupted run
    saved = _json_round_trip(ours)
    for g in grads[3:]:
        pair.step(g)
    resumed = Pair(*case, dtype)  # the same starting values, the same first three steps
    for g in grads[:3]:
        resumed.step(g)
    fresh_params = [Parameter(cnnlab.Tensor(p.data.copy())) for p in resumed.ours]
    fresh = getattr(optim, case[0])(
        [{"params": fresh_params[:1]}, {"params": fresh_params[1:], "lr": 0.5}], lr=0.5, **case[1]
    )
    fresh.load_state_dict(saved)
    assert [g["lr"] for g in fresh.param_groups] == list(LRS)
    for g in grads[3:]:
        for p, grad in zip(fresh_params, g):
            p.grad = cnnlab.Tensor(grad.copy())
        fresh.step()
    for p, q in zip(fresh_params, pair.ours):
        np.testing.assert_array_equal(p.data, q.data)
        assert p.data.dtype == q.data.dtype


def test_state_dict_is_a_copy() -> None:
    pair = Pair("SGD", {"momentum": 0.9}, np.float32)
    pair.step([np.ones((3, 4), np.float32), np.ones(5, np.float32)])
    saved = pair.opt.state_dict()
    pair.step([np.ones((3, 4), np.float32), np.ones(5, np.float32)])
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], np.ones((3, 4)))


def test_add_param_group_later_matches_torch() -> None:
    pair = Pair("Adam", {"amsgrad": True}, np.float32)
    rng = np.random.default_rng(3)
    extra = rng.standard_normal((4,)).astype(np.float32)
    p, q = Parameter(cnnlab.Tensor(extra.copy())), torch.nn.Parameter(torch.from_numpy(extra.copy()))
    for step in range(6):
        if step == 2:
            pair.opt.add_param_group({"params": p, "lr": 0.2, "betas": (0.5, 0.6)})
            pair.topt.add_param_group({"params": q, "lr": 0.2, "betas": (0.5, 0.6)})
            pair.ours.append(p)
            pair.theirs.append(q)
        grads = gradients(rng, np.float32, step) + (
            [rng.standard_normal(4).astype(np.float32)] if step >= 2 else []
        )
        for param, tparam, g in zip(
            [*pair.ours[:2], *pair.ours[3:]], [*pair.theirs[:2], *pair.theirs[3:]], grads
        ):
            param.grad = cnnlab.Tensor(g.copy())
            tparam.grad = torch.from_numpy(g.copy())
        pair.opt.step()
        pair.topt.step()
        pair.assert_close(f"step {step + 1}")
    assert pair.opt.param_groups[2]["eps"] == 1e-8  # the defaults fill what a group leaves out


def test_closure_is_called_with_grad_enabled() -> None:
    w = Parameter(cnnlab.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1)

    def closure() -> Any:
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cnnlab.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    assert opt.step() is None


def test_zero_grad() -> None:
    w = Parameter(cnnlab.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1)
    opt.zero_grad()  # no gradient yet: nothing to do
    w.grad = cnnlab.tensor([3.0, 4.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_params_from_a_module_generator_and_named_pairs() -> None:
    a, b = Parameter(cnnlab.zeros(2)), Parameter(cnnlab.ones(3))
    opt = optim.Adam(p for p in [a, b])
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(a), id(b)]
    named = optim.SGD([("a", a), ("b", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["a", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


def test_repr_lists_the_options() -> None:
    opt = optim.SGD([Parameter(cnnlab.zeros(1))], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert (
        text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9\n" in text and text.endswith(")")
    )


# ------------------------------------------------------------------------------------------------ errors


def _param() -> Parameter:
    return Parameter(cnnlab.zeros(2))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_negative_lr_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"Invalid learning rate: -1\.0"):
        getattr(optim, name)([_param()], lr=-1.0)
    with pytest.raises(ValueError, match=r"Invalid learning rate: -0\.5"):  # per group, too
        getattr(optim, name)([{"params": [_param()]}, {"params": [_param()], "lr": -0.5}], lr=0.1)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("SGD", {"momentum": -0.1}, r"Invalid momentum value: -0\.1"),
        ("SGD", {"weight_decay": -1.0}, r"Invalid weight_decay value: -1\.0"),
        ("SGD", {"nesterov": True}, r"Nesterov momentum requires a momentum and zero dampening"),
        (
            "SGD",
            {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
            r"zero dampening, got .*dampening=0\.1",
        ),
        ("Adam", {"betas": (1.0, 0.999)}, r"Invalid beta parameter at index 0: 1\.0"),
        ("Adam", {"betas": (0.9, -0.1)}, r"Invalid beta parameter at index 1: -0\.1"),
        ("Adam", {"betas": (0.9,)}, r"Invalid betas: \(0\.9,\) \(expected a pair"),
        ("Adam", {"eps": -1e-8}, r"Invalid epsilon value: -1e-08"),
        ("AdamW", {"weight_decay": -0.01}, r"Invalid weight_decay value: -0\.01"),
        ("RMSprop", {"alpha": -0.5}, r"Invalid alpha value: -0\.5"),
        ("RMSprop", {"momentum": -1.0}, r"Invalid momentum value: -1\.0"),
        ("RMSprop", {"eps": -1.0}, r"Invalid epsilon value: -1\.0"),
        ("Adagrad", {"lr_decay": -1.0}, r"Invalid lr_decay value: -1\.0"),
        ("Adagrad", {"initial_accumulator_value": -1.0}, r"Invalid initial_accumulator_value value: -1\.0"),
    ],
)
def test_invalid_options_are_refused(name: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([_param()], **options)


def test_invalid_params_are_refused() -> None:
    p = _param()
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"iterable of Tensors or dicts, but got a Tensor of shape \(2,\)"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(
        TypeError, match="optimizer can only optimize Tensors, but one of the params is ndarray"
    ):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="lists the same parameter more than once"):
        optim.SGD([p, p], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        opt.add_param_group([_param()])
    with pytest.raises(ValueError, match="param_group must have a 'params' entry"):
        opt.add_param_group({"lr": 0.1})


def _stepped(name: str, params: list[Parameter], **options: Any) -> Any:
    opt = getattr(optim, name)(params, lr=0.1, **options)
    for p in params:
        p.grad = cnnlab.ones(*p.shape)
    opt.step()
    return opt


def test_load_state_dict_mismatches_are_refused() -> None:
    saved = _stepped("Adam", [Parameter(cnnlab.zeros(2)), Parameter(cnnlab.zeros(3))]).state_dict()
    with pytest.raises(
        ValueError, match="different number of parameter groups: 1 saved, the optimizer has 2"
    ):
        optim.Adam([{"params": [_param()]}, {"params": [_param()]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters saved, 1 in the optimizer"):
        optim.Adam([_param()]).load_state_dict(saved)
    target = optim.Adam([Parameter(cnnlab.zeros(2)), Parameter(cnnlab.zeros(4))])
    with pytest.raises(
        ValueError, match=r"state 'exp_avg' of parameter 1 has shape \(3,\), the parameter has shape \(4,\)"
    ):
        target.load_state_dict(saved)
    assert target.state == {}  # nothing changed by the failed load
    sgd = _stepped("SGD", [Parameter(cnnlab.zeros(2)), Parameter(cnnlab.zeros(3))], momentum=0.9).state_dict()
    with pytest.raises(ValueError, match=r"state of parameter 0 lacks \['step', 'exp_avg', 'exp_avg_sq'\]"):
        optim.Adam([Parameter(cnnlab.zeros(2)), Parameter(cnnlab.zeros(3))]).load_state_dict(
            {"state": sgd["state"], "param_groups": saved["param_groups"]}
        )
    with pytest.raises(ValueError, match="expected a dict with keys 'state' and 'param_groups'"):
        optim.Adam([_param()]).load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="the state names parameter 5"):
        optim.Adam([Parameter(cnnlab.zeros(2)), Parameter(cnnlab.zeros(3))]).load_state_dict(
            {"state": {5: saved["state"][0]}, "param_groups": saved["param_groups"]}
        )


def test_load_state_dict_casts_to_the_parameter_dtype() -> None:
    saved = _stepped("RMSprop", [Parameter(cnnlab.zeros(2, dtype=cnnlab.float64))], momentum=0.5).state_dict()
    opt = optim.RMSprop([Parameter(cnnlab.zeros(2))], momentum=0.5)
    opt.load_state_dict(saved)
    state = next(iter(opt.state.values()))
    assert state["square_avg"].dtype == np.float32 and state["momentum_buffer"].dtype == np.float32
    assert state["step"] == 1 and isinstance(state["step"], int)


def test_state_looked_up_before_the_first_step() -> None:
    w = Parameter(cnnlab.ones(2))
    opt = optim.Adam([w], lr=0.1)
    assert opt.state[w] == {}  # a defaultdict, as in PyTorch
    w.grad = cnnlab.ones(2)
    opt.step()
    assert opt.state[w]["step"] == 1


def test_training_a_module_matches_torch() -> None:
    model, tmodel = cnnlab.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():
        tmodel.weight.copy_(torch.from_numpy(model.weight.data))
        tmodel.bias.copy_(torch.from_numpy(model.bias.data))
    weight = model.weight.data
    opt = optim.AdamW(model.parameters(), lr=0.05, amsgrad=True)
    topt = torch.optim.AdamW(tmodel.parameters(), lr=0.05, amsgrad=True)
    x = np.random.default_rng(4).standard_normal((8, 3)).astype(np.float32)
    for _ in range(5):
        opt.zero_grad()
        topt.zero_grad()
        y, ty = model(cnnlab.Tensor(x)), tmodel(torch.from_numpy(x))
        (y * y).mean().backward()
        (ty * ty).mean().backward()
        opt.step()
        topt.step()
        np.testing.assert_allclose(model.weight.data, tmodel.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.bias.data, tmodel.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert model.weight.data is weight
