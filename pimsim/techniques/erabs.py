"""ERA-BS (Liu et al., IEEE TC 2023), reconstructed from the abstract (docs/techniques.md).

Static, weights:

* **exponent-based quantization**: each weight magnitude (``bits``-bit sign-magnitude
  integer) is rounded to the nearest ``mantissa x 2**exponent`` with a ``terms``-bit
  mantissa (so at most ``terms`` nonzero bits, all within ``terms`` adjacent positions),
  so most bit positions, hence most cells, are zero;
* **bit flip**: in every row tile (crossbar rows), a cell column (one slice of one weight
  column, one polarity) holding at most ``flip_budget`` nonzero cells has those cells
  flipped to 0, so the whole column is zero and released; the surviving columns are
  packed onto fewer crossbars (``compact``), an index says each column's weight and shift.

Dynamic, activations (at OU granularity, ``ou_rows`` rows):

* **crossbar-aware activation pruning**: an OU's inputs for one input vector are zeroed
  when their maximum is below ``threshold`` x full scale (or the quantile that zeroes
  ``target_sparsity`` of the OU groups of the trace's samples);
* **run-time skipping**: an OU whose input bit-slice is zero is not driven; a crossbar
  whose whole bit-slice is zero skips the read cycle and its conversions. Measured on the
  trace's sampled activations by ``pimsim.kernels.ou_stats``; support hardware (zero
  detector, control, index buffer) is counted as ops of plug-in roles.
"""

from __future__ import annotations

import numpy as np

from pimsim.config.schema import Design
from pimsim.kernels.ou_stats import flip_release, ou_zero_stats
from pimsim.mapping.network_map import LayerOverride
from pimsim.mapping.tiling import tile_layer
from pimsim.techniques.base import LayerEffect, Technique, TechniqueOutcome
from pimsim.techniques.compact import base_tile_of, compact_tiling
from pimsim.techniques.schedule import LayerSchedule, Schedule
from pimsim.workload.layer import Layer
from pimsim.workload.unroll import input_rows, unrolled_weight

ZERO_DETECTOR, CONTROL, INDEX = "zero_detector", "sparsity_control", "index_buffer"


def exponent_quantize(mag: np.ndarray, terms: int, max_mag: int) -> np.ndarray:
    """Non-negative integers rounded to the nearest ``terms``-bit mantissa x power of two
    (ties up; values that would exceed ``max_mag`` are truncated instead)."""
    m = np.asarray(mag, dtype=np.int64)
    out = m.copy()
    nz = m > 0
    e = np.zeros_like(m)
    e[nz] = np.floor(np.log2(m[nz])).astype(np.int64)
    drop = np.maximum(e - terms + 1, 0)               # low bits below the mantissa
    unit = np.left_shift(1, drop)
    rounded = ((m + (unit >> 1)) >> drop) << drop
    trunc = (m >> drop) << drop
    out[nz] = np.where(rounded[nz] <= max_mag, rounded[nz], trunc[nz])
    return out


def weights_from_cells(cells: np.ndarray, design: Design) -> np.ndarray:
    """Inverse of :func:`pimsim.techniques.compact.cell_values`."""
    bpc = design.crossbar.bits_per_cell
    s = design.slices_per_weight
    shifts = np.arange(s, dtype=np.int32) * bpc
    c = cells.astype(np.int32)
    if design.differential:
        return ((c[..., :s] << shifts).sum(-1) - (c[..., s:] << shifts).sum(-1))
    return (c << shifts).sum(-1) - (1 << (design.precision.weight_bits - 1))


