"""Functions the CLI wires in: ``pimsim techniques apply | compare | curves``.

Each returns plain data and, given an output folder, writes its document (JSON, the
result schema of docs/results.md), CSV and Markdown atomically (and a PNG plot when
matplotlib is installed). ``run(args)`` dispatches and prints tables (``--json``: the
document); the options are in :mod:`pimsim.techniques.cli_args`. A figure that does not
apply (no pruning ratio for an unpruned row, no accuracy on a shape-only trace) is
``None`` / JSON null, and the document's notes say why.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from pimsim.techniques.apply import ROOT, apply_schedule, open_trace
from pimsim.techniques.schedule import FineTune, Schedule, load_schedule, parse_schedule

from pimsim.techniques.cli_args import CONFIGS, REAL_TRACES, SHAPE_TRACES  # noqa: E402

SCHEDULES = CONFIGS / "schedules"

#: The comparison's rows: (label, design point, schedule). ISAAC is the paper's design
#: (16-bit); ISAAC-8b isolates what the traced models' 8-bit precision alone gives.
ROWS = (
    ("ISAAC", "isaac.yaml", None),
    ("ISAAC-8b", "isaac_8bit.yaml", None),
    ("PIM-Prune", "pim_prune.yaml", "pim_prune.yaml"),
    ("ERA-BS weights", "era_bs.yaml", "era_bs_weights.yaml"),
    ("ERA-BS activations", "era_bs.yaml", "era_bs_acts.yaml"),
    ("ERA-BS full", "era_bs.yaml", "era_bs_full.yaml"),
    ("CIM pruning", "pim_prune.yaml", "cim_xbar_column.yaml"),
)
METRICS = ("mapped_gops_per_W", "mapped_gops_per_mm2", "gops_per_W", "gops_per_mm2",
           "throughput_images_per_s")


#: ``progress(done, total, what)``: called before each evaluation step.
Progress = Callable[[int, int, str], None]

COMPARE_NOTES = (
    "prune_ratio: the pruning ratio used (null: the row does not prune)",
    "accuracy: top-1 on the trace's held-out digits after the technique (null: shape-only "
    "trace, no model to run)",
    "<metric>_vs_<row>: this row's metric / that reference row's on the same trace (null: "
    "the reference is 0)",
    "mapped_gops_per_W: ops / dynamic energy; mapped_gops_per_mm2: GOPS / area of the tiles "
    "the mapping uses; gops_per_W, gops_per_mm2: whole chips",
)
CURVES_NOTES = (
    "accuracy_drop: accuracy_before - accuracy_after on the held-out digits (null: no "
    "accuracy, shape-only trace)",
    "energy_dynamic_ratio: dynamic energy before / after; effective_throughput_ratio: "
    "images/s after / before",
)


def _write(out_dir: str | Path | None, stem: str, doc: dict, table) -> list[Path]:
    """``stem``.json (the document), ``stem``.csv and ``stem``.md, each atomically."""
    if not out_dir:
        return []
    from pimsim.report.output import write_atomic
    from pimsim.report.tables import to_csv, to_json, to_markdown

    out = Path(out_dir)
    return [write_atomic(out / f"{stem}.json", to_json(doc)),
            write_atomic(out / f"{stem}.csv", to_csv(table)),
            write_atomic(out / f"{stem}.md", to_markdown(table))]


def _files(out_dir: str | Path, stem: str) -> list[Path]:
    """The files :func:`_write` writes for ``stem``."""
    return [Path(out_dir) / f"{stem}.{ext}" for ext in ("json", "csv", "md")]


def _rows_table(title: str, rows: list[dict], columns: Sequence[str], notes=(), slug="table"):
    from pimsim.report.tables import Table

    return Table(title, tuple(columns), tuple(tuple(r.get(c) for c in columns) for r in rows),
                 notes=tuple(notes), slug=slug)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def finetune_settings(schedule: Schedule, epochs: int | None = None, lr: float | None = None,
                      seed: int | None = None) -> FineTune:
    """The schedule's ``finetune`` settings with the command line's replacements."""
    ft = schedule.finetune
    for key, value in (("epochs", epochs), ("lr", lr), ("seed", seed)):
        if value is not None:
            ft = replace(ft, **{key: value})
    return ft


def apply_one(trace: str, config: str, schedule: str, *, limit: int | None = None,
              out_dir: str | None = None, finetune_epochs: int | None = None,
              finetune_lr: float | None = None, seed: int | None = None) -> dict:
    """``pimsim techniques apply``: a ``technique_apply`` document: the technique's
    summary, the Results before and after (``before``/``after``) and their efficiency
    metrics (``metrics_before``/``metrics_after``). Files: ``technique.json`` (+ CSV, MD).
    Fine-tuned when the schedule's ``finetune.epochs`` or ``finetune_epochs`` > 0."""
    from pimsim.report.documents import envelope

    sched = load_schedule(schedule)
    a = apply_schedule(trace, config, sched, limit=limit,
                       finetune=finetune_settings(sched, finetune_epochs, finetune_lr, seed))
    notes = []
    if a.outcome.accuracy_after is None:
        notes.append("accuracy_before/after: null, the trace has no tensors (shape-only)")
    data = envelope("technique_apply", **a.outcome.summary(), before=a.before.as_dict(),
                    after=a.after.as_dict(), metrics_before=a.metrics_before,
                    metrics_after=a.metrics_after, notes=notes)
    data["files"] = [str(p) for p in _write(out_dir, "technique", data, apply_table(data))]
    return data


