"""Training the zoo's small models on scikit-learn's bundled 8x8 digits (no download).

Data: ``sklearn.datasets.load_digits`` (1797 images, 8x8, values 0..16), scaled to
[0, 1] (so the first layer's activations are unsigned without an offset), split 80/20
with ``train_test_split(test_size=0.2, random_state=SPLIT_SEED, stratify=labels)``:
1437 training and 360 held-out test images, the same split every time.

For the ResNet-20-shaped net the 8x8 image is upsampled 4x by pixel replication
(nearest neighbour, ``np.kron`` with a 4x4 block of ones) to 32x32 and the grey channel
is repeated to 3 channels, so the network has exactly the CIFAR-10 ResNet-20 shapes.

Training is deterministic: fixed seeds, ``torch.use_deterministic_algorithms(True)``,
a fixed thread count (bitwise-repeatable only for the same thread count and torch build).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pimsim.workload.zoo.cnn import digits_cnn
from pimsim.workload.zoo.resnet import resnet20

from pimsim.workload.datasets import digits_split  # noqa: F401  (re-exported: one split)
"""load_digits pixels are counts 0..16 (4x4 blocks of a 32x32 bitmap)."""
UPSAMPLE = 4
"""8x8 -> 32x32 by pixel replication for the CIFAR-shaped ResNet-20."""
NUM_CLASSES = 10


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is trained on digits."""

    name: str
    epochs: int
    lr: float
    batch: int
    upsample: int
    channels: int


RECIPES = {
    "cnn_digits": Recipe("cnn_digits", epochs=30, lr=3e-3, batch=64, upsample=1, channels=1),
    "resnet20_digits": Recipe("resnet20_digits", epochs=12, lr=3e-3, batch=64, upsample=UPSAMPLE,
                              channels=3),
}


def build(name: str) -> nn.Module:
    if name == "cnn_digits":
        return digits_cnn(NUM_CLASSES)
    if name == "resnet20_digits":
        return resnet20(NUM_CLASSES, in_channels=3)
    raise KeyError(name)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy in [0, 1] of ``model`` (eval mode) on ``x``."""
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean())


@dataclass
class Trained:
    model: nn.Module
    test_accuracy: float
    train_seconds: float
    x_test: np.ndarray
    y_test: np.ndarray


def train(name: str, seed: int = 0, threads: int = 1, epochs: int | None = None) -> Trained:
    """Train zoo model ``name`` on the digits split; deterministic for a given thread count."""
    recipe = RECIPES[name]
    return fit(build, name, recipe, digits_split(recipe.upsample, recipe.channels), seed,
               threads, epochs)


def fit(build_model, name: str, recipe, split, seed: int, threads: int,
        epochs: int | None) -> Trained:
    """Adam + cosine schedule over ``recipe.epochs`` (or ``epochs``) in batches of
    ``recipe.batch``, deterministic for a given seed and thread count; the held-out
    accuracy of ``split = (x_tr, y_tr, x_te, y_te)`` (the digits and MNIST zoos' loop)."""
    x_tr, y_tr, x_te, y_te = split
    old_threads, old_det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(seed)
        model = build_model(name)
        opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        n_epochs = recipe.epochs if epochs is None else epochs
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_epochs)
        gen = torch.Generator().manual_seed(seed)
        xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
        loss_fn = nn.CrossEntropyLoss()
        start = time.perf_counter()
        for _ in range(n_epochs):
            model.train()
            order = torch.randperm(len(xt), generator=gen)
            for i in range(0, len(xt), recipe.batch):
                idx = order[i:i + recipe.batch]
                opt.zero_grad()
                loss_fn(model(xt[idx]), yt[idx]).backward()
                opt.step()
            sched.step()
        seconds = time.perf_counter() - start
        acc = accuracy(model, x_te, y_te)
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)
    return Trained(model, acc, seconds, x_te, y_te)


def make_digits_trace(name: str, out_path: str | Path, seed: int = 0, samples: int = 32,
                      threads: int = 1, weight_bits: int = 8,
                      act_bits: int = 8) -> tuple[Path, Trained]:
    """Train ``name`` and export it with ``samples`` held-out test images' activations."""
    result = train(name, seed=seed, threads=threads)
    dataset = ("sklearn load_digits (80/20 stratified split, random_state=0)"
               + (", 4x pixel-replicated to 32x32, grey x3" if "resnet" in name else ""))
    path = export_trained(result, name, out_path, source=f"pimsim.workload.zoo:{name}",
                          dataset=dataset, samples=samples, threads=threads, seed=seed,
                          weight_bits=weight_bits, act_bits=act_bits)
    return path, result


def export_trained(result: Trained, name: str, out_path: str | Path, *, source: str,
                   dataset: str, samples: int, threads: int, seed: int, weight_bits: int,
                   act_bits: int) -> Path:
    """Export a trained zoo model as trace ``name`` with its first ``samples`` held-out
    test images' activations and the provenance block every zoo trace carries."""
    from pimsim.workload.export import export_torch

    x_samples = torch.from_numpy(np.ascontiguousarray(result.x_test[:samples]))
    meta = {"source": source, "dataset": dataset,
            "test_accuracy": round(result.test_accuracy, 6),
            "test_images": int(len(result.y_test)),
            "train_threads": threads, "seed": seed,
            "samples_from": f"first {samples} held-out test images"}
    return export_torch(result.model, x_samples[:1], out_path, samples=x_samples,
                        weight_bits=weight_bits, act_bits=act_bits, meta=meta, name=name)
