"""Every command's JSON validates against the shipped schema, with no NaN/Infinity; the
schema declares exactly the fields the Result dataclasses have, and docs/results.md
documents every field with its unit."""

import dataclasses
import json
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

from pimsim import result as result_mod                       # noqa: E402
from pimsim.cli import main                                    # noqa: E402
from pimsim.report.documents import load_schema, validate     # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ISAAC = str(ROOT / "configs" / "isaac.yaml")
XB256 = str(ROOT / "configs" / "isaac_xbar256.yaml")
CNN = str(ROOT / "traces" / "cnn_digits.npz")


def strict_loads(text: str):
    """json.loads that rejects NaN / Infinity (what strict parsers do)."""
    def reject(token):
        raise AssertionError(f"non-standard JSON constant {token}")
    return json.loads(text, parse_constant=reject)


def cli_json(capsys, *argv) -> dict:
    assert main([*map(str, argv), "--json"]) == 0
    out = capsys.readouterr().out
    doc = strict_loads(out)
    validate(doc)
    return doc


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(load_schema())


@pytest.mark.parametrize("fidelity", ["analytic", "fast", "event"])
def test_run_json_validates(capsys, fidelity):
    doc = cli_json(capsys, "run", XB256, "--trace", CNN, "--fidelity", fidelity)
    assert doc["kind"] == "run" and doc["schema_version"] == result_mod.SCHEMA_VERSION
    assert doc["fidelity"]["name"] == fidelity and doc["baseline"]["design"] == "ISAAC"
    ident = doc["identity"]
    assert ident["trace_file"] == CNN and len(ident["trace_sha256"]) == 64
    # The same design point twice hashes alike; a different one does not.
    assert ident["design_sha256"] != doc["baseline"]["identity"]["design_sha256"]
    assert ident["network_sha256"] == doc["baseline"]["identity"]["network_sha256"]


def test_compare_and_area_json_validate(capsys):
    doc = cli_json(capsys, "compare", ISAAC, XB256, "--trace", CNN, "--fidelity", "analytic")
    assert [r["design"] for r in doc["results"]] == ["ISAAC", "ISAAC-256"]
    assert all(r["layers"] and r["total"]["macs"] == 337536 for r in doc["results"])
    doc = cli_json(capsys, "area", ISAAC)
    assert doc["kind"] == "area" and doc["chip"]["area_mm2"] > 0


def test_run_out_file_is_the_json_document(tmp_path, capsys):
    doc = cli_json(capsys, "run", ISAAC, "--trace", CNN, "--fidelity", "analytic",
                   "--baseline", "none", "--out", tmp_path)
    saved = strict_loads((tmp_path / "run.json").read_text())
    validate(saved)
    assert saved == doc


def test_techniques_json_validates(capsys, tmp_path):
    doc = cli_json(capsys, "techniques", "apply", ROOT / "configs/schedules/era_bs_acts.yaml",
                   CNN, "--limit", "20", "-q")
    assert doc["kind"] == "technique_apply" and doc["before"]["kind"] == "result"
    doc = cli_json(capsys, "techniques", "compare", CNN, "--limit", "20", "--max-drop", "-1",
                   "-q", "--out", tmp_path)
    isaac = next(r for r in doc["rows"] if r["row"] == "ISAAC")
    assert isaac["prune_ratio"] is None and any("prune_ratio" in n for n in doc["notes"])
    validate(strict_loads((tmp_path / "techniques_compare.json").read_text()))
    doc = cli_json(capsys, "techniques", "curves", CNN, "--ratios", "0,0.5", "--granularities",
                   "filter", "--limit", "20", "-q")
    assert doc["kind"] == "technique_curves" and len(doc["rows"]) == 2


def test_sweep_records_and_report_json_validate(tmp_path, capsys):
    import yaml

    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "tiny", "base": ISAAC, "axes": {"adc.bits": ["auto", 9], "trace": [CNN]},
        "metrics": ["energy_pJ", "gops_per_W"]}))
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--workers", "0", "--out", str(out), "-q", "--no-plots"]) == 0
    capsys.readouterr()
    lines = (out / "points.jsonl").read_text().splitlines()
    assert lines
    for line in lines:
        validate(strict_loads(line))
    doc = cli_json(capsys, "report", out, "--no-plots", "--force")
    assert doc["kind"] == "sweep_report" and {r["status"] for r in doc["points"]} == {"ok"}


def test_nan_is_rejected_with_its_path():
    doc = {**json.loads(json.dumps(_minimal_area())), "chip": {"area_mm2": float("nan"),
                                                                 "power_mW": 1.0}}
    with pytest.raises(ValueError, match=r"\$\.chip\.area_mm2"):
        validate(doc)


def _minimal_area():
    from pimsim.arch import build_arch, rollup
    from pimsim.config import load_design
    from pimsim.report.documents import area_document

    return area_document(rollup(build_arch(load_design(ISAAC))).as_dict())


# The schema declares exactly the dataclasses' fields: a field added to a Result class
# without its schema entry (and docs/results.md line) fails here.
@pytest.mark.parametrize("cls,ref", [
    (result_mod.TotalResult, "total"), (result_mod.LayerResult, "layer"),
    (result_mod.EngineStats, "engine_stats"), (result_mod.LayerTiming, "layer_timing"),
    (result_mod.WeightLoad, "weight_load"), (result_mod.Identity, "identity")])
def test_schema_matches_the_result_classes(cls, ref):
    props = set(load_schema()["$defs"][ref]["properties"])
    fields = {f.name for f in dataclasses.fields(cls)} - {"timeline"}   # timeline: file only
    assert fields <= props, f"add {sorted(fields - props)} to pimsim/data/result.schema.json"
    # Optional schema fields other helpers' results add (documented, absent until then).
    optional = props - set(load_schema()["$defs"][ref].get("required", []))
    assert props - fields <= optional, sorted(props - fields - optional)


def _fields(node, prefix=""):
    """(dotted path, unit, description) of every declared property, recursively."""
    for name, sub in (node.get("properties") or {}).items():
        yield f"{prefix}{name}", sub.get("unit"), sub.get("description")
        yield from _fields(sub, f"{prefix}{name}.")


def test_every_field_has_a_unit_and_description():
    for kind, node in load_schema()["$defs"].items():
        for path, unit, desc in _fields(node):
            assert unit is not None and desc, f"{kind}.{path}: needs 'unit' and 'description'"
