"""Timeline export on ResNet-20 (CIFAR shapes) and the write-driver weight-load phase."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, isaac_arch, isaac_with  # noqa: E402

from pimsim.sim import evaluate, program_cost, simulate, write_timeline  # noqa: E402
from pimsim.sim.weights import weight_load  # noqa: E402
from pimsim.mapping import map_network  # noqa: E402


def resnet20():
    """ResNet-20 on 3x32x32: stem, 3 stages x 3 basic blocks (16/32/64), projections, fc."""
    b = NetBuilder("resnet20", (3, 32, 32))
    b.conv("stem", 16, 3).relu("stem_relu")
    for s, width in enumerate((16, 32, 64)):
        for i in range(3):
            p = f"s{s}b{i}"
            src = b.layers[-1].name
            stride = 2 if (i == 0 and s > 0) else 1
            b.conv(p + "_c1", width, 3, stride=stride).relu(p + "_r1").conv(p + "_c2", width, 3)
            skip = src
            if stride != 1:
                b.conv(p + "_proj", width, 1, stride=stride, src=src)
                skip = p + "_proj"
            b.add(p + "_add", p + "_c2", skip).relu(p + "_out")
    b.avgpool("gap", 8).flatten("flat").linear("fc", 10)
    return b.build()


def test_resnet20_timeline_is_valid_trace_event_json(tmp_path):
    net = resnet20()
    assert sum(lay.kind == "conv" for lay in net) == 21
    arch = isaac_arch()
    path = tmp_path / "out" / "resnet20.json"
    r = simulate(net, arch, fidelity="fast", images=2, timeline=path)
    assert r.total.counts == evaluate(net, arch).total.counts
    doc = json.loads(path.read_text())                     # parses as JSON
    assert set(doc) >= {"traceEvents"}
    events = doc["traceEvents"]
    complete = [e for e in events if e["ph"] == "X"]
    meta = [e for e in events if e["ph"] == "M"]
    assert complete and meta
    for e in complete:
        assert isinstance(e["name"], str) and e["name"]
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        assert e["ts"] >= 0 and e["dur"] >= 0
        assert e["cat"] in ("compute", "output", "noc")
    # every MVM layer and every non-MVM layer with work appears
    names = {e["name"] for e in complete}
    assert {lay.name for lay in net if lay.kind in ("conv", "linear", "relu", "add")} <= names
    # events end by the last completion (ts/dur in microseconds)
    end_us = max(e["ts"] + e["dur"] for e in complete if e["cat"] != "noc")
    # (the last image then sends its results to the host over an off-chip link)
    to_host_ns = list(net)[-1].out_elems * 16 / (6.4 * 8)
    assert end_us + to_host_ns / 1e3 == pytest.approx(r.engine_stats.sim_time_ns / 1e3, rel=1e-9)
    # threads are named; pids are tiles (or negative: NoC links)
    named = {(m["pid"], m["tid"]) for m in meta if m["name"] == "thread_name"}
    assert {(e["pid"], e["tid"]) for e in complete if e["cat"] != "noc"} <= named
    assert not list(path.parent.glob(".*"))               # no temp file left behind


def test_write_timeline_accepts_events_and_rejects_a_result_without_one(tmp_path):
    path = write_timeline([{"name": "x", "ph": "X", "ts": 0, "dur": 1, "pid": 0, "tid": 0}],
                          tmp_path / "t.json")
    assert json.loads(path.read_text())["traceEvents"][0]["name"] == "x"
    r = simulate(NetBuilder("one", (128, 1, 1)).linear("fc", 16).build(), isaac_arch(),
                 fidelity="fast", images=1)
    with pytest.raises(ValueError):
        write_timeline(r, tmp_path / "none.json")


def test_weight_load_by_hand():
    # one full 128 x 128 crossbar: 16384 cells, 128 rows programmed one at a time
    arch = isaac_arch()
    net = NetBuilder("one", (128, 1, 1)).linear("fc", 16).build()
    wl = weight_load(map_network(net, arch), arch)
    assert wl.cells == 128 * 128 and wl.crossbars == 1
    assert wl.time_ns == pytest.approx(128 * arch.latency_ns("write_driver", "write"))
    assert wl.energy_pJ == pytest.approx(128 * 128 * arch.energy_pJ("write_driver", "write"))
    r = simulate(net, arch, fidelity="fast", images=1)
    assert r.weight_load == wl                              # reported apart from inference
    assert r.total.energy_pJ == pytest.approx(r.total.dynamic_energy_pJ
                                              + r.total.static_energy_pJ)
    # four drivers per crossbar program four rows at once
    four = isaac_with(crossbar={"write_drivers": 4})
    assert weight_load(map_network(net, four), four).time_ns == pytest.approx(wl.time_ns / 4)


def test_program_cost_is_pure_and_handles_update_sets():
    arch = isaac_arch()
    pulse = arch.latency_ns("write_driver", "write")
    e = arch.energy_pJ("write_driver", "write")
    rows = np.array([3, 0, 7])
    cells = np.array([30, 0, 50])
    assert program_cost(arch, rows, cells) == (pytest.approx(7 * pulse), pytest.approx(80 * e))
    assert program_cost(arch, np.zeros(0, int), np.zeros(0, int)) == (0.0, 0.0)
