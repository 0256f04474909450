"""The shared test harness: one call checks an op's forward and gradients against PyTorch.

Rows of an op table call :func:`check_against_torch` (forward and every input gradient, for float32 and
float64) and :func:`check_gradients` (float64 finite differences through ``cnnlab.autograd.gradcheck``).
Tolerances are the project's: float32 within rtol 1e-4 / atol 1e-5, float64 within 1e-10.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

import cnnlab

torch.set_num_threads(1)

TOLERANCE = {np.dtype(np.float32): (1e-4, 1e-5), np.dtype(np.float64): (1e-10, 1e-10)}


def noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values as ``a``, as a strided view (every other element of a larger array)."""
    big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype) if a.ndim else np.zeros(2, a.dtype)
    if a.ndim == 0:
        return a
    big[..., ::2] = a
    view = big[..., ::2]
    assert not view.flags.c_contiguous or a.shape[-1] <= 1
    return view


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, (tuple, list)) else out


def _as_numpy(t: Any) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    if isinstance(t, cnnlab.Tensor):
        return t.data
    return np.asarray(t)


def assert_close(ours: Any, theirs: Any, dtype: Any = None, rtol: float | None = None, atol: float | None = None,
                 what: str = "output") -> None:
    a, b = _as_numpy(ours), _as_numpy(theirs)
    dtype = np.dtype(dtype or (a.dtype if a.dtype.kind == "f" else np.float64))
    default_rtol, default_atol = TOLERANCE.get(dtype, (1e-4, 1e-5))
    assert a.shape == b.shape, f"{what}: shape {a.shape} != PyTorch's {b.shape}"
    if b.dtype.kind == "f":
        assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != PyTorch's {b.dtype}"
    np.testing.assert_allclose(
        a, b, rtol=default_rtol if rtol is None else rtol, atol=default_atol if atol is None else atol,
        err_msg=what, equal_nan=True,
    )


def check_against_torch(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    inputs: Sequence[Any],
    grad: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> Any:
    """Run ``ours`` on cnnlab tensors and ``theirs`` on torch tensors made from the same ``inputs``.

    Floating arrays in ``inputs`` require grad (when ``grad``); other values pass unchanged. The first
    output is compared, then backpropagated with the same random upstream gradient in both libraries,
    and every input gradient is compared. Returns the cnnlab output.
    """
    cn_inputs, th_inputs = [], []
    for x in inputs:
        if isinstance(x, np.ndarray):
            wants = grad and x.dtype.kind == "f"
            cn_inputs.append(cnnlab.Tensor(x.copy() if x.flags.c_contiguous else x, requires_grad=wants))
            th_inputs.append(torch.from_numpy(np.array(x)).requires_grad_(wants))
        else:
            cn_inputs.append(x)
            th_inputs.append(x)
    out_cn, out_th = ours(*cn_inputs), theirs(*th_inputs)
    if isinstance(out_th, (tuple, list)):
        assert isinstance(out_cn, (tuple, list)) and len(out_cn) == len(out_th)
        for i, (a, b) in enumerate(zip(out_cn, out_th)):
            assert_close(a, b, rtol=rtol, atol=atol, what=f"output {i}")
    else:
        assert_close(out_cn, out_th, rtol=rtol, atol=atol)
    first_cn, first_th = _first(out_cn), _first(out_th)
    if grad and first_th.requires_grad:
        upstream = np.random.default_rng(seed).standard_normal(first_th.shape).astype(_as_numpy(first_th).dtype)
        first_th.backward(torch.from_numpy(upstream))
        first_cn.backward(upstream)
        for i, (a, b) in enumerate(zip(cn_inputs, th_inputs)):
            if isinstance(b, torch.Tensor) and b.requires_grad:
                if b.grad is None:
                    assert a.grad is None or not np.any(a.grad.data), f"input {i}: gradient where PyTorch has none"
                    continue
                assert a.grad is not None, f"input {i}: no gradient, PyTorch has one"
                assert_close(a.grad, b.grad, rtol=rtol, atol=atol, what=f"gradient of input {i}")
    return out_cn


def check_gradients(fn: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-6,
                    rtol: float = 1e-4) -> None:
    """Finite-difference check in float64 of every floating input of ``fn``."""
    tensors = [
        (cnnlab.Tensor(x.astype(np.float64), requires_grad=True) if x.dtype.kind == "f" else cnnlab.tensor(x))
        if isinstance(x, np.ndarray)
        else x
        for x in inputs
    ]
    assert cnnlab.autograd.gradcheck(lambda *a: _first(fn(*a)), tensors, eps=eps, atol=atol, rtol=rtol)
