"""Unit work of the non-MVM layers, and the crossbar mapping of attention's matmuls.

Every non-MVM layer runs on one kind of tile unit (a *role*): ReLU on ``activation``,
pooling on ``maxpool``, residual adds on ``tile_shift_add``, and the digital kinds on
the role :func:`pimsim.workload.ops.digital_work` names, at its operations per output
element. The engine and the closed form book a layer's ``unit_ops`` on that role's
units of the host tiles (one generic path for every kind); the digital roles' counts
enter the energy breakdown as ``"role.op"`` columns.

An activation x activation matmul (attention) has no weights to keep in crossbars. The
design point's ``mapping.attention`` chooses: ``digital`` runs its MACs as multiply-adds
on the ``eltwise`` units; ``crossbar_write`` writes the second operand (``batch`` blocks
of K x N) into crossbars once per inference -- charged through the write drivers -- and
reads it like a grouped 1x1 convolution over the M rows of the first operand.
"""

from __future__ import annotations

import numpy as np

from pimsim.config.schema import Design
from pimsim.errors import ConfigError
from pimsim.workload.layer import POOL_KINDS, Layer
from pimsim.workload.ops import MATMUL_ROLE, digital_work

#: (role, action) of the original unit kinds
CLASSIC = {"relu": ("activation", "op"), "add": ("tile_shift_add", "accumulate")}


def unit_work(layer: Layer) -> tuple[str, str, int]:
    """(role, action, operations per image) of a non-MVM layer on the digital path
    (``mapping.attention: digital`` for a matmul); ``("", "", 0)`` for free layers."""
    if layer.kind in POOL_KINDS:
        return "maxpool", "op", layer.out_elems * layer.kernel[0] * layer.kernel[1]
    if layer.kind in CLASSIC:
        role, action = CLASSIC[layer.kind]
        ops = layer.out_elems * max(1, len(layer.inputs) - 1) if layer.kind == "add" \
            else layer.out_elems
        return role, action, ops
    if layer.is_matmul:
        return MATMUL_ROLE, "op", layer.macs
    work = digital_work(layer.kind, layer.op)
    if work is None:
        return "", "", 0
    return work.role, "op", layer.out_elems * work.ops_per_element


def matmul_as_conv(layer: Layer) -> Layer:
    """The grouped 1x1 convolution a crossbar-written matmul reads like: the second
    operand's ``batch`` K x N blocks are the weights, the first operand's M rows are the
    positions (``(batch*K, M, 1)`` in, ``(batch*N, M, 1)`` out, ``groups = batch``)."""
    b, m, k, n = layer.matmul_dims
    return Layer(name=layer.name, kind="conv", inputs=layer.inputs[:1], in_shape=(b * k, m, 1),
                 out_shape=(b * n, m, 1), groups=b)


def write_time_ns(rows: np.ndarray, design: Design, pulse_ns: float) -> float:
    """Programming time of one copy: crossbars in parallel, each ``ceil(rows / drivers)``
    pulse sequences (the write-driver rule of ``pimsim.sim.weights.program_cost``)."""
    if not rows.size:
        return 0.0
    drivers = design.crossbar.write_drivers
    return float((-(-rows.astype(np.int64) // drivers)).max()) * pulse_ns


def check_role(role: str, layer: Layer, parts, design: Design) -> None:
    """ConfigError when the design has no ``role`` component that ``layer`` needs."""
    if role and role not in parts:
        raise ConfigError(f"layer '{layer.name}' ({layer.kind}{' ' + layer.op if layer.op else ''})"
                          f" runs on the '{role}' unit, which this design point lacks",
                          file=design.source, where=f"components.{role}",
                          expected=f"a '{role}' component entry (configs/isaac.yaml has one)")


def units_per_tile(arch, role: str) -> float:
    """Units of ``role`` in one tile (an IMA-level role: all the tile's IMAs' units)."""
    level, count = arch.counts[role]
    d = arch.design
    return count * (d.tile.imas if level == "ima" else 1) / (d.chip.tiles if level == "chip" else 1)
