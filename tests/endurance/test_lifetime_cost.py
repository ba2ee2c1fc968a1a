"""Lifetime, statistics and the write-cost model."""

import numpy as np
import pytest

from pimsim.endurance.cost import ReadCost, batch_sizes, read_cost, training_cost
from pimsim.endurance.lifetime import (extension, lifetime_runs, load_endurance_config,
                                       write_stats)
from pimsim.errors import ConfigError
from pimsim.workload.trace import load_network


def test_lifetime_and_extension():
    assert lifetime_runs(100, 1e8) == 1e6
    assert lifetime_runs(0, 1e8) == float("inf")
    assert extension(10, 500) == 50
    with pytest.raises(ValueError):
        lifetime_runs(1, 1e3)


def test_endurance_config_has_source_and_range(tmp_path):
    cfg = load_endurance_config()
    assert 1e6 <= cfg["endurance"]["cycles"] <= 1e12 and cfg["endurance"]["source"]
    bad = tmp_path / "e.yaml"
    bad.write_text("endurance: {cycles: 10}\n")
    with pytest.raises(ConfigError):
        load_endurance_config(bad)


def test_write_stats():
    s = write_stats("l", np.array([0, 1, 2, 5]), cells=4)
    assert s.mean == 2.0 and s.max == 5 and sum(s.hist_counts) == 4 and s.total_writes == 8


def test_training_cost_arithmetic():
    read = ReadCost(energy_dynamic_pJ=100.0, power_static_mW=2.0, latency_ns=50.0,
                    interval_ns=10.0)
    cost = training_cost(read, step_cells=np.array([10, 0]), step_rows=np.array([3, 0]),
                         step_batch=np.array([4, 2]), steps_per_epoch=2,
                         write_energy_pJ=2.0, write_pulse_ns=100.0)
    assert cost.read_energy_pJ == 2 * 100 * 6
    assert cost.write_energy_pJ == 20.0
    assert cost.write_time_ns == 300.0                      # rows x pulse, crossbars parallel
    assert cost.read_time_ns == 2 * (50 + 3 * 10) + 2 * (50 + 1 * 10)
    assert cost.static_energy_pJ == pytest.approx(2.0 * cost.time_ns)
    assert cost.energy_per_epoch_pJ == pytest.approx(cost.energy_pJ)
    assert batch_sizes(10, 4, 5).tolist() == [4, 4, 2, 4, 4]


def test_training_write_time_follows_the_engines_driver_rule(isaac_arch):
    from dataclasses import replace

    from pimsim.sim.weights import program_cost

    read = ReadCost(energy_dynamic_pJ=0.0, power_static_mW=0.0, latency_ns=0.0, interval_ns=0.0)
    pulse = isaac_arch.latency_ns("write_driver", "write")
    for drivers in (1, 2, 4):
        cost = training_cost(read, step_cells=np.array([50]), step_rows=np.array([5]),
                             step_batch=np.array([1]), steps_per_epoch=1, write_energy_pJ=1.0,
                             write_pulse_ns=pulse, write_drivers=drivers)
        # the engine's rule for one crossbar with 5 rows to program, same drivers
        d = isaac_arch.design
        arch = replace(isaac_arch, design=replace(d, crossbar=replace(d.crossbar,
                                                                      write_drivers=drivers)))
        engine_time, _ = program_cost(arch, np.array([5, 2]), np.array([50, 10]))
        assert cost.write_time_ns == engine_time == -(-5 // drivers) * pulse


def test_read_cost_from_evaluate(isaac_arch):
    rc = read_cost(load_network("traces/cnn_digits.npz"), isaac_arch)
    assert rc.energy_dynamic_pJ > 0 and rc.interval_ns > 0 and rc.latency_ns >= rc.interval_ns
