"""ONNX -> trace importer (needs the optional ``onnx`` extra: ``pip install -e '.[onnx]'``).

``import_onnx(model.onnx, out.npz)`` reads the model defensively, runs ONNX shape
inference, and builds the same layers the torch.fx exporter builds for the same network
(both go through :class:`pimsim.workload.builder.LayerBuilder`): initializers become the
MVM layers' weights, activations are described by ``canonical_shape``, LSTM/GRU nodes are
unrolled over their time steps, and element-wise ops without a model become a generic
digital unit with a warning.

An ONNX file is untrusted input, like a trace: its size is capped before it is read,
protobuf decoding errors (including nesting bombs) and shape-inference failures become
:class:`~pimsim.errors.TraceError`, external tensor data (a file path inside the model)
is refused, and every initializer is checked against the trace caps before it is
converted to an array.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

import pimsim
from pimsim.errors import TraceError
from pimsim.optional import ONNX_HINT, require
from pimsim.workload.builder import LayerBuilder, RnnWeights, slice_shape
from pimsim.workload.export import check_bits, trace_name, weight_entries
from pimsim.workload.layer import NETWORK_INPUT, Network, canonical_shape
from pimsim.workload.ops import digital_work, eltwise_op_name, warn_unmodelled
from pimsim.workload.trace import (MAX_LAYERS, MAX_NAME_LEN, MAX_TENSOR_ELEMS,
                                   MAX_TOTAL_TENSOR_BYTES, save_trace)

IMPORTER_VERSION = 1

MAX_ONNX_BYTES = MAX_TOTAL_TENSOR_BYTES
"""Largest ONNX file read (2 GiB, protobuf's own limit; the trace's tensor cap)."""
FOLD_ELEMS = 2**16
"""Largest constant (shape) tensor evaluated while resolving symbolic dims."""
MAX_NODES = 4 * MAX_LAYERS
"""Most graph nodes accepted (exporters add shape and cast nodes around each layer)."""

_VIEW_OPS = ("Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Dropout",
             "Cast")
_ELTWISE = {"Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish",
            "HardSigmoid": "hardsigmoid", "Gelu": "gelu"}
_BINARY = {"Add": "add", "Mul": "mul", "Sub": "sub", "Div": "div"}
#: ONNX gate order -> PyTorch's (the trace keeps PyTorch's layout)
_GATE_ORDER = {"lstm": (0, 2, 3, 1), "gru": (1, 0, 2)}   # iofc -> ifgo, zrh -> rzn
#: nodes that carry shape data, never activations, even when an activation feeds them
_SHAPE_OPS = ("Shape", "Size")


def _onnx():
    return require("onnx", "importing an ONNX model", ONNX_HINT, error=TraceError,
                   where="import", also=("numpy_helper", "shape_inference"))


def load_onnx(path: str | os.PathLike):
    """The checked, shape-inferred ``ModelProto`` of an ONNX file (TraceError otherwise)."""
    onnx = _onnx()
    path = Path(path)
    fname = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TraceError("file not found", file=fname) from None
    except OSError as exc:
        raise TraceError(f"cannot read: {exc}", file=fname) from None
    if path.is_dir():
        raise TraceError("is a directory, not an ONNX file", file=fname)
    if size > MAX_ONNX_BYTES:
        raise TraceError("ONNX file too large", file=fname, found=f"{size} bytes",
                         expected=f"at most {MAX_ONNX_BYTES} bytes")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TraceError(f"cannot read: {exc}", file=fname) from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(raw)
    except Exception as exc:   # google.protobuf.message.DecodeError, RecursionError ...
        raise TraceError(f"not a readable ONNX model (protobuf decoding failed: {exc})",
                         file=fname, expected="an .onnx file written by an ONNX exporter") from None
    del raw
    graph = model.graph
    if not graph.node:
        raise TraceError("the model has no graph nodes", file=fname, where="graph.node",
                         expected="an ONNX model (a protobuf that is not one decodes as empty)")
    if len(graph.node) > MAX_NODES:
        raise TraceError("too many graph nodes", file=fname, where="graph.node",
                         found=len(graph.node), expected=f"at most {MAX_NODES}")
    _check_initializers(graph, fname)
    for node in graph.node:
        for attr in node.attribute:
            if attr.g.ByteSize() or len(attr.graphs):
                raise TraceError("control flow (subgraphs) is not supported", file=fname,
                                 where=f"node {_short(node.name or node.op_type)}",
                                 found=node.op_type, expected="a static feed-forward graph")
    try:
        return onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:   # onnx.shape_inference.InferenceError and friends
        raise TraceError(f"ONNX shape inference failed: {_short(str(exc), 300)}", file=fname,
                         expected="a model whose shapes ONNX can infer (fixed input shape)") from None


def _short(text: str, n: int = MAX_NAME_LEN) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _check_initializers(graph, fname: str) -> None:
    """Initializers: internal data only, each within the trace caps, total within them."""
    total = 0
    for init in graph.initializer:
        total += _check_one(init, fname, f"initializer {_short(init.name)!r}")
        if total > MAX_TOTAL_TENSOR_BYTES:
            raise TraceError("initializers too large in total", file=fname,
                             where=f"initializer {_short(init.name)!r}",
                             expected=f"at most {MAX_TOTAL_TENSOR_BYTES} bytes")


def _check_one(init, fname: str, where: str) -> int:
    """Bytes of one stored tensor, after checking it against the trace caps."""
    onnx = _onnx()
    if init.data_location == onnx.TensorProto.EXTERNAL or init.external_data:
        raise TraceError("external tensor data is refused (it names files to read)",
                         file=fname, where=where,
                         expected="a self-contained .onnx (save without external data)")
    if any(d < 0 for d in init.dims):
        raise TraceError("negative dimension", file=fname, where=where, found=list(init.dims))
    elems = math.prod(init.dims)
    if elems > MAX_TENSOR_ELEMS:
        raise TraceError("initializer too large", file=fname, where=where,
                         found=list(init.dims), expected=f"at most {MAX_TENSOR_ELEMS} elements")
    try:
        itemsize = onnx.helper.tensor_dtype_to_np_dtype(init.data_type).itemsize
    except Exception:
        raise TraceError("unsupported initializer data type", file=fname, where=where,
                         found=init.data_type) from None
    if init.raw_data and len(init.raw_data) != elems * itemsize:
        raise TraceError("initializer data does not match its shape", file=fname,
                         where=where, found=f"{len(init.raw_data)} bytes",
                         expected=f"{elems * itemsize} bytes for {list(init.dims)}")
    return elems * itemsize


class _OnnxWalker:
    """ONNX nodes -> pimsim layers through the exporter's :class:`LayerBuilder`."""

    def __init__(self, model, fname: str):
        onnx = _onnx()
        self.onnx = onnx
        self.fname = fname
        self.graph = model.graph
        self.b = LayerBuilder(where=fname)
        self.inits = {t.name: t for t in self.graph.initializer}
        self.dims: dict[str, tuple[int, ...]] = {}
        for vi in list(self.graph.value_info) + list(self.graph.output) + list(self.graph.input):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                self.dims[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else -1
                                           for d in t.shape.dim)
        for name, t in self.inits.items():
            self.dims[name] = tuple(t.dims)
        self.alias: dict[str, str] = {}     # tensor name -> layer producing it
        self.consumers: dict[str, list] = {}
        for node in self.graph.node:
            for i in node.input:
                self.consumers.setdefault(i, []).append(node)
        self.fused: set[int] = set()        # ids of nodes folded into an earlier layer
        self.bias_of: dict[int, Any] = {}   # id(MatMul) -> its bias Add node

    # -- helpers -----------------------------------------------------------------
    def err(self, node, msg: str, **kw) -> TraceError:
        return TraceError(msg, file=self.fname,
                          where=f"node {_short(node.name or node.op_type)!r} ({node.op_type})", **kw)

    def d(self, name: str, node=None) -> tuple[int, ...]:
        dims = self.dims.get(name)
        if dims is None or any(x < 1 for x in dims):
            raise self.err(node, "tensor shape unknown after shape inference", found=dims,
                           expected="static shapes (export with a fixed input shape)")
        return dims

    def canon(self, name: str, node) -> tuple[int, int, int]:
        dims = self.d(name, node)
        if not 1 <= len(dims) <= 4:
            raise self.err(node, "unsupported tensor rank", found=list(dims),
                           expected="(N, features), (N, C, L) / (N, T, D) or (N, C, H, W)")
        return canonical_shape(dims[1:])

    def arr(self, name: str, node) -> np.ndarray:
        if name not in self.inits:
            raise self.err(node, "expected a stored weight (initializer)", found=name)
        return np.ascontiguousarray(self.onnx.numpy_helper.to_array(self.inits[name]),
                                    dtype=np.float32)

    def _constants(self) -> None:
        """Constant nodes (and Identity copies of constants) count as initializers."""
        for node in self.graph.node:
            if node.op_type == "Constant" and len(node.output) == 1:
                value = self.attrs(node).get("value")
                if value is not None and hasattr(value, "dims"):
                    _check_one(value, self.fname, f"node {_short(node.name)!r}")
                    self.inits[node.output[0]] = value
                    self.dims[node.output[0]] = tuple(value.dims)
            elif node.op_type == "Identity" and node.input[0] in self.inits:
                self.inits[node.output[0]] = self.inits[node.input[0]]
                self.dims[node.output[0]] = tuple(self.inits[node.input[0]].dims)
        self._fold_shapes()

    def _fold_shapes(self) -> None:
        """Evaluate the small constant subgraphs exporters emit for shapes (Shape, Gather,
        Concat, Equal, Where, Expand of a class token ...) with ONNX's reference
        evaluator, so the dims shape inference left symbolic become known."""
        from onnx.reference import ReferenceEvaluator

        values: dict[str, np.ndarray] = {}

        def value(name: str):
            if name in values:
                return values[name]
            t = self.inits.get(name)
            if t is not None and math.prod(t.dims) <= FOLD_ELEMS:
                values[name] = self.onnx.numpy_helper.to_array(t)
                return values[name]
            return None

        for node in self.graph.node:
            if node.op_type == "Shape" and node.input[0] in self.dims:
                dims = self.dims[node.input[0]]
                if all(x >= 1 for x in dims):
                    at = self.attrs(node)
                    values[node.output[0]] = np.array(dims, np.int64)[
                        at.get("start", 0):at.get("end", len(dims))]
                continue
            if node.op_type in ("Constant", "Identity") or not node.input or any(
                    node.input) is False:
                continue
            ins = [value(i) if i else None for i in node.input]
            if any(v is None for v, i in zip(ins, node.input) if i):
                continue
            try:
                outs = ReferenceEvaluator(node).run(
                    None, {i: v for i, v in zip(node.input, ins) if i})
            except Exception:
                continue
            for name, out in zip(node.output, outs):
                out = np.asarray(out)
                if out.size <= FOLD_ELEMS:
                    values[name] = out
                known = self.dims.get(name)
                if known is None or any(x < 1 for x in known):
                    self.dims[name] = tuple(int(x) for x in out.shape)

    def attrs(self, node) -> dict:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def emit(self, node, kind: str, inputs: list[str], out_shape=None, **kw) -> str:
        out = node.output[0]
        name = self.b.emit(node.name or out, kind, inputs,
                           out_shape if out_shape is not None else self.canon(out, node), **kw)
        self.alias[out] = name
        return name

    def src(self, node, i: int = 0) -> str:
        return self.alias[node.input[i]]

    def need(self, node, name: str, shape) -> str:
        return self.b.need(self.alias[name], shape, node.name or node.op_type)

    # -- walk -------------------------------------------------------------------------
    def walk(self) -> list:
        inputs = [i for i in self.graph.input if i.name not in self.inits]
        if len(inputs) != 1:
            raise TraceError("only single-input models are supported", file=self.fname,
                             where="graph.input", found=[i.name for i in inputs])
        inp = inputs[0]
        dims = self.dims.get(inp.name, ())
        if not dims or any(x < 1 for x in dims[1:]):
            raise TraceError("the input needs a fixed shape (a symbolic batch is allowed)",
                             file=self.fname, where=f"graph.input {inp.name!r}", found=dims)
        self.dims[inp.name] = (1,) + tuple(dims[1:])
        self.alias[inp.name] = NETWORK_INPUT
        self.b.set_input(canonical_shape(dims[1:]))
        self._constants()
        self._prepass()
        for node in self.graph.node:
            if id(node) in self.fused:
                continue
            acts = [i for i in node.input if i in self.alias]
            if not acts or node.op_type in _SHAPE_OPS:
                continue                      # computed from constants or shapes only
            self._node(node)
        return self.b.layers

    def _prepass(self) -> None:
        """Fold a Linear's bias Add into its MatMul, and x * sigmoid(x) into one silu."""
        producer = {o: n for n in self.graph.node for o in n.output}
        for node in self.graph.node:
            if node.op_type == "MatMul" and node.input[1] in self.inits:
                users = self.consumers.get(node.output[0], [])
                if len(users) == 1 and users[0].op_type == "Add":
                    other = [i for i in users[0].input if i != node.output[0]]
                    if other and other[0] in self.inits and len(self.inits[other[0]].dims) == 1:
                        self.bias_of[id(node)] = users[0]
                        self.fused.add(id(users[0]))
            if node.op_type == "Mul" and len(node.input) == 2:
                for a, b in (node.input, node.input[::-1]):
                    p = producer.get(b)
                    if (p is not None and p.op_type == "Sigmoid" and p.input[0] == a
                            and len(self.consumers.get(b, [])) == 1):
                        self.fused.add(id(p))
                        self.silu = getattr(self, "silu", {})
                        self.silu[id(node)] = a

    def _node(self, node) -> None:
        op = node.op_type
        at = self.attrs(node)
        if op == "Conv":
            self._conv(node, at)
        elif op == "Gemm":
            if at.get("transA", 0) or at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0:
                raise self.err(node, "only Gemm as a Linear layer is supported",
                               expected="transA=0, alpha=beta=1")
            w = self.arr(node.input[1], node)
            w = w if at.get("transB", 0) else w.T
            bias = self.arr(node.input[2], node) if len(node.input) > 2 and node.input[2] else None
            self.emit(node, "linear", [self.src(node)], bias=bias is not None,
                      weight=np.ascontiguousarray(w), bias_tensor=bias)
        elif op == "MatMul":
            if node.input[1] in self.inits:
                self._linear_matmul(node)
            else:
                self._matmul(node)
        elif op in _BINARY:
            self._binary(node, _BINARY[op])
        elif op in ("Relu", "LeakyRelu"):
            src = self.src(node)
            self.emit(node, "relu", [src], self.b.shapes[src])
        elif op == "Clip":
            self._clip(node)
        elif op in _ELTWISE:
            src = self.src(node)
            self.emit(node, "eltwise", [src], self.b.shapes[src], op=_ELTWISE[op])
        elif op == "Softmax":
            src = self.src(node)
            self.emit(node, "softmax", [src], self.b.shapes[src])
        elif op == "LayerNormalization":
            src = self.src(node)
            self.emit(node, "layernorm", [src], self.b.shapes[src])
        elif op == "BatchNormalization":
            src = self.src(node)
            self.emit(node, "batchnorm", [src], self.b.shapes[src])
        elif op in ("MaxPool", "AveragePool"):
            self._pool(node, at, "maxpool" if op == "MaxPool" else "avgpool")
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            c, h, w = self.b.shapes[self.src(node)]
            self.emit(node, "avgpool" if op == "GlobalAveragePool" else "maxpool",
                      [self.src(node)], kernel=(h, w), stride=(h, w))
        elif op in _VIEW_OPS:
            self._view(node)
        elif op == "Concat":
            self._concat(node, at)
        elif op in ("Slice", "Split", "Gather"):
            self._slice(node, at)
        elif op in ("Resize", "Upsample"):
            self._upsample(node, at)
        elif op in ("LSTM", "GRU"):
            self._rnn(node, at, op.lower())
        elif op == "Expand" and self.d(node.output[0], node) == self.d(node.input[0], node):
            self.alias[node.output[0]] = self.src(node)
        elif (len(node.output) == 1 and node.output[0] in self.dims
              and self.dims[node.output[0]] == self.dims.get(node.input[0])):
            self._binary(node, eltwise_op_name(op))     # unknown element-wise op
        else:
            raise self.err(node, "unsupported operator", found=op,
                           expected="Conv, Gemm/MatMul, element-wise ops, pooling, norms, "
                                    "Softmax, Concat/Split/Slice, Resize, LSTM/GRU, reshapes")

    def _conv(self, node, at) -> None:
        w = self.arr(node.input[1], node)
        bias = self.arr(node.input[2], node) if len(node.input) > 2 and node.input[2] else None
        rank = w.ndim - 2
        pads = list(at.get("pads", [0] * 2 * rank))
        if at.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or pads[:rank] != pads[rank:]:
            raise self.err(node, "conv padding must be explicit and symmetric", found=pads)
        k = list(at.get("kernel_shape", w.shape[2:]))
        s = list(at.get("strides", [1] * rank))
        dil = list(at.get("dilations", [1] * rank))
        if rank == 1:
            k, s, dil, pads = k + [1], s + [1], dil + [1], [pads[0], 0]
            w = w.reshape(w.shape + (1,))
            src = self.need(node, node.input[0], self.canon(node.input[0], node))
        elif rank == 2:
            src = self.src(node)
        else:
            raise self.err(node, "only 1-D and 2-D convolutions are supported", found=rank)
        self.emit(node, "conv", [src], kernel=tuple(k), stride=tuple(s), padding=tuple(pads[:2]),
                  dilation=tuple(dil), groups=int(at.get("group", 1)), bias=bias is not None,
                  weight=w, bias_tensor=bias)

    def _linear_matmul(self, node) -> None:
        w = self.arr(node.input[1], node)
        if w.ndim != 2:
            raise self.err(node, "a MatMul with a stored operand must be a Linear (2-D weight)",
                           found=list(w.shape))
        add = self.bias_of.get(id(node))
        bias = None
        if add is not None:
            bias = self.arr([i for i in add.input if i != node.output[0]][0], add)
        out_name = add.output[0] if add is not None else node.output[0]
        in_dims = self.d(node.input[0], node)
        weight = np.ascontiguousarray(w.T)
        if len(in_dims) == 2:
            name = self.b.emit(node.name or out_name, "linear", [self.src(node)],
                               (w.shape[1], 1, 1), bias=bias is not None, weight=weight,
                               bias_tensor=bias)
        else:
            d, t = in_dims[-1], math.prod(in_dims[1:-1])
            src = self.need(node, node.input[0], (d, t, 1))
            name = self.b.emit(node.name or out_name, "conv", [src], (w.shape[1], t, 1),
                               bias=bias is not None, weight=weight.reshape(weight.shape + (1, 1)),
                               bias_tensor=bias)
        self.alias[out_name] = name

    def _matmul(self, node) -> None:
        a, b = node.input[0], node.input[1]
        if a not in self.alias or b not in self.alias:
            raise self.err(node, "matmul with a constant computed operand is not supported")
        da, db, do = self.d(a, node), self.d(b, node), self.d(node.output[0], node)
        if len(da) < 3 or len(db) < 3:
            raise self.err(node, "matmul operands need a batch and two matrix dimensions",
                           found=[list(da), list(db)])
        m, k, n = da[-2], da[-1], db[-1]
        batch = math.prod(do[1:-2])
        sa = self.need(node, a, (batch, m, k))
        sb = self.need(node, b, (math.prod(db[1:-2]), k, n))
        self.emit(node, "matmul", [sa, sb], (batch, m, n))

    def _bcast(self, name: str, out_rank: int) -> tuple[int, int, int]:
        dims = self.dims[name]
        dims = (1,) * (out_rank - len(dims)) + tuple(dims)
        return canonical_shape(dims[1:])

    def _binary(self, node, op: str) -> None:
        silu = getattr(self, "silu", {}).get(id(node))
        if silu is not None:
            src = self.alias[silu]
            self.emit(node, "eltwise", [src], self.b.shapes[src], op="silu")
            return
        out = self.canon(node.output[0], node)
        rank = len(self.d(node.output[0], node))
        acts = [i for i in node.input if i in self.alias]
        srcs = [self.need(node, a, self._bcast(a, rank)) for a in acts]
        if op == "add" and len(srcs) >= 2 and all(self.b.shapes[s] == out for s in srcs):
            self.emit(node, "add", srcs, out)
            return
        if digital_work("eltwise", op).generic:
            warn_unmodelled(op, f"{self.fname}: {node.name or node.op_type}")
        self.emit(node, "eltwise", srcs, out, op=op)

    def _clip(self, node) -> None:
        lo = self._scalar(node.input[1]) if len(node.input) > 1 and node.input[1] else None
        src = self.src(node)
        if lo == 0.0:
            self.emit(node, "relu", [src], self.b.shapes[src])   # ReLU6 (as the exporter)
        else:
            self.emit(node, "eltwise", [src], self.b.shapes[src], op="clip")
            warn_unmodelled("clip", f"{self.fname}: {node.name or 'Clip'}")

    def _scalar(self, name: str) -> float | None:
        if name in self.inits:
            v = self.onnx.numpy_helper.to_array(self.inits[name])
            return float(v.reshape(-1)[0]) if v.size == 1 else None
        for n in self.graph.node:
            if n.op_type == "Constant" and n.output[0] == name:
                v = self.onnx.numpy_helper.to_array(self.attrs(n)["value"])
                return float(v.reshape(-1)[0]) if v.size == 1 else None
        return None

    def _pool(self, node, at, kind: str) -> None:
        k = list(at["kernel_shape"])
        pads = list(at.get("pads", [0] * 4))
        if len(k) != 2 or pads[:2] != pads[2:]:
            raise self.err(node, "only 2-D pooling with symmetric padding is supported",
                           found={"kernel": k, "pads": pads})
        self.emit(node, kind, [self.src(node)], kernel=tuple(k),
                  stride=tuple(at.get("strides", k)), padding=tuple(pads[:2]),
                  dilation=tuple(at.get("dilations", [1, 1])),
                  ceil_mode=bool(at.get("ceil_mode", 0)))

    def _view(self, node) -> None:
        src = self.src(node)
        dims, in_dims = self.d(node.output[0], node), self.d(node.input[0], node)
        if math.prod(dims) != math.prod(in_dims):
            raise self.err(node, "a view that changes the element count is not supported",
                           found=list(dims))
        if (len(dims) == 2 and len(in_dims) == 4
                and self.b.shapes[src] == canonical_shape(in_dims[1:])):
            self.emit(node, "flatten", [src])
        else:
            self.alias[node.output[0]] = src

    def _concat(self, node, at) -> None:
        axis = int(at.get("axis", 0))
        dims = self.dims.get(node.output[0])
        if dims is not None and any(x < 1 for x in dims):   # derive from the known inputs
            parts = [self.d(i, node) for i in node.input]
            self.dims[node.output[0]] = tuple(
                sum(p[a] for p in parts) if a == axis % len(dims) else parts[0][a]
                for a in range(len(dims)))
        if axis % len(self.d(node.output[0], node)) == 0:
            raise self.err(node, "concatenating along the batch dimension is not supported")
        srcs = [self.need(node, i, self.canon(i, node)) for i in node.input if i in self.alias]
        self.emit(node, "concat", srcs)

    def _slice(self, node, at) -> None:
        if node.op_type == "Gather" and node.input[0] in self.inits:
            src = self.alias[node.input[1]]                       # an embedding look-up
            t = math.prod(self.b.shapes[src])
            e = self.d(node.output[0], node)[-1]
            self.emit(node, "embedding", [self.b.need(src, (t, 1, 1), node.name)], (t, e, 1))
            return
        if node.input[0] not in self.alias:
            raise self.err(node, "indexing with a computed index is not supported")
        in_dims = self.d(node.input[0], node)
        for out in node.output:
            dims = self.d(out, node)
            if dims[:1] != in_dims[:1] and len(dims) == len(in_dims):
                raise self.err(node, "indexing the batch dimension is not supported")
            elems = math.prod(dims[1:]) if len(dims) > 1 else 1
            src = self.src(node)
            try:
                shape = slice_shape(self.b.shapes[src], elems)
            except ValueError:
                src = self.need(node, node.input[0], self.canon(node.input[0], node))
                shape = slice_shape(self.b.shapes[src], elems)
            name = self.b.emit(node.name or out, "slice", [src], shape)
            self.alias[out] = name

    def _upsample(self, node, at) -> None:
        mode = at.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        mode = {"linear": "bilinear"}.get(mode, mode)
        src = self.src(node)
        c, h, w = self.b.shapes[src]
        co, ho, wo = self.canon(node.output[0], node)
        if ho % h or wo % w or co != c or mode not in ("nearest", "bilinear"):
            raise self.err(node, "upsampling must scale H and W by whole factors "
                           "(nearest or bilinear)", found=f"{h}x{w} -> {ho}x{wo}, {mode}")
        self.emit(node, "upsample", [src], stride=(ho // h, wo // w), op=mode)

    def _rnn(self, node, at, cell: str) -> None:
        if at.get("direction", b"forward") not in (b"forward", "forward") or at.get("layout", 0):
            raise self.err(node, "only forward, seq-first RNNs are supported",
                           found=at.get("direction"))
        if len(node.input) > 5 and node.input[5] and node.input[5] in self.alias:
            raise self.err(node, "a non-zero initial state is not supported")
        x = self.d(node.input[0], node)
        steps, batch, in_size = x
        if batch != 1:
            raise self.err(node, "RNNs are unrolled for batch 1", found=list(x))
        hidden = int(at["hidden_size"])
        gates = {"lstm": 4, "gru": 3}[cell]
        order = np.concatenate([np.arange(g * hidden, (g + 1) * hidden)
                                for g in _GATE_ORDER[cell]])
        w = self.arr(node.input[1], node)[0][order]
        r = self.arr(node.input[2], node)[0][order]
        bias = None
        if len(node.input) > 3 and node.input[3]:
            bb = self.arr(node.input[3], node)[0]
            bias = (bb[:gates * hidden] + bb[gates * hidden:])[order]
        src = self.alias[node.input[0]]
        out = self.b.unroll_rnn(node.name or node.output[0], cell, src, steps, in_size, hidden,
                                [RnnWeights(w, r, bias)], 1)
        self.alias[node.output[0]] = out


def network_from_onnx(path: str | os.PathLike, name: str | None = None) -> Network:
    """The shape-only :class:`Network` of an ONNX model."""
    walker = _OnnxWalker(load_onnx(path), str(path))
    layers = walker.walk()
    return Network(name=name or trace_name(path), input_shape=walker.b.shapes[NETWORK_INPUT],
                   layers=tuple(layers))


def import_onnx(path: str | os.PathLike, out: str | os.PathLike, *, weights: bool = True,
                weight_bits: int = 8, name: str | None = None) -> Path:
    """What ``pimsim import model.onnx --out model.npz`` does: the trace of an ONNX model.

    Initializers become the MVM layers' ``weight``/``bias`` (float32) and ``weight_q``
    (``weight_bits``-bit symmetric, as the torch exporter quantizes); ``weights=False``
    writes a shape-only trace. Returns the path written.
    """
    check_bits(weight_bits, "weight_bits", where="import", file=str(out))
    walker = _OnnxWalker(load_onnx(path), str(path))
    layers = walker.walk()
    network = Network(name=name or trace_name(path), input_shape=walker.b.shapes[NETWORK_INPUT],
                      layers=tuple(layers))
    tensors = weight_entries(walker.b.weights, weight_bits) if weights else {}
    info = {"source": Path(path).name, "dataset": None, "test_accuracy": None,
            "weight_bits": weight_bits if weights else None, "act_bits": None, "samples": 0,
            "bn_folded": None, "exporter": "pimsim.workload.onnx_import",
            "exporter_version": IMPORTER_VERSION, "pimsim_version": pimsim.__version__,
            "onnx_version": walker.onnx.__version__, "seed": None}
    return save_trace(out, network, tensors, info, {})
