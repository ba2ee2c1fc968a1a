"""Writing result files atomically: a reader never sees a half-written file."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pimsim.errors import PimsimError
from pimsim.report.tables import Table, to_csv, to_json, to_markdown


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_dir(path: Path) -> None:
    """Create ``path`` as a directory, or say clearly why it cannot be one."""
    if path.exists() and not path.is_dir():
        raise PimsimError("output path exists and is not a directory", file=path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PimsimError(f"cannot create output directory: {exc.strerror}", file=path) from None


def write_atomic(path: str | Path, text: str | bytes) -> Path:
    """Write ``text`` (str, or bytes for images) to a temp file beside ``path``, then
    rename it over ``path``."""
    path = Path(path)
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates 0600; results are ordinary files, readable as the umask allows.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        binary = isinstance(text, bytes)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
