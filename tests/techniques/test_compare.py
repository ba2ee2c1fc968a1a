"""The comparison table: every row on a real trace, ratios against its own references."""

import json
import math


from pimsim.report.documents import validate
from pimsim.techniques.commands import ROWS, compare


def test_compare_rows_and_reference_ratios(tmp_path):
    rec = compare(["traces/cnn_digits.npz"], limit=60, max_drop=None, out_dir=tmp_path)
    rows = {r["row"]: r for r in rec}
    assert list(rows) == [label for label, _, _ in ROWS]
    for k in ("mapped_gops_per_W", "gops_per_mm2", "throughput_images_per_s"):
        assert rows["ISAAC"][f"{k}_vs_ISAAC"] == 1.0
        assert rows["PIM-Prune"][f"{k}_vs_PIM-Prune"] == 1.0
    # ERA-BS full is weights + activations: at least as energy efficient as either alone
    full = rows["ERA-BS full"]["mapped_gops_per_W"]
    assert full >= rows["ERA-BS weights"]["mapped_gops_per_W"]
    assert full >= rows["ERA-BS activations"]["mapped_gops_per_W"]
    assert all(0 <= r["accuracy"] <= 1 for r in rec)
    assert rows["ISAAC"]["prune_ratio"] is None          # not pruned: null, never NaN
    assert (tmp_path / "techniques_compare.csv").read_text().count("\n") == len(ROWS) + 1
    doc = json.loads((tmp_path / "techniques_compare.json").read_text())
    validate(doc)
    assert [r["row"] for r in doc["rows"]] == [label for label, _, _ in ROWS]
