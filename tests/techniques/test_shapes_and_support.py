"""Shape-only networks run with stand-in tensors; support components are registered."""

import time

import pytest

from pimsim.arch import build_arch, rollup
from pimsim.config import load_design
from pimsim.techniques.apply import apply_schedule, open_trace

from .conftest import CONFIGS, TRACES


def test_support_roles_have_area_and_energy():
    arch = build_arch(load_design(CONFIGS / "era_bs.yaml"))
    for role, action in (("zero_detector", "detect"), ("sparsity_control", "op"),
                         ("index_buffer", "read")):
        assert arch.counts[role][0] == "ima"
        assert arch.parts[role].area_mm2 > 0 and arch.energy_pJ(role, action) > 0
    rows = {r.role: r for r in rollup(arch).rows}
    for role in ("zero_detector", "sparsity_control", "index_buffer"):
        per_unit = arch.parts[role].area_mm2
        assert rows[role].area_mm2 == pytest.approx(arch.counts[role][1] * per_unit)
    ima = sum(r.area_mm2 for r in rows.values() if r.level == "ima")
    assert rollup(arch).ima_area_mm2 == pytest.approx(ima)     # counted in the IMA's area


def test_resnet50_shapes_in_seconds():
    trace = open_trace(TRACES / "resnet50_shapes.npz")
    t0 = time.perf_counter()
    a = apply_schedule(trace, CONFIGS / "era_bs.yaml",
                       CONFIGS / "schedules" / "era_bs_full.yaml")
    assert time.perf_counter() - t0 < 60
    assert a.outcome.accuracy_after is None            # no real data for shapes
    assert a.outcome.crossbars_after < a.outcome.crossbars_before
    assert a.after.total.dynamic_energy_pJ < a.before.total.dynamic_energy_pJ
