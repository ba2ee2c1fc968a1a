"""Shared hardware the engine's processes contend for.

* :class:`Server` -- a unit with ``ports`` identical servers and a FIFO queue whose service
  time is known when a request arrives (eDRAM ports, the eDRAM-to-IMA bus, router links,
  off-chip links, tile shift-and-add / activation / max-pool units). A request *books*
  the earliest free port: it starts at ``max(now, port free)`` and ends ``service`` later.
  This is exactly a ``simpy.Resource`` held for a known time by FIFO requesters, but costs
  one timeout instead of request + timeout + release events; contention is still a
  property of the model (queueing), not a formula. Busy time is accumulated for
  utilization.
* Buffer *capacity* is a count of row slots per consumer operand (``Edge.free`` in
  :mod:`pimsim.sim.buffers`, a ``simpy.Container`` of unit items reduced to a counter and
  one waiting event, since slots are granted in row order): producers block on it
  (stall cause ``buffer_full``).
* In the ``event`` fidelity the ADCs of a copy are a ``simpy.Resource`` (one S+H stage in
  front of them) so conversions and reads overlap and wait exactly as in hardware.
"""

from __future__ import annotations


class Server:
    """``ports`` FIFO servers booked at request time (times in ns)."""

    __slots__ = ("name", "free_at", "busy_ns", "ops")

    def __init__(self, name: str, ports: int = 1):
        self.name = name
        self.free_at = [0.0] * max(1, ports)
        self.busy_ns = 0.0
        self.ops = 0

    def book(self, now: float, service_ns: float) -> tuple[float, float]:
        """Reserve the earliest free port for ``service_ns``; (start, end) in ns."""
        free = self.free_at
        i = 0 if len(free) == 1 else min(range(len(free)), key=free.__getitem__)
        start = now if now > free[i] else free[i]
        end = start + service_ns
        self.free_at[i] = end
        self.busy_ns += service_ns
        self.ops += 1
        return start, end


def book_together(now: float, servers: list[Server], services: list[float]) -> tuple[float, float]:
    """Book several servers for one transfer that needs all of them at once.

    The transfer starts when every server has a free port and holds each for its own
    service time (e.g. eDRAM port and bus for one buffer read); returns (start, end of the
    longest).
    """
    if not servers:
        return now, now
    start = now
    for s in servers:
        start = max(start, min(s.free_at))
    end = start
    for s, t in zip(servers, services):
        s.book(start, t)
        end = max(end, start + t)
    return start, end
