"""Fixed-function digital units of a tile: activation (sigmoid/ReLU), max-pool, and the
digital vector lanes of the newer layer kinds (``digital_unit``).

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


@register("digital_unit")
class DigitalUnit(_Clocked):
    """A tile's digital vector lane for the layers ISAAC's units do not cover
    (element-wise functions, layer norm, softmax, attention matmuls on the digital path):
    one operation on one value per clock. What one ``op`` is (a multiply-add, or one
    normalised element with all its passes) is the role's table entry and its source."""

    ACTIONS = {"op": "one operation on one value (the role's table says which)"}
