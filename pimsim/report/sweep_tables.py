"""Tables of a sweep: every point with its metrics, the failures, the Pareto front.

Input is a sweep output directory (``sweep.json`` plan + ``points.jsonl`` records,
docs/sweeps.md); :func:`load_sweep_rows` joins them into plain rows that tables and
plots share. Nothing here evaluates a design point.
"""

from __future__ import annotations

from pathlib import Path

from pimsim.report.tables import Table, ratio
from pimsim.sweep.store import POINTS_FILE, current_record, read_manifest, read_records

#: Status of a row: from the record when it ran, from the plan otherwise.
OK, FAILED, SKIPPED, PENDING = "ok", "failed", "skipped", "pending"

PARETO_X, PARETO_Y = "gops_per_mm2", "gops_per_W"

UNITS = {"energy_pJ": "pJ", "dynamic_energy_pJ": "pJ", "static_energy_pJ": "pJ", "latency_ns": "ns", "interval_ns": "ns", "power_mW": "mW",
         "area_mm2": "mm2", "throughput_images_per_s": "images/s", "gops": "GOPS",
         "gops_per_mm2": "GOPS/mm2", "gops_per_W": "GOPS/W"}


def load_sweep_rows(out_dir: str | Path) -> tuple[dict, list[dict]]:
    """(manifest without points, rows): one row per planned point, plan order.

    A row: ``index``, ``role`` ('point' or 'baseline'), ``axes``, ``trace``, ``schedule``,
    ``status`` (ok / failed / skipped / pending), ``reason`` (skip or error text),
    ``error`` ({type, message}) , ``params``, ``key``, and when it ran ``total``,
    ``energy_breakdown_pJ``, ``area_breakdown_mm2``, ``design``.
    """
    manifest = read_manifest(out_dir)
    records, _ = read_records(Path(out_dir) / POINTS_FILE)
    rows = []
    for p in manifest.get("points", []):
        row = {k: v for k, v in p.items() if k != "spec"}
        if p["status"] == "skipped":
            row["status"] = SKIPPED
        elif p["status"] == "invalid":
            row.update(status=FAILED, error={"type": p.get("error_type", "ConfigError"),
                                             "message": p["reason"]})
        else:
            rec = records.get(p["key"])
            if rec is None or not current_record(rec):
                row["status"] = PENDING
            else:
                result = rec.get("result") or {}
                total = result.get("total")
                row.update(status=rec["status"], error=rec.get("error"), total=total,
                           energy_breakdown_pJ=(total or {}).get("energy_breakdown_pJ"),
                           area_breakdown_mm2=rec.get("area_breakdown_mm2"),
                           engine=result.get("engine"))
                if result.get("design"):
                    row["design"] = result["design"]
                if rec["status"] != OK:
                    row["reason"] = (rec.get("error") or {}).get("message", "")
        rows.append(row)
    head = {k: v for k, v in manifest.items() if k != "points"}
    return head, rows


def label(row: dict, axes: list[dict] | None = None) -> str:
    """Short name of a point: its non-trace axis values (``xbar=256 adc.bits=auto``)."""
    if row.get("role") == "baseline":
        return f"{row.get('design') or 'baseline'} (baseline)"
    kinds = {a["name"]: a["kind"] for a in axes or []}
    parts = [f"{name}={value}" for name, value in row.get("axes", {}).items()
             if kinds.get(name, "config") == "config"]
    return " ".join(parts) or str(row.get("design") or "base")


def config_axis_names(head: dict) -> list[str]:
    return [a["name"] for a in head.get("axes", []) if a["kind"] == "config"]


def baseline_for(rows: list[dict], trace: str) -> dict | None:
    """The baseline row that ran on ``trace`` (baselines run without a schedule), if any."""
    for r in rows:
        if r["role"] == "baseline" and r["trace"] == trace and r["status"] == OK:
            return r
    return None


