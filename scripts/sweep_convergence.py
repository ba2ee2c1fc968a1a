"""Which design points of the fast sweep benchmark converge, and what the ones that reach the
image cap do in the long run (docs/engine.md, "Runs that reach the cap").

Run: ``PYTHONPATH=. python scripts/sweep_convergence.py [--distinct] [--points WORD,...]
[--long N]`` from the repository root. For each of the 48 points of
``benchmarks/bench_sweep.py`` (ResNet-20, CIFAR shapes, on ``configs/isaac.yaml`` with the
sweep's overrides) it runs the engine to its own steady state (``fast``, no forced count)
and prints a Markdown row: images completed, converged, the rule that stopped it
(``pimsim.sim.steady.Monitor.rule``), the interval (ns), simpy events and the CPU seconds
of the run (``time.process_time()`` around ``Engine.run``, after a warm-up run).
``--distinct`` runs one point per (crossbar size, cells per weight = weight bits / bits per
cell, read cycle) and names the points it stands for (it assumes the timing depends on
the crossbar shape, the bit-slices per weight and the read cycle, not on how weight bits
and cell bits make up the slices: run without it to see every point); ``--points`` keeps the points whose label (``512x512 2b/cell w16
read 100ns``) contains one of the words.
``--long N`` then forces ``N`` completions on each point that reached the cap (a fed
stream: its first completions are those of the capped run, docs/engine.md "Steady state")
and prints where the rules of ``pimsim.sim.steady`` first hold on those completions (every
layer's completions included, as in the engine), that estimate, the mean gap over images
``N // 4 .. N - 1`` (the long run) and how far the capped run's interval is from it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def points() -> list[dict]:
    """The 48 point specs of benchmarks/bench_sweep.py's fast sweep (key, base, overrides,
    trace)."""
    from benchmarks.bench_sweep import sweep_yaml
    from pimsim.sweep import load_sweep
    from pimsim.sweep.plan import expand

    with tempfile.TemporaryDirectory(prefix="pimsim-conv-") as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(sweep_yaml("fast"))
        pts, _ = expand(load_sweep(path))
    return [pt["spec"] for pt in pts if pt["key"]]


def label(spec: dict) -> str:
    """A point's overrides in words: ``512x512 2b/cell w16 read 100ns``."""
    o = spec["overrides"]
    return (f"{o['crossbar.rows']}x{o['crossbar.cols']} {o['crossbar.bits_per_cell']}b/cell "
            f"w{o['precision.weight_bits']} read {o['crossbar.read_cycle_ns']}ns")


def timing_class(spec: dict) -> tuple[int, int, float]:
    """(crossbar rows, cells per weight, read cycle ns) of a point."""
    o = spec["overrides"]
    cells = int(o["precision.weight_bits"]) // int(o["crossbar.bits_per_cell"])
    return int(o["crossbar.rows"]), cells, float(o["crossbar.read_cycle_ns"])


def engine(spec: dict, images: int | None):
    """The engine after its run on ``spec`` (as pimsim.sweep.point.evaluate_spec builds the
    point) and the CPU seconds of ``Engine.run``."""
    from pimsim.arch import build_arch
    from pimsim.config import load_design
    from pimsim.mapping import map_network
    from pimsim.mapping.activity import workload_overrides
    from pimsim.sim.engine import Engine
    from pimsim.sweep.point import load_network_cached

    design = load_design(spec["base"], spec.get("overrides") or {})
    arch = build_arch(design)
    net = load_network_cached(spec["trace"])
    overrides = workload_overrides(spec["trace"], design, None, act_transforms=None) or None
    eng = Engine(net, arch, map_network(net, arch, overrides), "fast", images, False, None)
    t0 = time.process_time()
    eng.run()
    return eng, time.process_time() - t0


def first_convergence(eng) -> tuple[int | None, str, float]:
    """(completions, rule, interval ns) where the rules first hold on ``eng``'s completions
    with every layer's (None, '', nan if they never do)."""
    from pimsim.sim.steady import Monitor

    m = Monitor()
    for i, f in enumerate(eng.image_finish):
        if m.add(f, [L.img_finish[i] for L in eng.layers]):
            return i + 1, m.rule + (f" of {m.period}" if m.period else ""), m.result().interval_ns
    return None, "", float("nan")


