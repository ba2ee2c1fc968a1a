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
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from pimsim import __version__
from pimsim.config import load_design
from pimsim.config.loader import load_raw
from pimsim.errors import ConfigError
from pimsim.sweep.spec import MAX_POINTS, SCHEDULE, TRACE, Sweep, parse_condition

STORE_VERSION = 2
"""Part of every key: bump it when a change makes stored results stale."""

KEY_HEX = 24
"""Key length in hex digits (96 bits)."""

POINT, BASELINE = "point", "baseline"
PLANNED, SKIPPED, INVALID = "planned", "skipped", "invalid"


def file_sha256(path: str | Path) -> str:
    """Content hash of a file, memoized per (path, mtime, size) within a process."""
    st = os.stat(path)
    return _sha256(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=1024)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
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


def point_key(design, trace: str, schedule: str | None, fidelity: str,
              images: int | None = None) -> str:
    blob = json.dumps({"v": STORE_VERSION, "design": design_fingerprint(design),
                       "trace": file_sha256(trace),
                       "schedule": file_sha256(schedule) if schedule else None,
                       "fidelity": fidelity, "images": images}, sort_keys=True, default=str)
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
                      "schedule": schedule, "fidelity": sweep.fidelity,
                      "images": sweep.images, "debug": debug}}
    try:
        design = load_design(design_path, overrides)
    except ConfigError as exc:
        point.update(status=SKIPPED if sweep.skip_invalid else INVALID, key=None,
                     reason=str(exc), error_type=type(exc).__name__)
        return point
    point["key"] = point["spec"]["key"] = point_key(design, trace, schedule, sweep.fidelity,
                                                         sweep.images)
    point.update(status=PLANNED, reason=None, design=design.name, params=design_params(design))
    return point


@dataclass(frozen=True)
class Grid:
    """The combinations to plan, found without loading any design (cheap)."""

    combos: tuple[tuple[dict, dict], ...]      # (raw axis values, values as shown)
    excluded: int                              # combinations a 'where' condition removed
    pairs: tuple[tuple[str, None], ...]        # (trace, no schedule): one baseline per trace

    def size(self, sweep: Sweep) -> int:
        """Points the plan will hold: grid points plus one baseline per trace."""
        return len(self.combos) + (len(self.pairs) if sweep.baseline is not None else 0)


def grid(sweep: Sweep) -> Grid:
    sizes = [len(a.values) for a in sweep.axes]
    total = 1
    for n in sizes:
        total *= n
    if total > MAX_POINTS:
        raise ConfigError("sweep too large", file=sweep.source, where="axes", found=total,
                          expected=f"at most {MAX_POINTS} points")
    combos, pairs, excluded = [], [], 0
    for combo in itertools.product(*(a.values for a in sweep.axes)):
        raw = {a.name: v for a, v in zip(sweep.axes, combo)}
        shown = {a.name: _display(a.kind, v) for a, v in zip(sweep.axes, combo)}
        if not all(c.holds(shown) for c in sweep.where):
            excluded += 1
            continue
        combos.append((raw, shown))
        # The baseline is the plain baseline design: no technique schedule (as `pimsim run`).
        pair = (_of_kind(sweep, raw, TRACE), None)
        if pair not in pairs:
            pairs.append(pair)
    return Grid(tuple(combos), excluded, tuple(pairs))


def _of_kind(sweep: Sweep, raw: dict, kind: str) -> str | None:
    return next((raw[a.name] for a in sweep.axes if a.kind == kind), None)


def iter_points(sweep: Sweep, g: Grid | None = None) -> Iterator[dict]:
    """Points in grid order, then one baseline point per trace (without any schedule).

    A point is plain data: ``index``, ``role``, ``axes`` (name -> value as shown),
    ``trace``/``schedule`` (file stems), ``status``, ``reason``, ``key``, ``params`` and
    ``spec`` (what :func:`pimsim.sweep.point.run_point` takes). Each design is loaded
    here (to check it and compute its key), so this is a generator: a runner can start
    evaluating the first points while later ones are still being planned.
    """
    g = g or grid(sweep)
    index = 0
    for raw, shown in g.combos:
        overrides = {k: raw[a.name] for a in sweep.config_axes for k in a.keys}
        yield _point(sweep, index, POINT, sweep.base, overrides, _of_kind(sweep, raw, TRACE),
                     _of_kind(sweep, raw, SCHEDULE), shown, _debug_flags(sweep, shown))
        index += 1
    if sweep.baseline is not None:
        for trace, schedule in g.pairs:
            yield _point(sweep, index, BASELINE, sweep.baseline, {}, trace, schedule, {}, {})
            index += 1


def expand(sweep: Sweep) -> tuple[list[dict], int]:
    """(all points of :func:`iter_points`, count excluded by ``where``)."""
    g = grid(sweep)
    return list(iter_points(sweep, g)), g.excluded


def plan_fingerprint(sweep: Sweep) -> str:
    """Hash of everything a plan is computed from: the sweep file, every file in the base
    and baseline ``extends`` chains, the traces and schedules. Equal fingerprints let a
    rerun reuse the stored plan instead of loading every design again."""
    h = hashlib.sha256(f"plan v{STORE_VERSION} pimsim {__version__}".encode())
    files = {sweep.source}
    for design in {sweep.base, sweep.baseline} - {None}:     # often the same file
        _, origin = load_raw(design)
        files.update(Path(p).resolve() for p in origin.values())
    for path in sorted(str(f) for f in files):
        h.update(f"{path}\0{file_sha256(path)}\0".encode())
    for axis in sweep.axes:
        if axis.kind != "config":
            h.update("".join(file_sha256(v) for v in axis.values).encode())
    return h.hexdigest()[:KEY_HEX]


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

