"""The diagnostic server that never queues (``pimsim.sim.uncontended``), as the engine's
``uncontended`` switch uses it (its effect on a whole run: tests/sim/test_agreement.py)."""

from pathlib import Path

import pytest

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.sim.resources import Server, book_together
from pimsim.sim.uncontended import ALL_ROLES, Unqueued, checked, is_uncontended

REPO = Path(__file__).resolve().parents[2]


def test_an_uncontended_server_never_queues_and_the_others_still_do():
    s, u = Server("s"), Unqueued("u")
    assert [s.book(0.0, 10.0), s.book(0.0, 10.0)] == [(0.0, 10.0), (10.0, 20.0)]
    assert [u.book(0.0, 10.0), u.book(0.0, 10.0)] == [(0.0, 10.0), (0.0, 10.0)]
    assert u.book(5.0, 10.0, not_before=8.0) == (8.0, 18.0)     # never before not_before
    assert u.busy_ns == 30.0 and u.by == {-1: 30.0}             # busy time still counted
    # a transfer on both: the queued server sets the start, the uncontended one follows
    assert book_together(0.0, [s, u], [4.0, 6.0]) == (20.0, 26.0)
    assert book_together(0.0, [u, s], [6.0, 4.0]) == (24.0, 30.0)


def test_the_role_set():
    assert is_uncontended("edram", frozenset({"edram", "bus"}))
    assert not is_uncontended("tile_shift_add", frozenset({"edram", "bus"}))
    assert is_uncontended("noc_link", frozenset({ALL_ROLES}))
    assert not is_uncontended("edram", frozenset())


def test_unknown_roles_are_refused_by_name():
    arch = build_arch(load_design(REPO / "configs" / "isaac.yaml"))
    assert checked("edram", arch) == frozenset({"edram"})      # one name, not its letters
    assert checked(("noc_link", "*"), arch) == frozenset({"noc_link", "*"})
    with pytest.raises(ValueError, match="'edramm'"):
        checked(["edramm", "bus"], arch)
