"""Device non-idealities: programmed cell levels -> conductances in level units.

Each effect is one function ``effect(g, ctx, rng) -> g`` over a ``(rows, ncols)`` float64
array of absolute conductances in level units (one level step = (G_on - G_off) / L,
L = 2**bits_per_cell - 1; so an ideal cell at level l holds ``l + g_off``). They run in the
order of :data:`EFFECTS`; a plug-in adds one with :func:`register_effect`. Formulas and
sources: docs/functional.md.

* programming variation: gaussian ``g + sigma * L * N(0,1)`` (state-independent, as
  NeuroSim's device-to-device variation and aihwkit's additive weight noise), or
  lognormal ``g * exp(sigma * N(0,1))``; clipped at 0;
* stuck-at faults: a fraction of cells at G_off (stuck-at-0) or G_on (stuck-at-1);
* drift: ``g * (t / t0) ** -nu`` with ``nu ~ N(nu_mean, nu_sigma)`` per cell, nu >= 0
  (the power law aihwkit's PCM model uses; ReRAM retention loss is often fitted alike);
* IR drop (first order): a cell sees its own path's wire resistance in series,
  ``g / (1 + g * R_path / (R_on * L))`` with ``R_path = r_wire * (col + 1 + rows - row)``
  (row wire from the driver, column wire to the sense amplifier; other cells' currents on
  the same wires are neglected, so this underestimates the drop of a busy array).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pimsim.config.schema import NonIdeal
from pimsim.functional.cells import Datapath


@dataclass(frozen=True)
class CellContext:
    """What an effect may need besides the conductances."""

    nonideal: NonIdeal
    datapath: Datapath
    g_off: float             # off-state conductance in level units
    row_pos: np.ndarray      # (rows,) row inside its crossbar
    col_pos: np.ndarray      # (ncols,) physical column inside its crossbar


Effect = Callable[[np.ndarray, CellContext, np.random.Generator], np.ndarray]


def g_off_levels(ni: NonIdeal, dp: Datapath) -> float:
    """G_off in level units: G_off / G_on = f and G_on = L + G_off give G_off = f L / (1 - f)."""
    f = ni.g_off_frac
    return f * dp.levels_max / (1.0 - f)


def programming(g: np.ndarray, ctx: CellContext, rng: np.random.Generator) -> np.ndarray:
    sigma = ctx.nonideal.programming_sigma
    if sigma <= 0:
        return g
    if ctx.nonideal.programming == "lognormal":
        return g * np.exp(sigma * rng.standard_normal(g.shape))
    return np.maximum(g + sigma * ctx.datapath.levels_max * rng.standard_normal(g.shape), 0.0)


def stuck_at(g: np.ndarray, ctx: CellContext, rng: np.random.Generator) -> np.ndarray:
    off, on = ctx.nonideal.stuck_off_rate, ctx.nonideal.stuck_on_rate
    if off <= 0 and on <= 0:
        return g
    u = rng.random(g.shape)
    g = np.where(u < off, ctx.g_off, g)
    return np.where((u >= off) & (u < off + on), ctx.datapath.levels_max + ctx.g_off, g)


def drift(g: np.ndarray, ctx: CellContext, rng: np.random.Generator) -> np.ndarray:
    ni = ctx.nonideal
    if (ni.drift_nu <= 0 and ni.drift_nu_sigma <= 0) or ni.drift_time_s <= ni.drift_t0_s:
        return g
    nu = ni.drift_nu + ni.drift_nu_sigma * rng.standard_normal(g.shape)
    return g * (ni.drift_time_s / ni.drift_t0_s) ** (-np.maximum(nu, 0.0))


def ir_drop(g: np.ndarray, ctx: CellContext, rng: np.random.Generator) -> np.ndarray:
    ni = ctx.nonideal
    if ni.wire_resistance_ohm <= 0:
        return g
    segments = (ctx.col_pos[None, :] + 1) + (ctx.datapath.rows - ctx.row_pos[:, None])
    r_ratio = ni.wire_resistance_ohm * segments / ni.on_resistance_ohm
    return g / (1.0 + g * r_ratio / ctx.datapath.levels_max)


EFFECTS: dict[str, Effect] = {"programming": programming, "stuck_at": stuck_at, "drift": drift,
                              "ir_drop": ir_drop}
"""Applied in this order (programming, then faults found at test, drift until read time,
then the wires seen at read)."""


def register_effect(name: str, effect: Effect) -> None:
    """Add (or replace) a device effect; it runs after the built-in ones."""
    EFFECTS[name] = effect


def conductances(levels: np.ndarray, ctx: CellContext, rng: np.random.Generator) -> np.ndarray:
    """Conductances (level units, float64) of cells programmed to ``levels``."""
    g = np.asarray(levels, np.float64) + ctx.g_off
    for effect in EFFECTS.values():
        g = effect(g, ctx, rng)
    return g
