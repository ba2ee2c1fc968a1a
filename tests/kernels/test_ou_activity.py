"""OU activity kernels against their plain-numpy twins and against hand counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.kernels.ou_activity import (input_activity, input_activity_reference, n_groups,
                                        weight_activity, weight_activity_reference)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(0, 6), rows=st.integers(1, 40), bits=st.sampled_from([1, 2, 4, 8]),
       db=st.sampled_from([1, 2]), tile=st.integers(1, 20), ou=st.integers(1, 9),
       seed=st.integers(0, 99))
def test_input_activity_matches_reference(m, rows, bits, db, tile, ou, seed):
    if bits % db:
        db = 1
    rng = np.random.default_rng(seed)
    acts = rng.integers(0, 1 << bits, (m, rows)) * (rng.random((m, rows)) < 0.5)
    got = input_activity(acts.astype(np.int64), bits // db, db, tile, ou)
    want = input_activity_reference(acts, bits // db, db, tile, ou)
    np.testing.assert_allclose(got[0], want[0])
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_array_equal(g, w)
    assert got[2].size == n_groups(rows, tile, ou)


def test_input_activity_by_hand():
    # 2 vectors, 4 rows, 2-bit values, one tile, OUs of 2 rows
    acts = np.array([[0, 1, 0, 0],      # OU0: bit0 set, bit1 zero; OU1: both zero
                     [2, 2, 3, 0]])     # OU0: bit1 set;           OU1: bits 0 and 1 set
    drive, nonzero, zero = input_activity(acts, 2, 1, 4, 2)
    np.testing.assert_array_equal(nonzero, [1, 2, 2, 0])
    np.testing.assert_allclose(drive, [1, 2, 2, 0])
    # zero (vector, bit) slices: OU0: v0 bit1, v1 bit0 -> 2; OU1: v0 bits 0, 1 -> 2
    np.testing.assert_array_equal(zero, [2, 2])


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 30), cells=st.integers(1, 40), tile=st.integers(1, 16),
       ou=st.integers(1, 8), xb=st.integers(1, 24), ouc=st.integers(1, 8),
       seed=st.integers(0, 99))
def test_weight_activity_matches_reference(rows, cells, tile, ou, xb, ouc, seed):
    rng = np.random.default_rng(seed)
    lv = rng.integers(0, 4, (rows, cells)) * (rng.random((rows, cells)) < 0.3)
    got = weight_activity(lv.astype(np.int64), 3, 0.1, tile, ou, xb, ouc)
    want = weight_activity_reference(lv, 3, 0.1, tile, ou, xb, ouc)
    np.testing.assert_allclose(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])


def test_weight_activity_by_hand():
    lv = np.zeros((4, 4), dtype=np.int64)
    lv[0, 3] = 3                                   # one live cell, in OU (rows 0-1, cols 2-3)
    gsum, ous, cols = weight_activity(lv, 3, 0.25, 4, 2, 4, 2)
    # relative conductance: 0.25 per empty cell, 1.0 at the top level
    assert gsum[0, 0] == pytest.approx(3 * 0.25 + 1.0)
    assert gsum[1, 0] == pytest.approx(4 * 0.25)
    np.testing.assert_array_equal(ous, [[1], [0]])
    np.testing.assert_array_equal(cols, [[2], [0]])
