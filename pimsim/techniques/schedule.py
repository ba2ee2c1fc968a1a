"""Technique schedules: which technique, with which settings, per network and per layer.

A schedule is a YAML file::

    technique: era_bs            # era_bs | pim_prune | cim_pruning | none
    network: cnn_digits          # optional; must match the trace's network name
    default:                     # settings of every MVM layer ...
      weights:    {quant: exponent, bits: 8, terms: 2, flip_budget: 2}
      activations: {skip: true, ou: [16, 16], threshold: 0.02}
      pruning:    {granularity: filter, ratio: 0.5, criterion: l2}
    layers:                      # ... overridden per layer (same keys; enabled: false skips it)
      _0: {enabled: false}
    finetune: {epochs: 5, lr: 0.001, seed: 0}   # optional: fine-tune afterwards (FineTune)

Every key, its type and range are in ``SPEC``; a mistake raises
:class:`~pimsim.errors.ScheduleError` naming the file, the key path, what was found and
what was expected. ``check_schedule`` then checks the schedule against a trace (layer
names, with a did-you-mean) and a design point (OU no larger than the crossbar).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pimsim.config.schema import Design
from pimsim.errors import ScheduleError
from pimsim.workload.layer import Network
from pimsim.yamlio import load_yaml_file

TECHNIQUES = ("none", "era_bs", "pim_prune", "cim_pruning")
GRANULARITIES = ("filter", "channel", "xbar_column", "ou_block", "pim_prune")
QUANT_FORMATS = ("uniform", "exponent")
CRITERIA = ("l1", "l2")


@dataclass(frozen=True)
class LayerSchedule:
    """Resolved settings of one layer (defaults: no change at all)."""

    enabled: bool = True
    # weights (ERA-BS static)
    quant: str = "uniform"        # 'exponent': at most `terms` power-of-two terms per magnitude
    bits: int = 8                 # weight bits (sign + magnitude) the technique works on
    terms: int = 8                # power-of-two terms kept per weight (exponent format)
    flip_budget: int = 0          # nonzero cells one crossbar column may flip to be freed
    flip_tolerance: float = 1.0   # ... if that changes its weight column by <= this (rel. L2)
    # activations (ERA-BS dynamic)
    skip: bool = False            # run-time zero OU bit-slice skipping
    ou_rows: int = 16             # OU: rows activated together (cells)
    ou_cols: int = 16             # OU: columns converted together (cells)
    threshold: float = 0.0        # OU pruning: zero an OU's inputs if max < threshold x full scale
    target_sparsity: float | None = None  # alternative to threshold: fraction of OU inputs zeroed
    # structured pruning (PIM-Prune, CIM granularity)
    granularity: str = "filter"
    ratio: float = 0.0            # fraction of the weights' blocks removed, in [0, 1)
    criterion: str = "l2"


MAX_FLIP_BUDGET = 16384
"""Cells one crossbar column may flip: at most its rows (the largest crossbar allowed)."""
MAX_OU = 16384
"""Largest OU side (cells): no crossbar has more rows or columns."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


# section -> key -> (field name, check, expected text)
SPEC: dict[str, dict[str, tuple[str, Any, str]]] = {
    "weights": {
        "quant": ("quant", lambda v: v in QUANT_FORMATS, "one of " + ", ".join(QUANT_FORMATS)),
        "bits": ("bits", lambda v: _is_int(v) and 2 <= v <= 16, "an integer in 2..16"),
        "terms": ("terms", lambda v: _is_int(v) and 1 <= v <= 16, "an integer in 1..16"),
        "flip_budget": ("flip_budget", lambda v: _is_int(v) and 0 <= v <= MAX_FLIP_BUDGET,
                        f"an integer in 0..{MAX_FLIP_BUDGET} (cells of one column)"),
        "flip_tolerance": ("flip_tolerance", lambda v: _is_num(v) and 0 <= v <= 1,
                           "a number in [0, 1]"),
    },
    "activations": {
        "skip": ("skip", lambda v: isinstance(v, bool), "true or false"),
        "ou": ("ou", lambda v: isinstance(v, list) and len(v) == 2
               and all(_is_int(x) and 1 <= x <= MAX_OU for x in v),
               f"[rows, cols], integers in 1..{MAX_OU}"),
        "threshold": ("threshold", lambda v: _is_num(v) and 0 <= v <= 1, "a number in [0, 1]"),
        "target_sparsity": ("target_sparsity", lambda v: _is_num(v) and 0 <= v < 1,
                            "a number in [0, 1)"),
    },
    "pruning": {
        "granularity": ("granularity", lambda v: v in GRANULARITIES,
                        "one of " + ", ".join(GRANULARITIES)),
        "ratio": ("ratio", lambda v: _is_num(v) and 0 <= v < 1, "a number in [0, 1)"),
        "criterion": ("criterion", lambda v: v in CRITERIA, "one of " + ", ".join(CRITERIA)),
    },
}
TOP_KEYS = ("technique", "network", "default", "layers", "description", "dense_ends",
            "finetune")


