"""Evaluate one sweep point: the single function every backend (process pool, Dask) runs.

``run_point(spec)`` takes plain data and returns plain data, never raises for a point's
own failure (the error is recorded in the result), and is importable at module level so
spawned processes and Dask workers can unpickle it. The engine is chosen here only:
``pimsim.sim.simulate(..., fidelity=..., images=...)`` with ``fast`` (the default, shared
with ``pimsim run``), ``event`` (the discrete-event engine) or ``analytic`` (the closed
form of the same pipeline: fastest).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
import traceback
from functools import lru_cache

from pimsim.sim.fidelity import DEFAULT_FIDELITY
from pathlib import Path

from pimsim.errors import PimsimError

OK, FAILED = "ok", "failed"


@lru_cache(maxsize=32)
def _network(path: str, mtime_ns: int, size: int):
    # Keyed by mtime and size too: a long-lived Dask worker must see a rewritten trace.
    from pimsim.workload.trace import load_network

    return load_network(path)


def load_network_cached(path: str):
    st = os.stat(path)
    return _network(path, st.st_mtime_ns, st.st_size)


def area_breakdown_mm2(arch, chips: int) -> dict[str, float]:
    """role -> area of all its units on the chips used (mm2); sums to ``total.area_mm2``."""
    from pimsim.arch.rollup import area_by_role

    return area_by_role(arch, chips)


def evaluate_spec(spec: dict) -> dict:
    """Load, build, evaluate; returns ``Result.as_dict()`` plus the area breakdown."""
    from pimsim.arch import build_arch
    from pimsim.config import load_design

    design = load_design(spec["base"], spec.get("overrides") or {})
    arch = build_arch(design)
    network = load_network_cached(spec["trace"])
    fidelity = spec.get("fidelity", DEFAULT_FIDELITY)
    overrides, transforms = None, None
    if spec.get("schedule"):
        # The technique's change to the mapped workload, as `pimsim run --schedule` does;
        # a schedule that does not fit the trace or design fails this point clearly.
        from pimsim.techniques.apply import schedule_outcome

        outcome = schedule_outcome(spec["trace"], design, spec["schedule"])
        overrides, transforms = outcome.overrides, outcome.act_transforms
    from pimsim.mapping.activity import workload_overrides
    from pimsim.sim import simulate

    # real activations and weights of the trace (or the design's default statistics)
    overrides = workload_overrides(spec["trace"], design, overrides,
                                   act_transforms=transforms) or None
    from pimsim.provenance import file_sha256
    from pimsim.sim.run import identify

    result = simulate(network, arch, fidelity=fidelity, overrides=overrides,
                      images=spec.get("images"))
    result = identify(result, network, arch, design_file=str(spec["base"]),
                      overrides=dict(spec.get("overrides") or {}) or None,
                      trace_file=str(spec["trace"]), trace_sha256=file_sha256(spec["trace"]),
                      schedule_file=str(spec["schedule"]) if spec.get("schedule") else None
                      ).as_dict()
    result["area_breakdown_mm2"] = area_breakdown_mm2(arch, result["total"]["chips"])
    return result


def _debug(flags: dict) -> None:
    """Test hooks from the sweep file's ``debug:`` section."""
    if flags.get("sleep_s"):
        time.sleep(flags["sleep_s"])
    if flags.get("crash"):
        if multiprocessing.parent_process() is not None:
            os._exit(1)            # a worker dying without a word, as on a segfault or OOM kill
        raise RuntimeError("debug crash hook (not in a worker process, so raised instead)")
    if flags.get("fail"):
        raise RuntimeError("debug failure hook: this point fails on purpose")


def run_point(spec: dict) -> dict:
    """Evaluate one point; a ``sweep_point`` document (docs/results.md) with ``status``
    'ok' or 'failed'.

    ``spec``: ``key``, ``base`` (design file), ``overrides`` (dotted key -> value),
    ``trace``, ``schedule`` (path or None), ``fidelity``, ``debug`` (test hooks).
    The record's ``result`` is the point's whole Result (``Result.as_dict()``: totals,
    per-layer rows, identity); ``area_breakdown_mm2`` maps role -> mm2 on the chips used.
    """
    from pimsim.report.documents import envelope

    start = time.perf_counter()
    record = envelope("sweep_point", key=spec.get("key"), status=OK, error=None, result=None,
                      area_breakdown_mm2=None)
    try:
        _debug(spec.get("debug") or {})
        result = evaluate_spec(spec)
        record.update(area_breakdown_mm2=result.pop("area_breakdown_mm2"), result=result)
    except Exception as exc:  # noqa: BLE001 - a point's failure is data, the sweep goes on
        error = {"type": type(exc).__name__, "message": str(exc)}
        if not isinstance(exc, PimsimError):
            # A bug, not a user mistake: keep where it happened.
            error["traceback"] = "".join(traceback.format_exception(exc)[-6:])
        record.update(status=FAILED, error=error)
    record.update(elapsed_s=time.perf_counter() - start, host=socket.gethostname(),
                  pid=os.getpid(), fidelity=spec.get("fidelity", DEFAULT_FIDELITY),
                  trace=Path(spec["trace"]).name)
    return record
