"""Print the tables of docs/crossbar-sizes.md: ISAAC with 64/128/256/512 crossbars.

Usage: python scripts/crossbar_sizes.py (prints them);
python -m pimsim.report.doc_tables --write crossbar-sizes (writes them into the page).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pimsim.report.crossbar_sizes import tables  # noqa: E402


def main() -> None:
    print(tables())


if __name__ == "__main__":
    main()
