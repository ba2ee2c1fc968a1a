"""Engine benchmarks: wall time, peak memory and events/s of one simulation.

``python -m benchmarks.bench_engine CASE`` prints one JSON line; CASE is
``fast:<net>`` (a whole network, fast fidelity) or ``event:resnet20_layer`` (one ResNet-20
3x3 conv layer, event fidelity). Each case runs in its own process (run_all.py) so the
peak resident memory is that case's own. The numba kernels and a small simulation run
first, outside the timing (JIT warm-up / cache load).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.arch import build_arch  # noqa: E402
from pimsim.config import load_design  # noqa: E402
from pimsim.sim import simulate  # noqa: E402
from pimsim.workload.layer import NETWORK_INPUT, Layer, Network  # noqa: E402
from pimsim.workload.trace import load_network  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ISAAC = ROOT / "configs" / "isaac.yaml"
#: benchmark name -> shipped shape-only trace (made by the exporter from our zoo models)
TRACES = {"resnet20": "resnet20_cifar_shapes.npz", "resnet18": "resnet18_shapes.npz",
          "resnet50": "resnet50_shapes.npz", "vgg16": "vgg16_shapes.npz"}


def network(name: str) -> Network:
    return load_network(ROOT / "traces" / TRACES[name])
KIB_PER_MIB = 1024


def resnet20_layer():
    """ResNet-20's first 3x3 conv (16 -> 16 channels on 32x32) on its own."""
    shape = (16, 32, 32)
    conv = Layer("s0b0_c1", "conv", (NETWORK_INPUT,), shape, shape, kernel=(3, 3),
                 padding=(1, 1))
    return Network("resnet20_s0b0_c1", shape, (conv,))


def run_case(case: str, images: int | None = None) -> dict:
    fidelity, name = case.split(":")
    arch = build_arch(load_design(ISAAC))
    simulate(network("resnet20"), arch, fidelity="fast", images=1)   # warm-up
    net = resnet20_layer() if name == "resnet20_layer" else network(name)
    kw = {} if images is None else {"images": images}
    t0, c0 = time.perf_counter(), time.process_time()
    r = simulate(net, arch, fidelity=fidelity, **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB
    # Python-heap peak of the same run, measured in a second run under tracemalloc
    tracemalloc.start()
    simulate(net, arch, fidelity=fidelity, **kw)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    s = r.engine_stats
    return {"case": case, "network": net.name, "layers": len(net), "fidelity": fidelity,
            "images": s.images, "wall_s": wall, "cpu_s": cpu, "events": s.events,
            "events_per_s": s.events / cpu if cpu else 0.0,
            "peak_rss_MiB": peak_rss_mib, "python_heap_peak_MiB": heap_peak / 2 ** 20,
            "latency_us": r.total.latency_ns / 1e3, "interval_us": r.total.interval_ns / 1e3,
            "chips": r.total.chips}


if __name__ == "__main__":
    print(json.dumps(run_case(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)))
