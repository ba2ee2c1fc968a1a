"""A small CNN for scikit-learn's 8x8 digits (1 x 8 x 8 input, 10 classes)."""

from __future__ import annotations

from torch import nn


def digits_cnn(num_classes: int = 10) -> nn.Sequential:
    """conv3x3(16)-BN-ReLU, conv3x3(32)-BN-ReLU, maxpool2, fc(512->64)-ReLU, fc(64->10)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
        nn.Linear(64, num_classes),
    )
