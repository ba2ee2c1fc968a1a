"""Writing and reading traces (pure numpy)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from pimsim.errors import TraceError
from pimsim.workload.layer import Layer, Network
from pimsim.workload.trace import (FORMAT_VERSION, MANIFEST_MEMBER, load_network,
                                   save_trace, validate_trace)


def test_round_trip_network_and_tensors(good_trace, small_net):
    trace = validate_trace(good_trace)
    net = trace.network
    assert net == small_net  # every layer field, in order
    assert net.layer("a1").inputs == ("c2", "r1")
    assert trace.meta == {"source": "test", "seed": 0}
    assert trace.has_tensors
    assert trace.weight("c2").shape == (4, 2, 3, 3) and trace.weight("c2").dtype == np.float32
    q, scale = trace.weight_q("c1")
    assert q.dtype == np.int8 and scale == pytest.approx(0.01)
    assert trace.activations("fc").shape == (3, 64, 1, 1)
    assert trace.act_quant("fc") == (0.5, 0, 4)
    # c1: 9 x 4 weights x 64 positions; c2: (9 x 2) x 4 x 64; fc: 64 x 10.
    assert net.macs == 9 * 4 * 64 + 18 * 4 * 64 + 640


def test_plain_numpy_can_read_it_without_pickle(good_trace):
    with np.load(good_trace, allow_pickle=False) as z:
        doc = json.loads(z["manifest"].tobytes())
        assert doc["format_version"] == FORMAT_VERSION
        assert z["c1/weight"].shape == (4, 1, 3, 3)
    assert [lay["name"] for lay in doc["layers"]][0] == "c1"


def test_shape_only_trace(tmp_path, small_net):
    p = save_trace(tmp_path / "shapes.npz", small_net)
    trace = validate_trace(p)
    assert not trace.has_tensors and trace.network == small_net
    with zipfile.ZipFile(p) as zf:
        assert zf.namelist() == [MANIFEST_MEMBER]
    with pytest.raises(TraceError, match="tensor not stored"):
        trace.weight("c1")


def test_first_layer_may_leave_its_producer_implicit(tmp_path, small_net, good_trace):
    with zipfile.ZipFile(good_trace) as zf:
        doc = json.loads(np.load(io.BytesIO(zf.read(MANIFEST_MEMBER))).tobytes())
    doc["layers"][0]["inputs"] = []
    doc["tensors"] = {}
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.frombuffer(json.dumps(doc).encode(), np.uint8))
    p = tmp_path / "implicit.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(MANIFEST_MEMBER, buf.getvalue())
    assert load_network(p).layers[0].inputs == ("input",)


def test_write_is_atomic_and_checked(tmp_path, small_net):
    p = save_trace(tmp_path / "t.npz", small_net)
    before = p.read_bytes()
    bad = {"c1": {"weight": np.full((4, 1, 3, 3), np.nan, np.float32)}}
    with pytest.raises(TraceError, match="non-finite"):
        save_trace(p, small_net, bad)
    assert p.read_bytes() == before  # the old file is untouched
    assert sorted(x.name for x in tmp_path.iterdir()) == ["t.npz"]  # no temp file left


def test_writes_are_reproducible(tmp_path, small_net):
    a = save_trace(tmp_path / "a.npz", small_net, meta={"k": 1}).read_bytes()
    b = save_trace(tmp_path / "b.npz", small_net, meta={"k": 1}).read_bytes()
    assert a == b  # fixed zip timestamps: regenerated traces diff cleanly


def test_layer_name_input_is_reserved(tmp_path):
    lay = Layer("input", "relu", ("input",), (1, 2, 2), (1, 2, 2))
    with pytest.raises(TraceError, match="reserved layer name"):
        save_trace(tmp_path / "x.npz", Network("n", (1, 2, 2), (lay,)))


def test_importing_workload_does_not_import_torch():
    code = ("import sys, pimsim.workload, pimsim.workload.trace, pimsim.kernels.bitstats; "
            "from pimsim.workload import *; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_missing_torch_gives_install_hint(monkeypatch):
    from pimsim.workload import export
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(TraceError, match=r"pip install -e '\.\[torch\]'"):
        export._torch()


def test_quantizers():
    from pimsim.workload.export import quantize_act, quantize_weight
    w = np.array([-1.0, -0.6, 0.0, 0.25, 1.0], np.float32)
    q, s = quantize_weight(w, 4)
    assert q.dtype == np.int8 and q.tolist() == [-7, -4, 0, 2, 7] and s == pytest.approx(1 / 7)
    a = np.array([0.0, 0.5, 3.0], np.float32)
    qa, sa, zp = quantize_act(a, 8)
    assert qa.dtype == np.uint8 and zp == 0 and qa.tolist() == [0, 42, 255]
    qn, sn, zpn = quantize_act(np.array([-1.0, 1.0]), 8)
    assert zpn in (127, 128) and np.allclose((qn.astype(float) - zpn) * sn, [-1, 1], atol=sn)
