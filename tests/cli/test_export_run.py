"""Round trip on the command line: pimsim export -> pimsim run; MACs equal torch's own count."""

import json
from pathlib import Path

import pytest

from pimsim.cli import main

torch = pytest.importorskip("torch")
ISAAC = str(Path(__file__).resolve().parents[2] / "configs" / "isaac.yaml")


def torch_macs(model, x) -> int:
    """Count MACs with forward hooks on every Conv2d / Linear (bias excluded)."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, torch.nn.Conv2d):
            kh, kw = mod.kernel_size
            total += out.numel() // out.shape[0] * (mod.in_channels // mod.groups) * kh * kw
        else:
            total += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total


def test_export_then_run(tmp_path, capsys):
    from pimsim.workload.export import load_model_spec

    out = tmp_path / "resnet20.npz"
    assert main(["export", "resnet20", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["run", ISAAC, "--trace", str(out), "--json", "--baseline", "none",
                 "--images", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    model, example = load_model_spec("resnet20")
    assert result["total"]["macs"] == torch_macs(model.eval(), example)
    assert result["total"]["crossbars"] > 0 and result["total"]["energy_pJ"] > 0
