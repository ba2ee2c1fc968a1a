"""A diagnostic server that never queues: contention at a shared unit switched off.

:class:`Unqueued` is a :class:`pimsim.sim.resources.Server` with as many ports as
requests: a booking of ``service_ns`` arriving at ``now`` (not before ``not_before``)
starts at ``max(now, not_before)`` and ends ``service_ns`` later, whatever else is booked.
Only the queueing is removed, never a service time. ``run_engine(..., uncontended=
{"edram", "bus"})`` makes every server of those roles one of these
(``Engine.server``); the agreement of the closed form and the engine
(:mod:`pimsim.sim.agreement`) uses it to measure how much of image 0's latency each kind
of contention adds. It is not a design option: no hardware has unbounded ports.

Busy time and operations are still accumulated (utilization may then exceed 1).
``last`` stays at infinity so that :func:`pimsim.sim.resources.book_together` always takes
its general path for a transfer that includes one (the path that asks each server's
:meth:`earliest` and :meth:`book`), never the inlined in-order path that reads a
one-port calendar.
"""

from __future__ import annotations

import math

from pimsim.sim.resources import Server

#: ``uncontended`` entry that switches off every role's contention
ALL_ROLES = "*"


class Unqueued(Server):
    """A server with unbounded ports: every request starts when it arrives (ns)."""

    __slots__ = ()

    def __init__(self, name: str, ports: int = 1):
        super().__init__(name, ports)   # ``cal`` keeps the design's port count (utilization)
        self.last = math.inf            # never "in order": book_together asks book/earliest

    def idle_from(self, t: float) -> bool:
        return True

    def earliest(self, now: float, service_ns: float, not_before: float = 0.0) -> float:
        return not_before if not_before > now else now

    def book(self, now: float, service_ns: float, not_before: float = 0.0,
             who: int = -1) -> tuple[float, float]:
        self.busy_ns += service_ns
        self.by[who] = self.by.get(who, 0.0) + service_ns
        t = not_before if not_before > now else now
        return t, t + service_ns


def is_uncontended(role: str, roles: frozenset[str]) -> bool:
    """Whether servers of ``role`` are :class:`Unqueued` under the set ``roles``."""
    return role in roles or ALL_ROLES in roles


def checked(roles, arch) -> frozenset[str]:
    """``roles`` (an iterable of role names, or one name) as a set, every name a server
    role of ``arch`` (a component role, or ``noc_link``) or ``"*"``; ValueError otherwise."""
    roles = frozenset((roles,) if isinstance(roles, str) else roles)
    known = set(arch.counts) | {"noc_link", ALL_ROLES}
    unknown = sorted(roles - known)
    if unknown:
        raise ValueError(f"uncontended: no server role {', '.join(map(repr, unknown))}; "
                         f"expected some of {sorted(known)}")
    return roles
