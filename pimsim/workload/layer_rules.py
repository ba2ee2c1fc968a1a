"""Shape rules of the digital, matmul and free layer kinds (used by the trace reader).

Each rule raises through ``bad(field, message, found, expected)``, the trace reader's
error factory, so a broken trace names its file, layer and field. The original kinds'
rules (conv, pooling, linear, relu, add, flatten) live in ``pimsim.workload.trace``.
"""

from __future__ import annotations

import math
from typing import Callable

from pimsim.workload.layer import MVM_KINDS, POOL_KINDS, Layer

#: Optional per-layer manifest keys (written only when set).
OPTIONAL_LAYER_KEYS = ("op", "ceil_mode", "shares")
#: Kinds whose producers may have shapes other than ``in_shape`` (checked here).
MULTI_INPUT_KINDS = ("eltwise", "concat", "matmul", "rnn_cell")
#: ``op`` values of the kinds with a fixed set; ``eltwise`` takes any op name (ops without
#: a cost model run as a generic digital unit, ``pimsim.mapping.digital``).
FIXED_OPS = {"upsample": ("nearest", "bilinear"), "rnn_cell": ("lstm", "gru")}
#: Gates per hidden unit of a recurrent cell: the cell's input is (gates x hidden, 1, 1).
RNN_GATES = {"lstm": 4, "gru": 3}
OP_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

Bad = Callable[[str, str, object, str], Exception]


def _broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    out = []
    for dims in zip(*shapes):
        big = max(dims)
        if any(d not in (1, big) for d in dims):
            return None
        out.append(big)
    return tuple(out)


def check_kind_rules(lay: Layer, producer_shapes: list[tuple], bad: Bad) -> None:
    """Check ``op``/``ceil_mode``/``shares`` and the shape rule of ``lay``'s kind."""
    kind = lay.kind
    c, h, w = lay.in_shape
    if kind == "eltwise":
        if not lay.op or not set(lay.op) <= OP_CHARS:
            raise bad("op", "an eltwise layer names its function", lay.op,
                      "a lower-case name such as sigmoid, gelu, mul")
    elif kind in FIXED_OPS:
        if lay.op not in FIXED_OPS[kind]:
            raise bad("op", f"unknown {kind} function", lay.op, " or ".join(FIXED_OPS[kind]))
    elif lay.op:
        raise bad("op", f"a {kind} layer has no op", lay.op, "no op key")
    if lay.ceil_mode and kind not in POOL_KINDS:
        raise bad("ceil_mode", f"a {kind} layer has no ceil_mode", True, "false")
    if lay.shares and kind not in MVM_KINDS:
        raise bad("shares", f"a {kind} layer has no weights to share", lay.shares,
                  "no shares key")
    same = lay.out_shape == lay.in_shape
    if kind in ("layernorm", "softmax", "batchnorm") and not same:
        raise bad("out_shape", f"{kind} keeps the shape", list(lay.out_shape), str(list(lay.in_shape)))
    if kind == "eltwise":
        bc = _broadcast(list(producer_shapes))
        if bc is None or bc != lay.out_shape:
            raise bad("out_shape", "eltwise output is the broadcast of its inputs",
                      list(lay.out_shape),
                      f"the broadcast of {[list(s) for s in producer_shapes]}")
    elif kind == "upsample":
        sh, sw = lay.stride
        if lay.out_shape != (c, h * sh, w * sw):
            raise bad("out_shape", "upsample scales H and W by the stride (scale factor)",
                      list(lay.out_shape), str([c, h * sh, w * sw]))
        for fld, default in (("kernel", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1))):
            if getattr(lay, fld) != default:
                raise bad(fld, "an upsample layer has only a scale (stride)",
                          list(getattr(lay, fld)), str(list(default)))
    elif kind == "embedding":
        if (h, w) != (1, 1) or lay.out_shape[0] != c or lay.out_shape[2] != 1:
            raise bad("out_shape", "an embedding maps (T, 1, 1) token ids to (T, E, 1)",
                      list(lay.out_shape), f"[{c}, E, 1] from in_shape [T, 1, 1]")
    elif kind == "rnn_cell":
        gates = RNN_GATES[lay.op]
        hidden = lay.out_shape[0]
        if lay.out_shape != (hidden, 1, 1) or lay.in_shape != (gates * hidden, 1, 1):
            raise bad("out_shape", f"an {lay.op} cell maps ({gates} x hidden, 1, 1) gate "
                      "sums to (hidden, 1, 1)", list(lay.out_shape),
                      f"[{c // gates}, 1, 1] for in_shape {list(lay.in_shape)}")
        if len(producer_shapes) > 2 or any(s != lay.out_shape for s in producer_shapes[1:]):
            raise bad("inputs", "a cell reads its gate sums and optionally the previous "
                      "cell", [list(s) for s in producer_shapes],
                      f"one or two producers, the second of shape {list(lay.out_shape)}")
    elif kind == "matmul":
        if len(producer_shapes) != 2:
            raise bad("inputs", "a matmul has two producers", list(lay.inputs), "[a, b]")
        b, m, k = lay.in_shape
        b2, k2, n = producer_shapes[1]
        if k2 != k or b2 not in (b, 1):
            raise bad("inputs", "matmul operands do not chain: (batch, M, K) x (batch, K, N)",
                      [list(s) for s in producer_shapes], f"a second operand [{b} or 1, {k}, N]")
        if lay.out_shape != (b, m, n):
            raise bad("out_shape", "a matmul outputs (batch, M, N)", list(lay.out_shape),
                      str([b, m, n]))
    elif kind == "concat":
        axes = [a for a in range(3) if len({s[a] for s in producer_shapes}) > 1
                or lay.out_shape[a] != producer_shapes[0][a]]
        ok = len(axes) <= 1 and all(
            s[a] == lay.out_shape[a] for s in producer_shapes for a in range(3) if a not in axes)
        if ok and axes:
            # parts from stored constants (a class token) may make up the rest
            ok = sum(s[axes[0]] for s in producer_shapes) <= lay.out_shape[axes[0]]
        if not ok:
            raise bad("out_shape", "concat joins its inputs along one axis",
                      list(lay.out_shape),
                      f"inputs {[list(s) for s in producer_shapes]} joined along C, H or W "
                      "(stored constant parts may add to it)")
    elif kind == "slice":
        diff = [a for a in range(3) if lay.out_shape[a] != lay.in_shape[a]]
        if len(diff) > 1 or any(lay.out_shape[a] > lay.in_shape[a] for a in diff):
            raise bad("out_shape", "a slice takes part of its input along one axis",
                      list(lay.out_shape), f"at most {list(lay.in_shape)}, one axis smaller")
    elif kind == "reshape":
        if math.prod(lay.out_shape) != math.prod(lay.in_shape):
            raise bad("out_shape", "a reshape keeps the element count", list(lay.out_shape),
                      f"C*H*W = {c * h * w}")
