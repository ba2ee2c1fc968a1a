"""pimsim vs MNSIM 2.0 on the same workloads, whole processes side by side (not a test).

    PYTHONPATH=. python benchmarks/bench_mnsim.py [--rounds 3]

MNSIM 2.0's built-in ``resnet18`` and ``vgg16`` run at a hard-coded 32x32 input
(``MNSIM/Interface/network.py``); pimsim runs the same networks from
``traces/mnsim_{resnet18,vgg16}_shapes.npz`` (exported from our definitions of MNSIM's
layer lists). Each round runs every case once, one after the other, so all cases see
the same machine load; the table shows the median of the rounds and the ratios of the
medians. Cases:

* MNSIM: ``cd $MNSIM_DIR && NET=<net> DS=MNSIM.Interface.Imagenet $MNSIM_PY run_hw.py``
  (hardware modelling only; MNSIM 2.0 from github.com/thu-nics/MNSIM-2.0 installed as its
  README says, with its own virtualenv; ``MNSIM_DIR`` and ``MNSIM_PY`` default to
  ``/tmp/peers/mnsim`` and ``/tmp/peers/venv/bin/python``);
* pimsim: ``python -m pimsim.cli run configs/isaac.yaml --trace <trace> --baseline none``
  (what ``pimsim run`` does, in a fresh process, default fidelity);
* pimsim on ImageNet-224 ResNet-18 (``traces/resnet18_shapes.npz``, 11.7x the MACs of
  MNSIM's 32x32 ResNet-18);
* pimsim's closed form on the two 32x32 networks (``--fidelity analytic``: the same
  pipeline model without the event simulation, behaviour-level like MNSIM), against the same
  round's MNSIM time of that network (not a target: the targets are the full model's);
* beside each pimsim case, its simulation-only time: ``simulate()`` alone, timed inside
  a fresh process after the imports and the trace load.

Without MNSIM set up, the pimsim cases still run and the ratios are left out.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.sim.fidelity import DEFAULT_FIDELITY  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MNSIM_DIR = Path(os.environ.get("MNSIM_DIR", "/tmp/peers/mnsim"))
MNSIM_PY = os.environ.get("MNSIM_PY", "/tmp/peers/venv/bin/python")
CONFIG = "configs/isaac.yaml"
#: (label, MNSIM NET or None, pimsim trace)
CASES = (("ResNet-18 32x32", "resnet18", "traces/mnsim_resnet18_shapes.npz"),
         ("VGG-16 32x32", "vgg16", "traces/mnsim_vgg16_shapes.npz"),
         ("ResNet-18 224x224", None, "traces/resnet18_shapes.npz"))
#: (label, the CASES label whose MNSIM time it is compared with, pimsim trace): the closed form
ANALYTIC = (("ResNet-18 32x32 analytic", "ResNet-18 32x32", "traces/mnsim_resnet18_shapes.npz"),
            ("VGG-16 32x32 analytic", "VGG-16 32x32", "traces/mnsim_vgg16_shapes.npz"))
SIM_ONLY = """
import sys, time
from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim import simulate
from pimsim.workload.trace import load_network
arch = build_arch(load_design(sys.argv[1])); net = load_network(sys.argv[2])
t0 = time.perf_counter(); simulate(net, arch, fidelity=sys.argv[3]); print(time.perf_counter() - t0)
"""


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float, str]:
    """(wall s, CPU s of the process and its threads, stdout) of one whole process."""
    c0, t0 = cpu_children(), time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    dt, cpu = time.perf_counter() - t0, cpu_children() - c0
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return dt, cpu, out.stdout


def mnsim_available() -> bool:
    return (MNSIM_DIR / "run_hw.py").is_file() and Path(MNSIM_PY).is_file()


def run_round(with_mnsim: bool, mnsim_threads: int | None = None) -> dict[str, float]:
    """One round: every case once. Returns {case key: seconds} (wall; ``cpu:`` keys: CPU)."""
    out: dict[str, float] = {}
    env = _env()
    for label, net, trace in CASES:
        if net and with_mnsim:
            menv = dict(os.environ, NET=net, DS="MNSIM.Interface.Imagenet")
            if mnsim_threads:      # torch's intra-op threads (MNSIM's default: all cores)
                menv.update(OMP_NUM_THREADS=str(mnsim_threads),
                            MKL_NUM_THREADS=str(mnsim_threads))
            out[f"mnsim:{label}"], out[f"cpu:mnsim:{label}"], _ = timed(
                [MNSIM_PY, "run_hw.py"], MNSIM_DIR, menv)
        _pimsim(out, label, trace, DEFAULT_FIDELITY, env)
    for label, _, trace in ANALYTIC:
        _pimsim(out, label, trace, "analytic", env)
    return out


def _pimsim(out: dict[str, float], label: str, trace: str, fidelity: str, env: dict) -> None:
    """Time ``pimsim run`` (whole process) and ``simulate()`` alone on ``trace`` into ``out``."""
    out[f"pimsim:{label}"], out[f"cpu:pimsim:{label}"], _ = timed(
        [sys.executable, "-m", "pimsim.cli", "run", CONFIG, "--trace", trace,
         "--baseline", "none", "--fidelity", fidelity], ROOT, env)
    _, _, sim = timed([sys.executable, "-c", SIM_ONLY, CONFIG, trace, fidelity], ROOT, env)
    out[f"sim:{label}"] = float(sim.strip().splitlines()[-1])


# ---- the generated tables of docs/performance.md (pimsim.report.doc_tables) -------------

COLUMNS = ("workload", "MNSIM wall s", "pimsim wall s", "pimsim sim-only wall s",
           "pimsim / MNSIM wall", "MNSIM CPU s", "pimsim CPU s", "pimsim / MNSIM CPU")
#: CASES label -> its row label in docs/performance.md
DOC_LABELS = {"ResNet-18 32x32": "ResNet-18, 32x32", "VGG-16 32x32": "VGG-16, 32x32",
              "ResNet-18 224x224": "pimsim: ImageNet ResNet-18, 224x224 vs MNSIM's "
                                   "ResNet-18 32x32",
              "ResNet-18 32x32 analytic": "ResNet-18, 32x32, pimsim closed form (`analytic`)",
              "VGG-16 32x32 analytic": "VGG-16, 32x32, pimsim closed form (`analytic`)"}
DOC_ROUNDS = 3
#: the speed targets, pimsim / MNSIM wall time per row: 0.33x on the 32x32 networks; ImageNet
#: ResNet-18 at or below MNSIM's 32x32 ResNet-18
TARGETS = (0.33, 0.33, 1.0)    # the first three rows (CASES); the closed-form rows have none


def shape() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return COLUMNS, tuple(DOC_LABELS[label] for label, _, _ in CASES + ANALYTIC)


def compared() -> list[tuple[str, str]]:
    """(pimsim case label, the MNSIM case label it is compared with), in the page's order:
    each 32x32 network against MNSIM on it, ImageNet ResNet-18 against MNSIM's 32x32
    ResNet-18, the closed-form rows against MNSIM on their network."""
    return ([(label, label if net else "ResNet-18 32x32") for label, net, _ in CASES]
            + [(label, ref) for label, ref, _ in ANALYTIC])


def doc_rows(med: dict[str, float]) -> list[tuple[str, ...]]:
    """The page's rows from the medians of :func:`run_round`'s figures (MNSIM included)."""
    return [_row(label, med[f"mnsim:{ref}"], med[f"cpu:mnsim:{ref}"], med)
            for label, ref in compared()]


def _row(label: str, m: float, mc: float, med: dict[str, float]) -> tuple[str, ...]:
    """One page row: pimsim case ``label``'s medians against MNSIM's wall ``m`` / CPU ``mc``."""
    p, pc, s = med[f"pimsim:{label}"], med[f"cpu:pimsim:{label}"], med[f"sim:{label}"]
    return (DOC_LABELS[label], f"{m:.2f}", f"{p:.2f}", f"{s:.2f}", f"{p / m:.2f}x",
            f"{mc:.2f}", f"{pc:.2f}", f"{pc / mc:.2f}x")


def _doc_block(name: str, mnsim_threads: int | None) -> str:
    from benchmarks.run_all import machine

    from pimsim.report.doc_tables import Unavailable

    if not mnsim_available():
        raise Unavailable(f"MNSIM 2.0 not found at {MNSIM_DIR} ({MNSIM_PY}; set MNSIM_DIR and "
                           f"MNSIM_PY): the table {name} needs it")
    at_start = machine()
    rounds = [run_round(True, mnsim_threads) for _ in range(DOC_ROUNDS)]
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    flag = f" --mnsim-threads {mnsim_threads}" if mnsim_threads else ""
    threads = f"MNSIM limited to {mnsim_threads} thread(s)" if mnsim_threads else \
        "MNSIM at its default threads"
    lines = [f"<!-- generated: {name} -->", "",
             f"Generated by `python -m pimsim.report.doc_tables --write {name}` (`PYTHONPATH=. "
             f"python benchmarks/bench_mnsim.py --rounds {DOC_ROUNDS}{flag}`: medians of "
             f"{DOC_ROUNDS} rounds, {threads}) on {at_start}. Timings: not checked by the "
             "tests (they depend on the machine and its load); the tests check this table's "
             "columns and rows.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    rows = doc_rows(med)
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    met = [f"{r[0]}: {r[4]} wall, {r[7]} CPU (target {t}x: "
           f"{'met' if float(r[4][:-1]) <= t else 'not met'})" for r, t in zip(rows, TARGETS)]
    lines += ["", "Against the speed targets: " + "; ".join(met) + "."]
    return "\n".join(lines + ["", "<!-- end generated -->"])


def block() -> str:
    """docs/performance.md's block ``performance-mnsim`` (MNSIM at its default threads)."""
    return _doc_block("performance-mnsim", None)


