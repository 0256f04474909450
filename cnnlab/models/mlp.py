"""A two-hidden-layer perceptron: the baseline that shows what convolution adds.

    (N, 1, 28, 28) -flatten-> 784 -> 256 -> 128 -> classes
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor

__all__ = ["MLP", "mlp"]


class MLP(nn.Module):
    """Flatten, then two ReLU hidden layers.

    Shape: (N, *input_shape) -> (N, num_classes).

    >>> sum(p.numel() for p in mlp().parameters())
    235146
    """

    def __init__(self, num_classes: int = 10, in_features: int = 28 * 28, hidden: tuple[int, int] = (256, 128)) -> None:
        super().__init__()
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features, hidden[0]),
            nn.ReLU(),
            nn.Linear(hidden[0], hidden[1]),
            nn.ReLU(),
            nn.Linear(hidden[1], num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(x)


def mlp(num_classes: int = 10, in_features: int = 28 * 28) -> MLP:
    """The perceptron baseline for 28×28 images."""
    return MLP(num_classes, in_features)
