"""The on-chip network traffic of a mapped network: who sends which rows to which tile.

One set of rules for the engine and the closed form (docs/engine.md, "On-chip network"):

* **senders** -- an MVM layer's output row parts come from the tiles of the copies that
  computed them (:func:`copy_layout`: positions dealt to the copies one at a time,
  round-robin, copy ``k`` sending from the first of ``LayerMap.copy_tiles``); a non-MVM layer's rows
  from the tile of the worker that ran them (:func:`worker_tiles`, row ``r`` on worker
  ``r % h``); the network input from the I/O router of the receiver's chip;
* **receivers** -- a consumer operand is spread over the consumer's receiving tiles row by
  row: input row ``r`` goes to tile ``first + r % n`` (:func:`receiver_tiles`; ``n`` = the
  layer's host tiles for an MVM layer, its workers otherwise); each part is sent once, to
  that tile (unicast: a row read by copies on other tiles is fetched there over the tile's
  bus, not sent again);
* **paths and hops** -- ``noc.routing: xy``: the XY path of :class:`pimsim.arch.mesh.Mesh`
  between the two routers, hops = routers passed; ``noc.routing: average``: no links, every
  transfer ``noc.avg_hops`` hops (the older global constant).

:func:`traffic` sums the rules over one image: bits x hops per receiving layer (the
``router.transfer`` count), bits per directed link (the ``noc_link`` stage of
:mod:`pimsim.sim.stages`: bits / ``noc.mesh_link_GBps``) and the mean hops of each
producer -> consumer edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.arch.compose import Arch
from pimsim.config.schema import AUTO
from pimsim.arch.mesh import Mesh
from pimsim.kernels.unit_counts import positions_per_row
from pimsim.mapping import NetworkMap
from pimsim.units import BITS_PER_BYTE
from pimsim.workload.layer import NETWORK_INPUT, Network

#: Positions dealt to a copy at a time (round-robin in raster order), in the engine and
#: the closed form: one MVM, the unit of work a copy's crossbars do. Dealing larger chunks
#: changes timing where buffers block (docs/engine.md, "Work split": VGG-16 on 64x64
#: crossbars, 5.74 to 9.00 ms per image).
CHUNK_POSITIONS = 1
FROM_IO = -1               # sender "tile" of the network input: the I/O router of the receiver's chip


def mesh_link_bits_per_ns(design) -> float:
    """Bandwidth of one directed mesh link in bits/ns (``noc.mesh_link_GBps``; 'auto':
    ``tile.tiles_per_router`` x ``noc.link_GBps``)."""
    gbps = design.noc.mesh_link_GBps
    if gbps == AUTO:
        gbps = design.tile.tiles_per_router * design.noc.link_GBps
    return float(gbps) * BITS_PER_BYTE


def copy_layout(lm, rows: int, width: int, imas_per_tile: int,
                chunk: int = CHUNK_POSITIONS) -> tuple[np.ndarray, list[list[int]]]:
    """([copies, rows] positions of each copy in each output row, tiles of each copy) of
    an MVM layer with ``rows`` x ``width`` output positions per image: chunks of
    ``chunk`` positions dealt round-robin; copy ``k`` on ``LayerMap.copy_tiles`` (it
    sends from the first)."""
    c = lm.replication
    ppr = positions_per_row(rows, width, c, max(1, min(width, chunk)))
    return ppr, [lm.copy_tiles(k, imas_per_tile) for k in range(c)]


def worker_tiles(lm, rows: int) -> list[int]:
    """Tile of each worker of a non-MVM layer (one per host tile, at most one per row);
    worker ``w`` runs rows ``w, w + h, ...``."""
    h = max(1, min(lm.last_tile - lm.first_tile + 1, rows))
    return [lm.first_tile + w for w in range(h)]


def receiver_tiles(lm, in_rows: int, out_rows: int) -> np.ndarray:
    """int64 [in_rows]: the tile each input row of a consumer operand is sent to."""
    n = lm.last_tile - lm.first_tile + 1
    if not lm.is_mvm:
        n = max(1, min(n, out_rows))
    return lm.first_tile + np.arange(in_rows, dtype=np.int64) % n


def layer_width(lay, lm) -> int:
    """Output positions per row as the engine deals them (1 for a written matmul)."""
    return 1 if (lm.is_mvm and lay.is_matmul) else lay.out_shape[2]


class Router:
    """Paths and hop counts between tiles under the design's ``noc.routing``."""

    def __init__(self, arch: Arch):
        d = arch.design
        self.mesh = Mesh.of(d)
        self.xy = d.noc.routing == "xy"
        self.avg_hops = float(d.noc.avg_hops)

    def route(self, src: int, dst: int) -> tuple[tuple[int, ...], float]:
        """(directed links, hops) from tile ``src`` (``FROM_IO``: the I/O router of
        ``dst``'s chip) to tile ``dst``."""
        if not self.xy:
            return (), self.avg_hops
        m = self.mesh
        if src == FROM_IO:
            links = m.entry_path(dst)
            return links, float(len(links) + 1)
        return m.path(src, dst), float(m.hops(src, dst))

    def router_index(self, tile: int) -> int:
        """Global index of a tile's router (chip x routers + router)."""
        return self.mesh.chip_of(tile) * self.mesh.routers + self.mesh.router_of(tile)


