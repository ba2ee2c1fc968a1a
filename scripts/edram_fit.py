"""Where every shipped trace's buffered rows live on a design point (pimsim.sim.edram).

Usage: python scripts/edram_fit.py CONFIG [CONFIG ...]

One line per trace: consumer operands, how many do not fit in their consumer's tiles'
eDRAM (``short``), the bits per image of rows held in other tiles' eDRAM (one more NoC
transfer) and spilled off-chip (written and read back), and the operand that spills most.
Mapping only (no simulation): a few seconds for all traces.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.mapping import map_network
from pimsim.sim.edram import plan_buffers
from pimsim.workload import load_network

TRACES = Path(__file__).resolve().parents[1] / "traces"


def main(argv: list[str]) -> int:
    print(f"{'design':22s} {'trace':28s} {'chips':>5s} {'operands':>8s} {'short':>5s} "
          f"{'remote Mbit':>11s} {'spill Mbit':>10s}  most spilled (producer->consumer: "
          f"off-chip slots / need)")
    for cfg in argv or ["configs/isaac.yaml"]:
        arch = build_arch(load_design(cfg))
        for trace in sorted(TRACES.glob("*.npz")):
            net = load_network(trace)
            nmap = map_network(net, arch)
            plan = plan_buffers(net, nmap, arch.design)
            names = [lay.name for lay in net]
            short = sum(1 for b in plan if b.local < b.need)
            remote = sum(b.per_image(1) * b.send_bits for b in plan) / 1e6
            spill = sum(2 * b.per_image(2) * b.send_bits for b in plan) / 1e6
            worst = max(plan, key=lambda b: b.per_image(2) * b.send_bits)
            most = (f"{names[worst.producer] if worst.producer >= 0 else 'input'}->"
                    f"{names[worst.consumer]}: {worst.spill}/{worst.need}"
                    if worst.spill else "-")
            print(f"{Path(cfg).name:22s} {trace.name:28s} {nmap.chips:5d} {len(plan):8d} "
                  f"{short:5d} {remote:11.3f} {spill:10.3f}  {most}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
