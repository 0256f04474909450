"""Optimizer: the base of every optimiser; parameter groups, the step loop, and state dicts.

An optimiser holds ``param_groups``, a list of dicts, each with its ``params`` and its own copy of every
option (``lr``, ``momentum`` ...; options a group leaves out come from ``defaults``), and ``state``, the
per-parameter buffers (momentum, moving averages, step counts). A subclass says three things: which
options are valid (``_check_options``), which state a parameter starts with (``_init_state``) and how one
parameter is updated (``_update``, on NumPy arrays, in place). The loop over groups and parameters,
``zero_grad``, ``state_dict`` and ``load_state_dict`` are written once, here.

``state_dict()`` has PyTorch's layout, ``{'state': {index: {...}}, 'param_groups': [{..., 'params':
[indices]}]}``, and holds only numbers, strings, tuples and NumPy arrays (copies), so a checkpoint can
store it without pickle. Step counts are Python ints; buffers have the parameter's dtype.

Reference: torch/optim/optimizer.py (PyTorch 2.13), the single-tensor (for-loop) implementations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import parallel
from ..autograd import enable_grad
from ..tensor import Tensor

__all__ = ["Optimizer"]


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, rounded as ``torch.Tensor.lerp_`` rounds it.

    PyTorch casts the weight to the tensor's dtype and, for weights of 0.5 or more, interpolates from
    the ``end`` side (``end - (end - start) * (1 - weight)``), which is more accurate there.
    """
    w = start.dtype.type(weight)
    diff = end - start
    if abs(w) < 0.5:
        start += w * diff
    else:
        np.subtract(end, diff * (1 - w), out=start)


def _copy_value(value: Any) -> Any:
    """A deep copy of an option or a state value; arrays are copied, Tensors become arrays."""
    if isinstance(value, Tensor):
        return np.array(value.data)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple):
        return tuple(_copy_value(v) for v in value)
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    return value


class Optimizer:
    """Base class of the optimisers: parameter groups with their options, per-parameter state, the step loop.

    ``params`` is an iterable of Tensors (one group), of ``(name, Tensor)`` pairs, or of dicts (several
    groups: each dict has ``params`` and any options that differ from ``defaults``).

    >>> import cnnlab
    >>> from cnnlab.optim import SGD
    >>> w, b = cnnlab.nn.Parameter(cnnlab.ones(2)), cnnlab.nn.Parameter(cnnlab.zeros(1))
    >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
    >>> opt.state_dict()["param_groups"][1]["params"]
    [1]
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                f"a Tensor of shape {params.shape}; wrap it in a list: [param]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        self._check_options(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---------------------------------------------------------------------------------------------
    # what a subclass provides

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise ValueError for an invalid option of ``options`` (the defaults, or one group)."""

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The state every parameter of ``group`` holds once it has been updated (checked on load)."""
        return ()

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        """The state of a parameter before its first update."""
        return {}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update ``param`` in place from ``grad``, reading and updating ``state``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ---------------------------------------------------------------------------------------------
    # groups

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with its own options (those it leaves out come from ``defaults``)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"param_group must have a 'params' entry, got keys {sorted(param_group)}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            group["param_names"] = names
            params = [p[1] for p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer got a parameter group that lists the same parameter more than once")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_options(group)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                with_names = "with names" if "param_names" in group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {with_names} to the optimizer"
                )
        self.param_groups.append(group)

    # ---------------------------------------------------------------------------------------------
    # the training step

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set every ``.grad`` to None (default), or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (re)computes and returns the loss.

        Parameters whose ``.grad`` is None are skipped (their state is untouched).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        updates = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.data.shape:
                    raise RuntimeError(
                        f"{type(self).__name__}.step: a gradient of shape {grad.shape} for a parameter of shape "
                        f"{p.data.shape}"
                    )
                if grad.dtype != p.data.dtype:
                    grad = grad.astype(p.data.dtype)
                updates.append((p, grad, self.state.get(p) or self._init_state(p.data, group), group))
        # the parameters are independent: cnnlab's threads update them side by side, balanced by size
        parallel.starmap(lambda p, grad, state, group: self._update(p.data, grad, state, group), updates,
                         costs=[p.data.nbytes for p, *_ in updates])
        for p, _, state, _ in updates:
            if state:
                self.state[p] = state
        return loss

    # ---------------------------------------------------------------------------------------------
    # state dicts

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state as ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are numbered in the order the groups list them; the arrays are copies.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _copy_value(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: _copy_value(v) for k, v in s.items()}
            for p, s in self.state.items()
            if s and id(p) in index
        }
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; the groups must list as many parameters as this optimiser's.

        Everything is checked (group and parameter counts, state names, array shapes) before anything
        changes. Arrays are copied and cast to their parameter's dtype.
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}: expected a dict with keys 'state' and 'param_groups', got {got}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: loaded state dict has a different number of parameter groups: {len(saved_groups)} "
                f"saved, the optimizer has {len(self.param_groups)}"
            )
        new_groups, id_map, group_of = [], {}, {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            saved_params = list(saved.get("params", []))
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"{name}: loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {i} has {len(saved_params)} parameters saved, "
                    f"{len(group['params'])} in the optimizer"
                )
            new = {k: _copy_value(v) for k, v in saved.items() if k != "params"}
            for key, value in group.items():
                if key not in new:
                    new[key] = value
                elif isinstance(value, tuple) and isinstance(new[key], list):
                    new[key] = tuple(new[key])  # JSON has no tuples (betas)
            new["params"] = group["params"]
            self._check_options(new)
            new_groups.append(new)
            for index, p in zip(saved_params, group["params"]):
                id_map[int(index)] = p
                group_of[int(index)] = new
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, saved in state_dict["state"].items():
            index = int(index)  # JSON keys are strings
            if index not in id_map:
                raise ValueError(
                    f"{name}: the state names parameter {index}, which no parameter group lists "
                    f"(the groups list {sorted(id_map)})"
                )
            p, group = id_map[index], group_of[index]
            missing = [k for k in self._state_keys(group) if k not in saved]
            if saved and missing:
                raise ValueError(
                    f"{name}: the state of parameter {index} lacks {missing} (it has {sorted(saved)}); was it "
                    f"saved by another optimizer or with other options?"
                )
            new_state[p] = {k: self._load_value(name, index, p, k, v) for k, v in saved.items()}
        self.state = new_state
        self.param_groups[:] = new_groups

    @staticmethod
    def _load_value(name: str, index: int, param: Tensor, key: str, value: Any) -> Any:
        if isinstance(value, Tensor):
            value = value.data
        if key == "step":
            return int(np.asarray(value).item())
        if isinstance(value, np.ndarray):
            if value.shape != param.shape:
                raise ValueError(
                    f"{name}: state {key!r} of parameter {index} has shape {value.shape}, the parameter has "
                    f"shape {param.shape}"
                )
            return np.array(value, dtype=param.dtype)
        return _copy_value(value)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [
                f"    {key}: {group[key]}" for key in sorted(group) if key not in ("params", "param_names")
            ]
        return "\n".join(lines) + "\n)"
