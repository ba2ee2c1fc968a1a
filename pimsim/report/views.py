"""Terminal views of a result dict: the fidelity line, the bottleneck line, the per-layer
table, and rendering tables with ``rich`` when it is installed and stdout is a terminal.

Inputs are ``Result.as_dict()`` dicts (docs/results.md); nothing here computes a model
figure, it only reads and divides those already computed.
"""

from __future__ import annotations

import sys
from typing import TextIO

from pimsim.report.tables import Table, fmt, to_text
from pimsim.units import PJ_PER_UJ

FIDELITY_WORDS = {"analytic": "closed form (no queueing; interval = the slowest stage or the "
                              "pipeline's pace where a ring of row slots turns slower)",
                  "fast": "discrete-event engine, one event per layer copy's output row",
                  "event": "discrete-event engine, one event per crossbar read cycle"}
NS_PER_US = 1e3
PJ_PER_NJ = 1e3


def fidelity_line(result: dict) -> str:
    """``fidelity: fast (discrete-event ..., 8 images simulated)``."""
    fid = result.get("fidelity") or {"name": result.get("engine"), "images": None}
    name = fid.get("name") or result.get("engine", "?")
    parts = [FIDELITY_WORDS.get(name, name)]
    if fid.get("images"):
        parts.append(f"{fid['images']} images simulated")
    for key, words in (("converged", "steady state reached"),):
        if key in fid:
            parts.append(words if fid[key] else "steady state NOT reached")
    # the default (engine.arbitration's, in pimsim.config.schema) goes unsaid
    if fid.get("arbitration", "oldest_first") != "oldest_first":
        parts.append(f"shared units: {fid['arbitration']}")
    return f"fidelity: {name} ({'; '.join(parts)})"


def spill_line(result: dict) -> str | None:
    """One line when input rows did not fit in the tiles' eDRAM and spilled off-chip
    (``total.spill_bits``, docs/engine.md "Inter-layer pipeline and buffers"); None when
    nothing spilled."""
    total = result.get("total") or {}
    bits = total.get("spill_bits") or 0.0
    if bits <= 0.0:
        return None
    layers = sorted(((lay.get("spill_bits") or 0.0, lay["name"])
                     for lay in result.get("layers") or []), reverse=True)
    top = [f"{name} {b / 1e6:,.3f}" for b, name in layers if b > 0.0]
    more = f" and {len(top) - 3} more" if len(top) > 3 else ""
    return (f"eDRAM spill: {bits / 1e6:,.3f} Mbit per image written to off-chip memory and "
            f"read back (input rows that do not fit in tile.edram_bytes); by layer (Mbit): "
            f"{', '.join(top[:3])}{more}")


def slowest_layer(result: dict) -> dict | None:
    """The layer with the longest stage time (it sets the pipelined interval)."""
    layers = result.get("layers") or []
    return max(layers, key=lambda lay: lay.get("time_ns") or 0.0) if layers else None


def bottleneck_line(result: dict) -> str:
    """One line: which layer and resource limit throughput, and how much of the interval.

    Uses ``total.bottleneck`` when the evaluation reports it (with the bottleneck layer's
    busy and stalled time, :func:`pimsim.report.run.bottleneck_line`); otherwise names the
    slowest pipeline stage (its share of the interval from the per-layer stage times)."""
    total = result.get("total") or {}
    interval = total.get("interval_ns")
    if total.get("bottleneck"):
        from pimsim.report.run import bottleneck_line as reported

        return reported(result)
    lay = slowest_layer(result)
    if lay is None or not interval:
        return "bottleneck: none (no layers)"
    share = (lay.get("time_ns") or 0.0) / interval
    return (f"bottleneck: layer {lay['name']} (slowest pipeline stage, {fmt(lay['time_ns'])} ns "
            f"= {100 * share:.0f}% of the {fmt(interval)} ns interval)")


def _stalls_by_layer(result: dict) -> dict[str, dict[str, float]]:
    stats = result.get("engine_stats") or {}
    return {lt["name"]: lt.get("stalls_ns") or {} for lt in stats.get("layers", [])}


def _busy_by_layer(result: dict) -> dict[str, float]:
    stats = result.get("engine_stats") or {}
    return {lt["name"]: lt.get("busy_ns") for lt in stats.get("layers", [])}


