"""The op-count rules: vectorized vs layer-by-layer reference, and agreement with peak_activity."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, isaac_arch  # noqa: E402

from pimsim.arch import peak_activity  # noqa: E402
from pimsim.kernels.counts import (ACTIONS, N_ACTIONS, SCALARS, _reference,  # noqa: E402
                                   layer_counts)
from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim.analytic import count_matrix  # noqa: E402


def random_inputs(rng, n_layers, max_xb):
    sizes = rng.integers(0, max_xb + 1, size=n_layers)
    ptr = np.zeros(n_layers + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    total = int(ptr[-1])
    rows = rng.integers(1, 513, size=total).astype(np.int64)
    outs = rng.integers(1, 65, size=total).astype(np.int64)
    cols = outs * rng.integers(1, 17)
    scalars = rng.integers(0, 10**6, size=(n_layers, len(SCALARS))).astype(np.int64)
    return ptr, rows, cols, outs, scalars


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n_layers,max_xb", [(0, 0), (1, 0), (1, 1), (5, 3), (40, 200)])
def test_kernel_matches_reference(seed, n_layers, max_xb):
    rng = np.random.default_rng(seed)
    args = random_inputs(rng, n_layers, max_xb)
    design = (int(rng.integers(1, 17)), int(rng.integers(1, 33)), int(rng.integers(1, 33)),
              float(rng.uniform(0.5, 4.0)))
    got = layer_counts(*args, *design)
    want = _reference(*args, *design)
    assert got.shape == want.shape == (n_layers, N_ACTIONS)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def one_layer(name, n_in, n_out):
    return NetBuilder(name, (n_in, 1, 1)).linear("fc", n_out).build()


def per_action(counts_row):
    return dict(zip(ACTIONS, counts_row))


def test_full_ima_equals_peak_activity():
    # ISAAC: a 128 x 128 linear layer: 1 row tile, 128 weights / 16 per row = 8 column
    # tiles -> 8 full crossbars (128 rows x 128 columns) = exactly one IMA; one position.
    arch = isaac_arch()
    m = map_network(one_layer("full_ima", 128, 8 * 16), arch)
    assert m.layers[0].imas == 1 and m.layers[0].crossbars == 8
    got = per_action(count_matrix(m)[0])
    peak = peak_activity(arch)
    ima_roles = set(arch.roles("ima")) - {"write_driver"}   # no programming during inference
    checked = 0
    for (role, action), value in peak.items():
        if role in ima_roles:
            assert got[f"{role}.{action}"] == value, (role, action)
            checked += 1
    assert checked == 7


def test_full_tile_buffer_traffic_equals_peak_activity():
    # 128 x (12 x 128) linear: 12 IMAs = one full ISAAC tile. eDRAM, bus and the tile
    # output register follow the same rules as the peak roll-up.
    arch = isaac_arch()
    m = map_network(one_layer("full_tile", 128, 12 * 8 * 16), arch)
    assert m.layers[0].imas == 12 and m.tiles == 1
    got = per_action(count_matrix(m)[0])
    peak = peak_activity(arch)
    for key in (("edram", "access"), ("bus", "transfer"), ("tile_output_register", "access")):
        assert got[".".join(key)] == peak[key]


def test_one_full_crossbar_does_one_conversion_per_mac():
    # 128 x 16 linear = one full ISAAC crossbar: 128 x 16 = 2048 MACs (16-bit), and
    # 16 input cycles x 128 columns = 2048 conversions (8-bit): one per MAC.
    arch = isaac_arch()
    net = one_layer("xbar", 128, 16)
    m = map_network(net, arch)
    got = per_action(count_matrix(m)[0])
    assert m.layers[0].crossbars == 1
    assert got["adc.convert"] == net.macs == 2048
    assert arch.design.adc.bits == 8


def test_conv_counts_by_hand():
    # 3x3 conv 16 -> 32 on 8x8 (pad 1): 64 positions; 4 crossbars with rows
    # 128,128,16,16 (sum 288) and 128 columns each (sum 512), 16 outputs each (sum 64).
    arch = isaac_arch()
    d = arch.design
    b = NetBuilder("c", (16, 8, 8))
    b.conv("conv", 32, 3)
    m = map_network(b.build(), arch)
    lm = m.layers[0]
    assert lm.crossbars_per_copy == 4
    got = per_action(count_matrix(m)[0])
    P, cyc = 64, 16
    assert got["crossbar.read"] == P * 4 * cyc
    assert got["dac.drive"] == P * cyc * 288
    assert got["adc.convert"] == got["sample_hold.sample"] == P * cyc * 512
    assert got["shift_add.accumulate"] == P * cyc * 512
    ir, orr = P * 288 * 16, P * 64 * 16
    assert got["input_register.access"] == 2 * ir
    assert got["output_register.access"] == 2 * orr
    assert got["edram.access"] == 2 * (ir + orr)
    assert got["bus.transfer"] == ir + orr
    assert got["tile_output_register.access"] == 2 * orr
    # 32 outputs each merge 2 row-tile partial sums once per position
    assert got["tile_shift_add.accumulate"] == P * 32
    # the 16 x 8 x 8 input arrives once over the NoC, 1 hop
    assert got["router.transfer"] == 16 * 8 * 8 * 16 * d.noc.avg_hops
    # only the host's traffic leaves the chip: the 16 x 8 x 8 input and 32 x 8 x 8 results
    assert got["offchip_link.transfer"] == (16 + 32) * 8 * 8 * 16


def test_conversions_conserve_mac_slices():
    # for crossbars whose rows are all used: conversions x rows
    #   = MACs x cells per weight x input cycles (every MAC slice is summed on a column)
    arch = isaac_arch()
    d = arch.design
    b = NetBuilder("c", (64, 6, 6))
    b.conv("conv", 48, 1)                      # 1x1x64 = 64 rows, all used; 48 outputs
    net = b.build()
    m = map_network(net, arch)
    got = per_action(count_matrix(m)[0])
    rows = m.layers[0].xb_rows
    assert (rows == 64).all()
    assert got["adc.convert"] * 64 == net.macs * d.cells_per_weight * d.input_cycles


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ou", [(0, 0), (16, 16), (9, 4), (128, 1)])
def test_geometry_and_max_steps_match_the_crossbar_by_crossbar_reference(seed, ou):
    from pimsim.kernels.counts import (_geometry_reference, _max_steps_reference,
                                       copy_geometry, max_steps)
    ptr, rows, cols, outs, _ = random_inputs(np.random.default_rng(seed), 12, 5)
    np.testing.assert_array_equal(copy_geometry(ptr, rows, cols, outs, *ou),
                                  _geometry_reference(ptr, rows, cols, outs, *ou))
    np.testing.assert_array_equal(max_steps(ptr, rows, cols, *ou),
                                  _max_steps_reference(ptr, rows, cols, *ou))


# -- the kernels against the read-by-read reference, and counts worked out by hand -------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pimsim.kernels.counts import (A_ADC, A_BUS, A_DAC, A_EDRAM, A_IR, A_OFF,  # noqa: E402
                                   A_OR, A_ROUTER, A_SA, A_SH, A_TOR, A_TSA, A_XB, ou_reads)


@st.composite
def small_layers(draw):
    """A few layers of a few small crossbars (1..40 used rows, 1..40 converted columns),
    per-layer scalars, design numbers and an OU (0 = the whole array)."""
    n = draw(st.integers(0, 4))
    sizes = [draw(st.integers(0, 3)) for _ in range(n)]
    total = sum(sizes)
    rows = draw(st.lists(st.integers(1, 40), min_size=total, max_size=total))
    cols = draw(st.lists(st.integers(1, 40), min_size=total, max_size=total))
    outs = draw(st.lists(st.integers(1, 12), min_size=total, max_size=total))
    scal = draw(st.lists(st.lists(st.integers(0, 1000), min_size=len(SCALARS),
                                  max_size=len(SCALARS)), min_size=n, max_size=n))
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    arrays = (ptr, np.array(rows, np.int64), np.array(cols, np.int64), np.array(outs, np.int64),
              np.array(scal, np.int64).reshape(n, len(SCALARS)))
    design = (draw(st.integers(1, 8)), draw(st.integers(1, 16)), draw(st.integers(1, 16)),
              draw(st.sampled_from([1.0, 2.5])))
    ou = (draw(st.sampled_from([0, 1, 3, 8, 16])), draw(st.sampled_from([0, 1, 4, 16])))
    return arrays, design, ou


@settings(max_examples=150, deadline=None)
@given(small_layers())
def test_layer_counts_match_the_read_by_read_reference(case):
    arrays, design, ou = case
    np.testing.assert_array_equal(layer_counts(*arrays, *design, *ou),
                                  _reference(*arrays, *design, *ou))


def test_ou_reads_walk_the_array_by_hand():
    # 20 rows x 24 columns on 8 x 16 OUs: row groups of 8, 8, 4 rows, column groups of 16
    # and 8 columns, stepped row group by row group
    assert ou_reads(20, 24, 8, 16) == [(8, 16), (8, 8), (8, 16), (8, 8), (4, 16), (4, 8)]
    assert ou_reads(20, 24, 0, 0) == [(20, 24)]          # the whole array in one read
    assert ou_reads(5, 8, 8, 16) == [(5, 8)]             # smaller than one OU


def test_two_crossbars_on_operation_units_by_hand():
    # one layer, two crossbars of one copy, 8 x 16 OUs, 2 input cycles (bit-slices), 8-bit
    # inputs, 16-bit outputs, 3 positions, 2 row-tile merges per position, 5 residual adds,
    # 100 NoC bits at 1.5 hops, 7 activation and 9 pooling ops, 64 off-chip bits
    #   crossbar A: 20 rows x 24 columns, 3 outputs: row groups 8, 8, 4 x column groups
    #     16, 8 -> 6 reads per bit-slice; each row is driven once per column group:
    #     20 x 2 = 40 drives; each row group converts all 24 columns: 3 x 24 = 72
    #   crossbar B: 5 rows x 8 columns, 1 output: one OU read, 5 drives, 8 conversions
    #   per position and bit-slice: 7 reads, 45 drives, 80 conversions
    ptr = np.array([0, 2])
    rows, cols, outs = np.array([20, 5]), np.array([24, 8]), np.array([3, 1])
    scalars = np.array([[3, 2, 7, 9, 5, 100, 64]])
    got = dict(zip(ACTIONS, layer_counts(ptr, rows, cols, outs, scalars, 2, 8, 16, 1.5,
                                         8, 16)[0]))
    want = dict(zip(ACTIONS, _reference(ptr, rows, cols, outs, scalars, 2, 8, 16, 1.5,
                                        8, 16)[0]))
    ir = 3 * (20 + 5) * 8                  # 600 input bits into the input registers
    orr = 3 * (3 + 1) * 16                 # 192 output bits out of the output registers
    hand = {"crossbar.read": 3 * 2 * 7,                       # 42
            "dac.drive": 3 * 2 * 45,                          # 270
            "sample_hold.sample": 3 * 2 * 80,                 # 480
            "adc.convert": 480, "shift_add.accumulate": 480,
            "input_register.access": 2 * ir,                  # written once, read once
            "output_register.access": 2 * orr,
            "edram.access": 2 * (ir + orr),                   # 1584
            "bus.transfer": ir + orr,                         # 792
            "tile_output_register.access": 2 * orr,           # 384
            "tile_shift_add.accumulate": 3 * 2 + 5,           # merges x positions + adds
            "router.transfer": 100 * 1.5,
            "activation.op": 7, "maxpool.op": 9, "offchip_link.transfer": 64}
    assert got == hand
    assert want == hand


def test_isaac_whole_array_reads_by_hand():
    # ISAAC-style: whole-array reads, 16 input cycles of 1 bit, 16-bit inputs and outputs;
    # a copy of a 3x3 conv 16 -> 32 (rows 144 = 128 + 16, 32 weights x 8 cells = 256
    # columns = 2 column tiles): 4 crossbars of 128/128/16/16 rows, 128 columns, 16
    # outputs each; 64 positions; 32 merges per position
    ptr = np.array([0, 4])
    rows, cols, outs = np.array([128, 128, 16, 16]), np.full(4, 128), np.full(4, 16)
    scalars = np.array([[64, 32, 0, 0, 0, 0, 0]])
    for fn in (layer_counts, _reference):
        c = fn(ptr, rows, cols, outs, scalars, 16, 16, 16, 1.0)[0]
        assert c[A_XB] == 64 * 16 * 4                  # 4,096 reads: 4 crossbars a slice
        assert c[A_DAC] == 64 * 16 * 288               # every used row once a slice
        assert c[A_SH] == c[A_ADC] == c[A_SA] == 64 * 16 * 512
        assert c[A_IR] == 2 * 64 * 288 * 16
        assert c[A_OR] == c[A_TOR] == 2 * 64 * 64 * 16
        assert c[A_EDRAM] == 2 * (64 * 288 * 16 + 64 * 64 * 16)
        assert c[A_BUS] == 64 * 288 * 16 + 64 * 64 * 16
        assert c[A_TSA] == 64 * 32
        assert c[A_ROUTER] == c[A_OFF] == 0


@pytest.mark.parametrize("rows,cols", [(20, 24), (128, 128), (1, 1), (17, 33)])
@pytest.mark.parametrize("ou", [(0, 0), (8, 16), (16, 16), (1, 4)])
def test_ou_geometry_is_the_walk_summed(rows, cols, ou):
    # ou_geometry's (steps, drives, conversions) per bit-slice: the reads of the walk, the
    # rows they drive and the columns they convert
    reads = ou_reads(rows, cols, *ou)
    from pimsim.kernels.counts import ou_geometry
    assert ou_geometry(rows, cols, *ou) == (len(reads), sum(r for r, _ in reads),
                                            sum(c for _, c in reads))
