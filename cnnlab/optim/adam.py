"""Adam and AdamW: moving averages of the gradient and of its square, with bias corrections.

Per parameter, with g the gradient (negated when ``maximize``) and t the step count::

    p = p * (1 - lr * weight_decay)            AdamW (decoupled decay)
    g = g + weight_decay * p                   Adam (L2 penalty in the gradient)
    m = m + (1 - beta1) * (g - m)              (a lerp towards g)
    v = beta2 * v + (1 - beta2) * g * g
    v_max = max(v_max, v)                      amsgrad, which then uses v_max in place of v
    p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

Bias corrections are computed in Python floats; eps is added after the bias correction of sqrt(v), as in
PyTorch's single-tensor path.

References: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014); Loshchilov & Hutter,
"Decoupled Weight Decay Regularization" (2017); torch/optim/adam.py (PyTorch 2.13), ``_single_tensor_adam``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, _check, _lerp_

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, with optional AMSGrad, L2 weight decay (or decoupled decay), and maximisation.

    >>> import cnnlab
    >>> w = cnnlab.nn.Parameter(cnnlab.tensor([1.0, -2.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # the first step moves each weight by about lr
    >>> w.data.round(4)
    array([ 0.9, -1.9], dtype=float32)
    >>> sorted(opt.state[w])
    ['exp_avg', 'exp_avg_sq', 'step']
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, (list, tuple)) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        betas = options["betas"]
        _check(0.0 <= options["lr"], f"Invalid learning rate: {options['lr']} (expected lr >= 0)")
        _check(0.0 <= options["eps"], f"Invalid epsilon value: {options['eps']} (expected eps >= 0)")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
        _check(
            0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]} (expected 0 <= beta1 < 1)"
        )
        _check(
            0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]} (expected 0 <= beta2 < 1)"
        )
        _check(
            0.0 <= options["weight_decay"],
            f"Invalid weight_decay value: {options['weight_decay']} (expected weight_decay >= 0)",
        )

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        step = state["step"]
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * param
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        t = np.multiply(g, 1 - beta2)  # a scratch array, reused below for the denominator
        t *= g
        v += t
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:  # amsgrad switched on after the first steps
                state["max_exp_avg_sq"] = np.zeros_like(param)
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = np.sqrt(v, out=t)
        denom /= bias_correction2_sqrt
        denom += eps
        update = np.multiply(m, -step_size)  # PyTorch's addcdiv, in its order: (-step_size · m) / denom
        update /= denom
        param += update


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the Adam step).

    >>> import cnnlab
    >>> w = cnnlab.nn.Parameter(cnnlab.tensor([1.0, -2.0]))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = cnnlab.zeros(2)    # no gradient signal: only the decay acts
    >>> opt.step()
    >>> w.data
    array([ 0.95, -1.9 ], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
        )
