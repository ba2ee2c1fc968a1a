"""Per-cell write kernels: numba vs numpy reference, and hand-checked level changes."""

import numpy as np
import pytest

from pimsim.kernels.endurance import (_reference, count_writes, remap_writes,
                                      remap_writes_reference)


def random_case(rng, g, r, c, xr, wpr, weight_bits, bpc, differential, change=0.5):
    qmax = 2 ** (weight_bits - 1) - 1
    q_old = rng.integers(-qmax, qmax + 1, size=(g, r, c)).astype(np.int32)
    step = rng.integers(-3, 4, size=(g, r, c)) * (rng.random((g, r, c)) < change)
    q_new = np.clip(q_old + step, -qmax, qmax).astype(np.int32)
    # some weights jump to an unrelated value (sign flips, high slices)
    jump = rng.random((g, r, c)) < 0.2
    q_new[jump] = rng.integers(-qmax, qmax + 1, size=int(jump.sum()))
    rt, ct = -(-r // xr) if r else 0, -(-c // wpr) if c else 0
    n_xb = g * rt * ct
    cpw = (2 if differential else 1) * (-(-weight_bits // bpc))
    xc = wpr * cpw + int(rng.integers(0, 3))
    row_map = np.array([rng.permutation(xr) for _ in range(n_xb)], np.int32).reshape(n_xb, xr)
    return q_old, q_new, row_map, n_xb, xc


CASES = [
    # g, r, c, xr, wpr, weight_bits, bits_per_cell
    (0, 0, 0, 4, 2, 8, 2),
    (1, 0, 5, 4, 2, 8, 2),
    (1, 5, 0, 4, 2, 8, 2),
    (1, 1, 1, 1, 1, 2, 1),
    (1, 9, 7, 4, 3, 8, 2),
    (2, 13, 17, 8, 4, 16, 2),
    (1, 33, 5, 16, 2, 7, 3),        # weight bits not a multiple of bits per cell
    (3, 6, 6, 6, 6, 4, 4),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("differential", [False, True])
@pytest.mark.parametrize("whole_row", [False, True])
def test_count_writes_matches_reference(case, differential, whole_row):
    g, r, c, xr, wpr, wb, bpc = case
    rng = np.random.default_rng(hash((case, differential, whole_row)) % 2**32)
    q_old, q_new, row_map, n_xb, xc = random_case(rng, g, r, c, xr, wpr, wb, bpc, differential)
    got_c, want_c = np.zeros((n_xb, xr, xc), np.int64), np.zeros((n_xb, xr, xc), np.int64)
    got_r, want_r = np.zeros(n_xb, np.int64), np.zeros(n_xb, np.int64)
    args = (wb, bpc, differential, whole_row, xr, wpr)
    got = count_writes(q_old, q_new, row_map, got_c, got_r, *args)
    want = _reference(q_old, q_new, row_map, want_c, want_r, *args)
    assert got == want == got_c.sum()
    np.testing.assert_array_equal(got_c, want_c)
    np.testing.assert_array_equal(got_r, want_r)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("differential", [False, True])
@pytest.mark.parametrize("whole_row", [False, True])
def test_remap_writes_matches_reference(case, differential, whole_row):
    g, r, c, xr, wpr, wb, bpc = case
    rng = np.random.default_rng(1 + hash((case, differential)) % 2**31)
    q, _, old_map, n_xb, xc = random_case(rng, g, r, c, xr, wpr, wb, bpc, differential)
    new_map = np.array([rng.permutation(xr) for _ in range(n_xb)], np.int32).reshape(n_xb, xr)
    if n_xb:
        new_map[0] = old_map[0]       # one crossbar unchanged: no writes there
    got_c, want_c = np.zeros((n_xb, xr, xc), np.int64), np.zeros((n_xb, xr, xc), np.int64)
    got_r, want_r = np.zeros(n_xb, np.int64), np.zeros(n_xb, np.int64)
    args = (wb, bpc, differential, whole_row, xr, wpr)
    got = remap_writes(q, old_map, new_map, got_c, got_r, *args)
    want = remap_writes_reference(q, old_map, new_map, want_c, want_r, *args)
    assert got == want
    np.testing.assert_array_equal(got_c, want_c)
    np.testing.assert_array_equal(got_r, want_r)
    if n_xb:
        assert got_c[0].sum() == 0 and got_r[0] == 0


def one_weight(a, b, differential=False, whole_row=False, wpr=1):
    q_old = np.array([[[a] + [0] * (wpr - 1)]], np.int32)
    q_new = np.array([[[b] + [0] * (wpr - 1)]], np.int32)
    cpw = 16 if differential else 8
    counts = np.zeros((1, 1, wpr * cpw), np.int64)
    rows = np.zeros(1, np.int64)
    n = count_writes(q_old, q_new, np.zeros((1, 1), np.int32), counts, rows, 16, 2,
                     differential, whole_row, 1, wpr)
    return n, counts[0, 0], int(rows[0])


def test_offset_levels_by_hand():
    # ISAAC: 16-bit offset weights, 2 bits per cell, slices most significant first.
    n, counts, rows = one_weight(0, 1)          # 0x8000 -> 0x8001: lowest slice only
    assert n == 1 and counts.tolist() == [0] * 7 + [1] and rows == 1
    n, counts, _ = one_weight(-1, 0)            # 0x7FFF -> 0x8000: every slice
    assert n == 8 and counts.tolist() == [1] * 8
    n, counts, rows = one_weight(5, 5)          # no change: no write, no row pulse
    assert n == 0 and rows == 0


def test_differential_levels_by_hand():
    n, counts, _ = one_weight(1, -1, differential=True)   # pos slice 7 -> 0, neg slice 7 -> 1
    assert n == 2 and counts[7] == 1 and counts[15] == 1


def test_whole_row_rewrites_every_used_cell():
    n, counts, rows = one_weight(0, 1, whole_row=True, wpr=16)
    assert n == 16 * 8 and (counts == 1).all() and rows == 1
