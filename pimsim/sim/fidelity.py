"""The evaluation fidelities and the one default that ``pimsim run``, ``compare`` and
``sweep`` (and ``pimsim.sim.simulate``) share.

``fast`` is the default: the discrete-event engine with one event per layer copy's output
row part, run to the steady state (docs/engine.md). ``analytic`` is the closed form of the
same pipeline (seconds faster on large networks, no contention; its interval is the
slowest stage, or the pipeline's pace with no queueing where a consumer's ring of row
slots turns slower, e.g. at MobileNet-V2's residual adds: ``pimsim.sim.pace``,
docs/engine.md "One pipeline model"); ``event`` steps every
crossbar read and ADC conversion.
"""

FIDELITIES = ("analytic", "fast", "event")
DEFAULT_FIDELITY = "fast"
