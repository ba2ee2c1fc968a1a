"""The numba crossbar kernel against its plain-numpy reference and against a by-hand case."""

import numpy as np
import pytest

from pimsim.functional.kernel import crossbar_mvm, crossbar_mvm_reference


def _args(rng, n, rows, ncols, block, dac, cycles, *, flip=False, offset=0.0, lsb=1.0,
          lo=0.0, hi=255.0, levels=3.0, g_off=0.0, read=0.0, noise=0.0, exact=True, seed=7):
    bits = dac * cycles
    x = rng.integers(0, 1 << bits, (n, rows)).astype(np.uint16)
    x[rng.random((n, rows)) < 0.4] = 0          # sparse, like post-ReLU codes
    g = rng.integers(0, int(levels) + 1, (rows, ncols)).astype(np.float32)
    if not exact:
        g = (g + rng.normal(0, 0.3, g.shape)).astype(np.float64)
    blocks = max(1, -(-rows // block))
    fl = (rng.random((blocks, ncols)) < 0.5).astype(np.uint8) if flip else \
        np.zeros((blocks, ncols), np.uint8)
    off = rng.normal(0, offset, (blocks, ncols)) if offset else np.zeros((blocks, ncols))
    return (x, g, fl, off, block, dac, cycles, lsb, lo, hi, levels, g_off, read, noise, seed)


CASES = [
    dict(n=5, rows=9, ncols=4, block=128, dac=1, cycles=8),
    dict(n=3, rows=300, ncols=17, block=128, dac=1, cycles=8, flip=True),
    dict(n=4, rows=70, ncols=6, block=32, dac=2, cycles=4, hi=63.0),          # clipping
    dict(n=2, rows=40, ncols=5, block=16, dac=1, cycles=6, lsb=4.0, hi=15.0),  # coarse LSB
    dict(n=3, rows=50, ncols=8, block=64, dac=1, cycles=8, lo=-128.0, hi=127.0, exact=False),
    dict(n=3, rows=50, ncols=8, block=64, dac=1, cycles=8, g_off=0.25, exact=False, flip=True),
    dict(n=130, rows=20, ncols=3, block=8, dac=4, cycles=2, hi=1023.0),       # > one chunk
    dict(n=0, rows=10, ncols=3, block=8, dac=1, cycles=8),                    # empty batch
    dict(n=2, rows=10, ncols=0, block=8, dac=1, cycles=8),                    # no columns
]


@pytest.mark.parametrize("case", CASES)
def test_kernel_matches_reference(case):
    args = _args(np.random.default_rng(1), **case)
    got, want = crossbar_mvm(*args), crossbar_mvm_reference(*args)
    assert got.shape == want.shape == (case["n"], case["ncols"])
    if case.get("exact", True):
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3 * 2 ** 8)


@pytest.mark.parametrize("noise", [dict(read=0.05), dict(noise=0.7), dict(offset=0.4, noise=0.3)])
def test_kernel_noise_matches_reference(noise):
    """Same counter-based normals in both: equal except where the last float bit of a
    log/cos moves a value across a rounding boundary (rare)."""
    args = _args(np.random.default_rng(2), n=40, rows=100, ncols=12, block=64, dac=1,
                 cycles=8, hi=511.0, **noise)
    got, want = crossbar_mvm(*args), crossbar_mvm_reference(*args)
    assert np.mean(got != want) < 0.01
    assert not np.array_equal(got, crossbar_mvm(*args[:-1], 8))       # the seed matters
    np.testing.assert_array_equal(got, crossbar_mvm(*args))           # and repeats exactly


def test_kernel_by_hand():
    """Two rows, one 1-bit DAC cycle pair, a flipped column and a clipped one."""
    x = np.array([[3, 1]], np.uint8)                  # bits: row0 = 11, row1 = 01
    g = np.array([[2.0, 1.0, 3.0], [3.0, 0.0, 3.0]], np.float32)
    flip = np.array([[0, 1, 0]], np.uint8)
    off = np.zeros((1, 3))
    out = crossbar_mvm(x, g, flip, off, 128, 1, 2, 1.0, 0.0, 5.0, 3.0, 0.0, 0.0, 0.0, 0)
    # cycle 0: both rows on: sums 5, 1, 6 -> codes 5, 1, 5 (clipped); column 1 flipped: 3*2-1 = 5
    # cycle 1: row 0 only:   sums 2, 1, 3 -> codes 2, 1, 3;           flipped: 3*1-1 = 2
    np.testing.assert_array_equal(out, [[5 + 2 * 2, 5 + 2 * 2, 5 + 2 * 3]])
