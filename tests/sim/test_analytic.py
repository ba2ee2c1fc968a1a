"""Closed-form whole-network metrics: hand-derived single-layer figures and invariants."""

import json
import math
import sys
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import (NetBuilder, cnn3, isaac_arch, isaac_with, resnet50_like,  # noqa: E402
                      resnet_block)

from pimsim.arch import rollup  # noqa: E402
from pimsim.errors import ConfigError  # noqa: E402
from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import evaluate  # noqa: E402


def stages_of(net, arch=None):
    from pimsim.sim.stages import stages
    arch = arch or isaac_arch()
    return stages(net, map_network(net, arch), arch)[0]


def test_one_crossbar_layer_by_hand():
    # linear 128 -> 16 on ISAAC: one full crossbar, one position.
    arch = isaac_arch()
    e = arch.energy_pJ
    net = NetBuilder("one", (128, 1, 1)).linear("fc", 16).build()
    r = evaluate(net, arch)
    t = r.total
    host_bits = 128 * 16 + 16 * 16       # the host's input and results cross a link
    # stage time = fetch of the 128 x 16-bit input (eDRAM: written once, read once, at
    # 38.4 GB/s = 307.2 bits/ns; the 256-bit bus at 1.2 GHz is as fast) + 1 position x
    # 16 input cycles x 100 ns
    stage = max(2 * 128 * 16 / 307.2, 128 * 16 / 307.2) + 16 * 100.0
    assert t.interval_ns == pytest.approx(stage)
    # latency: the input row over the NoC link (17.28 GB/s = 138.24 bits/ns, plus the hops),
    # the stage, the last conversion (128 columns on one 1.28 GS/s ADC = 100 ns), and the
    # 16 x 16-bit outputs into eDRAM (twice the bits at 307.2 bits/ns)
    d = arch.design
    # the input enters at router 0, the router of the layer's tile 0: one router passed
    hops = 1 * arch.latency_ns("router", "transfer")
    link = 128 * 16 / 138.24 + hops
    # ... after the host's input crossed an off-chip link (51.2 bits/ns) and before the
    # results cross one back
    assert t.latency_ns == pytest.approx(host_bits / 51.2 + link + stage + 128 / 1.28
                                         + 2 * 16 * 16 / 307.2)
    assert t.throughput_images_per_s == pytest.approx(1e9 / stage)
    assert t.gops == pytest.approx(2 * 128 * 16 / stage)
    assert t.bottleneck == {"layer": "fc", "resource": "crossbar", "share": 1.0}
    ir, orr = 128 * 16, 16 * 16                    # IR bits in, OR bits out
    dynamic = (16 * e("crossbar", "read")
               + 16 * 128 * (e("dac", "drive") + e("sample_hold", "sample")
                             + e("adc", "convert") + e("shift_add", "accumulate"))
               + 2 * ir * e("input_register", "access")
               + 2 * orr * (e("output_register", "access") + e("tile_output_register", "access"))
               + 2 * (ir + orr) * e("edram", "access") + (ir + orr) * e("bus", "transfer")
               + 128 * 16 * 1 * e("router", "transfer")
               + host_bits * 25.390625)           # link energy per bit (configs/isaac.yaml)
    # ISAAC's only static power: the gated links' 1300 mW idle power while they send
    static = 1300.0 * host_bits / 51.2
    assert t.dynamic_energy_pJ == pytest.approx(dynamic, rel=1e-12)
    assert t.static_energy_pJ == pytest.approx(static, rel=1e-12)
    assert t.energy_pJ == pytest.approx(dynamic + static, rel=1e-12)
    assert t.area_mm2 == pytest.approx(rollup(arch).chip_area_mm2)
    assert t.power_mW == pytest.approx((dynamic + static) / stage)
    assert t.gops_per_W == pytest.approx(t.gops / (t.power_mW / 1000))
    assert t.gops_per_mm2 == pytest.approx(t.gops / rollup(arch).chip_area_mm2)
    assert t.crossbars == 1 and t.chips == 1
    assert t.crossbar_utilization == pytest.approx(1 / 16128)
    assert t.time_utilization == pytest.approx(16 * 100.0 / stage)   # reads / interval


REQUIRED = ("energy_pJ", "latency_ns", "throughput_images_per_s", "macs", "crossbars", "gops",
            "gops_per_mm2", "gops_per_W", "energy_breakdown_pJ", "chips")
