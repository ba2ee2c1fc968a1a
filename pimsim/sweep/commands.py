"""``pimsim sweep`` and ``pimsim report``: argparse options and the two command functions.

The CLI wires them as::

    sp = sub.add_parser("sweep", help=SWEEP_HELP); add_sweep_arguments(sp)
    sp.set_defaults(func=sweep_command)
    sp = sub.add_parser("report", help=REPORT_HELP); add_report_arguments(sp)
    sp.set_defaults(func=report_command)

Both return an exit status; user mistakes raise :class:`pimsim.errors.PimsimError`.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from pimsim.argtypes import int_in
from pimsim.errors import PimsimError
from pimsim.report.output import ensure_dir
from pimsim.sweep.store import MANIFEST_FILE, POINTS_FILE

SWEEP_HELP = "run a design-space sweep (resumable; local processes or a Dask cluster)"
REPORT_HELP = "tables and plots of a sweep output directory"
DEFAULT_OUT = "sweep-results"
REPORT_DIR = "report"
DIGEST_FILE = ".inputs.sha256"
EXIT_FAILED_POINTS = 1
EXIT_INTERRUPTED = 130
WORKERS_PER_CPU = 4


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep_file", metavar="SWEEP.yaml", help="sweep file (docs/sweeps.md)")
    p.add_argument("--workers", "-j", type=int_in(0, max_workers()), metavar="N", default=None,
                   help=f"local worker processes, 0..{max_workers()} (default: CPU count; 0: in "
                        "this process)")
    p.add_argument("--scheduler", metavar="ADDR", default=None, type=_scheduler_arg,
                   help="run on a Dask cluster, e.g. tcp://HOST:8786 (overrides the sweep "
                        "file's 'scheduler')")
    p.add_argument("--out", metavar="DIR", default=None,
                   help=f"output directory (default {DEFAULT_OUT}/NAME); re-running resumes")
    p.add_argument("--retry-failed", action="store_true",
                   help="evaluate points stored as failed again")
    p.add_argument("--no-report", action="store_true", help="do not write tables and plots")
    p.add_argument("--no-plots", action="store_true", help="write tables but no plots")
    p.add_argument("--html", action="store_true",
                   help="also write the self-contained HTML report (report/sweep.html)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def max_workers() -> int:
    """Most local workers a sweep may start: 4 per CPU this process may use (more only
    oversubscribes the CPUs and multiplies memory)."""
    from pimsim.sweep.runner import default_workers

    return WORKERS_PER_CPU * default_workers()


def _scheduler_arg(text: str) -> str:
    from pimsim.sweep.spec import scheduler_problem

    problem = scheduler_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}: {text[:100]!r} (expected e.g. "
                                         "tcp://HOST:8786)")
    return text


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR", help="a sweep output directory")
    p.add_argument("--no-plots", action="store_true", help="tables only")
    p.add_argument("--html", action="store_true",
                   help="also write one self-contained HTML file (DIR/report/sweep.html: "
                        "tables, Pareto front, breakdowns and curves as inline SVG; opens "
                        "with no network)")
    p.add_argument("--json", action="store_true",
                   help="print the sweep as one JSON document (docs/results.md) instead of "
                        "the Pareto table")
    p.add_argument("--force", action="store_true",
                   help="rewrite even when results are unchanged since the last report")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the file count")


def _digest(out_dir: Path, plots: bool, html: bool = False) -> str:
    from pimsim.result import SCHEMA_VERSION

    h = hashlib.sha256(f"report-v2 schema={SCHEMA_VERSION} plots={plots} html={html}".encode())
    for name in (MANIFEST_FILE, POINTS_FILE):
        path = out_dir / name
        h.update(path.read_bytes() if path.exists() else b"")
    return h.hexdigest()


HTML_FILE = "sweep.html"


def report_document(out_dir: str | Path, files: list | None = None) -> dict:
    """The ``sweep_report`` document: the plan (without its points) and one row per point."""
    from pimsim.report.documents import envelope
    from pimsim.report.sweep_tables import load_sweep_rows

    head, rows = load_sweep_rows(out_dir)
    return envelope("sweep_report", sweep=head, points=rows,
                    files=[str(f) for f in files or []])


def write_report(out_dir: str | Path, *, plots: bool = True, force: bool = False,
                 html: bool = False) -> dict:
    """Tables (CSV, Markdown, JSON), plots and optionally the HTML page into ``out_dir``/report.

    Returns ``{"files": [...], "tables": [...], "reused": bool, "plots_error": str|None}``;
    when the inputs are unchanged since the last report it rewrites nothing (``reused``).
    """
    from pimsim.report.output import write_atomic, write_tables
    from pimsim.report.sweep_tables import load_sweep_rows, sweep_tables

    out_dir = Path(out_dir)
    report_dir = out_dir / REPORT_DIR
    head, rows = load_sweep_rows(out_dir)
    tables = sweep_tables(head, rows)
    digest = _digest(out_dir, plots, html)
    digest_path = report_dir / DIGEST_FILE
    if not force and digest_path.exists() and digest_path.read_text().strip() == digest:
        return {"files": [], "tables": tables, "reused": True, "plots_error": None}
    from pimsim.report.documents import envelope

    files = write_tables(report_dir, "sweep", tables,
                         envelope("sweep_report", sweep=head, points=rows, files=[]))
    if html:
        from pimsim.report.html import sweep_html

        files.append(write_atomic(report_dir / HTML_FILE, sweep_html(head, rows)))
    plots_error = None
    if plots:
        from pimsim.report.plots import PlotsUnavailable, write_plots

        try:
            files += write_plots(head, rows, report_dir)
        except PlotsUnavailable as exc:
            plots_error = str(exc)
    if plots_error is None:         # a report without its plots is redone next time
        write_atomic(digest_path, digest + "\n")
    return {"files": files, "tables": tables, "reused": False, "plots_error": plots_error}


def _print_failures(out_dir: Path, skips: bool = True) -> None:
    from pimsim.report.sweep_tables import SKIPPED, failures_table, load_sweep_rows
    from pimsim.report.tables import Table, to_text

    table = failures_table(*load_sweep_rows(out_dir))
    if not skips:
        table = Table(table.title, table.columns,
                      tuple(r for r in table.rows if r[2] != SKIPPED), table.notes)
    if table.rows:
        print(to_text(table))


def _print_report(report: dict, report_dir: Path, quiet: bool, json_mode: bool = False) -> None:
    from pimsim.report.views import render

    pareto = report["tables"][1]
    if not quiet and not json_mode and pareto.rows:
        text = render([pareto])
        if text is not None:
            print(text)
    if report["plots_error"]:
        sys.stderr.write(f"pimsim: plots skipped: {report['plots_error']}\n")
    stream = sys.stderr if json_mode else sys.stdout
    if report["reused"]:
        stream.write(f"report in {report_dir} is up to date\n")
    elif quiet:
        stream.write(f"wrote {len(report['files'])} files to {report_dir}\n")
    else:
        for path in report["files"]:
            stream.write(f"wrote {path}\n")


def sweep_command(args: argparse.Namespace) -> int:
    """``pimsim sweep SWEEP.yaml [--workers N] [--scheduler ADDR] [--out DIR] ...``.

    Exit status: 0 all points ok (or skipped), 1 some failed, 130 interrupted.
    """
    from pimsim.sweep.runner import run_sweep
    from pimsim.sweep.spec import load_sweep

    sweep = load_sweep(args.sweep_file)
    out_dir = Path(args.out) if args.out else Path(DEFAULT_OUT) / sweep.name
    ensure_dir(out_dir)
    quiet = getattr(args, "quiet", False)
    summary = run_sweep(sweep, out_dir, workers=args.workers, scheduler=args.scheduler,
                        quiet=quiet, retry_failed=getattr(args, "retry_failed", False))
    print(summary.line())
    for note in summary.notes:
        print(f"note: {note}")
    if summary.interrupted:
        print(f"interrupted: every finished point is in {out_dir / POINTS_FILE}; "
              "run the same command again to resume")
        return EXIT_INTERRUPTED
    if summary.failed or (summary.skipped and not quiet):
        _print_failures(out_dir, skips=not quiet)   # failures with their errors, even if quiet
    if not getattr(args, "no_report", False):
        report = write_report(out_dir, plots=not getattr(args, "no_plots", False),
                              html=getattr(args, "html", False))
        _print_report(report, out_dir / REPORT_DIR, quiet)
    return EXIT_FAILED_POINTS if summary.failed else 0


def report_command(args: argparse.Namespace) -> int:
    """``pimsim report DIR [--no-plots] [--force]``: tables and plots of a sweep."""
    out_dir = Path(args.dir)
    if not (out_dir / MANIFEST_FILE).exists():
        raise PimsimError("not a sweep output directory (no sweep manifest in it)", file=out_dir,
                          expected="the --out directory of a 'pimsim sweep' run")
    json_mode = getattr(args, "json", False)
    report = write_report(out_dir, plots=not args.no_plots, force=args.force,
                          html=getattr(args, "html", False))
    if json_mode:
        from pimsim.report.tables import to_json

        print(to_json(report_document(out_dir, report["files"])), end="")
    elif not args.quiet:
        _print_failures(out_dir)
    _print_report(report, out_dir / REPORT_DIR, args.quiet, json_mode)
    return 0
