"""Check the engine's steady state on shipped traces (issue 12's first two acceptance points).

Usage:
    python scripts/steady_check.py [--config configs/isaac.yaml] [--traces NAME[,NAME...]]
                                   [--out steady_check] [--fidelity fast]

For every ``traces/*.npz`` (or those whose file name contains one of the ``--traces``
words):

1. run the engine to its own steady state: ``t = simulate(net, arch).total`` gives the
   images it needed (``N``), whether it converged and the interval; replaying its
   completion times through a ``pimsim.sim.steady.Monitor`` names the rule that stopped
   it (a period, the trend with the fixed 0.5 % drift test, or the trend with the
   jitter-aware drift test for at least one of the last windows; ", layers' pace" where
   the check that no layer falls behind the output held the run back past where the
   completion times alone would have stopped it);
2. force ``2 N`` images: ``simulate(net, arch, images=2 * N)``, and report the relative
   change of the interval (passes when under 1 % and step 1 converged);
3. inject exactly 1, 2, 6 and 12 images (``run_engine(..., images=n, alone=True)``: a
   batch of ``n``, no image behind it) and report image 0's latency for each (passes when
   it never decreases as more images are in flight). A forced count of ``simulate`` would
   not do: it feeds images behind the last one it measures, so the images in flight with
   image 0 are the same for every count and the check could not fail.

A progress line is printed per run. After every trace the results so far are written
atomically to ``OUT.json`` (one entry per trace; entries of traces not rerun are kept, so
``--traces`` updates a few rows of an earlier full run) and ``OUT.md`` (the table for
docs/engine.md, "Steady state"). Exit status 0 when every trace in the file passes, 1 if
any fails, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.fileio import write_atomic
from pimsim.sim import simulate
from pimsim.sim import steady
from pimsim.sim.engine import run_engine
from pimsim.sim.steady import Monitor
from pimsim.workload.trace import load_network

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 0.01                      # the acceptance: doubling changes the interval by < 1 %
LATENCY_IMAGES = (1, 2, 6, 12)    # batch sizes (exactly n images) for image 0's latency


def check_trace(path: Path, arch, fidelity: str, log) -> dict:
    """The three steps of the module doc for one trace; times are wall seconds."""
    net = load_network(path)
    name = path.stem
    t0 = time.perf_counter()
    run = simulate(net, arch, fidelity=fidelity)
    own = run.total
    t1 = time.perf_counter()
    rule = decided_by(run.engine_stats.image_finish_ns, own.images, own.converged)
    log(f"{name}: own steady state {own.images} images, converged {own.converged} "
        f"({rule}), interval {own.interval_ns:.3f} ns ({t1 - t0:.1f} s)")
    twice = simulate(net, arch, fidelity=fidelity, images=2 * own.images).total
    t2 = time.perf_counter()
    change = twice.interval_ns / own.interval_ns - 1
    log(f"{name}: forced {twice.images} images, interval {twice.interval_ns:.3f} ns, "
        f"change {100 * change:+.4f} % ({t2 - t1:.1f} s)")
    latency = {}
    for n in LATENCY_IMAGES:
        s = time.perf_counter()
        latency[n] = batch_latency(net, arch, fidelity, n)
        log(f"{name}: exactly {n} images, image 0 latency {latency[n]:.3f} ns "
            f"({time.perf_counter() - s:.1f} s)")
    lat = [latency[n] for n in LATENCY_IMAGES]
    monotone = all(a <= b for a, b in zip(lat, lat[1:]))
    return {
        "trace": f"traces/{path.name}",
        "images": own.images, "converged": bool(own.converged), "rule": rule,
        "interval_ns": own.interval_ns, "fill_ns": own.fill_ns,
        "latency_ns": own.latency_ns,
        "images_2x": twice.images, "interval_2x_ns": twice.interval_ns,
        "change": change,
        "latency_by_images_ns": {str(n): latency[n] for n in LATENCY_IMAGES},
        "latency_never_decreases": monotone,
        "passed": bool(own.converged) and abs(change) < LIMIT and monotone,
        "seconds": {"own": t1 - t0, "twice": t2 - t1, "total": time.perf_counter() - t0},
    }


def batch_latency(net, arch, fidelity: str, n: int) -> float:
    """Image 0's latency (ns) when exactly ``n`` images are injected, none behind them."""
    return run_engine(net, arch, fidelity=fidelity, images=n, alone=True).total.latency_ns


