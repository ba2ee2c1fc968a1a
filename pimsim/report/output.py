"""Writing result files atomically: a reader never sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pimsim.report.tables import Table, to_csv, to_json, to_markdown


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temp file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_tables(out_dir: str | Path, stem: str, tables: list[Table], data: dict) -> list[Path]:
    """``stem``.json (all data), and per table ``stem``_<n>.csv plus one ``stem``.md."""
    out_dir = Path(out_dir)
    written = [write_atomic(out_dir / f"{stem}.json", to_json(data))]
    for table in tables:
        slug = table.title.lower().split(":")[0].strip().replace(" ", "_").replace("/", "_")
        written.append(write_atomic(out_dir / f"{stem}_{slug}.csv", to_csv(table)))
    written.append(write_atomic(out_dir / f"{stem}.md", "\n".join(to_markdown(t) for t in tables)))
    return written
