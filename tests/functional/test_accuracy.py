"""Accuracy under non-idealities on a small real trace (cnn_digits, held-out digits).

Strengths are chosen well apart so that the trend, not the sampling noise of a few dozen
images, decides the comparison; every mean is over Monte Carlo seeds.
"""

from pathlib import Path

import numpy as np
import pytest

from pimsim.config import load_design
from pimsim.functional.accuracy import measure_accuracy
from pimsim.functional.cells import Datapath
from pimsim.workload import load_trace

ROOT = Path(__file__).resolve().parents[2]
IMAGES = 60
SEEDS = 2


@pytest.fixture(scope="module")
def trace():
    return load_trace(ROOT / "traces" / "cnn_digits.npz")


def _design(**nonideal):
    return load_design(ROOT / "configs" / "isaac_8bit.yaml",
                       overrides={f"nonideal.{k}": v for k, v in nonideal.items()})


def _non_increasing(values):
    return all(b <= a for a, b in zip(values, values[1:])) and values[-1] < values[0]


def test_ideal_hardware_equals_software(trace):
    r = measure_accuracy(trace, _design(), images=IMAGES)
    assert r.hardware == r.software and r.agreement == 1.0 and r.samples == IMAGES
    # The software figure is the quantized model on the same images, computed digitally:
    # by hand from the digital executor of pimsim.techniques (float32 products).
    from pimsim.techniques.accuracy import accuracy
    assert abs(r.software - accuracy(trace, limit=IMAGES)) <= 1 / IMAGES


@pytest.mark.parametrize("mode", ["scale", "clip"])
def test_fewer_adc_bits_lower_accuracy(trace, mode):
    design = _design(adc_range=mode)
    lossless = Datapath.from_design(design).lossless_bits
    accs = [measure_accuracy(trace, design, images=IMAGES, seeds=1, adc_bits=b).hardware
            for b in (lossless, lossless - 2, lossless - 4)]
    assert _non_increasing(accs), accs


@pytest.mark.parametrize("key, strengths", [
    ("programming_sigma", (0.0, 0.1, 0.25)),
    ("stuck_off_rate", (0.0, 0.02, 0.2)),
    ("stuck_on_rate", (0.0, 0.02, 0.2)),
])
def test_stronger_nonideality_lowers_mean_accuracy(trace, key, strengths):
    means = [measure_accuracy(trace, _design(**{key: s}), images=IMAGES, seeds=SEEDS).hardware
             for s in strengths]
    assert _non_increasing(means), means


@pytest.mark.parametrize("nonideal", [
    dict(read_noise_sigma=0.3), dict(drift_nu=0.1, drift_time_s=1e6),
    dict(wire_resistance_ohm=50.0), dict(adc_noise_sigma_lsb=3.0),
    dict(adc_offset_sigma_lsb=3.0), dict(g_off_frac=0.2, programming="lognormal",
                                         programming_sigma=0.2),
])
def test_each_effect_costs_accuracy(trace, nonideal):
    """A strong setting of every effect changes predictions (agreement with the ideal,
    bit-exact hardware < 1) and does not raise accuracy beyond one image's worth."""
    r = measure_accuracy(trace, _design(**nonideal), images=30, seeds=1)
    assert r.agreement < 1.0 and r.hardware <= r.software + 1 / 30


def test_seeds_reproduce_and_differ(trace):
    design = _design(programming_sigma=0.1)
    a = measure_accuracy(trace, design, images=30, seeds=2)
    b = measure_accuracy(trace, design, images=30, seeds=2)
    assert a == b and a.seeds == (0, 1)
    assert a.hardware_std == pytest.approx(np.std(a.hardware_per_seed, ddof=1))


def test_untrained_trace_is_a_clear_error():
    from pimsim.errors import PimsimError
    shapes = load_trace(ROOT / "traces" / "resnet20_cifar_shapes.npz")
    with pytest.raises(PimsimError, match="no quantized weights"):
        measure_accuracy(shapes, _design())
