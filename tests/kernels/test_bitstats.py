"""Bit-statistics kernels: numba == plain-numpy reference, plus hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pimsim.kernels.bitstats import (act_bit_stats, act_bit_zero_counts,
                                     act_bit_zero_counts_reference, offset_encode,
                                     weight_slice_stats, weight_slice_zero_counts,
                                     weight_slice_zero_counts_reference)


@st.composite
def act_case(draw):
    bits = draw(st.integers(1, 16))
    n = draw(st.integers(0, 5))
    rows = draw(st.integers(0, 40))
    group = draw(st.integers(1, 48))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Sparse-ish values so that whole-group zero slices actually occur.
    acts = rng.integers(0, 2**bits, (n, rows)) * (rng.random((n, rows)) < 0.3)
    return acts.astype(np.int64), bits, group


@st.composite
def weight_case(draw):
    bits = draw(st.integers(1, 16))
    bpc = draw(st.integers(1, bits))
    rows = draw(st.integers(0, 40))
    cols = draw(st.integers(0, 6))
    group = draw(st.integers(1, 48))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.integers(0, 2**bits, (rows, cols)) * (rng.random((rows, cols)) < 0.5)
    return w.astype(np.int64), bits, bpc, group


@settings(max_examples=150, deadline=None)
@given(act_case())
def test_act_kernel_matches_reference(case):
    acts, bits, group = case
    got = act_bit_zero_counts(acts, bits, group)
    want = act_bit_zero_counts_reference(acts, bits, group)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@settings(max_examples=150, deadline=None)
@given(weight_case())
def test_weight_kernel_matches_reference(case):
    w, bits, bpc, group = case
    got = weight_slice_zero_counts(w, bits, bpc, group)
    want = weight_slice_zero_counts_reference(w, bits, bpc, group)
    for g, r in zip(got, want):
        np.testing.assert_array_equal(g, r)


def test_act_hand_case():
    # 2 samples x 3 rows, 2-bit values, groups of 2 rows: {rows 0,1} and {row 2}.
    acts = np.array([[1, 0, 2],
                     [0, 0, 3]], dtype=np.uint8)
    zero_bits, zero_slices = act_bit_zero_counts_reference(acts.astype(np.int64), 2, 2)
    # group 0 bit 0: values 1,0,0,0 -> 3 zeros; bit 1: all 4 zero.
    np.testing.assert_array_equal(zero_bits, [[3, 4], [1, 0]])
    # group 0: bit 0 all-zero only in sample 1; bit 1 in both. group 1: bit 0 zero in s0.
    np.testing.assert_array_equal(zero_slices, [[1, 2], [1, 0]])
    frac_bits, frac_slices, skip = act_bit_stats(acts, 2, 2)
    np.testing.assert_allclose(frac_bits, [[0.75, 1.0], [0.5, 0.0]])
    np.testing.assert_allclose(frac_slices, [[0.5, 1.0], [0.5, 0.0]])
    assert skip == pytest.approx(4 / 8)


def test_weight_hand_case():
    # 4-bit weights in 2-bit cells: 0b0100 has a zero low slice and a nonzero high slice.
    w = np.array([[0b0100, 0b0000],
                  [0b0110, 0b0001]])
    zero_cells, zero_cols = weight_slice_zero_counts_reference(w, 4, 2, 2)
    np.testing.assert_array_equal(zero_cells, [[2, 2]])  # low: 0b00,0b00 ; high: col 1 x2
    np.testing.assert_array_equal(zero_cols, [[0, 1]])   # col 1's high slice is all zero
    cell_frac, col_frac, skip = weight_slice_stats(w, 4, 2, 2)
    np.testing.assert_allclose(cell_frac, [[0.5, 0.5]])
    np.testing.assert_allclose(col_frac, [[0.0, 0.5]])
    assert skip == pytest.approx(0.25)


@pytest.mark.parametrize("shape", [(0, 0), (0, 7), (3, 0), (1, 1)])
def test_empty_and_edge_shapes(shape):
    acts = np.zeros(shape, np.uint8)
    zb, zs = act_bit_zero_counts(acts.astype(np.int64), 8, 4)
    rb, rs = act_bit_zero_counts_reference(acts.astype(np.int64), 8, 4)
    np.testing.assert_array_equal(zb, rb)
    np.testing.assert_array_equal(zs, rs)
    assert zb.shape == (-(-shape[1] // 4), 8)
    frac, _, skip = act_bit_stats(acts, 8, 4)
    if shape[0] == 0 or shape[1] == 0:
        assert np.isnan(skip)  # nothing measured
    else:
        assert skip == 1.0 and (frac == 1.0).all()
    w = np.zeros(shape[::-1], np.int64)
    for g, r in zip(weight_slice_zero_counts(w, 8, 2, 4),
                    weight_slice_zero_counts_reference(w, 8, 2, 4)):
        np.testing.assert_array_equal(g, r)


def test_32_bit_values():
    acts = np.array([[2**32 - 1, 0]], dtype=np.uint32)
    zb, zs = act_bit_zero_counts(acts.astype(np.int64), 32, 2)
    assert (zb == 1).all() and (zs == 0).all()


def test_offset_encode_and_input_checks():
    q = np.array([-127, 0, 127], np.int8)
    np.testing.assert_array_equal(offset_encode(q, 8), [1, 128, 255])
    with pytest.raises(ValueError, match="unsigned 8-bit"):
        act_bit_stats(np.array([[256]]), 8, 1)
    with pytest.raises(ValueError, match="group"):
        act_bit_stats(np.zeros((1, 1)), 8, 0)
    with pytest.raises(ValueError, match="bits_per_cell"):
        weight_slice_stats(np.zeros((1, 1)), 4, 5, 1)
