"""PyTorch -> trace exporter (needs torch: ``pip install -e '.[torch]'``).

The model is traced with ``torch.fx`` so residual adds and branches are exact, BatchNorm2d
is folded into the preceding Conv2d, shapes come from one forward pass of the example
input, and (optionally) the input activations of every conv/linear layer are recorded
for a batch of real samples and quantized to unsigned ``act_bits`` integers.
"""

from __future__ import annotations

import copy
import importlib
import operator
from pathlib import Path
from typing import Any

import numpy as np

import pimsim
from pimsim.errors import TraceError
from pimsim.workload.layer import Layer, Network
from pimsim.workload.trace import MAX_NAME_LEN, MAX_SAMPLES, NAME_CHARS, TensorData, save_trace

EXPORTER_VERSION = 1
"""Bumped when the exporter's output changes for the same model."""

TORCH_HINT = "install the optional torch extra: pip install -e '.[torch]'"

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
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise TraceError("exporting a PyTorch model needs torch", where="export",
                         expected=TORCH_HINT) from None
    return torch


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


def _shape3(meta_shape, where: str) -> tuple[int, int, int]:
    dims = tuple(int(d) for d in meta_shape)
    if len(dims) == 4:
        return dims[1:]  # type: ignore[return-value]
    if len(dims) == 2:
        return (dims[1], 1, 1)
    raise TraceError("unsupported tensor rank", where=where, found=list(dims),
                     expected="(N, C, H, W) or (N, features)")


class _GraphWalker:
    """Turns a BN-folded fx.GraphModule with shape metadata into pimsim layers."""

    def __init__(self, gm):
        self.torch = _torch()
        self.gm = gm
        self.modules = dict(gm.named_modules())
        self.layers: list[Layer] = []
        self.source: dict[str, Any] = {}  # layer name -> fx node of the MVM op
        self.alias: dict[Any, str] = {}   # fx node -> name of the layer producing its value
        self.shapes: dict[str, tuple[int, int, int]] = {}

    def walk(self) -> list[Layer]:
        placeholders = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                placeholders += 1
                if placeholders > 1:
                    raise TraceError("only single-input models are supported", where=node.name)
                self.alias[node] = "input"
                self.shapes["input"] = _shape3(node.meta["tensor_meta"].shape, node.name)
            elif node.op == "output":
                continue
            elif type(node.meta.get("tensor_meta")).__name__ == "TensorMetadata":
                self._node(node)
            # nodes without a tensor result (x.size(0), getattr) carry no data: skipped
        return self.layers

    # -- helpers --------------------------------------------------------------
    def _src(self, node, arg) -> str:
        if arg not in self.alias:
            raise TraceError("operand is not a tensor produced by a supported layer",
                             where=node.name, found=str(arg))
        return self.alias[arg]

    def _out(self, node) -> tuple[int, int, int]:
        return _shape3(node.meta["tensor_meta"].shape, node.name)

    def _emit(self, node, kind: str, inputs: list[str], **kw) -> None:
        name = node.name
        in_shape = self.shapes[inputs[0]]
        lay = Layer(name=name, kind=kind, inputs=tuple(inputs), in_shape=in_shape,
                    out_shape=self._out(node), **kw)
        self.layers.append(lay)
        self.shapes[name] = lay.out_shape
        self.alias[node] = name
        if lay.is_mvm:
            self.source[name] = node

    def _passthrough(self, node) -> None:
        self.alias[node] = self._src(node, node.args[0])

    def _reshape(self, node) -> None:
        src = self._src(node, node.args[0])
        out = self._out(node)
        rank = len(node.meta["tensor_meta"].shape)
        in_rank = len(node.args[0].meta["tensor_meta"].shape)
        if in_rank == 2 and rank == 2 and out == self.shapes[src]:
            self.alias[node] = src  # already a vector: nothing to do
        elif rank == 2:
            self._emit(node, "flatten", [src])
        else:
            raise TraceError("only flattening reshapes (N, C, H, W) -> (N, C*H*W) are supported",
                             where=node.name, found=list(node.meta["tensor_meta"].shape))

    def _window(self, node, kind: str, src: str, kernel, stride, padding, dilation=1) -> None:
        self._emit(node, kind, [src], kernel=_pair(kernel),
                   stride=_pair(stride if stride is not None else kernel),
                   padding=_pair(padding), dilation=_pair(dilation))

    def _adaptive(self, node, kind: str, src: str) -> None:
        c, h, w = self.shapes[src]
        _, ho, wo = self._out(node)
        if h % ho or w % wo:
            raise TraceError("adaptive pooling must divide the input evenly", where=node.name,
                             found=f"{h}x{w} -> {ho}x{wo}")
        k = (h // ho, w // wo)
        self._emit(node, kind, [src], kernel=k, stride=k)

    # -- dispatch ---------------------------------------------------------------
    def _node(self, node) -> None:
        torch = self.torch
        nn, F = torch.nn, torch.nn.functional
        if node.op == "call_module":
            mod = self.modules[node.target]
            src = self._src(node, node.args[0])
            if isinstance(mod, nn.Conv2d):
                if isinstance(mod.padding, str) or mod.padding_mode != "zeros":
                    raise TraceError("conv padding must be explicit zero padding",
                                     where=node.name, found=(mod.padding, mod.padding_mode))
                self._emit(node, "conv", [src], kernel=_pair(mod.kernel_size),
                           stride=_pair(mod.stride), padding=_pair(mod.padding),
                           dilation=_pair(mod.dilation), groups=mod.groups,
                           bias=mod.bias is not None)
            elif isinstance(mod, nn.Linear):
                if len(node.args[0].meta["tensor_meta"].shape) != 2:
                    raise TraceError("linear layers must take a flattened (N, features) input",
                                     where=node.name)
                self._emit(node, "linear", [src], bias=mod.bias is not None)
            elif isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d)):
                if mod.ceil_mode or getattr(mod, "return_indices", False):
                    raise TraceError("ceil_mode / return_indices pooling is not supported",
                                     where=node.name)
                kind = "maxpool" if isinstance(mod, nn.MaxPool2d) else "avgpool"
                self._window(node, kind, src, mod.kernel_size, mod.stride, mod.padding,
                             getattr(mod, "dilation", 1))
            elif isinstance(mod, nn.AdaptiveAvgPool2d):
                self._adaptive(node, "avgpool", src)
            elif isinstance(mod, nn.AdaptiveMaxPool2d):
                self._adaptive(node, "maxpool", src)
            elif isinstance(mod, (nn.ReLU, nn.ReLU6, nn.LeakyReLU)):
                self._emit(node, "relu", [src])
            elif isinstance(mod, nn.Flatten):
                self._reshape(node)
            elif isinstance(mod, (nn.Dropout, nn.Dropout2d, nn.Identity)):
                self._passthrough(node)
            elif isinstance(mod, nn.BatchNorm2d):
                raise TraceError("BatchNorm2d not directly after a Conv2d cannot be folded",
                                 where=node.name)
            else:
                raise TraceError("unsupported module", where=node.name,
                                 found=type(mod).__name__,
                                 expected="Conv2d, Linear, pooling, ReLU family, Flatten, "
                                          "Dropout, Identity")
        elif node.op == "call_function":
            fn = node.target
            if fn in (operator.add, operator.iadd, torch.add):
                tensors = [a for a in node.args if hasattr(a, "op")]
                if len(tensors) != len(node.args) or node.kwargs:
                    raise TraceError("only tensor + tensor adds are supported", where=node.name)
                self._emit(node, "add", [self._src(node, a) for a in tensors])
            elif fn in (torch.relu, F.relu, F.relu6, F.leaky_relu):
                self._emit(node, "relu", [self._src(node, node.args[0])])
            elif fn in (torch.flatten, torch.reshape):
                self._reshape(node)
            elif fn is F.adaptive_avg_pool2d:
                self._adaptive(node, "avgpool", self._src(node, node.args[0]))
            elif fn is F.dropout:
                self._passthrough(node)
            else:
                raise TraceError("unsupported function", where=node.name,
                                 found=getattr(fn, "__name__", str(fn)),
                                 expected="add, relu, flatten, adaptive_avg_pool2d")
        elif node.op == "call_method":
            if node.target in ("relu", "relu_"):
                self._emit(node, "relu", [self._src(node, node.args[0])])
            elif node.target in ("flatten", "view", "reshape"):
                self._reshape(node)
            elif node.target in ("contiguous", "clone"):
                self._passthrough(node)
            elif node.target in ("add", "add_"):
                self._emit(node, "add", [self._src(node, a) for a in node.args[:2]])
            else:
                raise TraceError("unsupported tensor method", where=node.name, found=node.target)
        else:
            raise TraceError("unsupported graph node", where=node.name, found=node.op)


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
    return Network(name=name, input_shape=tuple(example_input.shape[1:]), layers=tuple(layers))


