"""Trace files: read, validate and write one ``.npz`` per network, never with pickle.

A trace is a zip holding ``manifest.npy`` (a uint8 array of UTF-8 JSON: layers, tensor
index, metadata) and one ``.npy`` member per tensor. The format is specified in
``docs/trace-format.md``. Reading is defensive: every size is checked against the zip
directory and the caps below *before* anything is allocated, object dtypes are refused,
and every problem raises :class:`~pimsim.errors.TraceError` naming file, layer and field.

Loading a trace reads only the manifest; tensors are read on demand
(:meth:`Trace.weight`, :meth:`Trace.activations`). :func:`validate_trace` reads them all.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tempfile
import tokenize
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pimsim.errors import TraceError
from pimsim.workload.layer import (LAYER_KINDS, MVM_KINDS, NETWORK_INPUT, POOL_KINDS, Layer, Network,
                                   conv_out)
from pimsim.workload.layer_rules import MULTI_INPUT_KINDS, OPTIONAL_LAYER_KEYS, check_kind_rules

FORMAT_VERSION = 1
"""The trace format version this code writes and the only one it reads."""

MANIFEST_MEMBER = "manifest.npy"
INPUT_NAME = NETWORK_INPUT
"""Producer name that stands for the network input; no layer may use it."""

# --- caps: checked before allocating anything (documented in docs/trace-format.md) ---
MAX_MANIFEST_BYTES = 8 * 2**20
"""Largest manifest accepted (8 MiB of JSON: ~40k layers)."""
MAX_LAYERS = 20_000
MAX_NAME_LEN = 200
MAX_DIM = 2**20
"""Largest single extent (channels, height, width, kernel, stride, ...) of a layer."""
MAX_LAYER_ELEMS = 2**34
"""Largest C x H x W of one activation shape."""
MAX_TENSOR_ELEMS = 2**27
"""Largest element count of one stored tensor (134 M: VGG-16's 103 M fc6 weight fits)."""
MAX_TENSOR_BYTES = 2**30
"""Largest uncompressed ``.npy`` member (1 GiB)."""
MAX_TOTAL_TENSOR_BYTES = 2**31
"""Largest sum of all declared tensors' bytes in one trace (2 GiB; VGG-16's float and
int8 weights together are ~0.7 GiB). Checked on load, before any tensor is read."""
MAX_COMPRESSION_RATIO = 1000
"""Largest uncompressed / compressed size of a zip member above ``RATIO_FREE_BYTES``:
deflate cannot exceed ~1032:1, which only constant data reaches (a zip bomb's zeros)."""
RATIO_FREE_BYTES = 2**20
"""Members up to 1 MiB uncompressed are exempt from the ratio check."""
MAX_NUMBER = 2**53
"""Largest magnitude of an integer given where a float is expected (``scale``, meta)."""
MAX_NPY_HEADER_BYTES = 64 * 2**10
"""numpy's own header limit is 10 kB; anything larger than this is hostile."""
MAX_BITS = 32
MAX_SAMPLES = 2**16
MAX_FAN_IN = 256
"""Most producers one layer may join (add/concat). DenseNet-264's widest concat joins 65;
each producer is an edge the engine buffers and times, so the fan-in bounds the work."""
MAX_TRACE_FILE_BYTES = 2**32
"""Largest trace file opened at all (4 GiB: every declared tensor plus the manifest fits)."""

TRACE_FILE_MODE = 0o644

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
"""Layer names are zip member prefixes too, so they are kept to a path-safe alphabet."""

#: Tensor roles and the dtypes each may be stored in.
FLOAT_DTYPES = ("float32",)
WEIGHT_Q_DTYPES = ("int8", "int16", "int32")
ACT_DTYPES = ("uint8", "uint16", "uint32")
TENSOR_ROLES = ("weight", "bias", "weight_q", "act")

_REQUIRED_LAYER_FIELDS = ("name", "type", "inputs", "in_shape", "out_shape")
_PAIR_FIELDS = ("kernel", "stride", "padding", "dilation")
#: Every key each JSON object of the manifest may have; anything else is refused.
TOP_KEYS = ("format_version", "network", "input_shape", "layers", "tensors", "stats", "meta")
LAYER_KEYS = _REQUIRED_LAYER_FIELDS + _PAIR_FIELDS + ("groups", "bias") + OPTIONAL_LAYER_KEYS
TENSOR_KEYS = {"weight": ("key", "dtype", "shape"), "bias": ("key", "dtype", "shape"),
               "weight_q": ("key", "dtype", "shape", "scale", "bits", "zero_point"),
               "act": ("key", "dtype", "shape", "scale", "bits", "zero_point")}
MAX_JSON_DEPTH = 32
"""Deepest nesting of lists/objects accepted inside ``meta`` and ``stats``."""

#: Errors a zip member read can raise on corrupt data (bad CRC, bad deflate stream, short
#: file); turned into TraceError. Encryption and unknown compression are refused earlier.
_ZIP_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError)
_PAIR_DEFAULTS = {"kernel": (1, 1), "stride": (1, 1), "padding": (0, 0), "dilation": (1, 1)}


def tensor_key(layer: str, role: str) -> str:
    """Zip member stem of one tensor: ``<layer>/<role>`` (np.load shows it as that key)."""
    return f"{layer}/{role}"


