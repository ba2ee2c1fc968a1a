"""Optional: a headless Chromium loads the run report offline and renders its tables and
figures. Skipped (with the reason) where no Chromium is installed, e.g. a fresh CI
machine; the parse-based tests in test_html.py are the mandatory check."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pimsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
BROWSER = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)

pytestmark = pytest.mark.skipif(BROWSER is None, reason="no headless Chromium installed "
                                "(optional: apt-get install chromium-headless-shell)")


def test_chromium_renders_the_report_offline(tmp_path):
    page, out = tmp_path / "run.html", tmp_path / "out"
    assert main(["run", str(ROOT / "configs" / "isaac.yaml"), "--trace",
                 str(ROOT / "traces" / "cnn_digits.npz"), "--html", str(page), "--out",
                 str(out), "--baseline", "none"]) == 0
    doc = json.loads((out / "run.json").read_text())
    shot = tmp_path / "shot.png"
    flags = ["--no-sandbox", "--disable-gpu", "--headless", "--disable-background-networking",
             "--proxy-server=127.0.0.1:9", "--window-size=1200,1600"]   # no network reachable
    dom = subprocess.run([BROWSER, *flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert 'id="totals"' in dom and 'id="layers"' in dom and "<svg" in dom
    assert f'data-value="{doc["total"]["macs"]!r}"' in dom
    subprocess.run([BROWSER, *flags, f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 10_000          # something was drawn
