"""The ``event`` fidelity's finer model (docs/engine.md, "Crossbar reads and the ADC
pipeline"): ADC banks shared by ``adc.shared_by`` crossbars, queued per bank in request
order; one sample held per crossbar; eDRAM + bus fetches per position's receptive field.

Every expected figure is written out by hand from the design's parameters (ISAAC:
100 ns read, 128 columns at 1.28 GS/s = 100 ns per crossbar conversion, 16 input
cycles), not from the model's counting or timing code. ``fast`` is the aggregate of the
same rules: equal where the finer contention is configured away, and the difference is
computed by hand where it is on.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, isaac_with  # noqa: E402

from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import simulate  # noqa: E402

REL = 1e-12
R = 100.0                    # crossbar.read_cycle_ns
C = 128 / 1.28               # one crossbar's 128 conversions on its one ADC (ns)
CYCLES = 16                  # 16-bit inputs through a 1-bit DAC
EDRAM = 38.4 * 8             # bits / ns of the tile's eDRAM port
BUS = 384 * 1.2              # bits / ns of the eDRAM-to-IMA bus
HOST = 6.4 * 8               # bits / ns of an off-chip link (the host's input and results)
NOC = 17.28 * 8              # bits / ns of a NoC injection link


def _fetch(bits):
    """eDRAM read (2 accesses per bit, as the buffer model charges) and bus, together."""
    return max(2 * bits / EDRAM, bits / BUS)


def _arrival(arch, row_bits):
    """The input row reaches the layer's buffer: over an off-chip link from the host, then
    the tile's NoC link (avg_hops x router latency)."""
    hops = arch.design.noc.avg_hops * arch.latency_ns("router", "transfer")
    return row_bits / HOST + row_bits / NOC + hops


def _arch(shared_by=1, **more):
    return isaac_with(adc={"shared_by": shared_by}, mapping={"max_replication": 2}, **more)


def _runs(net, arch, images=4):
    return {f: simulate(net, arch, fidelity=f, images=images) for f in ("fast", "event")}


def test_one_crossbar_by_hand_fast_equals_event():
    # linear 128 -> 16: one crossbar of 128 used columns, one position per image
    net = NetBuilder("one", (128, 1, 1)).linear("fc", 16).build()
    arch = _arch()
    bits = 128 * 16
    f = _fetch(bits)
    store = 2 * 16 * 16 / EDRAM                       # 16 outputs of 16 bits into eDRAM
    # reads sampled at t + R, t + 2R, ... (R = C: neither waits); the 16th is converted by
    # t + 16R + C; then the results cross to the host
    latency = _arrival(arch, bits) + f + CYCLES * R + C + store + 16 * 16 / HOST
    # next image: fetched once the 16th read is held, its first read samples R later
    interval = CYCLES * R + f
    runs = _runs(net, arch)
    for fid, r in runs.items():
        assert r.total.latency_ns == pytest.approx(latency, rel=REL), fid
        assert r.total.interval_ns == pytest.approx(interval, rel=REL), fid
    # and to the last bit: the same sums in the same order on this case
    assert runs["fast"].total.latency_ns == runs["event"].total.latency_ns
    assert runs["fast"].total.interval_ns == runs["event"].total.interval_ns


