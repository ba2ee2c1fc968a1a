"""Sweep-file validation: every mistake names the file and the key path."""

from pathlib import Path

import pytest

from pimsim.errors import ConfigError
from pimsim.sweep.spec import DEFAULT_METRICS, expand_range, load_sweep

from .conftest import RESNET20, ROOT, sweep_dict


def _error(write_sweep, **over) -> str:
    path = write_sweep(**over)
    with pytest.raises(ConfigError) as info:
        load_sweep(path)
    text = str(info.value)
    assert str(path) in text                    # always names the sweep file
    return text


def test_valid_sweep_resolves_paths_and_defaults(write_sweep):
    sweep = load_sweep(write_sweep())
    assert sweep.name == "mini" and sweep.fidelity == "analytic" and sweep.images is None
    assert [a.name for a in sweep.axes] == ["xbar", "adc.bits", "trace"]
    assert sweep.axis("xbar").keys == ("crossbar.rows", "crossbar.cols")
    assert sweep.axis("trace").values == (str(ROOT / "traces" / "resnet20_cifar_shapes.npz"),)
    assert sweep.baseline == ROOT / "configs" / "isaac.yaml"
    data = sweep_dict()
    del data["metrics"]
    assert load_sweep(write_sweep(data)).metrics == DEFAULT_METRICS


def test_unknown_top_key_suggests(write_sweep):
    data = sweep_dict()
    data["axis"] = data.pop("axes")
    path = write_sweep(data)
    with pytest.raises(ConfigError, match=r"axis: unknown key 'axis' \(did you mean 'axes'\?\)"):
        load_sweep(path)


def test_unknown_config_key_path_suggests(write_sweep):
    trace = sweep_dict()["axes"]["trace"]
    text = _error(write_sweep, axes={"crossbar.row": [64, 128], "trace": trace})
    assert "axes.crossbar.row" in text and "did you mean 'rows'" in text


def test_unknown_section_and_component_role(write_sweep):
    trace = sweep_dict()["axes"]["trace"]
    text = _error(write_sweep, axes={"crosbar.rows": [64], "trace": trace})
    assert "did you mean 'crossbar'" in text
    text = _error(write_sweep, axes={"components.adcc.law": ["walden"], "trace": trace})
    assert "unknown component role 'adcc'" in text and "did you mean 'adc'" in text


def test_linked_keys_are_checked_with_their_index(write_sweep):
    trace = sweep_dict()["axes"]["trace"]
    text = _error(write_sweep, axes={"xb": {"keys": ["crossbar.rows", "crossbar.colz"],
                                            "values": [64]}, "trace": trace})
    assert "axes.xb.keys[1]" in text and "did you mean 'cols'" in text


def test_unknown_metric_and_fidelity(write_sweep):
    assert "did you mean 'gops_per_W'" in _error(write_sweep, metrics=["gops_per_w"])
    assert "metrics[0]" in _error(write_sweep, metrics=["gops_per_w"])
    assert "fidelity" in _error(write_sweep, fidelity="exact")


def test_trace_axis_required_and_checked(write_sweep):
    assert "axes.trace" in _error(write_sweep, axes={"crossbar.rows": [64]})
    text = _error(write_sweep, axes={"crossbar.rows": [64], "trace": ["missing.npz"]})
    assert "axes.trace[0]" in text and "not found" in text


def test_schedule_axis_validated_as_paths(write_sweep, tmp_path):
    trace = sweep_dict()["axes"]["trace"]
    text = _error(write_sweep, axes={"schedule": ["nope.yaml"], "trace": trace})
    assert "axes.schedule[0]" in text
    (tmp_path / "s.yaml").write_text("{}\n")
    sweep = load_sweep(write_sweep(axes={"schedule": ["s.yaml"], "trace": trace}))
    assert sweep.axis("schedule").values == (str(tmp_path / "s.yaml"),)


def test_missing_base_and_unknown_axis_key(write_sweep):
    data = sweep_dict()
    del data["base"]
    with pytest.raises(ConfigError, match="base: a sweep needs a base design point"):
        load_sweep(write_sweep(data))
    trace = sweep_dict()["axes"]["trace"]
    assert "axes.x.stepp" in _error(write_sweep, axes={"x": {"keys": ["crossbar.rows"], "stepp": 2},
                                                       "trace": trace})


