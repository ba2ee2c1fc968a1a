"""DenseNet-121 (Huang et al., CVPR 2017; growth 32, blocks 6-12-24-16, bottleneck 4x,
compression 0.5) for 224x224 inputs, in torchvision's layout. Its BN-ReLU-conv layers
put a batch norm after a concatenation: those stay stand-alone ``batchnorm`` layers."""

from __future__ import annotations

import torch
from torch import nn


class DenseLayer(nn.Module):
    def __init__(self, c_in: int, growth: int, bn_size: int):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(c_in, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features: list):
        x = torch.cat(features, 1)
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.Module):
    def __init__(self, layers: int, c_in: int, growth: int, bn_size: int):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(c_in + i * growth, growth, bn_size)
                                    for i in range(layers))

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


def densenet121(num_classes: int = 1000, growth: int = 32,
                blocks: tuple[int, ...] = (6, 12, 24, 16), init: int = 64,
                bn_size: int = 4) -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, init, 7, 2, 3, bias=False), nn.BatchNorm2d(init),
                               nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = init
    for i, n in enumerate(blocks):
        layers.append(DenseBlock(n, c, growth, bn_size))
        c += n * growth
        if i != len(blocks) - 1:
            layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False),
                       nn.AvgPool2d(2, 2)]
            c //= 2
    layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(c, num_classes)]
    return nn.Sequential(*layers)
