"""Stage times of the inter-layer pipeline in closed form, resource by resource.

One description of the pipeline serves every fidelity (docs/engine.md "One pipeline"):
each image passes every layer; a layer's work per image occupies

* its **copies** (``crossbar``, or ``adc`` when the conversion of a read is longer than
  the read): the busiest copy's ``ceil(P / copies)`` positions, each fetching its receptive
  field from eDRAM over the bus and then stepping ``input_cycles`` x OU steps reads at
  ``max(read, conversion)`` (the skipped cycles of a technique or of zero skipping removed);
* its tiles' shared units, summed over every layer on a tile: ``edram`` ports (each bit
  written once and read once), the eDRAM-to-IMA ``bus``, the ``tile_shift_add`` (row-tile
  merges and residual adds), ``activation`` and ``maxpool`` units, and the NoC
  injection ports of the router the tile shares with ``tile.tiles_per_router - 1``
  others (``router``, one port per tile, pooled);
* every directed link of the on-chip mesh (``noc_link``): the bits of every transfer whose
  XY path crosses it over the link bandwidth (:func:`pimsim.sim.noc.traffic`, the
  engine's sending rules);
* the chip's ``offchip_link`` ports for the bits that cross chips; the host's bits and
  the input rows spilled to off-chip memory (``pimsim.sim.edram``) share each chip's
  links (one stage per chip).

The pipelined interval is the largest of these busy times per image, and the stage that
sets it is the **bottleneck** (layer, resource, share of the interval = 1 for the closed
form). The engine simulates the same units with contention; its own bottleneck is
measured (``pimsim.sim.outcome``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pimsim.arch import read_timing
from pimsim.arch.compose import Arch
from pimsim.kernels.unit_counts import split_even
from pimsim.mapping import NetworkMap
from pimsim.mapping.digital import units_per_tile
from pimsim.sim.edram import plan_buffers
from pimsim.sim.noc import CHUNK_POSITIONS, Traffic, mesh_link_bits_per_ns, traffic
from pimsim.units import BITS_PER_BYTE
from pimsim.workload.layer import NETWORK_INPUT, Network

GBPS_TO_BITS_PER_NS = BITS_PER_BYTE  # 1 GB/s = 8 bits/ns
#: copies of a row up to which :class:`_CopyRows` steps copy by copy in Python floats
#: (small arrays cost more in numpy calls than in the loop; results are identical)
SCALAR_COPIES = 24
#: Resources a stage can be bound by (the names of ``Result.total.bottleneck``).
RESOURCES = ("crossbar", "adc", "edram", "bus", "tile_shift_add", "activation", "maxpool",
             "router", "noc_link", "offchip_link")
UNIT_ROLES = ("activation", "maxpool", "tile_shift_add")   # non-MVM layers' digital units


@dataclass(frozen=True)
class Stage:
    """One resource's busy time per image (ns) and the layer that uses it most."""

    layer: str
    resource: str
    busy_ns: float


def unit_role(lm) -> tuple[str, int]:
    """(unit role, ops per image) of a non-MVM layer ("" when it does no work): the
    mapping's generic unit path (``pimsim.mapping.digital.unit_work``) for every kind."""
    if lm.unit_ops:
        return lm.unit_role, int(lm.unit_ops)
    for role, ops in (("activation", lm.activation_ops), ("maxpool", lm.pool_ops),
                      ("tile_shift_add", lm.add_ops)):
        if ops:
            return role, int(ops)
    return "", 0


def conversion_ns(lm, arch: Arch) -> float:
    """ADC time of one read of the layer's crossbar group: its widest crossbar's used
    columns of one operation unit over the crossbar's ADCs, one sample each, times the
    crossbars sharing the ADC bank (pimsim.arch.read_timing)."""
    if not lm.crossbars_per_copy:
        return 0.0
    return read_timing.conversion_ns(int(lm.xb_cols.max()), arch)


