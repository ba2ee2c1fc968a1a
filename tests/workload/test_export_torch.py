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
    # a module that changes the shape in a way no layer kind describes is refused by name
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Unfold(2))
    with pytest.raises(TraceError) as err:
        export_torch(model, torch.zeros(1, 1, 5, 5), tmp_path / "x.npz")
    assert "Unfold" in str(err.value) and "unsupported module" in str(err.value)


def test_standalone_batchnorm_is_a_digital_layer(tmp_path):
    # BN not directly after a conv cannot be folded: it runs as a digital batchnorm layer
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2))
    net = load_trace(export_torch(model, torch.zeros(1, 1, 5, 5), tmp_path / "x.npz")).network
    assert [lay.kind for lay in net] == ["conv", "relu", "batchnorm"]
    assert net.layers[-1].out_shape == (2, 3, 3)


# --- bit widths, samples and the data-flow direction (review findings 6-8) -------------


def _tiny():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(18, 3))


@pytest.mark.parametrize("arg, value", [("weight_bits", 1), ("weight_bits", 33),
                                        ("weight_bits", 0), ("weight_bits", True),
                                        ("weight_bits", 8.0), ("act_bits", 0),
                                        ("act_bits", 33), ("act_bits", None)])
def test_bit_widths_validated(tmp_path, arg, value):
    # weight_bits=1 used to raise ZeroDivisionError, 33 a ValueError from the quantizer.
    out = tmp_path / "x.npz"
    x = torch.rand(2, 1, 5, 5)
    for call in (lambda: export_torch(_tiny(), x[:1], out, samples=x, **{arg: value}),
                 lambda: export_command("cnn_digits", str(out), **{arg: value})):
        with pytest.raises(TraceError) as err:
            call()
        msg = str(err.value)
        assert str(out) in msg and arg in msg and "out of range" in msg, msg
    assert not out.exists()


def test_bit_width_extremes_export(tmp_path):
    x = torch.rand(3, 1, 5, 5)
    for wb, ab in ((2, 1), (32, 32)):
        p = export_torch(_tiny(), x[:1], tmp_path / f"b{wb}.npz", samples=x, weight_bits=wb,
                         act_bits=ab)
        trace = validate_trace(p)
        fc = trace.network.mvm_layers[-1].name
        q, _ = trace.weight_q(fc)
        assert np.abs(q).max() == 2 ** (wb - 1) - 1
        assert trace.act_quant(fc)[2] == ab
    from pimsim.workload.export import quantize_weight
    with pytest.raises(TraceError, match="weight_bits"):
        quantize_weight(np.ones(3, np.float32), 1)


@pytest.mark.parametrize("samples", [4, 1])
def test_export_command_samples_need_real_inputs(tmp_path, samples):
    # No bundled data set: the error says how to record real inputs instead.
    out = tmp_path / "r20.npz"
    with pytest.raises(TraceError) as err:
        export_command("resnet20", str(out), samples=samples)
    msg = str(err.value)
    assert str(out) in msg and "samples" in msg and "real inputs" in msg, msg
    assert "export_torch(model, example_input, path, samples=x)" in msg
    assert not out.exists()


@pytest.mark.parametrize("kw", [{"samples": True}, {"samples": -1}, {"samples": 2.0},
                                {"samples": 4, "weights": False},
                                {"samples": 10_000}])
def test_export_command_bad_samples(tmp_path, kw):
    out = tmp_path / "d.npz"
    with pytest.raises(TraceError) as err:
        export_command("cnn_digits", str(out), **kw)
    assert str(out) in str(err.value) and "samples" in str(err.value)


def test_export_torch_samples_must_be_a_batch(tmp_path):
    x = torch.rand(2, 1, 5, 5)
    with pytest.raises(TraceError, match="samples must be a batch of real inputs"):
        export_torch(_tiny(), x[:1], tmp_path / "x.npz", samples=4)
    with pytest.raises(TraceError, match="do not match the example input"):
        export_torch(_tiny(), x[:1], tmp_path / "x.npz", samples=torch.rand(2, 1, 6, 6))


def test_export_command_digits_samples(tmp_path, monkeypatch):
    # A digits zoo model is trained (as scripts/make_traces.py does) and the first N
    # held-out test images are recorded; one epoch here to keep the test fast.
    from pimsim.workload.zoo import digits
    real_train = digits.train
    monkeypatch.setattr(digits, "train", lambda *a, **k: real_train(*a, epochs=1, **k))
    p = export_command("cnn_digits", str(tmp_path / "d.npz"), samples=5, weight_bits=6,
                       act_bits=4)
    trace = validate_trace(p)
    assert trace.meta["samples"] == 5 and trace.meta["weight_bits"] == 6
    assert trace.meta["samples_from"] == "first 5 held-out test images"
    assert trace.meta["dataset"].startswith("sklearn load_digits")
    first = trace.network.mvm_layers[0].name
    x_test = digits.digits_split()[2][:5]
    scale, zp, bits = trace.act_quant(first)
    deq = (trace.activations(first).astype(np.float64) - zp) * scale
    assert bits == 4 and np.abs(deq - x_test).max() <= scale / 2 + 1e-6  # the real images


def test_export_command_resnet20_digits_shape_only(tmp_path):
    p = export_command("resnet20_digits", str(tmp_path / "r.npz"), weights=False)
    net = load_trace(p).network
    assert net.input_shape == (3, 32, 32) and net.macs == 40_813_184


def test_workload_does_not_import_kernels():
    # Data flows one way (workload -> mapping -> kernels): the exporter computes its
    # informative stats with plain numpy, and no workload module imports pimsim.kernels.
    import ast
    from pathlib import Path

    import pimsim.workload
    root = Path(pimsim.workload.__file__).parent
    for src in root.rglob("*.py"):
        for node in ast.walk(ast.parse(src.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.startswith("pimsim.kernels") for n in names), src


def test_zero_bit_fraction_matches_bitstats_kernel():
    from pimsim.kernels.bitstats import act_bit_stats
    from pimsim.workload.export import zero_bit_fraction
    q = np.random.default_rng(0).integers(0, 16, (3, 5, 2, 2)).astype(np.uint8)
    want, _, _ = act_bit_stats(q.reshape(1, -1), 4, q.size)
    np.testing.assert_array_equal(zero_bit_fraction(q, 4), want[0])
