"""Malformed design points: each gives one clear ConfigError naming file, key and expectation."""

from pathlib import Path

import pytest

from pimsim.config import load_design
from pimsim.errors import ConfigError

ISAAC = Path(__file__).resolve().parents[2] / "configs" / "isaac.yaml"


def write(tmp_path: Path, text: str, name: str = "point.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"extends: {ISAAC}\n" + text if "NOEXTENDS" not in text else
                    text.replace("NOEXTENDS\n", ""))
    return path


# (yaml body, substrings the message must contain)
CASES = {
    "unknown top-level key with suggestion": (
        "crosbar:\n  rows: 64\n", ["crosbar", "did you mean 'crossbar'"]),
    "unknown section key with suggestion": (
        "crossbar:\n  row: 64\n", ["crossbar.row", "did you mean 'rows'"]),
    "wrong type": ("crossbar:\n  rows: many\n", ["crossbar.rows", "integer"]),
    "negative size": ("tile:\n  imas: -12\n", ["tile.imas", "positive"]),
    "zero size": ("ima:\n  crossbars: 0\n", ["ima.crossbars", "positive"]),
    "non power of two": ("crossbar:\n  rows: 100\n", ["crossbar.rows", "power of two"]),
    "weight bits not divisible": ("precision:\n  weight_bits: 15\n",
                                  ["precision.weight_bits", "divisible"]),
    "input bits not divisible by DAC": ("dac:\n  bits: 3\n", ["dac.bits", "divisible"]),
    "ADC banks shared unevenly": ("adc:\n  shared_by: 3\n", ["adc.shared_by", "divisor"]),
    "OU larger than crossbar": ("crossbar:\n  ou_rows: 256\n",
                                ["crossbar.ou_rows", "larger than the crossbar", "at most"]),
    "unknown ADC clipping": ("adc:\n  bits: 4\n  clip: wrap\n",
                             ["adc.clip", "unknown value", "saturate"]),
    "bad choice": ("precision:\n  signed_weights: offest\n",
                   ["precision.signed_weights", "did you mean 'offset'"]),
    "bool expected": ("adc:\n  encoding: maybe\n", ["adc.encoding", "true or false"]),
    "unknown arbitration": ("engine:\n  arbitration: oldest\n",
                            ["engine.arbitration", "did you mean 'oldest_first'", "fifo"]),
    "section not a mapping": ("crossbar: 128\n", ["crossbar", "mapping"]),
    "unknown component model": ("components:\n  adc:\n    model: sar_adcc\n",
                                ["components.adc.model", "did you mean 'sar_adc'"]),
    "unknown component key": ("components:\n  adc:\n    convert_energy: 1.0\n",
                              ["components.adc.convert_energy", "did you mean"]),
    "negative component value": ("components:\n  crossbar:\n    area_um2: -1\n",
                                 ["components.crossbar.area_um2", "negative"]),
    "unknown ADC law": ("components:\n  adc:\n    law: murmann\n", ["components.adc.law", "saberi"]),
    "weight wider than crossbar": ("crossbar:\n  cols: 4\n", ["crossbar.cols", "more columns"]),
    "ADCs do not divide columns": ("adc:\n  per_crossbar: 3\n", ["adc.per_crossbar", "divisor"]),
    "NaN read cycle": ("crossbar:\n  read_cycle_ns: .nan\n", ["crossbar.read_cycle_ns", "finite"]),
    "missing extends target": ("NOEXTENDS\nextends: nowhere.yaml\n", ["extends", "missing"]),
    "no components": ("NOEXTENDS\nname: x\n", ["components"]),
    "malformed YAML": ("NOEXTENDS\ncrossbar: [rows: 1\n", ["malformed YAML", "line"]),
    "not a mapping": ("NOEXTENDS\n- a\n- b\n", ["mapping"]),
    "bad clock": ("clock_GHz: fast\n", ["clock_GHz", "positive"]),
    "plugin not importable": ("plugins: [no_such_module_xyz]\n", ["plugins", "no_such_module_xyz"]),
    "plugins not a list": ("plugins: os\n", ["plugins", "list of module names"]),
    "duplicate YAML key": ("NOEXTENDS\ncrossbar:\n  rows: 64\n  rows: 128\n",
                           ["duplicate key 'rows'", "line 3"]),
    "infinite clock": ("clock_GHz: .inf\n", ["clock_GHz", "finite"]),
    "huge integer for a float": ("crossbar:\n  read_cycle_ns: " + "1" + "0" * 400 + "\n",
                                 ["crossbar.read_cycle_ns", "finite"]),
    "infinite component value": ("components:\n  crossbar:\n    read_energy_pJ: .inf\n",
                                 ["components.crossbar.read_energy_pJ", "finite"]),
    "non-text name": ("name: [1, 2]\n", ["name", "must be text"]),
    "non-string key in component": ("components:\n  crossbar:\n    1: 2\n",
                                    ["components.crossbar.1", "unknown key"]),
    "non-string top-level key": ("5: 3\n", ["unknown key '5'"]),
    "component role typo": ("components:\n  sample_hld:\n    model: sample_hold\n"
                            "    sample_energy_pJ: 0.001\n    area_um2: 0.04\n",
                            ["components.sample_hld", "did you mean 'sample_hold'"]),
    "built-in model in a plug-in role": ("components:\n  adcc:\n    model: sar_adc\n    level: ima\n"
                                         "    convert_energy_pJ: 1\n    area_um2: 1\n",
                                         ["components.adcc", "did you mean 'adc'"]),
    "extends a directory": ("NOEXTENDS\nextends: .\n", ["extends", "directory"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_design_point(tmp_path, name):
    body, needles = CASES[name]
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_design(path)
    message = str(info.value)
    assert str(path) in message, message          # names the file
    assert "\n" not in message                     # one paragraph
    for needle in needles:
        assert needle in message, f"{needle!r} not in: {message}"


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_design(tmp_path / "a.yaml")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_design(tmp_path / "absent.yaml")


def test_error_names_overriding_file_for_merged_section(tmp_path):
    path = write(tmp_path, "tile:\n  imas: 0\n", name="child.yaml")
    with pytest.raises(ConfigError) as info:
        load_design(path)
    assert "child.yaml" in str(info.value)


def test_alias_bomb_gives_a_short_error_quickly(tmp_path):
    # A YAML "billion laughs": the error must neither expand it nor hang.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text(f"extends: {ISAAC}\n" + "\n".join(lines) + "\ndescription: *a8\n")
    with pytest.raises(ConfigError) as info:
        load_design(path)
    assert len(str(info.value)) < 1000
