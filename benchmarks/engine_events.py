"""The engine's events by kind: what each queue entry of one ``simulate()`` run called.

``python -m benchmarks.engine_events [--trace T] [--design D] [--fidelity F]`` runs
``simulate(load_network(traces/T), build_arch(load_design(configs/D)))`` with a counting
copy of the event loop (``Engine._loop``: the same entries in the same order, each also
counted by the function it calls; a process step by the process's generator) and prints
the counts, the units done (``Engine.done_units``) and events per unit. What a speed-up of
the engine's code can cut is the CPU per event; fewer events per unit need another model.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.arch import build_arch  # noqa: E402
from pimsim.config import load_design  # noqa: E402
from pimsim.sim import engine, simulate  # noqa: E402
from pimsim.sim.events import step  # noqa: E402
from pimsim.workload.trace import load_network  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def counting_loop(kinds: collections.Counter, units: list[int]):
    """An ``Engine._loop`` that counts each entry by what it calls (else the same)."""

    def _loop(self, env, queue, pop, progress) -> int:
        n = 0
        while not self.stop:
            try:
                env._now, _, _, fn, arg = pop(queue)
            except IndexError:
                break
            if fn is step:
                kinds["process " + arg.send.__self__.gi_code.co_name] += 1
            else:
                kinds[getattr(fn, "__name__", type(fn).__name__)] += 1
            fn(arg)
            n += 1
        units.append(self.done_units)
        return n

    return _loop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", default="mnsim_resnet18_shapes.npz")
    ap.add_argument("--design", default="isaac.yaml")
    ap.add_argument("--fidelity", default="fast")
    a = ap.parse_args(argv)
    kinds: collections.Counter = collections.Counter()
    units: list[int] = []
    saved = engine.Engine._loop
    engine.Engine._loop = counting_loop(kinds, units)
    try:
        r = simulate(load_network(ROOT / "traces" / a.trace),
                     build_arch(load_design(ROOT / "configs" / a.design)), fidelity=a.fidelity)
    finally:
        engine.Engine._loop = saved
    total = sum(kinds.values())
    print(f"{a.trace} on {a.design}, {a.fidelity}: {total:,} events "
          f"(engine_stats.events {r.engine_stats.events:,}), {units[0]:,} units done, "
          f"{total / max(1, units[0]):.2f} events per unit, {r.engine_stats.images} images")
    for kind, n in kinds.most_common():
        print(f"  {n:>10,}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
