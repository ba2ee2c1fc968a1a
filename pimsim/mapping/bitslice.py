"""Weight bit-slicing onto ReRAM cells and the signed-weight schemes.

A ``weight_bits`` weight is cut into ``slices_per_weight = weight_bits / bits_per_cell``
slices, one per cell, side by side on one crossbar row (one column each). Signed weights:

* ``offset`` (ISAAC): the weight is stored biased (w + 2**(bits-1)) so every cell holds an
  unsigned level; the bias times the sum of the inputs is subtracted digitally. Columns
  per weight = slices. ISAAC's extra "unit" column that measures the input sum is not
  counted as a converted column (as in the peak-power roll-up).
* ``differential``: a positive and a negative column pair per slice; the pair's
  difference is taken in the analog domain before conversion (ISAAC-like and PRIME-like
  designs, MNSIM 2.0), so a pair is ONE sample, one ADC conversion and one shift-and-add.
  Columns per weight = 2 x slices (``Design.cells_per_weight`` already doubles);
  conversions per weight = slices.
* ``differential_both``: the same pairs, but both columns are converted and subtracted
  digitally: conversions per weight = 2 x slices (twice the ADC work of ``differential``).

A weight's slices never straddle two crossbars, so one crossbar row holds
``Design.weights_per_crossbar_row`` whole weights.
"""

from __future__ import annotations

from pimsim.config.schema import Design

SCHEMES = ("offset", "differential", "differential_both")


def columns_for(design: Design, n_weights):
    """Crossbar columns (cells) that ``n_weights`` weights of one row occupy."""
    return n_weights * design.cells_per_weight


def conversions_for(design: Design, n_weights):
    """ADC conversions one read of ``n_weights`` weights of one row needs (per input bit):
    one per column, or one per differential pair under ``differential``."""
    return n_weights * design.cells_per_weight // design.cells_per_conversion
