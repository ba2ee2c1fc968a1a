"""Steady state: the interval estimate, the convergence rule, and the engine run to it."""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import REPO, isaac_arch, resnet_block  # noqa: E402

from pimsim.sim import simulate  # noqa: E402
from pimsim.sim.steady import (MAX_IMAGES, MAX_PERIOD, MIN_IMAGES, PERIOD_REPEATS,  # noqa: E402
                               TOLERANCE, WINDOW, Monitor, converged, drift, fit, periodic)
from pimsim.workload.trace import load_network  # noqa: E402


def test_fit_is_the_slope_over_the_second_half():
    # a fill of 1000 ns, then one image every 250 ns: exact line over the second half
    f = [1000.0, 1400.0, 1500.0, 1750.0, 2000.0, 2250.0, 2500.0]
    slope, at0 = fit(f)
    # second half: i = 3..6, values 1750..2500, slope 250, line at 0 = 1750 - 3 x 250
    assert slope == pytest.approx(250.0) and at0 == pytest.approx(1000.0)
    # least squares by hand on jittered completions i = 2..4: 10, 22, 30
    slope, _ = fit([0.0, 5.0, 10.0, 22.0, 30.0])
    assert slope == pytest.approx(((-1) * (10 - 62 / 3) + 1 * (30 - 62 / 3)) / 2)


def _times(first: float, gaps: list[float]) -> list[float]:
    f = [first]
    for g in gaps:
        f.append(f[-1] + g)
    return f


def test_convergence_rule():
    steady = [100.0 * i for i in range(MIN_IMAGES)]                 # one image per 100 ns
    assert not converged([100.0] * WINDOW, steady[:-1])             # too few images
    assert converged([100.0] * WINDOW, steady)
    spread = [100.0, 100.0, 100.0, 100.0 * (1 + 2 * TOLERANCE)]
    assert not converged(spread[-WINDOW:], steady)
    # drift: the two halves of the trend window, by hand. 13 completions (n = 12): the
    # window is i = 6..12, its halves 6..9 and 9..12; gaps of 100 ns up to i = 9, then
    # 102 ns: slopes 100 and 102, 2 % apart
    f = _times(0.0, [100.0] * 9 + [102.0] * 3)
    assert drift(f) == pytest.approx(abs(100.0 / 102.0 - 1.0))
    assert not converged([100.0] * WINDOW, f)
    # jitter that never settles into a period: converged once the halves agree, without
    # a fixed number of images (the rates of two 6-image halves differ by < 0.5 %)
    rng = random.Random(12)
    jit = [100.0 * i + rng.uniform(0.0, 3.0) for i in range(40)]
    m = Monitor()
    stop = next(i for i, t in enumerate(jit) if m.add(t))
    assert MIN_IMAGES - 1 <= stop < 40
    assert abs(m.result().interval_ns - 100.0) < 0.5


def test_periodic_rule_by_hand():
    # a fill, jittered gaps, then an exact period of 250 ns; the rule needs 3 equal gaps
    # and the 3 gaps before them within 0.5 % of their mean (the pace held)
    assert PERIOD_REPEATS == 3 and TOLERANCE == 0.005
    f = _times(1000.0, [400.0, 251.0, 249.0, 250.5, 250.0, 250.0, 250.0])
    assert not periodic(f[:7])             # 3 equal gaps, but only 3 gaps before them
    # 7 gaps: the last 3 are 250 each; the 3 before: 249 + 250.5 + 250 = 749.5 vs 750
    assert periodic(f) == 1
    # a plateau after a change of pace is not a period: 3 gaps of 250 after 3 of 260
    g = _times(0.0, [260.0, 260.0, 260.0, 250.0, 250.0, 250.0])
    assert abs(780.0 / 750.0 - 1) > TOLERANCE and not periodic(g)
    assert not periodic([0.0, 250.0, 500.1, 750.0, 1000.0, 1250.1, 1500.0])  # jitter
    m = Monitor()
    done = [m.add(x) for x in f]
    assert done == [False] * 7 + [True]
    r = m.result()
    # interval = mean of the last three gaps; fill = f[7] - 7 x 250
    assert r.converged and r.interval_ns == pytest.approx(250.0)
    assert r.fill_ns == pytest.approx(f[7] - 7 * 250.0)


