"""LeNet-5 for 28×28 images, in its modern form (ReLU and max pooling).

LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to document recognition" (1998).
The first convolution pads by 2 so that a 28×28 input plays the part of the original 32×32.

    (N, 1, 28, 28) -conv5,p2-> (N, 6, 28, 28) -pool-> (N, 6, 14, 14) -conv5-> (N, 16, 10, 10)
    -pool-> (N, 16, 5, 5) -flatten-> (N, 400) -> 120 -> 84 -> classes
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5: two convolution/pooling stages and three fully connected layers (61,706 parameters).

    Shape: (N, in_channels, 28, 28) -> (N, num_classes).

    >>> model = lenet5()
    >>> sum(p.numel() for p in model.parameters())
    61706
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def lenet5(num_classes: int = 10, in_channels: int = 1) -> LeNet5:
    """LeNet-5 for 28×28 inputs."""
    return LeNet5(num_classes, in_channels)
