"""Hypothesis strategies for hostile pimsim inputs: design points, YAML text, schedules,
sweep files, traces and command-line options. Each draws a description of one input; the
``write_*`` helpers put it on disk and return the argv to run.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
ISAAC = ROOT / "configs" / "isaac.yaml"
TRACE = ROOT / "traces" / "cnn_digits.npz"
SHAPES_TRACE = ROOT / "traces" / "resnet20_cifar_shapes.npz"

#: The values the issue's adversarial run put into every numeric leaf, and a few more.
HOSTILE = [0, -1, 1e308, float("nan"), float("inf"), "text", [1, 2], {"a": 1}, 2**62, 1e-300,
           True, None, "auto", 0.5, -0.0, 10**30, 3, 1000, 1e-9, 65536, "1e8", [], ""]


def _leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path


ISAAC_DOC = yaml.safe_load(ISAAC.read_text())
NUMERIC_LEAVES = sorted(_leaves(ISAAC_DOC))
"""Every numeric leaf of configs/isaac.yaml (74 of them)."""

hostile_value = st.one_of(st.sampled_from(HOSTILE).map(copy.deepcopy),   # fresh lists/dicts
                          st.integers(min_value=-2**70, max_value=2**70),
                          st.floats(allow_nan=True, allow_infinity=True),
                          st.text(max_size=20))


@st.composite
def design_points(draw):
    """isaac.yaml with 1-3 numeric leaves set to hostile values; (doc, mutated key paths)."""
    doc = copy.deepcopy(ISAAC_DOC)
    paths = draw(st.lists(st.sampled_from(NUMERIC_LEAVES), min_size=1, max_size=3, unique=True))
    for path in paths:
        node = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = draw(hostile_value)
    return doc, [".".join(p) for p in paths]


def dump_yaml(doc) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


# -- malformed YAML text ------------------------------------------------------------------

def _bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@st.composite
def malformed_yaml(draw) -> bytes:
    """Bytes of a YAML file that is broken or hostile in one of many ways."""
    base = ISAAC.read_text()
    kind = draw(st.sampled_from(["bomb", "bomb_in_text", "deep", "dupkey", "complex_key",
                                 "latin1", "utf16", "garbage", "truncate", "tabs", "anchor_loop",
                                 "scalar_doc", "huge_scalar", "tag", "multi_doc"]))
    if kind == "bomb":
        return _bomb(draw(st.integers(3, 12)), draw(st.integers(2, 10))).encode()
    if kind == "bomb_in_text":       # the expanded alias lands where a did-you-mean runs
        where = draw(st.sampled_from(["description", "name", "precision", "crosbar", "model"]))
        text = _bomb(9, 9).replace("a0:", "x0:", 1)
        key = "components:\n  adc:\n    model" if where == "model" else where
        return (base + "\n" + text + f"{key}: *a8\n").encode()
    if kind == "deep":
        n = draw(st.integers(60, 5000))
        flow = draw(st.booleans())
        if flow:
            return ("x: " + "[" * n + "]" * n + "\n").encode()
        return "".join(" " * (2 * i) + f"k{i}:\n" for i in range(min(n, 400))).encode()
    if kind == "dupkey":
        return (base + "\nclock_GHz: 2.0\n").encode()
    if kind == "complex_key":
        return (base + "\n? [a, b]\n: 1\n").encode()
    if kind == "latin1":
        return (base.replace("ISAAC-CE", "ISAAC-\u00e9") ).encode("latin-1", errors="replace")
    if kind == "utf16":
        return base.encode("utf-16")
    if kind == "garbage":
        return draw(st.binary(min_size=1, max_size=400))
    if kind == "truncate":
        data = base.encode()
        return data[:draw(st.integers(1, len(data) - 1))]
    if kind == "tabs":
        return base.replace("  ", "\t", draw(st.integers(1, 5))).encode()
    if kind == "anchor_loop":
        return b"a: &x [1, *x]\n"
    if kind == "scalar_doc":
        return draw(st.sampled_from([b"42\n", b"- a\n- b\n", b"~\n", b"'text'\n"]))
    if kind == "huge_scalar":
        return ("description: " + "x" * draw(st.integers(10_000, 2_000_000)) + "\n").encode()
    if kind == "tag":
        return draw(st.sampled_from([b"a: !!python/object/apply:os.system ['true']\n",
                                     b"a: !!binary AAAA\nb: !!set {x}\n", b"? !!binary AAAA\n: 1\n",
                                     b"clock_GHz: !!timestamp 2020-01-01\n"]))
    return (base + "\n---\nname: second\n").encode()


# -- schedules ----------------------------------------------------------------------------

SCHEDULE_BASE = {"technique": "era_bs",
                 "default": {"weights": {"quant": "exponent", "bits": 8, "terms": 2,
                                         "flip_budget": 2, "flip_tolerance": 0.2},
                             "activations": {"skip": True, "ou": [16, 16], "threshold": 0.02},
                             "pruning": {"granularity": "filter", "ratio": 0.3,
                                         "criterion": "l2"}}}
SCHEDULE_LEAVES = [("technique",), ("network",), ("dense_ends",), ("description",),
                   ("default", "weights", "bits"), ("default", "weights", "terms"),
                   ("default", "weights", "flip_budget"), ("default", "weights", "flip_tolerance"),
                   ("default", "weights", "quant"), ("default", "activations", "ou"),
                   ("default", "activations", "threshold"), ("default", "activations", "skip"),
                   ("default", "activations", "target_sparsity"), ("default", "pruning", "ratio"),
                   ("default", "pruning", "granularity"), ("layers",), ("layers", "_0"),
                   ("layers", "nope"), ("default",)]


@st.composite
def schedules(draw):
    doc = copy.deepcopy(SCHEDULE_BASE)
    if draw(st.booleans()):
        doc["technique"] = draw(st.sampled_from(["era_bs", "pim_prune", "cim_pruning", "none"]))
    paths = draw(st.lists(st.sampled_from(SCHEDULE_LEAVES), min_size=0, max_size=3, unique=True))
    for path in paths:
        node = doc
        for k in path[:-1]:
            node = node.setdefault(k, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[path[-1]] = draw(st.one_of(hostile_value, st.just({"enabled": False}),
                                            st.just([[1, 2], [3]]), st.just([0, 16]),
                                            st.just([10**9, 1])))
    return doc, [p[-1] for p in paths]


# -- sweep files --------------------------------------------------------------------------

@st.composite
def sweeps(draw):
    """A sweep file dict (paths relative to its directory) and the mutated keys."""
    doc = {"name": "fz", "base": str(ISAAC), "fidelity": "analytic", "baseline": "none",
           "axes": {"crossbar.rows": [64, 128], "trace": [str(SHAPES_TRACE)]},
           "metrics": ["energy_pJ", "area_mm2"]}
    keys = []
    for _ in range(draw(st.integers(0, 3))):
        which = draw(st.sampled_from(["name", "fidelity", "metrics", "axis_values", "axis_range",
                                      "axis_key", "scheduler", "where", "description", "base",
                                      "huge", "debug", "trace"]))
        keys.append(which)
        value = draw(hostile_value)
        if which == "name":
            doc["name"] = draw(st.sampled_from(["../escape", "a/b", "..", ".", "", "x" * 300,
                                                "ok_name", value]))
        elif which in ("fidelity", "metrics", "scheduler", "description", "base"):
            doc[which] = draw(st.sampled_from([value, ["energy_pJ", value], "tcp://h:99999",
                                               "not a url"]))
        elif which == "axis_values":
            doc["axes"]["crossbar.rows"] = draw(st.sampled_from([[value], [64, value], value, []]))
        elif which == "axis_range":
            doc["axes"]["adc.sample_rate_GSps"] = {
                "start": draw(hostile_value), "stop": draw(hostile_value),
                draw(st.sampled_from(["step", "factor"])): draw(hostile_value)}
        elif which == "axis_key":
            doc["axes"][draw(st.sampled_from(["crossbar.rowz", "components.adc.ref_bits",
                                              "components.nope.x", "clock_GHz",
                                              "precision"]))] = [value, 1]
        elif which == "where":
            doc["constraints"] = {"where": draw(st.sampled_from(
                [value, ["crossbar.rows > abc"], ["crossbar.rows >= 64"], [[1]]]))}
        elif which == "huge":
            doc["axes"].update({f"tile.imas": list(range(1, 101)),
                                "tile.shift_adds": list(range(1, 101)),
                                "chip.tiles": list(range(1, 101))})
        elif which == "debug":
            doc["debug"] = {"sleep_s": value}
        elif which == "trace":
            doc["axes"]["trace"] = [draw(st.sampled_from(["/dev/zero", "missing.npz", value]))]
    return doc, keys


# -- traces -------------------------------------------------------------------------------

def read_trace_members(path: Path = TRACE) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(np.load(io.BytesIO(members.pop("manifest.npy"))).tobytes())
    return manifest, members


def write_trace(path: Path, manifest: dict, members: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    blob = json.dumps(manifest, allow_nan=True).encode("utf-8")
    np.save(buf, np.frombuffer(blob, np.uint8))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.npy", buf.getvalue())
        for name, data in members.items():
            zf.writestr(name, data)


LAYER_FIELDS = ["in_shape", "out_shape", "kernel", "stride", "padding", "dilation", "groups",
                "inputs", "type", "name", "bias"]


@st.composite
def trace_mutations(draw):
    """(manifest, members, what): cnn_digits with one or two hostile changes."""
    manifest, members = read_trace_members()
    what = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["field", "fan_in", "top", "member", "shapes_big"]))
        layers = manifest["layers"]
        if not isinstance(layers, list) or not layers or not all(
                isinstance(x, dict) for x in layers):
            kind = "top"                     # an earlier change replaced the layer list
        if kind == "field":
            i = draw(st.integers(0, len(layers) - 1))
            fld = draw(st.sampled_from(LAYER_FIELDS))
            layers[i][fld] = draw(st.one_of(hostile_value, st.just([1, 2, 3]),
                                            st.just([2**20, 2**20, 2**20]), st.just([0, 0, 0])))
            what.append(f"{layers[i].get('name')}.{fld}")
        elif kind == "fan_in":
            n = draw(st.sampled_from([2, 100, 300, 10_000]))
            last = layers[-1]
            layers.append({"name": "fanin", "type": "add", "inputs": [last["name"]] * n,
                           "in_shape": last["out_shape"], "out_shape": last["out_shape"]})
            what.append("fanin.inputs")
        elif kind == "top":
            key = draw(st.sampled_from(["input_shape", "network", "format_version", "tensors",
                                        "stats", "meta", "layers"]))
            manifest[key] = draw(hostile_value)
            what.append(key)
        elif kind == "member":
            name = draw(st.sampled_from(sorted(members)))
            data = bytearray(members[name])
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] ^= 0xFF
            members[name] = bytes(data)
            what.append(name)
        else:
            first = layers[0]
            first["in_shape"] = [1, 4096, 4096]
            first["out_shape"] = [16, 4096, 4096]
            manifest["input_shape"] = [1, 4096, 4096]
            what.append("in_shape")
    return manifest, members, what


def corrupt_crc(path: Path, member: str) -> None:
    """Flip one data byte of ``member`` in place without touching the zip directory."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    # local header: 30 bytes + name + extra; flip a byte in the middle of the data
    name_len = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
