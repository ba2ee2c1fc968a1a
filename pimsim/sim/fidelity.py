"""The evaluation fidelities and the one default that ``pimsim run``, ``compare`` and
``sweep`` (and ``pimsim.sim.simulate``) share.

``fast`` is the default: the discrete-event engine with one event per layer copy's output
row part, run to the steady state (docs/engine.md). ``analytic`` is the closed form of the
same pipeline (seconds faster on large networks, no contention); ``event`` steps every
crossbar read and ADC conversion.
"""

FIDELITIES = ("analytic", "fast", "event")
DEFAULT_FIDELITY = "fast"
