"""The exporter on the ops issue 15 found refused: one model using all of them exports
without a failure, every layer kind it produces is the expected one, and it runs."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from pimsim.arch.compose import build_arch  # noqa: E402
from pimsim.config.loader import load_design  # noqa: E402
from pimsim.sim.analytic import evaluate  # noqa: E402
from pimsim.sim.run import simulate  # noqa: E402
from pimsim.workload import load_trace  # noqa: E402
from pimsim.workload.export import export_torch, network_from_torch  # noqa: E402
from pimsim.workload.ops import UnmodelledOpWarning  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class Everything(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)          # 8x8 -> 4x4 (ceil)
        self.bn = nn.BatchNorm2d(16)                           # after a cat: stand-alone
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv1d = nn.Conv1d(16, 12, 3, padding=1)
        self.norm = nn.LayerNorm(12)
        self.fc_tok = nn.Linear(12, 12)
        self.lstm = nn.LSTM(12, 6, batch_first=True)
        self.gru = nn.GRU(6, 4, batch_first=True)
        self.head = nn.Linear(4 * 64, 5)

    def forward(self, x):
        a = F.relu6(self.stem(x))
        b = F.hardswish(self.dw(a))
        y = torch.cat([a, b], dim=1)                          # cat
        y = self.bn(y) * torch.sigmoid(y)                     # stand-alone BN, SE-style mul
        p, q = torch.split(y, 8, dim=1)                       # split
        y = torch.cat([F.gelu(p), torch.tanh(q)], 1)
        y = self.up(self.pool(y))                             # ceil pool, upsample: 8x8
        s = y.flatten(2)                                      # (N, 16, 64) for Conv1d
        s = F.silu(self.conv1d(s)).transpose(1, 2)            # (N, 64, 12) tokens
        t = self.fc_tok(self.norm(s))                         # Linear over tokens
        att = torch.softmax(torch.matmul(t, t.transpose(1, 2)), -1)   # activation matmul
        t = torch.matmul(att, t)
        h, _ = self.lstm(t)
        g, _ = self.gru(h)
        return self.head(g.reshape(g.shape[0], -1))


def test_every_refused_op_now_exports_and_runs(tmp_path):
    x = torch.rand(1, 3, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnmodelledOpWarning)   # all of these have a model
        path = export_torch(Everything(), x, tmp_path / "all.npz")
    net = load_trace(path).network
    kinds = {lay.kind for lay in net}
    assert {"conv", "concat", "slice", "batchnorm", "eltwise", "upsample", "maxpool",
            "layernorm", "softmax", "matmul", "rnn_cell", "linear"} <= kinds
    ops = {lay.op for lay in net if lay.kind == "eltwise"}
    assert {"hardswish", "sigmoid", "mul", "gelu", "tanh", "silu"} <= ops
    assert {lay.op for lay in net if lay.kind == "rnn_cell"} == {"lstm", "gru"}
    pool = next(lay for lay in net if lay.kind == "maxpool")
    assert pool.ceil_mode and pool.out_shape == (16, 4, 4)   # floor mode would give 3x3
    conv1d = next(lay for lay in net if lay.kind == "conv" and lay.kernel == (3, 1))
    assert conv1d.in_shape == (16, 64, 1) and conv1d.out_shape == (12, 64, 1)
    tok = [lay for lay in net if lay.kind == "conv" and lay.in_shape == (12, 64, 1)]
    assert tok and tok[0].macs == 12 * 12 * 64                # Linear over 64 tokens
    mm = [lay for lay in net if lay.kind == "matmul"]
    assert [lay.macs for lay in mm] == [64 * 12 * 64, 64 * 64 * 12]
    arch = build_arch(load_design(ROOT / "configs" / "isaac.yaml"))
    for res in (evaluate(net, arch), simulate(net, arch, fidelity="fast")):
        assert res.total.macs == net.macs and res.total.energy_pJ > 0


def test_shipped_bert_trace_regenerates():
    from pimsim.workload.trace import network_to_manifest
    from pimsim.workload.zoo import ZOO
    model, x = ZOO["bert_base_layer"]()
    fresh = network_from_torch(model, x, name="bert_base_layer_shapes")
    shipped = load_trace(ROOT / "traces" / "bert_base_layer_shapes.npz").network
    assert network_to_manifest(fresh) == network_to_manifest(shipped)
