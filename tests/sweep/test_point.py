"""run_point: the same numbers as evaluate(), breakdowns that add up, failures as data."""

import math
from pathlib import Path

import pytest

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim.analytic import evaluate
from pimsim.sweep.point import FAILED, OK, run_point
from pimsim.workload.trace import load_network

from pimsim.report.documents import validate

from .conftest import ISAAC, RESNET20


def _flat(rec):
    """The record with its result's total and energy breakdown beside the area breakdown."""
    total = (rec.get("result") or {}).get("total")
    return {**rec, "total": total, "engine": (rec.get("result") or {}).get("engine"),
            "energy_breakdown_pJ": (total or {}).get("energy_breakdown_pJ")}


def _spec(**over):
    spec = {"key": "k1", "base": str(ISAAC), "overrides": {"crossbar.rows": 256,
                                                          "crossbar.cols": 256},
            "trace": str(RESNET20), "schedule": None, "fidelity": "analytic", "debug": {}}
    spec.update(over)
    return spec


def test_matches_evaluate_and_breakdowns_add_up():
    rec = run_point(_spec())
    validate(rec)
    rec = _flat(rec)
    assert rec["status"] == OK and rec["key"] == "k1" and rec["error"] is None
    want = evaluate(load_network(RESNET20),
                    build_arch(load_design(ISAAC, {"crossbar.rows": 256, "crossbar.cols": 256})))
    for name in ("energy_pJ", "latency_ns", "gops_per_W", "gops_per_mm2", "area_mm2", "chips"):
        assert rec["total"][name] == getattr(want.total, name)
    assert math.isclose(sum(rec["energy_breakdown_pJ"].values()), rec["total"]["energy_pJ"],
                        rel_tol=1e-9)
    assert math.isclose(sum(rec["area_breakdown_mm2"].values()), rec["total"]["area_mm2"],
                        rel_tol=1e-9)
    assert rec["area_breakdown_mm2"]["adc"] > 0


def test_area_breakdown_counts_every_chip():
    # VGG-16 on 64x64 crossbars spreads over many chips; area is per chip used
    from .conftest import VGG16
    rec = _flat(run_point(_spec(overrides={"crossbar.rows": 64, "crossbar.cols": 64}, trace=str(VGG16))))
    assert rec["total"]["chips"] > 1
    assert math.isclose(sum(rec["area_breakdown_mm2"].values()), rec["total"]["area_mm2"],
                        rel_tol=1e-9)


def test_failure_is_recorded_not_raised():
    rec = run_point(_spec(overrides={"adc.bits": 3}))
    assert rec["status"] == FAILED
    assert rec["error"]["type"] == "ConfigError"
    assert "ADC resolution too low" in rec["error"]["message"]
    assert "traceback" not in rec["error"]            # a user mistake, not a bug
    rec = run_point(_spec(debug={"fail": True}))
    assert rec["status"] == FAILED and rec["error"]["type"] == "RuntimeError"
    assert "on purpose" in rec["error"]["message"] and "traceback" in rec["error"]


def test_crash_hook_raises_in_the_driver_process():
    rec = run_point(_spec(debug={"crash": True}))     # never os._exit in the test process
    assert rec["status"] == FAILED and "crash hook" in rec["error"]["message"]


def test_fast_fidelity_runs_the_engine_with_the_closed_forms_counts():
    fast, closed = _flat(run_point(_spec(fidelity="fast"))), _flat(run_point(_spec(fidelity="analytic")))
    assert fast["status"] == closed["status"] == "ok"
    assert fast["engine"] != closed["engine"]
    assert fast["total"]["dynamic_energy_pJ"] == pytest.approx(closed["total"]["dynamic_energy_pJ"])


def test_schedule_axis_is_applied():
    root = Path(__file__).resolve().parents[2]
    spec = {**_spec(), "base": str(root / "configs" / "era_bs_allrows.yaml"),
            "trace": str(root / "traces" / "cnn_digits.npz")}
    plain = _flat(run_point(spec))
    sched = _flat(run_point({**spec, "schedule": str(root / "configs" / "schedules" / "era_bs_full.yaml")}))
    assert plain["status"] == sched["status"] == "ok"
    assert sched["energy_breakdown_pJ"]["zero_detector"] > 0 == plain["energy_breakdown_pJ"]["zero_detector"]
    assert sched["total"]["crossbars"] < plain["total"]["crossbars"]


def test_schedule_the_design_cannot_run_fails_the_point():
    root = Path(__file__).resolve().parents[2]
    rec = run_point({**_spec(), "trace": str(root / "traces" / "cnn_digits.npz"),
                     "schedule": str(root / "configs" / "schedules" / "era_bs_full.yaml")})
    assert rec["status"] == FAILED and "zero_detector" in rec["error"]["message"]


def test_baselines_run_once_per_trace_without_the_schedule(tmp_path):
    from pimsim.sweep.plan import BASELINE, iter_points
    from pimsim.sweep.spec import load_sweep

    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "s.yaml"
    path.write_text(f"""name: s
base: {root / 'configs' / 'era_bs.yaml'}
axes:
  trace: [{root / 'traces' / 'cnn_digits.npz'}]
  schedule: [{root / 'configs' / 'schedules' / 'era_bs_full.yaml'},
             {root / 'configs' / 'schedules' / 'era_bs_acts.yaml'}]
""")
    bases = [p for p in iter_points(load_sweep(path)) if p["role"] == BASELINE]
    assert len(bases) == 1 and not bases[0]["spec"]["schedule"]
