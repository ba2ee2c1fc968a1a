"""The data paths between layers: each consumer operand's input buffer in eDRAM.

* :func:`windows` -- the input rows each output row of a layer needs;
* :class:`Edge` -- producer -> consumer: rows arrived per image, readers left per row,
  processes waiting for rows, and the buffer's row *slots* (capacity): a producer takes a
  slot per row (blocking when none is free, stall cause ``buffer_full``), the last reader
  of a row frees it. Slots are granted in image-major row order, so a producer running
  ahead into the next image cannot take the slots of rows the consumer needs first.
  A row's slot is on chip (the consumer's eDRAM or another tile's) or in off-chip memory
  as :func:`pimsim.sim.edram.plan_buffers` placed it; each pool is counted on its own, so
  the rows on chip never exceed the on-chip capacity (``peak_onchip`` records it).
"""

from __future__ import annotations

from heapq import heappush

import numpy as np
import simpy
from simpy.events import NORMAL

from pimsim.sim.events import Signal
from pimsim.workload.layer import POOL_KINDS, Layer


def windows(lay: Layer, out_rows: int, in_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) input rows each output row of ``lay`` needs from an input of ``in_rows`` rows."""
    r = np.arange(out_rows, dtype=np.int64)
    if lay.kind == "conv" or lay.kind in POOL_KINDS:
        k, s, p, d = lay.kernel[0], lay.stride[0], lay.padding[0], lay.dilation[0]
        lo = r * s - p
        hi = lo + (k - 1) * d
    elif lay.kind == "concat" and in_rows == out_rows:
        # joined along the channels (or the width): output row r is row r of every input
        # (DenseNet's dense-block concatenations); joined along the rows, below
        lo, hi = r.copy(), r.copy()
    elif lay.kind in ("linear", "flatten", "reshape", "concat", "slice", "matmul"):
        # whole input (a layout change, a join, a matmul's second operand: any row)
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
                 offchip_rows: np.ndarray, readers: np.ndarray, plan):
        self.env = env
        self.producer, self.consumer, self.order = producer, consumer, order
        self.rows = int(parts.size)
        self.parts = parts.tolist()
        self.bits_per_position = bits_per_position
        self.over_noc = over_noc
        self.offchip_rows = offchip_rows.tolist()
        self.readers = readers.tolist()
        self.plan = plan                      # pimsim.sim.edram.OperandBuffer
        self.slots = plan.slots
        self.onchip, self.local = plan.onchip, plan.local
        self.used_onchip = 0                  # on-chip slots taken now
        self.peak_onchip = 0                  # most on-chip slots taken at once
        self.spilled_bits = 0                 # bits written off-chip and read back (run)
        self.occupied = bytearray(plan.slots)   # ring slot -> holds a row
        # when each ring slot was last freed and when the turn passed to ``seq_next``
        # (ns): a producer takes a slot at the latest of the two, so one stepping an
        # image after an older image's rows were freed (engine.arbitration
        # oldest_first) waits for the time they were freed; under fifo both are past
        self.free_at = [0.0] * plan.slots
        self.turn_at = 0.0
        self.slot_waiter: Signal | None = None
        self.waiter_slot = -1
        self._img: dict[int, _ImageRows] = {}
        self.seq_next = 0                     # image-major row index whose turn it is
        self.turns: dict[int, Signal] = {}

    def where(self, img: int, row: int) -> int:
        """0: the consumer's eDRAM, 1: another tile's eDRAM, 2: off-chip memory."""
        i = (img * self.rows + row) % self.slots
        return 0 if i < self.local else 1 if i < self.onchip else 2

    def slot(self, img: int, row: int) -> int:
        """Row ``row`` of image ``img``'s place in the ring."""
        return (img * self.rows + row) % self.slots

    def free_from(self, img: int, row: int) -> float:
        """When row ``row`` of image ``img`` may take its (free) ring slot: once the slot
        was freed and the turn reached it (ns)."""
        t = self.free_at[(img * self.rows + row) % self.slots]
        return t if t > self.turn_at else self.turn_at

    def take(self, img: int, row: int) -> None:
        """Take the row's ring slot (free); slots ``0 .. onchip - 1`` are on chip."""
        i = (img * self.rows + row) % self.slots
        self.occupied[i] = 1
        if i < self.onchip:
            self.used_onchip += 1
            if self.used_onchip > self.peak_onchip:
                self.peak_onchip = self.used_onchip

    def put_slot(self, img: int, row: int) -> None:
        """Row ``row`` of image ``img`` left the buffer: hand its slot to the producer
        waiting for it, or free it."""
        i = (img * self.rows + row) % self.slots
        if self.slot_waiter is not None and self.waiter_slot == i:
            ev, self.slot_waiter = self.slot_waiter, None
            ev.succeed()
        else:
            self.occupied[i] = 0
            self.free_at[i] = self.env._now
            if i < self.onchip:
                self.used_onchip -= 1

    def next_turn(self) -> None:
        """The row in turn got its slot: pass the turn on (waking its owner if waiting)."""
        self.seq_next += 1
        self.turn_at = self.env._now
        ev = self.turns.pop(self.seq_next, None)
        if ev is not None:
            ev.succeed()

    def state(self, img: int) -> _ImageRows:
        st = self._img.get(img)
        if st is None:
            st = self._img[img] = _ImageRows(self.readers, self.rows)
        return st

    def wait(self, img: int, hi: int, prio: int = NORMAL) -> Signal | None:
        """An event for 'rows 0..hi complete', or None when they already are (``prio``:
        the waiter's :func:`pimsim.sim.arbiter.rank`)."""
        st = self._img.get(img) or self.state(img)
        if st.prefix > hi:
            return None
        ev = Signal(self.env, prio)
        st.waiters.setdefault(hi, []).append(ev)
        return ev

    def arrive_at(self, t: float, img: int, row: int, prio: int) -> None:
        """Queue the arrival of a part of row ``row`` of image ``img`` for ``t`` ns, at
        priority ``prio`` (the sender's :func:`pimsim.sim.arbiter.rank`): an event queue
        entry calling :meth:`arrived` (pimsim.sim.events)."""
        env = self.env
        if t < env._now:
            raise ValueError(f"Negative delay {t - env._now}")
        heappush(env._queue, (env._now + (t - env._now), prio, next(env._eid), self.arrived,
                              (img, row)))

    def arrived(self, part: tuple[int, int]) -> None:
        """A part of row ``part[1]`` of image ``part[0]`` is in the buffer (an event
        queue entry's call, pimsim.sim.events)."""
        img, row = part
        st = self._img.get(img) or self.state(img)
        st.got[row] += 1
        if st.got[row] != self.parts[row]:
            return
        if st.readers[row] == 0:              # a row no output needs (stride > kernel)
            self.put_slot(img, row)
        old = st.prefix
        while st.prefix < self.rows and st.got[st.prefix] == self.parts[st.prefix]:
            st.prefix += 1
        for hi in range(old, st.prefix):
            for ev in st.waiters.pop(hi, ()):
                ev.succeed()

    def release(self, img: int, lo: int, hi: int) -> None:
        """One reader fetched rows lo..hi into its input register: free finished rows."""
        st = self._img.get(img) or self.state(img)
        for i in range(lo, hi + 1):
            st.readers[i] -= 1
            if st.readers[i] == 0:
                self.put_slot(img, i)

