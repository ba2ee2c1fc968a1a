"""The sweep output store: one JSON line per finished point, appended as it finishes.

``DIR/points.jsonl`` holds one record per line (the dict :func:`run_point` returns, plus
``finished_at``), keyed by the point's content key. Each line is written with one
``write`` call, flushed and fsync'ed before the next point is accepted, so a crash or
Ctrl-C loses at most the line being written; a torn last line is ignored on reading and
the point simply runs again, as does a line that is no valid record (:func:`valid_record`:
non-finite figures, missing fields) or a record of an older schema (:func:`current_record`).
Later lines win, so a retried point replaces its failure.
``DIR/sweep.json`` (the plan: every point, its axes and key) is rewritten atomically.
Only the sweep driver writes, and a lock file keeps two drivers out of one directory.
"""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from pimsim.errors import PimsimError
from pimsim.fileio import write_error
from pimsim.result import SCHEMA_VERSION
from pimsim.report.output import write_atomic
from pimsim.report.tables import to_json

POINTS_FILE = "points.jsonl"
MANIFEST_FILE = "sweep.json"
LOCK_FILE = ".lock"


class StoreBusy(PimsimError):
    """Another sweep is writing to the same output directory."""


def valid_record(rec: object) -> bool:
    """A record this version can read: a dict with a text ``key`` and ``status`` 'ok' or
    'failed'; 'failed' carries an ``error`` dict; 'ok' carries its figures and every number
    anywhere in the record is finite (``1e999`` parses to inf). Anything else reruns its point.

    The figures of an 'ok' record sit in ``result.total`` (the whole Result, as
    :func:`pimsim.sweep.point.run_point` writes it); a record of an older schema may carry
    them as a top-level ``total`` instead. Such a record is readable but not current
    (:func:`current_record`), so its point is evaluated again rather than reported.
    """
    if not isinstance(rec, dict) or not isinstance(rec.get("key"), str) or not rec["key"]:
        return False
    if rec.get("status") == "failed":
        return isinstance(rec.get("error"), dict) and _finite(rec)
    if rec.get("status") != "ok":
        return False
    if isinstance(rec.get("result"), dict):
        total = rec["result"].get("total")
    elif current_record(rec):
        return False                 # this schema nests the whole Result: none, unusable
    else:
        total = rec.get("total")     # an older record's top-level totals
    if not isinstance(total, dict) or not total:
        return False
    area = rec.get("area_breakdown_mm2")
    if area is not None and not isinstance(area, dict):
        return False
    return _finite(rec)


def _finite(obj: object, depth: int = 0) -> bool:
    """Every int/float in ``obj`` (nested dicts and lists) is finite; flags, text and
    null may sit beside them."""
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return depth < 64 and all(_finite(v, depth + 1) for v in obj.values())
    if isinstance(obj, list):
        return depth < 64 and all(_finite(v, depth + 1) for v in obj)
    return True


def read_records(path: str | Path) -> tuple[dict[str, dict], int]:
    """(key -> last record, count of unusable lines) of a points file; missing = empty.

    A line that is torn, not UTF-8, not JSON (``NaN`` included) or not a valid record is
    counted and skipped: its point simply runs again.
    """
    records: dict[str, dict] = {}
    bad = 0
    path = Path(path)
    if path.is_dir():
        raise PimsimError("is a directory where the sweep's points file should be", file=path,
                          expected="a file (move the directory away; its points run again)")
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return records, 0
    except OSError as exc:
        raise PimsimError(f"cannot read the points file: {exc.strerror}", file=path) from None
    with fh:
        for raw in fh:
            raw = raw.strip()
            if not raw:
                continue
            try:
                rec = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
            except (UnicodeDecodeError, ValueError, RecursionError):
                bad += 1            # a line torn by a crash mid-write: that point reruns
                continue
            if valid_record(rec):
                records[rec["key"]] = rec
            else:
                bad += 1
    return records, bad


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def current_record(record: dict) -> bool:
    """True when ``record`` is in this pimsim's result schema; an older record's point is
    evaluated again (and its new record replaces it) rather than mixed into a report."""
    return record.get("schema_version") == SCHEMA_VERSION


def read_manifest(out_dir: str | Path) -> dict:
    """The stored plan (``sweep.json``); PimsimError when it is missing or damaged."""
    path = Path(out_dir) / MANIFEST_FILE
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise PimsimError("not a sweep output directory (no sweep.json)", file=out_dir,
                          expected="a directory written by 'pimsim sweep'") from None
    except IsADirectoryError:
        raise PimsimError("is a directory where the sweep's plan file should be", file=path,
                          expected="a file written by 'pimsim sweep' (re-run the sweep)") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PimsimError(f"damaged sweep.json: {str(exc)[:200]}", file=path,
                          expected="re-run 'pimsim sweep' to rewrite it") from None
    except OSError as exc:
        raise PimsimError(f"cannot read sweep.json: {exc.strerror}", file=path) from None
    points = doc.get("points") if isinstance(doc, dict) else None
    if not isinstance(points, list) or not all(
            isinstance(p, dict) and isinstance(p.get("status"), str) and "role" in p
            and isinstance(p.get("axes", {}), dict) for p in points):
        raise PimsimError("damaged sweep.json: no valid list of points", file=path,
                          expected="re-run 'pimsim sweep' to rewrite it")
    return doc


class Store:
    """Append-only points file plus the manifest, in ``out_dir``; use as a context manager."""

    def __init__(self, out_dir: str | Path):
        self.dir = Path(out_dir)
        self.points_path = self.dir / POINTS_FILE
        self._fh = None
        self._lock_fh = None

    def __enter__(self) -> "Store":
        from pimsim.fileio import ensure_dir

        ensure_dir(self.dir)
        self._lock()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:        # not POSIX: no lock, one driver per directory by convention
            return
        try:
            self._lock_fh = open(self.dir / LOCK_FILE, "a")
        except OSError as exc:
            raise write_error(exc, self.dir / LOCK_FILE) from None
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
        record = dict(record, finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        try:
            line = json.dumps(record, default=_plain, allow_nan=False)
        except ValueError:          # a non-finite figure: strict JSON only, the point failed
            line = json.dumps(_as_failed(record), default=_plain, allow_nan=False)
        try:
            if self._fh is None:
                torn = self.points_path.exists() and self.points_path.stat().st_size > 0 \
                    and not _ends_with_newline(self.points_path)
                self._fh = open(self.points_path, "a", encoding="utf-8")
                if torn:                # start after a torn line, never glued to it
                    self._fh.write("\n")
            self._fh.write(line + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            self._discard()
            raise write_error(exc, self.points_path) from None

    def write_manifest(self, manifest: dict) -> Path:
        return write_atomic(self.dir / MANIFEST_FILE, to_json(manifest))

    def _discard(self) -> None:
        """Drop the handle after a failed write (its buffer cannot be flushed either)."""
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError as exc:
                self._fh = None
                raise write_error(exc, self.points_path) from None
            self._fh = None
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def _as_failed(record: dict) -> dict:
    keep = {k: v for k, v in record.items()
            if k not in ("result", "total", "energy_breakdown_pJ", "area_breakdown_mm2")}
    if "result" in record:          # this schema's shape: the fields stay, without figures
        keep.update(result=None, area_breakdown_mm2=None)
    keep.update(status="failed", error={"type": "NonFiniteResult", "message": (
        "the evaluation produced a non-finite figure (inf or NaN); a parameter is outside "
        "what the models can evaluate")})
    return keep


def _plain(obj):
    if hasattr(obj, "tolist"):     # numpy scalars from a result
        return obj.tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
