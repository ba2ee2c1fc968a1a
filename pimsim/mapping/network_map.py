"""``map_network``: a whole network onto crossbars, IMAs, tiles and chips (plain data).

Steps: tile every MVM layer (``tiling``), find the fewest chips that hold one copy of
each (``placement``), replicate within those chips (``replication``), place the copies,
then attach every non-MVM layer to the tiles hosting its producer and work out the bits
each layer receives over the NoC and over off-chip links. Rules: docs/mapping.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import numpy as np

from pimsim.arch.compose import Arch
from pimsim.arch.read_timing import conversion_ns
from pimsim.config.schema import Design
from pimsim.errors import TraceError
from pimsim.mapping.digital import (CLASSIC, check_role, matmul_as_conv, unit_work,
                                    write_time_ns)
from pimsim.mapping.placement import chips_needed, imas_per_chip, place
from pimsim.mapping.replication import imas_needed, replicate
from pimsim.mapping.tiling import Tiling, tile_layer
from pimsim.workload.layer import NETWORK_INPUT, POOL_KINDS, Layer, Network

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class LayerMap:
    """One layer's mapping. Crossbar arrays describe ONE copy; counts are per image."""

    name: str
    kind: str
    positions: int               # MVMs per image (output positions); 0 for non-MVM layers
    groups: int
    row_tiles: int
    col_tiles: int
    groups_per_crossbar: int
    xb_rows: np.ndarray          # used rows of each crossbar of one copy
    xb_cols: np.ndarray          # columns converted per read of each crossbar (ADC conversions:
                                 # used columns, or differential pairs; docs/mapping.md)
    xb_outs: np.ndarray          # whole weights per row = output values per crossbar
    xb_weights: np.ndarray       # weights stored in each crossbar
    xb_cells: np.ndarray         # used columns (cells per row) of each crossbar
    merges_per_position: int     # row-tile partial sums merged by the tile S+A
    replication: int             # copies (1 for non-MVM layers)
    imas_per_copy: int
    imas: int                    # IMAs of all copies (0 for non-MVM layers)
    first_tile: int
    last_tile: int
    chip: int                    # chip of the first IMA (or of the host)
    last_chip: int
    host: str                    # MVM layer whose tiles run this layer (itself for MVM)
    activation_ops: int          # activation-unit ops per image
    pool_ops: int                # max-pool unit ops per image (comparisons / adds)
    add_ops: int                 # tile shift-and-add ops of residual adds
    noc_bits: int                # bits this layer receives over the on-chip network
    offchip_bits: int            # bits this layer receives from (or spreads to) other chips,
                                 # host_bits included
    host_in_bits: int            # the network input from the host (its first reader)
    host_out_bits: int           # results sent to the host (sink layers)
    # Technique hooks (pimsim.techniques); the defaults leave every count and time as is.
    skip_reads: float = 0.0        # fraction of crossbar.read work skipped (zero OU bit-slices)
    skip_drives: float = 0.0       # fraction of dac.drive work skipped
    skip_conversions: float = 0.0  # fraction of S+H / ADC / IMA shift-add work skipped
    skip_cycles: float = 0.0       # fraction of the stage's read cycles skipped
    extra_counts: tuple[tuple[str, float], ...] = ()  # ("role.action", per image) of plug-ins
    read_energy_scale: float = 1.0  # crossbar read energy per executed read / reference
                                    # (value-dependent energy, pimsim.mapping.activity)
    # The generic unit path (pimsim.mapping.digital): the role whose units of the host
    # tiles run a non-MVM layer, the action booked and the operations per image.
    unit_role: str = ""
    unit_action: str = ""
    unit_ops: int = 0
    shared: bool = False           # reads another layer's crossbars (unrolled RNN step)
    write_ns: float = 0.0          # crossbar-written matmul: programming time per image
    written_cells: int = 0         # crossbar-written matmul: cells written per image
    first_ima: int = -1            # global index of the layer's first IMA (-1: none; a
                                   # layer may start part-way into its first tile)

    @property
    def is_mvm(self) -> bool:
        return self.positions > 0 or self.xb_rows.size > 0

    @property
    def host_bits(self) -> int:
        """Bits exchanged with the host over the off-chip links per image."""
        return self.host_in_bits + self.host_out_bits

    @property
    def crossbars_per_copy(self) -> int:
        return int(self.xb_rows.size)

    @property
    def crossbars(self) -> int:
        """Crossbars this layer holds (0 when it reads another layer's)."""
        return 0 if self.shared else self.crossbars_per_copy * self.replication

    @property
    def host_tiles(self) -> int:
        return self.last_tile - self.first_tile + 1

    def copy_tiles(self, k: int, imas_per_tile: int) -> list[int]:
        """The tiles copy ``k`` runs on (one per ``imas_per_tile`` IMAs it spans): copies
        take consecutive crossbars of the layer's IMAs (``first_ima`` on), and each block of
        up to ``imas_per_tile`` of the copy's IMAs is charged to the tile that holds its
        middle IMA. The engine's processes and the closed form's per-tile sums use this
        one placement, so a tile shared by the end of one layer and the start of the
        next carries each layer's copies that are really on it."""
        c = self.replication
        n_tiles = max(1, -(-self.imas_per_copy // imas_per_tile))
        first = self.first_ima if self.first_ima >= 0 else self.first_tile * imas_per_tile
        g0 = first + (k * self.imas) // c          # the copy's first IMA
        out = []
        for j in range(n_tiles):
            block = min(imas_per_tile, max(1, self.imas_per_copy - j * imas_per_tile))
            mid = g0 + j * imas_per_tile + (block - 1) // 2
            out.append(min(max(mid // imas_per_tile, self.first_tile), self.last_tile))
        return out


@dataclass(frozen=True)
class LayerOverride:
    """A technique's change to one MVM layer's mapped work (``pimsim.techniques``).

    ``tiling`` replaces the layer's im2col tiling before chips, replication and placement
    are decided (pruned or compacted weights free crossbars); the ``skip_*`` fractions in
    [0, 1] remove run-time work (zero input bit-slices); ``extra_counts`` are per-image
    actions of plug-in support roles; ``read_energy_scale`` multiplies the crossbar read
    energy (real drive and conductance, ``pimsim.mapping.activity``). The default changes
    nothing.
    """

    tiling: Tiling | None = None
    skip_reads: float = 0.0
    skip_drives: float = 0.0
    skip_conversions: float = 0.0
    skip_cycles: float = 0.0
    extra_counts: dict[str, float] = field(default_factory=dict)
    read_energy_scale: float = 1.0


@dataclass(frozen=True, eq=False)
class NetworkMap:
    """A network's mapping on one design point."""

    network: str
    design: Design
    layers: tuple[LayerMap, ...]
    chips: int

    def layer(self, name: str) -> LayerMap:
        for lm in self.layers:
            if lm.name == name:
                return lm
        raise KeyError(name)

    @property
    def mvm_layers(self) -> tuple[LayerMap, ...]:
        return tuple(lm for lm in self.layers if lm.is_mvm)

    @property
    def crossbars(self) -> int:
        return sum(lm.crossbars for lm in self.layers)

    @property
    def imas(self) -> int:
        return sum(lm.imas for lm in self.layers if not lm.shared)

    @property
    def tiles(self) -> int:
        """Tiles holding at least one IMA of some layer."""
        used: set[int] = set()
        for lm in self.mvm_layers:
            used.update(range(lm.first_tile, lm.last_tile + 1))
        return len(used)

    @property
    def crossbars_available(self) -> int:
        return self.chips * self.design.crossbars_per_chip


def _unit_ops(layer: Layer) -> tuple[int, int, int]:
    """(activation ops, pool ops, add ops) one non-MVM layer needs per image."""
    if layer.kind == "relu":
        return layer.out_elems, 0, 0
    if layer.kind in POOL_KINDS:
        return 0, layer.out_elems * layer.kernel[0] * layer.kernel[1], 0
    if layer.kind == "add":
        return 0, 0, layer.out_elems * max(0, len(layer.inputs) - 1)
    return 0, 0, 0


Span = tuple[int, int, int, int]    # first tile, last tile, first chip, last chip


def _check_graph(network: Network) -> dict[str, Layer]:
    """Layers by name; TraceError for a duplicate name or an input that is not earlier."""
    by_name: dict[str, Layer] = {}
    for lay in network:
        if lay.name in by_name:
            raise TraceError("duplicate layer name", file=network.name,
                             where=f"layer '{lay.name}'", expected="unique layer names")
        for src in lay.producers:
            if src not in by_name:
                raise TraceError(f"layer input '{src}' is not an earlier layer",
                                 file=network.name, where=f"layer '{lay.name}'.inputs",
                                 found=src)
        by_name[lay.name] = lay
    return by_name


def _bits_out(layer: Layer, design: Design) -> int:
    return layer.out_elems * design.precision.output_bits


def _stage_work(network: Network, mvm, tilings, arch: Arch,
                ov: Mapping[str, LayerOverride]) -> tuple[np.ndarray, np.ndarray]:
    """Per MVM layer: one copy's time per position (fetch + reads, ns) and the work per
    image on its tiles' shared units [eDRAM, bus, tile S+A, activation, max-pool] in
    ns x tiles, including the non-MVM layers it hosts (the timing of docs/engine.md,
    ``pimsim.sim.stages``, before placement)."""
    d = arch.design
    bits_per_ns = 8.0                                   # 1 GB/s = 8 bits/ns
    edram_bw = d.tile.edram_bandwidth_GBps * bits_per_ns
    bus_bw = d.tile.bus_width_bits * d.clock_GHz
    t_read = arch.latency_ns("crossbar", "read")
    tsa = arch.latency_ns("tile_shift_add", "accumulate") / d.tile.shift_adds
    act = arch.latency_ns("activation", "op") / d.tile.activation_units
    pool = arch.latency_ns("maxpool", "op") / d.tile.maxpool_units
    index = {lay.name: k for k, lay in enumerate(mvm)}
    pos_ns = np.zeros(len(mvm))
    work = np.zeros((len(mvm), 5))
    host: dict[str, int | None] = {}
    for lay in network:
        if lay.shares:              # an RNN step on its owner's crossbars: owner's tiles
            k = host[lay.name] = index[lay.shares]
            fetch = lay.weight_rows * lay.groups * d.precision.input_bits
            store = lay.out_shape[0] * d.precision.output_bits
            work[k, 0] += 2 * lay.out_positions * (fetch + store) / edram_bw / d.tile.edram_ports
            work[k, 1] += lay.out_positions * (fetch + store) / bus_bw
        elif lay.name in index:     # own crossbars (a written matmul: as its grouped conv)
            k = index[lay.name]
            host[lay.name] = k
            t = tilings[k]
            lay = mvm[k]
            # one read converts one operation unit's used columns (pimsim.arch.read_timing);
            # a bit-slice takes the slowest crossbar's OU reads (1 for whole-array reads)
            conv = conversion_ns(int(t.convs.max()), arch) if t.cols.size else 0.0
            steps = int(((-(-t.rows // d.crossbar.ou_rows)) * (-(-t.cols // d.crossbar.ou_cols)))
                        .max()) if t.cols.size else 0
            keep = 1.0 - (ov[lay.name].skip_cycles if lay.name in ov else 0.0)
            fetch = lay.weight_rows * lay.groups * d.precision.input_bits
            store = lay.out_shape[0] * d.precision.output_bits
            pos_ns[k] = (d.input_cycles * steps * keep * max(t_read, conv)
                         + max(2 * fetch / edram_bw, fetch / bus_bw))
            p = lay.out_positions
            work[k, 0] += 2 * p * (fetch + store) / edram_bw / d.tile.edram_ports
            work[k, 1] += p * (fetch + store) / bus_bw
            work[k, 2] += p * t.merges_per_position * tsa
        else:
            src = lay.producers[0] if lay.producers else None
            k = host.get(src) if src is not None else None
            host[lay.name] = k
            if k is not None:
                a, pl, ad = _unit_ops(lay)
                work[k, 2] += ad * tsa
                work[k, 3] += a * act
                work[k, 4] += pl * pool
    return pos_ns, work


def map_network(network: Network, arch: Arch,
                overrides: Mapping[str, LayerOverride] | None = None) -> NetworkMap:
    """Map ``network`` onto ``arch``'s design point (rules in docs/mapping.md).

    ``overrides`` (layer name -> :class:`LayerOverride`) carries a technique's changes;
    without it the mapping is the plain one.
    """
    d = arch.design
    by_name = _check_graph(network)
    written = d.mapping.attention == "crossbar_write"
    # layers that hold crossbars: MVM layers with their own weights, and matmuls whose
    # operand is written into crossbars per inference
    mvm = [matmul_as_conv(lay) if lay.is_matmul else lay for lay in network
           if (lay.is_mvm and not lay.shares) or (written and lay.is_matmul)]
    ov = dict(overrides or {})
    tilings: list[Tiling] = [ov[lay.name].tiling if lay.name in ov and ov[lay.name].tiling
                             is not None else tile_layer(lay, d) for lay in mvm]
    positions = np.array([lay.out_positions for lay in mvm], dtype=np.int64)
    xb = np.array([t.crossbars for t in tilings], dtype=np.int64)
    one_copy = imas_needed(np.ones_like(xb), xb, d.ima.crossbars)
    chips = chips_needed(network.name, int(one_copy.sum()), d)
    pos_ns, tile_ns = _stage_work(network, mvm, tilings, arch, ov)
    copies = replicate(positions, xb, ima_crossbars=d.ima.crossbars,
                       budget_imas=chips * imas_per_chip(d),
                       max_replication=d.mapping.max_replication, enabled=d.mapping.replicate,
                       position_ns=pos_ns, tile_ns=tile_ns, imas_per_tile=d.tile.imas)
    # a written operand is written once per inference into one copy (more copies would
    # multiply the writes); replication re-runs on the rest is not attempted
    copies = np.where([lay.kind == "conv" and by_name[lay.name].is_matmul for lay in mvm],
                      1, copies)
    imas = imas_needed(copies, xb, d.ima.crossbars)
    pl = place(imas, d, chips)

    where: dict[str, Span] = {}         # layer -> tiles and chips of the units that run it
    hosts: dict[str, str] = {}
    out: list[LayerMap] = []
    owners: dict[str, LayerMap] = {}
    pulse_ns = arch.latency_ns("write_driver", "write") if written else 0.0
    k = 0
    for lay in network:
        if lay.shares:
            # an unrolled RNN step: the owner's crossbars, tiles and copies, none of its own
            o = owners[lay.shares]
            span = (o.first_tile, o.last_tile, o.chip, o.last_chip)
            off = sum(_bits_out(by_name[s], d) for s in lay.producers if where[s][3] != span[2])
            lm = replace(o, name=lay.name, positions=int(lay.out_positions), shared=True,
                         replication=1, imas=0, noc_bits=int(lay.in_elems * d.precision.input_bits),
                         offchip_bits=int(off), extra_counts=())
        elif lay.is_mvm or (written and lay.is_matmul):
            t = tilings[k]
            span = (int(pl.first_tile[k]), int(pl.last_tile[k]), int(pl.first_chip[k]),
                    int(pl.last_chip[k]))
            in_bits = lay.in_elems * d.precision.input_bits
            # the input arrives over the NoC; from another chip it also crosses a link
            off = sum(_bits_out(by_name[s], d) for s in lay.producers if where[s][3] != span[2])
            # a layer spread over several chips: its input goes to every extra chip and
            # its (partial) outputs come back (upper bound: a full output vector per chip)
            off += (span[3] - span[2]) * (in_bits + _bits_out(lay, d))
            lm = LayerMap(name=lay.name, kind=lay.kind, positions=int(positions[k]),
                          groups=lay.groups, row_tiles=t.row_tiles, col_tiles=t.col_tiles,
                          groups_per_crossbar=t.groups_per_crossbar, xb_rows=t.rows,
                          xb_cols=t.convs, xb_outs=t.outs, xb_weights=t.weights,
                          xb_cells=t.cols,
                          merges_per_position=t.merges_per_position,
                          replication=int(copies[k]), imas_per_copy=int(one_copy[k]),
                          imas=int(imas[k]), first_tile=span[0], last_tile=span[1],
                          chip=span[2], last_chip=span[3], host=lay.name, activation_ops=0,
                          pool_ops=0, add_ops=0, noc_bits=int(in_bits), offchip_bits=int(off),
                          host_in_bits=0, host_out_bits=0, first_ima=int(pl.ima_start[k]))
            if lay.is_matmul:
                b, m, kk, n = lay.matmul_dims
                # the second operand arrives over the NoC too; its cells are written
                in_bits += b * kk * n * d.precision.input_bits
                # the operand's own cells (a block-diagonal crossbar's zero blocks stay)
                cells = int(t.weights.sum()) * d.slices_per_weight
                lm = replace(lm, noc_bits=int(in_bits), written_cells=cells,
                             write_ns=write_time_ns(t.rows, d, pulse_ns),
                             extra_counts=(("write_driver.write", float(cells)),))
            owners[lay.name] = lm
            if lay.name in ov:
                o = ov[lay.name]
                lm = replace(lm, skip_reads=float(o.skip_reads), skip_drives=float(o.skip_drives),
                             skip_conversions=float(o.skip_conversions),
                             skip_cycles=float(o.skip_cycles),
                             extra_counts=tuple(sorted(o.extra_counts.items())),
                             read_energy_scale=float(o.read_energy_scale))
            k += 1
        else:
            src = lay.producers[0] if lay.producers else None
            span = where[src] if src is not None else (0, 0, 0, 0)
            act, pool, add = _unit_ops(lay)
            role, action, ops = unit_work(lay)
            check_role(role, lay, arch.parts, d)
            digital = () if lay.kind in CLASSIC or not role or role == "maxpool" else (
                (f"{role}.{action}", float(ops)),)
            # the first input is local (same tiles); further (residual) inputs travel
            extra = lay.producers[1:]
            noc = sum(_bits_out(by_name[s], d) for s in extra)
            off = sum(_bits_out(by_name[s], d) for s in extra if where[s][3] != span[3])
            lm = LayerMap(name=lay.name, kind=lay.kind, positions=0, groups=lay.groups,
                          row_tiles=0, col_tiles=0, groups_per_crossbar=0, xb_rows=_EMPTY,
                          xb_cols=_EMPTY, xb_outs=_EMPTY, xb_weights=_EMPTY, xb_cells=_EMPTY,
                          merges_per_position=0, replication=1, imas_per_copy=0, imas=0,
                          first_tile=span[0], last_tile=span[1], chip=span[3],
                          last_chip=span[3], host=hosts[src] if src is not None else "",
                          activation_ops=act, pool_ops=pool, add_ops=add, noc_bits=int(noc),
                          offchip_bits=int(off), host_in_bits=0, host_out_bits=0,
                          unit_role=role, unit_action=action,
                          unit_ops=int(ops), extra_counts=digital)
        where[lay.name] = span
        hosts[lay.name] = lm.host
        out.append(lm)
    return NetworkMap(network=network.name, design=d, layers=tuple(_with_host_io(network, out, d)),
                      chips=chips)


def _with_host_io(network: Network, layers: list[LayerMap], d: Design) -> list[LayerMap]:
    """The host's traffic over the off-chip links, per image: the network input into the
    first layer that reads it, every sink layer's results out to the host. A design
    without off-chip links has no modelled host interface: nothing is added."""
    if d.chip.offchip_links == 0:
        return layers
    consumed = {s for lay in network for s in lay.producers}
    in_bits = int(np.prod(network.input_shape)) * d.precision.input_bits
    out, first = [], True
    for lay, lm in zip(network, layers):
        h_in = h_out = 0
        if first and (NETWORK_INPUT in lay.inputs or not lay.producers):
            h_in, first = in_bits, False
        if lay.name not in consumed:
            h_out = _bits_out(lay, d)
        out.append(replace(lm, host_in_bits=h_in, host_out_bits=h_out,
                           offchip_bits=lm.offchip_bits + h_in + h_out)
                   if h_in or h_out else lm)
    return out
