"""Discrete-event engine: fidelities agree, counts match the closed form, timing by hand,
contention shows up with its cause, the ADC / DAC change timing through the model."""

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, cnn3, isaac_arch, isaac_with, resnet_block  # noqa: E402

from pimsim.kernels.counts import ACTIONS  # noqa: E402
from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import evaluate, simulate  # noqa: E402
from pimsim.sim.accounting import CAUSES  # noqa: E402

LATENCY_REL = 1e-9      # fast vs event: the same recurrences, summed in another order


def _net(name):
    return {"cnn3": cnn3, "resnet20_block1": resnet_block}[name]()


def _one_crossbar():
    return NetBuilder("one", (128, 1, 1)).linear("fc", 16).build()


@pytest.fixture(scope="module")
def runs():
    """fast and event results of the two small networks (2 images in flight)."""
    arch = isaac_arch()
    out = {}
    for make in (cnn3, resnet_block):
        net = make()
        out[net.name] = {f: simulate(net, arch, fidelity=f, images=2) for f in ("fast", "event")}
        out[net.name]["analytic"] = evaluate(net, arch)
    return out


@pytest.mark.parametrize("name", ["cnn3", "resnet20_block1"])
def test_event_and_fast_agree(runs, name):
    fast, event = runs[name]["fast"], runs[name]["event"]
    assert fast.engine == "fast" and event.engine == "event"
    for lf, le in zip(fast.layers, event.layers):
        assert lf.counts == le.counts, lf.name                # every component, exactly
        assert lf.energy_pJ == le.energy_pJ
    assert fast.total.dynamic_energy_pJ == event.total.dynamic_energy_pJ
    assert fast.total.latency_ns == pytest.approx(event.total.latency_ns, rel=LATENCY_REL)
    # the interval of these 2-image runs is one completion gap: where two layers share a
    # tile (the ResNet block's layers start part-way into a tile, LayerMap.copy_tiles),
    # requests that reach a shared unit at the same instant are granted in the order simpy
    # runs them, which differs between the fidelities (event creates many more events):
    # resnet20_block1 gives 1764.20 ns in fast, 1764.62 ns in event
    assert fast.total.interval_ns == pytest.approx(event.total.interval_ns, rel=1e-3)
    # event mode really stepped read by read: one event per read (fast: one per unit),
    # so it takes at least image 0's reads (positions x input cycles) more events
    reads = sum(lay.positions for lay in map_network(_net(name), isaac_arch()).layers) * 16
    assert event.engine_stats.events - fast.engine_stats.events >= reads


@pytest.mark.parametrize("name", ["cnn3", "resnet20_block1"])
def test_engine_counts_and_dynamic_energy_equal_closed_form(runs, name):
    fast, closed = runs[name]["fast"], runs[name]["analytic"]
    for lf, la in zip(fast.layers, closed.layers):
        assert lf.counts == la.counts, lf.name
        assert lf.energy_pJ == la.energy_pJ, lf.name
    assert fast.total.counts == closed.total.counts
    assert fast.total.dynamic_energy_pJ == closed.total.dynamic_energy_pJ
    # static energy: ISAAC's only static power is its gated links' idle 1300 mW, drawn
    # while the host's input image and the results cross them at 6.4 GB/s
    net = {"cnn3": cnn3, "resnet20_block1": resnet_block}[name]()
    sinks = {lay.name for lay in net} - {s for lay in net for s in lay.producers}
    host_bits = 16 * (math.prod(net.input_shape)
                      + sum(math.prod(lay.out_shape) for lay in net if lay.name in sinks))
    static = 1300.0 * host_bits / (6.4 * 8)
    assert fast.total.static_energy_pJ == pytest.approx(static, rel=1e-12)
    assert closed.total.static_energy_pJ == pytest.approx(static, rel=1e-12)
    assert fast.total.offchip_bits == closed.total.offchip_bits == host_bits
    assert sum(fast.total.energy_breakdown_pJ.values()) == pytest.approx(fast.total.energy_pJ,
                                                                        rel=1e-12)


