"""The traces shipped in traces/: they validate, stay small, and have the published MACs.

Pure numpy (no torch). MAC totals are checked two ways:

1. exactly against a closed-form count written out here, independent of the exporter
   (conv MACs = k_h * k_w * C_in/groups * C_out * H_out * W_out; linear = in * out; bias
   adds excluded);
2. against published figures, within half a unit of the published figure's last digit:
   - ResNet-50 4.09 G, ResNet-18 1.81 G, VGG-16 15.47 G: torchvision's model table
     ("GFLOPS" column, which counts multiply-adds; https://pytorch.org/vision/stable/models.html;
     ResNet-50 there is v1.5, stride 2 in the 3x3 conv, as in our zoo). He et al. 2016
     (CVPR, Table 1) give 1.8 G for ResNet-18 and 3.8 G for the original v1 ResNet-50.
   - ResNet-20 (CIFAR, He et al. 2016 Sec. 4.2): ~40.55 M with the paper's parameter-free
     shortcuts, usually quoted as 41 M; with our 1x1 projection shortcuts (option B, two
     1x1 convs of 131,072 MACs each) it is 40.81 M, inside the 40.6-41 M band.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pimsim.kernels.bitstats import act_bit_stats
from pimsim.workload.trace import load_trace, validate_trace

TRACES = Path(__file__).resolve().parents[2] / "traces"
MAX_TRACE_BYTES = 5 * 10**6
TRAINED = ("cnn_digits", "resnet20_digits")
SHAPES = ("resnet20_cifar_shapes", "vgg16_shapes", "resnet18_shapes", "resnet50_shapes")


def conv(k: int, c_in: int, c_out: int, hw: int) -> int:
    """MACs of a k x k conv producing a hw x hw map."""
    return k * k * c_in * c_out * hw * hw


def resnet20_macs() -> int:
    total = conv(3, 3, 16, 32)
    c_in, hw = 16, 32
    for i, c in enumerate((16, 32, 64)):
        for j in range(3):
            if j == 0 and i > 0:
                hw //= 2
                total += conv(1, c_in, c, hw)  # projection shortcut
            total += conv(3, c_in, c, hw) + conv(3, c, c, hw)
            c_in = c
    return total + 64 * 10


def resnet_imagenet_macs(bottleneck: bool, counts: tuple[int, ...]) -> int:
    total = conv(7, 3, 64, 112)
    c_in, hw = 64, 56
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), counts)):
        out = planes * 4 if bottleneck else planes
        for j in range(n):
            stride = 2 if (j == 0 and i > 0) else 1
            hw_out = hw // stride
            if stride != 1 or c_in != out:
                total += conv(1, c_in, out, hw_out)
            if bottleneck:
                total += (conv(1, c_in, planes, hw) + conv(3, planes, planes, hw_out)
                          + conv(1, planes, out, hw_out))
            else:
                total += conv(3, c_in, planes, hw_out) + conv(3, planes, planes, hw_out)
            c_in, hw = out, hw_out
    return total + c_in * 1000


def vgg16_macs() -> int:
    total, c_in, hw = 0, 3, 224
    for block in ((64, 64), (128, 128), (256,) * 3, (512,) * 3, (512,) * 3):
        for c in block:
            total += conv(3, c_in, c, hw)
            c_in = c
        hw //= 2
    return total + 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * 1000


# name -> (closed-form count, published value, half a unit of its last digit)
EXPECTED = {
    "resnet20_cifar_shapes": (resnet20_macs(), 40.8e6, 0.3e6),  # 40.6-41 M band
    "resnet20_digits": (resnet20_macs(), 40.8e6, 0.3e6),
    "resnet18_shapes": (resnet_imagenet_macs(False, (2, 2, 2, 2)), 1.81e9, 0.005e9),
    "resnet50_shapes": (resnet_imagenet_macs(True, (3, 4, 6, 3)), 4.09e9, 0.005e9),
    "vgg16_shapes": (vgg16_macs(), 15.47e9, 0.005e9),
}


@pytest.mark.parametrize("name", TRAINED + SHAPES)
def test_shipped_trace_is_valid_and_small(name):
    path = TRACES / f"{name}.npz"
    assert path.stat().st_size < MAX_TRACE_BYTES
    trace = validate_trace(path)  # reads and checks every tensor
    assert trace.has_tensors == (name in TRAINED)
    assert trace.meta["exporter"] == "pimsim.workload.export"
    assert trace.network.input_shape == ((1, 8, 8) if name == "cnn_digits" else
                                         (3, 32, 32) if "resnet20" in name else (3, 224, 224))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_macs_match_published_counts(name):
    exact, published, tol = EXPECTED[name]
    macs = load_trace(TRACES / f"{name}.npz").network.macs
    assert macs == exact
    assert abs(macs - published) <= tol


def test_closed_forms_are_the_known_totals():
    # Guards the closed forms themselves against a silent edit.
    assert resnet20_macs() == 40_813_184
    assert resnet_imagenet_macs(False, (2, 2, 2, 2)) == 1_814_073_344
    assert resnet_imagenet_macs(True, (3, 4, 6, 3)) == 4_089_184_256
    assert vgg16_macs() == 15_470_264_320


@pytest.mark.parametrize("name", TRAINED)
def test_trained_traces_carry_real_data(name):
    trace = load_trace(TRACES / f"{name}.npz")
    meta = trace.meta
    assert meta["test_accuracy"] > 0.95  # measured at export on 360 held-out digits
    assert meta["dataset"].startswith("sklearn load_digits") and meta["seed"] == 0
    assert meta["weight_bits"] == 8 and meta["act_bits"] == 8
    for lay in trace.network.mvm_layers:
        w = trace.weight(lay.name)
        q, scale = trace.weight_q(lay.name)
        assert np.abs(w - q * scale).max() <= scale / 2 + 1e-6  # rounding error only
        acts = trace.activations(lay.name)
        assert acts.shape[0] == meta["samples"] and acts.shape[1:] == lay.in_shape
        assert acts.any()  # real activations, not a zero placeholder
        # The exporter's per-bit statistic is the bitstats kernel over all sampled values.
        zero_frac, _, _ = act_bit_stats(acts.reshape(1, -1), meta["act_bits"], acts.size)
        np.testing.assert_allclose(trace.stats[lay.name]["act_zero_bit_frac"], zero_frac[0],
                                   atol=1e-6)
    first = trace.network.layers[0].name
    assert trace.act_quant(first)[1] == 0  # inputs scaled to [0, 1]: no offset
