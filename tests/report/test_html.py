"""HTML reports: one self-contained file whose tables and figures carry the JSON's numbers.

The expected values are read from the JSON document and converted here by hand (pJ -> uJ,
ns -> us, shares), not through the report code, so a wrong conversion or a row taken from
the wrong field fails.
"""

import json
import math
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pimsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
ISAAC = str(ROOT / "configs" / "isaac.yaml")
XB256 = str(ROOT / "configs" / "isaac_xbar256.yaml")
CNN = str(ROOT / "traces" / "cnn_digits.npz")
RESNET20 = str(ROOT / "traces" / "resnet20_cifar_shapes.npz")


class Page(HTMLParser):
    """Tables (id -> rows of (text, data-value)), SVG marks, external references."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, float | None]]]] = {}
        self.heads: dict[str, list[str]] = {}
        self.marks: list[dict] = []
        self.external: list[str] = []
        self.scripts: list[dict] = []
        self.data_json = ""
        self._table = self._cell = self._svg = None
        self._in_th = self._in_json = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a:
                self.external.append(a[key])
        if tag == "link":
            self.external.append(a.get("href", "link"))
        if tag == "script":
            self.scripts.append(a)
            self._in_json = a.get("id") == "pimsim-data"
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
            self.heads[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag == "th" and self._table:
            self._in_th = True
            self.heads[self._table].append("")
        elif tag == "td" and self._table:
            v = a.get("data-value")
            self._cell = ["", float(v) if v is not None else None]
        elif tag == "svg":
            self._svg = a.get("id")
        elif tag in ("rect", "circle", "path", "polyline") and len(a) > 2:
            self.marks.append({"tag": tag, "figure": self._svg, **a})

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "th":
            self._in_th = False
        elif tag == "td" and self._cell is not None:
            self.tables[self._table][-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "script":
            self._in_json = False
        elif tag == "svg":
            self._svg = None

    def handle_data(self, data):
        if self._in_json:
            self.data_json += data
        elif self._cell is not None:
            self._cell[0] += data
        elif self._in_th:
            self.heads[self._table][-1] += data

    def figure(self, figure_id, attr="data-value"):
        """Marks of one SVG figure that carry ``attr``."""
        return [m for m in self.marks if m["figure"] == figure_id and attr in m]

    def rows(self, table_id):
        return [r for r in self.tables[table_id] if r]

    def column(self, table_id, name):
        i = self.heads[table_id].index(name)
        return [r[i] for r in self.rows(table_id)]


def close(a, b, rel=1e-9):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def self_contained(page: Page) -> None:
    assert page.external == [], f"external references: {page.external}"
    assert all(s.get("type") == "application/json" for s in page.scripts), "no executable scripts"


@pytest.fixture(scope="module")
def run_page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    html_path, out = tmp / "run.html", tmp / "out"
    assert main(["run", XB256, "--trace", CNN, "--fidelity", "fast", "--html", str(html_path),
                 "--out", str(out)]) == 0
    doc = json.loads((out / "run.json").read_text())
    return Page(html_path.read_text()), doc


def test_run_html_is_self_contained_and_embeds_the_document(run_page):
    page, doc = run_page
    self_contained(page)
    assert json.loads(page.data_json) == doc


def test_run_html_totals_match_the_json(run_page):
    page, doc = run_page
    t, b = doc["total"], doc["baseline"]["total"]
    rows = {r[0][0]: r for r in page.rows("totals")}
    expect = {"MACs per image": ("macs", 1.0), "crossbars used": ("crossbars", 1.0),
              "latency per image (us)": ("latency_ns", 1e-3),
              "throughput (images/s)": ("throughput_images_per_s", 1.0),
              "energy per image (uJ)": ("energy_pJ", 1e-6),
              "CE (GOPS/mm2)": ("gops_per_mm2", 1.0), "PE (GOPS/W)": ("gops_per_W", 1.0)}
    for label, (key, scale) in expect.items():
        design, base, ratio = rows[label][1][1], rows[label][2][1], rows[label][3][1]
        assert close(design, t[key] * scale) and close(base, b[key] * scale), label
        assert close(ratio, t[key] / b[key]), label


def test_run_html_breakdowns_match_the_json(run_page):
    page, doc = run_page
    energy = doc["total"]["energy_breakdown_pJ"]
    rows = {r[0][0]: r[1][1] for r in page.rows("energy")}
    assert set(rows) == set(energy)
    assert all(close(rows[k], energy[k] / 1e6) for k in energy)
    bars = {m["data-label"]: float(m["data-value"]) for m in page.figure("energy-figure")}
    assert bars == pytest.approx({k: v / 1e6 for k, v in energy.items()}, rel=1e-12)
    area = doc["area_breakdown_mm2"]
    arows = {r[0][0]: r[1][1] for r in page.rows("area")}
    assert all(close(arows[k], area[k]) for k in area)
    assert close(sum(arows.values()), doc["total"]["area_mm2"])
    abars = {m["data-label"]: float(m["data-value"]) for m in page.figure("area-figure")}
    assert abars == pytest.approx(area, rel=1e-12)
    # static + dynamic = the total energy per image
    sd = {r[0][0]: r[1][1] for r in page.rows("static-dynamic")}
    assert close(sd["dynamic"] + sd["static"], doc["total"]["energy_pJ"], rel=1e-9)


def test_run_html_layer_table_and_timeline_match_the_json(run_page):
    page, doc = run_page
    interval = doc["total"]["interval_ns"]
    names = [c[0] for c in page.column("layers", "layer")]
    assert names == [lay["name"] for lay in doc["layers"]]
    for lay, t, share, xb, copies in zip(doc["layers"], page.column("layers", "time (us)"),
                                         page.column("layers", "share of interval (%)"),
                                         page.column("layers", "crossbars"),
                                         page.column("layers", "copies")):
        assert close(t[1], lay["time_ns"] / 1000)
        assert close(share[1], 100 * lay["time_ns"] / interval)
        assert xb[1] == lay["crossbars"] and copies[1] == lay["replication"]
    spans = {m["data-layer"]: (float(m["data-start"]), float(m["data-finish"]))
             for m in page.marks if m.get("data-layer")}
    for lt in doc["engine_stats"]["layers"]:
        assert spans[lt["name"]] == (lt["start_ns"], lt["finish_ns"])
    stalls = {r[0][0]: r[1][1] for r in page.rows("stalls")}
    assert stalls == pytest.approx(doc["engine_stats"]["stalls_ns"])


@pytest.fixture(scope="module")
def sweep_page(tmp_path_factory):
    import yaml

    tmp = tmp_path_factory.mktemp("sweep")
    sweep = tmp / "s.yaml"
    sweep.write_text(yaml.safe_dump({
        # analytic: the page is checked against the records it is drawn from (the engine's
        # figures are tested in tests/sim; its steady state costs minutes here)
        "name": "html", "base": ISAAC, "fidelity": "analytic",
        "axes": {"xbar": {"keys": ["crossbar.rows", "crossbar.cols"], "values": [64, 128, 256]},
                 "trace": [RESNET20]},
        "metrics": ["energy_pJ", "gops_per_W", "gops_per_mm2", "throughput_images_per_s"]}))
    out = tmp / "out"
    assert main(["sweep", str(sweep), "--workers", "0", "--out", str(out), "-q",
                 "--no-report"]) == 0
    assert main(["report", str(out), "--no-plots", "--html", "--json"]) == 0
    html_path = out / "report" / "sweep.html"
    doc = json.loads((out / "report" / "sweep.json").read_text())
    return Page(html_path.read_text()), doc


def test_sweep_html_is_self_contained(sweep_page):
    page, doc = sweep_page
    self_contained(page)
    assert json.loads(page.data_json)["points"] == doc["points"]


def test_sweep_html_pareto_and_points_match_the_json(sweep_page):
    page, doc = sweep_page
    ok = [p for p in doc["points"] if p["status"] == "ok"]
    grid = [p for p in ok if p["role"] == "point"]
    # every grid point is a scatter mark at (CE, PE); the baseline is the star
    marks = {(float(m["data-x"]), float(m["data-y"])) for m in page.figure("pareto-figure", "data-x")
             if m["tag"] == "circle"}
    want = {(p["total"]["gops_per_mm2"], p["total"]["gops_per_W"]) for p in grid}
    assert marks == want
    star = next(m for m in page.marks if m.get("class") == "baseline")
    base = next(p for p in ok if p["role"] == "baseline")
    assert (float(star["data-x"]), float(star["data-y"])) == (base["total"]["gops_per_mm2"],
                                                              base["total"]["gops_per_W"])
    # the front: no other ok point beats a front point in both CE and PE (checked by hand)
    ce_col = page.column("pareto", "CE (GOPS/mm2)")
    pe_col = page.column("pareto", "PE (GOPS/W)")
    front = {(c[1], p[1]) for c, p in zip(ce_col, pe_col)}
    pts = [(p["total"]["gops_per_mm2"], p["total"]["gops_per_W"]) for p in ok]
    for x, y in pts:
        dominated = any(a > x and b > y for a, b in pts)
        assert ((x, y) in front) == (not dominated)
    # the results table: one row per point, energy column = the record's energy_pJ
    energies = sorted(c[1] for c in page.column("results", "energy_pJ"))
    assert energies == sorted(p["total"]["energy_pJ"] for p in ok)


def test_sweep_html_breakdowns_and_curves_match_the_json(sweep_page):
    page, doc = sweep_page
    ok = [p for p in doc["points"] if p["status"] == "ok"]
    labels = {}
    for name, field, scale, total_key in (("energy-figure-0", "energy_breakdown_pJ", 1e-6,
                                           "energy_pJ"),
                                          ("area-figure-0", "area_breakdown_mm2", 1.0,
                                           "area_mm2")):
        sums: dict[str, float] = {}
        for m in page.figure(name):
            sums[m["data-bar"]] = sums.get(m["data-bar"], 0.0) + float(m["data-value"])
        # one bar per ok point, each adding up to the point's total
        assert len(sums) == len(ok)
        assert sorted(sums.values()) == pytest.approx(
            sorted(p["total"][total_key] * scale for p in ok), rel=1e-9)
        labels[name] = set(sums)
    # the energy-vs-crossbar-size curve: one mark per grid point at (rows, PE)
    marks = {(float(m["data-x"]), float(m["data-y"])) for m in page.figure("curve-gops_per_W",
                                                                           "data-x")}
    grid = [p for p in ok if p["role"] == "point"]
    assert marks == {(float(p["params"]["crossbar_rows"]), p["total"]["gops_per_W"]) for p in grid}
