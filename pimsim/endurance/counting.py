"""Accumulated per-cell write counts of a network's crossbars during training.

:class:`WriteCounter` holds, per MVM layer, the integer weights currently programmed,
the logical->physical row map of every crossbar (row swaps) and the per-cell write counts
``(crossbars, xb_rows, xb_cols)``. :meth:`WriteCounter.program` reprograms a layer to new
integer weights and counts the cells whose level changes (or whole rows, see
``whole_row``); :meth:`WriteCounter.remap` applies row swaps and counts their writes.
The per-step result (cells written, rows written per crossbar) feeds the write-cost model
(:mod:`pimsim.endurance.cost`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.endurance.cells import CellLayout
from pimsim.kernels.endurance import count_writes, remap_writes

WRITE_MODELS = ("level", "row")
"""``level``: a cell is written when its level changes; ``row``: a crossbar row segment
with any change is rewritten whole (every used cell of that row counted once)."""


@dataclass
class StepWrites:
    """Writes of one reprogramming: cell writes and rows written per crossbar (int64)."""

    cells: int
    rows_per_crossbar: np.ndarray


class WriteCounter:
    """Per-cell write counts of the layers in ``layouts`` (initial programming not counted)."""

    def __init__(self, layouts: list[CellLayout], initial: list[np.ndarray],
                 write_model: str = "level"):
        if write_model not in WRITE_MODELS:
            raise ValueError(f"write_model must be one of {WRITE_MODELS}, not {write_model!r}")
        if len(layouts) != len(initial):
            raise ValueError("one initial weight array per layout")
        self.layouts = list(layouts)
        self.whole_row = write_model == "row"
        self.write_model = write_model
        self.q = [self._check(lay, q) for lay, q in zip(layouts, initial)]
        self.row_maps = [lay.identity_row_map() for lay in layouts]
        self.counts = [np.zeros((lay.crossbars, lay.xb_rows, lay.xb_cols), np.int64)
                       for lay in layouts]
        # logical reprogramming count per weight: times its integer value changed
        self.weight_updates = [np.zeros(q.shape, np.int64) for q in self.q]
        self.swap_writes = 0

    @staticmethod
    def _check(lay: CellLayout, q: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(q, dtype=np.int32)
        if q.shape != (lay.groups, lay.rows, lay.cols):
            raise ValueError(f"layer {lay.name!r}: weights {q.shape}, expected "
                             f"{(lay.groups, lay.rows, lay.cols)}")
        qmax = 2 ** (lay.weight_bits - 1) - 1
        if q.size and int(np.abs(q).max()) > qmax:
            raise ValueError(f"layer {lay.name!r}: |weight| > {qmax} ({lay.weight_bits} bits)")
        return q

    def program(self, i: int, q_new: np.ndarray) -> StepWrites:
        """Reprogram layer ``i`` to ``q_new`` ``(G, R, C)``; count the writes."""
        lay = self.layouts[i]
        q_new = self._check(lay, q_new)
        rows = np.zeros(lay.crossbars, np.int64)
        cells = count_writes(self.q[i], q_new, self.row_maps[i], self.counts[i], rows,
                             lay.weight_bits, lay.bits_per_cell, lay.differential,
                             self.whole_row, lay.xb_rows, lay.wpr)
        self.weight_updates[i] += self.q[i] != q_new
        self.q[i] = q_new
        return StepWrites(int(cells), rows)

    def remap(self, i: int, new_map: np.ndarray) -> StepWrites:
        """Move layer ``i``'s logical rows to ``new_map``'s physical rows; count the writes."""
        lay = self.layouts[i]
        new_map = np.ascontiguousarray(new_map, dtype=np.int32)
        if new_map.shape != self.row_maps[i].shape:
            raise ValueError(f"row map {new_map.shape}, expected {self.row_maps[i].shape}")
        if not (np.sort(new_map, axis=1) == np.arange(lay.xb_rows)).all():
            raise ValueError("each crossbar's row map must be a permutation of its rows")
        rows = np.zeros(lay.crossbars, np.int64)
        cells = remap_writes(self.q[i], self.row_maps[i], new_map, self.counts[i], rows,
                             lay.weight_bits, lay.bits_per_cell, lay.differential,
                             self.whole_row, lay.xb_rows, lay.wpr)
        self.row_maps[i] = new_map
        self.swap_writes += int(cells)
        return StepWrites(int(cells), rows)

    def physical_row_wear(self, i: int) -> np.ndarray:
        """int64 ``(crossbars, xb_rows)``: the most-written cell of each physical row."""
        return self.counts[i].max(axis=2)

    def used_counts(self, i: int) -> np.ndarray:
        """1-D counts of the cells of layer ``i`` that hold a weight now or were written."""
        return held_cell_counts(self.layouts[i], self.counts[i], self.row_maps[i])

    def total_writes(self) -> int:
        return int(sum(int(c.sum()) for c in self.counts))


def held_cell_counts(lay: CellLayout, counts: np.ndarray, row_map: np.ndarray) -> np.ndarray:
    """1-D counts of the cells that hold a weight under ``row_map`` or were ever written."""
    x = np.arange(lay.crossbars)
    ct = x % lay.col_tiles
    rt = (x // lay.col_tiles) % lay.row_tiles
    nrows = np.minimum(lay.xb_rows, lay.rows - rt * lay.xb_rows)
    ncols = np.minimum(lay.wpr, lay.cols - ct * lay.wpr) * lay.cells_per_weight
    logical_used = np.arange(lay.xb_rows)[None, :] < nrows[:, None]
    phys_rows = np.zeros((lay.crossbars, lay.xb_rows), bool)
    np.put_along_axis(phys_rows, np.asarray(row_map, np.int64), logical_used, axis=1)
    cols = np.arange(lay.xb_cols)[None, :] < ncols[:, None]
    held = phys_rows[:, :, None] & cols[:, None, :]
    return counts[held | (counts > 0)]
