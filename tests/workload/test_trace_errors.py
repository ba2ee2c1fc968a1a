"""Malformed and hostile traces: each must raise TraceError naming file, layer and field.

The fixtures (conftest.py) write a small valid trace and rewrite it with one defect.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pimsim.errors import TraceError
from pimsim.workload import trace as trace_mod
from pimsim.workload.trace import load_network, load_trace, validate_trace

from .conftest import expect, layer


def npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def idx(doc: dict, name: str) -> int:
    return next(i for i, lay in enumerate(doc["layers"]) if lay["name"] == name)


# --- the container ---------------------------------------------------------------


def test_not_a_zip(tmp_path):
    p = tmp_path / "text.npz"
    p.write_text("layers: [conv]\n")
    expect(p, "not a readable .npz")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.npz"
    p.write_bytes(b"")
    expect(p, "not a readable .npz")


def test_truncated_file(good_trace, tmp_path):
    data = good_trace.read_bytes()
    p = tmp_path / "cut.npz"
    p.write_bytes(data[: len(data) // 2])
    expect(p, "not a readable .npz")


def test_missing_file(tmp_path):
    expect(tmp_path / "nope.npz", "file not found")


def test_missing_manifest(good_trace, rewrite):
    expect(rewrite(good_trace, drop=["manifest.npy"]), "manifest.npy", "no manifest")


def test_manifest_not_json(good_trace, rewrite):
    expect(rewrite(good_trace, raw_manifest=b"{layers: oops"), "manifest", "not valid JSON")


def test_manifest_not_an_object(good_trace, rewrite):
    expect(rewrite(good_trace, raw_manifest=b"[1, 2, 3]"), "manifest", "JSON object")


def test_manifest_deeply_nested_json(good_trace, rewrite):
    # Python's json recurses; a hostile nesting depth must not escape as RecursionError.
    expect(rewrite(good_trace, raw_manifest=b"[" * 100_000 + b"]" * 100_000), "manifest")


def test_manifest_wrong_dtype(good_trace, rewrite):
    p = rewrite(good_trace, members={"manifest.npy": np.zeros(4, np.float64)})
    expect(p, "manifest.dtype", "wrong dtype")


def test_manifest_size_checked_from_zip_directory(good_trace, monkeypatch):
    # The cap is applied to the size in the zip directory, before the member is read.
    monkeypatch.setattr(trace_mod, "MAX_MANIFEST_BYTES", 100)
    expect(good_trace, "manifest", "too large")


# --- manifest fields ---------------------------------------------------------------


def test_missing_format_version(good_trace, rewrite):
    expect(rewrite(good_trace, lambda d: d.pop("format_version")), "format_version",
           "missing field")


@pytest.mark.parametrize("version", [2, 0, "1", 1.0, True])
def test_wrong_format_version(good_trace, rewrite, version):
    p = rewrite(good_trace, lambda d: d.__setitem__("format_version", version))
    expect(p, "manifest.format_version", "unsupported trace format version")


def test_missing_layers(good_trace, rewrite):
    expect(rewrite(good_trace, lambda d: d.pop("layers")), "manifest.layers", "missing field")


def test_missing_layer_field(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "c2").pop("out_shape"))
    expect(p, "layer 'c2'", "out_shape", "missing field")


def test_wrong_field_type(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "c2").__setitem__("kernel", "3x3"))
    expect(p, "layer 'c2'", "kernel", "wrong type")


def test_bool_is_not_an_integer(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "c1").__setitem__("groups", True))
    expect(p, "layer 'c1'", "groups", "wrong type")


def test_unknown_layer_type(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "r1").__setitem__("type", "lstm"))
    expect(p, "layer 'r1'", "type", "unknown layer type", "lstm")


@pytest.mark.parametrize("bad", [[4, 0, 8], [4, -8, 8], [4, 8], [4, 8, 10**30]])
def test_bad_shape_values(good_trace, rewrite, bad):
    p = rewrite(good_trace, lambda d: layer(d, "r1").__setitem__("out_shape", bad))
    expect(p, "layer 'r1'", "out_shape")


def test_absurd_layer_size(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d.__setitem__("input_shape", [2**20, 2**20, 2**20]))
    expect(p, "manifest.input_shape", "too large")


def test_bad_layer_name(good_trace, rewrite):
    def mutate(d):
        layer(d, "fc")["name"] = "../../etc/passwd"
    expect(rewrite(good_trace, mutate), "layer '../../etc/passwd'", "name", "bad name")


def test_duplicate_layer_names(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "r1").__setitem__("name", "c1"))
    expect(p, "layer 'c1'", "name", "duplicate layer name")


# --- graph and shape chaining --------------------------------------------------------


def test_shapes_do_not_chain(good_trace, rewrite):
    def mutate(d):
        layer(d, "c2")["in_shape"] = [4, 9, 9]
        layer(d, "c2")["out_shape"] = [4, 9, 9]
    expect(rewrite(good_trace, mutate), "layer 'c2'", "in_shape", "producer 'r1'")


def test_conv_out_shape_wrong(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "c1").__setitem__("padding", [0, 0]))
    expect(p, "layer 'c1'", "out_shape", "6 x 6")


def test_pool_out_shape_wrong(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "p1").__setitem__("stride", [1, 1]))
    expect(p, "layer 'p1'", "out_shape")


def test_add_unequal_shapes(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "a1").__setitem__("inputs", ["c2", "p1"]))
    err = expect(p, "layer 'a1'", "inputs")  # p1 comes after a1, and its shape differs
    assert "later" in str(err)

    def mutate(d):  # same order, an unequal producer: the pooled branch
        d["layers"].insert(idx(d, "f"), {"name": "a2", "type": "add", "inputs": ["p1", "a1"],
                                          "in_shape": [4, 4, 4], "out_shape": [4, 4, 4]})
    expect(rewrite(good_trace, mutate, name="bad2.npz"), "layer 'a2'", "in_shape",
           "producer 'a1'")


def test_add_needs_two_inputs(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "a1").__setitem__("inputs", ["c2"]))
    expect(p, "layer 'a1'", "inputs", "at least two")


def test_flatten_wrong_size(good_trace, rewrite):
    def mutate(d):
        layer(d, "f")["out_shape"] = [60, 1, 1]
    expect(rewrite(good_trace, mutate), "layer 'f'", "out_shape", "[64, 1, 1]")


def test_linear_weight_shape_mismatch(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"]["fc"]["weight"].__setitem__("shape", [10, 60]))
    expect(p, "layer 'fc'", "tensors.weight.shape", "does not match the layer")


def test_groups_must_divide_channels(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "c2").__setitem__("groups", 3))
    expect(p, "layer 'c2'", "groups")


def test_dangling_producer(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "r1").__setitem__("inputs", ["ghost"]))
    expect(p, "layer 'r1'", "inputs", "dangling", "ghost")


def test_cycle_or_wrong_order(good_trace, rewrite):
    def mutate(d):  # r1 <-> c1: r1 now consumes a layer that comes after it
        d["layers"][0], d["layers"][1] = d["layers"][1], d["layers"][0]
    expect(rewrite(good_trace, mutate), "layer 'r1'", "inputs", "cycle or non-topological")


def test_self_loop(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: layer(d, "r1").__setitem__("inputs", ["r1"]))
    expect(p, "layer 'r1'", "inputs", "cycle")


# --- the tensor index and tensor members ------------------------------------------------


def test_tensors_for_unknown_layer(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"].__setitem__("ghost", {}))
    expect(p, "layer 'ghost'", "tensors", "unknown layer")


def test_declared_tensor_too_large(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"]["act"].__setitem__(
        "shape", [2**16, 2**16, 2**16, 2**16]))
    expect(p, "layer 'c1'", "tensors.act.shape", "too large")


def test_member_size_checked_against_declaration(good_trace, rewrite):
    # The manifest declares 3 x 1 x 8 x 8 bytes; the member is far smaller (or, below,
    # far larger): caught from the zip directory, without reading the member.
    p = rewrite(good_trace, members={"c1/act.npy": np.zeros((1, 1, 2, 2), np.uint8)})
    expect(p, "layer 'c1'", "tensors.act", "member size")
    p = rewrite(good_trace, members={"c1/act.npy": np.zeros((2000, 1, 8, 8), np.uint8)},
                name="bad2.npz")
    expect(p, "layer 'c1'", "tensors.act", "member size")


def test_npy_header_declares_more_than_the_data(good_trace, rewrite):
    # A lying header (huge shape, tiny body) must fail before any allocation.
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": (4, 1, 3, 3 * 10**6)})
    hostile = buf.getvalue() + b"\0" * (4 * 9 * 4)  # the declared 144 bytes of data
    p = rewrite(good_trace, members={"c1/weight.npy": hostile})
    with pytest.raises(TraceError) as info:
        load_trace(p).weight("c1")
    msg = str(info.value)
    assert str(p) in msg and "layer 'c1'" in msg and "tensors.weight.shape" in msg, msg
    assert "stored shape differs" in msg


def test_missing_tensor_member(good_trace, rewrite):
    expect(rewrite(good_trace, drop=["c2/weight.npy"]), "layer 'c2'", "tensors.weight.key",
           "missing from the archive")


def test_wrong_tensor_dtype_declared(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"]["weight"].__setitem__("dtype", "float64"))
    expect(p, "layer 'c1'", "tensors.weight.dtype", "float64")


def test_wrong_tensor_dtype_stored(good_trace, rewrite):
    # float16 of the same byte count as declared? no: int32 has float32's size.
    p = rewrite(good_trace, members={"c1/weight.npy": np.zeros((4, 1, 3, 3), np.int32)})
    expect(p, "layer 'c1'", "tensors.weight.dtype", "wrong dtype", full=True)


def test_big_endian_refused(good_trace, rewrite):
    p = rewrite(good_trace, members={"c1/weight.npy": np.zeros((4, 1, 3, 3), ">f4")})
    expect(p, "layer 'c1'", "tensors.weight.dtype", "little-endian", full=True)


def test_nan_in_weights(good_trace, rewrite):
    w = np.ones((4, 2, 3, 3), np.float32)
    w[1, 1, 1, 1] = np.nan
    p = rewrite(good_trace, members={"c2/weight.npy": w})
    load_trace(p)  # the manifest alone is fine: tensors are checked on full validation
    expect(p, "layer 'c2'", "tensors.weight", "non-finite", full=True)


def test_inf_in_bias(good_trace, rewrite):
    b = np.zeros(10, np.float32)
    b[3] = np.inf
    expect(rewrite(good_trace, members={"fc/bias.npy": b}), "layer 'fc'", "tensors.bias",
           "non-finite", full=True)


def test_activation_wider_than_its_bits(good_trace, rewrite):
    a = np.full((3, 64, 1, 1), 200, np.uint8)  # declared 4-bit
    expect(rewrite(good_trace, members={"fc/act.npy": a}), "layer 'fc'", "tensors.act",
           "out of range", full=True)


def test_bad_scale(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"]["act"].__setitem__("scale", -1.0))
    expect(p, "layer 'c1'", "tensors.act.scale")


def test_tensors_on_a_relu_layer(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"].__setitem__("r1", {"weight": {}}))
    expect(p, "layer 'r1'", "tensors", "relu layer stores no tensors")


# --- code execution -----------------------------------------------------------------------


class _Payload:
    """Unpickling this would create a file: the attack a pickled .npy could carry."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_pickled_object_array_cannot_execute(good_trace, rewrite, tmp_path):
    target = tmp_path / "pwned"
    evil = np.empty((4, 1, 3, 3), dtype=object)
    evil[...] = _Payload(str(target))
    body = npy(evil, allow_pickle=True)
    # Sanity: this member really is an exploit when loaded with pickle allowed.
    assert b"touch" in body
    p = rewrite(good_trace, members={"c1/weight.npy": body})  # declared float32 (4,1,3,3)
    # Its size passes the directory check (header + at least 144 bytes), so the refusal
    # below comes from the object dtype in the .npy header, before any byte is unpickled.
    with pytest.raises(TraceError) as err:
        validate_trace(p)
    assert "object (pickled) arrays are refused" in str(err.value), str(err.value)
    assert str(p) in str(err.value) and "layer 'c1'" in str(err.value)
    assert not target.exists()
    # Lazy access takes the same path.
    with pytest.raises(TraceError, match="object"):
        load_trace(p).weight("c1")
    assert not target.exists()
    # The same bytes through plain pickle-enabled numpy would run the payload:
    np.lib.format.read_array(io.BytesIO(body), allow_pickle=True)
    assert target.exists()


