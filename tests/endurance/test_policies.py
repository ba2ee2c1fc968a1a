"""Update policies: registry, determinism, rates, budgets, top-k (numpy only)."""

import numpy as np
import pytest

from pimsim.training.policies import POLICIES, Essence, make_policy

LAYER_OF = np.repeat(np.arange(3), [50, 200, 750])


def run(name, steps=60, seed=0, **kw):
    pol = make_policy(name, seed=seed, **kw)
    pol.setup(LAYER_OF, steps)
    rng = np.random.default_rng(99)
    masks = [pol.step(t, rng.random(LAYER_OF.size)) for t in range(steps)]
    return pol, np.array(masks)


def test_registry():
    assert set(POLICIES) == {"sgd", "no_endurance", "essence", "essence_aggressive", "sgs",
                             "sgs_ars"}
    with pytest.raises(ValueError):
        make_policy("nope")


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_deterministic_with_seed(name):
    _, a = run(name, seed=3)
    _, b = run(name, seed=3)
    np.testing.assert_array_equal(a, b)


def test_rates():
    _, sgd = run("sgd")
    assert sgd.all()
    _, ne = run("no_endurance", p=0.1)
    assert abs(ne.mean() - 0.1) < 0.01
    _, other = run("no_endurance", seed=1, p=0.1)
    assert not np.array_equal(ne, other)


def test_essence_budget_caps_counts_and_lowers_max():
    pol, masks = run("essence", steps=200, p=0.1, budget=1.2)
    assert pol.counts.max() <= pol.max_updates + 1
    assert (masks.sum(axis=0) == pol.counts).all()
    ne, _ = run("no_endurance", steps=200, p=0.1)
    assert pol.counts.max() < ne.counts.max()
    assert pol.counts.mean() < ne.counts.mean()
    aggr, _ = run("essence_aggressive", steps=200)
    assert aggr.counts.mean() < pol.counts.mean()


def test_essence_probability_falls_with_count():
    pol = Essence(p=0.2, budget=1.0)
    pol.setup(np.zeros(3, np.int64), 100)
    pol.counts[:] = [0, 10, 20]
    p = pol.probabilities(np.ones(3))
    assert p[0] > p[1] > p[2] == 0


def test_sgs_keeps_top_fraction_per_layer():
    pol = make_policy("sgs", keep=0.1)
    pol.setup(LAYER_OF, 1)
    norms = np.random.default_rng(0).random(LAYER_OF.size)
    mask = pol.step(0, norms)
    for layer, n in enumerate([50, 200, 750]):
        sel = mask[LAYER_OF == layer]
        assert sel.sum() == round(0.1 * n)
        vals = norms[LAYER_OF == layer]
        assert vals[sel].min() >= vals[~sel].max()


def test_swap_schedule():
    pol = make_policy("sgs_ars", swap_interval=5)
    assert [t for t in range(12) if pol.swap_now(t)] == [4, 9]
    assert not any(make_policy("sgs").swap_now(t) for t in range(12))
