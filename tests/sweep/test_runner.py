"""Running sweeps: local pool, resume, failing and crashing points, Ctrl-C, Dask."""

import time

import pytest

from pimsim.sweep.point import FAILED, OK
from pimsim.sweep.runner import WORKER_CRASH, run_sweep
from pimsim.sweep.spec import load_sweep
from pimsim.sweep.store import POINTS_FILE, read_records

from .conftest import VGG16, sweep_dict

UNIQUE = 4      # evaluations of the mini sweep: 128/8 (= auto = ISAAC), 128/9, 256/auto (= 9)


def _metrics(out_dir) -> dict:
    records, _ = read_records(out_dir / POINTS_FILE)
    return {k: (r["status"], r.get("total")) for k, r in records.items()}


def test_local_pool_equals_serial_then_resume_evaluates_nothing(write_sweep, tmp_path):
    sweep = load_sweep(write_sweep())
    first = run_sweep(sweep, tmp_path / "out", workers=2, quiet=True)
    assert (first.points, first.ok, first.failed, first.skipped) == (6, 5, 0, 1)
    assert first.evaluated == UNIQUE - 1 and not first.interrupted   # the baseline is 128/8
    run_sweep(sweep, tmp_path / "serial", workers=0, quiet=True)
    assert _metrics(tmp_path / "serial") == _metrics(tmp_path / "out")
    t0 = time.monotonic()
    second = run_sweep(sweep, tmp_path / "out", workers=2, quiet=True)
    assert second.evaluated == 0 and second.reused == first.evaluated
    assert (second.ok, second.skipped) == (5, 1)
    assert time.monotonic() - t0 < 2.0                 # no pool is started when all is done


def test_failing_point_is_recorded_and_the_rest_finish(write_sweep, tmp_path):
    sweep = load_sweep(write_sweep(debug={"fail_where": ["xbar == 256", "adc.bits == auto"]}))
    summary = run_sweep(sweep, tmp_path / "out", workers=0, quiet=True)
    # 256/auto and 256/9 resolve to one key: the hook fires on the first and fails it
    records, _ = read_records(tmp_path / "out" / POINTS_FILE)
    failed = [r for r in records.values() if r["status"] == FAILED]
    assert len(failed) == 1 and "on purpose" in failed[0]["error"]["message"]
    assert summary.failed == 2 and summary.ok == 3
    assert sum(r["status"] == OK for r in records.values()) == len(records) - 1


def test_failed_points_rerun_only_when_asked(write_sweep, tmp_path):
    sweep = load_sweep(write_sweep(debug={"fail_where": ["xbar == 128", "adc.bits == 9"]}))
    run_sweep(sweep, tmp_path / "out", workers=0, quiet=True)
    again = run_sweep(sweep, tmp_path / "out", workers=0, quiet=True)
    assert again.evaluated == 0 and again.failed == 1
    fixed = load_sweep(write_sweep())
    retried = run_sweep(fixed, tmp_path / "out", workers=0, quiet=True, retry_failed=True)
    assert retried.evaluated == 1 and retried.failed == 0


def test_crashing_worker_loses_nothing_else(write_sweep, tmp_path):
    sweep = load_sweep(write_sweep(debug={"crash_where": ["xbar == 128", "adc.bits == 9"]}))
    summary = run_sweep(sweep, tmp_path / "out", workers=2, quiet=True)
    records, _ = read_records(tmp_path / "out" / POINTS_FILE)
    crashed = [r for r in records.values() if r["status"] == FAILED]
    assert len(crashed) == 1 and crashed[0]["error"]["type"] == WORKER_CRASH
    assert "died" in crashed[0]["error"]["message"]
    assert summary.ok == 5 - 1 and summary.failed == 1
    assert len(records) == UNIQUE - 1                  # every other point has its result


def test_interrupt_keeps_finished_points_and_resumes(write_sweep, tmp_path):
    axes = dict(sweep_dict()["axes"], trace=[sweep_dict()["axes"]["trace"][0], str(VGG16)])
    sweep = load_sweep(write_sweep(axes=axes))
    seen = []

    def stop_after_two(record):
        seen.append(record["key"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    first = run_sweep(sweep, tmp_path / "out", workers=2, quiet=True, on_record=stop_after_two)
    assert first.interrupted and first.evaluated == 2
    records, bad = read_records(tmp_path / "out" / POINTS_FILE)
    assert sorted(records) == sorted(seen) and bad == 0
    second = run_sweep(sweep, tmp_path / "out", workers=0, quiet=True)
    assert not second.interrupted and second.reused == 2
    assert second.evaluated + second.reused == 2 * (UNIQUE - 1)
    assert second.failed == 0 and second.ok == 10


def test_dask_cluster_equals_local_run(write_sweep, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    sweep = load_sweep(write_sweep())
    run_sweep(sweep, tmp_path / "local", workers=0, quiet=True)
    # In-process workers keep the test fast; tasks still travel over loopback TCP, pickled.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        summary = run_sweep(sweep, tmp_path / "dask", scheduler=cluster.scheduler_address,
                            quiet=True)
    assert summary.backend.startswith("dask tcp://127.0.0.1:")
    assert summary.evaluated == UNIQUE - 1 and summary.failed == 0
    assert _metrics(tmp_path / "dask") == _metrics(tmp_path / "local")


def test_unreachable_scheduler_is_a_user_error(write_sweep, tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    from pimsim.errors import ConfigError
    from pimsim.sweep import runner
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 1)
    sweep = load_sweep(write_sweep())
    with pytest.raises(ConfigError, match="cannot connect to the Dask scheduler"):
        run_sweep(sweep, tmp_path / "out", scheduler="tcp://127.0.0.1:9", quiet=True)


def test_rerun_reuses_the_plan_until_an_input_changes(write_sweep, tmp_path, monkeypatch):
    from pimsim.sweep import plan

    path = write_sweep()
    run_sweep(load_sweep(path), tmp_path / "out", workers=0, quiet=True)

    def no_loading(*a, **k):
        raise AssertionError("an unchanged sweep must not load its designs again")

    with monkeypatch.context() as m:
        m.setattr(plan, "load_design", no_loading)
        again = run_sweep(load_sweep(path), tmp_path / "out", workers=0, quiet=True)
    assert again.evaluated == 0 and again.ok == 5
    # a changed sweep file (one more ADC setting) is planned afresh; old results are reused
    data = sweep_dict()
    data["axes"]["adc.bits"] = ["auto", 8, 9, 10]
    grown = run_sweep(load_sweep(write_sweep(data)), tmp_path / "out", workers=0, quiet=True)
    assert grown.points == 8 and grown.evaluated == 2 and grown.reused == UNIQUE - 1
