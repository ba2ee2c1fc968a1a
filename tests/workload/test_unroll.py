"""Unrolled weights x im2col input rows reproduce the layer's output (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from pimsim.workload.layer import Layer, conv_out
from pimsim.workload.unroll import input_rows, unrolled_weight


def direct_conv(x: np.ndarray, w: np.ndarray, lay: Layer) -> np.ndarray:
    """Textbook loop convolution, written independently of unroll.py."""
    n, c, h, wd = x.shape
    co, ho, wo = lay.out_shape
    g = lay.groups
    cg, og = c // g, co // g
    out = np.zeros((n, co, ho, wo))
    for o in range(co):
        grp = o // og
        for y in range(ho):
            for z in range(wo):
                for ci in range(cg):
                    for i in range(lay.kernel[0]):
                        for j in range(lay.kernel[1]):
                            yy = y * lay.stride[0] - lay.padding[0] + i * lay.dilation[0]
                            zz = z * lay.stride[1] - lay.padding[1] + j * lay.dilation[1]
                            if 0 <= yy < h and 0 <= zz < wd:
                                out[:, o, y, z] += x[:, grp * cg + ci, yy, zz] * w[o, ci, i, j]
    return out


@pytest.mark.parametrize("groups,stride,padding,dilation,kernel", [
    (1, (1, 1), (1, 1), (1, 1), (3, 3)),
    (2, (2, 1), (0, 2), (1, 2), (3, 2)),
    (4, (1, 2), (2, 1), (2, 1), (2, 3)),  # depthwise
])
def test_conv_unroll_matches_direct(groups, stride, padding, dilation, kernel):
    rng = np.random.default_rng(0)
    c, co, h, w = 4, 8 if groups != 4 else 4, 7, 6
    ho = conv_out(h, kernel[0], stride[0], padding[0], dilation[0])
    wo = conv_out(w, kernel[1], stride[1], padding[1], dilation[1])
    lay = Layer("c", "conv", ("input",), (c, h, w), (co, ho, wo), kernel=kernel, stride=stride,
                padding=padding, dilation=dilation, groups=groups)
    x = rng.integers(0, 5, (2, c, h, w)).astype(np.int64)
    wt = rng.integers(-3, 4, (co, c // groups) + kernel).astype(np.int64)
    rows = input_rows(x, lay)          # (N*P, g, rows)
    mats = unrolled_weight(wt, lay)    # (g, rows, cols)
    assert rows.shape == (2 * ho * wo, groups, lay.weight_rows)
    assert mats.shape == (groups, lay.weight_rows, lay.weight_cols)
    y = np.einsum("pgr,grc->pgc", rows, mats)  # (N*P, g, cols)
    y = y.reshape(2, ho, wo, co).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(y, direct_conv(x, wt, lay))


def test_linear_unroll():
    lay = Layer("fc", "linear", ("input",), (3, 2, 2), (5, 1, 1))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 2, 2))
    w = rng.standard_normal((5, 12))
    y = input_rows(x, lay)[:, 0] @ unrolled_weight(w, lay)[0]
    np.testing.assert_allclose(y, x.reshape(4, -1) @ w.T)


def test_non_mvm_layer_refused():
    lay = Layer("r", "relu", ("input",), (1, 2, 2), (1, 2, 2))
    with pytest.raises(ValueError, match="no weights"):
        unrolled_weight(np.zeros(1), lay)