@pytest.mark.parametrize("outputs", [16, 4])
@pytest.mark.parametrize("adcs", [1, 2, 4])
def test_adcs_faster_than_a_read_hand_the_outputs_on_at_the_period_end_by_hand(adcs, outputs):
    # linear 128 -> outputs: one crossbar of 8 x outputs used columns (16-bit weights on
    # 2-bit cells), converted by `adcs` ADCs in ceil(8 x outputs / adcs) / 1.28 ns: 100,
    # 50, 25 ns for 16 outputs, 25, 12.5, 6.25 ns for 4, never more than the read R. Reads
    # still sample every R; the last read's outputs leave the read / convert pipeline at
    # the end of its period, R after its sample, not when its conversions end (so faster
    # ADCs than the read change neither latency nor order at the tile's units)
    net = NetBuilder("one", (128, 1, 1)).linear("fc", outputs).build()
    arch = isaac_with(adc={"shared_by": 1, "per_crossbar": adcs},
                      mapping={"max_replication": 2})
    conv = -(-8 * outputs // adcs) / 1.28
    assert conv <= R
    bits = 128 * 16
    f = _fetch(bits)
    store = 2 * outputs * 16 / EDRAM
    latency = _arrival(arch, bits) + f + CYCLES * R + R + store + outputs * 16 / HOST
    interval = CYCLES * R + f
    for fid, r in _runs(net, arch).items():
        assert r.total.latency_ns == pytest.approx(latency, rel=REL), fid
        assert r.total.interval_ns == pytest.approx(interval, rel=REL), fid


def test_bank_of_two_crossbars_of_one_copy_by_hand_fast_equals_event():
    # linear 256 -> 16: two crossbars (row tiles) per copy, one copy; shared_by 2 puts
    # both in one bank: per read the bank converts one, then the other (2C), and a read
    # samples only when both S+Hs are empty. No other copy uses the bank: fast's
    # aggregate (every bank converts shared_by crossbars per read) is exact.
    net = NetBuilder("rows2", (256, 1, 1)).linear("fc", 16).build()
    bits = 256 * 16
    f = _fetch(bits)
    merge = 2 * 16 * 16 / EDRAM
    shared = _arch(2)
    assert map_network(net, shared).layers[0].crossbars_per_copy == 2
    # the two row tiles' partial sums of the 16 outputs merged on the tile S+A
    tsa = 16 * shared.latency_ns("tile_shift_add", "accumulate")
    # samples at t + R, t + R + 2C, ..., the 16th converted 2C after it
    latency = _arrival(shared, bits) + f + R + (CYCLES - 1) * 2 * C + 2 * C + tsa + merge \
        + 16 * 16 / HOST
    runs2 = _runs(net, shared)
    for fid, r in runs2.items():
        assert r.total.latency_ns == pytest.approx(latency, rel=REL), fid
        # the next image's first sample waits for the bank: 16 x 2C per image
        assert r.total.interval_ns == pytest.approx(CYCLES * 2 * C, rel=REL), fid
    assert runs2["fast"].total.latency_ns == runs2["event"].total.latency_ns
    assert runs2["fast"].total.interval_ns == runs2["event"].total.interval_ns
    # issue 12's acceptance: shared_by 2 is slower than 1, in event and in fast (by hand:
    # 16 x max(R, C) + f per image with a bank per crossbar)
    runs1 = _runs(net, _arch(1))
    for fid in ("fast", "event"):
        assert runs1[fid].total.interval_ns == pytest.approx(CYCLES * R + f, rel=REL), fid
        assert runs2[fid].total.throughput_images_per_s < runs1[fid].total.throughput_images_per_s


def test_bank_shared_by_two_copies_queues_in_request_order_by_hand():
    # 1x1 conv on a 2-position row, two copies of one crossbar: shared_by 2 puts crossbar 0
    # (copy 0, A) and crossbar 1 (copy 1, B) in one bank. Both wait for the same row at t;
    # the tile's eDRAM / bus fetch A's field [t, t + f], then B's [t + f, t + 2f].
    net = NetBuilder("pair", (128, 1, 2)).conv("c", 16, 1).build()
    arch = _arch(2)
    lm = map_network(net, arch).layers[0]
    assert (lm.replication, lm.crossbars_per_copy) == (2, 1)
    f = _fetch(128 * 16)
    t = _arrival(arch, 2 * 128 * 16)
    # event, read by read: A samples at t + f + R, B at t + 2f + R; the bank takes them in
    # request order, each C long, and stays busy:
    #   A0 [t+f+R, +C], B0 [t+f+R+C, +C], A1 (sampled at t+f+2R = t+f+R+C, waits) next, ...
    # so A_i converts from t+f+R+2iC and B_i from t+f+R+(2i+1)C; B15 ends t+f+R+32C
    bank = []
    a_sample, b_sample, free = t + f + R, t + 2 * f + R, 0.0
    a_empty = b_empty = 0.0
    for _ in range(CYCLES):
        # both request at their sample; the earlier request is converted first
        for who in sorted(("A", "B"), key=lambda w: a_sample if w == "A" else b_sample):
            at = a_sample if who == "A" else b_sample
            start = max(at, free)
            free = start + C
            bank.append((who, start))
            if who == "A":
                a_empty = free
            else:
                b_empty = free
        a_sample = max(a_sample + R, a_empty)
        b_sample = max(b_sample + R, b_empty)
    assert [w for w, _ in bank] == ["A", "B"] * CYCLES
    assert free == pytest.approx(t + f + R + 2 * CYCLES * C, rel=REL)
    tail = 2 * 16 * 16 / EDRAM + 16 * 16 / HOST      # B's 16 outputs into eDRAM, to host
    event = free + tail
    # fast: each copy converts every read in 2C (its bank partner assumed busy): B starts
    # at t + 2f + R and its 16th conversion ends 16 x 2C after, f later than event's
    fast = t + 2 * f + R + CYCLES * 2 * C + tail
    r = _runs(net, arch)
    assert r["event"].total.latency_ns == pytest.approx(event, rel=REL)
    assert r["fast"].total.latency_ns == pytest.approx(fast, rel=REL)
    assert r["fast"].total.latency_ns - r["event"].total.latency_ns == pytest.approx(f, rel=1e-9)
    # both: 32 conversions of C per image on the one bank (event), 16 x 2C per copy (fast)
    for fid in ("fast", "event"):
        assert r[fid].total.interval_ns == pytest.approx(2 * CYCLES * C, rel=1e-12), fid
    # with a bank per crossbar nothing is shared: 16 x R + f per image, both fidelities
    for fid, r1 in _runs(net, _arch(1)).items():
        assert r1.total.interval_ns == pytest.approx(CYCLES * R + f, rel=REL), fid
        assert r[fid].total.throughput_images_per_s < r1.total.throughput_images_per_s, fid


def test_crossbar_alone_in_its_bank_converts_alone_in_event():
    # one crossbar, shared_by 2: its bank partner is an idle crossbar of the IMA. event
    # converts only what is there (C per read); fast charges every bank shared_by
    # crossbars (2C per read), an upper bound
    net = NetBuilder("one", (128, 1, 1)).linear("fc", 16).build()
    arch = _arch(2)
    bits = 128 * 16
    f = _fetch(bits)
    base = _arrival(arch, bits) + f + 2 * 16 * 16 / EDRAM + 16 * 16 / HOST
    r = _runs(net, arch)
    assert r["event"].total.latency_ns == pytest.approx(base + CYCLES * R + C, rel=REL)
    assert r["fast"].total.latency_ns == pytest.approx(base + R + (CYCLES - 1) * 2 * C + 2 * C,
                                                       rel=REL)
    assert r["event"].total.interval_ns == pytest.approx(CYCLES * R + f, rel=REL)
    assert r["fast"].total.interval_ns == pytest.approx(CYCLES * 2 * C, rel=REL)


def _wide():
    # 1x1 conv on a 64-position row, two copies of one crossbar on one tile: positions go to
    # the copies alternately, so each copy's unit is 32 positions of the one row
    return NetBuilder("wide", (128, 1, 64)).conv("c", 16, 1).build()


def _compute_starts(r):
    return sorted(e["ts"] * 1e3 for e in r.engine_stats.timeline
                  if e.get("ph") == "X" and e.get("cat") == "compute")


@pytest.mark.parametrize("burst", [1, 4])
def test_fetch_requests_interleave_on_the_tile_bus_by_hand(burst):
    net = _wide()
    arch = _arch(1, tile={"bus_request_positions": burst})
    lm = map_network(net, arch).layers[0]
    assert (lm.replication, lm.first_tile, lm.last_tile) == (2, 0, 0)
    n = 32
    g = _fetch(burst * 128 * 16)                 # one request: burst positions' fields
    t = _arrival(arch, 64 * 128 * 16)            # both copies ask for the row at t
    fast = simulate(net, arch, fidelity="fast", images=1, timeline=True)
    event = simulate(net, arch, fidelity="event", images=1, timeline=True)
    # fast: copy 0's 32 fields in one request [t, t + 32f], copy 1's after it
    assert _compute_starts(fast) == pytest.approx([t + n / burst * g, t + 2 * n / burst * g],
                                                  rel=REL)
    # event: requests of `burst` positions, each made when the copy's previous one is done:
    # copy 0, copy 1, copy 0, ... so copy 0's last ends one request before copy 1's
    k = n // burst
    assert _compute_starts(event) == pytest.approx([t + (2 * k - 1) * g, t + 2 * k * g], rel=REL)
    # configured away (the unit's fields in one request): event books as fast does
    whole = _arch(1, tile={"bus_request_positions": 0})
    e0 = simulate(net, whole, fidelity="event", images=1, timeline=True)
    assert _compute_starts(e0) == pytest.approx([t + n * g / burst, t + 2 * n * g / burst],
                                                rel=REL)
