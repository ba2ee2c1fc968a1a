"""Write drivers: time and energy of programming cells (weight load, training updates).

Model (docs/engine.md): a crossbar's ``crossbar.write_drivers`` drivers each program one
row at a time, all its columns in parallel, one ``arch.latency_ns('write_driver', 'write')``
pulse sequence per row; crossbars program in parallel (each has its own drivers). Energy
is ``arch.energy_pJ('write_driver', 'write')`` per cell written.

:func:`program_cost` is pure (per-crossbar rows and cells in, time and energy out), so the
training work can cost any update set; :func:`program_cells` is the same as a simpy
process for use inside a simulation; :func:`weight_load` programs every used cell of a
mapped network (all copies).
"""

from __future__ import annotations

from typing import Generator

import numpy as np
import simpy

from pimsim.arch.compose import Arch
from pimsim.mapping import NetworkMap
from pimsim.result import WeightLoad


def program_cost(arch: Arch, rows_per_crossbar: np.ndarray,
                 cells_per_crossbar: np.ndarray) -> tuple[float, float]:
    """(time ns, energy pJ) to program the given rows / cells of each crossbar.

    ``rows_per_crossbar[i]`` rows holding ``cells_per_crossbar[i]`` written cells in
    crossbar ``i``; crossbars program concurrently, rows in batches of the drivers.
    """
    rows = np.asarray(rows_per_crossbar, dtype=np.int64)
    cells = np.asarray(cells_per_crossbar, dtype=np.float64)
    drivers = arch.design.crossbar.write_drivers
    pulse = arch.latency_ns("write_driver", "write")
    batches = -(-rows // drivers)                       # ceil: row batches per crossbar
    time = float(batches.max()) * pulse if batches.size else 0.0
    energy = float(cells.sum()) * arch.energy_pJ("write_driver", "write")
    return time, energy


def program_cells(env: simpy.Environment, arch: Arch, rows_per_crossbar: np.ndarray,
                  cells_per_crossbar: np.ndarray) -> Generator:
    """simpy process: program the cells, taking :func:`program_cost`'s time; returns energy."""
    time, energy = program_cost(arch, rows_per_crossbar, cells_per_crossbar)
    yield env.timeout(time)
    return energy


def weight_load(nmap: NetworkMap, arch: Arch) -> WeightLoad:
    """Program every used cell (used rows x used columns) of every copy of every layer."""
    rows, cells = [], []
    for lm in nmap.mvm_layers:
        r = np.tile(lm.xb_rows.astype(np.int64), lm.replication)
        c = np.tile((lm.xb_rows * lm.xb_cells).astype(np.int64), lm.replication)
        rows.append(r)
        cells.append(c)
    rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cells_a = np.concatenate(cells) if cells else np.zeros(0, np.int64)
    time, energy = program_cost(arch, rows_a, cells_a)
    return WeightLoad(cells=int(cells_a.sum()), crossbars=int(rows_a.size), time_ns=time,
                      energy_pJ=energy)
