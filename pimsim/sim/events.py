"""The engine's event queue entries: what the event loop (``Engine._loop``) calls.

simpy's queue holds ``(time, priority, insertion, event)`` and its loop runs each event's
``callbacks`` list; a simpy ``Process`` resumes its generator from such a callback. The
engine's queue (:class:`Env`, a ``simpy.Environment``) holds ``(time, priority, insertion,
fn, arg)`` and its loop calls ``fn(arg)``: no callbacks list and no event object per
timeout. The order is simpy's (time, priority, insertion), so a run steps the same
events in the same order as with simpy's own events, minus the no-op event simpy
schedules when a process ends.

* :class:`Proc` -- a process: a generator that yields ``(delay ns, priority)`` to sleep
  (:func:`pimsim.sim.processes.later` without a callback), a :class:`Signal` to wait for
  it, or a simpy event;
* :class:`Signal` -- a one-shot event one process waits on (a row arrived, a slot or the
  turn is free);
* simpy's own events (``Env.schedule``) are entries calling :func:`fire`, which runs their
  callbacks as simpy's loop does.
"""

from __future__ import annotations

from heapq import heappop, heappush

import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL, URGENT


def fire(event) -> None:
    """Process a simpy event as ``simpy.Environment.step`` does: run its callbacks; a
    failed event that nobody defused raises."""
    callbacks, event.callbacks = event.callbacks, None
    for callback in callbacks:
        callback(event)
    if not event._ok and not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


class Env(simpy.Environment):
    """simpy's environment with ``(time, priority, insertion, fn, arg)`` queue entries
    (module docstring); ``process(generator)`` starts a :class:`Proc`; ``step`` / ``run``
    as simpy's (the engine's loop inlines ``step``)."""

    def schedule(self, event, priority=NORMAL, delay=0) -> None:
        heappush(self._queue, (self._now + delay, priority, next(self._eid), fire, event))

    def process(self, generator) -> "Proc":        # type: ignore[override]
        return Proc(self, generator)

    def step(self) -> None:
        try:
            self._now, _, _, fn, arg = heappop(self._queue)
        except IndexError:
            raise EmptySchedule() from None
        fn(arg)


class Proc:
    """A process: ``generator`` stepped from the event loop (:func:`step`). Started at
    the current time with simpy's urgent priority, as simpy's ``Initialize`` event does."""

    __slots__ = ("env", "send")

    def __init__(self, env: Env, generator):
        self.env = env
        self.send = generator.send
        heappush(env._queue, (env._now, URGENT, next(env._eid), step, self))

    def resume(self, _event) -> None:
        """A simpy event's callback: resume the process."""
        step(self)


def step(p: Proc, _arg=None) -> None:
    """Run process ``p`` to its next yield and schedule its wake-up (module docstring)."""
    try:
        x = p.send(None)
    except StopIteration:
        return
    if x.__class__ is tuple:                  # (delay ns, priority): a timeout
        delay, prio = x
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        env = p.env
        heappush(env._queue, (env._now + delay, prio, next(env._eid), step, p))
    elif x.__class__ is Signal:
        x.proc = p
    else:                                     # a simpy event
        x.callbacks.append(p.resume)


class Signal:
    """A one-shot event one process waits on (a row arrived, a slot or the turn is free):
    ``succeed()`` resumes the process that yielded it, scheduled now (as
    ``simpy.Event.succeed`` does) at priority ``prio``: the waiter's
    :func:`pimsim.sim.arbiter.rank` (simpy's normal priority by default)."""

    __slots__ = ("env", "proc", "prio")

    def __init__(self, env: Env, prio: int = NORMAL):
        self.env = env
        self.proc: Proc | None = None
        self.prio = prio

    def succeed(self) -> None:
        env = self.env
        heappush(env._queue, (env._now, self.prio, next(env._eid), step, self.proc))
