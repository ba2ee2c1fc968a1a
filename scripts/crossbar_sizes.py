"""Print the tables of docs/crossbar-sizes.md: ISAAC with 64/128/256/512 crossbars.

Usage: python scripts/crossbar_sizes.py > /tmp/tables.md (then paste into the page).
"""

from __future__ import annotations

from pathlib import Path

from pimsim.arch import build_arch, rollup
from pimsim.config import load_design
from pimsim.report.run import compare_table
from pimsim.report.tables import Table, to_markdown
from pimsim.sim import simulate
from pimsim.workload.trace import load_network

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [ROOT / "configs" / n for n in ("isaac_xbar64.yaml", "isaac.yaml", "isaac_xbar256.yaml",
                                          "isaac_xbar512.yaml")]
TRACES = [ROOT / "traces" / n for n in ("resnet20_cifar_shapes.npz", "resnet50_shapes.npz")]


def main() -> None:
    designs = [load_design(p) for p in CONFIGS]
    arches = [build_arch(d) for d in designs]
    rolls = [rollup(a) for a in arches]
    rows = (
        ("ADC bits", *[d.adc.bits for d in designs]),
        ("cycle (ns)", *[d.cycle_ns for d in designs]),
        ("input register (B)", *[d.ima.input_register_bytes for d in designs]),
        ("output register (B)", *[d.ima.output_register_bytes for d in designs]),
        ("tile area (mm2)", *[r.tile_area_mm2 for r in rolls]),
        ("tile power (mW)", *[r.tile_power_mW for r in rolls]),
        ("chip area (mm2)", *[r.chip_area_mm2 for r in rolls]),
        ("chip power (mW)", *[r.chip_power_mW for r in rolls]),
        ("peak GOPS", *[r.peak_gops for r in rolls]),
        ("peak CE (GOPS/mm2)", *[r.peak_gops_per_mm2 for r in rolls]),
        ("peak PE (GOPS/W)", *[r.peak_gops_per_W for r in rolls]),
    )
    print(to_markdown(Table("design points", ("", *[d.name for d in designs]), rows)))
    for trace in TRACES:
        network = load_network(trace)
        results = [simulate(network, a, fidelity="fast").as_dict() for a in arches]
        print(to_markdown(compare_table(results)))


if __name__ == "__main__":
    main()
