"""Operation units (crossbar.ou_rows / ou_cols) and ADC trade-offs, in every fidelity.

Expected figures are worked out by hand in each test from the rules in docs/mapping.md
(operation units) and docs/components.md (ADC), not through the counting code.
"""

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, isaac_with  # noqa: E402

from pimsim.arch import rollup  # noqa: E402
from pimsim.config import load_design  # noqa: E402
from pimsim.errors import ConfigError  # noqa: E402
from pimsim.sim import simulate  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OU16 = dict(precision={"weight_bits": 8, "input_bits": 8},
            crossbar={"ou_rows": 16, "ou_cols": 16, "read_cycle_ns": 10})


FETCH_NS = 2 * 40 * 8 / (38.4 * 8)     # one position's 320 input bits in and out of eDRAM


def _layer_net():
    # linear 40 -> 10: one position, 40 rows, 10 weights x 4 cells (8 bits, 2 bits/cell,
    # offset) = 40 columns, one crossbar (128 x 128)
    return NetBuilder("small", (40, 1, 1)).linear("fc", 10).build()


@pytest.mark.parametrize("fidelity", ["analytic", "fast", "event"])
def test_ou16_counts_and_cycles_by_hand(fidelity):
    arch = isaac_with(**OU16)
    d = arch.design
    assert (d.crossbar.ou_rows, d.crossbar.ou_cols) == (16, 16)
    # lossless ADC for 16 rows, ISAAC's rule: log2(16) + 1 + 2 - 1 - 1 (encoding) = 5 bits
    assert d.adc.bits == 5
    r = simulate(_layer_net(), arch, fidelity=fidelity, images=1)
    fc = r.layers[0]
    cycles = 8                      # 8 input bits, 1-bit DAC
    nr, nc = math.ceil(40 / 16), math.ceil(40 / 16)       # 3 row groups x 3 column groups
    assert fc.crossbar_reads == cycles * nr * nc == 72    # one OU read each
    assert fc.adc_conversions == cycles * nr * 40 == 960  # every row group's partial sums
    assert fc.counts["dac.drive"] == cycles * 40 * nc     # rows driven once per column group
    assert fc.counts["shift_add.accumulate"] == fc.counts["sample_hold.sample"] == 960
    if fidelity == "analytic":
        assert fc.cycles == 72
        # one OU read: max(10 ns read, 16 columns / 1 ADC at 1.28 GS/s = 12.5 ns), after
        # the input's fetch from eDRAM (40 x 8 bits written and read at 38.4 GB/s)
        assert fc.time_ns == pytest.approx(72 * 12.5 + FETCH_NS)


def test_whole_array_ou_is_isaac():
    plain = simulate(_layer_net(), isaac_with(), fidelity="analytic")
    whole = simulate(_layer_net(), isaac_with(crossbar={"ou_rows": 128, "ou_cols": 128}),
                     fidelity="analytic")
    assert plain.as_dict() == whole.as_dict()
    # 16 cycles x 1 read of the whole crossbar, 16 x 64 conversions (16-bit: 8 cells x 8)
    assert plain.layers[0].crossbar_reads == 16
    assert plain.layers[0].adc_conversions == 16 * 80


def test_adc_below_lossless_needs_a_stated_clipping_mode():
    with pytest.raises(ConfigError, match="adc.clip: saturate"):
        isaac_with(**OU16, adc={"bits": 3})


def test_adc_below_lossless_is_accepted_and_cheaper():
    ref = isaac_with(**OU16)                                  # 5 bits, lossless
    low = isaac_with(precision=OU16["precision"], crossbar=OU16["crossbar"],
                     adc={"bits": 3, "clip": "saturate", "sample_rate_GSps": "auto"})
    auto = isaac_with(precision=OU16["precision"], crossbar=OU16["crossbar"],
                      adc={"sample_rate_GSps": "auto"})
    assert low.design.adc.bits == 3 and low.design.adc.clip == "saturate"
    assert low.design.adc.bits < low.design.ou_lossless_adc_bits == 5
    # SAR: a conversion takes bits x the bit-cycle of ISAAC's ADC (1 / (1.28 GS/s x 8))
    bit_ns = 1 / (1.28 * 8)
    assert auto.latency_ns("adc", "convert") == pytest.approx(5 * bit_ns)
    assert low.latency_ns("adc", "convert") == pytest.approx(3 * bit_ns)
    assert low.energy_pJ("adc", "convert") < auto.energy_pJ("adc", "convert")
    assert ref.energy_pJ("adc", "convert") == auto.energy_pJ("adc", "convert")


