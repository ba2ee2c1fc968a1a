"""What an evaluation returns: plain numbers with unit-suffixed names (engine-agnostic).

Both the closed-form evaluator (``pimsim.sim.analytic``) and the discrete-event engine
return a :class:`Result`. Operation counts are keyed by ``"role.action"`` strings (the
roles and actions of ``pimsim.arch``), per image. Nothing here formats or holds
simulator objects; ``as_dict()`` gives JSON-ready dicts for reports.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from pimsim import __version__
from pimsim.errors import PimsimError

SCHEMA_VERSION = 2
"""Version of the result schema (``pimsim/data/result.schema.json``, docs/results.md).
Raised when a field changes meaning or is removed; new optional fields keep it."""

ROUNDING_SLACK = 1e-6
"""Negative figures down to this are floating-point rounding of differences (a busy time of
-5e-14 ns), not model errors."""


class ResultError(PimsimError):
    """An evaluation produced a figure that is not a finite, non-negative number."""


def check_figures(data: object, path: str = "") -> None:
    """ResultError naming the first figure of ``data`` (nested dicts, lists, numbers) that is
    inf, NaN or negative: results never carry them (strict JSON, meaningful ratios)."""
    if isinstance(data, bool) or data is None or isinstance(data, str):
        return
    if isinstance(data, (int, float)):
        if not math.isfinite(data) or data < -ROUNDING_SLACK:
            raise ResultError("the models produced a figure that is not a finite, non-negative "
                              "number; a parameter is outside what they can evaluate "
                              "(docs/configuration.md lists the ranges)", where=path or "result",
                              found=data)
        return
    if isinstance(data, dict):
        for key, value in data.items():
            check_figures(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            check_figures(value, f"{path}[{i}]")


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
    spill_bits: float = 0.0          # of offchip_bits: its input rows written to off-chip
                                     # memory and read back (eDRAM full; docs/engine.md)

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
    energy_pJ: float                 # per image: dynamic_energy_pJ + static_energy_pJ
    dynamic_energy_pJ: float         # per image: counts x energy per action
    static_energy_pJ: float          # per image: static power x powered time (pimsim.arch.power)
    energy_breakdown_pJ: dict[str, float]  # role -> pJ (dynamic + static); sums to energy_pJ
    dynamic_breakdown_pJ: dict[str, float]  # role -> dynamic pJ; sums to dynamic_energy_pJ
    static_breakdown_pJ: dict[str, float]   # role -> static pJ; sums to static_energy_pJ
    crossbar_utilization: float      # mapped / available crossbars
    time_utilization: float          # busy / (mapped x interval) crossbar time
    crossbar_reads: float
    adc_conversions: float
    shift_add_ops: float
    buffer_bits: float
    noc_bits: float
    offchip_bits: float
    counts: dict[str, float]
    # timing of the pipeline (docs/engine.md "Steady state"): latency_ns is image 0's,
    # interval_ns the steady-state interval; images back to back take about
    # fill_ns + (images - 1) x interval_ns
    fill_ns: float = 0.0
    images: int = 0                  # images simulated (0: closed form)
    converged: bool = True           # the engine's interval met its convergence rule
    # the stage that sets the interval: {"layer", "resource", "share"} (share of interval);
    # the engine adds "closed_form_interval_ns" and the layer's steady-state "busy_ns" and
    # "stalls_ns" {cause: ns} per image (pimsim.sim.outcome)
    bottleneck: dict = dataclasses.field(default_factory=dict)
    spill_bits: float = 0.0          # of offchip_bits: rows spilled off-chip and read back

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class LayerTiming:
    """Discrete-event figures of one layer (engine only)."""

    name: str
    start_ns: float                  # image 0: first unit starts computing
    finish_ns: float                 # image 0: last output row leaves the layer
    busy_ns: float                   # per image: compute time summed over copies / workers
    stalls_ns: dict[str, float]      # per image: idle time of its copies / workers by cause
    buffer_rows: int                 # input-row slots of its largest input buffer
    buffer_remote_rows: int          # of its input buffers' slots: in other tiles' eDRAM
    buffer_spill_rows: int           # of its input buffers' slots: in off-chip memory

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class WeightLoad:
    """Programming every used cell before inference (write drivers)."""

    cells: int                       # cells written (used rows x used columns, all copies)
    crossbars: int
    time_ns: float                   # crossbars program in parallel; rows by the drivers
    energy_pJ: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class EngineStats:
    """What only the discrete-event engine knows (``Result.engine_stats``)."""

    fidelity: str                    # "fast" or "event"
    images: int                      # images completed (simulated back to back)
    sim_time_ns: float               # last completion
    image_finish_ns: tuple[float, ...]
    single_image_latency_ns: float   # image 0, start to finish
    interval_ns: float               # steady-state interval (pimsim.sim.steady)
    events: int                      # simpy events processed
    component_ops: dict[str, float]  # "role.action" -> ops over the whole run
    component_busy_ns: dict[str, float]   # role -> busy time summed over its units (run)
    component_utilization: dict[str, float]  # role -> busy / (units on used chips x sim time)
    stalls_ns: dict[str, float]      # per image: cause -> idle time of compute processes
    layers: tuple[LayerTiming, ...]
    timeline: tuple[dict, ...] = ()  # trace events (only when a timeline was requested)
    work_images: float = 0.0         # images' worth of work done (in-flight images in part);
                                     # component_ops / component_busy_ns cover this much
    converged: bool = True           # the interval met the convergence rule (pimsim.sim.steady)
    fill_ns: float = 0.0             # steady-state line's value at image 0
    # the on-chip network: routing, mean hops per bit, directed links used, the busiest
    # link and its busy time per image / interval (pimsim.sim.noc, docs/engine.md)
    noc: dict = dataclasses.field(default_factory=dict)
    # how the shared units ordered the images' requests (engine.arbitration:
    # "fifo" or "oldest_first"; pimsim.sim.arbiter, docs/engine.md)
    arbitration: str = "oldest_first"

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("timeline")
        return d


@dataclass(frozen=True)
class Identity:
    """What was evaluated, as content hashes (``pimsim.provenance``)."""

    design_sha256: str               # the resolved design point (extends and overrides applied)
    network_sha256: str              # the layer shapes simulated
    design_file: str | None = None   # the design-point file, when one was loaded
    overrides: dict | None = None    # dotted design keys changed on top of the file
    trace_file: str | None = None    # the trace file, when one was loaded
    trace_sha256: str | None = None  # its bytes
    schedule_file: str | None = None  # a technique schedule applied to the workload

    def as_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Result:
    """An evaluation of one network on one design point."""

    design: str
    network: str
    engine: str                      # "analytic" or the engine's fidelity
    layers: tuple[LayerResult, ...]
    total: TotalResult
    engine_stats: EngineStats | None = None     # discrete-event engine only
    weight_load: WeightLoad | None = None       # discrete-event engine only
    identity: Identity | None = None            # set by simulate() / pimsim.run()

    def __post_init__(self) -> None:
        check_figures(self.as_dict(), self.design)

    def layer(self, name: str) -> LayerResult:
        for lr in self.layers:
            if lr.name == name:
                return lr
        raise KeyError(name)

    @property
    def fidelity(self) -> dict:
        """How the figures were obtained: the fidelity and, for the engine, the images it
        simulated, whether the steady state was reached, the fill time and the shared
        units' arbitration rule."""
        if self.engine_stats is None:
            return {"name": self.engine, "images": None}
        t = self.total
        return {"name": self.engine,
                "images": getattr(t, "images", 0) or self.engine_stats.images,
                "converged": bool(getattr(t, "converged", True)),
                "fill_ns": float(getattr(t, "fill_ns", 0.0)),
                "arbitration": self.engine_stats.arbitration}

    def as_dict(self) -> dict:
        """The one Result -> JSON-ready dict of the result schema (docs/results.md);
        every command's JSON, sweep record and report is built from it."""
        d = {"schema_version": SCHEMA_VERSION, "pimsim_version": __version__, "kind": "result",
             "design": self.design, "network": self.network, "engine": self.engine,
             "fidelity": self.fidelity}
        if self.identity is not None:
            d["identity"] = self.identity.as_dict()
        d["total"] = self.total.as_dict()
        d["layers"] = [lr.as_dict() for lr in self.layers]
        if self.engine_stats is not None:
            d["engine_stats"] = self.engine_stats.as_dict()
        if self.weight_load is not None:
            d["weight_load"] = self.weight_load.as_dict()
        return d

    # Notebook and Python-API conveniences (pimsim.api); views only, no new figures.
    def to_frame(self):
        """The totals as a one-row pandas DataFrame (needs the ``pandas`` extra)."""
        from pimsim.report.frames import totals_frame

        return totals_frame(self.as_dict())

    def layers_frame(self):
        """One row per layer as a pandas DataFrame (needs the ``pandas`` extra)."""
        from pimsim.report.frames import layers_frame

        return layers_frame(self.as_dict())

    def summary(self) -> str:
        """The totals, fidelity and bottleneck as plain text (what ``repr`` shows)."""
        from pimsim.report.views import result_summary

        return result_summary(self.as_dict())

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from pimsim.report.html import result_fragment

        return result_fragment(self.as_dict())
