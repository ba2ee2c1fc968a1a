"""pimsim: a cycle-level simulator of ReRAM processing-in-memory accelerators.

Data flows one way (see docs/architecture.md):
config + trace -> mapping -> kernels/engine -> Result -> report.
"""

__version__ = "0.1.0"
