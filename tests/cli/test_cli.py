"""The pimsim command line, end to end on shipped files."""

import json
from pathlib import Path

import pytest

from pimsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
ISAAC = str(ROOT / "configs" / "isaac.yaml")
CNN = str(ROOT / "traces" / "cnn_digits.npz")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_area_json_has_documented_keys(capsys):
    code, out, _ = run_cli(capsys, "area", ISAAC, "--json")
    data = json.loads(out)
    assert code == 0
    for section, key in [("chip", "area_mm2"), ("chip", "power_mW"), ("tile", "area_mm2"),
                         ("tile", "power_mW"), ("peak", "gops_per_mm2"), ("peak", "gops_per_W")]:
        assert data[section][key] > 0
    assert data["chip"]["area_mm2"] == pytest.approx(85.4, rel=0.01)      # ISAAC Table I
    assert data["tile"]["power_mW"] == pytest.approx(330, rel=0.01)


def test_area_table(capsys):
    code, out, _ = run_cli(capsys, "area", ISAAC)
    assert code == 0 and "ISAAC: per IMA" in out and "adc" in out and "CE (GOPS/mm2)" in out


def test_run_json_totals_and_layers(capsys):
    code, out, _ = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--json", "--baseline", "none")
    data = json.loads(out)
    assert code == 0
    total = data["total"]
    for key in ("energy_pJ", "latency_ns", "throughput_images_per_s", "macs", "crossbars"):
        assert total[key] > 0, key
    assert total["macs"] == sum(layer["macs"] for layer in data["layers"])
    assert total["macs"] == 337536          # the trace's own count (tests/workload check it by hand)


def test_run_with_baseline_prints_ratio(capsys):
    code, out, _ = run_cli(capsys, "run", str(ROOT / "configs" / "isaac_xbar256.yaml"), "--trace", CNN)
    assert code == 0
    assert "ISAAC-256 vs ISAAC" in out and "ratio" in out


def test_run_writes_files_atomically(tmp_path, capsys):
    out_dir = tmp_path / "out"
    xbar256 = str(ROOT / "configs" / "isaac_xbar256.yaml")
    code, out, _ = run_cli(capsys, "run", xbar256, "--trace", CNN, "--out", str(out_dir))
    assert code == 0 and f"wrote {out_dir / 'run.json'}" in out
    names = sorted(p.name for p in out_dir.iterdir())
    assert "run.json" in names and "run.md" in names
    # totals, energy, accuracy (the trace has weights and samples), per layer
    assert len([n for n in names if n.endswith(".csv")]) == 4
    assert not [n for n in names if n.endswith(".tmp")]
    data = json.loads((out_dir / "run.json").read_text())
    assert data["kind"] == "run"        # the same document as --json (docs/results.md)
    assert data["total"]["macs"] == data["baseline"]["total"]["macs"]
    assert data["design"] == "ISAAC-256" and data["baseline"]["design"] == "ISAAC"


def test_compare_has_a_column_per_design(capsys):
    configs = [ISAAC] + [str(ROOT / "configs" / f"isaac_xbar{n}.yaml") for n in (64, 256)]
    # cnn_digits: the columns do not depend on the network (ResNet-20 took 18 s here)
    code, out, _ = run_cli(capsys, "compare", *configs, "--trace", CNN, "--images", "2")
    header = out.splitlines()[1]
    assert code == 0
    for name in ("ISAAC", "ISAAC-64", "ISAAC-256"):
        assert name in header


def test_validate_config_and_trace(capsys):
    assert run_cli(capsys, "validate", ISAAC)[1].count("OK") == 1
    assert "OK" in run_cli(capsys, "validate", CNN)[1]


@pytest.mark.parametrize("argv,needle", [
    (["run", "missing.yaml", "--trace", CNN], "missing.yaml: file not found"),
    (["validate", "nope.npz"], "nope.npz"),
])
def test_user_errors_exit_2_with_one_paragraph(capsys, argv, needle):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("pimsim: error: ") and needle in err and "Traceback" not in err


def test_bad_config_error_names_key(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {ISAAC}\ncrossbar:\n  rows: 100\n")
    code, _, err = run_cli(capsys, "area", str(bad))
    assert code == 2 and "crossbar.rows" in err and "power of two" in err


@pytest.mark.parametrize("fidelity", ["fast", "event", "analytic"])
def test_run_fidelities_agree_on_counts(capsys, fidelity):
    code, out, _ = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--json", "--baseline", "none",
                           "--fidelity", fidelity)
    assert code == 0
    total = json.loads(out)["total"]
    assert total["macs"] == 337536 and total["dynamic_energy_pJ"] > 0


def test_timeline_file_is_trace_event_json(tmp_path, capsys):
    path = tmp_path / "t.json"
    code, _, _ = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--timeline", str(path),
                         "--baseline", "none")
    events = json.loads(path.read_text())["traceEvents"]
    assert code == 0 and any(e.get("ph") == "X" and e["dur"] >= 0 for e in events)


def test_timeline_needs_an_engine_fidelity(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--fidelity", "analytic",
                           "--timeline", str(tmp_path / "t.json"))
    assert code == 2 and "--timeline" in err


ERA_BS = str(ROOT / "configs" / "era_bs_allrows.yaml")
ERA_FULL = str(ROOT / "configs" / "schedules" / "era_bs_full.yaml")


