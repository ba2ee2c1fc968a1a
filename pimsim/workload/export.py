"""PyTorch -> trace exporter (needs torch: ``pip install -e '.[torch]'``).

The model is traced with ``torch.fx`` so residual adds and branches are exact, BatchNorm2d
is folded into the preceding Conv2d, shapes come from one forward pass of the example
input, and (optionally) the input activations of every conv/linear layer are recorded
for a batch of real samples and quantized to unsigned ``act_bits`` integers.
"""

from __future__ import annotations

import copy
import math
import operator
from pathlib import Path
from typing import Any

import numpy as np

import pimsim
from pimsim.errors import TraceError
from pimsim.optional import TORCH_HINT, require
from pimsim.plugins import import_user_module
from pimsim.workload.builder import LayerBuilder, RnnWeights, slice_shape
from pimsim.workload.layer import NETWORK_INPUT, Layer, Network, canonical_shape
from pimsim.workload.ops import digital_work, eltwise_op_name, warn_unmodelled
from pimsim.workload.trace import MAX_NAME_LEN, MAX_SAMPLES, NAME_CHARS, TensorData, save_trace

EXPORTER_VERSION = 1
"""Bumped when the exporter's output changes for the same model."""

WEIGHT_BITS = (2, 32)
"""Range of ``weight_bits``: symmetric quantization needs a sign bit and one magnitude bit;
int32 is the widest stored dtype."""
ACT_BITS = (1, 32)
"""Range of ``act_bits``: unsigned, 1 bit (binary activations) to uint32."""

DIGITS_MODELS = {"cnn_digits": 1, "resnet20_digits": 2}
"""Zoo names with a bundled data set (scikit-learn's digits) -> training threads, as in
``scripts/make_traces.py``; ``export_command(name, out, samples=N)`` trains them
(seed 0) and records the first N held-out test images."""


def _torch():
    return require("torch", "exporting a PyTorch model", TORCH_HINT, error=TraceError,
                   where="export", also=("fx",))


# ---------------------------------------------------------------------------------
# Quantization (also used by tests and the bit-statistics kernels' callers)
# ---------------------------------------------------------------------------------


def check_bits(value: Any, arg: str, where: str = "export", file: str | None = None) -> int:
    """``value`` if it is an int in the range of ``arg`` (``weight_bits``/``act_bits``)."""
    low, high = WEIGHT_BITS if arg == "weight_bits" else ACT_BITS
    if type(value) is not int or not low <= value <= high:
        raise TraceError(f"{arg} out of range", file=file, where=f"{where}: {arg}",
                         found=value, expected=f"an integer {low} <= {arg} <= {high}")
    return value


def _int_dtype(bits: int, signed: bool) -> np.dtype:
    for width in (8, 16, 32):
        if bits <= width:
            return np.dtype(f"{'int' if signed else 'uint'}{width}")
    raise ValueError(f"bits={bits} > 32")


def _exact(a: np.ndarray, bits: int) -> np.ndarray:
    """``a`` in a float type holding every code of ``bits`` bits exactly: float32 (the
    exporter's historical arithmetic, kept so regenerated traces stay byte-identical) up
    to 24 bits, float64 above (float32 would round 2**31 - 1 up and overflow int32)."""
    return a if bits <= 24 else np.asarray(a, np.float64)


def trace_name(path) -> str:
    """A network name from a file name: its stem with characters outside ``NAME_CHARS``
    replaced, cut to ``MAX_NAME_LEN``; "model" if nothing is left."""
    return "".join(ch if ch in NAME_CHARS else "_" for ch in Path(path).stem)[:MAX_NAME_LEN] \
        or "model"


def weight_entries(weights, weight_bits: int) -> dict[str, dict[str, TensorData]]:
    """Trace tensors of each layer's (weight, bias or None): float32 weight, its
    ``weight_bits``-bit symmetric quantization and the bias (torch exporter and ONNX
    importer alike)."""
    tensors: dict[str, dict[str, TensorData]] = {}
    for lname, (w, b) in weights.items():
        w = np.ascontiguousarray(w, dtype=np.float32)
        q, scale = quantize_weight(w, weight_bits)
        entry = {"weight": TensorData(w), "weight_q": TensorData(q, scale, weight_bits, 0)}
        if b is not None:
            entry["bias"] = TensorData(np.ascontiguousarray(b, dtype=np.float32))
        tensors[lname] = entry
    return tensors


