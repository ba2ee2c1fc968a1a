"""The steady pace of the engine's pipeline with no queueing, in closed form: the
row-by-row schedule of the closed form's latency (``pimsim.sim.stages.row_schedule``,
finite buffers included) run for several images back to back (docs/engine.md, "What
set the large traces' intervals"). A diagnostic: ``analytic`` does not use it yet.

Usage: python scripts/pipeline_pace.py TRACE CONFIG [TRACE CONFIG ...]

Image ``i``'s rows follow image ``i - 1``'s in every layer (image-major, as the engine's
copies, workers and rings take them); an image is complete when the last row of every
sink layer is. The pace is the steady-state interval of those completions by the
engine's own rule (:class:`pimsim.sim.steady.Monitor`), with 16, 32 then 64 images.
Prints the closed form's interval (its slowest stage) and the pace; where the pace is
slower, a ring of row slots sets it (the engine with no queueing anywhere,
``run_engine(net, arch, uncontended="*")``, is the independent check:
tests/sim/test_agreement.py).
"""

from __future__ import annotations

import sys

import numpy as np

from pimsim.arch import build_arch
from pimsim.arch.compose import Arch
from pimsim.config import load_design
from pimsim.mapping import NetworkMap, map_network
from pimsim.sim.analytic import evaluate
from pimsim.sim.steady import MAX_IMAGES, Monitor
from pimsim.sim.stages import row_schedule
from pimsim.workload import load_network
from pimsim.workload.layer import Network

#: images of the first schedule; doubled up to the engine's cap until the pace converges
FIRST_IMAGES = 16


def completions(network: Network, nmap: NetworkMap, arch: Arch, images: int) -> np.ndarray:
    """When each of ``images`` images fed back to back is complete, with no queueing (ns):
    the last row of every sink layer (one no other layer reads)."""
    done = row_schedule(network, nmap, arch, images=images)[0]
    read = {src for lay in network for src in lay.inputs}
    fin = np.zeros(images)
    for lay in network:
        if lay.name not in read:
            np.maximum(fin, done[lay.name].reshape(images, -1).max(axis=1), out=fin)
    return fin


def pace_ns(network: Network, nmap: NetworkMap, arch: Arch) -> tuple[float, int, bool]:
    """(steady-state interval of :func:`completions` in ns, images scheduled, converged)."""
    k = FIRST_IMAGES
    while True:
        m = Monitor()
        for t in completions(network, nmap, arch, k):
            if m.add(float(t)):
                return m.result().interval_ns, k, True
        if k >= MAX_IMAGES:
            return m.result().interval_ns, k, False
        k = min(2 * k, MAX_IMAGES)


def main(argv: list[str]) -> int:
    if not argv or len(argv) % 2:
        print(__doc__)
        return 2
    for t, c in zip(argv[::2], argv[1::2]):
        net, arch = load_network(t), build_arch(load_design(c))
        interval = evaluate(net, arch).total.interval_ns
        pace, k, ok = pace_ns(net, map_network(net, arch), arch)
        print(f"{t} {c}: closed form {interval:,.1f} ns; pace with no queueing "
              f"{pace:,.1f} ns ({k} images{'' if ok else ', not converged'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
