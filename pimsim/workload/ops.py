"""Digital layer work: which tile unit runs each digital kind / op, and how many unit
operations one output element costs.

One unit operation is one pass of one value through a 16-bit digital lane: a
multiply-add, a compare/clamp or a table look-up (the unit's energy and latency per
operation are component parameters, ``configs/isaac.yaml``). The counts per element
below follow each function's defining formula; an element-wise op that is not listed
runs on the ``digital`` unit (the generic digital unit) at ``GENERIC_OPS_PER_ELEMENT``
operations per element, and the exporter and importer warn, naming it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

#: op -> (unit role, operations per output element, the formula the count follows)
ELTWISE_OPS: dict[str, tuple[str, int, str]] = {
    "sigmoid": ("activation", 1, "one table look-up (ISAAC's sigmoid unit)"),
    "tanh": ("activation", 1, "one table look-up (ISAAC's sigmoid unit, tanh table)"),
    "hardsigmoid": ("eltwise", 1, "relu6(x + 3) / 6: one multiply-add with clamp "
                                  "(Howard et al., MobileNetV3, ICCV 2019)"),
    "silu": ("eltwise", 2, "x * sigmoid(x): a look-up and a multiply "
                           "(Elfwing et al., Neural Networks 2018)"),
    "gelu": ("eltwise", 3, "x * sigmoid(1.702 x): a multiply, a look-up and a multiply "
                           "(Hendrycks & Gimpel, arXiv:1606.08415, Sec. 2)"),
    "hardswish": ("eltwise", 2, "x * relu6(x + 3) / 6: a multiply-add with clamp and a "
                                "multiply (Howard et al., MobileNetV3, ICCV 2019)"),
    "mul": ("eltwise", 1, "one multiply per output element"),
    "add": ("eltwise", 1, "one add per output element (a constant or broadcast operand)"),
    "sub": ("eltwise", 1, "one subtract per output element"),
    "div": ("eltwise", 1, "one multiply by a reciprocal per output element"),
}

#: kind -> (unit role, operations per output element, formula); ``op``-specific kinds
#: (``upsample``, ``rnn_cell``) are keyed ``kind:op``.
KIND_OPS: dict[str, tuple[str, int, str]] = {
    "layernorm": ("layernorm", 1, "one normalised element (mean, variance, scale, shift; "
                                  "the unit's energy per element covers all passes)"),
    "softmax": ("softmax", 1, "one element (exponent look-up, sum, scale)"),
    "batchnorm": ("eltwise", 1, "one multiply-add (folded scale and shift) per element"),
    "upsample:nearest": ("eltwise", 1, "one copy per output element"),
    "upsample:bilinear": ("eltwise", 3, "three multiply-adds per output element (two "
                                        "horizontal lerps, one vertical)"),
    "embedding": ("eltwise", 1, "one table read per output element"),
    "rnn_cell:lstm": ("eltwise", 9, "per hidden unit: 3 sigmoids, 2 tanh, 3 multiplies, "
                                    "1 add (c = f*c + i*g, h = o*tanh(c); Hochreiter & "
                                    "Schmidhuber 1997)"),
    "rnn_cell:gru": ("eltwise", 8, "per hidden unit: 2 sigmoids, 1 tanh, 3 multiplies, "
                                   "2 adds (Cho et al., EMNLP 2014)"),
}

GENERIC_ROLE = "digital"
GENERIC_OPS_PER_ELEMENT = 1
"""Assumed cost of an element-wise op without a model: one generic digital-unit
operation per output element."""

#: The role that runs activation x activation matmuls when they are mapped on digital
#: units: one multiply-add per MAC.
MATMUL_ROLE = "eltwise"


class UnmodelledOpWarning(UserWarning):
    """An element-wise op without a cost model, run as a generic digital unit."""


@dataclass(frozen=True)
class DigitalWork:
    """The unit work of one digital layer: ``ops`` operations of ``role.op``."""

    role: str
    ops_per_element: int
    formula: str
    generic: bool = False


def digital_work(kind: str, op: str = "") -> DigitalWork | None:
    """Unit role and operations per output element of a digital kind (None otherwise)."""
    if kind == "eltwise":
        if op in ELTWISE_OPS:
            return DigitalWork(*ELTWISE_OPS[op])
        return DigitalWork(GENERIC_ROLE, GENERIC_OPS_PER_ELEMENT,
                           f"no model for '{op}': assumed one generic digital op per element",
                           generic=True)
    key = f"{kind}:{op}" if op else kind
    if key in KIND_OPS:
        return DigitalWork(*KIND_OPS[key])
    return None


def warn_unmodelled(op: str, where: str) -> None:
    """Warn that ``op`` (at ``where``) runs as a generic digital unit."""
    warnings.warn(
        f"{where}: no cost model for element-wise op '{op}'; it runs as a generic digital "
        f"unit (role '{GENERIC_ROLE}', assumed {GENERIC_OPS_PER_ELEMENT} "
        f"'{GENERIC_ROLE}.op' per output element)", UnmodelledOpWarning, stacklevel=3)


def eltwise_op_name(name: str) -> str:
    """A torch/ONNX function name as an ``eltwise`` op name (lower case, [a-z0-9_])."""
    out = "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")
    return {"swish": "silu", "hardtanh": "hardtanh", "multiply": "mul", "truediv": "div",
            "true_divide": "div", "divide": "div", "subtract": "sub"}.get(out, out) or "op"
