"""Structured pruning at CIM granularity (Meng et al., JETCAS 2022), reconstructed.

The granularity is the schedule's ``pruning.granularity`` (filter, channel, crossbar
column group ``xbar_column``, ``ou_block``); magnitude criterion; fine-tuning with the
mask fixed when the schedule asks (``finetune``, :mod:`pimsim.techniques.finetune`). The
machinery (blocks, compaction, index costs) is in :mod:`pimsim.techniques.pruning`.
"""

from __future__ import annotations

from pimsim.techniques.pruning import StructuredPruning


class CIMPruning(StructuredPruning):
    name = "cim_pruning"
