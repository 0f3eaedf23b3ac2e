"""The network: a tiny CNN (`tiny`, for CPUs and tests), or a torchvision backbone with a
two-class head, fine-tuned from its ImageNet weights. torch is imported here, and this module only
by the programs that run the model."""

from __future__ import annotations

import torch
from torch import nn

BACKBONES = ("tiny", "resnet50", "efficientnet_b3", "convnext_tiny")
CLASSES = 2  # no defect, defect


class TinyCNN(nn.Module):
    """Three conv blocks and a global pool: any input size, a few hundred thousand weights."""

    def __init__(self, classes: int = CLASSES) -> None:
        super().__init__()
        blocks = []
        for cin, cout in ((3, 16), (16, 32), (32, 64)):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build(backbone: str, pretrained: bool = True) -> nn.Module:
    if backbone == "tiny":
        return TinyCNN()
    import torchvision

    net = getattr(torchvision.models, backbone)(weights="DEFAULT" if pretrained else None)
    if hasattr(net, "fc"):  # resnet
        net.fc = nn.Linear(net.fc.in_features, CLASSES)
    else:  # efficientnet, convnext: the classifier's last layer
        net.classifier[-1] = nn.Linear(net.classifier[-1].in_features, CLASSES)
    return net
