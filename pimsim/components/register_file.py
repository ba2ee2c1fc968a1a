"""Registers and buffers (SRAM registers, eDRAM): energy per bit accessed, area by size.

Law: area scales linearly with capacity (bits); energy per bit accessed is taken as
constant over the sizes pimsim explores (a first-order simplification of CACTI's trend,
stated in docs/components.md). Latency: one access per digital clock.
"""

from __future__ import annotations

from pimsim.components.base import Component, Param
from pimsim.components.registry import register


@register("register")
class Register(Component):
    PARAMS = {"ref_bytes": Param("bytes", "capacity at the reference point")}
    ACTIONS = {"access": "reading or writing one bit"}
    INSTANCE = {"size_bytes": "bytes", "clock_GHz": "GHz"}

    def area_scale(self) -> float:
        return self.inst["size_bytes"] / self.ref["ref_bytes"]

    def latency_ns(self, action: str) -> float:
        return 1.0 / self.inst["clock_GHz"]


@register("edram")
class EDRAM(Register):
    """Tile buffer; ``width_bits`` bits move per access."""

    PARAMS = {**Register.PARAMS, "width_bits": Param("bits", "bits per access (port width)", 256)}
