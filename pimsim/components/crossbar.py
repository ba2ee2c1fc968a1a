"""ReRAM crossbar array.

Laws (reference: one ISAAC 128x128 array, 2 bits/cell, 32 nm):
* read energy per read scales with the cells that conduct: rows x cols of the operation
  unit read (the whole array by default)
  (every cell sees a row voltage and adds bitline current; MNSIM 2.0 and NeuroSim use the
  same first-order model);
* area scales with rows x cols (cell-limited array, peripheral circuits modelled separately);
* value dependence (docs/mapping.md#activity): the reference energy is for every used row
  driven at full scale and every cell at the mean conductance of uniformly spread levels;
  a run scales it by the real drive x conductance (first-order: read energy = sum over
  cells of V^2 G t, as in NeuroSim's array model and CiMLoop's value-dependent energy);
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
        "on_off_ratio": Param("x", "on / off conductance of a cell (value-dependent read "
                              "energy, docs/mapping.md#activity); assumption: 10, the low end "
                              "of the 10-100 of HfOx ReRAM", 10.0),
    }
    ACTIONS = {"read": "one read of one operation unit (one input bit-slice on the OU's rows; "
                       "the whole array when the OU is)"}
    INSTANCE = {"rows": "cells", "cols": "cells", "read_cycle_ns": "ns", "ou_rows": "cells",
                "ou_cols": "cells"}

    def _cells_ratio(self) -> float:
        return (self.inst["rows"] * self.inst["cols"]) / (self.ref["ref_rows"] * self.ref["ref_cols"])

    def area_scale(self) -> float:
        return self._cells_ratio()

    def energy_scale(self, action: str) -> float:
        """One OU read: the OU's cells conduct (the whole array's when the OU is)."""
        rows = self.inst.get("ou_rows", self.inst["rows"])
        cols = self.inst.get("ou_cols", self.inst["cols"])
        return (rows * cols) / (self.ref["ref_rows"] * self.ref["ref_cols"])

    def latency_ns(self, action: str) -> float:
        return float(self.inst["read_cycle_ns"])
