"""Component registry: YAML names a model, the registry finds its class.

A plug-in component is one class decorated with ``@register("name")`` plus one YAML
entry ``model: name``; a design point's ``plugins:`` list imports the module first.
"""

from __future__ import annotations

import difflib
from typing import Any

from pimsim.errors import ConfigError

_MODELS: dict[str, type] = {}

#: Roles every design point must fill; the arch and the counting code address
#: components by role and action (e.g. ``("adc", "convert")``).
REQUIRED_ROLES = (
    "crossbar", "dac", "sample_hold", "adc", "shift_add", "input_register", "output_register",
    "edram", "bus", "router", "activation", "tile_shift_add", "maxpool", "tile_output_register",
    "offchip_link", "write_driver",
)


#: Optional roles pimsim places itself (at the tile, ``count`` per tile, default 1): the
#: digital units of the layer kinds beyond ISAAC's (``pimsim.workload.ops``). A design
#: point that runs such a layer needs the role (ConfigError names it otherwise).
DIGITAL_ROLES = ("eltwise", "layernorm", "softmax", "digital")


def register(name: str):
    """Class decorator: make ``cls`` available to YAML as ``model: name``."""

    def deco(cls: type) -> type:
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"component model '{name}' is already registered by {_MODELS[name]}")
        cls.model = name
        _MODELS[name] = cls
        return cls

    return deco


def lookup(name: Any, *, file: Any = None, where: str | None = None) -> type:
    """The class registered as ``name``; ConfigError with a suggestion otherwise.

    An unknown name first loads the installed plug-ins of the ``pimsim.components``
    entry-point group (``pimsim.plugins``), once."""
    if isinstance(name, str) and name not in _MODELS:
        from pimsim.plugins import load_entry_points
        load_entry_points()
    if not isinstance(name, str) or name not in _MODELS:
        close = difflib.get_close_matches(str(name), list(_MODELS), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(f"unknown component model{hint}", file=file, where=where, found=name,
                          expected="a registered model: " + ", ".join(sorted(_MODELS))
                          + " (or list your module under 'plugins:', or install a package with a "
                          "'pimsim.components' entry point)")
    return _MODELS[name]


def models() -> dict[str, type]:
    return dict(_MODELS)
