"""The new layer kinds on the hardware: digital units, the generic digital unit,
attention's matmuls (digital or crossbar-written) and shared RNN crossbars.

Expected energies are computed here from the design point's YAML tables and the layer
shapes (ops per element from each function's formula), not through the mapping code.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest

from pimsim.arch.compose import build_arch
from pimsim.config.loader import load_design
from pimsim.errors import ConfigError
from pimsim.mapping import map_network
from pimsim.sim.analytic import evaluate
from pimsim.sim.run import simulate
from pimsim.workload.layer import Layer, Network

ROOT = Path(__file__).resolve().parents[2]
torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from pimsim.workload.export import network_from_torch  # noqa: E402
from pimsim.workload.ops import UnmodelledOpWarning  # noqa: E402
from pimsim.workload.zoo.rnn import LstmLM  # noqa: E402
from pimsim.workload.zoo.transformer import BertLayer  # noqa: E402


@pytest.fixture(scope="module")
def design():
    return load_design(ROOT / "configs" / "isaac.yaml")


def _pj(design, role: str, action: str = "op") -> float:
    return float(design.components[role][f"{action}_energy_pJ"])


def test_unmodelled_op_exports_with_warning_and_runs_on_the_generic_unit(design):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Softplus(), nn.Flatten(), nn.Linear(36, 3))
    with pytest.warns(UnmodelledOpWarning, match="'softplus'.*generic digital unit"):
        net = network_from_torch(model, torch.zeros(1, 1, 5, 5))
    sp = [lay for lay in net if lay.kind == "eltwise"]
    assert [(lay.op, lay.out_elems) for lay in sp] == [("softplus", 36)]
    arch = build_arch(design)
    for res in (evaluate(net, arch), simulate(net, arch, fidelity="fast")):
        layer = next(lr for lr in res.layers if lr.kind == "eltwise")
        # assumed cost: one generic digital op per output element
        assert layer.energy_breakdown_pJ["digital"] == pytest.approx(36 * _pj(design, "digital"))
        assert res.total.counts["digital.op"] == 36
        assert res.total.energy_breakdown_pJ["digital"] > 0


def _bert(dim=32, heads=4, hidden=64, seq=16):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnmodelledOpWarning)   # every op has a model
        return network_from_torch(BertLayer(dim, heads, hidden), torch.zeros(1, seq, dim))


def test_attention_on_digital_units_is_charged(design):
    dim, heads, hidden, seq = 32, 4, 64, 16
    net = _bert(dim, heads, hidden, seq)
    arch = build_arch(design)
    res = evaluate(net, arch)
    # eltwise work by hand: QK^T and AV multiply-adds, the 1/sqrt(d) scale (one multiply
    # per score) and GELU (3 ops per element of the FFN hidden layer)
    matmul_macs = 2 * heads * seq * seq * (dim // heads)
    ops = matmul_macs + heads * seq * seq + 3 * seq * hidden
    assert res.total.counts["eltwise.op"] == ops
    assert res.total.energy_breakdown_pJ["eltwise"] == pytest.approx(ops * _pj(design, "eltwise"))
    # layer norm and softmax: one op per element on their own units
    assert res.total.counts["layernorm.op"] == 2 * seq * dim
    assert res.total.counts["softmax.op"] == heads * seq * seq
    assert res.total.energy_breakdown_pJ["softmax"] == pytest.approx(
        heads * seq * seq * _pj(design, "softmax"))
    fast = simulate(net, arch, fidelity="fast")
    for key in ("eltwise.op", "layernorm.op", "softmax.op", "crossbar.read", "adc.convert"):
        assert fast.total.counts[key] == pytest.approx(res.total.counts[key]), key


def test_attention_written_into_crossbars_is_charged_through_the_write_drivers(design):
    dim, heads, seq = 32, 4, 16
    net = _bert(dim, heads, 64, seq)
    wdesign = load_design(ROOT / "configs" / "isaac_attention_write.yaml")
    arch = build_arch(wdesign)
    res = evaluate(net, arch)
    slices = math.ceil(wdesign.precision.weight_bits / wdesign.crossbar.bits_per_cell)
    dh = dim // heads
    # K^T (heads x dh x seq) and V (heads x seq x dh) written once per inference
    cells = 2 * heads * dh * seq * slices
    assert res.total.counts["write_driver.write"] == cells
    assert res.total.energy_breakdown_pJ["write_driver"] == pytest.approx(
        cells * _pj(wdesign, "write_driver", "write"))
    # the matmuls read crossbars now: no eltwise multiply-adds left for them
    assert res.total.counts["eltwise.op"] == heads * seq * seq + 3 * seq * 64
    nmap = map_network(net, arch)
    written = [lm for lm in nmap.layers if lm.written_cells]
    assert len(written) == 2 and all(lm.crossbars > 0 and lm.replication == 1 for lm in written)
    # programming time (one row per pulse per crossbar, crossbars in parallel) is in the
    # stage time: the fullest crossbar's used rows (K^T: dh rows per head, V: seq rows
    # per head, heads packed block-diagonally) times the pulse
    pulse = float(wdesign.components["write_driver"]["pulse_ns"])
    times = {lr.name: lr.time_ns for lr in res.layers}
    for lm, k in zip(written, (dh, seq)):
        rows = int(lm.xb_rows.max())
        assert rows % k == 0
        assert lm.write_ns == rows * pulse
        # the stage: programming, then M positions of reads (plus their input fetches)
        reads = -(-lm.positions // lm.replication) * wdesign.input_cycles * wdesign.cycle_ns
        assert reads + rows * pulse <= times[lm.name] <= 1.01 * (reads + rows * pulse)
    fast = simulate(net, arch, fidelity="fast")
    assert fast.total.counts["write_driver.write"] == cells
    assert fast.total.counts["crossbar.read"] == pytest.approx(res.total.counts["crossbar.read"])


def test_lstm_steps_share_one_copy_of_the_recurrent_weights(design):
    width, layers, steps = 8, 2, 5
    net = network_from_torch(LstmLM(vocab=40, width=width, layers=layers),
                             torch.zeros(1, steps, dtype=torch.long))
    nmap = map_network(net, build_arch(design))
    shared = [lm for lm in nmap.layers if lm.shared]
    assert len(shared) == layers * (steps - 2)       # steps 2.. reuse step 1's crossbars
    assert all(lm.crossbars == 0 and lm.imas == 0 for lm in shared)
    owners = [lm for lm in nmap.layers if lm.is_mvm and not lm.shared]
    assert nmap.crossbars == sum(lm.crossbars for lm in owners)
    # the shared steps still read crossbars: every step's MACs are counted
    res = evaluate(net, build_arch(design))
    assert res.total.macs == net.macs
    cells = [lay for lay in net if lay.kind == "rnn_cell"]
    assert len(cells) == layers * steps
    assert res.total.counts["eltwise.op"] >= 9 * width * layers * steps


def test_a_design_without_the_unit_is_a_clear_error(design, tmp_path):
    cfg = tmp_path / "no_ln.yaml"
    text = (ROOT / "configs" / "isaac.yaml").read_text()
    cut = text.index("  layernorm:")
    end = text.index("  softmax:")
    cfg.write_text(text[:cut] + text[end:])
    arch = build_arch(load_design(cfg))
    net = Network("n", (8, 4, 1), (
        Layer("ln", "layernorm", ("input",), (8, 4, 1), (8, 4, 1)),))
    with pytest.raises(ConfigError) as err:
        evaluate(net, arch)
    msg = str(err.value)
    assert "layer 'ln'" in msg and "'layernorm'" in msg and "components.layernorm" in msg
