"""Optional dependencies in one place: import one, or raise a user-facing error that says
what needed it and how to install it (never a bare ImportError traceback).

The extras are declared in ``setup.cfg`` (``torch``, ``plot``, ``onnx``, ``pandas``, ...);
each hint below names the extra that brings the package.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pimsim.errors import PimsimError

TORCH_HINT = "pip install -e '.[torch]'   (the CPU wheel, torch==2.13.0)"
ONNX_HINT = "pip install -e '.[onnx]'   (or: pip install onnx)"
PLOT_HINT = "pip install -e '.[plot]'   (or: pip install matplotlib)"
PANDAS_HINT = "pip install -e '.[pandas]'   (or: pip install pandas)"


def require(module: str, purpose: str, hint: str, *, error: type[PimsimError] = PimsimError,
            where: str | None = None, also: tuple[str, ...] = ()) -> ModuleType:
    """Import ``module`` (and its submodules ``also``, e.g. ``("fx",)``) or raise ``error``:
    "``purpose`` needs ``module``", with ``hint`` as the expected fix."""
    try:
        mod = importlib.import_module(module)
        for sub in also:
            importlib.import_module(f"{module}.{sub}")
    except ImportError:
        raise error(f"{purpose} needs {module}, which is not installed", where=where,
                    expected=hint) from None
    return mod