def test_same_key_on_two_axes(write_sweep):
    trace = sweep_dict()["axes"]["trace"]
    linked = {"keys": ["crossbar.rows"], "values": [128]}
    text = _error(write_sweep, axes={"crossbar.rows": [64], "xb": linked, "trace": trace})
    assert "more than one axis" in text


def test_where_conditions(write_sweep):
    assert "unknown axis 'xbr'" in _error(write_sweep, constraints={"where": ["xbr > 64"]})
    assert "constraints.where[0]" in _error(write_sweep, constraints={"where": ["xbar ~ 3"]})
    sweep = load_sweep(write_sweep(constraints={"where": ["xbar >= 256", "adc.bits != auto"]}))
    c1, c2 = sweep.where
    assert c1.holds({"xbar": 256}) and not c1.holds({"xbar": 128})
    assert c2.holds({"adc.bits": 9}) and not c2.holds({"adc.bits": "auto"})
    # a string compared with a number by order is False, not an error
    assert not c1.holds({"xbar": "auto"})


def test_ranges_include_stop():
    src = Path("s.yaml")
    assert expand_range({"start": 4, "stop": 16, "step": 4}, src, "a") == [4, 8, 12, 16]
    assert expand_range({"start": 64, "stop": 512, "factor": 2}, src, "a") == [64, 128, 256, 512]
    assert expand_range({"start": 0.1, "stop": 0.3, "step": 0.1}, src, "a") == [0.1, 0.2, 0.3]
    assert expand_range({"start": 10, "stop": 4, "step": -3}, src, "a") == [10, 7, 4]
    for bad in ({"start": 1, "stop": 4}, {"start": 1, "stop": 4, "step": -1},
                {"start": 1, "stop": 4, "step": 1, "factor": 2},
                {"start": 0, "stop": 4, "factor": 2},
                {"start": "a", "stop": 4, "step": 1}):
        with pytest.raises(ConfigError):
            expand_range(bad, src, "a")


def test_axis_values_must_be_scalars_and_distinct(write_sweep):
    trace = sweep_dict()["axes"]["trace"]
    assert "axes.crossbar.rows[1]" in _error(write_sweep, axes={"crossbar.rows": [64, [1]],
                                                                "trace": trace})
    assert "repeated" in _error(write_sweep, axes={"crossbar.rows": [64, 64], "trace": trace})
    assert "at least one value" in _error(write_sweep, axes={"crossbar.rows": [], "trace": trace})


@pytest.mark.parametrize("name", ["xbar_adc.yaml", "cell_precision.yaml"])
def test_shipped_sweeps_load(name):
    sweep = load_sweep(ROOT / "configs" / "sweeps" / name)
    assert sweep.skip_invalid and sweep.fidelity == "analytic"


@pytest.mark.parametrize("cond", ["crossbar.rows >>> 3", "crossbar.rows >= abc",
                                  "crossbar.rows == 128 and"])
def test_where_typo_is_an_error_not_an_empty_sweep(write_sweep, cond):
    path = write_sweep(axes={"crossbar.rows": [64, 128], "trace": [str(RESNET20)]},
                       constraints={"where": [cond]})
    with pytest.raises(ConfigError, match="constraints.where"):
        load_sweep(path)


def test_default_fidelity_is_the_one_run_and_compare_use(write_sweep):
    from pimsim.cli import build_parser
    from pimsim.sim.fidelity import DEFAULT_FIDELITY

    data = sweep_dict()
    del data["fidelity"]
    sweep = load_sweep(write_sweep(data))
    args = build_parser().parse_args(["run", "c.yaml", "--trace", "t.npz"])
    assert sweep.fidelity == args.fidelity == DEFAULT_FIDELITY == "fast"
    cargs = build_parser().parse_args(["compare", "c.yaml", "--trace", "t.npz"])
    assert cargs.fidelity == DEFAULT_FIDELITY and cargs.images is None


def test_images_forced_count(write_sweep):
    assert load_sweep(write_sweep(images=4)).images == 4
    assert "images" in _error(write_sweep, images=0)
    assert "images" in _error(write_sweep, images="many")
