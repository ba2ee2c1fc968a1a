"""Plots of a sweep (matplotlib, optional): Pareto front, breakdowns, crossbar-size curves.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state, no
display needed) from the rows of :func:`pimsim.report.sweep_tables.load_sweep_rows`, and
written as PNG and SVG atomically (temp file + rename).
"""

from __future__ import annotations

import io
from pathlib import Path

from pimsim.errors import PimsimError
from pimsim.report.output import write_atomic
from pimsim.report.sweep_tables import (OK, PARETO_X, PARETO_Y, baseline_for, label, pareto_rows)
from pimsim.units import PJ_PER_UJ

FORMATS = ("png", "svg")
INSTALL_HINT = "pip install -e '.[plot]'   (or: pip install matplotlib)"
MAX_STACK_ROLES = 7
"""Roles drawn separately in a stacked bar; the rest are summed as 'other'."""


class PlotsUnavailable(PimsimError):
    """matplotlib is not installed."""


def require_matplotlib():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotsUnavailable("plots need matplotlib, which is not installed",
                               expected=INSTALL_HINT) from None
    return matplotlib, Figure


def save_figure(fig, stem: Path, formats=FORMATS) -> list[Path]:
    """``stem``.png / ``stem``.svg; SVGs carry no date so reruns give the same file, and
    keep their text as text (half the size, searchable) instead of glyph outlines."""
    import matplotlib

    out = []
    for fmt in formats:
        buf = io.BytesIO()
        meta = {"Date": None} if fmt == "svg" else {}
        # No bbox_inches="tight": figures lay themselves out (tight_layout), and a second
        # layout pass per file would double the drawing time.
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            fig.savefig(buf, format=fmt, dpi=110, metadata=meta)
        out.append(write_atomic(Path(f"{stem}.{fmt}"), buf.getvalue()))
    return out