def test_a_plateau_of_the_fill_is_not_a_period():
    # the first completion gaps of mnsim_resnet18_shapes on ISAAC (fast; printed by
    # numpy.diff(simulate(..., images=40).engine_stats.image_finish_ns), rounded to
    # 0.01 ns): 4 equal gaps of 11,326.67 ns, then 5 of 10,935.56 ns; over 160 images the
    # pace settles near 11,635 ns. Equal gaps alone stopped the run after 7 images.
    gaps = [11388.89, 11326.67, 11872.82, 11326.67, 11326.67, 11326.67, 11326.67,
            10935.56, 10935.56, 10935.56, 10935.56, 10935.56, 10941.39, 11220.00]
    f = _times(141222.89, gaps)
    assert not any(periodic(f[:k + 1]) for k in range(len(f)))
    # by hand, the plateau of 11,326.67 ns after 7 images: the 3 gaps before the last 3
    # average 11,508.72 ns, 1.6 % off
    assert abs((11326.67 + 11872.82 + 11326.67) / (3 * 11326.67) - 1) > TOLERANCE


def test_a_cycle_of_several_images_is_a_period():
    # completion gaps of the LSTM trace on ISAAC (fast, images=100, rounded to 0.01 ns):
    # after two fill gaps, a cycle of 4 images repeats exactly
    cycle = [37443.18, 253996.18, 36484.38, 245204.34]
    f = [700000.0, 749545.46, 1007482.81]
    for _ in range(8):
        for g in cycle:
            f.append(f[-1] + g)
    assert periodic(f) == 4
    assert periodic(f[:-1]) == 4            # any phase of the cycle
    assert not periodic(f[:2 + 3 * 4])      # the fill gap is in the window: not yet
    # 3 cycles and the 3 before them: the window before starts after the fill at
    # n = 2 + 24; at n = 25 it holds the fill's second gap (257,937.35 ns) instead of
    # the cycle's last (245,204.34), 0.9 % more over 12 gaps, by hand
    assert (257937.35 - 245204.34) / (3 * sum(cycle)) > TOLERANCE
    m = Monitor()
    stop = next(i for i, t in enumerate(f) if m.add(t))
    assert stop == 2 + 2 * 3 * 4
    r = m.result()
    period = sum(cycle) / 4                 # 143,282.02 ns per image, by hand
    assert r.converged and r.interval_ns == pytest.approx(period, rel=1e-12)
    # fill: the mean of f[i] - i x interval over the last cycle
    n = stop
    assert r.fill_ns == pytest.approx(sum(f[i] - i * period for i in range(n - 3, n + 1)) / 4)
    # a forced count ending mid-cycle gets the same interval (a least-squares slope over a
    # window that is not a whole number of cycles would not)
    for end in range(stop + 1, len(f)):
        m = Monitor()
        for t in f[:end + 1]:
            m.add(t)
        assert m.result().interval_ns == pytest.approx(period, rel=1e-12)
    assert abs(fit(f[:30])[0] / period - 1) > 1e-3
    # a cycle too long for its repeats (and the window before them) to fit under the cap
    # is left to the trend rule
    assert MAX_PERIOD == MAX_IMAGES // 6
    long = [100.0 + (i % (MAX_PERIOD + 1)) for i in range(MAX_IMAGES)]
    g = [0.0]
    for x in long:
        g.append(g[-1] + x)
    assert not periodic(g)


def test_a_decaying_transient_is_not_taken_for_the_steady_state():
    # completion gaps of ResNet-18 on ISAAC (fast, 1 ADC per crossbar, images=30): from
    # image 8 on every image takes exactly 129,306.7 ns; before, the fill jitters. Stable
    # estimates alone declared convergence after 10 images at 128,060 ns (1 % low).
    gaps = [126122, 130287, 121056, 128309, 130294, 123398, 129162] + [129306.7] * 22
    f = [552929.0]
    for g in gaps:
        f.append(f[-1] + g)
    m = Monitor()
    stop = next(i for i, t in enumerate(f) if m.add(t))
    assert stop + 1 > 10                  # later than the old rule
    assert m.result().interval_ns == pytest.approx(129306.7, rel=0.001)


@pytest.fixture(scope="module")
def digits():
    return load_network(REPO / "traces" / "cnn_digits.npz")


