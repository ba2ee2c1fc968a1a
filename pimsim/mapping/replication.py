"""Layer replication to balance the inter-layer pipeline (ISAAC, Sec. IV).

In a layer pipeline the slowest stage sets the image rate. A layer with ``P`` output
positions and ``c`` copies needs ``ceil(P / c)`` MVM periods per image; it also loads the
shared units of the tiles its copies fill (eDRAM, bus, tile shift-and-add, and the
activation / max-pool / add units of the non-MVM layers it hosts), whose work per image
is spread over those tiles, so more copies (more tiles) relieve them too. The greedy
rule: repeatedly take the bottleneck layer (largest stage time, the larger of the two;
ties go to the earlier layer) and raise its copies to the smallest count that shortens
it, while
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


def tiles_needed(copies: int, crossbars_per_copy: int, ima_crossbars: int,
                 imas_per_tile: int) -> int:
    """Tiles ``copies`` copies of a layer fill (placed from the start of a tile)."""
    imas = -(-(copies * crossbars_per_copy) // ima_crossbars)
    return max(1, -(-imas // imas_per_tile))


def replicate(positions: np.ndarray, crossbars_per_copy: np.ndarray, *, ima_crossbars: int,
              budget_imas: int, max_replication: int, enabled: bool,
              position_ns: np.ndarray | None = None, tile_ns: np.ndarray | None = None,
              imas_per_tile: int = 1) -> np.ndarray:
    """Copies per MVM layer (int64 array) under the rule in the module doc.

    ``position_ns`` (per layer) is one copy's time per position; ``tile_ns`` ([layers,
    k]) is work per image on the units of the tiles a layer occupies (eDRAM, bus, tile
    shift-and-add, the digital units of the non-MVM layers it hosts), in ns x tiles: a
    stage takes ``max(ceil(P / c) x position_ns, max(tile_ns) / tiles(c))``. Without
    them the stage time is the number of periods ``ceil(P / c)``.
    """
    positions = np.asarray(positions, dtype=np.int64)
    xb = np.asarray(crossbars_per_copy, dtype=np.int64)
    copies = np.ones_like(positions)
    if not enabled or positions.size == 0:
        return copies
    pos_ns = (np.ones(positions.size) if position_ns is None
              else np.asarray(position_ns, dtype=np.float64))
    work = (np.zeros((positions.size, 1)) if tile_ns is None
            else np.asarray(tile_ns, dtype=np.float64).reshape(positions.size, -1))
    peak = work.max(axis=1) if work.size else np.zeros(positions.size)

    def stage(i: int, c: int) -> float:
        t = -(-int(positions[i]) // c) * float(pos_ns[i])
        if peak[i] > 0.0:
            t = max(t, float(peak[i]) / tiles_needed(c, int(xb[i]), ima_crossbars,
                                                        imas_per_tile))
        return t

    ima = imas_needed(copies, xb, ima_crossbars)
    used = int(ima.sum())
    # max-heap on stage times; index breaks ties towards earlier layers
    heap = [(-stage(i, 1), i) for i in range(positions.size)]
    heapq.heapify(heap)
    while heap:
        neg, i = heap[0]
        now, c = -neg, int(copies[i])
        # smallest copy counts that shorten the crossbar part / add a tile
        cands = []
        periods = -(-int(positions[i]) // c)
        if periods > 1:
            cands.append(-(-int(positions[i]) // (periods - 1)))
        if peak[i] > 0.0:
            tiles = tiles_needed(c, int(xb[i]), ima_crossbars, imas_per_tile)
            cands.append((tiles * imas_per_tile * ima_crossbars) // int(xb[i]) + 1)
        cands = sorted(set(cands))
        want = next((w for w in cands if stage(i, w) < now), None)
        if want is None and len(cands) > 1 and stage(i, cands[-1]) < now:
            want = cands[-1]
        if want is None:
            break
        if want > max_replication or want > positions[i]:
            break
        new_ima = -(-(want * int(xb[i])) // ima_crossbars)
        if used - int(ima[i]) + new_ima > budget_imas:
            break
        used += new_ima - int(ima[i])
        ima[i] = new_ima
        copies[i] = want
        heapq.heapreplace(heap, (-stage(i, want), i))
    return copies
