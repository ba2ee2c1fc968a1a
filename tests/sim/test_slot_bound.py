"""The slot-bound estimate (scripts/slot_bound.py, a diagnostic: slot_pace / rows_ahead):
Little's law on a consumer's row slots, checked on hand-built cases (figures worked out
here)."""

import numpy as np
import pytest

from scripts.slot_bound import rows_ahead, slot_pace


def _residual(rows: int, branch_ns: float, skip_ns: float, slots: int, ahead: int,
              gap_ns: float = 0.0):
    """P (from the input, one row per input row) feeds J directly (the skip) and through
    B (the branch); J is row to row. Latencies: P ``skip_ns``, B ``branch_ns``, J 0;
    transfers 0. The buffer of J's skip operand has ``slots`` slots."""
    r = np.arange(rows)
    z = np.zeros(rows)
    ops = [[(-1, z, r)], [(0, z, r)], [(0, z, r), (1, z, r)]]
    return slot_pace(ops, [skip_ns, branch_ns, 0.0], [gap_ns, 0.0, 0.0],
                     [(0, 2, slots, ahead, r, r)], rows)


def test_a_skip_buffer_bounds_the_pace_by_the_branch_latency():
    # P makes row q at q u + 10 (its row starts at q u); J's row q starts when B's row q
    # is there, q u + 10 + 100. Row q + S + ahead of P starts at (q + 3) u and must not
    # start before row q is released: (q + 3) u >= q u + 110, u >= 110 / 3 ns per row;
    # 8 rows per image: interval 8 x 110 / 3 = 293.33 ns, set by the buffer (index 0)
    interval, k = _residual(8, 100.0, 10.0, slots=2, ahead=1)
    assert interval == pytest.approx(8 * 110 / 3, rel=1e-5)
    assert k == 0
    # four slots and no rows ahead: u >= 110 / 4, interval 220 ns
    assert _residual(8, 100.0, 10.0, slots=4, ahead=0)[0] == pytest.approx(220.0, rel=1e-5)


def test_a_slow_producer_spaces_its_rows_itself():
    # P makes a row at most every 50 ns: at u < 50 its row q is made at 10 + 50 q and
    # starts at 50 q; J's row q starts at 110 + 50 q, and row q + 3 of P starts at
    # 50 q + 150 >= 50 q + 110; at u >= 50, (q + 3) u >= q u + 110 as well: the slots
    # never hold P up, at any pace (no bound)
    assert _residual(8, 100.0, 10.0, slots=2, ahead=1, gap_ns=50.0) is None
    # with a 60 ns branch too short to matter and 20 ns rows, u < 20: P's row q + 3
    # starts at 20 q + 60 against J's 20 q + 70: it waits; u >= 70 / 3 frees it
    interval, _ = _residual(8, 60.0, 10.0, slots=2, ahead=1, gap_ns=20.0)
    assert interval == pytest.approx(8 * 70 / 3, rel=1e-5)


def test_no_bound_at_or_above_the_floor():
    # the floor (the slowest stage) already allows the 293.33 ns the slots ask
    r = np.arange(8)
    z = np.zeros(8)
    ops = [[(-1, z, r)], [(0, z, r)], [(0, z, r), (1, z, r)]]
    assert slot_pace(ops, [10.0, 100.0, 0.0], [0.0] * 3, [(0, 2, 2, 1, r, r)], 8,
                     floor_ns=300.0) is None


def test_rows_of_the_next_image_are_not_bound():
    # a buffer holding a whole image (S = rows): row q + S is the next image's; no
    # condition inside the image, so no bound
    assert _residual(8, 100.0, 10.0, slots=8, ahead=0) is None


class _Layer:
    def __init__(self, rows, width):
        self.out_shape = (4, rows, width)
        self.is_matmul = False


class _Map:
    def __init__(self, mvm, copies=1, tiles=1):
        self.is_mvm = mvm
        self.replication = copies
        self.first_tile, self.last_tile = 0, tiles - 1
        self.imas_per_copy = 1
        self.first_ima = 0

    def copy_tiles(self, k, imas_per_tile):
        return [0]


def test_rows_ahead_by_hand():
    # a non-MVM layer: one worker per host tile (3), at most one per row
    assert rows_ahead(_Layer(10, 5), _Map(False, tiles=3), 4) == 3
    assert rows_ahead(_Layer(2, 5), _Map(False, tiles=3), 4) == 2
    # 4 copies, rows of 8 positions dealt one at a time: copy k holds positions k and
    # k + 4 of every row, one unit per row; its unit after next is 2 rows on
    assert rows_ahead(_Layer(6, 8), _Map(True, copies=4), 4) == 2
    # 8 copies, rows of 4: copy k has a unit in every other row; after next: 4 rows on
    assert rows_ahead(_Layer(8, 4), _Map(True, copies=8), 4) == 4

