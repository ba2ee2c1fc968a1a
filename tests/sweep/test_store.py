"""The points store: durable appends, torn lines, last record wins, one writer."""

import json

import pytest

from pimsim.sweep.store import POINTS_FILE, Store, StoreBusy, read_records


def test_append_read_last_wins(tmp_path):
    with Store(tmp_path) as store:
        store.append({"key": "a", "status": "failed", "error": {"type": "E", "message": "m"}})
        store.append({"key": "b", "status": "ok", "total": {"x": 1.5}})
        store.append({"key": "a", "status": "ok", "total": {"x": 2.0}})
        records = store.read()
    assert records["a"]["status"] == "ok" and records["b"]["total"] == {"x": 1.5}
    assert "finished_at" in records["a"]
    assert len((tmp_path / POINTS_FILE).read_text().splitlines()) == 3


def test_torn_last_line_is_ignored_and_not_glued(tmp_path):
    path = tmp_path / POINTS_FILE
    path.write_text(json.dumps({"key": "a", "status": "ok", "total": {"x": 1.0}}) + "\n" + '{"key": "b", "sta')
    records, bad = read_records(path)
    assert list(records) == ["a"] and bad == 1
    with Store(tmp_path) as store:
        store.append({"key": "c", "status": "ok", "total": {"x": 1.0}})
    records, bad = read_records(path)
    assert sorted(records) == ["a", "c"] and bad == 1


def test_missing_file_is_empty(tmp_path):
    assert read_records(tmp_path / "nope.jsonl") == ({}, 0)


def test_one_writer_per_directory(tmp_path):
    with Store(tmp_path):
        with pytest.raises(StoreBusy, match="another sweep"):
            with Store(tmp_path):
                pass
    with Store(tmp_path):                            # released on exit
        pass


def test_nested_result_records_and_their_damage(tmp_path):
    """run_point's shape (the whole Result under ``result``) is read back; a current record
    without it, or with a non-finite number anywhere, is unusable; an older top-level
    ``total`` record is readable (and re-evaluated by the runner, not reported)."""
    from pimsim.result import SCHEMA_VERSION
    from pimsim.sweep.store import current_record

    path = tmp_path / POINTS_FILE
    good = {"schema_version": SCHEMA_VERSION, "key": "a", "status": "ok",
            "result": {"total": {"energy_pJ": 2.0, "energy_breakdown_pJ": {"adc": 1.0}},
                       "layers": [{"latency_ns": 3.0}]}, "area_breakdown_mm2": {"adc": 0.5}}
    lines = [json.dumps(good),
             json.dumps({**good, "key": "b", "result": None}),
             json.dumps({**good, "key": "c"}).replace('"latency_ns": 3.0', '"latency_ns": 1e999'),
             json.dumps({**good, "key": "d"}).replace('"adc": 1.0', '"adc": NaN'),
             json.dumps({"schema_version": 0, "key": "e", "status": "ok", "total": {"x": 1.0}})]
    path.write_text("\n".join(lines) + "\n")
    records, bad = read_records(path)
    assert sorted(records) == ["a", "e"] and bad == 3
    assert current_record(records["a"]) and not current_record(records["e"])
