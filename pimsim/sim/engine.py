"""The discrete-event engine (simpy, time in ns): ``simulate(network, arch, ...)``.

One model, two fidelities (docs/engine.md):

* every MVM layer copy is a process that walks its *units* -- its positions of one output
  row (positions are dealt to copies round-robin in raster order) -- image after image:
  wait until the input rows its receptive field needs are in the buffer, fetch them from
  the tile eDRAM over the bus into the input register, stream the input bits through the
  crossbars (``input_cycles`` reads per position), hand the outputs to an output stage;
* the output stage (one per unit, the output register is one deep) waits for the last
  ADC conversion, merges row-tile partial sums on the tile shift-and-add, writes the
  outputs to eDRAM, takes a row slot in each consumer's input buffer (blocking when it is
  full) and sends the part over the router link (and an off-chip link when the consumer
  is on another chip);
* a non-MVM layer (ReLU, pooling, residual add, flatten) runs one worker per host tile on
  the tile's activation / max-pool / shift-and-add units, row by row;
* a source process delivers the network input rows of every image to the first layers.

The read cycle and ADC pipeline: a read takes ``crossbar.read_cycle_ns``; its sample is
held in the S+H until the crossbar's ``adc.per_crossbar`` ADCs are free, and they convert
the used columns (``ceil(cols / ADCs)`` samples at ``1 / sample_rate``) while the next
read proceeds. ``event`` simulates this read by read with the ADCs as a simpy Resource;
``fast`` books a whole unit at once with the same recurrence in closed form and takes
the unit's op counts from :func:`pimsim.kernels.unit_counts.unit_counts`.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np
import simpy
from simpy.core import EmptySchedule

from pimsim.arch.compose import CHIP, IMA, TILE, Arch
from pimsim.errors import ConfigError
from pimsim.kernels.counts import (A_ACT, A_ADC, A_BUS, A_DAC, A_EDRAM, A_IR, A_OFF, A_OR,
                                   A_POOL, A_ROUTER, A_SA, A_SH, A_TOR, A_TSA, A_XB, ACTIONS,
                                   N_ACTIONS)
from pimsim.kernels.unit_counts import positions_per_row, split_even, unit_counts, unit_reads
from pimsim.mapping import NetworkMap, map_network
from pimsim.result import EngineStats, LayerTiming, Result
from pimsim.mapping.network_map import LayerOverride
from pimsim.sim.analytic import build_result, energy_vector, kernel_inputs, with_hooks
from pimsim.sim.resources import Server, book_together
from pimsim.sim.weights import weight_load
from pimsim.units import BITS_PER_BYTE
from pimsim.workload.layer import NETWORK_INPUT, POOL_KINDS, Layer, Network

FIDELITIES = ("fast", "event")
#: Why a compute process (layer copy or non-MVM worker) is idle.
CAUSES = ("input_wait", "buffer_full", "buffer_bandwidth", "adc_busy", "network", "unit_busy")
DEFAULT_IMAGES = 3           # images in flight: enough for the pipeline to reach steady state
PROGRESS_EVERY = 20000       # simpy events between progress callbacks
CHUNKS_PER_COPY = 32         # fast and event: position chunks dealt to each copy per image
STALL_EPS_NS = 1e-6          # float noise of closed-form times is not a stall
NS_PER_US = 1e3              # trace-event timestamps are in microseconds
GBPS_TO_BITS_PER_NS = BITS_PER_BYTE  # 1 GB/s = 8 bits/ns
_ROLES = [a.split(".") for a in ACTIONS]


def _windows(lay: Layer, out_rows: int, in_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) input rows each output row of ``lay`` needs from an input of ``in_rows`` rows."""
    r = np.arange(out_rows, dtype=np.int64)
    if lay.kind == "conv" or lay.kind in POOL_KINDS:
        k, s, p, d = lay.kernel[0], lay.stride[0], lay.padding[0], lay.dilation[0]
        lo = r * s - p
        hi = lo + (k - 1) * d
    elif lay.kind in ("linear", "flatten"):
        lo = np.zeros_like(r)
        hi = np.full_like(r, in_rows - 1)
    else:                                    # relu, add: row to row
        lo, hi = r.copy(), r.copy()
    lo = np.clip(lo, 0, in_rows - 1)
    hi = np.clip(hi, lo, in_rows - 1)
    return lo, hi


class _ImageRows:
    """One image's rows on one edge: parts arrived, slots taken, readers left, waiters."""

    __slots__ = ("got", "taken", "readers", "prefix", "waiters")

    def __init__(self, readers: list[int], rows: int):
        self.got = [0] * rows
        self.taken = [False] * rows
        self.readers = list(readers)
        self.prefix = 0                       # rows 0..prefix-1 are complete
        self.waiters: dict[int, list] = {}    # last row needed -> events


