"""Scaling laws move costs in the documented direction, and equal 1 at the reference."""

import pytest

from pimsim.components.adc import SABERI_TABLE, SarADC
from pimsim.components.crossbar import ReRAMCrossbar
from pimsim.components.dac import DAC
from pimsim.components.register_file import Register
from pimsim.components.shift_add import ShiftAdd
from pimsim.components.write_driver import WriteDriver

ADC_TABLE = {"model": "sar_adc", "ref_bits": 8, "ref_sample_rate_GSps": 1.28, "law": "saberi",
             "convert_energy_pJ": 1.5625, "area_um2": 1200.0, "static_power_mW": 0.0}


def adc(bits, rate=1.28, law="saberi"):
    return SarADC({**ADC_TABLE, "law": law}, bits=bits, sample_rate_GSps=rate)


def test_adc_reference_point_is_identity():
    a = adc(8)
    assert a.energy_pJ("convert") == pytest.approx(1.5625)
    assert a.area_mm2 == pytest.approx(1200e-6)


@pytest.mark.parametrize("law", ["saberi", "walden"])
def test_adc_costs_grow_with_bits(law):
    e = [adc(b, law=law).energy_pJ("convert") for b in range(4, 13)]
    a = [adc(b, law=law).area_mm2 for b in range(4, 13)]
    assert all(x < y for x, y in zip(e, e[1:])) and all(x < y for x, y in zip(a, a[1:]))


def test_saberi_law_follows_its_table():
    for bits, (energy, area) in SABERI_TABLE.items():
        assert adc(bits).energy_pJ("convert") == pytest.approx(1.5625 * energy / 1.67, rel=1e-9)
        assert adc(bits).area_mm2 == pytest.approx(1200e-6 * area / 1200.0, rel=1e-9)


def test_walden_doubles_per_bit_and_grows_faster_than_saberi():
    assert adc(9, law="walden").energy_pJ("convert") == pytest.approx(2 * 1.5625)
    assert adc(12, law="walden").energy_pJ("convert") > adc(12).energy_pJ("convert")


def test_adc_rate_scales_area_not_energy():
    fast = adc(8, rate=2.56)
    assert fast.area_mm2 == pytest.approx(2 * 1200e-6)
    assert fast.energy_pJ("convert") == pytest.approx(1.5625)
    assert fast.latency_ns("convert") < adc(8).latency_ns("convert")


def test_crossbar_scales_with_cells():
    table = {"ref_rows": 128, "ref_cols": 128, "read_energy_pJ": 30.0, "area_um2": 25.0}
    big = ReRAMCrossbar(table, rows=256, cols=256, read_cycle_ns=100)
    assert big.energy_pJ("read") == pytest.approx(120.0) and big.area_mm2 == pytest.approx(100e-6)


def test_dac_unit_elements():
    table = {"ref_bits": 1, "drive_energy_pJ": 0.390625, "area_um2": 0.166015625}
    assert DAC(table, bits=2, read_cycle_ns=100).energy_pJ("drive") == pytest.approx(3 * 0.390625)


def test_shift_add_and_register_scale_linearly():
    sa = ShiftAdd({"ref_width_bits": 15, "accumulate_energy_pJ": 0.02, "area_um2": 60.0},
                  width_bits=30, clock_GHz=1.2)
    assert sa.area_mm2 == pytest.approx(120e-6) and sa.energy_pJ("accumulate") == pytest.approx(0.04)
    reg = Register({"ref_bytes": 2048, "access_energy_pJ": 0.06, "area_um2": 2100.0},
                   size_bytes=4096, clock_GHz=1.2)
    assert reg.area_mm2 == pytest.approx(4200e-6) and reg.energy_pJ("access") == pytest.approx(0.06)


def test_multilevel_cells_need_more_write_pulses():
    table = {"pulse_ns": 100.0, "ref_bits_per_cell": 2, "write_energy_pJ": 2.0, "area_um2": 0.0}
    one, two, four = (WriteDriver(table, bits_per_cell=b) for b in (1, 2, 4))
    assert one.energy_pJ("write") < two.energy_pJ("write") < four.energy_pJ("write")
    assert one.latency_ns("write") < two.latency_ns("write") < four.latency_ns("write")


def test_unknown_action_is_a_clear_error():
    with pytest.raises(KeyError, match="has no action"):
        adc(8).energy_pJ("read")
