"""What the closed form costs on ring-bound networks, whole processes, in several trees of
pimsim side by side (not a test).

    PYTHONPATH=. python benchmarks/ring_check_cost.py --tree before=DIR --tree after=. \\
        [--rounds 3] [--case isaac:mobilenet_v2_shapes ...]

Each tree is a directory holding a checkout of pimsim (e.g. an old commit unpacked with
``git archive COMMIT | tar -x -C DIR``). Per round, every case runs once in every tree,
one tree after the other (interleaved: all see the same machine load): ``python -m
pimsim.cli run configs/DESIGN.yaml --trace traces/TRACE.npz --fidelity analytic
--baseline none`` in the tree (its own code, configs and traces), timed as a whole process
(wall and CPU s), and beside it ``simulate(net, arch, fidelity="analytic")`` alone in a
fresh process after the imports and the trace load (sim-only wall s). The table gives the
median of the rounds per tree and each tree's ratio to the first tree's medians.

The default cases are the networks whose pace is above every stage, where the closed form
checks the ring it names by relieving up to three candidates (``pimsim.sim.pace.reliefs``,
docs/engine.md "One pipeline model"), and MNSIM's ResNet-18 32x32 on ISAAC, where it
checks none.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_mnsim import timed  # noqa: E402

CASES = ("isaac:mobilenet_v2_shapes", "isaac_xbar64:vit_tiny_shapes",
         "isaac_xbar64:densenet121_shapes", "isaac:efficientnet_b0_shapes",
         "isaac_xbar512:mobilenet_v2_shapes", "isaac_xbar512:resnet50_shapes",
         "isaac:mnsim_resnet18_shapes")
SIM_ONLY = """
import sys, time
from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim import simulate
from pimsim.workload.trace import load_network
arch = build_arch(load_design(sys.argv[1])); net = load_network(sys.argv[2])
t0 = time.perf_counter(); simulate(net, arch, fidelity="analytic")
print(time.perf_counter() - t0)
"""


def _in_tree(cmd: list[str], tree: Path) -> tuple[float, float, str]:
    """:func:`benchmarks.bench_mnsim.timed` in ``tree`` with it on the path."""
    return timed(cmd, tree, dict(os.environ, PYTHONPATH=str(tree)))


def run_case(tree: Path, case: str) -> tuple[float, float, float]:
    """(whole-process wall s, its CPU s, sim-only wall s) of ``case`` (DESIGN:TRACE)."""
    design, trace = case.split(":")
    config, npz = f"configs/{design}.yaml", f"traces/{trace}.npz"
    wall, cpu, _ = _in_tree([sys.executable, "-m", "pimsim.cli", "run", config, "--trace", npz,
                           "--fidelity", "analytic", "--baseline", "none"], tree)
    _, _, sim = _in_tree([sys.executable, "-c", SIM_ONLY, config, npz], tree)
    return wall, cpu, float(sim.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", action="append", required=True, metavar="NAME=DIR",
                    help="a tree to time (the first is the reference of the ratios)")
    ap.add_argument("--case", action="append", metavar="DESIGN:TRACE",
                    help=f"cases (default: {' '.join(CASES)})")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    trees = []
    for spec in args.tree:
        name, _, path = spec.partition("=")
        if not path or not (Path(path) / "pimsim" / "cli.py").is_file():
            ap.error(f"--tree {spec!r}: expected NAME=DIR with a pimsim checkout in DIR")
        trees.append((name, Path(path).resolve()))
    cases = args.case or list(CASES)
    runs: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    print(f"{os.uname().machine}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start, Python {sys.version.split()[0]}")
    for rnd in range(args.rounds):
        for case in cases:
            for name, tree in trees:
                runs.setdefault((case, name), []).append(run_case(tree, case))
        print(f"round {rnd + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    ref = trees[0][0]
    print(f"{'case':40} {'tree':10} {'wall s':>7} {'CPU s':>7} {'sim s':>7} "
          f"{'wall / ' + ref:>12} {'sim / ' + ref:>12}")
    for case in cases:
        med0 = [statistics.median(x) for x in zip(*runs[(case, ref)])]
        for name, _ in trees:
            med = [statistics.median(x) for x in zip(*runs[(case, name)])]
            print(f"{case:40} {name:10} {med[0]:7.2f} {med[1]:7.2f} {med[2]:7.2f} "
                  f"{med[0] / med0[0]:12.2f} {med[2] / med0[2]:12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