class Edge:
    """Producer -> consumer data path: the consumer's input buffer for this operand."""

    def __init__(self, env: simpy.Environment, producer: int, consumer: int, order: int,
                 parts: np.ndarray, bits_per_position: int, over_noc: bool,
                 offchip_rows: np.ndarray, readers: np.ndarray, slots: int):
        self.env = env
        self.producer, self.consumer, self.order = producer, consumer, order
        self.rows = int(parts.size)
        self.parts = parts.tolist()
        self.bits_per_position = bits_per_position
        self.over_noc = over_noc
        self.offchip_rows = offchip_rows.tolist()
        self.readers = readers.tolist()
        self.slots = slots
        self.free = slots                     # row slots free in the consumer's buffer
        self.slot_waiter: simpy.Event | None = None
        self._img: dict[int, _ImageRows] = {}
        self.seq_next = 0                     # image-major row index whose turn it is
        self.turns: dict[int, simpy.Event] = {}

    def put_slot(self) -> None:
        """A row left the buffer: wake the producer waiting for a slot, or count it free."""
        if self.slot_waiter is not None:
            ev, self.slot_waiter = self.slot_waiter, None
            ev.succeed()
        else:
            self.free += 1

    def next_turn(self) -> None:
        """The row in turn got its slot: pass the turn on (waking its owner if waiting)."""
        self.seq_next += 1
        ev = self.turns.pop(self.seq_next, None)
        if ev is not None:
            ev.succeed()

    def state(self, img: int) -> _ImageRows:
        st = self._img.get(img)
        if st is None:
            st = self._img[img] = _ImageRows(self.readers, self.rows)
        return st

    def wait(self, img: int, hi: int) -> simpy.Event | None:
        """An event for 'rows 0..hi complete', or None when they already are."""
        st = self.state(img)
        if st.prefix > hi:
            return None
        ev = self.env.event()
        st.waiters.setdefault(hi, []).append(ev)
        return ev

    def arrive(self, img: int, row: int) -> None:
        st = self.state(img)
        st.got[row] += 1
        if st.got[row] != self.parts[row]:
            return
        if st.readers[row] == 0:              # a row no output needs (stride > kernel)
            self.put_slot()
        old = st.prefix
        while st.prefix < self.rows and st.got[st.prefix] == self.parts[st.prefix]:
            st.prefix += 1
        for hi in range(old, st.prefix):
            for ev in st.waiters.pop(hi, ()):
                ev.succeed()

    def release(self, img: int, lo: int, hi: int) -> None:
        """One reader fetched rows lo..hi into its input register: free finished rows."""
        st = self.state(img)
        for i in range(lo, hi + 1):
            st.readers[i] -= 1
            if st.readers[i] == 0:
                self.put_slot()


class _Drain:
    """One unit's output stage in flight (the copy waits on it: the OR is one deep)."""

    __slots__ = ("L", "k", "tile", "img", "r", "n", "begin", "done", "event", "cause")

    def __init__(self, L: "_Layer", k: int, tile: int, img: int, r: int, n: int, begin: float):
        self.L, self.k, self.tile, self.img, self.r, self.n = L, k, tile, img, r, n
        self.begin = begin
        self.done = False
        self.event: simpy.Event | None = None
        self.cause = "buffer_bandwidth"      # what it is waiting on now (for stalls)


class _Layer:
    """Engine-side state of one layer (plain attributes; nothing leaks into the Result)."""

    def __init__(self, idx: int, lay: Layer, lm):
        self.idx, self.lay, self.lm = idx, lay, lm
        self.is_mvm = lm.is_mvm
        self.rows = lay.out_shape[1]
        self.width = lay.out_shape[2]
        self.edges_in: list[Edge] = []
        self.edges_out: list[Edge] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.counts = np.zeros(N_ACTIONS)
        self.router_bits = 0
        self.offchip_bits = 0
        self.stalls = {c: 0.0 for c in CAUSES}
        self.busy = 0.0
        self.copy_busy: np.ndarray = np.zeros(1)
        self.start0 = math.inf
        self.finish0 = 0.0
        self.sink = False
        self.slots = 0
        self.overcommit = False
        self.tid = 0

    def stall(self, cause: str, dt: float) -> None:
        if dt > STALL_EPS_NS:
            self.stalls[cause] += dt


