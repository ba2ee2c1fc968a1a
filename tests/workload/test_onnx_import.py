"""ONNX import: torch -> ONNX -> ``pimsim import`` gives the torch exporter's trace, for a
small instance of every zoo family; hostile or malformed ONNX files get a clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from torch import nn  # noqa: E402

from pimsim.cli import main  # noqa: E402
from pimsim.errors import TraceError  # noqa: E402
from pimsim.workload import load_trace  # noqa: E402
from pimsim.workload.export import export_torch  # noqa: E402
from pimsim.workload.onnx_import import import_onnx  # noqa: E402
from pimsim.workload.zoo.densenet import densenet121  # noqa: E402
from pimsim.workload.zoo.mobile import efficientnet_b0, mobilenet_v2  # noqa: E402
from pimsim.workload.zoo.rnn import LstmLM  # noqa: E402
from pimsim.workload.zoo.transformer import ViT, BertLayer  # noqa: E402

class _GruLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.gru, self.out = nn.Embedding(30, 6), nn.GRU(6, 5, 2, batch_first=True), \
            nn.Linear(5, 30)

    def forward(self, x):
        h, _ = self.gru(self.embed(x))
        return self.out(h)


#: small instances of each zoo family: same blocks and ops, fewer and narrower layers
SMALL = {
    "mobilenet_v2": lambda: (mobilenet_v2(10, settings=[(1, 8, 1, 1), (6, 16, 2, 2)], stem=8,
                                          last=32), torch.rand(1, 3, 32, 32)),
    "efficientnet_b0": lambda: (efficientnet_b0(10, settings=[(1, 3, 1, 8, 8, 1),
                                                              (6, 5, 2, 8, 16, 2)], last=32),
                                torch.rand(1, 3, 32, 32)),
    "densenet121": lambda: (densenet121(10, growth=4, blocks=(2, 2), init=8, bn_size=2),
                            torch.rand(1, 3, 32, 32)),
    "vit_tiny": lambda: (ViT(image=32, patch=8, dim=16, depth=2, heads=2, num_classes=10),
                         torch.rand(1, 3, 32, 32)),
    "bert_base_layer": lambda: (BertLayer(dim=32, heads=4, hidden=64), torch.rand(1, 16, 32)),
    "lstm_lm": lambda: (LstmLM(vocab=40, width=8, layers=2), torch.randint(0, 40, (1, 5))),
    "gru_lm": lambda: (_GruLM(), torch.randint(0, 30, (1, 4))),   # GRU gate order too
}


def _signature(net):
    """Layers without the free reshapes, each with its producers as indices."""
    alias, index, out = {}, {}, []
    for lay in net.layers:
        if lay.kind == "reshape":
            alias[lay.name] = alias.get(lay.inputs[0], lay.inputs[0])
    for lay in net.layers:
        if lay.kind == "reshape":
            continue
        index[lay.name] = len(out)
        ins = tuple(index.get(alias.get(i, i), -1) for i in lay.inputs)
        out.append((lay.kind, lay.op, lay.in_shape, lay.out_shape, lay.kernel, lay.stride,
                    lay.padding, lay.dilation, lay.groups, lay.bias, lay.ceil_mode,
                    bool(lay.shares), lay.macs, ins))
    return out


def _onnx_file(model, x, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (x,), str(path), dynamo=False, opset_version=20)
    return path


@pytest.mark.parametrize("family", sorted(SMALL))
def test_onnx_import_equals_torch_export(family, tmp_path):
    torch.manual_seed(0)
    model, x = SMALL[family]()
    # BN statistics that are not the identity, so folding is exercised
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
    a = load_trace(export_torch(model, x, tmp_path / "torch.npz"))
    b = load_trace(import_onnx(_onnx_file(model, x, tmp_path / "m.onnx"), tmp_path / "onnx.npz"))
    assert _signature(a.network) == _signature(b.network)
    assert a.network.macs == b.network.macs and a.network.weights == b.network.weights
    assert a.network.input_shape == b.network.input_shape
    wa = [lay.name for lay in a.network.layers if a.has(lay.name, "weight")]
    wb = [lay.name for lay in b.network.layers if b.has(lay.name, "weight")]
    assert len(wa) == len(wb) > 0
    for na, nb in zip(wa, wb):
        np.testing.assert_allclose(a.weight(na), b.weight(nb), rtol=1e-4, atol=1e-5)
        assert a.has(na, "bias") == b.has(nb, "bias")
        if a.has(na, "bias"):
            np.testing.assert_allclose(a.bias(na), b.bias(nb), rtol=1e-4, atol=1e-5)


def test_import_command_and_shapes_only(tmp_path, capsys):
    model, x = SMALL["bert_base_layer"]()
    onnx_path = _onnx_file(model, x, tmp_path / "bert.onnx")
    assert main(["import", str(onnx_path), "--out", str(tmp_path / "b.npz"),
                 "--shapes-only"]) == 0
    trace = load_trace(tmp_path / "b.npz")
    assert not trace.has_tensors and trace.network.macs > 0
    assert "wrote" in capsys.readouterr().out


# --- hostile and malformed files -----------------------------------------------------


def _expect(path, *fragments, out=None):
    with pytest.raises(TraceError) as err:
        import_onnx(path, out or path.with_suffix(".npz"))
    msg = str(err.value)
    for frag in (str(path),) + fragments:
        assert frag in msg, msg
    return msg


def _tiny_model():
    from onnx import TensorProto, helper
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3], np.ones(12, np.float32).tolist())
    node = helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 3])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 4])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_tiny_handmade_model_imports(tmp_path):
    p = tmp_path / "tiny.onnx"
    onnx.save(_tiny_model(), str(p))
    net = load_trace(import_onnx(p, tmp_path / "tiny.npz")).network
    assert [(lay.kind, lay.macs) for lay in net] == [("linear", 12)]


def test_garbage_truncated_missing_and_directory(tmp_path):
    p = tmp_path / "garbage.onnx"
    p.write_bytes(b"\xff" * 100)
    _expect(p, "protobuf decoding failed")
    good = tmp_path / "good.onnx"
    onnx.save(_tiny_model(), str(good))
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(good.read_bytes()[:40])
    with pytest.raises(TraceError):
        import_onnx(cut, tmp_path / "cut.npz")
    _expect(tmp_path / "missing.onnx", "file not found")
    (tmp_path / "dir.onnx").mkdir()
    with pytest.raises(TraceError):
        import_onnx(tmp_path / "dir.onnx", tmp_path / "d.npz")
    assert main(["import", str(p), "--out", str(tmp_path / "x.npz")]) == 2
    assert not (tmp_path / "x.npz").exists()


def _varint(n: int) -> bytes:
    out = b""
    while True:
        out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            return out


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_nesting_bomb_is_refused(tmp_path):
    # ModelProto.graph -> GraphProto.node -> NodeProto.attribute -> AttributeProto.g -> ...
    # nested 600 messages deep, written as raw protobuf (the onnx helpers refuse to build
    # it): decoding stops at protobuf's depth limit, reported as a TraceError
    graph = b""
    for _ in range(200):
        graph = _field(1, _field(5, _field(6, graph)))
    p = tmp_path / "bomb.onnx"
    p.write_bytes(_field(7, graph))
    _expect(p, "protobuf decoding failed")


def test_external_data_and_oversized_initializers_refused(tmp_path):
    from onnx import TensorProto
    m = _tiny_model()
    w = m.graph.initializer[0]
    w.data_location = TensorProto.EXTERNAL
    ext = w.external_data.add()
    ext.key, ext.value = "location", "../../etc/passwd"
    p = tmp_path / "ext.onnx"
    p.write_bytes(m.SerializeToString())
    _expect(p, "initializer 'w'", "external tensor data is refused")
    m = _tiny_model()
    m.graph.initializer[0].dims[:] = [2**20, 2**20]     # declared, never stored
    p = tmp_path / "huge.onnx"
    p.write_bytes(m.SerializeToString())
    _expect(p, "initializer 'w'", "too large")


def test_oversized_file_refused_before_reading(tmp_path, monkeypatch):
    import pimsim.workload.onnx_import as oi
    p = tmp_path / "big.onnx"
    onnx.save(_tiny_model(), str(p))
    monkeypatch.setattr(oi, "MAX_ONNX_BYTES", 10)
    _expect(p, "ONNX file too large")


def test_unsupported_operator_named(tmp_path):
    from onnx import TensorProto, helper
    node = helper.make_node("TopK", ["x", "k"], ["y", "i"], axis=1)
    k = helper.make_tensor("k", TensorProto.INT64, [1], [2])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 5])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 2])], [k])
    p = tmp_path / "topk.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(p))
    _expect(p, "unsupported operator", "TopK")


def test_unmodelled_elementwise_op_warns(tmp_path):
    from onnx import TensorProto, helper
    from pimsim.workload.ops import UnmodelledOpWarning
    node = helper.make_node("Erf", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 5])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 5])])
    p = tmp_path / "erf.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(p))
    with pytest.warns(UnmodelledOpWarning, match="'erf'"):
        net = load_trace(import_onnx(p, tmp_path / "erf.npz")).network
    assert [(lay.kind, lay.op) for lay in net] == [("eltwise", "erf")]
