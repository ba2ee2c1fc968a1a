"""Terminal views: rich tables on a terminal when installed, plain text otherwise; the
per-layer rows computed from the result's own figures."""

import io
from pathlib import Path

import pytest

import pimsim
from pimsim.report.views import layer_rows, layers_table, render

ROOT = Path(__file__).resolve().parents[2]


class Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(scope="module")
def fast():
    return pimsim.run(ROOT / "configs" / "isaac.yaml", ROOT / "traces" / "cnn_digits.npz", "fast")


def test_plain_text_when_not_a_terminal(fast):
    text = render([layers_table(fast.as_dict())], io.StringIO())
    assert text is not None and "share of interval (%)" in text and "┃" not in text


def test_rich_table_on_a_terminal(fast):
    pytest.importorskip("rich")
    stream = Tty()
    assert render([layers_table(fast.as_dict())], stream) is None
    out = stream.getvalue()
    assert "┏" in out and fast.layers[0].name in out


def test_layer_rows_from_the_engine_figures(fast):
    d = fast.as_dict()
    interval = d["total"]["interval_ns"]
    busy = {lt["name"]: lt["busy_ns"] for lt in d["engine_stats"]["layers"]}
    stalls = {lt["name"]: sum(lt["stalls_ns"].values()) for lt in d["engine_stats"]["layers"]}
    for row, lay in zip(layer_rows(d), d["layers"]):
        assert row["share_of_interval_pct"] == pytest.approx(100 * lay["time_ns"] / interval)
        assert row["stalls_ns"] == pytest.approx(stalls[lay["name"]])
        if lay["crossbars"]:
            assert row["utilization_pct"] == pytest.approx(
                100 * busy[lay["name"]] / (lay["replication"] * interval))
        else:
            assert row["utilization_pct"] is None