@dataclass(frozen=True)
class Traffic:
    """One image's NoC traffic under the engine's sending rules."""

    bit_hops: np.ndarray                  # [layers] bits received x hops (router.transfer)
    bits: np.ndarray                      # [layers] bits received over the NoC
    link_bits: dict[int, dict[int, float]]   # link id -> sending layer -> bits per image
    edge_hops: dict[tuple[str, str], float]  # (producer or NETWORK_INPUT, consumer) -> mean hops

    @property
    def mean_hops(self) -> float:
        """Hops of the average bit (bits-weighted over every transfer)."""
        b = float(self.bits.sum())
        return float(self.bit_hops.sum()) / b if b else 0.0


def _sends(network: Network, nmap: NetworkMap, arch: Arch):
    """Every NoC transfer of one image, grouped per edge: (sending layer, consumer layer,
    producer name, sender tiles, receiver tiles, bits) as arrays."""
    d = arch.design
    layers = list(network)
    by_name = {lay.name: i for i, lay in enumerate(layers)}
    for j, (lay, lm) in enumerate(zip(layers, nmap.layers)):
        rows_out = lay.out_shape[1]
        bits = d.precision.input_bits if lm.is_mvm else d.precision.output_bits
        for order, src in enumerate(lay.inputs or [NETWORK_INPUT]):
            if not (lm.is_mvm or order > 0):
                continue                    # a non-MVM layer's first operand is local
            if src == NETWORK_INPUT:
                ch, h, w = network.input_shape
                recv = receiver_tiles(lm, h, rows_out)
                yield (j, j, src, np.full(h, FROM_IO, dtype=np.int64), recv,
                       np.full(h, float(w * ch * bits)))
                continue
            i = by_name[src]
            P, pm = layers[i], nmap.layers[i]
            rows, ch = P.out_shape[1], P.out_shape[0]
            recv = receiver_tiles(lm, rows, rows_out)
            if pm.is_mvm:
                ppr, tl = copy_layout(pm, rows, layer_width(P, pm), d.tile.imas)
                tiles = [t[0] for t in tl]
                k, r = np.nonzero(ppr)
                yield (i, j, src, np.asarray(tiles, dtype=np.int64)[k], recv[r],
                       ppr[k, r].astype(np.float64) * ch * bits)
            else:
                wt = worker_tiles(pm, rows)
                r = np.arange(rows)
                yield (i, j, src, np.asarray(wt, dtype=np.int64)[r % len(wt)], recv,
                       np.full(rows, float(P.out_shape[2] * ch * bits)))


def traffic(network: Network, nmap: NetworkMap, arch: Arch) -> Traffic:
    """Sum the sending rules over one image (bits, bits x hops, bits per link)."""
    router = Router(arch)
    names = [lay.name for lay in network]
    n = len(nmap.layers)
    bit_hops, bits = np.zeros(n), np.zeros(n)
    link_bits: dict[int, dict[int, float]] = {}
    edge_hops: dict[tuple[str, str], float] = {}
    routes: dict[tuple[int, int], tuple[tuple[int, ...], float]] = {}
    for who, j, src, snd, rcv, b in _sends(network, nmap, arch):
        pairs, inv = np.unique(np.stack([snd, rcv]), axis=1, return_inverse=True)
        pair_bits = np.bincount(inv.ravel(), weights=b, minlength=pairs.shape[1])
        eb = eh = 0.0
        for (s, t), pb in zip(pairs.T.tolist(), pair_bits.tolist()):
            key = (s, t)
            rt = routes.get(key)
            if rt is None:
                rt = routes[key] = router.route(s, t)
            links, hops = rt
            eb += pb
            eh += pb * hops
            for ln in links:
                per = link_bits.setdefault(ln, {})
                per[who] = per.get(who, 0.0) + pb
        bits[j] += eb
        bit_hops[j] += eh
        consumer = names[j]
        edge_hops[(src, consumer)] = eh / eb if eb else 0.0
    return Traffic(bit_hops=bit_hops, bits=bits, link_bits=link_bits, edge_hops=edge_hops)
