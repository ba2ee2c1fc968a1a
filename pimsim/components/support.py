"""Run-time support units of sparsity techniques (ERA-BS, PIM-Prune, CIM pruning).

Plug-in roles (``level`` and ``count`` in the design point's table; configs/era_bs.yaml):

* ``zero_detector`` — ORs one OU's input bits of one bit position (``ref_inputs``
  inputs) and flags a zero bit-slice. ``detect`` = one OU bit-slice checked.
* ``sparsity_control`` — per crossbar and read cycle, turns the detector flags into
  wordline enables and skips the cycle when every OU is zero. ``op`` = one decision.
* ``index_buffer`` — SRAM of indices (``ref_width_bits`` wide): a packed column's weight
  and shift (ERA-BS), or the input row / output of a pruned layer (PIM-Prune, CIM).
  ``read`` = one index read.

Reference values and their sources are in the YAML tables beside each number; energy
scales linearly with the inputs / width, area likewise (a gate tree / an SRAM word).
"""

from __future__ import annotations

from pimsim.components.base import Component, Param
from pimsim.components.registry import register


@register("zero_detector")
class ZeroDetector(Component):
    PARAMS = {"ref_inputs": Param("bits", "inputs ORed by one detector at the reference", 16),
              "inputs": Param("bits", "inputs of this instance (the OU rows)", 16)}
    ACTIONS = {"detect": "checking one OU input bit-slice for zero"}

    def _ratio(self) -> float:
        return self.ref["inputs"] / self.ref["ref_inputs"]

    def area_scale(self) -> float:
        return self._ratio()

    def energy_scale(self, action: str) -> float:
        return self._ratio()


@register("sparsity_control")
class SparsityControl(Component):
    ACTIONS = {"op": "one wordline-enable / cycle-skip decision of one crossbar"}


@register("index_buffer")
class IndexBuffer(Component):
    PARAMS = {"ref_width_bits": Param("bits", "index width at the reference", 16),
              "width_bits": Param("bits", "index width of this instance", 16)}
    ACTIONS = {"read": "reading one index"}

    def _ratio(self) -> float:
        return self.ref["width_bits"] / self.ref["ref_width_bits"]

    def area_scale(self) -> float:
        return self._ratio()

    def energy_scale(self, action: str) -> float:
        return self._ratio()
