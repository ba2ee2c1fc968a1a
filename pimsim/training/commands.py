"""``pimsim train`` and ``pimsim endurance``: run policies, summarize, write the tables.

The lead wires these into the CLI::

    pimsim train CONFIG --model NAME --policy POLICY [--epochs N] [--device cpu|cuda]
                 [--compare-policies [--policies P1,P2]] [--out DIR] [--seed S] [--jobs J] [--max-steps N]
                 [--write-model level|row] [--update-rule masked|lazy|accumulate]
                 [--endurance-config YAML]
    pimsim endurance CONFIG RECORD.npz... [--out DIR] [--endurance-config YAML]

:func:`train_command` trains (one policy, or all of :data:`DEFAULT_POLICIES` with
``--compare-policies``), saves one update record per policy (``<model>_<policy>.npz``)
and prints the comparison table; :func:`endurance_command` rebuilds the table from saved
records without training (no torch needed).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from pimsim.endurance.cells import layout_for
from pimsim.endurance.counting import held_cell_counts
from pimsim.endurance.cost import batch_sizes, read_cost, training_cost
from pimsim.endurance.lifetime import extension, lifetime_runs, load_endurance_config, write_stats
from pimsim.report.tables import Table
from pimsim.training.cli_args import DEFAULT_POLICIES, ROOT
from pimsim.training.updates import UpdateRecord, load_record, save_record


TRACE_FOR = {"cnn_digits": ROOT / "traces" / "cnn_digits.npz",
             "resnet20": ROOT / "traces" / "resnet20_digits.npz",
             "resnet20_digits": ROOT / "traces" / "resnet20_digits.npz"}
"""Shipped traces with each zoo model's layer shapes (for the read-cost model)."""
N_TRAIN = {"cnn_digits": 1437, "resnet20": 1437, "resnet20_digits": 1437}
"""Training images of the digits split (pimsim.workload.zoo.digits)."""


# ---------------------------------------------------------------------------------
# Training runs
# ---------------------------------------------------------------------------------


def run_one(model: str, policy: str, config: str, out_dir: str, *, epochs: int | None = None,
            seed: int = 0, device: str = "cpu", threads: int = 1, write_model: str = "level",
            headroom: float = 2.0, max_steps: int | None = None,
            update_rule: str = "accumulate", params: dict | None = None) -> str:
    """Train one policy and save its update record; returns the record's path."""
    from pimsim.config import load_design
    from pimsim.training.loop import train_with_policy
    from pimsim.training.policies import make_policy

    design = load_design(config)
    pol = make_policy(policy, seed=seed, **(params or {}))
    run = train_with_policy(model, pol, design, epochs=epochs, seed=seed, device=device,
                            threads=threads, write_model=write_model, headroom=headroom,
                            max_steps=max_steps, update_rule=update_rule)
    path = Path(out_dir) / f"{model}_{policy}.npz"
    save_record(path, run.record)
    return str(path)


def run_policies(model: str, policies, config: str, out_dir: str, *, jobs: int = 1,
                 **kw) -> list[str]:
    """Train each policy (``jobs`` processes in parallel); returns record paths in order."""
    policies = list(policies)
    if jobs <= 1 or len(policies) == 1:
        return [run_one(model, p, config, out_dir, **kw) for p in policies]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # spawn: a fresh interpreter per worker (no forked torch thread pools)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
        futures = [ex.submit(run_one, model, p, config, out_dir, **kw) for p in policies]
        return [f.result() for f in futures]


def policy_params(cfg: dict, policy: str) -> dict:
    """Parameters of ``policy`` from the endurance config's ``policies`` section."""
    return dict((cfg.get("policies") or {}).get(policy) or {})


# ---------------------------------------------------------------------------------
# Summaries and tables
# ---------------------------------------------------------------------------------


