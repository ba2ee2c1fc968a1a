"""The row-schedule kernel of one MVM layer's copies against its numpy reference."""

import numpy as np
import pytest

from pimsim.kernels.copy_rows import copy_rows, copy_rows_reference


@pytest.mark.parametrize("seed", range(6))
def test_kernel_equals_reference(seed):
    rng = np.random.default_rng(seed)
    c, rows = int(rng.integers(1, 9)), int(rng.integers(1, 12))
    ppr = rng.integers(0, 3, size=(c, rows)).astype(np.int64)
    ppr[0, ppr.sum(axis=0) == 0] = 1                 # every row has a part
    avail = np.sort(rng.uniform(0, 500, rows))
    held = rng.uniform(0, 20, rows) * (rng.random(rows) < 0.5)
    wait = rng.uniform(0, 800, rows)
    for has_wait in (False, True):
        for keep in (1.0, 0.6):
            args = (ppr, avail, held, wait, has_wait, 7.0 * (seed % 2), 3.0, 100.0, 120.0,
                    110.0, 5.0, 16.0, keep)
            got = copy_rows(*args)
            ref = copy_rows_reference(*args)
            for g, r in zip(got, ref):
                np.testing.assert_array_equal(g, r)


def test_one_copy_by_hand():
    # one copy, two rows of one position, 2 reads each of 100 ns (period 100, conversion
    # 100), fetch 10, drain 5: row 0 starts at 0, fetch to 10, reads sampled at 110 and
    # 210, ready 310, written 315; the copy goes on at 210 (its register holds row 0):
    # row 1 fetches 210-220, samples 320 and 420, ready 520, written 525
    ppr = np.array([[1, 1]], dtype=np.int64)
    done, ends, first, started = copy_rows(ppr, np.zeros(2), np.zeros(2), np.zeros(2), False,
                                           0.0, 10.0, 100.0, 100.0, 100.0, 5.0, 2.0, 1.0)
    np.testing.assert_allclose(done, [315.0, 525.0])
    np.testing.assert_allclose(started, [0.0, 210.0])
    # row 0's slot frees at 600: its register is held to 600, so row 1 (computed from
    # 210) is written at max(ready 520, 600) + 5 = 605, and row 0 is done at 600
    done, _, _, _ = copy_rows(ppr, np.zeros(2), np.zeros(2), np.array([600.0, 0.0]), True,
                              0.0, 10.0, 100.0, 100.0, 100.0, 5.0, 2.0, 1.0)
    np.testing.assert_allclose(done, [600.0, 605.0])
