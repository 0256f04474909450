"""Receptive fields: what part of the input each unit of each layer sees.

Per spatial axis a layer with kernel k, stride s, padding p (before) and dilation d maps the field of
its input (jump j, size r, start c: the centre of the first unit, in input pixels) to

    k' = d(k-1) + 1,   j_out = j·s,   r_out = r + (k'-1)·j,   c_out = c + ((k'-1)/2 - p)·j

(Araujo, Norris and Sim, "Computing receptive fields of convolutional neural networks", Distill 2019).
Unit i of a layer then sees input pixels [c + i·j - (r-1)/2, c + i·j + (r-1)/2]. The region of one
unit (``receptive_field_for_unit``) is found exactly by walking back from that unit through every path,
clipping each layer's taps to its input map: near a border, padding and the gaps of a dilated kernel
can make it smaller than that interval clipped to the image.

How the network is traced: one forward pass with hooks on every module records which tensor each leaf
layer produced from which; between layers, the autograd graph (``Tensor._ctx`` and
``Function.inputs``) says how tensors were combined. A layer applies the rule above; an element-wise
combination of branches (a residual ``x + f(x)``, a concatenation over channels) takes the union of the
branches' fields, so the largest field over the paths wins. A layer that flattens the spatial axes
(Flatten, Linear after it) sees the whole input. Convolutions and average pooling called as functions
(``F.conv2d`` inside a ``forward``) are read from the graph too; other spatial ops outside layers, and
transposed convolutions, are refused with a message naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from ..autograd import enable_grad
from ..nn.functional._args import ntuple
from ..tensor import Tensor

_ADAPTIVE_POOLS = (
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
)  # windows set by the input and output sizes: [floor(i·n/o), ceil((i+1)·n/o))

__all__ = ["FieldRow", "ReceptiveField", "receptive_field", "receptive_field_for_unit"]


@dataclass(frozen=True)
class _Field:
    """Per spatial axis: map size, jump, field size, start (centre of unit 0); global when flattened."""

    size: tuple[int, ...]
    jump: tuple[float, ...]
    rf: tuple[float, ...]
    start: tuple[float, ...]
    is_global: bool = False


@dataclass
class FieldRow:
    """One layer's receptive field, per spatial axis."""

    name: str
    type: str
    output_size: tuple[int, ...]
    jump: tuple[float, ...]
    rf: tuple[float, ...]
    start: tuple[float, ...]
    is_global: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "output_size": list(self.output_size),
            "jump": [_num(v) for v in self.jump],
            "rf": [_num(v) for v in self.rf],
            "start": [_num(v) for v in self.start],
            "global": self.is_global,
        }


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)


def _fmt(values: tuple[float, ...]) -> str:
    return "×".join(str(_num(v)) for v in values) if values else "-"


class ReceptiveField:
    """The result of :func:`receptive_field`: a table (``str``) and ``rows`` of :class:`FieldRow`."""

    def __init__(self, model_name: str, input_size: tuple[int, ...], rows: list[FieldRow]) -> None:
        self.model_name = model_name
        self.input_size = input_size
        self.rows = rows

    def __getitem__(self, name: str) -> FieldRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(
            f"receptive_field: no layer named {name!r}; layers: {', '.join(r.name for r in self.rows)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "input_size": list(self.input_size),
            "rows": [r.to_dict() for r in self.rows],
        }

    def __str__(self) -> str:
        head = ("layer (type)", "output", "jump", "receptive field", "start")
        body = []
        for r in self.rows:
            if r.is_global:
                body.append((f"{r.name} ({r.type})", _fmt(r.output_size), "-", "whole input", "-"))
            else:
                body.append(
                    (f"{r.name} ({r.type})", _fmt(r.output_size), _fmt(r.jump), _fmt(r.rf), _fmt(r.start))
                )
        widths = [max(len(head[i]), *(len(b[i]) for b in body)) if body else len(head[i]) for i in range(5)]
        lines = [f"{self.model_name}, input {tuple(self.input_size)}"]
        for cells in [head] + body:
            lines.append(
                "  ".join(
                    f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths))
                )
            )
        return "\n".join(lines)

    __repr__ = __str__


