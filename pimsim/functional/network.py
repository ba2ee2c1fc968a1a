"""A trace's network run on real inputs through a design point's crossbars.

Every MVM layer's input is quantized with the trace's own activation quantization
(``act_quant``), unrolled (im2col) into unsigned input codes, and multiplied by the
trace's integer weights (``weight_q``) either

* digitally (:func:`reference_mvm`, the integer reference: exact products in float64), or
* through the design point (:class:`HardwareModel`): weights in cells by the design's
  bit slicing and signed scheme, inputs streamed in DAC slices, one conversion per column
  per crossbar row block and cycle, shift-and-add, the offset/zero-point terms subtracted
  digitally (``pimsim.functional.kernel``), with the device effects of
  ``pimsim.functional.devices``.

The layer's digital units then scale the integer sums to real values
(``y = sum * act_scale * weight_scale + bias``) and run ReLU, pooling, adds and flatten
in float32, as ``pimsim.techniques.accuracy`` does for the digital model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pimsim.config.schema import Design
from pimsim.errors import PimsimError
from pimsim.functional import devices
from pimsim.functional.cells import Datapath, map_weights
from pimsim.functional.kernel import crossbar_mvm, crossbar_mvm_reference
from pimsim.techniques.accuracy import _pool
from pimsim.workload.layer import NETWORK_INPUT, Layer
from pimsim.workload.unroll import input_rows

#: ``mvm(layer, codes (P, groups, rows) unsigned ints, zero_point) -> (P, groups * cols)``
#: float64 integer sums ``sum_i (code_i - zero_point) * w_i``.
Mvm = Callable[[Layer, np.ndarray, int], np.ndarray]

FLOAT32_EXACT = 1 << 24
"""Integers up to 2**24 are exact in float32: column sums below it accumulate in float32."""


def quantize(x: np.ndarray, quant: tuple[float, int, int]) -> np.ndarray:
    """Unsigned activation codes of real ``x`` (the exporter's and accuracy.py's rule)."""
    scale, zp, bits = quant
    q = np.clip(np.rint(x / np.float32(scale)) + zp, 0, (1 << bits) - 1)
    dtype = np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32
    return q.astype(dtype)


def layer_codes(codes: np.ndarray, lay: Layer, zp: int) -> np.ndarray:
    """im2col input codes ``(P, groups, rows)``; padding holds the code of real 0 (``zp``)."""
    if zp == 0:
        return input_rows(codes, lay)
    rows = input_rows(codes.astype(np.int64) - zp, lay) + zp
    return rows.astype(codes.dtype)


def weight_groups(wq: np.ndarray, lay: Layer) -> np.ndarray:
    """``(groups, rows, cols)`` integer weight matrices (row = input) of a layer."""
    g, wr, wc = lay.groups, lay.weight_rows, lay.weight_cols
    return np.ascontiguousarray(np.asarray(wq, np.int64).reshape(g, wc, wr).transpose(0, 2, 1))


def reference_mvm(weights: dict[str, np.ndarray]) -> Mvm:
    """The integer reference: ``sum_i (code_i - zp) * w_i`` computed digitally (exact)."""
    def mvm(lay: Layer, codes: np.ndarray, zp: int) -> np.ndarray:
        wg = weight_groups(weights[lay.name], lay).astype(np.float64)
        x = codes.astype(np.float64) - zp
        return np.concatenate([x[:, g, :] @ wg[g] for g in range(lay.groups)], axis=1)
    return mvm


@dataclass
class _Group:
    g: np.ndarray            # (rows, ncols) conductances seen by the kernel, level units
    flip: np.ndarray         # (blocks, ncols) uint8
    offset: np.ndarray       # (blocks, ncols) ADC offsets in LSB
    weight_sum: np.ndarray   # (cols,) digital zero-point term


class HardwareModel:
    """The crossbars of one design point holding one trace's weights, for one seed.

    Programming (variation, faults, drift, IR drop) happens at construction with
    ``numpy.random.default_rng([seed, layer index])``; read and ADC noise are drawn per
    conversion from a hash of the seed inside the kernel. ``use_numba=False`` runs the
    plain-numpy reference kernel instead.
    """

    def __init__(self, design: Design, weights: dict[str, np.ndarray], layers: list[Layer],
                 seed: int = 0, use_numba: bool = True, adc_bits: int | None = None):
        self.design = design
        self.dp = Datapath.from_design(design, adc_bits)
        self.ni = design.nonideal
        self.seed = seed
        self.use_numba = use_numba
        if not 1 <= self.dp.adc_bits <= 32:
            raise PimsimError("ADC resolution out of range", where="nonideal.adc_bits",
                              found=self.dp.adc_bits, expected="1..32 bits")
        self.lsb, self.lo, self.hi = self.dp.adc_transfer()
        self.g_off = devices.g_off_levels(self.ni, self.dp)
        self.groups: dict[str, list[_Group]] = {}
        limit = (1 << (self.dp.weight_bits - 1)) - 1
        for index, lay in enumerate(layers):
            wq = np.asarray(weights[lay.name])
            if wq.size and int(np.abs(wq).max()) > limit:
                raise PimsimError("trace weights need more bits than the design point stores",
                                  where=f"layer {lay.name!r}: weight_q",
                                  found=f"|w| up to {int(np.abs(wq).max())}",
                                  expected=f"at most {limit} (precision.weight_bits = "
                                           f"{self.dp.weight_bits})")
            rng = np.random.default_rng([seed, index])
            self.groups[lay.name] = [self._program(w, rng) for w in weight_groups(wq, lay)]

    def _program(self, w: np.ndarray, rng: np.random.Generator) -> _Group:
        dp, ni = self.dp, self.ni
        m = map_weights(w, dp)
        ctx = devices.CellContext(ni, dp, self.g_off, m.row_pos, m.col_pos)
        g = devices.conductances(m.pos, ctx, rng)
        if m.neg is not None:
            ctx_neg = devices.CellContext(ni, dp, self.g_off, m.row_pos, m.col_pos + 1)
            g = g - devices.conductances(m.neg, ctx_neg, rng)
        exact = dp.max_column_sum < FLOAT32_EXACT and dp.rows * self.g_off < FLOAT32_EXACT
        g = np.ascontiguousarray(g, np.float32 if exact else np.float64)
        # One static offset per ADC: ADC k of a crossbar converts its columns k, k+A, ...
        blocks = m.flip.shape[0]
        offset = np.zeros(m.flip.shape, np.float64)
        if ni.adc_offset_sigma_lsb > 0:
            col_block = np.arange(w.shape[1]).repeat(dp.slices) // dp.weights_per_row
            adc = m.col_pos % dp.adc_per_crossbar
            n_adc = (int(col_block.max()) + 1) * dp.adc_per_crossbar
            draws = ni.adc_offset_sigma_lsb * rng.standard_normal((blocks, n_adc))
            offset = np.ascontiguousarray(draws[:, col_block * dp.adc_per_crossbar + adc])
        return _Group(g, m.flip, offset, m.weight_sum)

    def mvm(self, lay: Layer, codes: np.ndarray, zp: int, first: int = 0) -> np.ndarray:
        """Integer-valued sums ``(P, groups * cols)`` of the crossbars for im2col ``codes``.

        ``first``: index of the first input vector in the whole run (keeps the noise of an
        input vector independent of the batching)."""
        dp = self.dp
        kernel = crossbar_mvm if self.use_numba else crossbar_mvm_reference
        g_off_sub = self.g_off if dp.scheme == "offset" else 0.0
        outs = []
        for gi, grp in enumerate(self.groups[lay.name]):
            x = np.ascontiguousarray(codes[:, gi, :])
            if x.size and int(x.max()) >> dp.input_bits:
                raise PimsimError("trace activations need more bits than the design streams",
                                  where=f"layer {lay.name!r}: act", found=int(x.max()),
                                  expected=f"codes below 2**{dp.input_bits} "
                                           f"(precision.input_bits)")
            seed = (self.seed * 1_000_003 + hash_name(lay.name) * 131 + gi) * 4_194_304 + first
            cols = kernel(x, grp.g, grp.flip, grp.offset, dp.rows, dp.dac_bits, dp.cycles,
                          self.lsb, self.lo, self.hi, float(dp.levels_max), g_off_sub,
                          self.ni.read_noise_sigma, self.ni.adc_noise_sigma_lsb,
                          seed & 0xFFFFFFFFFFFFFFFF)
            n, ncols = cols.shape
            shifts = (2.0 ** (np.arange(dp.slices) * dp.bits_per_cell))
            y = cols.reshape(n, ncols // dp.slices, dp.slices) @ shifts
            xsum = x.sum(axis=1, dtype=np.int64).astype(np.float64)
            if dp.scheme == "offset":
                y -= float(1 << (dp.weight_bits - 1)) * xsum[:, None]
            if zp:
                y -= float(zp) * grp.weight_sum[None, :].astype(np.float64)
            outs.append(y)
        return np.concatenate(outs, axis=1)


def hash_name(name: str) -> int:
    """A stable (process-independent) small hash of a layer name."""
    h = 0
    for ch in name.encode():
        h = (h * 31 + ch) % 1_000_000_007
    return h


def forward(trace, x: np.ndarray, mvm: Mvm, weights: dict[str, np.ndarray] | None = None,
            capture: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Logits ``(N, classes)`` of the trace's network on images ``x`` with MVMs by ``mvm``.

    ``capture``: if given, filled with each MVM layer's integer sums ``(P, groups*cols)``."""
    vals: dict[str, np.ndarray] = {NETWORK_INPUT: np.asarray(x, np.float32)}
    last = None
    for lay in trace.network:
        ins = [vals[s] for s in lay.inputs]
        if lay.is_mvm:
            quant = trace.act_quant(lay.name)
            scale, zp, _ = quant
            codes = layer_codes(quantize(ins[0], quant), lay, zp)
            sums = mvm(lay, codes, zp)
            if capture is not None:
                capture[lay.name] = sums
            wscale = float(trace.info(lay.name, "weight_q").scale)
            y = (sums * (scale * wscale)).astype(np.float32)
            if trace.has(lay.name, "bias"):
                y = y + trace.bias(lay.name).astype(np.float32)
            c_out, ho, wo = lay.out_shape
            y = np.ascontiguousarray(y.reshape(len(ins[0]), ho, wo, c_out).transpose(0, 3, 1, 2))
        elif lay.kind == "relu":
            y = np.maximum(ins[0], 0.0)
        elif lay.kind == "maxpool":
            y = _pool(ins[0], lay, np.maximum)
        elif lay.kind == "avgpool":
            y = _pool(ins[0], lay, np.add).astype(np.float32)
        elif lay.kind == "add":
            y = sum(ins[1:], ins[0])
        elif lay.kind == "flatten":
            y = ins[0].reshape(ins[0].shape[0], -1, 1, 1)
        else:
            raise PimsimError(f"layer kind {lay.kind!r} cannot be executed",
                              where=f"layer {lay.name!r}")
        vals[lay.name] = y
        last = y
    return last.reshape(last.shape[0], -1)


def trace_weights(trace) -> dict[str, np.ndarray]:
    """The integer weights ``weight_q`` of every MVM layer (TraceError if one is missing)."""
    return {lay.name: trace.weight_q(lay.name)[0] for lay in trace.network.mvm_layers}
