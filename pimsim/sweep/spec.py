"""Sweep files: read and validate one YAML file into a :class:`Sweep`.

A sweep file names a base design point, the axes to vary (config key paths, ``trace``,
``schedule``), constraints, metrics and the engine fidelity (docs/sweeps.md lists every
key). Every user mistake raises :class:`pimsim.errors.ConfigError` naming the sweep file
and the key path, with a did-you-mean for unknown keys.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pimsim.config import schema
from pimsim.config.loader import load_design, read_yaml, suggest
from pimsim.errors import ConfigError, PimsimError
from pimsim.result import TotalResult
from pimsim.sim.fidelity import DEFAULT_FIDELITY

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_BASELINE = REPO_ROOT / "configs" / "isaac.yaml"

FIDELITIES = ("analytic", "fast", "event")
"""'analytic' is the closed form (pimsim.sim.analytic); 'fast'/'event' need the engine."""

TRACE, SCHEDULE = "trace", "schedule"
TOP_KEYS = ("name", "description", "base", "baseline", "fidelity", "images", "axes", "constraints",
            "metrics", "scheduler", "debug")
CONSTRAINT_KEYS = ("skip_invalid", "where")
DEBUG_KEYS = ("fail_where", "crash_where", "sleep_s")
AXIS_KEYS = ("keys", "values", "start", "stop", "step", "factor")

#: Scalar totals of a Result (everything in ``Result.total`` that is one number).
SCALAR_METRICS = tuple(f.name for f in dataclasses.fields(TotalResult)
                       if f.type in ("int", "float"))
DEFAULT_METRICS = ("energy_pJ", "dynamic_energy_pJ", "static_energy_pJ", "latency_ns",
                   "throughput_images_per_s", "gops", "gops_per_mm2", "gops_per_W", "area_mm2",
                   "power_mW", "crossbars", "chips")

MAX_POINTS = 100_000
"""Refuse grids larger than this: a typo in a range should not queue a million points."""

_OPS = {"==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
        "<": operator.lt, ">": operator.gt}
_COND = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Axis:
    """One swept dimension: ``name`` as shown in tables; ``keys`` set to each value together."""

    name: str
    keys: tuple[str, ...]            # config key paths, or ("trace",) / ("schedule",)
    values: tuple[Any, ...]

    @property
    def kind(self) -> str:
        return self.keys[0] if self.keys[0] in (TRACE, SCHEDULE) else "config"


@dataclass(frozen=True)
class Condition:
    """``lhs op rhs`` on axis values; ``rhs_axis`` says whether rhs names an axis."""

    text: str
    lhs: str
    op: str
    rhs: Any
    rhs_axis: bool

    def holds(self, values: dict[str, Any]) -> bool:
        """True when the comparison holds; comparing a string with a number is False
        (except ``!=``), so ``adc.bits > 8`` excludes 'auto'."""
        left = values[self.lhs]
        right = values[self.rhs] if self.rhs_axis else self.rhs
        try:
            return bool(_OPS[self.op](left, right))
        except TypeError:
            return self.op == "!="


@dataclass(frozen=True)
class Sweep:
    """A validated sweep file: plain data, paths resolved to absolute ones."""

    name: str
    source: Path
    base: Path
    baseline: Path | None
    fidelity: str
    axes: tuple[Axis, ...]
    metrics: tuple[str, ...]
    skip_invalid: bool = False
    where: tuple[Condition, ...] = ()
    scheduler: str | None = None
    description: str = ""
    debug: dict = field(default_factory=dict)   # test hooks: fail_where, crash_where, sleep_s
    images: int | None = None    # images the engine simulates (None: until steady state)

    def axis(self, name: str) -> Axis | None:
        return next((a for a in self.axes if a.name == name), None)

    @property
    def config_axes(self) -> tuple[Axis, ...]:
        return tuple(a for a in self.axes if a.kind == "config")


def _err(source: Path, where: str, msg: str, **kw) -> ConfigError:
    return ConfigError(msg, file=source, where=where, **kw)


def _unknown(source: Path, where: str, key: str, options) -> ConfigError:
    return _err(source, where, f"unknown key '{key}'" + suggest(key, options),
                expected="one of " + ", ".join(options))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def expand_range(spec: dict, source: Path, where: str) -> list:
    """``{start, stop, step}`` (arithmetic) or ``{start, stop, factor}`` (geometric), stop
    included; integers stay integers."""
    for key in ("start", "stop"):
        if key not in spec:
            raise _err(source, f"{where}.{key}", "a range needs 'start' and 'stop'")
        if not _number(spec[key]):
            raise _err(source, f"{where}.{key}", "must be a number", found=spec[key])
    if ("step" in spec) == ("factor" in spec):
        raise _err(source, where, "a range needs exactly one of 'step' or 'factor'",
                   found=sorted(k for k in spec if k in ("step", "factor")) or None)
    start, stop = spec["start"], spec["stop"]
    out = []
    if "step" in spec:
        step = spec["step"]
        if not _number(step) or step == 0 or (stop - start) * step < 0:
            raise _err(source, f"{where}.step", "step must be a non-zero number leading from "
                       "start to stop", found=step)
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if count > MAX_POINTS:
            raise _err(source, where, "range too long", found=count,
                       expected=f"at most {MAX_POINTS} values")
        out = [start + i * step for i in range(count)]
        if not all(isinstance(v, int) for v in (start, step)):
            out = [round(v, 12) for v in out]
    else:
        factor = spec["factor"]
        if not _number(factor) or factor <= 1 or start <= 0 or stop < start:
            raise _err(source, f"{where}.factor", "a geometric range needs factor > 1 and "
                       "0 < start <= stop", found=factor)
        value = start
        while value <= stop * (1 + 1e-12):
            out.append(value)
            value = value * factor
            if len(out) > MAX_POINTS:
                raise _err(source, where, "range too long", expected=f"at most {MAX_POINTS} values")
    return out


def check_key_path(path: str, source: Path, where: str, components: dict) -> None:
    """A config key path the loader will understand (``crossbar.rows``, ``clock_GHz``,
    ``components.adc.law``); the component entry's own keys are checked per point."""
    parts = str(path).split(".")
    head = parts[0]
    top = set(schema.SECTIONS) | set(schema.TOP_LEVEL) - {"extends", "plugins", "components"}
    if head == "components":
        if len(parts) < 3:
            raise _err(source, where, "a component axis needs components.ROLE.KEY", found=path)
        if parts[1] not in components:
            raise _err(source, where, f"unknown component role '{parts[1]}'"
                       + suggest(parts[1], components), found=path,
                       expected="one of " + ", ".join(components))
        return
    if head not in top:
        raise _err(source, where, f"unknown config key '{head}'" + suggest(head, sorted(top)),
                   found=path, expected="a section key such as crossbar.rows, or trace/schedule")
    if head in schema.SECTIONS:
        fields = [f.name for f in dataclasses.fields(schema.SECTIONS[head])]
        if len(parts) != 2 or parts[1] not in fields:
            key = parts[1] if len(parts) > 1 else ""
            raise _err(source, where, f"unknown key '{head}.{key}'" + suggest(key, fields),
                       found=path, expected=f"{head}.<one of {', '.join(fields)}>")
    elif len(parts) != 1:
        raise _err(source, where, f"'{head}' has no sub-keys", found=path)


