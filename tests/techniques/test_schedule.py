"""Schedules: shipped files load and fit; every kind of mistake is a clear ScheduleError."""

import pytest

from pimsim.errors import ScheduleError
from pimsim.techniques.schedule import check_schedule, load_schedule, parse_schedule

from .conftest import CONFIGS


@pytest.mark.parametrize("path", sorted((CONFIGS / "schedules").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_schedules_load_and_fit(path, cnn, era_design):
    s = load_schedule(path)
    check_schedule(s, cnn.network, era_design)


def _check(doc, cnn, design, match):
    with pytest.raises(ScheduleError, match=match) as exc:
        check_schedule(parse_schedule(doc, "s.yaml"), cnn.network, design)
    assert "s.yaml" in str(exc.value)
    return exc.value


def test_unknown_layer_did_you_mean(cnn, era_design):
    err = _check({"technique": "era_bs", "layers": {"_88": {"enabled": False}}}, cnn,
                 era_design, "did you mean '_8'")
    assert err.where == "layers._88"


def test_layer_without_weights(cnn, era_design):
    _check({"technique": "era_bs", "layers": {"_2": {"enabled": False}}}, cnn, era_design,
           "no weights")


@pytest.mark.parametrize("ratio", [1.0, -0.1, 1.5])
def test_ratio_outside_unit_interval(ratio, cnn, era_design):
    err = _check({"technique": "cim_pruning", "layers": {"_3": {"pruning": {"ratio": ratio}}}},
                 cnn, era_design, "invalid value")
    assert err.where == "layers._3.pruning.ratio" and "[0, 1)" in str(err)


def test_ou_larger_than_crossbar(cnn, era_design):
    err = _check({"technique": "era_bs", "default": {"activations": {"ou": [256, 16]}}}, cnn,
                 era_design, "OU larger than the crossbar")
    assert err.where == "default.activations.ou" and "[128, 128]" in str(err)


@pytest.mark.parametrize("doc,where,match", [
    ({"technique": "era-bs"}, "technique", "did you mean 'era_bs'"),
    ({"technique": "cim_pruning", "default": {"pruning": {"granularity": "kernel"}}},
     "default.pruning.granularity", "invalid value"),
    ({"technique": "era_bs", "default": {"activations": {"ou": "16x16"}}},
     "default.activations.ou", "invalid value"),
    ({"technique": "era_bs", "default": {"activations": {"skip": "yes"}}},
     "default.activations.skip", "invalid value"),
    ({"technique": "era_bs", "default": {"weights": {"bits": 8.5}}},
     "default.weights.bits", "invalid value"),
    ({"technique": "era_bs", "default": {"weights": {"flip_budgt": 2}}},
     "default.weights.flip_budgt", "did you mean 'flip_budget'"),
    ({"technique": "era_bs", "default": {"weight": {}}}, "default.weight",
     "did you mean 'weights'"),
    ({"technique": "era_bs", "layers": {"_3": {"enabled": "no"}}}, "layers._3.enabled",
     "wrong type"),
    ({"technique": "era_bs", "layerz": {}}, "layerz", "unknown key"),
])
def test_malformed(doc, where, match):
    with pytest.raises(ScheduleError, match=match) as exc:
        parse_schedule(doc, "s.yaml")
    assert exc.value.where == where


def test_not_a_mapping_and_bad_files(tmp_path):
    with pytest.raises(ScheduleError, match="mapping"):
        parse_schedule([1, 2], "s.yaml")
    with pytest.raises(ScheduleError, match="file not found"):
        load_schedule(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("technique: [era_bs\n")
    with pytest.raises(ScheduleError, match="malformed YAML"):
        load_schedule(bad)


def test_wrong_network(cnn, era_design):
    _check({"technique": "era_bs", "network": "vgg16"}, cnn, era_design, "another network")


def test_layer_overrides_merge_over_default():
    s = parse_schedule({"technique": "cim_pruning",
                        "default": {"pruning": {"granularity": "filter", "ratio": 0.5}},
                        "layers": {"_3": {"pruning": {"ratio": 0.1}}}})
    assert s.for_layer("_3").ratio == 0.1 and s.for_layer("_3").granularity == "filter"
    assert s.for_layer("_8").ratio == 0.5
