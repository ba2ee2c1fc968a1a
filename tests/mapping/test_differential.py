"""Differential weight pairs are converted once (issue 12, problem 7).

The expected conversion counts are computed here from the layer shapes by hand
arithmetic (positions x input cycles x row tiles x output columns x slices), not
through the mapping or counting code, and compared with what the closed form and the
engine report for the same trace under ``offset``, ``differential`` and
``differential_both``.
"""

import math
from pathlib import Path

import pytest

from pimsim.arch.compose import build_arch
from pimsim.arch.rollup import peak_activity
from pimsim.config.loader import load_design
from pimsim.sim.run import simulate
from pimsim.workload import load_trace

ROOT = Path(__file__).resolve().parents[2]


def _design(scheme: str):
    return load_design(ROOT / "configs" / "isaac_8bit.yaml",
                       overrides={"precision.signed_weights": scheme})


def _hand_conversions(network, rows: int, slices: int, cycles: int, per_weight: int) -> int:
    """Conversions per image: every row tile converts each output's ``per_weight``
    columns once per input cycle at every output position."""
    total = 0
    for lay in network:
        if lay.kind not in ("conv", "linear"):
            continue
        c_out, h, w = lay.out_shape
        g = lay.groups
        k = lay.kernel[0] * lay.kernel[1] if lay.kind == "conv" else 1
        w_rows = k * lay.in_shape[0] // g
        row_tiles = math.ceil(w_rows / rows)
        total += h * w * cycles * row_tiles * c_out * per_weight
    return total


@pytest.fixture(scope="module")
def digits():
    return load_trace(ROOT / "traces" / "cnn_digits.npz").network


@pytest.mark.parametrize("fidelity", ["analytic", "fast"])
def test_offset_and_differential_convert_alike(digits, fidelity):
    res = {s: simulate(digits, build_arch(_design(s)), fidelity=fidelity)
           for s in ("offset", "differential", "differential_both")}
    d = _design("offset")
    slices = d.precision.weight_bits // d.crossbar.bits_per_cell      # 8 / 2 = 4
    one = _hand_conversions(digits, d.crossbar.rows, slices, d.precision.input_bits, slices)
    assert res["offset"].total.adc_conversions == one
    assert res["differential"].total.adc_conversions == one
    assert res["differential_both"].total.adc_conversions == 2 * one
    # the pair is sampled and accumulated once too
    c = res["differential"].total.counts
    assert c["sample_hold.sample"] == one and c["shift_add.accumulate"] == one


def test_differential_peak_activity_converts_pairs_once():
    off, dif = (build_arch(_design(s)) for s in ("offset", "differential"))
    # a full IMA: 8 crossbars x 128 columns x 8 cycles, halved for pairs
    assert peak_activity(off)[("adc", "convert")] == 8 * 128 * 8
    assert peak_activity(dif)[("adc", "convert")] == 8 * 64 * 8
    assert dif.design.conversion_time_ns == pytest.approx(64 / 1.28)