@pytest.mark.parametrize("skips", [None, (0.25, 0.5, 0.125)])
def test_one_conv_counts_by_hand_in_every_fidelity(skips):
    # counts worked out here, not through pimsim.kernels.counts or with_hooks, that the
    # closed form and both engine fidelities must each equal. ISAAC (whole-array reads,
    # 16 one-bit input cycles, 16-bit inputs and outputs, 8 cells per weight, 16 weights
    # per 128-column row): 3x3 conv 16 -> 32 on 8x8 (pad 1), then a ReLU.
    #   rows 3 x 3 x 16 = 144 -> 2 row tiles of 128 and 16 rows; 32 weights x 8 cells =
    #   256 columns -> 2 column tiles of 128: 4 crossbars (128/128/16/16 rows, 128
    #   columns, 16 outputs each); P = 64 positions; the copies share the positions, so
    #   replication (64 copies here) changes no count.
    #   With a technique's skipped fractions (reads, drives, conversions) those counts
    #   are scaled by what is kept.
    arch = isaac_arch()
    net = NetBuilder("c", (16, 8, 8)).conv("conv", 32, 3).relu("relu").build()
    ov = None
    keep_read = keep_drive = keep_conv = 1.0
    if skips:
        from pimsim.mapping.network_map import LayerOverride
        ov = {"conv": LayerOverride(skip_reads=skips[0], skip_drives=skips[1],
                                    skip_conversions=skips[2], skip_cycles=skips[0])}
        keep_read, keep_drive, keep_conv = (1 - x for x in skips)
    P, cyc = 64, 16
    ir = P * (128 + 128 + 16 + 16) * 16       # 294,912 input bits into the IRs
    orr = P * 4 * 16 * 16                     # 65,536 output bits (partial sums included)
    conv = {"crossbar.read": P * cyc * 4 * keep_read,            # 4,096 dense
            "dac.drive": P * cyc * 288 * keep_drive,             # every used row a slice
            "sample_hold.sample": P * cyc * 4 * 128 * keep_conv,  # 524,288 dense
            "adc.convert": P * cyc * 4 * 128 * keep_conv,
            "shift_add.accumulate": P * cyc * 4 * 128 * keep_conv,
            "input_register.access": 2 * ir,                     # written once, read once
            "output_register.access": 2 * orr,
            "edram.access": 2 * (ir + orr), "bus.transfer": ir + orr,
            "tile_output_register.access": 2 * orr,
            # 32 outputs merge their 2 row tiles' partial sums once per position
            "tile_shift_add.accumulate": P * 32,
            # the host's 16 x 8 x 8 input enters at the conv's first tile's router: one
            # router passed; and crosses the off-chip link once
            "router.transfer": 16 * 8 * 8 * 16, "offchip_link.transfer": 16 * 8 * 8 * 16,
            "activation.op": 0, "maxpool.op": 0}
    relu = dict.fromkeys(conv, 0)
    relu["activation.op"] = 32 * 8 * 8                          # one op per element
    relu["offchip_link.transfer"] = 32 * 8 * 8 * 16              # the results to the host
    for f in ("analytic", "fast", "event"):
        r = simulate(net, arch, fidelity=f, images=2, overrides=ov)
        assert r.layers[0].counts == pytest.approx(conv, rel=1e-12, abs=0), f
        assert r.layers[1].counts == relu, f
        assert r.total.counts == pytest.approx({k: conv[k] + relu[k] for k in conv},
                                               rel=1e-12, abs=0), f


def test_one_crossbar_timing_by_hand():
    # linear 128 -> 16 on ISAAC: one full crossbar, one position per image
    arch = isaac_arch()
    d = arch.design
    r = simulate(_one_crossbar(), arch, fidelity="fast", images=3)
    closed = evaluate(_one_crossbar(), arch)
    in_bits = 128 * d.precision.input_bits
    # the input enters at router 0, the router of the layer's tile 0: one router passed
    link = in_bits / (d.noc.link_GBps * 8) + 1 * arch.latency_ns("router", "transfer")
    edram_bw = d.tile.edram_bandwidth_GBps * 8
    fetch = max(2 * in_bits / edram_bw, in_bits / (d.tile.bus_width_bits * d.clock_GHz))
    read = d.crossbar.read_cycle_ns
    conv = d.crossbar.cols / d.adc.sample_rate_GSps          # 128 samples at 1.28 GS/s
    reads = d.input_cycles * max(read, conv) + min(read, conv)  # S+H pipelines read / convert
    store = 2 * 16 * d.precision.output_bits / edram_bw
    # the host's input crosses an off-chip link first, the 16 results last (51.2 bits/ns)
    host = (in_bits + 16 * d.precision.output_bits) / (d.chip.offchip_link_GBps * 8)
    assert r.total.latency_ns == pytest.approx(host + link + fetch + reads + store, rel=1e-12)
    # back to back: the next image's fetch, then 16 reads at max(read, conversion); the
    # last conversion overlaps the next fetch
    assert r.total.interval_ns == pytest.approx(d.input_cycles * max(read, conv) + fetch,
                                                rel=1e-12)
    assert closed.total.interval_ns == pytest.approx(r.total.interval_ns, rel=1e-12)
    assert r.total.counts == closed.total.counts


