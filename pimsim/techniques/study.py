"""Fine-tuning studies: accuracy with and without fine-tuning, pruning curves, and the
experiment that locates resnet20_digits' accuracy collapse under pruning.

Every study is a list of independent *points* (one schedule on one trace), run in
separate processes when ``jobs > 1``; each point's fine-tuning is deterministic (its
seed and ``threads``), so the results do not depend on ``jobs``.
``python -m pimsim.report.finetune --measure`` runs them for docs/techniques.md.
"""

from __future__ import annotations

import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from pimsim.techniques.schedule import NO_FINETUNE, FineTune, Schedule, load_schedule, \
    parse_schedule

ROOT = Path(__file__).resolve().parents[2]
PRUNE_DESIGN = ROOT / "configs" / "pim_prune.yaml"
ERA_DESIGN = ROOT / "configs" / "era_bs.yaml"


@dataclass(frozen=True)
class FineTuneAccuracy:
    """Held-out accuracy of one schedule on one trace, without and with fine-tuning."""

    network: str
    schedule: str
    accuracy_before: float          # the trace's 8-bit model
    accuracy_no_finetune: float     # after the technique
    accuracy_finetuned: float       # after the technique and fine-tuning
    compression: float              # weights / weights kept, after fine-tuning
    compression_no_finetune: float
    finetune: dict                  # settings and record (FineTuned.summary())

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def finetune_accuracy(trace, schedule: Schedule | str | Path,
                      design: str | Path = ERA_DESIGN, *, epochs: int | None = None,
                      settings: FineTune | None = None,
                      limit: int | None = None) -> FineTuneAccuracy:
    """Accuracy of ``schedule`` on ``trace`` (a Trace or a path) without and with
    fine-tuning. The fine-tuning settings are ``settings``, else the schedule's
    ``finetune`` key with ``epochs`` replacing its epochs (default 3 when neither sets
    any). The technique runs once; the fine-tuned model starts from its weights."""
    from pimsim.techniques.apply import TECHNIQUES, open_trace
    from pimsim.config import load_design

    if not hasattr(trace, "network"):
        trace = open_trace(trace)
    if not isinstance(schedule, Schedule):
        schedule = load_schedule(schedule)
    ft = settings or schedule.finetune
    if epochs is not None:
        ft = replace(ft, epochs=int(epochs))
    if ft.epochs == 0:
        ft = replace(ft, epochs=3)
    tech = TECHNIQUES[schedule.technique]()
    out = tech.apply(trace, load_design(design), schedule, limit=limit, finetune=NO_FINETUNE)
    plain_compression = out.compression if out.layers else 1.0
    acc_plain = out.accuracy_after
    if out.weights or out.act_transforms:
        from pimsim.techniques.accuracy import accuracy

        tech.finetune_outcome(trace, out, ft)
        acc_ft = accuracy(trace, out.weights, out.act_transforms, limit=limit,
                          biases=out.biases)
    else:
        acc_ft = acc_plain
    return FineTuneAccuracy(trace.network.name, schedule.source, out.accuracy_before,
                            acc_plain, acc_ft, out.compression if out.layers else 1.0,
                            plain_compression, out.finetune or {})


def prune_schedule(granularity: str, ratio: float, *, dense_ends: bool = True,
                   only: Sequence[str] | None = None, mvm: Sequence[str] = ()) -> Schedule:
    """CIM-granularity pruning at ``ratio``; ``only``: prune just these layers."""
    doc = {"technique": "cim_pruning", "dense_ends": dense_ends,
           "default": {"pruning": {"granularity": granularity, "ratio": float(ratio)}}}
    if only is not None:
        doc["layers"] = {n: {"enabled": False} for n in mvm if n not in set(only)}
    return parse_schedule(doc, f"<{granularity} {ratio}>")


def _point(job: dict) -> dict:
    """One study point (top level, so worker processes can run it); ``wall_s`` its time."""
    start = time.perf_counter()
    return {**_measure_point(job), "wall_s": round(time.perf_counter() - start, 1)}


def _measure_point(job: dict) -> dict:
    from pimsim.techniques.apply import open_trace

    trace = open_trace(ROOT / job["trace"])
    mvm = [lay.name for lay in trace.network.mvm_layers]
    ft = FineTune(**job["finetune"]) if job.get("finetune") else None
    if job["kind"] == "prune":
        s = prune_schedule(job["granularity"], job["ratio"])
        r = finetune_accuracy(trace, s, PRUNE_DESIGN, settings=ft)
        return {**job, **r.as_dict()}
    if job["kind"] == "schedule":
        r = finetune_accuracy(trace, ROOT / job["schedule"], ROOT / job["design"], settings=ft)
        return {**job, **r.as_dict(), "schedule": job["schedule"]}
    if job["kind"] == "layers":       # prune only some layers, no fine-tuning
        from pimsim.config import load_design
        from pimsim.techniques.apply import TECHNIQUES

        only = mvm[job["first"]:job["last"]]
        s = prune_schedule(job["granularity"], job["ratio"], dense_ends=False, only=only,
                           mvm=mvm)
        o = TECHNIQUES["cim_pruning"]().apply(trace, load_design(PRUNE_DESIGN), s,
                                              finetune=NO_FINETUNE)
        return {**job, "network": trace.network.name, "layers": only,
                "accuracy_before": o.accuracy_before, "accuracy_no_finetune": o.accuracy_after,
                "compression_no_finetune": o.compression}
    raise ValueError(job["kind"])


def run_points(jobs: list[dict], workers: int = 1, on_result=None) -> list[dict]:
    """Results of ``jobs`` in order (``workers`` processes); ``on_result(i, n, result,
    job)`` as each finishes (completion order)."""
    out: list[dict | None] = [None] * len(jobs)
    if workers <= 1 or len(jobs) <= 1:
        for i, j in enumerate(jobs):
            out[i] = _point(j)
            if on_result:
                on_result(i + 1, len(jobs), out[i], j)
        return out
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")     # no fork of a process holding torch
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futs = {pool.submit(_point, j): i for i, j in enumerate(jobs)}
        for k, f in enumerate(as_completed(futs)):
            i = futs[f]
            out[i] = f.result()
            if on_result:
                on_result(k + 1, len(jobs), out[i], jobs[i])
    return out


def environment() -> dict:
    """Where a study ran (torch's CPU results are bitwise repeatable per build and threads)."""
    import numpy

    try:
        import torch
        tv = torch.__version__
    except ImportError:
        tv = None
    return {"torch": tv, "numpy": numpy.__version__, "python": platform.python_version(),
            "cpus": os.cpu_count()}