@pytest.mark.parametrize("make", [
    "digits",
    # with the mesh NoC's link contention the block's completion gaps jitter and drift for
    # about 50 images (a plateau of 4 gaps of 1,602.81 ns among them, the source's pace)
    # before every gap is 1,615 ns, the closed form's interval; the rule waits for a
    # period whose pace held (docs/engine.md, "Steady state")
    "block",
])
def test_doubling_the_images_keeps_the_interval(make, digits):
    net = digits if make == "digits" else resnet_block()
    arch = isaac_arch()
    r = simulate(net, arch, fidelity="fast")
    t = r.total
    assert t.converged and t.images >= PERIOD_REPEATS + 1
    assert t.throughput_images_per_s == pytest.approx(1e9 / t.interval_ns)
    twice = simulate(net, arch, fidelity="fast", images=2 * t.images)
    assert twice.total.images == 2 * t.images
    assert abs(twice.total.interval_ns / t.interval_ns - 1) < 0.01
    # energy per image does not depend on the number of images
    assert twice.total.dynamic_energy_pJ == pytest.approx(t.dynamic_energy_pJ, rel=1e-12)


def test_image0_latency_never_falls_with_a_larger_batch():
    # A forced count feeds images behind the last one measured, so the images in flight
    # when image 0 completes do not depend on it (the forced counts above give one
    # latency). Here exactly N images are injected (``alone=True``: a batch, no image
    # behind it), so a larger N puts more images in flight behind image 0; with causal
    # shared units they can only delay it. ResNet block on ISAAC: 9,662.1 ns alone,
    # 10,515.7 ns with 11 images behind (printed by this test's loop).
    from pimsim.sim.engine import run_engine

    net = resnet_block()
    arch = isaac_arch()
    lat = [run_engine(net, arch, fidelity="fast", images=n, alone=True).total.latency_ns
           for n in (1, 2, 6, 12)]
    assert all(a <= b for a, b in zip(lat, lat[1:])), lat
    assert lat[-1] > lat[0]                     # the batch does load the pipeline


def test_forced_image_count_and_fill():
    net = resnet_block()
    r = simulate(net, isaac_arch(), fidelity="fast", images=3)
    assert r.total.images == r.engine_stats.images == 3
    f = r.engine_stats.image_finish_ns
    assert len(f) == 3 and r.total.latency_ns == f[0]
    # fill = the steady-state line's value at image 0: n images take fill + (n-1) x interval
    assert r.total.fill_ns == pytest.approx(f[2] - 2 * r.total.interval_ns)
    with pytest.raises(ValueError):
        simulate(net, isaac_arch(), fidelity="fast", images=0)


def _steady_check():
    """scripts/steady_check.py, the command beside the table in docs/engine.md."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("steady_check",
                                                  REPO / "scripts" / "steady_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("trace", ["cnn_digits", "lenet5_mnist", "resnet8_mnist"])
def test_every_quick_shipped_trace_doubles_within_one_percent(trace):
    # issue 12's acceptance on the shipped traces that run in seconds (the others are
    # checked by the command in docs/engine.md, "Steady-state check")
    net = load_network(REPO / "traces" / f"{trace}.npz")
    arch = isaac_arch()
    t = simulate(net, arch, fidelity="fast").total
    assert t.converged
    twice = simulate(net, arch, fidelity="fast", images=2 * t.images).total
    assert twice.images == 2 * t.images
    assert abs(twice.interval_ns / t.interval_ns - 1) < 0.01
    lat = [simulate(net, arch, fidelity="fast", images=n).total.latency_ns for n in (2, 6, 12)]
    assert lat[0] <= lat[1] <= lat[2]
    # the row of the docs table for this trace is what the script prints now (stale: rerun
    # `python scripts/steady_check.py --traces NAME --out ...` and paste the table)
    check = _steady_check()
    entry = {"trace": f"traces/{trace}.npz", "images": t.images, "converged": t.converged,
             "interval_ns": t.interval_ns, "images_2x": twice.images,
             "interval_2x_ns": twice.interval_ns, "change": twice.interval_ns / t.interval_ns - 1,
             "latency_by_images_ns": {str(n): x for n, x in zip((2, 6, 12), lat)},
             "passed": True}
    row = check.to_markdown([entry], "isaac.yaml", "fast").splitlines()[-1]
    doc = (REPO / "docs" / "engine.md").read_text()
    assert row in doc, f"docs/engine.md 'Steady-state check' is stale for {trace}: {row}"


def test_a_forced_count_measures_the_fed_stream_not_a_drain():
    # the first N completions of a forced count are the stream's: images keep being
    # injected behind image N-1, so its last images do not drain with nothing behind them
    # (a batch of N would finish them early and lower the interval on a deep pipeline)
    net = resnet_block()
    arch = isaac_arch()
    stream = simulate(net, arch, fidelity="fast", images=12).engine_stats.image_finish_ns
    for n in (3, 6):
        f = simulate(net, arch, fidelity="fast", images=n).engine_stats.image_finish_ns
        assert list(f) == list(stream[:n])
