"""Tiny helpers for tests: build networks layer by layer; load ISAAC variants.

Loaded by path from other test folders (pytest runs in importlib mode).
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.workload.layer import Layer, Network, conv_out

REPO = Path(__file__).resolve().parents[2]
ISAAC = REPO / "configs" / "isaac.yaml"


class NetBuilder:
    """Append layers in order; each takes the previous layer (or ``src``) as input."""

    def __init__(self, name: str, shape: tuple[int, int, int]):
        self.name, self.input_shape = name, shape
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple[int, int, int]] = {}

    def _src(self, src: str | None) -> tuple[tuple[str, ...], tuple[int, int, int]]:
        if src is None and not self.layers:
            return (), self.input_shape
        name = src or self.layers[-1].name
        return (name,), self.shapes[name]

    def _add(self, layer: Layer) -> "NetBuilder":
        self.layers.append(layer)
        self.shapes[layer.name] = layer.out_shape
        return self

    def conv(self, name, cout, k, stride=1, pad=None, groups=1, src=None):
        inputs, (c, h, w) = self._src(src)
        pad = k // 2 if pad is None else pad
        out = (cout, conv_out(h, k, stride, pad), conv_out(w, k, stride, pad))
        return self._add(Layer(name, "conv", inputs, (c, h, w), out, kernel=(k, k),
                               stride=(stride, stride), padding=(pad, pad), groups=groups))

    def linear(self, name, out_features, src=None):
        inputs, shape = self._src(src)
        return self._add(Layer(name, "linear", inputs, shape, (out_features, 1, 1)))

    def relu(self, name, src=None):
        inputs, shape = self._src(src)
        return self._add(Layer(name, "relu", inputs, shape, shape))

    def maxpool(self, name, k, stride=None, src=None, kind="maxpool"):
        inputs, (c, h, w) = self._src(src)
        s = stride or k
        out = (c, conv_out(h, k, s, 0), conv_out(w, k, s, 0))
        return self._add(Layer(name, kind, inputs, (c, h, w), out, kernel=(k, k),
                               stride=(s, s)))

    def avgpool(self, name, k, stride=None, src=None):
        return self.maxpool(name, k, stride, src, kind="avgpool")

    def flatten(self, name, src=None):
        inputs, (c, h, w) = self._src(src)
        return self._add(Layer(name, "flatten", inputs, (c, h, w), (c * h * w, 1, 1)))

    def add(self, name, a, b):
        return self._add(Layer(name, "add", (a, b), self.shapes[a], self.shapes[a]))

    def concat(self, name, *srcs):
        """Channel concatenation of ``srcs`` (same rows and width)."""
        c = sum(self.shapes[s][0] for s in srcs)
        _, h, w = self.shapes[srcs[0]]
        return self._add(Layer(name, "concat", tuple(srcs), self.shapes[srcs[0]], (c, h, w)))

    def build(self) -> Network:
        return Network(self.name, self.input_shape, tuple(self.layers))


@functools.lru_cache(maxsize=None)
def isaac_arch():
    return build_arch(load_design(ISAAC))


_TMP = Path(tempfile.mkdtemp(prefix="pimsim-test-designs-"))


@functools.lru_cache(maxsize=None)
def _variant(spec: str):
    path = _TMP / f"v{abs(hash(spec))}.yaml"
    body = {"extends": str(ISAAC), **json.loads(spec)}
    path.write_text(json.dumps(body))        # JSON is YAML
    return build_arch(load_design(path))


def isaac_with(**sections: dict):
    """ISAAC with some keys overridden, e.g. ``isaac_with(tile={"imas": 4})``."""
    return _variant(json.dumps(sections, sort_keys=True))


def cnn3() -> Network:
    """A 3-layer CNN on 3x32x32 (two 3x3 convs, one classifier)."""
    b = NetBuilder("cnn3", (3, 32, 32))
    b.conv("conv1", 16, 3).relu("relu1").maxpool("pool1", 2)
    b.conv("conv2", 32, 3).relu("relu2").maxpool("pool2", 2)
    b.flatten("flat").linear("fc", 10)
    return b.build()


def resnet_block() -> Network:
    """ResNet-20's stem plus its first basic block (16 channels, 32x32) with the residual add."""
    b = NetBuilder("resnet20_block1", (3, 32, 32))
    b.conv("stem", 16, 3).relu("stem_relu")
    b.conv("b1_conv1", 16, 3).relu("b1_relu1").conv("b1_conv2", 16, 3)
    b.add("b1_add", "b1_conv2", "stem_relu").relu("b1_relu2")
    return b.build()


def resnet50_like() -> Network:
    """ResNet-50-sized: stem, 16 bottlenecks (3/4/6/3) with projections, fc: 54 MVM layers."""
    b = NetBuilder("resnet50_like", (3, 224, 224))
    b.conv("stem", 64, 7, stride=2, pad=3).relu("stem_relu").maxpool("pool", 3, 2)
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for i in range(blocks):
            p = f"s{stage}b{i}"
            src = b.layers[-1].name
            stride = 2 if (i == 0 and stage > 0) else 1
            b.conv(p + "_c1", width, 1, src=src).relu(p + "_r1")
            b.conv(p + "_c2", width, 3, stride=stride).relu(p + "_r2")
            b.conv(p + "_c3", width * 4, 1)
            skip = src
            if i == 0:
                b.conv(p + "_proj", width * 4, 1, stride=stride, src=src)
                skip = p + "_proj"
            b.add(p + "_add", p + "_c3", skip).relu(p + "_out")
    b.avgpool("gap", 7).flatten("flat").linear("fc", 1000)
    return b.build()
