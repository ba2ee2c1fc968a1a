"""Row driver / DAC feeding one crossbar row.

Law: a current-steering (unit-element) DAC of b bits has 2^b - 1 unit elements, so
energy per drive and area scale with (2^b - 1) / (2^b_ref - 1) (Razavi, "Principles of
Data Conversion System Design", ch. 5). A 1-bit DAC is an inverter-like driver.
"""

from __future__ import annotations

from pimsim.components.base import Component, Param
from pimsim.components.registry import register


@register("dac")
class DAC(Component):
    PARAMS = {"ref_bits": Param("bits", "resolution at the reference point", 1, limits=(1, 32))}
    ACTIONS = {"drive": "driving one row for one read cycle"}
    INSTANCE = {"bits": "bits", "read_cycle_ns": "ns"}

    def _units(self, bits: int) -> int:
        return 2 ** bits - 1

    def area_scale(self) -> float:
        return self._units(self.inst["bits"]) / self._units(self.ref["ref_bits"])

    def energy_scale(self, action: str) -> float:
        return self.area_scale()

    def latency_ns(self, action: str) -> float:
        return float(self.inst["read_cycle_ns"])
