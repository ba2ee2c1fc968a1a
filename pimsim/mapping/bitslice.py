"""Weight bit-slicing onto ReRAM cells and the signed-weight schemes.

A ``weight_bits`` weight is cut into ``slices_per_weight = weight_bits / bits_per_cell``
slices, one per cell, side by side on one crossbar row (one column each). Signed weights:

* ``offset`` (ISAAC): the weight is stored biased (w + 2**(bits-1)) so every cell holds an
  unsigned level; the bias times the sum of the inputs is subtracted digitally. Columns
  per weight = slices. ISAAC's extra "unit" column that measures the input sum is not
  counted as a converted column (as in the peak-power roll-up).
* ``differential``: a positive and a negative column pair per slice; the pair difference
  is taken before conversion. Columns per weight = 2 x slices
  (``Design.cells_per_weight`` already doubles).

A weight's slices never straddle two crossbars, so one crossbar row holds
``Design.weights_per_crossbar_row`` whole weights.
"""

from __future__ import annotations

from pimsim.config.schema import Design

SCHEMES = ("offset", "differential")


def columns_for(design: Design, n_weights):
    """Crossbar columns (cells) that ``n_weights`` weights of one row occupy."""
    return n_weights * design.cells_per_weight
