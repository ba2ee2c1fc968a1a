#!/usr/bin/env python3
"""Regenerate the traces shipped in traces/ (needs torch and scikit-learn).

    python scripts/make_traces.py            # all of them (a few minutes on 2 cores)
    python scripts/make_traces.py cnn_digits resnet50_shapes --out traces

Trained traces (real weights + sampled input activations of the first held-out test images:
32 for cnn_digits, 16 for resnet20_digits to stay under 5 MB) come from
pimsim.workload.zoo.digits; shape-only traces from the zoo's untrained definitions with
tensors omitted. Training is seeded and deterministic for a given thread count; see
docs/trace-format.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

TRAINED = {"cnn_digits": 1, "resnet20_digits": 2}  # name -> training threads
SAMPLES = {"cnn_digits": 32, "resnet20_digits": 16}  # activation samples per trace
SHAPES = {"resnet20_cifar_shapes": "resnet20", "vgg16_shapes": "vgg16",
          "resnet18_shapes": "resnet18", "resnet50_shapes": "resnet50",
          # MNSIM 2.0's built-in networks at its 32x32 input (benchmarks/bench_mnsim.py)
          "mnsim_resnet18_shapes": "mnsim_resnet18", "mnsim_vgg16_shapes": "mnsim_vgg16"}
SEED = 0


def make(name: str, out_dir: Path) -> str:
    """Write ``out_dir/<name>.npz``; returns a one-line summary."""
    from pimsim.workload import load_trace
    from pimsim.workload.export import export_command

    path = out_dir / f"{name}.npz"
    if name in TRAINED:
        from pimsim.workload.zoo.digits import make_digits_trace
        _, res = make_digits_trace(name, path, seed=SEED, samples=SAMPLES[name],
                                   threads=TRAINED[name])
        extra = f"test accuracy {res.test_accuracy:.4f}, trained in {res.train_seconds:.1f} s"
    else:
        export_command(SHAPES[name], str(path), weights=False, name=name,
                       meta={"dataset": None, "note": "shape-only: untrained, no tensors"})
        extra = "shape-only"
    net = load_trace(path).network
    return (f"{path}: {len(net)} layers, {net.macs / 1e6:.2f} M MACs, "
            f"{path.stat().st_size / 1024:.1f} KiB, {extra}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"default: all of {', '.join([*TRAINED, *SHAPES])}")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "traces"))
    args = ap.parse_args(argv)
    names = args.names or [*TRAINED, *SHAPES]
    unknown = [n for n in names if n not in TRAINED and n not in SHAPES]
    if unknown:
        ap.error(f"unknown trace(s): {', '.join(unknown)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        t0 = time.perf_counter()
        print(make(name, out), f"[{time.perf_counter() - t0:.1f} s]", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
