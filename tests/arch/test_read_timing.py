"""One crossbar read's timing (pimsim.arch.read_timing), by hand on ISAAC's parameters."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import isaac_arch, isaac_with  # noqa: E402

from pimsim.arch.read_timing import conversion_ns, read_ns, read_period_ns  # noqa: E402


def test_read_and_conversion_by_hand():
    arch = isaac_arch()                          # 100 ns read, one 1.28 GS/s ADC
    assert read_ns(arch) == 100.0
    assert conversion_ns(128, arch) == pytest.approx(128 / 1.28)
    assert conversion_ns(0, arch) == 0.0
    two = isaac_with(adc={"per_crossbar": 2})
    assert conversion_ns(128, two) == pytest.approx(64 / 1.28)
    assert conversion_ns(129, two) == pytest.approx(65 / 1.28)      # ceil(129 / 2) samples
    wide = isaac_with(crossbar={"rows": 256, "cols": 256})
    assert read_period_ns(256, wide) == pytest.approx(max(100.0, 256 / 1.28))