def _values(raw: Any, source: Path, where: str) -> tuple[list, tuple[str, ...] | None]:
    """An axis entry -> (values, linked keys or None)."""
    if isinstance(raw, list):
        values, keys = raw, None
    elif isinstance(raw, dict):
        for key in raw:
            if key not in AXIS_KEYS:
                raise _unknown(source, f"{where}.{key}", key, AXIS_KEYS)
        keys = raw.get("keys")
        if keys is not None:
            if isinstance(keys, str):
                keys = [keys]
            if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
                raise _err(source, f"{where}.keys", "must be a list of config key paths",
                           found=keys)
            keys = tuple(keys)
        if "values" in raw:
            if any(k in raw for k in ("start", "stop", "step", "factor")):
                raise _err(source, where, "give either 'values' or a range, not both")
            values = raw["values"]
            if not isinstance(values, list):
                raise _err(source, f"{where}.values", "must be a list", found=values)
        else:
            values = expand_range(raw, source, where)
    else:
        raise _err(source, where, "an axis is a list of values, {values: [...]} or a range "
                   "{start, stop, step|factor}", found=raw)
    if not values:
        raise _err(source, where, "an axis needs at least one value")
    for i, v in enumerate(values):
        if isinstance(v, (dict, list)) or v is None:
            raise _err(source, f"{where}[{i}]", "axis values must be scalars", found=v)
    if len(set(map(repr, values))) != len(values):
        raise _err(source, where, "repeated axis value", found=values)
    return list(values), keys


