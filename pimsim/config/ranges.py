"""Plausible ranges of physical parameters: one declarative mechanism for every key.

A schema field (``pimsim.config.schema.spec(..., limits=(lo, hi), typical=(lo, hi))``) and a
component reference value (``Param(..., limits=..., typical=...)``) each carry:

* ``limits``: the range the models can evaluate meaningfully; outside it is an error
  (``ConfigError`` naming file and key). It keeps every later product and quotient finite:
  no ``ZeroDivisionError`` from a reference value of 0, no ``OverflowError`` from ``2**62``
  IMAs, no ``inf`` area from an energy of ``1e308``.
* ``typical``: the range published designs span; outside it is a warning
  (:class:`PlausibilityWarning`, printed once per key as ``pimsim: warning: ...``), because a
  user exploring the design space may mean it.

A component parameter without its own ranges gets its unit's (``UNIT_LIMITS``,
``UNIT_TYPICAL``); reference values (keys starting ``ref_``) are divisors in the scaling laws
and must be > 0. docs/configuration.md lists every key's ranges (generated).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from pimsim.errors import ConfigError

Range = tuple[float, float]


MIN_POSITIVE = 1e-9
"""Smallest value of a key that must be positive: such keys are divisors of the scaling laws,
and a denormal such as 2e-313 would make a ratio overflow to inf."""


class PlausibilityWarning(UserWarning):
    """A value outside the range published designs span (still evaluated)."""


#: unit -> hard limits for component table values (reference values at one unit).
UNIT_LIMITS: dict[str, Range] = {
    "pJ": (0.0, 1e6),          # 1 uJ per action: six orders above any published PIM action
    "um^2": (0.0, 1e8),        # 100 mm^2: a whole die for one unit
    "mW": (0.0, 1e5),          # 100 W for one unit
    "ns": (0.0, 1e9),          # one second per action
    "bits": (1.0, 4096.0),     # widths and resolutions: 0 bits would divide by zero
    "cells": (1.0, 65536.0),
    "bytes": (1.0, 2.0**40),
    "GS/s": (1e-6, 1e3),
    "GB/s": (0.0, 1e6),
    "units": (0.0, 1e6),
}
#: unit -> ranges published component tables span (outside: a warning).
UNIT_TYPICAL: dict[str, Range] = {
    "pJ": (0.0, 1e4),
    "um^2": (0.0, 1e7),
    "mW": (0.0, 1e4),
    "bits": (0.0, 1024.0),
    "GS/s": (1e-3, 100.0),
}


def finite_number(value: Any) -> bool:
    """True for an int or float (not bool) that is finite and fits a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _num(x: float) -> str:
    if x >= 2**16 and float(x).is_integer() and int(x) & (int(x) - 1) == 0:
        return f"2^{int(x).bit_length() - 1}"
    return f"{x:g}"


def fmt_range(rng: Range | None, positive: bool = False) -> str:
    """``[lo, hi]`` (``(0, hi]`` when 0 itself is excluded); '' for no range."""
    if rng is None:
        return ""
    lo, hi = rng
    left = "(" if positive and lo == 0 else "["
    return f"{left}{_num(lo)}, {_num(hi)}]"


def check_range(value: Any, *, unit: str, file: Any, where: str, limits: Range | None,
                typical: Range | None = None, positive: bool = False) -> None:
    """ConfigError when ``value`` (a finite number) is outside ``limits`` (or is <= 0 with
    ``positive``); a :class:`PlausibilityWarning` when it is outside ``typical``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a positive number" if positive else "a number"
        raise ConfigError(f"wrong type: must be {kind}", file=file, where=where, found=value,
                          expected=f"{kind} in {unit}")
    if not finite_number(value):
        raise ConfigError("not a finite number", file=file, where=where, found=value,
                          expected=f"a number in {unit}")
    if positive and value <= 0:
        raise ConfigError("must be positive", file=file, where=where, found=value,
                          expected=f"a value > 0 ({unit})")
    if limits is not None and value < 0 <= limits[0]:
        raise ConfigError("must not be negative", file=file, where=where, found=value,
                          expected=f"a value in {fmt_range(limits, positive)} {unit}")
    if limits is not None and not limits[0] <= value <= limits[1]:
        raise ConfigError("outside the range the models can evaluate", file=file, where=where,
                          found=value, expected=f"a value in {fmt_range(limits, positive)} {unit}"
                          " (docs/configuration.md)")
    if positive and value < MIN_POSITIVE:
        raise ConfigError("too small to divide by", file=file, where=where, found=value,
                          expected=f"a value >= {MIN_POSITIVE:g} ({unit})")
    if typical is not None and not typical[0] <= value <= typical[1]:
        warnings.warn(f"{file}: {where}: {value!r} {unit} is outside the range published "
                      f"designs span {fmt_range(typical)}; evaluated anyway",
                      PlausibilityWarning, stacklevel=2)
