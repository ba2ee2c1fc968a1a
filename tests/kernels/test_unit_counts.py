"""Engine unit counts: vectorized vs unit-by-unit reference, edge shapes, conservation."""

import numpy as np
import pytest

from pimsim.kernels import unit_counts as uc
from pimsim.kernels.counts import N_ACTIONS, layer_counts


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


@pytest.mark.parametrize("seed,n_layers,n_units", [(0, 5, 40), (1, 1, 1), (2, 3, 0), (3, 0, 0),
                                                   (4, 8, 500)])
def test_unit_counts_matches_reference(seed, n_layers, n_units):
    rng = np.random.default_rng(seed)
    ptr, rows, cols, outs, merges = _random_layers(rng, n_layers, 6)
    lay = rng.integers(0, max(n_layers, 1), n_units).astype(np.int64) if n_layers else \
        np.zeros(0, np.int64)
    pos = rng.integers(0, 300, lay.size).astype(np.int64)
    args = (lay, pos, ptr, rows, cols, outs, merges, 16, 16, 16)
    got = uc.unit_counts(*args)
    assert got.shape == (lay.size, N_ACTIONS)
    np.testing.assert_array_equal(got, uc._reference(*args))


def test_units_of_a_layer_sum_to_its_per_image_counts():
    # the counts of a layer's units (all positions of one image) equal layer_counts'
    # position-dependent columns: same rules, split by position
    rng = np.random.default_rng(7)
    ptr, rows, cols, outs, merges = _random_layers(rng, 1, 9)
    positions = 37
    split = uc.split_even(positions, 5)
    lay = np.zeros(split.size, np.int64)
    units = uc.unit_counts(lay, split, ptr, rows, cols, outs, merges, 8, 16, 16).sum(axis=0)
    scalars = np.array([[positions, merges[0], 0, 0, 0, 0, 0]], dtype=np.int64)
    whole = layer_counts(ptr, rows, cols, outs, scalars, 8, 16, 16, 1.0)[0]
    np.testing.assert_array_equal(units, whole)


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
    got = uc.split_even(total, parts)
    np.testing.assert_array_equal(got, uc._split_even_reference(total, parts))
    if parts:
        assert got.sum() == total and got.max() - got.min() <= 1
