"""Static and dynamic energy are separate, and add up, in every output of a run: the
Result, its JSON, the CLI's --json and --out files, the energy table and a sweep record."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pimsim.arch.compose import build_arch
from pimsim.config.loader import load_design
from pimsim.report.run import energy_table, run_table
from pimsim.sim.run import simulate
from pimsim.sweep.point import run_point
from pimsim.workload import load_trace

ROOT = Path(__file__).resolve().parents[2]
TRACE = ROOT / "traces" / "cnn_digits.npz"


def _check_total(t: dict) -> None:
    assert t["dynamic_energy_pJ"] > 0 and t["static_energy_pJ"] > 0
    assert t["static_energy_pJ"] + t["dynamic_energy_pJ"] == pytest.approx(t["energy_pJ"],
                                                                           rel=1e-12)
    assert sum(t["static_breakdown_pJ"].values()) == pytest.approx(t["static_energy_pJ"])
    assert sum(t["dynamic_breakdown_pJ"].values()) == pytest.approx(t["dynamic_energy_pJ"])
    assert sum(t["energy_breakdown_pJ"].values()) == pytest.approx(t["energy_pJ"])


@pytest.mark.parametrize("fidelity", ["analytic", "fast"])
def test_result_and_tables_split(fidelity):
    arch = build_arch(load_design(ROOT / "configs" / "isaac.yaml"))
    d = simulate(load_trace(TRACE).network, arch, fidelity=fidelity).as_dict()
    _check_total(d["total"])
    for row in energy_table(d).records():
        assert row["dynamic_pJ"] + row["static_pJ"] == pytest.approx(row["energy_pJ"])
        assert row["energy_pJ"] > 0                              # zero rows are left out
    assert "write_driver" in " ".join(energy_table(d).notes)    # ... and named
    rows = dict((r[0], r[1]) for r in run_table(d).rows)
    assert rows["  dynamic (uJ)"] + rows["  static (uJ)"] == pytest.approx(
        rows["energy per image (uJ)"])


def test_cli_json_and_files_split(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pimsim.cli", "run", "configs/isaac.yaml",
                          "--trace", str(TRACE), "--json", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    _check_total(json.loads(out.stdout)["total"])
    saved = json.loads((tmp_path / "run.json").read_text())
    _check_total(saved["total"])                # run.json is the --json document
    with open(tmp_path / "run_energy.csv") as f:
        for row in csv.DictReader(f):
            assert float(row["dynamic_pJ"]) + float(row["static_pJ"]) == pytest.approx(
                float(row["energy_pJ"]))


def test_sweep_record_split():
    rec = run_point({"key": "k", "base": str(ROOT / "configs" / "isaac.yaml"),
                     "overrides": {}, "trace": str(TRACE), "schedule": None,
                     "fidelity": "analytic"})
    assert rec["status"] == "ok", rec["error"]
    t = rec["result"]["total"]                  # the record holds the whole Result
    _check_total(t)
