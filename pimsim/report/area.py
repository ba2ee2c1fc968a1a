"""The area/power table of a design point, per level, optionally beside ISAAC's Table I."""

from __future__ import annotations

from pimsim.arch.compose import CHIP, IMA, TILE
from pimsim.arch.rollup import Rollup
from pimsim.report.tables import Table

LEVEL_TITLES = {IMA: "IMA", TILE: "tile (without IMAs)", CHIP: "chip (without tiles)"}


def area_tables(roll: Rollup) -> list[Table]:
    tables = []
    for level in (IMA, TILE, CHIP):
        rows = [(r.role, r.model, r.count, r.power_mW, r.area_mm2) for r in roll.level_rows(level)]
        tables.append(Table(f"{roll.design_name}: per {LEVEL_TITLES[level]}",
                            ("component", "model", "count", "power_mW", "area_mm2"), tuple(rows),
                            slug=level))
    totals = (
        ("IMA", roll.ima_power_mW, roll.ima_area_mm2),
        ("tile (with IMAs)", roll.tile_power_mW, roll.tile_area_mm2),
        ("chip", roll.chip_power_mW, roll.chip_area_mm2),
    )
    tables.append(Table(f"{roll.design_name}: totals", ("level", "power_mW", "area_mm2"), totals,
                        slug="totals"))
    tables.append(Table(f"{roll.design_name}: peak", ("metric", "value"), (
        ("throughput (GOPS)", roll.peak_gops),
        ("CE (GOPS/mm2)", roll.peak_gops_per_mm2),
        ("PE (GOPS/W)", roll.peak_gops_per_W),
    ), notes=("peak power: every unit busy at the rate the pipeline drives it; 1 MAC = 2 ops",),
        slug="peak"))
    return tables
