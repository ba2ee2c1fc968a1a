"""Trace tensors as crossbar operands: unrolled weight matrices and input row vectors.

A conv layer computes, at each output position, ``rows = kh*kw*C_in/groups`` inputs times
a ``rows x cols`` weight matrix per group (``cols = C_out/groups``). Row order is
``(channel, kernel row, kernel column)``, PyTorch's ``weight.reshape`` and ``F.unfold``
order, so row ``r`` of :func:`unrolled_weight` multiplies element ``r`` of
:func:`input_rows`. These feed :mod:`pimsim.kernels.bitstats`.
"""

from __future__ import annotations

import numpy as np

from pimsim.workload.layer import Layer


def unrolled_weight(weight: np.ndarray, layer: Layer) -> np.ndarray:
    """``(groups, rows, cols)`` matrices from a conv ``(C_out, C_in/g, kh, kw)`` or
    linear ``(out, in)`` weight; any dtype (float or quantized ints)."""
    if not layer.is_mvm:
        raise ValueError(f"layer {layer.name!r} ({layer.kind}) has no weights")
    g, rows, cols = layer.groups, layer.weight_rows, layer.weight_cols
    w = np.asarray(weight).reshape(g, cols, rows)
    return np.ascontiguousarray(w.transpose(0, 2, 1))


def input_rows(acts: np.ndarray, layer: Layer) -> np.ndarray:
    """Input vectors ``(N * H_out * W_out, groups, rows)`` of sampled activations
    ``(N, C, H, W)``: one vector per sample and output position (im2col), zero-padded.

    Padding inserts the value 0; for activations stored with a ``zero_point`` the padded
    real value would be ``zero_point``: pass ``acts - zero_point`` to see real zeros.
    """
    if not layer.is_mvm:
        raise ValueError(f"layer {layer.name!r} ({layer.kind}) has no crossbar inputs")
    a = np.asarray(acts)
    n = a.shape[0]
    if layer.kind == "linear":
        return a.reshape(n, 1, -1)
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    (ph, pw), (dh, dw) = layer.padding, layer.dilation
    _, ho, wo = layer.out_shape
    c = layer.in_shape[0]
    padded = np.pad(a, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=a.dtype)
    for i in range(kh):  # kh*kw strided copies instead of a Python loop per position
        for j in range(kw):
            cols[:, :, i, j] = padded[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh,
                                      j * dw: j * dw + sw * (wo - 1) + 1: sw]
    g = layer.groups
    out = cols.reshape(n, g, (c // g) * kh * kw, ho * wo)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2).reshape(n * ho * wo, g, -1))