def quantize_weight(w: np.ndarray, bits: int) -> tuple[np.ndarray, float]:
    """Symmetric per-tensor quantization: ``w ~= q * scale``, ``|q| <= 2**(bits-1) - 1``.

    ``2 <= bits <= 32`` (TraceError otherwise).
    """
    check_bits(bits, "weight_bits", where="quantize_weight")
    qmax = 2 ** (bits - 1) - 1
    peak = float(np.abs(w).max()) if w.size else 0.0
    scale = peak / qmax if peak > 0 else 1.0
    q = np.clip(np.rint(_exact(w, bits) / scale), -qmax, qmax)
    return q.astype(_int_dtype(bits, signed=True)), scale


def quantize_act(x: np.ndarray, bits: int) -> tuple[np.ndarray, float, int]:
    """Unsigned per-tensor quantization: ``x ~= (q - zero_point) * scale``, ``0 <= q < 2**bits``.

    Post-ReLU activations get ``zero_point = 0`` (so a zero activation is an all-zero
    bit pattern, which is what bit-slice skipping sees); signed inputs get an offset.
    ``1 <= bits <= 32`` (TraceError otherwise).
    """
    check_bits(bits, "act_bits", where="quantize_act")
    qmax = 2 ** bits - 1
    lo = min(float(x.min()), 0.0) if x.size else 0.0
    hi = max(float(x.max()), 0.0) if x.size else 0.0
    scale = (hi - lo) / qmax if hi > lo else 1.0
    zero_point = int(round(-lo / scale))
    q = np.clip(np.rint(_exact(x, bits) / scale) + zero_point, 0, qmax)
    return q.astype(_int_dtype(bits, signed=False)), scale, zero_point


def zero_bit_fraction(q: np.ndarray, bits: int) -> list[float]:
    """Fraction of zero bits per bit position (LSB first) over all values of ``q``.

    Plain numpy, for the trace's informative ``stats``; the kernels compute the
    per-row-group versions at analysis time (``pimsim.kernels.bitstats``).
    """
    flat = q.reshape(-1)
    if not flat.size:
        return [float("nan")] * bits
    return [(flat.size - np.count_nonzero((flat >> b) & 1)) / flat.size for b in range(bits)]


# ---------------------------------------------------------------------------------
# Graph -> layers
# ---------------------------------------------------------------------------------


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _dims(node) -> tuple[int, ...]:
    return tuple(int(d) for d in node.meta["tensor_meta"].shape)


def _canon(node) -> tuple[int, int, int]:
    dims = _dims(node)
    if len(dims) < 1 or len(dims) > 4:
        raise TraceError("unsupported tensor rank", where=node.name, found=list(dims),
                         expected="(N, features), (N, C, L) / (N, T, D) or (N, C, H, W)")
    return canonical_shape(dims[1:])


_VIEW_METHODS = ("view", "reshape", "flatten", "permute", "transpose", "t", "contiguous",
                 "clone", "unsqueeze", "squeeze", "float", "to", "type_as", "detach")
_ACT_MODULES = ("ReLU", "ReLU6", "LeakyReLU")
_ELTWISE_MODULES = {"Sigmoid": "sigmoid", "Tanh": "tanh", "SiLU": "silu", "GELU": "gelu",
                    "Hardswish": "hardswish", "Hardsigmoid": "hardsigmoid"}


