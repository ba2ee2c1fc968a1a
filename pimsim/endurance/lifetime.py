"""Write statistics per layer and network, and lifetime until the endurance limit.

Lifetime is measured in *training runs*: how many times the same training run (same
policy, epochs, data) can be repeated on one chip before its most-written cell reaches the
endurance limit: ``endurance_cycles / max writes per cell per run``. Lifetime extension of
a policy = its lifetime / SGD's lifetime = SGD's max count / the policy's max count.
The endurance limit and its sources are in ``configs/endurance.yaml``.
"""

from __future__ import annotations

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
    import yaml

    if path is None:
        path = Path(__file__).resolve().parents[2] / "configs" / "endurance.yaml"
    with open(path, encoding="utf-8") as fh:
        cfg = yaml.safe_load(fh) or {}
    section = cfg.setdefault("endurance", {})
    try:
        limit = float(section.get("cycles", 1e8))    # YAML reads "1e8" as a string
    except (TypeError, ValueError):
        from pimsim.errors import ConfigError
        raise ConfigError("not a number", file=str(path), where="endurance.cycles",
                          found=section.get("cycles"), expected="cycles, e.g. 1.0e+8") from None
    section["cycles"] = limit
    if not ENDURANCE_MIN <= limit <= ENDURANCE_MAX:
        from pimsim.errors import ConfigError
        raise ConfigError("endurance limit outside the reported range", file=str(path),
                          where="endurance.cycles", found=limit,
                          expected=f"{ENDURANCE_MIN:g} .. {ENDURANCE_MAX:g}")
    return cfg
