"""Evaluation engines; ``evaluate`` is the closed-form one (``pimsim.sim.analytic``)."""

from pimsim.sim.analytic import evaluate

__all__ = ["evaluate"]