def decided_by(finish, images: int, converged: bool) -> str:
    """Which rule of pimsim/sim/steady.py stopped the run ("period of P", "trend" or
    "trend, jitter-aware"; "-" if it did not converge), found by replaying its completion
    times through a ``Monitor``. The replay does not know the layers' completions, so it
    cannot apply the layers' pace check (``steady.keeps_pace``): where it stops before
    the engine did, the rule that holds at the engine's stop is named with ", layers'
    pace" (the check held the run back). Raises RuntimeError if the replay stops after
    the engine, or no rule holds where the engine stopped."""
    m = Monitor()
    stop = next((i + 1 for i, f in enumerate(finish) if m.add(f)), None)
    if not converged:
        return "-"
    if stop == images:
        return _rule_name(m.rule, m.period)
    if stop is None or stop > images:
        raise RuntimeError(f"replay converged after {stop} images, the engine after {images}")
    f = list(finish[:images])
    p = steady.periodic(f)
    if p:
        return _rule_name("periodic", p) + ", layers' pace"
    estimates = [steady.fit(f[:k])[0] for k in range(2, images + 1)]
    if not steady.converged(estimates, f):
        raise RuntimeError(f"no rule holds after {images} images, where the engine stopped")
    fixed = all(steady.drift(f[:images - k]) <= steady.TOLERANCE for k in range(steady.WINDOW))
    return _rule_name("trend" if fixed else "jitter", 0) + ", layers' pace"


def _rule_name(rule: str, period: int) -> str:
    return {"periodic": f"period of {period}", "trend": "trend",
            "jitter": "trend, jitter-aware"}[rule]


def to_markdown(entries: list[dict], config: str, fidelity: str) -> str:
    """The table of docs/engine.md, "Steady state"."""
    head = ("| trace | images to converge | converged | rule | interval (ns) | 2x images | "
            "interval (ns) | change | image 0 latency (ns), exactly "
            + " / ".join(str(n) for n in LATENCY_IMAGES) + " images | passes |")
    lines = [f"Steady-state check: {config}, fidelity `{fidelity}` "
             f"(pass: converged, |change| < {100 * LIMIT:g} %, latency never decreases).", "",
             head, "|" + "---|" * 10]
    for e in entries:
        lat = " / ".join(f"{e['latency_by_images_ns'][str(n)]:,.1f}" for n in LATENCY_IMAGES)
        lines.append(
            f"| {e['trace']} | {e['images']} | {'yes' if e['converged'] else 'no'} | "
            f"{e.get('rule', '?')} | "
            f"{e['interval_ns']:,.2f} | {e['images_2x']} | {e['interval_2x_ns']:,.2f} | "
            f"{100 * e['change']:+.3f} % | {lat} | {'yes' if e['passed'] else 'NO'} |")
    return "\n".join(lines) + "\n"


DOC_BLOCK = "engine-steady-check"
FIFO_BLOCK = "engine-steady-check-fifo"


def _check_on(config: str, path: Path) -> dict:
    """:func:`check_trace` of one trace on ``configs/CONFIG``, fast, silent (a worker)."""
    arch = build_arch(load_design(ROOT / "configs" / config))
    return check_trace(path, arch, "fast", lambda msg: None)


