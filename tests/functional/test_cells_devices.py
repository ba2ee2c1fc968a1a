"""Weight mapping, ADC transfer and device effects, checked by hand."""

from pathlib import Path

import numpy as np
import pytest

from pimsim.config import load_design
from pimsim.config.schema import NonIdeal
from pimsim.errors import ConfigError
from pimsim.functional import devices
from pimsim.functional.cells import Datapath, map_weights

ROOT = Path(__file__).resolve().parents[2]


def _dp(**over):
    return Datapath.from_design(load_design(ROOT / "configs" / "isaac_8bit.yaml",
                                            overrides=over))


def test_offset_slices_and_flip_by_hand():
    dp = _dp(**{"adc.encoding": False})
    # w = -1 -> u = 127 = 0b01_11_11_11 -> slices (LSB first) 3, 3, 3, 1; w = 5 -> 133 =
    # 0b10_00_01_01 -> 1, 1, 0, 2
    m = map_weights(np.array([[-1, 5]]), dp)
    assert m.pos.tolist() == [[3, 3, 3, 1, 1, 1, 0, 2]]
    assert m.col_pos.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    enc = map_weights(np.array([[-1, 5], [-1, 5]]), _dp())
    # per column of the 2-row block, flip when the level sum > 2 * 3 / 2 = 3
    assert enc.flip[0].tolist() == [1, 1, 1, 0, 0, 0, 0, 1]
    assert enc.pos[0].tolist() == [0, 0, 0, 1, 1, 1, 0, 1]


def test_differential_pairs_by_hand():
    dp = _dp(**{"precision.signed_weights": "differential"})
    m = map_weights(np.array([[-6, 9]]), dp)
    assert m.pos.tolist() == [[0, 0, 0, 0, 1, 2, 0, 0]]        # 9 = 0b10_01
    assert m.neg.tolist() == [[2, 1, 0, 0, 0, 0, 0, 0]]        # 6 = 0b01_10
    assert m.col_pos.tolist() == [0, 2, 4, 6, 8, 10, 12, 14]   # pos cell; neg is + 1
    # 128 rows x 3 levels, signed: 10 bits; the design's 8-bit ADC drops 2 (LSB = 4 levels)
    assert dp.lossless_bits == 10 and dp.adc_transfer() == (4.0, -128.0, 127.0)


def test_adc_transfer_modes():
    assert _dp().adc_transfer() == (1.0, 0.0, 255.0)
    assert _dp(**{"nonideal.adc_bits": 6}).adc_transfer() == (4.0, 0.0, 63.0)
    assert _dp(**{"nonideal.adc_bits": 6, "nonideal.adc_range": "clip"}).adc_transfer() \
        == (1.0, 0.0, 63.0)


def _ctx(ni, rows=4, cols=3):
    dp = _dp()
    return devices.CellContext(ni, dp, devices.g_off_levels(ni, dp), np.arange(rows),
                               np.arange(cols))


def test_g_off_and_drift_and_ir_drop_formulas():
    ni = NonIdeal(g_off_frac=0.1)
    assert devices.g_off_levels(ni, _dp()) == pytest.approx(0.1 * 3 / 0.9)
    g = np.full((4, 3), 2.0)
    rng = np.random.default_rng(0)
    drifted = devices.drift(g, _ctx(NonIdeal(drift_nu=0.05, drift_time_s=1e4)), rng)
    assert np.allclose(drifted, 2.0 * 1e4 ** -0.05)
    ir = devices.ir_drop(g, _ctx(NonIdeal(wire_resistance_ohm=10.0, on_resistance_ohm=1e4)), rng)
    # cell (row 1, col 2): 3 row segments + (128 - 1) column segments of 10 ohm
    assert ir[1, 2] == pytest.approx(2.0 / (1 + 2.0 * (10 * (3 + 127) / 1e4) / 3))
    assert np.array_equal(devices.conductances(g, _ctx(NonIdeal()), rng), g)   # ideal: identity


def test_stuck_at_rates_and_values():
    ni = NonIdeal(stuck_off_rate=0.1, stuck_on_rate=0.2)
    g = np.full((400, 250), 1.0)
    out = devices.stuck_at(g, _ctx(ni, 400, 250), np.random.default_rng(1))
    assert abs(np.mean(out == 0.0) - 0.1) < 0.01 and abs(np.mean(out == 3.0) - 0.2) < 0.01


def test_programming_variation_std():
    g = np.full((300, 300), 1.5)
    out = devices.programming(g, _ctx(NonIdeal(programming_sigma=0.02), 300, 300),
                              np.random.default_rng(2))
    assert np.std(out - g) == pytest.approx(0.02 * 3, rel=0.03)
    logn = devices.programming(g, _ctx(NonIdeal(programming="lognormal", programming_sigma=0.1),
                                       300, 300), np.random.default_rng(2))
    assert np.std(np.log(logn / g)) == pytest.approx(0.1, rel=0.03)


def test_nonideal_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {ROOT / 'configs' / 'isaac.yaml'}\nnonideal:\n  g_off_frac: 1.5\n")
    with pytest.raises(ConfigError, match="nonideal.g_off_frac"):
        load_design(bad)
    bad.write_text(f"extends: {ROOT / 'configs' / 'isaac.yaml'}\nnonideal:\n  programing_sigma: 1\n")
    with pytest.raises(ConfigError, match="programming_sigma"):
        load_design(bad)
    bad.write_text(f"extends: {ROOT / 'configs' / 'isaac.yaml'}\nnonideal:\n  adc_range: round\n")
    with pytest.raises(ConfigError, match="adc_range"):
        load_design(bad)
