"""Regenerating the shipped cnn_digits trace from its script function gives the same trace.

Tolerance: the layers (the manifest's network part) must be identical. Two trainings in
one process must give bitwise-identical weights and accuracy (seeded, deterministic
algorithms, one thread). Against the shipped file, made on another machine, CPU kernels
may round differently, so the accuracy may differ by at most one of the 360 test images
and weights are not compared bitwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from pimsim.workload.trace import load_trace, network_to_manifest  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[2] / "traces" / "cnn_digits.npz"
TEST_IMAGES = 360


def test_cnn_digits_trace_regenerates(tmp_path):
    from pimsim.workload.zoo.digits import make_digits_trace

    shipped = load_trace(SHIPPED)
    runs = []
    for i in range(2):
        path, result = make_digits_trace("cnn_digits", tmp_path / f"run{i}.npz",
                                         seed=shipped.meta["seed"],
                                         samples=shipped.meta["samples"],
                                         threads=shipped.meta["train_threads"])
        runs.append(load_trace(path))
    a, b = runs
    assert network_to_manifest(a.network) == network_to_manifest(shipped.network)
    assert network_to_manifest(b.network) == network_to_manifest(a.network)
    assert a.meta["test_accuracy"] == b.meta["test_accuracy"]
    for lay in a.network.mvm_layers:
        np.testing.assert_array_equal(a.weight(lay.name), b.weight(lay.name))
        np.testing.assert_array_equal(a.activations(lay.name), b.activations(lay.name))
    assert abs(a.meta["test_accuracy"] - shipped.meta["test_accuracy"]) <= 1 / TEST_IMAGES + 1e-9
