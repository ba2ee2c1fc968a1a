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


# -- StaticServer (engine.arbitration oldest_first): requests in any time order ---------

def _reference_fill(busy: list[set[int]], t: int, d: int) -> tuple[int, int]:
    """(start, end) of a service of ``d`` whole ns from ``t`` served in the ports' idle ns,
    stepping ns by ns (the class doc's rule; a second, plain implementation over sets of
    busy ns, every one kept): at each ns from ``t`` on, the port used the ns before if it
    is idle, else the lowest idle port, else none; the start is the first ns some port is
    idle, the end follows the ``d``-th ns taken. Marks the ns taken busy."""
    c, cur, start, taken = t, -1, None, 0
    while True:
        idle = [p for p, cal in enumerate(busy) if c not in cal]
        if idle:
            if start is None:
                start = c
            if taken == d:
                return start, (c if d == 0 else end)
            cur = cur if cur in idle else idle[0]
            busy[cur].add(c)
            taken, end = taken + 1, c + 1
            if taken == d:
                return start, end
        c += 1


def test_static_server_serves_a_request_in_the_idle_time_it_finds():
    from pimsim.sim.resources import StaticServer

    s = StaticServer("edram")
    assert s.book(100, 10) == (100, 110)     # an older image's booking, made first
    assert s.book(0, 10) == (0, 10)          # a younger image's, earlier: before it
    # 95 ns from 0: 90 in the gap 10..100, a pause for 100..110, the last 5 after it
    assert s.book(0, 95) == (10, 115)
    assert s.book(5, 90) == (115, 205)       # nothing idle before 115 any more
    assert s.book(0, 1) == (205, 206)
    assert s.busy_ns == 206
    two = StaticServer("edram", ports=2)
    assert [two.book(0, 10) for _ in range(3)] == [(0, 10), (0, 10), (10, 20)]
    # the port where the service ends first, not where it starts first
    # with several ports a request moves to whichever port is idle
    three = StaticServer("edram", ports=2)
    assert three.book(2, 20) == (2, 22)      # port 0
    # 3 ns from 0: port 0 for 0..2 (busy from 2), then port 1 for 2..3
    assert three.book(0, 3) == (0, 3)
    # 5 ns from 0: port 1 for 0..2, both busy 2..3, port 1 again for 3..6
    assert three.book(0, 5) == (0, 6)
    # 2 ns from 0: both busy (port 0 to 22, port 1 to 6): port 1 for 6..8
    assert three.book(0, 2) == (6, 8)


def test_static_book_together_serves_each_part_in_its_own_idle_time():
    from pimsim.sim.resources import StaticServer

    a, b = StaticServer("a"), StaticServer("b")
    a.book(20, 10)                           # a busy 20..30
    b.book(35, 10)                           # b busy 35..45
    # 10 ns on both from 0: both idle, (0, 10); then 15 ns each: a from 10, 10 ns to 20,
    # a pause 20..30, 5 ns to 35; b from 10 to 25
    assert book_together(0, [a, b], [10, 10]) == (0, 10)
    assert book_together(0, [a, b], [15, 15]) == (10, 35)
    # a's part starts at 35 (busy to then), b's at 25: the transfer starts when both have
    # started, and b's 20 ns take 25..35 and 45..55
    assert book_together(0, [a, b], [1, 20]) == (35, 55)


def test_static_server_matches_a_plain_reference_under_any_request_order():
    from hypothesis import given, settings, strategies as st

    from pimsim.sim.resources import StaticServer

    # (time, service on x, how: 0 x alone, 1 book_together([x]), 2 together with a
    # one-port y for service2)
    request = st.tuples(st.integers(0, 30), st.integers(0, 8), st.integers(0, 2),
                        st.integers(0, 8))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(request, min_size=1, max_size=60), st.sampled_from([1, 1, 2, 3]))
    def check(reqs, ports):
        # requests in "image-major" order: times go back between groups; the horizon is
        # the earliest time of any request still to come (what the engine gives)
        times = [float(t) for t, _, _, _ in reqs]
        i = 0

        class Forgetful(StaticServer):
            TRIM_AT = 2                      # forget as often as possible

        def horizon():
            return min(times[i:], default=1e9)

        x, y = Forgetful("x", ports, horizon), Forgetful("y", 1, horizon)
        ref_x: list[set[int]] = [set() for _ in range(ports)]
        ref_y: list[set[int]] = [set()]
        for i, (t, d, how, d2) in enumerate(reqs):
            if how < 2:
                start, end = _reference_fill(ref_x, t, d)
                got = x.book(float(t), float(d)) if how == 0 else \
                    book_together(float(t), [x], [float(d)])
                assert got == (max(start, t) if how else start, end)
            else:
                sx, ex = _reference_fill(ref_x, t, d)
                sy, ey = _reference_fill(ref_y, t, d2)
                got = book_together(float(t), [x, y], [float(d), float(d2)])
                assert got == (max(t, sx, sy), max(t, ex, ey))

    check()
