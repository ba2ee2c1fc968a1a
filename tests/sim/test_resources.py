"""Shared units grant requests in simulated-time order (pimsim.sim.resources)."""

from pimsim.sim.resources import Server, book_together


def test_a_booking_made_ahead_never_delays_an_earlier_request():
    s = Server("link")
    assert s.book(100, 10) == (100, 110)
    assert s.book(0, 10) == (0, 10)          # idle from 0 to 100: not queued behind
    # an earlier request too long for the gap goes after the booking made ahead
    assert s.book(0, 95) == (110, 205)
    assert s.busy_ns == 115


def test_in_order_requests_are_first_come_first_served():
    s = Server("bus")
    assert s.book(0, 10) == (0, 10)
    assert s.book(5, 10) == (10, 20)         # queued behind the earlier one
    assert s.book(30, 1) == (30, 31)         # idle again
    two = Server("edram", ports=2)
    assert [two.book(0, 10) for _ in range(3)] == [(0, 10), (0, 10), (10, 20)]


def test_not_before_and_book_together():
    a, b = Server("a"), Server("b")
    b.book(0, 50)
    # a transfer needing both starts when both can: b is busy until 50
    assert book_together(0, [a, b], [10, 20]) == (50, 70)
    assert a.book(0, 10) == (60, 70)         # in order: a's port is held from 50 to 60
    c = Server("c")
    assert c.book(0, 5, not_before=40) == (40, 45)


def test_busy_time_is_attributed_to_the_requesting_layer():
    s = Server("unit")
    s.book(0, 10, who=1)
    s.book(0, 5, who=2)
    s.book(20, 3, who=1)
    assert s.by == {1: 13, 2: 5}


def test_routers_are_shared_by_tiles_per_router_tiles():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
    from netbuild import cnn3, isaac_arch

    from pimsim.sim import simulate

    arch = isaac_arch()
    per = arch.design.tile.tiles_per_router
    r = simulate(cnn3(), arch, fidelity="fast", images=2, timeline=True)
    events = r.engine_stats.timeline
    tiles = {e["pid"] for e in events if e.get("ph") == "X" and e["pid"] >= 0}
    routers = {e["pid"] for e in events if e.get("cat") == "noc"}
    assert routers and routers <= {-1 - t // per for t in tiles}
    assert len(routers) <= -(-(max(tiles) + 1) // per)
