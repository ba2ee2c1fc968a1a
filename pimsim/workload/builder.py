"""Building a layer list from a framework graph (torch.fx exporter, ONNX importer).

Both front ends describe tensors by :func:`pimsim.workload.layer.canonical_shape` and
emit layers through :class:`LayerBuilder`, so the same model gives the same layers from
either: a layer that needs its input in another ``(C, H, W)`` layout (a Linear over
``(T, D)`` tokens reads ``(D, T, 1)``) gets a free ``reshape`` layer in front, and an
LSTM/GRU is unrolled over its time steps by :meth:`LayerBuilder.unroll_rnn`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pimsim.errors import TraceError
from pimsim.workload.layer import NETWORK_INPUT, Layer, Shape
from pimsim.workload.layer_rules import RNN_GATES
from pimsim.workload.trace import MAX_LAYERS, MAX_NAME_LEN, NAME_CHARS


def safe_name(raw: str, fallback: str = "layer") -> str:
    """A framework node name in the trace's name alphabet (at most MAX_NAME_LEN chars)."""
    out = "".join(ch if ch in NAME_CHARS else "_" for ch in raw)
    return (out or fallback)[-MAX_NAME_LEN:]


def slice_shape(in_shape: Shape, elems: int) -> Shape:
    """``in_shape`` cut along one axis (C first) to ``elems`` elements: a slice's shape
    in its input's layout (the exact axis changes no cost)."""
    for axis in range(3):
        rest = math.prod(in_shape) // in_shape[axis]
        if elems % rest == 0 and 1 <= elems // rest <= in_shape[axis]:
            out = list(in_shape)
            out[axis] = elems // rest
            return tuple(out)  # type: ignore[return-value]
    raise ValueError(f"cannot cut {list(in_shape)} to {elems} elements along one axis")


@dataclass
class RnnWeights:
    """One RNN layer's weights in PyTorch's layout and gate order (float32 arrays)."""

    w_ih: np.ndarray          # (gates x hidden, input)
    w_hh: np.ndarray          # (gates x hidden, hidden)
    bias: np.ndarray | None   # b_ih + b_hh, (gates x hidden,)


@dataclass
class LayerBuilder:
    """Accumulates layers, output shapes and per-layer weights for one network."""

    where: str = "model"
    layers: list[Layer] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)
    weights: dict[str, tuple[np.ndarray, np.ndarray | None]] = field(default_factory=dict)
    _names: set = field(default_factory=set)
    _reshaped: dict = field(default_factory=dict)

    def set_input(self, shape: Shape) -> None:
        self.shapes[NETWORK_INPUT] = shape

    def unique(self, name: str) -> str:
        name = safe_name(name)
        base, i = name, 1
        while name in self._names or name == NETWORK_INPUT:
            i += 1
            name = f"{base[:MAX_NAME_LEN - 8]}_{i}"
        self._names.add(name)
        return name

    def emit(self, name: str, kind: str, inputs: list[str], out_shape: Shape,
             in_shape: Shape | None = None, weight: Any = None, bias_tensor: Any = None,
             **kw) -> str:
        """Append a layer (``in_shape`` defaults to its first producer's shape);
        ``weight``/``bias_tensor`` are an MVM layer's float arrays in PyTorch's layout."""
        if len(self.layers) >= MAX_LAYERS:
            raise TraceError("too many layers", where=self.where,
                             expected=f"at most {MAX_LAYERS} (trace cap)")
        name = self.unique(name)
        lay = Layer(name=name, kind=kind, inputs=tuple(inputs),
                    in_shape=in_shape or self.shapes[inputs[0]],
                    out_shape=tuple(int(d) for d in out_shape), **kw)  # type: ignore[arg-type]
        self.layers.append(lay)
        self.shapes[name] = lay.out_shape
        if weight is not None:
            self.weights[name] = (weight, bias_tensor)
        return name

    def need(self, src: str, shape: Shape, for_layer: str) -> str:
        """``src`` in layout ``shape``: ``src`` itself, or a free ``reshape`` of it."""
        shape = tuple(int(d) for d in shape)  # type: ignore[assignment]
        if self.shapes[src] == shape:
            return src
        if math.prod(self.shapes[src]) != math.prod(shape):
            raise TraceError("operand has the wrong number of elements", where=for_layer,
                             found=list(self.shapes[src]), expected=f"{list(shape)} (same count)")
        key = (src, shape)
        if key not in self._reshaped:
            self._reshaped[key] = self.emit(f"{src}_as_{'x'.join(map(str, shape))}", "reshape",
                                            [src], shape)
        return self._reshaped[key]

    def unroll_rnn(self, name: str, cell: str, src: str, steps: int, input_size: int,
                   hidden: int, weights: list[RnnWeights] | None, num_layers: int) -> str:
        """Unroll a ``cell`` (lstm/gru) RNN over ``steps``; returns the output sequence
        layer, ``(hidden, steps, 1)``.

        Per RNN layer: one 1x1 conv projects every step's input (``W_ih``, both biases;
        one MVM per step), then per step ``t``: a slice takes that step's projection, a
        linear applies ``W_hh`` to ``h_{t-1}`` (one crossbar copy: every step shares the
        first step's weights; ``h_{-1} = 0`` needs none), an add sums the two and a
        ``rnn_cell`` applies the gates; a concat gathers the steps' outputs.
        """
        gates = RNN_GATES[cell]
        gh = gates * hidden
        seq = self.need(src, (input_size, steps, 1), name)
        for layer in range(num_layers):
            p = f"{name}_l{layer}"
            w = weights[layer] if weights else None
            in_size = input_size if layer == 0 else hidden
            has_bias = w is not None and w.bias is not None
            proj = self.emit(f"{p}_ih", "conv", [seq], (gh, steps, 1), bias=has_bias,
                             weight=None if w is None else w.w_ih.reshape(gh, in_size, 1, 1),
                             bias_tensor=w.bias if has_bias else None)
            outs: list[str] = []
            owner = ""
            for t in range(steps):
                x_t = self.emit(f"{p}_x{t}", "slice", [proj], (gh, 1, 1))
                if t == 0:
                    gsum = x_t
                else:
                    hh = self.emit(f"{p}_hh{t}", "linear", [outs[-1]], (gh, 1, 1),
                                   shares=owner,
                                   weight=None if (w is None or owner) else w.w_hh)
                    owner = owner or hh
                    gsum = self.emit(f"{p}_g{t}", "add", [x_t, hh], (gh, 1, 1))
                inputs = [gsum] + ([outs[-1]] if outs else [])
                outs.append(self.emit(f"{p}_c{t}", "rnn_cell", inputs, (hidden, 1, 1),
                                      op=cell))
            seq = self.emit(f"{p}_out", "concat", outs, (hidden, steps, 1))
        return seq
