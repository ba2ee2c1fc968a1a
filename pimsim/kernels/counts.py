"""Per-layer operation counts for one image (vectorized numpy + plain-Python references).

These rules are arithmetic over a few thousand crossbars, done once per run: numpy
vectorized over crossbars takes milliseconds, while a numba kernel would cost every
process numba's one-time load of its cached code (its CPU target and registries, which
import scipy.linalg: ~0.4 s, docs/performance.md "Start-up"), more than the whole
computation. numba is kept for the kernels that walk cells or activations
(``endurance``, ``ou_activity``, ``bitstats``, ``ou_stats``).

Inputs are flat arrays:

* ``layer_ptr`` [L+1]: crossbars of layer ``l`` (one copy) are ``layer_ptr[l]:layer_ptr[l+1]``
  of ``xb_rows`` / ``xb_cols`` / ``xb_outs`` (used rows, used columns, output values);
* ``scalars`` [L, N_SCALARS] int64: per-layer numbers, columns named by ``S_*`` below;
* design numbers: input cycles, input bits, output bits, NoC average hops, and the
  operation unit (OU) ``ou_rows x ou_cols`` (0 = the whole crossbar, ISAAC).

Operation units (docs/mapping.md#operation-units): a crossbar with ``r`` used rows and
``c`` used columns is cut into ``nr = ceil(r / ou_rows)`` row groups and ``nc = ceil(c /
ou_cols)`` column groups; per input bit-slice it activates its ``nr x nc`` OUs one after
the other. Each activation drives the OU's rows and converts its columns, so per bit-slice
a crossbar does ``nr x nc`` reads (``steps``), ``r x nc`` row drives and ``nr x c``
conversions (each row group's partial sums are converted and shift-added separately).
With the whole array as one OU these are 1, ``r`` and ``c``: ISAAC's counts.

Output: float64 [L, len(ACTIONS)], one column per ``"role.action"`` in ``ACTIONS``.
Rules (the same as ``pimsim.arch.rollup.peak_activity``; docs/mapping.md):

=================================  ======================================================
crossbar.read                      P x cycles x sum(OU steps)       (OU activations)
dac.drive                          P x cycles x sum(used rows x nc)
sample_hold.sample, adc.convert,   P x cycles x sum(nr x used cols)
shift_add.accumulate
input_register.access              2 x IR bits, IR bits = P x sum(used rows) x input_bits
output_register.access             2 x OR bits, OR bits = P x sum(outputs) x output_bits
edram.access                       2 x (IR bits + OR bits)
bus.transfer                       IR bits + OR bits
tile_output_register.access        2 x OR bits
tile_shift_add.accumulate          P x row-tile merges + residual-add ops
router.transfer                    NoC bits received x noc.avg_hops (the closed form and
                                   the engine replace it with the mesh's bits x hops:
                                   pimsim.sim.noc)
activation.op / maxpool.op         activation / pooling ops of the layer
offchip_link.transfer              off-chip bits of the layer
=================================  ======================================================
"""

from __future__ import annotations

import numpy as np

ACTIONS = (
    "crossbar.read",
    "dac.drive",
    "sample_hold.sample",
    "adc.convert",
    "shift_add.accumulate",
    "input_register.access",
    "output_register.access",
    "edram.access",
    "bus.transfer",
    "router.transfer",
    "activation.op",
    "tile_shift_add.accumulate",
    "maxpool.op",
    "tile_output_register.access",
    "offchip_link.transfer",
)
(A_XB, A_DAC, A_SH, A_ADC, A_SA, A_IR, A_OR, A_EDRAM, A_BUS, A_ROUTER, A_ACT, A_TSA, A_POOL,
 A_TOR, A_OFF) = range(len(ACTIONS))

N_ACTIONS = len(ACTIONS)

SCALARS = ("positions", "merges_per_position", "activation_ops", "pool_ops", "add_ops",
           "noc_bits", "offchip_bits")
S_POS, S_MERGE, S_ACT, S_POOL, S_ADD, S_NOC, S_OFF = range(len(SCALARS))


def copy_geometry(layer_ptr, xb_rows, xb_cols, xb_outs, ou_rows, ou_cols):
    """[layers, 5] float64 per copy and bit-slice: OU steps, used rows, drives,
    conversions, outputs (sums over the layer's crossbars; OU rules in the module doc)."""
    n = layer_ptr.shape[0] - 1
    seg = np.repeat(np.arange(n), np.diff(layer_ptr))
    r, c = xb_rows.astype(np.float64), xb_cols.astype(np.float64)
    nr = np.ceil(r / ou_rows) if ou_rows > 0 else np.ones_like(r)
    nc = np.ceil(c / ou_cols) if ou_cols > 0 else np.ones_like(c)
    out = np.zeros((n, 5), dtype=np.float64)
    for j, v in enumerate((nr * nc, r, r * nc, nr * c, xb_outs.astype(np.float64))):
        out[:, j] = np.bincount(seg, weights=v, minlength=n)
    return out


