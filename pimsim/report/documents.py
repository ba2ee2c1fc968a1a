"""The JSON documents pimsim writes, all in one versioned schema (docs/results.md).

A Result becomes a dict in one place only (:meth:`pimsim.result.Result.as_dict`); this
module wraps such dicts into the documents each command prints or stores (``run``,
``compare``, ``area``, ``sweep_point``, ``sweep_report``, ``technique_*``) and checks a
document against the shipped JSON Schema (``pimsim/data/result.schema.json``).
Strict JSON: no NaN or Infinity anywhere; a figure that does not apply is ``null`` and the
document's ``notes`` say why.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources

from pimsim import __version__
from pimsim.result import SCHEMA_VERSION

SCHEMA_FILE = "result.schema.json"


def envelope(kind: str, **fields) -> dict:
    """``{schema_version, pimsim_version, kind, **fields}``."""
    return {"schema_version": SCHEMA_VERSION, "pimsim_version": __version__, "kind": kind,
            **fields}


def run_document(result: dict, baseline: dict | None) -> dict:
    """``pimsim run``: the result's own fields, ``kind: run`` and the baseline result."""
    return {**result, "kind": "run", "baseline": baseline}


def compare_document(results: list[dict]) -> dict:
    network = results[0].get("network") if results else None
    return envelope("compare", network=network, results=list(results))


def area_document(rollup_dict: dict) -> dict:
    return envelope("area", **rollup_dict)


def rows_document(kind: str, rows: list[dict], notes: list[str] | tuple[str, ...] = ()) -> dict:
    """A table as data (``technique_compare``, ``technique_curves``): columns, rows, notes."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return envelope(kind, columns=columns, rows=[dict(r) for r in rows], notes=list(notes))


def non_finite_paths(obj, path: str = "$") -> list[str]:
    """JSON paths of NaN / Infinity values (what strict JSON forbids)."""
    if isinstance(obj, float):
        return [] if math.isfinite(obj) else [path]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in non_finite_paths(v, f"{path}.{k}")]
    if isinstance(obj, (list, tuple)):
        return [p for i, v in enumerate(obj) for p in non_finite_paths(v, f"{path}[{i}]")]
    return []


@lru_cache(maxsize=1)
def load_schema() -> dict:
    """The shipped JSON Schema of every document (draft 2020-12)."""
    text = resources.files("pimsim").joinpath("data", SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def validate(doc: dict | str) -> None:
    """Raise ``ValueError`` naming the failing path when ``doc`` (a dict or JSON text) is
    not strict JSON or does not match the schema of its ``kind``. Needs ``jsonschema``
    (the dev extra)."""
    import jsonschema

    if isinstance(doc, str):
        def reject(token):
            raise ValueError(f"non-standard JSON constant {token}")
        doc = json.loads(doc, parse_constant=reject)
    bad = non_finite_paths(doc)
    if bad:
        raise ValueError(f"non-finite numbers at {', '.join(bad[:5])}")
    schema = load_schema()
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind not in schema["$defs"]:
        raise ValueError(f"unknown document kind {kind!r}")
    sub = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{kind}"}
    validator = jsonschema.Draft202012Validator(sub)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        raise ValueError(f"{kind} document does not match the schema at {where}: {e.message}"
                         + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
