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
