"""pimsim.optional: a missing optional package is a user-facing error naming what needed
it and the install hint, never an ImportError traceback."""

import sys

import pytest

from pimsim.errors import PimsimError, TraceError
from pimsim.optional import require


def test_present_module_is_returned():
    import json
    assert require("json", "reading JSON", "nothing to install") is json


def test_missing_module_raises_the_named_error(monkeypatch):
    # a name that can never be imported (None in sys.modules blocks the import)
    monkeypatch.setitem(sys.modules, "pimsim_absent_pkg", None)
    with pytest.raises(TraceError) as err:
        require("pimsim_absent_pkg", "importing a model", "pip install it", error=TraceError,
                where="import")
    text = str(err.value)
    assert "importing a model needs pimsim_absent_pkg" in text
    assert text.startswith("import: ") and "expected pip install it" in text
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_missing_submodule_counts_as_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "json.pimsim_absent_sub", None)
    with pytest.raises(PimsimError, match="needs json"):
        require("json", "parsing", "hint", also=("pimsim_absent_sub",))


def test_plots_without_matplotlib_say_how_to_install(monkeypatch):
    from pimsim.report.plots import PlotsUnavailable, require_matplotlib
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotsUnavailable, match=r"\[plot\]"):
        require_matplotlib()
