"""Worked arithmetic: every output value of a convolution or pooling written out as on a whiteboard.

Each explanation runs the library's own op (``F.conv2d``, ``F.max_pool2d`` …, in float64) for the
output, reads the windows through the library's own window view (``functional.conv.windows``) and pads
with ``F.pad``; then it writes every sum out term by term, evaluates that written sum itself, and
raises if the two ever disagree. So the explanation and the computation cannot drift apart.

>>> print(conv([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]]).steps[0].expression)
0×0 + 1×1 + 3×2 + 4×3 = 19
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..nn import functional as F
from ..nn.functional._args import ntuple
from ..nn.functional.conv import conv_geometry, im2col, windows
from ..tensor import Tensor

__all__ = ["Explanation", "Step", "conv", "conv_transpose", "pool", "unfold"]

_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
_MAX_TERMS = 20000  # written-out arithmetic is for small examples


@dataclass
class Step:
    """The computation of one output value.

    ``output_index`` is (channel, *position); ``input_cells`` are (channel, *position) in the padded
    input (for a transposed convolution: in the input) that take part; ``winner`` is the max pool's
    chosen cell; ``expression`` is the written-out arithmetic, ending in ``= value``.
    """

    output_index: tuple[int, ...]
    value: float
    expression: str
    input_cells: list[tuple[int, ...]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    winner: tuple[int, ...] | None = None


@dataclass
class Explanation:
    """A worked example: the operands, the library's output, and one :class:`Step` per output value.

    Arrays drop the batch axis: ``input`` (C, *S), ``padded`` (C, *S padded), ``kernel`` (OC, C, *K)
    for convolution ((C, OC, *K) transposed, None for pooling), ``output`` (OC, *O).
    """

    op: str
    nd: int
    input: np.ndarray
    padded: np.ndarray
    pads: tuple[tuple[int, int], ...]
    kernel: np.ndarray | None
    bias: np.ndarray | None
    output: np.ndarray
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    steps: list[Step]
    header: list[str]
    extra: list[str] = field(default_factory=list)
    columns: np.ndarray | None = None

    @property
    def lines(self) -> list[str]:
        """The written-out arithmetic of each output value, in order."""
        return [s.expression for s in self.steps]

    @property
    def text(self) -> str:
        out = list(self.header)
        for step in self.steps:
            label = _label(self, step.output_index)
            first, *rest = step.expression.split("\n")
            out.append(f"{label} = {first}")
            out += [" " * (len(label) + 3) + r for r in rest]
        out += self.extra
        out.append("output:")
        out += _block(self.output, self.nd, "y")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text


# ---------------------------------------------------------------------------------------- formatting


def _num(v: float) -> str:
    v = float(v)
    if math.isinf(v):
        return "-∞" if v < 0 else "∞"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def _par(v: float) -> str:
    text = _num(v)
    return f"({text})" if text.startswith("-") else text


def _sum(values: list[float]) -> str:
    return " + ".join(_par(v) if i else _num(v) for i, v in enumerate(values))


def _grid(a: np.ndarray, indent: str = "  ") -> list[str]:
    """A 1-D or 2-D array as right-aligned rows of numbers."""
    a = np.atleast_2d(a)
    cells = [[_num(v) for v in row] for row in a]
    width = max(len(c) for row in cells for c in row)
    return [indent + " ".join(f"{c:>{width}}" for c in row) for row in cells]


def _block(a: np.ndarray, nd: int, name: str) -> list[str]:
    """(C, *S) as grids: one per channel (and per depth slice in 3-D)."""
    lines = []
    for c in range(a.shape[0]):
        if a.shape[0] > 1:
            lines.append(f" {name} channel {c}:")
        if nd == 3:
            for d in range(a.shape[1]):
                lines.append(f"  depth {d}:")
                lines += _grid(a[c, d], "    ")
        else:
            lines += _grid(a[c])
    return lines


def _kernel_block(w: np.ndarray, nd: int, transposed: bool = False) -> list[str]:
    """A kernel (OC, C, *K) ((C, OC, *K) transposed) as one grid per (output, input) channel pair."""
    A, B = w.shape[:2]
    if A * B == 1:
        return _block(w[0], nd, "w")
    lines = []
    for a in range(A):
        for b in range(B):
            oc, c = (b, a) if transposed else (a, b)
            lines.append(f" w[{a}][{b}] (input channel {c} -> output channel {oc}):")
            lines += _block(w[a, b][None], nd, "w")
    return lines


def _label(ex: Explanation, index: tuple[int, ...]) -> str:
    channels = ex.output.shape[0]
    pos = ",".join(str(i) for i in index[1:])
    return f"y[{index[0]}][{pos}]" if channels > 1 else f"y[{pos}]"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(n) for n in shape)


# ---------------------------------------------------------------------------------------- operands


def _array(value: Any, name: str, fn: str) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{fn}: expected {name} to be a rectangular array of numbers, got {value!r}"
        ) from None
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{fn}: expected {name} to be a non-empty array of finite numbers, got {value!r}")
    return a


def _input(value: Any, nd: int, fn: str) -> np.ndarray:
    if nd not in (1, 2, 3):
        raise ValueError(f"{fn}: expected nd to be 1, 2 or 3, got {nd!r}")
    x = _array(value, "input", fn)
    if x.ndim == nd:
        x = x[None]
    if x.ndim != nd + 1:
        raise ValueError(
            f"{fn}: expected a {nd}-D input ({', '.join(_AXES[nd])}) or ({'C, ' + ', '.join(_AXES[nd])}), "
            f"got shape {x.shape}"
        )
    return x


def _kernel(value: Any, nd: int, channels: int, fn: str, transposed: bool = False) -> np.ndarray:
    w = _array(value, "kernel", fn)
    if w.ndim == nd:
        w = w[None, None]
    elif w.ndim == nd + 1:
        w = w[:, None] if transposed else w[None]
    if w.ndim != nd + 2:
        raise ValueError(f"{fn}: expected a {nd}-D kernel, or one with channel axes, got shape {w.shape}")
    held = w.shape[0] if transposed else w.shape[1]
    if held != channels:
        raise ValueError(
            f"{fn}: the input has {channels} channel(s) but the kernel of shape {w.shape} expects {held}"
        )
    return w


def _bias(value: Any, channels: int, fn: str) -> np.ndarray | None:
    if value is None:
        return None
    b = _array(value, "bias", fn).reshape(-1)
    if b.shape != (channels,):
        raise ValueError(f"{fn}: expected bias of {channels} value(s) (one per output channel), got {b.size}")
    return b


def _check_size(terms: int, fn: str) -> None:
    if terms > _MAX_TERMS:
        raise ValueError(
            f"{fn}: writing this out takes {terms:,} terms; explanations are for small examples (at most {_MAX_TERMS:,})"
        )


def _flat_pads(pads: tuple[tuple[int, int], ...]) -> list[int]:
    return [v for b, a in reversed(pads) for v in (b, a)]  # F.pad's order: last axis first


def _agree(fn: str, mine: float, library: float, where: tuple[int, ...], op: str) -> None:
    if not np.isclose(mine, library, rtol=1e-9, atol=1e-9):
        raise RuntimeError(
            f"{fn}: the written-out arithmetic gives {mine!r} at {where} but {op} computed {library!r}; "
            "this is a bug, please report it"
        )


def _formulas(
    op: str,
    spatial,
    kernel,
    stride,
    pads,
    dilation,
    out,
    transposed=False,
    output_padding=None,
    ceil_mode=False,
) -> list[str]:
    lines = []
    for ax, n, k, s, (b, a), d, o in zip(_AXES[len(kernel)], spatial, kernel, stride, pads, dilation, out):
        if transposed:
            op_ = output_padding[_AXES[len(kernel)].index(ax)]
            lines.append(f"  {ax}: ({n} - 1)·{s} - 2·{b} + {d}·({k}-1) + {op_} + 1 = {o}")
        else:
            pad = f"2·{b}" if a == b else f"{b} + {a}"
            rounding = "ceil" if ceil_mode else "floor"
            lines.append(f"  {ax}: {rounding}(({n} + {pad} - {d}·({k}-1) - 1)/{s}) + 1 = {o}")
    return lines


# ---------------------------------------------------------------------------------------- convolution


def conv(
    input: Any,
    kernel: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    nd: int = 2,
) -> Explanation:
    """Every output value of a convolution (cross-correlation) written out, checked against ``F.conv{nd}d``.

    ``input`` is (*S) for one channel or (C, *S); ``kernel`` is (*K), (C, *K) or (OC, C, *K); ``bias``
    one number per output channel. Several input channels: the sum per channel, then their total.

    Shape: input (C, *S), kernel (OC, C, *K) -> output (OC, *O), O = floor((S + 2p - d(K-1) - 1)/s) + 1.

    >>> ex = conv([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]])
    >>> ex.lines
    ['0×0 + 1×1 + 3×2 + 4×3 = 19', '1×0 + 2×1 + 4×2 + 5×3 = 25', '3×0 + 4×1 + 6×2 + 7×3 = 37', '4×0 + 5×1 + 7×2 + 8×3 = 43']
    """
    fn = "explain.conv"
    x = _input(input, nd, fn)
    w = _kernel(kernel, nd, x.shape[0], fn)
    b = _bias(bias, w.shape[0], fn)
    op = f"conv{nd}d"
    stride, pads, dilation, out_shape = conv_geometry(
        op, (1,) + x.shape, w.shape, stride, padding, dilation, 1
    )
    OC, C = w.shape[:2]
    K = tuple(w.shape[2:])
    _check_size(math.prod(out_shape) * C * math.prod(K), fn)
    y = getattr(F, op)(
        Tensor(x[None]), Tensor(w), None if b is None else Tensor(b), stride, padding, dilation
    ).data[0]
    xp = F.pad(Tensor(x), _flat_pads(pads)).data
    win = windows(xp[None], K, stride, dilation)[0]  # (C, *O, *K): the library's window view
    steps = []
    for oc in range(OC):
        for pos in np.ndindex(*out_shape[2:]):
            parts, totals, cells, weights = [], [], [], []
            for c in range(C):
                xs = win[(c,) + pos].reshape(-1)
                ws = w[oc, c].reshape(-1)
                total = float(np.sum(xs * ws))
                totals.append(total)
                parts.append(" + ".join(f"{_par(a)}×{_par(v)}" for a, v in zip(xs, ws)) + f" = {_num(total)}")
                for k in np.ndindex(*K):
                    cells.append(
                        (c,) + tuple(p * s + kk * d for p, s, kk, d in zip(pos, stride, k, dilation))
                    )
                weights += ws.tolist()
            mine = sum(totals) + (b[oc] if b is not None else 0.0)
            value = float(y[(oc,) + pos])
            _agree(fn, mine, value, (oc,) + pos, f"F.{op}")
            if C == 1 and b is None:
                expression = parts[0]
            elif C == 1:
                expression = parts[0].rsplit(" = ", 1)[0] + f" + {_par(b[oc])} (bias) = {_num(value)}"
            else:
                lines = [f"channel {c}: {p}" for c, p in enumerate(parts)]
                tail = _sum(totals) + (f" + {_par(b[oc])} (bias)" if b is not None else "")
                expression = "\n".join(lines + [f"{tail} = {_num(value)}"])
            steps.append(Step((oc,) + pos, value, expression, cells, weights))
    header = [
        f"{op}: input {_shape_text(x.shape)}, kernel {_shape_text(w.shape)}, stride {_tuple_text(stride)}, "
        f"padding {_pads_text(pads)}, dilation {_tuple_text(dilation)} -> output {_shape_text(y.shape)}",
        *_formulas(op, x.shape[1:], K, stride, pads, dilation, out_shape[2:]),
        "input" + (" (zero-padded)" if any(v for p in pads for v in p) else "") + ":",
        *_block(xp, nd, "x"),
        "kernel:",
        *_kernel_block(w, nd),
    ]
    if b is not None:
        header.append("bias: " + ", ".join(_num(v) for v in b))
    return Explanation(op, nd, x, xp, pads, w, b, y, K, stride, dilation, steps, header)


def _tuple_text(t: tuple[int, ...]) -> str:
    return str(t[0]) if len(set(t)) == 1 else str(t)


def _pads_text(pads: tuple[tuple[int, int], ...]) -> str:
    if all(b == a for b, a in pads):
        return _tuple_text(tuple(b for b, _ in pads))
    return str(pads)


# ---------------------------------------------------------------------------------------- pooling


def pool(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    mode: str = "max",
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    nd: int = 2,
) -> Explanation:
    """Every output value of max or average pooling written out, checked against ``F.max_pool{nd}d``
    or ``F.avg_pool{nd}d``. Max pooling marks the winner [in brackets] (the element the library's
    ``return_indices`` names); average pooling shows the sum and the division.

    Shape: input (C, *S) -> output (C, *O).

    >>> pool([[1, 3, 2, 0], [4, 6, 5, 7], [8, 1, 0, 2], [3, 9, 4, 1]], 2).lines
    ['max(1, 3, 4, [6]) = 6', 'max(2, 0, 5, [7]) = 7', 'max(8, 1, 3, [9]) = 9', 'max(0, 2, [4], 1) = 4']
    """
    fn = "explain.pool"
    if mode not in ("max", "avg"):
        raise ValueError(f"{fn}: expected mode 'max' or 'avg', got {mode!r}")
    x = _input(input, nd, fn)
    op = f"{mode}_pool{nd}d"
    kernel = ntuple(kernel_size, nd, fn, "kernel_size")
    stride_t = kernel if stride is None else ntuple(stride, nd, fn, "stride")
    dil = ntuple(dilation, nd, fn, "dilation")
    pad = ntuple(padding, nd, fn, "padding")
    if mode == "max":
        y, idx = getattr(F, op)(
            Tensor(x[None]), kernel, stride_t, pad, dil, ceil_mode=ceil_mode, return_indices=True
        )
        y, idx = y.data[0], idx.data[0]
    else:
        if any(d != 1 for d in dil):
            raise ValueError(f"{fn}: average pooling has no dilation, got dilation={dilation!r}")
        y = getattr(F, op)(Tensor(x[None]), kernel, stride_t, pad, ceil_mode, count_include_pad).data[0]
        idx = None
    C = x.shape[0]
    out = y.shape[1:]
    _check_size(y.size * math.prod(kernel), fn)
    spatial = x.shape[1:]
    # pad with what the op pads with: -inf for max, 0 for average; ceil_mode may need more on the right
    extra = tuple(
        max((o - 1) * s + d * (k - 1) + 1 - n - p, 0)
        for o, s, d, k, n, p in zip(out, stride_t, dil, kernel, spatial, pad)
    )
    pads = tuple((p, p + e) for p, e in zip(pad, extra))
    fill = -np.inf if mode == "max" else 0.0
    xp = F.pad(Tensor(x), _flat_pads(pads), value=fill).data
    win = windows(xp[None], kernel, stride_t, dil)[0]
    steps = []
    for c in range(C):
        for pos in np.ndindex(*out):
            values = win[(c,) + pos].reshape(-1)
            cells = [
                (c,) + tuple(p * s + kk * d for p, s, kk, d in zip(pos, stride_t, k, dil))
                for k in np.ndindex(*kernel)
            ]
            inside = [
                all(pp <= q < pp + n for q, (pp, _), n in zip(cell[1:], pads, spatial)) for cell in cells
            ]
            value = float(y[(c,) + pos])
            if mode == "max":
                flat = int(idx[(c,) + pos])
                source = np.unravel_index(flat, spatial)
                winner = (c,) + tuple(int(q) + pp for q, (pp, _) in zip(source, pads))
                mine = float(np.max(values))
                _agree(fn, mine, value, (c,) + pos, f"F.{op}")
                _agree(fn, float(xp[winner]), value, (c,) + pos, f"F.{op} (return_indices)")
                terms = [f"[{_num(v)}]" if cell == winner else _num(v) for v, cell in zip(values, cells)]
                expression = f"max({', '.join(terms)}) = {_num(value)}"
            else:
                winner = None
                # PyTorch's divisor: the cells inside the input, or with count_include_pad inside the
                # input and its padding (never the extra cells ceil_mode reads past the padding)
                counted = [
                    ok
                    or (count_include_pad and all(q < 2 * p + n for q, p, n in zip(cell[1:], pad, spatial)))
                    for ok, cell in zip(inside, cells)
                ]
                divisor = sum(counted)
                total = float(np.sum(values))
                mine = total / divisor
                _agree(fn, mine, value, (c,) + pos, f"F.{op}")
                expression = f"({_sum(list(values))})/{divisor} = {_num(total)}/{divisor} = {_num(value)}"
            steps.append(Step((c,) + pos, value, expression, cells, [], winner))
    show_pads = tuple((p, p) for p in pad)
    header = [
        f"{op}: input {_shape_text(x.shape)}, kernel {_tuple_text(kernel)}, stride {_tuple_text(stride_t)}, "
        f"padding {_tuple_text(pad)}"
        + (f", dilation {_tuple_text(dil)}" if any(d != 1 for d in dil) else "")
        + (", ceil_mode" if ceil_mode else "")
        + f" -> output {_shape_text(y.shape)}",
        *_formulas(op, spatial, kernel, stride_t, show_pads, dil, out, ceil_mode=ceil_mode),
        "input" + (f" (padded with {_num(fill)})" if any(v for p in pads for v in p) else "") + ":",
        *_block(xp, nd, "x"),
    ]
    return Explanation(op, nd, x, xp, pads, None, None, y, kernel, stride_t, dil, steps, header)


# ---------------------------------------------------------------------------------------- transposed


def conv_transpose(
    input: Any,
    kernel: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    dilation: Any = 1,
    nd: int = 2,
) -> Explanation:
    """Every output value of a transposed convolution written out, checked against ``F.conv_transpose{nd}d``.

    Input value x[i] is multiplied by the whole kernel and added into the output at i·s - p + k·d; so
    output y[o] is the sum of x[i]·w[k] over every (i, k) with i·s + k·d - p = o.

    Shape: input (C, *S), kernel (C, OC, *K) -> (OC, *O), O = (S - 1)s - 2p + d(K-1) + output_padding + 1.

    >>> conv_transpose([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2).lines[:3]
    ['1×1 = 1', '1×0 = 0', '2×1 = 2']
    """
    fn = "explain.conv_transpose"
    x = _input(input, nd, fn)
    w = _kernel(kernel, nd, x.shape[0], fn, transposed=True)
    C, OC = w.shape[:2]
    b = _bias(bias, OC, fn)
    op = f"conv_transpose{nd}d"
    K = tuple(w.shape[2:])
    s_ = ntuple(stride, nd, fn, "stride")
    p_ = ntuple(padding, nd, fn, "padding")
    o_ = ntuple(output_padding, nd, fn, "output_padding")
    d_ = ntuple(dilation, nd, fn, "dilation")
    _check_size(x.size * OC * math.prod(K), fn)
    y = getattr(F, op)(Tensor(x[None]), Tensor(w), None if b is None else Tensor(b), s_, p_, o_, 1, d_).data[
        0
    ]
    spatial = x.shape[1:]
    # gather form: for each output o, the (c, i, k) with i·s + k·d - p = o
    contributions: dict[tuple, list] = {}
    for c in range(C):
        for i in np.ndindex(*spatial):
            for k in np.ndindex(*K):
                o = tuple(ii * s + kk * d - p for ii, s, kk, d, p in zip(i, s_, k, d_, p_))
                if all(0 <= v < n for v, n in zip(o, y.shape[1:])):
                    contributions.setdefault(o, []).append((c, i, k))
    steps = []
    for oc in range(OC):
        for o in np.ndindex(*y.shape[1:]):
            terms = contributions.get(o, [])
            pairs = [(float(x[(c,) + i]), float(w[(c, oc) + k])) for c, i, k in terms]
            mine = sum(a * v for a, v in pairs) + (b[oc] if b is not None else 0.0)
            value = float(y[(oc,) + o])
            _agree(fn, mine, value, (oc,) + o, f"F.{op}")
            text = " + ".join(f"{_par(a)}×{_par(v)}" for a, v in pairs) or "0 (no input reaches here)"
            if b is not None:
                text += f" + {_par(b[oc])} (bias)"
            steps.append(
                Step(
                    (oc,) + o,
                    value,
                    f"{text} = {_num(value)}",
                    [(c,) + i for c, i, _ in terms],
                    [v for _, v in pairs],
                )
            )
    header = [
        f"{op}: input {_shape_text(x.shape)}, kernel {_shape_text(w.shape)}, stride {_tuple_text(s_)}, "
        f"padding {_tuple_text(p_)}, output_padding {_tuple_text(o_)}, dilation {_tuple_text(d_)} -> output {_shape_text(y.shape)}",
        *_formulas(op, spatial, K, s_, tuple((p, p) for p in p_), d_, y.shape[1:], True, o_),
        "each x[i] times the kernel is added into the output at i·s - p + k·d; gathered per output:",
        "input:",
        *_block(x, nd, "x"),
        "kernel:",
        *_kernel_block(w, nd, transposed=True),
    ]
    if b is not None:
        header.append("bias: " + ", ".join(_num(v) for v in b))
    pads = tuple((0, 0) for _ in range(nd))
    return Explanation(op, nd, x, x, pads, w, b, y, K, s_, d_, steps, header)


# ---------------------------------------------------------------------------------------- im2col


def unfold(
    input: Any,
    kernel: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    nd: int = 2,
) -> Explanation:
    """A convolution as im2col: the column matrix of every window, then one matrix product.

    The columns come from ``F.unfold`` (2-D) or the library's ``im2col`` (1-D, 3-D); the product is
    checked against ``F.conv{nd}d``. ``explanation.columns`` holds the column matrix (C·K, L).

    Shape: input (C, *S), kernel (OC, C, *K) -> columns (C·K, L), weights (OC, C·K) -> output (OC, L).

    >>> ex = unfold([[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[0, 1], [2, 3]])
    >>> ex.columns.tolist()
    [[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]]
    """
    ex = conv(input, kernel, bias, stride, padding, dilation, nd)
    fn = "explain.unfold"
    w = ex.kernel
    OC = w.shape[0]
    if nd == 2 and all(b == a for b, a in ex.pads):
        cols = F.unfold(
            Tensor(ex.input[None]), ex.kernel_size, ex.dilation, tuple(b for b, _ in ex.pads), ex.stride
        ).data[0]
    else:
        cols = im2col(ex.padded[None], ex.kernel_size, ex.stride, ex.dilation)[0]
    W = w.reshape(OC, -1)
    product = W @ cols + (ex.bias[:, None] if ex.bias is not None else 0.0)
    flat = ex.output.reshape(OC, -1)
    for index in np.ndindex(*product.shape):
        _agree(fn, float(product[index]), float(flat[index]), index, f"F.conv{nd}d")
    C = ex.input.shape[0]
    row_names = [
        f"x[{c}][{','.join(map(str, k))}]" if C > 1 else f"x[{','.join(map(str, k))}]"
        for c in range(C)
        for k in np.ndindex(*ex.kernel_size)
    ]
    width = max(len(n) for n in row_names)
    grid = _grid(cols, "")
    lines = [
        f"im2col: each window becomes one column of a ({cols.shape[0]} × {cols.shape[1]}) matrix "
        f"(rows: kernel offsets, columns: output positions in row-major order):",
    ]
    lines += [f"  {name:>{width}}  {row}" for name, row in zip(row_names, grid)]
    lines.append(f"weights as a ({OC} × {cols.shape[0]}) matrix:")
    lines += _grid(W)
    bias_text = " + bias" if ex.bias is not None else ""
    lines.append(
        f"one matrix product: W ({OC}×{cols.shape[0]}) @ columns ({cols.shape[0]}×{cols.shape[1]}){bias_text} "
        f"= ({OC}×{cols.shape[1]}):"
    )
    lines += _grid(product)
    lines.append(f"reshaped to the output {_shape_text(ex.output.shape)}.")
    ex.op = f"unfold ({ex.op} as im2col)"
    ex.extra = lines
    ex.columns = cols
    return ex
