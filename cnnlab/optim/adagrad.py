"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients seen so far.

Per parameter, with g the gradient (negated when ``maximize``) and t the step count::

    g = g + weight_decay * p
    s = s + g * g                              (s starts at initial_accumulator_value)
    p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

References: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
Optimization" (2011); torch/optim/adagrad.py (PyTorch 2.13), ``_single_tensor_adagrad``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, with optional learning-rate decay, weight decay and maximisation.

    The state of every parameter is created at construction (as PyTorch does), so ``state_dict()``
    lists all parameters even before the first step.

    >>> import cnnlab
    >>> w = cnnlab.nn.Parameter(cnnlab.tensor([1.0, -2.0]))
    >>> opt = Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # the first step moves each weight by lr
    >>> w.data
    array([ 0.5, -1.5], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._init_state(p.data, group)

    def _check_options(self, options: dict[str, Any]) -> None:
        _check(0.0 <= options["lr"], f"Invalid learning rate: {options['lr']} (expected lr >= 0)")
        _check(
            0.0 <= options["lr_decay"],
            f"Invalid lr_decay value: {options['lr_decay']} (expected lr_decay >= 0)",
        )
        _check(
            0.0 <= options["weight_decay"],
            f"Invalid weight_decay value: {options['weight_decay']} (expected weight_decay >= 0)",
        )
        _check(
            0.0 <= options["initial_accumulator_value"],
            f"Invalid initial_accumulator_value value: {options['initial_accumulator_value']} "
            "(expected initial_accumulator_value >= 0)",
        )
        _check(0.0 <= options["eps"], f"Invalid epsilon value: {options['eps']} (expected eps >= 0)")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "sum")

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        # PyTorch fills the sums from the constructor's initial_accumulator_value, whatever a group says
        return {"step": 0, "sum": np.full_like(param, self.defaults["initial_accumulator_value"])}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        if weight_decay != 0:
            g = g + weight_decay * param
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        state["sum"] += g * g
        std = np.sqrt(state["sum"]) + eps
        param += -clr * g / std
