"""Design-space sweeps: many design points x traces on a process pool or a Dask cluster.

``load_sweep(path)`` validates a sweep file, ``run_sweep(sweep, out_dir)`` runs it
resumably into ``out_dir`` (docs/sweeps.md); ``run_point(spec)`` is the one function
every backend runs per point.
"""

from pimsim.sweep.point import run_point
from pimsim.sweep.runner import Summary, run_sweep
from pimsim.sweep.spec import Sweep, load_sweep

__all__ = ["Summary", "Sweep", "load_sweep", "run_point", "run_sweep"]
