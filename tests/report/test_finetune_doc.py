"""docs/techniques.md "Fine-tuning" is current: the page's block is rendered from
docs/data/finetune.json, and one measured point of that JSON is re-measured here."""

import json

import pytest

from pimsim.report import finetune as rep


def _data() -> dict:
    return json.loads(rep.DATA.read_text())


def test_section_matches_the_study_json():
    assert rep.current_block() == rep.render(_data()), (
        "docs/techniques.md Fine-tuning section is stale: python -m pimsim.report.finetune")
    assert rep.PLOT.exists()


def test_study_is_complete_and_has_the_current_settings():
    data = _data()
    for net, d in data.items():
        assert d["complete"] and d["settings"] == rep.STUDY[net], net
        assert len(d["points"]) == len(rep.jobs_for(net)), net


def test_finetuning_raises_compression_at_one_point_drop_on_cnn_digits():
    pts = [p for p in _data()["cnn_digits"]["points"]
           if p["kind"] == "prune" and p["granularity"] == "xbar_column"]
    plain = rep.best_within(pts, "accuracy_no_finetune")
    tuned = rep.best_within(pts, "accuracy_finetuned")
    assert tuned["compression_no_finetune"] > plain["compression_no_finetune"]


def test_one_point_remeasured():
    """cnn_digits, xbar_column at ratio 0.6: the technique and the fine-tuning rerun with
    the recorded settings give the recorded accuracies (CPU torch is bitwise repeatable
    for the same build and thread count)."""
    torch = pytest.importorskip("torch")
    d = _data()["cnn_digits"]
    if d["environment"]["torch"] != torch.__version__:
        pytest.skip(f"study measured with torch {d['environment']['torch']}")
    from pimsim.techniques.study import _point

    job = next(p["job"] for p in d["points"] if p["kind"] == "prune"
               and p["granularity"] == "xbar_column" and p["ratio"] == 0.6)
    rec = next(p for p in d["points"] if p["job"] == job)
    got = _point(job)
    for key in ("accuracy_before", "accuracy_no_finetune", "accuracy_finetuned",
                "compression"):
        assert got[key] == rec[key], key
