"""Shared hardware the engine's processes contend for.

* :class:`Server` -- a unit with ``ports`` identical servers and a FIFO queue whose service
  time is known when a request arrives (eDRAM ports, the eDRAM-to-IMA bus, router links,
  off-chip links, tile shift-and-add / activation / max-pool units). A request *books*
  the earliest idle span of its service time at or after the time it is for, so a
  booking made ahead for a later time never blocks an earlier request that fits before
  it (causal: requests are granted in simulated-time order). This costs one timeout
  instead of a ``simpy.Resource``'s request + timeout + release events; contention is
  still a property of the model (queueing), not a formula. Busy time is accumulated
  for utilization. Requests made at the same time reach a server in the order of the
  engine's event queue, which :mod:`pimsim.sim.arbiter` ranks (the older image, then the
  lower copy index, first).
* :class:`StaticServer` -- the same units under ``engine.arbitration: oldest_first``
  (:mod:`pimsim.sim.arbiter`), whose requests come in any time order: each is served in
  the idle time the earlier bookings leave at or after its time, pausing for them (a
  static schedule with a preemptive priority for what was laid out first).
* Buffer *capacity* is a ring of row slots per consumer operand (``Edge.occupied`` in
  :mod:`pimsim.sim.buffers`: image-major row ``j`` waits for slot ``j % slots``, one
  waiting event, since slots are granted in row order): producers block on it (stall
  cause ``buffer_full``).
* In the ``event`` fidelity an ADC bank holding crossbars of two copies is a one-port
  unit of this module both copies book at each read's sample; a copy's own banks and
  its crossbars' one-read S+Hs are stepped inside the copy's process
  (:mod:`pimsim.sim.adc_banks`, ``Processes.reads_event``).
"""

from __future__ import annotations

import math
from bisect import bisect_right


class Server:
    """``ports`` identical servers granting requests in simulated-time order (times in ns).

    A request for ``service_ns`` arrives at ``now`` (and may not start before
    ``not_before``, e.g. when another unit of the same transfer is busy). Requests that
    arrive in time order are served first come, first served: the earliest-free port,
    from ``max(now, port free)``. A request that arrives *earlier* than one already
    booked (a booking made ahead for a later time, e.g. a NoC hop after an off-chip
    transfer) is not queued behind it: it takes the earliest idle span of its length at
    or after its arrival (``book(100, 10)`` then ``book(0, 10)`` gives ``(0, 10)``), so a
    booking made for the future never delays an earlier request, and no booking already
    granted moves. Bookings that end before an in-order arrival are forgotten; no later
    request is placed before the latest such end (``floor``), so nothing is double-booked.
    """

    __slots__ = ("name", "cal", "one", "floor", "last", "busy_ns", "by")

    def __init__(self, name: str, ports: int = 1):
        self.name = name
        self.cal: list[list[tuple[float, float]]] = [[] for _ in range(max(1, ports))]
        self.one = self.cal[0] if ports <= 1 else None   # the one port's calendar, if one
        self.floor = 0.0          # nothing may be placed before this (forgotten bookings)
        self.last = 0.0           # latest arrival served in order
        self.busy_ns = 0.0
        self.by: dict[int, float] = {}           # busy ns by requester (layer index)

    @staticmethod
    def _fit(cal: list[tuple[float, float]], t: float, service_ns: float) -> tuple[float, int]:
        """(earliest start >= t of an idle span of ``service_ns`` on one port, insert index)."""
        for i, (s, e) in enumerate(cal):
            if t + service_ns <= s:
                return t, i
            if e > t:
                t = e
        return t, len(cal)

    def idle_from(self, t: float) -> bool:
        """Some port has nothing booked after ``t``."""
        for cal in self.cal:
            if not cal or cal[-1][1] <= t:
                return True
        return False

    def earliest(self, now: float, service_ns: float, not_before: float = 0.0) -> float:
        """When a request arriving at ``now`` would start (no booking)."""
        t = not_before if not_before > now else now
        if now >= self.last:                      # in order: first come, first served
            cals = self.cal
            if len(cals) == 1:                    # one port: when its last booking ends
                cal = cals[0]
                free = cal[-1][1] if cal else 0.0
            else:
                free = min(cal[-1][1] if cal else 0.0 for cal in cals)
            return t if t >= free else free
        t = t if t > self.floor else self.floor
        return min(self._fit(cal, t, service_ns)[0] for cal in self.cal)

    def book(self, now: float, service_ns: float, not_before: float = 0.0,
             who: int = -1) -> tuple[float, float]:
        """Grant ``service_ns`` to a request arriving at ``now`` (from layer ``who``);
        (start, end) in ns."""
        t = not_before if not_before > now else now
        if now >= self.last:                      # in order: first come, first served
            one = self.one
            if one is not None:                   # one port (the common case): after
                # its last booking (bookings over by ``now`` are forgotten)
                start = one[-1][1] if one and one[-1][1] > t else t
                _take_one(self, one, now, start, service_ns, who)
                return start, start + service_ns
        self.busy_ns += service_ns
        self.by[who] = self.by.get(who, 0.0) + service_ns
        cals = self.cal
        if now >= self.last:
            self.last = now
            port, tail = 0, math.inf
            for p, cal in enumerate(cals):
                i = 0                             # forget bookings over by ``now``
                while i < len(cal) and cal[i][1] <= now:
                    i += 1
                if i:
                    if cal[i - 1][1] > self.floor:
                        self.floor = cal[i - 1][1]
                    del cal[:i]
                free = cal[-1][1] if cal else 0.0
                if free < tail:
                    port, tail = p, free
            start = t if t > tail else tail
            end = start + service_ns
            if service_ns > 0.0:
                cals[port].append((start, end))
            return start, end
        t = t if t > self.floor else self.floor  # arrived before a booking made ahead
        best, port, at = math.inf, 0, 0
        for p, cal in enumerate(cals):
            start, i = self._fit(cal, t, service_ns)
            if start < best:
                best, port, at = start, p, i
        end = best + service_ns
        if service_ns > 0.0:
            cals[port].insert(at, (best, end))
        return best, end


