"""Run every benchmark and print a table (``make bench``). Not a test: nothing is asserted.

Each engine case runs in a fresh Python process (clean peak-memory figure, numba cache
warm). The comparison with MNSIM 2.0 on the same workloads, whole processes side by side,
is ``benchmarks/bench_mnsim.py`` (it needs MNSIM set up; docs/performance.md).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_endurance, bench_kernels, bench_sweep  # noqa: E402

ENGINE_CASES = ("fast:resnet50", "fast:resnet18", "fast:vgg16", "fast:resnet20",
                "event:resnet20_layer")
TARGET_RESNET50_S = 10.0


def engine_case(case: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_engine", case], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load:.2f}; python {platform.python_version()}")
    print("wall s: elapsed; cpu s: this process's CPU time (what a quiet machine's wall time "
          "would be: one core, no contention); events/s per CPU second")
    print(f"{'case':24} {'images':>6} {'wall s':>8} {'cpu s':>7} {'events':>9} {'events/s':>10} "
          f"{'RSS MiB':>8} {'heap MiB':>8} {'latency us':>11} {'interval us':>11}")
    for case in ENGINE_CASES:
        r = engine_case(case)
        print(f"{case:24} {r['images']:>6} {r['wall_s']:>8.2f} {r['cpu_s']:>7.2f} {r['events']:>9} "
              f"{r['events_per_s']:>10.0f} {r['peak_rss_MiB']:>8.0f} "
              f"{r['python_heap_peak_MiB']:>8.1f} {r['latency_us']:>11.1f} "
              f"{r['interval_us']:>11.1f}")
        if case == "fast:resnet50":
            verdict = "meets" if r["wall_s"] < TARGET_RESNET50_S else "MISSES"
            print(f"  ResNet-50 fast {verdict} the {TARGET_RESNET50_S:.0f} s target (wall)")
    print()
    print(f"{'kernel':20} {'elements':>10} {'numba el/s':>12} {'numpy el/s':>12} {'speedup':>8}")
    for k in bench_kernels.run():
        print(f"{k['kernel']:20} {k['elements']:>10} {k['numba_elements_per_s']:>12.3g} "
              f"{k['numpy_elements_per_s']:>12.3g} {k['speedup']:>7.1f}x")
    print()
    bench_endurance.main()
    print()
    bench_sweep.main([])


if __name__ == "__main__":
    main()
