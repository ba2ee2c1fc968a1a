"""Ideal devices + lossless ADC: every layer of every real trace equals the integer reference.

The reference is the plain integer product ``sum_i (code_i - zero_point) * w_i`` of the
trace's own stored input activations and ``weight_q`` (float64 matmul of small integers:
exact), independent of the cell mapping, the kernel and the ADC.
"""

from pathlib import Path

import numpy as np
import pytest

from pimsim.config import load_design
from pimsim.functional.cells import Datapath
from pimsim.functional.network import HardwareModel, layer_codes, trace_weights
from pimsim.workload import load_trace

ROOT = Path(__file__).resolve().parents[2]
TRACES = ["cnn_digits", "resnet20_digits", "lenet5_mnist", "resnet8_mnist"]
SAMPLES = 2        # stored input samples per layer (the check is per element: 2 suffice)

# (design file, overrides): ISAAC's 16-bit and 8-bit datapaths, differential pairs, a
# multi-bit DAC, 1- and 4-bit cells, smaller crossbars, no encoding.
DATAPATHS = {
    "isaac": ("isaac.yaml", {}),
    "isaac_8bit": ("isaac_8bit.yaml", {}),
    "differential": ("isaac_8bit.yaml", {"precision.signed_weights": "differential"}),
    "dac2_cell4": ("isaac_8bit.yaml", {"dac.bits": 2, "crossbar.bits_per_cell": 4}),
    "cell1_xbar64": ("isaac_8bit.yaml", {"crossbar.bits_per_cell": 1, "crossbar.rows": 64,
                                         "crossbar.cols": 64}),
    "no_encoding": ("isaac_8bit.yaml", {"adc.encoding": False}),
}


def _design(name):
    fname, overrides = DATAPATHS[name]
    design = load_design(ROOT / "configs" / fname, overrides=dict(overrides, **{"adc.bits": "auto"}))
    return design, Datapath.from_design(design).lossless_bits


def reference(acts, wq, lay, zp):
    codes = layer_codes(acts, lay, zp).astype(np.int64) - zp          # (P, g, rows)
    g, wr, wc = lay.groups, lay.weight_rows, lay.weight_cols
    w = wq.astype(np.int64).reshape(g, wc, wr)
    return np.concatenate([codes[:, k, :] @ w[k].T for k in range(g)], axis=1)


@pytest.mark.parametrize("datapath", list(DATAPATHS))
@pytest.mark.parametrize("trace_name", TRACES)
def test_every_layer_bit_exact(trace_name, datapath):
    trace = load_trace(ROOT / "traces" / f"{trace_name}.npz")
    design, lossless = _design(datapath)
    weights = trace_weights(trace)
    layers = trace.network.mvm_layers
    hw = HardwareModel(design, weights, layers, adc_bits=lossless)
    for lay in layers:
        _, zp, _ = trace.act_quant(lay.name)
        acts = trace.activations(lay.name)[:SAMPLES]
        got = hw.mvm(lay, layer_codes(acts, lay, zp), zp)
        want = reference(acts, weights[lay.name], lay, zp)
        assert got.shape == want.shape
        assert np.array_equal(got, want.astype(np.float64)), f"{trace_name} {lay.name}"


def test_numpy_reference_kernel_bit_exact_too():
    trace = load_trace(ROOT / "traces" / "cnn_digits.npz")
    design, lossless = _design("isaac")
    weights = trace_weights(trace)
    hw = HardwareModel(design, weights, trace.network.mvm_layers, use_numba=False,
                       adc_bits=lossless)
    for lay in trace.network.mvm_layers:
        acts = trace.activations(lay.name)[:SAMPLES]
        got = hw.mvm(lay, layer_codes(acts, lay, 0), 0)
        assert np.array_equal(got, reference(acts, weights[lay.name], lay, 0))


def test_one_bit_fewer_is_not_exact():
    """The lossless width is tight: one ADC bit fewer changes some layer's sums."""
    trace = load_trace(ROOT / "traces" / "cnn_digits.npz")
    design, lossless = _design("isaac_8bit")
    weights = trace_weights(trace)
    layers = trace.network.mvm_layers
    hw = HardwareModel(design, weights, layers, adc_bits=lossless - 1)
    changed = 0
    for lay in layers:
        acts = trace.activations(lay.name)[:8]
        got = hw.mvm(lay, layer_codes(acts, lay, 0), 0)
        changed += int(np.sum(got != reference(acts, weights[lay.name], lay, 0)))
    assert changed > 0


def test_isaac_rule_is_lossless_by_hand():
    """ISAAC: 128 rows, 1-bit DAC, 2-bit cells: largest sum 128 x 3 = 384 (9 bits); with the
    flipped-column encoding at most half, 192, fits the 8-bit ADC (ISAAC Sec. V)."""
    design, lossless = _design("isaac")
    dp = Datapath.from_design(design)
    assert dp.max_column_sum == 192 and lossless == 8 == design.adc.bits
    design, lossless = _design("no_encoding")
    assert Datapath.from_design(design).max_column_sum == 384 and lossless == 9
    design, lossless = _design("differential")      # signed pair difference: +-384, 10 bits
    assert lossless == 10
