"""Shift-and-add: accumulates digitized bit-slice partial sums into a full result.

Law: a ripple adder plus shifter of width W: energy and area scale with W / W_ref.
The IMA unit's width follows the design point (docs/components.md):
W = ADC bits + ceil(log2(weight slices)) + ceil(log2(input cycles)) (ISAAC: 8 + 3 + 4 = 15).
"""

from __future__ import annotations

from pimsim.components.base import Component, Param
from pimsim.components.registry import register


@register("shift_add")
class ShiftAdd(Component):
    PARAMS = {"ref_width_bits": Param("bits", "adder width at the reference point", 15)}
    ACTIONS = {"accumulate": "one shift-and-add of one value"}
    INSTANCE = {"width_bits": "bits", "clock_GHz": "GHz"}

    def area_scale(self) -> float:
        return self.inst["width_bits"] / self.ref["ref_width_bits"]

    def energy_scale(self, action: str) -> float:
        return self.area_scale()

    def latency_ns(self, action: str) -> float:
        return 1.0 / self.inst["clock_GHz"]
