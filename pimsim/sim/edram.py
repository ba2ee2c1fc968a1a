"""Where each consumer operand's input rows live: eDRAM capacity as a hard limit.

Every consumer operand (one input of a layer) has a ring buffer of ``slots`` row slots.
It needs ``need`` of them to make progress: its receptive window plus one stride; for an
operand of a join (a residual add, a concat), the rows it holds while the other operands
catch up -- from when each row of every layer can first be made, counted in rows of the
network input, the most rows of the operand that have arrived but are not yet read when
a consumer row fires, plus one (docs/engine.md). The slots are placed, in order:

1. **local** -- in the eDRAM of the consumer's host tiles, spread evenly over them; each
   tile's ``tile.edram_bytes`` serves the smallest needs on it first when it cannot hold
   them all, and is otherwise shared in proportion to need (spare capacity becomes extra
   slots: slack for the producer);
2. **remote** -- what does not fit locally, in the spare eDRAM of other tiles of the same
   chip (nearest tile first); such a row crosses the on-chip network once more (producer
   -> remote tile -> consumer);
3. **spill** -- what still does not fit, in off-chip memory through the chip's off-chip
   links: each spilled row is written out and read back (twice its bits on a link).

A row's slot is its image-major index ``q = image x rows + row`` modulo ``slots`` (a ring
buffer): indices ``< local`` are local, ``< local + remote`` remote, the rest spilled. Any
``slots`` consecutive rows then use exactly ``local`` local, ``remote`` remote and
``spill`` off-chip slots, so the on-chip rows in use never exceed the on-chip capacity
and the pools never block progress that ``slots`` slots would allow.

:func:`plan_buffers` is a pure function of the network, its mapping and the design; the
engine (:mod:`pimsim.sim.engine`) and the closed form (:mod:`pimsim.sim.analytic`) both
use it, so they spill the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pimsim.config.schema import Design
from pimsim.mapping import NetworkMap
from pimsim.sim.buffers import windows
from pimsim.units import BITS_PER_BYTE
from pimsim.workload.layer import NETWORK_INPUT, Network

CAP_EPS_BITS = 1e-6    # float noise of the proportional share is not a missing row


@dataclass(frozen=True)
class OperandBuffer:
    """One consumer operand's input buffer (rows of the producer's output tensor)."""

    producer: int            # producer layer index; -1: the network input
    consumer: int            # consumer layer index
    order: int               # which input of the consumer
    rows: int                # rows of the producer's output (per image)
    row_bits: int            # bits of one row as the buffer stores it
    send_bits: int           # bits of one row as the engine sends it (width x channels x bits)
    need: int                # slots the consumer needs to make progress
    slots: int               # ring slots (>= need)
    local: int               # slots in the consumer's host tiles' eDRAM
    remote: int              # slots in other tiles' spare eDRAM on the same chip
    lo: np.ndarray           # first input row each consumer output row needs
    hi: np.ndarray           # last input row each consumer output row needs

    @property
    def spill(self) -> int:
        """Slots in off-chip memory."""
        return self.slots - self.local - self.remote

    @property
    def onchip(self) -> int:
        return self.local + self.remote

    def pool(self, image: int, row: int) -> int:
        """0: local eDRAM, 1: another tile's eDRAM, 2: off-chip memory (row of image)."""
        i = (image * self.rows + row) % self.slots
        return 0 if i < self.local else 1 if i < self.local + self.remote else 2

    def widened(self, factor: int) -> "OperandBuffer":
        """This ring with ``factor`` x its slots, the extra ones in the consumer's own eDRAM
        (local: they come first in the ring), for what-if questions
        (:func:`pimsim.sim.pace.relieve`)."""
        extra = self.slots * (factor - 1)
        return replace(self, slots=self.slots + extra, local=self.local + extra)

    def per_image(self, pool: int) -> float:
        """Rows per image in ``pool``, the long-run average (the ring turns by ``rows``
        slots per image)."""
        n = (self.local, self.remote, self.spill)[pool]
        return self.rows * n / self.slots if self.slots else 0.0


def engine_width(lay, lm) -> int:
    """Positions per output row as the engine deals them (1 for a crossbar-written
    matmul: one MVM per row of its first operand)."""
    return 1 if (lm.is_mvm and lay.is_matmul) else lay.out_shape[2]


