"""The engine's event queue (pimsim.sim.events) steps events in simpy's order: checked
against simpy's own ``Environment`` / ``Process`` / events running the same processes."""

import random

import simpy

from pimsim.sim.events import Env, Signal
from pimsim.sim.processes import later


def _script(seed: int) -> list[list[tuple[str, float, int]]]:
    """Per process, a list of steps: ("sleep", delay ns, priority) or ("wait", signal
    number, priority) or ("fire", signal number, 0); delays often tie (same time)."""
    rng = random.Random(seed)
    procs = []
    for p in range(6):
        steps = []
        for _ in range(12):
            if rng.random() < 0.8:
                steps.append(("sleep", float(rng.choice([0, 0, 1, 2, 2.5, 5])), rng.randrange(3)))
            else:
                steps.append(("fire", rng.randrange(4), 0))
        procs.append(steps)
    # one waiter per signal (the engine's rule): processes 6..9 wait on signals 0..3
    for s in range(4):
        procs.append([("wait", s, rng.randrange(3)), ("sleep", 1.0, rng.randrange(3))])
    return procs


def _run_ours(procs) -> list[tuple[float, int, int]]:
    env = Env()
    log = []
    sigs = {}

    def proc(i, steps):
        for j, (what, x, prio) in enumerate(steps):
            if what == "sleep":
                yield later(env, x, None, prio)
            elif what == "wait":
                sigs[x] = Signal(env, prio)
                yield sigs[x]
            elif x in sigs and sigs[x] is not None:
                sigs[x].succeed()
                sigs[x] = None
            log.append((env.now, i, j))

    for i, steps in enumerate(procs[6:] + procs[:6]):
        env.process(proc(i, steps))
    env.run()
    return log


def _run_simpy(procs) -> list[tuple[float, int, int]]:
    env = simpy.Environment()
    log = []
    sigs = {}

    def proc(i, steps):
        for j, (what, x, prio) in enumerate(steps):
            if what == "sleep":
                ev = simpy.Event(env)
                ev._ok, ev._value = True, None
                env.schedule(ev, prio, x)
                yield ev
            elif what == "wait":
                sigs[x] = (simpy.Event(env), prio)
                yield sigs[x][0]
            elif x in sigs and sigs[x] is not None:
                ev, p = sigs[x]
                ev._ok, ev._value = True, None
                env.schedule(ev, p)
                sigs[x] = None
            log.append((env.now, i, j))

    for i, steps in enumerate(procs[6:] + procs[:6]):
        env.process(proc(i, steps))
    env.run()
    return log


def test_processes_and_signals_run_in_simpys_order():
    for seed in range(20):
        procs = _script(seed)
        ours, theirs = _run_ours(procs), _run_simpy(procs)
        assert ours == theirs, seed
        assert len({t for t, _, _ in ours}) > 3      # the script is not trivial


def test_simpy_events_still_work_on_the_engine_queue():
    """The ``event`` fidelity's ADC banks are simpy Resources on the engine's queue."""
    env = Env()
    res = simpy.Resource(env, capacity=1)
    got = []

    def user(name, hold):
        req = res.request()
        if not req.triggered:
            yield req
        got.append((name, env.now))
        yield later(env, hold)
        res.release(req)

    env.process(user("a", 3.0))
    env.process(user("b", 2.0))
    env.run()
    assert got == [("a", 0.0), ("b", 3.0)]
