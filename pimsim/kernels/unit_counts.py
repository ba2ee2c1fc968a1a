"""Per-unit work of the engine's ``fast`` fidelity (vectorized numpy + plain-Python twins;
not numba, for the reason in :mod:`pimsim.kernels.counts`).

The engine splits an MVM layer's output positions over its copies: each output row is
cut into chunks of consecutive positions, dealt to the copies round-robin in raster
order, and one copy's positions of one output row form one *unit*. Everything a unit
costs is arithmetic done here, before the event loop:

* :func:`positions_per_row` -- [copies, H] positions of each copy in each output row
  (rows cut into chunks of consecutive positions dealt round-robin);
* :func:`unit_counts` -- [units, len(ACTIONS)] operation counts of each unit, by the
  counting rules of :mod:`pimsim.kernels.counts` with ``P`` = the unit's positions
  (position-independent actions -- router, activation, pooling, residual adds, off-chip
  -- are zero here: the engine charges them per row as data moves);
* :func:`split_even` -- an integer total split over parts, so per-row shares of a
  per-image count sum back to it exactly.

All counts are whole numbers held in float64 (exact below 2**53), so summing units in any
order gives exactly the per-image totals of the closed form.
"""

from __future__ import annotations

import math

import numpy as np

from pimsim.kernels.counts import (A_TSA, N_ACTIONS, _layer_xbars, _position_reference,
                                   copy_geometry, mvm_columns)


def positions_per_row(height: int, width: int, copies: int, chunk: int = 1) -> np.ndarray:
    """[copies, height] int64: positions of output row ``r`` that copy ``k`` computes.

    Each row is cut into chunks of ``chunk`` consecutive positions (the last one shorter);
    chunks are dealt to the copies round-robin in raster order.
    """
    out = np.zeros((max(copies, 0), height), dtype=np.int64)
    if copies <= 0 or height <= 0 or width <= 0:
        return out
    per_row = -(-width // chunk)
    size = np.full(per_row, chunk, dtype=np.int64)
    size[-1] = width - (per_row - 1) * chunk
    j = np.arange(height * per_row)                  # chunk j is row j // per_row
    np.add.at(out, (j % copies, j // per_row), np.tile(size, height))
    return out


def unit_counts(unit_layer, unit_positions, layer_ptr, xb_rows, xb_cols, xb_outs, merges,
                input_cycles, input_bits, output_bits, ou_rows=0, ou_cols=0) -> np.ndarray:
    """[units, N_ACTIONS] counts of each unit (``unit_positions`` positions of ``unit_layer``).

    ``layer_ptr`` / ``xb_*`` are the CSR crossbar arrays of one copy per layer (as for
    :func:`pimsim.kernels.counts.layer_counts`); ``merges`` [layers] row-tile merges per
    position; ``ou_rows`` x ``ou_cols`` the operation unit (0: the whole crossbar).
    """
    geo = copy_geometry(layer_ptr, xb_rows, xb_cols, xb_outs, ou_rows, ou_cols)
    lay = np.asarray(unit_layer, dtype=np.int64)
    p = np.asarray(unit_positions, dtype=np.float64)
    out = np.zeros((lay.size, N_ACTIONS), dtype=np.float64)
    for a, v in mvm_columns(p, geo[lay], input_cycles, input_bits, output_bits).items():
        out[:, a] = v
    out[:, A_TSA] = p * np.asarray(merges, dtype=np.float64)[lay]
    return out


def split_even(total: int, parts: int) -> np.ndarray:
    """int64[parts]: ``total`` split into near-equal whole shares that sum to ``total``."""
    if parts <= 0:
        return np.zeros(0, dtype=np.int64)
    edges = (total * np.arange(parts + 1, dtype=np.int64)) // parts
    return np.diff(edges)


# -- plain-Python references (position by position, unit by unit), for the tests --------

def _positions_per_row_reference(height: int, width: int, copies: int,
                                 chunk: int = 1) -> np.ndarray:
    """Chunk-by-chunk twin of :func:`positions_per_row`."""
    out = np.zeros((max(copies, 0), height), dtype=np.int64)
    if copies <= 0 or width <= 0:
        return out
    per_row = (width + chunk - 1) // chunk
    j = 0
    for r in range(height):
        for c in range(per_row):
            out[j % copies, r] += min(chunk, width - c * chunk)
            j += 1
    return out


def _reference(unit_layer, unit_positions, layer_ptr, xb_rows, xb_cols, xb_outs, merges,
               input_cycles, input_bits, output_bits, ou_rows=0, ou_cols=0):
    """Unit-by-unit twin of :func:`unit_counts`: one position of the unit's layer counted
    read by read (:func:`pimsim.kernels.counts._position_reference`), times its positions."""
    n = len(unit_layer)
    out = np.zeros((n, N_ACTIONS), dtype=np.float64)
    per_position: dict[int, dict[int, float]] = {}      # layer -> one position's counts
    for u in range(n):
        layer = int(unit_layer[u])
        p = float(unit_positions[u])
        if layer not in per_position:
            per_position[layer] = _position_reference(
                _layer_xbars(layer_ptr, xb_rows, xb_cols, xb_outs, layer),
                input_cycles, input_bits, output_bits, ou_rows, ou_cols)
        for a, v in per_position[layer].items():
            out[u, a] = p * v
        out[u, A_TSA] = p * merges[layer]
    return out


def _split_even_reference(total: int, parts: int) -> np.ndarray:
    """Share-by-share twin of :func:`split_even`, by error accumulation (Bresenham): each
    part adds ``total`` to a running remainder and takes one whole unit per ``parts`` in it,
    so after part ``i`` the shares given sum to ``floor(total x (i + 1) / parts)``."""
    out = []
    rem = 0
    for _ in range(max(parts, 0)):
        share, rem = divmod(rem + total, parts)
        out.append(share)
    return np.array(out, dtype=np.int64)


def unit_reads(positions: int, cycles: int, keep: float = 1.0) -> int:
    """Read cycles a unit steps: ``positions x cycles``, or with a technique's skipped
    fraction of cycles (``keep = 1 - skip_cycles``) ``ceil(positions x cycles x keep)``
    -- the closed form's rule (``pimsim.sim.analytic.stage_times_ns``) applied per unit."""
    dense = positions * cycles
    if keep == 1.0:
        return dense
    return int(math.ceil(dense * keep))
