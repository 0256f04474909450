"""Fully connected layers: Identity, Linear, Bilinear, Flatten, Unflatten."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ...tensor import Tensor
from .. import functional as F
from .. import init
from ._common import check_device, check_int, new_parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "Flatten", "Unflatten"]


class Identity(Module):
    """Return the input unchanged (arguments are accepted and ignored, as in PyTorch).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> Identity(54, unused="x")(cnnlab.ones(2, 3)).shape
    (2, 3)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """y = x Wᵀ + b, with W of shape (out_features, in_features).

    Weights and bias start uniform in ±1/sqrt(in_features), as PyTorch's.

    Shape: (*, in_features) -> (*, out_features).

    >>> import cnnlab
    >>> layer = Linear(20, 30)
    >>> layer(cnnlab.randn(128, 20)).shape
    (128, 30)
    >>> layer
    Linear(in_features=20, out_features=30, bias=True)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        check_device("Linear", device)
        self.in_features = check_int("Linear", "in_features", in_features, 0)
        self.out_features = check_int("Linear", "out_features", out_features, 0)
        self.weight = new_parameter((out_features, in_features), dtype)
        if bias:
            self.bias = new_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_ with a=sqrt(5) gives U(±1/sqrt(fan_in)): PyTorch's long-standing default
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Bilinear(Module):
    """y = x1ᵀ A x2 + b for each output feature, with A of shape (out, in1, in2).

    Shape: (*, in1_features), (*, in2_features) -> (*, out_features).

    >>> import cnnlab
    >>> Bilinear(20, 30, 40)(cnnlab.randn(128, 20), cnnlab.randn(128, 30)).shape
    (128, 40)
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device("Bilinear", device)
        self.in1_features = check_int("Bilinear", "in1_features", in1_features, 0)
        self.in2_features = check_int("Bilinear", "in2_features", in2_features, 0)
        self.out_features = check_int("Bilinear", "out_features", out_features, 0)
        self.weight = new_parameter((out_features, in1_features, in2_features), dtype)
        if bias:
            self.bias = new_parameter((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Merge dimensions ``start_dim`` … ``end_dim`` into one (by default all but the batch dimension).

    Shape: (N, *dims) -> (N, prod(dims)) with the defaults.

    >>> import cnnlab
    >>> Flatten()(cnnlab.zeros(32, 1, 5, 5)).shape
    (32, 25)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``.

    Shape: (*, S, *) -> (*, U1, U2, ..., *) with prod(U) = S.

    >>> import cnnlab
    >>> Unflatten(1, (2, 5, 5))(cnnlab.zeros(2, 50)).shape
    (2, 2, 5, 5)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
            isinstance(s, int) for s in unflattened_size
        ):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
