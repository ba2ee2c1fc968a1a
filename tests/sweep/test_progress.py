"""The progress line: done/total, failures, ETA; silent unless on a terminal."""

import io

from pimsim.sweep.progress import Progress


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_silent_when_not_a_terminal_or_quiet():
    for stream, quiet in ((io.StringIO(), False), (Tty(), True)):
        bar = Progress(10, stream=stream, quiet=quiet)
        bar.update()
        bar.close()
        assert stream.getvalue() == "" and not bar.enabled


def test_plain_line_counts_and_eta(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *a, **k):             # the fallback line, as without the extra
        if name == "tqdm":
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    stream = Tty()
    bar = Progress(10, stream=stream, desc="mini")
    assert bar.enabled and bar._bar is None
    bar.update(evaluated=False)              # taken from the store: done, not in the rate
    bar.update()
    bar.update(failed=True)
    line = bar.line()
    assert line.startswith("mini: 3/10 points") and "1 failed" in line and "ETA" in line
    assert "ETA ?" not in line               # two evaluated points give a rate
    bar.close()
    out = stream.getvalue()
    assert out.endswith("\n") and "3/10 points" in out


def test_tqdm_bar_when_installed():
    import pytest
    pytest.importorskip("tqdm")
    stream = Tty()
    bar = Progress(4, stream=stream, desc="mini")
    for failed in (False, True, False, False):
        bar.update(failed=failed)
    bar.close()
    out = stream.getvalue()
    assert "4/4" in out and "failed=1" in out
