"""Write-cost model of in-memory training on a design point (pure functions, plain data).

One training step on a mini-batch of ``B`` images:

* **forward reads**: ``B`` inferences, counts and dynamic energy per image from
  :func:`pimsim.sim.analytic.evaluate`; time ``latency + (B - 1) x interval`` (images
  pipelined through the layer pipeline);
* **backward reads**: the error is propagated through the transposed mapping of every
  layer: the same MVM work (same crossbars, rows <-> columns), so the same energy and
  time as the forward pass. The weight-gradient outer products are computed by digital
  units and are not charged (an assumption; PipeLayer-style in-crossbar gradient
  computation would add one more pass);
* **weight-update writes** through the write drivers: energy = cell writes x
  ``write_driver.write`` energy per cell x the layer's replication (each copy the mapping
  made for the inference pipeline is programmed alike); time = max over crossbars of (rows with any
  write in that crossbar / ``crossbar.write_drivers``, rounded up) x ``write_driver.write``
  latency (one row pulse programs all columns of a row; a crossbar's drivers program that
  many rows at once; crossbars are written in parallel), the rule of the engine's
  ``pimsim.sim.weights.program_cost``;
* **static**: the static power of the used chips (from ``evaluate``) over the step time.

Inputs are per-step arrays (cell writes, most rows written in one crossbar), so the
engine can later route the same numbers through its write-driver resources.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class ReadCost:
    """Per-image forward costs of a network on a design point."""

    energy_dynamic_pJ: float     # per image
    power_static_mW: float       # of the used chips
    latency_ns: float            # one image through the pipeline
    interval_ns: float           # pipelined image interval


@dataclass(frozen=True)
class TrainingCost:
    """Time and energy of training by phase: per step (mean), per epoch and per run."""

    steps: int
    steps_per_epoch: int
    batch: int
    read_energy_pJ: float        # forward + backward, whole run
    write_energy_pJ: float
    static_energy_pJ: float
    read_time_ns: float
    write_time_ns: float
    energy_pJ: float
    time_ns: float
    energy_per_step_pJ: float
    time_per_step_ns: float
    energy_per_epoch_pJ: float
    time_per_epoch_ns: float
    write_energy_share: float
    write_time_share: float

    def as_dict(self) -> dict:
        return asdict(self)


def read_cost(network, arch) -> ReadCost:
    """Forward costs per image from the analytic evaluator."""
    from pimsim.sim.analytic import evaluate
    t = evaluate(network, arch).total
    static_mW = t.static_energy_pJ / t.interval_ns if t.interval_ns else 0.0
    return ReadCost(energy_dynamic_pJ=t.dynamic_energy_pJ, power_static_mW=static_mW,
                    latency_ns=t.latency_ns, interval_ns=t.interval_ns)


def step_read_time_ns(read: ReadCost, batch: int) -> float:
    """Forward + backward time of one mini-batch (pipelined images, two passes)."""
    if batch <= 0:
        return 0.0
    return 2.0 * (read.latency_ns + (batch - 1) * read.interval_ns)


def training_cost(read: ReadCost, step_cells: np.ndarray, step_rows: np.ndarray,
                  step_batch: np.ndarray, steps_per_epoch: int, write_energy_pJ: float,
                  write_pulse_ns: float, copies: float = 1.0,
                  write_drivers: int = 1) -> TrainingCost:
    """Whole-run costs from per-step cell writes, rows and batch sizes (arrays [steps]).

    ``copies``: writes-weighted mean replication of the layers (every replica of a layer
    is programmed alike, in parallel: energy x copies, time unchanged). ``write_drivers``
    per crossbar program that many rows at once: the same rule as the engine's
    :func:`pimsim.sim.weights.program_cost` (ceil(rows / drivers) pulses per crossbar).
    """
    cells = np.asarray(step_cells, np.float64)
    rows = np.asarray(step_rows, np.float64)
    batch = np.asarray(step_batch, np.int64)
    steps = int(cells.size)
    read_e = float(2.0 * read.energy_dynamic_pJ * batch.sum())
    read_t = float(sum(step_read_time_ns(read, int(b)) for b in batch))
    write_e = float(cells.sum() * write_energy_pJ * copies)
    write_t = float(np.ceil(rows / write_drivers).sum() * write_pulse_ns)
    time = read_t + write_t
    static_e = read.power_static_mW * time          # mW x ns = pJ
    energy = read_e + write_e + static_e
    epochs = steps / steps_per_epoch if steps_per_epoch else 0.0
    return TrainingCost(
        steps=steps, steps_per_epoch=int(steps_per_epoch),
        batch=int(batch.max()) if batch.size else 0, read_energy_pJ=read_e,
        write_energy_pJ=write_e, static_energy_pJ=static_e, read_time_ns=read_t,
        write_time_ns=write_t, energy_pJ=energy, time_ns=time,
        energy_per_step_pJ=energy / steps if steps else 0.0,
        time_per_step_ns=time / steps if steps else 0.0,
        energy_per_epoch_pJ=energy / epochs if epochs else 0.0,
        time_per_epoch_ns=time / epochs if epochs else 0.0,
        write_energy_share=write_e / energy if energy else 0.0,
        write_time_share=write_t / time if time else 0.0)


def batch_sizes(n_train: int, batch: int, steps: int) -> np.ndarray:
    """Mini-batch size of each step (the last batch of an epoch may be short)."""
    per_epoch = [min(batch, n_train - i) for i in range(0, n_train, batch)]
    reps = -(-steps // len(per_epoch)) if per_epoch else 0
    return np.array((per_epoch * reps)[:steps], np.int64)