def ou_steps(lm, arch: Arch) -> int:
    """OU reads per input bit-slice of the layer's slowest crossbar (1 for whole-array
    reads; docs/mapping.md, operation units)."""
    d = arch.design
    if not lm.crossbars_per_copy:
        return 0
    nr = -(-lm.xb_rows // d.crossbar.ou_rows)
    nc = -(-lm.xb_cols // d.ou_conversions)     # xb_cols: converted columns
    return int((nr * nc).max())


def _rates(arch: Arch) -> tuple[float, float, float, float, float]:
    """(read ns, eDRAM bits/ns, bus bits/ns, NoC link bits/ns, one router hop's ns): the
    rates both the stage times and the row-by-row latency use."""
    d = arch.design
    return (arch.latency_ns("crossbar", "read"),
            d.tile.edram_bandwidth_GBps * GBPS_TO_BITS_PER_NS,
            d.tile.bus_width_bits * d.clock_GHz,
            d.noc.link_GBps * GBPS_TO_BITS_PER_NS,
            arch.latency_ns("router", "transfer"))


def stages(network: Network, nmap: NetworkMap, arch: Arch,
           noc: Traffic | None = None,
           spill: np.ndarray | None = None) -> tuple[list[Stage], np.ndarray]:
    """(every resource's busy time per image, each layer's own stage time in ns).

    A layer's own stage time is the largest busy time among its copies / workers and
    the shared units of its tiles (the time it needs per image when nothing waits).
    ``noc``: the network's NoC traffic (computed when not given).
    """
    d = arch.design
    t_read, edram_bw, bus_bw, link_bw, _ = _rates(arch)
    noc = noc if noc is not None else traffic(network, nmap, arch)
    tsa_ns = arch.latency_ns("tile_shift_add", "accumulate") / d.tile.shift_adds
    links = d.chip.offchip_links
    off_ns = arch.latency_ns("offchip_link", "transfer") / links if links else 0.0
    by_name = {lay.name: i for i, lay in enumerate(network)}

    own: list[list[Stage]] = [[] for _ in nmap.layers]
    tile_use: dict[tuple[str, int], dict[int, float]] = {}   # (resource, tile) -> layer -> ns

    tpr = d.tile.tiles_per_router

    def use(resource: str, tiles, layer: int, ns: float) -> None:
        """Charge ``ns`` of ``resource`` to ``tiles``: {tile: fraction} or a range (even)."""
        if ns <= 0.0:
            return
        if not isinstance(tiles, dict):
            tiles = {t: 1.0 / len(tiles) for t in tiles}
        for t, frac in tiles.items():
            if resource == "router":  # a router's injection ports serve tpr tiles, pooled
                d_ = tile_use.setdefault((resource, t // tpr), {})
                d_[layer] = d_.get(layer, 0.0) + ns * frac / tpr
            else:
                d_ = tile_use.setdefault((resource, t), {})
                d_[layer] = d_.get(layer, 0.0) + ns * frac

    for i, (lay, lm) in enumerate(zip(network, nmap.layers)):
        tiles = range(lm.first_tile, lm.last_tile + 1)
        if lm.is_mvm:
            c = lm.replication
            # the tiles the copies are really on (LayerMap.copy_tiles, as the engine): each
            # copy does 1 / c of the work, spread over its tiles; it sends from its first
            on_tiles, sends = copy_shares(lm, d.tile.imas)
            n = -(-lm.positions // c)
            reads = math.ceil(n * d.input_cycles * ou_steps(lm, arch) * (1.0 - lm.skip_cycles))
            t_conv = conversion_ns(lm, arch)
            period = max(t_read, t_conv)
            n_tiles = max(1, -(-lm.imas_per_copy // d.tile.imas))   # tiles one copy spans
            fetch = lay.weight_rows * lay.groups * d.precision.input_bits
            store = lay.out_shape[0] * d.precision.output_bits
            if lay.is_matmul:       # crossbar-written: per row of A, batch x K in, x N out
                b, _, kk, nn_ = lay.matmul_dims
                fetch, store = b * kk * d.precision.input_bits, b * nn_ * d.precision.output_bits
            fetch_ns = max(2 * fetch / edram_bw, fetch / bus_bw) / n_tiles
            # the engine's recurrence per unit: fetch, first read, then one conversion
            # per period (the last conversion overlaps the next unit's fetch); a written
            # matmul operand is programmed first
            copy_ns = reads * period + n * fetch_ns + lm.write_ns
            own[i].append(Stage(lm.name, "adc" if t_conv > t_read else "crossbar", copy_ns))
            bits = lm.positions * (fetch + store)
            use("edram", on_tiles, i, 2 * bits / edram_bw / d.tile.edram_ports)
            use("bus", on_tiles, i, bits / bus_bw)
            use("tile_shift_add", on_tiles, i, lm.positions * lm.merges_per_position * tsa_ns)
        else:
            role, ops = unit_role(lm)
            h = max(1, min(len(tiles), lay.out_shape[1]))
            rows_w = -(-lay.out_shape[1] // h)
            if role:
                op_ns = arch.latency_ns(role, lm.unit_action or (
                    "accumulate" if role == "tile_shift_add" else "op")) / units_per_tile(arch, role)
                t = ops * op_ns * rows_w / lay.out_shape[1]
                own[i].append(Stage(lm.name, role, t))
                use(role, range(lm.first_tile, lm.first_tile + h), i, ops * op_ns)
            sends = tiles
        # NoC: the layer's outputs to every consumer that receives them over a link
        out_bits = lay.out_elems
        for cons in network:
            srcs = [s for s in cons.inputs]
            for order, s in enumerate(srcs):
                if s != lay.name:
                    continue
                if cons.is_mvm or order > 0:
                    b = d.precision.input_bits if cons.is_mvm else d.precision.output_bits
                    use("router", sends, i, out_bits * b / link_bw)
        if lm.offchip_bits:
            own[i].append(Stage(lm.name, "offchip_link", lm.offchip_bits * off_ns))
        # the chip's links carry every layer's host bits and spilled input rows (written
        # and read back, pimsim.sim.edram), shared: one stage per chip
        link_bits = lm.host_bits + (float(spill[i]) if spill is not None else 0.0)
        if link_bits:
            d_ = tile_use.setdefault(("offchip_link", -1 - lm.chip), {})
            d_[i] = d_.get(i, 0.0) + link_bits * off_ns
    # the network input over the first layers' links
    for cons in network:
        if NETWORK_INPUT in cons.inputs or not cons.inputs:
            j = by_name[cons.name]
            lm = nmap.layers[j]
            c_, h_, w_ = network.input_shape
            b = d.precision.input_bits if cons.is_mvm else d.precision.output_bits
            use("router", range(lm.first_tile, lm.first_tile + 1), j, c_ * h_ * w_ * b / link_bw)

    out: list[Stage] = [s for st in own for s in st]
    times = np.array([max((s.busy_ns for s in st), default=0.0) for st in own])
    mesh_bw = mesh_link_bits_per_ns(d)
    for link, per_layer in noc.link_bits.items():     # the mesh's links (cut-through)
        tile_use[("noc_link", link)] = {k: v / mesh_bw for k, v in per_layer.items()}
    for (resource, _t), per_layer in tile_use.items():
        total = sum(per_layer.values())
        top = max(per_layer, key=per_layer.get)
        out.append(Stage(nmap.layers[top].name, resource, total))
        for j in per_layer:
            times[j] = max(times[j], total)
    return out, times


def copy_shares(lm, imas_per_tile: int) -> tuple[dict[int, float], dict[int, float]]:
    """({tile: share of the layer's copy work on it}, {tile: share of its sends}) of an
    MVM layer: each of the ``c`` copies does 1 / c, split evenly over its tiles
    (``LayerMap.copy_tiles``; the engine books ``1 / spread`` of a unit on each distinct
    tile), and sends its outputs from its first tile."""
    c = lm.replication
    on: dict[int, float] = {}
    sends: dict[int, float] = {}
    for k in range(c):
        tl = lm.copy_tiles(k, imas_per_tile)
        for t in set(tl):
            on[t] = on.get(t, 0.0) + 1.0 / (c * len(tl))
        sends[tl[0]] = sends.get(tl[0], 0.0) + 1.0 / c
    return on, sends


def bottleneck(stage_list: list[Stage], interval_ns: float) -> dict:
    """{layer, resource, share}: the stage with the largest busy time per image and its
    share of the interval."""
    if not stage_list or interval_ns <= 0.0:
        return {}
    s = max(stage_list, key=lambda x: x.busy_ns)
    return {"layer": s.layer, "resource": s.resource, "share": s.busy_ns / interval_ns}


def stored_ns(b, image: int, row: int, arrive: float, link_bw: float,
              remote_hop_ns: float, off_bit_ns: float, bits: float | None = None) -> float:
    """When row ``row`` of image ``image`` in buffer ``b`` (``pimsim.sim.edram.OperandBuffer``)
    can be read, from when it reaches the consumer (``arrive``, ns), as the engine stores it
    (``Processes.stored``): a row in another tile's eDRAM crosses the on-chip network once
    more (bits / link bandwidth + ``noc.avg_hops`` routers, ``remote_hop_ns``); a spilled
    row is written out and read back over the chip's off-chip links (2 x bits x
    ``off_bit_ns``), without queueing (the engine measures the links' queueing,
    ``pimsim.sim.agreement``). ``bits``: what arrived, the whole row (``b.send_bits``) when
    not given; a copy's part of the row is stored on its own, with its own bits."""
    pool = b.pool(image, row)
    bits = b.send_bits if bits is None else bits
    if pool == 1:
        return arrive + bits / link_bw + remote_hop_ns
    if pool == 2:
        return arrive + 2 * bits * off_bit_ns
    return arrive


def row_done_ns(network: Network, nmap: NetworkMap, arch: Arch,
                chunk_positions: int = CHUNK_POSITIONS,
                noc: Traffic | None = None) -> dict[str, np.ndarray]:
    """Each layer's completion time of every output row of image 0 (ns), the schedule
    of :func:`row_schedule`; the latency is the last row of the last layer."""
    return row_schedule(network, nmap, arch, chunk_positions, noc)[0]


def row_schedule(network: Network, nmap: NetworkMap, arch: Arch,
                 chunk_positions: int = CHUNK_POSITIONS, noc: Traffic | None = None,
                 images: int = 1) -> tuple[dict[str, np.ndarray], list[np.ndarray],
                            dict[tuple[int, int], np.ndarray]]:
    """Image 0's latency through the overlapped layer pipeline, row by row, without
    contention (the engine's schedule in closed form).

    An MVM layer's positions are cut into chunks of ``chunk_positions`` (at most a row;
    the engine deals them one at a time) and the chunks go to the copies round-robin in
    raster order; each copy works through its own chunks in order, a chunk starting when
    the copy's previous one is done and the input rows of the chunk's output row have
    arrived, and taking ``chunk x (fetch + reads)`` per position (no queueing at the
    tile's shared units: the engine measures that, ``pimsim.sim.agreement``).
    A non-MVM layer's rows go round-robin to one worker per host tile. A row reaches a
    consumer over the NoC link (bits / link bandwidth + the edge's mean hops x router
    latency, :func:`pimsim.sim.noc.traffic`), then into its buffer slot as the engine
    stores it (:func:`stored_ns`: another tile's eDRAM or off-chip); a consumer row
    starts when rows 0 to the last of its window have all arrived.

    Buffers are finite, as in the engine (``pimsim.sim.buffers``): each consumer operand
    is a ring of ``slots`` row slots (``pimsim.sim.edram``); a producer's row takes a
    slot in each of its consumers' buffers in turn, after the row before it, and row
    ``j`` only once row ``j - slots`` has been read by its last reader (a row no output
    reads is freed when it arrives); until then the producer holds it (the engine's
    ``buffer_full``: a worker waits, a copy's one-deep output register stays full).
    The layers are stepped row by row, each as far as its inputs and its consumers'
    free slots allow, so a producer sees its consumer's progress (one pass).

    ``images``: that many images back to back, image-major (image ``i``'s rows after
    image ``i - 1``'s in every layer, copy and ring: the engine with no queueing,
    pimsim.sim.pace); every returned array then holds ``images x rows`` rows,
    image 0's first (the same as with ``images=1``).

    Returns (each layer's completion time of every output row; per layer index, when
    each output row's inputs were all there; per (consumer index, operand order), when
    each row of that operand could be read by the consumer), ns.
    """
    done, layer_rows = run_rows(network, nmap, arch, chunk_positions, noc, images)
    arrivals = {(e.b.consumer, e.b.order): e.arrivals() for st in layer_rows for e in st.ins}
    return done, [np.array(st.there, dtype=float) for st in layer_rows], arrivals


def run_rows(network: Network, nmap: NetworkMap, arch: Arch,
             chunk_positions: int = CHUNK_POSITIONS, noc: Traffic | None = None,
             images: int = 1) -> tuple[dict[str, np.ndarray], list]:
    """:func:`row_schedule`'s schedule: (each layer's completion time of every output row
    in ns, the stepped layers, network order, each with its rings ``ins``: ``_Buffer``s
    holding every row's ``claims``, its producer's ``wait`` for the slot, ns, and
    ``release(x)``)."""
    sched = build_rows(network, nmap, arch, chunk_positions, noc, images)
    sched.advance(images)
    return sched.done(), sched.layer_rows


def build_rows(network: Network, nmap: NetworkMap, arch: Arch,
               chunk_positions: int = CHUNK_POSITIONS, noc: Traffic | None = None,
               images: int = 1, widen: Mapping[tuple[int, int], int] | None = None,
               setup: dict | None = None) -> "RowSchedule":
    """The layers of :func:`row_schedule` set up for up to ``images`` images back to back,
    not stepped yet (:meth:`RowSchedule.advance`). ``widen``: (consumer layer index,
    operand) -> factor, rings given that many times their slots
    (:meth:`pimsim.sim.edram.OperandBuffer.widened`; a what-if, not the design).
    ``setup``: a dict kept between calls for the same network, mapping, design, NoC and
    ``chunk_positions`` (empty at first): what does not depend on ``images`` or ``widen``
    (each layer's copy layout, the buffer plan, the receptive-field windows) is computed
    once into it and reused."""
    from pimsim.sim.buffers import windows        # the engine's receptive-field rule

    setup = {} if setup is None else setup
    d = arch.design
    t_read, edram_bw, bus_bw, link_bw, router_ns = _rates(arch)
    noc = noc if noc is not None else traffic(network, nmap, arch)
    links = d.chip.offchip_links
    off_bit_ns = arch.latency_ns("offchip_link", "transfer")
    lays = list(network)
    # a producer's output register (a worker, or the output stage of a row's first part)
    # is held until the row's off-chip bits have crossed and its NoC transfer starts
    hold: dict[str, np.ndarray] = setup.get("hold", {})
    for lay, lm in zip(network, nmap.layers) if "hold" not in setup else ():
        for order, src in enumerate(lay.inputs):
            if src != NETWORK_INPUT and (lay.is_mvm or order > 0):
                src_rows = max(1, network.layer(src).out_shape[1])
                h_ = hold.setdefault(src, np.zeros(src_rows))
                np.maximum(h_, _off_rows(lay, lm, order, src_rows) * off_bit_ns, out=h_)
    setup["hold"] = hold
    layer_rows = []
    for i, (lay, lm) in enumerate(zip(network, nmap.layers)):
        rows = max(1, lay.out_shape[1])
        held = np.tile(hold.get(lay.name, np.zeros(rows)), images)
        if lm.is_mvm:
            st = _CopyRows(lay, lm, arch, rows, chunk_positions, held, images,
                           static=setup.get(("copies", i)))
            setup[("copies", i)] = st.static_data
        else:
            st = _WorkerRows(lay, lm, arch, rows, held, images)
        layer_rows.append(st)
    sources = []
    c_in, h_in, w_in = network.input_shape
    if "plan" not in setup:
        setup["plan"] = plan_buffers(network, nmap, d)
    for b in setup["plan"]:                           # where image 0's rows live
        if widen and (b.consumer, b.order) in widen:
            b = b.widened(widen[(b.consumer, b.order)])
        lay, lm = lays[b.consumer], nmap.layers[b.consumer]
        src = lay.inputs[b.order] if lay.inputs else NETWORK_INPUT
        if b.producer < 0:
            prod = _Source(b.rows * images, b.rows)
            sources.append(prod)
        else:
            prod = layer_rows[b.producer]
        bits = d.precision.input_bits if lay.is_mvm else d.precision.output_bits
        over_noc = lay.is_mvm or b.order > 0
        if b.producer < 0:                # the host's rows, each in one transfer
            row_ns = c_in * w_in * bits / link_bw
        elif isinstance(prod, _CopyRows):  # per position of a copy's part
            row_ns = lays[b.producer].out_shape[0] * bits / link_bw
        else:                             # a worker's whole row
            row_ns = lays[b.producer].out_shape[0] * lays[b.producer].out_shape[2] * bits / link_bw
        cons = layer_rows[b.consumer]
        if ("windows", b.consumer, b.order) not in setup:
            setup[("windows", b.consumer, b.order)] = windows(lay, cons.per_image, b.rows)
        win = setup[("windows", b.consumer, b.order)]
        off = _off_rows(lay, lm, b.order, b.rows) * off_bit_ns
        lo, hi = _tiled_windows(win, b.rows, cons.per_image, images)
        e = _Buffer(b, prod, cons, lo, hi, np.tile(off, images),
                    row_ns if over_noc else 0.0,
                    noc.edge_hops.get((src, lay.name), 0.0) * router_ns if over_noc else 0.0,
                    link_bw, d.noc.avg_hops * router_ns, off_bit_ns,
                    lays[b.producer].out_shape[0] * bits if b.producer >= 0 else 0.0)
        e.win, e.off_image = win, off.tolist()     # one image's (RowSchedule.grow)
        prod.outs.append(e)
        cons.ins.append(e)
    return RowSchedule(network, nmap, arch, sources, layer_rows)


def _tiled_windows(win: tuple[np.ndarray, np.ndarray], rows: int, per_image: int,
                   images: int) -> tuple[np.ndarray, np.ndarray]:
    """One image's receptive-field windows (``lo``, ``hi`` per consumer row, over ``rows``
    input rows) for ``images`` images back to back, image-major."""
    shift = np.repeat(np.arange(images) * rows, per_image)
    return np.tile(win[0], images) + shift, np.tile(win[1], images) + shift


class RowSchedule:
    """The stepped layers of :func:`run_rows`, advanced image by image: :meth:`advance`
    steps every layer as far as the first ``upto`` images (a row of image ``i`` waits only
    for rows of images ``<= i``, in its own layer, its inputs and its rings, so the first
    images' rows are final whatever comes after them)."""

    def __init__(self, network: Network, nmap: NetworkMap, arch: Arch, sources: list,
                 layer_rows: list):
        self.network, self.nmap, self.arch = network, nmap, arch
        self.sources, self.layer_rows = sources, layer_rows
        self.upto = 0
        for s in sources + layer_rows:        # consumers (new input rows), producers (slots)
            s.nbrs = list(dict.fromkeys([e.cons for e in s.outs] + [e.prod for e in s.ins]))

    def advance(self, upto: int) -> None:
        """Step every layer through the rows of the first ``upto`` images (EngineError when
        no layer can take its next row: the engine would deadlock too)."""
        steppers = self.sources + self.layer_rows
        for s in steppers:
            s.limit = min(s.rows, upto * s.per_image)
            s.queued = True
        # a worklist: a layer that took rows may let its consumers (new input rows) and
        # its producers (freed slots) go on; each row's times depend only on rows its
        # ``ready`` waits for, so the order layers are stepped in does not change them
        todo = deque(steppers)
        pop, push = todo.popleft, todo.append
        while todo:
            s = pop()
            s.queued = False
            n, lim = s.next, s.limit
            if n >= lim:
                continue
            ready, step = s.ready, s.step
            start = n
            while n < lim and ready(n):
                step(n)                   # (a step reads other steppers' ``next`` only)
                n += 1
                s.next = n
            if n > start:
                for t in s.nbrs:
                    if not t.queued and t.next < t.limit:
                        t.queued = True
                        push(t)
        if any(s.next < s.limit for s in steppers):
            # the engine would deadlock too: a defect of the plan
            from pimsim.errors import EngineError
            d = self.arch.design
            raise EngineError(f"closed-form schedule of '{self.network.name}' stopped: "
                              "no layer can take its next row (every one waits for an "
                              "input row or a buffer slot that is never freed)",
                              file=d.source, where="--fidelity", expected="please "
                              "report it with the design point and trace")
        self.upto = max(self.upto, upto)

    @property
    def images(self) -> int:
        """The images the schedule has room for."""
        st = (self.sources + self.layer_rows)[0]
        return st.rows // st.per_image

    def grow(self, images: int) -> None:
        """Room for ``images`` images (more than now), the rows stepped so far kept: the
        same schedule as one set up for ``images`` from the start and advanced as far (a
        row's times do not depend on how many images follow)."""
        for s in self.sources + self.layer_rows:
            s.grow(images)
            for e in s.ins:
                e.grow(images)

    def done(self, names: set[str] | None = None,
             image: int | None = None) -> dict[str, np.ndarray]:
        """Each layer's (or each of ``names``') completion time of every output row (or of
        image ``image``'s rows) in ns; rows not stepped yet are not final."""
        links = self.arch.design.chip.offchip_links
        off_bit_ns = self.arch.latency_ns("offchip_link", "transfer")
        done: dict[str, np.ndarray] = {}
        for lay, lm, st in zip(self.network, self.nmap.layers, self.layer_rows):
            if names is not None and lay.name not in names:
                continue
            rows = (slice(None) if image is None
                    else slice(image * st.per_image, (image + 1) * st.per_image))
            end = st.done(rows)
            if lm.host_out_bits and links:      # a sink's results cross a link to the host
                if st.copy_rows:                # an equal share per unit (copy's part)
                    end = (st.ends_of(rows) + lm.host_out_bits
                           / np.count_nonzero(st.ppr[:, :st.per_image]) * off_bit_ns
                           ).max(axis=0)
                else:                           # one unit per row
                    end = end + lm.host_out_bits / st.per_image * off_bit_ns
            done[lay.name] = end
        return done


class _Rows:
    """A producer of rows in :func:`row_done_ns`: how far it is (``next``), its
    consumers' buffers (``outs``) and its inputs (``ins``)."""

    copy_rows = False                     # an MVM layer's copies (:class:`_CopyRows`)

    def __init__(self, rows: int, per_image: int | None = None):
        self.rows = rows                  # rows of every image stepped (image-major)
        self.per_image = per_image or rows
        self.next = 0
        self.limit = rows                 # rows to step to (RowSchedule.advance)
        self.outs: list[_Buffer] = []
        self.ins: list[_Buffer] = []
        # per-row times are Python lists of floats: read and written one row at a time,
        # where numpy scalars cost more (the same IEEE double arithmetic either way)
        self.start = [0.0] * rows         # when each row's last unit started (read inputs)
        self.there = [0.0] * rows         # when each row's input rows were all there
        self.queued = False               # in RowSchedule.advance's worklist
        self.nbrs: list[_Rows] = []       # the steppers a step of this one may unblock

    def grow(self, images: int) -> None:
        """Room for ``images`` images' rows (:meth:`RowSchedule.grow`)."""
        extra = self.per_image * images - self.rows
        self.start += [0.0] * extra
        self.there += [0.0] * extra
        self.rows += extra

    def ready(self, r: int) -> bool:
        """Are row ``r``'s input rows in and its slots' previous holders read?"""
        for e in self.ins:
            if e.prod.next <= e.hil[r]:
                return False
        for e in self.outs:
            if r >= e.slots and e.cons.next <= e.lastl[r - e.slots]:
                return False
        return True

    def avail(self, r: int) -> float:
        """When input rows 0 to the last of row ``r``'s window have all arrived."""
        t = None
        for e in self.ins:
            x = e.hil[r]
            a = e.run if x == e.upto - 1 else e.arrived[x] if x < e.upto else e.prefix(x)
            if t is None or a > t:
                t = a
        if t is None:
            t = 0.0
        self.there[r] = t
        return t

    def claim(self, r: int, t: float) -> float:
        """Row ``r``, ready at ``t``, takes a slot in each consumer's buffer in turn: after
        the row before it and once the row ``slots`` before it has been read."""
        for e in self.outs:
            if r >= e.slots:
                free = e.release(r - e.slots)
                if free > t:
                    e.wait[r] = free - t
                    t = free
            if e.last > t:
                t = e.last
            e.last = e.claims[r] = t
        return t


class _Source(_Rows):
    """The network input into one first layer's buffer: the host issues every row as soon
    as it has a slot (the engine's source)."""

    def step(self, r: int) -> None:
        # ready once the row before it has its slot (the same claims as at 0: rows take
        # their slots in order), so ``wait`` is the host's own wait for this row's slot
        self.claim(r, max(0.0, max((e.last for e in self.outs), default=0.0)))


class _Buffer:
    """One consumer operand's ring of row slots (``pimsim.sim.edram.OperandBuffer``)
    between two steppers of :func:`row_done_ns`: when each row took its slot and arrived.
    Per-row times are Python lists (``claims``, ``raw``, ``arrived``; ``wait`` a numpy
    array: it is summed)."""

    def __init__(self, b, prod: _Rows, cons: _Rows, lo: np.ndarray, hi: np.ndarray,
                 off_ns: np.ndarray, row_ns: float, hop_ns: float, link_bw: float,
                 remote_hop_ns: float, off_bit_ns: float, pos_bits: float = 0.0):
        self.b, self.prod, self.cons = b, prod, cons
        self.slots = b.slots
        # slot -> 0: local eDRAM, 1: another tile's, 2: off-chip (a row's slot is its index
        # modulo the slots: OperandBuffer.pool) and the time it adds after the hop (ns,
        # :func:`stored_ns`' terms): a whole row's (a worker's or the host's), and per
        # position of a copy's part (``pos_bits``: each part is stored on its own, as the
        # engine's Processes.stored does)
        self.pools = [b.pool(0, i) for i in range(b.slots)]
        self.remote_ns = b.send_bits / link_bw
        self.spill_ns = 2 * b.send_bits * off_bit_ns
        self.pos_ns = (0.0, pos_bits / link_bw, 2 * pos_bits * off_bit_ns)   # by pool
        self.lo, self.hi = lo, hi
        self.off_ns, self.row_ns, self.hop_ns = off_ns.tolist(), row_ns, hop_ns
        self.link_bw, self.remote_hop_ns, self.off_bit_ns = link_bw, remote_hop_ns, off_bit_ns
        n = self.nrows = b.rows * (cons.rows // cons.per_image)   # rows of every image
        self.claims = [0.0] * n
        self.wait = np.zeros(n)           # how long the producer waited for each row's slot
        self.last = -np.inf
        # the consumer row that reads each input row last (-1: none) and the first
        self.first_reader, self.last_reader = readers(lo, hi, n)
        self.hil, self.lastl = hi.tolist(), self.last_reader.tolist()   # fast to index
        self.firstl = self.first_reader.tolist()
        self.run = -np.inf                # rows 0..upto - 1 have all arrived by then
        self.arrived = [0.0] * n
        self.raw = [0.0] * n              # each row's own arrival, for rows < upto
        self.upto = 0                     # prefix maxima known for rows < upto
        # row of an image (with the slot's pool where not local) -> its parts' NoC and
        # storing ns
        self.part_ns: dict[int | tuple[int, int], np.ndarray] = {}
        self.read_lo = self.read_hi = -1  # release(): the last window of readers, its max
        self.read_ns = 0.0

    def grow(self, images: int) -> None:
        """Room for ``images`` images' rows (:meth:`RowSchedule.grow`): the windows and
        readers of every image, the rows so far kept."""
        b, n = self.b, self.b.rows * images
        extra = n - self.nrows
        self.lo, self.hi = _tiled_windows(self.win, b.rows, self.cons.per_image, images)
        self.first_reader, self.last_reader = readers(self.lo, self.hi, n)
        self.hil, self.lastl = self.hi.tolist(), self.last_reader.tolist()
        self.firstl = self.first_reader.tolist()
        self.off_ns += self.off_image * (extra // b.rows)
        self.claims += [0.0] * extra
        self.wait = np.concatenate([self.wait, np.zeros(extra)])
        self.arrived += [0.0] * extra
        self.raw += [0.0] * extra
        self.nrows = n

    def arrival(self, x: int) -> float:
        """When row ``x`` can be read in the consumer's buffer (ns)."""
        p = self.prod
        pool = self.pools[x % self.slots]
        if p.copy_rows:                   # each copy's part on its own, the first with
            r = x % p.per_image           # the row's off-chip bits once it has its slot;
            k, _, _, kl, nl, _ = p.rowk[r]      # each part then stored on its own
            rate = self.row_ns + self.pos_ns[pool]    # ns per position: NoC + storing
            if len(kl) == 1:              # one part, the first (most rows of small layers)
                t = self.claims[x] + self.off_ns[x] + nl[0] * rate
            elif 0 < len(kl) <= SCALAR_COPIES:
                fp, t = p.first_part[x], -np.inf
                endl = p.endl
                for kk, nn in zip(kl, nl):
                    if kk == fp:
                        v = self.claims[x] + self.off_ns[x]
                    else:
                        v = endl[kk][x] if endl is not None else p.ends[kk, x]
                    t = max(t, float(v + nn * rate))
            elif p.first_k[r] >= 0:       # the row's copies a0, a0 + 1, ...: a slice
                a0 = p.first_k[r]
                key = r if pool == 0 else (r, pool)
                part = self.part_ns.get(key)
                if part is None:
                    part = self.part_ns[key] = p.ppr[k, x] * rate
                tt = p.ends[a0:a0 + len(kl), x] + part
                j = p.first_part[x] - a0
                if 0 <= j < len(kl):
                    tt[j] = (self.claims[x] + self.off_ns[x]) + part[j]
                t = float(tt.max())
            else:
                if not k.size:            # (copies without a part: -inf, left out)
                    k = np.arange(p.ppr.shape[0])
                tt = p.ends[k, x]
                tt[k == p.first_part[x]] = self.claims[x] + self.off_ns[x]
                t = float((tt + p.ppr[k, x] * rate).max())
            if pool == 1:                 # the parts' NoC transfer to the other tile
                return t + self.hop_ns + self.remote_hop_ns
            return t + self.hop_ns
        t = self.claims[x] + self.off_ns[x] + self.row_ns
        if pool == 0:                     # stored: as stored_ns, without a call
            return t + self.hop_ns
        if pool == 1:
            return t + self.hop_ns + self.remote_ns + self.remote_hop_ns
        return t + self.hop_ns + self.spill_ns

    def prefix(self, x: int) -> float:
        """When rows 0..x have all arrived."""
        if x < self.upto:
            return self.arrived[x]
        run, upto, raw, arrived = self.run, self.upto, self.raw, self.arrived
        while upto <= x:
            a = raw[upto] = self.arrival(upto)
            if upto == 0 or not run > a:  # max(a, run)
                run = a
            arrived[upto] = run
            upto += 1
        self.upto = upto
        self.run = run                    # rows 0..upto - 1 have all arrived by then
        return run

    def arrivals(self) -> np.ndarray:
        """When every row can be read in the consumer's buffer (:meth:`arrival`), ns."""
        out = np.array(self.raw, dtype=float)
        for x in range(self.upto, self.nrows):
            out[x] = self.arrival(x)
        return out

    def release(self, x: int) -> float:
        """When row ``x``'s slot is free: its last reader has started (read it), or it
        arrived when no output reads it."""
        hi = self.lastl[x]
        if hi < 0:
            return self.arrival(x)
        lo = self.firstl[x]
        if lo == hi:
            return self.cons.start[lo]
        if lo == self.read_lo and hi == self.read_hi:   # rows read by the same consumer
            return self.read_ns                         # rows (final once all started)
        self.read_lo, self.read_hi = lo, hi
        self.read_ns = t = max(self.cons.start[lo:hi + 1])
        return t


class _WorkerRows(_Rows):
    """A non-MVM layer's rows, round-robin on one worker per host tile."""

    def __init__(self, lay, lm, arch: Arch, rows: int, held: np.ndarray, images: int = 1):
        super().__init__(rows * images, rows)
        role, ops = unit_role(lm)
        self.h = max(1, min(lm.host_tiles, rows))
        op_ns = (arch.latency_ns(role, lm.unit_action or (
            "accumulate" if role == "tile_shift_add" else "op"))
            / units_per_tile(arch, role)) if role else 0.0
        self.per_row = ops * op_ns / rows
        self.free = [0.0] * self.h
        self.end = [0.0] * (rows * images)
        self.held = held.tolist()

    def grow(self, images: int) -> None:
        extra = self.per_image * images - self.rows
        super().grow(images)
        self.end += [0.0] * extra
        self.held += self.held[:self.per_image] * (extra // self.per_image)

    def step(self, r: int) -> None:
        w = (r % self.per_image) % self.h
        self.start[r] = s = max(self.free[w], self.avail(r))
        self.free[w] = self.end[r] = self.claim(r, s + self.per_row) + self.held[r]

    def done(self, rows: slice = slice(None)) -> np.ndarray:
        return np.array(self.end[rows], dtype=float)


class _CopyRows(_Rows):
    """Image 0 through an MVM layer's copies without contention, unit by unit, as the
    engine's copy process and output stage run them (``pimsim.sim.processes``; a unit is
    one copy's positions of one output row). ``held``: per row, how long the first
    part's output register is held after it has its slots (its row's off-chip bits
    cross before the NoC transfer starts).

    Per copy, in row order, a unit of ``n`` positions and ``m`` reads (``avail``: when
    its row's inputs are all there; ``w``: when the copy may start it):

    * ``b = max(w, avail)`` (+ the write time of a written operand, first unit); fetch
      ``n`` receptive fields from eDRAM over the bus to ``f = b + n x fetch``;
    * reads: the first conversion starts at ``cs = max(f + t_read, adc free)``, the last
      at ``last = cs + (m - 1) x period`` (period = max(read, conversion)); the outputs
      are ready at ``last + period`` (the ADCs free at ``last + t_conv``);
    * the output register is one deep: the copy goes on at ``max(last, d)`` where ``d``
      is the end of its previous unit's output stage, and this unit's output stage runs
      from ``max(ready, d)``: row-tile merges on the tile shift-and-add, then the eDRAM
      write over the bus (a copy on several tiles does ``1 / tiles`` on each at once);
      the row's first part written then takes the row's slots in the consumers' buffers
      (:meth:`_Rows.claim`) and holds the register until it has them.
    """

    copy_rows = True

    def __init__(self, lay, lm, arch: Arch, rows: int, chunk_positions: int,
                 held: np.ndarray, images: int = 1, static: dict | None = None):
        super().__init__(rows * images, rows)
        d = arch.design
        t_read, edram_bw, bus_bw, _, _ = _rates(arch)
        c = lm.replication
        t_conv = conversion_ns(lm, arch)
        fetch = lay.weight_rows * lay.groups * d.precision.input_bits
        store = lay.out_shape[0] * d.precision.output_bits
        if lay.is_matmul:
            fetch = lay.matmul_dims[0] * lay.matmul_dims[2] * d.precision.input_bits
            store = lay.matmul_dims[0] * lay.matmul_dims[3] * d.precision.output_bits
        n_tiles = max(1, -(-lm.imas_per_copy // d.tile.imas))        # tiles one copy spans
        tsa_ns = arch.latency_ns("tile_shift_add", "accumulate") / d.tile.shift_adds
        self.t_read, self.t_conv, self.period = t_read, t_conv, max(t_read, t_conv)
        self.fetch_ns = max(2 * fetch / edram_bw, fetch / bus_bw) / n_tiles   # per position
        self.drain_ns = (lm.merges_per_position * tsa_ns
                         + max(2 * store / edram_bw, store / bus_bw)) / n_tiles
        self.cycles = d.input_cycles * ou_steps(lm, arch)
        self.keep = 1.0 - lm.skip_cycles
        self.write_ns = lm.write_ns
        self.held = held.tolist()
        if static is None:
            static = self.static(lay, lm, arch, rows, chunk_positions)
        self.static_data = static
        self.ppr = np.tile(static["ppr"], (1, images))
        self.rowk, self.first_k, self.vec = static["rowk"], static["first_k"], static["vec"]
        self.scalar = static["scalar"]
        n_rows = rows * images
        if self.scalar:                        # every row stepped copy by copy: Python lists
            self.go, self.adc, self.stage = [0.0] * c, [0.0] * c, [0.0] * c
            self.first = [True] * c
            self.endl = [[-np.inf] * n_rows for _ in range(c)]   # [copy][row]
            self.first_part = [0] * n_rows
            self.first_end = [0.0] * n_rows
        else:
            self.go = np.zeros(c)              # when each copy may start its next unit
            self.adc = np.zeros(c)             # when its ADCs are free
            self.stage = np.zeros(c)           # when its last output stage ends
            self.first = np.ones(c, dtype=bool)   # no unit yet (a written operand is programmed)
            self.endl = None
            self.ends = np.full((c, n_rows), -np.inf)
            self.first_part = np.zeros(n_rows, dtype=np.int64)
            self.first_end = np.zeros(n_rows)  # the first part's output stage is over

    def static(self, lay, lm, arch: Arch, rows: int, chunk_positions: int) -> dict:
        """What does not depend on the images or the rings (:func:`build_rows` keeps it
        for the next schedule of the same network): ``ppr`` [copies, rows of an image],
        positions of each copy in each row; per row of an image, ``rowk`` (its copies
        ``k``, their positions ``n`` and reads ``m``, as lists, and as arrays where the
        row is on none or more than ``SCALAR_COPIES`` copies, else None), ``first_k``
        (the first copy where they are a run k0, k0 + 1, ..., indexed by a slice, a view;
        -1 otherwise) and ``vec`` (for the array form of :meth:`step`: the copies' index
        and each copy's n x fetch, (m - 1) x period, whether every m > 0, n x drain);
        ``scalar``: every row is stepped copy by copy."""
        from pimsim.sim.noc import copy_layout

        d = arch.design
        width = 1 if lay.is_matmul else max(1, lay.out_shape[2])   # written: per row of A
        chunk = max(1, min(width, chunk_positions))
        ppr, _ = copy_layout(lm, rows, width, d.tile.imas, chunk)     # [copies, rows]
        cyc = d.input_cycles * ou_steps(lm, arch)
        keep = 1.0 - lm.skip_cycles
        rr, kk = np.nonzero(ppr.T)             # row by row, each row's copies in order
        n_all = ppr[kk, rr].astype(float)
        m_all = n_all * cyc if keep == 1.0 else np.ceil(n_all * cyc * keep)
        cut = np.searchsorted(rr, np.arange(rows + 1)).tolist()
        kl_all, nl_all, ml_all = kk.tolist(), n_all.tolist(), m_all.tolist()
        rowk, first_k, vec = [], [], []
        for r in range(rows):
            a, b = cut[r], cut[r + 1]
            kl = kl_all[a:b]
            if 0 < len(kl) <= SCALAR_COPIES:   # stepped copy by copy: the lists only
                rowk.append((None, None, None, kl, nl_all[a:b], ml_all[a:b]))
                first_k.append(-1)
                vec.append(None)
                continue
            k, n, m = kk[a:b], n_all[a:b], m_all[a:b]
            rowk.append((k, n, m, kl, nl_all[a:b], ml_all[a:b]))
            if not kl:
                first_k.append(-1)
                vec.append(None)
                continue
            run = kl[-1] - kl[0] == len(kl) - 1
            first_k.append(kl[0] if run else -1)
            vec.append((slice(kl[0], kl[-1] + 1) if run else k, n * self.fetch_ns,
                        (m - 1) * self.period, bool((m > 0).all()), n * self.drain_ns))
        return {"ppr": ppr, "rowk": rowk, "first_k": first_k, "vec": vec,
                "scalar": max((len(x[3]) for x in rowk), default=0) <= SCALAR_COPIES}

    def grow(self, images: int) -> None:
        extra = self.per_image * images - self.rows
        super().grow(images)
        self.ppr = np.tile(self.static_data["ppr"], (1, images))
        self.held += self.held[:self.per_image] * (extra // self.per_image)
        if self.endl is not None:
            for e in self.endl:
                e += [-np.inf] * extra
            self.first_part += [0] * extra
            self.first_end += [0.0] * extra
        else:
            c = self.ends.shape[0]
            self.ends = np.concatenate([self.ends, np.full((c, extra), -np.inf)], axis=1)
            self.first_part = np.concatenate([self.first_part, np.zeros(extra, np.int64)])
            self.first_end = np.concatenate([self.first_end, np.zeros(extra)])

    def ends_of(self, rows: slice = slice(None)) -> np.ndarray:
        """[copies, rows]: when each copy's part of each row (of ``rows``) has its output
        stage over (-inf: no part), ns; a new array."""
        if self.endl is not None:
            return np.array([e[rows] for e in self.endl], dtype=float).reshape(
                len(self.endl), -1)
        return self.ends[:, rows].copy()

    def step(self, r: int) -> None:
        if r % self.per_image == 0:             # a written operand: programmed per image
            self.first[:] = [True] * len(self.first)
        i = r % self.per_image
        k, n, m, kl, nl, ml = self.rowk[i]
        if not kl:
            return
        if len(kl) <= SCALAR_COPIES:
            self._step_scalar(r, kl, nl, ml)
            return
        ks, nf, mp, all_m, nd = self.vec[i]
        period = self.period
        b = np.maximum(self.go[ks], self.avail(r))
        if self.write_ns != 0.0:
            b = b + np.where(self.first[ks], self.write_ns, 0.0)
        self.start[r] = float(b.max())
        if all_m and type(ks) is slice:        # the same operations, in place on views
            adc, stage = self.adc[ks], self.stage[ks]
            cs = np.add(b, nf, out=b)          # f
            cs += self.t_read
            np.maximum(cs, adc, out=cs)
            last = np.add(cs, mp, out=cs)
            ready = last + period
            np.add(last, self.t_conv, out=adc)
            np.maximum(last, stage, out=self.go[ks])
            wrote = np.maximum(ready, stage, out=ready)
            wrote += nd
        else:
            f = b + nf
            cs = np.maximum(f + self.t_read, self.adc[ks])
            if all_m:
                last = cs + mp
                ready = last + period
                self.adc[ks] = last + self.t_conv
            else:
                last = np.where(m > 0, cs + mp, f)
                ready = np.where(m > 0, last + period, f)
                self.adc[ks] = np.where(m > 0, last + self.t_conv, self.adc[ks])
            stage = self.stage[ks]
            self.go[ks] = np.maximum(last, stage)
            wrote = np.maximum(ready, stage) + nd
        self.ends[ks, r] = wrote
        j = int(wrote.argmin())
        kj = kl[j]
        self.first_part[r] = kj
        self.stage[ks] = wrote
        self.stage[kj] = self.first_end[r] = self.claim(r, float(wrote[j])) + self.held[r]
        self.first[ks] = False

    def _step_scalar(self, r: int, kl: list[int], nl: list[float], ml: list[float]) -> None:
        """:meth:`step` for a row on a few copies, copy by copy in Python floats (the same
        operations in the same order as the array form, so the same results)."""
        period, t_read, t_conv = self.period, self.t_read, self.t_conv
        go, adc, stage, first, endl = self.go, self.adc, self.stage, self.first, self.endl
        fetch_ns, drain_ns = self.fetch_ns, self.drain_ns
        avail = self.avail(r)
        start = -np.inf
        best, bj = np.inf, 0
        for kk, nn, mm in zip(kl, nl, ml):
            b = max(float(go[kk]), avail)
            if first[kk]:
                b += self.write_ns
            start = max(start, b)
            f = b + nn * fetch_ns
            if mm > 0:
                cs = max(f + t_read, float(adc[kk]))
                last = cs + (mm - 1) * period
                ready = last + period
                adc[kk] = last + t_conv
            else:
                last = ready = f
            st = float(stage[kk])
            go[kk] = max(last, st)
            wrote = max(ready, st) + nn * drain_ns
            stage[kk] = wrote
            if endl is not None:
                endl[kk][r] = wrote
            else:
                self.ends[kk, r] = wrote
            if wrote < best:
                best, bj = wrote, kk
            first[kk] = False
        self.start[r] = start
        self.first_part[r] = bj
        self.stage[bj] = self.first_end[r] = self.claim(r, best) + self.held[r]

    def done(self, rows: slice = slice(None)) -> np.ndarray:
        """When each row (of ``rows``) has its last output stage over."""
        idx = np.arange(self.rows)[rows]
        done = self.ends_of(rows)
        fp = np.asarray(self.first_part[rows], dtype=np.int64)
        fe = np.asarray(self.first_end[rows], dtype=float)
        has = self.ppr[fp, idx] > 0
        done[fp[has], np.nonzero(has)[0]] = fe[has]
        return done.max(axis=0)


def readers(lo: np.ndarray, hi: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) consumer row that reads each of ``n`` input rows, given each consumer
    row's window ``lo[r] .. hi[r]`` (first = ``n + len(lo)`` and last = -1 for a row no
    window holds). Windows that move forward (``lo`` and ``hi`` non-decreasing, every
    receptive-field rule of :func:`pimsim.sim.buffers.windows`) by binary search: the
    first reader of ``x`` is the first window ending at or after ``x``, if it starts at or
    before ``x``; the last the last window starting at or before ``x``, if it ends at or
    after it. Any other windows row by row."""
    rows = len(lo)
    first = np.full(n, n + rows, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    if rows and (np.diff(lo) >= 0).all() and (np.diff(hi) >= 0).all():
        x = np.arange(n)
        r0 = np.searchsorted(hi, x, side="left")
        ok = r0 < rows
        ok[ok] &= lo[r0[ok]] <= x[ok]
        first[ok] = r0[ok]
        r1 = np.searchsorted(lo, x, side="right") - 1
        ok = r1 >= 0
        ok[ok] &= hi[r1[ok]] >= x[ok]
        last[ok] = r1[ok]
        return first, last
    for r in range(rows):
        first[lo[r]:hi[r] + 1] = np.minimum(first[lo[r]:hi[r] + 1], r)
        last[lo[r]:hi[r] + 1] = r
    return first, last


def _off_rows(lay, lm, order: int, in_rows: int) -> np.ndarray:
    """Off-chip bits of each input row of ``lay``'s operand ``order`` (the engine's
    ``Edge.offchip_rows``: a layer's off-chip input bits, the host's included, ride on one
    operand, its second for a non-MVM layer of several inputs)."""
    off_order = 1 if (not lm.is_mvm and len(lay.inputs) > 1) else 0
    if order != off_order:
        return np.zeros(in_rows)
    return split_even(int(lm.offchip_bits - lm.host_out_bits), in_rows).astype(float)
