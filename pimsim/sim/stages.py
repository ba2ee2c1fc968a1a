"""Stage times of the inter-layer pipeline in closed form, resource by resource.

One description of the pipeline serves every fidelity (docs/engine.md "One pipeline"):
each image passes every layer; a layer's work per image occupies

* its **copies** (``crossbar``, or ``adc`` when the conversion of a read is longer than
  the read): the busiest copy's ``ceil(P / copies)`` positions, each fetching its receptive
  field from eDRAM over the bus and then stepping ``input_cycles`` reads at
  ``max(read, conversion)`` (the skipped cycles of a technique removed);
* its tiles' shared units, summed over every layer on a tile: ``edram`` ports (each bit
  written once and read once), the eDRAM-to-IMA ``bus``, the ``tile_shift_add`` (row-tile
  merges and residual adds), ``activation`` and ``maxpool`` units, and the tile's NoC
  injection link (``router``);
* the chip's ``offchip_link`` ports for the bits that cross chips.

The pipelined interval is the largest of these busy times per image, and the stage that
sets it is the **bottleneck** (layer, resource, share of the interval = 1 for the closed
form). The engine simulates the same units with contention; its own bottleneck is
measured (``pimsim.sim.outcome``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pimsim.arch.compose import Arch
from pimsim.mapping import NetworkMap
from pimsim.units import BITS_PER_BYTE
from pimsim.workload.layer import NETWORK_INPUT, POOL_KINDS, Network

GBPS_TO_BITS_PER_NS = BITS_PER_BYTE  # 1 GB/s = 8 bits/ns
#: Resources a stage can be bound by (the names of ``Result.total.bottleneck``).
RESOURCES = ("crossbar", "adc", "edram", "bus", "tile_shift_add", "activation", "maxpool",
             "router", "offchip_link")
UNIT_ROLES = ("activation", "maxpool", "tile_shift_add")   # non-MVM layers' digital units


@dataclass(frozen=True)
class Stage:
    """One resource's busy time per image (ns) and the layer that uses it most."""

    layer: str
    resource: str
    busy_ns: float


def unit_role(lm) -> tuple[str, int]:
    """(digital unit role, ops per image) of a non-MVM layer ("" when it does no work)."""
    for role, ops in (("activation", lm.activation_ops), ("maxpool", lm.pool_ops),
                      ("tile_shift_add", lm.add_ops)):
        if ops:
            return role, int(ops)
    return "", 0


def conversion_ns(lm, arch: Arch) -> float:
    """ADC time of one read of the layer's crossbar group: its widest crossbar's used
    columns over the crossbar's ADCs, one sample each."""
    d = arch.design
    if not lm.crossbars_per_copy:
        return 0.0
    return math.ceil(int(lm.xb_cols.max()) / d.adc.per_crossbar) * arch.latency_ns("adc",
                                                                                    "convert")


