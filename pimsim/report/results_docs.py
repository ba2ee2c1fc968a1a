"""docs/results.md, generated from the shipped JSON Schema (``pimsim/data/result.schema.json``).

``python -m pimsim.report.results_docs > docs/results.md``; a test keeps the page current.
"""

from __future__ import annotations

import sys

from pimsim.report.documents import load_schema
from pimsim.result import SCHEMA_VERSION

INTRO = f"""# Results: the JSON every command writes

Every JSON document pimsim writes follows one versioned schema: `pimsim run --json` and
`--out DIR` (`run.json`), `pimsim compare --json`, `pimsim area --json`, each line of a
sweep's `points.jsonl`, `pimsim report DIR --json`, and `pimsim techniques
apply|compare|curves --json`. Each document says what it is (`kind`), which schema it follows
(`schema_version`, now {SCHEMA_VERSION}: raised when a field changes meaning or is removed; new
optional fields keep it) and which pimsim wrote it (`pimsim_version`).

The schema ships with the package as a JSON Schema (draft 2020-12),
`pimsim/data/result.schema.json`; `pimsim.report.documents.validate(doc)` checks a document
against it (needs `jsonschema`), and the test suite validates every command's output.

- **Strict JSON**: no `NaN` or `Infinity` anywhere. A figure that does not apply is `null`
  and the document's `notes` say why (e.g. `prune_ratio` of a row that does not prune,
  `accuracy` on a shape-only trace), or the field is left out (`engine_stats` of an
  analytic result).
- **Units** are in the field names where they are not counts (`_pJ`, `_ns`, `_mW`, `_mm2`,
  `_per_s`) and in the tables below. 1 MAC = 2 ops. Per-image figures are for one image in
  the pipelined steady state.
- **Identity**: a result's `identity` holds content hashes (SHA-256): of the resolved design
  point (`extends` and overrides applied; the file path left out, so a copy hashes alike), of
  the network's layer shapes, and of the trace file's bytes. Two results with the same three
  hashes and fidelity evaluated the same thing.
- **Fields other parts of pimsim add** are declared here as optional and shown by the
  terminal and HTML views when present: `total.bottleneck` (which layer and resource limit
  throughput), `total.accuracy` (a functional run's accuracy), and further `fidelity`
  fields (steady-state figures of the engine).
- Python: `pimsim.run(...)` returns a `Result`; `result.as_dict()` is the `result` document
  below (the one place a Result becomes a dict), `result.to_frame()` and
  `result.layers_frame()` give pandas DataFrames (the `pandas` extra).

This page is generated from the schema by `python -m pimsim.report.results_docs`.
"""

ORDER = ("result", "run", "compare", "area", "sweep_point", "sweep_report", "technique_apply",
         "technique_compare", "technique_curves", "fidelity", "identity", "total", "layer",
         "engine_stats", "layer_timing", "weight_load")


def _type(node: dict) -> str:
    if "$ref" in node:
        return f"[{node['$ref'].split('/')[-1]}](#{node['$ref'].split('/')[-1].replace('_', '-')})"
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "oneOf" in node or "anyOf" in node:
        return " or ".join(_type(n) for n in node.get("oneOf", node.get("anyOf")))
    if node.get("maxProperties") == 0:
        return "empty object"
    t = node.get("type", "any")
    t = " \\| ".join(t) if isinstance(t, list) else t
    if t == "array" and "items" in node:
        return f"array of {_type(node['items'])}"
    if t == "object" and isinstance(node.get("additionalProperties"), dict):
        return "object of numbers"
    return t


def _rows(node: dict, prefix: str = "") -> list[str]:
    required = set(node.get("required", []))
    out = []
    for name, sub in (node.get("properties") or {}).items():
        req = "yes" if name in required else "optional"
        desc = sub.get("description", "").replace("|", "\\|")
        out.append(f"| `{prefix}{name}` | {_type(sub)} | {sub.get('unit', '-')} | {req} | {desc} |")
        if "properties" in sub and "$ref" not in sub:
            out += _rows(sub, f"{prefix}{name}.")
        for option in sub.get("anyOf", []):
            if "properties" in option:
                out += _rows(option, f"{prefix}{name}.")
    return out


def render() -> str:
    schema = load_schema()
    defs = schema["$defs"]
    lines = [INTRO]
    for name in ORDER + tuple(k for k in defs if k not in ORDER):
        node = defs[name]
        lines += ["", f"## {name}", "", node.get("description", "") + ".", "",
                  "| field | type | unit | required | meaning |", "|---|---|---|---|---|"]
        lines += _rows(node)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
