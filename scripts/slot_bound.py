"""A closed-form estimate of the pace the consumers' row slots allow (Little's law on
each input buffer; docs/engine.md, "What set the large traces' intervals"): a
diagnostic, not used by the closed form (it over-states DenseNet-121's interval).

Usage: python scripts/slot_bound.py TRACE CONFIG [TRACE CONFIG ...]

Prints, per trace x design, the closed form's interval and this estimate with the
buffer's consumer that sets it (``slot_bound``).
"""

from __future__ import annotations

import sys

import numpy as np

from pimsim.arch import build_arch
from pimsim.arch.compose import Arch
from pimsim.config import load_design
from pimsim.mapping import NetworkMap, map_network
from pimsim.sim.analytic import evaluate
from pimsim.sim.edram import plan_buffers
from pimsim.sim.noc import Traffic
from pimsim.sim.stages import Stage, row_schedule, stages
from pimsim.workload import load_network
from pimsim.workload.layer import NETWORK_INPUT, Network

#: relative precision of the slot bound's pace (bisection)
SLOT_BOUND_RTOL = 1e-6


def slot_bound(network: Network, nmap: NetworkMap, arch: Arch, noc: Traffic | None = None,
               floor_ns: float = 0.0, times: np.ndarray | None = None,
               schedule: tuple | None = None) -> Stage | None:
    """The interval that the consumers' row slots allow (Little's law on every input
    buffer), as a stage ``(consumer layer, "buffer_slots", interval ns)``; None where it
    is not above ``floor_ns`` (e.g. the slowest stage of :func:`stages`).

    A producer takes a slot of its consumer's buffer for each output row (the engine's
    ``buffer_full`` stall when none is free) and the slot is freed when the last
    consumer row that reads it starts (pimsim.sim.buffers). With ``S`` slots, row
    ``q + S`` can only be made once row ``q`` is released:

        take(q + S) >= release(q)  for every row q of every buffer.

    In a steady state at a pace of ``u`` ns per network-input row (interval ``I = H x u``,
    ``H`` input rows per image) every row is made at its *row clock* (the network-input
    rows it waits for, ``pimsim.sim.edram``'s rule) times ``u`` plus its *latency*: the
    time the rows take through the layers when none is held up (each layer's
    ``done - inputs there`` of an unqueued row, the least over image 0's rows of
    :func:`row_schedule`, plus each hop's transfer and storage time, row by row):

        T_L(r) = max over operands (T_src(hi(r)) + transfer(hi(r))) + d_L
        T_input(j) = j x u;  take(q) = T_P(q);  release(q) = inputs-there time of the
        last consumer row that reads q (rows of later images: + H x u per image).

    A join's operand whose other operand comes through a branch of layers (a residual
    add after a bottleneck block) is held for the branch's latency ``A`` plus the rows
    the branch looks ahead (``B``, in rows of this operand), so ``S x p >= B x p + A``:
    ``p >= A / (S - B)`` for the operand's row period ``p`` (Little's law: the rows in
    the buffer, at most ``S``, are the arrival rate times the time each holds a slot).
    The bound is the least ``u`` at which no buffer's condition fails (bisection to
    ``SLOT_BOUND_RTOL``), times ``H``; the stage names the consumer of the buffer that
    fails just below it. It does not count a layer's own busy time (that is
    :func:`stages`) nor the queueing of shared units (``schedule``: :func:`row_schedule`'s,
    when already computed). Rows of the next image are not bound (the buffers upstream
    hold them, so they can come as a burst), nor the network input's (each first layer's
    buffer is fed on its own).

    **An estimate, not a bound**: the latencies are image 0's, one buffer is taken at a
    time and ``rows_ahead`` is the most a producer can go on, so the pace can be off
    either way. Measured against the engine with every shared unit uncontended (the
    agreement table's "uncontended" interval part): MobileNet-V2 on ISAAC 157,585 ns
    against 149,563 ns (+5.4 %, ``add_1``), DenseNet-121 2,179,338 ns against 1,631,743 ns
    (its slots do not limit it). :func:`pimsim.sim.analytic.evaluate` therefore does not
    use it. Source: Little's law, L = lambda x W (Little, Operations Research 9(3), 1961).
    """
    from pimsim.sim.buffers import windows

    h_in = max(1, network.input_shape[1])
    done, avails, arrivals = (schedule if schedule is not None
                              else row_schedule(network, nmap, arch, noc=noc))
    lays = list(network)
    by_name = {lay.name: i for i, lay in enumerate(lays)}
    plan = plan_buffers(network, nmap, arch.design)
    # each layer's latency when nothing waits: done - inputs there, least over the rows
    # that cannot have waited for a slot (those before its smallest consumer ring: the
    # schedule has the engine's finite buffers)
    free_rows = {}
    for b in plan:
        if b.producer >= 0:
            free_rows[b.producer] = min(free_rows.get(b.producer, b.slots), b.slots)
    lat = []
    for i, (lay, a) in enumerate(zip(lays, avails)):
        gone = (done[lay.name] - a)[:max(1, free_rows.get(i, a.size))]
        lat.append(float(np.min(gone)) if gone.size else 0.0)
    if times is None:
        times = stages(network, nmap, arch, noc)[1]
    gap = [float(times[i]) / max(1, lay.out_shape[1]) for i, lay in enumerate(lays)]
    ops = []     # per layer: [(source index or -1, transfer per source row, hi per row)]
    for li, lay in enumerate(lays):
        rows = max(1, lay.out_shape[1])
        per = []
        for order, src in enumerate(lay.inputs or [NETWORK_INPUT]):
            arrive = arrivals[(li, order)]
            if src == NETWORK_INPUT:
                si, x = -1, arrive
            else:
                si = by_name[src]
                x = arrive - done[src]
            _, hi = windows(lay, rows, arrive.size)
            per.append((si, x, hi))
        ops.append(per)
    # the source feeds each first layer's buffer on its own (a row waiting for a slot
    # holds up only that buffer's later rows), so only layers' outputs are bound
    buffers = [b for b in plan if b.slots > 0 and b.producer >= 0]
    ahead = {}
    for i, (lay, lm) in enumerate(zip(lays, nmap.layers)):
        ahead[i] = rows_ahead(lay, lm, arch.design.tile.imas)
    slots = [(b.producer, b.consumer, b.slots, ahead[b.producer], b.lo, b.hi)
             for b in buffers]
    found = slot_pace(ops, lat, gap, slots, h_in, floor_ns)
    if found is None:
        return None
    interval, k = found
    return Stage(lays[buffers[k].consumer].name, "buffer_slots", interval)


