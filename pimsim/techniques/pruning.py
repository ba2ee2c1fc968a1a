"""Structured pruning shared by PIM-Prune and CIM-granularity pruning: blocks, masks,
compaction and index costs (docs/techniques.md).

A layer's unrolled weights ``(groups, rows, cols)`` are cut into blocks of one
granularity; the ``ratio`` fraction of blocks with the smallest RMS (l2) or mean |w| (l1)
is removed (magnitude criterion, per layer). Fine-tuning afterwards (schedule key
``finetune``) keeps the mask: see :mod:`pimsim.techniques.finetune`. Granularities (R = crossbar rows,
W = whole weights per crossbar row, OU = ``ou_rows`` x ``ou_cols`` cells):

=============  ==============================  =========================  ==============
granularity    block                           crossbars freed by         index per image
=============  ==============================  =========================  ==============
filter         one output column (all rows)    narrower matrix            none (dense)
channel        one input channel's kh*kw rows  shorter matrix             none (dense)
xbar_column    one column within a row tile    column packing per tile    P x outputs
ou_block       OU rows x OU cols in a tile     columns fully pruned;      P x OU blocks
                                               pruned OUs are not driven
pim_prune      one row within a column tile    row packing per column     P x used rows
               (W weights: a crossbar row)     tile (PIM-Prune)
=============  ==============================  =========================  ==============
"""

from __future__ import annotations

from functools import partial

import numpy as np

from pimsim.config.schema import Design
from pimsim.mapping.network_map import LayerOverride
from pimsim.mapping.tiling import tile_layer
from pimsim.techniques.base import LayerEffect, Technique, TechniqueOutcome
from pimsim.techniques.compact import compact_tiling
from pimsim.techniques.constraints import grid_constraint
from pimsim.techniques.erabs import INDEX, same_tiling, to_trace_shape
from pimsim.techniques.schedule import LayerSchedule, Schedule
from pimsim.workload.layer import Layer
from pimsim.workload.unroll import unrolled_weight

ROWS_MODE = {"filter": "global", "channel": "global", "xbar_column": "none",
             "ou_block": "none", "pim_prune": "per_column_tile"}


