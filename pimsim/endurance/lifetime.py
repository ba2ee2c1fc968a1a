"""Write statistics per layer and network, and lifetime until the endurance limit.

Lifetime is measured in *training runs*: how many times the same training run (same
policy, epochs, data) can be repeated on one chip before its most-written cell reaches the
endurance limit: ``endurance_cycles / max writes per cell per run``. Lifetime extension of
a policy = its lifetime / SGD's lifetime = SGD's max count / the policy's max count.
The endurance limit and its sources are in ``configs/endurance.yaml``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ENDURANCE_MIN, ENDURANCE_MAX = 1e6, 1e12
"""Range of reported ReRAM write endurance (cycles); configs/endurance.yaml cites sources."""

HIST_BINS = 16


@dataclass(frozen=True)
class WriteStats:
    """Writes per cell of one layer (or the network): plain numbers."""

    name: str
    cells: int                   # cells holding weights
    total_writes: int
    mean: float                  # total writes / cells holding weights
    max: int
    p99: float
    hist_edges: tuple[float, ...]
    hist_counts: tuple[int, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def write_stats(name: str, counts: np.ndarray, cells: int, total: int | None = None,
                bins: int = HIST_BINS) -> WriteStats:
    """Stats of per-cell counts ``counts`` (1-D, the cells that hold or held weights)."""
    counts = np.asarray(counts, np.int64).ravel()
    total = int(counts.sum()) if total is None else int(total)
    top = int(counts.max()) if counts.size else 0
    edges = np.linspace(0, max(top, 1), bins + 1)
    hist, _ = np.histogram(counts, bins=edges)
    return WriteStats(name=name, cells=int(cells), total_writes=total,
                      mean=total / cells if cells else 0.0, max=top,
                      p99=float(np.percentile(counts, 99)) if counts.size else 0.0,
                      hist_edges=tuple(float(e) for e in edges),
                      hist_counts=tuple(int(h) for h in hist))


def lifetime_runs(max_writes_per_run: float, endurance_cycles: float) -> float:
    """Training runs until the most-written cell reaches ``endurance_cycles`` (inf if none)."""
    if not ENDURANCE_MIN <= endurance_cycles <= ENDURANCE_MAX:
        raise ValueError(f"endurance {endurance_cycles:g} outside the reported range "
                         f"{ENDURANCE_MIN:g}..{ENDURANCE_MAX:g} cycles")
    return endurance_cycles / max_writes_per_run if max_writes_per_run > 0 else float("inf")


def extension(policy_max: float, sgd_max: float) -> float:
    """Lifetime extension vs SGD: ``sgd_max / policy_max`` (inf when the policy writes none)."""
    if policy_max <= 0:
        return float("inf")
    return sgd_max / policy_max


def load_endurance_config(path: str | Path | None = None) -> dict:
    """``configs/endurance.yaml`` (or ``path``) as a dict, with the limit range checked."""
    from pimsim.errors import ConfigError
    from pimsim.yamlio import load_yaml_file

    if path is None:
        path = Path(__file__).resolve().parents[2] / "configs" / "endurance.yaml"
    cfg = load_yaml_file(path, error=ConfigError, what="endurance settings file") or {}
    if not isinstance(cfg, dict):
        raise ConfigError("endurance settings must be a YAML mapping", file=str(path),
                          found=type(cfg).__name__, expected="endurance: {cycles: ...}")
    section = cfg.setdefault("endurance", {})
    if section is None:
        section = cfg["endurance"] = {}
    if not isinstance(section, dict):
        raise ConfigError("must be a mapping", file=str(path), where="endurance",
                          found=type(section).__name__, expected="{cycles: ...}")
    try:
        cycles = section.get("cycles", 1e8)
        if isinstance(cycles, bool) or not isinstance(cycles, (int, float, str)):
            raise TypeError(cycles)
        limit = float(cycles)    # YAML reads "1e8" as a string
    except (TypeError, ValueError, OverflowError):
        raise ConfigError("not a number", file=str(path), where="endurance.cycles",
                          found=section.get("cycles"), expected="cycles, e.g. 1.0e+8") from None
    section["cycles"] = limit
    if not ENDURANCE_MIN <= limit <= ENDURANCE_MAX:
        raise ConfigError("endurance limit outside the reported range", file=str(path),
                          where="endurance.cycles", found=limit,
                          expected=f"{ENDURANCE_MIN:g} .. {ENDURANCE_MAX:g}")
    _check_training_sections(cfg, str(path))
    return cfg


#: training key -> (check, expected text); values are used as given by pimsim.training.
_TRAINING_KEYS = {
    "weight_headroom": (lambda v: _finite(v) and 0 < v <= 1e3, "a number in (0, 1000]"),
    "write_model": (lambda v: v in ("level", "row"), "level or row"),
    "update_rule": (lambda v: v in ("masked", "lazy", "accumulate"), "masked, lazy or accumulate"),
    "threads": (lambda v: type(v) is int and 1 <= v <= 1024, "an integer in 1..1024"),
}


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_training_sections(cfg: dict, file: str) -> None:
    """Type- and range-check the ``training`` and ``policies`` sections before any use."""
    from pimsim.errors import ConfigError

    for key in cfg:
        if key not in ("endurance", "training", "policies"):
            raise ConfigError(f"unknown section '{str(key)[:80]}'", file=file, where=str(key)[:80],
                              expected="endurance, training or policies")
    training = cfg.get("training") or {}
    if not isinstance(training, dict):
        raise ConfigError("must be a mapping", file=file, where="training",
                          found=type(training).__name__)
    for key, value in training.items():
        if key not in _TRAINING_KEYS:
            raise ConfigError(f"unknown key '{str(key)[:80]}'", file=file,
                              where=f"training.{str(key)[:80]}",
                              expected="one of " + ", ".join(_TRAINING_KEYS))
        ok, expected = _TRAINING_KEYS[key]
        if not ok(value):
            raise ConfigError("invalid value", file=file, where=f"training.{key}", found=value,
                              expected=expected)
    policies = cfg.get("policies") or {}
    if not isinstance(policies, dict):
        raise ConfigError("must be a mapping", file=file, where="policies",
                          found=type(policies).__name__, expected="policy name -> parameters")
    for name, params in policies.items():
        where = f"policies.{str(name)[:80]}"
        if params is None:
            continue
        if not isinstance(params, dict):
            raise ConfigError("must be a mapping of parameters", file=file, where=where,
                              found=type(params).__name__)
        for key, value in params.items():
            if not isinstance(key, str) or not _finite(value) or not 0 <= value <= 1e6:
                raise ConfigError("a policy parameter must be a number in [0, 1e6]", file=file,
                                  where=f"{where}.{str(key)[:80]}", found=value)
