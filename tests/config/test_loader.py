"""Design-point loading: defaults, merging through 'extends', 'auto' resolution."""

from pathlib import Path

import pytest

from pimsim.config import load_design, required_adc_bits
from pimsim.config.loader import deep_merge

ISAAC = Path(__file__).resolve().parents[2] / "configs" / "isaac.yaml"


def test_isaac_values(isaac):
    assert (isaac.crossbar.rows, isaac.crossbar.cols, isaac.crossbar.bits_per_cell) == (128, 128, 2)
    assert isaac.adc.bits == 8                      # ISAAC's rule with encoding
    assert isaac.ima.input_register_bytes == 2048   # Table I: IR 2 KB
    assert isaac.ima.output_register_bytes == 256   # Table I: OR 256 B
    assert isaac.input_cycles == 16 and isaac.slices_per_weight == 8
    assert isaac.weights_per_crossbar_row == 16
    assert isaac.cycle_ns == 100.0                  # 128 conversions at 1.28 GS/s = 100 ns
    assert isaac.crossbars_per_chip == 16128        # 168 x 12 x 8


@pytest.mark.parametrize("rows,expected", [(64, 7), (128, 8), (256, 9), (512, 10)])
def test_adc_rule_matches_isaac_text(rows, expected):
    # ISAAC.md: R=64 -> 7, R=128 -> 8, R=256 -> 9, R=512 -> 10 (v=1, w=2, encoded)
    assert required_adc_bits(rows, 1, 2, True) == expected


def test_adc_rule_without_the_one_bit_savings():
    # v > 1 and w > 1: A = log2(R) + v + w, no encoding
    assert required_adc_bits(128, 2, 2, False) == 7 + 2 + 2


def test_extends_overrides_one_key(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(f"extends: {ISAAC}\nname: small\ncrossbar:\n  rows: 64\n")
    d = load_design(path)
    assert d.name == "small" and d.crossbar.rows == 64
    assert d.crossbar.cols == 128 and d.tile.imas == 12     # inherited
    assert d.adc.bits == 7                                  # 'auto' follows the rows
    assert d.ima.input_register_bytes == 8 * 64 * 16 // 8


def test_defaults_fill_missing_sections(tmp_path):
    path = tmp_path / "min.yaml"
    path.write_text(f"extends: {ISAAC}\nnoc: {{}}\n")
    assert load_design(path).noc.avg_hops == 1.0


def test_deep_merge_keeps_siblings():
    assert deep_merge({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}}) == {"a": {"x": 1, "y": 3}, "b": 1}


def test_differential_doubles_cells(tmp_path):
    path = tmp_path / "diff.yaml"
    path.write_text(f"extends: {ISAAC}\nprecision:\n  signed_weights: differential\n")
    d = load_design(path)
    assert d.cells_per_weight == 16 and d.weights_per_crossbar_row == 8


def test_changing_model_replaces_the_table():
    base = {"adc": {"model": "sar_adc", "law": "saberi", "area_um2": 1}}
    over = {"adc": {"model": "other", "area_um2": 2}}
    assert deep_merge(base, over) == {"adc": {"model": "other", "area_um2": 2}}


def test_overrides_by_key_path():
    d = load_design(ISAAC, overrides={"crossbar.rows": 256, "crossbar.cols": 256,
                                      "components.adc.law": "walden"})
    assert d.crossbar.rows == 256 and d.adc.bits == 9
    assert d.components["adc"]["law"] == "walden"
    assert load_design(ISAAC).crossbar.rows == 128      # the file is untouched


def test_bad_override_names_the_override():
    from pimsim.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        load_design(ISAAC, overrides={"crossbar.rowz": 64})
    assert "override crossbar.rowz=64" in str(info.value) and "did you mean 'rows'" in str(info.value)
