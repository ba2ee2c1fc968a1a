"""Hostile and subtly wrong traces found in review: each must raise TraceError naming the
file, the field and (where there is one) the layer; never a raw exception, a hang or a
huge allocation. The crafted files are generated here (fixtures in conftest.py).
"""

from __future__ import annotations

import io
import json
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pimsim.errors import TraceError
from pimsim.workload import trace as trace_mod
from pimsim.workload.trace import MANIFEST_MEMBER, load_trace, validate_trace

from .conftest import expect, layer


def npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def raw_manifest(src: Path) -> str:
    with zipfile.ZipFile(src) as zf:
        arr = np.load(io.BytesIO(zf.read(MANIFEST_MEMBER)), allow_pickle=False)
    return arr.tobytes().decode()


def deflated_copy(src: Path, dst: Path) -> Path:
    """``src`` rewritten with every member deflate-compressed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
    return dst


def patch_headers(data: bytes, central_off: int, local_off: int, value: int) -> bytes:
    """Set one 16-bit field in every central-directory and local header of a zip."""
    b = bytearray(data)
    for sig, off in ((b"PK\x01\x02", central_off), (b"PK\x03\x04", local_off)):
        i = b.find(sig)
        while i != -1:
            struct.pack_into("<H", b, i + off, value)
            i = b.find(sig, i + 4)
    return bytes(b)


# --- 1. numbers are type-checked before math.isfinite ---------------------------------


@pytest.mark.parametrize("scale", [10**400, -(10**30), True, "0.5", None, [0.5], 0],
                         ids=["huge_int", "neg_int", "bool", "str", "null", "list", "zero"])
def test_scale_must_be_a_bounded_finite_number(good_trace, rewrite, scale):
    # 10**400 used to escape as OverflowError from math.isfinite.
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"]["weight_q"].__setitem__("scale", scale))
    err = expect(p, "layer 'c1'", "tensors.weight_q.scale")
    assert len(str(err)) < 600  # a 401-digit integer is abbreviated, not printed


# --- 2. corrupt, encrypted or oddly compressed members -------------------------------


def test_corrupt_deflate_data(good_trace, tmp_path):
    src = deflated_copy(good_trace, tmp_path / "deflated.npz")
    data = bytearray(src.read_bytes())
    info = zipfile.ZipFile(src).getinfo(MANIFEST_MEMBER)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(5, 65):  # garble the deflate stream (zlib.error, not a CRC mismatch)
        data[start + i] ^= 0xA5
    p = tmp_path / "corrupt.npz"
    p.write_bytes(bytes(data))
    expect(p, "manifest", "corrupt archive member")


def test_corrupt_tensor_member(good_trace, tmp_path):
    src = deflated_copy(good_trace, tmp_path / "deflated.npz")
    data = bytearray(src.read_bytes())
    info = zipfile.ZipFile(src).getinfo("fc/weight.npy")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(5, 65):
        data[start + i] ^= 0xA5
    p = tmp_path / "corrupt_w.npz"
    p.write_bytes(bytes(data))
    load_trace(p)  # the manifest is intact
    expect(p, "layer 'fc'", "tensors.weight", "corrupt archive member", full=True)


def test_unknown_compression_method(good_trace, tmp_path):
    # Method 99 (AES) used to raise NotImplementedError from zipfile.
    p = tmp_path / "method99.npz"
    p.write_bytes(patch_headers(good_trace.read_bytes(), 10, 8, 99))
    expect(p, "manifest.npy", "compression method", "99")


def test_encrypted_member(good_trace, tmp_path):
    # The encryption flag used to raise RuntimeError ("password required").
    p = tmp_path / "encrypted.npz"
    p.write_bytes(patch_headers(good_trace.read_bytes(), 8, 6, 1))
    expect(p, "manifest.npy", "encrypted")


def test_duplicate_member_names(good_trace, tmp_path):
    p = tmp_path / "dup.npz"
    with zipfile.ZipFile(good_trace) as zin, zipfile.ZipFile(p, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
        with pytest.warns(UserWarning, match="Duplicate name"):
            zout.writestr(MANIFEST_MEMBER, npy_bytes(np.frombuffer(b"{}", np.uint8)))
    expect(p, "manifest.npy", "duplicate member")


# --- 3. zip bombs: total cap, compression ratio, no extra copies ------------------------


def test_zip_bomb_refused_before_reading(tmp_path):
    # Four linear layers, each with a 32 MiB all-zero float32 weight: ~130 kB on disk.
    n, fin, fout = 4, 2**11, 2**12
    layers, tensors = [], {}
    for i in range(n):
        layers.append({"name": f"l{i}", "type": "linear",
                       "inputs": ["input"] if i == 0 else [f"r{i - 1}"],
                       "in_shape": [fin, 1, 1], "out_shape": [fout, 1, 1]})
        layers.append({"name": f"r{i}", "type": "linear", "inputs": [f"l{i}"],
                       "in_shape": [fout, 1, 1], "out_shape": [fin, 1, 1]})
        tensors[f"l{i}"] = {"weight": {"key": f"l{i}/weight", "dtype": "float32",
                                       "shape": [fout, fin]}}
    doc = {"format_version": 1, "network": "bomb", "input_shape": [fin, 1, 1],
           "layers": layers, "tensors": tensors}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (fout, fin)})
    chunk = b"\0" * 2**22
    p = tmp_path / "bomb.npz"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST_MEMBER, npy_bytes(np.frombuffer(json.dumps(doc).encode(), np.uint8)))
        for i in range(n):
            with zf.open(f"l{i}/weight.npy", "w", force_zip64=True) as fh:
                fh.write(header.getvalue())
                for _ in range(fout * fin * 4 // len(chunk)):
                    fh.write(chunk)
    assert p.stat().st_size < 2**20
    for fn in (load_trace, validate_trace):
        start = time.perf_counter()
        with pytest.raises(TraceError) as err:
            fn(p)
        assert time.perf_counter() - start < 2.0
        msg = str(err.value)
        assert str(p) in msg and "l0/weight.npy" in msg and "compression ratio" in msg, msg


def test_total_declared_tensor_bytes_capped(good_trace, monkeypatch):
    # Every tensor is under the per-tensor cap; their sum is over the (lowered) total cap.
    monkeypatch.setattr(trace_mod, "MAX_TOTAL_TENSOR_BYTES", 500)
    expect(good_trace, "layer '", "tensors.", "too large in total")


def test_fortran_order_member_read_correctly(good_trace, rewrite):
    # _read_npy reads into the result directly; Fortran-ordered members still come out right.
    w = np.arange(40, dtype=np.float32).reshape(10, 4)
    full = np.zeros((10, 64), np.float32)
    full[:, :4] = w
    p = rewrite(good_trace, members={"fc/weight.npy": np.asfortranarray(full)})
    got = validate_trace(p).weight("fc")
    assert got.flags.c_contiguous and got.flags.writeable
    np.testing.assert_array_equal(got, full)


# --- 4. unknown and duplicate keys ---------------------------------------------------------


def test_depthwise_typo_group_refused(good_trace, rewrite):
    # "group": 2 used to load as groups=1, silently doubling c2's MACs.
    def mutate(d):
        lay = layer(d, "c2")
        lay["group"] = lay.pop("groups")
    expect(rewrite(good_trace, mutate), "layer 'c2'", "group", "unknown key",
           "did you mean 'groups'")


def test_unknown_top_level_key(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d.__setitem__("tensor", {}))
    expect(p, "manifest.tensor", "unknown key", "did you mean 'tensors'")


def test_unknown_tensor_entry_key(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"]["act"].__setitem__("zeropoint", 3))
    expect(p, "layer 'c1'", "tensors.act.zeropoint", "did you mean 'zero_point'")
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"]["weight"].__setitem__("scale", 0.1),
                name="bad2.npz")
    expect(p, "layer 'c1'", "tensors.weight.scale", "unknown key")


def test_unknown_tensor_role_suggests(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"].__setitem__(
        "weights", d["tensors"]["c1"]["weight"]))
    expect(p, "layer 'c1'", "tensors.weights", "did you mean 'weight'")


def test_weight_q_zero_point_must_be_zero(good_trace, rewrite):
    p = rewrite(good_trace, lambda d: d["tensors"]["c1"]["weight_q"].__setitem__("zero_point", 3))
    expect(p, "layer 'c1'", "tensors.weight_q.zero_point", "out of range")


def test_duplicate_json_keys(good_trace, rewrite):
    # A second "layers" key used to win silently.
    text = raw_manifest(good_trace).replace('"format_version": 1',
                                            '"format_version": 1, "layers": []', 1)
    expect(rewrite(good_trace, raw_manifest=text.encode()), "manifest", "duplicate key",
           "layers")


def test_nan_constant_refused(good_trace, rewrite):
    text = raw_manifest(good_trace).replace('"seed": 0', '"seed": NaN', 1)
    assert "NaN" in text
    expect(rewrite(good_trace, raw_manifest=text.encode()), "manifest", "NaN")


# --- 5. window parameters --------------------------------------------------------------------


def test_pool_padding_over_half_kernel(good_trace, rewrite):
    # PyTorch refuses padding > kernel // 2; p1 (2x2, stride 2) with padding 2 would give
    # a 6x6 output that no PyTorch model produces.
    def mutate(d):
        layer(d, "p1")["padding"] = [2, 2]
        layer(d, "p1")["out_shape"] = [4, 6, 6]
    expect(rewrite(good_trace, mutate), "layer 'p1'", "padding", "half the kernel")


@pytest.mark.parametrize("field, value", [("kernel", [0, 3]), ("stride", [1, 0]),
                                          ("dilation", [0, 0]), ("padding", [-1, 1]),
                                          ("stride", 0), ("kernel", [3, 3.0])])
def test_window_fields_in_range(good_trace, rewrite, field, value):
    p = rewrite(good_trace, lambda d: layer(d, "c1").__setitem__(field, value))
    expect(p, "layer 'c1'", field)


@pytest.mark.parametrize("groups, out_c", [(3, 4), (2, 3), (0, 4)])
def test_groups_divide_in_and_out_channels(good_trace, rewrite, groups, out_c):
    def mutate(d):
        layer(d, "c2")["groups"] = groups
        layer(d, "c2")["out_shape"] = [out_c, 8, 8]
    expect(rewrite(good_trace, mutate), "layer 'c2'", "groups")


# --- 11. meta and stats --------------------------------------------------------------------


@pytest.mark.parametrize("meta, field", [
    ([1, 2], "manifest.meta"),
    ({"test_accuracy": 1e999}, "manifest.meta.test_accuracy"),  # JSON 1e999 parses to inf
    ({"runs": [{"acc": 1e999}]}, "manifest.meta.runs[0].acc"),
    ({"big": 10**30}, "manifest.meta.big"),
])
def test_meta_type_checked(good_trace, rewrite, meta, field):
    text = raw_manifest(good_trace)
    doc = json.loads(text)
    doc["meta"] = "@META@"
    text = json.dumps(doc).replace('"@META@"', json.dumps(meta).replace("Infinity", "1e999"))
    expect(rewrite(good_trace, raw_manifest=text.encode()), field)


def test_meta_nesting_limited(good_trace, rewrite):
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    expect(rewrite(good_trace, lambda d: d["meta"].__setitem__("x", deep)), "manifest.meta.x",
           "nested too deeply")


@pytest.mark.parametrize("stats, parts", [
    ("bad", ("manifest.stats", "wrong type")),
    ({"ghost": {}}, ("layer 'ghost'", "stats", "unknown layer")),
    ({"c1": [1]}, ("layer 'c1'", "stats", "wrong type")),
    ({"c1": {"act_zero_bit_frac": "bad"}}, ("layer 'c1'", "stats.act_zero_bit_frac")),
    ({"c1": {"act_zero_bit_frac": [0.5, 1.5]}}, ("layer 'c1'", "stats.act_zero_bit_frac")),
])
def test_stats_type_checked(good_trace, rewrite, stats, parts):
    expect(rewrite(good_trace, lambda d: d.__setitem__("stats", stats)), *parts)


# --- 9. loading checks the manifest and declared sizes; validate reads every tensor ------


def test_load_network_does_not_read_tensors_validate_does(good_trace, rewrite):
    # Documented in docs/trace-format.md: `pimsim run` (load_network) needs shapes only,
    # so bad tensor *contents* load; validate_trace (`pimsim validate`) rejects them.
    w = np.full((4, 2, 3, 3), np.nan, np.float32)
    p = rewrite(good_trace, members={"c2/weight.npy": w})
    assert load_trace(p).network.macs > 0
    expect(p, "layer 'c2'", "tensors.weight", "non-finite", full=True)
    body = npy_bytes(np.ones((10, 64), np.float32))
    p = rewrite(good_trace, members={"fc/weight.npy": body[:-4]}, name="t2.npz")
    load_trace(p)  # 4 bytes short: within the header allowance of the size check
    expect(p, "layer 'fc'", "tensors.weight", "truncated", full=True)
