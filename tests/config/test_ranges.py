"""Plausible ranges: every numeric key has one, the shipped values sit inside it, and the
mechanism works for a key declared in one line."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from pimsim.components.registry import models
from pimsim.config import schema
from pimsim.config.ranges import PlausibilityWarning, check_range, fmt_range
from pimsim.errors import ConfigError


def _numeric_fields():
    for name, cls in schema.SECTIONS.items():
        for f in dataclasses.fields(cls):
            if f.metadata.get("auto") or not isinstance(f.default, (str, bool)):
                yield f"{name}.{f.name}", f


@pytest.mark.parametrize("key, fld", list(_numeric_fields()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_numeric_key_has_limits_holding_its_default(key, fld):
    lo, hi = fld.metadata["limits"]
    assert lo < hi
    if fld.default != schema.AUTO:
        assert lo <= fld.default <= hi, key
        typical = fld.metadata.get("typical")
        if typical:
            assert typical[0] <= fld.default <= typical[1], key


def test_every_component_default_is_inside_its_range():
    for name, cls in models().items():
        for key, p in cls.all_params().items():
            if p.unit == "-" or p.default is None or p.default.__class__ is object:
                continue
            limits, _, positive = p.ranges(key)
            assert limits[0] <= p.default <= limits[1], (name, key)
            assert not positive or p.default > 0, (name, key)


def test_one_line_declares_a_range():
    """What a new key gets from spec(..., limits=..., typical=...), checked by hand."""
    spec = schema.spec(2.0, "GHz", "a new key", limits=(0.5, 8), typical=(1, 4))
    meta = spec.metadata
    assert meta["limits"] == (0.5, 8) and meta["typical"] == (1, 4)
    kw = dict(unit="GHz", file="f.yaml", where="x.new", limits=meta["limits"],
              typical=meta["typical"], positive=True)
    check_range(2.0, **kw)                                     # inside both: silent
    with pytest.warns(PlausibilityWarning, match="x.new"):
        check_range(6.0, **kw)                                 # inside limits, not typical
    for bad, needle in ((9.0, "outside the range"), (0.0, "must be positive"),
                        (float("inf"), "not a finite number"), ("fast", "wrong type")):
        with pytest.raises(ConfigError, match=needle):
            check_range(bad, **kw)
    assert fmt_range((0, 2**30), positive=True) == "(0, 2^30]"


def test_shipped_configs_draw_no_warning():
    from pathlib import Path

    from pimsim.config import load_design

    root = Path(__file__).resolve().parents[2] / "configs"
    for path in sorted(root.glob("*.yaml")):
        if path.name == "endurance.yaml" or "technique" in path.read_text():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error", PlausibilityWarning)
            load_design(path)
