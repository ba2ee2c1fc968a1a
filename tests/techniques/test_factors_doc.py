"""docs/techniques.md section 8.2 (the ERA-BS factor table) is what the generator prints."""

from pathlib import Path

import pytest

from pimsim.techniques import factors

DOC = Path(__file__).resolve().parents[2] / "docs" / "techniques.md"


def test_splice_replaces_only_the_block():
    page = f"head\n{factors.BEGIN}\nold\n{factors.END}\ntail\n"
    new = factors.splice(page, f"{factors.BEGIN}\nnew\n{factors.END}")
    assert new == f"head\n{factors.BEGIN}\nnew\n{factors.END}\ntail\n"
    assert factors.current_block(new) == f"{factors.BEGIN}\nnew\n{factors.END}"
    with pytest.raises(ValueError):
        factors.splice("no markers", "x")


def test_factor_table_in_the_docs_is_current():
    committed = factors.current_block(DOC.read_text(encoding="utf-8"))
    assert committed == factors.render(), (
        "docs/techniques.md section 8.2 is stale: run "
        "python -m pimsim.techniques.factors --write docs/techniques.md")
