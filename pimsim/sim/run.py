"""``simulate``: one entry point for every fidelity (the CLI's ``pimsim run``)."""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Mapping

from pimsim.arch.compose import Arch
from pimsim.mapping.network_map import LayerOverride
from pimsim.provenance import design_sha256, network_sha256
from pimsim.result import Identity, Result
from pimsim.sim.analytic import evaluate
from pimsim.sim.engine import FIDELITIES, run_engine
from pimsim.sim.fidelity import DEFAULT_FIDELITY
from pimsim.sim.timeline import write_timeline
from pimsim.workload.layer import Network


def simulate(network: Network, arch: Arch, fidelity: str = DEFAULT_FIDELITY, images: int | None = None,
             timeline: str | os.PathLike | bool | None = None,
             progress: Callable[[int, int], None] | None = None,
             overrides: Mapping[str, LayerOverride] | None = None) -> Result:
    """Evaluate ``network`` on ``arch``.

    fidelity: ``"analytic"`` (closed form, :func:`pimsim.sim.evaluate`), ``"fast"`` (one
    event per copy's output row) or ``"event"`` (one event per crossbar read cycle);
    images: None (default) simulates images back to back until the completion interval
    converges (``pimsim.sim.steady``); a number forces that many (latency = image 0,
    throughput and energy per image from the steady-state interval; ignored by
    ``analytic``);
    timeline: a path to write Chrome/Perfetto trace JSON to, or True to keep the events in
    ``result.engine_stats.timeline`` only; progress: ``callable(done, total)`` in units of
    work, called periodically; overrides: ``{layer: LayerOverride}``, a technique's change
    to the mapped workload (tiling, skipped work, support-role counts), honoured by every
    fidelity (``pimsim.techniques.apply.overrides_for`` builds them from a schedule).
    """
    if fidelity == "analytic":
        if timeline:
            raise ValueError("the analytic fidelity has no timeline; use 'fast' or 'event'")
        return identify(evaluate(network, arch, overrides), network, arch)
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be 'analytic', 'fast' or 'event', not {fidelity!r}")
    result = run_engine(network, arch, fidelity=fidelity, images=images,
                        timeline=bool(timeline), progress=progress,
                        overrides=overrides)
    if timeline and timeline is not True:
        write_timeline(result, timeline)
    return identify(result, network, arch)


def identify(result: Result, network: Network, arch: Arch, **files) -> Result:
    """``result`` with its :class:`~pimsim.result.Identity`: content hashes of the design
    point and the network, plus ``files`` (design_file, overrides, trace_file,
    trace_sha256, schedule_file) kept from an earlier identity and updated."""
    old = dataclasses.asdict(result.identity) if result.identity is not None else {}
    ident = Identity(**{**old, "design_sha256": design_sha256(arch.design),
                        "network_sha256": network_sha256(network), **files})
    return dataclasses.replace(result, identity=ident)