def _record_inputs(gm, names: dict[str, Any], samples) -> dict[str, np.ndarray]:
    """Input activations of the given MVM nodes for a batch of samples, as float arrays."""
    torch = _torch()
    captured: dict[str, np.ndarray] = {}
    wanted = {node: name for name, node in names.items()}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, n):
            if n in wanted:
                x = self.env[n.args[0]].detach()
                captured[wanted[n]] = x.reshape(x.shape + (1,) * (4 - x.dim())).numpy().copy()
            return super().run_node(n)

    with torch.no_grad():
        Recorder(gm).run(samples)
    return captured


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
    default_name = "".join(ch if ch in NAME_CHARS else "_" for ch in path.stem)[:MAX_NAME_LEN]
    network = Network(name=name or default_name or "model",
                      input_shape=tuple(int(d) for d in example_input.shape[1:]),
                      layers=tuple(layers))
    tensors: dict[str, dict[str, TensorData]] = {}
    stats: dict[str, dict] = {}
    if weights:
        for lname, node in walker.source.items():
            mod = walker.modules[node.target]
            w = mod.weight.detach().to(torch.float32).numpy().copy()
            q, scale = quantize_weight(w, weight_bits)
            entry = {"weight": TensorData(w), "weight_q": TensorData(q, scale, weight_bits, 0)}
            if mod.bias is not None:
                entry["bias"] = TensorData(mod.bias.detach().to(torch.float32).numpy().copy())
            tensors[lname] = entry
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
            fn = getattr(importlib.import_module(mod_name), fn_name)
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
