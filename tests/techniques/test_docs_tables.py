"""docs/techniques.md §8.1 is generated (pimsim.techniques.docs_tables) and still current:
the cnn_digits rows are regenerated here with the same command the page names (the other
traces take minutes: `python -m pimsim.report.doc_tables --check --slow techniques-compare`
checks all; `python -m pimsim.techniques.docs_tables` regenerates all); §8.3's claims row
is read off the curves blocks."""

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


def _curves(block: str) -> dict[str, list[tuple[float, float, float, float]]]:
    """{granularity: [(ratio, compression, drop %, energy gain)]} of a committed curves block."""
    import re

    from pimsim.report import doc_tables as dt
    out = {}
    for line in dt.committed(dt.registry()[block]).splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and "->" in cells[2]:
            out[cells[1]] = [tuple(float(x) for x in m) for m in re.findall(
                r"([\d.]+) -> \(([\d.]+), (-?[\d.]+) %, ([\d.]+)x\)", cells[2])]
    return out


def test_pruning_claims_row_is_read_off_the_generated_curves():
    # §8.3's "ours" cell quotes the curves blocks: for each granularity, the most
    # compression at <= 0.6 %-point drop (Meng et al.'s criterion); recomputed here from
    # the committed blocks (which --check keeps current), so the prose cannot drift
    text = DOC.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| Meng et al.:"))
    cnn = _curves("techniques-curves")
    best = {g: max((p for p in pts if p[2] <= 0.6), key=lambda p: p[1])
            for g, pts in cnn.items() if any(p[2] <= 0.6 for p in pts)}
    col = best["xbar_column"]
    assert f"cnn_digits {col[1]:.2g}x (xbar_column at ratio {col[0]:g}, {col[2]:g} %-point " \
           f"drop; {col[3]:g}x dynamic energy)" in row
    assert f"{best['filter'][1]:g}x (filter)" in row and f"{best['ou_block'][1]:g}x (OU block)" in row
    assert col[1] == max(p[1] for p in best.values())          # the best row is xbar_column
    r20 = _curves("techniques-curves-resnet20")
    drops = [p[2] for pts in r20.values() for p in pts if p[0] == 0.2]
    assert f"20 % pruning already costs {min(drops):.0f}-{max(drops):.0f} %-points" in row
