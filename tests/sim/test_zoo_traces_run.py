"""Every shipped zoo trace of today's networks runs on ISAAC from the command line.

The closed form runs all six here; the engine (``fast``) runs the two quick ones (the
others take 36-244 s each on a busy 2-core machine; the measured runs are listed in
docs/trace-format.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pimsim.cli import main
from pimsim.workload import load_network

ROOT = Path(__file__).resolve().parents[2]
ZOO_TRACES = ("mobilenet_v2_shapes", "efficientnet_b0_shapes", "densenet121_shapes",
              "vit_tiny_shapes", "bert_base_layer_shapes", "lstm_lm_shapes")


def _run(trace: str, fidelity: str, capsys) -> dict:
    path = ROOT / "traces" / f"{trace}.npz"
    assert main(["run", str(ROOT / "configs" / "isaac.yaml"), "--trace", str(path),
                 "--fidelity", fidelity, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"]["macs"] == load_network(path).macs
    assert out["total"]["energy_pJ"] > 0 and out["total"]["latency_ns"] > 0
    return out


@pytest.mark.parametrize("trace", ZOO_TRACES)
def test_zoo_trace_runs_analytic(trace, capsys):
    out = _run(trace, "analytic", capsys)
    breakdown = out["total"]["energy_breakdown_pJ"]
    if trace in ("vit_tiny_shapes", "bert_base_layer_shapes"):
        # attention's matmuls, layer norms and softmax are charged and visible
        assert breakdown["eltwise"] > 0 and breakdown["layernorm"] > 0
        assert breakdown["softmax"] > 0


@pytest.mark.parametrize("trace", ["bert_base_layer_shapes", "lstm_lm_shapes"])
def test_zoo_trace_runs_fast(trace, capsys):
    out = _run(trace, "fast", capsys)
    assert out["total"]["energy_breakdown_pJ"]["eltwise"] > 0
