"""Functional (accuracy) model speed: MACs/s per core of the crossbar kernel, numba vs its
numpy reference, and 1,000 MNIST images through the ResNet trace on ISAAC's 8-bit datapath.

    python -m benchmarks.bench_functional          # also part of ``make bench``

MACs are the layer's multiply-accumulates (each one is ``input cycles x slices`` cell
operations in the bit-serial datapath: 8 x 4 = 32 on configs/isaac_8bit.yaml). Per-core
figures divide by this process's CPU seconds (numba's threads included), so they do not
improve when the machine is idle but the wall time does; the load average is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TRACE = ROOT / "traces" / "resnet8_mnist.npz"
CONFIG = ROOT / "configs" / "isaac_8bit.yaml"
TARGET_S = 60.0
TARGET_IMAGES = 1000


def kernel_case(samples: int = 16) -> dict:
    """The trace's largest-MAC conv layer on its stored samples, one thread each way."""
    import numba

    from pimsim.config import load_design
    from pimsim.functional.network import HardwareModel, layer_codes, trace_weights
    from pimsim.workload import load_trace

    trace = load_trace(TRACE)
    design = load_design(CONFIG)
    weights = trace_weights(trace)
    lay = max(trace.network.mvm_layers, key=lambda l: l.macs)
    acts = trace.activations(lay.name)[:samples]
    codes = layer_codes(acts, lay, trace.act_quant(lay.name)[1])
    macs = lay.macs * len(acts)
    out = {"layer": lay.name, "macs": macs}
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for name, use_numba in (("numba", True), ("numpy", False)):
            hw = HardwareModel(design, weights, [lay], use_numba=use_numba)
            hw.mvm(lay, codes[:2], 0)                       # JIT warm-up
            best = float("inf")
            for _ in range(3):
                c0 = time.process_time()
                hw.mvm(lay, codes, 0)
                best = min(best, time.process_time() - c0)
            out[f"{name}_cpu_s"] = best
            out[f"{name}_macs_per_core_s"] = macs / best
    finally:
        numba.set_num_threads(old)
    out["speedup"] = out["numpy_cpu_s"] / out["numba_cpu_s"]
    return out


def end_to_end(threads: int = 2) -> dict:
    """Wall time of ``pimsim run`` measuring accuracy on all 1,000 held-out MNIST images."""
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "pimsim.cli", "run", str(CONFIG), "--trace", str(TRACE),
           "--baseline", "none", "--accuracy-images", "all", "--json"]
    t0 = time.perf_counter()
    r0 = os.times()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    r1 = os.times()
    wall = time.perf_counter() - t0
    import json
    acc = json.loads(proc.stdout)["total"]["accuracy"]
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    t1 = time.perf_counter()
    sim_only = _accuracy_only(threads)
    return {"images": acc["samples"], "wall_s": wall, "cpu_s": cpu, "threads": threads,
            "hardware": acc["hardware"], "software": acc["software"],
            "accuracy_only_s": sim_only, "check_s": time.perf_counter() - t1}


def _accuracy_only(threads: int) -> float:
    """Seconds of ``measure_accuracy`` alone (numba warm), in this process."""
    import numba

    from pimsim.config import load_design
    from pimsim.functional.accuracy import measure_accuracy
    from pimsim.workload import load_trace

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    trace, design = load_trace(TRACE), load_design(CONFIG)
    measure_accuracy(trace, design, images=10)          # warm-up
    t0 = time.perf_counter()
    measure_accuracy(trace, design, images=TARGET_IMAGES)
    return time.perf_counter() - t0


# ---- the generated table of docs/functional.md (pimsim.report.doc_tables) -------------

COLUMNS = ("measurement", "value")
LABELS = ("kernel, 1 thread, MACs per CPU second: numba",
          "same, numpy reference",
          "`pimsim run configs/isaac_8bit.yaml --trace traces/resnet8_mnist.npz --baseline none "
          "--accuracy-images all --json`, whole process, wall",
          "accuracy alone (`measure_accuracy`, numba warm), wall",
          "hardware / software accuracy there")


def shape() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return COLUMNS, LABELS


def block() -> str:
    """Run the benchmark and render docs/functional.md's block ``functional-speed``."""
    from benchmarks.run_all import machine

    k = kernel_case()
    e = end_to_end()
    verdict = "meets" if e["wall_s"] < TARGET_S else "misses"
    rows = [(LABELS[0], f"{k['numba_macs_per_core_s']:.3g} (layer `{k['layer']}`, "
                        f"{k['macs']:,} MACs on 16 stored samples)"),
            (LABELS[1], f"{k['numpy_macs_per_core_s']:.3g} (numba {k['speedup']:.1f}x)"),
            (LABELS[2], f"{e['wall_s']:.1f} s for {e['images']:,} images (CPU {e['cpu_s']:.1f} s, "
                        f"{e['threads']} numba threads): {verdict} the < {TARGET_S:.0f} s target"),
            (LABELS[3], f"{e['accuracy_only_s']:.1f} s for {TARGET_IMAGES:,} images"),
            (LABELS[4], f"{e['hardware']:.4f} / {e['software']:.4f}")]
    lines = ["<!-- generated: functional-speed -->", "",
             "Generated by `python -m pimsim.report.doc_tables --write functional-speed` "
             f"(`python -m benchmarks.bench_functional`) on {machine()}. Timings: not checked "
             "by the tests (they depend on the machine and its load); the tests check this "
             "table's columns and rows.", "",
             "| " + " | ".join(COLUMNS) + " |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines + ["", "<!-- end generated -->"])


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"functional model: {os.cpu_count()} cores, load average {load:.2f}")
    k = kernel_case()
    print(f"{'kernel (1 thread)':20} {'layer':16} {'MACs':>10} {'numba MAC/s/core':>17} "
          f"{'numpy MAC/s/core':>17} {'speedup':>8}")
    print(f"{'crossbar_mvm':20} {k['layer']:16} {k['macs']:>10} {k['numba_macs_per_core_s']:>17.3g} "
          f"{k['numpy_macs_per_core_s']:>17.3g} {k['speedup']:>7.1f}x")
    e = end_to_end()
    verdict = "meets" if e["wall_s"] < TARGET_S else "MISSES"
    print(f"pimsim run {CONFIG.name} --trace {TRACE.name} --accuracy-images all: "
          f"{e['images']} images, wall {e['wall_s']:.1f} s (cpu {e['cpu_s']:.1f} s, "
          f"{e['threads']} numba threads), accuracy alone {e['accuracy_only_s']:.1f} s; "
          f"hardware {e['hardware']:.4f}, software {e['software']:.4f}")
    print(f"  {verdict} the {TARGET_IMAGES} images < {TARGET_S:.0f} s target (whole process, wall)")


if __name__ == "__main__":
    main()
