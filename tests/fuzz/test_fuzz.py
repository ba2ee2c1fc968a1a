"""Fuzzing pimsim's inputs: generated design points, YAML files, schedules, sweep files,
traces and options, each run through the real command line (in a worker process under a
memory and time limit, ``harness.py``).

Every outcome must be a clean error (exit 2 naming the file and key) or a result whose
figures are finite and non-negative. ``make test`` runs each class for a few seconds;
``make fuzz`` (``PIMSIM_FUZZ_BUDGET`` seconds per class) runs it long and writes the
counts to ``fuzz-report.json``; docs/robustness.md records a long run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import strategies as S
from harness import FAILURES, budget_s, judge

SHORT = "PIMSIM_FUZZ_BUDGET" not in os.environ
BUDGET = budget_s(7.0)
"""Seconds per input class: about 7 in ``make test`` (six classes: under a minute)."""
MAX_EXAMPLES = 40 if SHORT else max(100, int(BUDGET * 20))

FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                derandomize=SHORT, print_blob=False,
                phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if SHORT else []),
                suppress_health_check=list(HealthCheck))

#: Keys whose cross-checks may be the ones an error names when another key was changed.
CROSS_KEYS = ("dac.bits", "crossbar.cols", "adc.bits", "adc.per_crossbar", "precision.weight_bits",
              "chip.offchip_links", "tile.edram_bytes", "chip.max_chips", "crossbar.rows",
              "--fidelity")
TMP = Path(tempfile.mkdtemp(prefix="pimsim-fuzz-"))


class Clock:
    """Stops a class's fuzzing after its budget (later examples return at once)."""

    def __init__(self):
        self.start = {}

    def expired(self, kind: str) -> bool:
        self.start.setdefault(kind, time.monotonic())
        return time.monotonic() - self.start[kind] > BUDGET


CLOCK = Clock()


def _case_dir() -> Path:
    return Path(tempfile.mkdtemp(dir=TMP))


def _check(tally, kind: str, argv: list, outcome: dict, verdict: str, detail: str) -> None:
    source = ""
    if verdict in FAILURES:                  # keep the input for the report
        for a in argv:
            p = Path(str(a))
            if p.suffix in (".yaml", ".npz") and p.is_file() and str(p).startswith(str(TMP)):
                data = p.read_bytes()
                source = (data[:3000].decode("utf-8", "replace") if p.suffix == ".yaml"
                          else f"<trace {len(data)} bytes>")
    tally.add(kind, verdict, detail, argv, source)
    if SHORT:
        assert verdict not in FAILURES, f"{kind}: {verdict} for {argv}:\n{detail}"


def _store_verdict(out_dir: Path) -> tuple[str, str]:
    """Every stored point record is strict JSON with finite, non-negative totals."""
    points = out_dir / "points.jsonl"
    if not points.exists():
        return "result", ""
    for line in points.read_bytes().splitlines():
        try:
            rec = json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
        except ValueError as exc:
            return "nonfinite", f"store line not strict JSON: {exc}"
        result = rec.get("result") if isinstance(rec.get("result"), dict) else {}
        for v in (result.get("total") or {}).values():
            if isinstance(v, (int, float)) and (not math.isfinite(v) or v < -1e-6):
                return "nonfinite", f"store total {v}"
    return "result", ""


@FUZZ
@given(S.design_points(), st.sampled_from(["area", "run_analytic", "run_fast", "validate"]))
def test_design_points(worker, tally, case, command):
    if CLOCK.expired("design"):
        return
    doc, keys = case
    d = _case_dir()
    path = d / "point.yaml"
    path.write_text(S.dump_yaml(doc))
    argv = {"area": ["area", path, "--json"], "validate": ["validate", path],
            "run_analytic": ["run", path, "--trace", S.TRACE, "--baseline", "none", "--json",
                             "--fidelity", "analytic"],
            "run_fast": ["run", path, "--trace", S.TRACE, "--baseline", "none", "--json",
                         "--fidelity", "fast"]}[command]
    outcome = worker.run(argv)
    names = tuple(k.split(".")[-1] for k in keys) + CROSS_KEYS
    verdict, detail = judge(outcome, names=(str(path),), keys=names,
                            json_out="--json" in argv)
    _check(tally, "design point", argv, outcome, verdict, detail)
    shutil.rmtree(d, ignore_errors=True)


@FUZZ
@given(S.malformed_yaml(), st.sampled_from(["design", "schedule", "sweep", "validate"]))
def test_malformed_yaml(worker, tally, data, role):
    if CLOCK.expired("yaml"):
        return
    d = _case_dir()
    path = d / "input.yaml"
    path.write_bytes(data)
    argv = {"design": ["area", path], "validate": ["validate", path],
            "schedule": ["run", S.ISAAC, "--trace", S.TRACE, "--schedule", path, "--baseline",
                         "none", "--fidelity", "analytic", "--json"],
            "sweep": ["sweep", path, "--workers", "0", "--no-report", "--out", d / "out", "-q"]
            }[role]
    outcome = worker.run(argv)
    verdict, detail = judge(outcome, names=(str(path),), json_out=False)
    _check(tally, "malformed YAML", argv, outcome, verdict, detail)
    shutil.rmtree(d, ignore_errors=True)


