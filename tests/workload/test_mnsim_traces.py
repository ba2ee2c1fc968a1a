"""The shipped traces of MNSIM 2.0's own ResNet-18 and VGG-16 (32x32 input, 1000 classes)
hold the MACs of the layer lists in MNSIM/Interface/network.py, counted here by hand."""

from pathlib import Path

import pytest

from pimsim.workload import load_trace

TRACES = Path(__file__).resolve().parents[2] / "traces"


def conv_macs(c_in: int, c_out: int, hw_out: int, k: int = 3) -> int:
    return hw_out * hw_out * c_out * c_in * k * k


# MNSIM's resnet18: 3x3 stem at 32x32, 2x2 max-pool, blocks at 16/8/4/2 with 3x3
# stride-2 projection shortcuts, fc 2048 -> 512 -> 1000
RESNET18 = (conv_macs(3, 64, 32)
            + 4 * conv_macs(64, 64, 16)
            + 2 * conv_macs(64, 128, 8) + 3 * conv_macs(128, 128, 8)
            + 2 * conv_macs(128, 256, 4) + 3 * conv_macs(256, 256, 4)
            + 2 * conv_macs(256, 512, 2) + 3 * conv_macs(512, 512, 2)
            + 2048 * 512 + 512 * 1000)
# MNSIM's vgg16: 13 convs, pools after conv 2, 4, 7, 10; fc 2048 -> 1000
VGG16 = (conv_macs(3, 64, 32) + conv_macs(64, 64, 32)
         + conv_macs(64, 128, 16) + conv_macs(128, 128, 16)
         + conv_macs(128, 256, 8) + 2 * conv_macs(256, 256, 8)
         + conv_macs(256, 512, 4) + 2 * conv_macs(512, 512, 4)
         + 3 * conv_macs(512, 512, 2)
         + 2048 * 1000)


@pytest.mark.parametrize("name, macs, convs, fcs", [
    ("mnsim_resnet18_shapes", RESNET18, 20, 2),
    ("mnsim_vgg16_shapes", VGG16, 13, 1),
])
def test_mnsim_trace_macs(name, macs, convs, fcs):
    net = load_trace(TRACES / f"{name}.npz").network
    assert net.macs == macs
    assert net.input_shape == (3, 32, 32)
    kinds = [lay.kind for lay in net]
    assert kinds.count("conv") == convs and kinds.count("linear") == fcs
    assert list(net)[-1].out_shape[0] == 1000
