"""The layer model: what a network computes, as plain shapes.

A :class:`Network` is the shape-only view of a trace: layers in execution order, each
naming its producers so residual and branch networks are exact. Activations are
``(channels, height, width)``; a linear layer's vector is ``(features, 1, 1)``.
Tensors (weights, sampled activations) live in the trace file and are loaded lazily by
``pimsim.workload.trace``; nothing here holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

Shape = tuple[int, int, int]  # (C, H, W)
Pair = tuple[int, int]

#: Layer kinds pimsim understands. ``conv`` and ``linear`` run on crossbars (MVM
#: layers); the rest run on tile units (activation, max-pool, shift-and-add) or are
#: free reshapes.
#: The name layers use in ``inputs`` for the network's input tensor.
NETWORK_INPUT = "input"

MVM_KINDS = ("conv", "linear")
POOL_KINDS = ("maxpool", "avgpool")
LAYER_KINDS = MVM_KINDS + POOL_KINDS + ("relu", "add", "flatten")


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a convolution/pooling window along one axis (PyTorch's rule)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True)
class Layer:
    """One layer of a network; all sizes are element counts, not bits."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    in_shape: Shape
    out_shape: Shape
    kernel: Pair = (1, 1)
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = False

    @property
    def producers(self) -> tuple[str, ...]:
        """Names of the layers this one reads (``inputs`` without the network input)."""
        return tuple(name for name in self.inputs if name != NETWORK_INPUT)

    @property
    def is_mvm(self) -> bool:
        """True for layers that run as matrix-vector products on crossbars."""
        return self.kind in MVM_KINDS

    @property
    def out_positions(self) -> int:
        """Output spatial positions (H_out x W_out): one MVM each for an MVM layer."""
        return self.out_shape[1] * self.out_shape[2]

    @property
    def weight_rows(self) -> int:
        """Rows of one group's unrolled weight matrix: k_h x k_w x C_in / groups."""
        if not self.is_mvm:
            return 0
        if self.kind == "linear":
            return self.in_shape[0] * self.in_shape[1] * self.in_shape[2]
        return self.kernel[0] * self.kernel[1] * (self.in_shape[0] // self.groups)

    @property
    def weight_cols(self) -> int:
        """Columns (output channels) of one group's weight matrix."""
        if not self.is_mvm:
            return 0
        return self.out_shape[0] // self.groups

    @property
    def weights(self) -> int:
        """Number of weights (bias excluded)."""
        return self.weight_rows * self.weight_cols * self.groups if self.is_mvm else 0

    @property
    def macs(self) -> int:
        """Multiply-accumulates for one inference (bias adds excluded)."""
        return self.weights * self.out_positions if self.is_mvm else 0

    @property
    def out_elems(self) -> int:
        c, h, w = self.out_shape
        return c * h * w

    @property
    def in_elems(self) -> int:
        c, h, w = self.in_shape
        return c * h * w


@dataclass(frozen=True)
class Network:
    """A network as an ordered list of layers plus metadata (plain data)."""

    name: str
    input_shape: Shape
    layers: tuple[Layer, ...]
    meta: dict = field(default_factory=dict, compare=False)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, name: str) -> Layer:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise KeyError(name)

    @property
    def mvm_layers(self) -> tuple[Layer, ...]:
        return tuple(lay for lay in self.layers if lay.is_mvm)

    @property
    def macs(self) -> int:
        return sum(lay.macs for lay in self.layers)

    @property
    def weights(self) -> int:
        return sum(lay.weights for lay in self.layers)
