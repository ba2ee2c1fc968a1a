"""The evaluator hooks: no sparsity = the baseline exactly; skips and support counts act
through the mapped workload."""

import dataclasses

import numpy as np
import pytest

from pimsim.arch import build_arch
from pimsim.errors import ConfigError
from pimsim.mapping.network_map import LayerOverride
from pimsim.mapping.tiling import Tiling
from pimsim.sim import evaluate
from pimsim.techniques.apply import TECHNIQUES

from .conftest import sched


def _same(a, b):
    assert a.as_dict() == b.as_dict()


@pytest.mark.parametrize("technique,settings", [
    ("era_bs", {}),
    ("era_bs", {"weights": {"quant": "uniform", "bits": 8, "flip_budget": 0}}),
    ("era_bs", {"activations": {"skip": False, "threshold": 0.0}}),
    ("pim_prune", {"pruning": {"granularity": "pim_prune", "ratio": 0.0}}),
    ("cim_pruning", {"pruning": {"granularity": "ou_block", "ratio": 0.0}}),
])
def test_zero_sparsity_is_the_baseline_exactly(technique, settings, cnn, era_design):
    arch = build_arch(era_design)
    out = TECHNIQUES[technique]().apply(cnn, era_design, sched(technique, **settings),
                                        accuracy=False)
    assert out.overrides == {} and out.weights == {}
    _same(evaluate(cnn.network, arch, out.overrides), evaluate(cnn.network, arch))


def test_default_overrides_change_nothing(cnn, era_design):
    arch = build_arch(era_design)
    ov = {lay.name: LayerOverride() for lay in cnn.network.mvm_layers}
    _same(evaluate(cnn.network, arch, ov), evaluate(cnn.network, arch))


def test_skip_fractions_scale_counts_and_cycles(cnn, era_design):
    arch = build_arch(era_design)
    base = evaluate(cnn.network, arch)
    ov = {"_3": LayerOverride(skip_reads=0.25, skip_drives=0.5, skip_conversions=0.125,
                              skip_cycles=0.5, extra_counts={"zero_detector.detect": 1000.0})}
    res = evaluate(cnn.network, arch, ov)
    b = {lr.name: lr for lr in base.layers}
    r = {lr.name: lr for lr in res.layers}
    assert r["_3"].counts["crossbar.read"] == pytest.approx(0.75 * b["_3"].counts["crossbar.read"])
    assert r["_3"].counts["dac.drive"] == pytest.approx(0.5 * b["_3"].counts["dac.drive"])
    assert r["_3"].adc_conversions == pytest.approx(0.875 * b["_3"].adc_conversions)
    # skipped cycles halve a copy's reads per position; replication balances stage
    # times, so the faster layer may get fewer copies: cycles per copy by its own count
    positions = 8 * 8                       # _3: a 3x3 conv over 8 x 8 (cnn_digits)
    per_copy = -(-positions // r["_3"].replication)
    assert r["_3"].cycles == int(np.ceil(per_copy * arch.design.input_cycles * 0.5))
    assert r["_3"].replication <= b["_3"].replication
    det = 1000.0 * arch.energy_pJ("zero_detector", "detect")
    assert r["_3"].energy_breakdown_pJ["zero_detector"] == pytest.approx(det)
    assert res.total.counts["zero_detector.detect"] == 1000.0
    # other layers: unchanged, with a zero count of the support action
    assert {k: v for k, v in r["_8"].counts.items() if k in b["_8"].counts} == b["_8"].counts
    assert r["_8"].counts["zero_detector.detect"] == 0.0
    assert r["_8"].energy_pJ == b["_8"].energy_pJ and r["_8"].time_ns == b["_8"].time_ns


def test_support_counts_need_the_role(cnn, isaac_arch):
    ov = {"_3": LayerOverride(extra_counts={"zero_detector.detect": 1.0})}
    with pytest.raises(ConfigError, match="zero_detector"):
        evaluate(cnn.network, isaac_arch, ov)


def test_tiling_override_frees_crossbars(cnn, era_design):
    arch = build_arch(era_design)
    one = np.ones(1, np.int64)
    t = Tiling(row_tiles=1, col_tiles=1, groups_per_crossbar=1, rows=one * 100,
               cols=one * 128, outs=one * 16, weights=one * 1600, merges_per_position=0)
    base = evaluate(cnn.network, arch)
    res = evaluate(cnn.network, arch, {"_8": LayerOverride(tiling=t)})
    b = {lr.name: lr for lr in base.layers}["_8"]
    r = {lr.name: lr for lr in res.layers}["_8"]
    assert r.crossbars_per_copy == 1 < b.crossbars_per_copy
    assert r.adc_conversions < b.adc_conversions


def test_layer_map_defaults_are_neutral():
    from pimsim.mapping.network_map import LayerMap

    f = {x.name: x.default for x in dataclasses.fields(LayerMap)
         if x.default is not dataclasses.MISSING}
    assert f == {"skip_reads": 0.0, "skip_drives": 0.0, "skip_conversions": 0.0,
                 "skip_cycles": 0.0, "extra_counts": (), "read_energy_scale": 1.0,
                 # the generic unit path, shared RNN crossbars, written matmuls: no work
                 "unit_role": "", "unit_action": "", "unit_ops": 0, "shared": False,
                 "write_ns": 0.0, "written_cells": 0,
                 # placement: -1 = no IMA of its own (non-MVM layers): the tile boundary
                 "first_ima": -1}
