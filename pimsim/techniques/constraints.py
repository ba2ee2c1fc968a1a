"""What fine-tuning may change in a layer's weights after a technique (numpy only).

A technique fixes a set of values every weight may take: its integer grid (the trace's
8-bit ``weight_q`` or the technique's ``bits``), its pruning mask (a pruned weight may only
be 0), its quantization format (exponent format: at most ``terms`` adjacent nonzero
bits), and the crossbar cells it released (a bit-flipped, released cell column must stay
all zero, or the packed mapping would be wrong). :class:`LevelConstraint` holds that set
for every weight as a small table: weights share a *pattern* (which constraints apply),
and ``levels[pattern, k + qmax]`` is the allowed integer nearest to the integer ``k``.
Fine-tuning (:mod:`pimsim.techniques.finetune`) trains float shadow weights and always
uses ``project(w)``, so every weight it returns satisfies the constraints exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.config.schema import Design
from pimsim.techniques.compact import cell_values
from pimsim.workload.layer import Layer
from pimsim.workload.unroll import unrolled_weight


def nearest_levels(allowed: np.ndarray, qmax: int) -> np.ndarray:
    """For every integer ``k`` in ``-qmax..qmax``: the value of the sorted, nonempty
    ``allowed`` integers nearest to ``k`` (ties: the smaller magnitude)."""
    a = np.asarray(allowed, np.int64)
    k = np.arange(-qmax, qmax + 1, dtype=np.int64)
    i = np.clip(np.searchsorted(a, k), 1, len(a) - 1) if len(a) > 1 else np.zeros_like(k)
    lo, hi = a[np.maximum(i - 1, 0)], a[i]
    d_lo, d_hi = np.abs(k - lo), np.abs(k - hi)
    pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & (np.abs(hi) < np.abs(lo)))
    return np.where(pick_hi, hi, lo)


@dataclass(frozen=True)
class LevelConstraint:
    """Allowed values of one layer's weights (trace shape): ``scale x`` an integer from
    ``levels[pattern]``. ``scale`` is the real value of one integer step (weight units)."""

    scale: float
    levels: np.ndarray          # int64 (patterns, 2 qmax + 1): nearest allowed integer
    pattern: np.ndarray         # int64, the weight's shape: row of ``levels`` per weight

    @property
    def qmax(self) -> int:
        return (self.levels.shape[1] - 1) // 2

    def integers(self, w: np.ndarray) -> np.ndarray:
        """The allowed integer nearest to each float weight (round, clip, then snap)."""
        k = np.clip(np.rint(np.asarray(w, np.float64) / self.scale), -self.qmax, self.qmax)
        return self.levels[self.pattern, k.astype(np.int64) + self.qmax]

    def project(self, w: np.ndarray) -> np.ndarray:
        """float32 weights satisfying the constraint (nearest allowed value)."""
        return (self.integers(w) * self.scale).astype(np.float32)

    def holds(self, w: np.ndarray) -> bool:
        """True when ``w`` already is an allowed value everywhere."""
        return bool(np.array_equal(self.project(w), np.asarray(w, np.float32)))


def grid_constraint(shape: tuple, scale: float, qmax: int,
                    keep: np.ndarray | None = None) -> LevelConstraint:
    """Every weight on the integer grid ``-qmax..qmax`` x ``scale``; weights where
    ``keep`` (trace shape) is False may only be 0 (a pruning mask)."""
    ints = np.arange(-qmax, qmax + 1, dtype=np.int64)
    levels = np.stack([np.zeros_like(ints), ints])
    pattern = (np.ones(shape, np.int64) if keep is None
               else np.asarray(keep, bool).astype(np.int64).reshape(shape))
    return LevelConstraint(float(scale), levels, pattern)


def cell_constraint(w: np.ndarray, layer: Layer, design: Design, scale: float, qmax: int,
                    representable: np.ndarray) -> LevelConstraint:
    """Constraint of bit-level techniques (ERA-BS): weights ``w`` (trace shape; integers
    ``rint(w / scale)``) as programmed after quantization and flips. Per row tile
    (``crossbar.rows`` rows) a cell column (one slice / polarity of one weight column)
    that is all zero is not mapped, so every weight of it must keep that cell at level
    0; besides, a weight's magnitude must be ``representable`` (bool ``[qmax + 1]``: the
    quantization format)."""
    ints = np.rint(np.asarray(w, np.float64) / scale).astype(np.int64)
    u = unrolled_weight(ints, layer)                                 # (g, rows, cols)
    cells = cell_values(u, design)                                   # (g, rows, cols, cpw)
    g, rows, cols, cpw = cells.shape
    xr = design.crossbar.rows
    dead = np.empty_like(cells, dtype=bool)
    for r0 in range(0, rows, xr):
        dead[:, r0:r0 + xr] = ~(cells[:, r0:r0 + xr] != 0).any(axis=1, keepdims=True)
    code = (dead.astype(np.int64) << np.arange(cpw, dtype=np.int64)).sum(-1)   # (g, rows, cols)
    uniq, pattern_u = np.unique(code, return_inverse=True)
    values = np.arange(-qmax, qmax + 1, dtype=np.int64)
    vcells = cell_values(values, design) != 0                        # (2 qmax + 1, cpw)
    vcode = (vcells.astype(np.int64) << np.arange(cpw, dtype=np.int64)).sum(-1)
    fmt_ok = np.asarray(representable, bool)[np.abs(values)]
    levels = []
    for c in uniq:
        allowed = values[fmt_ok & ((vcode & c) == 0)]
        if allowed.size == 0:      # cannot happen for weights a technique produced
            raise ValueError(f"layer {layer.name!r}: no weight value fits released cells "
                             f"pattern {int(c):#x}")
        levels.append(nearest_levels(allowed, qmax))
    pattern = pattern_u.reshape(g, rows, cols).transpose(0, 2, 1).reshape(np.shape(w))
    return LevelConstraint(float(scale), np.stack(levels), pattern.astype(np.int64))
