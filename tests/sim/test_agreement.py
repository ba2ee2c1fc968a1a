"""Image 0's latency: the closed form (``analytic``) is the engine's pipeline with no
queueing at any shared unit, and the agreement table splits the engine's extra latency by
contention cause (``pimsim.sim.agreement``, docs/engine.md "How the engine differs from
the closed form").

The hand-built case's figures are written out from the design's parameters (ISAAC:
100 ns read = one crossbar's conversions, 16 input cycles, a 38.4 GB/s eDRAM port, a
384-bit bus at 1.2 GHz, a 0.83 ns tile shift-and-add, 6.4 GB/s off-chip links), not from
the model's timing code.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import REPO, NetBuilder, isaac_with  # noqa: E402

from pimsim.arch import build_arch  # noqa: E402
from pimsim.config import load_design  # noqa: E402
from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import simulate  # noqa: E402
from pimsim.sim.agreement import (Agreement, compare, from_results, latency_cell,  # noqa: E402
                                  with_split)
from pimsim.sim.engine import run_engine  # noqa: E402
from pimsim.workload.trace import load_network  # noqa: E402

REL = 1e-12
R = 100.0                    # crossbar.read_cycle_ns (= one crossbar's 128 conversions)
CYCLES = 16                  # 16-bit inputs through a 1-bit DAC
EDRAM = 38.4 * 8             # bits / ns of the tile's eDRAM port
BUS = 384 * 1.2              # bits / ns of the eDRAM-to-IMA bus
HOST = 6.4 * 8               # bits / ns of an off-chip link
NOC = 17.28 * 8              # bits / ns of a NoC injection link
TSA = 1 / 1.2                # one tile shift-and-add accumulate (ns)


def _move(bits):
    """eDRAM (2 accesses per bit) and bus together, for ``bits``."""
    return max(2 * bits / EDRAM, bits / BUS)


def _pair():
    # 1x1 conv, 256 input channels, on one 2-position row: two copies (one position
    # each) of two crossbars (row tiles), both on tile 0, sharing its eDRAM port, bus
    # and shift-and-add
    net = NetBuilder("pair", (256, 1, 2)).conv("c", 16, 1).build()
    arch = isaac_with(adc={"shared_by": 1}, mapping={"max_replication": 2})
    lm = map_network(net, arch).layers[0]
    assert (lm.replication, lm.crossbars_per_copy, lm.first_tile, lm.last_tile) == (2, 2, 0, 0)
    return net, arch


def test_contention_split_by_hand():
    net, arch = _pair()
    hops = arch.design.noc.avg_hops * arch.latency_ns("router", "transfer")
    row = 2 * 256 * 16
    t = row / HOST + row / NOC + hops            # the input row is in the buffer
    f = _move(256 * 16)                          # a copy's receptive field: 26.7 ns
    m = 16 * TSA                                 # its 16 outputs' row-tile merge: 13.3 ns
    s = _move(16 * 16)                           # its 16 outputs into eDRAM
    h = 16 * 16 / HOST                           # its results to the host (4 links)
    assert m < f
    compute = R + (CYCLES - 1) * R + R           # first read, 15 more, the last one's period
    # contended: B's fetch waits for A's [t, t + f]; B's outputs are ready f after A's,
    # by when A's merge (m < f) and write are done: nothing else queues
    contended = t + 2 * f + compute + m + s + h
    # eDRAM and bus uncontended: both fetch at t, both are ready together, and B's merge
    # waits for A's on the one shift-and-add: the queue moves there
    buffers_free = t + f + compute + 2 * m + s + h
    # shift-and-add uncontended: the fetches still stagger them, nothing changes
    tsa_free = contended
    free = t + f + compute + m + s + h           # nothing queues
    lat = {roles: run_engine(net, arch, images=1, alone=True, uncontended=roles).total.latency_ns
           for roles in ((), ("edram", "bus"), ("tile_shift_add",), ("*",))}
    assert lat[()] == pytest.approx(contended, rel=REL)
    assert lat[("edram", "bus")] == pytest.approx(buffers_free, rel=REL)
    assert lat[("tile_shift_add",)] == pytest.approx(tsa_free, rel=REL)
    assert lat[("*",)] == pytest.approx(free, rel=REL)
    # the closed form is the pipeline without queueing
    a = simulate(net, arch, fidelity="analytic")
    assert a.total.latency_ns == pytest.approx(free, rel=REL)
    # the split: contention f, of which relieving the eDRAM and bus alone gains f - m,
    # the shift-and-add alone nothing; the other m is joint (relieved only together)
    alone = run_engine(net, arch, images=1, alone=True)          # as the engine's result
    g = with_split(from_results(a, alone), net, arch)
    assert g.contention_ns == pytest.approx(f, rel=1e-9)
    parts = dict(g.contention)
    assert parts["buffer_bandwidth"] == pytest.approx(f - m, rel=1e-9)
    assert parts["shift_add"] == pytest.approx(0.0, abs=1e-9)
    assert g.joint_ns == pytest.approx(m, rel=1e-9)
    assert g.later_images_ns == 0.0             # image 0 alone: nothing behind it


def test_latency_rule_by_hand():
    # closed form 1,000 ns; the engine 1,100 ns with images behind image 0 (+10 %)
    def g(fast, alone, free):
        return Agreement("t", "d", 100.0, 1000.0, 100.0, fast, "", 0.0, {}, alone,
                         free_latency_ns=free, contention=(("buffer_bandwidth", 50.0),))
    assert g(1040.0, 1040.0, 1040.0).latency_verdict == "agree"          # +4 %
    # image 0 alone and uncontended within 5 %: the rest is queueing
    assert g(1100.0, 1080.0, 1030.0).latency_verdict == "contention"
    assert g(1100.0, 1080.0, 1030.0).later_images_ns == pytest.approx(20.0)
    assert g(1100.0, 1080.0, 1030.0).contention_ns == pytest.approx(50.0)
    assert g(1100.0, 1080.0, 1030.0).joint_ns == pytest.approx(0.0)
    assert g(1100.0, 1080.0, 1060.0).latency_verdict == "open"           # uncontended +6 %
    assert g(900.0, 900.0, 900.0).latency_verdict == "open"              # the engine faster
    cell = latency_cell(g(1100.0, 1080.0, 1030.0))
    assert cell == ("contention +5.0 % (buffer_bandwidth +5.0 %); later images +2.0 %; "
                    "uncontended +3.0 %")


@pytest.fixture(scope="module")
def resnet8():
    net = load_network(REPO / "traces" / "resnet8_mnist.npz")
    arch = build_arch(load_design(REPO / "configs" / "isaac.yaml"))
    return net, arch, compare(net, arch, "resnet8_mnist", "isaac")


def test_a_shipped_rows_latency_is_explained_by_contention(resnet8):
    # resnet8_mnist on ISAAC: the engine's image 0 is more than 5 % behind the closed
    # form; with every shared unit uncontended it is within 5 % (the rule written out
    # from engine runs, not through the agreement module)
    net, arch, g = resnet8
    a = simulate(net, arch, fidelity="analytic").total.latency_ns
    f = simulate(net, arch, fidelity="fast").total.latency_ns
    alone = run_engine(net, arch, images=1, alone=True).total.latency_ns
    free = run_engine(net, arch, images=1, alone=True, uncontended="*").total.latency_ns
    assert f > 1.05 * a
    assert abs(free / a - 1) <= 0.05
    assert free <= alone <= f
    assert g.latency_verdict == "contention"
    assert (g.fast_latency_ns, g.alone_latency_ns, g.free_latency_ns) == (f, alone, free)
    # the parts add up to the difference: later images + contention + uncontended
    assert (g.later_images_ns + g.contention_ns + (free - a)) == pytest.approx(f - a, rel=1e-9)
    assert sum(ns for _, ns in g.contention) + g.joint_ns == pytest.approx(g.contention_ns)
    # each cause group's part is image 0 alone minus alone with that group uncontended
    parts = dict(g.contention)
    relieved = run_engine(net, arch, images=1, alone=True,
                          uncontended=("tile_shift_add",)).total.latency_ns
    assert parts["shift_add"] == pytest.approx(alone - relieved, rel=1e-12)
    assert parts["shift_add"] > 0.05 * a      # the tile shift-and-add queue, mostly


def test_the_uncontended_engine_runs_the_closed_forms_schedule():
    # the closed form's row-by-row latency is the engine's image 0 alone with no
    # queueing anywhere: equal where every transfer takes the same hops
    # (noc.routing: average); with XY routing the closed form takes an edge's mean hops
    # and the engine each part's own path, a difference of a router latency or so
    for trace in ("cnn_digits", "lenet5_mnist"):
        net = load_network(REPO / "traces" / f"{trace}.npz")
        for cfg in ("isaac", "isaac_xbar64", "isaac_xbar256", "isaac_xbar512"):
            for routing, rel in (("average", 1e-9), ("xy", 1e-3)):
                arch = build_arch(load_design(REPO / "configs" / f"{cfg}.yaml",
                                              {"noc": {"routing": routing}}))
                a = simulate(net, arch, fidelity="analytic").total.latency_ns
                free = run_engine(net, arch, images=1, alone=True,
                                  uncontended="*").total.latency_ns
                assert free == pytest.approx(a, rel=rel), (trace, cfg, routing)


def test_the_closed_form_schedule_waits_for_buffer_slots_as_the_engine():
    # finite buffers (pimsim.sim.stages.row_done_ns): with 1 KiB of eDRAM per tile the
    # consumers' rings are a few rows, so image 0 alone, with no queueing anywhere,
    # already waits for slots (buffer_full) -- a producer's row takes its slot only once
    # the row `slots` before it has been read -- and out-of-order arrivals (rows held
    # in other tiles' eDRAM or off-chip) make a consumer wait for the whole prefix of
    # its window. The closed form follows the same rules: equal to the engine's image 0
    # (the closed form without finite buffers was 1.7 %, 51 % and 6.1 % early here)
    from netbuild import cnn3, resnet_block

    chain = NetBuilder("chain", (16, 16, 16)).conv("a", 16, 1).conv("b", 64, 3)
    chain = chain.conv("c", 16, 3).build()
    arch = isaac_with(tile={"edram_bytes": 1024}, noc={"routing": "average"})
    for net, waits in ((cnn3(), True), (resnet_block(), True), (chain, False)):
        free = run_engine(net, arch, images=1, alone=True, uncontended="*")
        full = sum(lt.stalls_ns["buffer_full"] for lt in free.engine_stats.layers)
        assert (full > 0) == waits, net.name
        a = simulate(net, arch, fidelity="analytic").total.latency_ns
        assert a == pytest.approx(free.total.latency_ns, rel=1e-9), net.name


def test_image0_path_adds_up_to_its_latency():
    # lenet5_mnist on ISAAC, a chain of layers: each layer's part of image 0's difference
    # from the closed form (image 0 alone, the path an "open" row names) sums to the
    # last layer's, which is the latency difference up to the host's output transfer
    from pimsim.sim.agreement import layer_path
    from pimsim.sim.stages import row_done_ns

    net = load_network(REPO / "traces" / "lenet5_mnist.npz")
    arch = build_arch(load_design(REPO / "configs" / "isaac.yaml"))
    nmap = map_network(net, arch)
    alone = run_engine(net, arch, images=1, alone=True)
    path = layer_path(net, nmap, alone, row_done_ns(net, nmap, arch))
    assert [d.layer for d in path] == [lay.name for lay in net]
    assert all(lay.inputs == (prev.name,) for prev, lay in zip(net, list(net)[1:]))
    assert sum(d.added_ns for d in path) == pytest.approx(path[-1].behind_ns)
    a = simulate(net, arch, fidelity="analytic").total.latency_ns
    assert path[-1].behind_ns == pytest.approx(alone.total.latency_ns - a, abs=1e-3 * a)


def test_interval_split_by_hand():
    # closed form 100 ns, engine 150 ns, engine with no queueing anywhere 110 ns: +50 %,
    # of which +40 % contention (150 - 110) and +10 % uncontended (110 - 100), in % of
    # the closed form's interval; the uncontended engine is itself 10 % > 5 % off the
    # closed form, so queueing does not explain the difference: "open"
    from pimsim.sim.agreement import interval_cell

    g = Agreement("t", "d", 100.0, 1000.0, 150.0, 1000.0, "x crossbar", 0.5, {},
                  free_interval_ns=110.0)
    assert interval_cell(g) == "+50.0 % open (contention +40.0 %, uncontended +10.0 %)"
    # the uncontended engine at 104 ns (within 5 %): queueing explains it, "contention"
    g = Agreement("t", "d", 100.0, 1000.0, 150.0, 1000.0, "x crossbar", 0.5, {},
                  free_interval_ns=104.0)
    assert interval_cell(g) == "+50.0 % contention (contention +46.0 %, uncontended +4.0 %)"
    # no queueing, the engine at 90 ns: faster than the closed form's slowest stage (a
    # shared unit whose capacity the uncontended run removes): all 50 % is contention
    g = Agreement("t", "d", 100.0, 1000.0, 150.0, 1000.0, "x offchip_link", 0.5, {},
                  free_interval_ns=90.0)
    assert interval_cell(g) == "+50.0 % contention (contention +50.0 %, uncontended +0.0 %)"
    # the bottleneck's stalls do not decide it: fully stalled, but the uncontended engine
    # is as slow as the contended one (the dependencies, not queueing)
    g = Agreement("t", "d", 100.0, 1000.0, 150.0, 1000.0, "x crossbar", 1.0, {},
                  free_interval_ns=150.0)
    assert g.interval_verdict == "open"
    # the engine faster than the closed form beyond the tolerance is never explained
    g = Agreement("t", "d", 100.0, 1000.0, 90.0, 1000.0, "x crossbar", 0.0, {},
                  free_interval_ns=90.0)
    assert g.interval_verdict == "open"
    # not split (within the tolerance, or from_results alone): the difference and verdict
    g = Agreement("t", "d", 100.0, 1000.0, 103.0, 1000.0, "x crossbar", 0.0, {})
    assert interval_cell(g) == "+3.0 % agree"
    # beyond the tolerance with no uncontended run: nothing measured explains it
    g = Agreement("t", "d", 100.0, 1000.0, 150.0, 1000.0, "x crossbar", 1.0, {})
    assert interval_cell(g) == "+50.0 % open"


def test_uncontended_engine_pace_is_the_closed_forms_without_buffer_cycles():
    # cnn_digits on ISAAC: no join, rings of several rows: with every shared unit
    # uncontended the engine's steady-state interval is the closed form's slowest stage
    from pimsim.sim.agreement import with_interval_split

    net = load_network(REPO / "traces" / "cnn_digits.npz")
    arch = build_arch(load_design(REPO / "configs" / "isaac.yaml"))
    a = simulate(net, arch, fidelity="analytic")
    g = with_interval_split(from_results(a, simulate(net, arch, fidelity="fast")), net, arch)
    assert g.free_interval_ns == pytest.approx(a.total.interval_ns, rel=0.01)


def test_doc_table_rows_do_not_depend_on_the_process_count():
    # the generated agreement blocks compute their rows in parallel (one process per CPU):
    # the table must be the one a single process prints, row for row in the same order
    from pimsim.sim.agreement import doc_table

    cases = dict(root=REPO, traces=("cnn_digits", "lenet5_mnist"), designs=("isaac_xbar64",))
    one = doc_table(jobs=1, **cases)
    two = doc_table(jobs=2, **cases)
    assert two == one
    assert [row.split("|")[1].strip() for row in one.splitlines()[2:]] == ["cnn_digits",
                                                                           "lenet5_mnist"]