def book_together(now: float, servers: list[Server], services: list[float],
                  who: int = -1) -> tuple[float, float]:
    """Book several servers for one transfer (arriving at ``now``) that needs all of them
    at once (e.g. eDRAM port and bus for one buffer read; the servers are distinct).

    The transfer starts at the earliest time every server can grant it and holds each
    for its own service time; returns (start, end of the longest).
    """
    if len(servers) == 2:
        # the most common transfer: a tile's eDRAM port and bus, one port each, in order
        a, b = servers
        ca, cb = a.one, b.one
        if ca is not None and cb is not None and now >= a.last and now >= b.last:
            da, db = services
            # the start: when both are free; _take_one(a, ...), _take_one(b, ...) inlined
            # (each forgets the bookings over by ``now``, which end before the start)
            start = now
            if ca:
                e = ca[-1][1]
                if e <= now:
                    if e > a.floor:
                        a.floor = e
                    ca.clear()
                else:
                    start = e
                    if ca[0][1] <= now:
                        _forget(a, ca, now)
            if cb:
                e = cb[-1][1]
                if e <= now:
                    if e > b.floor:
                        b.floor = e
                    cb.clear()
                else:
                    if e > start:
                        start = e
                    if cb[0][1] <= now:
                        _forget(b, cb, now)
            a.busy_ns += da
            by = a.by
            try:
                by[who] += da
            except KeyError:
                by[who] = 0.0 + da
            a.last = now
            if da > 0.0:
                ca.append((start, start + da))
            b.busy_ns += db
            by = b.by
            try:
                by[who] += db
            except KeyError:
                by[who] = 0.0 + db
            b.last = now
            if db > 0.0:
                cb.append((start, start + db))
            return start, start + (da if da > db else db)
    elif len(servers) == 1:
        # one server (a tile's shift-and-add units), one port, in order
        a = servers[0]
        ca = a.one
        if ca is not None and now >= a.last:
            d = services[0]
            start = ca[-1][1] if ca and ca[-1][1] > now else now
            _take_one(a, ca, now, start, d, who)
            return start, start + d
    elif not servers:
        return now, now
    # common case: every server serves in order (no booking made ahead of ``now``): the
    # start is when the last of them is free (earliest()'s in-order rule), found in one
    # pass; else the general search below
    start = now
    for s in servers:
        if now < s.last:
            return _book_together_any(now, servers, services, who)
        cals = s.cal
        if len(cals) == 1:
            cal = cals[0]
            if cal and cal[-1][1] > start:
                start = cal[-1][1]
        else:                                # earliest-free port
            free = math.inf
            for cal in cals:
                f = cal[-1][1] if cal else 0.0
                if f < free:
                    free = f
            if free > start:
                start = free
    end = start
    for s, d in zip(servers, services):
        one = s.one
        if one is not None:
            _take_one(s, one, now, start, d, who)
        else:
            s.book(now, d, start, who)
        if start + d > end:
            end = start + d
    return start, end


