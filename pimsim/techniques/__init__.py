"""Sparsity techniques as transformations of the mapped workload (docs/techniques.md):
ERA-BS (``erabs``), PIM-Prune (``pimprune``), structured pruning at CIM granularity
(``cim_pruning``); schedules (``schedule``), accuracy on held-out digits (``accuracy``),
entry points (``apply``, ``commands``)."""