def results_table(head: dict, rows: list[dict]) -> Table:
    """Every point: axis values, trace, status, the sweep's metrics; baselines last."""
    axes = config_axis_names(head)
    metrics = head.get("metrics", [])
    has_schedule = any(r.get("schedule") for r in rows)
    columns = tuple(axes) + ("trace",) + (("schedule",) if has_schedule else ()) \
        + ("status",) + tuple(metrics) + ("PE vs baseline",)
    out = []
    for r in rows:
        total = r.get("total") or {}
        base = baseline_for(rows, r["trace"])
        pe = ratio(total.get("gops_per_W"), (base or {}).get("total", {}).get("gops_per_W")) \
            if r["status"] == OK else None
        if r["role"] == "point":
            ax = [r["axes"].get(a) for a in axes]
        else:                       # a baseline has no axis values: name it in the first column
            ax = ([label(r)] + [None] * (len(axes) - 1)) if axes else []
        out.append(tuple(ax) + (r["trace"],) + ((r.get("schedule"),) if has_schedule else ())
                   + (r["status"],) + tuple(total.get(m) for m in metrics) + (pe,))
    notes = ["units: " + ", ".join(f"{m} {UNITS[m]}" for m in metrics if m in UNITS),
             "PE vs baseline = GOPS/W of the point / GOPS/W of the baseline on the same trace",
             "skipped: the config loader rejects the combination (constraints.skip_invalid)"]
    return Table(f"results: sweep {head.get('name', '?')} ({head.get('fidelity', '?')})",
                 columns, tuple(out), notes=tuple(notes), slug="results")


def failures_table(head: dict, rows: list[dict]) -> Table:
    """Failed and skipped points with the reason, one line each."""
    axes = head.get("axes", [])
    out = tuple((label(r, axes), r["trace"], r["status"],
                 (r.get("error") or {}).get("type") or r.get("error_type") or "",
                 _one_line((r.get("error") or {}).get("message") or r.get("reason") or ""))
                for r in rows if r["status"] in (FAILED, SKIPPED))
    return Table(f"failures and skips: sweep {head.get('name', '?')}",
                 ("point", "trace", "status", "error", "message"), out, slug="failures_and_skips")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats in both coordinates (maximize both),
    sorted by the first coordinate."""
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], -points[i][1]))
    front, best_y = [], float("-inf")
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return sorted(front, key=lambda i: points[i][0])


def pareto_rows(rows: list[dict], trace: str, x: str = PARETO_X, y: str = PARETO_Y) -> list[dict]:
    """The ok points (baselines included) on ``trace``'s energy/area-efficiency front."""
    cands = [r for r in rows if r["trace"] == trace and r["status"] == OK]
    idx = pareto_front([(r["total"][x], r["total"][y]) for r in cands])
    return [cands[i] for i in idx]


def pareto_table(head: dict, rows: list[dict]) -> Table:
    """Per trace, the points on the front of CE (GOPS/mm2) vs PE (GOPS/W)."""
    axes = head.get("axes", [])
    out = []
    for trace in dict.fromkeys(r["trace"] for r in rows):
        base = baseline_for(rows, trace)
        for r in pareto_rows(rows, trace):
            t = r["total"]
            bt = (base or {}).get("total", {})
            out.append((trace, label(r, axes), t[PARETO_X], t[PARETO_Y],
                        t["throughput_images_per_s"], ratio(t[PARETO_X], bt.get(PARETO_X)),
                        ratio(t[PARETO_Y], bt.get(PARETO_Y))))
    return Table(f"pareto front: CE vs PE, sweep {head.get('name', '?')}",
                 ("trace", "point", "CE (GOPS/mm2)", "PE (GOPS/W)", "throughput (images/s)",
                  "CE vs baseline", "PE vs baseline"), tuple(out),
                 notes=("a point is on the front when no other point on the same trace has both "
                        "higher CE and higher PE",), slug="pareto_front")


def sweep_tables(head: dict, rows: list[dict]) -> list[Table]:
    return [results_table(head, rows), pareto_table(head, rows), failures_table(head, rows)]