def plan_buffers(network: Network, nmap: NetworkMap, design: Design) -> list[OperandBuffer]:
    """Every consumer operand's buffer, in layer order then input order (module doc)."""
    d = design
    lays = list(network)
    by_name = {lay.name: i for i, lay in enumerate(lays)}
    edram_bits = d.tile.edram_bytes * BITS_PER_BYTE
    tiles_per_chip = d.chip.tiles
    geo = []
    ready = {}         # layer -> when each output row can be made, in network-input rows
    for ci, (lay, lm) in enumerate(zip(lays, nmap.layers)):
        srcs = [None if s == NETWORK_INPUT else s for s in lay.inputs] or [None]
        t = np.zeros(lay.out_shape[1])
        for src in srcs:
            t_in = (np.arange(1, network.input_shape[1] + 1, dtype=np.float64) if src is None
                    else ready[src])
            _, hi_ = windows(lay, lay.out_shape[1], t_in.size)
            t = np.maximum(t, t_in[hi_])
        ready[lay.name] = t
        out_rows = lay.out_shape[1]
        bits = d.precision.input_bits if lm.is_mvm else d.precision.output_bits
        for order, src in enumerate(srcs):
            if src is None:
                ch, rows, width = network.input_shape
                pi = -1
                row_bits = ch * width * bits
            else:
                pi = by_name[src]
                P, pm = lays[pi], nmap.layers[pi]
                ch, rows, width = P.out_shape[0], P.out_shape[1], engine_width(P, pm)
                row_bits = ch * width * bits
                if P.is_matmul and pm.is_mvm:
                    row_bits = (P.out_elems // rows) * bits   # a written matmul's row: B x N
            lo, hi = windows(lay, out_rows, rows)
            step = int(np.diff(lo).max()) if lo.size > 1 else 1
            need = int((hi - lo).max()) + 1 + max(1, step)
            if len(lay.inputs) > 1:
                # a join: this operand's rows wait for the other operands' rows. When the
                # consumer's row r can fire (all its inputs there, ``ready``), the rows of
                # this operand made by then, less those already read (below lo[r]), are
                # held; one more slot keeps its producer from working in lockstep
                t_in = (np.arange(1, rows + 1, dtype=np.float64) if src is None
                        else ready[src])
                held = np.searchsorted(t_in, ready[lay.name], side="right") - lo
                need = max(need, int(held.max()) + 1)
            need = max(1, min(need, rows))
            geo.append((pi, ci, order, rows, row_bits, ch * width * bits, need, lo, hi))

    hosts = [range(lm.first_tile, lm.last_tile + 1) for lm in nmap.layers]

    def host(ci: int) -> range:
        return hosts[ci]

    # demand (bits at need) per tile; an operand spreads evenly over its host tiles
    load: dict[int, float] = {}
    on_tile: dict[int, list[int]] = {}
    for k, g in enumerate(geo):
        h = host(g[1])
        for t in h:
            load[t] = load.get(t, 0.0) + g[6] * g[4] / len(h)
            on_tile.setdefault(t, []).append(k)
    # an over-loaded tile serves the smallest needs first (a streaming window of a few
    # rows before a join's whole tensor), the operand where it runs out gets the rest
    first_served: dict[tuple[int, int], float] = {}
    for t in load:
        if load[t] <= edram_bits:
            continue
        on_t = sorted((geo[k][6] * geo[k][4] / len(host(geo[k][1])), k) for k in on_tile[t])
        left = edram_bits
        for dem, k in on_t:
            first_served[(k, t)] = min(dem, left)
            left -= first_served[(k, t)]

    def local_rows(k: int, lent: dict[int, float]) -> int:
        """Whole rows of operand ``k`` its host tiles' eDRAM holds, spread evenly over them
        (so the tile with the smallest share sets it): on an over-loaded tile its need
        served smallest first, else in proportion to need (spare capacity, less what the
        tile lends, as slack)."""
        g = geo[k]
        h = host(g[1])
        mine = g[6] * g[4] / len(h)
        per_tile = min(first_served[(k, t)] if load[t] > edram_bits
                       else (edram_bits - lent.get(t, 0.0)) * mine / load[t] for t in h)
        return int((per_tile * len(h) + CAP_EPS_BITS) // max(1, g[4]))

    # 1. local
    local0 = [local_rows(k, {}) for k in range(len(geo))]
    short = [max(0, g[6] - n) for g, n in zip(geo, local0)]
    # 2. remote: the spare eDRAM of the chip's tiles that host no short operand and none
    # that leans on an over-loaded tile (lending there could take rows it needs); unused
    # tiles whole; nearest tile first, whole rows
    busy = {t for g, s in zip(geo, short)
            if s or any(load[u] > edram_bits for u in host(g[1])) for t in host(g[1])}
    used_chips = {t // tiles_per_chip for t in load}
    spare = {t: edram_bits - load.get(t, 0.0)
             for c in used_chips for t in range(c * tiles_per_chip, (c + 1) * tiles_per_chip)
             if load.get(t, 0.0) < edram_bits and t not in busy}
    lent: dict[int, float] = {}
    remote = [0] * len(geo)
    for k, g in enumerate(geo):
        if not short[k]:
            continue
        h = host(g[1])
        chip, centre = h[0] // tiles_per_chip, (h[0] + h[-1]) / 2
        for t in sorted((t for t in spare if t // tiles_per_chip == chip),
                        key=lambda t: (abs(t - centre), t)):
            n = min(short[k] - remote[k], int((spare[t] - lent.get(t, 0.0)) // g[4]))
            if n > 0:
                lent[t] = lent.get(t, 0.0) + n * g[4]
                remote[k] += n
            if remote[k] == short[k]:
                break
    out = []
    for k, (pi, ci, order, rows, row_bits, send_bits, need, lo, hi) in enumerate(geo):
        if short[k]:        # 3. off-chip: what neither the host nor other tiles hold
            out.append(OperandBuffer(pi, ci, order, rows, row_bits, send_bits, need, need,
                                     local0[k], remote[k], lo, hi))
        else:               # fits: the share (with spare capacity as slack) is the ring
            n = local_rows(k, lent)
            out.append(OperandBuffer(pi, ci, order, rows, row_bits, send_bits, need, n, n, 0,
                                     lo, hi))
    return out


def spill_bits_per_image(plan: list[OperandBuffer], layers: int) -> tuple[np.ndarray, np.ndarray]:
    """(off-chip link bits, extra on-chip network bits) per consumer layer and image: a
    spilled row is written out and read back (2 x its bits), a row in another tile's eDRAM
    crosses the on-chip network once more (long-run average per image)."""
    spill = np.zeros(layers)
    remote = np.zeros(layers)
    for b in plan:
        spill[b.consumer] += 2 * b.per_image(2) * b.send_bits
        remote[b.consumer] += b.per_image(1) * b.send_bits
    return spill, remote