def test_fewer_adc_bits_more_throughput_when_the_adc_is_the_bottleneck():
    # 128-column OUs with ISAAC's single ADC: the conversion (128 x bits x bit-cycle) is
    # longer than a 10 ns read, so fewer bits shorten every read
    net = _layer_net()
    base = dict(precision=OU16["precision"], crossbar={"ou_rows": 16, "read_cycle_ns": 10})
    hi = isaac_with(**base, adc={"sample_rate_GSps": "auto"})
    lo = isaac_with(**base, adc={"bits": 4, "clip": "saturate", "sample_rate_GSps": "auto"})
    rh = simulate(net, hi, fidelity="analytic")
    rl = simulate(net, lo, fidelity="analytic")
    bit_ns = 1 / (1.28 * 8)
    # 3 row groups x 1 column group x 8 cycles = 24 reads, each converting the 40 used
    # columns one after another (bits x bit-cycle each), after the input's fetch
    assert rh.layers[0].time_ns == pytest.approx(24 * 40 * 5 * bit_ns + FETCH_NS)
    assert rl.layers[0].time_ns == pytest.approx(24 * 40 * 4 * bit_ns + FETCH_NS)
    assert rl.total.throughput_images_per_s > rh.total.throughput_images_per_s
    assert rl.total.energy_breakdown_pJ["adc"] < rh.total.energy_breakdown_pJ["adc"]
    for fid in ("fast", "event"):
        assert (simulate(net, lo, fidelity=fid).total.interval_ns
                < simulate(net, hi, fidelity=fid).total.interval_ns)


def test_ou_read_energy_is_the_ous_share_of_the_array():
    whole = isaac_with()
    ou = isaac_with(crossbar={"ou_rows": 16, "ou_cols": 16})
    assert ou.energy_pJ("crossbar", "read") == pytest.approx(
        whole.energy_pJ("crossbar", "read") * (16 * 16) / (128 * 128))
    # the array's area is the whole array's either way; the ADC shrinks (5 bits, lossless)
    assert ou.parts["crossbar"].area_mm2 == whole.parts["crossbar"].area_mm2
    assert rollup(ou).ima_area_mm2 < rollup(whole).ima_area_mm2


def test_shipped_ou_design_points_load():
    for name in ("era_bs.yaml", "sre.yaml"):
        d = load_design(REPO / "configs" / name)
        assert (d.crossbar.ou_rows, d.crossbar.ou_cols) == (16, 16)
        assert d.adc.bits == 5
        assert d.adc.sample_rate_GSps == pytest.approx(1.28 * 8 / 5)


def test_adc_shared_by_two_crossbars_area_and_throughput():
    one = isaac_with()
    two = isaac_with(adc={"shared_by": 2})
    adc_mm2 = one.parts["adc"].area_mm2
    # 8 crossbars per IMA, one ADC each -> 4 ADCs per IMA
    assert two.counts["adc"] == ("ima", 4)
    assert rollup(two).ima_area_mm2 == pytest.approx(rollup(one).ima_area_mm2 - 4 * adc_mm2)
    # two full crossbars (row tiles) in one copy: one bank when shared by 2 (a crossbar
    # alone in its bank converts alone in event: tests/sim/test_event_model.py)
    net = NetBuilder("two", (256, 1, 1)).linear("fc", 16).build()
    fetch = 2 * 256 * 16 / (38.4 * 8)
    for fid in ("analytic", "fast", "event"):
        r1, r2 = (simulate(net, a, fidelity=fid, images=2) for a in (one, two))
        if fid == "analytic":
            # ISAAC converts 128 columns in one 100 ns read; a bank shared by 2 crossbars
            # converts them in turn: 200 ns per read, the ADC is the bottleneck
            assert r1.layers[0].time_ns == pytest.approx(16 * 100 + fetch)
            assert r2.layers[0].time_ns == pytest.approx(16 * 200 + fetch)
        assert r2.total.throughput_images_per_s < r1.total.throughput_images_per_s
        assert r2.total.adc_conversions == r1.total.adc_conversions


def test_adc_sharing_costs_no_throughput_when_the_read_is_longer():
    # a 300 ns read: two crossbars' conversions (2 x 100 ns) fit in it
    slow = dict(crossbar={"read_cycle_ns": 300})
    one = isaac_with(**slow)
    two = isaac_with(**slow, adc={"shared_by": 2})
    net = NetBuilder("one", (128, 1, 1)).linear("fc", 16).build()
    r1, r2 = (simulate(net, a, fidelity="analytic") for a in (one, two))
    assert r2.total.throughput_images_per_s == r1.total.throughput_images_per_s
    assert rollup(two).chip_area_mm2 < rollup(one).chip_area_mm2
