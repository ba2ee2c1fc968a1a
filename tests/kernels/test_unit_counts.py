"""Engine unit counts: vectorized vs unit-by-unit reference, edge shapes, conservation."""

import numpy as np
import pytest

from pimsim.kernels import unit_counts as uc
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.kernels.counts import ACTIONS, N_ACTIONS, _reference, layer_counts


def _random_layers(rng, n_layers, max_xb):
    sizes = rng.integers(0, max_xb + 1, n_layers)
    ptr = np.zeros(n_layers + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    n = int(ptr[-1])
    rows = rng.integers(1, 129, n).astype(np.int64)
    cols = rng.integers(1, 129, n).astype(np.int64)
    outs = rng.integers(1, 17, n).astype(np.int64)
    merges = rng.integers(0, 500, n_layers).astype(np.int64)
    return ptr, rows, cols, outs, merges


@pytest.mark.parametrize("ou", [(0, 0), (16, 16), (9, 4)])
@pytest.mark.parametrize("seed,n_layers,n_units", [(0, 5, 40), (1, 1, 1), (2, 3, 0), (3, 0, 0),
                                                   (4, 8, 500)])
def test_unit_counts_matches_reference(seed, n_layers, n_units, ou):
    # the reference counts one position of the unit's layer read by read
    # (pimsim.kernels.counts._position_reference), not with the kernel's formulas
    rng = np.random.default_rng(seed)
    ptr, rows, cols, outs, merges = _random_layers(rng, n_layers, 6)
    lay = rng.integers(0, max(n_layers, 1), n_units).astype(np.int64) if n_layers else \
        np.zeros(0, np.int64)
    pos = rng.integers(0, 300, lay.size).astype(np.int64)
    args = (lay, pos, ptr, rows, cols, outs, merges, 16, 16, 16, *ou)
    got = uc.unit_counts(*args)
    assert got.shape == (lay.size, N_ACTIONS)
    np.testing.assert_array_equal(got, uc._reference(*args))


def test_units_of_a_layer_sum_to_its_per_image_counts():
    # the counts of a layer's units (all positions of one image) equal the per-image
    # counts of the layer, counted read by read by the reference (position by position
    # rules written without the kernels' formulas), and layer_counts' columns
    rng = np.random.default_rng(7)
    ptr, rows, cols, outs, merges = _random_layers(rng, 1, 9)
    positions = 37
    split = uc.split_even(positions, 5)
    lay = np.zeros(split.size, np.int64)
    units = uc.unit_counts(lay, split, ptr, rows, cols, outs, merges, 8, 16, 16, 16, 8).sum(axis=0)
    scalars = np.array([[positions, merges[0], 0, 0, 0, 0, 0]], dtype=np.int64)
    want = _reference(ptr, rows, cols, outs, scalars, 8, 16, 16, 1.0, 16, 8)[0]
    np.testing.assert_array_equal(units, want)
    whole = layer_counts(ptr, rows, cols, outs, scalars, 8, 16, 16, 1.0, 16, 8)[0]
    np.testing.assert_array_equal(units, whole)


def test_units_by_hand():
    # one layer of one crossbar, 20 rows x 24 columns, 3 outputs, 8 x 16 OUs, 2 input
    # cycles, 8-bit inputs, 16-bit outputs, 4 merges per position; units of 2 and 5
    # positions. Per position and bit-slice: row groups 8, 8, 4 x column groups 16, 8 =
    # 6 reads, 20 rows x 2 column groups = 40 drives, 3 row groups x 24 columns = 72
    # conversions
    got = uc.unit_counts(np.array([0, 0]), np.array([2, 5]), np.array([0, 1]), np.array([20]),
                         np.array([24]), np.array([3]), np.array([4]), 2, 8, 16, 8, 16)
    for u, p in enumerate((2, 5)):
        c = dict(zip(ACTIONS, got[u]))
        ir, orr = p * 20 * 8, p * 3 * 16
        assert c["crossbar.read"] == p * 2 * 6
        assert c["dac.drive"] == p * 2 * 40
        assert c["adc.convert"] == c["sample_hold.sample"] == c["shift_add.accumulate"] \
            == p * 2 * 72
        assert c["input_register.access"] == 2 * ir
        assert c["output_register.access"] == c["tile_output_register.access"] == 2 * orr
        assert c["edram.access"] == 2 * (ir + orr) and c["bus.transfer"] == ir + orr
        assert c["tile_shift_add.accumulate"] == p * 4
        # position-independent actions are charged per row by the engine, not per unit
        assert c["router.transfer"] == c["activation.op"] == c["maxpool.op"] == 0
        assert c["offchip_link.transfer"] == 0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3), st.integers(1, 30), st.integers(1, 30), st.integers(0, 50),
       st.sampled_from([(0, 0), (1, 1), (8, 16), (5, 3)]))