def _render(config: str, block: str, jobs: int | None) -> str:
    """The generated block ``block``: every shipped trace on ``configs/CONFIG``, fast."""
    from pimsim.sim.agreement import in_processes

    entries = in_processes(_check_on, [(config, p) for p in
                                       sorted((ROOT / "traces").glob("*.npz"))], jobs)
    return "\n".join([f"<!-- generated: {block} -->", "",
                      f"Generated by `python -m pimsim.report.doc_tables --write {block}` "
                      "(minutes: checked by `python -m pimsim.report.doc_tables --check "
                      "--slow`).", "",
                      to_markdown(entries, config, "fast").rstrip("\n"), "",
                      "<!-- end generated -->"])


def render(jobs: int | None = None) -> str:
    """docs/engine.md's generated block: every shipped trace on configs/isaac.yaml, fast
    (``python -m pimsim.report.doc_tables --write engine-steady-check``; the traces are
    independent runs, checked in ``jobs`` processes, default one per CPU: tens of minutes
    on 2 cores, minutes on 16; the table does not depend on the count)."""
    return _render("isaac.yaml", DOC_BLOCK, jobs)


def render_fifo(jobs: int | None = None) -> str:
    """The same check under ``engine.arbitration: fifo`` (configs/isaac_fifo.yaml; block
    ``engine-steady-check-fifo``)."""
    return _render("isaac_fifo.yaml", FIFO_BLOCK, jobs)


#: (commit, column heading) of the earlier rules whose images to converge docs/engine.md
#: compares with today's, read off the ``engine-steady-check`` block committed there
HISTORY = (("40ec879", "former rule (40ec879)"),
           ("c007c3f", "pace held, fixed drift test (c007c3f)"),
           ("14cc27c", "jitter-aware drift test (14cc27c)"))
HISTORY_BLOCK = "engine-steady-history"


