"""pimsim: a cycle-level simulator of ReRAM processing-in-memory accelerators.

Data flows one way (see docs/architecture.md):
config + trace -> mapping -> kernels/engine -> Result -> report.

The Python API (``pimsim.run``, ``pimsim.compare``, ``pimsim.sweep``) is in
:mod:`pimsim.api` and loads on first use, so ``import pimsim`` stays light.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "run", "compare", "sweep"]


def __getattr__(name: str):
    if name in ("run", "compare"):
        from pimsim import api

        return getattr(api, name)
    if name == "sweep":
        # The sweep package, callable: pimsim.sweep(...) runs pimsim.api.sweep.
        import pimsim.sweep as package

        return package
    raise AttributeError(f"module 'pimsim' has no attribute {name!r}")
