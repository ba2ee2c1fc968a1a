"""Writing files atomically: a reader never sees a half-written result, timeline or image.

A leaf module (no pimsim imports but errors) so every stage can use it: reports, the
engine's timeline, sweeps.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from pimsim.errors import PimsimError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_dir(path: Path) -> None:
    """Create ``path`` as a directory, or say clearly why it cannot be one."""
    try:
        if path.exists() and not path.is_dir():
            raise PimsimError("output path exists and is not a directory", file=path)
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PimsimError(f"cannot create output directory: {exc.strerror}", file=path) from None


def write_atomic(path: str | Path, text: str | bytes) -> Path:
    """Write ``text`` (str, or bytes for images) to a temp file beside ``path``, then
    rename it over ``path``."""
    path = Path(path)
    ensure_dir(path.parent)
    check_replaceable(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(exc, path) from None
    try:
        # mkstemp creates 0600; results are ordinary files, readable as the umask allows.
        os.chmod(tmp, 0o666 & ~_umask())
        binary = isinstance(text, bytes)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_replaceable(path: str | Path) -> None:
    """PimsimError unless ``path`` is missing or a regular file: an atomic writer renames its
    temp file over ``path``, and must never do that to a directory, a FIFO or a device (as
    root, ``--out /dev/zero`` would turn the device into a file)."""
    kind = file_kind(path)
    if kind == "a directory":
        raise PimsimError("is a directory; give a file name", file=path)
    if kind not in (None, "a missing file"):
        raise PimsimError(f"output path is {kind.replace('not a regular file but ', '')}, not "
                          "a regular file; refusing to replace it", file=path,
                          expected="a path to a regular file")


def write_error(exc: OSError, path: str | Path) -> PimsimError:
    """One-paragraph error for a failed write: the path and the system's reason (disk full,
    read-only file system, permission denied, name too long); nothing half-written is left."""
    hint = {28: "free some space or write elsewhere", 30: "write to a writable directory",
            13: "write to a directory you may write to", 36: "use a shorter file name",
            122: "free some space (disk quota) or write elsewhere"}.get(exc.errno or 0)
    return PimsimError(f"cannot write: {exc.strerror or exc}", file=path, expected=hint)


# -- reading: regular files only ------------------------------------------------------


def open_regular(path: str | Path, *, max_bytes: int, error: type = PimsimError,
                 what: str = "file") -> int:
    """A read-only descriptor of ``path`` if it is a regular file of at most ``max_bytes``;
    ``error`` naming the path for a missing file, a directory, a FIFO, a device (``/dev/zero``,
    also behind a symlink), a socket or a file over the cap.

    Opened non-blocking (a FIFO never blocks) and checked again on the descriptor, so a path
    swapped between the two checks is still refused. The caller closes the descriptor.
    """
    path = Path(path)
    try:
        _check_stat(os.stat(path), path, max_bytes, error, what)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error("file not found", file=path) from None
    except ValueError:              # a NUL character: no file system can hold the name
        raise error("not a valid path (it contains a NUL character)", file=repr(str(path))) \
            from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror}", file=path) from None
    try:
        _check_stat(os.fstat(fd), path, max_bytes, error, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_stat(st: os.stat_result, path: Path, max_bytes: int, error: type, what: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise error(f"is a directory, not a {what}", file=path)
    if not stat.S_ISREG(st.st_mode):
        raise error(f"not a regular file but {_special_kind(st.st_mode)}", file=path,
                    expected=f"a {what}")
    if st.st_size > max_bytes:
        raise error(f"{what} too large", file=path, found=f"{st.st_size} bytes",
                    expected=f"at most {max_bytes} bytes")


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def file_kind(path: str | Path) -> str | None:
    """None for a regular file, else what ``path`` is ('a missing file', 'a directory', ...)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):   # ValueError: a NUL character in the name
        return "a missing file"
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return "a directory"
    return f"not a regular file but {_special_kind(st.st_mode)}"
