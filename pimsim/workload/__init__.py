"""Workloads: the layer model, trace files, and the PyTorch exporter.

``import pimsim.workload`` never imports torch: :func:`export_torch` and
:func:`export_command` are loaded on first use.
"""

from __future__ import annotations

from typing import Any

from pimsim.workload.layer import LAYER_KINDS, MVM_KINDS, POOL_KINDS, Layer, Network, conv_out
from pimsim.workload.trace import (FORMAT_VERSION, TensorData, Trace, load_network, load_trace,
                                   save_trace, validate_trace)

__all__ = ["FORMAT_VERSION", "LAYER_KINDS", "MVM_KINDS", "POOL_KINDS", "Layer", "Network",
           "TensorData", "Trace", "conv_out", "load_network",
           "load_trace", "save_trace", "validate_trace"]

# export_torch and export_command are left out of __all__ so `import *` stays torch-free.
_LAZY = {"export_torch": "pimsim.workload.export", "export_command": "pimsim.workload.export"}


def __getattr__(name: str) -> Any:
    # Lazy so that the simulator side works without torch installed.
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pimsim.workload' has no attribute {name!r}")
