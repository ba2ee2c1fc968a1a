"""Doubling the images from the engine's own steady state (issue 12's acceptance).

Usage: python scripts/steady_doubling.py CONFIG TRACE [TRACE ...]

For each trace: run ``fast`` to its steady state (``t``), then force ``2 x t.images``
images and print both intervals (ns), their relative difference and the run times.
"""

from __future__ import annotations

import sys
import time

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim import simulate
from pimsim.workload import load_network


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    arch = build_arch(load_design(argv[0]))
    print("| trace | images to converge | interval (ns) | 2x images | interval (ns) | change |")
    print("|---|---|---|---|---|---|")
    for path in argv[1:]:
        net = load_network(path)
        t0 = time.perf_counter()
        t = simulate(net, arch, fidelity="fast").total
        t1 = time.perf_counter()
        two = simulate(net, arch, fidelity="fast", images=2 * t.images).total
        t2 = time.perf_counter()
        change = 100 * (two.interval_ns / t.interval_ns - 1)
        conv = "" if t.converged else " (not converged)"
        print(f"| {path} | {t.images}{conv} | {t.interval_ns:.2f} | {two.images} | "
              f"{two.interval_ns:.2f} | {change:+.3f} % |  <!-- {t1 - t0:.1f} s, {t2 - t1:.1f} s -->",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
