"""The technique interface and its plain-data outcome.

A technique turns a trace (real weights and activations), a design point and a schedule
into a :class:`TechniqueOutcome`: modified weights, run-time activation changes, and
per-layer :class:`~pimsim.mapping.network_map.LayerOverride` s — the change to the
mapped workload that ``pimsim.sim.evaluate(network, arch, overrides)`` (and the engine)
consume. Gains are never applied to results after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pimsim.config.schema import Design
from pimsim.mapping.network_map import LayerOverride
from pimsim.techniques.schedule import Schedule


@dataclass(frozen=True)
class LayerEffect:
    """What a technique did to one MVM layer (plain numbers)."""

    name: str
    crossbars_before: int            # one copy
    crossbars_after: int
    weights: int
    weights_kept: int                # nonzero after the technique (pruning: kept blocks)
    weight_rel_error: float          # ||W' - W|| / ||W|| against the trace's 8-bit weights
    cells_live_fraction: float       # live crossbar cells / cells before
    skip_reads: float = 0.0
    skip_drives: float = 0.0
    skip_conversions: float = 0.0
    skip_cycles: float = 0.0
    act_pruned_fraction: float = 0.0  # (vector, OU) input groups zeroed by pruning
    extra_counts: dict[str, float] = field(default_factory=dict)


@dataclass
class TechniqueOutcome:
    """Everything one application of a technique produced (plain data + arrays)."""

    technique: str
    network: str
    design: str
    schedule: str
    layers: list[LayerEffect]
    overrides: dict[str, LayerOverride]
    weights: dict[str, np.ndarray] = field(default_factory=dict)       # modified, trace shapes
    act_transforms: dict[str, Callable] = field(default_factory=dict, repr=False)
    accuracy_before: float | None = None     # trace's 8-bit model, held-out digits
    accuracy_after: float | None = None
    accuracy_images: int = 0

    @property
    def crossbars_before(self) -> int:
        return sum(e.crossbars_before for e in self.layers)

    @property
    def crossbars_after(self) -> int:
        return sum(e.crossbars_after for e in self.layers)

    @property
    def crossbars_freed(self) -> int:
        return self.crossbars_before - self.crossbars_after

    @property
    def compression(self) -> float:
        """Weights / weights kept (pruning's compression ratio)."""
        kept = sum(e.weights_kept for e in self.layers)
        return sum(e.weights for e in self.layers) / kept if kept else float("inf")

    @property
    def weight_rel_error(self) -> float:
        """Weight-count-weighted mean of the layers' relative weight errors."""
        n = sum(e.weights for e in self.layers)
        return sum(e.weight_rel_error * e.weights for e in self.layers) / n if n else 0.0

    def summary(self) -> dict:
        """JSON-ready numbers (no arrays)."""
        return {"technique": self.technique, "network": self.network, "design": self.design,
                "schedule": self.schedule, "crossbars_before": self.crossbars_before,
                "crossbars_after": self.crossbars_after, "crossbars_freed": self.crossbars_freed,
                "compression": self.compression, "weight_rel_error": self.weight_rel_error,
                "accuracy_before": self.accuracy_before, "accuracy_after": self.accuracy_after,
                "accuracy_images": self.accuracy_images,
                "layers": [e.__dict__ for e in self.layers]}


class Technique:
    """One technique: ``apply(trace, design, schedule) -> TechniqueOutcome``.

    Subclasses implement :meth:`transform` (weights, activations, overrides); ``apply``
    adds the accuracy before and after on the held-out digits.
    """

    name = "none"

    def transform(self, trace, design: Design, schedule: Schedule) -> TechniqueOutcome:
        raise NotImplementedError

    def apply(self, trace, design: Design, schedule: Schedule, *, accuracy: bool = True,
              limit: int | None = None) -> TechniqueOutcome:
        from pimsim.techniques.accuracy import accuracy as acc, held_out_for
        from pimsim.techniques.schedule import check_schedule

        check_schedule(schedule, trace.network, design)
        out = self.transform(trace, design, schedule.resolved(trace.network))
        if accuracy and trace.has_tensors:
            out.accuracy_before = acc(trace, limit=limit)
            out.accuracy_after = (out.accuracy_before if not out.weights and not out.act_transforms
                                  else acc(trace, out.weights, out.act_transforms, limit=limit))
            n = len(held_out_for(trace)[1])
            out.accuracy_images = n if limit is None else min(limit, n)
        return out
