"""Shared fixtures of the technique tests: traces, design points, small schedules."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
TRACES = ROOT / "traces"


@pytest.fixture(scope="session")
def cnn():
    from pimsim.workload.trace import load_trace

    return load_trace(TRACES / "cnn_digits.npz")


@pytest.fixture(scope="session")
def era_design():
    from pimsim.config import load_design

    return load_design(CONFIGS / "era_bs_allrows.yaml")


@pytest.fixture(scope="session")
def prune_design():
    from pimsim.config import load_design

    return load_design(CONFIGS / "pim_prune.yaml")


def sched(technique: str, **default):
    from pimsim.techniques.schedule import parse_schedule

    return parse_schedule({"technique": technique, "default": default})
