"""Compaction: a layer's surviving cells repacked onto fewer crossbars (a new ``Tiling``).

Techniques describe what survives as a boolean **cell mask** ``live[g, rows, cols, cpw]``
over one layer's unrolled weight matrices (group, input row, output column, cell of the
weight: its ``cells_per_weight`` slice columns; for differential weights the positive
slices first, then the negative ones). A crossbar column stores one cell column of one
row tile; it is released when none of its cells is live.

Packing rules (assumptions, docs/techniques.md):

* rows: ``"none"`` keeps the original row tiles; ``"global"`` drops input rows with no
  live cell in the group (channel pruning) and re-tiles the rest; ``"per_column_tile"``
  does that separately for each original column tile (PIM-Prune: each crossbar column
  block keeps its own rows). Dropped rows need an input index (gather) per used row.
* columns: within a row tile the live cell columns are packed side by side in order, so
  the tile needs ``ceil(live columns / crossbar cols)`` crossbars; a weight's slices may
  then straddle two crossbars (the IMA shift-and-add takes each column's destination
  and shift from an index). With nothing removed this is exactly ``tile_layer``.
"""

from __future__ import annotations

import numpy as np

from pimsim.config.schema import Design
from pimsim.mapping.tiling import Tiling, tile_layer
from pimsim.workload.layer import Layer

ROW_MODES = ("none", "global", "per_column_tile")


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def base_tile_of(tiling: Tiling, groups: int) -> np.ndarray:
    """Row tile of each crossbar of a plain ``tile_layer`` tiling (order: group, row, col)."""
    if tiling.groups_per_crossbar > 1:
        return np.zeros(tiling.crossbars, np.int64)
    return np.tile(np.repeat(np.arange(tiling.row_tiles), tiling.col_tiles), groups)


def compact_tiling(layer: Layer, design: Design, live: np.ndarray | None,
                   rows_mode: str = "none",
                   tile_live: np.ndarray | None = None) -> tuple[Tiling, np.ndarray]:
    """``(tiling, row tile of each crossbar)`` of ``layer`` holding only the ``live``
    cells (see module doc). Row tiles are numbered per group and column block. With
    ``rows_mode="none"`` the per-row-tile column liveness ``tile_live[g, tiles, cols,
    cpw]`` may be given instead of ``live`` (it is all that mode needs)."""
    base = tile_layer(layer, design)
    every = live.all() if live is not None else tile_live.all()
    if base.groups_per_crossbar > 1 or every:
        return base, base_tile_of(base, layer.groups)   # packed groups are left as they are
    xr, xc = design.crossbar.rows, design.crossbar.cols
    wpr = design.weights_per_crossbar_row
    g, wr, wc, cpw = (layer.groups, layer.weight_rows, layer.weight_cols,
                      design.cells_per_weight)
    pair = design.cells_per_conversion == 2     # a +/- pair is converted once
    slices = design.slices_per_weight
    rows, cols, outs, weights, convs, tile_of = [], [], [], [], [], []
    merges = 0
    max_rt = max_ct = 0
    for grp in range(g):
        col_blocks = _chunks(wc, wpr) if rows_mode == "per_column_tile" else [(0, wc)]
        tiles_per_col = np.zeros(wc, np.int64)      # row tiles a weight column appears in
        for c0, c1 in col_blocks:
            sub = live[grp, :, c0:c1] if live is not None else None   # (wr, cols, cpw)
            keep_rows = (np.arange(wr) if rows_mode == "none"
                         else np.flatnonzero(sub.any(axis=(1, 2))))
            rts = _chunks(len(keep_rows), xr)
            max_rt = max(max_rt, len(rts))
            for t, (r0, r1) in enumerate(rts):
                if live is None:
                    col_live = tile_live[grp, t, c0:c1].reshape(-1)
                else:
                    block = sub[keep_rows[r0:r1]] if rows_mode != "none" else sub[r0:r1]
                    col_live = block.any(axis=0).reshape(-1)     # cell columns, weight-major
                owner = np.repeat(np.arange(c0, c1), cpw)[col_live]   # non-decreasing
                n = owner.size
                if n == 0:
                    continue
                is_new = np.ones(n, bool)
                is_new[1:] = owner[1:] != owner[:-1]
                tiles_per_col[owner[is_new]] += 1
                chunk = np.arange(n) // xc
                n_chunks = int(chunk[-1]) + 1
                max_ct = max(max_ct, n_chunks)
                starts_chunk = np.arange(n) % xc == 0
                rows.extend([r1 - r0] * n_chunks)
                cols.extend(np.bincount(chunk, minlength=n_chunks).tolist())
                outs.extend(np.bincount(chunk, weights=is_new | starts_chunk,
                                        minlength=n_chunks).astype(np.int64).tolist())
                weights.extend(((r1 - r0) * np.bincount(chunk, weights=is_new, minlength=n_chunks))
                               .astype(np.int64).tolist())
                if pair:            # conversions: live (weight, slice) pairs per chunk
                    j = np.flatnonzero(col_live) % cpw
                    key = chunk * (wc * slices) + (owner - c0) * slices + j % slices
                    first = np.unique(key, return_index=True)[1]
                    convs.extend(np.bincount(chunk[first], minlength=n_chunks).tolist())
                else:
                    convs.extend(np.bincount(chunk, minlength=n_chunks).tolist())
                tile_of.extend([t] * n_chunks)
        merges += int(np.maximum(tiles_per_col - 1, 0).sum())
    if not rows:                 # everything removed: keep one minimal crossbar (a bias-only layer)
        rows, cols, outs, weights, convs, tile_of = [1], [1], [1], [0], [1], [0]
    arr = lambda v: np.asarray(v, dtype=np.int64)   # noqa: E731
    return Tiling(row_tiles=max(max_rt, 1), col_tiles=max(max_ct, 1), groups_per_crossbar=1,
                  rows=arr(rows), cols=arr(cols), outs=arr(outs), weights=arr(weights),
                  merges_per_position=merges, convs=arr(convs)), arr(tile_of)


def cell_values(wq: np.ndarray, design: Design) -> np.ndarray:
    """Cell levels ``[g, rows, cols, cpw]`` of signed integer weights ``wq[g, rows, cols]``
    under the design's signed-weight scheme and ``bits_per_cell``."""
    bpc = design.crossbar.bits_per_cell
    s = design.slices_per_weight
    shifts = np.arange(s, dtype=np.int64) * bpc
    mask = (1 << bpc) - 1
    w = np.asarray(wq, dtype=np.int32)
    shifts = shifts.astype(np.int32)
    if design.differential:
        pos = ((np.maximum(w, 0)[..., None] >> shifts) & mask).astype(np.uint8)
        neg = ((np.maximum(-w, 0)[..., None] >> shifts) & mask).astype(np.uint8)
        return np.concatenate([pos, neg], axis=-1)
    biased = w + (1 << (design.precision.weight_bits - 1))
    return ((biased[..., None] >> shifts) & mask).astype(np.uint8)