class Engine:
    """Builds the processes for one mapped network and runs them."""

    def __init__(self, network: Network, arch: Arch, nmap: NetworkMap, fidelity: str,
                 images: int, timeline: bool, progress: Callable[[int, int], None] | None):
        if fidelity not in FIDELITIES:
            raise ValueError(f"fidelity must be one of {FIDELITIES}, not {fidelity!r}")
        d = arch.design
        self.network, self.arch, self.nmap, self.d = network, arch, nmap, d
        self.fidelity, self.images, self.progress = fidelity, images, progress
        self.env = simpy.Environment()
        self.trace: list[dict] | None = [] if timeline else None
        # timing constants from the component models
        self.t_read = arch.latency_ns("crossbar", "read")
        self.t_sample = arch.latency_ns("adc", "convert")
        self.cyc = d.input_cycles
        self.edram_bw = d.tile.edram_bandwidth_GBps * GBPS_TO_BITS_PER_NS
        self.bus_bw = d.tile.bus_width_bits * d.clock_GHz
        self.link_bw = d.noc.link_GBps * GBPS_TO_BITS_PER_NS
        self.hop_ns = d.noc.avg_hops * arch.latency_ns("router", "transfer")
        self.off_ns_per_bit = arch.latency_ns("offchip_link", "transfer")
        self.tsa_ns = arch.latency_ns("tile_shift_add", "accumulate") / d.tile.shift_adds
        self.servers: dict[tuple[str, int], Server] = {}
        self.layers = [_Layer(i, lay, lm) for i, (lay, lm) in enumerate(zip(network, nmap.layers))]
        self.image_finish = [math.nan] * images
        self.sink_left = [0] * images
        self.events = 0
        self.done_units = 0
        self._build()

    # -- resources -----------------------------------------------------------------
    def server(self, role: str, index: int) -> Server:
        key = (role, index)
        s = self.servers.get(key)
        if s is None:
            d = self.d
            ports = {"edram": d.tile.edram_ports, "offchip_link": d.chip.offchip_links}.get(role, 1)
            s = self.servers[key] = Server(f"{role}[{index}]", ports)
        return s

    def router_of(self, tile: int) -> int:
        """The NoC link a tile sends on: one injection link per tile (docs/engine.md)."""
        return tile

    # -- set-up (all array work happens here, before the event loop) ------------------
    def _build(self) -> None:
        d, env, layers = self.d, self.env, self.layers
        by_name = {L.lay.name: L for L in layers}
        ptr, xr, xc, xo, _ = kernel_inputs(self.nmap)
        merges = np.array([L.lm.merges_per_position for L in layers], dtype=np.int64)
        unit_layer, unit_pos = [], []
        tiles_per_chip = d.chip.tiles
        # copies, units, per-row parts
        for L in layers:
            lm = L.lm
            if L.is_mvm:
                c = lm.replication
                # chunks of consecutive positions: about CHUNKS_PER_COPY per copy and image
                # (fewer, larger units; a copy's share stays within one chunk of P / c)
                L.chunk = max(1, min(L.width, lm.positions // (c * CHUNKS_PER_COPY)))
                L.ppr = positions_per_row(L.rows, L.width, c, L.chunk)
                L.parts_out = (L.ppr > 0).sum(axis=0).astype(np.int64)
                span = lm.last_tile - lm.first_tile + 1
                L.copy_tile = [lm.first_tile + (k * span) // c for k in range(c)]
                # a copy larger than a tile spreads over several: its tiles' eDRAMs, buses
                # and shift-and-add units work on its row tiles in parallel
                per_tile = d.tile.imas
                L.copy_tiles = []
                for k in range(c):
                    first_ima = (k * lm.imas) // c
                    n_tiles = max(1, -(-lm.imas_per_copy // per_tile))
                    t0 = lm.first_tile + first_ima // per_tile
                    L.copy_tiles.append([min(t0 + j, lm.last_tile) for j in range(n_tiles)])
                L.copy_tileset = [sorted(set(t)) for t in L.copy_tiles]
                L.units = []
                # technique hook: a unit of n positions steps ceil(n x cycles x (1 - skip))
                # reads (the closed form's rule applied per unit); 0 skip: n x cycles
                keep = 1.0 - lm.skip_cycles
                for k in range(c):
                    rows = np.nonzero(L.ppr[k])[0]
                    base = len(unit_layer)
                    L.units.append([(int(r), int(L.ppr[k, r]), base + j,
                                     unit_reads(int(L.ppr[k, r]), d.input_cycles, keep))
                                    for j, r in enumerate(rows)])
                    unit_layer.extend([L.idx] * rows.size)
                    unit_pos.extend(L.ppr[k, rows].tolist())
                L.copy_busy = np.zeros(c)
                nxb = lm.crossbars_per_copy
                L.nxb = nxb
                L.rows_sum = int(lm.xb_rows.sum())
                L.cols_sum = int(lm.xb_cols.sum())
                L.outs_sum = int(lm.xb_outs.sum())
                L.fetch_bits = L.lay.weight_rows * L.lay.groups * d.precision.input_bits
                L.store_bits = L.lay.out_shape[0] * d.precision.output_bits
                # the slowest crossbar of the group sets the conversion time of a read
                adcs = d.adc.per_crossbar
                L.t_conv = math.ceil(int(lm.xb_cols.max()) / adcs) * self.t_sample if nxb else 0.0
                L.period = max(self.t_read, L.t_conv)
            else:
                h = max(1, min(lm.last_tile - lm.first_tile + 1, L.rows))
                L.parts_out = np.ones(L.rows, dtype=np.int64)
                L.worker_rows = [list(range(w, L.rows, h)) for w in range(h)]
                L.worker_tile = [lm.first_tile + w for w in range(h)]
                L.copy_busy = np.zeros(h)
                if lm.activation_ops:
                    L.unit_role, ops = "activation", lm.activation_ops
                elif lm.pool_ops:
                    L.unit_role, ops = "maxpool", lm.pool_ops
                elif lm.add_ops:
                    L.unit_role, ops = "tile_shift_add", lm.add_ops
                else:
                    L.unit_role, ops = "", 0
                L.row_ops = split_even(int(ops), L.rows).tolist()
        self.unit_layer = unit_layer
        self.unit_table = unit_counts(np.array(unit_layer, dtype=np.int64),
                                      np.array(unit_pos, dtype=np.int64), ptr, xr, xc, xo,
                                      merges, d.input_cycles, d.precision.input_bits,
                                      d.precision.output_bits)
        # edges: (producer, consumer); producer -1 is the network input
        in_h = self.network.input_shape[1]
        edram_bits = d.tile.edram_bytes * BITS_PER_BYTE
        plans = []
        for L in layers:
            srcs = [None if s == NETWORK_INPUT else s for s in L.lay.inputs] or [None]
            for order, src in enumerate(srcs):
                P = by_name[src] if src is not None else None
                plans.append((P, L, order))
        geo = []
        for P, L, order in plans:
            lay = L.lay
            if P is None:
                rows, ch, width = in_h, self.network.input_shape[0], self.network.input_shape[2]
                parts = np.ones(rows, dtype=np.int64)
            else:
                rows, ch, width = P.rows, P.lay.out_shape[0], P.width
                parts = P.parts_out
            lo, hi = _windows(lay, L.rows, rows)
            bits = d.precision.input_bits if L.is_mvm else d.precision.output_bits
            row_bits = ch * width * bits
            # rows the consumer needs to make progress: its window plus one stride; an
            # operand of a join (residual add) may have to wait for the other branch for
            # a whole image, so it must be able to hold a whole tensor (else a producer
            # feeding both branches deadlocks)
            step = int(np.diff(lo).max()) if lo.size > 1 else 1
            need = int((hi - lo).max()) + 1 + max(1, step)
            if len(lay.inputs) > 1:
                need = rows
            need = min(need, rows)
            geo.append((rows, ch, width, parts, lo, hi, bits, row_bits, need))
        # eDRAM: an operand lives in the buffers of its consumer's host tiles, spread
        # evenly over them; each tile's eDRAM is shared by the operands on it in
        # proportion to their need; an operand always gets its need (else flagged as
        # over-committed) and at most all images in flight
        def host(L: _Layer) -> range:
            return range(L.lm.first_tile, L.lm.last_tile + 1)

        load: dict[int, float] = {}
        for (P, L, order), g in zip(plans, geo):
            for t in host(L):
                load[t] = load.get(t, 0.0) + g[8] * g[7] / len(host(L))
        for (P, L, order), g in zip(plans, geo):
            rows, ch, width, parts, lo, hi, bits, row_bits, need = g
            lay, lm = L.lay, L.lm
            mine = need * row_bits / len(host(L))
            cap_bits = sum(edram_bits * mine / load[t] for t in host(L)) if mine else 0.0
            fits = int(cap_bits // max(1, row_bits))
            slots = max(need, min(rows * self.images, fits))
            L.slots = max(L.slots, slots)
            L.overcommit |= fits < need
            # readers of each input row: the consumer's units whose window covers it
            unit_parts = L.parts_out if L.is_mvm else np.ones(L.rows, dtype=np.int64)
            diff = np.zeros(rows + 1, dtype=np.int64)
            np.add.at(diff, lo, unit_parts)
            np.add.at(diff, hi + 1, -unit_parts)
            readers = np.cumsum(diff[:-1])
            over_noc = L.is_mvm or order > 0
            off_order = 1 if (not L.is_mvm and len(lay.inputs) > 1) else 0
            off = split_even(int(lm.offchip_bits), rows) if order == off_order else \
                np.zeros(rows, dtype=np.int64)
            e = Edge(self.env, P.idx if P else -1, L.idx, order, parts, ch * bits, over_noc,
                     off, readers, slots)
            L.edges_in.append(e)
            L.lo.append(lo.tolist())
            L.hi.append(hi.tolist())
            if P is not None:
                P.edges_out.append(e)
            else:
                self.env.process(self.source(e, L, rows, width))
        for L in layers:
            L.sink = not L.edges_out
            if L.sink:
                n = int(L.parts_out.sum())
                for i in range(self.images):
                    self.sink_left[i] += n
        tid = 1
        for L in layers:
            L.tid = tid
            tid += 2 * (L.lm.replication if L.is_mvm else len(L.worker_rows))
            if L.is_mvm:
                for k in range(L.lm.replication):
                    env.process(self.copy(L, k))
            else:
                for w in range(len(L.worker_rows)):
                    env.process(self.worker(L, w))
        self.total_units = sum(sum(len(u) for u in L.units) if L.is_mvm else L.rows
                               for L in layers) * self.images
        self.tiles_per_chip = tiles_per_chip

    # -- processes ---------------------------------------------------------------------
    def source(self, e: Edge, L: _Layer, rows: int, width: int):
        """The network input, row by row, image after image, into the first layer's buffer."""
        tile = L.lm.first_tile
        for img in range(self.images):
            for r in range(rows):
                yield from self.deliver_source(e, L, img, r, width, tile)

    def deliver_source(self, e: Edge, L: _Layer, img: int, r: int, width: int, tile: int):
        """One input row over the consumer tile's NoC link into its buffer."""
        yield from self.take_slot(e, img, r)
        arrive = self.env.now
        if e.offchip_rows[r]:
            off = e.offchip_rows[r]
            L.offchip_bits += off
            _, arrive = self.server("offchip_link", tile // self.tiles_per_chip).book(
                arrive, off * self.off_ns_per_bit)
        if e.over_noc:
            bits = width * e.bits_per_position
            L.router_bits += bits
            _, arrive = self.server("router", self.router_of(tile)).book(
                arrive, bits / self.link_bw + self.hop_ns)
        ev = self.env.timeout(arrive - self.env.now)
        ev.callbacks.append(lambda _ev: e.arrive(img, r))

    def copy(self, L: _Layer, k: int):
        """One copy of an MVM layer: its units (positions of one output row), all images."""
        env = self.env
        tile = L.copy_tile[k]
        tiles = L.copy_tileset[k]
        spread = len(L.copy_tiles[k])
        bufs = [self.server(role, t) for t in tiles for role in ("edram", "bus")]
        adc = simpy.Resource(env, capacity=1) if self.fidelity == "event" else None
        adc_free = 0.0
        prev = None
        # timing moves each receptive field once (the bus broadcasts it to the column
        # tiles); the count (docs/mapping.md) charges every crossbar's IR slice
        fetch_per_pos = L.fetch_bits
        lo, hi, edges = L.lo, L.hi, L.edges_in
        runs = self.unit_runs
        for img in range(self.images):
            for r, n, uidx, m in L.units[k]:
                t0 = env.now
                for ei, e in enumerate(edges):
                    ev = e.wait(img, hi[ei][r])
                    if ev is not None:
                        yield ev
                L.stall("input_wait", env.now - t0)
                # fetch the receptive fields from eDRAM over the bus into the IR; the
                # rows are released when the fetch is booked (no later write can overtake
                # a booked read of the same FIFO port)
                ir = n * fetch_per_pos / spread
                _, t_start = book_together(env.now, bufs,
                                           [2 * ir / self.edram_bw, ir / self.bus_bw] * len(tiles))
                L.stall("buffer_bandwidth", t_start - env.now)
                for ei, e in enumerate(edges):
                    e.release(img, lo[ei][r], hi[ei][r])
                if img == 0:
                    L.start0 = min(L.start0, t_start)
                if adc is None:
                    # the read / S+H / ADC recurrence of reads_event in closed form: the
                    # i-th conversion starts at cs0 + i x max(read, conversion)
                    if m:
                        cs0 = max(t_start + self.t_read, adc_free)
                        last = cs0 + (m - 1) * L.period
                        L.stall("adc_busy", (cs0 - t_start - self.t_read)
                                + (m - 1) * max(0.0, L.t_conv - self.t_read))
                        yield env.timeout(last - env.now)
                        ready = adc_free = last + L.t_conv
                    else:                     # every read skipped: outputs are ready at once
                        if t_start > env.now:
                            yield env.timeout(t_start - env.now)
                        ready = env.now
                    runs[uidx] += 1           # counts = runs x the unit's kernel row, at the end
                else:
                    if t_start > env.now:
                        yield env.timeout(t_start - env.now)
                    yield from self.reads_event(L, n, m, adc)
                    # the last conversion just started (none when every read was skipped)
                    ready = env.now + (L.t_conv if m else 0.0)
                dt = env.now - t_start
                L.busy += dt
                L.copy_busy[k] += dt
                if self.trace is not None:
                    self._x(L.lay.name, "compute", t_start, dt, tile, L.tid + 2 * k,
                            {"image": img, "row": r, "positions": n})
                # the output register is one deep: wait for the previous unit's outputs
                if prev is not None and not prev.done:
                    t0, cause = env.now, prev.cause
                    prev.event = env.event()
                    yield prev.event
                    L.stall(cause, env.now - t0)
                prev = self.drain(L, k, tile, img, r, n, ready)

    def reads_event(self, L: _Layer, n: int, m: int, adc: simpy.Resource):
        """``event`` fidelity: every read cycle of the copy's crossbar group, every ADC batch.

        ``m`` read cycles are stepped for the unit's ``n`` positions (``n x cycles`` less
        the cycles a technique skips). Counts are the dense counts (``n x cycles`` reads);
        the skipped fractions are scaled out per layer at the end, as the closed form does.
        """
        env, d = self.env, self.d
        c = L.counts
        ib, ob = d.precision.input_bits, d.precision.output_bits
        ir_bits, or_bits = L.rows_sum * ib, L.outs_sum * ob
        skipped = n * self.cyc - m
        if skipped:       # the skipped cycles' dense counts (scaled out with the others)
            c[A_XB] += skipped * L.nxb
            c[A_DAC] += skipped * L.rows_sum
            for a in (A_SH, A_ADC, A_SA):
                c[a] += skipped * L.cols_sum
        step = 0
        for _ in range(n):
            for _ in range(self.cyc):
                step += 1
                if step > m:
                    break
                yield env.timeout(self.t_read)         # drive rows, settle, sample and hold
                c[A_XB] += L.nxb
                c[A_DAC] += L.rows_sum
                req = adc.request()                     # the S+H waits for the ADCs
                if not req.triggered:
                    t0 = env.now
                    yield req
                    L.stall("adc_busy", env.now - t0)
                # the conversion batch runs while the next read proceeds
                done = env.timeout(L.t_conv)
                done.callbacks.append(lambda _ev, req=req: self.converted(L, adc, req))
            c[A_IR] += 2 * ir_bits
            c[A_OR] += 2 * or_bits
            c[A_EDRAM] += 2 * (ir_bits + or_bits)
            c[A_BUS] += ir_bits + or_bits
            c[A_TOR] += 2 * or_bits
            c[A_TSA] += L.lm.merges_per_position

    def converted(self, L: _Layer, adc: simpy.Resource, req) -> None:
        """A conversion batch is done: the used columns went through the ADCs and S+A."""
        c = L.counts
        c[A_SH] += L.cols_sum
        c[A_ADC] += L.cols_sum
        c[A_SA] += L.cols_sum
        adc.release(req)

    def drain(self, L: _Layer, k: int, tile: int, img: int, r: int, n: int,
              ready: float) -> "_Drain":
        """Output stage of one unit: S+A merge, eDRAM write, delivery to the consumers.

        Booked from the end of the last conversion; runs as timeout callbacks and becomes
        a process only if it must wait for a buffer slot.
        """
        env = self.env
        dr = _Drain(L, k, tile, img, r, n, env.now)
        # book the units when the last conversion is done, not before: the servers are
        # FIFO in request order, an early booking would block the copy's next fetch
        ev = env.timeout(max(0.0, ready - env.now))
        ev.callbacks.append(lambda _ev: self._drain_store(dr))
        return dr

    def _drain_store(self, dr: "_Drain") -> None:
        env, L, k, n = self.env, dr.L, dr.k, dr.n
        # row-tile merges on the tile S+A, then the outputs into eDRAM over the bus
        t = env.now
        tiles = L.copy_tileset[k]
        spread = len(L.copy_tiles[k])
        merges = L.lm.merges_per_position
        if merges:
            _, t = book_together(t, [self.server("tile_shift_add", x) for x in tiles],
                                 [n * merges * self.tsa_ns / spread] * len(tiles))
        orb = n * L.store_bits / spread
        _, t = book_together(t, [self.server(role, x) for x in tiles for role in ("edram", "bus")],
                             [2 * orb / self.edram_bw, orb / self.bus_bw] * len(tiles))
        ev = env.timeout(max(0.0, t - env.now))
        ev.callbacks.append(lambda _ev: self._drain_send(dr, 0))

    def _drain_send(self, dr: "_Drain", first: int, resumed: bool = False) -> None:
        blocked, hold = self.deliver_now(dr.L, dr.img, dr.r, dr.n, dr.tile, first, resumed)
        if blocked is not None:
            dr.cause = "buffer_full"
            self.env.process(self._drain_blocked(dr, blocked))
        elif hold > self.env.now:                # the output register holds the data
            dr.cause = "network"
            ev = self.env.timeout(hold - self.env.now)
            ev.callbacks.append(lambda _ev: self._drain_finish(dr))
        else:
            self._drain_finish(dr)

    def _drain_blocked(self, dr: "_Drain", index: int):
        yield from self.take_slot(dr.L.edges_out[index], dr.img, dr.r)
        self._drain_send(dr, index, resumed=True)

    def _drain_finish(self, dr: "_Drain") -> None:
        dr.done = True
        L = dr.L
        if self.trace is not None:
            self._x(L.lay.name, "output", dr.begin, self.env.now - dr.begin, dr.tile,
                    L.tid + 2 * dr.k + 1, {"image": dr.img, "row": dr.r})
        self.unit_done(L, dr.img)
        if dr.event is not None:
            dr.event.succeed()

    def worker(self, L: _Layer, w: int):
        """A non-MVM layer's rows on one host tile's units."""
        env = self.env
        tile = L.worker_tile[w]
        role = L.unit_role
        unit = self.server(role, tile) if role else None
        if role:
            action = "accumulate" if role == "tile_shift_add" else "op"
            t = self.d.tile
            units = {"activation": t.activation_units, "maxpool": t.maxpool_units,
                     "tile_shift_add": t.shift_adds}[role]
            op_ns = self.arch.latency_ns(role, action) / units
            col = {"activation": A_ACT, "maxpool": A_POOL, "tile_shift_add": A_TSA}[role]
        for img in range(self.images):
            for r in L.worker_rows[w]:
                t0 = env.now
                for ei, e in enumerate(L.edges_in):
                    ev = e.wait(img, L.hi[ei][r])
                    if ev is not None:
                        yield ev
                L.stall("input_wait", env.now - t0)
                for ei, e in enumerate(L.edges_in):
                    e.release(img, L.lo[ei][r], L.hi[ei][r])
                t_start = env.now
                if img == 0:
                    L.start0 = min(L.start0, t_start)
                ops = L.row_ops[r]
                if ops and unit is not None:
                    start, end = unit.book(env.now, ops * op_ns)
                    L.stall("unit_busy", start - env.now)
                    L.busy += end - start
                    L.copy_busy[w] += end - start
                    L.counts[col] += ops
                    yield env.timeout(end - env.now)
                    if self.trace is not None:
                        self._x(L.lay.name, "compute", start, end - start, tile, L.tid + 2 * w,
                                {"image": img, "row": r})
                waits = yield from self.deliver(L, img, r, L.width, tile)
                for cause, dt in waits.items():
                    L.stall(cause, dt)
                self.unit_done(L, img)

    def take_slot(self, e: Edge, img: int, r: int):
        """Wait for row ``r``'s turn and a free slot in the consumer's buffer (process)."""
        seq = img * e.rows + r
        if seq != e.seq_next:
            turn = e.turns[seq] = self.env.event()
            yield turn
        if e.free == 0:
            e.slot_waiter = self.env.event()
            yield e.slot_waiter
        else:
            e.free -= 1
        e.next_turn()

    def deliver_now(self, L: _Layer, img: int, r: int, n: int, tile: int, first: int = 0,
                    resumed: bool = False) -> tuple[int | None, float]:
        """Send one output row part (``n`` positions) to the consumers from edge ``first``.

        Returns (index of an edge whose row slot must be waited for, or None; the time
        the last network link starts sending -- the output register holds the data until
        then). Slots go to rows in image-major order, so copies running ahead into the
        next image cannot take the slots of rows the consumer needs first (deadlock).
        """
        env = self.env
        hold = env.now
        for i in range(first, len(L.edges_out)):
            e = L.edges_out[i]
            st = e.state(img)
            off = 0
            if resumed and i == first:           # this part claimed the row and got a slot
                off = e.offchip_rows[r]
            elif not st.taken[r]:
                # the first part of a row claims its slot; the other parts of the row
                # (other copies) travel with it
                st.taken[r] = True
                if img * e.rows + r != e.seq_next or e.free == 0:
                    return i, hold
                e.free -= 1
                e.next_turn()
                off = e.offchip_rows[r]
            C = self.layers[e.consumer]
            arrive = env.now
            if off:
                C.offchip_bits += off
                chip = tile // self.tiles_per_chip
                _, arrive = self.server("offchip_link", chip).book(arrive,
                                                                  off * self.off_ns_per_bit)
            if e.over_noc:
                bits = n * e.bits_per_position
                C.router_bits += bits
                link = self.server("router", self.router_of(tile))
                start, arrive = link.book(arrive, bits / self.link_bw + self.hop_ns)
                hold = max(hold, start)
                if self.trace is not None:
                    self._x(f"{C.lay.name}<-", "noc", start, arrive - start,
                            -1 - self.router_of(tile), 0, {"image": img, "row": r, "bits": bits})
            ev = env.timeout(arrive - env.now)
            ev.callbacks.append(lambda _ev, e=e: e.arrive(img, r))
        return None, hold

    def deliver(self, L: _Layer, img: int, r: int, n: int, tile: int):
        """``deliver_now`` inside a process, waiting where it must; {cause: wait ns}."""
        env = self.env
        waits = {"buffer_full": 0.0, "network": 0.0}
        first, resumed = 0, False
        while True:
            blocked, hold = self.deliver_now(L, img, r, n, tile, first, resumed)
            if blocked is None:
                break
            t0 = env.now
            yield from self.take_slot(L.edges_out[blocked], img, r)
            waits["buffer_full"] += env.now - t0
            first, resumed = blocked, True
        if hold > env.now:
            waits["network"] = hold - env.now
            yield env.timeout(hold - env.now)
        return waits

    def unit_done(self, L: _Layer, img: int) -> None:
        now = self.env.now
        self.done_units += 1
        if img == 0:
            L.finish0 = max(L.finish0, now)
        if L.sink:
            self.sink_left[img] -= 1
            if self.sink_left[img] == 0:
                self.image_finish[img] = now

    # -- timeline -----------------------------------------------------------------------
    def _x(self, name: str, cat: str, start: float, dur: float, pid: int, tid: int, args: dict):
        self.trace.append({"name": name, "cat": cat, "ph": "X", "ts": start / NS_PER_US,
                           "dur": dur / NS_PER_US, "pid": pid, "tid": tid, "args": args})

    def trace_metadata(self) -> list[dict]:
        meta = []
        tiles = set()
        for L in self.layers:
            if L.is_mvm:
                for k in range(L.lm.replication):
                    t = L.copy_tile[k]
                    tiles.add(t)
                    meta.append(_thread_name(t, L.tid + 2 * k, f"{L.lay.name} copy {k}"))
                    meta.append(_thread_name(t, L.tid + 2 * k + 1, f"{L.lay.name} copy {k} out"))
            else:
                for w, t in enumerate(L.worker_tile):
                    tiles.add(t)
                    meta.append(_thread_name(t, L.tid + 2 * w, f"{L.lay.name} on tile {t}"))
        for t in sorted(tiles):
            meta.append({"name": "process_name", "ph": "M", "pid": t, "tid": 0,
                         "args": {"name": f"tile {t}"}})
        routers = {-1 - self.router_of(t) for t in tiles}
        for p in sorted(routers):
            meta.append({"name": "process_name", "ph": "M", "pid": p, "tid": 0,
                         "args": {"name": f"tile {-1 - p} NoC link"}})
        return meta

    # -- run ------------------------------------------------------------------------------
    def run(self) -> None:
        env = self.env
        self.unit_runs = [0] * len(self.unit_table)
        step = env.step
        n = 0
        try:
            while True:
                step()
                n += 1
                if self.progress is not None and n % PROGRESS_EVERY == 0:
                    self.progress(self.done_units, self.total_units)
        except EmptySchedule:
            pass
        self.events = n
        # fast fidelity: each unit's kernel counts times the number of times it ran
        if len(self.unit_table):
            layer_of = np.array(self.unit_layer, dtype=np.int64)
            per_unit = self.unit_table * np.array(self.unit_runs, dtype=np.float64)[:, None]
            for L in self.layers:
                if L.is_mvm:
                    L.counts += per_unit[layer_of == L.idx].sum(axis=0)
        if any(math.isnan(f) for f in self.image_finish):
            raise RuntimeError(f"engine deadlock: {self.network.name} did not finish all "
                               "images (a buffer too small for a join?)")
        if self.progress is not None:
            self.progress(self.total_units, self.total_units)


def _thread_name(pid: int, tid: int, name: str) -> dict:
    return {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}


def _units_on_chips(arch: Arch, role: str, chips: int) -> float:
    d = arch.design
    level, per = arch.counts[role]
    per_level = {IMA: d.tile.imas * d.chip.tiles, TILE: d.chip.tiles, CHIP: 1}[level]
    return per * per_level * chips


def run_engine(network: Network, arch: Arch, *, fidelity: str = "fast",
               images: int = DEFAULT_IMAGES, timeline: bool = False,
               progress: Callable[[int, int], None] | None = None,
               overrides: Mapping[str, LayerOverride] | None = None) -> Result:
    """Simulate ``images`` images in flight and return a :class:`Result` (per image).

    ``overrides`` (layer name -> ``LayerOverride``) is a technique's change to the mapped
    workload: its tiling builds the crossbars, its skipped fractions scale the counts and
    its skipped cycles shorten the reads, as in :func:`pimsim.sim.evaluate`.
    """
    if images < 1:
        raise ValueError("images must be >= 1")
    d = arch.design
    nmap = map_network(network, arch, overrides)
    if nmap.chips > 1 and d.chip.offchip_links == 0:
        raise ConfigError(f"network '{nmap.network}' needs {nmap.chips} chips but the chips "
                          "have no off-chip links", file=d.source, where="chip.offchip_links",
                          found=0, expected="at least 1 link")
    eng = Engine(network, arch, nmap, fidelity, images, timeline, progress)
    eng.run()
    return _result(eng)


def _result(eng: Engine) -> Result:
    arch, d, nmap, network = eng.arch, eng.d, eng.nmap, eng.network
    images = eng.images
    run_counts = np.zeros((len(eng.layers), N_ACTIONS))
    for L in eng.layers:
        run_counts[L.idx] = L.counts
        run_counts[L.idx, A_ROUTER] = 0.0
        run_counts[L.idx, A_OFF] = L.offchip_bits
    counts = run_counts / images
    for L in eng.layers:   # router: bits received x hops, as the closed form counts it
        counts[L.idx, A_ROUTER] = (L.router_bits / images) * d.noc.avg_hops
        run_counts[L.idx, A_ROUTER] = L.router_bits * d.noc.avg_hops
    # technique hooks (skipped fractions, support roles' counts): the closed form's code
    # on the engine's dense counts, which equal the closed form's exactly
    counts, dyn, actions = with_hooks(nmap, arch, counts, energy_vector(arch))
    if any(lm.skip_reads or lm.skip_drives or lm.skip_conversions or lm.extra_counts
           for lm in nmap.layers):
        run_counts = counts * images      # whole-run ops with the hooks (else unchanged)
    finish = eng.image_finish
    latency = finish[0]
    interval = (finish[-1] - finish[0]) / (images - 1) if images > 1 else latency

    cycles, times, timings = [], [], []
    for L in eng.layers:
        lm = L.lm
        times.append(float(L.copy_busy.max()) / images if L.copy_busy.size else 0.0)
        # read cycles of the busiest copy per image (skipped cycles removed per unit)
        cycles.append(max(sum(u[3] for u in us) for us in L.units) if L.is_mvm else 0)
        timings.append(LayerTiming(
            name=lm.name, start_ns=float(L.start0 if L.start0 != math.inf else 0.0),
            finish_ns=float(L.finish0), busy_ns=L.busy / images,
            stalls_ns={c: v / images for c, v in L.stalls.items()}, buffer_rows=int(L.slots),
            buffer_overcommit=bool(L.overcommit)))

    sim_time = max(finish)
    run_tot = run_counts.sum(axis=0)
    busy = {"crossbar": float(run_tot[A_XB]) * eng.t_read,
            "adc": float(run_tot[A_ADC]) * eng.t_sample}
    for (role, _), s in eng.servers.items():
        busy[role] = busy.get(role, 0.0) + s.busy_ns
    util = {}
    for role, b in busy.items():
        n_units = _units_on_chips(arch, role, nmap.chips) if role in arch.counts else 0
        if role == "edram":
            n_units *= d.tile.edram_ports
        if role == "router":     # one injection link per tile
            n_units = nmap.chips * d.chip.tiles
        util[role] = b / (n_units * sim_time) if n_units and sim_time else 0.0
    stalls = {c: sum(t.stalls_ns[c] for t in timings) for c in CAUSES}
    trace = tuple(eng.trace_metadata() + eng.trace) if eng.trace is not None else ()
    stats = EngineStats(
        fidelity=eng.fidelity, images=images, sim_time_ns=float(sim_time),
        image_finish_ns=tuple(float(f) for f in finish), single_image_latency_ns=float(latency),
        interval_ns=float(interval), events=eng.events,
        component_ops={a: float(c) for a, c in zip(actions, run_tot)},
        component_busy_ns=busy, component_utilization=util, stalls_ns=stalls,
        layers=tuple(timings), timeline=trace)
    return build_result(network, arch, nmap, counts, dyn, actions, cycles, times, latency,
                        interval, engine=eng.fidelity, engine_stats=stats,
                        weight_load=weight_load(nmap, arch))