def summarize(rec: UpdateRecord, design, arch, endurance_cycles: float,
              network=None) -> dict:
    """Plain-data summary of one record: accuracy, write stats, lifetime and cost."""
    meta = rec.meta
    layers, all_counts, all_updates = [], [], []
    total_writes = total_cells = 0
    weight_total = weights = 0
    for lay_info in rec.layers:
        name = lay_info["name"]
        lay = layout_for(name, lay_info["groups"], lay_info["rows"], lay_info["cols"], design)
        counts = rec.cell_counts[name].astype(np.int64)
        held = held_cell_counts(lay, counts, rec.row_maps[name])
        stats = write_stats(name, held, lay.cells, total=int(counts.sum()))
        upd = rec.weight_updates[name].astype(np.int64)
        layers.append({**stats.as_dict(), "crossbars": lay.crossbars,
                       "weight_updates_mean": float(upd.mean()) if upd.size else 0.0,
                       "weight_updates_max": int(upd.max()) if upd.size else 0})
        all_counts.append(held)
        all_updates.append(upd.ravel())
        total_writes += int(counts.sum())
        total_cells += lay.cells
        weight_total += int(upd.sum())
        weights += upd.size
    net = write_stats("network", np.concatenate(all_counts) if all_counts else np.zeros(0),
                      total_cells, total=total_writes)
    upd_all = np.concatenate(all_updates) if all_updates else np.zeros(0, np.int64)
    out = {
        "model": meta["model"], "policy": meta["policy"], "params": meta["params"],
        "seed": meta["seed"], "epochs": meta["epochs"], "steps": meta["steps"],
        "steps_per_epoch": meta["steps_per_epoch"], "update_rule": meta.get("update_rule"),
        "write_model": meta.get("write_model"),
        "test_accuracy": meta["test_accuracy"], "wall_s": meta["wall_s"],
        "weight_updates_mean": weight_total / weights if weights else 0.0,
        "weight_updates_max": int(upd_all.max()) if upd_all.size else 0,
        "structure_updates_mean": float(rec.structure_counts.mean())
        if rec.structure_counts.size else 0.0,
        "structure_updates_max": int(rec.structure_counts.max())
        if rec.structure_counts.size else 0,
        "cell_writes_mean": net.mean, "cell_writes_max": net.max, "cell_writes_p99": net.p99,
        "cell_writes_total": net.total_writes, "swap_writes": int(rec.step_swap_cells.sum()),
        "histogram": {"edges": net.hist_edges, "counts": net.hist_counts},
        "lifetime_runs": lifetime_runs(net.max, endurance_cycles),
        "endurance_cycles": endurance_cycles, "layers": layers,
    }
    if network is not None:
        rc = read_cost(network, arch)
        copies = replication_weight(rec, network, arch)
        out["write_copies"] = copies
        batches = batch_sizes(N_TRAIN.get(meta["model"], 1437), meta["batch"], rec.steps)
        cost = training_cost(rc, rec.step_cells, rec.step_rows, batches,
                             meta["steps_per_epoch"], arch.energy_pJ("write_driver", "write"),
                             arch.latency_ns("write_driver", "write"), copies=copies,
                             write_drivers=arch.design.crossbar.write_drivers)
        out["cost"] = cost.as_dict()
    return out


def fx_name(module_name: str) -> str:
    """The layer name torch.fx (and so the exporter) gives module ``module_name``."""
    name = module_name.replace(".", "_")
    return "_" + name if name[:1].isdigit() else name


def replication_weight(rec: UpdateRecord, network, arch) -> float:
    """Writes-weighted mean replication of the record's layers in the inference mapping."""
    from pimsim.mapping import map_network
    reps = {lm.name: lm.replication for lm in map_network(network, arch).mvm_layers}
    total = weighted = 0.0
    for lay in rec.layers:
        cells = float(rec.cell_counts[lay["name"]].sum())
        total += cells
        weighted += cells * reps.get(fx_name(lay["name"]), 1)
    return weighted / total if total else 1.0


def add_comparisons(summaries: list[dict]) -> list[dict]:
    """Savings and lifetime extension vs the SGD summary (if present), in place."""
    base = next((s for s in summaries if s["policy"] == "sgd"), None)
    for s in summaries:
        if base is None:
            s.update(saving_mean=None, saving_max=None, saving_cell_mean=None,
                     lifetime_extension=None, accuracy_drop_pp=None)
            continue
        s["saving_mean"] = _ratio(base["weight_updates_mean"], s["weight_updates_mean"])
        s["saving_max"] = _ratio(base["weight_updates_max"], s["weight_updates_max"])
        s["saving_cell_mean"] = _ratio(base["cell_writes_mean"], s["cell_writes_mean"])
        s["saving_cell_max"] = _ratio(base["cell_writes_max"], s["cell_writes_max"])
        s["lifetime_extension"] = extension(s["cell_writes_max"], base["cell_writes_max"])
        s["accuracy_drop_pp"] = 100.0 * (base["test_accuracy"] - s["test_accuracy"])
    return summaries


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