def _take_one(s: Server, cal: list[tuple[float, float]], now: float, start: float,
              d: float, who: int) -> None:
    """``s.book(now, d, start, who)`` on a one-port server ``s`` (calendar ``cal``) whose
    bookings all end by ``start`` (the in-order rule): forget those over by ``now``."""
    s.busy_ns += d
    by = s.by
    try:
        by[who] += d
    except KeyError:
        by[who] = 0.0 + d
    s.last = now
    if cal:
        if cal[-1][1] <= now:
            if cal[-1][1] > s.floor:
                s.floor = cal[-1][1]
            cal.clear()
        elif cal[0][1] <= now:
            _forget(s, cal, now)
    if d > 0.0:
        cal.append((start, start + d))


def _forget(s: Server, cal: list[tuple[float, float]], now: float) -> None:
    """Drop the bookings of ``cal`` (one port of ``s``; the first is over by ``now``, the
    last is not) that are over by ``now``; ``s.floor`` keeps the latest end dropped."""
    i = 1
    while cal[i][1] <= now:
        i += 1
    if cal[i - 1][1] > s.floor:
        s.floor = cal[i - 1][1]
    del cal[:i]


def _book_together_any(now: float, servers: list[Server], services: list[float],
                       who: int) -> tuple[float, float]:
    """:func:`book_together` when some server has a booking made ahead of ``now``."""
    if all(isinstance(s, StaticServer) for s in servers):
        return book_static(now, servers, services, who)
    start = now
    for _ in range(len(servers) * 64):       # converges in a few rounds; bounded anyway
        t = start
        for s, d in zip(servers, services):
            t = max(t, s.earliest(now, d, t))
        if t == start:
            break
        start = t
    else:
        raise RuntimeError("book_together did not find a common idle span")
    end = start
    for s, d in zip(servers, services):
        s.book(now, d, start, who)
        end = max(end, start + d)
    return start, end


class StaticServer(Server):
    """``ports`` identical servers whose requests may come in any simulated-time order
    (times in ns): the shared units of the ``oldest_first`` arbitration
    (:class:`pimsim.sim.arbiter.OldestFirst`), which steps the images one after another,
    so a younger image's requests arrive after an older image's bookings for later times.

    A request is served in the idle time its port has left at or after its time
    (``max(now, not_before)``): it starts at the first idle moment and, where an earlier
    booking (an older image's, laid out first) begins before it is done, pauses for that
    booking and resumes after it, until its whole service is done: a preemptive priority,
    as a compile-time schedule that lays the older images out first and streams the
    younger ones' transfers through every gap they leave (a transfer is a stream of bus
    beats or row operations, so it need not fit a gap whole; no booking already made
    moves). With several ports a request uses one port at a time, whichever is idle (the
    one in use while it stays idle, else the lowest), and resumes on any port that is
    free: the unit never idles while a request waits, as with one port.
    Per port the busy time is kept as sorted, disjoint spans (their starts and ends, both
    increasing); with one port the spans a request passes are merged with it into one
    span, from its start to its end, since it fills every gap between. A request looks up
    the first span that ends after it by bisection. Spans that end by ``horizon()`` (the
    earliest time any later request can have) are forgotten; they could not hold a later
    request back.

    ``last`` stays at infinity and ``one`` at None, so that
    :func:`book_together` always asks :meth:`earliest` and :meth:`book`.
    """

    __slots__ = ("starts", "horizon", "trim_at")

    #: a port's calendar is trimmed to the horizon once it holds more spans than this
    #: (or than twice what the last trim kept, whichever is more: amortized)
    TRIM_AT = 32

    def __init__(self, name: str, ports: int = 1, horizon=None):
        super().__init__(name, ports)
        self.one = None
        self.last = math.inf
        self.starts: list[list[float]] = [[] for _ in self.cal]   # per port, sorted
        # ``cal`` holds each port's span ends (sorted); ``len(cal)`` is the port count
        self.horizon = horizon if horizon is not None else (lambda: -math.inf)
        self.trim_at = self.TRIM_AT

    @staticmethod
    def _fill(starts: list[float], ends: list[float], t: float,
              service_ns: float) -> tuple[float, float, int, int]:
        """Serve ``service_ns`` on one port in its idle time from ``t``: (start, end, index
        of the first span after the start, index after the last span the service passes)."""
        i = bisect_right(ends, t)               # the first span still busy after t
        n = len(ends)
        while i < n and starts[i] <= t:         # busy at t: start when that span ends
            t = ends[i]
            i += 1
        start, lo = t, i
        while i < n and starts[i] < t + service_ns:   # a span begins before it is done
            service_ns -= starts[i] - t
            t = ends[i]
            i += 1
        return start, t + service_ns, lo, i

    def idle_from(self, t: float) -> bool:
        return any(not ends or ends[-1] <= t for ends in self.cal)

    def _pieces(self, t: float, service_ns: float) -> tuple[float, float, list]:
        """Several ports: serve ``service_ns`` from ``t`` in the time some port is idle, one
        port at a time: the port in use while it stays idle, else the lowest idle one (a
        transfer paused on one port resumes on any other that is free). Returns (start,
        end, pieces ``(port, from, to)``)."""
        starts_all, ends_all = self.starts, self.cal
        left, cur, start, pieces = service_ns, -1, None, []
        while True:
            wake, idle = math.inf, []           # when a busy port frees; (port, idle until)
            for p, (starts, ends) in enumerate(zip(starts_all, ends_all)):
                i = bisect_right(ends, t)           # the first span still busy after t
                if i < len(ends) and starts[i] <= t:    # busy at t
                    if ends[i] < wake:
                        wake = ends[i]
                else:
                    idle.append((p, starts[i] if i < len(ends) else math.inf))
            if not idle:
                t = wake
                continue
            p, until = next((x for x in idle if x[0] == cur), idle[0])
            if start is None:
                start = t
            if left <= 0.0:
                return start, start, pieces
            if until >= t + left:
                pieces.append((p, t, t + left))
                return start, t + left, pieces
            pieces.append((p, t, until))
            left -= until - t
            t, cur = until, p

    def earliest(self, now: float, service_ns: float, not_before: float = 0.0) -> float:
        t = not_before if not_before > now else now
        if len(self.cal) == 1:
            return self._fill(self.starts[0], self.cal[0], t, service_ns)[0]
        return self._pieces(t, service_ns)[0]

    def book(self, now: float, service_ns: float, not_before: float = 0.0,
             who: int = -1) -> tuple[float, float]:
        """Serve ``service_ns`` from ``max(now, not_before)`` as the class doc says:
        (when it starts, when it is done), ns."""
        t = not_before if not_before > now else now
        if len(self.cal) == 1:
            return _serve_one(self, t, service_ns, who)
        self.busy_ns += service_ns
        self.by[who] = self.by.get(who, 0.0) + service_ns
        start, end, pieces = self._pieces(t, service_ns)
        for p, a, b in pieces:
            starts, ends = self.starts[p], self.cal[p]
            i = bisect_right(ends, a)            # spans before i end by a
            if i and ends[i - 1] == a:           # abuts the span before: extend it
                ends[i - 1] = b
                if i < len(ends) and starts[i] == b:     # and the one after: merge
                    ends[i - 1] = ends[i]
                    del starts[i], ends[i]
            elif i < len(ends) and starts[i] == b:
                starts[i] = a
            else:
                starts.insert(i, a)
                ends.insert(i, b)
            if len(ends) > self.trim_at:
                self.trim(starts, ends)
        return start, end

    def trim(self, starts: list[float], ends: list[float]) -> None:
        """Forget one port's spans that end by the horizon."""
        j = bisect_right(ends, self.horizon())
        if j:
            del starts[:j]
            del ends[:j]
        self.trim_at = max(self.TRIM_AT, 2 * len(ends))