def slot_pace(ops: list, lat: list[float], gap: list[float], slots: list, h_in: int,
              floor_ns: float = 0.0) -> tuple[float, int] | None:
    """The least interval (ns) at which no row waits for a slot, and the index of the
    buffer that sets it; None where ``floor_ns`` already allows every buffer (the pure
    rule of :func:`slot_bound`, over plain arrays).

    ``ops``: per layer in network order, its operands as (source layer index, or -1 for
    the network input; ns from the source's row being made to its being readable, per
    source row; the last source row each output row needs); ``lat``: per layer, ns from
    a row's inputs being there to the row being made; ``gap``: per layer, the least ns
    between two of its rows; ``slots``: per buffer (producer, consumer, slots, rows the
    producer goes on past a waiting row, first and last producer row of every consumer
    row); ``h_in``: network-input rows per image (input row ``j`` comes at ``j x u``).
    """
    # the consumer row that reads each row last (it is released when that row starts);
    # a row no consumer row reads is freed when it arrives (no condition)
    rows_of = {li: len(per[0][2]) if per else 0 for li, per in enumerate(ops)}
    readers = []
    for p, c, n, ahead, lo, hi in slots:
        rows = rows_of[p]
        q = np.arange(rows)
        last = np.clip(np.searchsorted(lo, q, side="right") - 1, 0, None)
        readers.append((p, c, n + ahead, rows, last, (lo[last] <= q) & (hi[last] >= q)))

    def schedule(u: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(made, inputs there) per layer and row at pace ``u`` (ns per input row)."""
        made, there = [], []
        for li, per in enumerate(ops):
            t = None
            for si, x, hi in per:
                src = (np.arange(x.size) * u) if si < 0 else made[si]
                a = (src + x)[hi]
                t = a if t is None else np.maximum(t, a)
            there.append(t)
            # a layer makes a row at most every gap[li] ns (its own stage time per row)
            k = np.arange(t.size) * gap[li]
            made.append(np.maximum.accumulate(t + lat[li] - k) + k)
        return made, there

    def slack(u: float) -> list[float]:
        """Per buffer: the least ``start(q + S + ahead) - release(q)`` over its rows (ns)."""
        made, there = schedule(u)
        out = []
        for p, c, n, rows, last, read in readers:
            start = made[p] - lat[p]
            rel = np.where(read, there[c][last], -np.inf)
            q = np.arange(rows) + n
            inside = q < rows               # rows of the next image are not paced
            out.append(float(np.min(start[q[inside]] - rel[inside], initial=np.inf)))
        return out

    def ok(u: float) -> bool:
        return min(slack(u), default=0.0) >= -1e-9 * max(1.0, u * h_in)

    lo_u = floor_ns / h_in
    if not slots or ok(lo_u):
        return None
    hi_u = max(lo_u, 1.0) * 2
    while not ok(hi_u):
        hi_u *= 2
        if hi_u * h_in > 1e15:          # no pace frees the slots (not expected: need)
            return None
    while hi_u - lo_u > SLOT_BOUND_RTOL * hi_u:
        mid = (lo_u + hi_u) / 2
        lo_u, hi_u = (lo_u, mid) if ok(mid) else (mid, hi_u)
    return hi_u * h_in, int(np.argmin(slack(lo_u)))

def rows_ahead(lay, lm, imas_per_tile: int) -> int:
    """Rows a producer goes on making past a row whose slot it waits for, before that
    wait stops it: a non-MVM layer's other workers (row ``r``'s worker runs ``r + h``
    next); an MVM copy's output register is one unit deep, so the copy that holds the
    waiting part computes its next unit and stops before the one after (the most rows
    between a copy's unit and its unit after next; a copy with fewer units per image: a
    whole image)."""
    from pimsim.sim.noc import copy_layout, layer_width, worker_tiles

    rows = max(1, lay.out_shape[1])
    if not lm.is_mvm:
        return len(worker_tiles(lm, rows))
    ppr, _ = copy_layout(lm, rows, layer_width(lay, lm), imas_per_tile)
    most = 0
    for k in range(ppr.shape[0]):
        r = np.nonzero(ppr[k])[0]
        if r.size < 3:
            return rows
        most = max(most, int((r[2:] - r[:-2]).max()))
    return most


def main(argv: list[str]) -> int:
    if not argv or len(argv) % 2:
        print(__doc__)
        return 2
    for t, c in zip(argv[::2], argv[1::2]):
        net, arch = load_network(t), build_arch(load_design(c))
        nmap = map_network(net, arch)
        interval = evaluate(net, arch).total.interval_ns
        st = slot_bound(net, nmap, arch)
        est = f"{st.busy_ns:,.1f} ns ({st.layer})" if st is not None else "no bound"
        print(f"{t} {c}: closed form {interval:,.1f} ns; slot bound {est}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
