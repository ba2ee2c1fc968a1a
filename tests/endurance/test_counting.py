"""WriteCounter: conservation, SGD writes every changed cell, row swaps move placement only."""

import numpy as np
import pytest

from pimsim.endurance.cells import (aging_aware_row_map, layout_for, structure_mask_to_unrolled,
                                    weight_cells)
from pimsim.endurance.counting import WriteCounter, held_cell_counts
from pimsim.kernels.endurance import physical_levels_reference
from pimsim.mapping import tile_layer
from pimsim.workload.trace import load_network


@pytest.fixture(scope="module")
def layout(isaac):
    # 300 rows -> 3 row tiles (128, 128, 44); 40 weights -> 3 column tiles (16, 16, 8)
    return layout_for("fc", 1, 300, 40, isaac)


def random_q(rng, lay, scale=200):
    return rng.integers(-scale, scale, size=(lay.groups, lay.rows, lay.cols)).astype(np.int32)


def test_layout_matches_mapping(isaac):
    net = load_network("traces/resnet20_digits.npz")
    for layer in net.mvm_layers:
        lay = layout_for(layer.name, layer.groups, layer.weight_rows, layer.weight_cols, isaac)
        t = tile_layer(layer, isaac)
        assert lay.crossbars == t.crossbars
        assert lay.weights == int(t.weights.sum())
        assert lay.cells == int((t.rows * t.cols).sum())


def test_conservation_and_every_changed_cell(layout):
    rng = np.random.default_rng(0)
    q = random_q(rng, layout)
    wc = WriteCounter([layout], [q])
    expected = np.zeros((layout.groups, layout.rows, layout.cols, layout.cells_per_weight), int)
    total = 0
    for _ in range(5):
        q_new = (q + rng.integers(-2, 3, size=q.shape)).astype(np.int32)
        step = wc.program(0, q_new)
        cells_old = weight_cells(q, layout.weight_bits, layout.bits_per_cell, False)
        cells_new = weight_cells(q_new, layout.weight_bits, layout.bits_per_cell, False)
        expected += cells_old != cells_new
        total += step.cells
        assert step.cells == int((cells_old != cells_new).sum())   # SGD: every changed cell
        q = q_new
    assert wc.total_writes() == total                      # conservation
    # per-cell counts equal the per-weight cell changes placed on the identity layout
    phys = np.zeros_like(wc.counts[0])
    g, r, c = np.meshgrid(range(layout.groups), range(layout.rows), range(layout.cols),
                          indexing="ij")
    x = (g * layout.row_tiles + r // layout.xb_rows) * layout.col_tiles + c // layout.wpr
    col = (c % layout.wpr)[..., None] * layout.cells_per_weight + np.arange(8)
    phys[x[..., None], (r % layout.xb_rows)[..., None], col] = expected
    np.testing.assert_array_equal(wc.counts[0], phys)
    assert held_cell_counts(layout, wc.counts[0], wc.row_maps[0]).size == layout.cells


def test_masked_structures_are_not_written(layout):
    rng = np.random.default_rng(1)
    q = random_q(rng, layout)
    wc = WriteCounter([layout], [q])
    mask = rng.random(layout.structures) < 0.3
    wmask = structure_mask_to_unrolled(mask, layout)
    q_new = np.where(wmask, q + 1, q).astype(np.int32)
    wc.program(0, q_new)
    xs, lrs = layout.structure_crossbar()
    row_writes = wc.counts[0].sum(axis=2)
    assert (row_writes[xs[~mask], lrs[~mask]] == 0).all()
    assert (row_writes[xs[mask], lrs[mask]] > 0).all()


def test_row_swap_changes_only_placement(layout):
    rng = np.random.default_rng(2)
    q = random_q(rng, layout)
    wc = WriteCounter([layout], [q])
    new_map = np.array([rng.permutation(layout.xb_rows) for _ in range(layout.crossbars)],
                       np.int32)
    step = wc.remap(0, new_map)
    assert step.cells > 0 and wc.swap_writes == step.cells
    np.testing.assert_array_equal(wc.q[0], q)             # logical weights unchanged
    levels, used = physical_levels_reference(q, new_map, layout.crossbars, layout.xb_rows,
                                             layout.xb_cols, 16, 2, False, layout.wpr)
    ident, _ = physical_levels_reference(q, layout.identity_row_map(), layout.crossbars,
                                         layout.xb_rows, layout.xb_cols, 16, 2, False, layout.wpr)
    # physical row new_map[x, lr] holds what logical row lr held before
    for x in range(layout.crossbars):
        np.testing.assert_array_equal(levels[x, new_map[x]], ident[x])
    # programming after a swap writes the cells at their new physical rows
    before = wc.counts[0].copy()
    q2 = q.copy()
    q2[0, 0, 0] += 1
    wc.program(0, q2)
    delta = wc.counts[0] - before
    assert delta[0, new_map[0, 0]].sum() > 0 and delta.sum() == delta[0, new_map[0, 0]].sum()
    with pytest.raises(ValueError):
        wc.remap(0, np.zeros_like(new_map))               # not a permutation


def test_aging_aware_row_map_moves_hot_rows_to_fresh_rows():
    old = np.tile(np.arange(6, dtype=np.int32), (2, 1))
    wear = np.array([[9, 9, 0, 0, 5, 5], [1, 1, 1, 1, 1, 1]])
    heat = np.array([[7, 6, 0, 0, 1, 1], [3, 3, 3, 3, 3, 3]], float)
    new = aging_aware_row_map(old, wear, heat)
    assert sorted(new[0]) == list(range(6))
    assert set(new[0, :2]) == {2, 3}                      # hottest rows on unworn rows
    np.testing.assert_array_equal(new[1], old[1])         # equal heat: no swap (no writes)


def test_program_rejects_bad_shapes(layout):
    wc = WriteCounter([layout], [np.zeros((1, layout.rows, layout.cols), np.int32)])
    with pytest.raises(ValueError):
        wc.program(0, np.zeros((1, 2, 3), np.int32))
    with pytest.raises(ValueError):
        wc.program(0, np.full((1, layout.rows, layout.cols), 2**15, np.int32))
    with pytest.raises(ValueError):
        WriteCounter([layout], [np.zeros((1, layout.rows, layout.cols))], write_model="x")


def test_whole_row_model_counts_rows(layout):
    q = np.zeros((1, layout.rows, layout.cols), np.int32)
    wc = WriteCounter([layout], [q], write_model="row")
    q2 = q.copy()
    q2[0, 5, 3] = 1                                        # one weight in column tile 0
    step = wc.program(0, q2)
    assert step.cells == layout.wpr * layout.cells_per_weight
    assert step.rows_per_crossbar.tolist()[0] == 1 and step.rows_per_crossbar.sum() == 1
