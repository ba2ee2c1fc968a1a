"""Data-dependent work of every MVM layer: OU zero skipping and value-dependent energy.

``activity_overrides(trace, design)`` turns a trace's sampled activations and weights (or,
for a shape-only trace or ``activity.source: default``, the design point's default
statistics) into one :class:`~pimsim.mapping.network_map.LayerOverride` per MVM layer,
which every fidelity then applies to the mapped workload (docs/mapping.md#activity):

* ``skip_reads``: OU reads left out -- an OU whose input bit-slice is zero on all its rows
  (``activity.skip_zero_inputs``) or whose cells are all zero (``activity.skip_zero_weights``);
* ``skip_conversions``: the S+H samples, ADC conversions and shift-adds of those OUs;
* ``skip_drives``: row drives of zero digits (a DAC spends energy only on a nonzero digit)
  and of skipped OUs;
* ``skip_cycles``: the stage's share of OU reads saved on its slowest crossbar;
* ``read_energy_scale``: crossbar read energy per executed OU read relative to the
  reference (every used row at full scale, cells at the mean conductance): the real
  ``sum(drive x conductance)`` (first-order array energy, NeuroSim / CiMLoop);
* ``extra_counts``: the zero detectors, skip control and OU index reads that skipping needs.

The counts come from :mod:`pimsim.kernels.ou_activity` (numba). Statistics per layer are
returned beside the overrides (:class:`LayerActivity`, plain data) for reports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from pimsim.config.schema import Design
from pimsim.mapping.network_map import LayerOverride
from pimsim.mapping.tiling import Tiling, tile_layer
from pimsim.workload.layer import Layer
from pimsim.workload.unroll import input_rows, unrolled_weight

#: Support roles the skipping hardware uses (``pimsim.components.support``).
ZERO_DETECTOR, CONTROL, INDEX = "zero_detector", "sparsity_control", "index_buffer"
#: Reference cell level (fraction of the highest level) of the crossbar's read energy.
REF_LEVEL = 0.5


@dataclass(frozen=True)
class LayerActivity:
    """Statistics of one MVM layer's reads (fractions in [0, 1]; plain data)."""

    name: str
    source: str                  # "trace" or "default"
    vectors: int                 # input vectors measured (0 for default statistics)
    drive_fraction: float        # mean normalized input digit (1-bit DAC: share of 1 bits)
    zero_slice_fraction: float   # OU row-group bit-slices that are zero on every row
    zero_weight_ou_fraction: float   # OUs whose cells are all zero
    conductance_factor: float    # mean cell conductance / reference (per driven row)
    reads_kept: float            # 1 - skip_reads
    energy_scale: float          # read_energy_scale


def _levels(wq: np.ndarray, design: Design) -> np.ndarray:
    """Cell levels ``[rows, cols, cells per weight]`` of signed ints ``wq[rows, cols]``."""
    d = design
    bpc, slices = d.crossbar.bits_per_cell, d.slices_per_weight
    mask = (1 << bpc) - 1
    shifts = np.arange(slices, dtype=np.int64) * bpc
    w = np.asarray(wq, dtype=np.int64)
    if d.precision.signed_weights == "differential":
        pos, neg = np.maximum(w, 0), np.maximum(-w, 0)
        return np.concatenate([(pos[..., None] >> shifts) & mask,
                               (neg[..., None] >> shifts) & mask], axis=-1)
    b = w + (1 << (d.precision.weight_bits - 1))
    return (b[..., None] >> shifts) & mask


def crossbar_levels(wq: np.ndarray, design: Design) -> np.ndarray:
    """``[rows, crossbar columns]`` cell levels of one unrolled weight matrix in column order:
    column tiles of ``weights_per_crossbar_row`` weights side by side, and inside a tile the
    cells of equal significance side by side (slice-major: all weights' slice 0, then
    slice 1, ...; negative column of a differential pair after the positive ones), so an
    OU's columns share one significance (the layout OU designs use for bit-level zeros)."""
    lv = _levels(wq, design)                       # rows, cols, cpw
    rows, cols, cpw = lv.shape
    wpr = design.weights_per_crossbar_row
    parts = [lv[:, j:j + wpr, :].transpose(0, 2, 1).reshape(rows, -1)
             for j in range(0, cols, wpr)]
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


def int_weights(trace, lay: Layer, bits: int) -> np.ndarray:
    """Signed ``bits``-bit weights of a layer: the trace's own ints when they have ``bits``
    bits, else the float weights re-quantized (max-abs scale, round to nearest)."""
    if trace.has(lay.name, "weight_q") and trace.info(lay.name, "weight_q").bits == bits:
        return np.asarray(trace.weight_q(lay.name)[0], dtype=np.int64)
    w = np.asarray(trace.weight(lay.name), dtype=np.float64)
    qmax = (1 << (bits - 1)) - 1
    top = float(np.abs(w).max())
    scale = top / qmax if top > 0 else 1.0
    return np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int64)


