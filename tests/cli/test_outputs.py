"""Output paths never collide and are always printed; every option has help; views."""

import argparse
from pathlib import Path

import pytest

from pimsim.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
ISAAC = str(ROOT / "configs" / "isaac.yaml")
CNN = str(ROOT / "traces" / "cnn_digits.npz")


@pytest.mark.parametrize("option,name", [("--timeline", "run.json"), ("--html", "run.md"),
                                         ("--timeline", "run_layers.csv")])
def test_an_output_that_would_overwrite_another_is_refused(tmp_path, capsys, option, name):
    out = tmp_path / "out"
    code = main(["run", ISAAC, "--trace", CNN, "--baseline", "none", "--out", str(out),
                 option, str(out / name)])
    err = capsys.readouterr().err
    assert code == 2 and "--out" in err and option in err and "Traceback" not in err
    assert not out.exists()                      # refused before anything ran


def test_timeline_html_and_out_are_all_written_and_printed(tmp_path, capsys):
    out, tl, page = tmp_path / "out", tmp_path / "out" / "timeline.json", tmp_path / "r.html"
    assert main(["run", ISAAC, "--trace", CNN, "--baseline", "none", "--out", str(out),
                 "--timeline", str(tl), "--html", str(page)]) == 0
    text = capsys.readouterr().out
    for path in (tl, page, out / "run.json", out / "run_totals.csv", out / "run.md"):
        assert path.stat().st_size > 0 and f"wrote {path}" in text
    assert '"traceEvents"' in tl.read_text()     # the timeline survived --out


def test_json_mode_keeps_stdout_pure(tmp_path, capsys):
    import json
    assert main(["run", ISAAC, "--trace", CNN, "--baseline", "none", "--fidelity", "analytic",
                 "--json", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert f"wrote {tmp_path / 'run.json'}" in err


def test_run_prints_fidelity_bottleneck_and_layers_on_request(capsys):
    assert main(["run", ISAAC, "--trace", CNN, "--baseline", "none", "--fidelity", "analytic"]) == 0
    plain = capsys.readouterr().out
    assert "fidelity: analytic" in plain and "\nbottleneck (analytic): layer " in plain
    assert "per layer" not in plain
    assert main(["run", ISAAC, "--trace", CNN, "--baseline", "none", "--fidelity", "analytic",
                 "--layers"]) == 0
    text = capsys.readouterr().out
    assert "per layer" in text and "share of interval (%)" in text and "utilization (%)" in text


def test_bottleneck_line_reports_the_result_or_names_the_slowest_stage():
    import pimsim
    from pimsim.report.views import bottleneck_line
    d = pimsim.run(ISAAC, CNN, "analytic").as_dict()
    b = d["total"]["bottleneck"]
    # the closed form's interval is its slowest stage: the reported bottleneck takes all of it
    assert b["share"] == pytest.approx(1.0)
    assert bottleneck_line(d).startswith(f"bottleneck (analytic): layer {b['layer']}, "
                                         f"{b['resource']}, 100.0% of the interval")
    # without a reported bottleneck the line names the layer with the longest stage time
    d["total"]["bottleneck"] = {}
    slow = max(d["layers"], key=lambda lay: lay["time_ns"])
    share = 100 * slow["time_ns"] / d["total"]["interval_ns"]
    assert bottleneck_line(d).startswith(f"bottleneck: layer {slow['name']} (slowest pipeline "
                                         f"stage, ")
    assert f"= {share:.0f}% of the" in bottleneck_line(d)


def _actions(parser: argparse.ArgumentParser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, path + (name,))
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_and_argument_has_help():
    missing = [" ".join(p) + " " + (a.option_strings[0] if a.option_strings else a.dest)
               for p, a in _actions(build_parser()) if not a.help]
    assert not missing, f"no help text: {missing}"


def test_techniques_compare_says_what_it_runs(monkeypatch, capsys):
    from pimsim.techniques import commands

    seen = {}

    def fake_compare(traces, **kw):
        seen.update(kw, traces=traces)
        kw["progress"](0, 1, "ISAAC on cnn_digits")
        return []

    monkeypatch.setattr(commands, "compare", fake_compare)
    assert main(["techniques", "compare"]) == 0
    err = capsys.readouterr().err
    assert "techniques compare: 7 rows (ISAAC, ISAAC-8b" in err
    assert "cnn_digits, resnet20_digits, resnet20_cifar_shapes, vgg16_shapes" in err
    assert "[0/1] ISAAC on cnn_digits" in err and len(seen["traces"]) == 4


def test_a_ring_bottleneck_is_printed_as_a_ring_with_the_stage_bound():
    """The closed form's pace (resource buffer_slots) names the ring and the slowest stage
    it exceeds, not a share 'of the interval' (its share is the ring's occupancy)."""
    from pimsim.report.views import bottleneck_line

    d = {"engine": "analytic", "total": {"interval_ns": 149545.9, "bottleneck": {
        "layer": "add", "resource": "buffer_slots", "share": 0.998, "operand": 0,
        "input": "_2_block_2_0", "slots": 6, "wait_ns": 1.0, "slowest_stage_ns": 62500.0}}}
    assert bottleneck_line(d) == (
        "bottleneck (analytic): layer add, buffer_slots: the ring of 6 row slots for input 0 "
        "(from _2_block_2_0), 99.8% occupied; the slowest stage is 62,500.0 ns")
    # with the relief the closed form checked (pimsim.sim.pace.relieve): the what-if
    d["total"]["bottleneck"]["relieved_interval_ns"] = 128739.1
    assert bottleneck_line(d).endswith(
        "62,500.0 ns; with twice its slots the interval would be 128,739.1 ns (-13.9%)")
    d["total"]["bottleneck"]["relieved_interval_ns"] = 149545.9
    assert bottleneck_line(d).endswith(
        "would be 149,545.9 ns (+0.0%): no ring checked relieves it alone")
