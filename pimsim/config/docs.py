"""docs/configuration.md, generated from the schema and the component classes.

``python -m pimsim.config.docs > docs/configuration.md``; a test keeps the page current.
"""

from __future__ import annotations

import dataclasses
import sys

from pimsim.components.registry import REQUIRED_ROLES, models
from pimsim.config import schema

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
This page is generated from `pimsim/config/schema.py` and the component classes by
`python -m pimsim.config.docs`.
"""


def render() -> str:
    lines = [INTRO, "## Top-level keys", "", "| key | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{k}` | {unit} | {doc} |" for k, (unit, doc) in schema.TOP_LEVEL.items()]
    for name, cls in schema.SECTIONS.items():
        lines += ["", f"## `{name}:`", "", "| key | default | unit | meaning | checks |",
                  "|---|---|---|---|---|"]
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
            lines.append(f"| `{f.name}` | `{f.default}` | {m['unit']} | {m['doc']} | {', '.join(checks)} |")
    lines += ["", "## `components:`", "",
              "One entry per role; each entry names a registered `model` and gives its reference "
              "values. Roles every design point fills: " + ", ".join(f"`{r}`" for r in REQUIRED_ROLES)
              + ". Other roles (plug-ins) say where they sit with `level` and `count`.", ""]
    for name, cls in sorted(models().items()):
        if cls.__module__.startswith("pimsim."):
            doc = cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
            lines += [f"### model `{name}`", "", doc.strip().splitlines()[0], "",
                      f"Laws and sources: `{cls.__module__.replace('.', '/')}.py`.", "",
                      "| key | unit | default | meaning |", "|---|---|---|---|"]
            for key, p in cls.all_params().items():
                default = "required" if p.default is not None and p.default.__class__ is object \
                    else f"`{p.default}`"
                lines.append(f"| `{key}` | {p.unit} | {default} | {p.doc} |")
            acts = ", ".join(f"`{a}` ({what})" for a, what in cls.ACTIONS.items())
            lines += ["", f"Actions: {acts or 'none'}. Instance parameters from the design point: "
                      + (", ".join(f"`{k}` ({u})" for k, u in cls.INSTANCE.items()) or "none") + ".", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
