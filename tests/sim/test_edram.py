"""eDRAM capacity is a hard limit (pimsim.sim.edram): what does not fit in the tiles'
eDRAM goes to other tiles' spare eDRAM or spills off-chip with its cost, in every
fidelity; the on-chip rows in use never exceed the on-chip capacity."""

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, cnn3, isaac_arch, isaac_with, resnet_block  # noqa: E402

from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import evaluate, simulate  # noqa: E402
from pimsim.sim.edram import plan_buffers  # noqa: E402
from pimsim.sim.engine import Engine  # noqa: E402
from pimsim.workload.trace import load_network  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = {"edram_bytes": 16}          # 128 bits: no tile holds one 2048-bit row
# ISAAC's off-chip link (configs/isaac.yaml): 25.390625 pJ per bit sent, 1300 mW while
# sending (gated), 6.4 GB/s = 51.2 bits/ns per link
LINK_PJ_PER_BIT = 25.390625
LINK_STATIC_MW = 1300.0


def _two() -> object:
    """16x8x8 input, two 3x3 convs (pad 1): every buffered row is 8 x 16 x 16 = 2048 bits."""
    return NetBuilder("two", (16, 8, 8)).conv("c1", 16, 3).conv("c2", 16, 3).build()


# by hand: both operands (input -> c1, c1 -> c2) spill all 8 rows of an image, each row
# written out and read back: 2 operands x 8 rows x 2048 bits x 2
SPILL_BITS = 2 * 8 * 2048 * 2                                      # 65,536 bits per image


def test_spill_bits_and_energy_by_hand():
    arch = isaac_with(tile=TINY, mapping={"replicate": False})
    base_arch = isaac_with(mapping={"replicate": False})
    plan = plan_buffers(_two(), map_network(_two(), arch), arch.design)
    assert [(b.local, b.remote, b.spill) for b in plan] == [(0, 0, 4), (0, 0, 4)]  # need 3+1
    for fid in ("analytic", "fast", "event"):
        small = evaluate(_two(), arch) if fid == "analytic" else \
            simulate(_two(), arch, fidelity=fid, images=3)
        base = evaluate(_two(), base_arch) if fid == "analytic" else \
            simulate(_two(), base_arch, fidelity=fid, images=3)
        assert base.total.spill_bits == 0
        assert small.total.spill_bits == SPILL_BITS, fid
        assert [lr.spill_bits for lr in small.layers] == [SPILL_BITS / 2, SPILL_BITS / 2]
        assert small.total.offchip_bits - base.total.offchip_bits == SPILL_BITS
        dyn = small.total.dynamic_breakdown_pJ["offchip_link"] - \
            base.total.dynamic_breakdown_pJ["offchip_link"]
        assert dyn == pytest.approx(SPILL_BITS * LINK_PJ_PER_BIT, rel=1e-12)   # 1,664,000 pJ
        stat = small.total.static_breakdown_pJ["offchip_link"] - \
            base.total.static_breakdown_pJ["offchip_link"]
        # gated links: static power while sending, 65,536 bits / 51.2 bits/ns = 1280 ns
        assert stat == pytest.approx(LINK_STATIC_MW * SPILL_BITS / 51.2, rel=1e-9)
        if fid != "analytic":
            assert sum(lt.buffer_spill_rows for lt in small.engine_stats.layers) == 8


def test_spill_sets_the_interval_on_slow_links_by_hand():
    # one link of 0.1 GB/s = 0.8 bits/ns carries the spill and the host's bits (input
    # 16x8x8 and output 16x8x8 at 16 bits): (65,536 + 2 x 16,384) / 0.8 = 122,880 ns per
    # image, more than c1's 64 positions x 16 cycles x 100 ns = 102,400 ns
    arch = isaac_with(tile=TINY, mapping={"replicate": False},
                      chip={"offchip_links": 1, "offchip_link_GBps": 0.1})
    link_ns = (SPILL_BITS + 2 * 16 * 8 * 8 * 16) / 0.8
    a = evaluate(_two(), arch)
    assert a.total.interval_ns == pytest.approx(link_ns, rel=1e-12)
    assert a.total.bottleneck["resource"] == "offchip_link"
    f = simulate(_two(), arch, fidelity="fast", images=4)
    assert f.total.interval_ns == pytest.approx(link_ns, rel=0.02)
    assert f.total.bottleneck["resource"] == "offchip_link"
    # the engine's contention-free reference counts the spilled rows too (it left them out)
    assert f.total.bottleneck["closed_form_interval_ns"] == pytest.approx(link_ns, rel=1e-12)
    e = simulate(_two(), arch, fidelity="event", images=4)
    assert e.total.interval_ns == pytest.approx(f.total.interval_ns, rel=1e-9)


