"""Area and peak-power roll-up (IMA -> tile -> chip) and peak efficiencies.

Peak power is what ISAAC's Table I reports: every unit running at the rate the
pipeline drives it when all crossbars are busy. It is computed from per-action energies
and the **peak activity** of one "MVM period" (all input bits streamed once through every
crossbar: ``input_cycles x cycle_ns``), plus static power. For the IMA roles, eDRAM, bus and tile
output register, the per-layer counts (``pimsim.kernels.counts``) follow the same rules
(tests/kernels/test_counts.py checks a full IMA and a full tile). For the router,
activation, max-pool and tile shift-and-add units the peak charges every value a full
tile could move or produce, while per-layer counts charge what a layer needs
(docs/mapping.md, section 4).
"""

from __future__ import annotations

from dataclasses import dataclass

from pimsim.arch.compose import CHIP, IMA, TILE, Arch
from pimsim.units import BITS_PER_BYTE, gops, gops_per_W


def ou_grid(arch: Arch) -> tuple[int, int]:
    """(row groups, column groups) of operation units of a full crossbar (1, 1 for
    whole-array reads; docs/mapping.md#operation-units)."""
    xb = arch.design.crossbar
    return -(-xb.rows // xb.ou_rows), -(-xb.cols // xb.ou_cols)


def mvm_period_ns(arch: Arch) -> float:
    """Time to stream one full input vector through a crossbar, OU by OU (ns)."""
    d = arch.design
    nr, nc = ou_grid(arch)
    return d.input_cycles * nr * nc * d.cycle_ns


def peak_activity(arch: Arch) -> dict[tuple[str, str], float]:
    """(role, action) -> actions per MVM period, per IMA (IMA roles), per tile (tile roles)
    or per chip (off-chip links: every link sending at its full bandwidth)."""
    d = arch.design
    x, rows, cycles = d.ima.crossbars, d.crossbar.rows, d.input_cycles
    cols = d.converted_columns               # conversions per read (one per differential pair)
    outputs = x * d.weights_per_crossbar_row            # output values per IMA per period
    in_bits = x * rows * d.precision.input_bits          # inputs loaded into the IR
    out_bits = outputs * d.precision.output_bits         # outputs leaving the OR
    imas = d.tile.imas
    nr, nc = ou_grid(arch)        # every OU of every crossbar read once per input bit
    return {
        ("crossbar", "read"): x * cycles * nr * nc,
        ("dac", "drive"): x * rows * nc * cycles,
        ("sample_hold", "sample"): x * nr * cols * cycles,
        ("adc", "convert"): x * nr * cols * cycles,
        ("shift_add", "accumulate"): x * nr * cols * cycles,
        ("input_register", "access"): 2 * in_bits,       # written once, read once
        ("output_register", "access"): 2 * out_bits,
        ("edram", "access"): imas * 2 * (in_bits + out_bits),  # in from network/OR, out to IR/network
        ("bus", "transfer"): imas * (in_bits + out_bits),
        ("router", "transfer"): imas * (in_bits + out_bits) * d.noc.avg_hops,
        ("activation", "op"): imas * outputs,
        ("tile_shift_add", "accumulate"): imas * outputs,
        ("maxpool", "op"): imas * outputs,
        ("tile_output_register", "access"): 2 * imas * out_bits,
        ("offchip_link", "transfer"): (d.chip.offchip_links * d.chip.offchip_link_GBps
                                       * BITS_PER_BYTE * mvm_period_ns(arch)),
    }


@dataclass(frozen=True)
class RoleFigures:
    """One row of the area/power table: all units of a role at one level."""

    role: str
    model: str
    level: str
    count: float
    area_mm2: float
    power_mW: float


@dataclass(frozen=True)
class Rollup:
    """Area and peak power per level, plus peak throughput and efficiencies (plain data)."""

    design_name: str
    rows: tuple[RoleFigures, ...]
    ima_area_mm2: float
    ima_power_mW: float
    tile_area_mm2: float           # with its IMAs
    tile_power_mW: float
    chip_area_mm2: float
    chip_power_mW: float
    peak_gops: float               # whole chip, 1 MAC = 2 ops
    peak_gops_per_mm2: float
    peak_gops_per_W: float

    def level_rows(self, level: str) -> list[RoleFigures]:
        return [r for r in self.rows if r.level == level]

    def as_dict(self) -> dict:
        return {
            "design": self.design_name,
            "ima": {"area_mm2": self.ima_area_mm2, "power_mW": self.ima_power_mW},
            "tile": {"area_mm2": self.tile_area_mm2, "power_mW": self.tile_power_mW},
            "chip": {"area_mm2": self.chip_area_mm2, "power_mW": self.chip_power_mW},
            "peak": {"gops": self.peak_gops, "gops_per_mm2": self.peak_gops_per_mm2,
                     "gops_per_W": self.peak_gops_per_W},
            "components": [r.__dict__ for r in self.rows],
        }


def peak_macs_per_crossbar(arch: Arch) -> int:
    """MACs one fully used crossbar does per MVM period: rows x whole weights per row."""
    d = arch.design
    return d.crossbar.rows * d.weights_per_crossbar_row


def rollup(arch: Arch) -> Rollup:
    """Area and peak power of IMA, tile and chip from the component entries."""
    period = mvm_period_ns(arch)
    activity = peak_activity(arch)
    rows = []
    for role, part in arch.parts.items():
        level, count = arch.counts[role]
        dynamic_pJ = sum(part.energy_pJ(action) * activity.get((role, action), 0.0)
                         for action in part.ACTIONS)
        power = count * part.static_power_mW + dynamic_pJ / period
        rows.append(RoleFigures(role, part.model, level, count, count * part.area_mm2, power))

    def total(level: str, attr: str) -> float:
        return sum(getattr(r, attr) for r in rows if r.level == level)

    d = arch.design
    ima_area, ima_power = total(IMA, "area_mm2"), total(IMA, "power_mW")
    tile_area = d.tile.imas * ima_area + total(TILE, "area_mm2")
    tile_power = d.tile.imas * ima_power + total(TILE, "power_mW")
    chip_area = d.chip.tiles * tile_area + total(CHIP, "area_mm2")
    chip_power = d.chip.tiles * tile_power + total(CHIP, "power_mW")
    peak = gops(d.crossbars_per_chip * peak_macs_per_crossbar(arch), period)
    return Rollup(design_name=d.name, rows=tuple(rows), ima_area_mm2=ima_area,
                  ima_power_mW=ima_power, tile_area_mm2=tile_area, tile_power_mW=tile_power,
                  chip_area_mm2=chip_area, chip_power_mW=chip_power, peak_gops=peak,
                  peak_gops_per_mm2=peak / chip_area, peak_gops_per_W=gops_per_W(peak, chip_power))


def area_by_role(arch: Arch, chips: int) -> dict[str, float]:
    """role -> area of all its units on ``chips`` chips (mm2); sums to the chips' area."""

    d = arch.design
    per_chip = {IMA: d.tile.imas * d.chip.tiles, TILE: d.chip.tiles, CHIP: 1}
    return {row.role: row.area_mm2 * per_chip[row.level] * chips for row in rollup(arch).rows}
