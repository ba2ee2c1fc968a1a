"""Per-cell write counting for in-memory training (numba kernels + numpy references).

A layer's weights are an unrolled ``(groups, rows, cols)`` matrix of signed integers
(``|q| <= 2**(weight_bits-1) - 1``), tiled onto crossbars as in
:func:`pimsim.mapping.tile_layer` (no block-diagonal group packing): crossbar
``x = (g * row_tiles + r // xr) * col_tiles + c // wpr``, logical row ``r % xr``, whole
weights ``c % wpr`` side by side, ``cpw`` cells each.

Cells of one weight (``S = ceil(weight_bits / bits_per_cell)`` slices, most significant
slice first):

* offset (``differential=False``): ``u = q + 2**(weight_bits-1)`` sliced into ``S`` cells;
* differential: ``max(q, 0)`` sliced into cells ``0..S-1`` (positive columns) and
  ``max(-q, 0)`` into cells ``S..2S-1`` (negative columns).

Row swaps: ``row_map[x, lr]`` is the physical row of logical row ``lr`` in crossbar ``x``
(a permutation of ``0..xr-1``; logical rows past the used rows hold nothing: all cells
at level 0).

Write models: ``whole_row=False`` counts one write per cell whose level changes;
``whole_row=True`` rewrites every used cell of a crossbar row (the ``wpr`` weights of that
row segment x ``cpw``) once when any of its cells changes.

Outputs are accumulated in place: ``counts[x, phys_row, col]`` (int64) and
``rows_written[x]`` (int64: crossbar rows with at least one write in this call). The
return value is the number of cell writes of the call.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _level(q, j, slices, bits_per_cell, weight_bits, differential):
    """Programmed level (0 .. 2**bits_per_cell - 1) of cell ``j`` of weight ``q``."""
    mask = (1 << bits_per_cell) - 1
    if differential:
        if j < slices:
            v = q if q > 0 else 0
        else:
            v = -q if q < 0 else 0
            j -= slices
    else:
        v = q + (1 << (weight_bits - 1))
    return (v >> ((slices - 1 - j) * bits_per_cell)) & mask


@njit(cache=True)
def count_writes(q_old, q_new, row_map, counts, rows_written, weight_bits, bits_per_cell,
                 differential, whole_row, xr, wpr):
    """Accumulate the writes of reprogramming ``q_old`` -> ``q_new`` (both int32 ``(G, R, C)``)."""
    g_n, r_n, c_n = q_old.shape
    slices = (weight_bits + bits_per_cell - 1) // bits_per_cell
    cpw = 2 * slices if differential else slices
    rt_n = (r_n + xr - 1) // xr
    ct_n = (c_n + wpr - 1) // wpr
    mask = (1 << bits_per_cell) - 1
    wmask = (1 << weight_bits) - 1
    total = 0
    for g in range(g_n):
        for r in range(r_n):
            rt = r // xr
            lr = r - rt * xr
            for ct in range(ct_n):
                x = (g * rt_n + rt) * ct_n + ct
                pr = row_map[x, lr]
                c0 = ct * wpr
                c1 = min(c0 + wpr, c_n)
                changed = 0
                for c in range(c0, c1):
                    a = q_old[g, r, c]
                    b = q_new[g, r, c]
                    if a == b:
                        continue
                    col = (c - c0) * cpw
                    # XOR of the stored words: a cell changes iff its slice of the XOR is non-zero
                    if differential:
                        d_pos = (a if a > 0 else 0) ^ (b if b > 0 else 0)
                        d_neg = (-a if a < 0 else 0) ^ (-b if b < 0 else 0)
                    else:
                        # q + 2**(n-1) is q's n-bit two's complement with bit n-1 flipped,
                        # so within n bits the biased words differ exactly where q's do
                        d_pos = (a ^ b) & wmask
                        d_neg = 0
                    # walk the slices from the least significant end and stop when the
                    # rest of the XOR is zero: small updates touch only the low slices
                    j = slices - 1
                    while d_pos != 0:
                        if d_pos & mask:
                            changed += 1
                            if not whole_row:
                                counts[x, pr, col + j] += 1
                        d_pos >>= bits_per_cell
                        j -= 1
                    j = 2 * slices - 1
                    while d_neg != 0:
                        if d_neg & mask:
                            changed += 1
                            if not whole_row:
                                counts[x, pr, col + j] += 1
                        d_neg >>= bits_per_cell
                        j -= 1
                if changed:
                    rows_written[x] += 1
                    if whole_row:
                        used = (c1 - c0) * cpw
                        for k in range(used):
                            counts[x, pr, k] += 1
                        total += used
                    else:
                        total += changed
    return total


def _cells_reference(q, weight_bits, bits_per_cell, differential):
    """Levels ``(..., cpw)`` of signed ints ``q`` (numpy; shared by the references)."""
    slices = -(-weight_bits // bits_per_cell)
    shifts = ((slices - 1 - np.arange(slices)) * bits_per_cell).astype(np.int64)
    mask = (1 << bits_per_cell) - 1
    q = np.asarray(q, dtype=np.int64)[..., None]
    if differential:
        pos = (np.maximum(q, 0) >> shifts) & mask
        neg = (np.maximum(-q, 0) >> shifts) & mask
        return np.concatenate([pos, neg], axis=-1)
    return ((q + (1 << (weight_bits - 1))) >> shifts) & mask


def physical_levels_reference(q, row_map, n_xb, xr, xc, weight_bits, bits_per_cell,
                              differential, wpr):
    """Levels of every physical cell ``(n_xb, xr, xc)`` holding ``q`` (G, R, C); unused = 0.

    Also returns a bool ``used`` map of the cells that hold a weight.
    """
    g_n, r_n, c_n = q.shape
    cells = _cells_reference(q, weight_bits, bits_per_cell, differential)   # (G, R, C, cpw)
    cpw = cells.shape[-1]
    rt_n, ct_n = -(-r_n // xr), -(-c_n // wpr)
    out = np.zeros((n_xb, xr, xc), np.int64)
    used = np.zeros((n_xb, xr, xc), bool)
    g, r, c = np.meshgrid(np.arange(g_n), np.arange(r_n), np.arange(c_n), indexing="ij")
    x = (g * rt_n + r // xr) * ct_n + c // wpr
    pr = row_map[x, r % xr]
    col = (c % wpr)[..., None] * cpw + np.arange(cpw)
    out[x[..., None], pr[..., None], col] = cells
    used[x[..., None], pr[..., None], col] = True
    return out, used


def _reference(q_old, q_new, row_map, counts, rows_written, weight_bits, bits_per_cell,
               differential, whole_row, xr, wpr):
    """Plain-numpy twin of :func:`count_writes` (via whole physical level maps)."""
    n_xb, _, xc = counts.shape
    old, used = physical_levels_reference(q_old, row_map, n_xb, xr, xc, weight_bits,
                                          bits_per_cell, differential, wpr)
    new, _ = physical_levels_reference(q_new, row_map, n_xb, xr, xc, weight_bits,
                                       bits_per_cell, differential, wpr)
    return _apply(old, new, used, counts, rows_written, whole_row)


def _apply(old, new, used, counts, rows_written, whole_row):
    diff = (old != new) & used
    row_hit = diff.any(axis=2)                            # (n_xb, xr)
    rows_written += row_hit.sum(axis=1)
    if whole_row:
        add = used & row_hit[:, :, None]
    else:
        add = diff
    counts += add
    return int(add.sum())


@njit(cache=True)
def remap_writes(q, old_map, new_map, counts, rows_written, weight_bits, bits_per_cell,
                 differential, whole_row, xr, wpr):
    """Writes of moving logical rows from ``old_map`` to ``new_map`` (row swapping).

    Every physical row whose content changes is reprogrammed from what it held (the
    logical row ``old_map`` put there, or nothing) to what ``new_map`` puts there.
    """
    g_n, r_n, c_n = q.shape
    n_xb = old_map.shape[0]
    slices = (weight_bits + bits_per_cell - 1) // bits_per_cell
    cpw = 2 * slices if differential else slices
    rt_n = (r_n + xr - 1) // xr
    ct_n = (c_n + wpr - 1) // wpr
    inv_old = np.empty(xr, np.int64)
    zero = np.int32(0)
    total = 0
    for x in range(n_xb):
        ct = x % ct_n
        grt = x // ct_n
        rt = grt % rt_n
        g = grt // rt_n
        c0 = ct * wpr
        c1 = min(c0 + wpr, c_n)
        used = (c1 - c0) * cpw
        r0 = rt * xr
        nrows = min(xr, r_n - r0)
        for lr in range(xr):
            inv_old[old_map[x, lr]] = lr
        for lr in range(xr):
            pr = new_map[x, lr]
            prev = inv_old[pr]
            if prev == lr:
                continue
            changed = 0
            for c in range(c0, c1):
                a = q[g, r0 + prev, c] if prev < nrows else zero
                b = q[g, r0 + lr, c] if lr < nrows else zero
                col = (c - c0) * cpw
                for j in range(cpw):
                    # an empty row is all level 0, which is not the level of q=0 in offset
                    la = _level(a, j, slices, bits_per_cell, weight_bits, differential) \
                        if prev < nrows else 0
                    lb = _level(b, j, slices, bits_per_cell, weight_bits, differential) \
                        if lr < nrows else 0
                    if la != lb:
                        changed += 1
                        if not whole_row:
                            counts[x, pr, col + j] += 1
            if changed:
                rows_written[x] += 1
                if whole_row:
                    for k in range(used):
                        counts[x, pr, k] += 1
                    total += used
                else:
                    total += changed
    return total


def remap_writes_reference(q, old_map, new_map, counts, rows_written, weight_bits,
                           bits_per_cell, differential, whole_row, xr, wpr):
    """Plain-numpy twin of :func:`remap_writes`."""
    n_xb, _, xc = counts.shape
    old, used_old = physical_levels_reference(q, old_map, n_xb, xr, xc, weight_bits,
                                              bits_per_cell, differential, wpr)
    new, used = physical_levels_reference(q, new_map, n_xb, xr, xc, weight_bits,
                                          bits_per_cell, differential, wpr)
    # a physical row's used columns are the same whichever logical row of the tile it holds
    used_cols = used.any(axis=1, keepdims=True) | used_old.any(axis=1, keepdims=True)
    return _apply(old, new, np.broadcast_to(used_cols, used.shape), counts, rows_written,
                  whole_row)
