"""Kernels: pure functions on numpy arrays (no Python objects inside).

The kernels that walk cells or activations (``endurance``, ``ou_activity``, ``bitstats``,
``ou_stats``) are numba kernels, each with a plain-numpy ``*_reference`` beside it. The
op-count rules (``counts``, ``unit_counts``) are vectorized numpy over crossbars and units,
each with a plain-Python loop ``*_reference`` (numba's one-time load per process would cost
more than they do: docs/performance.md "Start-up"). Tests compare every pair.
"""
