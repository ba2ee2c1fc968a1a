"""Fixed-function digital units of a tile: activation (sigmoid/ReLU), max-pool.

No scaling law: one unit processes one value per clock at any network size.
"""

from __future__ import annotations

from pimsim.components.base import Component
from pimsim.components.registry import register


class _Clocked(Component):
    INSTANCE = {"clock_GHz": "GHz"}

    def latency_ns(self, action: str) -> float:
        return 1.0 / self.inst["clock_GHz"]


@register("activation_unit")
class ActivationUnit(_Clocked):
    ACTIONS = {"op": "applying the activation function to one value"}


@register("maxpool_unit")
class MaxPoolUnit(_Clocked):
    ACTIONS = {"op": "one comparison (or add, for average pooling)"}
