"""The classic block CNN for Fashion-MNIST: two VGG-style blocks of two 3×3 convolutions with
batch normalisation, max pooling and dropout, then a 512-unit classifier.

    (N, 1, 28, 28) -block(32)-> (N, 32, 14, 14) -block(64)-> (N, 64, 7, 7) -flatten-> 3136 -> 512 -> classes

1,677,674 trainable parameters and 1,408 running statistics (1,679,082 in all, as Keras counts them).
"""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor

__all__ = ["FashionCNN", "fashion_cnn"]


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(out_channels),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(out_channels),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
    )


class FashionCNN(nn.Module):
    """Two convolution blocks and a batch-normalised 512-unit classifier.

    Shape: (N, in_channels, 28, 28) -> (N, num_classes).

    >>> model = fashion_cnn()
    >>> sum(p.numel() for p in model.parameters())
    1677674
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(_block(in_channels, 32), _block(32, 64))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 512),
            nn.ReLU(),
            nn.BatchNorm1d(512),
            nn.Dropout(0.5),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def fashion_cnn(num_classes: int = 10, in_channels: int = 1) -> FashionCNN:
    """The Fashion-MNIST block CNN."""
    return FashionCNN(num_classes, in_channels)