def _serve_one(s: StaticServer, t: float, d: float, who: int) -> tuple[float, float]:
    """:meth:`StaticServer.book` of ``d`` ns from ``t`` on a one-port ``s``: (start, end)."""
    s.busy_ns += d
    s.by[who] = s.by.get(who, 0.0) + d
    starts, ends = s.starts[0], s.cal[0]
    if not ends or ends[-1] <= t:            # idle from t on: no gap to walk
        a, b = t, t + d
        if d > 0.0:
            starts.append(a)
            ends.append(b)
    else:
        a, b, lo, hi = StaticServer._fill(starts, ends, t, d)
        if d > 0.0:
            # the spans it passes and the service become one span (it filled every gap)
            starts[lo:hi] = (a,)
            ends[lo:hi] = (b,)
    if len(ends) > s.trim_at:
        s.trim(starts, ends)
    return a, b


def book_static(now: float, servers: list[Server], services: list[float],
                who: int = -1) -> tuple[float, float]:
    """:func:`book_together` under ``oldest_first``: on :class:`StaticServer` s only, each
    serves its part of the transfer in its own idle time from ``now``
    (:meth:`StaticServer.book`); the transfer starts when every part has started and ends
    when the last is done (one-port servers without the method call). With an uncontended
    unit among them (:class:`pimsim.sim.uncontended.Unqueued`), :func:`book_together`."""
    for s in servers:
        if not isinstance(s, StaticServer):
            return book_together(now, servers, services, who)
    start = end = now
    for s, d in zip(servers, services):
        a, b = _serve_one(s, now, d, who) if len(s.cal) == 1 else s.book(now, d, now, who)
        if a > start:
            start = a
        if b > end:
            end = b
    return start, end
