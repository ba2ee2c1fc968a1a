"""Regenerating the shipped cnn_digits trace from its script function gives the same trace.

The full recipe is trained once (~12 s) and compared with the shipped file. Tolerance:
the layers (the manifest's network part) and the export settings must be identical, and
the first layer's sampled activations (the held-out images themselves, independent of
training) bitwise equal. The shipped file was made on another machine, where CPU kernels
may round differently, so the accuracy may differ by at most one of the 360 test images
and trained weights are not compared bitwise. Bitwise repeatability within one process
(seeded, deterministic algorithms, one thread) is checked on a one-epoch run.
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
    path, result = make_digits_trace("cnn_digits", tmp_path / "run.npz",
                                     seed=shipped.meta["seed"], samples=shipped.meta["samples"],
                                     threads=shipped.meta["train_threads"])
    new = load_trace(path)
    assert network_to_manifest(new.network) == network_to_manifest(shipped.network)
    for key in ("samples", "samples_from", "weight_bits", "act_bits", "seed", "train_threads",
                "dataset", "test_images", "bn_folded"):
        assert new.meta[key] == shipped.meta[key], key
    first = new.network.mvm_layers[0].name
    np.testing.assert_array_equal(new.activations(first), shipped.activations(first))
    assert new.act_quant(first) == shipped.act_quant(first)
    for lay in new.network.mvm_layers:
        assert new.weight(lay.name).shape == shipped.weight(lay.name).shape
    assert new.meta["test_accuracy"] == round(result.test_accuracy, 6)
    assert abs(new.meta["test_accuracy"] - shipped.meta["test_accuracy"]) \
        <= 1 / TEST_IMAGES + 1e-9


def test_training_is_bitwise_repeatable_in_process():
    from pimsim.workload.zoo.digits import train

    a, b = (train("cnn_digits", seed=0, threads=1, epochs=1) for _ in range(2))
    assert a.test_accuracy == b.test_accuracy
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert bool((sa[key] == sb[key]).all()), key