def _block_rows(page: str) -> dict[str, dict[str, str]]:
    """trace file name -> {column heading: cell} of its row in ``page``'s
    ``engine-steady-check`` block (the columns differ between versions: found by name; a
    heading's second use gets ``_2``: the doubled run's "interval (ns)_2")."""
    start = page.index(f"<!-- generated: {DOC_BLOCK} -->")
    end = page.index("<!-- end generated -->", start)
    rows, head = {}, None
    for line in page[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| trace |"):
            head = [h if h not in cells[:i] else f"{h}_2" for i, h in enumerate(cells)]
        elif line.startswith("| traces/") and head:
            rows[Path(cells[0]).stem] = dict(zip(head, cells))
    return rows


def _images(cells: dict[str, str] | None) -> str:
    """One history cell: images to converge, marked where that run did not converge or
    failed the doubling check (its change; the row's other check, image 0's latency, is
    not this block's)."""
    if cells is None:
        return "-"
    n, converged, change = cells["images to converge"], cells["converged"], cells["change"]
    if converged != "yes":
        return f"{n}, **not converged**"
    doubled_ok = abs(float(change.rstrip(" %"))) < 100 * LIMIT
    return n if doubled_ok else f"{n} (fails: {change})"


def render_history() -> str:
    """docs/engine.md's block ``engine-steady-history``: images to converge per shipped trace
    under the earlier rules (the ``engine-steady-check`` block as committed at each commit of
    ``HISTORY``, read with ``git show``) and now (the block in this tree). Unavailable
    without git or those commits (a shallow clone)."""
    from benchmarks.cross_version import _git, commit_info

    columns = []
    for commit, heading in HISTORY:
        full, _ = commit_info(commit)
        page = _git("show", f"{full}:docs/engine.md").stdout.decode()
        columns.append((heading, _block_rows(page)))
    columns.append(("no layer falls behind (now)",
                    _block_rows((ROOT / "docs" / "engine.md").read_text())))
    traces = sorted(set().union(*(rows for _, rows in columns)))
    head = ["trace"] + [h for h, _ in columns]
    lines = [f"<!-- generated: {HISTORY_BLOCK} -->", "",
             f"Generated by `python -m pimsim.report.doc_tables --write {HISTORY_BLOCK}` "
             f"(the images-to-converge column of the `{DOC_BLOCK}` block as committed at "
             + ", ".join(c for c, _ in HISTORY) + " (`git show COMMIT:docs/engine.md`) and "
             "as it is in this tree; a run that did not converge or failed the doubling "
             "check is marked).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([t] + [_images(rows.get(t)) for _, rows in columns]) + " |"
              for t in traces]
    return "\n".join(lines + ["", "<!-- end generated -->"])

#: the commit before the layers' pace check (pimsim.sim.steady.keeps_pace)
PACE_BEFORE = "14cc27c"
PACE_BLOCK = "engine-steady-pace"


def render_pace() -> str:
    """docs/engine.md's block ``engine-steady-pace``: per shipped trace, the images to
    converge (with the rule), the interval and the doubled run of the ``engine-steady-check``
    block as committed at ``PACE_BEFORE`` (``git show``) and as it is in this tree."""
    from benchmarks.cross_version import _git, commit_info

    full, _ = commit_info(PACE_BEFORE)
    before = _block_rows(_git("show", f"{full}:docs/engine.md").stdout.decode())
    now = _block_rows((ROOT / "docs" / "engine.md").read_text())
    lines = [f"<!-- generated: {PACE_BLOCK} -->", "",
             f"Generated by `python -m pimsim.report.doc_tables --write {PACE_BLOCK}` (the "
             f"`{DOC_BLOCK}` block as committed at {PACE_BEFORE} (`git show "
             f"{PACE_BEFORE}:docs/engine.md`) and as it is in this tree).", "",
             "| trace | images before | images now | interval before (ns) | interval now (ns) "
             "| 2x images now: interval (ns), change |", "|---|---|---|---|---|---|"]
    for t in sorted(set(before) | set(now)):
        b, n = before.get(t), now.get(t)
        cell = (lambda r, k: r[k] if r else "-")
        lines.append("| " + " | ".join([
            t, f"{cell(b, 'images to converge')} ({cell(b, 'rule')})",
            f"{cell(n, 'images to converge')} ({cell(n, 'rule')})",
            cell(b, "interval (ns)"), cell(n, "interval (ns)"),
            (f"{n['2x images']}: {n['interval (ns)_2']}, {n['change']}" if n else "-")]) + " |")
    return "\n".join(lines + ["", "<!-- end generated -->"])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "isaac.yaml"))
    ap.add_argument("--traces", default="",
                    help="comma-separated words; only traces whose file name contains one")
    ap.add_argument("--out", default="steady_check",
                    help="writes OUT.json and OUT.md (default: steady_check)")
    ap.add_argument("--fidelity", default="fast", choices=("fast", "event"))
    args = ap.parse_args(argv)
    words = [w for w in args.traces.split(",") if w]
    paths = sorted((ROOT / "traces").glob("*.npz"))
    if words:
        paths = [p for p in paths if any(w in p.name for w in words)]
    if not paths:
        print(f"steady_check: no trace matches --traces {args.traces!r}", file=sys.stderr)
        return 2
    arch = build_arch(load_design(args.config))
    out_json = Path(args.out + ".json")
    out_md = Path(args.out + ".md")
    old = json.loads(out_json.read_text())["traces"] if out_json.exists() else []
    by_trace = {e["trace"]: e for e in old}

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    for i, path in enumerate(paths):
        log(f"({i + 1}/{len(paths)}) {path.name}")
        e = check_trace(path, arch, args.fidelity, log)
        by_trace[e["trace"]] = e
        log(f"{path.name}: {'passes' if e['passed'] else 'FAILS'} "
            f"({e['seconds']['total']:.1f} s in all)")
        entries = [by_trace[k] for k in sorted(by_trace)]
        write_atomic(out_json, json.dumps({"config": args.config, "fidelity": args.fidelity,
                                           "limit": LIMIT, "traces": entries}, indent=1) + "\n")
        write_atomic(out_md, to_markdown(entries, Path(args.config).name, args.fidelity))
    return 0 if all(e["passed"] for e in by_trace.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
