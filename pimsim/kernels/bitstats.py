"""Bit-level statistics of activations and weight slices, per crossbar row group.

Activation bit-slice skipping streams an input one bit per cycle into a group of crossbar
rows (a whole crossbar, or an operation unit's rows); a cycle whose bit-slice is zero on
every row of the group can be skipped. Weight slices stored ``bits_per_cell`` bits per
cell are zero-valued cells; a slice that is zero over a whole group's rows in a column
contributes nothing to that column's partial sum.

Conventions: rows are the crossbar rows (the unrolled input vector); row ``r`` belongs to
group ``r // group``; the last group may be partial. Bit ``b`` / slice ``s`` are counted
from the least significant end. Counts are int64; the ``*_stats`` wrappers turn them into
fractions (NaN where nothing was counted, e.g. zero samples).
"""

from __future__ import annotations

import numpy as np
from numba import njit

MAX_BITS = 32
"""Widest value handled; counts use int64 so 32-bit unsigned values fit."""


# ---------------------------------------------------------------------------------
# Activations: (N samples, rows) unsigned ints of ``bits`` bits
# ---------------------------------------------------------------------------------


@njit(cache=True)
def act_bit_zero_counts(acts: np.ndarray, bits: int, group: int) -> tuple[np.ndarray, np.ndarray]:
    """``(zero_bits[G, B], zero_slices[G, B])`` for int64 ``acts[N, rows]``.

    ``zero_bits[g, b]``: (sample, row in g) pairs whose bit b is 0.
    ``zero_slices[g, b]``: samples whose bit b is 0 on every row of group g.
    """
    n, rows = acts.shape
    groups = (rows + group - 1) // group
    zero_bits = np.zeros((groups, bits), np.int64)
    zero_slices = np.zeros((groups, bits), np.int64)
    ones = np.zeros(bits, np.int64)
    for s in range(n):
        for g in range(groups):
            r0 = g * group
            r1 = min(r0 + group, rows)
            ones[:] = 0
            for r in range(r0, r1):
                v = acts[s, r]
                for b in range(bits):
                    ones[b] += (v >> b) & 1
            for b in range(bits):
                zero_bits[g, b] += (r1 - r0) - ones[b]
                if ones[b] == 0:
                    zero_slices[g, b] += 1
    return zero_bits, zero_slices


