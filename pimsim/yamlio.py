"""The one hardened YAML reader every pimsim input goes through.

Design points, technique schedules, sweep files and endurance settings are all read by
:func:`load_yaml_file`. It guarantees, before any value reaches a validator:

* the path is a **regular file** (a FIFO, a device such as ``/dev/zero``, a socket or a
  directory is refused, also behind a symlink) of at most ``MAX_YAML_BYTES``;
* the bytes are **UTF-8** (a Latin-1 or UTF-16 file is an error naming the offset);
* the document is small once **aliases are expanded** (``MAX_YAML_NODES``: a 400-byte
  "billion laughs" file is refused before anything expands it) and not nested deeper than
  ``MAX_YAML_DEPTH`` (no ``RecursionError``); recursive aliases are refused;
* every mapping **key is a scalar** (``? [a, b]`` is an error) and appears **once**.

So any later ``str()`` of a value (a did-you-mean, a description, an error message) is
bounded too. Errors are raised as the caller's error class (ConfigError, ScheduleError),
naming the file and, where known, the line and column.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from pimsim.errors import ConfigError, PimsimError
from pimsim.fileio import file_kind, open_regular  # noqa: F401 (file_kind re-exported)

MAX_YAML_BYTES = 1 << 20
"""Largest YAML input (bytes). pimsim's own files are under 10 KiB; a sweep listing every
value by hand stays far below this."""
MAX_YAML_NODES = 100_000
"""Most scalars plus collections a document may hold with every alias expanded."""
MAX_YAML_DEPTH = 64
"""Deepest nesting of mappings and lists (pimsim's schemas need 5)."""


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader (libyaml's when available: sweeps parse many files) that refuses duplicate
    keys, which PyYAML would silently resolve to the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain name or number, not a list or "
                "mapping", key_node.start_mark)
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:       # unhashable (a !!binary bytearray, ...)
            raise yaml.constructor.ConstructorError(
                None, None, f"unusable mapping key of type {type(key).__name__}",
                key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {str(key)[:80]!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _where(mark) -> str | None:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None


def read_regular_file(path: str | os.PathLike, *, max_bytes: int, error: type = PimsimError,
                      what: str = "file") -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes``; ``error``
    (naming the path) for a missing file, a directory, a FIFO/device/socket or a big file."""
    path = Path(path)
    fd = open_regular(path, max_bytes=max_bytes, error=error, what=what)
    try:
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 16, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise error(f"{what} too large", file=path,
                            expected=f"at most {max_bytes} bytes")
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror}", file=path) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode_utf8(data: bytes, path: Path, error: type = ConfigError) -> str:
    """``data`` as text (a UTF-8 byte-order mark is allowed); ``error`` otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = " (UTF-16?)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise error(f"not UTF-8 text{hint}: undecodable byte 0x{data[exc.start]:02x} at "
                    f"offset {exc.start}", file=path,
                    expected="a UTF-8 file (save it as UTF-8)") from None


def check_events(text: str, path: Path, error: type = ConfigError, *,
                 max_nodes: int = MAX_YAML_NODES, max_depth: int = MAX_YAML_DEPTH) -> None:
    """Walk the YAML event stream (no object is built): nesting depth, size with every alias
    expanded, recursive aliases and non-scalar keys. Raises ``error`` on the first excess."""
    sizes: dict[str, int] = {}       # anchor -> expanded node count
    open_anchors: set[str] = set()
    stack: list[list] = []           # [expanded size, anchor, is_mapping, children seen]
    total = 0

    def fail(msg: str, mark, **kw):
        raise error(msg, file=path, where=_where(mark), **kw)

    def count(size: int, mark, collection: bool) -> None:
        nonlocal total
        total += size
        if total > max_nodes:
            fail("document too large once its aliases are expanded (an alias bomb?)", mark,
                 expected=f"at most {max_nodes} values")
        if collection and stack and stack[-1][2] and stack[-1][3] % 2 == 0:
            fail("a mapping key must be a plain name or number, not a list or mapping", mark)

    def close(size: int) -> None:
        if stack:
            stack[-1][0] += size
            stack[-1][3] += 1

    try:
        for event in yaml.parse(text, Loader=_StrictLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= max_depth:
                    fail("nested too deeply", event.start_mark,
                         expected=f"at most {max_depth} levels of mappings and lists")
                count(1, event.start_mark, True)
                if event.anchor:
                    open_anchors.add(event.anchor)
                stack.append([1, event.anchor, isinstance(event, yaml.MappingStartEvent), 0])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                size, anchor, _, _ = stack.pop()
                if anchor:
                    open_anchors.discard(anchor)
                    sizes[anchor] = size
                close(size)
            elif isinstance(event, yaml.ScalarEvent):
                count(1, event.start_mark, False)
                if event.anchor:
                    sizes[event.anchor] = 1
                close(1)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    fail("recursive alias (a value that contains itself)", event.start_mark,
                         found=f"*{event.anchor}")
                size = sizes.get(event.anchor)
                if size is None:
                    fail(f"unknown alias *{event.anchor}", event.start_mark)
                count(size, event.start_mark, size > 1)
                close(size)
    except yaml.YAMLError as exc:
        _raise_yaml(exc, path, error)
    except RecursionError:
        raise error("nested too deeply", file=path,
                    expected=f"at most {max_depth} levels of mappings and lists") from None


def _raise_yaml(exc: yaml.YAMLError, path: Path, error: type):
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    raise error(f"malformed YAML: {str(problem)[:200]}", file=path, where=_where(mark)) from None


def parse_yaml_text(text: str, path: Path, error: type = ConfigError) -> Any:
    """Check (:func:`check_events`) then build the document; ``error`` on any problem."""
    check_events(text, path, error)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        _raise_yaml(exc, path, error)
    except RecursionError:
        raise error("nested too deeply", file=path) from None


def load_yaml_file(path: str | os.PathLike, *, error: type = ConfigError,
                   max_bytes: int = MAX_YAML_BYTES, what: str = "YAML file") -> Any:
    """Read, decode, check and parse one YAML file (see the module docstring)."""
    path = Path(path)
    data = read_regular_file(path, max_bytes=max_bytes, error=error, what=what)
    return parse_yaml_text(decode_utf8(data, path, error), path, error)


def short_text(value: Any, limit: int = 80) -> str:
    """``str(value)`` for messages and did-you-means, never longer than ``limit``: a string
    is cut, anything else is summarised by its type (never expanded)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "..."
    if isinstance(value, (bool, int, float)) or value is None:
        text = repr(value)
        return text if len(text) <= limit else text[:limit] + "..."
    return f"<{type(value).__name__}>"
