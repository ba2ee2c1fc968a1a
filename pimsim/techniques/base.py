"""The technique interface and its plain-data outcome.

A technique turns a trace (real weights and activations), a design point and a schedule
into a :class:`TechniqueOutcome`: modified weights, run-time activation changes, and
per-layer :class:`~pimsim.mapping.network_map.LayerOverride` s — the change to the
mapped workload that ``pimsim.sim.evaluate(network, arch, overrides)`` (and the engine)
consume. Gains are never applied to results after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from pimsim.config.schema import Design
from pimsim.mapping.network_map import LayerOverride
from pimsim.techniques.constraints import LevelConstraint
from pimsim.techniques.schedule import FineTune, Schedule


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
    accuracy_after: float | None = None      # after the technique (and fine-tuning, if any)
    accuracy_images: int = 0
    #: what fine-tuning may change per layer (pimsim.techniques.constraints): a
    #: LevelConstraint or a function making one (built on demand: large layers are costly)
    constraints: dict[str, LevelConstraint | Callable[[], LevelConstraint]] = field(
        default_factory=dict, repr=False)
    biases: dict[str, np.ndarray] = field(default_factory=dict)        # after fine-tuning
    accuracy_no_finetune: float | None = None   # accuracy_after without the fine-tuning
    finetune: dict | None = None                # FineTuned.summary() when fine-tuned

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
                "accuracy_no_finetune": self.accuracy_no_finetune, "finetune": self.finetune,
                "layers": [e.__dict__ for e in self.layers]}


class Technique:
    """One technique: ``apply(trace, design, schedule) -> TechniqueOutcome``.

    Subclasses implement :meth:`transform` (weights, activations, overrides); ``apply``
    adds the accuracy before and after on the held-out digits.
    """

    name = "none"

    def transform(self, trace, design: Design, schedule: Schedule) -> TechniqueOutcome:
        raise NotImplementedError

    #: after fine-tuning, a changed layer's kept weights are its nonzero weights (ERA-BS);
    #: otherwise its pruning mask's kept weights (fixed by fine-tuning)
    kept_is_nonzero = False

    def apply(self, trace, design: Design, schedule: Schedule, *, accuracy: bool = True,
              limit: int | None = None, finetune: FineTune | None = None) -> TechniqueOutcome:
        """``transform`` + accuracy before/after; with ``finetune`` (default: the
        schedule's ``finetune`` key) of at least one epoch and a trace with tensors, the
        changed model is fine-tuned (:mod:`pimsim.techniques.finetune`) with the
        technique's masks, flipped cells and quantization fixed, and ``accuracy_after`` is
        the fine-tuned model's (``accuracy_no_finetune`` the one before)."""
        from pimsim.techniques.accuracy import accuracy as acc, held_out_for
        from pimsim.techniques.schedule import check_schedule

        check_schedule(schedule, trace.network, design)
        out = self.transform(trace, design, schedule.resolved(trace.network))
        ft = schedule.finetune if finetune is None else finetune
        changed = bool(out.weights or out.act_transforms)
        if accuracy and trace.has_tensors:
            out.accuracy_before = acc(trace, limit=limit)
            out.accuracy_after = (out.accuracy_before if not changed
                                  else acc(trace, out.weights, out.act_transforms, limit=limit))
            n = len(held_out_for(trace)[1])
            out.accuracy_images = n if limit is None else min(limit, n)
        if ft.epochs > 0 and trace.has_tensors and changed:
            self.finetune_outcome(trace, out, ft)
            if accuracy:
                out.accuracy_no_finetune = out.accuracy_after
                out.accuracy_after = acc(trace, out.weights, out.act_transforms, limit=limit,
                                         biases=out.biases)
        return out

    def finetune_outcome(self, trace, out: TechniqueOutcome, ft: FineTune) -> None:
        """Fine-tune ``out``'s model in place: weights, biases, ``finetune`` record and
        per-layer effects (weight error; ERA-BS's kept weights) change, the hardware
        overrides do not. Accuracy is left to the caller."""
        from pimsim.techniques.finetune import fine_tune

        tuned = fine_tune(trace, out.weights, out.constraints, out.act_transforms, ft)
        changed = set(out.weights)
        out.weights, out.biases, out.finetune = tuned.weights, tuned.biases, tuned.summary()
        effects = []
        for e in out.layers:
            wq, scale = trace.weight_q(e.name)
            ref = np.asarray(wq, np.float64) * scale
            w = out.weights[e.name]
            err = float(np.linalg.norm(w - ref) / max(np.linalg.norm(ref), 1e-30))
            kept = (int(np.count_nonzero(w)) if self.kept_is_nonzero and e.name in changed
                    else e.weights_kept)
            effects.append(replace(e, weight_rel_error=err, weights_kept=kept))
        out.layers = effects
