"""Static energy of a run: every unit's static power over the time it is powered.

A unit's ``static_power_mW`` (leakage, or a link's idle power) is drawn

* all the time by an ungated unit: static power x units on the used chips x interval;
* only while busy by a ``power_gated`` unit (its idle units are switched off; wake-up
  time and energy are not modelled): static power x busy unit-time.

Busy unit-time comes from the run's action counts: a unit is busy for the time its
actions take at the rate the peak-power roll-up drives it (``peak_activity``: at that
rate every unit is busy all the time, so the roll-up's peak power is the power of a
unit that is never idle). An off-chip link is thus busy for bits / bandwidth. Roles
without a peak rate (write drivers, plug-in roles) take one action per
``latency_ns(action)``. Busy time is capped at units x interval.

Everything here is plain arithmetic on per-image counts ({"role.action": actions}) and
the interval (ns); the closed form and the engine call it alike.
"""

from __future__ import annotations

from typing import Mapping

from pimsim.arch.compose import CHIP, IMA, TILE, Arch
from pimsim.arch.rollup import mvm_period_ns, peak_activity


def units_on_chips(arch: Arch, role: str, chips: int) -> float:
    """Units of ``role`` on ``chips`` chips."""
    d = arch.design
    level, per = arch.counts[role]
    per_level = {IMA: d.tile.imas * d.chip.tiles, TILE: d.chip.tiles, CHIP: 1}[level]
    return per * per_level * chips


def peak_rate(arch: Arch) -> dict[tuple[str, str], float]:
    """(role, action) -> actions per ns of ONE unit at the roll-up's peak activity."""
    period = mvm_period_ns(arch)
    out = {}
    for (role, action), n in peak_activity(arch).items():
        per_level = arch.counts.get(role, (None, 0.0))[1]
        if per_level and n:
            out[(role, action)] = n / (per_level * period)
    return out


def busy_unit_ns(arch: Arch, counts: Mapping[str, float]) -> dict[str, float]:
    """role -> busy time summed over its units (unit-ns) for ``counts`` actions."""
    rates = peak_rate(arch)
    busy: dict[str, float] = {}
    for key, n in counts.items():
        role, action = key.split(".", 1)
        if role not in arch.parts or not n:
            continue
        rate = rates.get((role, action))
        t = n / rate if rate else n * arch.latency_ns(role, action)
        busy[role] = busy.get(role, 0.0) + t
    return busy


def static_energy_pJ(arch: Arch, chips: int, counts: Mapping[str, float],
                     interval_ns: float) -> dict[str, float]:
    """role -> static energy per image (pJ) over one ``interval_ns`` on ``chips`` chips,
    for per-image action ``counts``; gated roles pay only for their busy time."""
    busy = busy_unit_ns(arch, counts)
    out = {}
    for role, part in arch.parts.items():
        p = part.static_power_mW
        if not p:
            out[role] = 0.0
            continue
        powered = units_on_chips(arch, role, chips) * interval_ns      # unit-ns
        if part.power_gated:
            powered = min(powered, busy.get(role, 0.0))
        out[role] = p * powered                                      # mW x ns = pJ
    return out
