"""Design-space sweeps: many design points x traces on a process pool or a Dask cluster.

``load_sweep(path)`` validates a sweep file, ``run_sweep(sweep, out_dir)`` runs it
resumably into ``out_dir`` (docs/sweeps.md); ``run_point(spec)`` is the one function
every backend runs per point. Names load on first use, so ``pimsim --help`` stays fast.
"""

import sys
from importlib import import_module
from types import ModuleType

_WHERE = {"run_point": "point", "Summary": "runner", "run_sweep": "runner", "Sweep": "spec",
          "load_sweep": "spec"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f"pimsim.sweep.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'pimsim.sweep' has no attribute {name!r}")


class _CallablePackage(ModuleType):
    """``pimsim.sweep(...)`` is the Python API's sweep call (:func:`pimsim.api.sweep`)
    although ``pimsim.sweep`` is also this package: calling the package runs a sweep."""

    def __call__(self, *args, **kwargs):
        from pimsim.api import sweep

        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
