"""The on-chip network in the engine and the closed form: links contend, hops follow the
placement, router energy is bits x hops -- every figure worked out by hand here."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import NetBuilder, isaac_with  # noqa: E402

from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import evaluate, simulate  # noqa: E402
from pimsim.sim.engine import Engine  # noqa: E402
from pimsim.sim.resources import book_together  # noqa: E402
from pimsim.sim.stages import stages  # noqa: E402

ROUTER_PJ = 0.07595486111      # configs/isaac.yaml: router transfer_energy_pJ per bit per hop

# one tile per router, one crossbar per IMA, one IMA per tile: layer k sits on tile k and
# router k of a 16-router chip, 4 routers wide (router k at (k % 4, k // 4))
SMALL = dict(tile={"tiles_per_router": 1, "imas": 1}, ima={"crossbars": 1},
             chip={"tiles": 16}, mapping={"replicate": False},
             noc={"link_GBps": 1.0, "mesh_link_GBps": 1.0})


def chain():
    """Three one-crossbar linear layers (16-bit inputs: 2048, 256, 256 bits received)."""
    return (NetBuilder("chain", (128, 1, 1)).linear("fc1", 16).linear("fc2", 16)
            .linear("fc3", 16).build())


def test_chain_sits_on_consecutive_routers():
    nmap = map_network(chain(), isaac_with(**SMALL))
    assert [(lm.first_tile, lm.last_tile) for lm in nmap.layers] == [(0, 0), (1, 1), (2, 2)]


@pytest.mark.parametrize("fidelity", ["analytic", "fast", "event"])
def test_router_energy_is_bits_times_hops(fidelity):
    arch = isaac_with(**SMALL)
    net = chain()
    r = evaluate(net, arch) if fidelity == "analytic" else simulate(net, arch, fidelity=fidelity,
                                                                    images=2)
    # the input enters at router 0 = fc1's router: 1 router; fc1 -> fc2 and fc2 -> fc3:
    # one link each, 2 routers
    bit_hops = 128 * 16 * 1 + 16 * 16 * 2 + 16 * 16 * 2
    assert [lay.counts["router.transfer"] for lay in r.layers] == [2048, 512, 512]
    assert r.total.counts["router.transfer"] == bit_hops
    assert r.total.dynamic_breakdown_pJ["router"] == pytest.approx(bit_hops * ROUTER_PJ,
                                                                   rel=1e-12)
    if fidelity != "analytic":
        noc = r.engine_stats.noc
        assert noc["routing"] == "xy" and noc["links_used"] == 2
        assert noc["mean_hops"] == pytest.approx(bit_hops / (2048 + 256 + 256), rel=1e-12)
        assert noc["links"] == 2 * (4 * 3 + 4 * 3)       # 4 x 4 grid: 24 neighbour pairs


def test_average_routing_keeps_the_global_hop_count():
    arch = isaac_with(**{**SMALL, "noc": {**SMALL["noc"], "routing": "average",
                                          "avg_hops": 2.5}})
    for r in (evaluate(chain(), arch), simulate(chain(), arch, fidelity="fast", images=2)):
        assert r.total.counts["router.transfer"] == (2048 + 256 + 256) * 2.5
    assert not simulate(chain(), arch, fidelity="fast", images=2).engine_stats.noc["links_used"]


def test_closed_form_link_stages():
    # fc1 -> fc2 crosses link (0,0)+x, fc2 -> fc3 link (1,0)+x: 256 bits at 1 GB/s = 32 ns
    arch = isaac_with(**SMALL)
    net = chain()
    links = [s for s in stages(net, map_network(net, arch), arch)[0] if s.resource == "noc_link"]
    assert sorted((s.layer, s.busy_ns) for s in links) == [("fc1", 32.0), ("fc2", 32.0)]


def test_two_transfers_contend_on_one_shared_link():
    # through the engine's own routing and booking: 1 GB/s = 8 bits/ns on ports and links
    arch = isaac_with(**SMALL)
    net = chain()
    eng = Engine(net, arch, map_network(net, arch), "fast", 1, False, None)
    a_servers, a_hops = eng.route(0, 2)      # (0,0) -> (2,0): links (0,0)+x, (1,0)+x
    b_servers, b_hops = eng.route(1, 3)      # (1,0) -> (3,0): links (1,0)+x, (2,0)+x
    assert [s.name for s in a_servers] == ["router[0]", "noc_link[chip 0 (0,0)+x]",
                                           "noc_link[chip 0 (1,0)+x]"]
    assert [s.name for s in b_servers] == ["router[1]", "noc_link[chip 0 (1,0)+x]",
                                           "noc_link[chip 0 (2,0)+x]"]
    assert (a_hops, b_hops) == (3, 3)
    # A: 800 bits at t = 0 holds its port and both links for 100 ns
    assert book_together(0.0, a_servers, eng.services(800, 3)) == (0.0, 100.0)
    # B: 400 bits at t = 10; its port and (2,0)+x are free, but (1,0)+x is A's until 100:
    # cut-through needs the whole path at once, so B starts at 100 and ends at 150
    assert book_together(10.0, b_servers, eng.services(400, 3)) == (100.0, 150.0)
    # arrival adds a router latency per router passed (ISAAC's router: one 1.2 GHz cycle)
    assert eng.router_ns == pytest.approx(1 / 1.2, rel=1e-12)
    # without the shared link B would have started at 10
    eng2 = Engine(net, arch, map_network(net, arch), "fast", 1, False, None)
    assert book_together(10.0, eng2.route(1, 3)[0], eng2.services(400, 3)) == (10.0, 60.0)


@pytest.mark.filterwarnings("ignore::pimsim.config.ranges.PlausibilityWarning")
def test_a_narrow_link_sets_the_interval_and_is_named():
    # mesh links at 0.01 GB/s (0.08 bits/ns): fc1 -> fc2's 256 bits hold link (0,0)+x for
    # 3200 ns per image, twice a crossbar's 16 reads x 100 ns: the link sets the interval
    arch = isaac_with(**{**SMALL, "noc": {"link_GBps": 1.0, "mesh_link_GBps": 0.01}})
    slow = simulate(chain(), arch, fidelity="fast", images=8)
    assert slow.total.bottleneck["resource"] == "noc_link"
    assert slow.total.interval_ns == pytest.approx(3200.0, rel=1e-9)
    assert slow.engine_stats.noc["busiest_link_share"] == pytest.approx(1.0, rel=0.02)
    closed = evaluate(chain(), arch)
    assert closed.total.bottleneck["resource"] == "noc_link"
    assert closed.total.interval_ns == pytest.approx(3200.0, rel=1e-12)
