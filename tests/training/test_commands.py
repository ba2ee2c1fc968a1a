"""train_command / endurance_command on a tiny run; importing without torch."""

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import pimsim.training, pimsim.training.commands, pimsim.endurance.cells, "
            "pimsim.endurance.counting, pimsim.endurance.cost, pimsim.endurance.lifetime\n"
            "from pimsim.training.loop import torch_or_error\n"
            "from pimsim.errors import PimsimError\n"
            "try:\n    torch_or_error()\nexcept PimsimError as e:\n"
            "    assert \"pip install -e '.[torch]'\" in str(e); print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.stdout.strip() == "ok", out.stderr


def test_train_and_endurance_commands(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from pimsim.training.commands import endurance_command, train_command
    args = argparse.Namespace(config=str(ROOT / "configs" / "isaac.yaml"), model="cnn_digits",
                              policy="essence", epochs=1, device="cpu", compare_policies=False,
                              out=str(tmp_path), seed=0, max_steps=4, jobs=1, no_plots=True)
    assert train_command(args) == 0
    assert (tmp_path / "cnn_digits_essence.npz").exists()
    assert (tmp_path / "endurance.json").exists() and (tmp_path / "endurance.md").exists()
    capsys.readouterr()
    args2 = argparse.Namespace(config=args.config, records=[str(tmp_path)], out=None,
                               no_plots=True)
    assert endurance_command(args2) == 0
    assert "essence" in capsys.readouterr().out


def test_unknown_policy_is_a_user_error():
    pytest.importorskip("torch")
    from pimsim.errors import PimsimError
    from pimsim.training.commands import train_command
    args = argparse.Namespace(config=str(ROOT / "configs" / "isaac.yaml"), model="cnn_digits",
                              policy="adagrad", compare_policies=False)
    with pytest.raises(PimsimError, match="unknown update policy"):
        train_command(args)
