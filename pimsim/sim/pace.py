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

**Which ring.** Where the pace sets the interval, the ring named is found from the
producers' waits for slots over the second half of the images scheduled (``n // 2 ..
n - 1`` of ``n``: past the fill). A ring can hold the pace above every stage only where
its rows wait for something other than their consumer's own work: at a join (a layer of
several inputs: a residual add, a concatenation, a squeeze-and-excite multiply) one
operand's rows wait in their slots for the other operand's. Waits elsewhere are local
(a short ring fills while its consumer works through a burst of rows) or back-pressure
(a ring that binds holds its producer back, whose own input rings then fill, up to the
network input). So the named ring is, of those whose producer waited, one into a join
first, then the one whose producer waited longest -- a rule of thumb, not the critical
cycle of the schedule: where several joins' rings wait, the one named is the one that
held its producer longest. Its **share** is the ring's slot occupancy: the time its rows
of those images held a slot (claim to release) over ``slots x images x interval`` -- at
most about 1 (a ring cannot hold more rows than it has slots), near 1 where it binds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pimsim.arch.compose import Arch
from pimsim.mapping import NetworkMap
from pimsim.sim.noc import CHUNK_POSITIONS, Traffic
from pimsim.sim.stages import build_rows
from pimsim.sim.steady import MAX_IMAGES, MAX_PERIOD, Monitor
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


@dataclass(frozen=True)
class Pace:
    """The pipeline's pace with no queueing (ns per image), image 0's latency (ns), the
    images scheduled, whether the estimate converged, and the ring named as limiting it
    (:func:`limiting_ring`; ``{}`` when no producer waited for a slot past the fill)."""

    interval_ns: float
    latency_ns: float
    images: int
    converged: bool
    ring: dict = field(default_factory=dict)


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
                  max_images: int = MAX_IMAGES) -> Pace:
    """The pace of the module doc, image 0's latency and the ring that limits the pace.

    The schedule's arrays are set up for ``FIRST_IMAGES`` images (setting up costs time in
    proportion); a pace not decided by then is stepped again from image 0 with room for
    ``max_images`` (the same rows: a row's times do not depend on how many images follow).
    """
    ends = sinks(network)
    for cap in sorted({min(FIRST_IMAGES, max_images), max_images}):
        sched = build_rows(network, nmap, arch, chunk_positions, noc, images=cap)
        rings = [e for st in sched.layer_rows for e in st.ins]
        lag = max((-(-e.slots // e.b.rows) for e in rings), default=1)
        m = Monitor()
        fin: list[float] = []
        snaps: list[np.ndarray] = []
        latency, interval, converged, k = 0.0, 0.0, False, 0
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
    ring = limiting_ring(network, sched.layer_rows, k // 2, k, interval)
    return Pace(interval, latency, k, converged, ring)


def _state(sched, rings: list, k: int) -> np.ndarray:
    """What carries from image ``k - 1`` into image ``k`` besides the rows themselves: each
    copy's go / ADC / output-stage times, each worker's free time, each ring's last claim
    and when its rows up to image ``k - 1``'s last had all arrived (ns)."""
    parts = []
    for st in sched.layer_rows:
        if hasattr(st, "go"):
            parts += [st.go, st.adc, st.stage]
        else:
            parts.append(st.free)
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
        out += [st.ends[:, sl].ravel(), st.first_end[sl]] if hasattr(st, "ends") else [st.end[sl]]
    for e in rings:
        sl = slice(img * e.b.rows, (img + 1) * e.b.rows)
        e.prefix(sl.stop - 1)
        out += [e.claims[sl], e.raw[sl]]
    return out


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


def limiting_ring(network: Network, layer_rows: list, lo: int, hi: int,
                  interval_ns: float) -> dict:
    """{layer, operand, input, slots, wait_ns, share} of the ring named as limiting the
    pace over images ``lo .. hi - 1`` (module doc): of the rings whose producer waited for
    slots, those into a join (a layer of several inputs) first, then the longest wait
    (``wait_ns``: that wait per image; ``share``: the ring's slot occupancy); ``{}`` when
    no producer waited."""
    if hi <= lo:
        return {}
    lays = list(network)
    rings = []
    for i, e in enumerate(e for st in layer_rows for e in st.ins):
        w = float(e.wait[lo * e.b.rows:hi * e.b.rows].sum())
        if w > 0.0:
            rings.append((len(lays[e.b.consumer].inputs) < 2, -w, i, e))
    if not rings:
        return {}
    _, neg, _, e = min(rings, key=lambda x: x[:3])
    n = hi - lo
    held = sum(e.release(x) - e.claims[x] for x in range(lo * e.b.rows, hi * e.b.rows))
    cons = lays[e.b.consumer]
    src = cons.inputs[e.b.order] if cons.inputs else NETWORK_INPUT
    return {"layer": cons.name, "operand": int(e.b.order), "input": src,
            "slots": int(e.slots), "wait_ns": -neg / n,
            "share": float(held) / (e.slots * n * interval_ns) if interval_ns > 0 else 0.0}