def layer_rows(result: dict) -> list[dict]:
    """One dict per layer: the figures of the ``--layers`` table, units in the keys.

    share_of_interval_pct = stage time / interval; utilization_pct = busy time of the
    layer's copies / (copies x interval), crossbar layers only (engine: measured busy time;
    analytic: the stage time, every copy busy for it); stalls_ns = idle time of its copies per image by
    cause (engine only)."""
    interval = (result.get("total") or {}).get("interval_ns") or 0.0
    stalls = _stalls_by_layer(result)
    busy = _busy_by_layer(result)
    rows = []
    for lay in result.get("layers") or []:
        t = lay.get("time_ns") or 0.0
        copies = lay.get("replication") or 1
        b = busy.get(lay["name"])
        # Crossbar layers only: a non-MVM layer's workers are not its copies.
        mvm = bool(lay.get("crossbars"))
        util = None
        if interval and mvm:
            util = b / (copies * interval) if b is not None else t / interval
        st = stalls.get(lay["name"])
        rows.append({"layer": lay["name"], "kind": lay.get("kind"), "time_us": t / NS_PER_US,
                     "share_of_interval_pct": 100 * t / interval if interval else None,
                     "crossbars": lay.get("crossbars"), "copies": copies,
                     "energy_nJ": (lay.get("energy_pJ") or 0.0) / PJ_PER_NJ,
                     "utilization_pct": None if util is None else 100 * util,
                     "stalls_ns": None if st is None else sum(st.values()),
                     "top_stall": (max(st, key=st.get) if st and max(st.values()) > 0 else "")
                     if st is not None else None})
    return rows


LAYER_COLUMNS = ("layer", "kind", "time (us)", "share of interval (%)", "crossbars", "copies",
                 "energy (nJ)", "utilization (%)", "stalls (ns)", "main stall")


def layers_table(result: dict) -> Table:
    rows = layer_rows(result)
    engine = bool(result.get("engine_stats"))
    cols = LAYER_COLUMNS if engine else LAYER_COLUMNS[:-2]
    keys = ("layer", "kind", "time_us", "share_of_interval_pct", "crossbars", "copies",
            "energy_nJ", "utilization_pct", "stalls_ns", "top_stall")[:len(cols)]
    notes = ["time: the layer's pipeline stage time per image; share: of the interval "
             "between images (100%: this layer sets the throughput)",
             "utilization (crossbar layers): busy time of the layer's copies / (copies x "
             "interval)"]
    if engine:
        notes.append("stalls: idle time of the layer's copies per image, summed over causes; "
                     "main stall: the largest cause")
    return Table(f"{result.get('design', '?')} on {result.get('network', '?')}: per layer "
                 f"({(result.get('fidelity') or {}).get('name', result.get('engine'))})",
                 cols, tuple(tuple(r[k] for k in keys) for r in rows), notes=tuple(notes),
                 slug="layers")


def result_summary(result: dict) -> str:
    """A few lines: design, network, headline totals, fidelity, bottleneck."""
    t = result.get("total") or {}
    lines = [f"Result: {result.get('design')} on {result.get('network')}",
             f"  {fmt(t.get('throughput_images_per_s'))} images/s, latency "
             f"{fmt((t.get('latency_ns') or 0) / NS_PER_US)} us, "
             f"{fmt((t.get('energy_pJ') or 0) / PJ_PER_UJ)} uJ/image, "
             f"{fmt(t.get('gops_per_W'))} GOPS/W, {fmt(t.get('gops_per_mm2'))} GOPS/mm2, "
             f"{fmt(t.get('crossbars'))} crossbars on {fmt(t.get('chips'))} chip(s)"]
    acc = t.get("accuracy")
    if isinstance(acc, dict) and acc.get("measured"):     # pimsim run's accuracy record
        lines.append(f"  accuracy {100 * acc['hardware']:.2f}% hardware, "
                     f"{100 * acc['software']:.2f}% software on {acc['samples']} images")
    lines += ["  " + fidelity_line(result), "  " + bottleneck_line(result)]
    return "\n".join(lines)


def use_rich(stream: TextIO | None = None) -> bool:
    """True when ``rich`` is installed and ``stream`` (stdout) is a terminal."""
    stream = stream or sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        return False
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def render(tables: list[Table], stream: TextIO | None = None) -> str | None:
    """Plain text of the tables, or None after printing them with rich to a terminal."""
    stream = stream or sys.stdout
    if not use_rich(stream):
        return "\n\n".join(to_text(t) for t in tables)
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console(file=stream)
    for t in tables:
        rt = RichTable(title=t.title, title_justify="left", caption="\n".join(t.notes) or None,
                       caption_justify="left")
        for i, c in enumerate(t.columns):
            rt.add_column(str(c), justify="left" if i == 0 else "right")
        for row in t.rows:
            rt.add_row(*(fmt(v) for v in row))
        console.print(rt)
    return None
