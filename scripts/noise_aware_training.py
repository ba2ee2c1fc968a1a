#!/usr/bin/env python3
"""How much accuracy noise-injection fine-tuning recovers under programming variation.

    python scripts/noise_aware_training.py --images 500 --seeds 3

Trains ``lenet5_mnist`` exactly as scripts/make_traces.py does, then fine-tunes a copy for
a few epochs with Gaussian weight noise injected in every forward pass (std = ``--rel`` x
the layer's max |w|; gradients reach the clean weights: the usual noise-injection recipe of
hardware-aware training, e.g. Joshi et al., Nat. Commun. 2020). Both are exported to
temporary traces and run through pimsim's functional model on configs/isaac_8bit.yaml with
programming variation; prints hardware accuracy (mean ± std over seeds) of both.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def finetune(model, epochs: int, rel: float, seed: int = 0, lr: float = 5e-4):
    import torch
    from torch import nn

    from pimsim.workload.datasets import mnist_split
    x_tr, y_tr, _, _ = mnist_split()
    torch.manual_seed(seed)
    model = copy.deepcopy(model)
    params = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)
    gen = torch.Generator().manual_seed(seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 64):
            idx = order[i:i + 64]
            noise = [rel * p.detach().abs().max() * torch.randn_like(p) for p in params]
            with torch.no_grad():
                for p, n in zip(params, noise):
                    p.add_(n)
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            with torch.no_grad():
                for p, n in zip(params, noise):
                    p.sub_(n)
            opt.step()
    return model.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rel", type=float, default=0.05)
    ap.add_argument("--sigmas", default="0,0.1,0.15")
    args = ap.parse_args(argv)

    import torch

    from pimsim.config import load_design
    from pimsim.functional.accuracy import measure_accuracy
    from pimsim.workload import load_trace
    from pimsim.workload.datasets import MNIST_DATASET, mnist_split
    from pimsim.workload.export import export_torch
    from pimsim.workload.zoo.mnist import train

    torch.set_num_threads(1)
    base = train("lenet5_mnist", seed=0, threads=1)
    tuned = finetune(base.model, args.epochs, args.rel)
    _, _, x_te, _ = mnist_split()
    x1 = torch.from_numpy(x_te[:8])
    tmp = Path(tempfile.mkdtemp())
    traces = {}
    for name, model in (("trained", base.model), ("noise-aware", tuned)):
        path = export_torch(model.eval(), x1[:1], tmp / f"{name}.npz", samples=x1,
                            meta={"dataset": MNIST_DATASET}, name="lenet5_mnist")
        traces[name] = load_trace(path)
    cfg = ROOT / "configs" / "isaac_8bit.yaml"
    print(f"| programming sigma | {' | '.join(traces)} |")
    print("|---|---|---|")
    for sigma in [float(s) for s in args.sigmas.split(",")]:
        design = load_design(cfg, overrides={"nonideal.programming_sigma": sigma})
        seeds = args.seeds if sigma > 0 else 1
        cells = []
        for tr in traces.values():
            r = measure_accuracy(tr, design, images=args.images, seeds=seeds)
            cells.append(f"{r.hardware:.4f} ± {r.hardware_std:.4f}")
        print(f"| {sigma:g} | {' | '.join(cells)} |", flush=True)
    print(f"\n{r.samples} held-out images, {args.seeds} seeds; fine-tuning {args.epochs} epochs "
          f"with weight noise {args.rel} x max|w|")
    return 0


if __name__ == "__main__":
    sys.exit(main())
