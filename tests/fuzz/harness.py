"""The fuzzing harness: run pimsim commands on generated inputs and judge each outcome.

Every command runs in a long-lived worker process (``worker.py``) under a memory limit
(``resource.setrlimit(RLIMIT_AS)``) and a per-command wall-clock limit; a hang or a crash
kills and restarts the worker. An outcome is acceptable when it is

* a **clean error**: exit status 2, one ``pimsim: error:`` paragraph (argparse's ``usage``
  error for option abuse) that names the input file and, for YAML inputs, the key; or
* a **result**: exit status 0 and, for ``--json`` output, strict JSON whose every number is
  finite and non-negative (negatives down to the engine's rounding slack).

Anything else is counted as a failure of its class: ``traceback``, ``hang``, ``memory``,
``nonfinite`` (inf/NaN/negative figures or invalid JSON), ``unclear`` (exit 2 without
the file or key in the message) or ``other`` (an unexpected exit status).
"""

from __future__ import annotations

import json
import math
import os
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parent / "worker.py"
MEMORY_LIMIT = 4 * 2**30
"""Address-space limit of the worker (bytes): numba's JIT and numpy fit well inside."""
CASE_TIMEOUT_S = float(os.environ.get("PIMSIM_FUZZ_CASE_TIMEOUT", "30"))
"""A command taking longer than this is a hang."""
ROUNDING_SLACK = 1e-6

ACCEPTED = ("clean_error", "result")
FAILURES = ("traceback", "hang", "memory", "nonfinite", "unclear", "other")


def budget_s(default: float) -> float:
    """Seconds of fuzzing per input class: ``PIMSIM_FUZZ_BUDGET`` (``make fuzz`` sets it)
    or ``default`` (the short budget of ``make test``)."""
    return float(os.environ.get("PIMSIM_FUZZ_BUDGET", default))


class Worker:
    """One worker process; :meth:`run` sends an argv and returns the outcome dict."""

    def __init__(self):
        self.proc = None

    def _start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen([sys.executable, str(WORKER), str(MEMORY_LIMIT)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=tempfile.mkdtemp(
                                         prefix="pimsim-fuzz-cwd-"), env=env, text=True,
                                     start_new_session=True)
        line = self._readline(120)
        if line is None or not json.loads(line).get("ready"):
            raise RuntimeError("fuzz worker did not start")

    def _readline(self, timeout: float) -> str | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line or None

    def kill(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 9)       # the worker and anything it started
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def run(self, argv: list[str], timeout: float = CASE_TIMEOUT_S) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        start = time.monotonic()
        self.proc.stdin.write(json.dumps([str(a) for a in argv]) + "\n")
        self.proc.stdin.flush()
        line = self._readline(timeout)
        if line is None:
            alive = self.proc.poll() is None
            self.kill()
            return {"rc": "hang" if alive else "crash", "stdout": "", "stderr": "",
                    "tb": None, "elapsed": time.monotonic() - start}
        return json.loads(line)


def _numbers(obj, path=""):
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    if isinstance(obj, (int, float)):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def judge(outcome: dict, *, names: tuple[str, ...] = (), keys: tuple[str, ...] = (),
          json_out: bool = False) -> tuple[str, str]:
    """(verdict, detail) of one outcome; verdict in ACCEPTED or FAILURES.

    ``names``: texts one of which a clean error must contain (the input file's name);
    ``keys``: texts one of which it must contain too (the mutated key), when given.
    """
    rc = outcome["rc"]
    if rc == "hang":
        return "hang", ""
    if rc in ("traceback", "crash"):
        return "traceback", outcome.get("tb") or "worker died"
    if rc == "memory":
        return "memory", ""
    err = outcome["stderr"]
    if "Traceback (most recent call last)" in err:
        return "traceback", err[-2000:]
    if rc == 2:
        lines = [ln for ln in err.splitlines() if ln.startswith("pimsim: error:")]
        usage = "usage:" in err and "error:" in err
        if not lines and not usage:
            return "unclear", err[-500:]
        text = err
        if names and not any(n in text for n in names):
            return "unclear", f"file not named: {err[-500:]}"
        if keys and not any(k in text for k in keys):
            return "unclear", f"key not named: {err[-500:]}"
        return "clean_error", ""
    if rc == 0:
        if json_out:
            try:
                data = json.loads(outcome["stdout"], parse_constant=_reject_constant)
            except ValueError as exc:
                return "nonfinite", f"invalid JSON: {exc}"
            for where, v in _numbers(data):
                if not math.isfinite(v) or v < -ROUNDING_SLACK:
                    return "nonfinite", f"{where} = {v}"
        return "result", ""
    return "other", f"exit {rc}: {err[-500:]}"


@dataclass
class Tally:
    """Counts per input class and verdict, plus the first failures' details."""

    counts: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)

    def add(self, kind: str, verdict: str, detail: str, argv: list, source: str = "") -> None:
        self.counts[(kind, verdict)] += 1
        if verdict in FAILURES and len(self.examples) < 50:
            self.examples.append({"class": kind, "verdict": verdict, "argv": [str(a) for a in argv],
                                  "detail": detail[-1500:], "input": source[:3000]})

    def summary(self) -> dict:
        kinds = sorted({k for k, _ in self.counts})
        per = {k: {v: self.counts[(k, v)] for v in ACCEPTED + FAILURES if self.counts[(k, v)]}
               for k in kinds}
        total = Counter()
        for (_, v), n in self.counts.items():
            total[v] += n
        return {"inputs": sum(total.values()), "clean_errors": total["clean_error"],
                "results": total["result"], "tracebacks": total["traceback"],
                "hangs": total["hang"], "memory": total["memory"],
                "non_finite": total["nonfinite"], "unclear": total["unclear"],
                "other": total["other"], "per_class": per, "failures": self.examples}
