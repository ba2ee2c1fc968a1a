"""Engine speed, before / after: whole ``pimsim run`` processes and ``simulate()`` alone.

``python -m benchmarks.engine_speed [--rounds N] [--trace T ...] TREE [TREE ...]`` times,
for every source tree given (e.g. ``.`` and an older commit unpacked with ``git archive
COMMIT | tar -x -C /tmp/base``), rounds interleaved tree by tree so that both see the same
machine load:

* the whole process as a user runs it: ``python -m pimsim.cli run configs/isaac.yaml
  --trace T --baseline none`` (wall seconds, and user + system CPU seconds of the child);
* ``simulate(load_network(T), build_arch(load_design("configs/isaac.yaml")))`` alone in a
  fresh process after a warm-up simulation (``time.process_time()``, CPU seconds).

Prints one line per tree and trace: the best (minimum) and all rounds of each, and the load
average at the start. The traces and the design are this tree's files (the same inputs for
every tree).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACES = ("mnsim_resnet18_shapes.npz", "mnsim_vgg16_shapes.npz", "resnet18_shapes.npz")
SIM_ONLY = """
import sys, time
from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim import simulate
from pimsim.workload.trace import load_network
arch = build_arch(load_design(sys.argv[1]))
simulate(load_network(sys.argv[3]), arch)                  # warm-up: numba caches, imports
net = load_network(sys.argv[2])
t = time.process_time()
simulate(net, arch)
print(time.process_time() - t)
"""


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def whole(tree: Path, trace: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one ``pimsim run`` process from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    c0, t0 = _child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "pimsim.cli", "run", str(ROOT / "configs/isaac.yaml"),
                    "--trace", str(trace), "--baseline", "none"], cwd=tree, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, _child_cpu() - c0


def sim_only(tree: Path, trace: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", SIM_ONLY, str(ROOT / "configs/isaac.yaml"),
                          str(trace), str(ROOT / "traces/cnn_digits.npz")], cwd=tree, env=env,
                         check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("trees", nargs="+", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trace", action="append", help="trace file name in traces/ (repeat)")
    a = ap.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    for name in a.trace or TRACES:
        trace = ROOT / "traces" / name
        runs: dict[Path, list] = {t: [] for t in a.trees}
        for _ in range(a.rounds):
            for tree in a.trees:
                w, c = whole(tree.resolve(), trace)
                s = sim_only(tree.resolve(), trace)
                runs[tree].append((w, c, s))
        for tree, rs in runs.items():
            best = [min(r[i] for r in rs) for i in range(3)]
            print(f"{name} {tree}: whole wall {best[0]:.2f} s, whole CPU {best[1]:.2f} s, "
                  f"simulate() CPU {best[2]:.2f} s (best of {len(rs)}; rounds "
                  + ", ".join(f"{w:.2f}/{c:.2f}/{s:.2f}" for w, c, s in rs) + ")")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
