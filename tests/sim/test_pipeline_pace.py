"""The closed form's row schedule run for several images (``row_schedule(images=K)``,
scripts/pipeline_pace.py) against the engine with no queueing anywhere, an independent
implementation of the same rules (simpy processes, rings, output registers)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mapping"))
from netbuild import REPO, NetBuilder, cnn3, isaac_with, resnet_block  # noqa: E402

from pimsim.mapping import map_network  # noqa: E402
from pimsim.sim import simulate  # noqa: E402
from pimsim.sim.engine import run_engine  # noqa: E402
from pimsim.sim.stages import row_done_ns, row_schedule  # noqa: E402

sys.path.insert(0, str(REPO))
from scripts.pipeline_pace import completions, pace_ns  # noqa: E402

K = 12


@pytest.mark.parametrize("make", [cnn3, resnet_block])
def test_k_image_schedule_is_the_uncontended_engine(make):
    # 1 KiB of eDRAM per tile: rings of a few rows. resnet_block's skip ring turns once
    # per 8,074 ns against a slowest stage of 1,615 ns: the engine with no queueing runs
    # at the ring's pace, and so does the schedule, completion by completion
    net = make()
    arch = isaac_with(tile={"edram_bytes": 1024}, noc={"routing": "average"})
    free = run_engine(net, arch, images=K, uncontended="*", alone=True)
    engine = np.array(free.engine_stats.image_finish_ns)
    sched = completions(net, map_network(net, arch), arch, K)
    assert sched == pytest.approx(engine, rel=1e-9)
    if make is resnet_block:       # the ring, not a stage, sets the pace: 5x the closed form's
        assert np.diff(sched)[-1] > 4 * simulate(net, arch, fidelity="analytic").total.interval_ns


def test_one_image_is_the_latency_schedule():
    # images=1 is the closed form's image-0 schedule, unchanged; and image 0 of a longer
    # schedule is the same rows (later images' rows come after it in every layer and
    # ring, so they cannot move it)
    net = resnet_block()
    arch = isaac_with(tile={"edram_bytes": 1024})
    nmap = map_network(net, arch)
    one = row_schedule(net, nmap, arch, images=1)[0]
    four = row_schedule(net, nmap, arch, images=4)[0]
    for name, rows in row_done_ns(net, nmap, arch).items():
        assert np.array_equal(one[name], rows)
        assert np.array_equal(four[name][:rows.size], rows)
        assert four[name].size == 4 * rows.size


def test_pace_of_a_chain_is_its_slowest_stage():
    # a chain with room in its rings: nothing waits for a slot in the steady state, the
    # pace is the closed form's slowest stage
    net = NetBuilder("chain", (16, 16, 16)).conv("a", 16, 1).conv("b", 16, 3).build()
    arch = isaac_with(noc={"routing": "average"})
    pace, _, ok = pace_ns(net, map_network(net, arch), arch)
    assert ok
    assert pace == pytest.approx(simulate(net, arch, fidelity="analytic").total.interval_ns,
                                 rel=1e-6)
