"""Placement of layers onto IMAs, tiles and chips.

Layers take consecutive IMAs in network order (IMA ``k`` sits in tile ``k // imas_per_tile``
of chip ``k // imas_per_chip``). Layers never share an IMA (its input and output registers
serve one layer) but may share a tile. A layer larger than what is left of a chip
continues on the next chip; the bits that then cross chips are charged to the off-chip
links (``pimsim.mapping.network_map``). The number of chips is the fewest that hold every
layer once (without replication); replication then fills those chips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.config.schema import Design
from pimsim.errors import ConfigError


@dataclass(frozen=True, eq=False)
class Placement:
    """Where each MVM layer's IMAs are (arrays indexed like the MVM layers)."""

    ima_start: np.ndarray        # first global IMA index
    imas: np.ndarray             # IMAs of the layer (all copies)
    first_tile: np.ndarray
    last_tile: np.ndarray
    first_chip: np.ndarray
    last_chip: np.ndarray
    chips: int


def imas_per_chip(design: Design) -> int:
    return design.tile.imas * design.chip.tiles


def chips_needed(network_name: str, imas_one_copy: int, design: Design) -> int:
    """Fewest chips that hold every layer once; ConfigError beyond ``chip.max_chips``."""
    per_chip = imas_per_chip(design)
    chips = max(1, -(-imas_one_copy // per_chip))
    if chips > design.chip.max_chips:
        raise ConfigError(
            f"network '{network_name}' needs {imas_one_copy} IMAs "
            f"({imas_one_copy * design.ima.crossbars} crossbars) without replication, i.e. "
            f"{chips} chips of {per_chip} IMAs", where="chip.max_chips",
            found=design.chip.max_chips, expected=f"max_chips >= {chips} (or larger chips)",
            file=design.source)
    return chips


def place(imas: np.ndarray, design: Design, chips: int) -> Placement:
    """Consecutive IMA ranges per layer, in order."""
    imas = np.asarray(imas, dtype=np.int64)
    start = np.concatenate(([0], np.cumsum(imas)[:-1])).astype(np.int64) if imas.size else imas
    last = start + np.maximum(imas, 1) - 1
    per_tile, per_chip = design.tile.imas, imas_per_chip(design)
    return Placement(ima_start=start, imas=imas, first_tile=start // per_tile,
                     last_tile=last // per_tile, first_chip=start // per_chip,
                     last_chip=last // per_chip, chips=chips)
