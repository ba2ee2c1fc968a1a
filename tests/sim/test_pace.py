"""The pipeline's pace with no queueing (pimsim.sim.pace) and the closed form's interval =
max(slowest stage, pace), checked against the engine with no queueing anywhere
(``run_engine(..., uncontended="*")``), an independent implementation of the same rules
(simpy processes, rings, output registers), and against figures worked out here."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, cnn3, isaac_with, resnet_block  # noqa: E402

from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import simulate  # noqa: E402
from pimsim.sim.analytic import closed_form_interval  # noqa: E402
from pimsim.sim.edram import plan_buffers  # noqa: E402
from pimsim.sim.engine import run_engine  # noqa: E402
from pimsim.sim.pace import Pace, completions, pipeline_pace  # noqa: E402
from pimsim.sim.stages import (SCALAR_COPIES, Stage, row_done_ns, row_schedule,  # noqa: E402
                               run_rows, stages)
from pimsim.sim.steady import Monitor  # noqa: E402

K = 12


def _skip_net():
    """A residual join whose skip ring (2 slots in 256 B of eDRAM) must wait for a branch
    of four 1x1 convolutions."""
    b = NetBuilder("skip", (16, 8, 8))
    b.conv("p", 16, 1)
    b.conv("b1", 16, 1).conv("b2", 16, 1).conv("b3", 16, 1).conv("b4", 16, 1)
    b.add("j", "b4", "p")
    return b.build(), isaac_with(tile={"edram_bytes": 256}, noc={"routing": "average"})


@pytest.fixture(scope="module")
def ring_bound():
    # 1 KiB of eDRAM per tile: rings of a few rows. resnet_block's skip ring turns once
    # per 8,074 ns against a slowest stage of 1,615 ns
    return resnet_block(), isaac_with(tile={"edram_bytes": 1024}, noc={"routing": "average"})


@pytest.mark.parametrize("make", [cnn3, resnet_block])
def test_k_image_schedule_is_the_uncontended_engine(make):
    # the engine with no queueing runs at the ring's pace, and so does the schedule,
    # completion by completion
    net = make()
    arch = isaac_with(tile={"edram_bytes": 1024}, noc={"routing": "average"})
    free = run_engine(net, arch, images=K, uncontended="*", alone=True)
    engine = np.array(free.engine_stats.image_finish_ns)
    sched = completions(net, run_rows(net, map_network(net, arch), arch, images=K)[0], K)
    assert sched == pytest.approx(engine, rel=1e-9)


def test_one_image_is_the_latency_schedule():
    # images=1 is the closed form's image-0 schedule, unchanged; and image 0 of a longer
    # schedule is the same rows (later images' rows come after it in every layer and
    # ring, so they cannot move it)
    net = resnet_block()
    arch = isaac_with(tile={"edram_bytes": 1024})
    nmap = map_network(net, arch)
    one = row_schedule(net, nmap, arch, images=1)[0]
    four = row_schedule(net, nmap, arch, images=4)[0]
    for name, rows in row_done_ns(net, nmap, arch).items():
        assert np.array_equal(one[name], rows)
        assert np.array_equal(four[name][:rows.size], rows)
        assert four[name].size == 4 * rows.size


def test_analytic_is_the_uncontended_engine_where_a_ring_binds(ring_bound):
    net, arch = ring_bound
    closed = simulate(net, arch, fidelity="analytic").total
    free = run_engine(net, arch, uncontended="*").total
    slowest = max(s.busy_ns for s in stages(net, map_network(net, arch), arch)[0])
    assert free.converged and closed.converged
    assert closed.interval_ns > 4 * slowest             # the ring, not a stage
    assert closed.interval_ns == pytest.approx(free.interval_ns, rel=1e-6)
    assert closed.latency_ns == pytest.approx(free.latency_ns, rel=1e-9)
    neck = closed.bottleneck
    assert neck["resource"] == "buffer_slots"
    assert neck["slowest_stage_ns"] == pytest.approx(slowest)
    assert 0.9 < neck["share"] <= 1.0 + 1e-9            # the ring's slots are (nearly) full
    # the skip operand of the residual add: the stem's rows wait for the branch's
    assert (neck["layer"], neck["operand"], neck["input"]) == ("b1_add", 1, "stem_relu")


def test_the_skip_join_repeats_every_five_images():
    # 4 branch convolutions against 2 skip slots: the completion gaps repeat in a cycle of
    # 5 images (three of 6,727.1, one of 1,701.7, one of 5,452.1 ns); the exact repeat of
    # the whole schedule decides it before the engine's periodic rule could (which needs
    # 2 x 3 x 5 + 1 = 31 completions); both give the mean gap of the cycle
    net, arch = _skip_net()
    nmap = map_network(net, arch)
    pace = pipeline_pace(net, nmap, arch)
    assert pace.converged and pace.images < 31
    fin = completions(net, run_rows(net, nmap, arch, images=40)[0], 40)
    gaps = np.diff(fin)
    # the cycle the comment gives, from image 1 on, every gap of the 40-image schedule
    cycle = np.array([6727.1, 6727.1, 6727.1, 1701.7, 5452.1])
    assert gaps == pytest.approx(np.resize(cycle, gaps.size), abs=0.05)
    assert pace.interval_ns == pytest.approx(gaps[-5:].mean(), rel=1e-9)
    # and the engine with no queueing anywhere (simpy processes and rings, another
    # implementation of the same rules) completes every image at the same instant
    free = run_engine(net, arch, images=40, uncontended="*", alone=True)
    assert np.array(free.engine_stats.image_finish_ns) == pytest.approx(fin, rel=1e-9)
    m = Monitor()
    for t in fin:
        if m.add(float(t)):
            break
    assert m.result().interval_ns == pytest.approx(pace.interval_ns, rel=1e-9)
    neck = simulate(net, arch, fidelity="analytic").total.bottleneck
    assert (neck["resource"], neck["layer"], neck["operand"]) == ("buffer_slots", "j", 1)


@pytest.mark.parametrize("width,edram", [(8, 256), (8, 512), (40, 1024), (40, 2048)])
def test_rows_kept_in_another_tile_arrive_part_by_part(width, edram):
    # the skip join with rings so small that rows live in other tiles' eDRAM or off-chip:
    # each of the 1x1 convs' copies computes one position, so a row arrives in `width`
    # parts, and each part crosses the NoC once more (or goes off-chip and back) on its
    # own, as the engine's Processes.stored does, not the whole row after its last part
    # (which made the schedule's image 0 38.9 ns late at 8 x 256 B: 3 x (2,048 - 256)
    # bits / 138.24 bits/ns, and 1,170 ns late at 40 x 1 KiB). Width 40: more parts than
    # stages.SCALAR_COPIES, the vectorized path. Against the engine with no queueing
    b = NetBuilder("skip", (16, 4 if width > 8 else 8, width))
    b.conv("p", 16, 1)
    b.conv("b1", 16, 1).conv("b2", 16, 1).conv("b3", 16, 1).conv("b4", 16, 1)
    net = b.add("j", "b4", "p").build()
    arch = isaac_with(tile={"edram_bytes": edram}, noc={"routing": "average"})
    nmap = map_network(net, arch)
    assert any(buf.remote or buf.spill for buf in plan_buffers(net, nmap, arch.design))
    p = nmap.layers[0]
    assert p.replication == p.positions and (width > SCALAR_COPIES) == (width == 40)
    free = run_engine(net, arch, images=6, uncontended="*", alone=True)
    sched = completions(net, run_rows(net, nmap, arch, images=6)[0], 6)
    assert sched == pytest.approx(np.array(free.engine_stats.image_finish_ns), rel=1e-9)


def test_rings_that_do_not_bind_keep_the_slowest_stage():
    # a chain with room in its rings: nothing waits for a slot in the steady state; the
    # interval is the slowest stage exactly and the bottleneck is that stage
    net = NetBuilder("chain", (16, 16, 16)).conv("a", 16, 1).conv("b", 16, 3).build()
    arch = isaac_with(noc={"routing": "average"})
    nmap = map_network(net, arch)
    st, times = stages(net, nmap, arch)
    total = simulate(net, arch, fidelity="analytic").total
    assert total.interval_ns == float(times.max())
    top = max(st, key=lambda s: s.busy_ns)
    assert (total.bottleneck["layer"], total.bottleneck["resource"]) == (top.layer, top.resource)
    assert total.bottleneck["share"] == 1.0
    assert pipeline_pace(net, nmap, arch).interval_ns == pytest.approx(float(times.max()),
                                                                       rel=1e-6)


def test_the_interval_rule_by_hand():
    # max(slowest stage, pace), the pace only above float noise; the ring named with its
    # occupancy as the share, the stage bound beside it
    st = [Stage("a", "crossbar", 100.0), Stage("b", "edram", 80.0)]
    ring = {"layer": "b", "operand": 1, "input": "x", "slots": 3, "wait_ns": 5.0,
            "share": 0.97}
    assert closed_form_interval(st, 100.0, Pace(90.0, 1.0, 7, True, ring)) == (
        100.0, {"layer": "a", "resource": "crossbar", "share": 1.0})
    assert closed_form_interval(st, 100.0, Pace(100.0 * (1 + 1e-12), 1.0, 7, True, ring))[0] \
        == 100.0
    interval, neck = closed_form_interval(st, 100.0, Pace(150.0, 1.0, 7, True, ring))
    assert interval == 150.0
    assert neck == {"layer": "b", "resource": "buffer_slots", "share": 0.97, "operand": 1,
                    "input": "x", "slots": 3, "wait_ns": 5.0, "slowest_stage_ns": 100.0}
    # a pace above the stages with no ring waiting: the slowest stage, its share < 1
    interval, neck = closed_form_interval(st, 100.0, Pace(200.0, 1.0, 7, True, {}))
    assert interval == 200.0 and neck == {"layer": "a", "resource": "crossbar", "share": 0.5}


def test_the_ring_named_is_the_one_whose_relief_lowers_the_pace(ring_bound, monkeypatch):
    # the closed form tries the rings whose producers waited (pimsim.sim.pace.relieve): it
    # names the one whose doubled slots lower the pace most, with that interval. Checked
    # against the engine with no queueing (an independent implementation of the same
    # rules) given the same ring doubled: the same interval; and doubling it raises
    # throughput in the engine too
    import pimsim.sim.engine as engine_mod
    from pimsim.sim.edram import plan_buffers

    net, arch = ring_bound
    neck = simulate(net, arch, fidelity="analytic").total.bottleneck
    assert neck["resource"] == "buffer_slots"
    lays = [lay.name for lay in net]
    key = (lays.index(neck["layer"]), neck["operand"])

    def wider(*args):
        return [b.widened(2) if (b.consumer, b.order) == key else b for b in plan_buffers(*args)]

    shipped = run_engine(net, arch, uncontended="*").total.interval_ns
    monkeypatch.setattr(engine_mod, "plan_buffers", wider)
    relieved = run_engine(net, arch, uncontended="*").total
    assert relieved.converged
    assert relieved.interval_ns < shipped * 0.99
    assert neck["relieved_interval_ns"] == pytest.approx(
        max(relieved.interval_ns, neck["slowest_stage_ns"]), rel=1e-6)


def test_the_reliefs_share_the_pace_set_up_and_change_nothing(ring_bound):
    # pipeline_pace and reliefs reuse one set-up (copy layouts, buffer plan, windows:
    # pimsim.sim.stages.build_rows' ``setup``): each relieved pace equals the one from a
    # fresh set-up, and the first pace is the same again after them (nothing the set-up
    # holds is changed by a schedule stepped from it)
    from pimsim.sim.noc import traffic
    from pimsim.sim.pace import reliefs

    net, arch = ring_bound
    nmap = map_network(net, arch)
    noc = traffic(net, nmap, arch)
    setup: dict = {}
    pace = pipeline_pace(net, nmap, arch, noc=noc, setup=setup)
    assert pace.candidates and setup
    tried = reliefs(net, nmap, arch, pace, noc, setup=setup)
    fresh = [(ring, pipeline_pace(net, nmap, arch, noc=noc, first_images=pace.images + 1,
                                  widen={(ring["consumer"], ring["operand"]): 2}).interval_ns)
             for ring, _ in tried]
    assert tried == fresh
    again = pipeline_pace(net, nmap, arch, noc=noc, setup=setup)
    assert again == pace == pipeline_pace(net, nmap, arch, noc=noc)


@pytest.mark.parametrize("edram_bytes", [128, 256])
def test_rows_in_other_tiles_or_off_chip_arrive_as_stored_ns_says(edram_bytes):
    # a ring's arrival adds the storage of its slot's pool inline (another tile's eDRAM:
    # one more NoC transfer; off-chip: written and read back): the same times as
    # pimsim.sim.stages.stored_ns, the rule written out, given the arrival the row would
    # have in local eDRAM, for a whole row (a worker's or the host's). A copy's part is
    # stored on its own (test_rows_kept_in_another_tile_arrive_part_by_part): for a row
    # of one part, stored_ns with that part's bits. 128 B: rings off chip and mixed;
    # 256 B (the skip net): rings in other tiles
    from pimsim.sim.stages import stored_ns

    net, arch = (resnet_block(), isaac_with(tile={"edram_bytes": 128},
                                            noc={"routing": "average"})) \
        if edram_bytes == 128 else _skip_net()
    nmap = map_network(net, arch)
    _, layer_rows = run_rows(net, nmap, arch, images=3)
    pools = set()
    for e in (e for st in layer_rows for e in st.ins):
        real = e.pools
        for x in range(e.nrows):
            bits = None                           # a whole row
            if e.prod.copy_rows:
                _, _, _, kl, nl, _ = e.prod.rowk[x % e.prod.per_image]
                if len(kl) != 1:
                    continue                      # several parts: against the engine
                prec = arch.design.precision       # a position's bits as the consumer reads it
                per = prec.input_bits if nmap.layers[e.b.consumer].is_mvm else prec.output_bits
                bits = nl[0] * net[e.b.producer].out_shape[0] * per
            e.pools = [0] * e.slots
            local = e.arrival(x)
            e.pools = real
            b = e.b
            pools.add(b.pool(x // b.rows, x % b.rows))
            assert e.arrival(x) == pytest.approx(
                stored_ns(b, x // b.rows, x % b.rows, local, e.link_bw, e.remote_hop_ns,
                          e.off_bit_ns, bits), rel=1e-12)
    assert pools >= ({0, 2} if edram_bytes == 128 else {1})


@pytest.mark.parametrize("first", [1, 2, 3])
def test_room_grown_mid_run_gives_the_same_pace(ring_bound, first):
    # a pace not decided within the first images' room goes on in a grown schedule
    # (RowSchedule.grow, the rows so far kept) instead of starting again: the same pace,
    # latency, images and rings as a schedule with room for every image from the start
    net, arch = ring_bound
    nmap = map_network(net, arch)
    roomy = pipeline_pace(net, nmap, arch, first_images=64)
    assert roomy.images > 3
    assert pipeline_pace(net, nmap, arch, first_images=first) == roomy
