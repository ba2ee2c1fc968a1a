"""Generated documentation pages match what their generators print (no stale docs)."""

from pathlib import Path

import pytest

from pimsim.config import docs as config_docs
from pimsim.report import results_docs, validation

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("page,render", [("validation.md", validation.render),
                                         ("configuration.md", config_docs.render),
                                         ("results.md", results_docs.render)])
def test_generated_page_is_current(page, render):
    assert (DOCS / page).read_text() == render(), (
        f"docs/{page} is stale: regenerate it (see the page's header for the command)")
