"""Where each weight lives: crossbars, physical rows and cells (bit slices, signed scheme).

A layer's unrolled weight matrix (``pimsim.workload.unroll``: ``(groups, rows, cols)``,
row ``r`` = input element, column ``c`` = output channel) is tiled as in
:func:`pimsim.mapping.tile_layer`: row tiles of ``crossbar.rows`` rows, column tiles of
``weights_per_crossbar_row`` whole weights, crossbar order (group, row tile, column tile).
Each weight occupies ``cells_per_weight`` adjacent cells of its row: its
``weight_bits / bits_per_cell`` slices, most significant first, doubled into positive and
negative columns for the ``differential`` scheme; the ``offset`` scheme stores
``q + 2**(weight_bits-1)``. Rules for cell levels: :mod:`pimsim.kernels.endurance`.

A *structure* is one crossbar row segment: logical row ``r`` of one column tile of one
group, i.e. exactly the cells one write-driver row operation programs. Policies decide per
structure; row swapping moves structures between physical rows of their crossbar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.config.schema import Design
from pimsim.kernels.endurance import _cells_reference


@dataclass(frozen=True)
class CellLayout:
    """One MVM layer's placement on crossbars (one copy; replication is not modelled for
    training: every copy would be written alike)."""

    name: str
    groups: int
    rows: int                # unrolled rows per group (k_h k_w C_in / groups)
    cols: int                # unrolled columns per group (C_out / groups)
    xb_rows: int             # crossbar rows
    xb_cols: int             # crossbar columns (cells)
    wpr: int                 # whole weights per crossbar row
    cells_per_weight: int
    weight_bits: int
    bits_per_cell: int
    differential: bool

    @property
    def row_tiles(self) -> int:
        return -(-self.rows // self.xb_rows)

    @property
    def col_tiles(self) -> int:
        return -(-self.cols // self.wpr)

    @property
    def crossbars(self) -> int:
        return self.groups * self.row_tiles * self.col_tiles

    @property
    def structures(self) -> int:
        """Row segments: groups x rows x column tiles."""
        return self.groups * self.rows * self.col_tiles

    @property
    def weights(self) -> int:
        return self.groups * self.rows * self.cols

    @property
    def cells(self) -> int:
        """Cells holding weights."""
        return self.weights * self.cells_per_weight

    def used_cells_mask(self) -> np.ndarray:
        """bool ``(crossbars, xb_rows, xb_cols)``: cells that hold a weight (identity rows)."""
        used = np.zeros((self.crossbars, self.xb_rows, self.xb_cols), bool)
        for x in range(self.crossbars):
            ct = x % self.col_tiles
            rt = (x // self.col_tiles) % self.row_tiles
            nrows = min(self.xb_rows, self.rows - rt * self.xb_rows)
            ncols = (min(self.wpr, self.cols - ct * self.wpr)) * self.cells_per_weight
            used[x, :nrows, :ncols] = True
        return used

    def identity_row_map(self) -> np.ndarray:
        """int32 ``(crossbars, xb_rows)``: logical row -> physical row, no swaps."""
        return np.tile(np.arange(self.xb_rows, dtype=np.int32), (self.crossbars, 1))

    def structure_crossbar(self) -> tuple[np.ndarray, np.ndarray]:
        """``(crossbar, logical row)`` of every structure, index ``(g * rows + r) * ct + c``."""
        g, r, ct = np.meshgrid(np.arange(self.groups), np.arange(self.rows),
                               np.arange(self.col_tiles), indexing="ij")
        x = (g * self.row_tiles + r // self.xb_rows) * self.col_tiles + ct
        return x.ravel().astype(np.int64), (r % self.xb_rows).ravel().astype(np.int64)

    def structure_weights(self) -> np.ndarray:
        """int64 per structure: weights it holds (``wpr``, fewer in the last column tile)."""
        last = self.cols - (self.col_tiles - 1) * self.wpr
        per = np.full(self.col_tiles, self.wpr, np.int64)
        per[-1] = last
        return np.tile(per, self.groups * self.rows)


def layout_for(name: str, groups: int, rows: int, cols: int, design: Design) -> CellLayout:
    """The :class:`CellLayout` of a ``groups x rows x cols`` unrolled matrix on ``design``."""
    return CellLayout(name=name, groups=groups, rows=rows, cols=cols,
                      xb_rows=design.crossbar.rows, xb_cols=design.crossbar.cols,
                      wpr=design.weights_per_crossbar_row,
                      cells_per_weight=design.cells_per_weight,
                      weight_bits=design.precision.weight_bits,
                      bits_per_cell=design.crossbar.bits_per_cell,
                      differential=design.differential)


def weight_cells(q: np.ndarray, weight_bits: int, bits_per_cell: int,
                 differential: bool) -> np.ndarray:
    """Cell levels ``q.shape + (cells_per_weight,)`` of signed integer weights ``q``."""
    return _cells_reference(q, weight_bits, bits_per_cell, differential)


def structure_mask_to_unrolled(mask: np.ndarray, layout: CellLayout) -> np.ndarray:
    """bool ``(G, R, C)`` weight mask from a per-structure mask ``(G * R * col_tiles,)``."""
    m = np.asarray(mask, bool).reshape(layout.groups, layout.rows, layout.col_tiles)
    return np.repeat(m, layout.wpr, axis=2)[:, :, :layout.cols]


def aging_aware_row_map(old_map: np.ndarray, wear: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """New logical->physical row maps ``(crossbars, xb_rows)`` (aging-aware row swapping).

    Per crossbar, pairwise swaps: the hottest logical row (most updates since the last
    swap, ``heat``; rows holding nothing should have heat -1) trades places with the
    coldest logical row that sits on a less-worn physical row (``wear`` = most-written
    cell of the physical row), then the next hottest with the next coldest, while the hot
    row is hotter and its physical row more worn. Every row moves at most once per call,
    and rows that are already well placed stay put (a swap costs two row rewrites).
    """
    old_map = np.asarray(old_map, np.int64)
    n_xb, xr = old_map.shape
    new = old_map.copy()
    for x in range(n_xb):
        h = np.asarray(heat[x], np.float64)
        w = np.asarray(wear[x], np.float64)
        pw = w[old_map[x]]                           # wear under each logical row
        hot = np.lexsort((-pw, -h))                  # hottest first, worn first
        cold = np.lexsort((pw, h))                   # coldest first, least worn first
        moved = np.zeros(xr, bool)
        j = 0
        for a in hot:
            if moved[a]:
                continue
            while j < xr and (moved[cold[j]] or cold[j] == a):
                j += 1
            if j >= xr:
                break
            b = cold[j]
            if h[a] <= h[b]:
                break
            if pw[a] > pw[b]:
                new[x, a], new[x, b] = old_map[x, b], old_map[x, a]
                moved[a] = moved[b] = True
                j += 1
    return new.astype(np.int32)
