"""The engine's processes (simpy generators and timeout callbacks), as a mixin of
:class:`pimsim.sim.engine.Engine`; docs/engine.md describes each.

* ``source`` -- the network input rows of every image into the first layers' buffers;
* ``copy`` -- one MVM layer copy: for each unit (its positions of one output row) wait
  for the input rows, fetch them (eDRAM + bus), step the crossbar reads and ADC
  conversions (``fast``: the recurrence in closed form; ``event``: read by read,
  ``reads_event``), hand the outputs to the output stage;
* output stage (``_Drain``, ``_drain_*``) -- tile shift-and-add merges, eDRAM write, a row slot in each
  consumer's buffer, the NoC / off-chip transfer;
* ``worker`` -- a non-MVM layer's rows on one host tile's digital unit (generic over the
  unit role the mapping names);
* ``deliver`` / ``take_slot`` / ``stored`` -- moving a row part into the consumers'
  buffers (on chip, or spilled off-chip: ``pimsim.sim.edram``).
"""

from __future__ import annotations

from heapq import heappush

import simpy
from simpy.events import NORMAL

from pimsim.kernels.counts import (ACTIONS, A_ADC, A_BUS, A_DAC, A_EDRAM, A_IR, A_OR, A_SA, A_SH,
                                   A_TOR, A_TSA, A_XB)
from pimsim.mapping.digital import units_per_tile
from pimsim.sim.accounting import STALL_EPS_NS, LayerState
from pimsim.sim.arbiter import rank
from pimsim.sim.buffers import Edge, Signal
from pimsim.sim.noc import FROM_IO
from pimsim.sim.resources import Server


def later(env: simpy.Environment, delay: float, fn=None, prio: int = NORMAL):
    """``fn(None)`` called ``delay`` ns from now, queued as ``env.timeout(delay)`` is
    (time, priority, insertion order) with priority ``prio``
    (:func:`pimsim.sim.arbiter.rank` of the request it leads to; simpy's normal priority
    by default); without ``fn``, what a process yields to sleep ``delay`` ns
    (:class:`pimsim.sim.events.Proc`)."""
    if fn is None:
        return delay, prio
    if delay < 0:
        raise ValueError(f"Negative delay {delay}")
    heappush(env._queue, (env._now + delay, prio, next(env._eid), fn, None))


