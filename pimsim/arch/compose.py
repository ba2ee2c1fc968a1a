"""Compose a design point's components into IMA / tile / chip.

``build_arch(design)`` instantiates one model per role with the instance parameters the
design point implies (resolutions, sizes, widths) and says how many units of each role
sit in one IMA, one tile or one chip. The result is immutable and holds no simulator state.
"""

from __future__ import annotations

from dataclasses import dataclass

from pimsim.components import Component
from pimsim.components.registry import lookup
from pimsim.config.schema import Design
from pimsim.units import ceil_log2

IMA, TILE, CHIP = "ima", "tile", "chip"
LEVELS = (IMA, TILE, CHIP)


def shift_add_width_bits(design: Design) -> int:
    """IMA shift-and-add width: ADC bits + log2(weight slices) + log2(input cycles)."""
    return (design.adc.bits + ceil_log2(design.slices_per_weight)
            + ceil_log2(design.input_cycles))


def instance_params(design: Design) -> dict[str, dict]:
    """Per role, the parameters the design point fixes for that component."""
    d = design
    clock = {"clock_GHz": d.clock_GHz}
    return {
        "crossbar": {"rows": d.crossbar.rows, "cols": d.crossbar.cols,
                     "read_cycle_ns": d.crossbar.read_cycle_ns},
        "dac": {"bits": d.dac.bits, "read_cycle_ns": d.crossbar.read_cycle_ns},
        "sample_hold": {},
        "adc": {"bits": d.adc.bits, "sample_rate_GSps": d.adc.sample_rate_GSps},
        "shift_add": {"width_bits": shift_add_width_bits(d), **clock},
        "input_register": {"size_bytes": d.ima.input_register_bytes, **clock},
        "output_register": {"size_bytes": d.ima.output_register_bytes, **clock},
        "edram": {"size_bytes": d.tile.edram_bytes, **clock},
        "bus": {"width_bits": d.tile.bus_width_bits, **clock},
        "router": dict(clock),
        "activation": dict(clock),
        "tile_shift_add": {"width_bits": d.precision.output_bits, **clock},
        "maxpool": dict(clock),
        "tile_output_register": {"size_bytes": d.tile.output_register_bytes, **clock},
        "offchip_link": {"bandwidth_GBps": d.chip.offchip_link_GBps},
        "write_driver": {"bits_per_cell": d.crossbar.bits_per_cell},
    }


def unit_counts(design: Design) -> dict[str, tuple[str, float]]:
    """role -> (level, units per level). The router is shared, hence a fraction per tile."""
    d = design
    x = d.ima.crossbars
    return {
        "crossbar": (IMA, x),
        "dac": (IMA, x * d.crossbar.rows),
        "sample_hold": (IMA, x * d.converted_columns),   # one per converted column / pair
        "adc": (IMA, x * d.adc.per_crossbar),
        "shift_add": (IMA, d.ima.shift_adds),
        "input_register": (IMA, 1),
        "output_register": (IMA, 1),
        "write_driver": (IMA, x * d.crossbar.write_drivers),
        "edram": (TILE, 1),
        "bus": (TILE, 1),
        "router": (TILE, 1 / d.tile.tiles_per_router),
        "activation": (TILE, d.tile.activation_units),
        "tile_shift_add": (TILE, d.tile.shift_adds),
        "maxpool": (TILE, d.tile.maxpool_units),
        "tile_output_register": (TILE, 1),
        "offchip_link": (CHIP, d.chip.offchip_links),
    }


@dataclass(frozen=True)
class Arch:
    """A design point's component instances and their counts."""

    design: Design
    parts: dict[str, Component]
    counts: dict[str, tuple[str, float]]

    def energy_pJ(self, role: str, action: str) -> float:
        return self.parts[role].energy_pJ(action)

    def latency_ns(self, role: str, action: str) -> float:
        return self.parts[role].latency_ns(action)

    def roles(self, level: str) -> list[str]:
        return [r for r, (lvl, _) in self.counts.items() if lvl == level]


def build_arch(design: Design) -> Arch:
    params = instance_params(design)
    counts = unit_counts(design)
    parts = {}
    for role, table in design.components.items():
        cls = lookup(table["model"])
        parts[role] = cls(table, **params.get(role, {}))
        if role not in counts:
            # A plug-in role: its table says where it sits (default: one per tile).
            counts[role] = (table.get("level", TILE), float(table.get("count", 1)))
    return Arch(design=design, parts=parts, counts=counts)
