"""Writing result files atomically: a reader never sees a half-written file."""

from __future__ import annotations

import re
from pathlib import Path

from pimsim.fileio import ensure_dir, write_atomic  # noqa: F401  (re-exported for reports)
from pimsim.report.tables import Table, to_csv, to_json, to_markdown


def slug(text: str) -> str:
    """A file-name-safe lower-case form of a table title."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


def write_tables(out_dir: str | Path, stem: str, tables: list[Table], data: dict) -> list[Path]:
    """``stem``.json (all data), one ``stem``_<table>.csv per table and one ``stem``.md."""
    out_dir = Path(out_dir)
    ensure_dir(out_dir)
    written = [write_atomic(out_dir / f"{stem}.json", to_json(data))]
    used: set[str] = set()
    for i, table in enumerate(tables):
        name = table.slug or slug(table.title)
        if name in used:
            name = f"{name}_{i + 1}"
        used.add(name)
        written.append(write_atomic(out_dir / f"{stem}_{name}.csv", to_csv(table)))
    written.append(write_atomic(out_dir / f"{stem}.md", "\n".join(to_markdown(t) for t in tables)))
    return written


def planned_files(out_dir: str | Path, stem: str, slugs: tuple[str, ...]) -> list[Path]:
    """The files :func:`write_tables` will write for tables with these slugs (so a command
    can refuse, before running, another option that names one of them)."""
    out_dir = Path(out_dir)
    return ([out_dir / f"{stem}.json"] + [out_dir / f"{stem}_{s}.csv" for s in slugs]
            + [out_dir / f"{stem}.md"])
