"""The pipeline's steady pace with no queueing: the closed form's row schedule run for
several images back to back.

:func:`pimsim.sim.stages.row_schedule` steps every layer row by row with finite buffers
(each consumer operand a ring of ``slots`` row slots, ``pimsim.sim.edram``) and no
queueing at shared units; with ``images=K`` it feeds ``K`` images back to back,
image-major, as the engine's copies, workers and rings take them. Image 0 of that
schedule is the closed form's latency schedule, row for row (later images' rows come
after it in every layer and ring, so they cannot move it). The steady-state interval of
its completions is the pace of the engine's pipeline when no shared unit queues
(``run_engine(net, arch, uncontended="*")``, an independent implementation of the same
rules, gives the same completions on the hand-built nets of tests/sim/test_pace.py).

That pace is at least each copy's and worker's own time per image; it is larger where a
ring turns slower: a row keeps its slot from when its producer claims it until its last
reader starts, so a ring of ``S`` slots passes at most ``S`` rows per such round trip
(a residual add's skip ring waits for the branch's rows: round trip = the branch's
latency). The closed form's interval (``pimsim.sim.analytic.evaluate``) is
``max(slowest stage, pace)``: the stages count the shared units (eDRAM, bus, NoC, off-chip
links) the schedule does not queue, the pace the rings the stages do not see.

**How many images.** The schedule is stepped image by image (a row of image ``i`` waits
only for rows of images ``<= i``, so earlier images' rows are final as soon as they are
stepped, :class:`pimsim.sim.stages.RowSchedule`) and each completion goes to the engine's
own convergence rule (:class:`pimsim.sim.steady.Monitor`) until it converges: the periodic
rule decides from 7 completions where the gaps repeat exactly, as they do in most nets (no
queueing leaves no jitter); at most ``steady.MAX_IMAGES`` images, else the estimate is
marked not converged. The estimate is the Monitor's at its first converged completion: it
does not depend on a chosen number of images.

**Which ring.** Where the pace sets the interval, the candidates are the rings whose
producer waited for slots over the second half of the images scheduled (``n // 2 ..
n - 1`` of ``n``: past the fill), ordered joins first (at a join -- a residual add, a
concatenation, a squeeze-and-excite multiply -- one operand's rows wait in their slots
for the other operand's; waits elsewhere are mostly local or back-pressure), then by the
longest wait (:func:`waiting_rings`). That order alone often names a ring whose relief
changes nothing (on EfficientNet-B0, MobileNet-V2 and ResNet-50 on 512x512 crossbars its
first ring, doubled, leaves the pace as it was), so :func:`relieve` checks: the first
``RING_CHECKS`` candidates are each given ``RELIEF`` x their slots (the extra in the
consumer's eDRAM) and the schedule run again; the ring named is the one whose relief
lowers the pace most (``total.bottleneck.relieved_interval_ns``: the closed form's
interval with it), the first on a tie. Where none of them lowers it by more than the
steady state's precision (``steady.TOLERANCE``, 0.5 %), several rings bind together (or
none does alone) and the first is named, with its relieved interval. Its **share** is the
ring's slot occupancy: the time its rows of those images held a slot (claim to release)
over ``slots x images x interval`` -- at most about 1 (a ring cannot hold more rows than it
has slots), near 1 where it binds. The check costs up to ``RING_CHECKS`` more runs of the
schedule, only where the pace is above every stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pimsim.arch.compose import Arch
from pimsim.mapping import NetworkMap
from pimsim.sim.noc import CHUNK_POSITIONS, Traffic
from pimsim.sim.stages import build_rows
from pimsim.sim.steady import MAX_IMAGES, MAX_PERIOD, TOLERANCE, Monitor
from pimsim.workload.layer import NETWORK_INPUT, Network

#: images the schedule is first set up for (the periodic rule decides from 7 completions
#: for a cycle of one image, 13 for two; the trend rule from 12)
FIRST_IMAGES = 16
#: the resource name of a ring of row slots in ``total.bottleneck``
RING = "buffer_slots"
#: longest cycle (images) the exact repeat test looks for (:func:`repeats`): the engine's
MAX_SHIFT_PERIOD = MAX_PERIOD
#: relative float noise allowed in it (of the largest time compared)
SHIFT_TOLERANCE = 1e-9
#: rings :func:`relieve` tries (the first of :func:`waiting_rings`), each given
#: ``RELIEF`` x its slots
RING_CHECKS = 3
RELIEF = 2


@dataclass(frozen=True)
class Pace:
    """The pipeline's pace with no queueing (ns per image), image 0's latency (ns), the
    images scheduled, whether the estimate converged, the rings whose producers waited for
    slots past the fill (:func:`waiting_rings`, most likely to limit the pace first) and
    the ring named as limiting it (the first of them; :func:`relieve` checks them)."""

    interval_ns: float
    latency_ns: float
    images: int
    converged: bool
    ring: dict = field(default_factory=dict)
    candidates: tuple = ()


def sinks(network: Network) -> set[str]:
    """The layers no other layer reads: an image is complete when their last rows are."""
    read = {src for lay in network for src in lay.inputs}
    return {lay.name for lay in network if lay.name not in read}


def completions(network: Network, done: dict[str, np.ndarray], images: int) -> np.ndarray:
    """When each of ``images`` images is complete (ns): the last row of every sink layer
    (:func:`sinks`), from :func:`pimsim.sim.stages.run_rows`' row times."""
    fin = np.zeros(images)
    for name in sinks(network):
        np.maximum(fin, done[name].reshape(images, -1).max(axis=1), out=fin)
    return fin


