"""Finding user code where users keep it: plug-in modules and ``module:function`` specs.

A design point's ``plugins:`` modules and ``pimsim export``'s ``module:function`` are
imported from, in order: the design point's directory (plug-ins only), the current
working directory, then the normal ``sys.path`` (installed packages, PYTHONPATH). So a
``myplug.py`` beside ``mydesign.yaml`` or in the directory pimsim runs in is found
without setting PYTHONPATH -- also from the installed ``pimsim`` command, whose
``sys.path`` does not contain the working directory.

Installed packages can also register components through the entry-point group
``pimsim.components`` (``[options.entry_points] pimsim.components = name = pkg.module``):
their modules are imported the first time a design point names a model pimsim does not
know. Importing runs the module's code: a design point is trusted like a Python script.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Iterable

ENTRY_POINT_GROUP = "pimsim.components"

_loaded_entry_points = False


def import_user_module(name: str, extra_dirs: Iterable[str | os.PathLike] = ()):
    """Import ``name`` searching ``extra_dirs`` and the working directory first."""
    dirs = [str(Path(d).resolve()) for d in extra_dirs] + [os.getcwd()]
    added = [d for d in dict.fromkeys(dirs) if d not in sys.path]
    sys.path[:0] = added
    try:
        return importlib.import_module(name)
    finally:
        for d in added:
            try:
                sys.path.remove(d)
            except ValueError:
                pass


def load_entry_points() -> list[str]:
    """Import every module registered under ``pimsim.components`` (once); returns the
    names of the entry points loaded. An entry point that fails to import raises
    ``ConfigError`` naming it."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return []
    _loaded_entry_points = True
    from importlib.metadata import entry_points

    from pimsim.errors import ConfigError

    names = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:   # a broken installed plug-in: say which one
            raise ConfigError(f"cannot load installed component plug-in: {exc}",
                              where=f"entry point {ENTRY_POINT_GROUP}:{ep.name}",
                              found=ep.value) from None
        names.append(ep.name)
    return names


def reset_entry_points() -> None:
    """Forget that entry points were loaded (tests)."""
    global _loaded_entry_points
    _loaded_entry_points = False
