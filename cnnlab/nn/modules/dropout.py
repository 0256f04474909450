"""Dropout layers: active in training mode, the identity in evaluation mode.

Srivastava et al., "Dropout" (2014); Tompson et al., "Efficient object localization using convolutional
networks" (2015) for channel dropout; Klambauer et al., "Self-normalizing neural networks" (2017) for
alpha dropout. Randomness comes from :data:`cnnlab.random.default_generator`.
"""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutNd(Module):
    op: str

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(
                f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p!r}"
            )
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self.op)(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p during training and scale the rest by 1/(1-p).

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> drop = Dropout(p=0.2)
    >>> drop.eval()(cnnlab.ones(2, 3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    >>> drop
    Dropout(p=0.2, inplace=False)
    """

    op = "dropout"


class Dropout1d(_DropoutNd):
    """Zero whole channels (each (n, c) signal) with probability p during training; scale by 1/(1-p).

    Shape: (N, C, L) or (C, L) -> same.

    >>> import cnnlab
    >>> Dropout1d(p=0.2)(cnnlab.ones(20, 16, 32)).shape
    (20, 16, 32)
    """

    op = "dropout1d"


class Dropout2d(_DropoutNd):
    """Zero whole channels (each (n, c) feature map) with probability p during training.

    Shape: (N, C, H, W) or (C, H, W) -> same.

    >>> import cnnlab
    >>> Dropout2d(p=0.2)(cnnlab.ones(20, 16, 32, 32)).shape
    (20, 16, 32, 32)
    """

    op = "dropout2d"


class Dropout3d(_DropoutNd):
    """Zero whole channels (each (n, c) volume) with probability p during training.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> same.

    >>> import cnnlab
    >>> Dropout3d(p=0.2)(cnnlab.ones(2, 4, 3, 3, 3)).shape
    (2, 4, 3, 3, 3)
    """

    op = "dropout3d"


class AlphaDropout(_DropoutNd):
    """Dropout that keeps zero mean and unit variance (for SELU networks): dropped values become the
    negative saturation value and the result is affinely corrected.

    Shape: (*) -> (*).

    >>> import cnnlab
    >>> AlphaDropout(p=0.2)(cnnlab.randn(20, 16)).shape
    (20, 16)
    """

    op = "alpha_dropout"

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)
