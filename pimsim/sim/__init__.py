"""Evaluation engines: ``evaluate`` (closed form, ``pimsim.sim.analytic``) and ``simulate``
(the discrete-event engine, ``pimsim.sim.engine``, fidelities "fast" and "event")."""

from pimsim.sim.analytic import evaluate
from pimsim.sim.run import simulate
from pimsim.sim.timeline import write_timeline
from pimsim.sim.weights import program_cells, program_cost, weight_load

__all__ = ["evaluate", "simulate", "write_timeline", "program_cost", "program_cells",
           "weight_load"]