def apply_table(data: dict):
    """Metrics before and after, and the ratio."""
    from pimsim.report.tables import Table, ratio

    rows = [(k, data["metrics_before"][k], data["metrics_after"][k],
             ratio(data["metrics_after"][k], data["metrics_before"][k]))
            for k in data["metrics_before"]]
    rows += [("crossbars (one copy per layer)", data["crossbars_before"], data["crossbars_after"],
              ratio(data["crossbars_after"], data["crossbars_before"]))]
    if data.get("accuracy_before") is not None:
        rows.append(("accuracy (held-out digits)", data["accuracy_before"],
                     data["accuracy_after"], ratio(data["accuracy_after"], data["accuracy_before"])))
    return Table(f"{data['technique']} on {data['network']} ({data['design']}): before and after",
                 ("metric", "before", "after", "after / before"), tuple(rows),
                 notes=("units in the metric names; mapped_*: the tiles the mapping uses",),
                 slug="metrics")


RATIO_GRID = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def ratio_within(trace, config, schedule: Schedule, max_drop: float,
                 limit: int | None = None, finetune: FineTune | None = None) -> float:
    """Largest pruning ratio of ``RATIO_GRID`` whose accuracy drop on the held-out digits
    is at most ``max_drop`` (0 when none is): the accuracy-matched operating point."""
    best = 0.0
    for r in RATIO_GRID:
        d = replace(schedule.default, ratio=r)
        s = replace(schedule, default=d, layers={k: replace(v, ratio=r)
                                                 for k, v in schedule.layers.items()})
        o = apply_schedule(trace, config, s, limit=limit, finetune=finetune).outcome
        if o.accuracy_before - o.accuracy_after > max_drop:
            break
        best = r
    return best


def compare_steps(traces: Sequence[str], max_drop: float | None) -> int:
    """Steps :func:`compare` reports progress in: each row once per trace (a pruning row
    on a real trace includes its search over ``RATIO_GRID``)."""
    return len(traces) * len(ROWS)


