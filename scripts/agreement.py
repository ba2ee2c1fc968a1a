"""The closed form against the engine: issue 12's agreement table (docs/engine.md).

Usage: python scripts/agreement.py TRACE [TRACE ...] -- CONFIG [CONFIG ...]

For every trace x design: ``analytic`` and ``fast`` interval and latency, their
difference, and whether a difference beyond 5 % is accounted for by named causes: the
engine's stalls (interval); for the latency, image 0's difference split into contention
by cause group (engine runs of image 0 alone with a group's shared units uncontended),
later images and what is left with no queueing anywhere (``pimsim.sim.agreement``: the
rules are in its docstring). Prints the markdown table, one row as each run finishes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim.agreement import HEADER, compare, markdown_row
from pimsim.workload import load_network


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print(__doc__)
        return 2
    cut = argv.index("--")
    traces, configs = argv[:cut], argv[cut + 1:]
    print(HEADER, flush=True)
    for t in traces:
        net = load_network(t)
        for c in configs:
            g = compare(net, build_arch(load_design(c)), Path(t).stem, Path(c).stem)
            print(markdown_row(g), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
