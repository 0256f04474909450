"""Multiply-accumulate (MAC) counts per layer type: one table, one small function per row.

A rule is ``rule(module, input_shape, output_shape) -> int``, the MACs of one call of ``module`` on a
(batched) input. Conventions, chosen to agree with torchinfo wherever torchinfo's count is the true one:

* convolution: every output element takes C_in/groups · prod(kernel) multiply-adds, plus one add for
  the bias; so grouped and depthwise convolutions cost ``groups`` times less than dense ones.
* transposed convolution: every *input* element is multiplied by OC/groups · prod(kernel) weights and
  scattered, plus one bias add per output element (torchinfo counts output positions instead).
* linear: out_features · in_features multiply-adds per sample (+ one per output for the bias).
* normalisation (batch, instance, group, layer): one multiply-add per element, (x - μ)·(γ/σ) + β with
  the statistics folded (torchinfo counts only its 2·C parameters).
* average pooling: a window of K elements is K multiply-adds (a depthwise convolution with weights
  1/K); adaptive average pooling the same with its own window sizes.
* max pooling, activations, dropout, reshapes: no multiplications, 0 MACs.

Add a row to :data:`MAC_RULES` to teach the summary a new layer; a subclass uses its parent's row.

>>> from cnnlab import nn
>>> layer_macs(nn.Conv2d(3, 8, 3, groups=1), (1, 3, 8, 8), (1, 8, 6, 6))
8064
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import nn

__all__ = ["MAC_RULES", "layer_macs", "torchinfo_macs"]

Shape = tuple[int, ...]
Rule = Callable[[Any, Shape, Shape], int]


def _conv(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    per_output = (m.in_channels // m.groups) * math.prod(m.kernel_size)
    return math.prod(output_shape) * (per_output + (m.bias is not None))


def _conv_transpose(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    per_input = (m.out_channels // m.groups) * math.prod(m.kernel_size)
    bias = math.prod(output_shape) if m.bias is not None else 0
    return math.prod(input_shape) * per_input + bias


def _linear(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    return math.prod(output_shape) * (m.in_features + (m.bias is not None))


def _bilinear(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    _, in1, in2 = m.weight.shape
    return math.prod(output_shape) * (in1 * in2 + in1 + (m.bias is not None))


def _elementwise(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    return math.prod(output_shape)


def _avg_pool(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    nd = len(output_shape) - 2
    kernel = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size,) * nd
    return math.prod(output_shape) * math.prod(kernel)


def _adaptive_avg_pool(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    # window i spans [floor(i·n/o), ceil((i+1)·n/o)); the total window area is separable over axes
    area = 1
    for n, o in zip(input_shape[2:], output_shape[2:]):
        area *= sum(-(-((i + 1) * n) // o) - (i * n) // o for i in range(o))
    return math.prod(output_shape[:2]) * area


def _free(m: Any, input_shape: Shape, output_shape: Shape) -> int:
    return 0


MAC_RULES: dict[type, Rule] = {
    nn.Conv1d: _conv,
    nn.Conv2d: _conv,
    nn.Conv3d: _conv,
    nn.ConvTranspose1d: _conv_transpose,
    nn.ConvTranspose2d: _conv_transpose,
    nn.ConvTranspose3d: _conv_transpose,
    nn.Linear: _linear,
    nn.Bilinear: _bilinear,
    nn.BatchNorm1d: _elementwise,
    nn.BatchNorm2d: _elementwise,
    nn.BatchNorm3d: _elementwise,
    nn.InstanceNorm1d: _elementwise,
    nn.InstanceNorm2d: _elementwise,
    nn.InstanceNorm3d: _elementwise,
    nn.GroupNorm: _elementwise,
    nn.LayerNorm: _elementwise,
    nn.AvgPool1d: _avg_pool,
    nn.AvgPool2d: _avg_pool,
    nn.AvgPool3d: _avg_pool,
    nn.AdaptiveAvgPool1d: _adaptive_avg_pool,
    nn.AdaptiveAvgPool2d: _adaptive_avg_pool,
    nn.AdaptiveAvgPool3d: _adaptive_avg_pool,
    nn.MaxPool1d: _free,
    nn.MaxPool2d: _free,
    nn.MaxPool3d: _free,
    nn.AdaptiveMaxPool1d: _free,
    nn.AdaptiveMaxPool2d: _free,
    nn.AdaptiveMaxPool3d: _free,
}


def layer_macs(module: Any, input_shape: Shape, output_shape: Shape) -> int:
    """MACs of one call of ``module`` by :data:`MAC_RULES` (0 for a layer with no row).

    Shape: ``input_shape`` and ``output_shape`` are batched, (N, C, *spatial) or (N, features).

    >>> from cnnlab import nn
    >>> layer_macs(nn.Linear(400, 120), (1, 400), (1, 120))
    48120
    """
    for cls in type(module).__mro__:
        rule = MAC_RULES.get(cls)
        if rule is not None:
            return int(rule(module, tuple(input_shape), tuple(output_shape)))
    return 0


def torchinfo_macs(module: Any, input_shape: Shape, output_shape: Shape) -> int:
    """MACs as torchinfo 1.8 counts them: parameters × output positions for a class whose name holds
    'Conv', parameters × batch size for any other layer with parameters.

    >>> from cnnlab import nn
    >>> torchinfo_macs(nn.BatchNorm2d(6), (1, 6, 28, 28), (1, 6, 28, 28))
    12
    """
    total = 0
    for p in module._parameters.values():
        if p is None:
            continue
        if "Conv" in type(module).__name__:
            total += p.numel() * math.prod((output_shape[0],) + tuple(output_shape[2:]))
        else:
            total += p.numel() * output_shape[0]
    return int(total)
