"""ReRAM crossbar array.

Laws (reference: one ISAAC 128x128 array, 2 bits/cell, 32 nm):
* read energy per array read scales with the cells that conduct: rows x cols
  (every cell sees a row voltage and adds bitline current; MNSIM 2.0 and NeuroSim use the
  same first-order model);
* area scales with rows x cols (cell-limited array, peripheral circuits modelled separately);
* bits per cell changes neither (same device, more conductance levels: an assumption,
  stated in docs/components.md).
The read latency is the design point's ``crossbar.read_cycle_ns``.
"""

from __future__ import annotations

from pimsim.components.base import Component, Param
from pimsim.components.registry import register


@register("reram_crossbar")
class ReRAMCrossbar(Component):
    PARAMS = {
        "ref_rows": Param("cells", "rows of the reference array", 128),
        "ref_cols": Param("cells", "columns of the reference array", 128),
    }
    ACTIONS = {"read": "one read of the whole array (one input bit-slice on all rows)"}
    INSTANCE = {"rows": "cells", "cols": "cells", "read_cycle_ns": "ns"}

    def _cells_ratio(self) -> float:
        return (self.inst["rows"] * self.inst["cols"]) / (self.ref["ref_rows"] * self.ref["ref_cols"])

    def area_scale(self) -> float:
        return self._cells_ratio()

    def energy_scale(self, action: str) -> float:
        return self._cells_ratio()

    def latency_ns(self, action: str) -> float:
        return float(self.inst["read_cycle_ns"])
