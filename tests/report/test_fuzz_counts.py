"""pimsim.report.fuzz_counts: the fuzz report's counts as docs/robustness.md's table."""

from __future__ import annotations

import json

import pytest

from pimsim.report import fuzz_counts as fc


def _report(tmp_path, per_class, inputs=None, failures=()):
    total = sum(sum(c.values()) for c in per_class.values())
    path = tmp_path / "fuzz-report.json"
    path.write_text(json.dumps({"inputs": total if inputs is None else inputs,
                                "per_class": per_class, "failures": list(failures),
                                "run": {"date": "2026-01-02", "budget_s_per_class": 60.0,
                                        "cores": 4, "python": "3.11.0",
                                        "pimsim_version": "0.1.0",
                                        "load_average_at_end": 1.5}}))
    return path


def test_rows_totals_and_run(tmp_path):
    per = {"design point": {"clean_error": 1200, "result": 34, "traceback": 1},
           "trace": {"clean_error": 5, "hang": 2}}
    text = fc.render(_report(tmp_path, per, failures=[{"class": "trace", "verdict": "hang"}]))
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ")}
    # inputs, clean errors, results, tracebacks, hangs, ... (columns of fc.COLUMNS)
    assert rows["design point"][1:6] == ["1 235", "1 200", "34", "1", "0"]
    assert rows["trace"][1:6] == ["7", "5", "0", "0", "2"]
    assert rows["schedule"][1] == "0"                      # a class the run did not reach
    assert rows["**total**"][1:6] == ["**1 242**", "**1 205**", "**34**", "**1**", "**2**"]
    assert "on 2026-01-02 (60 s per class, 4 cores, load average 1.5 at the end" in text
    assert "Unaccepted outcomes kept in the report: 1: trace: hang." in text
    assert text.startswith("<!-- generated: robustness-fuzz-counts -->")


def test_a_report_that_does_not_add_up_or_has_an_unknown_class_is_refused(tmp_path):
    with pytest.raises(ValueError, match="sum to 3"):
        fc.render(_report(tmp_path, {"trace": {"clean_error": 3}}, inputs=4))
    with pytest.raises(ValueError, match="not in"):
        fc.render(_report(tmp_path, {"new class": {"clean_error": 3}}))