class _GraphWalker:
    """Turns a BN-folded fx.GraphModule with shape metadata into pimsim layers."""

    def __init__(self, gm):
        self.torch = _torch()
        self.gm = gm
        self.modules = dict(gm.named_modules())
        self.b = LayerBuilder(where="export")
        self.source: dict[str, Any] = {}  # layer name -> (fx node, permute) to record inputs
        self.alias: dict[Any, str] = {}   # fx node -> name of the layer producing its value
        self.const: set = set()           # fx nodes computed from parameters only

    @property
    def layers(self) -> list[Layer]:
        return self.b.layers

    @property
    def shapes(self) -> dict:
        return self.b.shapes

    def walk(self) -> list[Layer]:
        placeholders = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                placeholders += 1
                if placeholders > 1:
                    raise TraceError("only single-input models are supported", where=node.name)
                self.alias[node] = NETWORK_INPUT
                self.b.set_input(_canon(node))
            elif node.op == "output":
                continue
            elif node.op == "get_attr":
                self.const.add(node)
            elif node.op == "call_module" and type(
                    self.modules[node.target]).__name__ in ("LSTM", "GRU"):
                self._rnn(node, self.modules[node.target])
            elif node.op == "call_function" and node.target is operator.getitem:
                self._getitem(node)
            elif type(node.meta.get("tensor_meta")).__name__ == "TensorMetadata":
                if not any(a in self.alias for a in self._tensor_args(node)):
                    self.const.add(node)  # a parameter's reshape, expand, arithmetic...
                else:
                    self._node(node)
            # nodes without a tensor result (x.size(0), getattr) carry no data: skipped
        return self.layers

    # -- helpers --------------------------------------------------------------
    def _tensor_args(self, node) -> list:
        out = []
        for a in list(node.args) + list(node.kwargs.values()):
            items = a if isinstance(a, (list, tuple)) else [a]
            out.extend(x for x in items if hasattr(x, "op"))
        return out

    def _src(self, node, arg) -> str:
        if arg not in self.alias:
            raise TraceError("operand is not a tensor produced by a supported layer",
                             where=node.name, found=str(arg))
        return self.alias[arg]

    def _out(self, node) -> tuple[int, int, int]:
        return _canon(node)

    def _emit(self, node, kind: str, inputs: list[str], out_shape=None, **kw) -> str:
        name = self.b.emit(node.name, kind, inputs,
                           out_shape if out_shape is not None else self._out(node), **kw)
        self.alias[node] = name
        return name

    def _passthrough(self, node) -> None:
        self.alias[node] = self._src(node, node.args[0])

    def _as(self, node, arg, shape=None) -> str:
        """The layer holding ``arg`` in the canonical layout of ``arg`` (or ``shape``)."""
        src = self._src(node, arg)
        return self.b.need(src, shape or _canon(arg), node.name)

    def _view(self, node) -> None:
        """flatten/view/reshape/permute/...: classic (N, C, H, W) -> (N, C*H*W) flattens
        are a ``flatten`` layer; every other layout change is free (consumers that need
        another layout get a ``reshape`` in front)."""
        src = self._src(node, node.args[0])
        dims, in_dims = _dims(node), _dims(node.args[0])
        if math.prod(dims) != math.prod(in_dims):
            raise TraceError("a view that changes the element count is not supported",
                             where=node.name, found=list(dims), expected=str(list(in_dims)))
        if len(dims) == 2 and len(in_dims) == 4 and self.shapes[src] == canonical_shape(
                in_dims[1:]):
            self._emit(node, "flatten", [src])
        else:
            self.alias[node] = src

    def _window(self, node, kind: str, src: str, kernel, stride, padding, dilation=1,
                ceil_mode=False) -> None:
        self._emit(node, kind, [src], kernel=_pair(kernel),
                   stride=_pair(stride if stride is not None and stride != [] else kernel),
                   padding=_pair(padding), dilation=_pair(dilation), ceil_mode=bool(ceil_mode))

    def _adaptive(self, node, kind: str, src: str) -> None:
        c, h, w = self.shapes[src]
        _, ho, wo = self._out(node)
        if h % ho or w % wo:
            raise TraceError("adaptive pooling must divide the input evenly", where=node.name,
                             found=f"{h}x{w} -> {ho}x{wo}")
        k = (h // ho, w // wo)
        self._emit(node, kind, [src], kernel=k, stride=k)

    def _eltwise(self, node, op: str) -> None:
        """An element-wise op over the node's activation operands (constants dropped)."""
        acts = [a for a in self._tensor_args(node) if a in self.alias]
        out = self._out(node)
        srcs = [self.b.need(self._src(node, a), self._bcast(a, node), node.name) for a in acts]
        if op == "add" and len(srcs) >= 2 and all(self.shapes[s] == out for s in srcs):
            self._emit(node, "add", srcs, out)
            return
        if digital_work("eltwise", op).generic:
            warn_unmodelled(op, f"export: {node.name}")
        self._emit(node, "eltwise", srcs, out, op=op)

    def _bcast(self, arg, node) -> tuple[int, int, int]:
        """``arg``'s canonical shape aligned to ``node``'s rank for broadcasting."""
        dims, rank = _dims(arg), len(_dims(node))
        dims = (1,) * (rank - len(dims)) + dims
        return canonical_shape(dims[1:])

    def _linear(self, node, mod) -> None:
        in_dims = _dims(node.args[0])
        if len(in_dims) == 2:
            self._emit(node, "linear", [self._src(node, node.args[0])], bias=mod.bias is not None)
            self.source[self.alias[node]] = (node, None)
            return
        # a Linear over a token sequence (N, ..., D): a 1x1 conv over the T positions
        d, t = in_dims[-1], math.prod(in_dims[1:-1])
        src = self._as(node, node.args[0], (d, t, 1))
        name = self._emit(node, "conv", [src], (mod.out_features, t, 1),
                          bias=mod.bias is not None)
        self.source[name] = (node, "tokens")

    def _conv1d(self, node, mod) -> None:
        src = self._as(node, node.args[0])
        if isinstance(mod.padding, str) or mod.padding_mode != "zeros":
            raise TraceError("conv padding must be explicit zero padding",
                             where=node.name, found=(mod.padding, mod.padding_mode))
        name = self._emit(node, "conv", [src], kernel=(mod.kernel_size[0], 1),
                          stride=(mod.stride[0], 1), padding=(mod.padding[0], 0),
                          dilation=(mod.dilation[0], 1), groups=mod.groups,
                          bias=mod.bias is not None)
        self.source[name] = (node, None)

    def _rnn(self, node, mod) -> None:
        kind = type(mod).__name__.lower()
        if mod.bidirectional or getattr(mod, "proj_size", 0):
            raise TraceError(f"bidirectional or projected {type(mod).__name__} is not "
                             "supported", where=node.name,
                             expected="a unidirectional LSTM/GRU (unrolled over time)")
        x = node.args[0]
        dims = _dims(x)
        if len(dims) != 3 or (len(node.args) > 1 and node.args[1] is not None):
            raise TraceError(f"{type(mod).__name__} needs a batched 3-D input and a zero "
                             "initial state", where=node.name, found=list(dims))
        steps = dims[1] if mod.batch_first else dims[0]
        if (dims[0] if mod.batch_first else dims[1]) != 1:
            raise TraceError("RNNs are unrolled for batch 1", where=node.name,
                             found=list(dims), expected="batch size 1")
        torch = self.torch
        weights = []
        for layer in range(mod.num_layers):
            w_ih = getattr(mod, f"weight_ih_l{layer}").detach().to(torch.float32).numpy()
            w_hh = getattr(mod, f"weight_hh_l{layer}").detach().to(torch.float32).numpy()
            bias = None
            if mod.bias:
                bias = (getattr(mod, f"bias_ih_l{layer}") + getattr(mod, f"bias_hh_l{layer}"))
                bias = bias.detach().to(torch.float32).numpy()
            weights.append(RnnWeights(w_ih.copy(), w_hh.copy(),
                                      None if bias is None else bias.copy()))
        src = self._src(node, x)
        if not mod.batch_first:   # (T, 1, E): the sequence axis is already first
            pass
        out = self.b.unroll_rnn(node.name, kind, src, steps, mod.input_size, mod.hidden_size,
                                weights, mod.num_layers)
        self.rnn_out = getattr(self, "rnn_out", {})
        self.rnn_out[node] = (out, steps, mod.hidden_size, mod.batch_first)

    def _getitem(self, node) -> None:
        base, idx = node.args[0], node.args[1]
        rnn = getattr(self, "rnn_out", {})
        if base in rnn:
            if idx != 0:
                return   # the final states: using them is refused where they are read
            out, steps, hidden, batch_first = rnn[base]
            self.alias[node] = out    # (hidden, T, 1); consumers reshape as they need
            return
        if type(node.meta.get("tensor_meta")).__name__ != "TensorMetadata":
            return                    # a tuple item that carries no tensor (shape, size)
        if base in self.const or (base not in self.alias and not getattr(base, "op", "") in (
                "call_function", "call_method")):
            self.const.add(node)
            return
        # x[..] on a tensor, or one part of split/chunk/unbind: a slice
        src_node = base
        if base not in self.alias:          # split/chunk/unbind: their input is the source
            src_node = base.args[0]
        if src_node not in self.alias:
            self.const.add(node)
            return
        src = self._src(node, src_node)
        elems = math.prod(_dims(node)[1:]) if len(_dims(node)) > 1 else 1
        if _dims(node)[:1] != _dims(src_node)[:1]:
            raise TraceError("indexing the batch dimension is not supported", where=node.name)
        try:
            shape = slice_shape(self.shapes[src], elems)
        except ValueError:
            src = self._as(node, src_node)
            shape = slice_shape(self.shapes[src], elems)
        self._emit(node, "slice", [src], shape)

    # -- dispatch ---------------------------------------------------------------
    def _node(self, node) -> None:
        torch = self.torch
        nn, F = torch.nn, torch.nn.functional
        if node.op == "call_module":
            mod = self.modules[node.target]
            cls = type(mod).__name__
            src = self._src(node, node.args[0])
            if isinstance(mod, nn.Conv2d):
                if isinstance(mod.padding, str) or mod.padding_mode != "zeros":
                    raise TraceError("conv padding must be explicit zero padding",
                                     where=node.name, found=(mod.padding, mod.padding_mode))
                self._emit(node, "conv", [src], kernel=_pair(mod.kernel_size),
                           stride=_pair(mod.stride), padding=_pair(mod.padding),
                           dilation=_pair(mod.dilation), groups=mod.groups,
                           bias=mod.bias is not None)
                self.source[self.alias[node]] = (node, None)
            elif isinstance(mod, nn.Conv1d):
                self._conv1d(node, mod)
            elif isinstance(mod, nn.Linear):
                self._linear(node, mod)
            elif isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d)):
                if getattr(mod, "return_indices", False):
                    raise TraceError("return_indices pooling is not supported", where=node.name)
                kind = "maxpool" if isinstance(mod, nn.MaxPool2d) else "avgpool"
                self._window(node, kind, src, mod.kernel_size, mod.stride, mod.padding,
                             getattr(mod, "dilation", 1), mod.ceil_mode)
            elif isinstance(mod, nn.AdaptiveAvgPool2d):
                self._adaptive(node, "avgpool", src)
            elif isinstance(mod, nn.AdaptiveMaxPool2d):
                self._adaptive(node, "maxpool", src)
            elif cls in _ACT_MODULES:
                self._emit(node, "relu", [src], self.shapes[src])
            elif cls in _ELTWISE_MODULES:
                self._emit(node, "eltwise", [src], self.shapes[src], op=_ELTWISE_MODULES[cls])
            elif isinstance(mod, nn.Softmax):
                self._emit(node, "softmax", [src], self.shapes[src])
            elif isinstance(mod, nn.LayerNorm):
                self._emit(node, "layernorm", [src], self.shapes[src])
            elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
                self._emit(node, "batchnorm", [src], self.shapes[src])
            elif isinstance(mod, nn.Upsample):
                self._upsample(node, src, mod.mode, mod.align_corners)
            elif isinstance(mod, nn.Embedding):
                self._embedding(node, src)
            elif isinstance(mod, nn.Flatten):
                self._view(node)
            elif isinstance(mod, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Identity)):
                self._passthrough(node)
            elif isinstance(mod, nn.MultiheadAttention):
                raise TraceError("nn.MultiheadAttention cannot be traced", where=node.name,
                                 expected="attention written with Linear, matmul and softmax "
                                          "(as pimsim.workload.zoo.transformer does)")
            elif _dims(node) == _dims(node.args[0]) and len(node.args) == 1:
                self._eltwise(node, eltwise_op_name(cls))   # unknown shape-keeping module
            else:
                raise TraceError("unsupported module", where=node.name, found=cls,
                                 expected="Conv1d/2d, Linear, pooling, activations, norms, "
                                          "Upsample, Embedding, LSTM/GRU, Flatten, Dropout")
        elif node.op == "call_function":
            self._function(node, node.target)
        elif node.op == "call_method":
            self._method(node)
        else:
            raise TraceError("unsupported graph node", where=node.name, found=node.op)

    def _function(self, node, fn) -> None:
        torch = self.torch
        F = torch.nn.functional
        name = getattr(fn, "__name__", str(fn))
        if fn in (torch.relu, F.relu, F.relu6, F.leaky_relu):
            src = self._src(node, node.args[0])
            self._emit(node, "relu", [src], self.shapes[src])
        elif fn in (torch.flatten, torch.reshape, torch.permute, torch.transpose,
                    torch.squeeze, torch.unsqueeze, torch.t):
            self._view(node)
        elif fn is F.adaptive_avg_pool2d:
            self._adaptive(node, "avgpool", self._src(node, node.args[0]))
        elif fn in (F.max_pool2d, F.avg_pool2d):
            kw = dict(zip(("kernel_size", "stride", "padding"), node.args[1:4]))
            kw.update({k: v for k, v in node.kwargs.items()})
            self._window(node, "maxpool" if fn is F.max_pool2d else "avgpool",
                         self._src(node, node.args[0]), kw["kernel_size"], kw.get("stride"),
                         kw.get("padding", 0), kw.get("dilation", 1), kw.get("ceil_mode", False))
        elif fn in (F.dropout, torch.nn.functional.dropout1d, F.dropout2d):
            self._passthrough(node)
        elif fn in (operator.add, operator.iadd, torch.add):
            self._eltwise(node, "add")
        elif fn in (operator.mul, operator.imul, torch.mul):
            self._eltwise(node, "mul")
        elif fn in (operator.sub, torch.sub):
            self._eltwise(node, "sub")
        elif fn in (operator.truediv, torch.div):
            self._eltwise(node, "div")
        elif fn in (torch.sigmoid, F.sigmoid, torch.tanh, F.tanh, F.silu, F.gelu, F.hardswish,
                    F.hardsigmoid):
            self._eltwise(node, eltwise_op_name(name))
        elif fn in (F.softmax, torch.softmax):
            src = self._src(node, node.args[0])
            self._emit(node, "softmax", [src], self.shapes[src])
        elif fn is F.layer_norm:
            src = self._src(node, node.args[0])
            self._emit(node, "layernorm", [src], self.shapes[src])
        elif fn is F.interpolate:
            mode = node.kwargs.get("mode", node.args[3] if len(node.args) > 3 else "nearest")
            self._upsample(node, self._src(node, node.args[0]), mode, None)
        elif fn in (torch.cat, torch.concat):
            self._cat(node)
        elif fn in (torch.matmul, torch.bmm, operator.matmul):
            self._matmul(node)
        elif _dims(node) == _dims(self._tensor_args(node)[0]):
            self._eltwise(node, eltwise_op_name(name))   # unknown element-wise function
        else:
            raise TraceError("unsupported function", where=node.name, found=name,
                             expected="element-wise ops, add/mul, cat, matmul, pooling, "
                                      "softmax, layer_norm, interpolate, flatten/reshape")

    def _method(self, node) -> None:
        m = node.target
        if m in ("relu", "relu_"):
            src = self._src(node, node.args[0])
            self._emit(node, "relu", [src], self.shapes[src])
        elif m in _VIEW_METHODS:
            self._view(node)
        elif m in ("add", "add_", "mul", "mul_", "sub", "div"):
            self._eltwise(node, m.rstrip("_"))
        elif m in ("sigmoid", "tanh"):
            self._eltwise(node, m)
        elif m == "softmax":
            src = self._src(node, node.args[0])
            self._emit(node, "softmax", [src], self.shapes[src])
        elif m in ("matmul", "bmm"):
            self._matmul(node)
        elif m == "expand" and _dims(node) == _dims(node.args[0]):
            self._passthrough(node)
        elif _dims(node) == _dims(node.args[0]) and len(self._tensor_args(node)) == 1:
            self._eltwise(node, eltwise_op_name(m))
        else:
            raise TraceError("unsupported tensor method", where=node.name, found=m)

    def _upsample(self, node, src: str, mode: str, align) -> None:
        c, h, w = self.shapes[src]
        co, ho, wo = self._out(node)
        if ho % h or wo % w or co != c:
            raise TraceError("upsampling must scale H and W by whole factors",
                             where=node.name, found=f"{h}x{w} -> {ho}x{wo}")
        if mode not in ("nearest", "bilinear"):
            raise TraceError("unsupported upsampling mode", where=node.name, found=mode,
                             expected="nearest or bilinear")
        self._emit(node, "upsample", [src], stride=(ho // h, wo // w), op=mode)

    def _embedding(self, node, src: str) -> None:
        t = math.prod(self.shapes[src])
        e = _dims(node)[-1]
        src = self.b.need(src, (t, 1, 1), node.name)
        self._emit(node, "embedding", [src], (t, e, 1))

    def _cat(self, node) -> None:
        parts = node.args[0]
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        rank = len(_dims(node))
        if dim % rank == 0:
            raise TraceError("concatenating along the batch dimension is not supported",
                             where=node.name)
        srcs = [self._as(node, a) for a in parts if a in self.alias]
        if not srcs:
            self.const.add(node)
            return
        self._emit(node, "concat", srcs)

    def _matmul(self, node) -> None:
        a, b = node.args[0], node.args[1]
        if a not in self.alias or b not in self.alias:
            raise TraceError("matmul with a stored operand is not supported", where=node.name,
                             expected="nn.Linear for weights; matmul between two activations")
        da, db, do = _dims(a), _dims(b), _dims(node)
        if len(da) < 3 or len(db) < 3:
            raise TraceError("matmul operands need a batch and two matrix dimensions",
                             where=node.name, found=[list(da), list(db)])
        m, k, n = da[-2], da[-1], db[-1]
        batch = math.prod(do[1:-2])
        shape_a = (batch, m, k)
        shape_b = (math.prod(db[1:-2]), k, n)
        sa = self.b.need(self._src(node, a), shape_a, node.name)
        sb = self.b.need(self._src(node, b), shape_b, node.name)
        self._emit(node, "matmul", [sa, sb], (batch, m, n))


def _prepare(model, example_input):
    """Eval-mode copy, in-place ops disabled, BN folded, shapes propagated."""
    torch = _torch()
    from torch.fx.experimental.optimization import fuse
    from torch.fx.passes.shape_prop import ShapeProp

    model = copy.deepcopy(model).eval()
    for mod in model.modules():
        if hasattr(mod, "inplace"):
            mod.inplace = False  # recorded activations must not be overwritten later
    try:
        gm = fuse(model)  # conv+bn -> conv with folded weights and bias (eval mode)
    except Exception as exc:  # fx raises many types for untraceable models
        raise TraceError(f"torch.fx cannot trace the model: {exc}", where="export",
                         expected="a model without data-dependent control flow") from None
    with torch.no_grad():
        ShapeProp(gm).propagate(example_input)
    return gm


def network_from_torch(model, example_input, name: str = "model") -> Network:
    """The shape-only :class:`Network` of a torch model (BN folded, fx-traced)."""
    gm = _prepare(model, example_input)
    layers = _GraphWalker(gm).walk()
    return Network(name=name, input_shape=canonical_shape(example_input.shape[1:]),
                   layers=tuple(layers))


def _record_inputs(gm, sources: dict[str, Any], samples) -> dict[str, np.ndarray]:
    """Input activations of the given MVM nodes for a batch of samples, as float arrays
    ``(N, C, H, W)`` in the layer's layout (a token Linear's ``(N, T, D)`` input is
    stored as ``(N, D, T, 1)``)."""
    torch = _torch()
    captured: dict[str, np.ndarray] = {}
    wanted = {node: (name, how) for name, (node, how) in sources.items()}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, n):
            if n in wanted:
                name, how = wanted[n]
                x = self.env[n.args[0]].detach()
                if how == "tokens":
                    x = x.reshape(x.shape[0], -1, x.shape[-1]).transpose(1, 2)
                captured[name] = x.reshape(x.shape + (1,) * (4 - x.dim())).numpy().copy()
            return super().run_node(n)

    with torch.no_grad():
        Recorder(gm).run(samples)
    return captured


def _layer_weights(walker: "_GraphWalker") -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Float32 weights (and biases) of every MVM layer with its own weights, in the
    trace's layout (a token Linear's ``(out, in)`` weight as a 1x1 conv's)."""
    torch = _torch()
    out = dict(walker.b.weights)
    for lname, (node, how) in walker.source.items():
        mod = walker.modules[node.target]
        w = mod.weight.detach().to(torch.float32).numpy().copy()
        if how == "tokens" or isinstance(mod, torch.nn.Conv1d):
            w = w.reshape(w.shape + (1,) * (4 - w.ndim))
        b = None if mod.bias is None else mod.bias.detach().to(torch.float32).numpy().copy()
        out[lname] = (w, b)
    return out


def export_torch(model, example_input, path: str | Path, samples=None, weight_bits: int = 8,
                 act_bits: int = 8, meta: dict | None = None, *, weights: bool = True,
                 name: str | None = None) -> Path:
    """Export a torch model to a trace file; returns the path written.

    ``example_input``: one batch (usually batch 1) fixing the input shape. ``samples``:
    a batch (tensor, 1 to 65536 rows, the example's per-sample shape) of real inputs whose
    per-layer input activations are recorded (``act_bits`` unsigned ints).
    ``weights=False`` writes a shape-only trace (no tensors at all). ``meta`` is merged
    over the exporter's own fields (source, bits, versions...). ``2 <= weight_bits <= 32``,
    ``1 <= act_bits <= 32``.
    """
    torch = _torch()
    path = Path(path)
    check_bits(weight_bits, "weight_bits", file=str(path))
    check_bits(act_bits, "act_bits", file=str(path))
    if samples is not None:
        if not isinstance(samples, torch.Tensor):
            raise TraceError("samples must be a batch of real inputs (a torch tensor)",
                             file=str(path), where="export: samples",
                             found=type(samples).__name__,
                             expected="a tensor of shape (N,) + example_input.shape[1:]")
        if (tuple(samples.shape[1:]) != tuple(example_input.shape[1:])
                or not 1 <= samples.shape[0] <= MAX_SAMPLES):
            raise TraceError("samples do not match the example input", file=str(path),
                             where="export: samples", found=list(samples.shape),
                             expected=f"(N, {', '.join(map(str, example_input.shape[1:]))}) "
                                      f"with 1 <= N <= {MAX_SAMPLES}")
        if not weights:
            raise TraceError("samples need weights=True (a shape-only trace stores no "
                             "activations)", file=str(path), where="export: samples")
    gm = _prepare(model, example_input)
    walker = _GraphWalker(gm)
    layers = walker.walk()
    network = Network(name=name or trace_name(path),
                      input_shape=canonical_shape(example_input.shape[1:]),
                      layers=tuple(layers))
    tensors: dict[str, dict[str, TensorData]] = {}
    stats: dict[str, dict] = {}
    if weights:
        tensors = weight_entries(_layer_weights(walker), weight_bits)
        if samples is not None:
            acts = _record_inputs(gm, walker.source, samples)
            for lname, x in acts.items():
                q, scale, zp = quantize_act(x, act_bits)
                tensors[lname]["act"] = TensorData(q, scale, act_bits, zp)
                stats[lname] = {"act_zero_bit_frac": [round(float(v), 6)
                                                      for v in zero_bit_fraction(q, act_bits)]}
    info = {"source": type(model).__name__, "dataset": None, "test_accuracy": None,
            "weight_bits": weight_bits, "act_bits": act_bits,
            "samples": 0 if samples is None or not weights else int(samples.shape[0]),
            "bn_folded": True, "exporter": "pimsim.workload.export",
            "exporter_version": EXPORTER_VERSION, "pimsim_version": pimsim.__version__,
            "torch_version": torch.__version__.split("+")[0], "seed": None}
    info.update(meta or {})
    return save_trace(path, network, tensors, info, stats)


def load_model_spec(model_spec: str):
    """``(model, example_input)`` from a zoo name or ``package.module:function``."""
    _torch()
    if ":" in model_spec:
        mod_name, _, fn_name = model_spec.partition(":")
        if not mod_name or not fn_name:
            raise TraceError("empty module or function name", where="model", found=model_spec,
                             expected="package.module:function")
        try:
            fn = getattr(import_user_module(mod_name), fn_name)   # cwd first
        except (ImportError, AttributeError, ValueError) as exc:
            raise TraceError(f"cannot load model function: {exc}", where="model",
                             found=model_spec, expected="module:function") from None
        result = fn()
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TraceError("model function must return (model, example_input)",
                             where="model", found=type(result).__name__)
        return result
    from pimsim.workload.zoo import ZOO
    if model_spec not in ZOO and model_spec in DIGITS_MODELS:
        torch = _torch()
        from pimsim.workload.zoo.digits import RECIPES, build
        recipe = RECIPES[model_spec]
        side = 8 * recipe.upsample
        return build(model_spec), torch.zeros(1, recipe.channels, side, side)
    if model_spec not in ZOO:
        names = list(ZOO) + [n for n in DIGITS_MODELS if n not in ZOO]
        raise TraceError("unknown model", where="model", found=model_spec,
                         expected=f"a zoo name ({', '.join(names)}) or module:function")
    return ZOO[model_spec]()


def export_command(model_spec: str, out_path: str, *, samples: int | None = None,
                   weight_bits: int = 8, act_bits: int = 8, weights: bool = True,
                   meta: dict | None = None, name: str | None = None) -> Path:
    """What ``pimsim export MODEL --out OUT`` does: build the model and export it.

    ``samples`` (int, default none) is the number of activation samples to record. They
    must be real inputs, so only the zoo models with a bundled data set take N > 0:
    ``cnn_digits`` and ``resnet20_digits`` are trained on scikit-learn's digits exactly as
    ``scripts/make_traces.py`` does (seed 0; ~20 s and ~2 min) and the first N of the
    360 held-out test images are recorded. Any other model refuses N > 0: call
    ``export_torch(model, example_input, path, samples=x)`` in Python with a batch ``x``
    of real inputs. With ``samples`` 0 or None the trace has the model's weights as
    built (a zoo model is untrained) and no activations; ``weights=False`` writes a
    shape-only trace. ``2 <= weight_bits <= 32``, ``1 <= act_bits <= 32``.
    """
    check_bits(weight_bits, "weight_bits", file=str(out_path))
    check_bits(act_bits, "act_bits", file=str(out_path))
    if samples is not None and (type(samples) is not int or not 0 <= samples <= MAX_SAMPLES):
        raise TraceError("samples must be a count", file=str(out_path), where="export: samples",
                         found=samples, expected=f"an integer 0 <= samples <= {MAX_SAMPLES}")
    if samples:
        if not weights:
            raise TraceError("samples need weights (a shape-only trace stores no "
                             "activations)", file=str(out_path), where="export: samples",
                             found=samples, expected="samples=0 with weights=False")
        if model_spec not in DIGITS_MODELS:
            raise TraceError(
                "recording activation samples needs real inputs, and this model has no "
                "bundled data set", file=str(out_path), where="export: samples",
                found=samples,
                expected="samples=0 here, and in Python export_torch(model, example_input, "
                         f"path, samples=x) with a batch x of real inputs (or a digits zoo "
                         f"model: {', '.join(DIGITS_MODELS)})")
        if meta is not None or name is not None:
            raise TraceError("meta and name cannot be set for a trained digits export",
                             file=str(out_path), where="export: meta",
                             expected="the reproducible training run's own metadata")
        _torch()
        from pimsim.workload.zoo.digits import digits_split, make_digits_trace
        held_out = len(digits_split()[3])
        if samples > held_out:
            raise TraceError("more samples than held-out test images", file=str(out_path),
                             where="export: samples", found=samples,
                             expected=f"at most {held_out}")
        path, _ = make_digits_trace(model_spec, out_path, seed=0, samples=samples,
                                    threads=DIGITS_MODELS[model_spec],
                                    weight_bits=weight_bits, act_bits=act_bits)
        return path
    model, example = load_model_spec(model_spec)
    info = {"source": model_spec, **(meta or {})}
    return export_torch(model, example, out_path, weight_bits=weight_bits, act_bits=act_bits,
                        meta=info, weights=weights, name=name)