def test_manifest_object_array_refused(good_trace, rewrite, tmp_path):
    target = tmp_path / "pwned2"
    evil = np.empty(3, dtype=object)
    evil[...] = _Payload(str(target))
    p = rewrite(good_trace, members={"manifest.npy": npy(evil, allow_pickle=True)})
    expect(p, "manifest", "object (pickled) arrays are refused")
    assert not target.exists()


# --- laziness -------------------------------------------------------------------------------


def test_shape_only_loading_reads_no_tensor(good_trace, rewrite):
    # Garbage tensor bodies of the declared size: loading the network must not notice.
    size = zipfile.ZipFile(good_trace).getinfo("fc/weight.npy").file_size
    p = rewrite(good_trace, members={"fc/weight.npy": b"\0" * size})
    net = load_network(p)
    assert net.layer("fc").out_shape == (10, 1, 1)
    with pytest.raises(TraceError) as err:
        load_trace(p).weight("fc")
    assert "layer 'fc'" in str(err.value) and "not a valid .npy" in str(err.value)


def test_unknown_layer_or_role_access(good_trace):
    t = load_trace(good_trace)
    with pytest.raises(TraceError, match="no such layer"):
        t.weight("nope")
    with pytest.raises(TraceError, match="tensors.act"):
        t.activations("c2")
