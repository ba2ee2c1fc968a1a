"""What an evaluation returns: plain numbers with unit-suffixed names (engine-agnostic).

Both the closed-form evaluator (``pimsim.sim.analytic``) and the discrete-event engine
return a :class:`Result`. Operation counts are keyed by ``"role.action"`` strings (the
roles and actions of ``pimsim.arch``), per image. Nothing here formats or holds
simulator objects; ``as_dict()`` gives JSON-ready dicts for reports.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class LayerResult:
    """One layer, one image."""

    name: str
    kind: str
    macs: int
    crossbars: int                   # all copies
    crossbars_per_copy: int
    replication: int
    imas: int
    chip: int
    cycles: int                      # crossbar read cycles per image of one copy (0: non-MVM)
    time_ns: float                   # this stage's time per image (pipeline stage time)
    energy_pJ: float                 # dynamic energy of the layer's operations
    crossbar_reads: float
    adc_conversions: float
    shift_add_ops: float             # IMA + tile shift-and-adds
    buffer_bits: float               # eDRAM bits accessed
    noc_bits: float                  # router bit-hops
    offchip_bits: float
    counts: dict[str, float]         # "role.action" -> actions per image
    energy_breakdown_pJ: dict[str, float]  # role -> dynamic pJ

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TotalResult:
    """The whole network on the chips it uses."""

    macs: int
    crossbars: int                   # mapped, with replication
    crossbars_available: int         # on the chips used
    imas: int
    tiles: int
    chips: int
    latency_ns: float                # one image, layer after layer along the critical path
    interval_ns: float               # pipelined: time between images (slowest stage)
    throughput_images_per_s: float
    gops: float                      # pipelined, 1 MAC = 2 ops
    area_mm2: float                  # chips used
    power_mW: float                  # average at the pipelined rate
    gops_per_mm2: float
    gops_per_W: float
    energy_pJ: float                 # per image: dynamic + static
    energy_dynamic_pJ: float
    energy_static_pJ: float
    energy_breakdown_pJ: dict[str, float]  # role -> pJ (dynamic + static); sums to energy_pJ
    crossbar_utilization: float      # mapped / available crossbars
    time_utilization: float          # busy / (mapped x interval) crossbar time
    crossbar_reads: float
    adc_conversions: float
    shift_add_ops: float
    buffer_bits: float
    noc_bits: float
    offchip_bits: float
    counts: dict[str, float]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Result:
    """An evaluation of one network on one design point."""

    design: str
    network: str
    engine: str                      # "analytic" or the engine's fidelity
    layers: tuple[LayerResult, ...]
    total: TotalResult

    def layer(self, name: str) -> LayerResult:
        for lr in self.layers:
            if lr.name == name:
                return lr
        raise KeyError(name)

    def as_dict(self) -> dict:
        return {"design": self.design, "network": self.network, "engine": self.engine,
                "total": self.total.as_dict(), "layers": [lr.as_dict() for lr in self.layers]}