def flip_columns(cells: np.ndarray, tile_rows: int, budget: int, design: Design,
                 tolerance: float = 1.0) -> np.ndarray:
    """Plain-numpy reference of :func:`pimsim.kernels.ou_stats.flip_release` on cell
    levels ``[g, rows, cols, cpw]`` (``pimsim.techniques.compact.cell_values``): cells
    with every (row tile, cell column) released — zeroed — when it holds at most
    ``budget`` nonzero cells and zeroing them changes that weight column's values in the
    row tile by at most ``tolerance`` (relative L2; adaptive flipping: low-order slices
    go first, the few cells of large weights' top slices stay)."""
    out = cells.copy()
    if budget <= 0:
        return out
    bpc, s = design.crossbar.bits_per_cell, design.slices_per_weight
    cpw = cells.shape[-1]
    weight = (1 << (np.arange(cpw) % s * bpc)).astype(np.float32)     # value of one level
    for r0 in range(0, cells.shape[1], tile_rows):
        block = out[:, r0:r0 + tile_rows]                 # view (g, rows, cols, cpw)
        nz = (block != 0).sum(axis=1)                     # (g, cols, cpw)
        contrib = block * weight                          # value each cell adds
        col_norm = np.sqrt((weights_from_cells(block, design).astype(np.float32) ** 2)
                           .sum(axis=1))                  # (g, cols)
        err = np.sqrt((contrib ** 2).sum(axis=1)) / np.maximum(col_norm, 1e-30)[..., None]
        release = (nz > 0) & (nz <= budget) & (err <= tolerance)
        block[np.broadcast_to(release[:, None], block.shape)] = 0
    return out


def same_tiling(a, b) -> bool:
    return (a.merges_per_position == b.merges_per_position
            and all(np.array_equal(getattr(a, k), getattr(b, k))
                    for k in ("rows", "cols", "outs", "weights", "convs")))


