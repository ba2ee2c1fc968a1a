"""Tables of a network evaluation (``Result.as_dict()``), beside a baseline and compared."""

from __future__ import annotations

from pimsim.report.tables import Table, ratio
from pimsim.sim.steady import TOLERANCE
from pimsim.units import PJ_PER_UJ

#: (label, how to read it from a Result dict's "total"), in display order.
METRICS = (
    ("MACs per image", lambda t: t.get("macs")),
    ("crossbars used", lambda t: t.get("crossbars")),
    ("chips", lambda t: t.get("chips")),
    ("latency per image (us)", lambda t: _scaled(t.get("latency_ns"), 1e-3)),
    ("interval, steady state (us)", lambda t: _scaled(t.get("interval_ns"), 1e-3)),
    ("fill time (us)", lambda t: _scaled(t.get("fill_ns"), 1e-3)),
    ("images simulated", lambda t: t.get("images")),
    ("converged", lambda t: t.get("converged")),
    ("throughput (images/s)", lambda t: t.get("throughput_images_per_s")),
    ("throughput (GOPS)", lambda t: t.get("gops")),
    ("energy per image (uJ)", lambda t: _scaled(t.get("energy_pJ"), 1 / PJ_PER_UJ)),
    ("  dynamic (uJ)", lambda t: _scaled(t.get("dynamic_energy_pJ"), 1 / PJ_PER_UJ)),
    ("  static (uJ)", lambda t: _scaled(t.get("static_energy_pJ"), 1 / PJ_PER_UJ)),
    ("CE (GOPS/mm2)", lambda t: t.get("gops_per_mm2")),
    ("PE (GOPS/W)", lambda t: t.get("gops_per_W")),
)


NO_RATIO = ("images simulated", "converged")


def _ratio(a, b):
    """design / baseline for numbers (not for flags such as ``converged``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    return ratio(a, b)


def _scaled(value, factor):
    return None if value is None else value * factor


def fidelity_of(result: dict) -> str:
    """The fidelity that produced a Result dict (its ``engine``)."""
    return str(result.get("engine", "?"))


def bottleneck_line(result: dict) -> str:
    """One line naming the stage that sets the interval."""
    b = result.get("total", {}).get("bottleneck") or {}
    if not b:
        return "bottleneck: none (no timed stage)"
    if b["resource"] == "buffer_slots":     # the closed form's pace: a ring, not a stage
        line = (f"bottleneck ({fidelity_of(result)}): layer {b['layer']}, buffer_slots: the "
                f"ring of {b.get('slots', '?')} row slots for input {b.get('operand', '?')} "
                f"(from {b.get('input', '?')}), {100.0 * b['share']:.1f}% occupied; the "
                f"slowest stage is {b.get('slowest_stage_ns', 0.0):,.1f} ns")
        if "relieved_interval_ns" in b:
            relieved = b["relieved_interval_ns"]
            interval = result["total"].get("interval_ns") or 0.0
            line += (f"; with twice its slots the interval would be {relieved:,.1f} ns"
                     + (f" ({100.0 * (relieved / interval - 1.0):+.1f}%)" if interval else "")
                     + (": no ring checked relieves it alone"
                        if relieved > interval * (1.0 - TOLERANCE) else ""))
        return line
    line = (f"bottleneck ({fidelity_of(result)}): layer {b['layer']}, {b['resource']}, "
            f"{100.0 * b['share']:.1f}% of the interval")
    interval = result["total"].get("interval_ns") or 0.0
    layers = {lt["name"]: lt for lt in (result.get("engine_stats") or {}).get("layers", [])}
    lt = layers.get(b["layer"])
    if "busy_ns" in b:                 # its steady-state split (after image 0), if reported
        lt = b
    if lt and interval:
        # the layer's copies / workers: busy + idle by cause = their whole time
        spent = lt["busy_ns"] + sum(lt["stalls_ns"].values())
        waits = sorted(((c, v) for c, v in lt["stalls_ns"].items() if v > 0),
                       key=lambda cv: -cv[1])
        if waits and spent:
            line += f"; its copies: busy {100.0 * lt['busy_ns'] / spent:.1f}%, " + ", ".join(
                f"{c} {100.0 * v / spent:.1f}%" for c, v in waits)
    closed = b.get("closed_form_interval_ns")
    if closed and interval:
        line += (f"; closed form's slowest stage {closed:,.1f} ns, "
                 f"{100.0 * (interval / closed - 1.0):+.1f}%")
    return line


def noc_line(result: dict) -> str | None:
    """One line on the on-chip network of an engine run (None for the closed form)."""
    noc = (result.get("engine_stats") or {}).get("noc") or {}
    if not noc:
        return None
    line = (f"on-chip network ({noc['routing']} routing): {noc['mean_hops']:.2f} routers per "
            f"bit on average, {noc['links_used']} of {noc['links']} mesh links used")
    if "busiest_link" in noc:
        line += (f"; busiest {noc['busiest_link']}, busy "
                 f"{100.0 * noc['busiest_link_share']:.1f}% of the interval")
    return line


def run_table(result: dict, baseline: dict | None = None) -> Table:
    """One design point's totals, with the baseline and design/baseline ratio if given."""
    name = result.get("design", "design")
    total = result["total"]
    fid = fidelity_of(result)
    if baseline is None:
        rows = (("fidelity", fid),) + tuple((label, get(total)) for label, get in METRICS)
        return Table(f"{name} on {result.get('network', '?')} ({fid})", ("metric", name), rows,
                     slug="totals")
    base = baseline["total"]
    bname = baseline.get("design", "baseline")
    if bname == name:
        bname = f"{bname} (baseline)"
    rows = (("fidelity", fid, fidelity_of(baseline), None),) + tuple(
        (label, get(total), get(base),
         None if label in NO_RATIO else _ratio(get(total), get(base))) for label, get in METRICS)
    return Table(f"{name} vs {bname} on {result.get('network', '?')} ({fid})",
                 ("metric", name, bname, "ratio"), rows,
                 notes=("ratio = design / baseline: higher is better for throughput, CE and PE, "
                        "lower for latency and energy",), slug="totals")


