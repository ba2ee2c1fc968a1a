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


def compact_tiling(layer: Layer, design: Design, live: np.ndarray,
                   rows_mode: str = "none") -> tuple[Tiling, np.ndarray]:
    """``(tiling, row tile of each crossbar)`` of ``layer`` holding only the ``live``
    cells (see module doc). Row tiles are numbered per group and column block."""
    base = tile_layer(layer, design)
    if base.groups_per_crossbar > 1 or live.all():
        return base, base_tile_of(base, layer.groups)   # packed groups are left as they are
    xr, xc = design.crossbar.rows, design.crossbar.cols
    wpr = design.weights_per_crossbar_row
    g, wr, wc, cpw = live.shape
    rows, cols, outs, weights, tile_of = [], [], [], [], []
    merges = 0
    max_rt = max_ct = 0
    for grp in range(g):
        col_blocks = _chunks(wc, wpr) if rows_mode == "per_column_tile" else [(0, wc)]
        tiles_per_col = np.zeros(wc, np.int64)      # row tiles a weight column appears in
        for c0, c1 in col_blocks:
            sub = live[grp, :, c0:c1]                # (wr, cols, cpw)
            if rows_mode == "none":
                keep_rows = np.arange(wr)
            else:
                keep_rows = np.flatnonzero(sub.any(axis=(1, 2)))
            rts = _chunks(len(keep_rows), xr)
            max_rt = max(max_rt, len(rts))
            for t, (r0, r1) in enumerate(rts):
                block = sub[keep_rows[r0:r1]]                    # (rows, cols, cpw)
                col_live = block.any(axis=0).reshape(-1)         # cell columns, weight-major
                owner = np.repeat(np.arange(c0, c1), cpw)[col_live]
                tiles_per_col[np.unique(owner)] += 1
                n = owner.size
                pieces = _chunks(n, xc)
                max_ct = max(max_ct, len(pieces))
                seen: set[int] = set()
                for a, b in pieces:
                    part = owner[a:b]
                    distinct = np.unique(part)
                    first = [int(w) for w in distinct if int(w) not in seen]
                    seen.update(first)
                    rows.append(r1 - r0)
                    cols.append(b - a)
                    outs.append(distinct.size)
                    weights.append((r1 - r0) * len(first))
                    tile_of.append(t)
        merges += int(np.maximum(tiles_per_col - 1, 0).sum())
    if not rows:                 # everything removed: keep one minimal crossbar (a bias-only layer)
        rows, cols, outs, weights, tile_of = [1], [1], [1], [0], [0]
    arr = lambda v: np.asarray(v, dtype=np.int64)   # noqa: E731
    return Tiling(row_tiles=max(max_rt, 1), col_tiles=max(max_ct, 1), groups_per_crossbar=1,
                  rows=arr(rows), cols=arr(cols), outs=arr(outs), weights=arr(weights),
                  merges_per_position=merges), arr(tile_of)


def cell_values(wq: np.ndarray, design: Design) -> np.ndarray:
    """Cell levels ``[g, rows, cols, cpw]`` of signed integer weights ``wq[g, rows, cols]``
    under the design's signed-weight scheme and ``bits_per_cell``."""
    bpc = design.crossbar.bits_per_cell
    s = design.slices_per_weight
    shifts = np.arange(s, dtype=np.int64) * bpc
    mask = (1 << bpc) - 1
    w = np.asarray(wq, dtype=np.int64)
    if design.precision.signed_weights == "differential":
        pos = (np.maximum(w, 0)[..., None] >> shifts) & mask
        neg = (np.maximum(-w, 0)[..., None] >> shifts) & mask
        return np.concatenate([pos, neg], axis=-1)
    biased = w + (1 << (design.precision.weight_bits - 1))
    return (biased[..., None] >> shifts) & mask
