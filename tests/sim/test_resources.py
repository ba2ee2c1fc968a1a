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

def _reference_fit(bookings: list[list[tuple[float, float]]], t: float, d: float):
    """(start, port): the earliest start >= t at which some port has nothing booked in
    [start, start + d) (the lower port on a tie), searched over t and every booking's end;
    a second, plain implementation (every booking kept, no bisection, no forgetting)."""
    best = None
    for p, cal in enumerate(bookings):
        for c in sorted({t} | {e for _, e in cal if e >= t}):
            if all(not (s < c + d and c < e) for s, e in cal):
                if best is None or c < best[0]:
                    best = (c, p)
                break
    return best


def test_static_server_fits_a_request_into_the_earliest_idle_span_of_its_length():
    from pimsim.sim.resources import StaticServer

    s = StaticServer("edram")
    assert s.book(100, 10) == (100, 110)     # an older image's booking, made first
    assert s.book(0, 10) == (0, 10)          # a younger image's, earlier: before it
    assert s.book(0, 95) == (110, 205)       # too long for the gap 10..100: after 110
    assert s.book(5, 90) == (10, 100)        # exactly the gap 10..100
    assert s.book(0, 1) == (205, 206)        # nothing idle before 205 any more
    assert s.busy_ns == 206
    two = StaticServer("edram", ports=2)
    assert [two.book(0, 10) for _ in range(3)] == [(0, 10), (0, 10), (10, 20)]


def test_static_book_together_waits_for_a_common_idle_span():
    from pimsim.sim.resources import StaticServer

    a, b = StaticServer("a"), StaticServer("b")
    a.book(20, 10)                           # a busy 20..30
    b.book(35, 10)                           # b busy 35..45
    # 10 ns on both from 0: at 0 (both idle); 15 ns: a is busy from 20, so after 30,
    # and b from 35: after 45
    assert book_together(0, [a, b], [10, 10]) == (0, 10)
    assert book_together(0, [a, b], [15, 15]) == (45, 60)
    assert a.book(10, 10) == (10, 20)        # the gap between 0..10 and 20..30 on a
    c, d = StaticServer("c"), StaticServer("d")
    d.book(10, 5)                            # d busy 10..15
    # a span that ends where a booking starts fits (on either server of the pair)
    assert book_together(0, [c, d], [3, 10]) == (0, 10)
    assert book_together(0, [d, c], [5, 2]) == (15, 20)   # 0..5 on d is taken by now


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
        ref_x: list[list[tuple[float, float]]] = [[] for _ in range(ports)]
        ref_y: list[list[tuple[float, float]]] = [[]]
        for i, (t, d, how, d2) in enumerate(reqs):
            if how < 2:
                start, port = _reference_fit(ref_x, float(t), float(d))
                got = x.book(float(t), float(d)) if how == 0 else \
                    book_together(float(t), [x], [float(d)])
                assert got == (start, start + d)
            else:
                # the earliest start, at t or some booking's end, where x and y are both
                # idle for their services (x on its lowest such port)
                ends = {e for cal in ref_x + ref_y for _, e in cal if e >= t}
                start, port = next((c, _reference_fit(ref_x, c, float(d))[1])
                                   for c in sorted({float(t)} | ends)
                                   if _reference_fit(ref_x, c, float(d))[0] == c
                                   and _reference_fit(ref_y, c, float(d2))[0] == c)
                got = book_together(float(t), [x, y], [float(d), float(d2)])
                assert got == (start, start + max(d, d2))
                if d2:
                    ref_y[0].append((start, start + d2))
            if d:
                ref_x[port].append((start, start + d))

    check()
