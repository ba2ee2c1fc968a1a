"""Speed / scale measurements (printed, not timed tests): ``python benchmarks/run_all.py``."""