def compare(traces: Sequence[str] = REAL_TRACES + SHAPE_TRACES, *, limit: int | None = None,
            max_drop: float | None = 0.01, out_dir: str | None = None,
            finetune: FineTune | None = None,
            progress: Progress | None = None) -> list[dict]:
    """``pimsim techniques compare``: every row of ``ROWS`` on every trace; metric ratios
    vs ISAAC and vs PIM-Prune, accuracy on the held-out digits (real traces).

    With ``max_drop`` the pruning rows use, per real trace, the largest ratio whose
    accuracy drop is at most ``max_drop``; shape-only networks use the ratio found on the
    real trace evaluated last before them (the donor, resnet20_digits, by default).
    ``max_drop=None`` keeps the schedules' own ratios. ``finetune`` replaces every
    schedule's fine-tuning settings (default: each schedule's own)."""
    records = []
    chosen: dict[str, float] = {}
    total, step = compare_steps(traces, max_drop), 0
    for path in traces:
        trace = open_trace(ROOT / path if not Path(path).is_absolute() else path)
        got: dict[str, tuple[dict, object, float | None]] = {}
        for label, cfg, sched in ROWS:
            if progress is not None:
                progress(step, total, f"{label} on {trace.network.name}")
            step += 1
            schedule = (load_schedule(SCHEDULES / sched) if sched
                        else parse_schedule({"technique": "none"}))
            ratio = None
            if max_drop is not None and schedule.technique in ("pim_prune", "cim_pruning"):
                if trace.has_tensors:
                    chosen[label] = ratio_within(trace, CONFIGS / cfg, schedule, max_drop, limit,
                                                 finetune)
                ratio = chosen.get(label, schedule.default.ratio)
                schedule = replace(schedule, default=replace(schedule.default, ratio=ratio))
            a = apply_schedule(trace, CONFIGS / cfg, schedule, limit=limit, finetune=finetune)
            got[label] = (a.metrics_after, a.outcome, ratio)
        for label, (m, o, ratio) in got.items():
            rec = {"network": trace.network.name, "row": label,
                   "prune_ratio": ratio,
                   "compression": o.compression if o.layers else 1.0,
                   "accuracy": o.accuracy_after,
                   "crossbars": m["crossbars"], "chips": m["chips"]}
            for ref in ("ISAAC", "PIM-Prune"):
                r = got[ref][0]
                for k in METRICS:
                    rec[f"{k}_vs_{ref}"] = _ratio(m[k], r[k])
            rec.update({k: m[k] for k in METRICS})
            records.append(rec)
    if progress is not None:
        progress(total, total, "done")
    if out_dir:
        from pimsim.report.documents import rows_document

        _write(out_dir, "techniques_compare",
               rows_document("technique_compare", records, COMPARE_NOTES), compare_table(records))
    return records


COMPARE_COLUMNS = ("network", "row", "prune_ratio", "compression", "accuracy", "crossbars",
                   "chips", "mapped_gops_per_W_vs_ISAAC", "mapped_gops_per_mm2_vs_ISAAC",
                   "throughput_images_per_s_vs_ISAAC", "mapped_gops_per_W_vs_PIM-Prune",
                   "mapped_gops_per_W", "throughput_images_per_s")


def compare_table(records: list[dict]):
    return _rows_table("techniques compared (ratios vs ISAAC and PIM-Prune on each trace)",
                       records, COMPARE_COLUMNS, COMPARE_NOTES, slug="table")