def block_labels(layer: Layer, design: Design, granularity: str, ou_rows: int,
                 ou_cols: int) -> np.ndarray:
    """Block id of every weight of the unrolled ``(groups, rows, cols)`` matrices."""
    g, wr, wc = layer.groups, layer.weight_rows, layer.weight_cols
    r = np.arange(wr)[:, None]
    c = np.arange(wc)[None, :]
    xr, wpr = design.crossbar.rows, design.weights_per_crossbar_row
    if granularity == "filter":
        lab = np.broadcast_to(c, (wr, wc))
    elif granularity == "channel":
        per = layer.kernel[0] * layer.kernel[1] if layer.kind == "conv" else 1
        lab = np.broadcast_to(r // per, (wr, wc))
    elif granularity == "xbar_column":
        lab = (r // xr) * wc + c
    elif granularity == "ou_block":
        ouw = max(1, ou_cols // design.cells_per_weight)      # whole weights per OU
        n_ou_r = -(-xr // ou_rows)
        lab = ((r // xr) * n_ou_r + (r % xr) // ou_rows) * (-(-wc // ouw)) + c // ouw
    elif granularity == "pim_prune":
        lab = r * (-(-wc // wpr)) + c // wpr
    else:
        raise ValueError(granularity)
    lab = np.asarray(lab, dtype=np.int64)
    return lab[None] + (lab.max() + 1) * np.arange(g)[:, None, None]


def prune_mask(w: np.ndarray, labels: np.ndarray, ratio: float, criterion: str) -> np.ndarray:
    """Boolean keep-mask: the ``floor(ratio x blocks)`` weakest blocks removed."""
    flat = labels.ravel()
    n = int(flat.max()) + 1
    size = np.bincount(flat, minlength=n).astype(np.float64)
    v = np.abs(w.ravel()) if criterion == "l1" else w.ravel().astype(np.float64) ** 2
    score = np.bincount(flat, weights=v, minlength=n) / np.maximum(size, 1)
    drop = int(np.floor(ratio * n))
    keep = np.ones(n, bool)
    if drop:
        keep[np.argsort(score, kind="stable")[:drop]] = False
    return keep[labels]


class StructuredPruning(Technique):
    """Magnitude pruning at one granularity; subclasses fix or read the granularity."""

    name = "cim_pruning"
    forced: str | None = None

    def transform(self, trace, design: Design, schedule: Schedule) -> TechniqueOutcome:
        layers, overrides, weights, cons = [], {}, {}, {}
        for lay in trace.network.mvm_layers:
            eff, ov, w, c = self.layer(trace, design, lay, schedule.for_layer(lay.name))
            layers.append(eff)
            if ov is not None:
                overrides[lay.name] = ov
            if w is not None:
                weights[lay.name] = w
            if c is not None:
                cons[lay.name] = c
        return TechniqueOutcome(self.name, trace.network.name, design.name, schedule.source,
                                layers, overrides, weights, constraints=cons)

    def layer(self, trace, design: Design, lay: Layer, ls: LayerSchedule):
        base = tile_layer(lay, design)
        gran = self.forced or ls.granularity
        wq, scale = trace.weight_q(lay.name) if trace.has(lay.name, "weight_q") else (None, 1.0)
        if not ls.enabled or ls.ratio == 0 or wq is None:
            return (LayerEffect(lay.name, base.crossbars, base.crossbars, lay.weights,
                                lay.weights, 0.0, 1.0), None, None, None)
        w = unrolled_weight(wq.astype(np.float64) * scale, lay)
        keep = prune_mask(w, block_labels(lay, design, gran, ls.ou_rows, ls.ou_cols),
                          ls.ratio, ls.criterion)
        live = np.broadcast_to(keep[..., None], keep.shape + (design.cells_per_weight,))
        tiling, _ = compact_tiling(lay, design, live, ROWS_MODE[gran])
        changed = not same_tiling(tiling, base)
        p = lay.out_positions
        extra, skip = {}, 0.0
        if gran == "xbar_column" and changed:
            extra[f"{INDEX}.read"] = float(p * tiling.outs.sum())
        elif gran == "pim_prune" and changed:
            extra[f"{INDEX}.read"] = float(p * tiling.rows.sum())
        elif gran == "ou_block":
            ous = (np.ceil(tiling.rows / ls.ou_rows) * np.ceil(tiling.cols / ls.ou_cols)).sum()
            extra[f"{INDEX}.read"] = float(p * ous)
            skip = ou_block_skip(keep, design, ls.ou_rows, ls.ou_cols)
        ov = None
        if changed or extra:
            ov = LayerOverride(tiling=tiling if changed else None, skip_reads=skip,
                               skip_drives=skip, extra_counts=extra)
        w_new = to_trace_shape(w * keep, wq.shape).astype(np.float32)
        ref = wq.astype(np.float64) * scale
        err = float(np.linalg.norm(w_new - ref) / max(np.linalg.norm(ref), 1e-30))
        eff = LayerEffect(lay.name, base.crossbars, tiling.crossbars, lay.weights,
                          int(keep.sum()), err, float(tiling.cols.sum() / base.cols.sum()),
                          skip_reads=skip, skip_drives=skip, extra_counts=dict(extra))
        # fine-tuning keeps the mask: pruned weights stay 0, kept ones on the 8-bit grid
        qmax = (1 << (trace.info(lay.name, "weight_q").bits - 1)) - 1
        cons = partial(mask_constraint, keep, wq.shape, scale, qmax)
        return eff, ov, w_new, cons


def mask_constraint(keep: np.ndarray, shape: tuple, scale: float, qmax: int):
    """The fine-tuning constraint of a pruned layer: the unrolled keep-mask ``keep``
    ``(groups, rows, cols)`` fixed, kept weights on the integer grid of ``scale``."""
    return grid_constraint(shape, scale, qmax, to_trace_shape(keep, shape))


def ou_block_skip(keep: np.ndarray, design: Design, ou_rows: int, ou_cols: int) -> float:
    """Fraction of OU activations saved: pruned OU blocks inside columns that stay mapped
    (OU-gated wordlines; a fully pruned column is released instead)."""
    g, wr, wc = keep.shape
    xr = design.crossbar.rows
    ouw = max(1, ou_cols // design.cells_per_weight)
    pruned = total = 0
    for r0 in range(0, wr, xr):
        tile = keep[:, r0:r0 + xr]
        live_cols = tile.any(axis=1)                           # (g, wc)
        for o in range(0, tile.shape[1], ou_rows):
            for c0 in range(0, wc, ouw):
                blk = tile[:, o:o + ou_rows, c0:c0 + ouw].any(axis=(1, 2))
                in_use = live_cols[:, c0:c0 + ouw].any(axis=1)
                total += int(in_use.sum())
                pruned += int((in_use & ~blk).sum())
    return pruned / total if total else 0.0
