"""User-facing error types.

A user mistake (bad YAML, bad trace, bad schedule) raises one of these, carrying the
file, the key path or layer, what was found and what was expected. The CLI prints it as
one paragraph and exits non-zero; a real bug still shows its traceback.
"""

from __future__ import annotations

import reprlib

# A hostile input (a YAML alias bomb, a huge number) must not make the message itself huge.
_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlevel = 3
_REPR.maxlong = 40


class PimsimError(Exception):
    """Base of every error caused by user input."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None,
                 found: object = None, expected: str | None = None):
        self.file = str(file) if file is not None else None
        self.where = None if where is None else str(where)
        self.found = found
        self.expected = expected
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.where:
            parts.append(self.where)
        head = ": ".join(parts)
        text = f"{head}: {self.detail}" if head else self.detail
        if self.found is not None:
            text += f" (found {_REPR.repr(self.found)})"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


class ConfigError(PimsimError):
    """A design point (YAML) is malformed, inconsistent or names unknown keys."""


class TraceError(PimsimError):
    """A layer trace is malformed, inconsistent, too large or unsafe."""


class ScheduleError(PimsimError):
    """A technique schedule is malformed or does not fit the trace."""


class EngineError(PimsimError):
    """A simulation that cannot run or finish: over a work cap, or deadlocked."""
