"""numba kernel throughput vs the plain-numpy reference (elements/s and ratio)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.kernels import bitstats as bs  # noqa: E402
from pimsim.kernels import ou_activity as oa  # noqa: E402

REPEATS = 5


def _best(fn, *args) -> float:
    fn(*args)                                   # JIT warm-up / first-call costs
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def _case(kernel: str, elements: int, fn, ref, *args) -> dict:
    t_nb, t_np = _best(fn, *args), _best(ref, *args)
    return {"kernel": kernel, "elements": elements, "numba_s": t_nb, "numpy_s": t_np,
            "numba_elements_per_s": elements / t_nb, "numpy_elements_per_s": elements / t_np,
            "speedup": t_np / t_nb}


def input_activity_case(samples: int = 64, rows: int = 4608, seed: int = 0) -> dict:
    """OU input activity of sampled 16-bit activations (a 3x3x512 layer's receptive fields,
    ISAAC's 1-bit DAC and 128-row tiles, 16-row OUs): elements = activation values."""
    acts = np.random.default_rng(seed).integers(0, 1 << 16, (samples, rows)).astype(np.int64)
    args = (acts, 16, 1, 128, 16)
    return _case("input_activity", acts.size, oa.input_activity, oa.input_activity_reference,
                 *args)


def bit_zero_case(samples: int = 256, rows: int = 1152, seed: int = 1) -> dict:
    """Zero bits and zero bit-slices of 8-bit activations in groups of 128 rows."""
    acts = np.random.default_rng(seed).integers(0, 256, (samples, rows)).astype(np.int64)
    return _case("act_bit_zero_counts", acts.size, bs.act_bit_zero_counts,
                 bs.act_bit_zero_counts_reference, acts, 8, 128)


def run() -> list[dict]:
    return [input_activity_case(), bit_zero_case()]


if __name__ == "__main__":
    for row in run():
        print(row)
