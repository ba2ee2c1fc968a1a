"""sweep_command / report_command as the CLI calls them: files, exit status, fast reruns."""

import argparse
import time
from pathlib import Path

import pytest
import yaml

from pimsim.sweep import runner
from pimsim.sweep.commands import (EXIT_FAILED_POINTS, add_report_arguments, add_sweep_arguments,
                                   report_command, sweep_command)

from .conftest import ROOT

REPORT_FILES = ("sweep.json", "sweep.md", "sweep_results.csv", "sweep_pareto_front.csv",
                "sweep_failures_and_skips.csv")
PLOTS = ("pareto", "energy_breakdown", "area_breakdown", "xbar_curves")


def _args(*argv, report=False) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    (add_report_arguments if report else add_sweep_arguments)(p)
    return p.parse_args([str(a) for a in argv])


def _reduced_xbar_adc(tmp_path: Path) -> Path:
    """The shipped xbar_adc sweep, cut to 2 crossbar sizes x 2 ADC settings on ResNet-20."""
    src = ROOT / "configs" / "sweeps" / "xbar_adc.yaml"
    data = yaml.safe_load(src.read_text())
    data["base"] = str((src.parent / data["base"]).resolve())
    data["axes"]["trace"] = [str((src.parent / data["axes"]["trace"][0]).resolve())]
    data["axes"]["xbar"]["values"] = [128, 256]
    data["axes"]["adc.bits"] = ["auto", 8]
    path = tmp_path / "xbar_adc_small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_argument_parsing():
    a = _args("s.yaml", "-j", 3, "--scheduler", "tcp://h:8786", "--out", "d", "-q")
    assert (a.sweep_file, a.workers, a.scheduler, a.out, a.quiet) == ("s.yaml", 3, "tcp://h:8786",
                                                                       "d", True)
    a = _args("s.yaml")
    assert a.workers is None and a.scheduler is None and not a.retry_failed and not a.no_report
    a = _args("dir", "--no-plots", report=True)
    assert a.dir == "dir" and a.no_plots and not a.force


def test_xbar_adc_end_to_end_then_instant(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    sweep = _reduced_xbar_adc(tmp_path)
    out = tmp_path / "out"
    assert sweep_command(_args(sweep, "--workers", 2, "--out", out)) == 0
    text = capsys.readouterr().out
    assert "4 points: 3 ok, 0 failed, 1 skipped" in text       # 256 rows refuse an 8-bit ADC
    assert "ADC resolution too low" in text                      # skips are listed with why
    for name in REPORT_FILES:
        assert (out / "report" / name).stat().st_size > 0
    for name in PLOTS:
        for fmt in ("png", "svg"):
            assert (out / "report" / f"{name}.{fmt}").stat().st_size > 1000
    csv = (out / "report" / "sweep_results.csv").read_text().splitlines()
    assert csv[0].startswith("xbar,adc.bits,trace,status,energy_pJ")
    assert len(csv) == 1 + 4 + 1                                # points + the baseline

    def no_pool(*a, **k):
        raise AssertionError("a finished sweep must not start a pool")

    monkeypatch.setattr(runner, "_new_pool", no_pool)
    t0 = time.monotonic()
    assert sweep_command(_args(sweep, "--workers", 2, "--out", out, "-q")) == 0
    assert time.monotonic() - t0 < 2.0
    text = capsys.readouterr().out
    assert "0 evaluated" in text and "is up to date" in text


def test_bad_point_finishes_the_rest_and_names_its_error(write_sweep, tmp_path, capsys):
    sweep = write_sweep(debug={"fail_where": ["xbar == 128", "adc.bits == 9"]})
    rc = sweep_command(_args(sweep, "--workers", 0, "--out", tmp_path / "out", "-q", "--no-plots"))
    assert rc == EXIT_FAILED_POINTS
    text = capsys.readouterr().out
    assert "6 points: 4 ok, 1 failed, 1 skipped" in text
    line = next(l for l in text.splitlines() if "xbar=128 adc.bits=9" in l)
    assert "failed" in line and "RuntimeError" in line and "fails on purpose" in line
    csv = (tmp_path / "out" / "report" / "sweep_failures_and_skips.csv").read_text()
    assert "fails on purpose" in csv


def test_invalid_combination_without_skip_invalid_fails(write_sweep, tmp_path, capsys):
    sweep = write_sweep(constraints={})
    rc = sweep_command(_args(sweep, "--workers", 0, "--out", tmp_path / "out", "-q", "--no-report"))
    assert rc == EXIT_FAILED_POINTS
    assert "1 failed, 0 skipped" in capsys.readouterr().out


def test_report_command_tables_only_and_force(write_sweep, tmp_path, capsys):
    out = tmp_path / "out"
    sweep_command(_args(write_sweep(), "--workers", 0, "--out", out, "-q", "--no-report"))
    capsys.readouterr()
    assert report_command(_args(out, "--no-plots", report=True)) == 0
    text = capsys.readouterr().out
    assert text.count("wrote ") == 5 and f"wrote {out / 'report' / 'sweep.json'}" in text
    assert not list((out / "report").glob("*.png"))
    assert report_command(_args(out, "--no-plots", report=True)) == 0
    assert "up to date" in capsys.readouterr().out
    assert report_command(_args(out, "--no-plots", "--force", report=True)) == 0
    assert capsys.readouterr().out.count("wrote ") == 5


def test_report_of_a_non_sweep_directory(tmp_path):
    from pimsim.errors import PimsimError
    with pytest.raises(PimsimError, match="not a sweep output directory"):
        report_command(_args(tmp_path, report=True))
