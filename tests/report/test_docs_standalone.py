"""docs/ and the README stand alone: no reference to a path outside the repository, and
every relative Markdown link points at a file that exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
# Sweep files live in configs/sweeps/ and name their base and traces relative to it
# (docs/sweeps.md shows such files): a '../' path must stay inside the repository from
# the page's own folder or from there.
BASES = (ROOT / "docs", ROOT / "configs" / "sweeps")


def _inside(path: Path) -> bool:
    try:
        path.resolve().relative_to(ROOT.resolve())
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_reference_outside_the_repository(page):
    text = page.read_text()
    assert "shared/" not in text, f"{page.name} refers to shared/ (outside the repository)"
    for m in re.finditer(r"(?:\.\./)+[\w.\-/]*", text):
        ref = m.group(0)
        assert any(_inside(base / ref) for base in BASES), \
            f"{page.name}: '{ref}' leads outside the repository"
    for absolute in re.findall(r"(?<![\w.])/(?:work|home|tmp|Users)/[\w.\-/]+", text):
        pytest.fail(f"{page.name}: absolute path {absolute}")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_exist(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if re.match(r"[a-z]+:", target):          # http:, https:, mailto:
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
