"""numba kernels: pure functions on numpy arrays (no Python objects inside).

Each kernel has a plain-numpy ``*_reference`` beside it; tests compare the two.
"""
