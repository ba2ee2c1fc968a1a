"""Heatmap PNGs and update-record files (synthetic records, no torch)."""

import numpy as np
import pytest

from pimsim.training.updates import UpdateRecord, load_record, save_record


def tiny_record():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 50, size=(3, 8, 8)).astype(np.uint32)
    return UpdateRecord(
        meta={"model": "m", "policy": "p"},
        layers=[{"name": "fc", "groups": 1, "rows": 8, "cols": 2, "crossbars": 3}],
        step_cells=np.array([5, 7]), step_rows=np.array([1, 2]), step_swap_cells=np.zeros(2),
        selected=np.packbits(np.array([[1, 0, 1], [0, 1, 1]], bool), axis=1),
        structure_counts=np.array([1, 1, 2]), cell_counts={"fc": counts},
        row_maps={"fc": np.tile(np.arange(8, dtype=np.int32), (3, 1))},
        weight_updates={"fc": np.ones((1, 8, 2), np.uint32)})


def test_record_roundtrip_and_mode(tmp_path):
    path = save_record(tmp_path / "sub" / "r.npz", tiny_record())
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    back = load_record(path)
    assert back.selected_mask(1).tolist() == [False, True, True]
    assert back.steps == 2 and back.cell_counts["fc"].dtype == np.uint32
    assert not list(tmp_path.glob("sub/.*tmp"))           # no temp file left behind


def test_heatmap_png(tmp_path):
    pytest.importorskip("matplotlib")
    from pimsim.endurance.plots import save_heatmaps
    out = save_heatmaps(tiny_record(), tmp_path / "h.png")
    assert out is not None and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
