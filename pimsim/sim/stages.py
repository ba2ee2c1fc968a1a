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

The pipelined interval is the largest of these busy times per image, or the pace that
the consumers' row slots allow where that is slower (:func:`slot_bound`, resource
``buffer_slots``: Little's law on each input buffer), and the stage that sets it is the
**bottleneck** (layer, resource, share of the interval = 1 for the closed form). The engine simulates the same units with contention; its own bottleneck is
measured (``pimsim.sim.outcome``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pimsim.arch import read_timing
from pimsim.arch.compose import Arch
from pimsim.kernels.copy_rows import copy_rows
from pimsim.kernels.unit_counts import split_even
from pimsim.mapping import NetworkMap
from pimsim.mapping.digital import units_per_tile
from pimsim.sim.edram import plan_buffers
from pimsim.sim.noc import CHUNK_POSITIONS, Traffic, mesh_link_bits_per_ns, traffic
from pimsim.units import BITS_PER_BYTE
from pimsim.workload.layer import NETWORK_INPUT, Network

GBPS_TO_BITS_PER_NS = BITS_PER_BYTE  # 1 GB/s = 8 bits/ns
#: Resources a stage can be bound by (the names of ``Result.total.bottleneck``).
RESOURCES = ("crossbar", "adc", "edram", "bus", "tile_shift_add", "activation", "maxpool",
             "router", "noc_link", "offchip_link", "buffer_slots")
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


def row_latency_ns(network: Network, nmap: NetworkMap, arch: Arch,
                   chunk_positions: int = CHUNK_POSITIONS, noc: Traffic | None = None) -> float:
    """Image 0's latency through the overlapped layer pipeline (:func:`row_done_ns`)."""
    done = row_done_ns(network, nmap, arch, chunk_positions, noc)
    return max((float(v.max()) for v in done.values()), default=0.0)


def stored_ns(b, arrive: np.ndarray, link_bw: float, remote_hop_ns: float,
              off_bit_ns: float) -> np.ndarray:
    """When image 0's input rows of buffer ``b`` (``pimsim.sim.edram.OperandBuffer``) can
    be read, from when they reach the consumer (``arrive``, ns), as the engine stores them:
    a row in another tile's eDRAM crosses the on-chip network once more (bits / link
    bandwidth + ``noc.avg_hops`` routers, ``remote_hop_ns``); a spilled row is written out
    and read back over the chip's off-chip links (2 x bits x ``off_bit_ns``), without
    queueing (the engine measures the links' queueing, ``pimsim.sim.agreement``)."""
    out = np.array(arrive, dtype=float)
    if getattr(b, "remote", 1) == 0 and getattr(b, "spill", 1) == 0:
        return out                                    # every slot in the consumer's eDRAM
    pools = np.array([b.pool(0, r) for r in range(len(out))])
    out[pools == 1] += b.send_bits / link_bw + remote_hop_ns
    out[pools == 2] += 2 * b.send_bits * off_bit_ns
    return out


def row_done_ns(network: Network, nmap: NetworkMap, arch: Arch,
                chunk_positions: int = CHUNK_POSITIONS,
                noc: Traffic | None = None) -> dict[str, np.ndarray]:
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
    stores it (:func:`stored_ns`: another tile's eDRAM or off-chip). Returns each layer's
    completion time of every output row (ns); the latency is the last row of the last layer.
    """
    return row_schedule(network, nmap, arch, chunk_positions, noc)[0]


#: passes of :func:`row_schedule`'s slot waits at most (each carries the waits one buffer
#: further upstream; the schedule stops changing long before on the shipped traces)
SLOT_PASSES = 500


def row_schedule(network: Network, nmap: NetworkMap, arch: Arch,
                 chunk_positions: int = CHUNK_POSITIONS, noc: Traffic | None = None
                 ) -> tuple[dict[str, np.ndarray], list[np.ndarray],
                            dict[tuple[int, int], np.ndarray]]:
    """:func:`row_done_ns`'s schedule of image 0 with what it is made of: (each layer's
    completion time of every output row; per layer index, when each output row's inputs
    are all there; per (consumer index, operand order), when each row of that operand
    can be read by the consumer), ns.

    **Row slots.** A producer's row ``q`` is delivered to a consumer operand of ``S``
    slots (``pimsim.sim.edram.plan_buffers``) no earlier than its slot is free: when row
    ``q - S`` has been released (the last consumer row that reads it has started), as
    the engine's ``take_slot`` waits (``buffer_full``). A producer's outputs go to its
    consumers in network order, so a wait at one consumer also delays the later ones,
    and the part that waits holds its copy's output register (a worker: the worker).
    The release times depend on the schedule, so it is computed again with the waits
    of the previous pass until nothing moves (:func:`slot_waits`; a network whose rows
    never wait for a slot takes one pass)."""
    waits = None
    plan = plan_buffers(network, nmap, arch.design)
    noc = noc if noc is not None else traffic(network, nmap, arch)
    memo: dict = {}            # layers whose inputs did not move keep their rows
    for _ in range(SLOT_PASSES):
        done, avails, arrivals, starts, takes = _row_pass(network, nmap, arch,
                                                          chunk_positions, noc, waits,
                                                          plan, memo)
        new = slot_waits(network, nmap, arch, arrivals, starts, takes, plan,
                         memo.setdefault("readers", {}))
        if waits is None and not new:
            break
        if waits is not None and all(np.array_equal(new[k], waits[k]) for k in new):
            break
        waits = new
    return done, avails, arrivals


def slot_waits(network: Network, nmap: NetworkMap, arch: Arch,
               arrivals: dict, starts: list, takes: dict,
               plan: list | None = None,
               readers: dict | None = None) -> dict[tuple[int, int], np.ndarray]:
    """{(consumer, order): the earliest time each producer row may be delivered to that
    operand (ns)} where a row waits for its slot somewhere ({} where none does): row
    ``q`` waits for the release of row ``q - S`` (``starts``: when each consumer row
    started, per layer; a row no consumer row reads is freed on arrival), and for the
    waits at the producer's earlier consumers (its outputs go out in network order).
    The network input's rows are left out: each first layer's buffer has a source of
    its own, and a consumer releases row ``q - S`` before it needs row ``q``, so their
    waits never delay it."""
    need = {}
    any_wait = False
    for b in plan if plan is not None else plan_buffers(network, nmap, arch.design):
        key = (b.consumer, b.order)
        if b.producer < 0 or b.slots <= 0 or key not in takes:
            continue
        rows = b.rows
        st = starts[b.consumer]
        got = readers.get(key) if readers is not None else None
        if got is None:
            # the consumer rows reading each row q: first .. last (windows are monotone)
            q = np.arange(rows)
            first = np.searchsorted(b.hi, q, side="left")
            last = np.searchsorted(b.lo, q, side="right") - 1
            got = (first, last, first <= last)
            if readers is not None:
                readers[key] = got
        first, last, read = got
        rel = np.where(read, range_max(st, first, last, read), arrivals[key])
        w = np.full(rows, -np.inf)
        if b.slots < rows:
            w[b.slots:] = rel[:rows - b.slots]
        if (w > takes[key]).any():
            any_wait = True
        need[key] = (b.producer, w)
    if not any_wait:
        return {}
    out: dict[tuple[int, int], np.ndarray] = {}
    last: dict[int, np.ndarray] = {}
    for key in sorted(need):                          # network order: consumer, operand
        p, w = need[key]
        w = np.maximum(w, last[p]) if p in last else w
        out[key] = last[p] = w
    return out


def range_max(values: np.ndarray, first: np.ndarray, last: np.ndarray,
              valid: np.ndarray) -> np.ndarray:
    """``max(values[first[i] .. last[i]])`` for every ``i`` where ``valid`` (-inf
    elsewhere): a few ranges stepped directly, long ones by a sparse table (the max of
    two overlapping power-of-two blocks)."""
    out = np.full(first.size, -np.inf)
    if not valid.any():
        return out
    a, b = first[valid], last[valid]
    n = b - a + 1
    longest = int(n.max())
    if longest <= 4:
        res = values[a].copy()
        for off in range(1, longest):
            ok = off < n
            res[ok] = np.maximum(res[ok], values[a[ok] + off])
    else:
        table = [values]
        step = 1
        while 2 * step <= longest:
            prev = table[-1]
            table.append(np.maximum(prev[:-step], prev[step:]))
            step *= 2
        k = np.floor(np.log2(n)).astype(np.int64)
        res = np.empty(a.size)
        for lv in np.unique(k):
            sel = k == lv
            t = table[lv]
            res[sel] = np.maximum(t[a[sel]], t[b[sel] - (1 << int(lv)) + 1])
    out[valid] = res
    return out


def _row_pass(network: Network, nmap: NetworkMap, arch: Arch, chunk_positions: int,
              noc: Traffic | None, waits: dict | None, plan: list | None = None,
              memo: dict | None = None):
    """One pass of :func:`row_schedule` with the slot ``waits`` of the previous one (None:
    no row waits): (done, avails, arrivals, each layer's row start times, when each
    operand's rows took their slots). ``memo``: a layer's rows from an earlier pass,
    reused where its inputs and waits are the same."""
    memo = {} if memo is None else memo
    cache = memo.setdefault("windows", {})        # (layer, operand) -> last rows needed
    by_name = {lay.name: lay for lay in network}
    from pimsim.sim.buffers import windows        # the engine's receptive-field rule

    waits = waits or {}
    starts: list[np.ndarray] = []
    takes: dict[tuple[int, int], np.ndarray] = {}
    # per producer: the wait before its last output goes (holds its register / worker)
    out_wait: dict[str, np.ndarray] = {}
    lays_ = list(network)
    for (ci, order), w in waits.items():
        name = lays_[ci].inputs[order]
        out_wait[name] = np.maximum(out_wait[name], w) if name in out_wait else w

    d = arch.design
    t_read, edram_bw, bus_bw, link_bw, router_ns = _rates(arch)
    noc = noc if noc is not None else traffic(network, nmap, arch)
    links = d.chip.offchip_links
    off_bit_ns = arch.latency_ns("offchip_link", "transfer")
    done: dict[str, np.ndarray] = {}             # layer -> completion time of each row
    avails: list[np.ndarray] = []                # per layer: when each row's inputs are there
    arrivals: dict[tuple[int, int], np.ndarray] = {}   # (consumer, order) -> rows readable
    # when each output row is handed to the consumers (a worker: its compute end) and,
    # for an MVM layer, each copy's part: (end of its eDRAM write per row, -inf where it
    # has none; its positions per row; the copy whose part goes first per row), [copies,
    # rows]: each part crosses the network on its own, the first one with the row's
    # off-chip bits
    sent: dict[str, np.ndarray] = {}
    parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    c_in, h_in, w_in = network.input_shape
    # where image 0's input rows live (pimsim.sim.edram, as the engine places them)
    plan = {(b.consumer, b.order): b
            for b in (plan if plan is not None else plan_buffers(network, nmap, d))}
    # a producer's output register (a worker, or the output stage of a row's first part)
    # is held until the row's off-chip bits have crossed and its NoC transfer starts
    hold: dict[str, np.ndarray] = {}
    for lay, lm in zip(network, nmap.layers):
        for order, src in enumerate(lay.inputs):
            if src != NETWORK_INPUT and (lay.is_mvm or order > 0):
                src_rows = max(1, by_name[src].out_shape[1])
                h_ = hold.setdefault(src, np.zeros(src_rows))
                np.maximum(h_, _off_rows(lay, lm, order, src_rows) * off_bit_ns, out=h_)
    for li, (lay, lm) in enumerate(zip(network, nmap.layers)):
        rows, width = max(1, lay.out_shape[1]), max(1, lay.out_shape[2])
        if lm.is_mvm and lay.is_matmul:       # a written matmul: one MVM per row of A
            width = 1
        bits = d.precision.input_bits if lay.is_mvm else d.precision.output_bits
        avail = np.zeros(rows)                  # when output row r's inputs are all there
        avails.append(avail)
        for order, src in enumerate(lay.inputs or [NETWORK_INPUT]):
            hop_ns = noc.edge_hops.get((src, lay.name), 0.0) * router_ns
            over_noc = lay.is_mvm or order > 0
            if src == NETWORK_INPUT:
                # every row is sent when its slot is free (the engine's source issues them
                # at once): without queueing each crosses its off-chip link (from the
                # host) and the NoC in its own transfer time
                in_rows = h_in
                # (a row waiting for its slot here never delays the consumer, which
                # released row q - S before it needs row q: slot_waits leaves them out)
                arrive = _off_rows(lay, lm, order, h_in) * off_bit_ns
                if over_noc:
                    arrive += c_in * w_in * bits / link_bw + hop_ns
            else:
                prod = by_name[src]
                in_rows = max(1, prod.out_shape[1])
                off = _off_rows(lay, lm, order, in_rows) * off_bit_ns
                w_e = waits.get((li, order))
                if src in parts:                # each copy's part of a row on its own
                    ends, ppr, first = parts[src]
                    t = ends.copy()
                    ar = np.arange(in_rows)
                    if w_e is not None:         # the first part waits for the row's slot
                        t[first, ar] = np.maximum(t[first, ar], w_e)
                    takes[(li, order)] = t[first, ar].copy()
                    t[first, ar] += off
                    if over_noc:
                        t += ppr * (prod.out_shape[0] * bits / link_bw)
                    arrive = t.max(axis=0)
                else:                           # a worker sends the whole row
                    s_ = sent[src] if w_e is None else np.maximum(sent[src], w_e)
                    takes[(li, order)] = s_
                    arrive = s_ + off
                    if over_noc:
                        arrive += prod.out_shape[0] * prod.out_shape[2] * bits / link_bw
                if over_noc:
                    arrive += hop_ns
            b = plan.get((li, order))
            if b is not None:
                arrive = stored_ns(b, arrive, link_bw, d.noc.avg_hops * router_ns, off_bit_ns)
            arrivals[(li, order)] = arrive
            hi = cache.get((li, order))
            if hi is None:
                hi = cache[(li, order)] = windows(lay, rows, in_rows)[1]
            np.maximum(avail, arrive[hi], out=avail)
        held = hold.get(lay.name, np.zeros(rows))
        wait = out_wait.get(lay.name)           # its rows' slot waits (the last consumer's)
        end = np.zeros(rows)
        seen = memo.get(li)
        if (seen is not None and np.array_equal(seen[0], avail)
                and (seen[1] is wait or (seen[1] is not None and wait is not None
                                         and np.array_equal(seen[1], wait)))):
            end, out_, start = seen[2]
            if lm.is_mvm:
                parts[lay.name] = out_
            else:
                sent[lay.name] = out_
            starts.append(start)
        elif lm.is_mvm:
            end, parts[lay.name], start = _copy_rows(lay, lm, arch, rows, width,
                                                     chunk_positions, avail, held, wait)
            starts.append(start)
            memo[li] = (avail.copy(), wait, (end, parts[lay.name], start))
        else:
            role, ops = unit_role(lm)
            h = max(1, min(lm.host_tiles, rows))
            op_ns = (arch.latency_ns(role, lm.unit_action or (
                "accumulate" if role == "tile_shift_add" else "op"))
                / units_per_tile(arch, role)) if role else 0.0
            per_row = ops * op_ns / rows
            free = np.zeros(h)
            out = np.zeros(rows)
            start = np.zeros(rows)
            for r in range(rows):
                w = r % h
                start[r] = max(free[w], avail[r])
                out[r] = start[r] + per_row
                # the worker sends the row (after its slot waits) before its next one
                free[w] = end[r] = (out[r] if wait is None else max(out[r], wait[r])) + held[r]
            sent[lay.name] = out
            starts.append(start)
            memo[li] = (avail.copy(), wait, (end, out, start))
        if lm.host_out_bits and links:          # a sink's results cross a link to the host
            if lay.name in parts:               # an equal share per unit (copy's part)
                ends, ppr, _ = parts[lay.name]
                end = (ends + lm.host_out_bits / np.count_nonzero(ppr) * off_bit_ns).max(axis=0)
            else:                               # one unit per row
                end = end + lm.host_out_bits / rows * off_bit_ns
        done[lay.name] = end
    return done, avails, arrivals, starts, takes


def _off_rows(lay, lm, order: int, in_rows: int) -> np.ndarray:
    """Off-chip bits of each input row of ``lay``'s operand ``order`` (the engine's
    ``Edge.offchip_rows``: a layer's off-chip input bits, the host's included, ride on one
    operand, its second for a non-MVM layer of several inputs)."""
    off_order = 1 if (not lm.is_mvm and len(lay.inputs) > 1) else 0
    if order != off_order:
        return np.zeros(in_rows)
    return split_even(int(lm.offchip_bits - lm.host_out_bits), in_rows).astype(float)


def _copy_rows(lay, lm, arch: Arch, rows: int, width: int, chunk_positions: int,
               avail: np.ndarray, held: np.ndarray, wait: np.ndarray | None = None
               ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Image 0 through an MVM layer's copies without contention, unit by unit, as the
    engine's copy process and output stage run them (``pimsim.sim.processes``; a unit is
    one copy's positions of one output row): (end of every output row's last output
    stage, (each copy's eDRAM write end per row, -inf where it has none; its positions
    per row; the copy whose part of the row is written first), the latest start of a
    unit of each row), ns. ``held``: per row, how long the first part's output register
    is held after its write (its row's off-chip bits cross before the NoC transfer
    starts); ``wait``: per row, when its slots in the consumers' buffers are free (the
    first part's register is held until then; None: no wait).

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
      write over the bus (a copy on several tiles does ``1 / tiles`` on each at once).
    """
    from pimsim.sim.noc import copy_layout

    d = arch.design
    t_read, edram_bw, bus_bw, _, _ = _rates(arch)
    c = lm.replication
    chunk = max(1, min(width, chunk_positions))
    ppr, _ = copy_layout(lm, rows, width, d.tile.imas, chunk)     # [copies, rows]
    t_conv = conversion_ns(lm, arch)
    period = max(t_read, t_conv)
    fetch = lay.weight_rows * lay.groups * d.precision.input_bits
    store = lay.out_shape[0] * d.precision.output_bits
    if lay.is_matmul:
        fetch = lay.matmul_dims[0] * lay.matmul_dims[2] * d.precision.input_bits
        store = lay.matmul_dims[0] * lay.matmul_dims[3] * d.precision.output_bits
    n_tiles = max(1, -(-lm.imas_per_copy // d.tile.imas))        # tiles one copy spans
    fetch_ns = max(2 * fetch / edram_bw, fetch / bus_bw) / n_tiles       # per position
    tsa_ns = arch.latency_ns("tile_shift_add", "accumulate") / d.tile.shift_adds
    drain_ns = (lm.merges_per_position * tsa_ns
                + max(2 * store / edram_bw, store / bus_bw)) / n_tiles   # per position
    cycles = d.input_cycles * ou_steps(lm, arch)
    keep = 1.0 - lm.skip_cycles
    has_wait = wait is not None
    done, ends, first_part, started = copy_rows(
        ppr, np.asarray(avail, dtype=float), np.asarray(held, dtype=float),
        np.asarray(wait, dtype=float) if has_wait else np.zeros(rows), has_wait, float(lm.write_ns), float(fetch_ns),
        float(t_read), float(period), float(t_conv), float(drain_ns), float(cycles), float(keep))
    return done, (ends, ppr, first_part), started


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
    :func:`stages`) nor the queueing of shared units; the engine's interval is at least
    the larger of the two (``schedule``: :func:`row_schedule`'s, when already computed).
    Source: Little's law, L = lambda x W (Little, Operations
    Research 9(3), 1961).
    """
    from pimsim.sim.buffers import windows

    h_in = max(1, network.input_shape[1])
    done, avails, arrivals = (schedule if schedule is not None
                              else row_schedule(network, nmap, arch, noc=noc))
    lays = list(network)
    by_name = {lay.name: i for i, lay in enumerate(lays)}
    # each layer's latency when nothing waits: done - inputs there, least over the rows
    lat = [float(np.min(done[lay.name] - a)) if a.size else 0.0
           for lay, a in zip(lays, avails)]
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
    buffers = [b for b in plan_buffers(network, nmap, arch.design)
               if b.slots > 0 and b.producer >= 0]
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
