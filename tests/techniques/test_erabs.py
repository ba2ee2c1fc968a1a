"""ERA-BS: exponent quantization, bit flip (kernel = reference), and the technique on the
real cnn_digits trace: crossbars freed, run-time skips measured, accuracy evaluated."""

import numpy as np
import pytest

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.kernels.ou_stats import flip_release, ou_zero_stats
from pimsim.sim import evaluate
from pimsim.techniques.compact import cell_values
from pimsim.techniques.erabs import (ERABS, act_vectors, exponent_quantize, flip_columns,
                                     weights_from_cells)

from .conftest import CONFIGS, sched


def _span(v: int) -> int:
    """Bit positions from the leading one to the lowest one (the mantissa a value needs)."""
    return 0 if v == 0 else v.bit_length() - ((v & -v).bit_length() - 1)


def test_exponent_quantize_is_the_nearest_mantissa_exponent_value():
    m = np.arange(128)
    for terms in (1, 2, 3):
        q = exponent_quantize(m, terms, 127)
        ok = np.array([v for v in range(128) if _span(v) <= terms])
        assert all(_span(int(v)) <= terms for v in q)
        best = np.abs(ok[None, :] - m[:, None]).min(axis=1)
        assert np.all(np.abs(q - m) == best)       # nearest representable (ties either way)
    assert exponent_quantize(np.array([0]), 2, 127)[0] == 0


@pytest.mark.parametrize("cfg", ["era_bs.yaml", "isaac_8bit.yaml"])
@pytest.mark.parametrize("shape,budget,tol", [((1, 5, 3), 2, 1.0), ((2, 200, 7), 50, 0.2),
                                             ((1, 130, 1), 200, 0.05), ((1, 1, 1), 1, 1.0)])
def test_flip_kernel_matches_reference(cfg, shape, budget, tol):
    d = load_design(CONFIGS / cfg)
    rng = np.random.default_rng(sum(shape) + budget)
    w = rng.integers(-127, 128, size=shape) * (rng.random(shape) < 0.4)
    ref = weights_from_cells(flip_columns(cell_values(w, d), 128, budget, d, tol), d)
    got, live = flip_release(w.astype(np.int64), d.crossbar.bits_per_cell,
                             d.slices_per_weight, d.precision.signed_weights == "differential",
                             1 << (d.precision.weight_bits - 1), 128, budget, tol)
    np.testing.assert_array_equal(got, ref)
    cells = cell_values(got, d)
    for t in range(live.shape[1]):
        np.testing.assert_array_equal(live[:, t], (cells[:, t * 128:(t + 1) * 128] != 0).any(1))


@pytest.fixture(scope="module")
def full(cnn, era_design):
    s = sched("era_bs", weights={"quant": "exponent", "terms": 2, "flip_budget": 128,
                                 "flip_tolerance": 0.2},
              activations={"skip": True, "ou": [16, 16], "threshold": 0.02})
    return ERABS().apply(cnn, era_design, s)


def test_weights_free_crossbars_through_the_mapping(full, cnn, era_design):
    arch = build_arch(era_design)
    assert full.crossbars_after < full.crossbars_before
    base, res = evaluate(cnn.network, arch), evaluate(cnn.network, arch, full.overrides)
    per_copy = {lr.name: lr.crossbars_per_copy for lr in res.layers}
    for e in full.layers:
        assert per_copy[e.name] == e.crossbars_after
    assert res.total.dynamic_energy_pJ < base.total.dynamic_energy_pJ
    assert res.total.counts["zero_detector.detect"] > 0
    assert res.total.counts["index_buffer.read"] > 0
    assert 0 < full.weight_rel_error < 1


def test_skip_fractions_are_the_kernel_statistics(full, cnn, era_design):
    e0 = next(e for e in full.layers if e.name == "_0")   # 9 rows: one row tile, one crossbar
    tr = full.act_transforms["_0"]
    vec = tr(act_vectors(cnn, cnn.network.layer("_0")))
    st = ou_zero_stats(vec, 8, 128, 16)
    assert e0.skip_cycles == pytest.approx(st["xb"][0])
    assert e0.skip_conversions == pytest.approx(st["xb"][0])
    assert e0.skip_drives == pytest.approx(st["rows"][0])


def test_accuracy_is_measured_on_held_out_digits(full, cnn):
    assert full.accuracy_images == 360
    assert full.accuracy_before == pytest.approx(cnn.meta["test_accuracy"], abs=2 / 360)
    assert abs(full.accuracy_after - full.accuracy_before) < 0.05


def test_destructive_schedules_lower_accuracy(cnn, era_design):
    kill_acts = ERABS().apply(cnn, era_design, sched("era_bs", activations={
        "skip": True, "threshold": 1.0}), limit=120)
    assert kill_acts.accuracy_after < 0.3 < kill_acts.accuracy_before
    kill_w = ERABS().apply(cnn, era_design, sched("era_bs", weights={
        "quant": "exponent", "terms": 1, "flip_budget": 1000, "flip_tolerance": 1.0}), limit=120)
    assert kill_w.accuracy_after < kill_w.accuracy_before - 0.2
