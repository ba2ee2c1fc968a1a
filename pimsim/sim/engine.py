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
read proceeds. ``event`` simulates this read by read, an ADC bank shared by two copies a shared unit;
``fast`` books a whole unit at once with the same recurrence in closed form and takes
the unit's op counts from :func:`pimsim.kernels.unit_counts.unit_counts`.
"""

from __future__ import annotations

import gc
import math
from typing import Callable, Iterable, Mapping

import numpy as np

from pimsim.arch.compose import Arch
from pimsim.arch.read_timing import conversion_ns, crossbar_conversion_ns
from pimsim.errors import ConfigError, EngineError
from pimsim.kernels.unit_counts import split_even, unit_counts, unit_reads
from pimsim.mapping import NetworkMap, map_network
from pimsim.mapping.network_map import LayerOverride
from pimsim.result import Result
from pimsim.sim.accounting import LayerState
from pimsim.sim.adc_banks import copy_banks
from pimsim.sim.arbiter import ARBITRATIONS
from pimsim.kernels.counts import copy_geometry, max_steps
from pimsim.sim.analytic import kernel_inputs
from pimsim.sim.buffers import Edge
from pimsim.sim.events import Env
from pimsim.sim.edram import plan_buffers, spill_bits_per_image
from pimsim.sim.noc import (CHUNK_POSITIONS, FROM_IO, Router, copy_layout,
                            mesh_link_bits_per_ns, receiver_tiles, worker_tiles)
from pimsim.sim.outcome import engine_result
from pimsim.sim.processes import Processes
from pimsim.sim.resources import Server
from pimsim.sim.steady import MAX_IMAGES, MIN_IMAGES, Monitor
from pimsim.sim.uncontended import Unqueued, checked, is_uncontended
from pimsim.units import BITS_PER_BYTE
from pimsim.workload.layer import Network

FIDELITIES = ("fast", "event")
PROGRESS_EVERY = 20000       # simpy events between progress callbacks
MAX_UNITS = 10_000_000       # engine work units (output rows x copies x images) of one run:
                             # a forced count of twice the 64-image steady-state cap of the
                             # largest shipped trace (EfficientNet-B0, 72k units per image,
                             # 9.2M); ~16k units/s (docs/robustness.md)
MAX_EVENTS = 200_000_000     # simpy events of one run: a safety net behind MAX_UNITS
NS_PER_US = 1e3              # trace-event timestamps are in microseconds
GBPS_TO_BITS_PER_NS = BITS_PER_BYTE  # 1 GB/s = 8 bits/ns


class Engine(Processes):
    """Builds the processes for one mapped network and runs them."""

    def __init__(self, network: Network, arch: Arch, nmap: NetworkMap, fidelity: str,
                 images: int | None, timeline: bool,
                 progress: Callable[[int, int], None] | None, *, alone: bool = False,
                 uncontended: frozenset[str] = frozenset()):
        if fidelity not in FIDELITIES:
            raise ValueError(f"fidelity must be one of {FIDELITIES}, not {fidelity!r}")
        d = arch.design
        self.network, self.arch, self.nmap, self.d = network, arch, nmap, d
        self.fidelity, self.progress = fidelity, progress
        # images: a forced count, or None: inject until the interval converges (steady.py)
        # A forced count N is N completions *of a fed pipeline*: images keep being injected
        # behind image N-1 (up to MAX_IMAGES more) so that the last completions measured do
        # not drain with nothing behind them; the run stops when N images are complete.
        # The steady-state run is fed the same way up to its cap of MAX_IMAGES completions:
        # a pipeline holding many images would otherwise stop being fed before its last
        # completions and converge on a drain.
        self.forced = images
        self.target = images if images is not None else MAX_IMAGES
        self.cap = self.target + MAX_IMAGES
        if alone and images is not None:      # exactly the forced images, none behind them
            self.cap = images
        self.injected = 0                     # images admitted by the source(s) so far
        self.admit_ns: list[float] = []       # when each image was admitted (ns)
        self.monitor = Monitor()
        self.completed = 0                    # images complete in order 0..completed-1
        self.stop = False                     # run(): forced count done or converged
        self.env = Env()
        # how shared units order the images' requests (engine.arbitration; arbiter.py)
        self.arbitration = ARBITRATIONS[d.engine.arbitration](self.env)
        self.book_together = self.arbitration.book_together   # a transfer on several units
        self.trace: list[dict] | None = [] if timeline else None
        # timing constants from the component models
        self.t_read = arch.latency_ns("crossbar", "read")
        self.t_sample = arch.latency_ns("adc", "convert")
        self.cyc = d.input_cycles
        self.edram_bw = d.tile.edram_bandwidth_GBps * GBPS_TO_BITS_PER_NS
        self.bus_bw = d.tile.bus_width_bits * d.clock_GHz
        self.link_bw = d.noc.link_GBps * GBPS_TO_BITS_PER_NS
        self.mesh_bw = mesh_link_bits_per_ns(d)      # one directed router-to-router link
        self.router_ns = arch.latency_ns("router", "transfer")   # one hop's latency
        self.noc = Router(arch)               # mesh paths and hop counts (pimsim.sim.noc)
        self.routes: dict[tuple[int, int], tuple[list[Server], float]] = {}
        # (sending tile, receiving tile, bits) -> (servers, hops, service ns): a row
        # part's transfer, the same for every image
        self.noc_cache: dict[tuple[int, int, float], tuple[list[Server], float, list[float]]] = {}
        self.off_ns_per_bit = arch.latency_ns("offchip_link", "transfer")
        self.tsa_ns = arch.latency_ns("tile_shift_add", "accumulate") / d.tile.shift_adds
        self.servers: dict[tuple[str, int], Server] = {}
        self.uncontended = frozenset(uncontended)   # diagnostic: roles that never queue
        self.layers = [LayerState(i, lay, lm) for i, (lay, lm) in enumerate(zip(network, nmap.layers))]
        self.image_finish = [math.nan] * self.cap
        self.sink_left = [0] * self.cap
        self.host_out_end = [0.0] * self.cap    # the image's results reached the host
        self.events = 0
        self.done_units = 0
        self._build()

    # -- resources -----------------------------------------------------------------
    def server(self, role: str, index: int) -> Server:
        key = (role, index)
        s = self.servers.get(key)
        if s is None:
            d = self.d
            ports = {"edram": d.tile.edram_ports, "offchip_link": d.chip.offchip_links,
                     "router": d.tile.tiles_per_router}.get(role, 1)
            name = (f"noc_link[{self.noc.mesh.link_name(index)}]" if role == "noc_link"
                    else f"{role}[{index}]")
            if is_uncontended(role, self.uncontended):
                s = self.servers[key] = Unqueued(name, ports)
            else:
                s = self.servers[key] = self.arbitration.server(name, ports)
        return s

    def router_of(self, tile: int) -> int:
        """The router a tile sends through: one per ``tile.tiles_per_router`` tiles of a
        chip, as in the area roll-up; it has one injection port per tile it serves (each
        at ``noc.link_GBps``), which its tiles share (docs/engine.md)."""
        return self.noc.router_index(tile)

    def route(self, src: int, dst: int) -> tuple[list[Server], float]:
        """(servers a transfer from tile ``src`` to tile ``dst`` holds together: the
        sending router's injection port, then every directed link of its XY path; hops)
        (``src`` = ``FROM_IO``: the network input, charged the receiver's router port).
        Computed once per tile pair."""
        key = (src, dst)
        rt = self.routes.get(key)
        if rt is None:
            links, hops = self.noc.route(src, dst)
            port = self.server("router", self.router_of(dst if src == FROM_IO else src))
            rt = self.routes[key] = ([port] + [self.server("noc_link", ln) for ln in links],
                                     hops)
        return rt

    # -- set-up (all array work happens here, before the event loop) ------------------
    def _build(self) -> None:
        d, env, layers = self.d, self.env, self.layers
        ptr, xr, xc, xo, _ = kernel_inputs(self.nmap)
        ou_r, ou_c = d.crossbar.ou_rows, d.ou_conversions
        steps = max_steps(ptr, xr, xc, ou_r, ou_c)
        geo = copy_geometry(ptr, xr, xc, xo, ou_r, ou_c)
        merges = np.array([L.lm.merges_per_position for L in layers], dtype=np.int64)
        unit_layer, unit_pos = [], []
        tiles_per_chip = d.chip.tiles
        # copies, units, per-row parts
        for L in layers:
            lm = L.lm
            if L.is_mvm:
                c = lm.replication
                # positions are dealt to the copies one at a time (CHUNK_POSITIONS: one MVM,
                # the hardware's unit of work), round-robin in raster order; where each
                # copy's IMAs are (LayerMap.copy_tiles): the closed form and the NoC's
                # sending rules use the same layout (pimsim.sim.noc.copy_layout). A copy
                # larger than a tile spreads over several: their eDRAMs, buses and
                # shift-and-add units work on its row tiles in parallel
                L.chunk = CHUNK_POSITIONS
                L.ppr, L.copy_tiles = copy_layout(lm, L.rows, L.width, d.tile.imas, L.chunk)
                L.parts_out = (L.ppr > 0).sum(axis=0).astype(np.int64)
                L.copy_tile = [t[0] for t in L.copy_tiles]
                L.copy_tileset = [sorted(set(t)) for t in L.copy_tiles]
                # each copy's eDRAM + bus servers and tile shift-and-add units, looked up
                # once when first used (processes.py), not per unit
                L.copy_bufs = [None] * c
                L.copy_tsa = [None] * c
                L.units = []
                # technique hook: a unit of n positions steps ceil(n x cycles x (1 - skip))
                # reads (the closed form's rule applied per unit); 0 skip: n x cycles
                keep = 1.0 - lm.skip_cycles
                L.steps = int(steps[L.idx])       # OU reads per bit-slice (slowest crossbar)
                for k in range(c):
                    rows = np.nonzero(L.ppr[k])[0]
                    base = len(unit_layer)
                    L.units.append([(int(r), int(L.ppr[k, r]), base + j,
                                     unit_reads(int(L.ppr[k, r]), d.input_cycles * L.steps,
                                                keep))
                                    for j, r in enumerate(rows)])
                    unit_layer.extend([L.idx] * rows.size)
                    unit_pos.extend(L.ppr[k, rows].tolist())
                L.copy_busy = [0.0] * c     # a list while running (array after)
                nxb = lm.crossbars_per_copy
                L.nxb = nxb
                L.rows_sum = int(lm.xb_rows.sum())
                L.cols_sum = int(lm.xb_cols.sum())
                L.outs_sum = int(lm.xb_outs.sum())
                L.geo = geo[L.idx]                 # per bit-slice: OU reads, rows, drives, conv, outs
                L.fetch_bits = L.lay.weight_rows * L.lay.groups * d.precision.input_bits
                L.store_bits = L.lay.out_shape[0] * d.precision.output_bits
                if L.lay.is_matmul:     # per row of operand A: batch x K in, batch x N out
                    b, _, kk, n = L.lay.matmul_dims
                    L.fetch_bits = b * kk * d.precision.input_bits
                    L.store_bits = b * n * d.precision.output_bits
                # the slowest crossbar of the group sets the conversion time of a read (of
                # one OU's columns when read OU by OU; pimsim.arch.read_timing)
                L.t_conv = conversion_ns(int(lm.xb_cols.max()), self.arch) if nxb else 0.0
                L.period = max(self.t_read, L.t_conv)
                if self.fidelity == "event":
                    # the crossbars' own conversion times, in the ADC banks they share
                    # (pimsim.sim.adc_banks; a layer reading another's crossbars keeps
                    # them as its own banks)
                    conv = [crossbar_conversion_ns(int(w), self.arch) for w in lm.xb_cols]
                    L.banks = copy_banks(conv, c, 1 if lm.shared else d.adc.shared_by)
                    L.bank_res = {}               # bank number -> its unit (shared)
            else:
                L.worker_tile = worker_tiles(lm, L.rows)
                h = len(L.worker_tile)
                L.parts_out = np.ones(L.rows, dtype=np.int64)
                L.worker_rows = [list(range(w, L.rows, h)) for w in range(h)]
                L.copy_busy = [0.0] * h     # a list while running (array after)
                # the generic unit path: the layer's role and ops from the mapping
                L.unit_role, ops = (lm.unit_role, lm.unit_ops) if lm.unit_ops else ("", 0)
                L.row_ops = split_even(int(ops), L.rows).tolist()
        self.unit_layer = unit_layer
        self.unit_table = unit_counts(np.array(unit_layer, dtype=np.int64),
                                      np.array(unit_pos, dtype=np.int64), ptr, xr, xc, xo,
                                      merges, d.input_cycles, d.precision.input_bits,
                                      d.precision.output_bits, d.crossbar.ou_rows,
                                      d.ou_conversions)
        # edges: (producer, consumer); producer -1 is the network input. Where each
        # operand's rows live (local eDRAM, another tile's, off-chip memory): edram.py
        self.buffers = plan_buffers(self.network, self.nmap, d)
        spill, remote = spill_bits_per_image(self.buffers, len(layers))
        for L in layers:          # per image, the long-run average of the ring (edram.py)
            L.spill_bits, L.remote_bits = float(spill[L.idx]), float(remote[L.idx])
        in_h = self.network.input_shape[1]
        for b in self.buffers:
            L = layers[b.consumer]
            P = layers[b.producer] if b.producer >= 0 else None
            order, lay, lm = b.order, L.lay, L.lm
            if P is None:
                rows, ch, width = in_h, self.network.input_shape[0], self.network.input_shape[2]
                parts = np.ones(rows, dtype=np.int64)
            else:
                rows, ch, width = P.rows, P.lay.out_shape[0], P.width
                parts = P.parts_out
            lo, hi = b.lo, b.hi
            bits = d.precision.input_bits if L.is_mvm else d.precision.output_bits
            slots = b.slots
            L.slots = max(L.slots, slots)
            # readers of each input row: the consumer's units whose window covers it
            unit_parts = L.parts_out if L.is_mvm else np.ones(L.rows, dtype=np.int64)
            diff = np.zeros(rows + 1, dtype=np.int64)
            np.add.at(diff, lo, unit_parts)
            np.add.at(diff, hi + 1, -unit_parts)
            readers = np.cumsum(diff[:-1])
            over_noc = L.is_mvm or order > 0
            off_order = 1 if (not L.is_mvm and len(lay.inputs) > 1) else 0
            # off-chip bits on the way in (a sink's results go out after it: unit_done)
            off = split_even(int(lm.offchip_bits - lm.host_out_bits), rows) \
                if order == off_order else \
                np.zeros(rows, dtype=np.int64)
            e = Edge(self.env, P.idx if P else -1, L.idx, order, parts, ch * bits, over_noc,
                     off, readers, b)
            e.recv = receiver_tiles(lm, rows, L.rows).tolist()   # tile each row is sent to
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
                L.host_out_share = L.lm.host_out_bits / n    # results per unit to the host
                for i in range(self.cap):
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
        for L in layers:
            L.per_image = max(1, sum(len(u) for u in L.units) if L.is_mvm else L.rows)
            # when the layer completed each image (its last unit done; steady.keeps_pace)
            L.img_left = [L.per_image] * self.cap
            L.img_finish = [math.nan] * self.cap
        self.units_per_image = sum(L.per_image for L in layers)
        self.total_units = self.units_per_image * (self.target if self.forced else MIN_IMAGES)
        if self.total_units > MAX_UNITS:
            raise EngineError(f"network '{self.network.name}' needs {self.total_units:,} engine "
                              f"work units at fidelity '{self.fidelity}', more than the cap of "
                              f"{MAX_UNITS:,} (minutes to hours of simulation)", where="--fidelity",
                              expected="--fidelity analytic (closed form), or a smaller "
                              "network or input")
        self.tiles_per_chip = tiles_per_chip

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
                         "args": {"name": f"router {-1 - p} (NoC injection)"}})
        return meta

    # -- run ------------------------------------------------------------------------------
    def run(self) -> None:
        """Step the simulation: until the forced number of images is done (more are fed
        behind them), or (no forced count) until the interval has converged or
        ``MAX_IMAGES`` images are done; images still in flight then are not needed (counts
        are image 0's, timing is from completions)."""
        env = self.env
        self.unit_runs = [0] * len(self.unit_table)
        self.stop = self.completed >= self.target
        progress = self.progress
        n = 0
        # simpy's Environment.step, inlined (same order: (time, priority, insertion)) over
        # the engine's queue entries, each calling fn(arg) (pimsim.sim.events);
        # the stop test after each event (one event may complete an image and converge
        # the run: image_done sets ``stop``), progress every PROGRESS_EVERY events
        queue = env._queue
        pop = self.arbitration.pop
        # the loop allocates many short-lived objects and no reference cycles: the cyclic
        # collector's passes over the engine's state would be wasted (restored after)
        collect = gc.isenabled()
        gc.disable()
        try:
            n = self._loop(env, queue, pop, progress)
        finally:
            if collect:
                gc.enable()
        self.events = n
        for L in self.layers:
            L.copy_busy = np.array(L.copy_busy, dtype=np.float64)
        # fast fidelity: image 0's units x their kernel counts
        if len(self.unit_table):
            layer_of = np.array(self.unit_layer, dtype=np.int64)
            per_unit = self.unit_table * np.array(self.unit_runs, dtype=np.float64)[:, None]
            for L in self.layers:
                if L.is_mvm:
                    L.counts += per_unit[layer_of == L.idx].sum(axis=0)
        if self.completed == 0 or (self.forced is not None and self.completed < self.target):
            raise self._deadlock()
        self.images = self.completed
        self.image_finish = self.image_finish[:self.completed]
        # images' worth of work simulated (for whole-run ops and utilization)
        self.work_images = self.done_units / self.units_per_image if self.units_per_image else 0
        if self.progress is not None:
            self.progress(self.done_units, self.done_units)

    def _loop(self, env, queue, pop, progress) -> int:
        """Step events until ``stop`` or an empty queue; the number of events stepped."""
        n = 0
        while not self.stop:
            for _ in range(PROGRESS_EVERY):
                try:
                    env._now, _, _, fn, arg = pop(queue)
                except IndexError:
                    break
                fn(arg)
                n += 1
                if self.stop:
                    break
            else:
                if progress is not None:
                    progress(self.done_units, self.total_units)
                if n > MAX_EVENTS:
                    raise EngineError(f"simulation of '{self.network.name}' passed "
                                      f"{MAX_EVENTS:,} events without finishing",
                                      where="--fidelity",
                                      expected="--fidelity analytic or fast")
                continue
            break
        return n

    # -- images ---------------------------------------------------------------------------
    def admit(self, img: int) -> bool:
        """May the source(s) inject image ``img``? (Forced count, or until converged.)"""
        if img < self.injected:
            return True
        if img >= self.cap or self.monitor.done and self.forced is None:
            return False
        if self.forced is not None and self.completed >= self.target:
            return False
        self.injected = img + 1
        self.admit_ns.append(self.env.now)
        # progress total: what is admitted so far (a forced count feeds images behind too)
        self.total_units = max(self.total_units, self.units_per_image * self.injected)
        return True

    def image_done(self, img: int, now: float) -> None:
        """Image ``img`` left the last layer: record it, check for the steady state."""
        self.image_finish[img] = now
        fin = self.image_finish
        while self.completed < self.target and not math.isnan(fin[self.completed]):
            if self.forced is not None or not self.monitor.done:
                i = self.completed
                self.monitor.add(fin[i], [L.img_finish[i] for L in self.layers])
            self.completed += 1
            if self.completed >= self.target or self.forced is None and self.monitor.done:
                self.stop = True
            if self.completed == 1:       # the fill is over: steady-state stalls from here
                for L in self.layers:
                    L.mark = (L.busy, dict(L.stalls), L.computed)


    def _deadlock(self) -> EngineError:
        """A user-facing error naming what stopped the pipeline. Not an undersized eDRAM:
        every operand gets the slots it needs (what does not fit on chip spills off-chip,
        pimsim.sim.edram), so this is a defect of the model, reported as such."""
        left = [i for i, f in enumerate(self.image_finish) if math.isnan(f)]
        return EngineError(f"engine deadlock: network '{self.network.name}' stopped with "
                           f"{self.done_units:,} of {self.total_units:,} work units done, "
                           f"image(s) {left[:5]} unfinished: no process could continue "
                           "(every remaining unit waits for a buffer slot or an input row "
                           "that is never produced; eDRAM capacity is not the cause: rows "
                           "that do not fit in tile.edram_bytes spill off-chip)",
                           file=self.d.source, where="--fidelity",
                           expected="--fidelity analytic; please report it with the design "
                           "point and trace")


def _thread_name(pid: int, tid: int, name: str) -> dict:
    return {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}


def run_engine(network: Network, arch: Arch, *, fidelity: str = "fast",
               images: int | None = None, timeline: bool = False,
               progress: Callable[[int, int], None] | None = None,
               overrides: Mapping[str, LayerOverride] | None = None,
               alone: bool = False, uncontended: Iterable[str] = ()) -> Result:
    """Simulate images back to back and return a :class:`Result` (per image).

    ``images``: None injects images until the completion interval converges
    (:mod:`pimsim.sim.steady`, at most ``MAX_IMAGES``); a number forces that count.
    ``alone`` (with ``images``): inject exactly those images, none behind them (image 0
    alone with ``images=1``: what its latency is without later images competing for
    shared units, :mod:`pimsim.sim.agreement`).
    ``uncontended`` (a diagnostic, not a design option): server roles (``"edram"``,
    ``"bus"``, ``"tile_shift_add"``, ``"router"``, ``"noc_link"``, ``"offchip_link"``, a
    digital unit's role, or ``"*"`` for all) whose requests never queue: each starts when
    it arrives, with its service time (:mod:`pimsim.sim.uncontended`).

    ``overrides`` (layer name -> ``LayerOverride``) is a technique's change to the mapped
    workload: its tiling builds the crossbars, its skipped fractions scale the counts and
    its skipped cycles shorten the reads, as in :func:`pimsim.sim.evaluate`.
    """
    if images is not None and images < 1:
        raise ValueError("images must be >= 1 (or None: until the steady state)")
    d = arch.design
    nmap = map_network(network, arch, overrides)
    if nmap.chips > 1 and d.chip.offchip_links == 0:
        raise ConfigError(f"network '{nmap.network}' needs {nmap.chips} chips but the chips "
                          "have no off-chip links", file=d.source, where="chip.offchip_links",
                          found=0, expected="at least 1 link")
    eng = Engine(network, arch, nmap, fidelity, images, timeline, progress, alone=alone,
                 uncontended=checked(uncontended, arch))
    eng.run()
    return engine_result(eng)

