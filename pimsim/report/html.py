"""Self-contained HTML reports: one file, inline CSS, figures as inline SVG, no scripts or
network at view time.

Inputs are the schema documents (docs/results.md): a ``run`` document for
:func:`run_html`, a sweep's plan and rows (:func:`pimsim.report.sweep_tables.load_sweep_rows`)
for :func:`sweep_html`. Every table cell carries its exact number in ``data-value`` and
every mark of a figure in ``data-value`` / ``data-x`` / ``data-y``, so a test (or a
reader's tool) can check the page against the JSON. The document itself is embedded as
``<script type="application/json" id="pimsim-data">`` (data, not code).
"""

from __future__ import annotations

import html
import json
import math
from typing import Sequence

from pimsim import __version__
from pimsim.report.tables import Table, finite, fmt, ratio
from pimsim.result import SCHEMA_VERSION
from pimsim.units import PJ_PER_UJ

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:72em;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table.data{border-collapse:collapse;font-size:.85em;margin:.5em 0}
table.data th,table.data td{border:1px solid #ddd;padding:.25em .6em}
table.data th{background:#f4f4f4;text-align:left}table.data td.num{text-align:right;
font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:.3em 0}
.notes{font-size:.8em;color:#555;margin:.2em 0 1em}.meta{font-size:.85em;color:#444}
.meta code{font-size:.9em}.line{font-weight:600}figure{margin:1em 0}
figcaption{font-size:.85em;color:#444}svg text{font-family:inherit}
.scroll{overflow-x:auto}
"""
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")
MAX_ROLES = 7
"""Roles drawn separately in a stacked bar; the rest are summed as 'other'."""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _num_attr(value) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return f' data-value="{int(value)!r}"'
    if isinstance(value, float) and math.isfinite(value):
        return f' data-value="{float(value)!r}"'     # numpy floats as plain Python floats
    return ""


def _r(x) -> str:
    """A coordinate's exact value for data-x / data-y."""
    return repr(float(x))


def table_html(table: Table, table_id: str | None = None) -> str:
    """A ``Table`` as an HTML table; numeric cells keep their exact value in data-value."""
    tid = f' id="{_e(table_id)}"' if table_id else ""
    out = [f'<div class="scroll"><table class="data"{tid} data-slug="{_e(table.slug)}">',
           f"<caption>{_e(table.title)}</caption><thead><tr>"]
    out += [f"<th>{_e(c)}</th>" for c in table.columns]
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        out.append("<tr>")
        for v in row:
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            out.append(f'<td{" class=num" if num else ""}{_num_attr(v)}>{_e(fmt(v))}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    if table.notes:
        out.append('<div class="notes">' + "<br>".join(_e(n) for n in table.notes) + "</div>")
    return "".join(out)


def _page(title: str, body: list[str], data: dict | None = None) -> str:
    embedded = ""
    if data is not None:
        text = json.dumps(finite(data), allow_nan=False, default=_plain).replace("</", "<\\/")
        embedded = f'<script type="application/json" id="pimsim-data">{text}</script>'
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + embedded + "</body></html>\n")


def _plain(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


# ---------------------------------------------------------------- SVG figures

def _svg(width: float, height: float, body: list[str], figure_id: str, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{_e(figure_id)}" role="img" '
            f'aria-label="{_e(label)}" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-size="11">' + "".join(body) + "</svg>")


def bars_svg(items: Sequence[tuple[str, float]], unit: str, figure_id: str, title: str) -> str:
    """Horizontal bars, one per (label, value), largest first as given; value labels."""
    items = [(k, v) for k, v in items if v is not None]
    left, right, bar_h, top = 150, 120, 18, 24
    width = 640
    vmax = max((v for _, v in items), default=0.0) or 1.0
    span = width - left - right
    body = [f'<text x="0" y="14" font-weight="600">{_e(title)} ({_e(unit)})</text>']
    for i, (name, v) in enumerate(items):
        y = top + i * (bar_h + 4)
        w = max(0.0, span * v / vmax)
        body.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(name)}</text>')
        body.append(f'<rect x="{left}" y="{y}" width="{w:.2f}" height="{bar_h}" '
                    f'fill="{PALETTE[i % len(PALETTE)]}" data-label="{_e(name)}"{_num_attr(v)}>'
                    f"<title>{_e(name)}: {_e(fmt(v))} {_e(unit)}</title></rect>")
        body.append(f'<text x="{left + w + 4:.2f}" y="{y + 13}">{_e(fmt(v))}</text>')
    height = top + len(items) * (bar_h + 4) + 8
    return _svg(width, height, body, figure_id, title)


def _ticks_log(lo: float, hi: float) -> list[float]:
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    ticks = []
    for e in range(a, b + 1):
        for m in (1, 2, 5):
            t = m * 10.0 ** e
            if lo <= t <= hi:
                ticks.append(t)
    return ticks or [lo, hi]


class _LogAxes:
    """Log-log axes inside a plot box (x right, y up); positive data only."""

    def __init__(self, xs, ys, box=(70, 20, 420, 300), pad=0.08):
        self.x0, self.y0, self.w, self.h = box
        xs = [x for x in xs if x and x > 0] or [1.0]
        ys = [y for y in ys if y and y > 0] or [1.0]
        lx, hx = math.log10(min(xs)), math.log10(max(xs))
        ly, hy = math.log10(min(ys)), math.log10(max(ys))
        dx, dy = (hx - lx) or 1.0, (hy - ly) or 1.0
        self.lx, self.hx = lx - pad * dx, hx + pad * dx
        self.ly, self.hy = ly - pad * dy, hy + pad * dy

    def px(self, x: float) -> float:
        return self.x0 + self.w * (math.log10(x) - self.lx) / (self.hx - self.lx)

    def py(self, y: float) -> float:
        return self.y0 + self.h * (1 - (math.log10(y) - self.ly) / (self.hy - self.ly))

    def frame(self, xlabel: str, ylabel: str) -> list[str]:
        x0, y0, w, h = self.x0, self.y0, self.w, self.h
        out = [f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>']
        for t in _ticks_log(10 ** self.lx, 10 ** self.hx):
            x = self.px(t)
            out.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + h}" stroke="#eee"/>'
                       f'<text x="{x:.1f}" y="{y0 + h + 14}" text-anchor="middle">{fmt(t)}</text>')
        for t in _ticks_log(10 ** self.ly, 10 ** self.hy):
            y = self.py(t)
            out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#eee"/>'
                       f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{fmt(t)}</text>')
        out.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 32}" text-anchor="middle">'
                   f"{_e(xlabel)}</text>")
        out.append(f'<text transform="translate(14,{y0 + h / 2}) rotate(-90)" '
                   f'text-anchor="middle">{_e(ylabel)}</text>')
        return out


