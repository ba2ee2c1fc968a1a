"""Throughput of the per-cell write kernel: cell-updates/s (cells examined per second).

    PYTHONPATH=. python benchmarks/bench_endurance.py

A "cell update" is one (weight, cell) examined by one reprogramming: weights x cells per
weight. ISAAC cells (16-bit offset weights, 2 bits per cell: 8 cells per weight),
128 x 128 crossbars, every weight changed by a small step (SGD-like), and a worst case
where every weight takes an unrelated value.
"""

from __future__ import annotations

import time

import numpy as np

from pimsim.kernels.endurance import _reference, count_writes

XR, WPR, BITS, BPC = 128, 16, 16, 2


def _case(rows: int, cols: int, seed: int = 0, jump: bool = False):
    rng = np.random.default_rng(seed)
    q_old = rng.integers(-20000, 20000, size=(1, rows, cols)).astype(np.int32)
    if jump:        # worst case: unrelated new values, most slices change
        q_new = rng.integers(-20000, 20000, size=q_old.shape).astype(np.int32)
    else:
        q_new = (q_old + rng.integers(-3, 4, size=q_old.shape)).astype(np.int32)
    n_xb = -(-rows // XR) * -(-cols // WPR)
    row_map = np.tile(np.arange(XR, dtype=np.int32), (n_xb, 1))
    return q_old, q_new, row_map, n_xb


def _time(fn, q_old, q_new, row_map, n_xb, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        counts = np.zeros((n_xb, XR, WPR * BITS // BPC), np.int64)
        rows = np.zeros(n_xb, np.int64)
        t = time.perf_counter()
        fn(q_old, q_new, row_map, counts, rows, BITS, BPC, False, False, XR, WPR)
        best = min(best, time.perf_counter() - t)
    return best


def main(rows: int = 2048, cols: int = 512, repeat: int = 5) -> dict:
    """Print and return cell-updates/s of the numba kernel and the numpy reference."""
    q_old, q_new, row_map, n_xb = _case(rows, cols)
    _time(count_writes, q_old[:, :8, :8], q_new[:, :8, :8], row_map[:1], 1, 1)   # compile
    cells = q_old.size * BITS // BPC
    t_kernel = _time(count_writes, q_old, q_new, row_map, n_xb, repeat)
    t_ref = _time(_reference, q_old, q_new, row_map, n_xb, 1)
    t_jump = _time(count_writes, *_case(rows, cols, jump=True), repeat)
    out = {"cells": cells, "kernel_cell_updates_per_s": cells / t_kernel,
           "reference_cell_updates_per_s": cells / t_ref, "speedup": t_ref / t_kernel,
           "kernel_worst_case_cell_updates_per_s": cells / t_jump}
    print(f"per-cell write kernel: {rows} x {cols} weights, {cells:,} cells per reprogramming")
    print(f"  numba     {out['kernel_cell_updates_per_s']:.3e} cell-updates/s (one core)")
    print(f"  numpy ref {out['reference_cell_updates_per_s']:.3e} cell-updates/s")
    print(f"  speedup   {out['speedup']:.1f}x")
    print(f"  numba, unrelated new values (most cells change) "
          f"{out['kernel_worst_case_cell_updates_per_s']:.3e} cell-updates/s")
    return out


if __name__ == "__main__":
    main()
