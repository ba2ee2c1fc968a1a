"""Image 0 through one MVM layer's copies without queueing, unit by unit (the closed
form's row schedule, :func:`pimsim.sim.stages._copy_rows`): a numba kernel and the
plain-numpy :func:`copy_rows_reference` it is tested against.

Inputs: ``ppr[copies, rows]`` positions of each copy in each output row; per row
``avail`` (when its inputs are all there, ns), ``held`` (how long the first part's
output register is held after its write, ns) and ``wait`` (when its slots in the
consumers' buffers are free, ns; used only where ``has_wait``); per position
``fetch_ns`` and ``drain_ns``; ``write_ns`` before a copy's first unit; ``t_read``,
``period`` (max(read, conversion)) and ``t_conv`` per read; ``cycles`` reads per
position, of which ``keep`` are stepped (``ceil`` per unit when ``keep < 1``).
Outputs: (end of every row's last output stage; ``ends[copies, rows]``, each copy's
eDRAM write end per row, -inf where it has none; the copy whose part of each row is
written first; the latest start of a unit of each row, -inf where none), ns.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def copy_rows(ppr, avail, held, wait, has_wait, write_ns, fetch_ns, t_read, period, t_conv,
              drain_ns, cycles, keep):
    c, rows = ppr.shape
    go = np.zeros(c)
    adc = np.zeros(c)
    stage = np.zeros(c)
    first = np.ones(c, dtype=np.bool_)
    ends = np.full((c, rows), -np.inf)
    first_part = np.zeros(rows, dtype=np.int64)
    started = np.full(rows, -np.inf)
    for r in range(rows):
        best = np.inf
        j = -1
        for k in range(c):
            if ppr[k, r] <= 0:
                continue
            n = float(ppr[k, r])
            m = n * cycles if keep == 1.0 else float(math.ceil(n * cycles * keep))
            b = max(go[k], avail[r]) + (write_ns if first[k] else 0.0)
            f = b + n * fetch_ns
            if m > 0:
                cs = max(f + t_read, adc[k])
                last = cs + (m - 1) * period
                ready = last + period
                adc[k] = last + t_conv
            else:
                last = f
                ready = f
            go[k] = max(last, stage[k])
            wrote = max(ready, stage[k]) + n * drain_ns
            ends[k, r] = wrote
            stage[k] = wrote
            if wrote < best:
                best = wrote
                j = k
            if b > started[r]:
                started[r] = b
            first[k] = False
        if j < 0:
            continue
        first_part[r] = j
        if has_wait and wait[r] > stage[j]:
            stage[j] = wait[r]
        stage[j] += held[r]
    done = np.full(rows, -np.inf)
    for r in range(rows):
        jr = first_part[r]
        for k in range(c):
            v = ends[k, r]
            if k == jr:
                if has_wait and wait[r] > v:
                    v = wait[r]
                if ppr[k, r] > 0:
                    v += held[r]
            if v > done[r]:
                done[r] = v
    return done, ends, first_part, started


def copy_rows_reference(ppr, avail, held, wait, has_wait, write_ns, fetch_ns, t_read, period,
                        t_conv, drain_ns, cycles, keep):
    """The same in numpy, row by row over the copies holding a part of it."""
    c, rows = ppr.shape
    go = np.zeros(c)
    adc = np.zeros(c)
    stage = np.zeros(c)
    first = np.ones(c, dtype=bool)
    ends = np.full((c, rows), -np.inf)
    first_part = np.zeros(rows, dtype=np.int64)
    started = np.full(rows, -np.inf)
    for r in range(rows):
        k = np.nonzero(ppr[:, r])[0]
        if not k.size:
            continue
        n = ppr[k, r].astype(float)
        m = n * cycles if keep == 1.0 else np.ceil(n * cycles * keep)
        b = np.maximum(go[k], avail[r]) + np.where(first[k], write_ns, 0.0)
        f = b + n * fetch_ns
        cs = np.maximum(f + t_read, adc[k])
        last = np.where(m > 0, cs + (m - 1) * period, f)
        ready = np.where(m > 0, last + period, f)
        adc[k] = np.where(m > 0, last + t_conv, adc[k])
        go[k] = np.maximum(last, stage[k])
        wrote = np.maximum(ready, stage[k]) + n * drain_ns
        ends[k, r] = wrote
        j = int(np.argmin(wrote))
        first_part[r] = k[j]
        stage[k] = wrote
        if has_wait and wait[r] > stage[k[j]]:
            stage[k[j]] = wait[r]
        stage[k[j]] += held[r]
        started[r] = b.max()
        first[k] = False
    done = ends.copy()
    ar = np.arange(rows)
    if has_wait:
        done[first_part, ar] = np.maximum(done[first_part, ar], wait)
    done[first_part, ar] += np.where(ppr[first_part, ar] > 0, held, 0.0)
    return done.max(axis=0), ends, first_part, started
