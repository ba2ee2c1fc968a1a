"""Hand-built benchmark networks (shapes only): ResNet-18/20/50, VGG-16.

Same layer conventions as the trace exporter: conv + relu layers, residual ``add`` with
the skip as second input, projection shortcuts where shapes change.
"""

from __future__ import annotations

from pimsim.workload.layer import Layer, Network, conv_out


class Builder:
    """Append layers in order; each takes the previous layer (or ``src``) as input."""

    def __init__(self, name: str, shape: tuple[int, int, int]):
        self.name, self.input_shape = name, shape
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple[int, int, int]] = {}

    def _src(self, src):
        if src is None and not self.layers:
            return (), self.input_shape
        name = src or self.layers[-1].name
        return (name,), self.shapes[name]

    def _add(self, layer: Layer) -> "Builder":
        self.layers.append(layer)
        self.shapes[layer.name] = layer.out_shape
        return self

    def conv(self, name, cout, k, stride=1, pad=None, src=None):
        inputs, (c, h, w) = self._src(src)
        pad = k // 2 if pad is None else pad
        out = (cout, conv_out(h, k, stride, pad), conv_out(w, k, stride, pad))
        return self._add(Layer(name, "conv", inputs, (c, h, w), out, kernel=(k, k),
                               stride=(stride, stride), padding=(pad, pad)))

    def linear(self, name, n, src=None):
        inputs, shape = self._src(src)
        return self._add(Layer(name, "linear", inputs, shape, (n, 1, 1)))

    def relu(self, name, src=None):
        inputs, shape = self._src(src)
        return self._add(Layer(name, "relu", inputs, shape, shape))

    def pool(self, name, k, stride=None, pad=0, kind="maxpool", src=None):
        inputs, (c, h, w) = self._src(src)
        s = stride or k
        out = (c, conv_out(h, k, s, pad), conv_out(w, k, s, pad))
        return self._add(Layer(name, kind, inputs, (c, h, w), out, kernel=(k, k),
                               stride=(s, s), padding=(pad, pad)))

    def flatten(self, name, src=None):
        inputs, (c, h, w) = self._src(src)
        return self._add(Layer(name, "flatten", inputs, (c, h, w), (c * h * w, 1, 1)))

    def add(self, name, a, b):
        return self._add(Layer(name, "add", (a, b), self.shapes[a], self.shapes[a]))

    def build(self) -> Network:
        return Network(self.name, self.input_shape, tuple(self.layers))


def _basic_block(b: Builder, p: str, width: int, stride: int) -> None:
    src = b.layers[-1].name
    b.conv(p + "_c1", width, 3, stride=stride).relu(p + "_r1").conv(p + "_c2", width, 3)
    skip = src
    if stride != 1 or b.shapes[src][0] != width:
        b.conv(p + "_proj", width, 1, stride=stride, pad=0, src=src)
        skip = p + "_proj"
    b.add(p + "_add", p + "_c2", skip).relu(p + "_out")


def resnet20() -> Network:
    """ResNet-20 for CIFAR-10 (3x32x32): 3 stages x 3 basic blocks, 16/32/64 channels."""
    b = Builder("resnet20", (3, 32, 32))
    b.conv("stem", 16, 3).relu("stem_relu")
    for s, width in enumerate((16, 32, 64)):
        for i in range(3):
            _basic_block(b, f"s{s}b{i}", width, 2 if (i == 0 and s > 0) else 1)
    b.pool("gap", 8, kind="avgpool").flatten("flat").linear("fc", 10)
    return b.build()


def resnet18() -> Network:
    """ResNet-18 for ImageNet (3x224x224)."""
    b = Builder("resnet18", (3, 224, 224))
    b.conv("stem", 64, 7, stride=2, pad=3).relu("stem_relu").pool("pool", 3, 2, pad=1)
    for s, width in enumerate((64, 128, 256, 512)):
        for i in range(2):
            _basic_block(b, f"s{s}b{i}", width, 2 if (i == 0 and s > 0) else 1)
    b.pool("gap", 7, kind="avgpool").flatten("flat").linear("fc", 1000)
    return b.build()


def resnet50() -> Network:
    """ResNet-50 for ImageNet (3x224x224): bottlenecks 3/4/6/3, projection shortcuts."""
    b = Builder("resnet50", (3, 224, 224))
    b.conv("stem", 64, 7, stride=2, pad=3).relu("stem_relu").pool("pool", 3, 2, pad=1)
    for s, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for i in range(blocks):
            p = f"s{s}b{i}"
            src = b.layers[-1].name
            stride = 2 if (i == 0 and s > 0) else 1
            b.conv(p + "_c1", width, 1, pad=0, src=src).relu(p + "_r1")
            b.conv(p + "_c2", width, 3, stride=stride).relu(p + "_r2")
            b.conv(p + "_c3", width * 4, 1, pad=0)
            skip = src
            if i == 0:
                b.conv(p + "_proj", width * 4, 1, stride=stride, pad=0, src=src)
                skip = p + "_proj"
            b.add(p + "_add", p + "_c3", skip).relu(p + "_out")
    b.pool("gap", 7, kind="avgpool").flatten("flat").linear("fc", 1000)
    return b.build()


def vgg16() -> Network:
    """VGG-16 for ImageNet (3x224x224): 13 convs, 5 max-pools, 3 fully connected layers."""
    b = Builder("vgg16", (3, 224, 224))
    cfg = ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512))
    for s, widths in enumerate(cfg):
        for i, w in enumerate(widths):
            b.conv(f"conv{s + 1}_{i + 1}", w, 3).relu(f"relu{s + 1}_{i + 1}")
        b.pool(f"pool{s + 1}", 2)
    b.flatten("flat").linear("fc6", 4096).relu("relu6").linear("fc7", 4096).relu("relu7")
    b.linear("fc8", 1000)
    return b.build()


NETWORKS = {"resnet20": resnet20, "resnet18": resnet18, "resnet50": resnet50, "vgg16": vgg16}