class _Drain:
    """One unit's output stage in flight (the copy waits on it: the OR is one deep)."""

    __slots__ = ("L", "k", "tile", "img", "r", "n", "begin", "done", "end", "event",
                 "cause", "services", "prio")

    def __init__(self, L: LayerState, k: int, tile: int, img: int, r: int, n: int, begin: float,
                 services: tuple, prio: int):
        self.L, self.k, self.tile, self.img, self.r, self.n = L, k, tile, img, r, n
        self.begin = begin
        self.done = False
        self.event: Signal | None = None
        self.cause = "buffer_bandwidth"      # what it is waiting on now (for stalls)
        self.services = services
        self.prio = prio                     # rank(img, k): its requests' place among
                                             # simultaneous ones

    def at(self, env: simpy.Environment, delay: float, fn) -> None:
        """Call ``fn(self)`` ``delay`` ns from now (as :func:`later`)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        heappush(env._queue, (env._now + delay, self.prio, next(env._eid), fn, self))



class Processes:
    """The processes of :class:`pimsim.sim.engine.Engine` (a mixin: it owns the state)."""

    # -- processes ---------------------------------------------------------------------
    def source(self, e: Edge, L: LayerState, rows: int, width: int):
        """The network input, row by row, image after image, into the first layer's buffer."""
        img = 0
        while self.admit(img):
            prio = rank(img, 0)
            if img:       # the image's rows go after the older image's requests of this instant
                yield later(self.env, 0.0, None, prio)
            for r in range(rows):
                yield from self.deliver_source(e, L, img, r, width, e.recv[r], prio)
            img += 1

    def deliver_source(self, e: Edge, L: LayerState, img: int, r: int, width: int, tile: int,
                       prio: int):
        """One input row from the host: the off-chip link, then the NoC from the chip's
        I/O router to the receiving ``tile`` (pimsim.sim.noc), into its buffer
        (``prio``: :func:`pimsim.sim.arbiter.rank`)."""
        yield from self.take_slot(e, img, r, prio)
        arrive = self.env.now
        if e.offchip_rows[r]:
            off = e.offchip_rows[r]
            if img == 0:                         # counts: image 0's (every image alike)
                L.offchip_bits += off
            _, arrive = self.server("offchip_link", tile // self.tiles_per_chip).book(
                arrive, off * self.off_ns_per_bit, 0.0, L.idx)
        if e.over_noc:
            bits = width * e.bits_per_position
            servers, hops = self.route(FROM_IO, tile)
            if img == 0:
                L.router_bits += bits
                L.router_bit_hops += bits * hops
            _, end = self.book_together(arrive, servers, self.services(bits, len(servers)), L.idx)
            arrive = end + hops * self.router_ns
        arrive = self.stored(e, L, img, r, width * e.bits_per_position, arrive)
        e.arrive_at(arrive, img, r, prio)

    def copy(self, L: LayerState, k: int):
        """One copy of an MVM layer: its units (positions of one output row), all images."""
        env = self.env
        tile = L.copy_tile[k]
        tiles = L.copy_tileset[k]
        spread = len(L.copy_tiles[k])
        bufs = L.copy_bufs[k] = [self.server(role, t) for t in tiles for role in ("edram", "bus")]
        event = self.fidelity == "event"
        if event:
            # the copy's ADC banks: its own (lockstep: the longest one's conversions per
            # read) and those shared with a neighbouring copy (a one-port unit both copies
            # book, under the engine's arbitration rule; kept out of ``servers``: a bank
            # is not a component the roll-up counts)
            banks = L.banks[k]
            shared = []
            for b, c in banks.shared:
                bank = L.bank_res.get(b)
                if bank is None:
                    bank = L.bank_res[b] = self.arbitration.server(
                        f"adc_bank[{L.lay.name}.{b}]", 1)
                shared.append((bank, c))
        adc_free = 0.0          # fast: the ADCs are free; event: the S+Hs are empty
        prev = None
        # timing moves each receptive field once (the bus broadcasts it to the column
        # tiles); the count (docs/mapping.md) charges every crossbar's IR slice
        fetch_per_pos = L.fetch_bits
        # event: one eDRAM + bus request per tile.bus_request_positions positions' fields
        # (0: the unit's fields in one request, as fast)
        burst = self.d.tile.bus_request_positions if event else 0
        lo, hi, edges = L.lo, L.hi, L.edges_in
        runs = self.unit_runs
        # per unit, computed once for every image: (row, positions, unit index, reads,
        # this row's first and last input row per edge, the first fetch request's
        # service times on the copy's eDRAM + bus servers)
        units = []
        for r, n, uidx, m in L.units[k]:
            first = n if burst <= 0 or burst >= n else burst
            ir = first * fetch_per_pos / spread
            units.append((r, n, uidx, m, [(e, lo[ei][r], hi[ei][r]) for ei, e in enumerate(edges)],
                          first, [2 * ir / self.edram_bw, ir / self.bus_bw] * len(tiles),
                          self.drain_services(L, k, n)))
        first_uidx = L.units[k][0][2] if L.units[k] else -1
        write_ns = L.lm.write_ns
        stalls = L.stalls
        copy_busy = L.copy_busy
        who = L.idx
        t_read, period, t_conv = self.t_read, L.period, L.t_conv
        conv_wait = max(0.0, t_conv - t_read)
        queue, eid, store = env._queue, env._eid, self._drain_store
        trace = self.trace
        prio = NORMAL
        def timeout(delay: float, env=env) -> tuple[float, int]:
            return later(env, delay, None, prio)

        for img in range(self.cap):         # blocks on input of images never admitted
            prio = rank(img, k)             # the image's place among simultaneous requests
            if img:       # resumed by the older image's event: let its requests of this
                yield later(env, 0.0, None, prio)       # instant go first (arbiter.py)
            for r, n, uidx, m, rows_in, first, svc, out_svc in units:
                t0 = env._now
                for e, _, h in rows_in:
                    st = e._img.get(img)
                    if st is None or st.prefix <= h:      # rows 0..h not all there yet
                        ev = e.wait(img, h, prio)
                        if ev is not None:
                            yield ev
                dt = env._now - t0
                if dt > STALL_EPS_NS:
                    stalls["input_wait"] += dt
                if write_ns and uidx == first_uidx:
                    # a crossbar-written matmul operand: programmed before the image's reads
                    # (write drivers, pimsim.mapping.digital.write_time_ns)
                    yield timeout(write_ns)
                    L.busy += write_ns
                    copy_busy[k] += write_ns
                # fetch the receptive fields from eDRAM over the bus into the IR; the
                # rows are released when the (first) fetch request is booked (no later
                # write can overtake a booked read of the same FIFO port; event's later
                # requests of the unit are not guarded: docs/engine.md, Not modelled)
                # event: request by request (``burst`` positions each), each made when
                # the previous one is done, so other copies' requests on the tile's eDRAM
                # and bus interleave with them; fast books the unit's fields as one
                # request: the same time when nobody else asks
                t_req = env._now
                _, t_start = self.book_together(t_req, bufs, svc, who)
                for e, l, h in rows_in:
                    e.release(img, l, h)
                left = n - first
                while left:
                    yield timeout(t_start - env._now)
                    part = min(burst, left)
                    left -= part
                    ir = part * fetch_per_pos / spread
                    _, t_start = self.book_together(env._now, bufs,
                                               [2 * ir / self.edram_bw, ir / self.bus_bw]
                                               * len(tiles), who)
                dt = t_start - t_req
                if dt > STALL_EPS_NS:
                    stalls["buffer_bandwidth"] += dt
                if img == 0:
                    L.start0 = min(L.start0, t_start)
                if not event:
                    # the read / S+H / ADC recurrence of reads_event in closed form, every
                    # ADC bank converting shared_by crossbars as wide as the widest: the
                    # i-th conversion starts at cs0 + i x max(read, conversion)
                    if m:
                        cs0 = t_start + t_read
                        if adc_free > cs0:
                            cs0 = adc_free
                        last = cs0 + (m - 1) * period
                        yield last - env._now, prio           # timeout(last - env._now)
                        # charged when the unit's reads are done, with its work (a run
                        # that stops mid-unit counts neither), as event does
                        dt = (cs0 - t_start - t_read) + (m - 1) * conv_wait
                        if dt > STALL_EPS_NS:
                            stalls["adc_busy"] += dt
                        adc_free = last + t_conv
                        # the outputs leave the read / convert pipeline at the end of the
                        # last read's period (stages advance once per read period, so
                        # ADCs faster than a read do not hand them on mid-period)
                        ready = last + period
                    else:                     # every read skipped: outputs are ready at once
                        if t_start > env._now:
                            yield timeout(t_start - env._now)
                        ready = env._now
                    if img == 0:              # counts: image 0's units x their kernel rows
                        runs[uidx] += 1
                else:
                    if t_start > env._now:
                        yield timeout(t_start - env._now)
                    adc_wait, adc_free, sampled = yield from self.reads_event(
                        L, n, m, banks.own_ns, shared, adc_free, img == 0, prio)
                    L.stall("adc_busy", adc_wait)   # with the unit's work, as fast does
                    # the last read is sampled and its conversions have started; its
                    # outputs are ready when they are done, and not before the end of
                    # its read period (as fast; at once when every read was skipped)
                    ready = max(adc_free, sampled + t_read) if m else env._now
                dt = env._now - t_start
                L.busy += dt
                copy_busy[k] += dt
                L.computed += 1
                if trace is not None:
                    self._x(L.lay.name, "compute", t_start, dt, tile, L.tid + 2 * k,
                            {"image": img, "row": r, "positions": n})
                # the output register is one deep: wait for the previous unit's outputs
                if prev is not None and not prev.done:
                    t0, cause = env._now, prev.cause
                    prev.event = Signal(env, prio)
                    yield prev.event
                    L.stall(cause, env._now - t0)
                elif prev is not None and prev.end > env._now:
                    # done when an older image's events were stepped, at a later time
                    # (engine.arbitration oldest_first): wait until then
                    t0, cause = env._now, prev.cause
                    yield later(env, prev.end - t0, None, prio)
                    L.stall(cause, env._now - t0)
                # the unit's output stage (S+A merge, eDRAM write, delivery: timeout
                # callbacks from _drain_store on, a process only if it must wait for a
                # buffer slot), its first request made when the outputs are ready, not
                # before: requests reach the servers in simulated-time order
                prev = _Drain(L, k, tile, img, r, n, env._now, out_svc, prio)
                heappush(queue, (env._now + max(0.0, ready - env._now), prio, next(eid),
                                 store, prev))

    def reads_event(self, L: LayerState, n: int, m: int, own_ns: float,
                    shared: list[tuple[Server, float]], empty: float, count: bool,
                    prio: int = NORMAL):
        """``event`` fidelity: every read of the copy's crossbar group, every conversion
        request on an ADC bank shared with another copy.

        A position takes ``cycles x steps`` reads (``steps`` OU reads per input bit-slice on
        the slowest crossbar; 1 when the whole array is read at once); ``m`` reads are
        stepped for the unit's ``n`` positions (fewer when a technique or zero skipping
        leaves reads out). The copy's crossbars read in lockstep: a read drives the rows
        from the moment the previous read was sampled and samples ``crossbar.read`` later
        into each crossbar's sample-and-hold, which holds one read (depth 1): it cannot
        sample before the ADCs have emptied every S+H (``empty``, ns; the wait is stall
        ``adc_busy``). Each bank then converts its crossbars' columns one after another:
        a bank of the copy's own is free at the sample (its previous conversions emptied
        the S+Hs) and busy ``own_ns`` (the longest own bank); a bank shared with another
        copy (``shared``: its one-port unit, this copy's conversion ns on it) is booked at
        the sample under the engine's arbitration rule (``fifo``: in request order;
        ``oldest_first``: the older image's conversions first). Returns (ns the reads waited for the S+Hs,
        when the last read's conversions are done, when the last read was sampled).

        Counts are the dense counts of the ``n`` positions, booked when the unit starts
        (the OU geometry of :func:`pimsim.kernels.counts.copy_geometry`); the skipped
        fractions are scaled out per layer at the end, as the closed form does. Only
        image 0 is counted (``count``): every image does the same work. ``prio``: the
        events' priority (:func:`pimsim.sim.arbiter.rank`).
        """
        env, d = self.env, self.d
        c = L.counts if count else L.scratch
        ib, ob = d.precision.input_bits, d.precision.output_bits
        ir_bits, or_bits = L.rows_sum * ib, L.outs_sum * ob
        slices = n * self.cyc
        steps, _, drives, conv, _ = L.geo
        c[A_XB] += slices * steps
        c[A_DAC] += slices * drives
        for a in (A_SH, A_ADC, A_SA):
            c[a] += slices * conv
        wait = 0.0
        t_read = self.t_read
        drive = env.now                         # the first read drives from now
        for _ in range(m):
            sample = drive + t_read
            if empty > sample:                  # an S+H still holds the previous read
                wait += empty - sample
                sample = empty
            yield later(env, sample - env._now, None, prio)
            empty = sample + own_ns             # own banks: free at the sample
            for bank, cn in shared:             # requested at the sample, in bank order
                _, end = bank.book(env._now, cn, 0.0, L.idx)
                if end > empty:
                    empty = end
            drive = sample                      # the next read drives once this one is held
        c[A_IR] += n * 2 * ir_bits
        c[A_OR] += n * 2 * or_bits
        c[A_EDRAM] += n * 2 * (ir_bits + or_bits)
        c[A_BUS] += n * (ir_bits + or_bits)
        c[A_TOR] += n * 2 * or_bits
        c[A_TSA] += n * L.lm.merges_per_position
        return wait, empty, drive

    def drain_services(self, L: LayerState, k: int, n: int) -> tuple[list[float] | None,
                                                                     list[float]]:
        """The output stage's service times for a unit of ``n`` positions of copy ``k``:
        (row-tile merges on each of its tiles' shift-and-add units, or None when there
        are none; eDRAM + bus write on each of its tiles) in ns."""
        tiles = L.copy_tileset[k]
        spread = len(L.copy_tiles[k])
        merges = L.lm.merges_per_position
        tsa = [n * merges * self.tsa_ns / spread] * len(tiles) if merges else None
        orb = n * L.store_bits / spread
        return tsa, [2 * orb / self.edram_bw, orb / self.bus_bw] * len(tiles)

    def _drain_store(self, dr: "_Drain") -> None:
        """Row-tile merges on the tile S+A (if any), then the eDRAM write (at its time)."""
        env, L, k = self.env, dr.L, dr.k
        svc = dr.services[0]
        if svc is None:                      # no row-tile merges
            self._drain_write(dr)
            return
        tsa = L.copy_tsa[k]
        if tsa is None:
            tsa = L.copy_tsa[k] = [self.server("tile_shift_add", x) for x in L.copy_tileset[k]]
        _, t = self.book_together(env._now, tsa, svc, L.idx)
        # the write is requested when the merge is done (requests in simulated-time order)
        # (dr.at(env, max(0.0, t - env._now), self._drain_write), inlined)
        heappush(env._queue, (env._now + max(0.0, t - env._now), dr.prio, next(env._eid),
                              self._drain_write, dr))

    def _drain_write(self, dr: "_Drain") -> None:
        """The unit's outputs into eDRAM over the bus, then on to the consumers."""
        env, L = self.env, dr.L
        _, t = self.book_together(env._now, L.copy_bufs[dr.k], dr.services[1], L.idx)
        # (dr.at(env, max(0.0, t - env._now), self._drain_send), inlined)
        heappush(env._queue, (env._now + max(0.0, t - env._now), dr.prio, next(env._eid),
                              self._drain_send, dr))

    def _drain_send(self, dr: "_Drain", first: int = 0, resumed: bool = False) -> None:
        blocked, hold = self.deliver_now(dr.L, dr.img, dr.r, dr.n, dr.tile, first, resumed,
                                         dr.prio)
        if blocked is not None:
            dr.cause = "buffer_full"
            self.env.process(self._drain_blocked(dr, blocked))
        elif hold > self.env._now:               # the output register holds the data
            dr.cause = "network"
            dr.at(self.env, hold - self.env._now, self._drain_finish)
        else:
            self._drain_finish(dr)

    def _drain_blocked(self, dr: "_Drain", index: int):
        yield from self.take_slot(dr.L.edges_out[index], dr.img, dr.r, dr.prio)
        self._drain_send(dr, index, resumed=True)

    def _drain_finish(self, dr: "_Drain") -> None:
        dr.done = True
        dr.end = self.env._now
        L = dr.L
        if self.trace is not None:
            self._x(L.lay.name, "output", dr.begin, self.env.now - dr.begin, dr.tile,
                    L.tid + 2 * dr.k + 1, {"image": dr.img, "row": dr.r})
        self.unit_done(L, dr.img)
        if dr.event is not None:
            dr.event.succeed()

    def worker(self, L: LayerState, w: int):
        """A non-MVM layer's rows on one host tile's units."""
        env = self.env
        tile = L.worker_tile[w]
        role = L.unit_role
        unit = self.server(role, tile) if role else None
        if role:
            action = L.lm.unit_action
            op_ns = self.arch.latency_ns(role, action) / units_per_tile(self.arch, role)
            # the original units count into their kernel columns; digital roles' counts
            # come from the mapping's per-image "role.op" columns (pimsim.mapping.digital)
            col = ACTIONS.index(f"{role}.{action}") if f"{role}.{action}" in ACTIONS else None
        for img in range(self.cap):         # blocks on input of images never admitted
            prio = rank(img, w)             # the image's place among simultaneous requests
            if img:       # resumed by the older image's event: let its requests of this
                yield later(env, 0.0, None, prio)       # instant go first (arbiter.py)
            for r in L.worker_rows[w]:
                t0 = env._now
                for ei, e in enumerate(L.edges_in):
                    ev = e.wait(img, L.hi[ei][r], prio)
                    if ev is not None:
                        yield ev
                L.stall("input_wait", env._now - t0)
                for ei, e in enumerate(L.edges_in):
                    e.release(img, L.lo[ei][r], L.hi[ei][r])
                t_start = env._now
                if img == 0:
                    L.start0 = min(L.start0, t_start)
                ops = L.row_ops[r]
                L.computed += 1
                if ops and unit is not None:
                    svc = ops * op_ns
                    start, end = unit.book(env._now, svc, 0.0, L.idx)
                    L.stall("unit_busy", start - env._now)
                    # the unit's own time (under oldest_first a service may pause for an
                    # older image's: end - start is then longer)
                    L.busy += svc
                    L.copy_busy[w] += svc
                    if img == 0 and col is not None:
                        L.counts[col] += ops
                    yield later(env, end - env._now, None, prio)
                    if self.trace is not None:
                        self._x(L.lay.name, "compute", start, end - start, tile, L.tid + 2 * w,
                                {"image": img, "row": r})
                # deliver(), its first step taken here: no process step when the row
                # part goes out at once (no slot to wait for, the links free)
                sent = self.deliver_now(L, img, r, L.width, tile, 0, False, prio)
                if sent[0] is not None or sent[1] > env._now:
                    waits = yield from self.deliver(L, img, r, L.width, tile, prio, sent)
                    for cause, dt in waits.items():
                        L.stall(cause, dt)
                self.unit_done(L, img)

    def take_slot(self, e: Edge, img: int, r: int, prio: int = NORMAL):
        """Wait for row ``r``'s turn and its ring slot in the consumer's buffer to be free
        (process; ``prio``: the waiter's :func:`pimsim.sim.arbiter.rank`)."""
        seq = img * e.rows + r
        if seq != e.seq_next:
            turn = e.turns[seq] = Signal(self.env, prio)
            yield turn
        i = e.slot(img, r)
        if e.occupied[i]:
            e.slot_waiter = Signal(self.env, prio)
            e.waiter_slot = i
            yield e.slot_waiter
        else:
            t = e.free_from(img, r)
            if t > self.env._now:         # freed (or its turn came) later: an older image's
                yield later(self.env, t - self.env._now, None, prio)   # (oldest_first)
            e.take(img, r)
        e.next_turn()

    def deliver_now(self, L: LayerState, img: int, r: int, n: int, tile: int, first: int = 0,
                    resumed: bool = False, prio: int = NORMAL) -> tuple[int | None, float]:
        """Send one output row part (``n`` positions) to the consumers from edge ``first``.

        Returns (index of an edge whose row slot must be waited for, or None; the time
        the last network link starts sending -- the output register holds the data until
        then). Slots go to rows in image-major order, so copies running ahead into the
        next image cannot take the slots of rows the consumer needs first (deadlock).
        ``prio``: the sender's :func:`pimsim.sim.arbiter.rank` (the part's arrival event).
        """
        env = self.env
        hold = env._now
        noc_cache = self.noc_cache
        for i in range(first, len(L.edges_out)):
            e = L.edges_out[i]
            st = e._img.get(img) or e.state(img)
            off = 0
            if resumed and i == first:           # this part claimed the row and got a slot
                off = e.offchip_rows[r]
            elif not st.taken[r]:
                # the first part of a row claims its slot; the other parts of the row
                # (other copies) travel with it
                st.taken[r] = True
                if img * e.rows + r != e.seq_next or e.occupied[e.slot(img, r)] \
                        or e.free_from(img, r) > env._now:
                    return i, hold
                e.take(img, r)
                e.next_turn()
                off = e.offchip_rows[r]
            C = self.layers[e.consumer]
            arrive = env._now
            if off:
                if img == 0:
                    C.offchip_bits += off
                chip = tile // self.tiles_per_chip
                _, arrive = self.server("offchip_link", chip).book(
                    arrive, off * self.off_ns_per_bit, 0.0, L.idx)
            if e.over_noc:
                # cut-through: the sender's injection port and every link of the XY path
                # are held together for bits / link bandwidth; each router passed adds its
                # latency (pimsim.sim.noc, docs/engine.md "On-chip network")
                bits = n * e.bits_per_position
                key = (tile, e.recv[r], bits)
                rt = noc_cache.get(key)
                if rt is None:
                    servers, hops = self.route(tile, e.recv[r])
                    rt = noc_cache[key] = (servers, hops, self.services(bits, len(servers)))
                servers, hops, svc = rt
                if img == 0:
                    C.router_bits += bits
                    C.router_bit_hops += bits * hops
                start, arrive = self.book_together(arrive, servers, svc, L.idx)
                arrive += hops * self.router_ns
                if start > hold:                 # hold = max(hold, start)
                    hold = start
                if self.trace is not None:
                    self._x(f"{C.lay.name}<-", "noc", start, arrive - start,
                            -1 - self.router_of(tile), 0, {"image": img, "row": r, "bits": bits})
            if e.local < e.slots:                # some slots are not in C's eDRAM
                arrive = self.stored(e, C, img, r, n * e.bits_per_position, arrive)
            e.arrive_at(arrive, img, r, prio)
        return None, hold

    def services(self, bits: float, n: int) -> list[float]:
        """Service times (ns) of one transfer of ``bits`` on its ``n`` servers: the
        injection port streams it at ``noc.link_GBps`` (it arrives at that pace); each mesh
        link is occupied for bits / ``noc.mesh_link_GBps`` (a wider link interleaves the
        flits of several transfers)."""
        return [bits / self.link_bw] + [bits / self.mesh_bw] * (n - 1)

    def stored(self, e: Edge, C: LayerState, img: int, r: int, bits: float,
               arrive: float) -> float:
        """When a row part of ``bits`` that reached consumer ``C``'s side at ``arrive`` can
        be read, given where its slot is (pimsim.sim.edram): the consumer's eDRAM at once;
        another tile's eDRAM one more NoC transfer later (at ``noc.avg_hops`` hops: that
        tile is not placed on the mesh, and its router is otherwise idle: no queue);
        off-chip memory after it is written out and read back over the consumer chip's
        off-chip links (2 x bits, booked: links contend)."""
        where = e.where(img, r)
        if where == 1:
            return arrive + bits / self.link_bw + self.d.noc.avg_hops * self.router_ns
        if where == 2:
            e.spilled_bits += 2 * bits
            _, arrive = self.server("offchip_link", C.lm.chip).book(
                arrive, 2 * bits * self.off_ns_per_bit, 0.0, C.idx)
        return arrive

    def deliver(self, L: LayerState, img: int, r: int, n: int, tile: int, prio: int = NORMAL,
                sent: tuple[int | None, float] | None = None):
        """``deliver_now`` inside a process, waiting where it must; {cause: wait ns}
        (``sent``: what its first call, made by the caller now, returned)."""
        env = self.env
        waits = {"buffer_full": 0.0, "network": 0.0}
        first, resumed = 0, False
        while True:
            if sent is None:
                blocked, hold = self.deliver_now(L, img, r, n, tile, first, resumed, prio)
            else:
                (blocked, hold), sent = sent, None
            if blocked is None:
                break
            t0 = env._now
            yield from self.take_slot(L.edges_out[blocked], img, r, prio)
            waits["buffer_full"] += env._now - t0
            first, resumed = blocked, True
        if hold > env._now:
            waits["network"] = hold - env._now
            yield later(env, hold - env._now, None, prio)
        return waits

    def unit_done(self, L: LayerState, img: int) -> None:
        now = self.env._now
        self.done_units += 1
        L.done += 1
        left = L.img_left
        left[img] -= 1
        if not left[img]:                    # the layer's last unit of this image
            L.img_finish[img] = now
        if img == 0:
            L.finish0 = max(L.finish0, now)
        if L.sink:
            share = L.host_out_share
            if share:             # this unit's results cross an off-chip link to the host
                if img == 0:                         # counts: image 0's (every image alike)
                    L.offchip_bits += share
                _, end = self.server("offchip_link", L.lm.chip).book(
                    now, share * self.off_ns_per_bit)
                self.host_out_end[img] = max(self.host_out_end[img], end)
            self.sink_left[img] -= 1
            if self.sink_left[img] == 0:
                self.image_done(img, max(now, self.host_out_end[img]))
