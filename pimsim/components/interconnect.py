"""Wires that move data: the eDRAM-to-IMA bus, the on-chip router, off-chip links.

Laws: energy per bit moved is constant (wire energy per bit per hop); bus area scales
with its width; router area is per router, shared by ``tiles_per_router`` tiles (the
arch divides it). An off-chip link is charged as static power while the chip is on
(ISAAC models HyperTransport as a constant ~10 W), plus optional energy per bit.
"""

from __future__ import annotations

from pimsim.components.base import Component, Param
from pimsim.components.registry import register


@register("bus")
class Bus(Component):
    PARAMS = {"ref_width_bits": Param("bits", "wires at the reference point", 384)}
    ACTIONS = {"transfer": "moving one bit between the eDRAM and an IMA"}
    INSTANCE = {"width_bits": "bits", "clock_GHz": "GHz"}

    def area_scale(self) -> float:
        return self.inst["width_bits"] / self.ref["ref_width_bits"]

    def latency_ns(self, action: str) -> float:
        return 1.0 / self.inst["clock_GHz"]


@register("router")
class Router(Component):
    ACTIONS = {"transfer": "moving one bit one hop"}
    INSTANCE = {"clock_GHz": "GHz"}

    def latency_ns(self, action: str) -> float:
        return 1.0 / self.inst["clock_GHz"]


@register("offchip_link")
class OffchipLink(Component):
    PARAMS = {"transfer_energy_pJ": Param("pJ", "energy per bit sent (0: all in static power)", 0.0)}
    ACTIONS = {"transfer": "sending one bit to another chip"}
    INSTANCE = {"bandwidth_GBps": "GB/s"}

    def latency_ns(self, action: str) -> float:
        return 1.0 / (self.inst["bandwidth_GBps"] * 8)  # GB/s -> bits per ns