def stages(network: Network, nmap: NetworkMap, arch: Arch) -> tuple[list[Stage], np.ndarray]:
    """(every resource's busy time per image, each layer's own stage time in ns).

    A layer's own stage time is the largest busy time among its copies / workers and
    the shared units of its tiles (the time it needs per image when nothing waits).
    """
    d = arch.design
    t_read = arch.latency_ns("crossbar", "read")
    edram_bw = d.tile.edram_bandwidth_GBps * GBPS_TO_BITS_PER_NS
    bus_bw = d.tile.bus_width_bits * d.clock_GHz
    link_bw = d.noc.link_GBps * GBPS_TO_BITS_PER_NS
    hop_ns = d.noc.avg_hops * arch.latency_ns("router", "transfer")
    tsa_ns = arch.latency_ns("tile_shift_add", "accumulate") / d.tile.shift_adds
    units = {"activation": d.tile.activation_units, "maxpool": d.tile.maxpool_units,
             "tile_shift_add": d.tile.shift_adds}
    links = d.chip.offchip_links
    off_ns = arch.latency_ns("offchip_link", "transfer") / links if links else 0.0
    by_name = {lay.name: i for i, lay in enumerate(network)}

    own: list[list[Stage]] = [[] for _ in nmap.layers]
    tile_use: dict[tuple[str, int], dict[int, float]] = {}   # (resource, tile) -> layer -> ns

    def use(resource: str, tiles: range, layer: int, ns: float) -> None:
        if ns <= 0.0:
            return
        share = ns / len(tiles)
        for t in tiles:
            d_ = tile_use.setdefault((resource, t), {})
            d_[layer] = d_.get(layer, 0.0) + share

    for i, (lay, lm) in enumerate(zip(network, nmap.layers)):
        tiles = range(lm.first_tile, lm.last_tile + 1)
        if lm.is_mvm:
            c = lm.replication
            n = -(-lm.positions // c)
            reads = math.ceil(n * d.input_cycles * (1.0 - lm.skip_cycles))
            t_conv = conversion_ns(lm, arch)
            period = max(t_read, t_conv)
            n_tiles = max(1, -(-lm.imas_per_copy // d.tile.imas))   # tiles one copy spans
            fetch = lay.weight_rows * lay.groups * d.precision.input_bits
            store = lay.out_shape[0] * d.precision.output_bits
            fetch_ns = max(2 * fetch / edram_bw, fetch / bus_bw) / n_tiles
            # the engine's recurrence per unit: fetch, first read, then one conversion
            # per period (the last conversion overlaps the next unit's fetch)
            copy_ns = reads * period + n * fetch_ns
            own[i].append(Stage(lm.name, "adc" if t_conv > t_read else "crossbar", copy_ns))
            bits = lm.positions * (fetch + store)
            use("edram", tiles, i, 2 * bits / edram_bw / d.tile.edram_ports)
            use("bus", tiles, i, bits / bus_bw)
            use("tile_shift_add", tiles, i, lm.positions * lm.merges_per_position * tsa_ns)
            out_parts = c * lay.out_shape[1]                  # output-row parts (upper bound)
            parts = min(lm.positions, out_parts)
        else:
            role, ops = unit_role(lm)
            h = max(1, min(len(tiles), lay.out_shape[1]))
            rows_w = -(-lay.out_shape[1] // h)
            if role:
                op_ns = arch.latency_ns(role, "accumulate" if role == "tile_shift_add"
                                        else "op") / units[role]
                t = ops * op_ns * rows_w / lay.out_shape[1]
                own[i].append(Stage(lm.name, role, t))
                use(role, range(lm.first_tile, lm.first_tile + h), i, ops * op_ns)
            parts = lay.out_shape[1]
        # NoC: the layer's outputs to every consumer that receives them over a link
        out_bits = lay.out_elems
        for cons in network:
            srcs = [s for s in cons.inputs]
            for order, s in enumerate(srcs):
                if s != lay.name:
                    continue
                if cons.is_mvm or order > 0:
                    b = d.precision.input_bits if cons.is_mvm else d.precision.output_bits
                    use("router", tiles, i, out_bits * b / link_bw + parts * hop_ns)
        if lm.offchip_bits:
            own[i].append(Stage(lm.name, "offchip_link", lm.offchip_bits * off_ns))
    # the network input over the first layers' links
    for cons in network:
        if NETWORK_INPUT in cons.inputs or not cons.inputs:
            j = by_name[cons.name]
            lm = nmap.layers[j]
            c_, h_, w_ = network.input_shape
            b = d.precision.input_bits if cons.is_mvm else d.precision.output_bits
            use("router", range(lm.first_tile, lm.first_tile + 1), j,
                c_ * h_ * w_ * b / link_bw + h_ * hop_ns)

    out: list[Stage] = [s for st in own for s in st]
    times = np.array([max((s.busy_ns for s in st), default=0.0) for st in own])
    for (resource, _t), per_layer in tile_use.items():
        total = sum(per_layer.values())
        top = max(per_layer, key=per_layer.get)
        out.append(Stage(nmap.layers[top].name, resource, total))
        for j in per_layer:
            times[j] = max(times[j], total)
    return out, times


def bottleneck(stage_list: list[Stage], interval_ns: float) -> dict:
    """{layer, resource, share}: the stage with the largest busy time per image and its
    share of the interval."""
    if not stage_list or interval_ns <= 0.0:
        return {}
    s = max(stage_list, key=lambda x: x.busy_ns)
    return {"layer": s.layer, "resource": s.resource, "share": s.busy_ns / interval_ns}


def pipelined_latency_ns(network: Network, times: np.ndarray) -> float:
    """Image 0's latency through the overlapped layer pipeline (closed form).

    Each layer produces its output rows evenly over its stage time. It starts when its
    producers have produced the input rows its first output row needs (a convolution's
    window, every row for a fully connected layer), and finishes no earlier than its
    own stage time after that start, nor earlier than one output row's time after its
    last producer finishes. Latency = the last layer to finish.
    """
    start: dict[str, float] = {}
    finish: dict[str, float] = {}
    for lay, t in zip(network, times):
        t = float(t)
        rows = max(1, lay.out_shape[1])
        s, f_in = 0.0, 0.0
        for p in lay.producers:
            p_rows = max(1, network.layer(p).out_shape[1])
            need = _first_rows(lay, p_rows)
            s = max(s, start[p] + (finish[p] - start[p]) * need / p_rows)
            f_in = max(f_in, finish[p])
        start[lay.name] = s
        finish[lay.name] = max(s + t, f_in + t / rows)
    return max(finish.values(), default=0.0)


def _first_rows(lay, in_rows: int) -> int:
    """Input rows the first output row of ``lay`` needs."""
    if lay.kind in ("linear", "flatten"):
        return in_rows
    if lay.kind == "conv" or lay.kind in POOL_KINDS:
        k, p, d = lay.kernel[0], lay.padding[0], lay.dilation[0]
        return max(1, min(in_rows, (k - 1) * d + 1 - p))
    return 1