def _engine(net, arch, images=3) -> Engine:
    eng = Engine(net, arch, map_network(net, arch), "fast", images, False, None)
    eng.run()
    return eng


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edram=st.sampled_from([16, 256, 1024, 2048, 4096, 8192, 65536]),
       which=st.sampled_from(["cnn3", "resnet_block"]),
       rows_scale=st.sampled_from([1, 2]))
def test_onchip_rows_in_use_never_exceed_capacity(edram, which, rows_scale):
    net = cnn3() if which == "cnn3" else resnet_block()
    arch = isaac_with(tile={"edram_bytes": edram, "imas": 12 // rows_scale})
    eng = _engine(net, arch)
    assert eng.completed >= 3                           # no deadlock, whatever the size
    cap = edram * 8
    tiles = arch.design.chip.tiles
    onchip_by_chip: dict[int, float] = {}
    local_by_tile: dict[int, float] = {}
    for L in eng.layers:
        lm = L.lm
        host = range(lm.first_tile, lm.last_tile + 1)
        for e in L.edges_in:
            b = e.plan
            assert b.slots >= b.need                     # progress is always possible
            assert e.peak_onchip <= b.onchip             # instrumented: never over
            if b.spill or b.remote:
                assert b.slots == b.need                 # no slack where rows leave the tile
            for t in host:
                local_by_tile[t] = local_by_tile.get(t, 0.0) + b.local * b.row_bits / len(host)
            chip = lm.first_tile // tiles
            onchip_by_chip[chip] = onchip_by_chip.get(chip, 0.0) + b.onchip * b.row_bits
    for t, bits in local_by_tile.items():
        assert bits <= cap * (1 + 1e-9), t
    for chip, bits in onchip_by_chip.items():
        assert bits <= cap * tiles * (1 + 1e-9), chip


@pytest.mark.parametrize("trace", ["cnn_digits", "lenet5_mnist", "resnet8_mnist",
                                   "resnet20_digits", "resnet20_cifar_shapes",
                                   "mnsim_resnet18_shapes", "mnsim_vgg16_shapes"])
def test_small_traces_fit_in_isaacs_edram(trace):
    net = load_network(ROOT / "traces" / f"{trace}.npz")
    arch = isaac_arch()
    plan = plan_buffers(net, map_network(net, arch), arch.design)
    assert all(b.local == b.slots >= b.need for b in plan)    # all in the consumer's tiles


def test_join_operands_need_the_rows_held_while_the_other_branch_catches_up():
    """resnet_block by hand, in rows of the 32-row input (input row j is in at time j+1;
    a 3x3 conv with pad 1 needs one row beyond its own, the last row clipped): stem_relu's
    row r can be made at min(r+2, 32), b1_conv2's at min(r+4, 32), so b1_add's row r
    fires at min(r+4, 32). Rows held = rows of the operand made by then - rows below r
    (read). stem_relu: r < 28 holds r+3 - r = 3; r = 28 holds all 32 - 28 = 4 (the last
    input row completes rows 28..31 at once). b1_conv2: 1 for r < 28, 32 - 28 = 4 at
    r = 28. Each + 1 slot = 5 (a whole tensor would be 32)."""
    net, arch = resnet_block(), isaac_arch()
    plan = plan_buffers(net, map_network(net, arch), arch.design)
    names = [lay.name for lay in net]
    add = {b.order: b.need for b in plan if names[b.consumer] == "b1_add"}
    assert add == {0: 5, 1: 5}


def test_imagenet_resnet18_fits_in_isaacs_edram():
    net = load_network(ROOT / "traces" / "resnet18_shapes.npz")
    arch = isaac_arch()
    plan = plan_buffers(net, map_network(net, arch), arch.design)
    assert all(b.local == b.slots >= b.need for b in plan)
    assert max(b.need for b in plan) < 56       # no join holds a whole 56-row tensor


def test_residual_block_with_no_edram_completes_and_spills():
    """The join that used to deadlock (or silently over-commit) now spills and completes."""
    arch = isaac_with(tile=TINY)
    r = simulate(resnet_block(), arch, fidelity="fast", images=3)
    assert r.total.spill_bits > 0 and r.total.images == 3
    assert r.total.spill_bits == evaluate(resnet_block(), arch).total.spill_bits


def _dense() -> object:
    """A dense-block join: s (3x3 conv) and c (3x3 conv of s) concatenated along the
    channels, then a 1x1 conv; 16x8x8 input, every tensor 8 rows."""
    b = NetBuilder("dense", (16, 8, 8)).conv("s", 16, 3).conv("c", 16, 3)
    return b.concat("cat", "s", "c").conv("t", 16, 1).build()


def test_channel_concat_streams_row_by_row():
    """A channel concatenation's output row r is row r of each input (issue 12: DenseNet's
    dense blocks held whole images, which spilled off-chip and set the interval).

    By hand, in rows of the 8-row input (input row j is in at time j+1; a 3x3 conv with
    pad 1 needs one row beyond its own, the last row clipped): s's row k can be made at
    min(k+2, 8), c's at min(k+3, 8), so cat's row r fires at min(r+3, 8). Rows held =
    rows made by then - rows already read (r): s: r+2 - r = 2 for r < 5, at r = 5 all 8
    rows are made: 8 - 5 = 3; c: 1 for r < 5, 3 at r = 5. Each + 1 slot = 4 (a whole
    image, the earlier rule, is 8)."""
    from pimsim.sim.buffers import windows
    net, arch = _dense(), isaac_arch()
    cat = net.layer("cat")
    lo, hi = windows(cat, 8, 8)
    assert lo.tolist() == hi.tolist() == list(range(8))
    # joined along the rows (fewer input rows than output rows): the whole input
    lo, hi = windows(cat, 8, 4)
    assert lo.tolist() == [0] * 8 and hi.tolist() == [3] * 8
    plan = plan_buffers(net, map_network(net, arch), arch.design)
    names = [lay.name for lay in net]
    assert {b.order: b.need for b in plan if names[b.consumer] == "cat"} == {0: 4, 1: 4}
    # the engine streams it: cat's first row of image 0 goes before c's last row is done
    r = simulate(net, arch, fidelity="fast", images=3)
    t = {lt.name: lt for lt in r.engine_stats.layers}
    assert t["cat"].start_ns < t["c"].finish_ns


def test_a_row_waits_for_its_own_ring_slot_not_any_free_one():
    """The ring's row ``j`` is stored at slot ``j % slots`` (that decides on chip or off),
    so it may only be written once the row there before it (``j - slots``) has left, even
    when another slot was freed first (releases out of order: two consumer copies)."""
    import numpy as np
    import simpy

    from pimsim.sim.buffers import Edge
    from pimsim.sim.edram import OperandBuffer

    rows, slots = 8, 3
    r = np.arange(rows)
    plan = OperandBuffer(producer=0, consumer=1, order=0, rows=rows, row_bits=8, send_bits=8,
                         need=slots, slots=slots, local=2, remote=0, lo=r, hi=r)
    e = Edge(simpy.Environment(), 0, 1, 0, parts=np.ones(rows, dtype=np.int64),
             bits_per_position=8, over_noc=False, offchip_rows=np.zeros(rows, dtype=np.int64),
             readers=np.ones(rows, dtype=np.int64), plan=plan)
    for row in range(slots):                  # rows 0, 1, 2 fill slots 0, 1 (on chip), 2 (off)
        assert not e.occupied[e.slot(0, row)]
        e.take(0, row)
    e.release(0, 1, 1)                        # row 1 read first: slot 1 free
    assert e.slot(0, 3) == 0 and e.occupied[0]    # row 3 goes to slot 0: still row 0's,
    assert not e.occupied[1] and e.used_onchip == 1  # though an on-chip slot is free
    e.release(0, 0, 0)                        # row 0 read: row 3 may take slot 0
    assert not e.occupied[e.slot(0, 3)]
    e.take(0, 3)
    assert e.used_onchip == 1                 # on chip: slot 1 free (row 1 left), 0 held


@pytest.mark.parametrize("fidelity", ["fast", "event"])
def test_the_engine_moves_off_chip_the_spilled_bits_it_reports(fidelity):
    """The reported spill (``total.spill_bits``) is the buffer plan's long-run rows per
    image; here the bits the engine actually wrote out and read back while it ran
    (``Edge.spilled_bits``, booked on the off-chip links row part by row part) are
    compared with it and with a count by hand.

    ``_two`` on 2 tiles of 256 B (one 2048-bit row each): c1's input ring of 4 slots has
    1 slot in c1's tile, 1 in the other tile, 2 off-chip; c2's ring of 4 has none left on
    chip. Row ``j`` of image ``i`` takes slot ``(8 i + j) % 4``: each slot twice per image,
    so 2 x 2 + 2 x 4 = 12 rows per image go off-chip and back, 12 x 2 x 2048 bits."""
    arch = isaac_with(tile={"edram_bytes": 256}, chip={"tiles": 2},
                      mapping={"replicate": False})
    net = _two()
    nmap = map_network(net, arch)
    plan = plan_buffers(net, nmap, arch.design)
    assert [(b.slots, b.local, b.remote, b.spill) for b in plan] == [(4, 1, 1, 2), (4, 0, 0, 4)]
    per_image = 12 * 2 * 2048                                  # 49,152 bits
    images = 4                                                 # exactly 4, none behind
    eng = Engine(net, arch, nmap, fidelity, images, False, None, alone=True)
    eng.run()
    moved = sum(e.spilled_bits for L in eng.layers for e in L.edges_in)
    assert moved == images * per_image
    r = simulate(net, arch, fidelity=fidelity, images=images)
    assert r.total.spill_bits == per_image
    assert r.total.offchip_bits - 2 * 16 * 8 * 8 * 16 == per_image   # less the host's bits