def pipeline_pace(network: Network, nmap: NetworkMap, arch: Arch,
                  noc: Traffic | None = None, chunk_positions: int = CHUNK_POSITIONS,
                  max_images: int = MAX_IMAGES,
                  widen: dict[tuple[int, int], int] | None = None,
                  first_images: int = FIRST_IMAGES, setup: dict | None = None) -> Pace:
    """The pace of the module doc, image 0's latency and the rings that may limit it.

    The schedule's arrays are set up for ``first_images`` images (setting up costs time in
    proportion); a pace not decided by then goes on in room for twice as many, up to
    ``max_images`` (:meth:`pimsim.sim.stages.RowSchedule.grow`, the rows stepped so far
    kept: a row's times do not depend on how many images follow, and the convergence
    rules see the same completions as from image 0).
    ``widen``: rings given more slots (:func:`pimsim.sim.stages.build_rows`; what-if).
    ``setup``: :func:`pimsim.sim.stages.build_rows`' set-up kept between schedules of the
    same network and design (the reliefs of :func:`reliefs` reuse the first one's).
    """
    setup = {} if setup is None else setup
    ends = sinks(network)
    caps = [min(first_images, max_images)]
    while caps[-1] < max_images:                 # doubling: room for what is still needed
        caps.append(min(2 * caps[-1], max_images))
    sched = build_rows(network, nmap, arch, chunk_positions, noc, images=caps[0],
                       widen=widen, setup=setup)
    rings = [e for st in sched.layer_rows for e in st.ins]
    lag = max((-(-e.slots // e.b.rows) for e in rings), default=1)
    m = Monitor()
    fin: list[float] = []
    snaps: list[np.ndarray] = []
    latency, interval, converged, k = 0.0, 0.0, False, 0
    for cap in caps:
        if cap > sched.images:
            sched.grow(cap)
        while k < cap and not converged:
            k += 1
            sched.advance(k)
            done = sched.done(None if k == 1 else ends, image=k - 1)
            if k == 1:                  # image 0: the closed form's latency schedule
                latency = max((float(v.max()) for v in done.values()), default=0.0)
            fin.append(max(float(done[n].max()) for n in ends))
            snaps.append(_state(sched, rings, k))
            p = repeats(sched, rings, fin, snaps, lag)
            if p:
                interval, converged = (fin[-1] - fin[-1 - p]) / p, True
            elif m.add(fin[-1]):
                steady = m.result()
                interval, converged = steady.interval_ns, steady.converged
        if converged:
            break
    if not converged:
        steady = m.result()
        interval = steady.interval_ns
    rings = waiting_rings(network, sched.layer_rows, k // 2, k, interval)
    return Pace(interval, latency, k, converged, rings[0] if rings else {}, tuple(rings))


def relieve(pace: Pace, tried: list[tuple[dict, float]]) -> dict:
    """The ring that limits ``pace``, checked: of the rings :func:`reliefs` tried, the one
    whose relief gives the lowest pace, with that pace (``relieved_pace_ns``); the first
    wins a tie. A relief of less than ``TOLERANCE`` of the pace (the steady state's own
    precision) relieves nothing: where none does, the first ring is named, with its
    relieved pace. ``{}`` when none was tried (no producer waited for a slot)."""
    if not tried:
        return {}
    ring, ns = min(tried, key=lambda x: x[1])           # the first of the lowest
    if ns > pace.interval_ns * (1.0 - TOLERANCE):
        ring, ns = tried[0]
    return {**ring, "relieved_pace_ns": ns}


def reliefs(network: Network, nmap: NetworkMap, arch: Arch, pace: Pace,
            noc: Traffic | None = None, floor_ns: float = 0.0,
            checks: int = RING_CHECKS, setup: dict | None = None) -> list[tuple[dict, float]]:
    """(ring, pace in ns with the ring given ``RELIEF`` x its slots, the extra in its
    consumer's eDRAM) for the first ``checks`` of ``pace.candidates``, in order; the search
    ends at a ring whose relief brings the pace down to ``floor_ns`` (the slowest stage:
    no ring can do better). ``setup``: as :func:`pipeline_pace`'s (the pace's own, for
    the same network and design: set up once)."""
    setup = {} if setup is None else setup
    out = []
    for ring in pace.candidates[:checks]:
        key = (ring["consumer"], ring["operand"])
        # set up for as many images as the pace took (a relieved ring seldom needs more)
        ns = pipeline_pace(network, nmap, arch, noc, widen={key: RELIEF},
                           first_images=pace.images + 1, setup=setup).interval_ns
        out.append((ring, ns))
        if ns <= floor_ns * (1.0 + SHIFT_TOLERANCE):
            break
    return out


def _state(sched, rings: list, k: int) -> np.ndarray:
    """What carries from image ``k - 1`` into image ``k`` besides the rows themselves: each
    copy's go / ADC / output-stage times, each worker's free time, each ring's last claim
    and when its rows up to image ``k - 1``'s last had all arrived (ns)."""
    parts = []
    for st in sched.layer_rows:
        if st.copy_rows:
            parts += [np.asarray(st.go, dtype=float), np.asarray(st.adc, dtype=float),
                      np.asarray(st.stage, dtype=float)]
        else:
            parts.append(np.asarray(st.free, dtype=float))
    parts.append(np.array([e.last for e in rings]))
    parts.append(np.array([e.prefix(k * e.b.rows - 1) for e in rings]))
    return np.concatenate(parts)


def _rows(sched, rings: list, img: int) -> list[np.ndarray]:
    """Every per-row time of image ``img`` (ns): each layer's starts, input times and
    ends, each ring's claims and arrivals."""
    out = []
    for st in sched.layer_rows:
        sl = slice(img * st.per_image, (img + 1) * st.per_image)
        out += [st.start[sl], st.there[sl]]
        out += [st.ends_of(sl).ravel(), st.first_end[sl]] if st.copy_rows else [st.end[sl]]
    for e in rings:
        sl = slice(img * e.b.rows, (img + 1) * e.b.rows)
        e.prefix(sl.stop - 1)
        out += [e.claims[sl], e.raw[sl]]
    return [np.asarray(a, dtype=float) for a in out]


def _shifted(a: np.ndarray, b: np.ndarray, shift: float) -> bool:
    """Is ``a`` = ``b + shift`` entry by entry, to float noise (``SHIFT_TOLERANCE`` of the
    largest time)? Entries never set (-inf, or 0 in both) are skipped."""
    if (np.isfinite(a) != np.isfinite(b)).any():
        return False
    use = np.isfinite(a) & ~((a == 0.0) & (b == 0.0))
    if not use.any():
        return True
    x, y = a[use], b[use]
    tol = SHIFT_TOLERANCE * max(float(np.abs(x).max()), float(np.abs(y).max()), abs(shift))
    return bool(np.all(np.abs(x - y - shift) <= tol))


def repeats(sched, rings: list, fin: list[float], snaps: list[np.ndarray], lag: int) -> int:
    """The smallest ``p`` (images, up to ``MAX_SHIFT_PERIOD``) such that the last ``lag``
    images repeat the ``lag`` images ``p`` before them exactly, shifted by one time ``D``
    (every row time, as :func:`_rows` lists them), and so does the state carried out of
    the last image (:func:`_state`); 0 if none. The schedule is a max-plus system: each
    image's rows are the same function of the state carried in and of the rows of the
    ``lag`` images before it (a ring of ``S`` slots reaches ``ceil(S / rows)`` images
    back), and that function commutes with adding a constant to every time. So once
    both repeat, every later image repeats too, ``p`` images on and ``D`` later: the pace
    is exactly ``D / p`` per image."""
    n = len(fin)
    for p in range(1, MAX_SHIFT_PERIOD + 1):
        if n < lag + p + 1:
            break
        shift = fin[-1] - fin[-1 - p]
        if shift <= 0.0 or not _shifted(snaps[-1], snaps[-1 - p], shift):
            continue
        if all(_shifted(a, b, shift)
               for i in range(n - lag, n)
               for a, b in zip(_rows(sched, rings, i), _rows(sched, rings, i - p))):
            return p
    return 0


def waiting_rings(network: Network, layer_rows: list, lo: int, hi: int,
                  interval_ns: float, limit: int = RING_CHECKS) -> list[dict]:
    """The first ``limit`` rings whose producer waited for slots over images ``lo .. hi -
    1``, those into a join (a layer of several inputs) first, then by the longest wait
    (module doc), each {layer, consumer (its index), operand, input, slots, wait_ns (that
    wait per image), share (the ring's slot occupancy)}."""
    if hi <= lo:
        return []
    lays = list(network)
    rings = []
    for i, e in enumerate(e for st in layer_rows for e in st.ins):
        w = float(e.wait[lo * e.b.rows:hi * e.b.rows].sum())
        if w > 0.0:
            rings.append((len(lays[e.b.consumer].inputs) < 2, -w, i, e))
    n = hi - lo
    out = []
    for _, neg, _, e in sorted(rings, key=lambda x: x[:3])[:limit]:
        held = sum(e.release(x) - e.claims[x] for x in range(lo * e.b.rows, hi * e.b.rows))
        cons = lays[e.b.consumer]
        src = cons.inputs[e.b.order] if cons.inputs else NETWORK_INPUT
        out.append({"layer": cons.name, "consumer": int(e.b.consumer),
                    "operand": int(e.b.order), "input": src, "slots": int(e.slots),
                    "wait_ns": -neg / n,
                    "share": float(held) / (e.slots * n * interval_ns) if interval_ns > 0
                    else 0.0})
    return out
