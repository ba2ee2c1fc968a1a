"""The engine honours the technique hooks (LayerOverride) exactly as the closed form does."""

from dataclasses import replace
from pathlib import Path

import pytest

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.errors import ConfigError
from pimsim.mapping.network_map import LayerOverride
from pimsim.sim import simulate
from pimsim.workload.trace import load_network

ROOT = Path(__file__).resolve().parents[2]
CNN = ROOT / "traces" / "cnn_digits.npz"
ERA_BS = ROOT / "configs" / "era_bs_allrows.yaml"
ISAAC = ROOT / "configs" / "isaac.yaml"
FULL = ROOT / "configs" / "schedules" / "era_bs_full.yaml"


@pytest.fixture(scope="module")
def net():
    return load_network(CNN)


@pytest.fixture(scope="module")
def era_arch():
    return build_arch(load_design(ERA_BS))


@pytest.fixture(scope="module")
def isaac_arch():
    return build_arch(load_design(ISAAC))


@pytest.fixture(scope="module")
def era_overrides():
    from pimsim.techniques.apply import overrides_for
    return overrides_for(CNN, ERA_BS, FULL)


def _hand(net, cycles=0.5):
    mvm = [lay.name for lay in net.mvm_layers]
    ov = {n: LayerOverride(skip_reads=0.3, skip_drives=0.2, skip_conversions=0.25,
                           skip_cycles=cycles) for n in mvm}
    ov[mvm[0]] = replace(ov[mvm[0]], skip_cycles=0.4,
                         extra_counts={"zero_detector.detect": 100.0, "sparsity_control.op": 7.0})
    return ov


def _all(net, arch, ov):
    return {f: simulate(net, arch, fidelity=f, overrides=ov)
            for f in ("analytic", "fast", "event")}


def _same_counts(rs):
    a = rs["analytic"]
    for f in ("fast", "event"):
        r = rs[f]
        assert r.total.counts == a.total.counts, f
        assert r.total.dynamic_energy_pJ == a.total.dynamic_energy_pJ, f
        for x, y in zip(r.layers, a.layers):
            assert x.counts == y.counts, (f, x.name)
            assert x.energy_pJ == y.energy_pJ, (f, x.name)
            assert x.energy_breakdown_pJ == y.energy_breakdown_pJ, (f, x.name)
    e, f_ = rs["event"].total, rs["fast"].total
    assert e.latency_ns == pytest.approx(f_.latency_ns, rel=1e-9)
    assert e.interval_ns == pytest.approx(f_.interval_ns, rel=1e-9)


def test_era_bs_full_schedule_identical_counts(net, era_arch, era_overrides):
    assert any(o.skip_cycles for o in era_overrides.values())
    assert any(o.extra_counts for o in era_overrides.values())
    rs = _all(net, era_arch, era_overrides)
    _same_counts(rs)
    assert rs["fast"].total.counts["zero_detector.detect"] > 0
    for lr, la in zip(rs["fast"].layers, rs["analytic"].layers):
        assert lr.cycles == la.cycles, lr.name      # one position per chunk on cnn_digits


def test_hand_built_override_identical_counts(net, era_arch):
    rs = _all(net, era_arch, _hand(net))
    _same_counts(rs)
    dense = simulate(net, era_arch, fidelity="analytic")
    first = net.mvm_layers[0].name
    a = {lr.name: lr for lr in rs["fast"].layers}[first]
    d = {lr.name: lr for lr in dense.layers}[first]
    assert a.counts["crossbar.read"] == d.counts["crossbar.read"] * 0.7
    assert a.counts["adc.convert"] == d.counts["adc.convert"] * 0.75
    assert a.counts["zero_detector.detect"] == 100.0


def test_zero_overrides_change_nothing(net, isaac_arch):
    zero = {lay.name: LayerOverride() for lay in net.mvm_layers}
    for f in ("analytic", "fast", "event"):
        plain = simulate(net, isaac_arch, fidelity=f)
        same = simulate(net, isaac_arch, fidelity=f, overrides=zero)
        p, s = plain.as_dict(), same.as_dict()
        assert p == s, f


def test_skipped_cycles_lower_latency_and_interval(net, era_arch, isaac_arch, era_overrides):
    half = {lay.name: LayerOverride(skip_cycles=0.5) for lay in net.mvm_layers}
    for f in ("fast", "event", "analytic"):
        skip = simulate(net, isaac_arch, fidelity=f, overrides=half)
        plain = simulate(net, isaac_arch, fidelity=f)
        assert skip.total.latency_ns < plain.total.latency_ns, f
        assert skip.total.interval_ns < plain.total.interval_ns, f
        assert skip.total.counts == plain.total.counts        # skip_cycles is timing only
    for f in ("fast", "event"):
        skip = simulate(net, era_arch, fidelity=f, overrides=_hand(net))
        noskip = simulate(net, era_arch, fidelity=f, overrides=_hand(net, cycles=0.0))
        assert skip.total.latency_ns < noskip.total.latency_ns, f
        assert skip.total.counts == noskip.total.counts
        # the ERA-BS schedule's skipped cycles against the same workload without them
        no_cyc = {k: replace(v, skip_cycles=0.0) for k, v in era_overrides.items()}
        a = simulate(net, era_arch, fidelity=f, overrides=era_overrides)
        b = simulate(net, era_arch, fidelity=f, overrides=no_cyc)
        assert a.total.latency_ns < b.total.latency_ns, f
        assert a.engine_stats.component_ops["crossbar.read"] == \
            pytest.approx(a.total.counts["crossbar.read"] * a.engine_stats.work_images)


def test_every_read_skipped(net, era_arch, tmp_path):
    ov = {lay.name: LayerOverride(skip_cycles=1.0, skip_reads=1.0) for lay in net.mvm_layers}
    # units that only fetch: event's per-position bus requests of copies sharing a tile
    # interleave (docs/engine.md), so compare with a unit's fields in one request, as fast
    one = tmp_path / "one_request.yaml"
    one.write_text(f"extends: {ERA_BS}\ntile:\n  bus_request_positions: 0\n")
    arch = build_arch(load_design(one))
    rs = {f: simulate(net, arch, fidelity=f, overrides=ov) for f in ("fast", "event")}
    assert rs["fast"].total.counts == rs["event"].total.counts
    assert rs["fast"].total.counts["crossbar.read"] == 0.0
    assert rs["event"].total.latency_ns == pytest.approx(rs["fast"].total.latency_ns, rel=1e-9)
    assert all(lr.cycles == 0 for lr in rs["fast"].layers)


def test_support_role_missing_is_config_error(net, isaac_arch):
    ov = {net.mvm_layers[0].name: LayerOverride(extra_counts={"zero_detector.detect": 1.0})}
    for f in ("analytic", "fast"):
        with pytest.raises(ConfigError, match="zero_detector"):
            simulate(net, isaac_arch, fidelity=f, overrides=ov)
