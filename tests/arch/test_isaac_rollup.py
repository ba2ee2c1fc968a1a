"""Golden table: the ISAAC roll-up reproduces Table I / Table IV of Shafiee et al. 2016.

References (with their source) are in pimsim/report/isaac_reference.py; the model's
figures come from the per-unit component entries in configs/isaac.yaml and the counts of
the architecture, never from stored totals.
"""

import pytest

from pimsim.arch import rollup
from pimsim.report import isaac_reference as ref


@pytest.fixture(scope="module")
def roll(isaac_arch):
    return rollup(isaac_arch)


@pytest.mark.parametrize("role", sorted({**ref.IMA_ROWS, **ref.TILE_ROWS, **ref.CHIP_ROWS}))
def test_component_row_matches_table_1(roll, role):
    table = {**ref.IMA_ROWS, **ref.TILE_ROWS, **ref.CHIP_ROWS}
    _, _, count, power, area = table[role]
    ours = {r.role: r for r in roll.rows}[role]
    assert ours.count == count
    assert ours.power_mW == pytest.approx(power, rel=1e-6)
    assert ours.area_mm2 == pytest.approx(area, rel=1e-6)


def test_ima_totals(roll):
    # Table I prints 24.09 mW / 0.0131 mm^2; its rows add to 24.08 / 0.01312 (rounding).
    assert roll.ima_power_mW == pytest.approx(ref.IMA_TOTAL[0], rel=ref.TOTAL_TOLERANCE)
    assert roll.ima_area_mm2 == pytest.approx(ref.IMA_TOTAL[1], rel=ref.TOTAL_TOLERANCE)


def test_tile_totals_within_one_percent(roll):
    assert roll.tile_power_mW == pytest.approx(ref.TILE_TOTAL[0], rel=ref.TOTAL_TOLERANCE)
    assert roll.tile_area_mm2 == pytest.approx(ref.TILE_TOTAL[1], rel=ref.TOTAL_TOLERANCE)


def test_chip_totals_within_one_percent(roll):
    assert roll.chip_power_mW == pytest.approx(ref.CHIP_TOTAL[0], rel=ref.TOTAL_TOLERANCE)
    assert roll.chip_area_mm2 == pytest.approx(ref.CHIP_TOTAL[1], rel=ref.TOTAL_TOLERANCE)


def test_peak_efficiencies_within_five_percent(roll):
    # Peak: 16128 crossbars x 128 rows x 16 weights per 1.6 us = 41.3 TOPS.
    assert roll.peak_gops == pytest.approx(16128 * 128 * 16 * 2 / 1600)
    assert roll.peak_gops_per_mm2 == pytest.approx(ref.PEAK_CE, rel=ref.PEAK_TOLERANCE)
    assert roll.peak_gops_per_W == pytest.approx(ref.PEAK_PE, rel=ref.PEAK_TOLERANCE)


def test_adc_share_matches_papers_statement(roll):
    # ISAAC: "ADCs are 58% of tile power and 31% of tile area".
    adc = {r.role: r for r in roll.rows}["adc"]
    assert 12 * adc.power_mW / roll.tile_power_mW == pytest.approx(0.58, abs=0.01)
    assert 12 * adc.area_mm2 / roll.tile_area_mm2 == pytest.approx(0.31, abs=0.01)
