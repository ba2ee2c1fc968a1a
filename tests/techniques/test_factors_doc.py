"""docs/techniques.md section 8.2 (the ERA-BS factor table): the splice helper of
pimsim.techniques.factors."""

import pytest

from pimsim.techniques import factors

def test_splice_replaces_only_the_block():
    page = f"head\n{factors.BEGIN}\nold\n{factors.END}\ntail\n"
    new = factors.splice(page, f"{factors.BEGIN}\nnew\n{factors.END}")
    assert new == f"head\n{factors.BEGIN}\nnew\n{factors.END}\ntail\n"
    assert factors.current_block(new) == f"{factors.BEGIN}\nnew\n{factors.END}"
    with pytest.raises(ValueError):
        factors.splice("no markers", "x")


# the page's block is checked current with every other generated table by
# tests/report/test_doc_tables.py (block techniques-factors)
