"""Plots of a sweep (matplotlib, optional): Pareto front, breakdowns, crossbar-size curves.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot, no global state, no
display needed) from the rows of :func:`pimsim.report.sweep_tables.load_sweep_rows`, and
written as PNG and SVG atomically (temp file + rename).
"""

from __future__ import annotations

import io
from pathlib import Path

from pimsim.errors import PimsimError
from pimsim.optional import PLOT_HINT as INSTALL_HINT, require
from pimsim.report.output import write_atomic
from pimsim.report.sweep_tables import (OK, PARETO_X, PARETO_Y, baseline_for, label, pareto_rows)
from pimsim.units import PJ_PER_UJ

FORMATS = ("png", "svg")
MAX_STACK_ROLES = 7
"""Roles drawn separately in a stacked bar; the rest are summed as 'other'."""


class PlotsUnavailable(PimsimError):
    """matplotlib is not installed."""


def require_matplotlib():
    """(matplotlib, matplotlib.figure.Figure), or PlotsUnavailable."""
    matplotlib = require("matplotlib", "plots", INSTALL_HINT, error=PlotsUnavailable,
                         also=("figure",))
    return matplotlib, matplotlib.figure.Figure


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


def save_png(fig, path: str | Path) -> Path:
    """One PNG at ``path`` (atomically), for scripts that name the file themselves."""
    path = Path(path)
    return save_figure(fig, path.parent / path.stem, formats=("png",))[0]


def _traces(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["trace"] for r in rows if r["status"] == OK))


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def pareto_figure(head: dict, rows: list[dict]):
    """CE (GOPS/mm2) vs PE (GOPS/W), marker area ~ throughput, one colour per trace, the
    front of each trace as a line, baselines as stars. The legend sits right of the axes,
    outside the data; front labels turn left near the right edge so they stay inside."""
    _, Figure = require_matplotlib()
    from matplotlib.lines import Line2D

    traces = _traces(rows)
    fig = Figure(figsize=(10, 5.5))
    ax = fig.add_subplot()
    ok = [r for r in rows if r["status"] == OK]
    tmax = max((r["total"]["throughput_images_per_s"] for r in ok), default=1.0) or 1.0

    def size(r):
        return 20 + 280 * r["total"]["throughput_images_per_s"] / tmax

    handles = []
    labelled = []
    for color, trace in zip(_colors(len(traces)), traces):
        mine = [r for r in ok if r["trace"] == trace and r["role"] == "point"]
        ax.scatter([r["total"][PARETO_X] for r in mine], [r["total"][PARETO_Y] for r in mine],
                   s=[size(r) for r in mine], color=color, alpha=0.55, edgecolors="k",
                   linewidths=0.4)
        front = pareto_rows(rows, trace)
        ax.plot([r["total"][PARETO_X] for r in front], [r["total"][PARETO_Y] for r in front],
                color=color, lw=1.2, ls="--", drawstyle="steps-pre")
        labelled += [(r, color) for r in front if r["role"] == "point"]
        handles.append(Line2D([], [], ls="--", marker="o", color=color, markersize=7,
                              markerfacecolor=color, alpha=0.8, label=f"{trace} (dashed: front)"))
        base = baseline_for(rows, trace)
        if base:
            ax.scatter([base["total"][PARETO_X]], [base["total"][PARETO_Y]], marker="*", s=220,
                       color=color, edgecolors="k", linewidths=0.8, zorder=4)
            handles.append(Line2D([], [], ls="", marker="*", color=color, markersize=12,
                                  markeredgecolor="k", label=f"{label(base)} on {trace}"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.margins(x=0.08, y=0.08)
    ax.autoscale_view()
    lo, hi = (v for v in ax.get_xlim())
    import math

    for r, color in labelled:
        x, y = r["total"][PARETO_X], r["total"][PARETO_Y]
        right_side = (math.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo)) > 0.7
        ax.annotate(label(r, head.get("axes")), (x, y), fontsize=6.5, color="k",
                    xytext=(-6, 4) if right_side else (6, 4), textcoords="offset points",
                    ha="right" if right_side else "left", annotation_clip=True)
    ax.set_xlabel("area efficiency CE (GOPS/mm$^2$), log scale")
    ax.set_ylabel("energy efficiency PE (GOPS/W), log scale")
    ax.set_title(f"sweep {head.get('name', '')}: Pareto front (marker area ~ throughput, "
                 f"max {tmax:,.0f} images/s)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0)
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
    """Stacked horizontal bars per design point (labels on the left, never rotated), one
    panel per trace, the baseline's bar on top; the legend right of the panels.

    ``kind`` 'energy': energy per image by component (uJ); 'area': area of the chips
    used by component (mm2).
    """
    _, Figure = require_matplotlib()
    field, scale, unit = (("energy_breakdown_pJ", 1 / PJ_PER_UJ, "energy per image (uJ)")
                          if kind == "energy" else ("area_breakdown_mm2", 1.0,
                                                    "area of the chips used (mm$^2$)"))
    traces = _traces(rows)
    counts = [sum(r["trace"] == t and r["status"] == OK for r in rows) for t in traces] or [1]
    height = sum(0.26 * c + 1.1 for c in counts) + 0.4
    fig = Figure(figsize=(9.5, max(3.0, height)))
    axes = fig.subplots(len(counts), 1, squeeze=False, height_ratios=[c + 3 for c in counts])[:, 0]
    # One role order and colour for every panel, so a colour means one component throughout.
    keep, rest = _roles([r for r in rows if r["status"] == OK], field)
    names = keep + (["other"] if rest else [])
    color = dict(zip(names, _colors(len(names))))
    for ax, trace in zip(axes, traces):
        mine = [r for r in rows if r["trace"] == trace and r["status"] == OK]
        mine.sort(key=lambda r: r["role"] != "baseline")     # baseline first (on top)
        values = _stack(mine, field, scale, keep, rest)
        y = list(range(len(mine)))
        left = [0.0] * len(mine)
        for role in names:
            ax.barh(y, values[role], left=left, color=color[role], label=role, height=0.75)
            left = [a + b for a, b in zip(left, values[role])]
        ax.set_yticks(y)
        ax.set_yticklabels([label(r, head.get("axes")) for r in mine], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(unit, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.ticklabel_format(axis="x", style="plain")
        ax.set_title(f"{kind} by component on {trace}", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                   title="component", title_fontsize=7)
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
    fig = Figure(figsize=(10, 8))
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
    handles, labels = axs[0].get_legend_handles_labels()
    fig.suptitle(f"sweep {head.get('name', '')}: metrics vs crossbar size (stars: baseline)",
                 fontsize=10)
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=min(4, len(labels) or 1),
               frameon=False)
    rows_of_legend = (len(labels) + 3) // 4
    fig.tight_layout(rect=(0, 0.035 * rows_of_legend + 0.01, 1, 1))
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