def to_trace_shape(unrolled: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of :func:`pimsim.workload.unroll.unrolled_weight`."""
    return np.ascontiguousarray(unrolled.transpose(0, 2, 1)).reshape(shape)


def layer_int_weights(trace, lay: Layer, bits: int) -> tuple[np.ndarray, float]:
    """Signed ``bits``-bit weights and scale (the trace's own 8-bit ones when bits == 8)."""
    wq, scale = trace.weight_q(lay.name)
    if bits == trace.info(lay.name, "weight_q").bits:
        return wq.astype(np.int64), scale
    w = trace.weight(lay.name).astype(np.float64)
    qmax = (1 << (bits - 1)) - 1
    scale = float(np.abs(w).max() / qmax) if np.abs(w).max() > 0 else 1.0
    return np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int64), scale


def ou_starts(rows: int, tile_rows: int, ou_rows: int) -> np.ndarray:
    """First row of every OU (OUs never straddle a row tile)."""
    return np.array([o for t in range(0, rows, tile_rows)
                     for o in range(t, min(t + tile_rows, rows), ou_rows)], dtype=np.int64)


class OUPrune:
    """Run-time OU activation pruning: zero an OU's inputs when their max < ``thr``."""

    def __init__(self, rows: int, tile_rows: int, ou_rows: int, thr: float, inclusive: bool):
        self.starts = ou_starts(rows, tile_rows, ou_rows)
        self.sizes = np.diff(np.append(self.starts, rows))
        self.thr, self.inclusive = thr, inclusive

    def group_max(self, x: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(x, self.starts, axis=-1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        gmax = self.group_max(x)
        dead = gmax <= self.thr if self.inclusive else gmax < self.thr
        if not dead.any():
            return x
        return x * ~np.repeat(dead, self.sizes, axis=-1)


def act_vectors(trace, lay: Layer) -> np.ndarray:
    """The trace's sampled input vectors ``(M * groups, rows)`` minus the zero point
    (a shape-only network's stand-in vectors: ``pimsim.techniques.synthetic``)."""
    if hasattr(trace, "vectors"):
        return trace.vectors(lay)
    _, zp, _ = trace.act_quant(lay.name)
    a = trace.activations(lay.name).astype(np.int64) - zp
    v = input_rows(a, lay)
    return v.reshape(-1, v.shape[-1])


class ERABS(Technique):
    name = "era_bs"

    def transform(self, trace, design: Design, schedule: Schedule) -> TechniqueOutcome:
        layers, overrides, weights, acts = [], {}, {}, {}
        for lay in trace.network.mvm_layers:
            ls = schedule.for_layer(lay.name)
            eff, ov, w, tr = self.layer(trace, design, lay, ls)
            layers.append(eff)
            if ov is not None:
                overrides[lay.name] = ov
            if w is not None:
                weights[lay.name] = w
            if tr is not None:
                acts[lay.name] = tr
        return TechniqueOutcome(self.name, trace.network.name, design.name, schedule.source,
                                layers, overrides, weights, acts)

    def layer(self, trace, design: Design, lay: Layer, ls: LayerSchedule):
        base = tile_layer(lay, design)
        tiling, tile_of = base, base_tile_of(base, lay.groups)
        w_new = None
        changed_tiling = False
        ref_q, ref_scale = trace.weight_q(lay.name)
        ref_q = np.asarray(ref_q)
        ref = ref_q.astype(np.float64) * ref_scale
        n_w = lay.weights
        kept, err, live_frac = n_w, 0.0, 1.0
        if ls.enabled and (ls.quant == "exponent" or ls.flip_budget > 0
                           or ls.bits != trace.info(lay.name, "weight_q").bits):
            wq, scale = layer_int_weights(trace, lay, ls.bits)
            if ls.quant == "exponent":      # a lookup table over all magnitudes: fast
                qmax = (1 << (ls.bits - 1)) - 1
                table = exponent_quantize(np.arange(qmax + 1), ls.terms, qmax)
                wq = np.sign(wq) * table[np.minimum(np.abs(wq), qmax)]
            d = design
            wq_new, tile_live = flip_release(
                np.ascontiguousarray(unrolled_weight(wq, lay), dtype=np.int64),
                d.crossbar.bits_per_cell, d.slices_per_weight,
                d.differential,
                1 << (d.precision.weight_bits - 1), d.crossbar.rows, ls.flip_budget,
                ls.flip_tolerance)
            tiling, tile_of = compact_tiling(lay, design, None, tile_live=tile_live)
            changed_tiling = not same_tiling(tiling, base)
            w_new = (to_trace_shape(wq_new, ref_q.shape) * scale).astype(np.float32)
            kept = int((wq_new != 0).sum())
            err = float(np.linalg.norm(w_new - ref) / max(np.linalg.norm(ref), 1e-30))
            live_frac = float(tiling.convs.sum() / base.convs.sum())   # converted columns kept
        skips = dict(skip_reads=0.0, skip_drives=0.0, skip_conversions=0.0, skip_cycles=0.0)
        pruned, transform, extra = 0.0, None, {}
        p, cyc = lay.out_positions, design.input_cycles
        if ls.enabled and (ls.skip or ls.threshold > 0 or ls.target_sparsity):
            vec = act_vectors(trace, lay)
            _, _, abits = trace.act_quant(lay.name)
            xr = design.crossbar.rows
            if ls.threshold > 0 or ls.target_sparsity:
                if ls.target_sparsity:
                    probe = OUPrune(vec.shape[1], xr, ls.ou_rows, 0, False)
                    thr = float(np.quantile(probe.group_max(vec), ls.target_sparsity))
                    transform = OUPrune(vec.shape[1], xr, ls.ou_rows, thr, True)
                else:
                    transform = OUPrune(vec.shape[1], xr, ls.ou_rows,
                                        ls.threshold * ((1 << abits) - 1), False)
                gmax = transform.group_max(vec)
                pruned = float(((gmax <= transform.thr) if transform.inclusive
                                else (gmax < transform.thr)).mean())
                vec = transform(vec)
            if ls.skip:
                ibits = design.precision.input_bits
                if abits > ibits:           # a narrower datapath keeps the top bits
                    vec = vec >> (abits - ibits)
                st = ou_zero_stats(vec, ibits, xr, ls.ou_rows)
                rows, cols = tiling.rows.astype(float), tiling.convs.astype(float)
                skips = dict(
                    skip_reads=float(st["ou"][tile_of].mean()),
                    skip_drives=float((rows * st["rows"][tile_of]).sum() / rows.sum()),
                    skip_conversions=float((cols * st["xb"][tile_of]).sum() / cols.sum()),
                    skip_cycles=float(st["xb"][np.unique(tile_of)].min()))
                ous = np.ceil(rows / ls.ou_rows).sum()
                extra[f"{ZERO_DETECTOR}.detect"] = float(p * cyc * ous)
                extra[f"{CONTROL}.op"] = float(p * cyc * tiling.crossbars)
        if changed_tiling:
            extra[f"{INDEX}.read"] = float(p * tiling.cols.sum())
        ov = None
        if changed_tiling or extra or any(skips.values()):
            ov = LayerOverride(tiling=tiling if changed_tiling else None, extra_counts=extra,
                               **skips)
        eff = LayerEffect(name=lay.name, crossbars_before=base.crossbars,
                          crossbars_after=tiling.crossbars, weights=n_w, weights_kept=kept,
                          weight_rel_error=err, cells_live_fraction=live_frac,
                          act_pruned_fraction=pruned, extra_counts=dict(extra), **skips)
        return eff, ov, w_new, transform
