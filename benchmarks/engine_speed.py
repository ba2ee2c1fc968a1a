"""Engine speed, before / after: whole ``pimsim run`` processes and ``simulate()`` alone.

``python -m benchmarks.engine_speed [--rounds N] [--trace T ...] TREE [TREE ...]`` times,
for every source tree given (a directory such as ``.``, or a commit of this repository,
which is unpacked into a temporary directory with ``git archive COMMIT | tar -x``:
:mod:`benchmarks.cross_version`), rounds interleaved tree by tree so that every tree sees
the same machine load:

* the whole process as a user runs it: ``python -m pimsim.cli run configs/isaac.yaml
  --trace traces/T --baseline none`` (wall seconds, and user + system CPU seconds of the
  child);
* ``simulate(load_network(T), build_arch(load_design("configs/isaac.yaml")))`` alone in a
  fresh process after a warm-up simulation (``time.process_time()``, CPU seconds), with
  the simpy events and images it simulated and the interval it found.

Each tree runs its own ``configs/isaac.yaml`` and ``traces/T`` (the inputs as of that
commit); the output says whether they are byte-identical across the trees. One untimed
``pimsim run`` per tree and trace comes first (it fills the numba cache of a freshly
unpacked tree). Prints one line per tree and trace: the best (minimum) and all rounds of
each, and the load average at the start.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = "configs/isaac.yaml"
TRACES = ("mnsim_resnet18_shapes.npz", "mnsim_vgg16_shapes.npz", "resnet18_shapes.npz")
WARMUP_TRACE = "traces/cnn_digits.npz"
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
r = simulate(net, arch)
cpu = time.process_time() - t
print(r.engine_stats.events, r.engine_stats.images, r.total.interval_ns, cpu)
"""


@dataclass
class Round:
    """One round of one tree on one trace."""

    wall_s: float            # whole `pimsim run` process, elapsed
    cpu_s: float             # whole process, user + system (threads included)
    sim_cpu_s: float         # simulate() alone, process time
    events: int              # simpy events of that simulate()
    images: int              # images it simulated
    interval_ns: float       # its completion interval per image
    stdout: str = field(repr=False, default="")   # what `pimsim run` printed


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _env(tree: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(tree))


def whole(tree: Path, trace: str) -> tuple[float, float, str]:
    """(wall s, CPU s, stdout) of one ``pimsim run`` process of ``tree`` on its own
    ``configs/isaac.yaml`` and ``traces/<trace>``."""
    c0, t0 = _child_cpu(), time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pimsim.cli", "run", DESIGN, "--trace",
                          f"traces/{trace}", "--baseline", "none"], cwd=tree, env=_env(tree),
                         capture_output=True, text=True, timeout=1800)
    wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
    if out.returncode:
        raise RuntimeError(f"pimsim run in {tree} on {trace} failed:\n{out.stderr[-2000:]}")
    return wall, cpu, out.stdout


def sim_only(tree: Path, trace: str) -> tuple[float, int, int, float]:
    """(CPU s, events, images, interval ns) of ``simulate()`` alone in a fresh process of
    ``tree``."""
    out = subprocess.run([sys.executable, "-c", SIM_ONLY, DESIGN, f"traces/{trace}",
                          WARMUP_TRACE], cwd=tree, env=_env(tree), capture_output=True,
                         text=True, timeout=1800)
    if out.returncode:
        raise RuntimeError(f"simulate() in {tree} on {trace} failed:\n{out.stderr[-2000:]}")
    events, images, interval, cpu = out.stdout.split()[-4:]
    return float(cpu), int(events), int(images), float(interval)


def same_inputs(trees: list[Path], trace: str) -> bool:
    """Whether every tree's design and trace files are byte-identical to the first's."""
    files = (DESIGN, f"traces/{trace}")
    first = [(trees[0] / f).read_bytes() for f in files]
    return all([(t / f).read_bytes() for f in files] == first for t in trees[1:])


def measure(trees: list[Path], traces: tuple[str, ...] = TRACES, rounds: int = 2,
            sim: bool = True, progress=None) -> dict[str, dict[Path, list[Round]]]:
    """``{trace: {tree: [Round per round]}}``: every tree once per round, interleaved;
    ``sim=False`` skips the simulate()-only process (its fields are then NaN / -1)."""
    out: dict[str, dict[Path, list[Round]]] = {}
    for trace in traces:
        for tree in trees:                     # untimed: numba cache, page cache
            whole(tree, trace)
        runs: dict[Path, list[Round]] = {t: [] for t in trees}
        for i in range(rounds):
            for tree in trees:
                w, c, text = whole(tree, trace)
                s, e, n, iv = sim_only(tree, trace) if sim else (float("nan"), -1, -1,
                                                                 float("nan"))
                runs[tree].append(Round(w, c, s, e, n, iv, text))
                if progress:
                    progress(f"{trace} round {i + 1}/{rounds} {tree}: whole {w:.2f} s wall "
                             f"{c:.2f} s CPU" + (f", simulate() {s:.2f} s CPU" if sim else ""))
        out[trace] = runs
    return out


def best(rs: list[Round], attr: str) -> float:
    return min(getattr(r, attr) for r in rs)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.cross_version import checkouts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trees", nargs="+", help="source directories or commits of this repository")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trace", action="append", help="trace file name in traces/ (repeat)")
    a = ap.parse_args(argv)
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    with checkouts(a.trees) as trees:
        paths = [t.path for t in trees]
        names = {t.path: t.label for t in trees}
        for name in a.trace or TRACES:
            runs = measure(paths, (name,), a.rounds)[name]
            print(f"{name}: design and trace files identical across the trees: "
                  f"{'yes' if same_inputs(paths, name) else 'NO'}")
            for tree, rs in runs.items():
                print(f"{name} {names[tree]}: whole wall {best(rs, 'wall_s'):.2f} s, whole CPU "
                      f"{best(rs, 'cpu_s'):.2f} s, simulate() CPU {best(rs, 'sim_cpu_s'):.2f} s "
                      f"(best of {len(rs)}; rounds "
                      + ", ".join(f"{r.wall_s:.2f}/{r.cpu_s:.2f}/{r.sim_cpu_s:.2f}" for r in rs)
                      + f"), {rs[0].events:,} events, {rs[0].images} images")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
