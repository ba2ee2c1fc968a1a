"""Dump the closed form's Result of every shipped trace on ISAAC and its 64/256/512
variants as JSON, to compare two trees of pimsim figure for figure.

    PYTHONPATH=$PWD python scripts/analytic_dump.py OUT.json [--only TRACE ...]

Each entry is ``Result.as_dict()`` of ``simulate(net, arch, fidelity="analytic")`` (the
JSON ``pimsim run --json`` writes; floats as Python's ``repr``, which round-trips, so two
dumps are equal exactly when every figure is) plus the seconds it took (``seconds``,
left out of comparisons: ``--no-times`` drops it). Diff two dumps with ``diff`` or
``python -c 'import json,sys; ...'``: a speed-up that leaves the model alone leaves the
dump unchanged.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ("isaac", "isaac_xbar64", "isaac_xbar256", "isaac_xbar512")


def main(argv: list[str] | None = None) -> int:
    """Write the dump; 0 on success."""
    from pimsim.arch import build_arch
    from pimsim.config import load_design
    from pimsim.fileio import write_atomic
    from pimsim.report.tables import to_json
    from pimsim.sim.run import simulate
    from pimsim.workload import load_network

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="JSON file to write")
    ap.add_argument("--only", nargs="*", default=None, help="trace stems (default: all)")
    ap.add_argument("--designs", nargs="*", default=list(DESIGNS))
    ap.add_argument("--no-times", action="store_true", help="leave the seconds out")
    args = ap.parse_args(argv)
    traces = sorted(p.stem for p in (ROOT / "traces").glob("*.npz"))
    if args.only:
        traces = [t for t in traces if t in args.only]
    out = {}
    for design in args.designs:
        arch = build_arch(load_design(ROOT / "configs" / f"{design}.yaml"))
        for trace in traces:
            net = load_network(ROOT / "traces" / f"{trace}.npz")
            t0 = time.perf_counter()
            res = simulate(net, arch, fidelity="analytic")
            dt = time.perf_counter() - t0
            entry = res.as_dict()
            if not args.no_times:
                entry["seconds"] = round(dt, 3)
            out[f"{design}/{trace}"] = entry
            print(f"{design:14s} {trace:28s} {dt:7.2f} s", file=sys.stderr, flush=True)
    write_atomic(args.out, to_json(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
