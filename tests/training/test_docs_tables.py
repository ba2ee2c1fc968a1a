"""docs/training.md section 9's tables from the saved runs (pimsim.training.docs_tables):
the saved summaries, and figures of the rendered tables recomputed by hand from them."""

import json

import pytest

from pimsim.training import docs_tables as dtab


def test_save_keeps_the_summary_and_drops_per_layer_detail(tmp_path, monkeypatch):
    monkeypatch.setattr(dtab, "DATA", tmp_path)
    src = tmp_path / "endurance.json"
    src.write_text(json.dumps({"design": "ISAAC", "endurance": {"cycles": 1e8},
                               "records": ["/x/run/resnet20_sgd.npz"],
                               "policies": [{"policy": "sgd", "layers": [1, 2],
                                             "histogram": {"a": 1}, "cost": {"steps": 2}}]}))
    path = dtab.save("r", src, "the command", "the machine")
    saved = json.loads(path.read_text())
    assert saved["policies"] == [{"policy": "sgd", "cost": {"steps": 2}}]
    assert saved["command"] == "the command" and saved["environment"] == "the machine"
    assert saved["records"] == ["resnet20_sgd.npz"]


@pytest.mark.parametrize("name", dtab.TARGET_RUNS)
def test_targets_row_is_sgd_over_essence(name):
    by = {p["policy"]: p for p in dtab.load(name)["policies"]}
    saving = by["sgd"]["weight_updates_mean"] / by["essence"]["weight_updates_mean"]
    row = next(line for line in dtab.render_targets().splitlines()
               if line.startswith("| ESSENCE mean update-count saving"))
    assert f"{saving:.2f}x" in row


@pytest.mark.parametrize("name", dtab.ENERGY_RUNS)
def test_saved_costs_add_up(name):
    """Each run's energy is its reads + writes + static, and its per-epoch figure the
    total over steps / steps per epoch."""
    for p in dtab.load(name)["policies"]:
        c = p["cost"]
        assert c["energy_pJ"] == pytest.approx(c["read_energy_pJ"] + c["write_energy_pJ"]
                                               + c["static_energy_pJ"], rel=1e-9)
        epochs = c["steps"] / c["steps_per_epoch"]
        assert c["energy_per_epoch_pJ"] == pytest.approx(c["energy_pJ"] / epochs, rel=1e-9)
