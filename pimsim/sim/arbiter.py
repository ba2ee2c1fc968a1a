"""The engine's arbitration rule for requests at the same simulated time.

Shared units grant requests in simulated-time order (:mod:`pimsim.sim.resources`); what
two requests made at *exactly* the same time get is decided here, as a fixed-priority
arbiter would: the older image first, then the lower copy (or worker) index, then the
order the requests were made. The engine's events carry :func:`rank` as their priority in
the event queue (time, priority, insertion order), so the process of the older image's
request (then the lower copy's) runs first at a given time and books first. It orders
only what happens at one instant: a request made earlier is still served first, whatever
its image (no preemption). docs/engine.md ("Requests at the same time").
"""

from __future__ import annotations

from simpy.events import NORMAL

#: copies (or workers) of one layer: fewer than this (the image's weight in the rank)
COPY_SPAN = 1 << 32


def rank(img: int, k: int) -> int:
    """Event-queue priority of image ``img``'s request from copy (or worker) ``k``:
    smaller goes first at the same time; image 0's copy 0 is simpy's normal priority."""
    return NORMAL + img * COPY_SPAN + k
