"""Compare the engine's arbitration rules (engine.arbitration: fifo, oldest_first) per trace.

``PYTHONPATH=. python scripts/arbitration_compare.py --traces cnn_digits,resnet8_mnist``
prints a markdown table (docs/engine.md, "Oldest image first"): for each trace on
``--config`` (default configs/isaac.yaml) and each rule, ``simulate(net, arch)``'s images to
converge, interval, latency, events and CPU seconds (``time.process_time()`` around it),
and image 0's latency when exactly 1, 2, 6 and 12 images are injected
(``run_engine(..., images=n, alone=True)``). A progress line per run goes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim import simulate
from pimsim.sim.arbiter import ARBITRATIONS
from pimsim.sim.engine import run_engine
from pimsim.workload.trace import load_network

ROOT = Path(__file__).resolve().parents[1]
BATCHES = (1, 2, 6, 12)


def row(net, arch) -> dict:
    """One trace under one design point: the steady-state run and image 0's latencies."""
    t0 = time.process_time()
    r = simulate(net, arch)
    cpu = time.process_time() - t0
    lat = [run_engine(net, arch, images=n, alone=True).total.latency_ns for n in BATCHES]
    return {"images": r.total.images, "converged": r.total.converged,
            "interval_ns": r.total.interval_ns, "latency_ns": r.total.latency_ns,
            "events": r.engine_stats.events, "cpu_s": cpu, "batch_ns": lat}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "isaac.yaml"))
    ap.add_argument("--traces", required=True, help="comma-separated words of trace names")
    args = ap.parse_args(argv)
    words = [w for w in args.traces.split(",") if w]
    paths = [p for p in sorted((ROOT / "traces").glob("*.npz"))
             if any(w in p.name for w in words)]
    if not paths:
        print(f"arbitration_compare: no trace matches --traces {args.traces!r}", file=sys.stderr)
        return 2
    design = load_design(args.config)
    print("| trace | rule | images | interval (ns) | latency (ns) | image 0 latency (ns), "
          "exactly " + " / ".join(map(str, BATCHES)) + " images | events | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        net = load_network(path)
        for rule in ARBITRATIONS:
            arch = build_arch(dataclasses.replace(
                design, engine=dataclasses.replace(design.engine, arbitration=rule)))
            e = row(net, arch)
            print(f"[{time.strftime('%H:%M:%S')}] {path.name} {rule} done", file=sys.stderr)
            lat = " / ".join(f"{x:,.1f}" for x in e["batch_ns"])
            print(f"| {path.stem} | {rule} | {e['images']}{'' if e['converged'] else ' (no)'} "
                  f"| {e['interval_ns']:,.2f} | {e['latency_ns']:,.1f} | {lat} | "
                  f"{e['events']:,} | {e['cpu_s']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