def scatter_svg(series: list[dict], xlabel: str, ylabel: str, figure_id: str, title: str) -> str:
    """Log-log scatter; each series {name, points: [(x, y, label)], front: [(x, y)],
    star: (x, y, label) | None}; the legend sits right of the plot box, outside the data."""
    xs = [p[0] for s in series for p in s["points"]] + [s["star"][0] for s in series if s.get("star")]
    ys = [p[1] for s in series for p in s["points"]] + [s["star"][1] for s in series if s.get("star")]
    ax = _LogAxes(xs, ys)
    body = [f'<text x="0" y="12" font-weight="600">{_e(title)}</text>']
    body += ax.frame(xlabel, ylabel)
    legend_x = ax.x0 + ax.w + 16
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        if s.get("front"):
            pts = " ".join(f"{ax.px(x):.1f},{ax.py(y):.1f}" for x, y in s["front"])
            body.append(f'<polyline points="{pts}" fill="none" stroke="{color}" '
                        f'stroke-dasharray="4 3" data-series="{_e(s["name"])}" class="front"/>')
        for x, y, lab in s["points"]:
            body.append(f'<circle cx="{ax.px(x):.1f}" cy="{ax.py(y):.1f}" r="4" fill="{color}" '
                        f'fill-opacity="0.6" stroke="#333" stroke-width="0.4" '
                        f'data-series="{_e(s["name"])}" data-x="{_r(x)}" data-y="{_r(y)}">'
                        f"<title>{_e(lab)}: {_e(fmt(x))}, {_e(fmt(y))}</title></circle>")
        if s.get("star"):
            x, y, lab = s["star"]
            cx, cy = ax.px(x), ax.py(y)
            body.append(f'<path d="M{cx:.1f},{cy - 7:.1f} L{cx + 2:.1f},{cy - 2:.1f} '
                        f'L{cx + 7:.1f},{cy - 2:.1f} L{cx + 3:.1f},{cy + 2:.1f} L{cx + 5:.1f},'
                        f'{cy + 7:.1f} L{cx:.1f},{cy + 4:.1f} L{cx - 5:.1f},{cy + 7:.1f} '
                        f'L{cx - 3:.1f},{cy + 2:.1f} L{cx - 7:.1f},{cy - 2:.1f} L{cx - 2:.1f},'
                        f'{cy - 2:.1f} Z" fill="{color}" stroke="#000" class="baseline" '
                        f'data-series="{_e(s["name"])}" data-x="{_r(x)}" data-y="{_r(y)}">'
                        f"<title>{_e(lab)}</title></path>")
        ly = ax.y0 + 10 + 32 * i
        body.append(f'<circle cx="{legend_x + 5}" cy="{ly}" r="4" fill="{color}"/>'
                    f'<text x="{legend_x + 14}" y="{ly + 4}">{_e(s["name"])}</text>'
                    f'<text x="{legend_x + 14}" y="{ly + 17}" fill="#555" font-size="9">'
                    "dashed: front; star: baseline</text>")
    return _svg(ax.x0 + ax.w + 260, ax.y0 + ax.h + 44, body, figure_id, title)