def input_vectors(trace, lay: Layer, bits: int, transform=None) -> np.ndarray:
    """Sampled input vectors ``[M, rows]`` as unsigned ``bits``-bit ints (im2col; the zero
    point removed, negatives clipped to 0; a narrower datapath keeps the top bits, a wider
    one puts the trace's values in its low bits). ``transform``: a technique's run-time
    change of the vectors (e.g. ERA-BS's OU activation pruning), applied first.
    A shape-only stand-in trace (``vectors(lay)``) provides its vectors itself."""
    _, zp, abits = trace.act_quant(lay.name)
    if hasattr(trace, "vectors"):
        v = np.asarray(trace.vectors(lay), dtype=np.int64)
    else:
        a = np.asarray(trace.activations(lay.name), dtype=np.int64) - zp
        v = input_rows(np.maximum(a, 0), lay)
        v = v.reshape(-1, v.shape[-1])
    if transform is not None:
        v = transform(v)
    v = np.maximum(v, 0)
    if abits > bits:
        v = v >> (abits - bits)
    return np.ascontiguousarray(np.minimum(v, (1 << bits) - 1), dtype=np.int64)


@dataclass
class _Stats:
    """Per-row and per-OU-group sums for one layer, normalized per input vector."""

    drive: np.ndarray        # [rows] sum over cycles of normalized digits
    nonzero: np.ndarray      # [rows] nonzero digits over cycles
    zero: np.ndarray         # [groups] zero bit-slices over cycles
    gsum: np.ndarray         # [rows, col_tiles] relative conductance of the row's cells
    nz_ous: np.ndarray | None   # [groups, col_tiles] live OUs (None: every OU)
    nz_cols: np.ndarray | None
    vectors: int
    source: str


def _default_stats(lay: Layer, design: Design, tiling: Tiling, g_min: float) -> _Stats:
    d, a = design, design.activity
    rows, xr, our = lay.weight_rows, d.crossbar.rows, d.crossbar.ou_rows
    q, db, cyc = a.input_one_fraction, d.dac.bits, d.input_cycles
    # one entry per OU row group, tile by tile (the groups of pimsim.kernels.ou_activity)
    sizes = np.array([min(o + our, min(t + xr, rows)) - o for t in range(0, rows, xr)
                      for o in range(t, min(t + xr, rows), our)], dtype=np.float64)
    zero = (1.0 - q) ** (sizes * db) * cyc                      # independent bits
    cells = np.array([min(j + d.weights_per_crossbar_row, lay.weight_cols) - j
                      for j in range(0, lay.weight_cols, d.weights_per_crossbar_row)],
                     dtype=np.float64) * d.cells_per_weight
    g = g_min + (1.0 - g_min) * a.cell_level_fraction
    return _Stats(drive=np.full(rows, q * cyc), nonzero=np.full(rows, (1 - (1 - q) ** db) * cyc),
                  zero=zero, gsum=np.tile(cells * g, (rows, 1)),
                  nz_ous=None, nz_cols=None, vectors=0, source="default")


def _trace_stats(trace, lay: Layer, design: Design, g_min: float, weights: bool,
                 transform=None) -> _Stats:
    # numba kernels, imported here: a run on a shape-only trace never loads numba
    # (its one-time load costs ~0.4 s per process, docs/performance.md "Start-up")
    from pimsim.kernels.ou_activity import input_activity, weight_activity

    d = design
    xr, our, ouc = d.crossbar.rows, d.crossbar.ou_rows, d.crossbar.ou_cols
    vec = input_vectors(trace, lay, d.precision.input_bits, transform)
    drive, nonzero, zero = input_activity(vec, d.input_cycles, d.dac.bits, xr, our)
    m = max(vec.shape[0], 1)
    wq = unrolled_weight(int_weights(trace, lay, d.precision.weight_bits), lay)[0]
    levels = crossbar_levels(wq, d)
    xb_cells = d.weights_per_crossbar_row * d.cells_per_weight
    max_level = (1 << d.crossbar.bits_per_cell) - 1
    gsum, nz_ous, nz_cols = weight_activity(levels, max_level, g_min, xr, our, xb_cells, ouc)
    return _Stats(drive=drive / m, nonzero=nonzero / m, zero=zero / m, gsum=gsum,
                  nz_ous=nz_ous if weights else None, nz_cols=nz_cols if weights else None,
                  vectors=int(vec.shape[0]), source="trace")


