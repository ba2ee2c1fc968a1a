"""Session-wide fuzz worker and tally; the tally is written to ``PIMSIM_FUZZ_REPORT`` (JSON)
when set (``make fuzz`` does) and printed as one line at the end of the session."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Tally, Worker, budget_s  # noqa: E402

TALLY = Tally()


@pytest.fixture(scope="session")
def worker():
    w = Worker()
    yield w
    w.kill()


@pytest.fixture(scope="session")
def tally():
    return TALLY


def pytest_sessionfinish(session, exitstatus):
    if not TALLY.counts:
        return
    summary = TALLY.summary()
    report = os.environ.get("PIMSIM_FUZZ_REPORT")
    if report:
        import datetime
        import platform

        import pimsim
        # what docs/robustness.md's generated table (pimsim.report.fuzz_counts) prints beside
        # the counts: when, on what, with which budget
        summary["run"] = {"date": datetime.date.today().isoformat(),
                          "budget_s_per_class": budget_s(7.0),
                          "pimsim_version": getattr(pimsim, "__version__", "unknown"),
                          "python": platform.python_version(), "cores": os.cpu_count(),
                          "load_average_at_end": round(os.getloadavg()[0], 1)
                          if hasattr(os, "getloadavg") else None}
        Path(report).write_text(json.dumps(summary, indent=1) + "\n")
    line = {k: summary[k] for k in ("inputs", "clean_errors", "results", "tracebacks", "hangs",
                                    "memory", "non_finite", "unclear", "other")}
    sys.stderr.write(f"\nfuzz tally: {json.dumps(line)}\n")