def act_bit_zero_counts_reference(acts: np.ndarray, bits: int,
                                  group: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain-numpy twin of :func:`act_bit_zero_counts`."""
    n, rows = acts.shape
    groups = -(-rows // group)
    planes = (acts[:, :, None] >> np.arange(bits, dtype=np.int64)) & 1  # (N, rows, B)
    zero_bits = np.zeros((groups, bits), np.int64)
    zero_slices = np.zeros((groups, bits), np.int64)
    for g in range(groups):
        part = planes[:, g * group:(g + 1) * group, :]
        zero_bits[g] = (part == 0).sum(axis=(0, 1))
        zero_slices[g] = (part.sum(axis=1) == 0).sum(axis=0)
    return zero_bits, zero_slices


def act_bit_stats(acts: np.ndarray, bits: int, group: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Fractions for unsigned ``acts[N, rows]`` of ``bits`` bits, rows grouped by ``group``.

    Returns ``(zero_bit_frac[G, B], zero_slice_frac[G, B], skip_frac)``: the fraction of
    zero bits per group and bit position; the fraction of samples whose whole-group
    bit-slice is zero; and that fraction over all (sample, group, bit) — the share of
    input cycles that activation bit-slice skipping removes.
    """
    a = _as_int64(acts, bits, "acts")
    zero_bits, zero_slices = act_bit_zero_counts(a, bits, _check_group(group))
    n, rows = a.shape
    sizes = _group_sizes(rows, group)
    zero_bit_frac = _frac(zero_bits, (n * sizes)[:, None])
    zero_slice_frac = _frac(zero_slices, np.full((len(sizes), 1), n))
    total = n * len(sizes) * bits
    skip = float(zero_slices.sum() / total) if total else float("nan")
    return zero_bit_frac, zero_slice_frac, skip


# ---------------------------------------------------------------------------------
# Weights: (rows, cols) unsigned offset-encoded ints, sliced bits_per_cell wide
# ---------------------------------------------------------------------------------


@njit(cache=True)
def weight_slice_zero_counts(w: np.ndarray, bits: int, bits_per_cell: int,
                             group: int) -> tuple[np.ndarray, np.ndarray]:
    """``(zero_cells[G, S], zero_cols[G, S])`` for int64 ``w[rows, cols]``.

    ``zero_cells[g, s]``: (row in g, column) cells whose slice s is 0.
    ``zero_cols[g, s]``: columns whose slice s is 0 on every row of group g.
    """
    rows, cols = w.shape
    slices = (bits + bits_per_cell - 1) // bits_per_cell
    groups = (rows + group - 1) // group
    mask = (1 << bits_per_cell) - 1
    zero_cells = np.zeros((groups, slices), np.int64)
    zero_cols = np.zeros((groups, slices), np.int64)
    nonzero = np.zeros((cols, slices), np.int64)
    for g in range(groups):
        r0 = g * group
        r1 = min(r0 + group, rows)
        nonzero[:, :] = 0
        for r in range(r0, r1):  # row-major walk: contiguous reads
            for c in range(cols):
                v = w[r, c]
                for s in range(slices):
                    if (v >> (s * bits_per_cell)) & mask:
                        nonzero[c, s] += 1
        for c in range(cols):
            for s in range(slices):
                zero_cells[g, s] += (r1 - r0) - nonzero[c, s]
                if nonzero[c, s] == 0:
                    zero_cols[g, s] += 1
    return zero_cells, zero_cols


def weight_slice_zero_counts_reference(w: np.ndarray, bits: int, bits_per_cell: int,
                                       group: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain-numpy twin of :func:`weight_slice_zero_counts`."""
    rows, cols = w.shape
    slices = -(-bits // bits_per_cell)
    groups = -(-rows // group)
    shifts = np.arange(slices, dtype=np.int64) * bits_per_cell
    cells = (w[:, :, None] >> shifts) & ((1 << bits_per_cell) - 1)  # (rows, cols, S)
    zero_cells = np.zeros((groups, slices), np.int64)
    zero_cols = np.zeros((groups, slices), np.int64)
    for g in range(groups):
        part = cells[g * group:(g + 1) * group]
        zero_cells[g] = (part == 0).sum(axis=(0, 1))
        zero_cols[g] = ((part != 0).sum(axis=0) == 0).sum(axis=0)
    return zero_cells, zero_cols


def offset_encode(wq: np.ndarray, bits: int) -> np.ndarray:
    """Signed ``bits``-bit weights -> unsigned by adding ``2**(bits-1)`` (offset encoding)."""
    return np.asarray(wq, dtype=np.int64) + (1 << (bits - 1))


def weight_slice_stats(w: np.ndarray, bits: int, bits_per_cell: int,
                       group: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Fractions for unsigned ``w[rows, cols]``: ``(zero_cell_frac[G, S],
    zero_col_frac[G, S], skip_frac)`` — zero cells per group and slice, columns whose
    whole-group slice is zero, and that over all (group, column, slice).
    """
    a = _as_int64(w, bits, "w")
    if not 1 <= bits_per_cell <= bits:
        raise ValueError(f"bits_per_cell={bits_per_cell} must be in 1..{bits}")
    zero_cells, zero_cols = weight_slice_zero_counts(a, bits, bits_per_cell, _check_group(group))
    rows, cols = a.shape
    sizes = _group_sizes(rows, group)
    zero_cell_frac = _frac(zero_cells, (cols * sizes)[:, None])
    zero_col_frac = _frac(zero_cols, np.full((len(sizes), 1), cols))
    total = cols * zero_cols.size
    skip = float(zero_cols.sum() / total) if total else float("nan")
    return zero_cell_frac, zero_col_frac, skip


# ---------------------------------------------------------------------------------


def _check_group(group: int) -> int:
    if int(group) < 1:
        raise ValueError(f"group={group} must be >= 1")
    return int(group)


def _as_int64(x: np.ndarray, bits: int, what: str) -> np.ndarray:
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits={bits} must be in 1..{MAX_BITS}")
    a = np.ascontiguousarray(x, dtype=np.int64)
    if a.ndim != 2:
        raise ValueError(f"{what} must be 2-D (got shape {a.shape})")
    if a.size and (a.min() < 0 or a.max() >= (1 << bits)):
        raise ValueError(f"{what} must hold unsigned {bits}-bit values")
    return a


def _group_sizes(rows: int, group: int) -> np.ndarray:
    groups = -(-rows // group)
    sizes = np.full(groups, group, np.int64)
    if groups and rows % group:
        sizes[-1] = rows % group
    return sizes


def _frac(count: np.ndarray, denom: np.ndarray) -> np.ndarray:
    denom = np.broadcast_to(denom, count.shape)
    out = np.full(count.shape, np.nan)
    np.divide(count, denom, out=out, where=denom > 0)
    return out
