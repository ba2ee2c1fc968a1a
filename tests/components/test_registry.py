"""Plugging in a component: one class defined here plus one YAML entry."""

from pathlib import Path

import pytest

from pimsim.arch import build_arch, rollup
from pimsim.components import Component, Param, register
from pimsim.config import load_design
from pimsim.errors import ConfigError

ISAAC = Path(__file__).resolve().parents[2] / "configs" / "isaac.yaml"


@register("test_flash_adc")
class FlashADC(Component):
    """A flash ADC: 2^bits - 1 comparators, so energy and area double per bit."""

    PARAMS = {"ref_bits": Param("bits", "reference resolution", 8)}
    ACTIONS = {"convert": "one conversion"}

    def _ratio(self) -> float:
        return 2.0 ** (self.inst["bits"] - self.ref["ref_bits"])

    def area_scale(self) -> float:
        return self._ratio()

    def energy_scale(self, action: str) -> float:
        return self._ratio()


def test_plugin_component_replaces_adc(tmp_path):
    path = tmp_path / "flash.yaml"
    path.write_text(f"""extends: {ISAAC}
components:
  adc:
    model: test_flash_adc
    ref_bits: 8
    convert_energy_pJ: 3.125
    area_um2: 2400.0
""")
    design = load_design(path)
    arch = build_arch(design)
    assert isinstance(arch.parts["adc"], FlashADC)
    base = rollup(build_arch(load_design(ISAAC)))
    flash = rollup(arch)
    adc = {r.role: r for r in flash.rows}["adc"]
    assert adc.area_mm2 == pytest.approx(8 * 2400e-6)
    assert adc.power_mW == pytest.approx(32.0)   # twice ISAAC's 16 mW: twice the energy per conversion
    assert flash.chip_area_mm2 > base.chip_area_mm2


def test_plugin_table_keys_are_checked(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {ISAAC}\ncomponents:\n  adc:\n    model: test_flash_adc\n"
                    "    ref_bitz: 8\n    convert_energy_pJ: 1\n    area_um2: 1\n")
    with pytest.raises(ConfigError, match="did you mean 'ref_bits'"):
        load_design(path)


@register("test_zero_detector")
class ZeroDetector(Component):
    """An ERA-BS-style zero detector: a fixed cost per input bit-slice checked."""

    ACTIONS = {"check": "checking one input bit-slice of one row group"}


def test_plugin_role_placed_by_its_table(tmp_path):
    path = tmp_path / "extra.yaml"
    path.write_text(f"""extends: {ISAAC}
components:
  zero_detector:
    model: test_zero_detector
    level: ima
    count: 2
    check_energy_pJ: 0.1
    area_um2: 10.0
""")
    arch = build_arch(load_design(path))
    assert arch.counts["zero_detector"] == ("ima", 2.0)
    row = {r.role: r for r in rollup(arch).rows}["zero_detector"]
    assert row.area_mm2 == pytest.approx(2 * 10e-6)


def test_duplicate_registration_refused():
    with pytest.raises(ValueError, match="already registered"):
        register("sar_adc")(FlashADC)


def test_plugin_role_level_must_be_known(tmp_path):
    path = tmp_path / "lvl.yaml"
    path.write_text(f"extends: {ISAAC}\ncomponents:\n  zero_detector:\n    model: test_zero_detector\n"
                    "    level: 7\n    check_energy_pJ: 0.1\n    area_um2: 1\n")
    with pytest.raises(ConfigError, match="zero_detector.level.*unknown level"):
        load_design(path)
