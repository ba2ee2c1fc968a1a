"""docs/techniques.md §8.1 is generated (pimsim.techniques.docs_tables) and still current:
the cnn_digits rows are regenerated here with the same command the page names (the other
traces take minutes: `python -m pimsim.report.doc_tables --check --slow techniques-compare`
checks all; `python -m pimsim.techniques.docs_tables` regenerates all)."""

from pimsim.techniques.commands import ROWS, compare
from pimsim.techniques.docs_tables import DOC, generated_lines, row_lines


def test_compare_table_block_has_every_row_of_every_trace():
    lines = generated_lines(DOC.read_text())
    assert len(lines) == 1 + 4 * len(ROWS)       # header, 7 rows x 4 traces


def test_cnn_digits_rows_are_current():
    lines = generated_lines(DOC.read_text())
    fresh = row_lines(compare(["traces/cnn_digits.npz"]))
    missing = [line for line in fresh if line not in lines]
    assert not missing, ("docs/techniques.md §8.1 is stale: run "
                         "`python -m pimsim.techniques.docs_tables`; fresh rows:\n"
                         + "\n".join(missing))


# the curves block (techniques-curves) is checked by tests/report/test_doc_tables.py