def _traces(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["trace"] for r in rows if r["status"] == OK))


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def pareto_figure(head: dict, rows: list[dict]):
    """CE (GOPS/mm2) vs PE (GOPS/W), marker area ~ throughput, one colour per trace, the
    front of each trace as a line, baselines as stars."""
    _, Figure = require_matplotlib()
    traces = _traces(rows)
    fig = Figure(figsize=(7.5, 5.5))
    ax = fig.add_subplot()
    ok = [r for r in rows if r["status"] == OK]
    tmax = max((r["total"]["throughput_images_per_s"] for r in ok), default=1.0) or 1.0

    def size(r):
        return 20 + 280 * r["total"]["throughput_images_per_s"] / tmax

    for color, trace in zip(_colors(len(traces)), traces):
        mine = [r for r in ok if r["trace"] == trace and r["role"] == "point"]
        ax.scatter([r["total"][PARETO_X] for r in mine], [r["total"][PARETO_Y] for r in mine],
                   s=[size(r) for r in mine], color=color, alpha=0.55, edgecolors="k",
                   linewidths=0.4, label=trace)
        front = pareto_rows(rows, trace)
        ax.plot([r["total"][PARETO_X] for r in front], [r["total"][PARETO_Y] for r in front],
                color=color, lw=1.2, ls="--", drawstyle="steps-pre")
        for r in front:
            if r["role"] == "point":
                ax.annotate(label(r, head.get("axes")),
                            (r["total"][PARETO_X], r["total"][PARETO_Y]),
                            fontsize=6, xytext=(4, 3), textcoords="offset points")
        base = baseline_for(rows, trace)
        if base:
            ax.scatter([base["total"][PARETO_X]], [base["total"][PARETO_Y]], marker="*", s=220,
                       color=color, edgecolors="k", linewidths=0.8,
                       label=f"{label(base)} on {trace}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("area efficiency CE (GOPS/mm$^2$)")
    ax.set_ylabel("energy efficiency PE (GOPS/W)")
    ax.set_title(f"sweep {head.get('name', '')}: Pareto front (marker area ~ throughput, "
                 f"max {tmax:,.0f} images/s)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def _roles(rows: list[dict], field: str) -> tuple[list[str], list[str]]:
    """(roles drawn on their own, largest first; roles folded into 'other')."""
    totals: dict[str, float] = {}
    for r in rows:
        for role, v in (r.get(field) or {}).items():
            totals[role] = totals.get(role, 0.0) + v
    roles = [k for k, v in sorted(totals.items(), key=lambda kv: -kv[1]) if v > 0]
    return roles[:MAX_STACK_ROLES], roles[MAX_STACK_ROLES:]


def _stack(rows: list[dict], field: str, scale: float, keep: list[str],
           rest: list[str]) -> dict[str, list[float]]:
    """role -> value per row, the ``rest`` summed as 'other'."""
    values = {role: [(r.get(field) or {}).get(role, 0.0) * scale for r in rows] for role in keep}
    if rest:
        values["other"] = [sum((r.get(field) or {}).get(k, 0.0) for k in rest) * scale
                           for r in rows]
    return values


def breakdown_figure(head: dict, rows: list[dict], kind: str = "energy"):
    """Stacked bars per design point, one panel per trace, the baseline's bar first.

    ``kind`` 'energy': energy per image by component (uJ); 'area': area of the chips
    used by component (mm2).
    """
    _, Figure = require_matplotlib()
    field, scale, unit = (("energy_breakdown_pJ", 1 / PJ_PER_UJ, "energy per image (uJ)")
                          if kind == "energy" else ("area_breakdown_mm2", 1.0, "area (mm$^2$)"))
    traces = _traces(rows)
    n = max(1, len(traces))
    bars = max((sum(r["trace"] == t and r["status"] == OK for r in rows) for t in traces),
               default=1)
    fig = Figure(figsize=(max(6.0, 0.32 * bars + 3), 3.6 * n))
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    # One role order and colour for every panel, so a colour means one component throughout.
    keep, rest = _roles([r for r in rows if r["status"] == OK], field)
    names = keep + (["other"] if rest else [])
    color = dict(zip(names, _colors(len(names))))
    for ax, trace in zip(axes, traces):
        mine = [r for r in rows if r["trace"] == trace and r["status"] == OK]
        mine.sort(key=lambda r: r["role"] != "baseline")     # baseline first
        values = _stack(mine, field, scale, keep, rest)
        x = list(range(len(mine)))
        bottom = [0.0] * len(mine)
        for role in names:
            ax.bar(x, values[role], bottom=bottom, color=color[role], label=role, width=0.75)
            bottom = [b + v for b, v in zip(bottom, values[role])]
        ax.set_xticks(x)
        ax.set_xticklabels([label(r, head.get("axes")) for r in mine], rotation=60, ha="right",
                           fontsize=6)
        ax.set_ylabel(unit)
        ax.ticklabel_format(axis="y", style="plain")
        ax.set_title(f"{kind} by component on {trace}", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


CURVE_METRICS = (("gops_per_W", 1.0, "PE (GOPS/W)"), ("gops_per_mm2", 1.0, "CE (GOPS/mm$^2$)"),
                 ("throughput_images_per_s", 1.0, "throughput (images/s)"),
                 ("energy_pJ", 1 / PJ_PER_UJ, "energy per image (uJ)"))


def has_xbar_axis(rows: list[dict]) -> bool:
    sizes = {r["params"]["crossbar_rows"] for r in rows if r["status"] == OK and r.get("params")
             and r["role"] == "point"}
    return len(sizes) > 1


def xbar_curves_figure(head: dict, rows: list[dict]):
    """Metric vs crossbar rows, a line per trace and per setting of the other axes."""
    _, Figure = require_matplotlib()
    xb_axes = {a["name"] for a in head.get("axes", [])
               if any(k in ("crossbar.rows", "crossbar.cols") for k in a["keys"])}
    others = [a["name"] for a in head.get("axes", []) if a["kind"] == "config"
              and a["name"] not in xb_axes]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r["status"] == OK and r["role"] == "point" and r.get("params"):
            groups.setdefault((r["trace"],) + tuple(r["axes"].get(o) for o in others), []).append(r)
    fig = Figure(figsize=(10, 7.5))
    axs = fig.subplots(2, 2).ravel()
    colors = _colors(len(groups))
    for ax, (metric, scale, name) in zip(axs, CURVE_METRICS):
        for color, (gkey, members) in zip(colors, groups.items()):
            members.sort(key=lambda r: r["params"]["crossbar_rows"])
            xs = [r["params"]["crossbar_rows"] for r in members]
            tag = " ".join([gkey[0]] + [f"{o}={v}" for o, v in zip(others, gkey[1:])])
            ax.plot(xs, [r["total"][metric] * scale for r in members], marker="o", ms=3,
                    color=color, label=tag)
        for trace in _traces(rows):
            base = baseline_for(rows, trace)
            if base and base.get("params"):
                ax.scatter([base["params"]["crossbar_rows"]], [base["total"][metric] * scale],
                           marker="*", s=120, color="k", zorder=5)
        ax.set_xscale("log", base=2)
        sizes = sorted({r["params"]["crossbar_rows"] for g in groups.values() for r in g})
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.minorticks_off()         # rows are powers of two: label exactly those
        ax.set_yscale("log")
        ax.set_xlabel("crossbar rows (cells)")
        ax.set_ylabel(name)
        ax.grid(True, which="both", alpha=0.3)
    axs[0].legend(fontsize=6, loc="lower right")
    fig.suptitle(f"sweep {head.get('name', '')}: metrics vs crossbar size (stars: baseline)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def write_plots(head: dict, rows: list[dict], out_dir: str | Path, formats=FORMATS) -> list[Path]:
    """Every plot that applies to this sweep, as ``out_dir``/NAME.{png,svg}."""
    require_matplotlib()
    out_dir = Path(out_dir)
    if not any(r["status"] == OK for r in rows):
        return []
    written = []
    written += save_figure(pareto_figure(head, rows), out_dir / "pareto", formats)
    written += save_figure(breakdown_figure(head, rows, "energy"), out_dir / "energy_breakdown",
                           formats)
    written += save_figure(breakdown_figure(head, rows, "area"), out_dir / "area_breakdown",
                           formats)
    if has_xbar_axis(rows):
        written += save_figure(xbar_curves_figure(head, rows), out_dir / "xbar_curves", formats)
    return written
