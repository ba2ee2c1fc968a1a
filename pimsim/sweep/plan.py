"""Expand a :class:`~pimsim.sweep.spec.Sweep` into its points, each with a content key.

Every combination of axis values (minus those a ``where`` condition excludes) is loaded
with :func:`pimsim.config.load_design`; a combination the loader rejects is *skipped*
(``skip_invalid: true``) or *invalid* (reported as failed). A point's key hashes the
resolved design (not its name or file), the trace and schedule file contents and the
fidelity, so equal design points share one evaluation and a changed trace is re-run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pimsim.config import load_design
from pimsim.errors import ConfigError
from pimsim.sweep.spec import MAX_POINTS, SCHEDULE, TRACE, Sweep, parse_condition

STORE_VERSION = 1
"""Part of every key: bump it when a change makes stored results stale."""

KEY_HEX = 24
"""Key length in hex digits (96 bits)."""

POINT, BASELINE = "point", "baseline"
PLANNED, SKIPPED, INVALID = "planned", "skipped", "invalid"


@lru_cache(maxsize=256)
def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def design_fingerprint(design) -> dict:
    """The resolved design as plain data, without what does not change results."""
    data = dataclasses.asdict(design)
    for key in ("name", "source", "description"):
        data.pop(key, None)
    return data


def point_key(design, trace: str, schedule: str | None, fidelity: str) -> str:
    blob = json.dumps({"v": STORE_VERSION, "design": design_fingerprint(design),
                       "trace": file_sha256(trace),
                       "schedule": file_sha256(schedule) if schedule else None,
                       "fidelity": fidelity}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:KEY_HEX]


def design_params(design) -> dict:
    """The resolved parameters plots group by (crossbar rows, ADC bits, ...)."""
    return {"crossbar_rows": design.crossbar.rows, "crossbar_cols": design.crossbar.cols,
            "bits_per_cell": design.crossbar.bits_per_cell, "adc_bits": design.adc.bits,
            "dac_bits": design.dac.bits, "weight_bits": design.precision.weight_bits,
            "input_bits": design.precision.input_bits}


def _display(axis_kind: str, value: Any) -> Any:
    return Path(value).stem if axis_kind in (TRACE, SCHEDULE) else value


def _debug_flags(sweep: Sweep, values: dict) -> dict:
    names = [a.name for a in sweep.axes]
    flags: dict[str, Any] = {}
    for key, flag in (("fail_where", "fail"), ("crash_where", "crash")):
        conds = [parse_condition(t, names, sweep.source, f"debug.{key}")
                 for t in sweep.debug.get(key, [])]
        if conds and all(c.holds(values) for c in conds):
            flags[flag] = True
    if sweep.debug.get("sleep_s"):
        flags["sleep_s"] = sweep.debug["sleep_s"]
    return flags


def _point(sweep: Sweep, index: int, role: str, design_path: Path, overrides: dict,
           trace: str, schedule: str | None, axes: dict, debug: dict) -> dict:
    point = {"index": index, "role": role, "axes": axes, "trace": Path(trace).stem,
             "schedule": Path(schedule).stem if schedule else None,
             "spec": {"base": str(design_path), "overrides": overrides, "trace": trace,
                      "schedule": schedule, "fidelity": sweep.fidelity, "debug": debug}}
    try:
        design = load_design(design_path, overrides)
    except ConfigError as exc:
        point.update(status=SKIPPED if sweep.skip_invalid else INVALID, key=None,
                     reason=str(exc), error_type=type(exc).__name__)
        return point
    point["key"] = point["spec"]["key"] = point_key(design, trace, schedule, sweep.fidelity)
    point.update(status=PLANNED, reason=None, design=design.name, params=design_params(design))
    return point


def expand(sweep: Sweep) -> tuple[list[dict], int]:
    """(points in grid order followed by baseline points, count excluded by ``where``).

    A point is plain data: ``index``, ``role``, ``axes`` (name -> value as shown),
    ``trace``/``schedule`` (file stems), ``status``, ``reason``, ``key``, ``params`` and
    ``spec`` (what :func:`pimsim.sweep.point.run_point` takes).
    """
    sizes = [len(a.values) for a in sweep.axes]
    total = 1
    for n in sizes:
        total *= n
    if total > MAX_POINTS:
        raise ConfigError("sweep too large", file=sweep.source, where="axes", found=total,
                          expected=f"at most {MAX_POINTS} points")
    points: list[dict] = []
    excluded = 0
    traces: list[tuple[str, str | None]] = []
    for combo in itertools.product(*(a.values for a in sweep.axes)):
        raw = {a.name: v for a, v in zip(sweep.axes, combo)}
        shown = {a.name: _display(a.kind, v) for a, v in zip(sweep.axes, combo)}
        if not all(c.holds(shown) for c in sweep.where):
            excluded += 1
            continue
        overrides: dict[str, Any] = {}
        trace = schedule = None
        for axis in sweep.axes:
            if axis.kind == TRACE:
                trace = raw[axis.name]
            elif axis.kind == SCHEDULE:
                schedule = raw[axis.name]
            else:
                overrides.update({k: raw[axis.name] for k in axis.keys})
        if (trace, schedule) not in traces:
            traces.append((trace, schedule))
        points.append(_point(sweep, len(points), POINT, sweep.base, overrides, trace, schedule,
                             shown, _debug_flags(sweep, shown)))
    if sweep.baseline is not None:
        for trace, schedule in traces:
            points.append(_point(sweep, len(points), BASELINE, sweep.baseline, {}, trace,
                                 schedule, {}, {}))
    return points, excluded


def always_rejected(sweep: Sweep, points: list[dict]) -> list[str]:
    """Axis values that were rejected in every combination they appear in (likely typos)."""
    notes = []
    for axis in sweep.config_axes:
        if len(axis.values) < 2:
            continue
        for value in axis.values:
            mine = [p for p in points if p["role"] == POINT and p["axes"].get(axis.name) == value]
            if mine and all(p["status"] in (SKIPPED, INVALID) for p in mine):
                notes.append(f"{axis.name} = {value!r} was rejected in every combination, e.g. "
                             f"{mine[0]['reason']}")
    return notes