def test_pipeline_starts_a_layer_as_soon_as_its_receptive_field_is_in():
    # two 3x3 convs, one copy each: conv2's first output row needs conv1's rows 0 and 1
    arch = isaac_with(mapping={"replicate": False})
    d = arch.design
    net = NetBuilder("two", (16, 16, 16)).conv("c1", 16, 3).conv("c2", 16, 3).build()
    r = simulate(net, arch, fidelity="fast", images=1)
    t = {lt.name: lt for lt in r.engine_stats.layers}
    row = 16 * d.input_cycles * d.cycle_ns                  # one output row of one copy
    assert t["c2"].start_ns >= 2 * row                      # waits for two input rows...
    assert t["c2"].start_ns < 3 * row                       # ...and not for more
    assert t["c2"].start_ns < t["c1"].finish_ns             # layers overlap
    seq = sum(lr.time_ns for lr in evaluate(net, arch).layers)   # layer after layer
    assert r.total.latency_ns < seq
    assert t["c2"].stalls_ns["input_wait"] > 0


@pytest.mark.parametrize("override,cause", [
    ({"tile": {"edram_bandwidth_GBps": 0.2}}, "buffer_bandwidth"),
    ({"noc": {"link_GBps": 0.05}}, "network"),
])
def test_lower_bandwidth_raises_latency_and_names_the_cause(override, cause):
    base = simulate(cnn3(), isaac_arch(), fidelity="fast", images=4)
    slow = simulate(cnn3(), isaac_with(**override), fidelity="fast", images=4)
    assert slow.total.latency_ns > 1.5 * base.total.latency_ns
    assert slow.total.interval_ns > base.total.interval_ns
    assert slow.engine_stats.stalls_ns[cause] > 10 * max(base.engine_stats.stalls_ns[cause], 1.0)
    # same work, more time; router.transfer is bits x hops, so it changes only where the
    # replication that balances the slower unit moved the layers (placement)
    same = [k for k in base.total.counts if k != "router.transfer"]
    assert {k: slow.total.counts[k] for k in same} == {k: base.total.counts[k] for k in same}
    key = "router.transfer"
    assert slow.total.counts[key] == base.total.counts[key] or \
        [lr.replication for lr in slow.layers] != [lr.replication for lr in base.layers]


def test_small_buffer_stalls_producers_as_buffer_full():
    base = simulate(cnn3(), isaac_arch(), fidelity="fast", images=3)
    small = simulate(cnn3(), isaac_with(tile={"edram_bytes": 1024}), fidelity="fast", images=3)
    # a fed pipeline (images keep arriving behind the forced count) back-pressures into
    # full buffers in both runs; the small buffer still stalls producers, and the rows
    # it cannot hold take a longer way (another tile's eDRAM, or off-chip and back):
    # image 0 is later and the off-chip round trips cost energy (the interval stays set
    # by pool1's max-pool unit in both)
    assert small.engine_stats.stalls_ns["buffer_full"] > 0
    assert small.total.latency_ns > base.total.latency_ns
    assert small.total.spill_bits > 0 and small.total.energy_pJ > base.total.energy_pJ
    # rows that do not fit in the consumer's tiles go elsewhere (other tiles, off-chip)
    assert any(lt.buffer_remote_rows + lt.buffer_spill_rows for lt in small.engine_stats.layers)
    assert not any(lt.buffer_remote_rows + lt.buffer_spill_rows
                   for lt in base.engine_stats.layers)
    # a residual block (a producer feeding both branches of a join) still completes
    tiny = simulate(resnet_block(), isaac_with(tile={"edram_bytes": 1024}), fidelity="fast",
                    images=3)
    assert all(f > 0 for f in tiny.engine_stats.image_finish_ns)


def _latency(arch, fidelity="fast"):
    return simulate(cnn3(), arch, fidelity=fidelity, images=1).total.latency_ns


