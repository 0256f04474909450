"""Model summary: one row per layer with output shape, parameters and MACs, then the totals.

How it works: forward pre-hooks and hooks are put on every module, one forward pass runs on a random
input under ``no_grad`` in eval mode, and the hooks and training flags are restored afterwards (in a
``finally``, so a failing model leaves nothing behind). Each call of a module becomes a row, in call
order; a container's MACs are the sum of the calls made inside it. A module called twice (shared)
appears twice but its parameters are counted once; totals of parameters come from
``model.parameters()``, which lists a shared parameter once.

Buffers are the floating-point buffers (BatchNorm's running mean and variance); integer counters such
as ``num_batches_tracked`` are not counted, as Keras counts. Memory is in MB of 10^6 bytes, as in
torchinfo: the input, the outputs of every leaf layer twice (forward value and its gradient), and the
parameters with the buffers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor
from .macs import layer_macs, torchinfo_macs

__all__ = ["Summary", "summary"]

_MB = 1e6


class Summary:
    """The result of :func:`summary`: prints as a table, and gives the rows and totals as data.

    ``rows`` is a list of dicts (name, type, depth, output_shape, params, macs, shared); ``totals`` a
    dict (trainable_params, frozen_params, buffers, total_params, total_with_buffers, macs, and the
    memory figures in MB). ``to_dict()`` and ``to_json()`` give both.
    """

    def __init__(self, model_name: str, input_shape: tuple[int, ...], rows: list[dict], totals: dict) -> None:
        self.model_name = model_name
        self.input_shape = input_shape
        self.rows = rows
        self.totals = totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "input_shape": list(self.input_shape),
            "rows": self.rows,
            "totals": self.totals,
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        t = self.totals
        head = ("Layer (type)", "Output shape", "Param #", "MACs")
        body = []
        for r in self.rows:
            label = "  " * (r["depth"] - 1) + f"{r['name'].rsplit('.', 1)[-1]} ({r['type']})"
            params = "(shared)" if r["shared"] else (f"{r['params']:,}" if r["params"] else "--")
            macs = f"{r['macs']:,}" if r["macs"] else "--"
            body.append((label, str(r["output_shape"]), params, macs))
        widths = [max([len(head[i])] + [len(b[i]) for b in body]) for i in range(4)]
        width = sum(widths) + 6

        def line(cells: tuple[str, ...]) -> str:
            return f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}  {cells[3]:>{widths[3]}}"

        rule = "=" * width
        lines = [f"{self.model_name}, input {tuple(self.input_shape)}", rule, line(head), rule]
        lines += [line(b) for b in body]
        lines += [
            rule,
            f"Trainable params: {t['trainable_params']:,}",
            f"Frozen params: {t['frozen_params']:,}",
            f"Non-trainable running statistics (buffers): {t['buffers']:,}",
            f"Total params: {t['total_params']:,}",
            f"Total params with buffers (as Keras counts): {t['total_with_buffers']:,}",
            f"Total MACs: {t['macs']:,}",
            rule,
            f"Input size (MB): {t['input_mb']:.2f}",
            f"Forward/backward pass size (MB): {t['activations_mb']:.2f}",
            f"Params size (MB): {t['params_mb']:.2f}",
            f"Estimated total size (MB): {t['total_mb']:.2f}",
            rule,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _shape_of(value: Any) -> tuple[int, ...] | list:
    if isinstance(value, Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return [_shape_of(v) for v in value]
    return ()


def _first_tensor(values: Any) -> Tensor | None:
    for v in values if isinstance(values, (tuple, list)) else (values,):
        if isinstance(v, Tensor):
            return v
    return None


def _check_input_size(input_size: Any) -> tuple[int, ...]:
    if isinstance(input_size, (int, np.integer)) and not isinstance(input_size, bool):
        input_size = (int(input_size),)
    if (
        not isinstance(input_size, (tuple, list))
        or not input_size
        or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in input_size)
    ):
        raise ValueError(
            f"summary: expected input_size to be a tuple of positive ints without the batch dimension, "
            f"such as (1, 28, 28), got {input_size!r}"
        )
    return tuple(int(n) for n in input_size)


def summary(
    model: nn.Module,
    input_size: tuple[int, ...],
    depth: int = 3,
    batch_size: int = 1,
    dtype: Any = np.float32,
    macs: str = "exact",
) -> Summary:
    """Layer-by-layer table of a model: output shapes, parameters, MACs, totals and memory.

    ``input_size`` leaves out the batch dimension; ``depth`` is how many levels of nested modules get
    a row (deeper calls are summed into their ancestor's row). ``macs='exact'`` counts by
    :data:`cnnlab.inspect.MAC_RULES`; ``macs='torchinfo'`` reproduces torchinfo 1.8's counts.

    Shape: one forward pass on an input (batch_size, *input_size).

    >>> from cnnlab.models import lenet5
    >>> s = summary(lenet5(), (1, 28, 28))
    >>> s.totals["total_params"], s.totals["macs"]
    (61706, 423038)
    >>> s.rows[1]["name"], s.rows[1]["output_shape"]
    ('features.0', [1, 6, 28, 28])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary: expected model to be a cnnlab.nn.Module, got {type(model).__name__}")
    shape = _check_input_size(input_size)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"summary: expected depth to be a positive int, got {depth!r}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"summary: expected batch_size to be a positive int, got {batch_size!r}")
    if macs not in ("exact", "torchinfo"):
        raise ValueError(f"summary: expected macs to be 'exact' or 'torchinfo', got {macs!r}")
    rule = layer_macs if macs == "exact" else torchinfo_macs
    names = {id(m): name for name, m in model.named_modules()}
    seen_calls: set[int] = set()
    records: list[dict] = []
    stack: list[dict] = []
    leaf_output_bytes = [0]

    def pre_hook(module: nn.Module, args: tuple) -> None:
        name = names.get(id(module), "?")
        record = {
            "name": name,
            "type": type(module).__name__,
            "depth": 0 if name == "" else name.count(".") + 1,
            "output_shape": [],
            "params": sum(p.numel() for p in module.parameters()),
            "macs": 0,
            "shared": id(module) in seen_calls,
            "_leaf": not any(True for _ in module.children()),
        }
        seen_calls.add(id(module))
        records.append(record)
        stack.append(record)

    def hook(module: nn.Module, args: tuple, output: Any) -> None:
        record = stack.pop()
        out_shape = _shape_of(output)
        record["output_shape"] = list(out_shape) if isinstance(out_shape, tuple) else out_shape
        if record["_leaf"]:
            x, y = _first_tensor(args), _first_tensor(output)
            if x is not None and y is not None:
                record["macs"] = rule(module, tuple(x.shape), tuple(y.shape))
            if y is not None:
                leaf_output_bytes[0] += y.data.nbytes
        if stack:
            stack[-1]["macs"] += record["macs"]

    modules = [m for _, m in model.named_modules()]
    training = [m.training for m in modules]
    handles = []
    try:
        for m in modules:
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(hook))
        model.eval()
        x = Tensor(np.random.default_rng(0).standard_normal((batch_size,) + shape).astype(dtype))
        with no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        for m, mode in zip(modules, training):
            m.training = mode

    params = list(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    frozen = sum(p.numel() for p in params if not p.requires_grad)
    buffers = [b for b in model.buffers() if b.dtype.kind == "f"]
    n_buffers = sum(b.numel() for b in buffers)
    itemsize = np.dtype(dtype).itemsize
    input_mb = batch_size * math.prod(shape) * itemsize / _MB
    activations_mb = 2 * leaf_output_bytes[0] / _MB
    params_mb = (sum(p.data.nbytes for p in params) + sum(b.data.nbytes for b in buffers)) / _MB
    rows = []
    if records and records[0]["_leaf"]:  # a single layer: it is its own row
        records[0].update(name=type(model).__name__, depth=1)
    for r in records if records and records[0]["_leaf"] else records[1:]:
        if r["depth"] <= depth:
            rows.append({k: v for k, v in r.items() if not k.startswith("_")})
    totals = {
        "trainable_params": int(trainable),
        "frozen_params": int(frozen),
        "buffers": int(n_buffers),
        "total_params": int(trainable + frozen),
        "total_with_buffers": int(trainable + frozen + n_buffers),
        "macs": int(records[0]["macs"]) if records else 0,
        "input_mb": input_mb,
        "activations_mb": activations_mb,
        "params_mb": params_mb,
        "total_mb": input_mb + activations_mb + params_mb,
    }
    return Summary(type(model).__name__, (batch_size,) + shape, rows, totals)
