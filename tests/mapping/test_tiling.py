"""Crossbar tiling of single layers, checked against hand arithmetic (ISAAC: 128x128
crossbars, 16-bit weights on 2-bit cells -> 8 columns per weight, 16 weights per row)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from netbuild import isaac_arch, isaac_with
from pimsim.mapping import tile_layer
from pimsim.workload.layer import Layer


def conv(cin, cout, k, hw, groups=1, stride=1):
    pad = k // 2
    out = (hw + 2 * pad - k) // stride + 1
    return Layer("c", "conv", ("x",), (cin, hw, hw), (cout, out, out), kernel=(k, k),
                 stride=(stride, stride), padding=(pad, pad), groups=groups)


def linear(n_in, n_out):
    return Layer("fc", "linear", ("x",), (n_in, 1, 1), (n_out, 1, 1))


def test_conv3x3_16_to_32_on_isaac():
    # rows = 3*3*16 = 144 -> row tiles 128 + 16; columns = 32 weights * 8 cells = 256
    # -> 2 column tiles of 16 weights (128 cells); 2 x 2 = 4 crossbars per copy.
    t = tile_layer(conv(16, 32, 3, 8), isaac_arch().design)
    assert (t.row_tiles, t.col_tiles, t.crossbars) == (2, 2, 4)
    assert t.rows.tolist() == [128, 128, 16, 16]
    assert t.cols.tolist() == [128, 128, 128, 128]
    assert t.outs.tolist() == [16, 16, 16, 16]
    # each of the 32 outputs merges its 2 row-tile partial sums: 1 merge each
    assert t.merges_per_position == 32


def test_linear_300_to_20():
    # rows 300 -> 128 + 128 + 44; 20 weights -> 16 + 4 (128 and 32 cells): 6 crossbars
    t = tile_layer(linear(300, 20), isaac_arch().design)
    assert (t.row_tiles, t.col_tiles) == (3, 2)
    assert t.rows.tolist() == [128, 128, 128, 128, 44, 44]
    assert t.cols.tolist() == [128, 32] * 3
    assert t.merges_per_position == 2 * 20


def test_depthwise_groups_pack_block_diagonally():
    # depthwise 3x3 on 32 channels: one group is 9 rows x 1 weight. Per crossbar
    # min(128 // 9, 16 // 1) = min(14, 16) = 14 groups -> 3 crossbars holding 14, 14, 4.
    t = tile_layer(conv(32, 32, 3, 8, groups=32), isaac_arch().design)
    assert t.groups_per_crossbar == 14
    assert t.rows.tolist() == [14 * 9, 14 * 9, 4 * 9]
    assert t.cols.tolist() == [14 * 8, 14 * 8, 4 * 8]
    assert t.outs.tolist() == [14, 14, 4]
    assert t.merges_per_position == 0


def test_grouped_conv_too_big_to_pack_tiles_each_group():
    # groups=2, 3x3, 64 -> 64: one group is 9*32 = 288 rows (> 128) x 32 weights.
    # Per group: 3 row tiles (128, 128, 32) x 2 column tiles (16 weights) = 6; 2 groups = 12.
    t = tile_layer(conv(64, 64, 3, 8, groups=2), isaac_arch().design)
    assert (t.row_tiles, t.col_tiles, t.crossbars) == (3, 2, 12)
    assert t.rows.tolist() == [128, 128, 128, 128, 32, 32] * 2
    assert t.merges_per_position == 2 * (3 - 1) * 32


def test_differential_weights_take_twice_the_columns():
    # differential pairs: 16 cells per weight -> 8 weights per 128-column row;
    # 3x3 16 -> 32: 2 row tiles x (32 / 8 = 4) column tiles = 8 crossbars.
    d = isaac_with(precision={"signed_weights": "differential"}).design
    assert d.cells_per_weight == 16
    t = tile_layer(conv(16, 32, 3, 8), d)
    assert (t.row_tiles, t.col_tiles, t.crossbars) == (2, 4, 8)
    assert set(t.cols.tolist()) == {128}


layer_shapes = st.builds(
    lambda k, cin_g, cout_g, groups, hw, kind: (
        linear(cin_g * groups, cout_g * groups) if kind == "linear"
        else conv(cin_g * groups, cout_g * groups, k, hw, groups=groups)),
    st.sampled_from([1, 3, 5]), st.integers(1, 300), st.integers(1, 300),
    st.sampled_from([1, 1, 2, 4, 32]), st.integers(1, 8), st.sampled_from(["conv", "linear"]))


@settings(max_examples=150, deadline=None)
@given(layer_shapes)
def test_every_weight_mapped_once_and_fits(layer):
    d = isaac_arch().design
    t = tile_layer(layer, d)
    # each weight occupies one (row, whole-weight column) slot of exactly one crossbar
    assert int(t.weights.sum()) == layer.weights
    assert (t.weights <= t.rows * t.outs).all()
    assert (t.rows >= 1).all() and (t.rows <= d.crossbar.rows).all()
    assert (t.cols <= d.crossbar.cols).all()
    assert (t.cols == t.outs * d.cells_per_weight).all()
    # no mapping can beat the cell count
    cells = d.crossbar.rows * d.crossbar.cols
    assert t.crossbars >= -(-layer.weights * d.cells_per_weight // cells)


@settings(max_examples=60, deadline=None)
@given(layer_shapes, st.sampled_from([(32, 64), (64, 128), (128, 256), (64, 256)]))
def test_larger_crossbars_never_need_more_of_them(layer, sizes):
    small, large = sizes
    a = isaac_with(crossbar={"rows": small, "cols": small}).design
    b = isaac_with(crossbar={"rows": large, "cols": large}).design
    assert tile_layer(layer, b).crossbars <= tile_layer(layer, a).crossbars
