"""Normalisation layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, LocalResponseNorm.

Ioffe and Szegedy, "Batch normalization" (2015); Ba, Kiros and Hinton, "Layer normalization" (2016);
Ulyanov et al., "Instance normalization" (2016); Wu and He, "Group normalization" (2018).
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from ...tensor import Tensor
from .. import functional as F
from .. import init
from ._common import check_device, check_int, new_buffer, new_parameter
from .module import Module

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "GroupNorm",
    "LocalResponseNorm",
]


class _NormBase(Module):
    """Per-channel affine parameters and running statistics, shared by batch and instance norm."""

    def __init__(
        self,
        num_features: int,
        eps: float,
        momentum: float | None,
        affine: bool,
        track_running_stats: bool,
        device: Any,
        dtype: Any,
        bias: bool,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_device(name, device)
        self.num_features = check_int(name, "num_features", num_features)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = new_parameter((num_features,), dtype)
            if bias:
                self.bias = new_parameter((num_features,), dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", new_buffer((num_features,), 0.0, dtype))
            self.register_buffer("running_var", new_buffer((num_features,), 1.0, dtype))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _load_from_state_dict(
        self, state_dict: dict, prefix: str, missing: list[str], errors: list[str]
    ) -> None:
        # checkpoints from before num_batches_tracked existed load with the current count, as in PyTorch
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked.data.copy()
        super()._load_from_state_dict(state_dict, prefix, missing, errors)

    def _check_input_dim(self, input: Tensor) -> None:
        dims = self._input_dims
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, got {type(input).__name__}")
        if input.ndim not in dims:
            expected = " or ".join(f"{d}D" for d in dims)
            raise ValueError(f"{type(self).__name__}: expected {expected} input (got {input.ndim}D input)")

    _input_dims: tuple[int, ...]

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        # momentum None: a cumulative moving average, weighting batch k by 1/k
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        use_running = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if use_running else None,
            self.running_var if use_running else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, L) per channel: (x - mean)/sqrt(var + eps)·weight + bias.

    Training uses the batch's statistics and updates running_mean/running_var (biased variance for
    normalising, unbiased for the running estimate, as PyTorch); evaluation uses the running ones.

    Shape: (N, C) or (N, C, L) -> same.

    >>> import cnnlab
    >>> bn = BatchNorm1d(100)
    >>> bn(cnnlab.randn(20, 100)).shape
    (20, 100)
    >>> bn
    BatchNorm1d(100, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, H, W) per channel.

    Shape: (N, C, H, W) -> same.

    >>> import cnnlab
    >>> bn = BatchNorm2d(3)
    >>> bn(cnnlab.randn(4, 3, 5, 5)).shape
    (4, 3, 5, 5)
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """

    _input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over (N, D, H, W) per channel.

    Shape: (N, C, D, H, W) -> same.

    >>> import cnnlab
    >>> BatchNorm3d(2)(cnnlab.randn(3, 2, 2, 3, 4)).shape
    (3, 2, 2, 3, 4)
    """

    _input_dims = (5,)


class _InstanceNorm(_NormBase):
    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        unbatched = input.ndim == self._input_dims[0]
        channel_dim = 0 if unbatched else 1
        if self.affine and input.shape[channel_dim] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected input's size at dim={channel_dim} to match num_features "
                f"({self.num_features}), but got: {input.shape[channel_dim]}."
            )
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation: each (sample, channel) normalised over L on its own.

    Shape: (N, C, L) or (C, L) -> same.

    >>> import cnnlab
    >>> InstanceNorm1d(4)(cnnlab.randn(2, 4, 10)).shape
    (2, 4, 10)
    """

    _input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation over (H, W) for each sample and channel.

    Shape: (N, C, H, W) or (C, H, W) -> same.

    >>> import cnnlab
    >>> InstanceNorm2d(3, affine=True)(cnnlab.randn(2, 3, 5, 5)).shape
    (2, 3, 5, 5)
    """

    _input_dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation over (D, H, W) for each sample and channel.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same.

    >>> import cnnlab
    >>> InstanceNorm3d(2)(cnnlab.randn(1, 2, 3, 4, 5)).shape
    (1, 2, 3, 4, 5)
    """

    _input_dims = (4, 5)


class LayerNorm(Module):
    """Normalise over the last len(normalized_shape) dimensions, then scale and shift element-wise.

    Shape: (*, *normalized_shape) -> same.

    >>> import cnnlab
    >>> ln = LayerNorm(10)
    >>> ln(cnnlab.randn(20, 5, 10)).shape
    (20, 5, 10)
    >>> ln
    LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device("LayerNorm", device)
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in normalized_shape
        ):
            raise TypeError(
                f"LayerNorm: normalized_shape must be a positive int or a tuple of them, got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps}")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = new_parameter(self.normalized_shape, dtype)
            if bias:
                self.bias = new_parameter(self.normalized_shape, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Split the channels into ``num_groups`` groups and normalise each group over (C/G, *spatial).

    Shape: (N, C, *) -> same.

    >>> import cnnlab
    >>> gn = GroupNorm(3, 6)
    >>> gn(cnnlab.randn(20, 6, 10, 10)).shape
    (20, 6, 10, 10)
    >>> gn
    GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_device("GroupNorm", device)
        num_groups = check_int("GroupNorm", "num_groups", num_groups)
        num_channels = check_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = new_parameter((num_channels,), dtype)
            if bias:
                self.bias = new_parameter((num_channels,), dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


class LocalResponseNorm(Module):
    """Normalise each position by the activity of ``size`` neighbouring channels (AlexNet's LRN).

    b_c = a_c / (k + alpha/n · Σ_{c' near c} a_{c'}²)^beta.

    Shape: (N, C, *) -> same.

    >>> import cnnlab
    >>> LocalResponseNorm(2)(cnnlab.randn(32, 5, 24, 24)).shape
    (32, 5, 24, 24)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = check_int("LocalResponseNorm", "size", size)
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