def stacked_svg(rows: list[tuple[str, dict[str, float]]], unit: str, figure_id: str,
                title: str) -> str:
    """Horizontal stacked bars: one bar per (label, {role: value}); the largest roles
    (over all bars) drawn apart, the rest as 'other'; legend below the bars."""
    totals: dict[str, float] = {}
    for _, parts in rows:
        for k, v in parts.items():
            totals[k] = totals.get(k, 0.0) + v
    roles = [k for k, v in sorted(totals.items(), key=lambda kv: -kv[1]) if v > 0]
    keep, rest = roles[:MAX_ROLES], roles[MAX_ROLES:]
    names = keep + (["other"] if rest else [])
    color = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    left, bar_h, top, width, right = 230, 16, 24, 760, 90
    vmax = max((sum(p.values()) for _, p in rows), default=0.0) or 1.0
    span = width - left - right
    body = [f'<text x="0" y="14" font-weight="600">{_e(title)} ({_e(unit)})</text>']
    for i, (lab, parts) in enumerate(rows):
        y = top + i * (bar_h + 4)
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(lab)}</text>')
        x = float(left)
        values = {n: parts.get(n, 0.0) for n in keep}
        if rest:
            values["other"] = sum(parts.get(k, 0.0) for k in rest)
        for n in names:
            w = span * values[n] / vmax
            body.append(f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{bar_h}" '
                        f'fill="{color[n]}" data-bar="{_e(lab)}" data-role="{_e(n)}"'
                        f'{_num_attr(values[n])}><title>{_e(lab)}, {_e(n)}: '
                        f"{_e(fmt(values[n]))} {_e(unit)}</title></rect>")
            x += w
        body.append(f'<text x="{x + 4:.2f}" y="{y + 12}">{_e(fmt(sum(parts.values())))}</text>')
    ly = top + len(rows) * (bar_h + 4) + 10
    for i, n in enumerate(names):
        lx = left + (i % 4) * 130
        yy = ly + (i // 4) * 16
        body.append(f'<rect x="{lx}" y="{yy}" width="10" height="10" fill="{color[n]}"/>'
                    f'<text x="{lx + 14}" y="{yy + 9}">{_e(n)}</text>')
    height = ly + ((len(names) + 3) // 4) * 16 + 6
    return _svg(width, height, body, figure_id, title)


def lines_svg(series: list[dict], xlabel: str, ylabel: str, figure_id: str, title: str) -> str:
    """Log-log lines; each series {name, points: [(x, y)]}; legend right of the box."""
    xs = [x for s in series for x, _ in s["points"]]
    ys = [y for s in series for _, y in s["points"]]
    ax = _LogAxes(xs, ys, box=(70, 20, 360, 220))
    body = [f'<text x="0" y="12" font-weight="600">{_e(title)}</text>'] + ax.frame(xlabel, ylabel)
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        pts = [(x, y) for x, y in s["points"] if x and y and x > 0 and y > 0]
        body.append(f'<polyline points="{" ".join(f"{ax.px(x):.1f},{ax.py(y):.1f}" for x, y in pts)}" '
                    f'fill="none" stroke="{color}"/>')
        for x, y in pts:
            body.append(f'<circle cx="{ax.px(x):.1f}" cy="{ax.py(y):.1f}" r="3" fill="{color}" '
                        f'data-series="{_e(s["name"])}" data-x="{_r(x)}" data-y="{_r(y)}"/>')
        ly = ax.y0 + 10 + 16 * i
        body.append(f'<line x1="{ax.x0 + ax.w + 12}" y1="{ly}" x2="{ax.x0 + ax.w + 28}" '
                    f'y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{ax.x0 + ax.w + 32}" '
                    f'y="{ly + 4}">{_e(s["name"])}</text>')
    return _svg(ax.x0 + ax.w + 300, ax.y0 + ax.h + 44, body, figure_id, title)


def timeline_svg(result: dict, figure_id: str = "timeline") -> str | None:
    """Image 0's path through the layers: one bar per layer from its start to its finish
    (engine fidelities only)."""
    stats = result.get("engine_stats") or {}
    layers = stats.get("layers") or []
    if not layers:
        return None
    end = max((lt["finish_ns"] for lt in layers), default=0.0) or 1.0
    left, bar_h, top, width, right = 150, 10, 24, 760, 20
    span = width - left - right
    body = [f'<text x="0" y="14" font-weight="600">image 0 through the layers (ns; '
            f"{_e(fmt(end))} ns end to end)</text>"]
    for i, lt in enumerate(layers):
        y = top + i * (bar_h + 3)
        x0 = left + span * lt["start_ns"] / end
        w = max(0.5, span * (lt["finish_ns"] - lt["start_ns"]) / end)
        body.append(f'<text x="{left - 6}" y="{y + 9}" text-anchor="end" font-size="9">'
                    f'{_e(lt["name"])}</text>')
        body.append(f'<rect x="{x0:.2f}" y="{y}" width="{w:.2f}" height="{bar_h}" '
                    f'fill="{PALETTE[0]}" data-layer="{_e(lt["name"])}" '
                    f'data-start="{_r(lt["start_ns"])}" data-finish="{_r(lt["finish_ns"])}">'
                    f'<title>{_e(lt["name"])}: {_e(fmt(lt["start_ns"]))} to '
                    f'{_e(fmt(lt["finish_ns"]))} ns</title></rect>')
    height = top + len(layers) * (bar_h + 3) + 8
    return _svg(width, height, body, figure_id, "timeline of image 0")


# ---------------------------------------------------------------- pages

def _identity_html(result: dict) -> str:
    ident = result.get("identity") or {}
    items = [f"pimsim {_e(result.get('pimsim_version', '?'))}, result schema "
             f"{_e(result.get('schema_version', '?'))}"]
    for key in ("design_file", "design_sha256", "trace_file", "trace_sha256", "network_sha256",
                "schedule_file"):
        if ident.get(key):
            items.append(f"{_e(key)}: <code>{_e(ident[key])}</code>")
    if ident.get("overrides"):
        items.append(f"overrides: <code>{_e(json.dumps(ident['overrides']))}</code>")
    return '<p class="meta">' + "<br>".join(items) + "</p>"


def _energy_rows(result: dict) -> list[tuple[str, float]]:
    b = (result.get("total") or {}).get("energy_breakdown_pJ") or {}
    return [(k, v / PJ_PER_UJ) for k, v in sorted(b.items(), key=lambda kv: -kv[1])]


def _area_rows(result: dict) -> list[tuple[str, float]]:
    b = result.get("area_breakdown_mm2") or {}
    return sorted(b.items(), key=lambda kv: -kv[1])


def breakdown_table(items: list[tuple[str, float]], title: str, unit: str, slug: str) -> Table:
    total = sum(v for _, v in items) or 1.0
    return Table(title, ("component", unit, "share (%)"),
                 tuple((k, v, 100 * v / total) for k, v in items), slug=slug)


def static_dynamic_table(result: dict) -> Table | None:
    t = result.get("total") or {}
    dyn = t.get("dynamic_energy_pJ")
    sta = t.get("static_energy_pJ")
    if dyn is None or sta is None:
        return None
    return Table("energy per image: dynamic and static", ("part", "energy (pJ)", "share (%)"),
                 (("dynamic", dyn, 100 * ratio(dyn, dyn + sta) if dyn + sta else None),
                  ("static", sta, 100 * ratio(sta, dyn + sta) if dyn + sta else None)),
                 slug="static_dynamic")


def result_fragment(result: dict) -> str:
    """The body of a result's report (no page around it): for notebooks and run_html."""
    from pimsim.report.run import run_table
    from pimsim.report.views import bottleneck_line, fidelity_line, layers_table

    base = result.get("baseline")
    parts = [f"<h1>{_e(result.get('design'))} on {_e(result.get('network'))}</h1>",
             f'<p class="line" id="fidelity">{_e(fidelity_line(result))}</p>',
             f'<p class="line" id="bottleneck">{_e(bottleneck_line(result))}</p>',
             _identity_html(result),
             "<h2>Totals" + (f" vs {_e(base.get('design'))}" if base else "") + "</h2>",
             table_html(run_table(result, base), "totals")]
    energy = _energy_rows(result)
    if energy:
        parts += ["<h2>Energy per image by component</h2>",
                  f"<figure>{bars_svg(energy, 'uJ', 'energy-figure', 'energy per image')}</figure>",
                  table_html(breakdown_table(energy, "energy per image by component",
                                             "energy (uJ)", "energy"), "energy")]
        sd = static_dynamic_table(result)
        if sd is not None:
            parts.append(table_html(sd, "static-dynamic"))
    area = _area_rows(result)
    if area:
        parts += ["<h2>Area of the chips used by component</h2>",
                  f"<figure>{bars_svg(area, 'mm²', 'area-figure', 'area')}</figure>",
                  table_html(breakdown_table(area, "area by component", "area (mm²)", "area"),
                             "area")]
    parts += ["<h2>Per layer</h2>", table_html(layers_table(result), "layers")]
    tl = timeline_svg(result)
    if tl is not None:
        stats = result["engine_stats"]
        stalls = stats.get("stalls_ns") or {}
        parts += ["<h2>Timeline summary</h2>", f"<figure>{tl}<figcaption>{_e(stats['images'])} "
                  f"images simulated; last completion at {_e(fmt(stats['sim_time_ns']))} ns; "
                  f"{_e(fmt(stats['events']))} events</figcaption></figure>",
                  table_html(Table("idle time of compute processes per image, by cause",
                                   ("cause", "stall (ns)"),
                                   tuple(sorted(stalls.items(), key=lambda kv: -kv[1])),
                                   slug="stalls"), "stalls")]
    return "\n".join(parts)


def run_html(doc: dict) -> str:
    """A ``run`` document (``pimsim run --json``) as one self-contained HTML page."""
    title = f"pimsim: {doc.get('design')} on {doc.get('network')}"
    return _page(title, [result_fragment(doc)], doc)


def sweep_html(head: dict, rows: list[dict]) -> str:
    """A sweep (plan + rows) as one self-contained HTML page: results, Pareto front
    (table and figure), energy and area breakdowns, crossbar-size curves, failures."""
    from pimsim.report.sweep_tables import (OK, PARETO_X, PARETO_Y, baseline_for, label,
                                            pareto_rows, sweep_tables)

    results, pareto, failures = sweep_tables(head, rows)
    axes = head.get("axes")
    ok = [r for r in rows if r["status"] == OK]
    traces = list(dict.fromkeys(r["trace"] for r in ok))
    body = [f"<h1>Sweep {_e(head.get('name', ''))}</h1>",
            f'<p class="meta">{len(rows)} planned evaluations, {len(ok)} ok; fidelity '
            f"{_e(head.get('fidelity', '?'))}; report by pimsim {_e(__version__)}, result "
            f"schema {SCHEMA_VERSION}</p>"]
    if ok:
        series = []
        for t in traces:
            mine = [r for r in ok if r["trace"] == t and r["role"] == "point"]
            base = baseline_for(rows, t)
            series.append({"name": t,
                           "points": [(r["total"][PARETO_X], r["total"][PARETO_Y], label(r, axes))
                                      for r in mine],
                           "front": [(r["total"][PARETO_X], r["total"][PARETO_Y])
                                     for r in pareto_rows(rows, t)],
                           "star": ((base["total"][PARETO_X], base["total"][PARETO_Y], label(base))
                                    if base else None)})
        body += ["<h2>Pareto front</h2>",
                 "<figure>" + scatter_svg(series, "area efficiency CE (GOPS/mm²)",
                                          "energy efficiency PE (GOPS/W)", "pareto-figure",
                                          "CE vs PE, log-log") + "</figure>",
                 table_html(pareto, "pareto")]
    body += ["<h2>All points</h2>", table_html(results, "results")]
    for kind, field, scale, unit in (("energy", "energy_breakdown_pJ", 1 / PJ_PER_UJ,
                                      "uJ per image"),
                                     ("area", "area_breakdown_mm2", 1.0, "mm²")):
        for i, t in enumerate(traces):
            mine = [r for r in ok if r["trace"] == t]
            mine.sort(key=lambda r: r["role"] != "baseline")
            bars = [(label(r, axes), {k: v * scale for k, v in (r.get(field) or {}).items()})
                    for r in mine]
            if i == 0:
                body.append(f"<h2>{kind.capitalize()} by component</h2>")
            body.append("<figure>" + stacked_svg(bars, unit, f"{kind}-figure-{i}",
                                                 f"{kind} by component on {t}") + "</figure>")
    curves = _xbar_series(head, rows)
    if curves:
        body.append("<h2>Metrics vs crossbar size</h2>")
        for i, (metric, name, series) in enumerate(curves):
            body.append("<figure>" + lines_svg(series, "crossbar rows (cells)", name,
                                               f"curve-{metric}", name) + "</figure>")
    if failures.rows:
        body += ["<h2>Failures and skips</h2>", table_html(failures, "failures")]
    return _page(f"pimsim sweep {head.get('name', '')}", body, {"sweep": head, "points": rows})


CURVE_METRICS = (("gops_per_W", 1.0, "PE (GOPS/W)"), ("gops_per_mm2", 1.0, "CE (GOPS/mm²)"),
                 ("throughput_images_per_s", 1.0, "throughput (images/s)"),
                 ("energy_pJ", 1 / PJ_PER_UJ, "energy per image (uJ)"))


def _xbar_series(head: dict, rows: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """(metric, axis label, series) per curve metric, when the sweep varies crossbar rows."""
    from pimsim.report.sweep_tables import OK

    pts = [r for r in rows if r["status"] == OK and r["role"] == "point" and r.get("params")]
    if len({r["params"].get("crossbar_rows") for r in pts}) < 2:
        return []
    others = [a["name"] for a in head.get("axes", []) if a["kind"] == "config"
              and not any(k in ("crossbar.rows", "crossbar.cols") for k in a["keys"])]
    groups: dict[tuple, list[dict]] = {}
    for r in pts:
        groups.setdefault((r["trace"],) + tuple(r["axes"].get(o) for o in others), []).append(r)
    out = []
    for metric, scale, name in CURVE_METRICS:
        series = []
        for key, members in groups.items():
            members = sorted(members, key=lambda r: r["params"]["crossbar_rows"])
            tag = " ".join([key[0]] + [f"{o}={v}" for o, v in zip(others, key[1:])])
            series.append({"name": tag, "points": [(r["params"]["crossbar_rows"],
                                                    r["total"][metric] * scale) for r in members]})
        out.append((metric, name, series))
    return out