@dataclass(frozen=True)
class FineTune:
    """Fine-tuning after the technique (``pimsim.techniques.finetune``); ``epochs: 0`` = none.

    ``lr`` is Adam's initial learning rate (cosine-annealed to 0 over ``epochs``); ``seed``
    fixes the shuffling and initial state; ``threads`` the torch CPU threads (results are
    bitwise repeatable for the same thread count and torch build)."""

    epochs: int = 0
    lr: float = 1e-3
    seed: int = 0
    threads: int = 1


NO_FINETUNE = FineTune()
FINETUNE_SPEC: dict[str, tuple[Any, str]] = {
    "epochs": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "lr": (lambda v: _is_num(v) and 0 < v <= 1, "a number in (0, 1]"),
    "seed": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "threads": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
}


@dataclass(frozen=True)
class Schedule:
    """A validated schedule: technique, default layer settings and per-layer overrides."""

    technique: str
    source: str = "<schedule>"
    network: str | None = None
    default: LayerSchedule = LayerSchedule()
    layers: dict[str, LayerSchedule] = field(default_factory=dict)
    description: str = ""
    dense_ends: bool = False      # leave the first and last MVM layers unchanged
    finetune: FineTune = NO_FINETUNE   # fine-tuning after the technique (epochs 0: none)

    def for_layer(self, name: str) -> LayerSchedule:
        return self.layers.get(name, self.default)

    def resolved(self, network: Network) -> "Schedule":
        """The schedule with ``dense_ends`` turned into per-layer ``enabled: false``."""
        if not self.dense_ends or not network.mvm_layers:
            return self
        ends = {network.mvm_layers[0].name, network.mvm_layers[-1].name}
        layers = dict(self.layers)
        for name in ends:
            layers[name] = replace(layers.get(name, self.default), enabled=False)
        return replace(self, layers=layers, dense_ends=False)


def _suggest(word: Any, options) -> str:
    if not isinstance(word, str) or len(word) > 200:   # never expand a list into text
        return ""
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _layer_settings(raw: Any, base: LayerSchedule, file: str, where: str) -> LayerSchedule:
    if raw is None:
        return base
    if not isinstance(raw, dict):
        raise ScheduleError("must be a mapping", file=file, where=where, found=raw,
                            expected="{weights: ..., activations: ..., pruning: ..., enabled: ...}")
    changes: dict[str, Any] = {}
    for section, body in raw.items():
        path = f"{where}.{section}"
        if section == "enabled":
            if not isinstance(body, bool):
                raise ScheduleError("wrong type", file=file, where=path, found=body,
                                    expected="true or false")
            changes["enabled"] = body
            continue
        if section not in SPEC:
            raise ScheduleError(f"unknown section '{section}'" + _suggest(section, SPEC),
                                file=file, where=path,
                                expected="one of enabled, " + ", ".join(SPEC))
        if not isinstance(body, dict):
            raise ScheduleError("must be a mapping", file=file, where=path, found=body,
                                expected="keys " + ", ".join(SPEC[section]))
        for key, value in body.items():
            if key not in SPEC[section]:
                raise ScheduleError(f"unknown key '{key}'" + _suggest(key, SPEC[section]),
                                    file=file, where=f"{path}.{key}",
                                    expected="one of " + ", ".join(SPEC[section]))
            name, ok, expected = SPEC[section][key]
            if not ok(value):
                raise ScheduleError("invalid value", file=file, where=f"{path}.{key}",
                                    found=value, expected=expected)
            if name == "ou":
                changes["ou_rows"], changes["ou_cols"] = int(value[0]), int(value[1])
            else:
                changes[name] = float(value) if name in ("threshold", "ratio", "target_sparsity",
                                                         "flip_tolerance") else value
    return replace(base, **changes)