@pytest.mark.parametrize("fidelity", ["analytic", "fast"])
def test_run_schedule_simulates_the_changed_workload(capsys, fidelity):
    code, out, _ = run_cli(capsys, "run", ERA_BS, "--trace", CNN, "--schedule", ERA_FULL,
                           "--fidelity", fidelity, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["total"]["counts"]["zero_detector.detect"] > 0
    assert data["baseline"]["design"] == "ISAAC"
    assert "zero_detector.detect" not in data["baseline"]["total"]["counts"]
    code, out, _ = run_cli(capsys, "run", ERA_BS, "--trace", CNN, "--fidelity", fidelity,
                           "--json", "--baseline", "none")
    plain = json.loads(out)
    assert data["total"]["dynamic_energy_pJ"] < plain["total"]["dynamic_energy_pJ"]
    assert data["total"]["crossbars"] < plain["total"]["crossbars"]


def test_run_schedule_same_counts_as_techniques_api(capsys):
    from pimsim.techniques.apply import apply_schedule
    a = apply_schedule(CNN, ERA_BS, ERA_FULL, accuracy=False)
    code, out, _ = run_cli(capsys, "run", ERA_BS, "--trace", CNN, "--schedule", ERA_FULL,
                           "--fidelity", "event", "--json", "--baseline", "none")
    assert code == 0
    data = json.loads(out)
    assert data["total"]["counts"] == a.after.total.counts
    assert data["total"]["dynamic_energy_pJ"] == a.after.total.dynamic_energy_pJ


def test_run_schedule_design_without_support_roles_is_user_error(capsys):
    code, _, err = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--schedule", ERA_FULL,
                           "--baseline", "none")
    assert code == 2 and "zero_detector" in err and "Traceback" not in err


def test_run_schedule_not_fitting_trace_is_user_error(capsys, tmp_path):
    bad = tmp_path / "other.yaml"
    bad.write_text("network: vgg16\n" + Path(ERA_FULL).read_text())
    code, _, err = run_cli(capsys, "run", ERA_BS, "--trace", CNN, "--schedule", str(bad),
                           "--baseline", "none")
    assert code == 2 and "another network" in err and "Traceback" not in err


@pytest.mark.parametrize("argv,needle", [
    (["techniques", "curves", CNN, "--ratios", "0.1,abc"], "--ratios"),
    (["techniques", "apply", "x.yaml", CNN, "--limit", "0"], "--limit"),
    (["train", ISAAC, "--model", "cnn_digits", "--max-steps", "-3"], "--max-steps"),
    (["export", "cnn_digits", "--weight-bits", "1", "--out", "x.npz"], "--weight-bits"),
])
def test_bad_option_values_are_usage_errors(capsys, argv, needle):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and needle in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["report", str(ROOT / "README.md")],
    ["sweep", str(ROOT / "configs" / "sweeps" / "xbar_adc.yaml"), "--out", str(ROOT / "README.md")],
    ["export", ":", "--out", "/tmp/pimsim-x.npz"],
    ["endurance", ISAAC, CNN],
    ["run", ISAAC, "--trace", CNN, "--baseline", "missing.yaml"],
])
def test_bad_paths_and_files_exit_2(capsys, argv):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and "pimsim: error:" in err and "Traceback" not in err


def test_timeline_into_a_directory(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--timeline", str(tmp_path))
    assert code == 2 and "directory" in err


@pytest.mark.parametrize("path,kind", [("configs/endurance.yaml", "endurance settings"),
                                       ("configs/sweeps/xbar_adc.yaml", "sweep file"),
                                       ("configs/schedules/era_bs_full.yaml", "schedule")])
def test_validate_knows_every_yaml_kind(capsys, path, kind):
    code, out, _ = run_cli(capsys, "validate", str(ROOT / path))
    assert code == 0 and f"OK: {kind}" in out


def test_run_images_fidelity_and_bottleneck(capsys):
    code, out, _ = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--json", "--baseline", "none",
                           "--images", "4")
    data = json.loads(out)
    assert code == 0 and data["engine"] == "fast"             # the shared default fidelity
    total = data["total"]
    assert total["images"] == data["engine_stats"]["images"] == 4
    assert {"layer", "resource", "share"} <= set(total["bottleneck"])
    # the engine adds the contention-free interval and its layer's steady-state split
    assert total["bottleneck"]["closed_form_interval_ns"] > 0
    assert set(total["bottleneck"]["stalls_ns"]) <= set(data["engine_stats"]["stalls_ns"])
    assert total["fill_ns"] > 0 and isinstance(total["converged"], bool)
    code, out, _ = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none",
                           "--fidelity", "analytic")
    assert code == 0 and "(analytic)" in out and "bottleneck (analytic): layer" in out
    with pytest.raises(SystemExit) as info:                   # argparse: exit 2, named
        run_cli(capsys, "run", ISAAC, "--trace", CNN, "--images", "0")
    assert info.value.code == 2 and "--images" in capsys.readouterr().err


def test_compare_names_its_fidelity(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "compare", ISAAC, "--trace", CNN, "--fidelity", "analytic",
                           "--out", str(tmp_path))
    assert code == 0 and "comparison on cnn_digits (analytic)" in out
    csv = next(tmp_path.glob("*.csv")).read_text()
    assert "fidelity,analytic" in csv
