"""Fingerprint of the engine's results over traces x design points x fidelities.

``python -m benchmarks.engine_fingerprint [--quick] [--only SUBSTR] > out.txt`` prints, per case,
the headline figures (interval, latency, energy, images, per-layer busy / stalls, component
ops) and a SHA-256 of the whole ``Result.as_dict()`` (identity and run-time fields left out),
so that a pure optimization of the engine can be checked to give bit-identical results:
``diff`` the output before and after. Floats are printed with ``repr`` (exact).
``engine_fingerprint_baseline.txt`` holds the hash and headline line of every case (full
run, ``grep -A1 sha=``) of the merged engine at the end of issue 12's speed work (after the
output-stage period rule and the pace-held steady state); the speed work itself was
checked against the engine before it (40ec879). Two cases were refreshed after the
jitter-aware drift test of ``pimsim/sim/steady.py`` (branch ``steady50``), which stops them
at another image: ``mnsim_resnet18_shapes.npz isaac.yaml fast`` (48 images, was 50) and
``resnet50_shapes.npz isaac.yaml fast`` (50 images, converged; was 64, not converged); a
full run on the merged main found a third, refreshed with them:
``resnet20_digits.npz isaac_xbar256.yaml event`` (38 images, was 43; interval 3,922.67 ns,
was 3,926.48); every other case is unchanged. Three hashes were refreshed when the
engine's ``total.bottleneck.closed_form_interval_ns`` started counting spilled rows on
the off-chip links as the closed form does (branch ``intervals``):
``lstm_lm_shapes.npz`` on ``isaac.yaml`` and ``isaac_8bit.yaml`` and
``resnet50_shapes.npz isaac.yaml fast``, the traces here that spill; every figure the
fingerprint prints (headline, stalls, ops, busy, per layer) is identical.
Six cases were refreshed when the steady-state rules started asking that no layer falls
behind the output (``pimsim.sim.steady.keeps_pace``, branch ``vggpace``): the run now
goes on past an exact cycle or a trend while some layer completes its images more slowly
than the output. ``mnsim_vgg16_shapes.npz isaac.yaml fast`` (29 images, 29,509.02 ns; was
7, 28,850.62 ns, the pace of images 1 to 17 only), ``mnsim_resnet18_shapes.npz isaac.yaml
fast`` (51, 11,630.05 ns; was 48, 11,609.42 ns), ``resnet20_digits.npz isaac_xbar512.yaml``
fast and event (35, 6,410.57 / 6,408.43 ns; was 8, 6,400.0 ns; 70 forced images give
6,408.68 ns, fast) and ``lenet5_mnist.npz sre.yaml event`` (13, 5,140.59 ns; was 12,
5,141.07 ns); latency and energy per image are unchanged in every case, and every other
case is identical (a full run of this module on that branch, diffed against the
baseline before it).
Nine cases were refreshed when a buffer's row started waiting for its own ring slot
(``j % slots``, where the plan stores it on or off chip) instead of any free slot of its
pool (branch ``slots``; ``pimsim/sim/buffers.py``): ``resnet50_shapes.npz isaac.yaml
fast`` (36 images, 782,444.48 ns; was 50, 781,721.16 ns; latency 2,815,962.9 ns, was
2,829,567.8), ``resnet20_digits.npz isaac_xbar256.yaml`` fast and event (21 images,
3,964.91 ns; was 54 / 38, 3,920.08 / 3,922.67 ns), ``mnsim_resnet18_shapes.npz
isaac_xbar256.yaml fast`` (converged after 47 images, 6,916.46 ns; was the 64-image cap,
not converged, 6,889.40 ns), ``mnsim_resnet18_shapes.npz isaac_8bit.yaml fast`` (latency
+2.04 ns), and four whose printed figures are identical (``resnet20_digits.npz
isaac_8bit.yaml`` fast and event, ``lstm_lm_shapes.npz`` on ``isaac.yaml`` and
``isaac_8bit.yaml``: stall or buffer figures of the hashed Result); every other case is
identical (a full run of this module on the merged main, diffed against the baseline).
Every case was refreshed when requests made at the same simulated time started being
granted to the older image first, then the lower copy index (``pimsim/sim/arbiter.py``,
branch ``tiebreak``; before: event order). 8 of the 38 cases are identical, 22 differ only
in the hashed Result (stall and busy sums accumulated in another order, a few ns of
per-layer stalls) with the same headline, and 8 print other headline figures:
``resnet20_digits.npz isaac_xbar256.yaml`` fast and event (22 images, was 21; latency
97,796.8 ns, was 97,898.9 fast and 97,684.9 event), ``resnet20_digits.npz
isaac_xbar512.yaml`` fast and event (the 64-image cap, not converged, 6,410.96 ns; was
35 images, converged, 6,410.57 / 6,408.43 ns; latency 117,772.0 ns, was 118,106.0 /
118,112.8; of 120 forced images, gaps 30 to 69 still vary between 6,400.0 and
6,513.3 ns: ``numpy.diff(simulate(net, arch, images=120).engine_stats.image_finish_ns)``),
``lenet5_mnist.npz sre.yaml fast`` (13 images, 5,140.59 ns; was 12, 5,141.07),
``mnsim_resnet18_shapes.npz isaac.yaml fast`` (34 images, 11,663.51 ns; was 51,
11,630.05), ``mnsim_resnet18_shapes.npz isaac_8bit.yaml fast`` (12 images, 13,653.25
ns, latency 113,737.7 ns; was 7, 13,653.33 ns, 112,235.6 ns) and ``resnet50_shapes.npz
isaac.yaml fast`` (47 images, 776,783.79 ns, latency 2,805,417.7 ns; was 36, 782,444.48 ns,
2,815,962.9 ns). Energy is unchanged in every case.
Ninth session: the engine's own queue entries and processes (branch ``speed2``,
docs/performance.md "A second round") and the ``engine.arbitration`` option (branch
``oldest``; the default ``fifo`` path unchanged) left the 26 quick cases identical after
each merge. A full run on the merged main (2-core machine, Python 3.11) found the
``resnet20_digits.npz`` cases on ``isaac_8bit.yaml`` and ``isaac_xbar512.yaml`` (fast and
event) and ``mnsim_resnet18_shapes.npz isaac_xbar256.yaml fast`` stale since the eighth
session's fed steady-state run (4c24b1e, the session's start, printed them alike: branch
``speed2``'s check; ``isaac_xbar512.yaml``: 6,413.41 ns, was 6,410.96; the
others' printed figures unchanged): refreshed; every other case identical. A full run on another
machine (Python 3.12, another numpy) hashes most cases differently (the last digit of a
few floats), so the baseline is a 2-core Python 3.11 run. Every hash was then refreshed
when the Result started naming its arbitration rule (``engine_stats.arbitration``, a
field of the hashed ``as_dict()``); every printed figure of every case is identical (the
full output diffed without its ``sha=`` and ``cpu_s`` lines).
Tenth session: a digital unit's busy time is its service (``ops x op_ns``), no longer the
difference of its end and start (a service under ``oldest_first`` may pause for an older
image's), so under ``fifo`` every case's per-layer ``busy_ns`` moved in its last digits
(e.g. 426.66666666666504 to 426.66666666666623 ns) and every hash with it; the full
output diffed with ``busy_ns`` removed is identical: refreshed. Then the default
``engine.arbitration`` became ``oldest_first`` (a strict priority by image, docs/engine.md
"Oldest image first"): every case moved and the baseline is a full run under it (2-core
machine, Python 3.11; 132.5 CPU s for the whole run against 227.3 s under ``fifo``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.arch import build_arch  # noqa: E402
from pimsim.config import load_design  # noqa: E402
from pimsim.sim import simulate  # noqa: E402
from pimsim.workload.trace import load_network  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ("isaac.yaml", "isaac_8bit.yaml", "isaac_xbar64.yaml", "isaac_xbar256.yaml",
           "isaac_xbar512.yaml")
#: (trace, designs, fidelities): small nets everywhere, big ones on fewer points
CASES = [
    ("cnn_digits.npz", DESIGNS, ("fast", "event")),
    ("resnet20_digits.npz", DESIGNS, ("fast", "event")),
    ("lenet5_mnist.npz", ("isaac.yaml", "era_bs.yaml", "sre.yaml"), ("fast", "event")),
    ("resnet8_mnist.npz", ("isaac.yaml",), ("fast", "event")),
    ("lstm_lm_shapes.npz", ("isaac.yaml", "isaac_8bit.yaml"), ("fast",)),
    ("mnsim_resnet18_shapes.npz", ("isaac.yaml", "isaac_8bit.yaml", "isaac_xbar256.yaml"),
     ("fast",)),
    ("mnsim_vgg16_shapes.npz", ("isaac.yaml",), ("fast",)),
    ("resnet20_cifar_shapes.npz", ("isaac.yaml",), ("fast", "event")),
    ("resnet50_shapes.npz", ("isaac.yaml",), ("fast",)),
    ("bert_base_layer_shapes.npz", ("isaac.yaml",), ("fast",)),
]
#: --quick: the cases that take a few seconds at most (for checking after every change)
QUICK = {("resnet20_digits.npz", "isaac_xbar64.yaml"), ("mnsim_resnet18_shapes.npz", "isaac.yaml"),
         ("mnsim_resnet18_shapes.npz", "isaac_8bit.yaml")}
QUICK_TRACES = {"cnn_digits.npz", "lenet5_mnist.npz", "resnet8_mnist.npz", "lstm_lm_shapes.npz",
                "mnsim_vgg16_shapes.npz", "bert_base_layer_shapes.npz"}
SKIP = ("identity",)                 # provenance, not model output
#: engine_stats fields that describe the run, not the model: a faster engine may step fewer
#: simpy events for the same result
RUNTIME = ("events", "timeline", "wall_s", "events_per_s")


def _strip(d):
    out = {k: v for k, v in d.items() if k not in SKIP}
    if out.get("engine_stats"):
        out["engine_stats"] = {k: v for k, v in out["engine_stats"].items() if k not in RUNTIME}
    return out


def fingerprint(res) -> tuple[str, list[str]]:
    d = _strip(res.as_dict())
    digest = hashlib.sha256(json.dumps(d, sort_keys=True, default=repr).encode()).hexdigest()
    t = res.total
    lines = [f"  interval_ns={t.interval_ns!r} latency_ns={t.latency_ns!r} "
             f"energy_pJ={t.energy_pJ!r} images={t.images} converged={t.converged}"]
    stats = d.get("engine_stats") or {}
    for key in ("stalls_ns", "component_ops", "component_busy_ns"):
        if key in stats:
            lines.append(f"  {key}={json.dumps(stats[key], sort_keys=True, default=repr)}")
    for lay in stats.get("layers", ()):
        lines.append(f"  layer {lay['name']} busy_ns={lay['busy_ns']!r} "
                     f"stalls_ns={json.dumps(lay['stalls_ns'], sort_keys=True)}")
    return digest, lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small traces only")
    ap.add_argument("--only", default="", help="cases whose trace name contains this")
    a = ap.parse_args()
    total = 0.0
    for trace, designs, fids in CASES:
        if a.only not in trace:
            continue
        net = load_network(ROOT / "traces" / trace)
        for design in designs:
            if a.quick and trace not in QUICK_TRACES and (trace, design) not in QUICK:
                continue
            arch = build_arch(load_design(ROOT / "configs" / design))
            for fid in fids:
                t0 = time.process_time()
                res = simulate(net, arch, fidelity=fid)
                dt = time.process_time() - t0
                total += dt
                digest, lines = fingerprint(res)
                print(f"{trace} {design} {fid} sha={digest[:20]}")
                print("\n".join(lines))
                print(f"{trace} {design} {fid} cpu_s={dt:.2f}", file=sys.stderr)
    print(f"total cpu_s={total:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
