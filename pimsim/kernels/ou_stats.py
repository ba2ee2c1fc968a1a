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


# ---------------------------------------------------------------------------------
# Weights: zero cell columns per row tile and ERA-BS bit-flip release
# ---------------------------------------------------------------------------------


@njit(cache=True)
def _cells_of(w, bpc, slices, differential, bias, out):
    """Cell levels of one signed weight into ``out[cpw]``."""
    mask = (1 << bpc) - 1
    if differential:
        p = w if w > 0 else 0
        n = -w if w < 0 else 0
        for s in range(slices):
            out[s] = (p >> (s * bpc)) & mask
            out[slices + s] = (n >> (s * bpc)) & mask
    else:
        b = w + bias
        for s in range(slices):
            out[s] = (b >> (s * bpc)) & mask


@njit(cache=True)
def flip_release(wq, bpc, slices, differential, bias, tile_rows, budget, tolerance):
    """ERA-BS bit flip on signed ints ``wq[g, rows, cols]``.

    In each row tile, a cell column (slice of one weight column and polarity) with
    ``0 < nonzero cells <= budget`` whose cells' values have an L2 norm of at most
    ``tolerance`` x the weight column's L2 norm in the tile is zeroed (released).
    Returns ``(new wq, live[g, tiles, cols, cpw])``: live = nonzero after the flip.
    """
    g, rows, cols = wq.shape
    cpw = slices * 2 if differential else slices
    tiles = (rows + tile_rows - 1) // tile_rows
    out = wq.copy()
    live = np.zeros((g, tiles, cols, cpw), np.bool_)
    cells = np.zeros(cpw, np.int64)
    nz = np.zeros(cpw, np.int64)
    e2 = np.zeros(cpw, np.float64)
    release = np.zeros(cpw, np.bool_)
    for k in range(g):
        for t in range(tiles):
            r0 = t * tile_rows
            r1 = min(r0 + tile_rows, rows)
            for j in range(cols):
                nz[:] = 0
                e2[:] = 0.0
                norm2 = 0.0
                for r in range(r0, r1):
                    w = out[k, r, j]
                    norm2 += float(w) * float(w)
                    _cells_of(w, bpc, slices, differential, bias, cells)
                    for c in range(cpw):
                        if cells[c] != 0:
                            nz[c] += 1
                            v = float(cells[c] << ((c % slices) * bpc))
                            e2[c] += v * v
                any_release = False
                for c in range(cpw):
                    release[c] = (nz[c] > 0 and nz[c] <= budget
                                  and e2[c] <= tolerance * tolerance * norm2)
                    any_release = any_release or release[c]
                    live[k, t, j, c] = nz[c] > 0 and not release[c]
                if not any_release:
                    continue
                for r in range(r0, r1):
                    _cells_of(out[k, r, j], bpc, slices, differential, bias, cells)
                    pos = 0
                    neg = 0
                    for s in range(slices):
                        if not release[s]:
                            pos += cells[s] << (s * bpc)
                        if differential and not release[slices + s]:
                            neg += cells[slices + s] << (s * bpc)
                    out[k, r, j] = pos - neg if differential else pos - bias
    return out, live
