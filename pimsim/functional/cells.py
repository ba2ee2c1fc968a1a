"""How a design point stores a layer's integer weights in cells and converts column sums.

:class:`Datapath` holds the plain numbers of the design point the functional model needs
(precision, crossbar, DAC, ADC, signed scheme); :func:`map_weights` turns one weight group
``(rows, cols)`` of signed integers into cell levels, ISAAC's flip flags and each cell's
position in its crossbar (for IR drop). The slicing follows pimsim.mapping.bitslice and
docs/mapping.md: ``weight_bits / bits_per_cell`` slices per weight, LSB slice first.

* ``offset``: the cells hold ``u = w + 2**(weight_bits - 1)``; the digital side subtracts
  ``2**(weight_bits - 1) * sum(x)``. With ``adc.encoding`` a column whose levels sum to more
  than half its maximum is stored complemented (``levels_max - level``) and corrected
  digitally (ISAAC Sec. V), which halves the largest column sum.
* ``differential``: ``|w|`` sliced into a positive column (``w > 0``) and a negative one
  (``w < 0``); the pair's difference is taken before conversion by a signed ADC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pimsim.config.schema import Design


@dataclass(frozen=True)
class Datapath:
    """The numbers of one design point that decide what its crossbars compute."""

    weight_bits: int
    input_bits: int
    bits_per_cell: int
    dac_bits: int
    rows: int
    cols: int
    scheme: str            # "offset" | "differential"
    encoding: bool         # ISAAC's flipped-column encoding (offset scheme only)
    adc_bits: int
    adc_range: str         # "scale" | "clip"
    adc_per_crossbar: int

    @classmethod
    def from_design(cls, design: Design, adc_bits: int | None = None) -> "Datapath":
        ni = design.nonideal
        bits = adc_bits if adc_bits is not None else ni.adc_bits
        if not isinstance(bits, int):          # an unresolved 'auto'
            bits = design.adc.bits
        return cls(design.precision.weight_bits, design.precision.input_bits,
                   design.crossbar.bits_per_cell, design.dac.bits, design.crossbar.rows,
                   design.crossbar.cols, design.precision.signed_weights,
                   bool(design.adc.encoding) and design.precision.signed_weights == "offset",
                   int(bits), ni.adc_range, design.adc.per_crossbar)

    @property
    def levels_max(self) -> int:
        """Highest cell level, 2**bits_per_cell - 1."""
        return (1 << self.bits_per_cell) - 1

    @property
    def slices(self) -> int:
        return self.weight_bits // self.bits_per_cell

    @property
    def cycles(self) -> int:
        """DAC cycles per input: input_bits / dac_bits."""
        return -(-self.input_bits // self.dac_bits)

    @property
    def cells_per_weight(self) -> int:
        return self.slices * (2 if self.scheme == "differential" else 1)

    @property
    def weights_per_row(self) -> int:
        return self.cols // self.cells_per_weight

    @property
    def max_column_sum(self) -> int:
        """Largest |column sum| one conversion can see, in level x input units."""
        per_row = ((1 << self.dac_bits) - 1) * self.levels_max
        if self.encoding:
            return ((1 << self.dac_bits) - 1) * (self.rows * self.levels_max // 2)
        return self.rows * per_row

    @property
    def lossless_bits(self) -> int:
        """ADC bits that convert every possible column sum exactly (a sign bit added for
        the differential scheme's signed sums)."""
        bits = max(1, math.ceil(math.log2(self.max_column_sum + 1)))
        return bits + (1 if self.scheme == "differential" else 0)

    def adc_transfer(self) -> tuple[float, float, float]:
        """``(lsb, lo, hi)``: LSB in level units and the code range of the conversion.

        At or above :attr:`lossless_bits` the LSB is one level (exact). Below it, 'scale'
        keeps the full range with a power-of-two LSB of ``2**(lossless - bits)`` levels (the
        ADC drops low bits); 'clip' keeps a one-level LSB and saturates larger sums."""
        short = max(0, self.lossless_bits - self.adc_bits)
        lsb = float(1 << short) if self.adc_range == "scale" else 1.0
        if self.scheme == "differential":
            return lsb, -float(1 << (self.adc_bits - 1)), float((1 << (self.adc_bits - 1)) - 1)
        return lsb, 0.0, float((1 << self.adc_bits) - 1)


@dataclass(frozen=True)
class MappedGroup:
    """One weight group as cells: ``(rows, ncols)`` arrays over physical columns ordered
    ``weight column x slice`` (differential: ``pos``/``neg`` arrays of the pair)."""

    pos: np.ndarray          # int64 levels (offset: the only array)
    neg: np.ndarray | None   # int64 levels of the negative columns (differential)
    flip: np.ndarray         # uint8 (blocks, ncols): column stored complemented
    row_pos: np.ndarray      # int64 (rows,): row index inside its crossbar
    col_pos: np.ndarray      # int64 (ncols,): physical column inside its crossbar (pos cell)
    weight_sum: np.ndarray   # int64 (cols,): sum of each column's weights (zero-point term)


def slice_levels(u: np.ndarray, dp: Datapath) -> np.ndarray:
    """Unsigned ints ``(rows, cols)`` -> levels ``(rows, cols * slices)``, LSB slice first."""
    shifts = np.arange(dp.slices, dtype=np.int64) * dp.bits_per_cell
    lev = (np.asarray(u, np.int64)[:, :, None] >> shifts) & dp.levels_max
    return lev.reshape(u.shape[0], -1)


def map_weights(w: np.ndarray, dp: Datapath) -> MappedGroup:
    """Cells of one group's signed integer weights ``w (rows, cols)`` (row = input)."""
    w = np.asarray(w, np.int64)
    rows, cols = w.shape
    blocks = max(1, -(-rows // dp.rows))
    wpr = dp.weights_per_row
    col_local = np.arange(cols) % wpr
    s = np.arange(dp.slices)
    if dp.scheme == "differential":
        pos = slice_levels(np.maximum(w, 0), dp)
        neg = slice_levels(np.maximum(-w, 0), dp)
        col_pos = (col_local[:, None] * dp.cells_per_weight + 2 * s[None, :]).reshape(-1)
        flip = np.zeros((blocks, pos.shape[1]), np.uint8)
    else:
        pos = slice_levels(w + (1 << (dp.weight_bits - 1)), dp)
        neg = None
        col_pos = (col_local[:, None] * dp.cells_per_weight + s[None, :]).reshape(-1)
        flip = np.zeros((blocks, pos.shape[1]), np.uint8)
        if dp.encoding:
            for b in range(blocks):
                r0, r1 = b * dp.rows, min(rows, (b + 1) * dp.rows)
                over = pos[r0:r1].sum(axis=0) * 2 > (r1 - r0) * dp.levels_max
                flip[b] = over
                pos[r0:r1, over] = dp.levels_max - pos[r0:r1, over]
    return MappedGroup(pos, neg, flip, np.arange(rows) % dp.rows, col_pos, w.sum(axis=0))
