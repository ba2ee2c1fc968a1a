"""Endurance: weights to physical cells, per-cell write counting, row swaps, lifetime and
the write-cost model of in-memory training. No torch needed."""
