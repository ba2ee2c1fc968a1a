"""Sample-and-hold on one bitline: holds the column current while the ADC converts.

No scaling law: one capacitor and switch per column regardless of array size.
"""

from __future__ import annotations

from pimsim.components.base import Component
from pimsim.components.registry import register


@register("sample_hold")
class SampleHold(Component):
    ACTIONS = {"sample": "sampling one column once"}
