"""Wires that move data: the eDRAM-to-IMA bus, the on-chip router, off-chip links.

Laws: energy per bit moved is constant (wire energy per bit per hop); bus area scales
with its width; router area is per router, shared by ``tiles_per_router`` tiles (the
arch divides it). An off-chip link costs energy per bit sent plus an idle power
(``static_power_mW``) while it is powered; at full bandwidth the two add up to the
link's peak power (ISAAC: 2.6 W per HyperTransport link). A ``power_gated`` link
(ISAAC's default) draws its idle power only while it sends (``pimsim.arch.power``).
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
    PARAMS = {"transfer_energy_pJ": Param("pJ", "energy per bit sent, beyond the idle power", 0.0)}
    ACTIONS = {"transfer": "sending one bit to another chip"}
    INSTANCE = {"bandwidth_GBps": "GB/s"}

    def latency_ns(self, action: str) -> float:
        return 1.0 / (self.inst["bandwidth_GBps"] * 8)  # GB/s -> bits per ns
