"""OU zero bit-slice kernel: numba equals the numpy reference; hand-made cases."""

import numpy as np
import pytest

from pimsim.kernels.ou_stats import _reference, ou_zero_counts, ou_zero_stats


@pytest.mark.parametrize("m,rows,bits,tile,ou", [
    (0, 5, 8, 4, 2), (1, 1, 1, 1, 1), (7, 37, 8, 16, 4), (5, 130, 16, 128, 16),
    (3, 64, 8, 64, 64), (4, 10, 4, 3, 5)])
def test_kernel_matches_reference(m, rows, bits, tile, ou):
    rng = np.random.default_rng(m * 1000 + rows)
    # sparse inputs so that zero slices actually occur
    a = rng.integers(0, 1 << bits, size=(m, rows)) * (rng.random((m, rows)) < 0.2)
    got = ou_zero_counts(a.astype(np.int64), bits, tile, ou)
    ref = _reference(a.astype(np.int64), bits, tile, ou)
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)


def test_hand_case():
    # 1 vector, 4 rows, tile 4, OU 2: rows (1, 0 | 0, 0) with 2 bits
    s = ou_zero_stats(np.array([[1, 0, 0, 0]]), bits=2, tile_rows=4, ou_rows=2)
    # OU0: bit0 nonzero, bit1 zero; OU1: both zero -> 3 of 4 OU slices zero
    assert s["ou"][0] == pytest.approx(3 / 4)
    assert s["rows"][0] == pytest.approx(6 / 8)
    assert s["xb"][0] == pytest.approx(1 / 2)      # bit1 zero on the whole crossbar


def test_all_zero_and_all_ones():
    assert ou_zero_stats(np.zeros((3, 9)), 8, 4, 2)["xb"].tolist() == [1.0, 1.0, 1.0]
    s = ou_zero_stats(np.full((3, 9), 255), 8, 4, 2)
    assert s["ou"].max() == 0 and s["xb"].max() == 0


def test_rejects_out_of_range():
    with pytest.raises(ValueError):
        ou_zero_stats(np.array([[256]]), 8, 4, 2)
