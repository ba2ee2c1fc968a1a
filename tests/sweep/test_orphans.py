"""Fault injection: ``kill -9`` of the sweep driver leaves no process of the sweep alive.

The driver runs in its own session, so every process it starts (pool workers, the
multiprocessing resource tracker) shares its process-group id; after the kill, that group
must be empty within 10 s (workers notice the dead parent and exit).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GRACE_S = 10


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is ``pgid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_9_of_the_driver_leaves_no_worker(tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(yaml.safe_dump({
        "name": "orphans", "base": str(ROOT / "configs" / "isaac.yaml"), "baseline": "none",
        "axes": {"crossbar.rows": [64, 128, 256, 512],
                 "trace": [str(ROOT / "traces" / "resnet20_cifar_shapes.npz")]},
        "debug": {"sleep_s": 10}}))            # every point keeps its worker busy
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    driver = subprocess.Popen([sys.executable, "-m", "pimsim.cli", "sweep", str(sweep),
                               "--workers", "2", "--out", str(tmp_path / "out"), "-q",
                               "--no-report"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pgid = driver.pid
    try:
        deadline = time.monotonic() + 60
        while len(_group(pgid)) < 3 and time.monotonic() < deadline:   # driver + 2 workers
            time.sleep(0.2)
        assert len(_group(pgid)) >= 3, "the sweep never started its workers"
        time.sleep(1.0)                      # workers inside their first point
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + GRACE_S
        while _group(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group(pgid) == [], f"still alive {GRACE_S} s after kill -9: {_group(pgid)}"
    finally:
        for pid in _group(pgid):             # only this test's own sweep processes
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
