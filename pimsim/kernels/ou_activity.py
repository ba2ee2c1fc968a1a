"""Data statistics of operation-unit (OU) reads from real activations and weights.

Two numba kernels, each with a plain-numpy ``_reference`` it is tested against. Rows are
the crossbar rows of one layer's unrolled (im2col) weight matrix; row tile ``t`` is rows
``[t * tile_rows, (t + 1) * tile_rows)``; its OU row groups are ``ou_rows`` consecutive rows
(the last of a tile may be partial), numbered tile by tile (``groups``).

* :func:`input_activity` -- inputs ``acts[M, rows]`` (unsigned ints) streamed
  ``dac_bits`` per read cycle over ``cycles`` cycles (least significant digit first):
  ``drive[rows]``: sum over vectors and cycles of the digit / full-scale digit (the row's
  normalized drive voltage; for a 1-bit DAC the number of 1 bits);
  ``nonzero[rows]``: digits that are not zero (rows a DAC actually drives);
  ``zero[groups]``: (vector, cycle) pairs whose digit is zero on every row of the OU row
  group (an OU read that zero skipping leaves out).
* :func:`weight_activity` -- cell levels ``levels[rows, cells]`` of one weight matrix in
  crossbar column order, cut into column tiles of ``xb_cells`` columns (one crossbar
  wide) and OU column groups of ``ou_cols``:
  ``gsum[rows, col_tiles]``: sum of the cells' relative conductance per row and column
  tile, ``g = g_min + (1 - g_min) x level / max_level`` (linear in level between the off
  and on conductance; first-order, NeuroSim / CiMLoop);
  ``nz_ous[groups, col_tiles]``, ``nz_cols[groups, col_tiles]``: OUs with at least one
  nonzero cell, and the columns of those OUs.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def n_groups(rows, tile_rows, ou_rows):
    """OU row groups of ``rows`` rows cut into tiles of ``tile_rows``."""
    n = 0
    for t0 in range(0, rows, tile_rows):
        t1 = min(t0 + tile_rows, rows)
        n += (t1 - t0 + ou_rows - 1) // ou_rows
    return n


@njit(cache=True)
def input_activity(acts, cycles, dac_bits, tile_rows, ou_rows):
    """``(drive[rows] float64, nonzero[rows] int64, zero[groups] int64)`` (module doc)."""
    m, rows = acts.shape
    mask = (1 << dac_bits) - 1
    full = float(mask)
    drive = np.zeros(rows, np.float64)
    nonzero = np.zeros(rows, np.int64)
    zero = np.zeros(n_groups(rows, tile_rows, ou_rows), np.int64)
    ors = np.zeros(cycles, np.int64)
    for v in range(m):
        g = 0
        for t0 in range(0, rows, tile_rows):
            t1 = min(t0 + tile_rows, rows)
            for o0 in range(t0, t1, ou_rows):
                o1 = min(o0 + ou_rows, t1)
                ors[:] = 0
                for r in range(o0, o1):
                    x = acts[v, r]
                    for c in range(cycles):
                        d = (x >> (c * dac_bits)) & mask
                        if d:
                            ors[c] = 1
                            nonzero[r] += 1
                            drive[r] += d / full
                for c in range(cycles):
                    if ors[c] == 0:
                        zero[g] += 1
                g += 1
    return drive, nonzero, zero


def input_activity_reference(acts, cycles, dac_bits, tile_rows, ou_rows):
    """Plain-numpy twin of :func:`input_activity`."""
    a = np.asarray(acts, dtype=np.int64)
    mask = (1 << dac_bits) - 1
    digits = (a[:, :, None] >> (np.arange(cycles, dtype=np.int64) * dac_bits)) & mask
    drive = (digits / mask).sum(axis=(0, 2))
    nonzero = (digits != 0).sum(axis=(0, 2))
    zero = []
    rows = a.shape[1]
    for t0 in range(0, rows, tile_rows):
        t1 = min(t0 + tile_rows, rows)
        for o0 in range(t0, t1, ou_rows):
            o1 = min(o0 + ou_rows, t1)
            zero.append(int((digits[:, o0:o1, :].sum(axis=1) == 0).sum()))
    return drive, nonzero, np.array(zero, dtype=np.int64)


@njit(cache=True)
def weight_activity(levels, max_level, g_min, tile_rows, ou_rows, xb_cells, ou_cols):
    """``(gsum[rows, col_tiles], nz_ous[groups, col_tiles], nz_cols[groups, col_tiles])``."""
    rows, cells = levels.shape
    tiles_c = (cells + xb_cells - 1) // xb_cells
    gsum = np.zeros((rows, tiles_c), np.float64)
    groups = n_groups(rows, tile_rows, ou_rows)
    nz_ous = np.zeros((groups, tiles_c), np.int64)
    nz_cols = np.zeros((groups, tiles_c), np.int64)
    step = (1.0 - g_min) / max_level
    for r in range(rows):
        for c in range(cells):
            gsum[r, c // xb_cells] += g_min + step * levels[r, c]
    g = 0
    for t0 in range(0, rows, tile_rows):
        t1 = min(t0 + tile_rows, rows)
        for o0 in range(t0, t1, ou_rows):
            o1 = min(o0 + ou_rows, t1)
            for ct in range(tiles_c):
                c_end = min((ct + 1) * xb_cells, cells)
                for k0 in range(ct * xb_cells, c_end, ou_cols):
                    k1 = min(k0 + ou_cols, c_end)
                    live = False
                    for r in range(o0, o1):
                        for c in range(k0, k1):
                            if levels[r, c] != 0:
                                live = True
                                break
                        if live:
                            break
                    if live:
                        nz_ous[g, ct] += 1
                        nz_cols[g, ct] += k1 - k0
            g += 1
    return gsum, nz_ous, nz_cols


def weight_activity_reference(levels, max_level, g_min, tile_rows, ou_rows, xb_cells, ou_cols):
    """Plain-numpy twin of :func:`weight_activity`."""
    lv = np.asarray(levels, dtype=np.int64)
    rows, cells = lv.shape
    tiles_c = -(-cells // xb_cells)
    g = g_min + (1.0 - g_min) * lv / max_level
    gsum = np.stack([g[:, ct * xb_cells:(ct + 1) * xb_cells].sum(axis=1)
                     for ct in range(tiles_c)], axis=1)
    nz_ous, nz_cols = [], []
    for t0 in range(0, rows, tile_rows):
        t1 = min(t0 + tile_rows, rows)
        for o0 in range(t0, t1, ou_rows):
            o1 = min(o0 + ou_rows, t1)
            ous, cols = [], []
            for ct in range(tiles_c):
                edges = list(range(ct * xb_cells, min((ct + 1) * xb_cells, cells), ou_cols))
                blocks = [lv[o0:o1, k: min(k + ou_cols, (ct + 1) * xb_cells, cells)]
                          for k in edges]
                ous.append(sum(1 for b in blocks if b.any()))
                cols.append(sum(b.shape[1] for b in blocks if b.any()))
            nz_ous.append(ous)
            nz_cols.append(cols)
    return gsum, np.array(nz_ous, dtype=np.int64), np.array(nz_cols, dtype=np.int64)