POLICY_COLUMNS = ("policy", "accuracy_%", "drop_pp", "upd_mean", "upd_max", "saving_mean_x",
                  "saving_max_x", "cell_mean", "cell_max", "cell_saving_mean_x",
                  "lifetime_runs", "lifetime_ext_x", "energy_per_epoch_mJ",
                  "time_per_epoch_ms", "write_energy_per_epoch_uJ", "write_time_per_epoch_us")


def policy_table(summaries: list[dict]) -> Table:
    """One row per policy (the comparison table)."""
    rows = []
    for s in summaries:
        c = s.get("cost", {})
        epochs = c["steps"] / c["steps_per_epoch"] if c.get("steps_per_epoch") else 0.0
        per_epoch = (lambda v: v / epochs) if epochs else (lambda v: 0.0)
        rows.append((s["policy"], 100.0 * s["test_accuracy"], s.get("accuracy_drop_pp"),
                     s["weight_updates_mean"], s["weight_updates_max"], s.get("saving_mean"),
                     s.get("saving_max"), s["cell_writes_mean"], s["cell_writes_max"],
                     s.get("saving_cell_mean"), s["lifetime_runs"], s.get("lifetime_extension"),
                     c.get("energy_per_epoch_pJ", 0.0) / 1e9, c.get("time_per_epoch_ns", 0.0) / 1e6,
                     per_epoch(c.get("write_energy_pJ", 0.0)) / 1e6,
                     per_epoch(c.get("write_time_ns", 0.0)) / 1e3))
    first = summaries[0] if summaries else {}
    notes = (
        "upd = reprogrammings per weight (times its integer value changed); cell = writes per "
        "cell (level changes, row swaps included); mean over cells/weights holding weights",
        "saving = SGD / policy; lifetime = endurance / max cell writes per run "
        f"(endurance {first.get('endurance_cycles', 0):g} cycles); ext = SGD max / policy max",
        "energy/time per epoch: forward + backward reads + write-driver writes + static "
        "(pimsim.endurance.cost)",
    )
    spe = first.get("steps_per_epoch") or 0
    epochs = f"{first['steps'] / spe:.3g}" if spe else "?"
    title = (f"training endurance: {first.get('model', '?')}, {first.get('steps', '?')} steps "
             f"({epochs} epochs), seed {first.get('seed', '?')}")
    return Table(title, POLICY_COLUMNS, tuple(rows), notes)


def layer_table(summaries: list[dict]) -> Table:
    """Per policy and layer: mean / max / p99 writes per cell."""
    rows = []
    for s in summaries:
        for lay in s["layers"]:
            rows.append((s["policy"], lay["name"], lay["crossbars"], lay["cells"], lay["mean"],
                         lay["max"], lay["p99"], lay["weight_updates_mean"],
                         lay["weight_updates_max"]))
    return Table("per-layer writes per cell",
                 ("policy", "layer", "crossbars", "cells", "cell_mean", "cell_max", "cell_p99",
                  "upd_mean", "upd_max"), tuple(rows))


