"""Sweep plots and tables: valid PNG/SVG files with labelled axes, the Pareto front."""

import random
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from pimsim.report.sweep_tables import (load_sweep_rows, pareto_front, pareto_rows, results_table,
                                        sweep_tables)
from pimsim.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """Crossbar 128/256 x ADC auto/9 on two traces, run in this process."""
    tmp = tmp_path_factory.mktemp("plots")
    # analytic: what is checked here is the tables and figures drawn from the records (the
    # engine's own figures are tested in tests/sim; its steady state costs minutes here)
    data = {"name": "plots", "base": str(ROOT / "configs" / "isaac.yaml"), "fidelity": "analytic",
            "axes": {"xbar": {"keys": ["crossbar.rows", "crossbar.cols"], "values": [128, 256]},
                     "adc.bits": ["auto", 9],
                     "trace": [str(ROOT / "traces" / "resnet20_cifar_shapes.npz"),
                               str(ROOT / "traces" / "vgg16_shapes.npz")]},
            "metrics": ["gops_per_W", "gops_per_mm2", "energy_pJ"]}
    path = tmp / "plots.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    summary = run_sweep(load_sweep(path), tmp / "out", workers=0, quiet=True)
    assert summary.ok == 8 and summary.failed == 0
    return tmp / "out"


def test_pareto_front_small_cases():
    assert pareto_front([]) == []
    assert pareto_front([(1, 1)]) == [0]
    # (2, 2) dominates (1, 1); (3, 1) and (1, 3) are trade-offs
    pts = [(1, 1), (2, 2), (3, 1), (1, 3)]
    assert pareto_front(pts) == [3, 1, 2]


def test_pareto_front_matches_brute_force():
    rng = random.Random(7)
    for _ in range(50):
        pts = [(rng.randint(0, 9), rng.randint(0, 9)) for _ in range(rng.randint(1, 25))]
        front = set(pareto_front(pts))
        for i, (x, y) in enumerate(pts):
            dominated = any((a >= x and b >= y) and (a > x or b > y) for a, b in pts)
            if dominated:
                assert i not in front
        # every non-dominated value pair is represented on the front
        best = {p for p in pts
                if not any(a >= p[0] and b >= p[1] and (a, b) != p for a, b in pts)}
        assert {pts[i] for i in front} == best


def test_tables_from_a_sweep(sweep_dir):
    head, rows = load_sweep_rows(sweep_dir)
    table = results_table(head, rows)
    assert table.columns[:4] == ("xbar", "adc.bits", "trace", "status")
    assert len(table.rows) == 8 + 2 and all(r[3] == "ok" for r in table.rows)
    base = [r for r in table.rows if r[0] == "ISAAC (baseline)"]
    assert len(base) == 2 and all(r[-1] == pytest.approx(1.0) for r in base)
    front = pareto_rows(rows, "vgg16_shapes")
    assert front and all(r["status"] == "ok" for r in front)
    assert [t.title.split(":")[0] for t in sweep_tables(head, rows)] == \
        ["results", "pareto front", "failures and skips"]


def test_plots_are_valid_images_with_labelled_axes(sweep_dir, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    from pimsim.report import plots

    head, rows = load_sweep_rows(sweep_dir)
    pareto = plots.pareto_figure(head, rows)
    ax = pareto.axes[0]
    assert "GOPS/mm" in ax.get_xlabel() and "GOPS/W" in ax.get_ylabel()
    curves = plots.xbar_curves_figure(head, rows)
    assert all("crossbar rows" in a.get_xlabel() for a in curves.axes)
    assert {a.get_ylabel() for a in curves.axes} >= {"PE (GOPS/W)", "throughput (images/s)"}
    area = plots.breakdown_figure(head, rows, "area")
    assert all("mm" in a.get_xlabel() for a in area.axes)        # horizontal bars: unit on x
    labels = [t.get_text() for t in area.axes[0].get_yticklabels()]
    assert labels[0] == "ISAAC (baseline)" and len(labels) == 5   # baseline first, then 4 points
    # Legends sit outside the data: right of the axes, not over any point or bar.
    for fig in (pareto, area):
        fig.canvas.draw()
        legend = next(a.get_legend() for a in fig.axes if a.get_legend() is not None)
        box = legend.get_window_extent()
        assert all(box.x0 >= a.get_window_extent().x1 for a in fig.axes)
        assert box.x1 <= fig.bbox.x1 + 1                         # and inside the figure
    # Tick labels of the bars fit in the figure (nothing cut at the left edge).
    assert all(t.get_window_extent().x0 >= 0 for t in area.axes[0].get_yticklabels())

    files = []
    for name, fig in (("pareto", pareto), ("xbar_curves", curves), ("area", area)):
        files += plots.save_figure(fig, tmp_path / name)
    want = [f"{n}.{f}" for n in ("pareto", "xbar_curves", "area") for f in ("png", "svg")]
    assert sorted(p.name for p in files) == sorted(want)
    for path in files:
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_MAGIC
            img = mpimg.imread(path)
            assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
        else:
            root = ET.parse(path).getroot()
            assert root.tag.endswith("svg")
            text = " ".join(t for t in root.itertext())
            if path.stem == "pareto":
                assert "energy efficiency PE (GOPS/W)" in text
    assert not list(tmp_path.glob(".*.tmp"))          # no temp files left behind


def test_no_crossbar_curves_without_a_crossbar_axis(sweep_dir):
    from pimsim.report import plots

    head, rows = load_sweep_rows(sweep_dir)
    assert plots.has_xbar_axis(rows)
    only128 = [r for r in rows if r["role"] == "baseline" or r["axes"]["xbar"] == 128]
    assert not plots.has_xbar_axis(only128)


def test_missing_matplotlib_names_the_install_command(sweep_dir, tmp_path, monkeypatch):
    from pimsim.report.plots import PlotsUnavailable, require_matplotlib
    from pimsim.sweep.commands import write_report

    monkeypatch.setitem(sys.modules, "matplotlib", None)    # import matplotlib -> ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(PlotsUnavailable, match=r"pip install -e '\.\[plot\]'"):
        require_matplotlib()
    report = write_report(sweep_dir, force=True)
    assert "pip install -e '.[plot]'" in report["plots_error"]
    assert (sweep_dir / "report" / "sweep_results.csv").exists()   # tables still written
    assert not (sweep_dir / "report" / ".inputs.sha256").exists()  # so plots come next time


def test_save_png_writes_one_png_at_the_named_path(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from pimsim.report.plots import save_png
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    path = save_png(fig, tmp_path / "sub" / "curve.png")
    assert path == tmp_path / "sub" / "curve.png"
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert sorted(p.name for p in path.parent.iterdir()) == ["curve.png"]