def block_one_thread() -> str:
    """docs/performance.md's block ``performance-mnsim-1thread`` (``--mnsim-threads 1``)."""
    return _doc_block("performance-mnsim-1thread", 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="rounds (median reported; >= 3)")
    ap.add_argument("--mnsim-threads", type=int, default=None,
                    help="OMP/MKL threads for MNSIM (default: its own, all cores); pimsim is "
                         "single-threaded, so 1 compares the work done on one core")
    args = ap.parse_args(argv)
    with_mnsim = mnsim_available()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load:.2f} "
          f"at the start; python {platform.python_version()}; {args.rounds} rounds; MNSIM "
          f"threads: {args.mnsim_threads or 'default'}")
    if not with_mnsim:
        print(f"MNSIM 2.0 not found at {MNSIM_DIR} ({MNSIM_PY}): pimsim cases only")
    rounds = []
    for i in range(args.rounds):
        rounds.append(run_round(with_mnsim, args.mnsim_threads))
        print(f"round {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in rounds[-1].items()),
              flush=True)
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    print()
    print("wall s: elapsed, whole process; CPU s: user + system time of the process and its "
          "threads (less sensitive to other jobs on the machine); medians of the rounds")
    print(f"{'workload':26} {'MNSIM wall':>10} {'pimsim wall':>11} {'sim-only':>8} "
          f"{'wall ratio':>10} {'MNSIM CPU':>9} {'pimsim CPU':>10} {'CPU ratio':>9}")
    nan = float("nan")
    for label, ref in compared():
        m, mc = med.get(f"mnsim:{ref}"), med.get(f"cpu:mnsim:{ref}")
        p, pc, s = med[f"pimsim:{label}"], med[f"cpu:pimsim:{label}"], med[f"sim:{label}"]
        wr = f"{p / m:.2f}x" if m else ""
        cr = f"{pc / mc:.2f}x" if mc else ""
        print(f"{label:26} {m or nan:>10.2f} {p:>11.2f} {s:>8.2f} {wr:>10} {mc or nan:>9.2f} "
              f"{pc:>10.2f} {cr:>9}")
    m18 = med.get("mnsim:ResNet-18 32x32")
    if m18:
        print("(ResNet-18 224x224 ratios are against MNSIM's ResNet-18 32x32 run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
