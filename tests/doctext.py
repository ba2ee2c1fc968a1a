"""Docs prose for tests that recompute the figures a paragraph quotes."""

from pathlib import Path


def paragraph(path: Path, anchor: str) -> str:
    """The paragraph of ``path`` (blank-line delimited) that contains ``anchor``, its
    whitespace collapsed to single spaces (a quoted figure may wrap)."""
    for para in path.read_text(encoding="utf-8").split("\n\n"):
        flat = " ".join(para.split())
        if anchor in flat:
            return flat
    raise AssertionError(f"{path.name}: no paragraph contains {anchor!r}")


def assert_quoted(quoted: list[str], path: Path, anchor: str, section: str) -> None:
    """Print ``quoted`` (``pytest -s`` shows the figures) and assert each is in the
    paragraph of ``path`` that contains ``anchor`` (stale: rewrite ``section``)."""
    print("\n".join(quoted))
    para = paragraph(path, anchor)
    for q in quoted:
        assert q in para, f"{path.name} '{section}' is stale: {q}"