def layer_override(lay: Layer, design: Design, tiling: Tiling, st: _Stats,
                   g_min: float) -> tuple[LayerOverride, LayerActivity]:
    """The skipped fractions, read-energy scale and support counts of one layer."""
    d, a = design, design.activity
    xr, our, ouc, cyc = d.crossbar.rows, d.crossbar.ou_rows, d.crossbar.ou_cols, d.input_cycles
    ct_n = max(tiling.col_tiles, 1)
    starts = np.cumsum([0] + [-(-min(xr, lay.weight_rows - t) // our)
                              for t in range(0, lay.weight_rows, xr)])
    z = st.zero / cyc if a.skip_zero_inputs else np.zeros_like(st.zero)   # per bit-slice
    nz_group = np.array([st.nonzero[o: o + our].sum() for t in range(0, lay.weight_rows, xr)
                         for o in range(t, min(t + xr, lay.weight_rows), our)])
    dense = np.zeros(4)          # OU reads, conversions, drives (per vector), max steps
    kept = np.zeros(3)
    slowest = 0.0
    for x in range(tiling.crossbars):
        r, c = int(tiling.rows[x]), int(tiling.cols[x])
        t, ct = (x // ct_n) % max(tiling.row_tiles, 1), x % ct_n
        if tiling.tile_of is not None:        # a technique's packed crossbars
            t = min(int(tiling.tile_of[x]), len(starts) - 2)
        nr, nc = -(-r // our), -(-c // ouc)
        g0, g1 = int(starts[t]), int(starts[t]) + nr
        if st.nz_ous is not None and tiling.groups_per_crossbar == 1:
            ous, cols = st.nz_ous[g0:g1, ct].astype(float), st.nz_cols[g0:g1, ct].astype(float)
        else:
            ous, cols = np.full(nr, float(nc)), np.full(nr, float(c))
        steps = ((1.0 - z[g0:g1]) * ous).sum()
        dense += (nr * nc, nr * c, r * nc * cyc, 0)
        kept += (steps, ((1.0 - z[g0:g1]) * cols).sum(), (nz_group[g0:g1] * ous).sum())
        dense[3] = max(dense[3], nr * nc)
        slowest = max(slowest, steps)
    # crossbar read energy: sum over rows of drive x the row's conductance (all its column
    # tiles), against the reference: every used cell driven full scale every cycle at g_ref
    g_ref = g_min + (1.0 - g_min) * REF_LEVEL
    used_cells = float((tiling.rows * tiling.cols).sum())
    energy = float((st.drive * st.gsum.sum(axis=1)).sum()) / g_ref if used_cells else 0.0
    e_frac = energy / (cyc * used_cells) if used_cells else 1.0
    keep_reads = kept[0] / dense[0] if dense[0] else 1.0
    keep_conv = kept[1] / dense[1] if dense[1] else 1.0
    keep_drives = kept[2] / dense[2] if dense[2] else 1.0
    keep_time = slowest / dense[3] if dense[3] else 1.0
    extra: dict[str, float] = {}
    p = float(lay.out_positions)
    row_groups = float(sum(-(-int(r) // our) for r in tiling.rows))
    if a.skip_zero_inputs:
        extra[f"{ZERO_DETECTOR}.detect"] = p * cyc * row_groups
        extra[f"{CONTROL}.op"] = p * cyc * tiling.crossbars
    if a.skip_zero_weights:
        extra[f"{INDEX}.read"] = p * cyc * row_groups
    ov = LayerOverride(skip_reads=_skip(keep_reads), skip_drives=_skip(keep_drives),
                       skip_conversions=_skip(keep_conv), skip_cycles=_skip(keep_time),
                       read_energy_scale=e_frac / keep_reads if keep_reads > 0 else 0.0,
                       extra_counts=extra)
    total_ous = float(dense[0])
    zero_w = 0.0
    if st.nz_ous is not None and tiling.groups_per_crossbar == 1 and total_ous:
        zero_w = 1.0 - float(st.nz_ous.sum()) / total_ous
    row_cells = lay.weight_cols * d.cells_per_weight
    g_mean = float(st.gsum.sum()) / max(lay.weight_rows * row_cells, 1)
    info = LayerActivity(
        name=lay.name, source=st.source, vectors=st.vectors,
        drive_fraction=float(st.drive.sum() / (cyc * lay.weight_rows)),
        zero_slice_fraction=float(st.zero.sum() / (cyc * st.zero.size)) if st.zero.size else 0.0,
        zero_weight_ou_fraction=zero_w, conductance_factor=g_mean / g_ref,
        reads_kept=float(keep_reads), energy_scale=float(ov.read_energy_scale))
    return ov, info


def _skip(keep: float) -> float:
    """A kept fraction as a skipped one, exactly 0.0 when nothing is skipped."""
    return float(min(max(1.0 - keep, 0.0), 1.0)) if keep < 1.0 else 0.0


def activity_overrides(trace, design: Design, overrides: Mapping[str, LayerOverride] | None = None,
                       g_min: float | None = None, act_transforms: Mapping | None = None
                       ) -> tuple[dict[str, LayerOverride], dict[str, LayerActivity]]:
    """``({layer: LayerOverride}, {layer: LayerActivity})`` of every MVM layer of ``trace``
    (a :class:`pimsim.workload.trace.Trace`, or a bare Network for default statistics) on
    ``design``, merged with a technique's ``overrides`` (their tilings are used; their
    kept fractions multiply; support counts add).

    ``g_min``: off / on conductance; default 1 / the crossbar table's ``on_off_ratio``.
    Weight-OU skipping and per-OU weight statistics use the plain tiling: under a
    technique's changed tiling (packed columns) no weight OU is skipped (conservative), and
    a packed crossbar takes the input statistics of its row tile in the plain layout
    (exact for packed columns; approximate for PIM-Prune's gathered rows).
    ``act_transforms``: ``{layer: callable}`` run-time changes of the input vectors (a
    technique's ``TechniqueOutcome.act_transforms``).
    """
    from pimsim.components.crossbar import ReRAMCrossbar

    d = design
    if g_min is None:
        table = d.components.get("crossbar", {})
        ratio = float(table.get("on_off_ratio", ReRAMCrossbar.PARAMS["on_off_ratio"].default))
        g_min = 1.0 / ratio if ratio > 0 else 0.0
    network = trace.network if hasattr(trace, "network") else trace
    # a shape-only trace (and a technique's synthetic stand-in for one) takes the defaults
    use_trace = d.activity.source == "trace" and getattr(trace, "has_tensors", False)
    ov_in = dict(overrides or {})
    out: dict[str, LayerOverride] = {}
    info: dict[str, LayerActivity] = {}
    for lay in network.mvm_layers:
        base = ov_in.get(lay.name)
        tiling = base.tiling if base is not None and base.tiling is not None else tile_layer(lay, d)
        plain = base is None or base.tiling is None
        if (use_trace and lay.groups == 1 and trace.has(lay.name, "act")
                and (trace.has(lay.name, "weight_q") or trace.has(lay.name, "weight"))):
            st = _trace_stats(trace, lay, d, g_min, weights=plain and d.activity.skip_zero_weights,
                              transform=(act_transforms or {}).get(lay.name))
        else:
            st = _default_stats(lay, d, tiling, g_min)
        ov, info[lay.name] = layer_override(lay, d, tiling, st, g_min)
        if st.source == "default" and _identity(d):
            ov = LayerOverride()            # ISAAC's accounting exactly (no float noise)
        out[lay.name] = merge(base, ov) if base is not None else ov
    return out, info


def _identity(design: Design) -> bool:
    """Default statistics that change nothing: every bit 1, mean levels, no skipping."""
    a = design.activity
    return (a.input_one_fraction == 1.0 and a.cell_level_fraction == REF_LEVEL
            and not a.skip_zero_inputs and not a.skip_zero_weights)


def workload_overrides(trace, design: Design,
                       overrides: Mapping[str, LayerOverride] | None = None,
                       act_transforms: Mapping | None = None) -> dict[str, LayerOverride]:
    """The overrides ``pimsim run`` simulates: the activity of ``trace`` (a Trace, a
    Network or a trace path) on ``design``, merged with a technique's ``overrides``;
    layers whose override changes nothing are left out."""
    if isinstance(trace, (str, bytes)) or hasattr(trace, "__fspath__"):
        from pimsim.workload.trace import load_trace

        trace = load_trace(trace)
    out, _ = activity_overrides(trace, design, overrides, act_transforms=act_transforms)
    return {k: v for k, v in out.items() if v != LayerOverride()}


def merge(a: LayerOverride, b: LayerOverride) -> LayerOverride:
    """Two overrides of one layer as one: ``a``'s tiling, kept fractions multiplied, energy
    scales multiplied, support counts added."""
    def both(x: float, y: float) -> float:
        return _skip((1.0 - x) * (1.0 - y))

    extra = dict(a.extra_counts)
    for k, v in b.extra_counts.items():
        extra[k] = extra.get(k, 0.0) + v
    return replace(a, skip_reads=both(a.skip_reads, b.skip_reads),
                   skip_drives=both(a.skip_drives, b.skip_drives),
                   skip_conversions=both(a.skip_conversions, b.skip_conversions),
                   skip_cycles=both(a.skip_cycles, b.skip_cycles),
                   read_energy_scale=a.read_energy_scale * b.read_energy_scale,
                   extra_counts=extra)
