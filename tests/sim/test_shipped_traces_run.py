"""Every shipped trace maps and evaluates on ISAAC with core dependencies only."""

from pathlib import Path

import pytest

from pimsim.sim import evaluate
from pimsim.workload.trace import load_network

TRACES = sorted((Path(__file__).resolve().parents[2] / "traces").glob("*.npz"))


def test_traces_are_shipped():
    names = {p.name for p in TRACES}
    assert {"cnn_digits.npz", "resnet20_digits.npz", "resnet20_cifar_shapes.npz", "vgg16_shapes.npz",
            "resnet18_shapes.npz", "resnet50_shapes.npz"} <= names


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.stem)
def test_shipped_trace_evaluates(path, isaac_arch):
    network = load_network(path)
    total = evaluate(network, isaac_arch).total
    assert total.macs == network.macs > 0
    assert total.crossbars > 0 and total.energy_pJ > 0 and total.throughput_images_per_s > 0
    assert sum(total.energy_breakdown_pJ.values()) == pytest.approx(total.energy_pJ)
