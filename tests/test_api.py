"""The Python API (pimsim.run / compare / sweep) and the README's tour, which must run as
written: its doctest snippet, and the fidelity and bottleneck lines it shows."""

import doctest
import json
import re
from pathlib import Path

import pytest

import pimsim
from pimsim.cli import main
from pimsim.errors import PimsimError

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ISAAC = str(ROOT / "configs" / "isaac.yaml")
CNN = str(ROOT / "traces" / "cnn_digits.npz")


def test_readme_python_snippet_runs_as_written(monkeypatch):
    pytest.importorskip("pandas")
    monkeypatch.chdir(ROOT)
    text = README.read_text()
    block = re.search(r"```python\n(>>> import pimsim\n.*?)```", text, re.S).group(1)
    test = doctest.DocTestParser().get_doctest(block, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 6


def test_readme_tour_shows_the_lines_the_command_prints(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["run", "configs/isaac_xbar256.yaml", "--trace", "traces/resnet20_digits.npz"]) == 0
    out = capsys.readouterr().out
    shown = README.read_text()
    for prefix in ("fidelity: ", "bottleneck (", "on-chip network ("):
        line = next(l for l in out.splitlines() if l.startswith(prefix))
        assert line in shown, f"README shows a stale '{prefix}' line; the command prints:\n{line}"


def test_run_matches_the_cli_document(capsys):
    r = pimsim.run(ISAAC, CNN, fidelity="analytic")
    assert main(["run", ISAAC, "--trace", CNN, "--fidelity", "analytic", "--baseline", "none",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    mine = r.as_dict()
    # `pimsim run` adds the functional model's accuracy record (total.accuracy) to its
    # document; pimsim.run simulates only. Every simulated figure is the same.
    assert set(doc["total"]) - set(mine["total"]) == {"accuracy"}
    assert doc["total"]["accuracy"]["measured"] is True
    sim = {k: v for k, v in doc["total"].items() if k != "accuracy"}
    assert mine["total"] == sim and mine["layers"] == doc["layers"]
    assert mine["identity"]["trace_sha256"] == doc["identity"]["trace_sha256"]


def test_keyword_overrides_equal_the_overrides_dict():
    a = pimsim.run(ISAAC, CNN, "analytic", crossbar__rows=256, crossbar__cols=256)
    b = pimsim.run(ISAAC, CNN, "analytic", overrides={"crossbar.rows": 256, "crossbar.cols": 256})
    plain = pimsim.run(ISAAC, CNN, "analytic")
    assert a.total == b.total and a.total != plain.total
    assert a.identity.design_sha256 == b.identity.design_sha256 != plain.identity.design_sha256


def test_bad_override_names_the_key():
    with pytest.raises(PimsimError, match="crossbar.rows"):
        pimsim.run(ISAAC, CNN, "analytic", crossbar__rows=100)


def test_notebook_reprs():
    r = pimsim.run(ISAAC, CNN, "analytic")
    assert repr(r).startswith("Result: ISAAC on cnn_digits") and "\n  bottleneck (analytic): layer " in repr(r)
    html = r._repr_html_()
    assert "<table" in html and "<svg" in html and f'data-value="{r.total.macs!r}"' in html
    c = pimsim.compare([ISAAC, str(ROOT / "configs" / "isaac_xbar256.yaml")], CNN, "analytic")
    assert "ISAAC-256" in repr(c) and "<table" in c._repr_html_()
    assert c.as_dict()["kind"] == "compare" and len(c.as_dict()["results"]) == 2


def test_frames():
    pd = pytest.importorskip("pandas")
    r = pimsim.run(ISAAC, CNN, "analytic")
    t = r.to_frame()
    assert isinstance(t, pd.DataFrame) and t.loc[0, "macs"] == r.total.macs
    lf = r.layers_frame()
    assert list(lf.index) == [lay.name for lay in r.layers]
    assert lf["crossbars"].sum() == r.total.crossbars


def test_sweep_returns_rows(tmp_path):
    import yaml

    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump({"name": "api", "base": ISAAC,
                                     "axes": {"adc.bits": ["auto", 9], "trace": [CNN]}}))
    rows = pimsim.sweep(sweep, tmp_path / "out", workers=0)
    points = [r for r in rows if r["role"] == "point"]
    assert len(points) == 2 and all(r["status"] == "ok" for r in points)
    direct = pimsim.run(ISAAC, CNN, "analytic", adc__bits=9)
    nine = next(r for r in points if r["axes"]["adc.bits"] == 9)
    assert nine["total"]["energy_pJ"] == direct.total.energy_pJ
