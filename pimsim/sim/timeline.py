"""Timeline export: Chrome / Perfetto trace-event JSON.

``{"traceEvents": [...]}`` with ``ph: "X"`` complete events (``ts``/``dur`` in µs, the
format's unit; the engine's ns / 1000), ``pid`` = tile (router links: negative pids
named "router N link"), ``tid`` = a layer copy's compute or output stage, or a non-MVM
layer's worker; ``ph: "M"`` metadata names them. Open in https://ui.perfetto.dev or
chrome://tracing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from pimsim.fileio import write_atomic
from pimsim.result import Result


def trace_events(result_or_events: Result | Iterable[dict]) -> list[dict]:
    """The trace events of a Result simulated with a timeline, or the events themselves."""
    if isinstance(result_or_events, Result):
        stats = result_or_events.engine_stats
        if stats is None or not stats.timeline:
            raise ValueError("this Result has no timeline: simulate(..., timeline=PATH or True) "
                             "with fidelity 'fast' or 'event'")
        return list(stats.timeline)
    return list(result_or_events)


def write_timeline(result_or_events: Result | Iterable[dict], path: str | os.PathLike) -> Path:
    """Write the trace-event JSON atomically (temp file in the same folder + os.replace)."""
    path = Path(path)
    doc = {"traceEvents": trace_events(result_or_events), "displayTimeUnit": "ns"}
    write_atomic(path, json.dumps(doc, separators=(",", ":"), allow_nan=False))
    return path