def max_steps(layer_ptr, xb_rows, xb_cols, ou_rows, ou_cols):
    """int64 [layers]: OU reads per input bit-slice of each layer's slowest crossbar
    (its crossbars read in parallel; 1 when the OU is the whole array; 0 for a layer
    without crossbars)."""
    n = layer_ptr.shape[0] - 1
    seg = np.repeat(np.arange(n), np.diff(layer_ptr))
    r, c = np.asarray(xb_rows, dtype=np.int64), np.asarray(xb_cols, dtype=np.int64)
    nr = -(-r // ou_rows) if ou_rows > 0 else np.ones_like(r)
    nc = -(-c // ou_cols) if ou_cols > 0 else np.ones_like(c)
    out = np.zeros(n, dtype=np.int64)
    np.maximum.at(out, seg, nr * nc)
    return out


def mvm_columns(p, geo, input_cycles, input_bits, output_bits) -> dict[int, np.ndarray]:
    """The crossbar-path counts of ``p`` output positions (array) of copies with geometry
    rows ``geo`` (:func:`copy_geometry`, one row per entry of ``p``), by action column:
    the one place these rules live (the closed form per layer, the engine per unit)."""
    steps, rows, drives, conv, outs = geo.T
    ir_bits = p * rows * input_bits
    or_bits = p * outs * output_bits
    n_conv = p * input_cycles * conv
    return {A_XB: p * steps * input_cycles, A_DAC: p * input_cycles * drives, A_SH: n_conv,
            A_ADC: n_conv, A_SA: n_conv, A_IR: 2.0 * ir_bits, A_OR: 2.0 * or_bits,
            A_EDRAM: 2.0 * (ir_bits + or_bits), A_BUS: ir_bits + or_bits,
            A_TOR: 2.0 * or_bits}


def layer_counts(layer_ptr, xb_rows, xb_cols, xb_outs, scalars, input_cycles, input_bits,
                 output_bits, avg_hops, ou_rows=0, ou_cols=0):
    """Counts [layers, len(ACTIONS)] for one image (rules in the module doc)."""
    n = layer_ptr.shape[0] - 1
    geo = copy_geometry(layer_ptr, xb_rows, xb_cols, xb_outs, ou_rows, ou_cols)
    s = scalars.astype(np.float64)
    p = s[:, S_POS]
    out = np.zeros((n, N_ACTIONS), dtype=np.float64)
    for a, v in mvm_columns(p, geo, input_cycles, input_bits, output_bits).items():
        out[:, a] = v
    out[:, A_ROUTER] = s[:, S_NOC] * avg_hops
    out[:, A_ACT] = s[:, S_ACT]
    out[:, A_TSA] = p * s[:, S_MERGE] + s[:, S_ADD]
    out[:, A_POOL] = s[:, S_POOL]
    out[:, A_OFF] = s[:, S_OFF]
    return out


# -- plain-Python references (crossbar by crossbar, layer by layer), for the tests ------

def ou_geometry(rows: int, cols: int, ou_rows: int, ou_cols: int) -> tuple[int, int, int]:
    """``(steps, drives, conversions)`` per input bit-slice of one crossbar with ``rows`` x
    ``cols`` converted columns read one OU at a time (``ou_cols``: conversions per OU read,
    ``Design.ou_conversions``; ``ou_* <= 0``: the whole crossbar)."""
    nr = 1 if ou_rows <= 0 else (rows + ou_rows - 1) // ou_rows
    nc = 1 if ou_cols <= 0 else (cols + ou_cols - 1) // ou_cols
    return nr * nc, rows * nc, nr * cols


def ou_reads(rows: int, cols: int, ou_rows: int, ou_cols: int) -> list[tuple[int, int]]:
    """The OU reads of one input bit-slice of a crossbar with ``rows`` used rows and
    ``cols`` converted columns, one ``(rows driven, columns converted)`` pair per read, in
    the order the crossbar steps them: row group by row group, column group by column group
    (``ou_* <= 0``: the whole crossbar in one read). A plain walk over the array, written
    without the ``ceil`` formulas of :func:`copy_geometry`, for the references below."""
    step_r = rows if ou_rows <= 0 else ou_rows
    step_c = cols if ou_cols <= 0 else ou_cols
    reads = []
    r0 = 0
    while r0 < rows:
        driven = min(step_r, rows - r0)
        c0 = 0
        while c0 < cols:
            reads.append((driven, min(step_c, cols - c0)))
            c0 += step_c
        r0 += step_r
    return reads


def _position_reference(xbars, input_cycles: int, input_bits: int, output_bits: int,
                        ou_rows: int, ou_cols: int) -> dict[int, float]:
    """Crossbar-path counts of ONE output position of one copy whose crossbars are
    ``xbars`` = [(used rows, converted columns, output values)], counted read by read:
    every input bit-slice of every crossbar steps its OU reads (:func:`ou_reads`); a read
    is one ``crossbar.read``, drives its rows (``dac.drive`` each) and samples, converts
    and shift-adds its columns; the input register holds each used row's ``input_bits``
    input and the output register each output value's ``output_bits``, each written once
    and read once; the eDRAM sends the inputs to the IMA and takes the outputs back
    (written once, read once), both crossing the bus; the tile output register takes
    every output (written, read)."""
    c = dict.fromkeys((A_XB, A_DAC, A_SH, A_ADC, A_SA, A_IR, A_OR, A_EDRAM, A_BUS, A_TOR),
                      0.0)
    for rows, cols, outs in xbars:
        for _bit_slice in range(input_cycles):
            for driven, converted in ou_reads(rows, cols, ou_rows, ou_cols):
                c[A_XB] += 1
                c[A_DAC] += driven
                c[A_SH] += converted              # one S+H sample, conversion and
                c[A_ADC] += converted             # shift-add per converted column
                c[A_SA] += converted
        in_bits = rows * input_bits               # IR: the row inputs
        out_bits = outs * output_bits             # OR: the outputs
        c[A_IR] += in_bits + in_bits              # written by the bus, read by the DACs
        c[A_OR] += out_bits + out_bits            # written by the shift-adds, read out
        c[A_EDRAM] += in_bits + in_bits + out_bits + out_bits    # in: write, read; out: same
        c[A_BUS] += in_bits + out_bits            # eDRAM -> IR, OR -> eDRAM
        c[A_TOR] += out_bits + out_bits
    return c


def _layer_xbars(layer_ptr, xb_rows, xb_cols, xb_outs, layer: int) -> list[tuple[int, int, int]]:
    return [(int(xb_rows[x]), int(xb_cols[x]), int(xb_outs[x]))
            for x in range(int(layer_ptr[layer]), int(layer_ptr[layer + 1]))]


def _geometry_reference(layer_ptr, xb_rows, xb_cols, xb_outs, ou_rows, ou_cols):
    """Read-by-read twin of :func:`copy_geometry` (:func:`ou_reads` per crossbar)."""
    n = layer_ptr.shape[0] - 1
    out = np.zeros((n, 5), dtype=np.float64)
    for layer in range(n):
        for rows, cols, outs in _layer_xbars(layer_ptr, xb_rows, xb_cols, xb_outs, layer):
            reads = ou_reads(rows, cols, ou_rows, ou_cols)
            out[layer] += (len(reads), rows, sum(r for r, _ in reads),
                           sum(k for _, k in reads), outs)
    return out


def _max_steps_reference(layer_ptr, xb_rows, xb_cols, ou_rows, ou_cols):
    """Read-by-read twin of :func:`max_steps`."""
    n = layer_ptr.shape[0] - 1
    return np.array([max([len(ou_reads(int(xb_rows[x]), int(xb_cols[x]), ou_rows, ou_cols))
                          for x in range(layer_ptr[i], layer_ptr[i + 1])], default=0)
                     for i in range(n)], dtype=np.int64)


def _reference(layer_ptr, xb_rows, xb_cols, xb_outs, scalars, input_cycles, input_bits,
               output_bits, avg_hops, ou_rows=0, ou_cols=0):
    """Layer-by-layer twin of :func:`layer_counts`: one position's reads counted read by
    read (:func:`_position_reference`), times the layer's positions."""
    n = layer_ptr.shape[0] - 1
    out = np.zeros((n, N_ACTIONS), dtype=np.float64)
    for layer in range(n):
        p = float(scalars[layer, S_POS])
        one = _position_reference(_layer_xbars(layer_ptr, xb_rows, xb_cols, xb_outs, layer),
                                  input_cycles, input_bits, output_bits, ou_rows, ou_cols)
        for a, v in one.items():
            out[layer, a] = p * v
        out[layer, A_ROUTER] = scalars[layer, S_NOC] * avg_hops
        out[layer, A_ACT] = scalars[layer, S_ACT]
        out[layer, A_TSA] = p * scalars[layer, S_MERGE] + scalars[layer, S_ADD]
        out[layer, A_POOL] = scalars[layer, S_POOL]
        out[layer, A_OFF] = scalars[layer, S_OFF]
    return out


def apply_skips(counts: np.ndarray, skip_reads: np.ndarray, skip_drives: np.ndarray,
                skip_conversions: np.ndarray) -> np.ndarray:
    """Counts with per-layer run-time skipped fractions removed (technique hook).

    ``skip_reads`` scales ``crossbar.read``, ``skip_drives`` ``dac.drive`` and
    ``skip_conversions`` the S+H samples, ADC conversions and IMA shift-adds of each layer
    (fractions in [0, 1], from zero input bit-slices; ``pimsim.techniques``). A zero
    fraction multiplies by exactly 1.0, so the counts are unchanged bit for bit.
    """
    out = counts.copy()
    out[:, A_XB] *= 1.0 - np.asarray(skip_reads, dtype=np.float64)
    out[:, A_DAC] *= 1.0 - np.asarray(skip_drives, dtype=np.float64)
    keep = 1.0 - np.asarray(skip_conversions, dtype=np.float64)
    for a in (A_SH, A_ADC, A_SA):
        out[:, a] *= keep
    return out
