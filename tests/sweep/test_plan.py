"""Expanding a sweep: skipped/invalid combinations, 'where', content keys, baselines."""

import shutil

from pimsim.sweep.plan import BASELINE, INVALID, PLANNED, POINT, SKIPPED, expand
from pimsim.sweep.spec import load_sweep

from .conftest import ROOT, RESNET20, VGG16, sweep_dict


def test_grid_order_skips_and_baseline(write_sweep):
    points, excluded = expand(load_sweep(write_sweep()))
    grid = [p for p in points if p["role"] == POINT]
    assert excluded == 0 and len(grid) == 6
    assert [(p["axes"]["xbar"], p["axes"]["adc.bits"]) for p in grid] == \
        [(128, "auto"), (128, 8), (128, 9), (256, "auto"), (256, 8), (256, 9)]
    (skipped,) = [p for p in grid if p["status"] == SKIPPED]
    assert skipped["axes"] == {"xbar": 256, "adc.bits": 8, "trace": "resnet20_cifar_shapes"}
    assert "ADC resolution too low" in skipped["reason"] and skipped["key"] is None
    (base,) = [p for p in points if p["role"] == BASELINE]
    assert base["trace"] == "resnet20_cifar_shapes" and base["spec"]["overrides"] == {}
    assert grid[3]["params"]["adc_bits"] == 9 and grid[3]["params"]["crossbar_rows"] == 256


def test_invalid_without_skip_invalid(write_sweep):
    points, _ = expand(load_sweep(write_sweep(constraints={})))
    assert [p["status"] for p in points].count(INVALID) == 1
    assert SKIPPED not in [p["status"] for p in points]


def test_where_excludes(write_sweep):
    points, excluded = expand(load_sweep(write_sweep(constraints={"where": ["adc.bits != auto"],
                                                                  "skip_invalid": True})))
    assert excluded == 2
    assert all(p["axes"]["adc.bits"] != "auto" for p in points if p["role"] == POINT)


def test_equal_resolved_designs_share_a_key(write_sweep):
    points, _ = expand(load_sweep(write_sweep()))
    key = {(p["axes"].get("xbar"), p["axes"].get("adc.bits")): p["key"] for p in points}
    # 128 rows: 'auto' resolves to 8 bits, and that is ISAAC itself, the baseline
    assert key[(128, "auto")] == key[(128, 8)] == key[(None, None)]
    assert key[(256, "auto")] == key[(256, 9)]
    assert len({key[(128, 8)], key[(128, 9)], key[(256, 9)]}) == 3


def test_key_follows_trace_content_and_fidelity(write_sweep, tmp_path):
    copy = tmp_path / "t.npz"
    shutil.copyfile(RESNET20, copy)
    a = expand(load_sweep(write_sweep(axes={"trace": [str(RESNET20)]})))[0][0]["key"]
    b = expand(load_sweep(write_sweep(axes={"trace": [str(copy)]})))[0][0]["key"]
    assert a == b                                   # same bytes, same key
    shutil.copyfile(VGG16, copy)
    c = expand(load_sweep(write_sweep(axes={"trace": [str(copy)]})))[0][0]["key"]
    event = write_sweep(axes={"trace": [str(RESNET20)]}, fidelity="event")
    d = expand(load_sweep(event))[0][0]["key"]
    assert len({a, c, d}) == 3


def test_baseline_none_and_per_trace(write_sweep):
    axes = dict(sweep_dict()["axes"], trace=[str(RESNET20), str(VGG16)])
    points, _ = expand(load_sweep(write_sweep(axes=axes)))
    assert [p["trace"] for p in points if p["role"] == BASELINE] == ["resnet20_cifar_shapes",
                                                                       "vgg16_shapes"]
    points, _ = expand(load_sweep(write_sweep(baseline="none")))
    assert all(p["role"] == POINT for p in points)


def test_shipped_xbar_adc_plan():
    points, _ = expand(load_sweep(ROOT / "configs" / "sweeps" / "xbar_adc.yaml"))
    grid = [p for p in points if p["role"] == POINT]
    assert len(grid) == 32
    assert sum(p["status"] == SKIPPED for p in grid) == 6      # 256/8, 512/8, 512/9 x 2 traces
    assert all(p["status"] == PLANNED for p in points if p["status"] != SKIPPED)


def test_shipped_cell_precision_plan():
    points, _ = expand(load_sweep(ROOT / "configs" / "sweeps" / "cell_precision.yaml"))
    grid = [p for p in points if p["role"] == POINT]
    skipped = {(p["axes"]["crossbar.bits_per_cell"], p["axes"]["precision.weight_bits"])
               for p in grid if p["status"] == SKIPPED}
    assert len(grid) == 16 and skipped == {(3, 4), (3, 8), (3, 16)}


def test_where_on_trace_stem_and_typo_notes(write_sweep):
    from pimsim.sweep.plan import always_rejected
    axes = dict(sweep_dict()["axes"], trace=[str(RESNET20), str(VGG16)])
    axes["crossbar.bits_per_cell"] = [2, 5]            # 5 divides no 16-bit weight: a typo
    sweep = load_sweep(write_sweep(axes=axes, constraints={"skip_invalid": True,
                                                           "where": ["trace == vgg16_shapes"]}))
    points, excluded = expand(sweep)
    assert excluded == 12
    assert {p["trace"] for p in points} == {"vgg16_shapes"}
    notes = always_rejected(sweep, points)
    assert len(notes) == 1 and notes[0].startswith("crossbar.bits_per_cell = 5 was rejected")
