"""numba kernel throughput vs the plain-numpy reference (elements/s and ratio)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.kernels import unit_counts as uc  # noqa: E402

REPEATS = 5


def _best(fn, *args) -> float:
    fn(*args)                                   # JIT warm-up / first-call costs
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def unit_counts_case(n_units: int = 1_000_000, n_layers: int = 60, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 200, n_layers)
    ptr = np.zeros(n_layers + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    n = int(ptr[-1])
    rows, cols = rng.integers(1, 129, n), rng.integers(1, 129, n)
    outs, merges = rng.integers(1, 17, n), rng.integers(0, 1000, n_layers)
    lay = np.sort(rng.integers(0, n_layers, n_units))
    pos = rng.integers(1, 113, n_units)
    args = (lay, pos, ptr, rows, cols, outs, merges, 16, 16, 16)
    t_nb, t_np = _best(uc.unit_counts, *args), _best(uc._reference, *args)
    return {"kernel": "unit_counts", "elements": n_units, "numba_s": t_nb, "numpy_s": t_np,
            "numba_elements_per_s": n_units / t_nb, "numpy_elements_per_s": n_units / t_np,
            "speedup": t_np / t_nb}


def positions_case(h: int = 112, w: int = 112, copies: int = 193) -> dict:
    n = h * w
    t_nb = _best(uc.positions_per_row, h, w, copies)
    t_np = _best(uc._positions_per_row_reference, h, w, copies)
    return {"kernel": "positions_per_row", "elements": n, "numba_s": t_nb, "numpy_s": t_np,
            "numba_elements_per_s": n / t_nb, "numpy_elements_per_s": n / t_np,
            "speedup": t_np / t_nb}


def run() -> list[dict]:
    return [unit_counts_case(), positions_case()]


if __name__ == "__main__":
    for row in run():
        print(row)