@FUZZ
@given(S.schedules(), st.sampled_from(["run", "validate"]))
def test_schedules(worker, tally, case, command):
    if CLOCK.expired("schedule"):
        return
    doc, keys = case
    d = _case_dir()
    path = d / "schedule.yaml"
    path.write_text(S.dump_yaml(doc))
    argv = (["validate", path] if command == "validate" else
            ["run", S.ISAAC, "--trace", S.TRACE, "--schedule", path, "--baseline", "none",
             "--fidelity", "analytic", "--json"])
    outcome = worker.run(argv)
    verdict, detail = judge(outcome, names=(str(path), "schedule"), json_out=command == "run")
    _check(tally, "schedule", argv, outcome, verdict, detail)
    shutil.rmtree(d, ignore_errors=True)


@FUZZ
@given(S.sweeps(), st.sampled_from(["validate", "sweep"]))
def test_sweep_files(worker, tally, case, command):
    if CLOCK.expired("sweep"):
        return
    doc, keys = case
    d = _case_dir()
    path = d / "sweep.yaml"
    path.write_text(S.dump_yaml(doc))
    out = d / "out"
    argv = (["validate", path] if command == "validate" else
            ["sweep", path, "--workers", "0", "--no-report", "--out", out, "-q"])
    outcome = worker.run(argv)
    if command == "sweep" and outcome["rc"] in (0, 1):   # 1: some points failed (stored)
        verdict, detail = _store_verdict(out)
    else:
        verdict, detail = judge(outcome, names=(str(path), "--out"), json_out=False)
    _check(tally, "sweep file", argv, outcome, verdict, detail)
    shutil.rmtree(d, ignore_errors=True)


@FUZZ
@given(S.trace_mutations(), st.sampled_from(["run_analytic", "run_fast", "validate"]))
def test_traces(worker, tally, case, command):
    if CLOCK.expired("trace"):
        return
    manifest, members, what = case
    d = _case_dir()
    path = d / "trace.npz"
    S.write_trace(path, manifest, members)
    argv = {"validate": ["validate", path],
            "run_analytic": ["run", S.ISAAC, "--trace", path, "--baseline", "none", "--json",
                             "--fidelity", "analytic"],
            "run_fast": ["run", S.ISAAC, "--trace", path, "--baseline", "none", "--json",
                         "--fidelity", "fast"]}[command]
    outcome = worker.run(argv)
    verdict, detail = judge(outcome, names=(str(path),), json_out="--json" in argv)
    _check(tally, "trace", argv, outcome, verdict, detail)
    shutil.rmtree(d, ignore_errors=True)


SPECIAL = ["/dev/zero", "/dev/urandom", "/dev/null", "DIR", "FIFO", "LINK", "MISSING", ""]


@FUZZ
@given(st.sampled_from(["config", "trace", "schedule", "sweep", "baseline", "extends", "workers",
                        "scheduler", "timeline", "out"]),
       st.one_of(st.sampled_from(SPECIAL), st.text(max_size=30),
                 st.sampled_from(["-5", "0", "1000", "1" * 30, "not a url", "tcp://h:99999",
                                  "x" * 300, "a/" * 200])))
def test_options_and_special_files(worker, tally, which, value):
    if CLOCK.expired("options"):
        return
    d = _case_dir()
    if value == "DIR":
        value = str(d)
    elif value == "FIFO":
        value = str(d / "fifo.yaml")
        os.mkfifo(value)
    elif value == "LINK":
        value = str(d / "link.npz")
        os.symlink("/dev/urandom", value)
    elif value == "MISSING":
        value = str(d / "missing.yaml")
    if "\x00" in value:
        value = value.replace("\x00", "")
    if which in ("timeline", "out") and (value.startswith("/dev/") or value == "/"):
        # Outputs never go to the real /dev: a regression would replace a device node (as
        # root). A symlink to a FIFO of our own stands in for a special output path.
        fifo = d / "out.fifo"
        os.mkfifo(fifo)
        value = str(d / "special-out")
        os.symlink(fifo, value)
    elif which in ("timeline", "out") and os.path.isabs(value):
        value = str(d / value.lstrip("/"))       # outputs stay inside the case directory
    base_run = ["run", S.ISAAC, "--trace", S.TRACE, "--baseline", "none", "--json",
                "--fidelity", "analytic"]
    if which == "config":
        argv = ["area", value, "--json"]
    elif which == "trace":
        argv = ["run", S.ISAAC, "--trace", value, "--baseline", "none", "--fidelity", "analytic"]
    elif which == "schedule":
        argv = base_run + ["--schedule", value]
    elif which == "sweep":
        argv = ["sweep", value, "--workers", "0", "--no-report", "--out", d / "out", "-q"]
    elif which == "baseline":
        argv = ["run", S.ISAAC, "--trace", S.TRACE, "--baseline", value, "--fidelity", "analytic"]
    elif which == "extends":
        p = d / "child.yaml"
        p.write_text(f"extends: {json.dumps(value)}\n")
        argv = ["area", p]
    elif which in ("workers", "scheduler"):
        sw = d / "sweep.yaml"
        sw.write_text(S.dump_yaml({"name": "o", "base": str(S.ISAAC), "baseline": "none",
                                   "axes": {"crossbar.rows": [128], "trace": [str(S.SHAPES_TRACE)]}}))
        argv = ["sweep", sw, f"--{which}", value, "--no-report", "--out", d / "out", "-q"]
    elif which == "timeline":
        argv = ["run", S.ISAAC, "--trace", S.TRACE, "--baseline", "none", "--timeline", value]
    else:
        argv = base_run + ["--out", value]
    outcome = worker.run(argv, timeout=60)
    verdict, detail = judge(outcome, json_out=False)
    if verdict == "result" and which == "sweep":
        verdict, detail = _store_verdict(d / "out")
    _check(tally, "options and special files", argv, outcome, verdict, detail)
    shutil.rmtree(d, ignore_errors=True)
