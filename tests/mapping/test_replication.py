"""Greedy replication on the bottleneck layer (ISAAC): hand cases and invariants."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from netbuild import cnn3, isaac_arch, isaac_with
from pimsim.mapping import map_network
from pimsim.mapping.replication import imas_needed, replicate


def test_hand_case():
    # positions 64, 16, 1; one crossbar per copy; 8 crossbars per IMA; budget 4 IMAs.
    # Start 1,1,1 copies = 3 IMAs, periods 64, 16, 1. Each step raises the bottleneck to
    # the smallest copy count that shortens it (ties: earlier layer):
    #   L0: 2 (32), 3 (22), 4 (16); tie 16/16 -> L0: 5 (13), 6 (11), 7 (10), 8 (8)
    #   L1: 2 (8); tie 8/8 -> L0: 10 (7) = 2 IMAs, total 4; L1: 3 (6); L0: 11 (6);
    #   tie -> L0: 13 (5); L1: 4 (4); L0: 16 (4); tie 4/4 -> L0 wants 22 = 3 IMAs,
    #   total 5 > 4: stop.
    copies = replicate(np.array([64, 16, 1]), np.array([1, 1, 1]), ima_crossbars=8,
                       budget_imas=4, max_replication=1024, enabled=True)
    assert copies.tolist() == [16, 4, 1]
    assert imas_needed(copies, np.ones(3, dtype=np.int64), 8).tolist() == [2, 1, 1]


def test_disabled_and_bounds():
    ones = replicate(np.array([100, 50]), np.array([3, 5]), ima_crossbars=8, budget_imas=1000,
                     max_replication=1024, enabled=False)
    assert ones.tolist() == [1, 1]
    capped = replicate(np.array([100, 50]), np.array([1, 1]), ima_crossbars=8,
                       budget_imas=10**6, max_replication=7, enabled=True)
    assert capped.max() <= 7
    # unbounded budget: every layer reaches one position per copy
    full = replicate(np.array([100, 50]), np.array([1, 1]), ima_crossbars=8, budget_imas=10**6,
                     max_replication=1024, enabled=True)
    assert full.tolist() == [100, 50]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 400), st.integers(1, 40)), min_size=1, max_size=8),
       st.integers(0, 300), st.integers(1, 300))
def test_budget_respected_and_bottleneck_monotone(layers, extra, more):
    pos = np.array([p for p, _ in layers])
    xb = np.array([x for _, x in layers])
    base = int(imas_needed(np.ones_like(xb), xb, 8).sum())
    prev = None
    for budget in (base + extra, base + extra + more):
        c = replicate(pos, xb, ima_crossbars=8, budget_imas=budget, max_replication=64,
                      enabled=True)
        assert int(imas_needed(c, xb, 8).sum()) <= budget
        assert (c >= 1).all() and (c <= np.minimum(pos, 64)).all()
        bottleneck = int((-(-pos // c)).max())
        if prev is not None:
            assert bottleneck <= prev
        prev = bottleneck


def test_network_replication_off_in_config():
    net = cnn3()
    on = map_network(net, isaac_arch())
    off = map_network(net, isaac_with(mapping={"replicate": False}))
    assert all(lm.replication == 1 for lm in off.layers)
    assert max(lm.replication for lm in on.layers) > 1
    # ISAAC has room for every cnn3 conv to reach one position per copy, up to the cap
    conv1 = on.layer("conv1")
    assert conv1.replication == min(conv1.positions, 1024)
