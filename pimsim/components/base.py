"""The component model: one small class per kind of hardware unit.

A component is written once at its **reference point** (values from a YAML table, each
with its source beside it) and scales itself to the instance's parameters through laws
that live in code (pattern from Accelergy's hwcomponents). Per unit it exposes:

* ``area_mm2``          area of one unit (mm^2)
* ``static_power_mW``   leakage / idle power of one unit (mW): drawn all the time, or
                        only while busy when the unit is ``power_gated``
                        (``pimsim.arch.power``; docs/components.md says where each
                        design point's values come from)
* ``energy_pJ(action)`` dynamic energy of one action (pJ)
* ``latency_ns(action)`` time one action takes (ns)

Counts (how many units sit in an IMA, tile or chip) belong to ``pimsim.arch``.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from pimsim.errors import ConfigError
from pimsim.units import um2_to_mm2

REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One reference value of a component's YAML table."""

    unit: str
    doc: str
    default: Any = REQUIRED


#: Parameters every component table accepts.
COMMON_PARAMS: dict[str, Param] = {
    "model": Param("-", "registered component class name"),
    "area_um2": Param("um^2", "area of one unit at the reference point"),
    "static_power_mW": Param("mW", "leakage / idle power of one unit (0: see docs/components.md "
                             "for the reason per role)", 0.0),
    "power_gated": Param("bool", "power-gate idle units: static power is charged only for "
                         "the unit's busy time (pimsim.arch.power)", False),
    "source": Param("-", "where the reference values come from", ""),
    # Only read for plug-in roles pimsim does not place itself (pimsim.arch.compose):
    "level": Param("-", "plug-in roles only: 'ima', 'tile' or 'chip'", "tile"),
    "count": Param("units", "plug-in roles only: units per level", 1),
}


class Component:
    """Base class: subclasses declare ``PARAMS`` and ``ACTIONS`` and override the laws."""

    #: Registry name, set by :func:`pimsim.components.registry.register`.
    model: ClassVar[str] = ""
    #: Reference-value keys of the YAML table (beyond COMMON_PARAMS).
    PARAMS: ClassVar[dict[str, Param]] = {}
    #: action name -> what one action is (documentation and report labels).
    ACTIONS: ClassVar[dict[str, str]] = {}
    #: Instance parameters (from the design point) this class uses, with their unit.
    INSTANCE: ClassVar[dict[str, str]] = {}

    def __init__(self, table: dict, **instance: Any):
        self.ref = {k: table.get(k, p.default) for k, p in self.all_params().items()}
        self.inst = instance

    # -- laws: subclasses override --------------------------------------------------
    def area_scale(self) -> float:
        """Area of this instance relative to the reference point."""
        return 1.0

    def energy_scale(self, action: str) -> float:
        """Energy of ``action`` relative to the reference point."""
        return 1.0

    def latency_ns(self, action: str) -> float:
        """Time one ``action`` takes (ns); 0 when it is not on any critical path."""
        return 0.0

    # -- derived ------------------------------------------------------------------
    @property
    def area_mm2(self) -> float:
        return um2_to_mm2(self.ref["area_um2"]) * self.area_scale()

    @property
    def static_power_mW(self) -> float:
        return float(self.ref["static_power_mW"])

    @property
    def power_gated(self) -> bool:
        """Idle units are power-gated: static power only while busy."""
        return bool(self.ref.get("power_gated", False))

    def energy_pJ(self, action: str) -> float:
        if action not in self.ACTIONS:
            raise KeyError(f"{self.model} has no action '{action}' (has {', '.join(self.ACTIONS)})")
        return float(self.ref[f"{action}_energy_pJ"]) * self.energy_scale(action)

    @classmethod
    def all_params(cls) -> dict[str, Param]:
        params = {**COMMON_PARAMS, **cls.PARAMS}
        for action, what in cls.ACTIONS.items():
            params.setdefault(f"{action}_energy_pJ", Param("pJ", f"energy of {what} at the reference point"))
        return params

    @classmethod
    def check_table(cls, entry: dict, *, file: Any, where: str) -> dict:
        """Validate a YAML table for this class; return it with defaults filled."""
        params = cls.all_params()
        for key in entry:
            if key not in params:
                close = difflib.get_close_matches(str(key), list(params), n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ConfigError(f"unknown key '{key}' for model '{cls.model}'{hint}", file=file,
                                  where=f"{where}.{key}", expected="one of " + ", ".join(params))
        out = {}
        for key, p in params.items():
            value = entry.get(key, p.default)
            if value is REQUIRED:
                raise ConfigError(f"missing reference value '{key}' ({p.doc})", file=file,
                                  where=f"{where}.{key}", expected=f"a number in {p.unit}")
            if p.unit == "bool":
                if not isinstance(value, bool):
                    raise ConfigError("wrong type", file=file, where=f"{where}.{key}",
                                      found=value, expected="true or false")
                out[key] = value
                continue
            if p.unit == "-" and not isinstance(value, str):
                raise ConfigError("wrong type", file=file, where=f"{where}.{key}", found=value,
                                  expected="text")
            if p.unit != "-":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ConfigError("wrong type", file=file, where=f"{where}.{key}", found=value,
                                      expected=f"a number in {p.unit}")
                try:
                    finite = math.isfinite(float(value))
                except OverflowError:
                    finite = False
                if not finite:
                    raise ConfigError("not a finite number", file=file, where=f"{where}.{key}",
                                      found=value, expected=f"a value in {p.unit}")
                if value < 0:
                    raise ConfigError("must not be negative", file=file, where=f"{where}.{key}",
                                      found=value, expected=f"a value >= 0 {p.unit}")
            out[key] = value
        return out
