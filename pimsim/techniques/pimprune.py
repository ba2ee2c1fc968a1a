"""PIM-Prune baseline (Chu et al., DAC 2020), reconstructed: crossbar-aware structured
pruning. The weight matrix is cut into column blocks one crossbar wide; within each block
whole crossbar rows (one input row x the block's weights) with the smallest magnitude are
pruned and the surviving rows are packed onto fewer crossbars. An input index per used
row gathers each crossbar's inputs (``index_buffer.read``). Machinery:
:mod:`pimsim.techniques.pruning`.
"""

from __future__ import annotations

from pimsim.techniques.pruning import StructuredPruning


class PIMPrune(StructuredPruning):
    name = "pim_prune"
    forced = "pim_prune"
