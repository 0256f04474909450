"""SGD: stochastic gradient descent with optional momentum (heavy ball or Nesterov) and weight decay.

Per parameter, with g the gradient (negated when ``maximize``)::

    g = g + weight_decay * p
    b = g                                      on the first step (no dampening yet)
    b = momentum * b + (1 - dampening) * g     afterwards
    g = g + momentum * b  (nesterov)  or  g = b
    p = p - lr * g

Reference: torch/optim/sgd.py (PyTorch 2.13), ``_single_tensor_sgd``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, Nesterov momentum and weight decay.

    >>> import cnnlab
    >>> w = cnnlab.nn.Parameter(cnnlab.tensor([1.0, 2.0]))
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward()    # grad = 2 w
    >>> opt.step()
    >>> w.data
    array([0.8, 1.6], dtype=float32)
    >>> opt.state[w]["momentum_buffer"]
    array([2., 4.], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        _check(0.0 <= options["lr"], f"Invalid learning rate: {options['lr']} (expected lr >= 0)")
        _check(
            0.0 <= options["momentum"],
            f"Invalid momentum value: {options['momentum']} (expected momentum >= 0)",
        )
        _check(
            0.0 <= options["weight_decay"],
            f"Invalid weight_decay value: {options['weight_decay']} (expected weight_decay >= 0)",
        )
        _check(
            not options["nesterov"] or (options["momentum"] > 0 and options["dampening"] == 0),
            f"Nesterov momentum requires a momentum and zero dampening, got momentum={options['momentum']} and "
            f"dampening={options['dampening']}",
        )

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        g = -grad if group["maximize"] else grad
        if weight_decay != 0:
            g = g + weight_decay * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g)  # the first step takes the gradient whole
            else:
                buf *= momentum
                buf += g if dampening == 0 else (1 - dampening) * g  # (no pass spent multiplying by 1)
            g = g + momentum * buf if group["nesterov"] else buf
        param += -lr * g
