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
    assert conversion_ns(127, two) == pytest.approx(64 / 1.28)      # ceil(127 / 2) samples
    ou = isaac_with(crossbar={"ou_rows": 16, "ou_cols": 16})
    assert conversion_ns(128, ou) == pytest.approx(16 / 1.28)       # one OU's 16 columns
    assert conversion_ns(10, ou) == pytest.approx(10 / 1.28)
    shared = isaac_with(adc={"shared_by": 2})
    assert conversion_ns(128, shared) == pytest.approx(2 * 128 / 1.28)  # two crossbars in turn
    wide = isaac_with(crossbar={"rows": 256, "cols": 256})
    assert read_period_ns(256, wide) == pytest.approx(max(100.0, 256 / 1.28))
