"""Per-layer operation counts for one image (numba kernel + plain-numpy reference).

Inputs are flat arrays so the kernel sees no Python objects:

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
from numba import njit

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


@njit(cache=True)
def ou_geometry(rows, cols, ou_rows, ou_cols):
    """``(steps, drives, conversions)`` per input bit-slice of one crossbar with ``rows`` x
    ``cols`` converted columns read one OU at a time (``ou_cols``: conversions per OU read,
    ``Design.ou_conversions``; ``ou_* <= 0``: the whole crossbar)."""
    nr = 1 if ou_rows <= 0 else (rows + ou_rows - 1) // ou_rows
    nc = 1 if ou_cols <= 0 else (cols + ou_cols - 1) // ou_cols
    return nr * nc, rows * nc, nr * cols


@njit(cache=True)
def mvm_counts(out, p, steps, rows, drives, conv, outs, input_cycles, input_bits, output_bits):
    """Write into the row ``out`` the crossbar-path counts of ``p`` output positions of a
    copy whose crossbars do ``steps`` OU reads, ``drives`` row drives and ``conv``
    conversions per input bit-slice in total (:func:`ou_geometry`), with ``rows`` used
    rows and ``outs`` output values: the one place these rules live (the closed form per
    layer, the engine's ``fast`` units per unit)."""
    ir_bits = p * rows * input_bits
    or_bits = p * outs * output_bits
    n_conv = p * input_cycles * conv
    out[A_XB] = p * steps * input_cycles
    out[A_DAC] = p * input_cycles * drives
    out[A_SH] = n_conv
    out[A_ADC] = n_conv
    out[A_SA] = n_conv
    out[A_IR] = 2.0 * ir_bits
    out[A_OR] = 2.0 * or_bits
    out[A_EDRAM] = 2.0 * (ir_bits + or_bits)
    out[A_BUS] = ir_bits + or_bits
    out[A_TOR] = 2.0 * or_bits


@njit(cache=True)
def copy_geometry(layer_ptr, xb_rows, xb_cols, xb_outs, ou_rows, ou_cols):
    """[layers, 5] float64 per copy and bit-slice: OU steps, used rows, drives,
    conversions, outputs (sums over the layer's crossbars, :func:`ou_geometry`)."""
    n = layer_ptr.shape[0] - 1
    out = np.zeros((n, 5), dtype=np.float64)
    for layer in range(n):
        for x in range(layer_ptr[layer], layer_ptr[layer + 1]):
            steps, drives, conv = ou_geometry(xb_rows[x], xb_cols[x], ou_rows, ou_cols)
            out[layer, 0] += steps
            out[layer, 1] += xb_rows[x]
            out[layer, 2] += drives
            out[layer, 3] += conv
            out[layer, 4] += xb_outs[x]
    return out


@njit(cache=True)
def max_steps(layer_ptr, xb_rows, xb_cols, ou_rows, ou_cols):
    """int64 [layers]: OU reads per input bit-slice of each layer's slowest crossbar
    (its crossbars read in parallel; 1 when the OU is the whole array)."""
    n = layer_ptr.shape[0] - 1
    out = np.zeros(n, dtype=np.int64)
    for layer in range(n):
        for x in range(layer_ptr[layer], layer_ptr[layer + 1]):
            steps, _, _ = ou_geometry(xb_rows[x], xb_cols[x], ou_rows, ou_cols)
            out[layer] = max(out[layer], steps)
    return out


@njit(cache=True)
def layer_counts(layer_ptr, xb_rows, xb_cols, xb_outs, scalars, input_cycles, input_bits,
                 output_bits, avg_hops, ou_rows=0, ou_cols=0):
    """Counts [layers, len(ACTIONS)] for one image (rules in the module doc)."""
    n = layer_ptr.shape[0] - 1
    out = np.zeros((n, N_ACTIONS), dtype=np.float64)
    geo = copy_geometry(layer_ptr, xb_rows, xb_cols, xb_outs, ou_rows, ou_cols)
    for layer in range(n):
        p = float(scalars[layer, S_POS])
        mvm_counts(out[layer], p, geo[layer, 0], geo[layer, 1], geo[layer, 2], geo[layer, 3],
                   geo[layer, 4], input_cycles, input_bits, output_bits)
        out[layer, A_ROUTER] = scalars[layer, S_NOC] * avg_hops
        out[layer, A_ACT] = scalars[layer, S_ACT]
        out[layer, A_TSA] = p * scalars[layer, S_MERGE] + scalars[layer, S_ADD]
        out[layer, A_POOL] = scalars[layer, S_POOL]
        out[layer, A_OFF] = scalars[layer, S_OFF]
    return out


def _geometry_reference(layer_ptr, xb_rows, xb_cols, ou_rows, ou_cols):
    """Plain-numpy per-layer sums of OU steps, drives and conversions."""
    n = layer_ptr.shape[0] - 1
    seg = np.repeat(np.arange(n), np.diff(layer_ptr))
    r, c = xb_rows.astype(np.float64), xb_cols.astype(np.float64)
    nr = np.ceil(r / ou_rows) if ou_rows > 0 else np.ones_like(r)
    nc = np.ceil(c / ou_cols) if ou_cols > 0 else np.ones_like(c)
    return tuple(np.bincount(seg, weights=v, minlength=n) for v in (nr * nc, r * nc, nr * c))


def _reference(layer_ptr, xb_rows, xb_cols, xb_outs, scalars, input_cycles, input_bits,
               output_bits, avg_hops, ou_rows=0, ou_cols=0):
    """Plain-numpy twin of :func:`layer_counts`."""
    n = layer_ptr.shape[0] - 1
    seg = np.repeat(np.arange(n), np.diff(layer_ptr))
    rows = np.bincount(seg, weights=xb_rows.astype(np.float64), minlength=n)
    outs = np.bincount(seg, weights=xb_outs.astype(np.float64), minlength=n)
    steps, drives, cols = _geometry_reference(layer_ptr, xb_rows, xb_cols, ou_rows, ou_cols)
    s = scalars.astype(np.float64)
    p = s[:, S_POS]
    ir_bits, or_bits = p * rows * input_bits, p * outs * output_bits
    conv = p * input_cycles * cols
    cols_by_action = {
        A_XB: p * steps * input_cycles, A_DAC: p * input_cycles * drives, A_SH: conv,
        A_ADC: conv, A_SA: conv, A_IR: 2 * ir_bits, A_OR: 2 * or_bits,
        A_EDRAM: 2 * (ir_bits + or_bits), A_BUS: ir_bits + or_bits,
        A_ROUTER: s[:, S_NOC] * avg_hops, A_ACT: s[:, S_ACT],
        A_TSA: p * s[:, S_MERGE] + s[:, S_ADD], A_POOL: s[:, S_POOL], A_TOR: 2 * or_bits,
        A_OFF: s[:, S_OFF],
    }
    out = np.zeros((n, N_ACTIONS))
    for a, v in cols_by_action.items():
        out[:, a] = v
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
