"""The executor's data is the training split's held-out part; the CLI entry points parse."""

import argparse
import json

import numpy as np
import pytest

from pimsim.report.documents import validate
from pimsim.techniques import cli_args, commands
from pimsim.techniques.accuracy import digits_test_set, run_model, held_out_for


def test_same_split_as_the_zoo():
    digits = pytest.importorskip("pimsim.workload.zoo.digits")
    for up, ch in ((1, 1), (4, 3)):
        _, _, x, y = digits.digits_split(up, ch)
        xt, yt = digits_test_set(up, ch)
        np.testing.assert_array_equal(x, xt)
        np.testing.assert_array_equal(y, yt)


def test_executor_logits_shape_and_weights_matter(cnn):
    x, _ = held_out_for(cnn)
    logits = run_model(cnn, x[:8])
    assert logits.shape == (8, 10)
    zero = run_model(cnn, x[:8], weights={"_10": np.zeros((10, 64), np.float32)})
    # with the last layer's weights zeroed only its bias is left: one class for every image
    assert len(set(zero.argmax(1))) == 1 and not np.allclose(zero, logits)


def test_cli_parser_and_apply(tmp_path, capsys):
    p = argparse.ArgumentParser()
    cli_args.add_parser(p.add_subparsers(dest="cmd"))
    args = p.parse_args(["techniques", "apply", "configs/schedules/era_bs_acts.yaml",
                         "traces/cnn_digits.npz", "--limit", "30", "--out", str(tmp_path),
                         "--json"])
    assert commands.run(args) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    validate(data)
    assert data["technique"] == "era_bs" and data["accuracy_images"] == 30
    assert data["after"]["total"]["dynamic_energy_pJ"] < data["before"]["total"]["dynamic_energy_pJ"]
    assert data["metrics_after"]["energy_dynamic_pJ"] == data["after"]["total"]["dynamic_energy_pJ"]
    assert (tmp_path / "technique.json").exists()
    assert f"wrote {tmp_path / 'technique.json'}" in err and "techniques apply:" in err
    # without --json: a table of the same metrics
    args = p.parse_args(["techniques", "apply", "configs/schedules/era_bs_acts.yaml",
                         "traces/cnn_digits.npz", "--limit", "30"])
    assert commands.run(args) == 0
    out = capsys.readouterr().out
    assert "before and after" in out and "energy_dynamic_pJ" in out
    args = p.parse_args(["techniques", "curves", "--ratios", "0,0.5", "--granularities",
                         "filter", "--limit", "30"])
    assert args.ratios == [0.0, 0.5] and not args.prune_first_last