def falling_lead(eng, lo: int, n: int):
    """(layer name, least-squares slope of its lead over the output over completions
    ``lo .. n`` in ns per image, its lead at ``n`` in ns) of the layer whose lead falls
    fastest there (``pimsim.sim.steady.keeps_pace``'s lead: output completion less the
    layer's completion of the same image)."""
    import numpy as np

    f = np.asarray(eng.image_finish[lo:n + 1])
    x = np.arange(lo, n + 1, dtype=np.float64)
    best = None
    for L in eng.layers:
        lead = f - np.asarray(L.img_finish[lo:n + 1])
        if np.isnan(lead).any():
            continue
        slope = float(np.polyfit(x, lead, 1)[0])
        if best is None or slope < best[1]:
            best = (L.lay.name, slope, float(lead[-1]), L)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--distinct", action="store_true",
                   help="one point per (crossbar size, cells per weight, read cycle)")
    p.add_argument("--points", default="", help="comma-separated words a point's label contains")
    p.add_argument("--long", type=int, default=0, metavar="N",
                   help="force N completions on each point that reached the cap")
    args = p.parse_args(argv)
    from pimsim.sim.steady import MAX_IMAGES

    specs = points()
    words = [w for w in args.points.split(",") if w]
    if words:
        specs = [s for s in specs if any(w in label(s) for w in words)]
    groups: dict[tuple, list[dict]] = {}
    for s in specs:
        groups.setdefault(timing_class(s) if args.distinct else (s["key"],), []).append(s)
    engine(specs[0], 1)                        # warm-up: imports, numba cache, trace
    print("| point | stands for | images | converged | rule | interval (ns) | events | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    capped = []
    for members in groups.values():
        s = members[0]
        eng, cpu = engine(s, None)
        res = eng.monitor.result()
        rule = eng.monitor.rule + (f" of {eng.monitor.period}" if eng.monitor.period else "")
        others = ", ".join(label(m) for m in members[1:]) or "-"
        print(f"| {label(s)} | {others} | {eng.images} | {'yes' if res.converged else 'no'} | "
              f"{rule or '-'} | {res.interval_ns:,.2f} | {eng.events:,} | {cpu:.1f} |", flush=True)
        if not res.converged and eng.images == MAX_IMAGES:
            capped.append((s, res.interval_ns))
    if args.long:
        for s, capped_ns in capped:
            eng, cpu = engine(s, args.long)
            f = eng.image_finish
            n = len(f)
            k, rule, est = first_convergence(eng)
            long_run = (f[-1] - f[n // 4]) / (n - 1 - n // 4)
            gaps = [b - a for a, b in zip(f[8:], f[9:])]
            cap = MAX_IMAGES - 1
            name, slope, lead, L = falling_lead(eng, cap // 2, cap)
            leads = [a - b for a, b in zip(f[n // 4:], L.img_finish[n // 4:n])]
            stop = f"after {k} images, {rule}, {est:,.2f} ns" if k else "never"
            print(f"{label(s)}: {n} forced images ({eng.events:,} events, {cpu:.1f} CPU s); the "
                  f"rules first hold {stop}; mean gap over images {n // 4}..{n - 1}: "
                  f"{long_run:,.2f} ns; gaps from image 9 on: {min(gaps):,.2f} .. "
                  f"{max(gaps):,.2f} ns; the capped run's {capped_ns:,.2f} ns is "
                  f"{capped_ns / long_run - 1:+.3%} from the long run; over the capped run's "
                  f"trend window ({cap // 2}..{cap}) {name}'s lead falls fastest: "
                  f"{slope:+,.2f} ns per image, {lead:,.0f} ns at image {cap}; its lead over "
                  f"images {n // 4}..{n - 1}: {min(leads):,.0f} .. {max(leads):,.0f} ns",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