def parse_schedule(doc: Any, source: str = "<schedule>") -> Schedule:
    """A :class:`Schedule` from a parsed YAML document; ScheduleError on any mistake."""
    if not isinstance(doc, dict):
        raise ScheduleError("a schedule must be a YAML mapping", file=source,
                            found=type(doc).__name__,
                            expected="keys " + ", ".join(TOP_KEYS))
    for key in doc:
        if key not in TOP_KEYS:
            raise ScheduleError(f"unknown key '{key}'" + _suggest(key, TOP_KEYS), file=source,
                                where=str(key), expected="one of " + ", ".join(TOP_KEYS))
    tech = doc.get("technique")
    if tech not in TECHNIQUES:
        raise ScheduleError("unknown technique" + _suggest(tech, TECHNIQUES), file=source,
                            where="technique", found=tech,
                            expected="one of " + ", ".join(TECHNIQUES))
    network = doc.get("network")
    if network is not None and not isinstance(network, str):
        raise ScheduleError("wrong type", file=source, where="network", found=network,
                            expected="a network name")
    default = _layer_settings(doc.get("default"), LayerSchedule(), source, "default")
    raw_layers = doc.get("layers") or {}
    if not isinstance(raw_layers, dict):
        raise ScheduleError("must be a mapping", file=source, where="layers", found=raw_layers,
                            expected="layer name -> settings")
    layers = {str(name): _layer_settings(body, default, source, f"layers.{name}")
              for name, body in raw_layers.items()}
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ScheduleError("must be text", file=source, where="description",
                            found=type(description).__name__, expected="a string")
    dense = doc.get("dense_ends", False)
    if not isinstance(dense, bool):
        raise ScheduleError("wrong type", file=source, where="dense_ends", found=dense,
                            expected="true or false")
    return Schedule(technique=tech, source=source, network=network, default=default,
                    layers=layers, description=description,
                    dense_ends=dense, finetune=_finetune(doc.get("finetune"), source))


def _finetune(raw: Any, file: str) -> FineTune:
    if raw is None:
        return NO_FINETUNE
    if not isinstance(raw, dict):
        raise ScheduleError("must be a mapping", file=file, where="finetune", found=raw,
                            expected="{epochs: N, lr: 0.001, seed: 0, threads: 1}")
    changes = {}
    for key, value in raw.items():
        if key not in FINETUNE_SPEC:
            raise ScheduleError(f"unknown key '{key}'" + _suggest(key, FINETUNE_SPEC),
                                file=file, where=f"finetune.{key}",
                                expected="one of " + ", ".join(FINETUNE_SPEC))
        ok, expected = FINETUNE_SPEC[key]
        if not ok(value):
            raise ScheduleError("invalid value", file=file, where=f"finetune.{key}",
                                found=value, expected=expected)
        changes[key] = float(value) if key == "lr" else value
    return replace(NO_FINETUNE, **changes)


def load_schedule(path: str | Path) -> Schedule:
    """Read and validate a schedule YAML file."""
    path = Path(path)
    doc = load_yaml_file(path, error=ScheduleError, what="schedule YAML file")
    return parse_schedule(doc, str(path))


def check_schedule(schedule: Schedule, network: Network, design: Design) -> None:
    """ScheduleError when the schedule does not fit ``network`` or ``design``."""
    f = schedule.source
    if schedule.network is not None and schedule.network != network.name:
        raise ScheduleError("schedule is for another network", file=f, where="network",
                            found=schedule.network, expected=f"'{network.name}'")
    names = [lay.name for lay in network]
    mvm = {lay.name for lay in network.mvm_layers}
    for name in schedule.layers:
        if name not in names:
            raise ScheduleError("no such layer in the trace" + _suggest(name, names), file=f,
                                where=f"layers.{name}",
                                expected=f"a layer of '{network.name}'")
        if name not in mvm:
            raise ScheduleError("layer has no weights (not conv/linear)", file=f,
                                where=f"layers.{name}", expected="a conv or linear layer")
    xr, xc = design.crossbar.rows, design.crossbar.cols
    for where, ls in [("default", schedule.default)] + [
            (f"layers.{n}", s) for n, s in schedule.layers.items()]:
        if ls.ou_rows > xr or ls.ou_cols > xc:
            raise ScheduleError("OU larger than the crossbar", file=f,
                                where=f"{where}.activations.ou", found=[ls.ou_rows, ls.ou_cols],
                                expected=f"at most [{xr}, {xc}] (design '{design.name}')")
        if ls.bits > design.precision.weight_bits:
            raise ScheduleError("more weight bits than the design stores", file=f,
                                where=f"{where}.weights.bits", found=ls.bits,
                                expected=f"at most {design.precision.weight_bits}")
