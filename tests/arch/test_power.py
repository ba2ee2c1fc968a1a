"""Static energy follows activity (issue 12, item 5): power gating, off-chip links
costing per bit plus idle power, the host's traffic, peak power unchanged.

Expected figures are computed here by hand from the YAML numbers of configs/isaac.yaml
(2600 mW per link at 6.4 GB/s; split 1300 mW idle + 25.390625 pJ/bit)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, isaac_arch, isaac_with  # noqa: E402

from pimsim.arch.power import busy_unit_ns, static_energy_pJ  # noqa: E402
from pimsim.arch.rollup import rollup  # noqa: E402
from pimsim.sim import evaluate, simulate  # noqa: E402
from pimsim.workload import load_trace  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LINK_BW = 6.4 * 8                 # bits per ns
CONFIGS = ROOT / "configs"


def _one():
    return NetBuilder("one", (128, 1, 1)).linear("fc", 16).build()


HOST_BITS = 128 * 16 + 16 * 16    # the input vector in, the 16 results out (16-bit)


def test_gated_link_pays_its_idle_power_only_while_sending():
    r = evaluate(_one(), isaac_arch())
    t = r.total
    assert t.offchip_bits == HOST_BITS
    assert t.static_breakdown_pJ["offchip_link"] == pytest.approx(1300.0 * HOST_BITS / LINK_BW)
    assert t.dynamic_breakdown_pJ["offchip_link"] == pytest.approx(25.390625 * HOST_BITS)
    # gated, a bit costs the link's full 2600 mW for its 1 / 51.2 ns
    assert t.energy_breakdown_pJ["offchip_link"] == pytest.approx(2600.0 * HOST_BITS / LINK_BW)


def test_ungated_link_pays_idle_power_for_the_whole_interval():
    arch = isaac_with(components={"offchip_link": {"power_gated": False}})
    t = evaluate(_one(), arch).total
    assert t.static_breakdown_pJ["offchip_link"] == pytest.approx(4 * 1300.0 * t.interval_ns)
    assert t.dynamic_breakdown_pJ["offchip_link"] == pytest.approx(25.390625 * HOST_BITS)


def test_gated_energy_does_not_depend_on_the_idle_split():
    # all 2600 mW as idle power, nothing per bit: a gated link costs the same per image
    arch = isaac_with(components={"offchip_link": {"static_power_mW": 2600.0,
                                                   "transfer_energy_pJ": 0.0}})
    a, b = evaluate(_one(), isaac_arch()).total, evaluate(_one(), arch).total
    assert a.energy_pJ == pytest.approx(b.energy_pJ, rel=1e-12)
    assert b.static_energy_pJ == pytest.approx(2600.0 * HOST_BITS / LINK_BW)


def test_gating_any_unit_charges_its_busy_fraction():
    # give the ADCs 0.1 mW of leakage each; ungated they leak all interval long, gated
    # only for the conversions' time at 1.28 GS/s
    leak = {"adc": {"static_power_mW": 0.1}}
    gated = {"adc": {"static_power_mW": 0.1, "power_gated": True}}
    a = evaluate(_one(), isaac_with(components=leak)).total
    g = evaluate(_one(), isaac_with(components=gated)).total
    adcs_per_chip = 8 * 12 * 168
    assert a.static_breakdown_pJ["adc"] == pytest.approx(0.1 * adcs_per_chip * a.interval_ns)
    conversions = 16 * 128                       # 16 input bits x 128 columns, one crossbar
    assert g.static_breakdown_pJ["adc"] == pytest.approx(0.1 * conversions / 1.28)
    assert g.static_energy_pJ < a.static_energy_pJ
    # busy time never exceeds the units' time
    busy = busy_unit_ns(isaac_arch(), {"adc.convert": 1e15})
    arch = isaac_with(components=gated)
    capped = static_energy_pJ(arch, 1, {"adc.convert": 1e15}, 1000.0)["adc"]
    assert busy["adc"] > adcs_per_chip * 1000.0
    assert capped == pytest.approx(0.1 * adcs_per_chip * 1000.0)


def test_peak_power_still_counts_every_link():
    # pimsim area: 4 links x (1300 mW idle + 25.390625 pJ/bit x 51.2 bits/ns) = 10.4 W
    rows = {r.role: r for r in rollup(isaac_arch()).rows}
    assert rows["offchip_link"].power_mW == pytest.approx(10400.0)


def test_cnn_digits_link_energy_is_a_small_share():
    from pimsim.arch.compose import build_arch
    from pimsim.config.loader import load_design

    net = load_trace(ROOT / "traces" / "cnn_digits.npz").network
    arch = build_arch(load_design(CONFIGS / "isaac.yaml"))
    for fidelity in ("analytic", "fast"):
        t = simulate(net, arch, fidelity=fidelity).total
        assert t.chips == 1
        # the 8x8 input and 10 results, 16 bits each, are all that crosses a link
        assert t.offchip_bits == (64 + 10) * 16
        assert t.energy_breakdown_pJ["offchip_link"] <= 0.10 * t.energy_pJ


def test_no_links_is_fine_on_one_chip():
    arch = isaac_with(chip={"offchip_links": 0})
    for fidelity in ("analytic", "fast"):
        t = simulate(_one(), arch, fidelity=fidelity).total
        assert t.chips == 1 and t.offchip_bits == 0
        assert t.energy_breakdown_pJ["offchip_link"] == 0.0
        assert t.static_energy_pJ + t.dynamic_energy_pJ == pytest.approx(t.energy_pJ)


def test_era_bs_lower_dynamic_energy_lowers_the_total():
    # pimsim run configs/era_bs.yaml --trace traces/cnn_digits.npz
    #     --schedule configs/schedules/era_bs_full.yaml   vs the same without --schedule
    from pimsim.arch.compose import build_arch
    from pimsim.config.loader import load_design
    from pimsim.techniques.apply import overrides_for

    trace = ROOT / "traces" / "cnn_digits.npz"
    net = load_trace(trace).network
    arch = build_arch(load_design(CONFIGS / "era_bs.yaml"))
    ov = overrides_for(str(trace), arch.design, str(CONFIGS / "schedules" / "era_bs_full.yaml"))
    plain, era = simulate(net, arch).total, simulate(net, arch, overrides=ov).total
    assert era.dynamic_energy_pJ < plain.dynamic_energy_pJ
    assert era.energy_pJ < plain.energy_pJ