LAYER_KEYS = ("name", "kind", "macs", "crossbars", "replication", "counts", "time_ns",
              "energy_pJ")


@pytest.mark.parametrize("make", [cnn3, resnet_block, resnet50_like])
def test_networks_evaluate_and_serialise(make):
    net = make()
    r = evaluate(net, isaac_arch())
    d = json.loads(json.dumps(r.as_dict()))
    for key in REQUIRED:
        assert key in d["total"], key
    assert len(d["layers"]) == len(net.layers)
    for layer in d["layers"]:
        for key in LAYER_KEYS:
            assert key in layer, key
    t = r.total
    assert t.macs == net.macs > 0
    assert sum(d["total"]["energy_breakdown_pJ"].values()) == pytest.approx(t.energy_pJ, rel=1e-9)
    assert sum(lr.energy_pJ for lr in r.layers) == pytest.approx(t.dynamic_energy_pJ, rel=1e-9)
    assert t.interval_ns == max(lr.time_ns for lr in r.layers)
    assert t.latency_ns >= t.interval_ns
    assert 0 < t.crossbar_utilization <= 1 and 0 < t.time_utilization <= 1
    assert t.crossbars == sum(lr.crossbars for lr in r.layers) <= t.crossbars_available


def test_cnn3_stage_times_by_hand():
    # conv1: 3x3x3 = 27 rows, 16 weights: 1 crossbar; 1024 positions fit 1024 copies
    # (ISAAC has room; max_replication 1024) -> 1 position x 16 cycles x 100 ns.
    # conv2: 3x3x16 = 144 rows (2 row tiles), 32 weights (2 column tiles) = 4 crossbars;
    # 16x16 = 256 positions -> 256 copies = 1024 crossbars -> 1600 ns.
    # fc: 32*8*8 = 2048 rows = 16 row tiles, 10 weights: 16 crossbars, 1 position -> 1600 ns.
    # Each position first fetches its receptive field (rows x 16 bits) from eDRAM: twice
    # the bits at 307.2 bits/ns (the row tiles' IMAs of conv2 / fc are on 1 tile).
    r = evaluate(cnn3(), isaac_arch())
    st = {}
    for s in stages_of(cnn3()):       # a layer's own stages come before the tiles' totals
        st.setdefault((s.layer, s.resource), s.busy_ns)
    for name, copies, rows in (("conv1", 1024, 27), ("conv2", 256, 144), ("fc", 1, 2048)):
        lr = r.layer(name)
        assert lr.replication == copies and lr.cycles == 16
        assert st[(name, "crossbar")] == pytest.approx(1600.0 + 2 * rows * 16 / 307.2)
    assert r.layer("conv2").crossbars == 4 * 256
    # relu1: 16*32*32 values on 2 activation units per tile; conv1's 1024 crossbars fill
    # 128 IMAs = tiles 0..10 (11 tiles): one worker per tile, rows dealt round-robin, the
    # busiest does ceil(32 / 11) = 3 of the 32 rows: 16384 x (1 / 1.2 GHz) / 2 x 3 / 32
    assert st[("relu1", "activation")] == pytest.approx(16384 / 1.2 / 2 * 3 / 32)
    assert r.total.interval_ns == max(s.busy_ns for s in stages_of(cnn3()))
    assert r.total.throughput_images_per_s == pytest.approx(1e9 / r.total.interval_ns)


def test_latency_follows_the_critical_path():
    b = NetBuilder("branches", (16, 8, 8))
    b.conv("a", 16, 3).conv("left", 16, 3, src="a").conv("right", 16, 1, src="a")
    b.add("sum", "left", "right")
    arch = isaac_with(mapping={"replicate": False})
    r = evaluate(b.build(), arch)
    t = {lr.name: lr.time_ns for lr in r.layers}
    # layers overlap as rows flow: faster than layer after layer along the critical
    # path, never faster than its slowest stage
    assert max(t.values()) <= r.total.latency_ns
    assert r.total.latency_ns < t["a"] + max(t["left"], t["right"]) + t["sum"]


