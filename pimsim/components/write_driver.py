"""Write driver: programs ReRAM cells (weight load, training updates).

One driver programs one crossbar row at a time, all columns in parallel, one pulse per
level change plus ``verify_reads`` read-verify steps (program-and-verify). Energy per cell
write and pulse width are reference values from the YAML table (sources there).
Law: multi-level cells need more pulses; pulses per write scale with (2^bits_per_cell - 1)
/ (2^ref_bits_per_cell - 1) (incremental-step programming to a level).
"""

from __future__ import annotations

from pimsim.components.base import Component, Param
from pimsim.components.registry import register


@register("write_driver")
class WriteDriver(Component):
    PARAMS = {
        "pulse_ns": Param("ns", "width of one programming pulse (incl. verify)"),
        "ref_bits_per_cell": Param("bits", "bits per cell at the reference point", 2),
    }
    ACTIONS = {"write": "programming one cell to a new level"}
    INSTANCE = {"bits_per_cell": "bits"}

    def _pulses(self) -> float:
        return (2 ** self.inst["bits_per_cell"] - 1) / (2 ** self.ref["ref_bits_per_cell"] - 1)

    def energy_scale(self, action: str) -> float:
        return self._pulses()

    def latency_ns(self, action: str) -> float:
        """Time to program one row of cells (all columns in parallel)."""
        return self.ref["pulse_ns"] * self._pulses()
