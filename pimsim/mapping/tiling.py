"""im2col tiling of one MVM layer onto crossbars, with block-diagonal group packing.

One group's unrolled weight matrix is ``weight_rows x weight_cols`` (rows = k_h k_w C_in /
groups inputs, cols = C_out / groups outputs). It is cut into row tiles of at most
``crossbar.rows`` rows and column tiles of at most ``weights_per_crossbar_row`` whole
weights (``x cells_per_weight`` columns). Partial sums of the row tiles of one output are
merged by the tile's shift-and-add.

Grouped / depthwise convolutions: when one group's block fits a crossbar
(``weight_rows <= rows`` and ``weight_cols <= weights_per_crossbar_row``), ``p = min(rows //
weight_rows, weights_per_crossbar_row // weight_cols)`` groups are packed block-diagonally
into one crossbar; the off-diagonal cells are left at the lowest conductance (they carry
no current) and are wasted. Otherwise each group is tiled on its own crossbars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.config.schema import Design
from pimsim.mapping.bitslice import columns_for, conversions_for
from pimsim.workload.layer import Layer


@dataclass(frozen=True, eq=False)
class Tiling:
    """Crossbars of one copy of a layer and what each one holds.

    ``rows``/``cols``/``outs``/``weights``/``convs`` have one entry per crossbar: used rows
    (inputs driven), used columns (cells per row), whole weights per row (output values
    produced), weights stored (less than rows x outs when groups are packed) and columns
    converted per read (``cols``, or ``cols / 2`` when a differential pair is converted
    once; ``pimsim.mapping.bitslice``). ``convs`` defaults to ``cols``.
    """

    row_tiles: int               # row tiles per group (1 when groups are packed)
    col_tiles: int               # column tiles per group (1 when groups are packed)
    groups_per_crossbar: int     # > 1 only for block-diagonal packing
    rows: np.ndarray             # int64 [crossbars]
    cols: np.ndarray             # int64 [crossbars]
    outs: np.ndarray             # int64 [crossbars]
    weights: np.ndarray          # int64 [crossbars]: weights stored (used rows x outs per group)
    merges_per_position: int     # row-tile partial sums merged per output position
    convs: np.ndarray | None = None  # int64 [crossbars]: ADC conversions per read (None: cols)

    def __post_init__(self):
        if self.convs is None:
            object.__setattr__(self, "convs", self.cols)

    @property
    def crossbars(self) -> int:
        return int(self.rows.shape[0])


def _split(total: int, size: int) -> np.ndarray:
    """Sizes of ``ceil(total / size)`` consecutive chunks of at most ``size``."""
    n = -(-total // size)
    sizes = np.full(n, size, dtype=np.int64)
    sizes[-1] = total - size * (n - 1)
    return sizes


def tile_layer(layer: Layer, design: Design) -> Tiling:
    """Map one copy of an MVM layer onto crossbars (see module doc for the rules)."""
    xr = design.crossbar.rows
    wpr = design.weights_per_crossbar_row
    wr, wc, g = layer.weight_rows, layer.weight_cols, layer.groups
    if g > 1 and wr <= xr and wc <= wpr:
        per = min(xr // wr, wpr // wc)
        packed = _split(g, per)          # groups in each crossbar
        return Tiling(row_tiles=1, col_tiles=1, groups_per_crossbar=per,
                      rows=packed * wr, cols=columns_for(design, packed * wc), outs=packed * wc,
                      weights=packed * wr * wc, merges_per_position=0,
                      convs=conversions_for(design, packed * wc))
    row_sizes = _split(wr, xr)
    col_weights = _split(wc, wpr)
    rt, ct = row_sizes.shape[0], col_weights.shape[0]
    # crossbar order: group, row tile, column tile
    rows = np.tile(np.repeat(row_sizes, ct), g)
    outs = np.tile(np.tile(col_weights, rt), g)
    return Tiling(row_tiles=int(rt), col_tiles=int(ct), groups_per_crossbar=1,
                  rows=rows, cols=columns_for(design, outs), outs=outs, weights=rows * outs,
                  merges_per_position=int(g * (rt - 1) * wc),
                  convs=conversions_for(design, outs))
