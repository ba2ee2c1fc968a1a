"""PyTorch exporter: round trips, MAC counts from torch hooks, BN folding, errors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from pimsim.errors import TraceError  # noqa: E402
from pimsim.workload import export_command, export_torch, load_trace, validate_trace  # noqa: E402


def torch_macs(model: nn.Module, x) -> int:
    """Independent MAC count: forward hooks on every Conv2d and Linear (bias excluded)."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        per_sample = out[0].numel()  # one output element = one dot product
        if isinstance(mod, nn.Conv2d):
            total += per_sample * (mod.in_channels // mod.groups) * mod.kernel_size[0] \
                * mod.kernel_size[1]
        else:
            total += per_sample * mod.in_features
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(x[:1])
    for h in handles:
        h.remove()
    return total


class Mixed(nn.Module):
    """Every supported construct: grouped/depthwise conv, BN, ReLU family, pools, residual
    add (operator and torch.add), view flatten, dropout, linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.LeakyReLU(0.1)
        self.dw = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)
        self.pw = nn.Conv2d(8, 16, 1, groups=2)
        self.relu6 = nn.ReLU6()
        self.short = nn.Conv2d(8, 16, 1, stride=1)
        self.pool = nn.AvgPool2d(2)
        self.mpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.act(self.bn(self.stem(x)))
        y = self.relu6(self.pw(self.dw(x)))
        x = torch.add(y, self.short(x))
        x = F.relu(self.pool(x))
        z = self.mpool(x)
        x = z + F.relu(z)  # a branch and its join
        x = self.gap(x)
        return self.fc(self.drop(x.view(x.size(0), -1)))


def run_trace(trace, x):
    """Execute a trace with torch.functional from its stored float weights."""
    env = {"input": x}
    for lay in trace.network:
        ins = [env[p] for p in lay.inputs]
        a = ins[0]
        if lay.kind == "conv":
            b = trace.bias(lay.name) if lay.bias else None
            y = F.conv2d(a, torch.from_numpy(trace.weight(lay.name)),
                         None if b is None else torch.from_numpy(b),
                         lay.stride, lay.padding, lay.dilation, lay.groups)
        elif lay.kind == "linear":
            b = torch.from_numpy(trace.bias(lay.name)) if lay.bias else None
            y = F.linear(a.flatten(1), torch.from_numpy(trace.weight(lay.name)), b)[..., None, None]
        elif lay.kind == "maxpool":
            y = F.max_pool2d(a, lay.kernel, lay.stride, lay.padding, lay.dilation)
        elif lay.kind == "avgpool":
            y = F.avg_pool2d(a, lay.kernel, lay.stride, lay.padding)
        elif lay.kind == "relu":
            y = F.relu(a)
        elif lay.kind == "add":
            y = sum(ins)
        else:  # flatten
            y = a.reshape(a.shape[0], -1, 1, 1)
        assert tuple(y.shape[1:]) == lay.out_shape, lay.name
        env[lay.name] = y
    return y.flatten(1)


def trained_bn(model: nn.Module) -> nn.Module:
    """Give BatchNorms non-trivial statistics so that folding is really exercised."""
    torch.manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


def test_mixed_model_round_trip_macs(tmp_path):
    torch.manual_seed(0)
    model = Mixed()
    x = torch.rand(6, 3, 16, 16)
    p = export_torch(model, x[:1], tmp_path / "mixed.npz", samples=x, weight_bits=6, act_bits=4)
    trace = validate_trace(p)
    net = trace.network
    assert net.macs == torch_macs(model, x)
    kinds = {lay.name: lay.kind for lay in net}
    assert sorted(set(kinds.values())) == ["add", "avgpool", "conv", "flatten", "linear",
                                           "maxpool", "relu"]
    dw = net.layer("dw")
    assert dw.groups == 8 and dw.dilation == (2, 2) and dw.weight_rows == 9
    assert net.layer("gap").kind == "avgpool" and net.layer("gap").kernel == (4, 4)
    adds = [lay for lay in net if lay.kind == "add"]
    assert adds[0].inputs == ("relu6", "short")
    assert trace.meta["weight_bits"] == 6 and trace.meta["samples"] == 6
    assert trace.activations("fc").shape == (6, 16, 1, 1)
    assert int(trace.activations("dw").max()) <= 15


@pytest.mark.parametrize("name", ["resnet20", "cnn_digits"])
def test_zoo_round_trip_exact_outputs(tmp_path, name):
    from pimsim.workload.zoo import ZOO
    torch.manual_seed(0)
    model, example = ZOO[name]()
    model = trained_bn(model)
    x = torch.rand((4,) + tuple(example.shape[1:]))
    p = export_torch(model, example, tmp_path / f"{name}.npz", samples=x)
    trace = validate_trace(p)
    assert trace.network.macs == torch_macs(model, x)
    with torch.no_grad():
        want = model(x)
        got = run_trace(trace, x)  # BN folded, graph re-executed from the trace alone
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    # Recorded activations dequantize to the real inputs of each layer (within a step).
    first = trace.network.mvm_layers[0].name
    scale, zp, _ = trace.act_quant(first)
    deq = (trace.activations(first).astype(np.float64) - zp) * scale
    assert np.abs(deq - x.numpy()).max() <= scale / 2 + 1e-6


def test_shape_only_export_command(tmp_path):
    p = export_command("resnet20", str(tmp_path / "r20.npz"), weights=False)
    trace = load_trace(p)
    assert not trace.has_tensors and trace.meta["source"] == "resnet20"
    assert trace.network.macs == 40_813_184


def test_module_function_spec(tmp_path):
    p = export_command("pimsim.workload.zoo:_test_model", str(tmp_path / "m.npz"))
    assert load_trace(p).network.layers[0].kind == "conv"


def test_unknown_model_spec(tmp_path):
    with pytest.raises(TraceError, match="unknown model"):
        export_command("resnet999", str(tmp_path / "x.npz"))
    with pytest.raises(TraceError, match="cannot load model function"):
        export_command("no_such_module:f", str(tmp_path / "x.npz"))


def test_unsupported_module_named(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid())
    with pytest.raises(TraceError) as err:
        export_torch(model, torch.zeros(1, 1, 5, 5), tmp_path / "x.npz")
    assert "Sigmoid" in str(err.value) and "unsupported module" in str(err.value)


def test_unfoldable_batchnorm(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2))
    with pytest.raises(TraceError, match="BatchNorm2d not directly after a Conv2d"):
        export_torch(model, torch.zeros(1, 1, 5, 5), tmp_path / "x.npz")
