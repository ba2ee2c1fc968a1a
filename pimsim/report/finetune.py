"""docs/techniques.md "Fine-tuning": pruning and ERA-BS with and without fine-tuning.

Measure (minutes; writes docs/data/finetune.json and docs/img/pruning_finetune.png, then
the section)::

    python -m pimsim.report.finetune --measure [--networks cnn_digits,resnet20_digits] [--jobs N]

Re-render the section from the JSON only (seconds)::

    python -m pimsim.report.finetune

The section sits between two markers in docs/techniques.md. tests/report/test_finetune_doc.py
checks that it equals :func:`render` of the JSON and re-measures one cnn_digits point with
the recorded settings (bitwise-repeatable on CPU for the same torch build and threads), so
neither the page nor the JSON can silently go stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "techniques.md"
DATA = ROOT / "docs" / "data" / "finetune.json"
PLOT = ROOT / "docs" / "img" / "pruning_finetune.png"
BEGIN = "<!-- generated: techniques-finetune -->"
END = "<!-- end generated -->"
MAX_DROP = 0.01                 # accuracy-matched operating point: <= 1 %-point drop

#: What is measured per network: fine-tuning settings, pruning granularities and ratios,
#: ERA-BS schedules, and the layer experiment (resnet20_digits' collapse).
STUDY = {
    "cnn_digits": {
        "trace": "traces/cnn_digits.npz",
        "finetune": {"epochs": 5, "lr": 1e-3, "seed": 0, "threads": 1},
        "granularities": ["xbar_column", "ou_block"],
        "ratios": [0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        "schedules": [["configs/schedules/era_bs_weights.yaml", "configs/era_bs.yaml"],
                      ["configs/schedules/era_bs_full.yaml", "configs/era_bs.yaml"]],
        "layer_study": None,
    },
    "resnet20_digits": {          # ~2-4 min per fine-tuned point on one CPU thread
        "trace": "traces/resnet20_digits.npz",
        "finetune": {"epochs": 4, "lr": 5e-4, "seed": 0, "threads": 1},
        "granularities": ["xbar_column"],
        "ratios": [0.05, 0.1, 0.2, 0.4],
        "schedules": [],
        "layer_study": {"granularity": "xbar_column", "ratio": 0.2,
                        "first_k": [3, 6, 7, 8, 9, 12, 15, 20]},
    },
}


def jobs_for(network: str) -> list[dict]:
    """The independent points of one network's study (paths relative to the repository)."""
    st = STUDY[network]
    trace = st["trace"]
    jobs = [{"kind": "prune", "trace": trace, "granularity": g, "ratio": r,
             "finetune": st["finetune"]} for g in st["granularities"] for r in st["ratios"]]
    jobs += [{"kind": "schedule", "trace": trace, "schedule": s, "design": d,
              "finetune": st["finetune"]} for s, d in st["schedules"]]
    ls = st["layer_study"]
    if ls:
        from pimsim.workload.trace import load_trace

        n_mid = len(load_trace(ROOT / trace).network.mvm_layers) - 2   # first, last dense
        jobs += [{"kind": "layers", "trace": trace, "granularity": ls["granularity"],
                  "ratio": ls["ratio"], "first": 1, "last": 1 + k} for k in ls["first_k"]]
        jobs += [{"kind": "layers", "trace": trace, "granularity": ls["granularity"],
                  "ratio": ls["ratio"], "first": 1 + i, "last": 2 + i} for i in range(n_mid)]
    return jobs


def _key(job: dict) -> str:
    return json.dumps(job, sort_keys=True)