def test_dac_bits_and_adcs_change_latency_through_the_model():
    base = _latency(isaac_arch())
    # 2-bit DAC: 8 read cycles per 16-bit input instead of 16
    assert _latency(isaac_with(dac={"bits": 2})) < base
    # half-rate ADC: converting 128 columns takes 200 ns > the 100 ns read: ADC-bound
    slow_adc = isaac_with(adc={"sample_rate_GSps": 0.64})
    assert _latency(slow_adc) > base
    # a second ADC per crossbar at the same half rate restores the read-bound cycle
    two = isaac_with(adc={"sample_rate_GSps": 0.64, "per_crossbar": 2})
    assert _latency(two) < _latency(slow_adc)
    assert _latency(two) == pytest.approx(base, rel=1e-9)


def test_adc_bound_design_agrees_between_fidelities_and_reports_adc_stalls():
    arch = isaac_with(adc={"sample_rate_GSps": 0.64})
    net = _one_crossbar()
    f = simulate(net, arch, fidelity="fast", images=2)
    e = simulate(net, arch, fidelity="event", images=2)
    assert f.total.latency_ns == pytest.approx(e.total.latency_ns, rel=LATENCY_REL)
    assert f.engine_stats.stalls_ns["adc_busy"] == pytest.approx(
        e.engine_stats.stalls_ns["adc_busy"], rel=1e-9)
    # every read after the first waits (200 - 100) ns for the ADC; image 1's first read
    # (fetched right after image 0's last read) also waits for image 0's last conversion
    d = arch.design
    conv, read = d.crossbar.cols / 0.64, d.crossbar.read_cycle_ns
    fetch = 2 * 128 * d.precision.input_bits / (d.tile.edram_bandwidth_GBps * 8)
    run = 2 * (d.input_cycles - 1) * (conv - read) + (conv - read - fetch)
    assert f.engine_stats.stalls_ns["adc_busy"] == pytest.approx(run / 2, rel=1e-9)


def test_result_has_engine_figures_and_serialises(runs):
    r = runs["resnet20_block1"]["fast"]
    d = json.loads(json.dumps(r.as_dict()))
    s = d["engine_stats"]
    assert set(s["stalls_ns"]) == set(CAUSES)
    assert s["images"] == 2 and len(s["image_finish_ns"]) == 2
    assert s["single_image_latency_ns"] == r.total.latency_ns
    assert set(s["component_ops"]) == set(ACTIONS)
    for role in ("crossbar", "adc", "edram", "bus", "router"):
        assert 0 < s["component_utilization"][role] <= 1, role
        assert s["component_busy_ns"][role] > 0
    for lt in r.engine_stats.layers:
        assert 0 <= lt.start_ns <= lt.finish_ns <= r.total.latency_ns
    assert d["weight_load"]["cells"] > 0 and d["weight_load"]["energy_pJ"] > 0
    add = next(lt for lt in r.engine_stats.layers if lt.name == "b1_add")
    conv2 = next(lt for lt in r.engine_stats.layers if lt.name == "b1_conv2")
    assert add.finish_ns >= conv2.finish_ns                  # the add waits for both operands


def test_progress_is_reported_to_completion():
    calls = []
    simulate(cnn3(), isaac_arch(), fidelity="event", images=1,
             progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 0
    assert all(0 <= d <= t for d, t in calls)


def test_analytic_fidelity_and_bad_fidelity():
    arch = isaac_arch()
    assert simulate(cnn3(), arch, fidelity="analytic").engine == "analytic"
    with pytest.raises(ValueError):
        simulate(cnn3(), arch, fidelity="cycle")


def test_multi_chip_counts_offchip_traffic_like_the_closed_form():
    arch = isaac_with(tile={"imas": 1}, chip={"tiles": 2})   # 2 IMAs per chip: cnn3 needs 2
    r = simulate(cnn3(), arch, fidelity="fast", images=2)
    closed = evaluate(cnn3(), arch)
    assert r.total.chips == closed.total.chips > 1
    assert r.total.offchip_bits == closed.total.offchip_bits > 0
    assert r.total.counts == closed.total.counts
    assert r.engine_stats.component_busy_ns["offchip_link"] > 0


def test_one_image_interval_is_its_latency_and_timeline_true_keeps_events():
    r = simulate(cnn3(), isaac_arch(), fidelity="fast", images=1, timeline=True)
    assert r.total.interval_ns == r.total.latency_ns == r.engine_stats.image_finish_ns[0]
    assert any(e["ph"] == "X" for e in r.engine_stats.timeline)
    assert "timeline" not in r.engine_stats.as_dict()
