"""Layer parity with PyTorch: same weights in, same outputs, input gradients, parameter gradients and
buffers out. Used by the test_*_layers.py files of this folder."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from harness import assert_close

import cnnlab

TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def torch_state_as_numpy(theirs: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}


def copy_weights(ours: cnnlab.nn.Module, theirs: torch.nn.Module) -> None:
    """Load PyTorch's parameters and buffers into ours (strict: the keys must be the same)."""
    ours.load_state_dict(torch_state_as_numpy(theirs))


def check_layer(
    ours: cnnlab.nn.Module,
    theirs: torch.nn.Module,
    *inputs: Any,
    dtype: Any = np.float32,
    training: bool = True,
    grad: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> Any:
    """Run both layers on the same inputs (floating arrays are cast to ``dtype`` and require grad).

    Compares the state_dict keys, the output, every input gradient, every parameter gradient (by name)
    and, after the forward, every buffer (running statistics).
    """
    dtype = np.dtype(dtype)
    theirs.to(TORCH_DTYPE[dtype])
    ours.to(dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict()), "state_dict keys differ from PyTorch's"
    copy_weights(ours, theirs)
    ours.train(training)
    theirs.train(training)
    cn_inputs, th_inputs = [], []
    for x in inputs:
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            x = x.astype(dtype)
            cn_inputs.append(cnnlab.tensor(x, requires_grad=grad))
            th_inputs.append(torch.tensor(x, requires_grad=grad))
        elif isinstance(x, np.ndarray):
            cn_inputs.append(cnnlab.tensor(x))
            th_inputs.append(torch.tensor(x))
        else:
            cn_inputs.append(x)
            th_inputs.append(x)
    out_cn, out_th = ours(*cn_inputs), theirs(*th_inputs)
    first_cn = out_cn[0] if isinstance(out_cn, tuple) else out_cn
    first_th = out_th[0] if isinstance(out_th, tuple) else out_th
    assert_close(first_cn, first_th, rtol=rtol, atol=atol, what="output")
    if isinstance(out_th, tuple):
        for i, (a, b) in enumerate(zip(out_cn[1:], out_th[1:]), 1):
            np.testing.assert_array_equal(a.data, b.numpy(), err_msg=f"output {i}")
    for (name, b_cn), (_, b_th) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert_close(b_cn, b_th, rtol=rtol, atol=atol, what=f"buffer {name}")
    if grad and first_th.requires_grad:
        upstream = np.random.default_rng(seed).standard_normal(first_th.shape).astype(dtype)
        first_th.backward(torch.from_numpy(upstream))
        first_cn.backward(upstream)
        for i, (a, b) in enumerate(zip(cn_inputs, th_inputs)):
            if isinstance(b, torch.Tensor) and b.requires_grad:
                assert a.grad is not None, f"input {i}: no gradient, PyTorch has one"
                assert_close(a.grad, b.grad, rtol=rtol, atol=atol, what=f"gradient of input {i}")
        th_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            tp = th_params[name]
            if tp.grad is None:
                assert p.grad is None or not np.any(p.grad.data), (
                    f"parameter {name}: gradient where PyTorch has none"
                )
                continue
            assert p.grad is not None, f"parameter {name}: no gradient, PyTorch has one"
            assert_close(p.grad, tp.grad, rtol=rtol, atol=atol, what=f"gradient of {name}")
    return out_cn
