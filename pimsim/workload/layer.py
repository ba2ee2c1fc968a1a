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

#: The name layers use in ``inputs`` for the network's input tensor.
NETWORK_INPUT = "input"

#: Layer kinds pimsim understands. ``conv`` and ``linear`` run on crossbars (MVM
#: layers); pooling, ``relu`` and ``add`` run on ISAAC's tile units (max-pool,
#: activation, shift-and-add); the digital kinds run on the tile's digital units
#: (``pimsim.mapping.digital``); the free kinds only re-address data in the buffer.
MVM_KINDS = ("conv", "linear")
POOL_KINDS = ("maxpool", "avgpool")
#: Element-wise and normalisation kinds on digital units; ``op`` names the function.
DIGITAL_KINDS = ("eltwise", "layernorm", "softmax", "batchnorm", "upsample", "embedding",
                 "rnn_cell")
#: Activation x activation product (attention): ``inputs = [a, b]``, ``a`` is
#: ``(batch, M, K)``, ``b`` is ``(batch, K, N)`` (or batch 1, broadcast), out ``(batch, M, N)``.
MATMUL_KIND = "matmul"
#: Layers that only re-address data (no unit work): concatenation, a slice (one part of
#: a split), a reshape/permute between layouts, and the classic flatten.
FREE_KINDS = ("flatten", "reshape", "concat", "slice")
LAYER_KINDS = (MVM_KINDS + POOL_KINDS + ("relu", "add") + DIGITAL_KINDS + (MATMUL_KIND,)
               + FREE_KINDS)


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1,
             ceil_mode: bool = False) -> int:
    """Output length of a convolution/pooling window along one axis (PyTorch's rule,
    including ``ceil_mode``: the last window must start inside the input or left padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def canonical_shape(dims: tuple[int, ...]) -> Shape:
    """pimsim's ``(C, H, W)`` of a tensor shape *without* its batch dimension.

    ``(F,)`` -> ``(F, 1, 1)``; ``(A, B)`` -> ``(A, B, 1)`` (a Conv1d's ``(C, L)`` and a
    token sequence's ``(T, D)`` alike); ``(C, H, W)`` as is. The exporter and the ONNX
    importer both use this rule, so they describe the same tensors the same way.
    """
    dims = tuple(int(d) for d in dims)
    if len(dims) == 0:
        return (1, 1, 1)
    if len(dims) == 1:
        return (dims[0], 1, 1)
    if len(dims) == 2:
        return (dims[0], dims[1], 1)
    if len(dims) == 3:
        return dims  # type: ignore[return-value]
    raise ValueError(f"tensor of rank {len(dims) + 1} (with batch) has no (C, H, W) form")


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
    #: the function of a digital layer (``eltwise``: sigmoid, gelu, mul ...; ``upsample``:
    #: nearest or bilinear; ``rnn_cell``: lstm or gru); empty for every other kind
    op: str = ""
    #: pooling only: PyTorch's ``ceil_mode`` output-size rule
    ceil_mode: bool = False
    #: MVM layers only: the earlier MVM layer whose crossbars (weights) this one reuses,
    #: e.g. the time steps of an unrolled RNN; empty when the layer has its own weights
    shares: str = ""

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
    def is_matmul(self) -> bool:
        """True for an activation x activation product (no stored weights)."""
        return self.kind == MATMUL_KIND

    @property
    def matmul_dims(self) -> tuple[int, int, int, int]:
        """(batch, M, K, N) of a matmul layer: ``(batch, M, K) x (batch, K, N)``."""
        b, m, k = self.in_shape
        return b, m, k, self.out_shape[2]

    @property
    def macs(self) -> int:
        """Multiply-accumulates for one inference (bias adds excluded); a matmul's
        ``batch x M x K x N`` products count too (they run on digital units or on
        crossbars written per inference, as the design point chooses)."""
        if self.is_matmul:
            b, m, k, n = self.matmul_dims
            return b * m * k * n
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
        """Stored weights (a layer that reuses another's crossbars adds none)."""
        return sum(lay.weights for lay in self.layers if not lay.shares)