def test_unit_counts_match_the_reference_on_small_shapes(n_xb, r, c, p, ou):
    ptr = np.array([0, n_xb])
    rows, cols = np.full(n_xb, r), np.full(n_xb, c)
    outs = np.full(n_xb, 2)
    args = (np.array([0]), np.array([p]), ptr, rows, cols, outs, np.array([3]), 4, 8, 16, *ou)
    np.testing.assert_array_equal(uc.unit_counts(*args), uc._reference(*args))


@pytest.mark.parametrize("h,w,c,g", [(32, 32, 1, 1), (32, 32, 3, 1), (7, 7, 49, 1), (1, 1, 1, 1),
                                     (5, 3, 40, 1), (0, 4, 2, 1), (112, 112, 193, 1), (4, 4, 0, 1),
                                     (224, 224, 113, 14), (7, 7, 2, 3), (5, 9, 4, 9), (3, 5, 2, 8)])
def test_positions_per_row_matches_reference_and_deals_round_robin(h, w, c, g):
    got = uc.positions_per_row(h, w, c, g)
    np.testing.assert_array_equal(got, uc._positions_per_row_reference(h, w, c, g))
    assert got.sum() == (h * w if c > 0 else 0)
    if c > 0 and h * w:
        per_copy = got.sum(axis=1)
        if g == 1:   # position by position: every copy has floor or ceil of P / c
            assert per_copy.max() == -(-h * w // c) and per_copy.min() == h * w // c
        else:        # chunk by chunk: shares differ by at most one chunk
            assert per_copy.max() - per_copy.min() <= g


@pytest.mark.parametrize("total,parts", [(0, 3), (10, 3), (7, 7), (5, 9), (123456789, 1000),
                                         (4, 0)])
def test_split_even_matches_reference_and_sums(total, parts):
    # the reference hands out shares by error accumulation, not from the kernel's edges
    got = uc.split_even(total, parts)
    np.testing.assert_array_equal(got, uc._split_even_reference(total, parts))
    if parts:
        assert got.sum() == total and got.max() - got.min() <= 1


def test_split_even_by_hand():
    # 10 over 3: after each part floor(10 x k / 3) = 3, 6, 10 given -> 3, 3, 4
    assert uc.split_even(10, 3).tolist() == [3, 3, 4]
    # 5 over 9: floor(5 k / 9) for k = 1..9 = 0,1,1,2,2,3,3,4,5 -> 0,1,0,1,0,1,0,1,1
    assert uc.split_even(5, 9).tolist() == [0, 1, 0, 1, 0, 1, 0, 1, 1]
    assert uc.split_even(7, 7).tolist() == [1] * 7
    assert uc.split_even(4, 0).tolist() == []


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 300))
def test_split_even_matches_reference_on_random_totals(total, parts):
    np.testing.assert_array_equal(uc.split_even(total, parts),
                                  uc._split_even_reference(total, parts))
