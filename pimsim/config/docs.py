"""docs/configuration.md, generated from the schema and the component classes.

``python -m pimsim.config.docs > docs/configuration.md``; a test keeps the page current.
"""

from __future__ import annotations

import dataclasses
import sys

from pimsim.components.registry import REQUIRED_ROLES, models
from pimsim.config import schema
from pimsim.components.base import DEFAULT_LIMITS
from pimsim.config.ranges import UNIT_LIMITS, UNIT_TYPICAL, fmt_range

INTRO = """# Configuration reference

A design point is one YAML file. It may start with `extends: other.yaml` (a path relative to
the file) and override any key; nested sections merge key by key, and a component entry that
names a different `model` replaces the inherited entry whole. Unknown keys, duplicate keys
and non-finite numbers are errors, with a did-you-mean suggestion for unknown keys; every
error names the file and the key path. `pimsim.config.load_design(path, overrides={"crossbar.rows":
256})` applies dotted key paths last (sweeps use it).

`plugins:` imports the Python modules it names so that their components register: a design
point is trusted like a Python script (traces, by contrast, are untrusted data).

Units everywhere: energy pJ, time ns, power mW, area mm^2 (component tables: um^2),
frequency GHz, data in bits unless a key says bytes (`pimsim/units.py`).

Every numeric key has a **range** the models can evaluate: a value outside it is an error
naming the file and key (a reference value of 0 would divide by zero, `tile.imas: 2**62`
would overflow, an energy of `1e308` would make the chip's energy infinite). Most keys also
have a **typical** range, what published designs span; a value outside it is evaluated but
draws a `pimsim: warning:` line, since a design-space exploration may mean it. The typical
ranges are set around the values of published ReRAM PIM designs (ISAAC's Table I at the
centre, `configs/`), wide enough for the crossbar sizes and precisions explored in the
literature; the hard ranges are set where the models stop being meaningful or finite. Component
values without a range of their own take their unit's (table at the end); reference values
(`ref_*`) are divisors of the scaling laws and must be > 0. Results are checked too: a figure
that is not finite and non-negative is an error, never `inf`, `NaN` or `null` in a table.
This page is generated from `pimsim/config/schema.py` and the component classes by
`python -m pimsim.config.docs`.
"""


def render() -> str:
    lines = [INTRO, "## Top-level keys", "", "| key | unit | meaning | range | typical |",
             "|---|---|---|---|---|"]
    for k, (unit, doc) in schema.TOP_LEVEL.items():
        limits, typical = schema.TOP_LEVEL_RANGES.get(k, (None, None))
        lines.append(f"| `{k}` | {unit} | {doc} | {fmt_range(limits, True)} | "
                     f"{fmt_range(typical)} |")
    for name, cls in schema.SECTIONS.items():
        lines += ["", f"## `{name}:`", "",
                  "| key | default | unit | meaning | checks | range | typical |",
                  "|---|---|---|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            m = f.metadata
            checks = []
            numeric = not isinstance(f.default, (str, bool)) or m.get("auto")
            if m.get("positive") and numeric:
                checks.append("> 0")
            elif isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
                checks.append(">= 0")
            if m.get("pow2"):
                checks.append("power of two")
            if m.get("choices"):
                checks.append(" / ".join(m["choices"]))
            rng = fmt_range(m.get("limits"), bool(m.get("positive"))) if numeric else ""
            lines.append(f"| `{f.name}` | `{f.default}` | {m['unit']} | {m['doc']} | "
                         f"{', '.join(checks)} | {rng} | {fmt_range(m.get('typical'))} |")
    lines += ["", "## `components:`", "",
              "One entry per role; each entry names a registered `model` and gives its reference "
              "values. Roles every design point fills: " + ", ".join(f"`{r}`" for r in REQUIRED_ROLES)
              + ". Other roles (plug-ins) say where they sit with `level` and `count`.", ""]
    for name, cls in sorted(models().items()):
        if cls.__module__.startswith("pimsim."):
            doc = cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
            lines += [f"### model `{name}`", "", doc.strip().splitlines()[0], "",
                      f"Laws and sources: `{cls.__module__.replace('.', '/')}.py`.", "",
                      "| key | unit | default | meaning | range | typical |",
                      "|---|---|---|---|---|---|"]
            for key, p in cls.all_params().items():
                default = "required" if p.default is not None and p.default.__class__ is object \
                    else f"`{p.default}`"
                limits, typical, positive = p.ranges(key) if p.unit != "-" else (None, None, False)
                lines.append(f"| `{key}` | {p.unit} | {default} | {p.doc} | "
                             f"{fmt_range(limits, positive)} | {fmt_range(typical)} |")
            acts = ", ".join(f"`{a}` ({what})" for a, what in cls.ACTIONS.items())
            lines += ["", f"Actions: {acts or 'none'}. Instance parameters from the design point: "
                      + (", ".join(f"`{k}` ({u})" for k, u in cls.INSTANCE.items()) or "none") + ".", ""]
    lines += ["## Ranges by unit (component values)", "",
              "Where a component value declares no range of its own (`Param(limits=..., "
              "typical=...)`), its unit's applies; a unit not listed has "
              f"{fmt_range(DEFAULT_LIMITS)}.", "", "| unit | range | typical |", "|---|---|---|"]
    lines += [f"| {u} | {fmt_range(r)} | {fmt_range(UNIT_TYPICAL.get(u))} |"
              for u, r in UNIT_LIMITS.items()]
    lines += ["", "A numeric design-point key that declares no range gets "
              f"{fmt_range(schema.DEFAULT_LIMITS)}. A plug-in adds a range with one argument: "
              "`spec(..., limits=(lo, hi), typical=(lo, hi))` in `pimsim/config/schema.py`, "
              "`Param(..., limits=(lo, hi))` in a component class."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
