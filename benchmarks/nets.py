"""The benchmark networks, written once against the ``torch.nn`` API and built with either library.

cnnlab.nn has PyTorch's names, signatures and state_dict keys, so the same code builds the cnnlab
network and its PyTorch twin: ``build("resnet18", cnnlab.nn)`` and ``build("resnet18", torch.nn)``.
LeNet-5 and fashion_cnn are checked against ``cnnlab.models`` (same keys, same parameter counts), so
the benchmark times the networks people train. ``tests/test_integration.py`` builds its PyTorch twins
here too, and checks that they give cnnlab's numbers.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def lenet5(nn: ModuleType) -> Any:
    model = nn.Module()
    model.features = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    )
    model.classifier = nn.Sequential(
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)
    )
    return _chain(nn, model)


def fashion_cnn(nn: ModuleType) -> Any:
    def block(cin: int, cout: int) -> Any:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(cout),
            nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(cout),
            nn.MaxPool2d(2), nn.Dropout(0.25),
        )

    model = nn.Module()
    model.features = nn.Sequential(block(1, 32), block(32, 64))
    model.classifier = nn.Sequential(
        nn.Flatten(), nn.Linear(3136, 512), nn.ReLU(), nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, 10)
    )
    return _chain(nn, model)


def _chain(nn: ModuleType, model: Any) -> Any:
    """``model`` with ``forward = classifier(features(x))``, keeping its state_dict keys."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features, self.classifier = model.features, model.classifier

        def forward(self, x: Any) -> Any:
            return self.classifier(self.features(x))

    return Net()


def resnet18(nn: ModuleType) -> Any:
    """ResNet-18 for 32×32 inputs: 3×3 stem, no max pool, BasicBlocks [2, 2, 2, 2], widths 64–512."""

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x: Any) -> Any:
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet18(nn.Module):
        def __init__(self, num_classes: int = 10) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU()
            widths, cin = (64, 128, 256, 512), 64
            for i, cout in enumerate(widths, start=1):
                stride = 1 if i == 1 else 2
                setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
                cin = cout
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x: Any) -> Any:
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def depthwise_separable(nn: ModuleType) -> Any:
    """MobileNet's block: depthwise 3×3 (groups=32), ReLU, pointwise 1×1 to 64 channels."""
    return nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.ReLU(), nn.Conv2d(32, 64, 1))


NETS = {"lenet5": lenet5, "fashion_cnn": fashion_cnn, "resnet18": resnet18, "depthwise": depthwise_separable}


def build(name: str, nn: ModuleType) -> Any:
    return NETS[name](nn)
