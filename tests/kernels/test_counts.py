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