@dataclass(frozen=True)
class TensorInfo:
    """Index entry of one stored tensor, as declared in the manifest."""

    layer: str
    role: str
    key: str
    dtype: str
    shape: tuple[int, ...]
    scale: float | None = None
    bits: int | None = None
    zero_point: int | None = None

    @property
    def member(self) -> str:
        return self.key + ".npy"

    @property
    def elems(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.elems * np.dtype(self.dtype).itemsize


# ---------------------------------------------------------------------------------
# The Trace object
# ---------------------------------------------------------------------------------


class Trace:
    """An opened trace: the :class:`Network` plus lazy access to its tensors."""

    def __init__(self, path: Path, network: Network, meta: dict,
                 tensors: dict[str, dict[str, TensorInfo]], stats: dict[str, dict]):
        self.path = path
        self.network = network
        self.meta = meta
        self.tensors = tensors
        self.stats = stats

    def __repr__(self) -> str:
        return (f"Trace({str(self.path)!r}, network={self.network.name!r}, "
                f"layers={len(self.network)}, tensors={self.has_tensors})")

    @property
    def has_tensors(self) -> bool:
        """True when any layer has a stored tensor (shape-only traces have none)."""
        return any(self.tensors.values())

    def has(self, layer: str, role: str) -> bool:
        return role in self.tensors.get(layer, {})

    def info(self, layer: str, role: str) -> TensorInfo:
        """The manifest's index entry for one tensor; TraceError if it is not stored."""
        self.network_layer(layer)
        try:
            return self.tensors[layer][role]
        except KeyError:
            raise TraceError("tensor not stored in this trace", file=str(self.path),
                             where=f"layer {layer!r}: tensors.{role}",
                             expected="a trace exported with tensors") from None

    def network_layer(self, name: str) -> Layer:
        try:
            return self.network.layer(name)
        except KeyError:
            raise TraceError("no such layer", file=str(self.path), where=f"layer {name!r}",
                             expected="one of the trace's layer names") from None

    def weight(self, layer: str) -> np.ndarray:
        """Float32 weights: conv ``(C_out, C_in/groups, kh, kw)``, linear ``(out, in)``."""
        return self._read(self.info(layer, "weight"))

    def bias(self, layer: str) -> np.ndarray:
        """Float32 bias ``(C_out,)``."""
        return self._read(self.info(layer, "bias"))

    def weight_q(self, layer: str) -> tuple[np.ndarray, float]:
        """Signed integer weights and their scale: ``weight ~= weight_q * scale``."""
        info = self.info(layer, "weight_q")
        return self._read(info), float(info.scale)

    def activations(self, layer: str) -> np.ndarray:
        """Sampled input activations ``(N, C, H, W)``, unsigned ints of ``act_bits``.

        Real value = ``(q - zero_point) * scale`` (see :meth:`act_quant`).
        """
        return self._read(self.info(layer, "act"))

    def act_quant(self, layer: str) -> tuple[float, int, int]:
        """``(scale, zero_point, bits)`` of a layer's sampled activations."""
        info = self.info(layer, "act")
        return float(info.scale), int(info.zero_point), int(info.bits)

    def _read(self, info: TensorInfo) -> np.ndarray:
        """One tensor, with the same value checks as ``validate_trace`` (finite floats,
        quantized values within their bits), so every command refuses what validate does."""
        try:
            with _open_trace_file(self.path) as fh, zipfile.ZipFile(fh) as zf:
                arr = _read_tensor(zf, self.path, info)
        except _ZIP_READ_ERRORS as exc:
            raise TraceError(f"cannot read tensor: {exc}", file=str(self.path),
                             where=f"layer {info.layer!r}: tensors.{info.role}") from None
        _check_values(arr, info, self.path)
        return arr


# ---------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------


def _open_trace_file(path: Path):
    """The trace as a binary file object, if it is a regular file under the size cap: a
    FIFO, ``/dev/zero`` or a symlink to ``/dev/urandom`` is refused before any read."""
    from pimsim.fileio import open_regular

    fd = open_regular(path, max_bytes=MAX_TRACE_FILE_BYTES, error=TraceError, what="trace file")
    return os.fdopen(fd, "rb")


def load_trace(path: str | os.PathLike, *, check_crc: bool = False) -> Trace:
    """Open a trace, reading and checking its manifest only (tensors stay on disk).

    ``check_crc``: also read every member once and compare its CRC-32 with the zip
    directory (cheap next to a simulation), so a corrupt tensor is noticed up front.
    """
    path = Path(path)
    try:
        with _open_trace_file(path) as fh, zipfile.ZipFile(fh) as zf:
            trace = _load(zf, path)
            if check_crc:
                _check_crcs(zf, path)
            return trace
    except FileNotFoundError:
        raise TraceError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise TraceError("is a directory, not a trace file", file=str(path)) from None
    except zipfile.BadZipFile as exc:
        raise TraceError(f"not a readable .npz (zip) file: {exc}", file=str(path),
                         expected="a trace written by pimsim (truncated or not a zip?)") from None
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise TraceError(f"cannot read trace: {exc}", file=str(path)) from None


def load_network(path: str | os.PathLike, *, check_crc: bool = True) -> Network:
    """The shape-only :class:`Network` of a trace (reads the manifest, and by default checks
    every member's CRC so a damaged trace is not simulated as if whole)."""
    return load_trace(path, check_crc=check_crc).network


def _check_crcs(zf: zipfile.ZipFile, path: Path) -> None:
    """TraceError naming the first member whose data does not match its CRC-32 (sizes and
    compression ratios were checked by ``_load`` before this reads anything)."""
    for info in zf.infolist():
        try:
            with zf.open(info) as fp:
                while fp.read(1 << 20):
                    pass
        except _ZIP_READ_ERRORS as exc:
            raise TraceError(f"corrupt member (CRC or data check failed): {exc}",
                             file=str(path), where=info.filename,
                             expected="an intact trace (re-export it)") from None


def validate_trace(path: str | os.PathLike) -> Trace:
    """Full check: the manifest, then every tensor's header, shape, dtype and values."""
    trace = load_trace(path)
    for layer in trace.network.layers:
        for role, info in trace.tensors.get(layer.name, {}).items():
            trace._read(info)                # reads and checks the values
    return trace


def _load(zf: zipfile.ZipFile, path: Path) -> Trace:
    fname = str(path)
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        _check_member(info, fname)
        if info.filename in members:
            raise TraceError("duplicate member name in the archive", file=fname,
                             where=info.filename, expected="each member stored once")
        members[info.filename] = info
    if MANIFEST_MEMBER not in members:
        raise TraceError("no manifest in the archive", file=fname, where=MANIFEST_MEMBER,
                         expected=f"a member {MANIFEST_MEMBER!r} (uint8 JSON)")
    raw = _read_npy(zf, members[MANIFEST_MEMBER], fname, "manifest",
                    max_bytes=MAX_MANIFEST_BYTES, dtypes=("uint8",), ndim=1)
    try:
        doc = json.loads(raw.tobytes().decode("utf-8"), object_pairs_hook=_no_duplicates,
                         parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise TraceError("duplicate key in the manifest JSON (only one value would count)",
                         file=fname, where="manifest", found=exc.key,
                         expected="each key once per object") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise TraceError(f"manifest is not valid JSON: {exc}", file=fname,
                         where="manifest") from None
    if not isinstance(doc, dict):
        raise TraceError("manifest must be a JSON object", file=fname, where="manifest",
                         found=type(doc).__name__)
    return _parse_manifest(doc, path, members)


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (numbers must be finite)")


def _check_member(info: zipfile.ZipInfo, fname: str) -> None:
    """Refuse, from the zip directory alone, members that cannot or should not be read."""
    where = f"member {info.filename!r}"
    if info.flag_bits & 0x1:
        raise TraceError("encrypted archive members are refused", file=fname, where=where,
                         expected="an unencrypted .npz")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise TraceError("unsupported zip compression method", file=fname, where=where,
                         found=info.compress_type, expected="0 (stored) or 8 (deflate)")
    if (info.file_size > RATIO_FREE_BYTES
            and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
        raise TraceError("compression ratio too high (zip bomb?)", file=fname, where=where,
                         found=f"{info.file_size} bytes from {info.compress_size}",
                         expected=f"at most {MAX_COMPRESSION_RATIO}:1 for members over "
                                  f"{RATIO_FREE_BYTES} bytes")


def _unknown_keys(obj: dict, allowed: tuple[str, ...], fname: str, where: str) -> None:
    """TraceError for the first key of ``obj`` not in ``allowed``, with a did-you-mean."""
    for key in obj:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise TraceError("unknown key", file=fname, where=f"{where}{_short(key)}",
                             found=_short(key),
                             expected=f"{hint}known keys: {', '.join(allowed)}")


def _parse_manifest(doc: dict, path: Path, members: Mapping[str, zipfile.ZipInfo]) -> Trace:
    fname = str(path)
    _unknown_keys(doc, TOP_KEYS, fname, "manifest.")
    version = doc.get("format_version")
    if "format_version" not in doc:
        raise TraceError("missing field", file=fname, where="manifest.format_version",
                         expected=f"format_version: {FORMAT_VERSION}")
    if type(version) is not int or version != FORMAT_VERSION:
        raise TraceError("unsupported trace format version", file=fname,
                         where="manifest.format_version", found=version,
                         expected=f"{FORMAT_VERSION} (re-export the trace with this pimsim)")
    name = _get(doc, "network", str, fname, "manifest")
    _check_name(name, fname, "manifest.network")
    input_shape = _shape(_get(doc, "input_shape", list, fname, "manifest"), fname,
                         "manifest.input_shape")
    raw_layers = _get(doc, "layers", list, fname, "manifest")
    if not raw_layers:
        raise TraceError("a network needs at least one layer", file=fname,
                         where="manifest.layers", found=[])
    if len(raw_layers) > MAX_LAYERS:
        raise TraceError("too many layers", file=fname, where="manifest.layers",
                         found=len(raw_layers), expected=f"at most {MAX_LAYERS}")
    meta = _json_section(doc.get("meta", {}), fname, "manifest.meta")
    layers = _parse_layers(raw_layers, input_shape, fname)
    network = Network(name=name, input_shape=input_shape, layers=tuple(layers), meta=meta)
    tensors = _parse_tensor_index(doc.get("tensors", {}), network, fname, members)
    stats = _json_section(doc.get("stats", {}), fname, "manifest.stats")
    layer_names = {lay.name for lay in network.layers}
    for lname, entry in stats.items():
        if lname not in layer_names:
            raise TraceError("statistics for an unknown layer", file=fname,
                             where=f"layer {_short(lname)!r}: stats",
                             expected="a layer of the network")
        if not isinstance(entry, dict):
            raise TraceError("wrong type", file=fname, where=f"layer {lname!r}: stats",
                             found=type(entry).__name__, expected="a JSON object per layer")
        frac = entry.get("act_zero_bit_frac")
        if frac is not None and (type(frac) is not list or len(frac) > MAX_BITS or not all(
                type(v) in (int, float) and 0 <= v <= 1 for v in frac)):
            raise TraceError("wrong type", file=fname,
                             where=f"layer {lname!r}: stats.act_zero_bit_frac",
                             found=_short(frac),
                             expected=f"a list of at most {MAX_BITS} fractions in [0, 1]")
    return Trace(path, network, meta, tensors, stats)


def _parse_layers(raw_layers: list, input_shape: tuple, fname: str) -> list[Layer]:
    shapes: dict[str, tuple] = {INPUT_NAME: input_shape}
    layers: list[Layer] = []
    for idx, raw in enumerate(raw_layers):
        where = f"layers[{idx}]"
        if not isinstance(raw, dict):
            raise TraceError("a layer must be a JSON object", file=fname, where=where,
                             found=type(raw).__name__)
        lname = raw.get("name")
        if isinstance(lname, str):
            where = f"layer {_short(lname)!r}"
        _unknown_keys(raw, LAYER_KEYS, fname, f"{where}: ")
        for fld in _REQUIRED_LAYER_FIELDS:
            if fld not in raw:
                raise TraceError("missing field", file=fname, where=f"{where}: {fld}")
        lname = _typed(raw["name"], str, fname, f"{where}: name")
        _check_name(lname, fname, f"{where}: name")
        if lname == INPUT_NAME:
            raise TraceError("reserved layer name", file=fname, where=f"{where}: name",
                             found=lname, expected=f"any name but {INPUT_NAME!r}")
        if lname in shapes:
            raise TraceError("duplicate layer name", file=fname, where=f"{where}: name",
                             found=lname, expected="unique layer names")
        kind = _typed(raw["type"], str, fname, f"{where}: type")
        if kind not in LAYER_KINDS:
            raise TraceError("unknown layer type", file=fname, where=f"{where}: type",
                             found=kind, expected=f"one of {', '.join(LAYER_KINDS)}")
        inputs = _typed(raw["inputs"], list, fname, f"{where}: inputs")
        if len(inputs) > MAX_FAN_IN:
            raise TraceError("too many producers for one layer (fan-in)", file=fname,
                             where=f"{where}: inputs", found=len(inputs),
                             expected=f"at most {MAX_FAN_IN} (MAX_FAN_IN)")
        if layers == [] and inputs == []:
            inputs = [INPUT_NAME]  # the first layer may leave its producer implicit
        if not inputs:
            raise TraceError("a layer needs at least one producer", file=fname,
                             where=f"{where}: inputs", found=[])
        for p in inputs:
            if not isinstance(p, str):
                raise TraceError("producer names must be strings", file=fname,
                                 where=f"{where}: inputs", found=p)
            if p not in shapes:
                later = any(isinstance(r, dict) and r.get("name") == p
                            for r in raw_layers[idx:])
                raise TraceError(
                    "producer comes later (cycle or non-topological order)" if later
                    else "unknown producer (dangling edge)",
                    file=fname, where=f"{where}: inputs", found=p,
                    expected="a layer listed earlier, or 'input'")
        in_shape = _shape(raw["in_shape"], fname, f"{where}: in_shape")
        out_shape = _shape(raw["out_shape"], fname, f"{where}: out_shape")
        pairs = {}
        for fld in _PAIR_FIELDS:
            low = 0 if fld == "padding" else 1
            pairs[fld] = _pair(raw.get(fld, list(_PAIR_DEFAULTS[fld])), fname, f"{where}: {fld}",
                               low)
        groups = _int(raw.get("groups", 1), fname, f"{where}: groups", 1, MAX_DIM)
        bias = raw.get("bias", False)
        if type(bias) is not bool:
            raise TraceError("wrong type", file=fname, where=f"{where}: bias", found=bias,
                             expected="true or false")
        extra = {}
        for key in ("op", "shares"):
            if key in raw:
                extra[key] = _typed(raw[key], str, fname, f"{where}: {key}")
                if len(extra[key]) > MAX_NAME_LEN:
                    raise TraceError("too long", file=fname, where=f"{where}: {key}",
                                     found=_short(extra[key]),
                                     expected=f"at most {MAX_NAME_LEN} characters")
        if "ceil_mode" in raw:
            if type(raw["ceil_mode"]) is not bool:
                raise TraceError("wrong type", file=fname, where=f"{where}: ceil_mode",
                                 found=_short(raw["ceil_mode"]), expected="true or false")
            extra["ceil_mode"] = raw["ceil_mode"]
        layer = Layer(name=lname, kind=kind, inputs=tuple(inputs), in_shape=in_shape,
                      out_shape=out_shape, groups=groups, bias=bias, **pairs, **extra)
        if layer.shares:
            owner = next((lay for lay in layers if lay.name == layer.shares), None)
            if owner is None or owner.shares or not owner.is_mvm:
                raise TraceError("shares an unknown, later or non-owning layer", file=fname,
                                 where=f"{where}: shares", found=layer.shares,
                                 expected="an earlier conv/linear layer with its own weights")
            if (owner.kind, owner.weight_rows, owner.weight_cols, owner.groups) != (
                    layer.kind, layer.weight_rows, layer.weight_cols, layer.groups):
                raise TraceError("weights differ from the layer it shares", file=fname,
                                 where=f"{where}: shares", found=layer.shares,
                                 expected=f"a {layer.kind} layer of the same weight shape")
        _check_layer(layer, [shapes[p] for p in inputs], fname, where)
        shapes[lname] = out_shape
        layers.append(layer)
    return layers


def _check_layer(lay: Layer, producer_shapes: list[tuple], fname: str, where: str) -> None:
    """Shape rules of one layer kind, and the chaining to its producers."""
    def bad(field: str, msg: str, found: object, expected: str) -> TraceError:
        return TraceError(msg, file=fname, where=f"{where}: {field}", found=found,
                          expected=expected)

    if lay.kind == "add":
        if len(producer_shapes) < 2:
            raise bad("inputs", "an add needs at least two producers", list(lay.inputs),
                      "two or more producer names")
    elif lay.kind not in MULTI_INPUT_KINDS and len(producer_shapes) != 1:
        raise bad("inputs", f"a {lay.kind} layer has exactly one producer", list(lay.inputs),
                  "one producer name")
    same = producer_shapes if lay.kind not in MULTI_INPUT_KINDS else producer_shapes[:1]
    for p, shp in zip(lay.inputs, same):
        if shp != lay.in_shape:
            raise bad("in_shape", f"does not match producer {p!r}'s output", list(lay.in_shape),
                      f"{list(shp)} (the producer's out_shape)")
    check_kind_rules(lay, producer_shapes, bad)
    c, h, w = lay.in_shape
    co, ho, wo = lay.out_shape
    if lay.kind in ("conv",) + POOL_KINDS:
        for axis, size in ((0, h), (1, w)):
            if lay.dilation[axis] * (lay.kernel[axis] - 1) + 1 > size + 2 * lay.padding[axis]:
                raise bad("kernel", "window larger than the padded input", list(lay.kernel),
                          f"a window within {h}x{w} plus padding {list(lay.padding)}")
        exp_hw = tuple(conv_out(size, lay.kernel[a], lay.stride[a], lay.padding[a],
                                lay.dilation[a], lay.ceil_mode) for a, size in ((0, h), (1, w)))
        if (ho, wo) != exp_hw:
            rule = "ceil" if lay.ceil_mode else "floor"
            raise bad("out_shape", "spatial size does not follow the window", list(lay.out_shape),
                      f"H x W = {exp_hw[0]} x {exp_hw[1]} "
                      f"({rule}((size + 2*pad - dil*(k-1) - 1)/stride) + 1)")
    if lay.kind in POOL_KINDS:
        for axis in (0, 1):
            if lay.padding[axis] > lay.kernel[axis] // 2:
                raise bad("padding", "pool padding larger than half the kernel",
                          list(lay.padding), f"at most kernel // 2 = "
                          f"{[k // 2 for k in lay.kernel]} (PyTorch's rule)")
    if lay.kind == "conv":
        if c % lay.groups or co % lay.groups:
            raise bad("groups", "groups must divide input and output channels", lay.groups,
                      f"a divisor of {c} and {co}")
    elif lay.groups != 1:
        raise bad("groups", f"a {lay.kind} layer has no groups", lay.groups, "1")
    if lay.kind in POOL_KINDS and co != c:
        raise bad("out_shape", "pooling keeps the channel count", list(lay.out_shape),
                  f"{c} channels")
    if lay.kind == "linear" and (ho, wo) != (1, 1):
        raise bad("out_shape", "a linear layer outputs a vector", list(lay.out_shape),
                  f"[{co}, 1, 1]")
    if lay.kind in ("relu", "add") and lay.out_shape != lay.in_shape:
        raise bad("out_shape", f"{lay.kind} keeps the shape", list(lay.out_shape),
                  str(list(lay.in_shape)))
    if lay.kind == "flatten" and lay.out_shape != (c * h * w, 1, 1):
        raise bad("out_shape", "flatten makes a C*H*W vector", list(lay.out_shape),
                  f"[{c * h * w}, 1, 1]")
    if lay.kind not in ("conv", "upsample") + POOL_KINDS:
        for fld in _PAIR_FIELDS:
            if getattr(lay, fld) != _PAIR_DEFAULTS[fld]:
                raise bad(fld, f"a {lay.kind} layer has no window", list(getattr(lay, fld)),
                          str(list(_PAIR_DEFAULTS[fld])))
    if lay.bias and lay.kind not in MVM_KINDS:
        raise bad("bias", f"a {lay.kind} layer has no bias", True, "false")


def _parse_tensor_index(raw: Any, network: Network, fname: str,
                        members: Mapping[str, zipfile.ZipInfo]) -> dict[str, dict[str, TensorInfo]]:
    if not isinstance(raw, dict):
        raise TraceError("wrong type", file=fname, where="manifest.tensors",
                         found=type(raw).__name__, expected="a JSON object {layer: {role: ...}}")
    names = {lay.name: lay for lay in network.layers}
    out: dict[str, dict[str, TensorInfo]] = {}
    total = 0
    for lname, roles in raw.items():
        if lname not in names:
            raise TraceError("tensors for an unknown layer", file=fname,
                             where=f"layer {_short(lname)!r}: tensors",
                             expected="a layer of the network")
        lay = names[lname]
        if not isinstance(roles, dict):
            raise TraceError("wrong type", file=fname, where=f"layer {lname!r}: tensors",
                             found=type(roles).__name__, expected="a JSON object {role: entry}")
        if roles and (not lay.is_mvm or lay.shares):
            raise TraceError(f"a {lay.kind} layer stores no tensors", file=fname,
                             where=f"layer {lname!r}: tensors", found=sorted(roles),
                             expected="tensors only on conv/linear layers with their own "
                                      "weights (not on one that shares another's)")
        out[lname] = {}
        for role, entry in roles.items():
            if role not in TENSOR_ROLES:
                close = difflib.get_close_matches(role, TENSOR_ROLES, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise TraceError("unknown tensor role", file=fname,
                                 where=f"layer {lname!r}: tensors.{_short(role)}",
                                 found=_short(role), expected=f"{hint}one of "
                                          f"{', '.join(TENSOR_ROLES)}")
            where = f"layer {lname!r}: tensors.{role}"
            info = _parse_tensor_entry(entry, lay, role, fname, where, members)
            out[lname][role] = info
            total += info.nbytes
            if total > MAX_TOTAL_TENSOR_BYTES:
                raise TraceError("declared tensors too large in total", file=fname,
                                 where=f"{where}.shape", found=f"{total} bytes so far",
                                 expected=f"at most {MAX_TOTAL_TENSOR_BYTES} bytes "
                                          "(MAX_TOTAL_TENSOR_BYTES) over all tensors")
    return out


def expected_weight_shape(lay: Layer) -> tuple[int, ...]:
    """PyTorch's weight layout: conv ``(C_out, C_in/groups, kh, kw)``, linear ``(out, in)``."""
    if lay.kind == "conv":
        return (lay.out_shape[0], lay.in_shape[0] // lay.groups) + lay.kernel
    return (lay.out_shape[0], lay.in_elems)


def _parse_tensor_entry(entry: Any, lay: Layer, role: str, fname: str, where: str,
                        members: Mapping[str, zipfile.ZipInfo]) -> TensorInfo:
    if not isinstance(entry, dict):
        raise TraceError("wrong type", file=fname, where=where, found=type(entry).__name__,
                         expected="a JSON object {key, dtype, shape, ...}")
    _unknown_keys(entry, TENSOR_KEYS[role], fname, f"{where}.")
    for fld in ("key", "dtype", "shape"):
        if fld not in entry:
            raise TraceError("missing field", file=fname, where=f"{where}.{fld}")
    key = _typed(entry["key"], str, fname, f"{where}.key")
    if key != tensor_key(lay.name, role):
        raise TraceError("tensor key does not follow <layer>/<role>", file=fname,
                         where=f"{where}.key", found=key, expected=tensor_key(lay.name, role))
    dtype = _typed(entry["dtype"], str, fname, f"{where}.dtype")
    allowed = {"weight": FLOAT_DTYPES, "bias": FLOAT_DTYPES, "weight_q": WEIGHT_Q_DTYPES,
               "act": ACT_DTYPES}[role]
    if dtype not in allowed:
        raise TraceError("dtype not allowed for this tensor", file=fname, where=f"{where}.dtype",
                         found=dtype, expected=" or ".join(allowed))
    raw_shape = _typed(entry["shape"], list, fname, f"{where}.shape")
    shape = tuple(_int(s, fname, f"{where}.shape", 1, MAX_TENSOR_ELEMS) for s in raw_shape)
    elems = math.prod(shape)
    if elems > MAX_TENSOR_ELEMS:
        raise TraceError("declared tensor too large", file=fname, where=f"{where}.shape",
                         found=list(shape), expected=f"at most {MAX_TENSOR_ELEMS} elements")
    if role in ("weight", "weight_q"):
        exp = expected_weight_shape(lay)
    elif role == "bias":
        exp = (lay.out_shape[0],)
    else:
        exp = None
    if exp is not None and shape != exp:
        raise TraceError("tensor shape does not match the layer", file=fname,
                         where=f"{where}.shape", found=list(shape), expected=str(list(exp)))
    if role == "act" and (len(shape) != 4 or shape[1:] != lay.in_shape or shape[0] > MAX_SAMPLES):
        raise TraceError("activation shape does not match the layer's input", file=fname,
                         where=f"{where}.shape", found=list(shape),
                         expected=f"[N, {', '.join(map(str, lay.in_shape))}] with "
                                  f"1 <= N <= {MAX_SAMPLES}")
    if role == "bias" and not lay.bias:
        raise TraceError("bias stored for a layer declared without bias", file=fname,
                         where=f"{where}", expected=f"layer {lay.name!r}: bias true")
    scale = bits = zero_point = None
    if role in ("weight_q", "act"):
        scale = _number(entry.get("scale"), fname, f"{where}.scale")
        if scale <= 0:
            raise TraceError("scale must be a finite positive number", file=fname,
                             where=f"{where}.scale", found=scale)
        bits = _int(entry.get("bits"), fname, f"{where}.bits", 1, MAX_BITS)
        if np.iinfo(np.dtype(dtype)).bits < bits:
            raise TraceError("bits wider than the dtype", file=fname, where=f"{where}.bits",
                             found=bits, expected=f"at most {np.iinfo(np.dtype(dtype)).bits}")
        zero_point = 0
        if role == "act":
            zero_point = _int(entry.get("zero_point", 0), fname, f"{where}.zero_point", 0,
                              2**bits - 1)
        else:  # symmetric: the key may be written, as 0
            _int(entry.get("zero_point", 0), fname, f"{where}.zero_point", 0, 0)
    member = members.get(key + ".npy")
    if member is None:
        raise TraceError("tensor listed in the manifest is missing from the archive",
                         file=fname, where=f"{where}.key", found=key + ".npy")
    need = elems * np.dtype(dtype).itemsize
    if not need <= member.file_size <= need + MAX_NPY_HEADER_BYTES:
        raise TraceError("archive member size does not match the declared tensor", file=fname,
                         where=f"{where}.shape", found=f"{member.file_size} bytes",
                         expected=f"{need} bytes of data plus a .npy header")
    return TensorInfo(layer=lay.name, role=role, key=key, dtype=dtype, shape=shape,
                      scale=None if scale is None else float(scale), bits=bits,
                      zero_point=zero_point)


# ---------------------------------------------------------------------------------
# Reading .npy members safely
# ---------------------------------------------------------------------------------


def _read_tensor(zf: zipfile.ZipFile, path: Path, info: TensorInfo) -> np.ndarray:
    fname = str(path)
    where = f"layer {info.layer!r}: tensors.{info.role}"
    try:
        zinfo = zf.getinfo(info.member)
    except KeyError:
        raise TraceError("tensor missing from the archive", file=fname, where=where,
                         found=info.member) from None
    return _read_npy(zf, zinfo, fname, where, max_bytes=MAX_TENSOR_BYTES, dtypes=(info.dtype,),
                     ndim=len(info.shape), shape=info.shape)


_READ_CHUNK = 16 * 2**20


def _read_npy(zf: zipfile.ZipFile, zinfo: zipfile.ZipInfo, fname: str, where: str, *,
              max_bytes: int, dtypes: tuple[str, ...], ndim: int,
              shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read one ``.npy`` member: sizes from the zip directory and the header first."""
    if zinfo.file_size > max_bytes:
        raise TraceError("archive member too large", file=fname, where=where,
                         found=f"{zinfo.file_size} bytes", expected=f"at most {max_bytes} bytes")
    _check_member(zinfo, fname)
    try:
        return _read_npy_member(zf, zinfo, fname, where, max_bytes=max_bytes, dtypes=dtypes,
                                ndim=ndim, shape=shape)
    except _ZIP_READ_ERRORS as exc:  # corrupt deflate stream, bad CRC, short member
        raise TraceError(f"corrupt archive member: {exc}", file=fname, where=where,
                         found=zinfo.filename) from None


def _read_npy_member(zf: zipfile.ZipFile, zinfo: zipfile.ZipInfo, fname: str, where: str, *,
                     max_bytes: int, dtypes: tuple[str, ...], ndim: int,
                     shape: tuple[int, ...] | None) -> np.ndarray:
    with zf.open(zinfo) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                header_shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                    fp, max_header_size=MAX_NPY_HEADER_BYTES)
            elif version in ((2, 0), (3, 0)):
                header_shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                    fp, max_header_size=MAX_NPY_HEADER_BYTES)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, EOFError, SyntaxError, TypeError, tokenize.TokenError) as exc:
            # TokenError: numpy tokenizes the header text, and a mangled one can end mid-token
            raise TraceError(f"not a valid .npy member: {exc}", file=fname, where=where) from None
        if dtype.hasobject:
            raise TraceError("object (pickled) arrays are refused", file=fname,
                             where=f"{where}.dtype", found=str(dtype),
                             expected=" or ".join(dtypes))
        if dtype.name not in dtypes or dtype.byteorder == ">":
            raise TraceError("wrong dtype", file=fname, where=f"{where}.dtype",
                             found=dtype.str, expected=" or ".join(dtypes) + " (little-endian)")
        if len(header_shape) != ndim:
            raise TraceError("wrong number of dimensions", file=fname, where=f"{where}.shape",
                             found=list(header_shape), expected=f"{ndim} dimensions")
        if shape is not None and tuple(header_shape) != tuple(shape):
            raise TraceError("stored shape differs from the manifest", file=fname,
                             where=f"{where}.shape", found=list(header_shape),
                             expected=str(list(shape)))
        count = math.prod(header_shape)
        nbytes = count * dtype.itemsize
        if count > MAX_TENSOR_ELEMS or nbytes > max_bytes:
            raise TraceError("declared array too large", file=fname, where=f"{where}.shape",
                             found=list(header_shape),
                             expected=f"at most {MAX_TENSOR_ELEMS} elements")
        # Read straight into the result (no bytes object, no second copy for C order).
        arr = np.empty(count, dtype=dtype)
        view = memoryview(arr).cast("B")
        got = 0
        while got < nbytes:
            chunk = fp.readinto(view[got:got + _READ_CHUNK])
            if not chunk:
                break
            got += chunk
        if got == nbytes and fp.read(1):
            got += 1
    if got != nbytes:
        raise TraceError("array data truncated or padded", file=fname, where=where,
                         found=f"{got}{'+' if got > nbytes else ''} bytes",
                         expected=f"{nbytes} bytes")
    if fortran:
        return np.ascontiguousarray(arr.reshape(header_shape[::-1]).T)
    return arr.reshape(header_shape)


def _check_values(arr: np.ndarray, info: TensorInfo, path: Path) -> None:
    fname = str(path)
    where = f"layer {info.layer!r}: tensors.{info.role}"
    if info.role in ("weight", "bias"):
        if not np.isfinite(arr).all():
            bad = int(np.size(arr) - np.isfinite(arr).sum())
            raise TraceError("non-finite values (NaN or Inf)", file=fname, where=where,
                             found=f"{bad} of {arr.size}", expected="finite floats")
    elif info.role == "weight_q":
        lim = 2 ** (info.bits - 1) - 1
        if arr.size and (int(arr.max()) > lim or int(arr.min()) < -lim):
            raise TraceError("quantized weight out of range", file=fname, where=where,
                             found=(int(arr.min()), int(arr.max())), expected=f"within +-{lim}")
    elif info.role == "act":
        lim = 2 ** info.bits - 1
        if arr.size and int(arr.max()) > lim:
            raise TraceError("activation out of range", file=fname, where=where,
                             found=int(arr.max()), expected=f"at most {lim} ({info.bits} bits)")


# ---------------------------------------------------------------------------------
# Small typed getters
# ---------------------------------------------------------------------------------


def _typed(value: Any, typ: type, fname: str, where: str) -> Any:
    if type(value) is not typ:
        raise TraceError("wrong type", file=fname, where=where, found=value,
                         expected={str: "a string", list: "a list", dict: "an object"}.get(
                             typ, typ.__name__))
    return value


def _get(doc: dict, key: str, typ: type, fname: str, prefix: str) -> Any:
    if key not in doc:
        raise TraceError("missing field", file=fname, where=f"{prefix}.{key}")
    return _typed(doc[key], typ, fname, f"{prefix}.{key}")


def _int(value: Any, fname: str, where: str, low: int, high: int) -> int:
    if type(value) is not int:  # bool and float are refused on purpose
        raise TraceError("wrong type", file=fname, where=where, found=_short(value),
                         expected="an integer")
    if not low <= value <= high:
        raise TraceError("out of range", file=fname, where=where, found=_short(value),
                         expected=f"{low} <= value <= {high}")
    return value


def _number(value: Any, fname: str, where: str) -> float:
    """A finite JSON number: a float, or an int of magnitude <= MAX_NUMBER (not a bool)."""
    if type(value) is int and abs(value) <= MAX_NUMBER:
        return float(value)
    if type(value) is not float or not math.isfinite(value):
        raise TraceError("not a finite number", file=fname, where=where, found=_short(value),
                         expected="a finite float (or an integer within +-2**53)")
    return value


def _short(value: Any) -> Any:
    """``value`` for an error message, with huge integers and long strings abbreviated."""
    if type(value) is int and value.bit_length() > 64:
        return f"<integer of {value.bit_length()} bits>"
    if type(value) is str and len(value) > MAX_NAME_LEN:
        return value[:MAX_NAME_LEN] + "..."
    if type(value) in (list, dict) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value)} items>"
    return value


def _json_section(raw: Any, fname: str, where: str) -> dict:
    """``meta``/``stats``: an object of JSON scalars, lists and objects; numbers finite."""
    if type(raw) is not dict:
        raise TraceError("wrong type", file=fname, where=where, found=type(raw).__name__,
                         expected="a JSON object")
    stack: list[tuple[Any, str, int]] = [(raw, where, 0)]
    while stack:
        value, at, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise TraceError("nested too deeply", file=fname, where=at,
                             expected=f"at most {MAX_JSON_DEPTH} levels")
        if type(value) is dict:
            stack.extend((v, f"{at}.{_short(k)}", depth + 1) for k, v in value.items())
        elif type(value) is list:
            stack.extend((v, f"{at}[{i}]", depth + 1) for i, v in enumerate(value))
        elif type(value) is int:
            if value.bit_length() > 64:
                raise TraceError("integer too large", file=fname, where=at, found=_short(value),
                                 expected="a 64-bit integer")
        elif type(value) is float:
            _number(value, fname, at)
        elif value is not None and type(value) not in (str, bool):
            raise TraceError("wrong type", file=fname, where=at, found=type(value).__name__,
                             expected="a JSON value")
    return raw


def _shape(raw: Any, fname: str, where: str) -> tuple[int, int, int]:
    if type(raw) is not list or len(raw) != 3:
        raise TraceError("a shape is [C, H, W]", file=fname, where=where, found=raw,
                         expected="three positive integers")
    shp = tuple(_int(v, fname, where, 1, MAX_DIM) for v in raw)
    if math.prod(shp) > MAX_LAYER_ELEMS:
        raise TraceError("shape too large", file=fname, where=where, found=raw,
                         expected=f"C*H*W at most {MAX_LAYER_ELEMS}")
    return shp  # type: ignore[return-value]


def _pair(raw: Any, fname: str, where: str, low: int) -> tuple[int, int]:
    if type(raw) is int:
        raw = [raw, raw]
    if type(raw) is not list or len(raw) != 2:
        raise TraceError("wrong type", file=fname, where=where, found=raw,
                         expected="[height, width] integers")
    return (_int(raw[0], fname, where, low, MAX_DIM), _int(raw[1], fname, where, low, MAX_DIM))


def _check_name(name: str, fname: str, where: str) -> None:
    if not name or len(name) > MAX_NAME_LEN or not set(name) <= NAME_CHARS:
        raise TraceError("bad name", file=fname, where=where, found=name[:MAX_NAME_LEN],
                         expected=f"1-{MAX_NAME_LEN} characters from A-Z a-z 0-9 _ . -")


# ---------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorData:
    """One tensor to store, with its quantization parameters where it has any."""

    array: np.ndarray
    scale: float | None = None
    bits: int | None = None
    zero_point: int | None = None


def network_to_manifest(network: Network) -> dict:
    """The manifest's network part (``format_version``, name, input shape, layers)."""
    layers = []
    for lay in network.layers:
        entry = {"name": lay.name, "type": lay.kind, "inputs": list(lay.inputs),
                 "in_shape": list(lay.in_shape), "out_shape": list(lay.out_shape)}
        for fld in _PAIR_FIELDS:
            entry[fld] = list(getattr(lay, fld))
        entry["groups"] = lay.groups
        entry["bias"] = lay.bias
        # optional keys only when set, so traces of the original kinds stay byte-identical
        if lay.op:
            entry["op"] = lay.op
        if lay.ceil_mode:
            entry["ceil_mode"] = True
        if lay.shares:
            entry["shares"] = lay.shares
        layers.append(entry)
    return {"format_version": FORMAT_VERSION, "network": network.name,
            "input_shape": list(network.input_shape), "layers": layers}


def save_trace(path: str | os.PathLike, network: Network,
               tensors: Mapping[str, Mapping[str, TensorData | np.ndarray]] | None = None,
               meta: Mapping[str, Any] | None = None,
               stats: Mapping[str, Any] | None = None) -> Path:
    """Write a trace atomically (temp file in the same directory, then ``os.replace``).

    ``tensors`` maps layer name -> role (``weight``, ``bias``, ``weight_q``, ``act``) ->
    array or :class:`TensorData`. The written file is re-read with :func:`validate_trace`
    before it replaces anything, so a trace that pimsim writes always loads.
    """
    path = Path(path)
    doc = network_to_manifest(network)
    doc["meta"] = dict(meta if meta is not None else network.meta)
    index: dict[str, dict] = {}
    arrays: list[tuple[str, np.ndarray]] = []
    for lname, roles in (tensors or {}).items():
        index[lname] = {}
        for role, data in roles.items():
            if not isinstance(data, TensorData):
                data = TensorData(np.asarray(data))
            arr = np.ascontiguousarray(data.array)
            key = tensor_key(lname, role)
            entry: dict[str, Any] = {"key": key, "dtype": arr.dtype.name, "shape": list(arr.shape)}
            if data.scale is not None:
                entry["scale"] = float(data.scale)
            if data.bits is not None:
                entry["bits"] = int(data.bits)
            if data.zero_point is not None:
                entry["zero_point"] = int(data.zero_point)
            index[lname][role] = entry
            arrays.append((key + ".npy", arr))
    doc["tensors"] = index
    doc["stats"] = dict(stats or {})
    blob = json.dumps(doc, indent=1, sort_keys=False, allow_nan=False).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    from pimsim.fileio import check_replaceable

    check_replaceable(path)       # never rename over a device or FIFO
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            _write_npy(zf, MANIFEST_MEMBER, np.frombuffer(blob, dtype=np.uint8))
            for member, arr in arrays:
                _write_npy(zf, member, arr)
        try:
            validate_trace(tmp)
        except TraceError as exc:  # name the file the user asked for, not the temp file
            raise TraceError(f"refusing to write an invalid trace: {exc.detail}",
                             file=str(path), where=exc.where, found=exc.found,
                             expected=exc.expected) from None
        os.chmod(tmp, TRACE_FILE_MODE)  # mkstemp makes 0600; a trace is a shared artefact
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _write_npy(zf: zipfile.ZipFile, member: str, arr: np.ndarray) -> None:
    # Fixed timestamps keep regenerated traces byte-identical.
    zinfo = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
    zinfo.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(zinfo, "w", force_zip64=True) as fh:
        np.lib.format.write_array(fh, arr, allow_pickle=False)