def curves(trace: str = REAL_TRACES[0], config: str = "configs/pim_prune.yaml",
           granularities: Sequence[str] = ("filter", "channel", "xbar_column", "ou_block"),
           ratios: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9), *,
           skip_first_last: bool = True, limit: int | None = None,
           out_dir: str | None = None, finetune: FineTune | None = None,
           progress: Progress | None = None) -> list[dict]:
    """``pimsim techniques curves``: compression vs accuracy drop per CIM granularity,
    with energy and effective throughput per point (magnitude pruning; fine-tuned with
    the mask fixed when ``finetune`` has epochs, ``accuracy_no_finetune`` beside it; the
    first and last MVM layers are kept dense unless ``skip_first_last`` is off)."""
    tr = open_trace(ROOT / trace if not Path(trace).is_absolute() else trace)
    mvm = [lay.name for lay in tr.network.mvm_layers]
    keep = {mvm[0]: {"enabled": False}, mvm[-1]: {"enabled": False}} if skip_first_last else {}
    records = []
    total = len(granularities) * len(ratios)
    for gran in granularities:
        for ratio in ratios:
            if progress is not None:
                progress(len(records), total, f"{gran} pruning, ratio {ratio:g}")
            sched = parse_schedule({"technique": "cim_pruning", "layers": keep,
                                    "default": {"pruning": {"granularity": gran,
                                                            "ratio": float(ratio)}}})
            a = apply_schedule(tr, ROOT / config if not Path(config).is_absolute() else config,
                               sched, limit=limit, finetune=finetune)
            o, m0, m = a.outcome, a.metrics_before, a.metrics_after
            records.append({
                "network": tr.network.name, "granularity": gran, "ratio": float(ratio),
                "compression": o.compression, "accuracy_before": o.accuracy_before,
                "accuracy_after": o.accuracy_after,
                "accuracy_no_finetune": (o.accuracy_no_finetune if o.accuracy_no_finetune
                                         is not None else o.accuracy_after),
                "finetune_epochs": finetune.epochs if finetune else 0,
                "accuracy_drop": (o.accuracy_before - o.accuracy_after
                                  if o.accuracy_after is not None else None),
                "crossbars": o.crossbars_after,
                "energy_pJ": m["energy_pJ"], "energy_dynamic_pJ": m["energy_dynamic_pJ"],
                "energy_dynamic_ratio": m0["energy_dynamic_pJ"] / m["energy_dynamic_pJ"],
                "throughput_images_per_s": m["throughput_images_per_s"],
                "effective_throughput_ratio": (m["throughput_images_per_s"]
                                               / m0["throughput_images_per_s"])})
    if progress is not None:
        progress(total, total, "done")
    if out_dir:
        from pimsim.report.documents import rows_document

        stem = f"curves_{tr.network.name}"
        _write(out_dir, stem, rows_document("technique_curves", records, CURVES_NOTES),
               curves_table(records))
        plot_curves(records, Path(out_dir) / f"{stem}.png")
    return records


CURVES_COLUMNS = ("network", "granularity", "ratio", "compression", "accuracy_drop",
                  "crossbars", "energy_dynamic_ratio", "effective_throughput_ratio")


def curves_table(records: list[dict]):
    return _rows_table("CIM-granularity pruning: compression vs accuracy drop", records,
                       CURVES_COLUMNS, CURVES_NOTES, slug="table")


