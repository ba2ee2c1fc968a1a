"""The hardened YAML reader, through every loader that uses it (issue class 1: alias bombs,
directories, encodings, nesting, duplicate and non-scalar keys; class 2: special files)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pimsim.config.loader import load_design
from pimsim.endurance.lifetime import load_endurance_config
from pimsim.errors import PimsimError
from pimsim.sweep.spec import load_sweep
from pimsim.techniques.schedule import load_schedule
from pimsim.yamlio import MAX_YAML_DEPTH, MAX_YAML_NODES, load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
ISAAC = (ROOT / "configs" / "isaac.yaml").read_text()
LOADERS = {"design": load_design, "schedule": load_schedule, "sweep": load_sweep,
           "endurance": load_endurance_config}


def bomb(levels: int = 9, width: int = 9, prefix: str = "a") -> str:
    """A 'billion laughs' document: width**levels strings from a few hundred bytes."""
    lines = [f"{prefix}0: &{prefix}0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{prefix}{i}: &{prefix}{i} [" + ", ".join([f"*{prefix}{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _fails_fast(loader, path: Path, *needles: str) -> str:
    start = time.monotonic()
    with pytest.raises(PimsimError) as info:
        loader(path)
    assert time.monotonic() - start < 5, "took too long: the bomb was expanded"
    message = str(info.value)
    assert str(path) in message and "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_alias_bomb_is_refused_by_every_loader(tmp_path, loader):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb())
    assert path.stat().st_size < 600           # 9**9 = 387 M strings once expanded
    _fails_fast(loader, path, "aliases are expanded")


@pytest.mark.parametrize("where", ["description: *a8", "name: *a8", "crosbar: *a8",
                                   "components:\n  adc:\n    model: *a8"])
def test_bomb_where_text_is_made_is_refused(tmp_path, where):
    """The places where the old loader turned an expanded value into text."""
    path = tmp_path / "point.yaml"
    path.write_text(bomb(prefix="b").replace("b8:", "x8:").replace("*b", "*b")
                    .replace("&b8", "&a8") + ISAAC.replace("components:", "components_:", 0)
                    + "\n" + where + "\n")
    _fails_fast(load_design, path)


def test_small_bomb_under_the_cap_is_not_expanded_into_a_did_you_mean(tmp_path):
    """Under the node cap, an unknown key with a big aliased value still errors with a short
    message (the did-you-mean only looks at text keys, never at the value)."""
    path = tmp_path / "point.yaml"
    path.write_text(ISAAC + "\n" + bomb(levels=4, width=9) + "crosbar: *a3\n")
    message = _fails_fast(load_design, path, "unknown key 'a0'")
    assert len(message) < 2000


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
@pytest.mark.parametrize("case", ["directory", "latin1", "utf16", "deep", "deep_block",
                                  "complex_key", "duplicate", "recursive", "fifo", "dev_zero"])
def test_hostile_files(tmp_path, loader, case):
    path = tmp_path / "input.yaml"
    needle = {"directory": "is a directory", "latin1": "not UTF-8", "utf16": "not UTF-8",
              "deep": "nested too deeply", "deep_block": "nested too deeply",
              "complex_key": "mapping key must be", "duplicate": "duplicate key",
              "recursive": "recursive alias", "fifo": "FIFO", "dev_zero": "device"}[case]
    if case == "directory":
        path.mkdir()
    elif case == "latin1":
        path.write_bytes("description: caf\xe9\n".encode("latin-1"))
    elif case == "utf16":
        path.write_bytes("technique: era_bs\n".encode("utf-16"))
    elif case == "deep":
        path.write_text("x: " + "[" * 500 + "]" * 500 + "\n")
    elif case == "deep_block":
        path.write_text("".join(" " * (2 * i) + f"k{i}:\n" for i in range(MAX_YAML_DEPTH + 5)))
    elif case == "complex_key":
        path.write_text("? [a, b]\n: 1\n")
    elif case == "duplicate":
        path.write_text("technique: era_bs\ntechnique: none\n")
    elif case == "recursive":
        path.write_text("a: &x [1, *x]\n")
    elif case == "fifo":
        os.mkfifo(path)                          # opening it for reading would block forever
    else:
        path.symlink_to("/dev/zero")
    _fails_fast(loader, path, needle)


def test_size_cap(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("description: " + "x" * (2 << 20) + "\n")
    _fails_fast(load_design, path, "too large")


def test_node_cap_counts_expanded_aliases(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text(bomb(levels=6, width=7))     # 7**6 = 117649 > MAX_YAML_NODES
    assert 7 ** 6 > MAX_YAML_NODES
    with pytest.raises(PimsimError, match="aliases are expanded"):
        load_yaml_file(path)
    path.write_text(bomb(levels=5, width=7))     # 7**5 = 16807 values: fine
    assert len(load_yaml_file(path)["a4"]) == 7


def test_merge_keys_and_ordinary_aliases_still_work(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n")
    assert load_yaml_file(path) == {"base": {"x": 1, "y": 2}, "child": {"x": 1, "y": 3},
                                    "list": [{"x": 1, "y": 2}] * 2}


def test_utf8_bom_is_fine(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_yaml_file(path) == {"a": 1}