def build_report(record_paths, config: str, out_dir: str | None = None,
                 endurance_config: str | None = None, plots: bool = True):
    """Tables and data from saved records; writes CSV/Markdown/JSON (and PNGs) to ``out_dir``."""
    from pimsim.arch import build_arch
    from pimsim.config import load_design
    from pimsim.workload.trace import load_network

    cfg = load_endurance_config(endurance_config)
    cycles = float(cfg["endurance"]["cycles"])
    design = load_design(config)
    arch = build_arch(design)
    summaries, records = [], []
    for path in record_paths:
        rec = load_record(path)
        trace = TRACE_FOR.get(rec.meta["model"])
        network = load_network(trace) if trace is not None and trace.exists() else None
        summaries.append(summarize(rec, design, arch, cycles, network))
        records.append(rec)
    add_comparisons(summaries)
    tables = [policy_table(summaries), layer_table(summaries)]
    data = {"design": design.name, "endurance": cfg.get("endurance"),
            "records": [str(p) for p in record_paths], "policies": summaries}
    if out_dir:
        from pimsim.report.output import write_tables
        write_tables(out_dir, "endurance", tables, data)
        if plots:
            from pimsim.endurance.plots import save_heatmaps
            for rec in records:
                save_heatmaps(rec, Path(out_dir) / f"heatmap_{rec.meta['model']}_"
                              f"{rec.meta['policy']}.png")
    return tables, data


# ---------------------------------------------------------------------------------
# Commands (argparse Namespaces)
# ---------------------------------------------------------------------------------


def train_command(args) -> int:
    """``pimsim train CONFIG --model NAME --policy P [--compare-policies] ...``."""
    from pimsim.report.tables import to_text
    from pimsim.training.loop import torch_or_error

    from pimsim.errors import PimsimError
    from pimsim.training.policies import POLICIES

    torch_or_error()
    cfg = load_endurance_config(getattr(args, "endurance_config", None))
    tcfg = cfg.get("training") or {}
    policies = DEFAULT_POLICIES if getattr(args, "compare_policies", False) else (args.policy,)
    if getattr(args, "compare_policies", False) and getattr(args, "policies", None):
        policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise PimsimError("unknown update policy", where="--policy", found=unknown[0],
                          expected="one of " + ", ".join(POLICIES))
    out = getattr(args, "out", None) or os.path.join("results", f"train_{args.model}")
    kw = dict(epochs=getattr(args, "epochs", None), seed=getattr(args, "seed", 0) or 0,
              device=getattr(args, "device", "cpu") or "cpu",
              threads=int(tcfg.get("threads", 1)),
              write_model=getattr(args, "write_model", None) or tcfg.get("write_model", "level"),
              headroom=float(tcfg.get("weight_headroom", 2.0)),
              max_steps=getattr(args, "max_steps", None),
              update_rule=getattr(args, "update_rule", None) or tcfg.get("update_rule",
                                                                         "accumulate"))
    start = time.perf_counter()
    paths = []
    jobs = int(getattr(args, "jobs", 1) or 1)
    if jobs > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
            futs = [ex.submit(run_one, args.model, p, args.config, out,
                              params=policy_params(cfg, p), **kw) for p in policies]
            paths = [f.result() for f in futs]
    else:
        for p in policies:
            paths.append(run_one(args.model, p, args.config, out, params=policy_params(cfg, p),
                                 **kw))
            sys.stderr.write(f"{p}: {paths[-1]} ({time.perf_counter() - start:.0f} s)\n")
    tables, _ = build_report(paths, args.config, out, getattr(args, "endurance_config", None),
                             plots=not getattr(args, "no_plots", False))
    sys.stdout.write(to_text(tables[0]) + "\n")
    sys.stderr.write(f"wrote {len(paths)} records and tables to {out} in "
                     f"{time.perf_counter() - start:.0f} s\n")
    return 0


def endurance_command(args) -> int:
    """``pimsim endurance CONFIG RECORD.npz... [--out DIR]``: tables from saved records."""
    from pimsim.report.tables import to_text

    from pimsim.errors import PimsimError

    paths: list[str] = []
    for r in args.records:
        p = Path(r)
        paths += sorted(str(q) for q in p.glob("*.npz")) if p.is_dir() else [str(p)]
    if not paths:
        raise PimsimError("no update records (*.npz) found", file=", ".join(args.records),
                          expected="records written by 'pimsim train --out DIR'")
    order = {name: i for i, name in enumerate(DEFAULT_POLICIES)}
    paths.sort(key=lambda s: order.get(load_record(s).meta["policy"], len(order)))
    tables, _ = build_report(paths, args.config, getattr(args, "out", None),
                             getattr(args, "endurance_config", None),
                             plots=not getattr(args, "no_plots", False))
    sys.stdout.write("\n\n".join(to_text(t) for t in tables[:1]) + "\n")
    return 0
