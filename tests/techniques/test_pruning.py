"""Structured pruning: blocks, compaction, index costs, curves; PIM-Prune and CIM pruning."""

import numpy as np
import pytest

from pimsim.arch import build_arch
from pimsim.mapping.tiling import tile_layer
from pimsim.sim import evaluate
from pimsim.techniques.cim_pruning import CIMPruning
from pimsim.techniques.compact import compact_tiling
from pimsim.techniques.pimprune import PIMPrune
from pimsim.techniques.pruning import block_labels, prune_mask
from pimsim.workload.layer import Layer

from .conftest import sched


def _conv(cin, cout, k=3, hw=8):
    return Layer("c", "conv", ("input",), (cin, hw, hw), (cout, hw, hw), kernel=(k, k),
                 padding=(k // 2, k // 2))


@pytest.mark.parametrize("cin,cout", [(1, 1), (16, 32), (30, 70), (64, 64)])
def test_all_live_compaction_is_the_plain_tiling(cin, cout, era_design):
    lay = _conv(cin, cout)
    live = np.ones((1, lay.weight_rows, lay.weight_cols, era_design.cells_per_weight), bool)
    live[0, 0, 0, 0] = False           # one dead cell frees no column
    for mode in ("none", "global", "per_column_tile"):
        t, _ = compact_tiling(lay, era_design, live, mode)
        b = tile_layer(lay, era_design)
        # same crossbars (PIM-Prune's per-column-tile order lists them column-block first)
        assert sorted(zip(t.rows, t.cols, t.outs)) == sorted(zip(b.rows, b.cols, b.outs))
        assert t.weights.sum() == b.weights.sum()
        assert t.merges_per_position == b.merges_per_position


def test_filter_and_channel_blocks_shrink_the_matrix(era_design):
    lay = _conv(32, 64)
    w = np.random.default_rng(0).normal(size=(1, lay.weight_rows, lay.weight_cols))
    cpw = era_design.cells_per_weight
    for gran, axis in (("filter", 0), ("channel", 1)):   # kept columns / kept rows
        keep = prune_mask(w, block_labels(lay, era_design, gran, 16, 16), 0.5, "l2")
        assert keep[0].any(axis=axis).sum() == keep[0].shape[1 - axis] // 2
        live = np.broadcast_to(keep[..., None], keep.shape + (cpw,))
        t, _ = compact_tiling(lay, era_design, live, "global")
        b = tile_layer(lay, era_design)
        assert t.crossbars < b.crossbars
        assert t.weights.sum() == keep.sum()


def test_ou_blocks_are_ou_sized(era_design):
    lay = _conv(64, 64)
    lab = block_labels(lay, era_design, "ou_block", 16, 16)
    _, counts = np.unique(lab, return_counts=True)
    assert counts.max() == 16 * (16 // era_design.cells_per_weight)


def test_pim_prune_packs_rows_and_pays_an_index(cnn, prune_design):
    out = PIMPrune().apply(cnn, prune_design, sched("pim_prune", pruning={"ratio": 0.5}),
                           accuracy=False)
    assert out.crossbars_after < out.crossbars_before
    assert out.compression == pytest.approx(2.0, rel=0.05)
    arch = build_arch(prune_design)
    res = evaluate(cnn.network, arch, out.overrides)
    assert res.total.counts["index_buffer.read"] > 0
    assert res.total.crossbars < evaluate(cnn.network, arch).total.crossbars


def test_pruning_accuracy_drops_when_pruning_hard(cnn, prune_design):
    mild = CIMPruning().apply(cnn, prune_design, sched("cim_pruning", pruning={
        "granularity": "filter", "ratio": 0.05}), limit=120)
    hard = CIMPruning().apply(cnn, prune_design, sched("cim_pruning", pruning={
        "granularity": "filter", "ratio": 0.9}), limit=120)
    assert hard.accuracy_after < mild.accuracy_after
    assert hard.accuracy_after < 0.5


def test_curves_write_csv_and_png(tmp_path):
    from pimsim.techniques.commands import curves

    rec = curves("traces/cnn_digits.npz", "configs/pim_prune.yaml", ("filter", "ou_block"),
                 (0.0, 0.5), limit=60, out_dir=tmp_path)
    assert len(rec) == 4
    assert rec[0]["compression"] == 1.0 and rec[0]["accuracy_drop"] == 0.0
    assert (tmp_path / "curves_cnn_digits.csv").exists()
    pytest.importorskip("matplotlib")
    assert (tmp_path / "curves_cnn_digits.png").stat().st_size > 0