def _paths(values: list, source: Path, where: str, what: str) -> list[Path]:
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise _err(source, f"{where}[{i}]", f"a {what} is a path", found=v)
        p = (source.parent / v).resolve()
        if not p.is_file():
            raise _err(source, f"{where}[{i}]", f"{what} file not found", found=v,
                       expected=f"a path relative to the sweep file ({p})")
        out.append(p)
    return out


def parse_condition(text: Any, names: list[str], source: Path, where: str,
                    words: dict[str, set] | None = None) -> Condition:
    """``"crossbar.rows >= 128"`` or ``"adc.bits != auto"`` or ``"a < b"`` (two axes).

    ``words``: per axis, the texts a right-hand side may name (its values, file stems);
    anything else that is not a number is a typo, not a condition that never holds.
    """
    m = _COND.match(text) if isinstance(text, str) else None
    if not m:
        raise _err(source, where, "a condition is 'AXIS OP VALUE' with OP one of "
                   + " ".join(_OPS), found=text)
    lhs, op, rhs_text = m.groups()
    if lhs not in names:
        raise _err(source, where, f"unknown axis '{lhs}'" + suggest(lhs, names), found=text,
                   expected="one of " + ", ".join(names))
    if rhs_text in names:
        return Condition(text, lhs, op, rhs_text, True)
    try:
        rhs = yaml.safe_load(rhs_text)
    except yaml.YAMLError:
        rhs = rhs_text
    numeric = isinstance(rhs, (int, float)) and not isinstance(rhs, bool)
    allowed = (words or {}).get(lhs)
    if not numeric and allowed is not None and str(rhs) not in allowed:
        raise _err(source, where, f"'{rhs_text}' is neither a number, an axis name nor a value "
                   f"of axis '{lhs}'", found=text,
                   expected="one of " + ", ".join(sorted(allowed)[:12]) if allowed else None)
    return Condition(text, lhs, op, rhs, False)


