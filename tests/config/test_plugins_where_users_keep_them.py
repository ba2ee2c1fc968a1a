"""Plug-ins found where users keep them, with nothing installed and no PYTHONPATH: a
component module beside the design point, a ``module:function`` export in the working
directory, and an installed package's ``pimsim.components`` entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from pimsim.config.loader import load_design
from pimsim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = textwrap.dedent('''
    from pimsim.components.adc import SarADC
    from pimsim.components.registry import register

    @register("{name}")
    class HalfEnergyADC(SarADC):
        """ISAAC's ADC at half the energy per conversion."""
        def energy_scale(self, action):
            return 0.5 * super().energy_scale(action)
''')


def _design_dir(tmp_path: Path, module: str, model: str) -> Path:
    d = tmp_path / "designs"
    d.mkdir()
    (d / f"{module}.py").write_text(PLUGIN.format(name=model))
    (d / "mine.yaml").write_text(textwrap.dedent(f'''
        extends: {ROOT / "configs" / "isaac.yaml"}
        name: half-adc
        plugins: [{module}]
        components:
          adc:
            model: {model}
            ref_bits: 8
            ref_sample_rate_GSps: 1.28
            law: saberi
            convert_energy_pJ: 1.5625
            area_um2: 1200.0
    '''))
    return d


def _isolated(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """pimsim as the installed command runs it: the working directory not on sys.path,
    no PYTHONPATH (-I: isolated mode)."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pimsim.cli import main; "
            f"sys.exit(main({args!r}))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-I", "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_component_plugin_beside_the_design_point(tmp_path):
    d = _design_dir(tmp_path, "halfadc_plug", "half_adc_beside")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    base = _isolated(["run", str(ROOT / "configs" / "isaac.yaml"), "--trace",
                      str(ROOT / "traces" / "cnn_digits.npz"), "--json"], elsewhere)
    mine = _isolated(["run", str(d / "mine.yaml"), "--trace",
                      str(ROOT / "traces" / "cnn_digits.npz"), "--json"], elsewhere)
    assert base.returncode == 0 and mine.returncode == 0, mine.stderr
    import json
    e_base = json.loads(base.stdout)["total"]["energy_breakdown_pJ"]["adc"]
    e_mine = json.loads(mine.stdout)["total"]["energy_breakdown_pJ"]["adc"]
    assert e_mine == pytest.approx(0.5 * e_base)


def test_export_function_in_the_working_directory(tmp_path):
    (tmp_path / "mynet.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn

        def build():
            return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), torch.zeros(1, 1, 5, 5)
    '''))
    pytest.importorskip("torch")
    done = _isolated(["export", "mynet:build", "--out", "mynet.npz"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mynet.npz").exists()


def test_missing_plugin_names_where_it_looked(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "x.yaml").write_text(f"extends: {ROOT / 'configs' / 'isaac.yaml'}\n"
                              "plugins: [no_such_plugin_here]\n")
    with pytest.raises(ConfigError, match="beside the design point, in the working directory"):
        load_design(d / "x.yaml")


def test_installed_entry_point_registers_components(tmp_path, monkeypatch):
    import pimsim.plugins as plugins
    pkg = tmp_path / "site"
    pkg.mkdir()
    (pkg / "vendor_adc.py").write_text(PLUGIN.format(name="vendor_half_adc"))
    monkeypatch.syspath_prepend(str(pkg))
    ep = EntryPoint(name="vendor", value="vendor_adc", group=plugins.ENTRY_POINT_GROUP)
    monkeypatch.setattr("importlib.metadata.entry_points",
                        lambda group=None: [ep] if group == plugins.ENTRY_POINT_GROUP else [])
    plugins.reset_entry_points()
    cfg = tmp_path / "v.yaml"
    cfg.write_text(f"extends: {ROOT / 'configs' / 'isaac.yaml'}\n"
                   "components:\n  adc:\n    model: vendor_half_adc\n    ref_bits: 8\n"
                   "    ref_sample_rate_GSps: 1.28\n    law: saberi\n"
                   "    convert_energy_pJ: 1.5625\n    area_um2: 1200.0\n")
    try:
        design = load_design(cfg)      # no plugins: list; the entry point provides it
    finally:
        plugins.reset_entry_points()
    assert design.components["adc"]["model"] == "vendor_half_adc"
