"""Changing the crossbar size is one number; dependent parts follow in the right direction."""

from pathlib import Path

import pytest

from pimsim.arch import build_arch, rollup
from pimsim.config import load_design

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SIZES = (64, 128, 256, 512)


@pytest.fixture(scope="module")
def points():
    out = {}
    for n in SIZES:
        name = "isaac.yaml" if n == 128 else f"isaac_xbar{n}.yaml"
        design = load_design(CONFIGS / name)
        out[n] = (design, rollup(build_arch(design)))
    return out


def increasing(values):
    return all(a < b for a, b in zip(values, values[1:]))


def test_adc_resolution_follows_rows(points):
    assert [points[n][0].adc.bits for n in SIZES] == [7, 8, 9, 10]


def test_registers_and_shift_add_grow(points):
    assert increasing([points[n][0].ima.input_register_bytes for n in SIZES])
    assert increasing([points[n][0].ima.output_register_bytes for n in SIZES])
    widths = [{r.role: r for r in points[n][1].rows}["shift_add"].area_mm2 for n in SIZES]
    assert increasing(widths)


def test_chip_area_and_power_grow_with_crossbar_size(points):
    assert increasing([points[n][1].chip_area_mm2 for n in SIZES])
    assert increasing([points[n][1].chip_power_mW for n in SIZES])


def test_peak_throughput_per_crossbar_grows(points):
    # More rows and columns per crossbar: more MACs per read cycle, but a longer ADC
    # conversion time (cols / 1.28 GS/s) stretches the cycle beyond 100 ns for cols > 128.
    assert increasing([points[n][1].peak_gops for n in SIZES])
    assert points[256][0].cycle_ns == pytest.approx(200.0)
