"""Writing files atomically: a reader never sees a half-written result, timeline or image.

A leaf module (no pimsim imports but errors) so every stage can use it: reports, the
engine's timeline, sweeps.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pimsim.errors import PimsimError


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
