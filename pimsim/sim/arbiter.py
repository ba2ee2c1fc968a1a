"""The engine's arbitration rule for requests at the same simulated time.

Shared units grant requests in simulated-time order (:mod:`pimsim.sim.resources`); what
two requests made at *exactly* the same time get is decided here, as a fixed-priority
arbiter would: the older image first, then the lower copy (or worker) index, then the
order the requests were made. The engine's events carry :func:`rank` as their priority in
the event queue (time, priority, insertion order), so the process of the older image's
request (then the lower copy's) runs first at a given time and books first. It orders
only what happens at one instant: a request made earlier is still served first, whatever
its image (no preemption). docs/engine.md ("Requests at the same time").

That is the default rule, :class:`Fifo`. ``engine.arbitration`` in the design point picks
one of :data:`ARBITRATIONS`: :class:`OldestFirst` is a strict priority by image (image
``k`` is never delayed by a later image; docs/engine.md, "Oldest image first"). A rule
is one class here: the shared units it builds and the order it pops the event queue in.
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL

from pimsim.errors import EngineError
from pimsim.sim.resources import Server, StaticServer, book_static, book_together

#: copies (or workers) of one layer: fewer than this (the image's weight in the rank)
COPY_SPAN = 1 << 32


def rank(img: int, k: int) -> int:
    """Event-queue priority of image ``img``'s request from copy (or worker) ``k``:
    smaller goes first at the same time; image 0's copy 0 is simpy's normal priority."""
    return NORMAL + img * COPY_SPAN + k


class Fifo:
    """``engine.arbitration: fifo`` (the default): one event queue in simulated-time
    order; shared units serve requests first come, first served (:class:`Server`), and
    at one instant the older image, then the lower copy, first (:func:`rank`)."""

    #: pops the next (time, priority, id, fn, arg) of the engine's queue (pimsim.sim.events)
    pop = staticmethod(heappop)
    #: books a transfer on several shared units at once (pimsim.sim.resources)
    book_together = staticmethod(book_together)

    def __init__(self, env: simpy.Environment):
        self.env = env

    def server(self, name: str, ports: int) -> Server:
        """A shared unit of ``ports`` ports."""
        return Server(name, ports)


class OldestFirst:
    """``engine.arbitration: oldest_first``: a strict priority by image. Image ``k`` is
    never delayed by an image after it, so image 0's latency is its latency alone for any
    number of images in flight (docs/engine.md, "Oldest image first").

    The event queue is processed image-major: every event of image 0 in time order, then
    image 1's, ... (an event's image is that of its :func:`rank`; simpy's own priorities
    belong to the image being stepped). Events of younger images met in the queue are set
    aside in one heap per image until the older images have no event left, so simulated
    time goes back when the next image's turn starts. Shared units are
    :class:`StaticServer` s: a younger image's request is served in the idle time the older
    images' bookings leave, pausing for them (a preemptive priority). The engine's other state that a
    younger image reads is a time (a buffer slot's free time, an output stage's end), not a
    flag (pimsim.sim.buffers, pimsim.sim.processes), so it sees an older image's use of it
    when that use happened.
    """

    #: books a transfer on several shared units at once: each in its own idle time
    book_together = staticmethod(book_static)

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.image = 0                            # the image whose events are stepped
        self.lo = NORMAL                          # priorities of older images: (NORMAL, lo)
        self.hi = NORMAL + COPY_SPAN              # priorities of images after it: >= hi
        self.waiting: dict[int, list] = {}        # younger image -> its heap of events
        self.younger = math.inf                   # earliest time of an event set aside

    def server(self, name: str, ports: int) -> Server:
        """A shared unit of ``ports`` ports booked in any time order."""
        return StaticServer(name, ports, self.horizon)

    def horizon(self) -> float:
        """The earliest time any request still to come can be for (ns): no event of the
        image being stepped is earlier than now, none set aside earlier than ``younger``,
        and an event's requests are for its time or later."""
        now = self.env._now
        return now if now < self.younger else self.younger

    def pop(self, _queue=None) -> tuple:
        """The next event of the image-major order; IndexError when none is left."""
        env = self.env
        while True:
            queue = env._queue
            if queue:
                item = heappop(queue)
                if item[1] < self.hi:
                    if NORMAL < item[1] < self.lo:
                        raise EngineError(f"engine.arbitration 'oldest_first': an event of "
                                          f"image {(item[1] - NORMAL) // COPY_SPAN} queued "
                                          f"while image {self.image} is stepped (a defect "
                                          "of the model: an older image's work must not "
                                          "wait on a younger one's)", where="engine.arbitration",
                                          expected="'fifo'; please report it with the "
                                          "design point and trace")
                    return item
                img = (item[1] - NORMAL) // COPY_SPAN    # a younger image's: set aside
                heap = self.waiting.get(img)
                if heap is None:
                    heap = self.waiting[img] = []
                heappush(heap, item)
                if item[0] < self.younger:
                    self.younger = item[0]
                continue
            if not self.waiting:
                raise IndexError("no event left")
            self.image = min(self.waiting)
            self.lo = NORMAL + self.image * COPY_SPAN
            self.hi = self.lo + COPY_SPAN
            # the same list object: processes keep a reference to the queue they push to
            queue[:] = self.waiting.pop(self.image)
            self.younger = min((h[0][0] for h in self.waiting.values()), default=math.inf)


#: engine.arbitration -> the rule (a plug-in: one class and one entry here)
ARBITRATIONS: dict[str, type] = {"fifo": Fifo, "oldest_first": OldestFirst}
