"""One entry point: a schedule file on a trace and a design point, evaluated.

``apply_schedule`` picks the technique the schedule names, applies it (accuracy on the
held-out digits when the trace has tensors; a shape-only trace gets stand-in tensors,
``pimsim.techniques.synthetic``) and evaluates the mapped workload before and after with
``pimsim.sim.evaluate(network, arch, overrides)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pimsim.arch import build_arch, rollup
from pimsim.config import load_design
from pimsim.result import Result
from pimsim.sim import evaluate
from pimsim.techniques.base import Technique, TechniqueOutcome
from pimsim.techniques.cim_pruning import CIMPruning
from pimsim.techniques.erabs import ERABS
from pimsim.techniques.pimprune import PIMPrune
from pimsim.techniques.schedule import Schedule, load_schedule
from pimsim.techniques.synthetic import SyntheticTrace
from pimsim.workload.trace import load_trace
from pimsim.units import OPS_PER_MAC

ROOT = Path(__file__).resolve().parents[2]
DONOR = ROOT / "traces" / "resnet20_digits.npz"

TECHNIQUES: dict[str, type[Technique]] = {"none": Technique, "era_bs": ERABS,
                                          "pim_prune": PIMPrune, "cim_pruning": CIMPruning}


class NoTechnique(Technique):
    name = "none"

    def transform(self, trace, design, schedule) -> TechniqueOutcome:
        return TechniqueOutcome("none", trace.network.name, design.name, schedule.source, [], {})


TECHNIQUES["none"] = NoTechnique


@dataclass
class Applied:
    """A technique's outcome with the evaluations before and after (plain data)."""

    outcome: TechniqueOutcome
    before: Result
    after: Result
    metrics_before: dict
    metrics_after: dict


def open_trace(path: str | Path, donor: str | Path = DONOR):
    """A trace with tensors, or a shape-only one wrapped with stand-in tensors."""
    trace = load_trace(path)
    if trace.has_tensors:
        return trace
    return SyntheticTrace(trace.network, load_trace(donor))


def metrics(result: Result, arch) -> dict:
    """Efficiencies of one evaluation: the evaluator's whole-chip figures and the
    mapped-resource view (dynamic energy; area of the tiles the mapping uses)."""
    t = result.total
    tile_area = rollup(arch).tile_area_mm2
    mapped_area = t.tiles * tile_area
    ops = OPS_PER_MAC * t.macs
    return {"energy_pJ": t.energy_pJ, "energy_dynamic_pJ": t.dynamic_energy_pJ,
            "interval_ns": t.interval_ns, "throughput_images_per_s": t.throughput_images_per_s,
            "gops": t.gops, "gops_per_W": t.gops_per_W, "gops_per_mm2": t.gops_per_mm2,
            "area_mm2": t.area_mm2, "chips": t.chips, "crossbars": t.crossbars,
            "tiles": t.tiles, "mapped_area_mm2": mapped_area,
            # ops per pJ x 1000 = GOPS/W
            "mapped_gops_per_W": 1e3 * ops / t.dynamic_energy_pJ if t.dynamic_energy_pJ else 0.0,
            "mapped_gops_per_mm2": t.gops / mapped_area if mapped_area else 0.0}


def overrides_for(trace, design, schedule: Schedule | str | Path) -> dict:
    """``{layer: LayerOverride}`` of ``schedule``'s technique on ``trace`` (a Trace or a
    path) and ``design`` (a Design or a design-point path), without accuracy evaluation:
    what ``pimsim.sim.simulate(..., overrides=...)`` takes (``pimsim run --schedule``).

    ScheduleError when the schedule does not fit the trace or the design, or when the
    overrides count a support role the design lacks.
    """
    from pimsim.errors import ScheduleError

    if not isinstance(trace, SyntheticTrace) and not hasattr(trace, "network"):
        trace = open_trace(trace)
    if not isinstance(schedule, Schedule):
        schedule = load_schedule(schedule)
    if isinstance(design, (str, Path)):
        design = load_design(design)
    outcome = TECHNIQUES[schedule.technique]().apply(trace, design, schedule, accuracy=False)
    arch = build_arch(design)
    for name, ov in outcome.overrides.items():
        for key in ov.extra_counts:
            role = key.split(".")[0]
            if role not in arch.parts:
                raise ScheduleError(f"technique '{schedule.technique}' needs the support "
                                    f"component '{role}', which design '{design.name}' lacks",
                                    file=schedule.source, where="technique",
                                    expected=f"a design point with a '{role}' component "
                                    "(e.g. configs/era_bs.yaml)")
    return dict(outcome.overrides)


def apply_schedule(trace, design_path: str | Path, schedule: Schedule | str | Path, *,
                   accuracy: bool = True, limit: int | None = None,
                   overrides: dict | None = None) -> Applied:
    """Apply ``schedule`` to ``trace`` (a Trace or a path) on the design point and
    evaluate before and after. ``overrides`` are design-point key overrides."""
    if not isinstance(trace, (SyntheticTrace,)) and not hasattr(trace, "network"):
        trace = open_trace(trace)
    if not isinstance(schedule, Schedule):
        schedule = load_schedule(schedule)
    design = load_design(design_path, overrides)
    arch = build_arch(design)
    tech = TECHNIQUES[schedule.technique]()
    outcome = tech.apply(trace, design, schedule, accuracy=accuracy, limit=limit)
    before = evaluate(trace.network, arch)
    after = evaluate(trace.network, arch, outcome.overrides)
    return Applied(outcome, before, after, metrics(before, arch), metrics(after, arch))
