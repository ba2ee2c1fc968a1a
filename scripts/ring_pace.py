"""A closed-form estimate of how fast each consumer operand's ring of row slots can turn,
from image 0's schedule (docs/engine.md, "What set the large traces' intervals"): a
diagnostic, not used by the closed form (it over-estimates where image 0's fill
lengthens the time a slot is held).

Usage: python scripts/ring_pace.py TRACE CONFIG [TRACE CONFIG ...]

Row ``j`` of image ``i`` takes the slot that row ``j - slots`` (of image ``i - m``, ``m``
images back) freed, so with every image on image 0's schedule (``take``: when the
producer's row has its slot; ``release``: when the last consumer row whose window holds
it starts, :func:`pimsim.sim.stages.row_done_ns`' rules) the interval is at least
``max over j of (release(k) - take(j)) / m``. Prints the closed form's interval and the
largest estimate with its operand.
"""

from __future__ import annotations

import sys

import numpy as np

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.mapping import map_network
from pimsim.sim.analytic import evaluate
from pimsim.sim.edram import plan_buffers
from pimsim.sim.noc import traffic
from pimsim.sim.stages import row_done_ns
from pimsim.workload import load_network


def ring_pace(net, arch) -> tuple[float, str]:
    """(largest estimate in ns, "producer->consumer")."""
    nmap = map_network(net, arch)
    done = row_done_ns(net, nmap, arch, noc=traffic(net, nmap, arch))
    times = {lr.name: lr.time_ns for lr in evaluate(net, arch).layers}
    lays = list(net)
    best = (0.0, "")
    for b in plan_buffers(net, nmap, arch.design):
        if b.producer < 0:
            continue
        p, c = lays[b.producer], lays[b.consumer]
        take, dc = done[p.name], done[c.name]
        if take.size != b.rows:
            continue
        start = dc - times[c.name] / max(1, dc.size)     # a row's start, at the earliest
        rel = np.full(b.rows, -np.inf)
        for r in range(dc.size):
            np.maximum(rel[b.lo[r]:b.hi[r] + 1], start[r], out=rel[b.lo[r]:b.hi[r] + 1])
        for j in range(b.rows):
            q = j - b.slots
            m, k = -(q // b.rows), q % b.rows
            if m == 0 or not np.isfinite(rel[k]):
                continue
            v = (rel[k] - take[j]) / m
            if v > best[0]:
                best = (float(v), f"{p.name}->{c.name}")
    return best


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__)
        return 2
    for t, cfg in zip(argv[::2], argv[1::2]):
        net, arch = load_network(t), build_arch(load_design(cfg))
        est, where = ring_pace(net, arch)
        iv = evaluate(net, arch).total.interval_ns
        print(f"{t} {cfg}: closed form {iv:,.1f} ns, ring estimate {est:,.1f} ns "
              f"({est / iv - 1:+.1%}, {where})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
