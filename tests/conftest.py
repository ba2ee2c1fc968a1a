"""Shared fixtures: paths to the repository's configs and traces."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
TRACES = ROOT / "traces"


@pytest.fixture(scope="session")
def isaac_path() -> Path:
    return CONFIGS / "isaac.yaml"


@pytest.fixture(scope="session")
def isaac(isaac_path):
    from pimsim.config import load_design

    return load_design(isaac_path)


@pytest.fixture(scope="session")
def isaac_arch(isaac):
    from pimsim.arch import build_arch

    return build_arch(isaac)
