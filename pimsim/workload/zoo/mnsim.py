"""MNSIM 2.0's built-in ResNet-18 and VGG-16, for same-workload speed comparisons.

Our own PyTorch definitions of the layer lists in MNSIM 2.0's
``MNSIM/Interface/network.py`` (``get_net(cate='resnet18' | 'vgg16')``, github.com/
thu-nics/MNSIM-2.0), which runs them on a hard-coded ``(1, 3, 32, 32)`` input whatever
data set is named; with ``MNSIM.Interface.Imagenet`` the classifier has 1000 outputs.
Shapes follow that file, including what differs from the papers' networks:

* ResNet-18: a 3x3 stride-1 stem, a 2x2 max-pool, eight basic blocks whose
  projection shortcuts are 3x3 stride-2 convolutions (padding 1), no global pooling
  (the 512x2x2 map is flattened) and two fully connected layers (2048 -> 512 ->
  classes) with a ReLU between them;
* VGG-16: thirteen 3x3 convolutions with four 2x2 max-pools (none after the last
  block), flattened 512x2x2 -> one fully connected layer.

MNSIM inserts a batch norm after every convolution; in a shape-only trace it changes
no shape and maps to no crossbar, so it is left out here as in the other zoo models
(the exporter folds batch norms). Dropout is the identity at inference.
"""

from __future__ import annotations

import torch
from torch import nn

MNSIM_INPUT = (3, 32, 32)


def _conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.BatchNorm2d(c_out))


class _Block(nn.Module):
    """conv-relu-conv, element sum with the block input (or its 3x3/2 projection), relu."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = _conv(c_in, c_out, stride)
        self.conv2 = _conv(c_out, c_out)
        self.shortcut = _conv(c_in, c_out, stride) if stride != 1 or c_in != c_out else None
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.conv2(self.relu(self.conv1(x)))
        short = x if self.shortcut is None else self.shortcut(x)
        return self.relu(out + short)


class MnsimResNet18(nn.Module):
    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(_conv(3, 64), nn.ReLU(), nn.MaxPool2d(2, 2))
        blocks, c_in = [], 64
        for c_out, stride in ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1),
                              (512, 2), (512, 1)):
            blocks.append(_Block(c_in, c_out, stride))
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.fc1 = nn.Linear(2048, 512)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc2(self.relu(self.fc1(torch.flatten(x, 1))))


class MnsimVGG16(nn.Module):
    PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        layers, c_in = [], 3
        for v in self.PLAN:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [_conv(c_in, v), nn.ReLU()]
                c_in = v
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def mnsim_resnet18(num_classes: int = 1000) -> nn.Module:
    """MNSIM 2.0's ``resnet18`` (32x32 input)."""
    return MnsimResNet18(num_classes)


def mnsim_vgg16(num_classes: int = 1000) -> nn.Module:
    """MNSIM 2.0's ``vgg16`` (32x32 input)."""
    return MnsimVGG16(num_classes)
