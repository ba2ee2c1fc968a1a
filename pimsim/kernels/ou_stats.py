"""Zero input bit-slices per operation unit (OU) and per crossbar (numba + reference).

A crossbar of ``tile_rows`` rows is driven one input bit per read cycle (bit-serial DAC).
Its rows are cut into OUs of ``ou_rows`` consecutive rows (the last may be partial). For
input bit ``b`` of one input vector, an OU's *bit-slice* is zero when bit ``b`` is 0 on
every row of the OU: its wordlines need not be driven (ERA-BS run-time skipping). The
crossbar's whole bit-slice is zero when all its OUs' are: the read cycle can be skipped.

Input: ``acts[M, rows]`` int64 unsigned values of ``bits`` bits, one unrolled (im2col)
input vector per row; rows ``[t * tile_rows, (t + 1) * tile_rows)`` feed row tile ``t``.
Output per row tile, int64 counts over (vector, bit):

* ``zero_ou[T]``: zero OU bit-slices;
* ``zero_ou_rows[T]``: rows of zero OU bit-slices (DAC drives saved);
* ``zero_xb[T]``: (vector, bit) pairs whose whole crossbar bit-slice is zero.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def ou_zero_counts(acts, bits, tile_rows, ou_rows):
    """``(zero_ou[T], zero_ou_rows[T], zero_xb[T])`` (see module doc)."""
    m, rows = acts.shape
    tiles = (rows + tile_rows - 1) // tile_rows
    zero_ou = np.zeros(tiles, np.int64)
    zero_ou_rows = np.zeros(tiles, np.int64)
    zero_xb = np.zeros(tiles, np.int64)
    full = (1 << bits) - 1
    for v in range(m):
        for t in range(tiles):
            r0 = t * tile_rows
            r1 = min(r0 + tile_rows, rows)
            tile_or = 0
            for o0 in range(r0, r1, ou_rows):
                o1 = min(o0 + ou_rows, r1)
                ou_or = 0
                for r in range(o0, o1):
                    ou_or |= acts[v, r]
                tile_or |= ou_or
                zeros = full & ~ou_or
                for b in range(bits):
                    if (zeros >> b) & 1:
                        zero_ou[t] += 1
                        zero_ou_rows[t] += o1 - o0
            zeros = full & ~tile_or
            for b in range(bits):
                zero_xb[t] += (zeros >> b) & 1
    return zero_ou, zero_ou_rows, zero_xb


def _reference(acts, bits, tile_rows, ou_rows):
    """Plain-numpy twin of :func:`ou_zero_counts`."""
    m, rows = acts.shape
    tiles = -(-rows // tile_rows)
    planes = (acts[:, :, None] >> np.arange(bits, dtype=np.int64)) & 1   # (M, rows, B)
    zero_ou = np.zeros(tiles, np.int64)
    zero_ou_rows = np.zeros(tiles, np.int64)
    zero_xb = np.zeros(tiles, np.int64)
    for t in range(tiles):
        r0, r1 = t * tile_rows, min((t + 1) * tile_rows, rows)
        zero_xb[t] = (planes[:, r0:r1].sum(axis=1) == 0).sum()
        for o0 in range(r0, r1, ou_rows):
            o1 = min(o0 + ou_rows, r1)
            z = (planes[:, o0:o1].sum(axis=1) == 0).sum()
            zero_ou[t] += z
            zero_ou_rows[t] += z * (o1 - o0)
    return zero_ou, zero_ou_rows, zero_xb


def ou_zero_stats(acts: np.ndarray, bits: int, tile_rows: int, ou_rows: int) -> dict:
    """Fractions per row tile for unsigned ``acts[M, rows]``.

    Returns ``{"ou": [T], "rows": [T], "xb": [T], "ous": [T]}``: zero OU bit-slices per
    (vector, bit, OU); zero-slice rows per (vector, bit, row); whole-crossbar zero slices
    per (vector, bit); and the OUs of each row tile. Fractions are 0 for ``M == 0``.
    """
    a = np.ascontiguousarray(acts, dtype=np.int64)
    if a.ndim != 2:
        raise ValueError(f"acts must be 2-D (got shape {a.shape})")
    if not 1 <= bits <= 32 or tile_rows < 1 or ou_rows < 1:
        raise ValueError(f"bits={bits}, tile_rows={tile_rows}, ou_rows={ou_rows} out of range")
    if a.size and (a.min() < 0 or a.max() >= (1 << bits)):
        raise ValueError(f"acts must hold unsigned {bits}-bit values")
    m, rows = a.shape
    zo, zr, zx = ou_zero_counts(a, bits, tile_rows, ou_rows)
    sizes = np.full(zo.size, tile_rows, np.int64)
    if zo.size and rows % tile_rows:
        sizes[-1] = rows % tile_rows
    ous = -(-sizes // ou_rows)
    n = max(m, 1) * bits
    return {"ou": zo / (n * ous) if m else np.zeros(zo.size),
            "rows": zr / (n * sizes) if m else np.zeros(zo.size),
            "xb": zx / n if m else np.zeros(zo.size), "ous": ous}