def test_multi_chip_network_pays_links():
    b = NetBuilder("huge", (4096, 1, 1))
    b.linear("fc1", 65536).relu("r").linear("fc2", 16)
    arch = isaac_arch()
    r = evaluate(b.build(), arch)
    t = r.total
    assert t.chips == 9
    assert t.offchip_bits > 0 and r.layer("fc1").offchip_bits > 0
    assert t.area_mm2 == pytest.approx(9 * rollup(arch).chip_area_mm2)
    # static: ISAAC's gated links draw their 1300 mW idle power only while sending, at
    # 6.4 GB/s = 51.2 bits/ns; dynamic adds 25.39 pJ per bit
    assert t.static_energy_pJ == pytest.approx(1300.0 * t.offchip_bits / 51.2)
    assert t.counts["offchip_link.transfer"] == t.offchip_bits
    # the host's input (4096 x 16 bits) and results (16 x 16 bits) are among them
    assert t.offchip_bits == 8 * (4096 + 65536) * 16 + 4096 * 16 + 16 * 16
    # fc1's off-chip bits take the chip's 4 links x 6.4 GB/s = 204.8 bits/ns
    lr = r.layer("fc1")
    st: dict = {}          # the layer's own link stage; the chip's shared one (host bits)
    for s in stages_of(b.build(), arch):
        st[(s.layer, s.resource)] = max(st.get((s.layer, s.resource), 0.0), s.busy_ns)
    assert st[("fc1", "offchip_link")] == pytest.approx(lr.offchip_bits / (4 * 6.4 * 8))
    assert lr.time_ns >= st[("fc1", "offchip_link")]
    no_links = isaac_with(chip={"offchip_links": 0})
    with pytest.raises(ConfigError, match="off-chip links"):
        evaluate(b.build(), no_links)


convs = st.lists(st.tuples(st.sampled_from([1, 3]), st.integers(1, 160)), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(convs, st.integers(4, 32), st.sampled_from([(1, 2), (2, 4), (4, 12), (1, 12)]))
def test_more_imas_per_chip_never_lower_throughput(layers, hw, imas):
    # Small chips (16 tiles) so the replication budget binds. Conv/ReLU chains that fit
    # one chip at the smaller setting (a network that needs fewer chips on larger tiles
    # has a smaller replication budget: not this property).
    b = NetBuilder("chain", (8, hw, hw))
    for i, (k, c) in enumerate(layers):
        b.conv(f"c{i}", c, k).relu(f"r{i}")
    net = b.build()
    small, large = (isaac_with(tile={"imas": n}, chip={"tiles": 16}) for n in imas)
    assume(map_network(net, small).chips == 1)
    t_small = evaluate(net, small).total.throughput_images_per_s
    t_large = evaluate(net, large).total.throughput_images_per_s
    assert t_large >= t_small * (1 - 1e-12)


def test_resnet50_sized_network_is_fast():
    net = resnet50_like()
    assert len(net.mvm_layers) == 54
    arch = isaac_arch()
    evaluate(net, arch)                           # JIT warm-up
    start = time.perf_counter()
    r = evaluate(net, arch)
    elapsed = time.perf_counter() - start
    # the interval's pace (pimsim.sim.pace) steps the row schedule image after image until
    # the engine's convergence rule holds: 12 images here, about 0.5 s on a loaded
    # 2-core machine (0.14 s before, with the slowest stage alone)
    assert elapsed < 1.0, elapsed
    assert math.isfinite(r.total.energy_pJ)


def test_adc_limited_cycle_sets_stage_time():
    # 256 x 256 crossbars: one 1.28 GS/s ADC needs 256 / 1.28 = 200 ns for all columns,
    # longer than the 100 ns read: cycle 200 ns. A 256 -> 32 linear layer fills one
    # crossbar (32 weights x 8 cells = 256 columns): 16 cycles x 200 ns = 3200 ns.
    arch = isaac_with(crossbar={"rows": 256, "cols": 256})
    net = NetBuilder("one", (256, 1, 1)).linear("fc", 32).build()
    r = evaluate(net, arch)
    assert r.total.crossbars == 1
    # plus the fetch of 256 x 16 input bits (eDRAM, written once and read once)
    assert r.total.interval_ns == pytest.approx(16 * 200.0 + 2 * 256 * 16 / 307.2)
    assert r.total.bottleneck["resource"] == "adc"
    # 256 x 32 = 8192 MACs; conversions = 16 cycles x 256 columns = 4096
    # = MACs x 8 slices x 16 cycles / 256 rows: half a conversion per MAC
    assert r.total.macs == 256 * 32
    assert r.total.adc_conversions == 16 * 256 == 256 * 32 * 8 * 16 // 256