def measure(networks=tuple(STUDY), workers: int = 1, data_path: Path = DATA) -> dict:
    """Run the study for ``networks`` and merge it into the JSON at ``data_path``.

    The JSON is rewritten after every point; points already in it with the same job
    (fine-tuning settings included) and torch version are kept, so an interrupted or
    re-configured run measures only what is missing. ``wall_s``: the points' own times
    summed (single-process time; with ``workers`` the elapsed time is shorter)."""
    from pimsim.fileio import write_atomic
    from pimsim.techniques.study import environment, run_points

    data = json.loads(data_path.read_text()) if data_path.exists() else {}
    for net in networks:
        jobs = jobs_for(net)
        old = data.get(net, {})
        same = old.get("environment", {}).get("torch") == environment()["torch"]
        done = {_key(p["job"]): p for p in old.get("points", [])} if same else {}
        todo = [j for j in jobs if _key(j) not in done]
        kept = [done[_key(j)] for j in jobs if _key(j) in done]
        entry = {"settings": STUDY[net], "environment": environment(),
                 "wall_s": sum(p.get("wall_s", 0.0) for p in kept), "complete": False,
                 "points": kept}
        data[net] = entry

        def save(i, n, result, job):
            entry["points"].append({**result, "job": job})
            entry["wall_s"] = round(entry["wall_s"] + result["wall_s"], 1)
            print(f"{net}: {i}/{n} points", file=sys.stderr, flush=True)
            write_atomic(data_path, json.dumps(data, indent=1, sort_keys=True) + "\n")
        run_points(todo, workers, on_result=save)
        order = {_key(j): i for i, j in enumerate(jobs)}
        entry["points"].sort(key=lambda p: order[_key(p["job"])])
        entry["complete"] = True
        write_atomic(data_path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def best_within(points: list[dict], key: str, max_drop: float = MAX_DROP) -> dict | None:
    """The point of largest compression whose accuracy drop (``key``) is <= ``max_drop``."""
    ok = [p for p in points if p["accuracy_before"] - p[key] <= max_drop + 1e-12]
    return max(ok, key=lambda p: p["compression_no_finetune"], default=None)


def _pct(v: float) -> str:
    return f"{100 * v:.1f}"


def render(data: dict) -> str:
    """The generated block (markers included) from the study's JSON."""
    out = [BEGIN, "", "Generated by `python -m pimsim.report.finetune` from "
           "docs/data/finetune.json (measure: `python -m pimsim.report.finetune --measure`).", ""]
    out += ["| network | granularity | pruning ratio | compression | accuracy, no fine-tuning (%) "
            "| accuracy, fine-tuned (%) |", "|---|---|---|---|---|---|"]
    summary = []
    for net, d in data.items():
        pts = [p for p in d["points"] if p["kind"] == "prune"]
        base = pts[0]["accuracy_before"] if pts else None
        for p in pts:
            out.append(f"| {net} | {p['granularity']} | {p['ratio']:g} | "
                       f"{p['compression_no_finetune']:.2f}x | {_pct(p['accuracy_no_finetune'])} | "
                       f"{_pct(p['accuracy_finetuned'])} |")
        for g in dict.fromkeys(p["granularity"] for p in pts):
            gp = [p for p in pts if p["granularity"] == g]
            a = best_within(gp, "accuracy_no_finetune")
            b = best_within(gp, "accuracy_finetuned")
            fmt = lambda p: "1.00x (ratio 0)" if p is None else (  # noqa: E731
                f"{p['compression_no_finetune']:.2f}x (ratio {p['ratio']:g})")
            summary.append(f"| {net} | {g} | {_pct(base)} | {fmt(a)} | {fmt(b)} |")
    out += ["", "Largest compression of the grid whose accuracy drop is at most "
            f"{100 * MAX_DROP:g} %-point:", "",
            "| network | granularity | accuracy, unpruned (%) | without fine-tuning "
            "| with fine-tuning |", "|---|---|---|---|---|"] + summary
    out += ["", "ERA-BS schedules (compression = weights / nonzero weights):", "",
            "| network | schedule | accuracy, unpruned (%) | no fine-tuning (%) "
            "| fine-tuned (%) | compression, no fine-tuning | compression, fine-tuned |",
            "|---|---|---|---|---|---|---|"]
    for net, d in data.items():
        for p in d["points"]:
            if p["kind"] == "schedule":
                out.append(f"| {net} | {Path(p['schedule']).stem} | {_pct(p['accuracy_before'])} "
                           f"| {_pct(p['accuracy_no_finetune'])} | {_pct(p['accuracy_finetuned'])} "
                           f"| {p['compression_no_finetune']:.2f}x | {p['compression']:.2f}x |")
    for net, d in data.items():
        lays = [p for p in d["points"] if p["kind"] == "layers"]
        if not lays:
            continue
        ls = d["settings"]["layer_study"]
        single = [p for p in lays if p["last"] - p["first"] == 1]
        cum = [p for p in lays if p["first"] == 1 and (p["last"] - 1) in ls["first_k"]]
        worst = min(single, key=lambda p: p["accuracy_no_finetune"]) if single else None
        out += ["", f"{net}, {ls['granularity']} pruning at ratio {ls['ratio']:g}, no "
                "fine-tuning, only some layers pruned (first and last MVM layers dense):", "",
                "| layers pruned | accuracy (%) |", "|---|---|"]
        n_mid = max((p["last"] for p in lays), default=1) - 1
        out += [f"| first {p['last'] - p['first']} of {n_mid} (up to {p['layers'][-1]}) "
                f"| {_pct(p['accuracy_no_finetune'])} |" for p in cum]
        if worst is not None:
            mid = [p["accuracy_no_finetune"] for p in single]
            out.append(f"| any one alone ({len(single)} runs) | {_pct(min(mid))} (worst: "
                       f"{worst['layers'][0]}) to {_pct(max(mid))} |")
    env = "; ".join(f"{net}: torch {d['environment']['torch']}, {d['wall_s']:.0f} s of wall "
                    f"time summed over its points ({d['environment']['cpus']} CPUs, shared "
                    "with other work)" for net, d in data.items())
    fts = "; ".join(f"{net}: {d['settings']['finetune']['epochs']} epochs, Adam lr "
                    f"{d['settings']['finetune']['lr']:g} (cosine), seed "
                    f"{d['settings']['finetune']['seed']}" for net, d in data.items())
    out += ["", f"Fine-tuning: {fts}. Measured with: {env}.", "", END]
    return "\n".join(out) + "\n"


def plot(data: dict, path: Path = PLOT) -> Path | None:
    """Accuracy vs compression with and without fine-tuning, one panel per network."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return None
    nets = list(data)
    fig, axes = plt.subplots(1, len(nets), figsize=(5.5 * len(nets), 4), squeeze=False)
    for ax, net in zip(axes[0], nets):
        pts = [p for p in data[net]["points"] if p["kind"] == "prune"]
        for k, g in enumerate(dict.fromkeys(p["granularity"] for p in pts)):
            gp = sorted((p for p in pts if p["granularity"] == g), key=lambda p: p["ratio"])
            x = [1.0] + [p["compression_no_finetune"] for p in gp]
            base = 100 * gp[0]["accuracy_before"]
            ax.plot(x, [base] + [100 * p["accuracy_no_finetune"] for p in gp], "o--",
                    color=f"C{k}", label=f"{g}, no fine-tuning")
            ax.plot(x, [base] + [100 * p["accuracy_finetuned"] for p in gp], "s-",
                    color=f"C{k}", label=f"{g}, fine-tuned")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        top = max(p["compression_no_finetune"] for p in pts)
        ticks = (1, 1.5, 2, 3, 4, 6, 8) if top > 3 else (1, 1.1, 1.25, 1.5, 2, 2.5)
        ax.set_xticks([t for t in ticks if t <= top * 1.05])
        ax.set_xlabel("compression (weights / weights kept)")
        ax.set_ylabel("accuracy on 360 held-out digits (%)")
        ax.set_title(f"{net}: CIM-granularity pruning")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def update_doc(data: dict, doc: Path = DOC) -> None:
    """Replace the block between the markers in ``doc`` with :func:`render`."""
    from pimsim.fileio import write_atomic

    text = doc.read_text()
    i = text.index(BEGIN)
    j = text.index(END, i) + len(END) + 1
    write_atomic(doc, text[:i] + render(data) + text[j:])


def current_block(doc: Path = DOC) -> str:
    text = doc.read_text()
    i = text.index(BEGIN)
    j = text.index(END, i) + len(END) + 1
    return text[i:j]


def render_saved() -> str:
    """The block rendered from the committed study JSON (:mod:`pimsim.report.doc_tables`)."""
    return render(json.loads(DATA.read_text()))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pimsim.report.finetune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--measure", action="store_true", help="run the study (minutes)")
    p.add_argument("--networks", default=",".join(STUDY), help="with --measure")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (with --measure)")
    p.add_argument("--data", default=str(DATA), help="the study's JSON (default %(default)s)")
    p.add_argument("--no-doc", action="store_true", help="with --measure: leave the page")
    a = p.parse_args(argv)
    if a.measure:
        nets = [n for n in a.networks.split(",") if n]
        bad = [n for n in nets if n not in STUDY]
        if bad:
            p.error(f"--networks: unknown {bad}; one of {', '.join(STUDY)}")
        data = measure(nets, a.jobs, Path(a.data))
        if a.no_doc:
            return 0
    else:
        data = json.loads(Path(a.data).read_text())
    update_doc(data)
    plot(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