def plot_curves(records: list[dict], path: Path) -> Path | None:
    """Accuracy drop vs compression per granularity (PNG, written atomically); None
    without matplotlib or without accuracy (shape-only trace)."""
    pts_all = [r for r in records if r["accuracy_drop"] is not None]
    try:
        from pimsim.report.plots import require_matplotlib, save_figure
        _, Figure = require_matplotlib()
    except ImportError:
        return None
    except Exception:   # noqa: BLE001 - PlotsUnavailable: the tables are written anyway
        return None
    if not pts_all:
        return None
    fig = Figure(figsize=(7.5, 4))
    ax = fig.add_subplot()
    for gran in dict.fromkeys(r["granularity"] for r in pts_all):
        pts = [r for r in pts_all if r["granularity"] == gran]
        ax.plot([r["compression"] for r in pts], [100 * r["accuracy_drop"] for r in pts],
                marker="o", label=gran)
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log")
    times = FuncFormatter(lambda x, _: f"{x:g}x")
    ax.xaxis.set_major_formatter(times)
    ax.xaxis.set_minor_formatter(times)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel("compression (weights / weights kept, log scale)")
    ax.set_ylabel("accuracy drop (%-points)")
    ep = records[0].get("finetune_epochs", 0)
    ax.set_title(f"{records[0]['network']}: structured pruning, "
                 + (f"fine-tuned {ep} epochs" if ep else "no fine-tuning") + ", held-out digits",
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="granularity", fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    save_figure(fig, Path(path).with_suffix(""), formats=("png",))
    return Path(path)


def _progress(quiet: bool) -> Progress | None:
    """Progress lines on stderr: rewritten in place on a terminal, one per step otherwise."""
    if quiet:
        return None
    tty = sys.stderr.isatty()

    def report(done: int, total: int, what: str) -> None:
        line = f"[{done}/{total}] {what}"
        if tty:
            sys.stderr.write("\r" + line + "\033[K" + ("\n" if done == total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return report


def _names(paths: Sequence[str]) -> str:
    return ", ".join(Path(p).stem for p in paths)


def _cli_finetune(args) -> FineTune | None:
    """``--finetune-epochs/--finetune-lr/--seed`` as settings (None: the schedules' own)."""
    if args.finetune_epochs is None:
        return None
    ft = FineTune(epochs=args.finetune_epochs)
    if args.finetune_lr is not None:
        ft = replace(ft, lr=args.finetune_lr)
    return replace(ft, seed=args.seed) if args.seed is not None else ft


def run(args) -> int:
    """Dispatch ``pimsim techniques ...``: say what runs, show progress, print tables
    (``--json``: the document of docs/results.md) and the paths written."""
    from pimsim.report.documents import rows_document
    from pimsim.report.tables import to_json
    from pimsim.report.views import render

    quiet = getattr(args, "quiet", False)
    say = (lambda text: None) if quiet else (lambda text: sys.stderr.write(text + "\n"))
    progress = _progress(quiet)
    if args.techniques_cmd == "apply":
        say(f"techniques apply: {Path(args.schedule).name} on {Path(args.trace).name} "
            f"({Path(args.config).name}); accuracy on "
            f"{args.limit or 'all'} held-out images")
        data = apply_one(args.trace, args.config, args.schedule, limit=args.limit,
                         out_dir=args.out, finetune_epochs=args.finetune_epochs,
                         finetune_lr=args.finetune_lr, seed=args.seed)
        files = data.pop("files")
        table = apply_table(data)
    elif args.techniques_cmd == "compare":
        max_drop = args.max_drop if args.max_drop >= 0 else None
        rule = (f"pruning ratio per real trace: the largest with at most "
                f"{100 * max_drop:g}%-points accuracy drop" if max_drop is not None
                else "the schedules' own pruning ratios")
        say(f"techniques compare: {len(ROWS)} rows ({', '.join(r[0] for r in ROWS)}) on "
            f"{len(args.traces)} trace(s) ({_names(args.traces)}); {rule}. Real traces "
            "measure accuracy on held-out digits (minutes with all images; --limit N "
            "uses fewer)")
        records = compare(args.traces, limit=args.limit, out_dir=args.out,
                          max_drop=max_drop, progress=progress, finetune=_cli_finetune(args))
        data = rows_document("technique_compare", records, COMPARE_NOTES)
        table = compare_table(records)
        files = _files(args.out, "techniques_compare") if args.out else []
    else:
        grans = args.granularities.split(",")
        say(f"techniques curves: {Path(args.trace).name} on {Path(args.config).name}, "
            f"granularities {', '.join(grans)} x ratios {', '.join(f'{r:g}' for r in args.ratios)}")
        records = curves(args.trace, args.config, grans, list(args.ratios),
                         skip_first_last=not args.prune_first_last, limit=args.limit,
                         out_dir=args.out, progress=progress, finetune=_cli_finetune(args))
        data = rows_document("technique_curves", records, CURVES_NOTES)
        table = curves_table(records)
        files = []
        if args.out and records:
            stem = f"curves_{records[0]['network']}"
            files = _files(args.out, stem)
            png = Path(args.out) / f"{stem}.png"
            files += [png] if png.exists() else []
    if args.json:
        print(to_json(data), end="")
    else:
        text = render([table])
        if text is not None:
            print(text)
    for path in files:
        (sys.stderr if args.json else sys.stdout).write(f"wrote {path}\n")
    return 0