def compare_table(results: list[dict]) -> Table:
    """Totals of several design points on one network, a column each."""
    names = [r.get("design", f"point{i}") for i, r in enumerate(results)]
    # Two design points may share a name (a file and its copy): number the repeats.
    names = tuple(f"{n} [{i + 1}]" if names.count(n) > 1 else n for i, n in enumerate(names))
    rows = (("fidelity",) + tuple(fidelity_of(r) for r in results),) + tuple(
        (label,) + tuple(get(r["total"]) for r in results) for label, get in METRICS)
    network = results[0].get("network", "?") if results else "?"
    fids = sorted({fidelity_of(r) for r in results}) or ["?"]
    return Table(f"comparison on {network} ({', '.join(fids)})", ("metric",) + names, rows,
                 slug="comparison")



def energy_table(result: dict) -> Table:
    """Energy per image by component: dynamic, static, their sum and its share. Rows
    that are zero for this run are left out and named in a note."""
    t = result["total"]
    breakdown = t.get("energy_breakdown_pJ", {})
    dyn = t.get("dynamic_breakdown_pJ", {})
    stat = t.get("static_breakdown_pJ", {})
    total = sum(breakdown.values()) or 1.0
    order = sorted(breakdown.items(), key=lambda kv: -kv[1])
    rows = tuple((role, dyn.get(role, pj - stat.get(role, 0.0)), stat.get(role, 0.0), pj,
                  100.0 * pj / total) for role, pj in order if pj)
    zero = [role for role, pj in order if not pj]
    notes = [f"static = static power x powered time per image (power-gated units: busy time "
             f"only); total {t.get('dynamic_energy_pJ', 0.0):,.0f} pJ dynamic + "
             f"{t.get('static_energy_pJ', 0.0):,.0f} pJ static"]
    if zero:
        notes.append("no energy in this run (not shown): " + ", ".join(zero)
                     + ("; write_driver programs the weights once before inference, not per "
                        "image (JSON weight_load)" if "write_driver" in zero else ""))
    return Table(f"{result.get('design', '?')}: energy per image by component "
                 f"({fidelity_of(result)})",
                 ("component", "dynamic_pJ", "static_pJ", "energy_pJ", "share_pct"), rows,
                 notes=tuple(notes), slug="energy")