def _geometry(module: Any, nd: int) -> tuple[tuple, tuple, tuple, tuple] | None:
    """(kernel, stride, padding before, dilation) of a windowed layer, or None for a point-wise one."""
    name = type(module).__name__
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        raise ValueError(f"receptive_field: transposed convolutions ({name}) are not supported")
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        k, s, d = module.kernel_size, module.stride, module.dilation
        if isinstance(module.padding, str):
            p = (0,) * nd if module.padding == "valid" else tuple(dd * (kk - 1) // 2 for kk, dd in zip(k, d))
        else:
            p = module.padding
        return k, s, p, d
    if isinstance(
        module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
    ):
        k = ntuple(module.kernel_size, nd, name, "kernel_size")
        s = ntuple(module.stride, nd, name, "stride")
        p = ntuple(module.padding, nd, name, "padding")
        d = ntuple(getattr(module, "dilation", 1), nd, name, "dilation")
        return k, s, p, d
    return None


def _apply(field: _Field, k, s, p, d, out_size) -> _Field:
    jump, rf, start = [], [], []
    for j, r, c, kk, ss, pp, dd in zip(field.jump, field.rf, field.start, k, s, p, d):
        k_eff = dd * (kk - 1) + 1
        jump.append(j * ss)
        rf.append(r + (k_eff - 1) * j)
        start.append(c + ((k_eff - 1) / 2 - pp) * j)
    return _Field(tuple(out_size), tuple(jump), tuple(rf), tuple(start))


def _adaptive(field: _Field, out_size) -> _Field:
    # windows of at most ceil(n/o) + 1 inputs, o of them spread over n: an upper bound on the field
    k, s = [], []
    for n, o in zip(field.size, out_size):
        k.append(max(-(-((i + 1) * n) // o) - (i * n) // o for i in range(o)))
        s.append(n / o)
    return _apply(field, k, s, (0,) * len(k), (1,) * len(k), out_size)


def _union(fields: list[_Field], out_size) -> _Field:
    if any(f.is_global for f in fields):
        return fields[0] if fields[0].is_global else next(f for f in fields if f.is_global)
    if len(fields) == 1:
        return _Field(tuple(out_size), fields[0].jump, fields[0].rf, fields[0].start)
    jump, rf, start = [], [], []
    for axis in range(len(out_size)):
        jumps = {f.jump[axis] for f in fields}
        if len(jumps) > 1:
            raise ValueError(
                f"receptive_field: branches with different strides ({sorted(jumps)}) are combined element-wise"
            )
        lo = min(f.start[axis] - (f.rf[axis] - 1) / 2 for f in fields)
        hi = max(f.start[axis] + (f.rf[axis] - 1) / 2 for f in fields)
        jump.append(jumps.pop())
        rf.append(hi - lo + 1)
        start.append((lo + hi) / 2)
    return _Field(tuple(out_size), tuple(jump), tuple(rf), tuple(start))


class _Tracer:
    """Records leaf-layer calls during one forward pass, then computes each tensor's field."""

    def __init__(self, model: nn.Module, input_size: tuple[int, ...]) -> None:
        self.model = model
        self.nd = len(input_size) - 1
        self.names = {id(m): name for name, m in model.named_modules()}
        self.made_by: dict[int, tuple[str, Any, Tensor]] = {}
        self.outputs: dict[str, Tensor] = {}
        self.calls: list[tuple[str, Any, Tensor]] = []
        self.keep: list[Any] = []  # keeps tensors alive, so that no id is reused during the trace
        self.memo: dict[int, _Field | None] = {}
        modules = [m for _, m in model.named_modules()]
        training = [m.training for m in modules]
        handles = []

        def hook(module: Any, args: tuple, output: Any) -> None:
            name = self.names.get(id(module), "?")
            if isinstance(output, (tuple, list)):
                output = output[0]
            if not isinstance(output, Tensor):
                return
            self.outputs.setdefault(name, output)
            self.keep.append((args, output))
            self.calls.append((name, module, output))
            # a layer of cnnlab.nn is one step with its own rule; anything else (a block, a model whose
            # forward calls F.conv2d) is followed through the autograd graph inside it
            if _is_layer(module) and args and isinstance(args[0], Tensor) and output is not args[0]:
                self.made_by[id(output)] = (name, module, args[0])  # (Identity, eval Dropout hand x back)

        try:
            for m in modules:
                handles.append(m.register_forward_hook(hook))
            model.eval()
            self.input = Tensor(np.zeros((1,) + tuple(input_size), dtype=np.float32), requires_grad=True)
            with enable_grad():
                self.output = model(self.input)
        finally:
            for h in handles:
                h.remove()
            for m, mode in zip(modules, training):
                m.training = mode
        spatial = tuple(input_size[1:])
        self.memo[id(self.input)] = _Field(spatial, (1.0,) * self.nd, (1.0,) * self.nd, (0.0,) * self.nd)
        self.image = spatial

    def whole(self, out_size=()) -> _Field:
        n = self.image
        return _Field(
            tuple(out_size), (0.0,) * self.nd, tuple(float(v) for v in n), tuple((v - 1) / 2 for v in n), True
        )

    def field(self, t: Tensor) -> _Field | None:
        # iterative post-order walk over the graph, memoised by tensor id
        stack = [t]
        while stack:
            x = stack[-1]
            if id(x) in self.memo:
                stack.pop()
                continue
            deps = self._deps(x)
            pending = [y for y in deps if id(y) not in self.memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            self.memo[id(x)] = self._compute(x, [self.memo[id(y)] for y in deps])
        return self.memo[id(t)]

    def region(self, t: Tensor, position: tuple[int, ...]) -> tuple[range, ...] | None:
        """The input indices unit ``position`` of ``t`` depends on, per axis: walked back from the unit
        through every path, each layer's taps clipped to its input map (so that padding, and the gaps
        of a dilated kernel at a border, count for nothing), the paths' ranges joined where they meet."""
        order, seen, stack = [], set(), [(t, False)]
        while stack:  # post-order over the tensors that depend on the input: dependencies first
            x, done = stack.pop()
            if done:
                order.append(x)
                continue
            if id(x) in seen:
                continue
            seen.add(id(x))
            stack.append((x, True))
            stack += [
                (y, False) for y in self._deps(x) if self.memo.get(id(y)) is not None and id(y) not in seen
            ]
        spans: dict[int, list[tuple[int, int]]] = {id(t): [(i, i) for i in position]}
        for x in reversed(order):
            span = spans.get(id(x))
            if span is None or x is self.input:
                continue
            for y, y_span in self._back(x, span):
                old = spans.get(id(y))
                spans[id(y)] = (
                    y_span if old is None else [(min(a, c), max(b, d)) for (a, b), (c, d) in zip(old, y_span)]
                )
        span = spans.get(id(self.input))
        return None if span is None else tuple(range(a, b + 1) for a, b in span)

    def _back(self, x: Tensor, span: list[tuple[int, int]]) -> list[tuple[Tensor, list[tuple[int, int]]]]:
        """The spans of x's inputs that x's units ``span`` read."""
        if id(x) in self.made_by:
            _, module, y = self.made_by[id(x)]
            if isinstance(module, _ADAPTIVE_POOLS):
                # output i averages [floor(i·n/o), ceil((i+1)·n/o))
                return [
                    (
                        y,
                        [
                            (a * n // o, -(-((b + 1) * n) // o) - 1)
                            for (a, b), n, o in zip(span, y.shape[2:], x.shape[2:])
                        ],
                    )
                ]
            geometry = _geometry(module, self.nd)
            return [(y, span)] if geometry is None else _taps(y, span, *geometry)
        fn = x._ctx
        kind = type(fn).__name__
        if kind == "_Conv":
            stride, pads, dilation, _ = fn.geometry
            return _taps(fn.inputs[0], span, fn.w.shape[2:], stride, tuple(b for b, _ in pads), dilation)
        if kind == "_AvgPool":
            _, kernel, stride = fn.geometry
            return _taps(fn.inputs[0], span, kernel, stride, tuple(b for b, _ in fn.pads), (1,) * self.nd)
        out = []
        for y in self._deps(x):
            if self.memo.get(id(y)) is None:
                continue
            if tuple(y.shape[2:]) == tuple(x.shape[2:]):
                out.append((y, span))  # element-wise: the same units
            else:  # broadcast (a (N, C, 1, 1) gate): all of it
                out.append((y, [(0, n - 1) for n in y.shape[2:]]))
        return out

    def _deps(self, x: Tensor) -> list[Tensor]:
        if id(x) in self.made_by:
            return [self.made_by[id(x)][2]]
        if x._ctx is None:
            return []
        return [y for y in x._ctx.inputs if isinstance(y, Tensor)]

    def _compute(self, x: Tensor, fields: list[_Field | None]) -> _Field | None:
        live = [f for f in fields if f is not None]
        if not live:
            return None
        out_size = tuple(x.shape[2:]) if x.ndim == self.nd + 2 else ()
        if id(x) in self.made_by:
            name, module, _ = self.made_by[id(x)]
            field = live[0]
            if field.is_global or not out_size:
                return self.whole(out_size)
            if isinstance(module, _ADAPTIVE_POOLS):
                return field if out_size == field.size else _adaptive(field, out_size)
            geometry = _geometry(module, self.nd)
            if geometry is None:
                if out_size != field.size:
                    raise ValueError(
                        f"receptive_field: layer {name!r} ({type(module).__name__}) changes the spatial size "
                        f"from {field.size} to {out_size} and has no receptive-field rule"
                    )
                return field
            return _apply(field, *geometry, out_size)
        fn = x._ctx
        kind = type(fn).__name__
        if not out_size:
            return self.whole(out_size)
        if kind == "_Conv":
            stride, pads, dilation, _ = fn.geometry
            return _apply(live[0], fn.w.shape[2:], stride, tuple(b for b, _ in pads), dilation, out_size)
        if kind == "_AvgPool":
            _, kernel, stride = fn.geometry
            return _apply(live[0], kernel, stride, tuple(b for b, _ in fn.pads), (1,) * self.nd, out_size)
        if any(f.is_global for f in live):
            return self.whole(out_size)
        if all(f.size == out_size for f in live):
            return _union(live, out_size)
        raise ValueError(
            f"receptive_field: can't follow {fn.name}, which changes the spatial size {live[0].size} -> {out_size} "
            "outside a layer; wrap it in a module"
        )


def _is_layer(module: Any) -> bool:
    """A layer of cnnlab.nn (Conv2d, MaxPool2d, ReLU …), as opposed to a container or a user's module."""
    return type(module).__module__.startswith("cnnlab.nn.") and not any(True for _ in module.children())


def _taps(y: Tensor, span, kernel, stride, pad, dilation) -> list[tuple[Tensor, list[tuple[int, int]]]]:
    """Per axis, the first and last index of y that output units span[0]..span[1] read (none: [])."""
    out = []
    for (a, b), k, s, p, d, n in zip(span, kernel, stride, pad, dilation, y.shape[2:]):
        taps = np.arange(a, b + 1)[:, None] * s - p + np.arange(k) * d  # (units, kernel offsets)
        taps = taps[(taps >= 0) & (taps < n)]
        if taps.size == 0:  # these units read only padding
            return []
        out.append((int(taps.min()), int(taps.max())))
    return [(y, out)]


def _check_input_size(input_size: Any, fn: str) -> tuple[int, ...]:
    if (
        not isinstance(input_size, (tuple, list))
        or not 2 <= len(input_size) <= 4
        or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in input_size)
    ):
        raise ValueError(
            f"{fn}: expected input_size (C, H, W) (or (C, L), (C, D, H, W)) of positive ints without the batch "
            f"dimension, got {input_size!r}"
        )
    return tuple(int(n) for n in input_size)


def receptive_field(model: nn.Module, input_size: tuple[int, ...]) -> ReceptiveField:
    """Per layer: output map size, jump, receptive-field size and start, for each spatial axis.

    Works for sequential and branching networks (the largest field over the paths into a layer).

    Shape: ``input_size`` is (C, *spatial), without the batch dimension.

    >>> from cnnlab import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2), nn.MaxPool2d(2))
    >>> rf = receptive_field(net, (1, 16, 16))
    >>> [(r.name, r.rf[0], r.jump[0]) for r in rf.rows]
    [('0', 3.0, 1.0), ('1', 3.0, 1.0), ('2', 5.0, 2.0), ('3', 7.0, 4.0)]
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"receptive_field: expected model to be a cnnlab.nn.Module, got {type(model).__name__}"
        )
    size = _check_input_size(input_size, "receptive_field")
    tracer = _Tracer(model, size)
    rows = []
    for name, module, out in tracer.calls:
        f = tracer.field(out)
        if f is None or (name == "" and not _is_layer(module)):  # the model itself, unless it is one layer
            continue
        rows.append(
            FieldRow(
                name or type(module).__name__,
                type(module).__name__,
                f.size,
                f.jump,
                f.rf,
                f.start,
                f.is_global,
            )
        )
    return ReceptiveField(type(model).__name__, size, rows)


def receptive_field_for_unit(
    model: nn.Module, input_size: tuple[int, ...], layer: str, position: tuple[int, ...]
) -> tuple[range, ...]:
    """The input region one unit sees: a range of input indices per spatial axis, clipped to the image.

    ``layer`` is a module name from ``model.named_modules()`` (``'features.3'``, or a block such as
    ``'layer1'``); ``position`` the unit's spatial index in that layer's output map (any channel).

    Shape: ``input_size`` is (C, *spatial); ``position`` has one index per spatial axis.

    >>> from cnnlab import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, stride=2))
    >>> receptive_field_for_unit(net, (1, 12, 12), "1", (2, 0))
    (range(4, 9), range(0, 5))
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"receptive_field_for_unit: expected a cnnlab.nn.Module, got {type(model).__name__}")
    size = _check_input_size(input_size, "receptive_field_for_unit")
    tracer = _Tracer(model, size)
    if layer not in tracer.outputs:
        names = [n for n in tracer.outputs if n]
        raise ValueError(f"receptive_field_for_unit: unknown layer {layer!r}; layers: {', '.join(names)}")
    field = tracer.field(tracer.outputs[layer])
    nd = len(size) - 1
    if isinstance(position, (int, np.integer)):
        position = (int(position),)
    if (
        not isinstance(position, (tuple, list))
        or len(position) != nd
        or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in position)
    ):
        raise ValueError(f"receptive_field_for_unit: expected position to be {nd} ints, got {position!r}")
    if field is None:
        raise ValueError(f"receptive_field_for_unit: layer {layer!r} does not depend on the input")
    if field.is_global:
        return tuple(range(n) for n in size[1:])
    for i, n in zip(position, field.size):
        if not 0 <= i < n:
            raise ValueError(
                f"receptive_field_for_unit: position {tuple(position)} is outside layer {layer!r}'s output map "
                f"of size {field.size}"
            )
    region = tracer.region(tracer.outputs[layer], tuple(int(i) for i in position))
    if region is None:
        raise ValueError(
            f"receptive_field_for_unit: unit {tuple(position)} of layer {layer!r} reads only padding"
        )
    return region