def _conditions(raw: Any, names: list[str], source: Path, where: str,
                words: dict[str, set] | None = None) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise _err(source, where, "must be a list of conditions", found=raw)
    return tuple(parse_condition(t, names, source, f"{where}[{i}]", words)
                 for i, t in enumerate(raw))


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file; paths inside it are relative to it."""
    source = Path(path)
    data = read_yaml(source)
    for key in data:
        if key not in TOP_KEYS:
            raise _unknown(source, key, key, TOP_KEYS)

    if "base" not in data:
        raise _err(source, "base", "a sweep needs a base design point",
                   expected="base: path/to/design.yaml (relative to the sweep file)")
    base = _paths([data["base"]], source, "base", "design point")[0]
    try:
        base_design = load_design(base)
    except PimsimError as exc:
        raise _err(source, "base", f"the base design point is invalid: {exc}") from None

    baseline_raw = data.get("baseline", str(DEFAULT_BASELINE))
    baseline = None
    if not (isinstance(baseline_raw, str) and baseline_raw.lower() == "none"):
        baseline = _paths([baseline_raw], source, "baseline", "design point")[0]

    fidelity = data.get("fidelity", DEFAULT_FIDELITY)
    if fidelity not in FIDELITIES:
        raise _err(source, "fidelity", "unknown fidelity" + suggest(fidelity, FIDELITIES),
                   found=fidelity, expected=" or ".join(FIDELITIES))
    images = data.get("images")
    if images is not None and (isinstance(images, bool) or not isinstance(images, int)
                               or images < 1):
        raise _err(source, "images", "must be a whole number >= 1 (or absent: simulate "
                   "until the steady state)", found=images)

    raw_axes = data.get("axes")
    if not isinstance(raw_axes, dict) or not raw_axes:
        raise _err(source, "axes", "a sweep needs axes: a mapping of key path -> values",
                   found=raw_axes, expected="e.g. axes: {crossbar.rows: [64, 128], trace: [t.npz]}")
    axes = []
    for name, raw in raw_axes.items():
        where = f"axes.{name}"
        if not isinstance(name, str):
            raise _err(source, where, "an axis name is a string", found=name)
        values, keys = _values(raw, source, where)
        keys = keys or (name,)
        if any(k in (TRACE, SCHEDULE) for k in keys):
            if len(keys) != 1:
                raise _err(source, f"{where}.keys", "trace and schedule axes cannot be linked",
                           found=list(keys))
            paths = _paths(values, source, where, keys[0])
            values = [str(p) for p in paths]
        else:
            for i, key in enumerate(keys):
                check_key_path(key, source, f"{where}.keys[{i}]" if keys != (name,) else where,
                               base_design.components)
        axes.append(Axis(name, tuple(keys), tuple(values)))
    all_keys = [k for a in axes for k in a.keys]
    dup = sorted({k for k in all_keys if all_keys.count(k) > 1})
    if dup:
        raise _err(source, "axes", "a key is set by more than one axis", found=dup)
    if not any(a.kind == TRACE for a in axes):
        raise _err(source, "axes.trace", "a sweep needs a trace axis",
                   expected="trace: [path/to/trace.npz, ...] (relative to the sweep file)")

    names = [a.name for a in axes]
    # texts a condition may compare an axis with: its values, and file stems for paths
    words = {a.name: {str(v) for v in a.values} | {Path(str(v)).stem for v in a.values}
             for a in axes}
    constraints = data.get("constraints") or {}
    if not isinstance(constraints, dict):
        raise _err(source, "constraints", "must be a mapping", found=constraints)
    for key in constraints:
        if key not in CONSTRAINT_KEYS:
            raise _unknown(source, f"constraints.{key}", key, CONSTRAINT_KEYS)
    skip_invalid = constraints.get("skip_invalid", False)
    if not isinstance(skip_invalid, bool):
        raise _err(source, "constraints.skip_invalid", "must be true or false", found=skip_invalid)
    where_conds = _conditions(constraints.get("where"), names, source, "constraints.where", words)

    metrics = data.get("metrics", list(DEFAULT_METRICS))
    if not isinstance(metrics, list) or not metrics:
        raise _err(source, "metrics", "must be a non-empty list of metric names", found=metrics)
    for i, m in enumerate(metrics):
        if m not in SCALAR_METRICS:
            raise _err(source, f"metrics[{i}]",
                       f"unknown metric '{m}'" + suggest(m, SCALAR_METRICS),
                       expected="a number in Result.total: " + ", ".join(SCALAR_METRICS))

    scheduler = data.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, str):
        raise _err(source, "scheduler", "must be an address such as tcp://HOST:8786",
                   found=scheduler)

    debug = data.get("debug") or {}
    if not isinstance(debug, dict):
        raise _err(source, "debug", "must be a mapping", found=debug)
    for key in debug:
        if key not in DEBUG_KEYS:
            raise _unknown(source, f"debug.{key}", key, DEBUG_KEYS)
    debug_out: dict[str, Any] = {}
    for key in ("fail_where", "crash_where"):
        if key in debug:
            conds = _conditions(debug[key], names, source, f"debug.{key}")
            debug_out[key] = [c.text for c in conds]
    if "sleep_s" in debug:
        if not _number(debug["sleep_s"]) or debug["sleep_s"] < 0:
            raise _err(source, "debug.sleep_s", "must be a number >= 0 (s)", found=debug["sleep_s"])
        debug_out["sleep_s"] = float(debug["sleep_s"])

    name = data.get("name", source.stem)
    if not isinstance(name, str) or not name:
        raise _err(source, "name", "must be a non-empty string", found=name)
    return Sweep(name=name, source=source.resolve(), base=base, baseline=baseline,
                 fidelity=fidelity, axes=tuple(axes), metrics=tuple(metrics),
                 skip_invalid=skip_invalid, where=where_conds, scheduler=scheduler,
                 description=str(data.get("description", "")), debug=debug_out,
                 images=images)
