"""A progress bar for sweeps: points done / total, failures, ETA.

tqdm when installed (the ``progress`` extra), otherwise one plain line on stderr that
rewrites itself. Silent when stderr is not a terminal (logs, CI) or when ``quiet``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _eta(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """``update(failed=...)`` once per finished point; ``close()`` at the end."""

    def __init__(self, total: int, done: int = 0, *, quiet: bool = False, desc: str = "sweep",
                 stream: TextIO | None = None, force: bool = False):
        self.total, self.done, self.failed = total, done, 0
        self._start_done = done
        self._t0 = time.monotonic()
        self._stream = stream or sys.stderr
        self._desc = desc
        self._last = 0.0
        self.enabled = not quiet and (force or _isatty(self._stream))
        self._bar = None
        if self.enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, initial=done, desc=desc, unit="pt",
                                 file=self._stream, dynamic_ncols=True, postfix={"failed": 0})
            else:
                self._draw(force=True)

    def update(self, failed: bool = False, evaluated: bool = True) -> None:
        """One more point done; ``evaluated=False`` for one taken from the store or
        skipped (it does not count towards the rate the ETA is computed from)."""
        self.done += 1
        self.failed += bool(failed)
        if not evaluated:
            self._start_done += 1
        if self._bar is not None:
            if failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(1)
        elif self.enabled:
            self._draw()

    def line(self) -> str:
        """The plain progress line (also what the fallback draws)."""
        ran = self.done - self._start_done
        elapsed = time.monotonic() - self._t0
        left = self.total - self.done
        eta = _eta(left * elapsed / ran) if ran and left else ("00:00" if not left else "?")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self._desc}: {self.done}/{self.total} points ({pct:3.0f}%), "
                f"{self.failed} failed, ETA {eta}")

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.2 and self.done < self.total:
            return                  # at most 5 redraws a second
        self._last = now
        self._stream.write("\r" + self.line() + "\033[K")
        self._stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled:
            self._draw(force=True)
            self._stream.write("\n")
            self._stream.flush()
            self.enabled = False


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
