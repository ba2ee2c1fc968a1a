"""Functions the CLI wires in: ``pimsim techniques apply | compare | curves``.

Each returns plain data and writes CSV / JSON / Markdown (and a PNG plot when
matplotlib is installed) when given an output folder. ``run(args)`` dispatches; the
options are in :mod:`pimsim.techniques.cli_args`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from pimsim.fileio import ensure_dir, write_atomic
from pimsim.report.tables import to_json
from pimsim.techniques.apply import ROOT, apply_schedule, open_trace
from pimsim.techniques.schedule import FineTune, Schedule, load_schedule, parse_schedule

from pimsim.techniques.cli_args import CONFIGS, REAL_TRACES, SHAPE_TRACES

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


def _write(out_dir: str | Path | None, stem: str, records: list[dict]) -> None:
    if not out_dir or not records:
        return
    out = Path(out_dir)
    ensure_dir(out)
    cols = list(records[0])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    w.writerows(records)
    write_atomic(out / f"{stem}.csv", buf.getvalue())
    write_atomic(out / f"{stem}.json", to_json(records))
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)   # noqa: E731
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in records]
    write_atomic(out / f"{stem}.md", "\n".join(md) + "\n")


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
    """``pimsim techniques apply``: one schedule, summary + metrics before/after
    (fine-tuned when the schedule's ``finetune.epochs`` or ``finetune_epochs`` > 0)."""
    sched = load_schedule(schedule)
    a = apply_schedule(trace, config, sched, limit=limit,
                       finetune=finetune_settings(sched, finetune_epochs, finetune_lr, seed))
    data = {**a.outcome.summary(), "before": a.metrics_before, "after": a.metrics_after}
    if out_dir:
        write_atomic(Path(out_dir) / "technique.json", to_json(data))
    return data


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


def compare(traces: Sequence[str] = REAL_TRACES + SHAPE_TRACES, *, limit: int | None = None,
            max_drop: float | None = 0.01, out_dir: str | None = None,
            finetune: FineTune | None = None) -> list[dict]:
    """``pimsim techniques compare``: every row of ``ROWS`` on every trace; metric ratios
    vs ISAAC and vs PIM-Prune, accuracy on the held-out digits (real traces).

    With ``max_drop`` the pruning rows use, per real trace, the largest ratio whose
    accuracy drop is at most ``max_drop``; shape-only networks use the ratio found on the
    real trace evaluated last before them (the donor, resnet20_digits, by default).
    ``max_drop=None`` keeps the schedules' own ratios. ``finetune`` replaces every
    schedule's fine-tuning settings (default: each schedule's own)."""
    records = []
    chosen: dict[str, float] = {}
    for path in traces:
        trace = open_trace(ROOT / path if not Path(path).is_absolute() else path)
        got: dict[str, tuple[dict, object, float | None]] = {}
        for label, cfg, sched in ROWS:
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
                   "prune_ratio": ratio if ratio is not None else float("nan"),
                   "compression": o.compression if o.layers else 1.0,
                   "accuracy": o.accuracy_after if o.accuracy_after is not None else float("nan"),
                   "crossbars": m["crossbars"], "chips": m["chips"]}
            for ref in ("ISAAC", "PIM-Prune"):
                r = got[ref][0]
                for k in METRICS:
                    rec[f"{k}_vs_{ref}"] = m[k] / r[k] if r[k] else float("nan")
            rec.update({k: m[k] for k in METRICS})
            records.append(rec)
    _write(out_dir, "techniques_compare", records)
    return records


def curves(trace: str = REAL_TRACES[0], config: str = "configs/pim_prune.yaml",
           granularities: Sequence[str] = ("filter", "channel", "xbar_column", "ou_block"),
           ratios: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9), *,
           skip_first_last: bool = True, limit: int | None = None,
           out_dir: str | None = None, finetune: FineTune | None = None) -> list[dict]:
    """``pimsim techniques curves``: compression vs accuracy drop per CIM granularity,
    with energy and effective throughput per point (magnitude pruning; fine-tuned with
    the mask fixed when ``finetune`` has epochs, ``accuracy_no_finetune`` beside it; the
    first and last MVM layers are kept dense unless ``skip_first_last`` is off)."""
    tr = open_trace(ROOT / trace if not Path(trace).is_absolute() else trace)
    mvm = [lay.name for lay in tr.network.mvm_layers]
    keep = {mvm[0]: {"enabled": False}, mvm[-1]: {"enabled": False}} if skip_first_last else {}
    records = []
    for gran in granularities:
        for ratio in ratios:
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
                                  if o.accuracy_after is not None else float("nan")),
                "crossbars": o.crossbars_after,
                "energy_pJ": m["energy_pJ"], "energy_dynamic_pJ": m["energy_dynamic_pJ"],
                "energy_dynamic_ratio": m0["energy_dynamic_pJ"] / m["energy_dynamic_pJ"],
                "throughput_images_per_s": m["throughput_images_per_s"],
                "effective_throughput_ratio": (m["throughput_images_per_s"]
                                               / m0["throughput_images_per_s"])})
    _write(out_dir, f"curves_{tr.network.name}", records)
    if out_dir:
        plot_curves(records, Path(out_dir) / f"curves_{tr.network.name}.png")
    return records


def plot_curves(records: list[dict], path: Path) -> Path | None:
    """Accuracy drop vs compression per granularity (PNG); None without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for gran in dict.fromkeys(r["granularity"] for r in records):
        pts = [r for r in records if r["granularity"] == gran]
        ax.plot([r["compression"] for r in pts], [100 * r["accuracy_drop"] for r in pts],
                marker="o", label=gran)
    ax.set_xscale("log")
    ax.set_xlabel("compression (weights / weights kept)")
    ax.set_ylabel("accuracy drop (%-points, held-out digits)")
    ep = records[0].get("finetune_epochs", 0)
    ax.set_title(f"{records[0]['network']}: structured pruning, "
                 + (f"fine-tuned {ep} epochs" if ep else "no fine-tuning"))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _cli_finetune(args) -> FineTune | None:
    """``--finetune-epochs/--finetune-lr/--seed`` as settings (None: the schedules' own)."""
    if args.finetune_epochs is None:
        return None
    ft = FineTune(epochs=args.finetune_epochs)
    if args.finetune_lr is not None:
        ft = replace(ft, lr=args.finetune_lr)
    return replace(ft, seed=args.seed) if args.seed is not None else ft


def run(args) -> int:
    """Dispatch ``pimsim techniques ...``; prints JSON."""
    if args.techniques_cmd == "apply":
        data = apply_one(args.trace, args.config, args.schedule, limit=args.limit,
                         out_dir=args.out, finetune_epochs=args.finetune_epochs,
                         finetune_lr=args.finetune_lr, seed=args.seed)
    elif args.techniques_cmd == "compare":
        data = compare(args.traces, limit=args.limit, out_dir=args.out,
                       max_drop=args.max_drop if args.max_drop >= 0 else None,
                       finetune=_cli_finetune(args))
    else:
        data = curves(args.trace, args.config, args.granularities.split(","),
                      list(args.ratios),
                      skip_first_last=not args.prune_first_last, limit=args.limit,
                      out_dir=args.out, finetune=_cli_finetune(args))
    print(to_json(data), end="")
    return 0
