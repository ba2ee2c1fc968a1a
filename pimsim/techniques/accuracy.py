"""Accuracy of a (modified) traced model on the held-out real digits images (numpy only).

The executor runs the trace's layers in order: every MVM layer's input is quantized with
the trace's own activation quantization (``act_quant``: scale, zero point, bits), may be
changed by a technique in the integer im2col domain (activation pruning), and multiplies
the layer's weights (default: the trace's 8-bit ``weight_q x scale``; a technique passes
its modified float weights). Batch norm is folded into the traced weights and biases.

Data: the same 80/20 stratified split of scikit-learn's bundled digits that trained the
shipped models (``pimsim.workload.zoo.digits.digits_split``, re-done here without torch);
the network's input shape says the upsampling (32x32 = 4x pixel replication) and channels.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from pimsim.workload.layer import NETWORK_INPUT, Layer
from pimsim.workload.unroll import input_rows
from pimsim.workload.datasets import digits_split

# Same constants as pimsim.workload.zoo.digits (that module imports torch).
BATCH = 60

#: A run-time change of one layer's quantized im2col input ``(M, groups, rows)``: float32
#: holding the integer codes minus the zero point.
ActTransform = Callable[[np.ndarray], np.ndarray]


def digits_test_set(upsample: int = 1, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Held-out ``(x_test (360, C, 8u, 8u) float32, y_test (360,))``: the zoo's training split."""
    _, _, x_te, y_te = digits_split(upsample, channels)
    return x_te, y_te


def held_out_for(trace) -> tuple[np.ndarray, np.ndarray]:
    """The trace's held-out images: its bundled data set (digits or MNIST), else digits."""
    from pimsim.workload.datasets import held_out_set

    data = held_out_set(trace)
    if data is not None:
        return data
    c, h, _ = trace.network.input_shape
    return digits_test_set(h // 8, c)


def quantized_weights(trace) -> dict[str, np.ndarray]:
    """Float weights ``weight_q x scale`` of every MVM layer (the trace's 8-bit model)."""
    out = {}
    for lay in trace.network.mvm_layers:
        wq, scale = trace.weight_q(lay.name)
        out[lay.name] = wq.astype(np.float32) * np.float32(scale)
    return out


def _pool(x: np.ndarray, lay: Layer, reduce) -> np.ndarray:
    (kh, kw), (sh, sw), (ph, pw) = lay.kernel, lay.stride, lay.padding
    _, ho, wo = lay.out_shape
    fill = -np.inf if reduce is np.maximum else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    out = None
    for i in range(kh):
        for j in range(kw):
            win = xp[:, :, i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw]
            out = win.copy() if out is None else reduce(out, win)
    return out / (kh * kw) if reduce is np.add else out


def _mvm(x: np.ndarray, lay: Layer, w: np.ndarray, b: np.ndarray | None,
         quant: tuple[float, int, int], transform: ActTransform | None) -> np.ndarray:
    scale, zp, bits = quant
    q = np.clip(np.rint(x / np.float32(scale)) + zp, 0, (1 << bits) - 1).astype(np.float32) - zp
    n = x.shape[0]
    rows = input_rows(q, lay)                                   # (n * P, g, rows)
    if transform is not None:
        rows = transform(rows)
    g, wr, wc = lay.groups, lay.weight_rows, lay.weight_cols
    wm = np.asarray(w, np.float32).reshape(g, wc, wr)
    real = rows * np.float32(scale)
    if g == 1:
        y = real[:, 0, :] @ wm[0].T
    else:
        y = np.einsum("pgr,gcr->pgc", real, wm).reshape(real.shape[0], g * wc)
    if b is not None:
        y = y + b.astype(np.float32)
    c_out, ho, wo = lay.out_shape
    return np.ascontiguousarray(y.reshape(n, ho, wo, c_out).transpose(0, 3, 1, 2))


def run_model(trace, x: np.ndarray, weights: Mapping[str, np.ndarray] | None = None,
              act_transforms: Mapping[str, ActTransform] | None = None,
              biases: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Logits ``(N, classes)`` of the trace's network on input images ``x``
    (``biases``: replacement biases per layer, e.g. after fine-tuning)."""
    weights = weights or {}
    biases = biases or {}
    act_transforms = act_transforms or {}
    base = None
    vals: dict[str, np.ndarray] = {NETWORK_INPUT: x.astype(np.float32)}
    last = None
    for lay in trace.network:
        ins = [vals[s] for s in lay.inputs]
        if lay.is_mvm:
            if lay.name in weights:
                w = weights[lay.name]
            else:
                base = base if base is not None else quantized_weights(trace)
                w = base[lay.name]
            bias = (biases[lay.name] if lay.name in biases
                    else trace.bias(lay.name) if trace.has(lay.name, "bias") else None)
            y = _mvm(ins[0], lay, w, bias, trace.act_quant(lay.name), act_transforms.get(lay.name))
        elif lay.kind == "relu":
            y = np.maximum(ins[0], 0.0)
        elif lay.kind == "maxpool":
            y = _pool(ins[0], lay, np.maximum)
        elif lay.kind == "avgpool":
            y = _pool(ins[0], lay, np.add)
        elif lay.kind == "add":
            y = sum(ins[1:], ins[0])
        elif lay.kind == "flatten":
            y = ins[0].reshape(ins[0].shape[0], -1, 1, 1)
        else:
            raise ValueError(f"layer {lay.name!r}: kind {lay.kind!r} not executable")
        vals[lay.name] = y
        last = y
    return last.reshape(last.shape[0], -1)


_BASELINE: dict[tuple, float] = {}


def accuracy(trace, weights: Mapping[str, np.ndarray] | None = None,
             act_transforms: Mapping[str, ActTransform] | None = None,
             limit: int | None = None,
             biases: Mapping[str, np.ndarray] | None = None) -> float:
    """Top-1 accuracy in [0, 1] on the held-out digits (first ``limit`` images if given).

    The unmodified model's accuracy is computed once per trace file and limit (it is
    re-evaluated, never read from the trace's metadata)."""
    if not weights and not act_transforms and not biases:
        key = (str(trace.path), limit)
        if key not in _BASELINE:
            _BASELINE[key] = _accuracy(trace, None, None, limit)
        return _BASELINE[key]
    return _accuracy(trace, weights, act_transforms, limit, biases)


def _accuracy(trace, weights, act_transforms, limit, biases=None) -> float:
    x, y = held_out_for(trace)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    correct = 0
    for i in range(0, len(x), BATCH):
        logits = run_model(trace, x[i:i + BATCH], weights, act_transforms, biases)
        correct += int((logits.argmax(1) == y[i:i + BATCH]).sum())
    return correct / len(x) if len(x) else float("nan")
