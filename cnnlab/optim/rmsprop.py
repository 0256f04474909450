"""RMSprop: divide the gradient by a running root mean square of recent gradients.

Per parameter, with g the gradient (negated when ``maximize``)::

    g = g + weight_decay * p
    v = alpha * v + (1 - alpha) * g * g
    a = g_avg + (1 - alpha) * (g - g_avg)      centered: a running mean of g ...
    d = sqrt(v - a * a) + eps                  ... subtracted from v: an estimate of the variance
    d = sqrt(v) + eps                          otherwise
    b = momentum * b + g / d;  p = p - lr * b  with momentum (b starts at zero)
    p = p - lr * g / d                         without

References: Hinton, Neural Networks for Machine Learning, lecture 6e; Graves, "Generating Sequences With
Recurrent Neural Networks" (2013) for the centered form; torch/optim/rmsprop.py (PyTorch 2.13).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum.

    >>> import cnnlab
    >>> w = cnnlab.nn.Parameter(cnnlab.tensor([1.0, -2.0]))
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # g / sqrt(0.25 g^2) = 2 sign(g)
    >>> w.data
    array([ 0.98, -1.98], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        _check(0.0 <= options["lr"], f"Invalid learning rate: {options['lr']} (expected lr >= 0)")
        _check(0.0 <= options["eps"], f"Invalid epsilon value: {options['eps']} (expected eps >= 0)")
        _check(
            0.0 <= options["momentum"],
            f"Invalid momentum value: {options['momentum']} (expected momentum >= 0)",
        )
        _check(
            0.0 <= options["weight_decay"],
            f"Invalid weight_decay value: {options['weight_decay']} (expected weight_decay >= 0)",
        )
        _check(0.0 <= options["alpha"], f"Invalid alpha value: {options['alpha']} (expected alpha >= 0)")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        keys = ("step", "square_avg")
        if group["momentum"] > 0:
            keys += ("momentum_buffer",)
        if group["centered"]:
            keys += ("grad_avg",)
        return keys

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum, weight_decay = float(group["momentum"]), float(group["weight_decay"])
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        if weight_decay != 0:
            g = g + weight_decay * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state.setdefault("grad_avg", np.zeros_like(param))
            _lerp_(grad_avg, g, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(param))
            buf *= momentum
            buf += g / avg
            param += -lr * buf
        else:
            param += -lr * g / avg
