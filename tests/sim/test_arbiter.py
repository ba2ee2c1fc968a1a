"""Requests at the same simulated time (pimsim.sim.arbiter): the older image first, then
the lower copy index, then the order they were made; expected times worked out here."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, isaac_with  # noqa: E402

from pimsim.sim.arbiter import rank  # noqa: E402
from pimsim.sim.engine import run_engine  # noqa: E402
from pimsim.sim.events import Env  # noqa: E402
from pimsim.sim.processes import later  # noqa: E402
from pimsim.sim.resources import Server  # noqa: E402


def test_simultaneous_requests_go_to_the_older_image_then_the_lower_copy():
    # three requests for one port at t = 10 ns, made in the worst order: image 1's copy 0
    # (5 ns), then image 0's copy 1 (3 ns), then image 0's copy 0 (2 ns)
    env = Env()                   # the engine's event queue (pimsim.sim.events)
    port = Server("edram[0]")
    got = {}

    def request(img, k, service):
        later(env, 10.0, lambda _ev: got.setdefault((img, k), port.book(env.now, service)),
              rank(img, k))

    request(1, 0, 5.0)
    request(0, 1, 3.0)
    request(0, 0, 2.0)
    env.run()
    assert got == {(0, 0): (10.0, 12.0), (0, 1): (12.0, 15.0), (1, 0): (15.0, 20.0)}
    # a request made earlier is still served first, whatever its image (no preemption)
    assert rank(0, 5) < rank(1, 0) and rank(0, 0) < rank(0, 1)


# One copy of a 1x1 convolution, 16 -> 256 channels, on an input of 2 rows of 1 position,
# on ISAAC with the tile eDRAM slowed to 0.32 GB/s = 2.56 bits/ns, so that a unit's output
# write (2 x 256 x 16 bits: 3,200 ns) outlasts its reads and the copy waits on its one-deep
# output register. Per unit (one row): fetch 2 x 16 x 16 bits = 200 ns; 16 reads of 100 ns,
# the first conversion one read after the fetch: the last read 100 + 15 x 100 = 1,600 ns
# after the fetch, the outputs ready one read later; the results to the host, 256 x 16
# bits over a 6.4 GB/s off-chip link: 80 ns. From the end of row 0's fetch (``start_ns``):
# row 0's last read at 1,600; row 1's fetch 1,600-1,800; row 0's write (ready at 1,700)
# waits for it: 1,800-5,000; row 1's last read at 1,900, then the copy waits for the output
# register until 5,000. At 5,000 row 1's output write (ready since 2,000) and the copy's
# fetch of the next image's row 0 are requested at the same time on the same eDRAM: the
# older image's write goes first, 5,000-8,200, its results reach the host at 8,280.
# (Granted in event order, the fetch went first and image 0 took 200 ns longer with an
# image behind it than alone.) Image 1: its fetch 8,200-8,400, last read 10,000; row 1's
# fetch 10,000-10,200; row 0's write 10,200-13,400; row 1's write 13,400-16,600; host 16,680.
FETCH, WRITE, READS, HOST = 200.0, 3200.0, 100.0 + 15 * 100.0, 80.0
IMAGE0 = READS + FETCH + WRITE + WRITE + HOST                    # 8,280 ns after start_ns
IMAGE1 = IMAGE0 - HOST + FETCH + READS + FETCH + 2 * WRITE + HOST   # 16,680 ns


def _tie():
    net = NetBuilder("tie", (16, 2, 1)).conv("conv", 256, 1).build()
    return net, isaac_with(tile={"edram_bandwidth_GBps": 0.32})


def test_hand_computed_constants():
    # the design's figures behind the constants above (ISAAC: 16-bit inputs and outputs,
    # 100 ns reads, 16 input cycles, 6.4 GB/s off-chip links)
    _, arch = _tie()
    d = arch.design
    bits_per_ns = 0.32 * 8
    assert FETCH == pytest.approx(2 * 16 * d.precision.input_bits / bits_per_ns)
    assert WRITE == pytest.approx(2 * 256 * d.precision.output_bits / bits_per_ns)
    assert READS == pytest.approx(d.input_cycles * arch.latency_ns("crossbar", "read"))
    assert HOST == pytest.approx(256 * d.precision.output_bits
                                 * arch.latency_ns("offchip_link", "transfer"))
    assert (IMAGE0, IMAGE1) == (8280.0, 16680.0)


@pytest.mark.parametrize("fidelity", ["fast", "event"])
def test_the_older_images_write_goes_before_the_next_images_fetch(fidelity):
    net, arch = _tie()
    r = run_engine(net, arch, images=2, alone=True, fidelity=fidelity)
    start = r.engine_stats.layers[0].start_ns
    fin = r.engine_stats.image_finish_ns
    assert fin[0] - start == pytest.approx(IMAGE0, abs=1e-6)
    assert fin[1] - start == pytest.approx(IMAGE1, abs=1e-6)


def test_image0_alone_is_never_slower_than_with_images_behind():
    # issue 12: a later image never makes an earlier one faster; here it does not delay
    # it either (image 0 wins every tie and no image-1 request comes strictly first)
    net, arch = _tie()
    alone = run_engine(net, arch, images=1, alone=True)
    assert alone.total.latency_ns - alone.engine_stats.layers[0].start_ns == \
        pytest.approx(IMAGE0, abs=1e-6)
    for n in (2, 6, 12):
        assert run_engine(net, arch, images=n, alone=True).total.latency_ns >= \
            alone.total.latency_ns


# -- engine.arbitration: oldest_first (a strict priority by image) ------------------------
#
# One copy (mapping.replicate off) of a 1x1 convolution, 256 -> 16 channels, on an input of
# 2 rows of 1 position, on ISAAC with the tile eDRAM slowed to 0.32 GB/s = 2.56 bits/ns.
# 256 weight rows are 2 row tiles of 128: every output value merges 2 partial sums on the
# tile shift-and-add (16 merges per position, one 1.2 GHz clock each: M = 13.33 ns), and a
# unit's fetch (2 x 256 x 16 bits on the eDRAM: F = 3,200 ns) is far longer than its
# output write (2 x 16 x 16 bits: W = 200 ns). Per unit: 16 reads of 100 ns, the last
# R = 100 + 15 x 100 = 1,600 ns after the fetch, the outputs ready P = 100 ns later, then
# merged (M) and written (W); the results to the host, 16 x 16 bits at 6.4 GB/s: H = 5 ns.
# From the end of image 0's row-0 fetch (``start_ns``), image 0 alone: row 0's last read at
# R; row 1's fetch R .. R + F; row 0's merge and write (at R + P + M) queue behind it; row
# 1's last read at 2R + F, ready at 2R + F + P, merged, written, sent to the host:
F2, W2, R2, P2, M2, H2 = 3200.0, 200.0, 1600.0, 100.0, 16 / 1.2, 5.0
ALONE = 2 * R2 + F2 + P2 + M2 + W2 + H2                          # 6,718.33 ns
# fifo, an image behind: at 2R + F the copy hands row 1 to its output stage and requests
# image 1's row-0 fetch on the same eDRAM, M + P before row 1's write is requested: first
# come, first served, the younger image's fetch holds the eDRAM for F and the older
# image's write waits for it:
FIFO_BEHIND = 2 * R2 + F2 + F2 + W2 + H2                          # 9,805 ns
# oldest_first: image 0 as alone; image 1's fetch, requested at 2R + F, streams through
# the eDRAM's idle time: P + M of it before image 0's write, a pause for the write (W), the
# rest after it, so it ends at 2R + F + F + W (A); image 1 then repeats image 0's schedule
# from the end of that fetch:
A2 = 2 * R2 + 2 * F2 + W2
OLDEST_IMAGE1 = A2 + ALONE                                             # 16,518.33 ns


def _younger_first(arbitration):
    net = NetBuilder("younger", (256, 2, 1)).conv("conv", 16, 1).build()
    return net, isaac_with(tile={"edram_bandwidth_GBps": 0.32}, mapping={"replicate": False},
                           engine={"arbitration": arbitration})


def test_younger_image_constants_from_the_design():
    from pimsim.mapping import map_network

    net, arch = _younger_first("fifo")
    d, lm = arch.design, map_network(net, arch).layers[0]
    bits_per_ns = 0.32 * 8
    assert (lm.replication, lm.crossbars_per_copy, lm.merges_per_position) == (1, 2, 16)
    assert F2 == pytest.approx(2 * 256 * d.precision.input_bits / bits_per_ns)
    assert W2 == pytest.approx(2 * 16 * d.precision.output_bits / bits_per_ns)
    assert R2 == pytest.approx(d.input_cycles * arch.latency_ns("crossbar", "read"))
    assert M2 == pytest.approx(16 * arch.latency_ns("tile_shift_add", "accumulate")
                               / d.tile.shift_adds)
    assert H2 == pytest.approx(16 * d.precision.output_bits
                               * arch.latency_ns("offchip_link", "transfer"))
    assert (round(ALONE, 2), FIFO_BEHIND, round(OLDEST_IMAGE1, 2)) == (6718.33, 9805.0, 16518.33)


def _finish(arbitration, n, fidelity="fast"):
    net, arch = _younger_first(arbitration)
    r = run_engine(net, arch, images=n, alone=True, fidelity=fidelity)
    start = r.engine_stats.layers[0].start_ns
    return [f - start for f in r.engine_stats.image_finish_ns]


def test_fifo_lets_a_younger_image_delay_an_older_one():
    assert _finish("fifo", 1) == pytest.approx([ALONE], abs=1e-6)
    assert _finish("fifo", 2)[0] == pytest.approx(FIFO_BEHIND, abs=1e-6)


@pytest.mark.parametrize("fidelity", ["fast", "event"])
@pytest.mark.parametrize("n", [1, 2, 6, 12])
def test_oldest_first_never_lets_a_younger_image_delay_an_older_one(n, fidelity):
    fin = _finish("oldest_first", n, fidelity)
    assert fin[0] == pytest.approx(ALONE, abs=1e-6)
    if n > 1:
        assert fin[1] == pytest.approx(OLDEST_IMAGE1, abs=1e-6)


def test_oldest_first_image_k_does_not_depend_on_the_images_behind_it():
    # the strict priority on a small net (a 3-layer CNN with ReLUs and max-pools, where
    # fifo gives image 0 9,780.4 ns with 1 or more images behind it, 9,719.3 alone):
    # every image's completion is the same whatever number of images follow it, image 0's
    # is its latency alone (1 image, which both rules simulate alike)
    from netbuild import cnn3

    net = cnn3()
    fifo_alone = run_engine(net, isaac_with(), images=1, alone=True).total.latency_ns
    arch = isaac_with(engine={"arbitration": "oldest_first"})
    runs = {n: run_engine(net, arch, images=n, alone=True).engine_stats.image_finish_ns
            for n in (1, 2, 6, 12)}
    assert runs[1][0] == fifo_alone
    for n in (2, 6, 12):
        assert runs[n][0] == fifo_alone
        assert runs[n] == runs[12][:n]
    assert all(a < b for a, b in zip(runs[12], runs[12][1:]))


def test_oldest_first_event_adc_banks_shared_by_two_copies():
    # a bank holding crossbars of two copies is a one-port unit booked under the rule: in
    # event, on the 3-layer CNN with adc.shared_by 2, every image's completion is the same
    # whatever number of images follow it, image 0's is its latency alone (1 image, as
    # under fifo), and sharing the banks is slower than not, in event and in fast
    from netbuild import cnn3

    net = cnn3()
    shared = isaac_with(adc={"shared_by": 2}, engine={"arbitration": "oldest_first"})
    alone = run_engine(net, isaac_with(adc={"shared_by": 2}), images=1, alone=True,
                       fidelity="event").total.latency_ns
    runs = {n: run_engine(net, shared, images=n, alone=True,
                          fidelity="event").engine_stats.image_finish_ns for n in (1, 2, 6)}
    for n in (1, 2, 6):
        assert runs[n][0] == alone
        assert runs[n] == runs[6][:n]
    own = isaac_with(adc={"shared_by": 1}, engine={"arbitration": "oldest_first"})
    for fidelity in ("event", "fast"):
        slow = run_engine(net, shared, images=6, fidelity=fidelity).total.interval_ns
        assert slow > run_engine(net, own, images=6, fidelity=fidelity).total.interval_ns


@pytest.mark.parametrize("arbitration", ["fifo", "oldest_first"])
def test_the_result_names_its_arbitration_rule(arbitration):
    # JSON (fidelity.arbitration, engine_stats.arbitration, valid against the shipped
    # schema) and the terminal's fidelity line (only a rule other than the default,
    # oldest_first)
    import json

    from netbuild import cnn3

    from pimsim.report.documents import validate
    from pimsim.report.views import fidelity_line

    r = run_engine(cnn3(), isaac_with(engine={"arbitration": arbitration}), images=2)
    doc = r.as_dict()
    assert doc["fidelity"]["arbitration"] == doc["engine_stats"]["arbitration"] == arbitration
    validate(json.dumps(doc))            # as the CLI writes it
    line = fidelity_line(doc)
    assert ("shared units: fifo" in line) == (arbitration == "fifo")
    assert "oldest_first" not in line                # the default goes unsaid
