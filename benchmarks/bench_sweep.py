"""Sweep throughput: points per second on ResNet-20 (CIFAR shapes), analytic and fast fidelity.

Run: ``python benchmarks/bench_sweep.py`` (from the repository root). Prints points/s
in this process (one core, after a warm-up point), on the local process pool (all
cores, pool start-up included), and how long resuming the finished sweep takes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TRACE = ROOT / "traces" / "resnet20_cifar_shapes.npz"


def sweep_yaml(fidelity: str) -> str:
    """4 crossbar sizes x 3 bits per cell x 2 weight precisions x 2 read cycles = 48 points."""
    return f"""
name: bench
fidelity: {fidelity}
base: {ROOT / 'configs' / 'isaac.yaml'}
baseline: none
axes:
  xbar: {{keys: [crossbar.rows, crossbar.cols], values: [64, 128, 256, 512]}}
  crossbar.bits_per_cell: [1, 2, 4]
  precision.weight_bits: [8, 16]
  crossbar.read_cycle_ns: [50, 100]
  trace: [{TRACE}]
"""


def main(argv: list[str] | None = None) -> int:
    from pimsim.sweep.runner import default_workers

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=default_workers())
    p.add_argument("--fidelity", nargs="+", default=["analytic", "fast"])
    args = p.parse_args(argv)
    for fidelity in args.fidelity:
        bench(fidelity, args.workers)
    return 0


def bench(fidelity: str, workers: int) -> None:
    from pimsim.sweep import load_sweep, run_point, run_sweep
    from pimsim.sweep.plan import expand

    tmp = Path(tempfile.mkdtemp(prefix="pimsim-bench-sweep-"))
    try:
        path = tmp / "bench.yaml"
        path.write_text(sweep_yaml(fidelity))
        sweep = load_sweep(path)
        points, _ = expand(sweep)
        n = len({pt["key"] for pt in points if pt["key"]})
        run_point(points[0]["spec"])              # warm-up: imports, numba cache, trace

        t0 = time.perf_counter()
        serial = run_sweep(sweep, tmp / "serial", workers=0, quiet=True)
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        pool = run_sweep(sweep, tmp / "pool", workers=workers, quiet=True)
        t_pool = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = run_sweep(sweep, tmp / "pool", workers=workers, quiet=True)
        t_again = time.perf_counter() - t0
        assert serial.failed == pool.failed == 0 and again.evaluated == 0

        print(f"sweep bench: {n} points, {fidelity} fidelity, ResNet-20 (CIFAR shapes)")
        print(f"  in-process (1 core):        {n / t_serial:7.1f} points/s  ({t_serial:.2f} s)")
        print(f"  local pool ({workers} processes):   {n / t_pool:7.1f} points/s  "
              f"({t_pool:.2f} s, pool start-up included)")
        print(f"  resume a finished sweep:    {t_again:7.2f} s "
              f"(0 evaluated, {again.reused} reused)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
