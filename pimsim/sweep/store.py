"""The sweep output store: one JSON line per finished point, appended as it finishes.

``DIR/points.jsonl`` holds one record per line (the dict :func:`run_point` returns, plus
``finished_at``), keyed by the point's content key. Each line is written with one
``write`` call, flushed and fsync'ed before the next point is accepted, so a crash or
Ctrl-C loses at most the line being written; a torn last line is ignored on reading and
the point simply runs again. Later lines win, so a retried point replaces its failure.
``DIR/sweep.json`` (the plan: every point, its axes and key) is rewritten atomically.
Only the sweep driver writes, and a lock file keeps two drivers out of one directory.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from pimsim.errors import PimsimError
from pimsim.result import SCHEMA_VERSION
from pimsim.report.output import write_atomic
from pimsim.report.tables import finite, to_json

POINTS_FILE = "points.jsonl"
MANIFEST_FILE = "sweep.json"
LOCK_FILE = ".lock"


class StoreBusy(PimsimError):
    """Another sweep is writing to the same output directory."""


def read_records(path: str | Path) -> tuple[dict[str, dict], int]:
    """(key -> last record, count of unreadable lines) of a points file; missing = empty."""
    records: dict[str, dict] = {}
    bad = 0
    try:
        fh = open(path, encoding="utf-8")
    except FileNotFoundError:
        return records, 0
    with fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                bad += 1            # a line torn by a crash mid-write: that point reruns
                continue
            if isinstance(rec, dict) and rec.get("key"):
                records[rec["key"]] = rec
            else:
                bad += 1
    return records, bad


def current_record(record: dict) -> bool:
    """True when ``record`` is in this pimsim's result schema; an older record's point is
    evaluated again (and its new record replaces it) rather than mixed into a report."""
    return record.get("schema_version") == SCHEMA_VERSION


def read_manifest(out_dir: str | Path) -> dict:
    path = Path(out_dir) / MANIFEST_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PimsimError("not a sweep output directory (no sweep.json)", file=out_dir,
                          expected="a directory written by 'pimsim sweep'") from None
    except json.JSONDecodeError as exc:
        raise PimsimError(f"unreadable sweep.json: {exc}", file=path) from None


class Store:
    """Append-only points file plus the manifest, in ``out_dir``; use as a context manager."""

    def __init__(self, out_dir: str | Path):
        self.dir = Path(out_dir)
        self.points_path = self.dir / POINTS_FILE
        self._fh = None
        self._lock_fh = None

    def __enter__(self) -> "Store":
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:        # not POSIX: no lock, one driver per directory by convention
            return
        self._lock_fh = open(self.dir / LOCK_FILE, "a")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_fh.close()
            self._lock_fh = None
            raise StoreBusy("another sweep is writing to this directory", file=self.dir,
                            expected="one 'pimsim sweep' per output directory") from None

    def read(self) -> dict[str, dict]:
        records, bad = read_records(self.points_path)
        if bad:
            sys.stderr.write(f"pimsim sweep: ignored {bad} unreadable line(s) in "
                             f"{self.points_path}; those points run again\n")
        return records

    def append(self, record: dict) -> None:
        """Write one finished point durably before returning."""
        if self._fh is None:
            torn = self.points_path.exists() and self.points_path.stat().st_size > 0 \
                and not self.points_path.read_bytes().endswith(b"\n")
            self._fh = open(self.points_path, "a", encoding="utf-8")
            if torn:                # start after a torn line, never glued to it
                self._fh.write("\n")
        record = dict(record, finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        # Strict JSON: a non-finite number (a model bug) is stored as null, never NaN.
        self._fh.write(json.dumps(finite(record), default=_plain, allow_nan=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def write_manifest(self, manifest: dict) -> Path:
        return write_atomic(self.dir / MANIFEST_FILE, to_json(manifest))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None


def _plain(obj):
    if hasattr(obj, "tolist"):     # numpy scalars from a result
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
