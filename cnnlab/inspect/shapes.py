"""Output shapes with their formula filled in, parameter and MAC counts, and the dense comparison.

For a convolution, each spatial size follows floor((n + 2p - d(k-1) - 1)/s) + 1; for a transposed
convolution (n - 1)s - 2p + d(k-1) + output_padding + 1; pooling follows the convolution's rule (with
``ceil_mode`` rounding up). The shapes come from the library's own shape rules
(:func:`cnnlab.nn.functional.conv.conv_geometry` and ``output_size``), so they cannot disagree with
what the ops produce. Next to the costs stands the fully connected layer that maps the same input to
the same output size: the number that explains why convolutions exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn.functional._args import non_negative, ntuple, output_size, positive
from ..nn.functional.conv import conv_geometry, conv_transpose_geometry
from ..tensor import zeros
from .macs import layer_macs

__all__ = ["OPS", "LayerShape", "layer_shape", "shape"]

OPS = tuple(
    f"{family}{nd}d" for family in ("conv", "conv_transpose", "max_pool", "avg_pool") for nd in (1, 2, 3)
)
_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@dataclass
class LayerShape:
    """What one layer does to a shape: the output shape, the formula per axis, and the costs.

    ``input_shape`` and ``output_shape`` are batched (N, C, *spatial). ``dense_params`` and
    ``dense_macs`` are those of the fully connected layer from every input value to every output value
    (with bias), for comparison.
    """

    op: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    formulas: list[str] = field(default_factory=list)
    params: int = 0
    macs: int = 0
    dense_params: int = 0
    dense_macs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "formulas": list(self.formulas),
            "params": self.params,
            "macs": self.macs,
            "dense_params": self.dense_params,
            "dense_macs": self.dense_macs,
        }

    def __str__(self) -> str:
        n_in, n_out = math.prod(self.input_shape[1:]), math.prod(self.output_shape[1:])
        lines = [f"{self.op}: input {self.input_shape} -> output {self.output_shape}"]
        lines += [f"  {f}" for f in self.formulas]
        lines.append(f"parameters: {self.params:,}   MACs: {self.macs:,}")
        lines.append(
            f"a fully connected layer from the same {n_in:,} inputs to the same {n_out:,} outputs: "
            f"{self.dense_params:,} parameters, {self.dense_macs:,} MACs"
        )
        if self.params:
            lines.append(f"  ({self.dense_params / self.params:,.0f}× the parameters of {self.op})")
        return "\n".join(lines)


def _int_tuple(value: Any, name: str, minimum: int) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if (
        not isinstance(value, (tuple, list))
        or not value
        or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in value
        )
    ):
        raise ValueError(f"shape: expected {name} to be a tuple of ints >= {minimum}, got {value!r}")
    return tuple(int(v) for v in value)


def _pad_text(before: int, after: int) -> str:
    return f"2·{before}" if before == after else f"{before} + {after}"


def _dense(input_shape: tuple[int, ...], output_shape: tuple[int, ...]) -> tuple[int, int]:
    n_in, n_out = math.prod(input_shape[1:]), math.prod(output_shape[1:])
    return n_out * (n_in + 1), input_shape[0] * n_out * (n_in + 1)


def shape(
    op: str,
    input_shape: tuple[int, ...],
    kernel_size: Any,
    out_channels: int | None = None,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    output_padding: Any = 0,
    ceil_mode: bool = False,
    bias: bool = True,
) -> LayerShape:
    """The output shape of a convolution, transposed convolution or pooling, with the formula filled in.

    ``op`` is one of :data:`OPS` (``'conv2d'``, ``'conv_transpose2d'``, ``'max_pool2d'`` …);
    ``input_shape`` is (C, *spatial) or batched (N, C, *spatial). ``stride`` defaults to 1 for
    convolutions and to ``kernel_size`` for pooling; ``out_channels`` defaults to the input's channels.

    Shape: (N, C, *S) -> (N, C_out, *S_out).

    >>> r = shape("conv2d", (1, 7, 7), 3, stride=2)
    >>> r.output_shape
    (1, 1, 3, 3)
    >>> print(r.formulas[0])
    H: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((7 + 2·0 - 1·(3-1) - 1)/2) + 1 = floor(4/2) + 1 = 3
    >>> s = shape("conv2d", (16, 64, 64), 3, out_channels=32, padding="same")
    >>> s.params, s.dense_params
    (4640, 8590065664)
    """
    if op not in OPS:
        raise ValueError(f"shape: unknown op {op!r}; expected one of {', '.join(OPS)}")
    nd = int(op[-2])
    dims = _int_tuple(input_shape, "input_shape", 1)
    if len(dims) == nd + 1:
        dims = (1,) + dims
    if len(dims) != nd + 2:
        raise ValueError(
            f"{op}: expected input_shape (C, {', '.join(_AXES[nd])}) or (N, C, {', '.join(_AXES[nd])}), got {input_shape!r}"
        )
    N, C = dims[:2]
    spatial = dims[2:]
    kernel = positive(ntuple(kernel_size, nd, op, "kernel_size"), op, "kernel_size")
    axes = _AXES[nd]
    formulas: list[str] = []
    if op.startswith("conv_transpose"):
        OC = C if out_channels is None else int(out_channels)
        if not isinstance(groups, int) or groups < 1 or C % groups or OC % groups:
            raise ValueError(
                f"{op}: in_channels ({C}) and out_channels ({OC}) must be divisible by groups ({groups!r})"
            )
        s, p, d, sizes = conv_transpose_geometry(
            op, dims, (C, OC // groups) + kernel, 1 if stride is None else stride, padding, output_padding,
            groups, dilation,
        )
        o = ntuple(output_padding, nd, op, "output_padding")
        out = []
        for ax, n, k, s_, p_, d_, o_, size in zip(axes, spatial, kernel, s, p, d, o, sizes):
            if size <= 0:
                raise ValueError(f"{op}: the output size along {ax} would be {size}, for input shape {dims}")
            formulas.append(
                f"{ax}: (n - 1)s - 2p + d(k-1) + output_padding + 1 = "
                f"({n} - 1)·{s_} - 2·{p_} + {d_}·({k}-1) + {o_} + 1 = {size}"
            )
            out.append(size)
        out_shape = (N, OC) + tuple(out)
        params = C * (OC // groups) * math.prod(kernel) + (OC if bias else 0)
    elif op.startswith("conv"):
        OC = C if out_channels is None else int(out_channels)
        if not isinstance(groups, int) or groups < 1 or C % groups or OC % groups:
            raise ValueError(
                f"{op}: in_channels ({C}) and out_channels ({OC}) must be divisible by groups ({groups!r})"
            )
        weight = (OC, C // groups) + kernel
        s_, pads, d, out_shape = conv_geometry(
            op, dims, weight, 1 if stride is None else stride, padding, dilation, groups
        )
        for ax, n, k, st, (b, a), dd, o in zip(axes, spatial, kernel, s_, pads, d, out_shape[2:]):
            num = n + b + a - dd * (k - 1) - 1
            formulas.append(
                f"{ax}: floor((n + 2p - d(k-1) - 1)/s) + 1 = floor(({n} + {_pad_text(b, a)} - {dd}·({k}-1) - 1)/{st}) + 1"
                f" = floor({num}/{st}) + 1 = {o}"
            )
        params = OC * (C // groups) * math.prod(kernel) + (OC if bias else 0)
    else:
        s_ = positive(ntuple(kernel if stride is None else stride, nd, op, "stride"), op, "stride")
        p = non_negative(ntuple(padding, nd, op, "padding"), op, "padding")
        d = positive(ntuple(dilation, nd, op, "dilation"), op, "dilation")
        if op.startswith("avg") and any(v != 1 for v in d):
            raise ValueError(f"{op}: average pooling has no dilation, got dilation={d}")
        for k, p_ in zip(kernel, p):
            if p_ > k // 2:
                raise ValueError(
                    f"{op}: pad should be at most half of the kernel size, got padding={p}, kernel_size={kernel}"
                )
        out = []
        rounding = "ceil" if ceil_mode else "floor"
        for ax, n, k, st, p_, dd in zip(axes, spatial, kernel, s_, p, d):
            size = output_size(n, k, st, p_, p_, dd, ceil_mode)
            if size <= 0:
                raise ValueError(
                    f"{op}: given input of shape {dims}, kernel_size={kernel}, stride={s_}, padding={p}, "
                    f"the calculated output size along {ax} ({size}) is too small"
                )
            num = n + 2 * p_ - dd * (k - 1) - 1
            raw = (-(-num // st) if ceil_mode else num // st) + 1
            text = (
                f"{ax}: {rounding}((n + 2p - d(k-1) - 1)/s) + 1 = {rounding}(({n} + 2·{p_} - {dd}·({k}-1) - 1)/{st}) + 1"
                f" = {rounding}({num}/{st}) + 1 = {raw}"
            )
            if raw != size:
                text += f", less the last window, which would start in the right padding: {size}"
            formulas.append(text)
            out.append(size)
        out_shape = (N, C) + tuple(out)
        params = 0
    n_out = math.prod(out_shape)
    if op.startswith("conv_transpose"):
        macs = math.prod(dims) * (OC // groups) * math.prod(kernel) + (n_out if bias else 0)
    elif op.startswith("conv"):
        macs = n_out * ((C // groups) * math.prod(kernel) + (1 if bias else 0))
    elif op.startswith("avg"):
        macs = n_out * math.prod(kernel)
    else:
        macs = 0
    dense_params, dense_macs = _dense(dims, out_shape)
    return LayerShape(op, dims, tuple(out_shape), formulas, params, macs, dense_params, dense_macs)


def layer_shape(layer: nn.Module, input_shape: tuple[int, ...]) -> LayerShape:
    """:func:`shape` for a layer object: its hyperparameters are read from its attributes.

    Convolutions, transposed convolutions and max/average pooling get their formula; any other layer
    is run once on zeros for its output shape, and its MACs come from :data:`MAC_RULES`.

    >>> from cnnlab import nn
    >>> r = layer_shape(nn.Conv2d(16, 32, 3, padding="same"), (16, 64, 64))
    >>> r.output_shape, r.params, r.macs
    ((1, 32, 64, 64), 4640, 19005440)
    """
    if not isinstance(layer, nn.Module):
        raise TypeError(f"layer_shape: expected a cnnlab.nn.Module, got {type(layer).__name__}")
    name = type(layer).__name__
    conv_like = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
    pools = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
    if isinstance(layer, conv_like):
        nd = len(layer.kernel_size)
        transposed = isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
        dims = _int_tuple(input_shape, "input_shape", 1)
        if len(dims) not in (nd + 1, nd + 2) or dims[-nd - 1] != layer.in_channels:
            raise ValueError(
                f"{name}: expected input_shape ({layer.in_channels}, {', '.join(_AXES[nd])}) with "
                f"{layer.in_channels} channels, got {input_shape!r}"
            )
        return shape(
            f"conv_transpose{nd}d" if transposed else f"conv{nd}d",
            dims,
            layer.kernel_size,
            out_channels=layer.out_channels,
            stride=layer.stride,
            padding=layer.padding,
            dilation=layer.dilation,
            groups=layer.groups,
            output_padding=layer.output_padding if transposed else 0,
            bias=layer.bias is not None,
        )
    if isinstance(layer, pools):
        nd = int(name[-2])
        kind = "max_pool" if name.startswith("Max") else "avg_pool"
        return shape(
            f"{kind}{nd}d",
            input_shape,
            layer.kernel_size,
            stride=layer.stride,
            padding=layer.padding,
            dilation=getattr(layer, "dilation", 1),
            ceil_mode=layer.ceil_mode,
        )
    dims = _int_tuple(input_shape, "input_shape", 1)
    training = layer.training
    try:
        layer.eval()
        with no_grad():
            batched = (1,) + dims
            out = layer(zeros(*batched))
    finally:
        layer.train(training)
    out_shape = tuple(out.shape)
    params = sum(p.numel() for p in layer.parameters())
    dense_params, dense_macs = _dense(batched, out_shape)
    return LayerShape(
        name,
        batched,
        out_shape,
        [],
        int(params),
        layer_macs(layer, batched, out_shape),
        dense_params,
        dense_macs,
    )
