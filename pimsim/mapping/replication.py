"""Layer replication to balance the inter-layer pipeline (ISAAC, Sec. IV).

In a layer pipeline the slowest stage sets the image rate. A layer with ``P`` output
positions and ``c`` copies needs ``ceil(P / c)`` MVM periods per image. The greedy rule:
repeatedly take the bottleneck layer (largest ``ceil(P / c)``; ties go to the earlier
layer) and raise its copies to the smallest count that shortens it, while
``design.mapping.replicate`` is on, the new count is within ``max_replication`` and ``P``,
and the IMAs of all layers still fit the budget. The first step that cannot be taken
stops the search: replicating any other layer would not raise the rate.

The sequence of steps does not depend on the budget, so a larger budget never gives a
slower bottleneck (a property test checks it).
"""

from __future__ import annotations

import heapq

import numpy as np


def imas_needed(copies: np.ndarray, crossbars_per_copy: np.ndarray,
                ima_crossbars: int) -> np.ndarray:
    """IMAs of each layer: copies of one layer may share an IMA (its registers serve one
    layer), different layers never do."""
    return -(-(copies * crossbars_per_copy) // ima_crossbars)


def replicate(positions: np.ndarray, crossbars_per_copy: np.ndarray, *, ima_crossbars: int,
              budget_imas: int, max_replication: int, enabled: bool) -> np.ndarray:
    """Copies per MVM layer (int64 array) under the rule in the module doc."""
    positions = np.asarray(positions, dtype=np.int64)
    xb = np.asarray(crossbars_per_copy, dtype=np.int64)
    copies = np.ones_like(positions)
    if not enabled or positions.size == 0:
        return copies
    ima = imas_needed(copies, xb, ima_crossbars)
    used = int(ima.sum())
    # max-heap on periods per image; index breaks ties towards earlier layers
    heap = [(-int(p), i) for i, p in enumerate(positions)]
    heapq.heapify(heap)
    while heap:
        neg_periods, i = heap[0]
        periods = -neg_periods
        if periods <= 1:
            break
        # smallest copy count that gives fewer periods than now
        want = -(-int(positions[i]) // (periods - 1))
        if want > max_replication or want > positions[i]:
            break
        new_ima = -(-(want * int(xb[i])) // ima_crossbars)
        if used - int(ima[i]) + new_ima > budget_imas:
            break
        used += new_ima - int(ima[i])
        ima[i] = new_ima
        copies[i] = want
        new_periods = -(-int(positions[i]) // want)
        heapq.heapreplace(heap, (-new_periods, i))
    return copies
