"""Cross-version timing tables: one benchmark on two commits' source trees, rounds interleaved.

A table of docs/ that compares two versions of the code names both commits; its generator
unpacks each commit's tree into a temporary directory (``git archive COMMIT | tar -x -C
DIR``, which works in any clone that holds the commit), runs the benchmark on both trees
with the rounds interleaved (every tree sees the same machine load), and renders the table
with the date, the machine, the load average at the start and at the end, and the commits.
Without git, outside a git clone, or in a clone that lacks a commit (a shallow one), the
generator raises :class:`pimsim.report.doc_tables.Unavailable` with the reason, and
``--write`` leaves the block as it was.

Blocks (``python -m pimsim.report.doc_tables --write NAME``):

* ``performance-speedups``: the event-loop speed-ups of issue 12, :data:`SPEEDUPS`
  (``python -m benchmarks.engine_speed --rounds 2 BEFORE AFTER``);
* ``performance-startup``: start-up of ``pimsim run`` with numba op counts and with
  numpy op counts, :data:`STARTUP`;
* ``performance-steady-cost``: the former steady-state rule, :data:`STEADY`, against the
  tree the block is generated from;
* ``engine-chunks-history`` (docs/engine.md, results, not timings): the engine's work split
  across the placement change and the single-position change, :data:`PLACEMENT` and
  :data:`CHUNKS`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: performance-speedups: the tree before the speed work of issue 12 and its last code commit
SPEEDUPS = ("40ec879", "55afbe2")
SPEEDUP_ROUNDS = 2
#: performance-startup: the last tree with numba op counts (the parent of the change) and
#: the change (vectorized numpy op counts, numba imported only where a trace needs it)
STARTUP = ("3ac1438", "16fcc09")
STARTUP_ROUNDS = 3
STARTUP_TRACE = "mnsim_resnet18_shapes.npz"
#: block name -> the commits its table compares (tests check the page names them)
COMMITS = {"performance-speedups": SPEEDUPS, "performance-startup": STARTUP}


def _unavailable(reason: str) -> Exception:
    from pimsim.report.doc_tables import Unavailable

    return Unavailable(reason)


def _git(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, input=input,
                          timeout=300)


def commit_info(commit: str) -> tuple[str, str]:
    """(full hash, "short hash, commit date") of ``commit``; Unavailable if git, the
    clone or the commit is missing."""
    if shutil.which("git") is None:
        raise _unavailable(f"git is not installed: cannot unpack commit {commit}")
    r = _git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}")
    if r.returncode:
        inside = _git("rev-parse", "--git-dir").returncode == 0
        raise _unavailable(f"commit {commit} is not in this clone (a shallow clone? fetch "
                           f"its history)" if inside else
                           f"{ROOT} is not a git clone: cannot unpack commit {commit}")
    full = r.stdout.decode().strip()
    date = _git("log", "-1", "--format=%cs", full).stdout.decode().strip()
    return full, f"{full[:7]}, {date}"


def materialise(commit: str, into: Path) -> str:
    """Unpack ``commit``'s tree into the directory ``into`` (``git archive | tar -x``);
    returns the full hash. Unavailable with the reason where that cannot be done."""
    full, _ = commit_info(commit)
    archive = _git("archive", "--format=tar", full)
    if archive.returncode:
        raise _unavailable(f"git archive {commit} failed: {archive.stderr.decode()[-500:]}")
    into.mkdir(parents=True, exist_ok=True)
    untar = subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout,
                           capture_output=True, timeout=300)
    if untar.returncode:
        raise _unavailable(f"tar -x of commit {commit} failed: {untar.stderr.decode()[-500:]}")
    return full


@dataclass(frozen=True)
class Checkout:
    """A source tree to time: a commit unpacked into ``path`` or a directory given as is."""

    label: str           # what the output calls it: the commit as given, or the directory
    path: Path
    commit: str | None   # full hash (None: a directory given as is)


@contextlib.contextmanager
def checkouts(specs: list[str]) -> Iterator[list[Checkout]]:
    """Each spec an existing directory (used as is) or a commit (unpacked into a temporary
    directory, removed on exit)."""
    with tempfile.TemporaryDirectory(prefix="pimsim-versions-") as tmp:
        out = []
        for i, spec in enumerate(specs):
            if Path(spec).is_dir():
                out.append(Checkout(spec, Path(spec).resolve(), None))
            else:
                path = Path(tmp) / f"{i}-{spec}"
                out.append(Checkout(spec, path, materialise(spec, path)))
        yield out


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _progress(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def _header(name: str, command: str, commits: dict[str, str], load_end: float,
            at_start: str) -> list[str]:
    named = "; ".join(f"{role} = {desc}" for role, desc in commits.items())
    return [f"<!-- generated: {name} -->", "",
            f"Generated by `python -m pimsim.report.doc_tables --write {name}` ({command}; "
            f"each commit's tree unpacked with `git archive COMMIT | tar -x`, rounds "
            f"interleaved) on {at_start}, load average {load_end:.1f} at the end. "
            f"Commits: {named}. Timings: not checked by the tests (they depend on the "
            "machine and its load); the tests check this table's columns and rows and that "
            "it names its commits.", ""]


def _table(head: tuple[str, ...], rows: list[tuple]) -> list[str]:
    return (["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


# ---- performance-speedups --------------------------------------------------------------

SPEEDUP_COLUMNS = ("workload", "`simulate()` CPU s before", "after", "after / before",
                   "`pimsim run` CPU s before", "after", "`pimsim run` wall s before", "after",
                   "simpy events before / after", "same `pimsim run` output")
#: engine_speed.TRACES -> row label
SPEEDUP_LABELS = {"mnsim_resnet18_shapes.npz": "MNSIM's ResNet-18, 32x32",
                  "mnsim_vgg16_shapes.npz": "MNSIM's VGG-16, 32x32",
                  "resnet18_shapes.npz": "ImageNet ResNet-18, 224x224"}


def speedups_shape() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from benchmarks.engine_speed import TRACES

    return SPEEDUP_COLUMNS, tuple(SPEEDUP_LABELS[t] for t in TRACES)


def speedups_block() -> str:
    """docs/performance.md's ``performance-speedups``: engine_speed on :data:`SPEEDUPS`."""
    from benchmarks.engine_speed import TRACES, best, measure, same_inputs
    from benchmarks.run_all import machine

    before, after = SPEEDUPS
    info = {"before": commit_info(before)[1], "after": commit_info(after)[1]}
    at_start = machine()
    with checkouts(list(SPEEDUPS)) as (b, a):
        runs = measure([b.path, a.path], TRACES, SPEEDUP_ROUNDS, progress=_progress)
        same = {t: same_inputs([b.path, a.path], t) for t in TRACES}
        rows, notes = [], []
        for t in TRACES:
            rb, ra = runs[t][b.path], runs[t][a.path]
            sb, sa = best(rb, "sim_cpu_s"), best(ra, "sim_cpu_s")
            identical = all(x.stdout == rb[0].stdout for x in rb + ra)
            rows.append((SPEEDUP_LABELS[t], f"{sb:.2f}", f"{sa:.2f}", f"{sa / sb:.2f}",
                         f"{best(rb, 'cpu_s'):.2f}", f"{best(ra, 'cpu_s'):.2f}",
                         f"{best(rb, 'wall_s'):.2f}", f"{best(ra, 'wall_s'):.2f}",
                         f"{rb[0].events:,} / {ra[0].events:,}",
                         "yes" if identical else "no"))
            if t == TRACES[0]:
                notes.append(f"On {SPEEDUP_LABELS[t]} `simulate()` takes {1 - sa / sb:.0%} "
                             f"less CPU after the change ({ra[0].events:,} simpy events, "
                             f"`result.engine_stats.events`, over {ra[0].images} images: "
                             f"{sa / ra[0].events * 1e6:.1f} µs of CPU per event after, "
                             f"{sb / rb[0].events * 1e6:.1f} before, at this load).")
        notes.append("Design and trace files byte-identical in both trees: "
                     + ("yes" if all(same.values()) else
                        "NO (" + ", ".join(t for t in TRACES if not same[t]) + ")") + ".")
    lines = _header("performance-speedups",
                    f"`python -m benchmarks.engine_speed --rounds {SPEEDUP_ROUNDS} "
                    f"{before} {after}`: best of {SPEEDUP_ROUNDS} rounds",
                    info, _load(), at_start)
    lines += _table(SPEEDUP_COLUMNS, rows) + ["", " ".join(notes)]
    return "\n".join(lines + ["", "<!-- end generated -->"])


# ---- performance-startup ---------------------------------------------------------------

STARTUP_COLUMNS = ("op counts", "commit", "loads numba / scipy", "wall s (rounds)",
                   "best wall s", "CPU s, user + sys (rounds)", "best CPU s")
STARTUP_LABELS = ("numba kernels (before)", "vectorized numpy (after)")
#: in a fresh process: does `pimsim run` on a shape-only trace import numba / scipy?
LOADS = """
import runpy, sys
sys.argv = ["pimsim", "run", "configs/isaac.yaml", "--trace", sys.argv[1], "--baseline", "none"]
try:
    runpy.run_module("pimsim.cli", run_name="__main__")
except SystemExit:
    pass
print("numba" in sys.modules, "scipy" in sys.modules, file=sys.stderr)
"""
#: in a fresh process of the before tree: import numba with a kernels module, the first
#: call of a cached kernel, a second kernel (seconds, perf_counter)
FIRST_CALLS = """
import time
t0 = time.perf_counter(); import numpy
t1 = time.perf_counter(); from pimsim.kernels.ou_activity import n_groups
t2 = time.perf_counter(); n_groups(100, 128, 32)
t3 = time.perf_counter(); from pimsim.kernels.counts import ou_geometry
ou_geometry(128, 128, 16, 16)
t4 = time.perf_counter()
print(t2 - t1, t3 - t2, t4 - t3)
"""


def startup_shape() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return STARTUP_COLUMNS, STARTUP_LABELS


def _loads(tree: Path, trace: str) -> str:
    r = subprocess.run([sys.executable, "-c", LOADS, f"traces/{trace}"], cwd=tree,
                       env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True,
                       text=True, timeout=1800)
    numba, scipy = r.stderr.split()[-2:]
    return f"{'yes' if numba == 'True' else 'no'} / {'yes' if scipy == 'True' else 'no'}"


def _first_calls(tree: Path) -> tuple[float, float, float]:
    r = subprocess.run([sys.executable, "-c", FIRST_CALLS], cwd=tree,
                       env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True,
                       text=True, timeout=600, check=True)
    a, b, c = map(float, r.stdout.split()[-3:])
    return a, b, c


def startup_block() -> str:
    """docs/performance.md's ``performance-startup``: whole ``pimsim run`` on MNSIM's
    ResNet-18 with the trees of :data:`STARTUP`."""
    from benchmarks.engine_speed import measure, same_inputs
    from benchmarks.run_all import machine

    before, after = STARTUP
    info = {"before": commit_info(before)[1], "after": commit_info(after)[1]}
    at_start = machine()
    with checkouts(list(STARTUP)) as (b, a):
        runs = measure([b.path, a.path], (STARTUP_TRACE,), STARTUP_ROUNDS, sim=False,
                       progress=_progress)[STARTUP_TRACE]
        loads = {t.path: _loads(t.path, STARTUP_TRACE) for t in (b, a)}
        firsts = [_first_calls(b.path) for _ in range(STARTUP_ROUNDS)]
        same = same_inputs([b.path, a.path], STARTUP_TRACE)
        identical = all(r.stdout == runs[b.path][0].stdout
                        for t in (b, a) for r in runs[t.path])
        rows = []
        for label, t in zip(STARTUP_LABELS, (b, a)):
            rs = runs[t.path]
            rows.append((label, t.commit[:7], loads[t.path],
                         " / ".join(f"{r.wall_s:.2f}" for r in rs),
                         f"{min(r.wall_s for r in rs):.2f}",
                         " / ".join(f"{r.cpu_s:.2f}" for r in rs),
                         f"{min(r.cpu_s for r in rs):.2f}"))
    imp, first, second = (min(f[i] for f in firsts) for i in range(3))
    note = (f"Same `pimsim run` output from both trees: {'yes' if identical else 'no'}; design "
            f"and trace files byte-identical: {'yes' if same else 'NO'}. In a fresh process "
            f"of the before tree ({before}; best of {STARTUP_ROUNDS}): importing numba with "
            f"`pimsim.kernels.ou_activity` {imp * 1e3:.0f} ms, the first call of a cached kernel "
            f"(`n_groups`) {first * 1e3:.0f} ms, a second kernel (`counts.ou_geometry`, its "
            f"import included) {second * 1e3:.0f} ms.")
    lines = _header("performance-startup",
                    f"`python -m pimsim.cli run configs/isaac.yaml --trace "
                    f"traces/{STARTUP_TRACE} --baseline none` as a whole process, "
                    f"{STARTUP_ROUNDS} rounds (`benchmarks.engine_speed.measure`)",
                    info, _load(), at_start)
    lines += _table(STARTUP_COLUMNS, rows) + ["", note]
    return "\n".join(lines + ["", "<!-- end generated -->"])


# ---- performance-steady-cost: the former steady-state rule against this tree -------------

#: the last commit with the former steady-state rule (three equal gaps or stable trend
#: estimates, 24-image escape), against the tree this block is generated from
STEADY = ("1cf6bf8",)
COMMITS["performance-steady-cost"] = STEADY
STEADY_ROUNDS = 2
STEADY_COLUMNS = ("workload", "images before", "now", "interval µs before", "now",
                  "`pimsim run` wall s before", "now", "`pimsim run` CPU s before", "now",
                  "`simulate()` CPU s before", "now")


def head_info() -> str:
    """"short hash, date" of this tree's HEAD, "+ uncommitted changes" where pimsim/ differs
    from it (Unavailable outside a git clone)."""
    _, desc = commit_info("HEAD")
    dirty = _git("status", "--porcelain", "--", "pimsim", "configs", "traces").stdout.strip()
    return desc + (" + uncommitted changes" if dirty else "")


def steady_shape() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from benchmarks.engine_speed import TRACES

    return STEADY_COLUMNS, tuple(SPEEDUP_LABELS[t] for t in TRACES)


def steady_block() -> str:
    """docs/performance.md's ``performance-steady-cost``: engine_speed on :data:`STEADY` and
    this tree."""
    from benchmarks.engine_speed import TRACES, best, measure, same_inputs
    from benchmarks.run_all import machine

    (before,) = STEADY
    info = {"before": commit_info(before)[1], "now": f"this tree ({head_info()})"}
    at_start = machine()
    with checkouts([before, str(ROOT)]) as (b, a):
        runs = measure([b.path, a.path], TRACES, STEADY_ROUNDS, progress=_progress)
        same = all(same_inputs([b.path, a.path], t) for t in TRACES)
        rows = []
        for t in TRACES:
            rb, ra = runs[t][b.path], runs[t][a.path]
            rows.append((SPEEDUP_LABELS[t], rb[0].images, ra[0].images,
                         f"{rb[0].interval_ns / 1e3:,.3f}", f"{ra[0].interval_ns / 1e3:,.3f}",
                         f"{best(rb, 'wall_s'):.2f}", f"{best(ra, 'wall_s'):.2f}",
                         f"{best(rb, 'cpu_s'):.2f}", f"{best(ra, 'cpu_s'):.2f}",
                         f"{best(rb, 'sim_cpu_s'):.2f}", f"{best(ra, 'sim_cpu_s'):.2f}"))
    lines = _header("performance-steady-cost",
                    f"`python -m benchmarks.engine_speed --rounds {STEADY_ROUNDS} {before} .`: "
                    f"best of {STEADY_ROUNDS} rounds; images and interval from the "
                    "`simulate()` run", info, _load(), at_start)
    lines += _table(STEADY_COLUMNS, rows)
    lines += ["", "Design and trace files byte-identical in both trees: "
              + ("yes." if same else "NO: the trees ran different inputs.")]
    return "\n".join(lines + ["", "<!-- end generated -->"])


# ---- engine-chunks-history (results, not timings: a slow block, compared exactly) ------

#: docs/engine.md "Work split", two changes, each a commit and its parent:
#: copies placed on the tiles that hold their IMAs (a3dfde1, parent fae68dd), and positions
#: dealt one at a time instead of in chunks of about P / (copies x CHUNKS_PER_COPY)
#: (411e76f, parent e745b79)
PLACEMENT = ("fae68dd", "a3dfde1")
CHUNKS = ("e745b79", "411e76f")
COMMITS["engine-chunks-history"] = PLACEMENT + CHUNKS
#: (design, trace) compared across the placement change
PLACEMENT_CASES = (("configs/isaac_xbar256.yaml", "traces/resnet20_digits.npz"),
                   ("configs/isaac.yaml", "traces/mnsim_resnet18_shapes.npz"))
#: CHUNKS_PER_COPY values tried in the tree before single positions, VGG-16 on 64x64
CHUNK_COUNTS = (8, 16, 32, 64, 128, 256, 1024, 4096)
#: (design, trace) compared across the chunk change
CHUNK_CASES = (("configs/isaac_xbar64.yaml", "traces/vgg16_shapes.npz"),
               ("configs/isaac.yaml", "traces/vgg16_shapes.npz"),
               ("configs/isaac.yaml", "traces/resnet18_shapes.npz"))
#: traces whose engine work units per image (ISAAC, fast) are compared across it
UNIT_TRACES = ("vgg16_shapes", "resnet18_shapes", "efficientnet_b0_shapes",
               "densenet121_shapes", "resnet50_shapes", "mnsim_resnet18_shapes",
               "mnsim_vgg16_shapes")
#: run inside one tree: argv[1] is a JSON list of jobs, prints one JSON list of answers
HISTORY = """
import json, sys
import pimsim.sim.engine as E
from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.mapping import map_network
from pimsim.sim import simulate
from pimsim.workload.trace import load_network
out = []
default = getattr(E, "CHUNKS_PER_COPY", None)    # the tree's own (absent after the change)
for job in json.loads(sys.argv[1]):
    arch, net = build_arch(load_design(job["design"])), load_network(job["trace"])
    if default is not None:                       # every job from the tree's default
        E.CHUNKS_PER_COPY = job.get("chunks") or default
    if job["kind"] == "default":
        out.append(default)
        continue
    if job["kind"] == "units":
        eng = E.Engine(net, arch, map_network(net, arch), "fast", 1, False, None)
        out.append(eng.units_per_image)
        continue
    r = simulate(net, arch, fidelity=job["kind"])
    out.append([r.total.interval_ns, r.engine_stats.images if job["kind"] != "analytic" else 0])
print(json.dumps(out))
"""


def _in_tree(tree: Path, jobs: list[dict]) -> list:
    import json

    _progress(f"{len(jobs)} jobs in {tree}")
    r = subprocess.run([sys.executable, "-c", HISTORY, json.dumps(jobs)], cwd=tree,
                       env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True,
                       text=True, timeout=7200)
    if r.returncode:
        raise RuntimeError(f"jobs in {tree} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _name(path: str) -> str:
    return f"`{Path(path).name}`"


def _both(cases) -> list[dict]:
    return [{"design": d, "trace": t, "kind": k} for d, t in cases for k in ("fast", "analytic")]


def _before_after(cases, got_b: list, got_a: list) -> list[str]:
    lines = ["| design | trace | interval µs before | after | closed form µs before | after "
             "| images before | after |", "|---|---|---|---|---|---|---|---|"]
    for i, (d, t) in enumerate(cases):
        fb, cb, fa, ca = got_b[2 * i], got_b[2 * i + 1], got_a[2 * i], got_a[2 * i + 1]
        lines.append(f"| {_name(d)} | {_name(t)} | {fb[0] / 1e3:,.3f} | {fa[0] / 1e3:,.3f} | "
                     f"{cb[0] / 1e3:,.3f} | {ca[0] / 1e3:,.3f} | {fb[1]} | {fa[1]} |")
    return lines


def chunks_history_block() -> str:
    """docs/engine.md's ``engine-chunks-history``: the work split across the placement
    change and the single-position change (minutes: whole engine runs in four old trees)."""
    info = {c: commit_info(c)[1] for c in PLACEMENT + CHUNKS}
    sweep = [{"design": CHUNK_CASES[0][0], "trace": CHUNK_CASES[0][1], "kind": "fast",
              "chunks": k} for k in CHUNK_COUNTS]
    units = [{"design": "configs/isaac.yaml", "trace": f"traces/{t}.npz", "kind": "units"}
             for t in UNIT_TRACES]
    n = len(units)
    with checkouts(list(PLACEMENT + CHUNKS)) as (p0, p1, c0, c1):
        place_b, place_a = (_in_tree(t.path, _both(PLACEMENT_CASES)) for t in (p0, p1))
        got_b = _in_tree(c0.path, [{"design": CHUNK_CASES[0][0], "trace": CHUNK_CASES[0][1],
                                    "kind": "default"}] + sweep
                         + [sweep[0] | {"kind": "analytic", "chunks": None}]
                         + _both(CHUNK_CASES) + units)
        got_a = _in_tree(c1.path, _both(CHUNK_CASES) + units)
    default, got_b = got_b[0], got_b[1:]
    swept, closed64 = got_b[:len(sweep)], got_b[len(sweep)]
    chunk_b, units_b = got_b[len(sweep) + 1:-n], got_b[-n:]
    chunk_a, units_a = got_a[:-n], got_a[-n:]
    lines = ["<!-- generated: engine-chunks-history -->", "",
             "Generated by `python -m pimsim.report.doc_tables --write engine-chunks-history` "
             "(`benchmarks.cross_version.chunks_history_block`, ~10-20 min: each commit's tree "
             "unpacked with `git archive COMMIT | tar -x`, run on its own configs and traces; "
             "`simulate(net, arch, fidelity=F)`, `fast` until the steady state of that tree's "
             "rule; results, not timings: `--check --slow` compares them).", "",
             f"Placement: before = {info[PLACEMENT[0]]}, copies placed as if every layer "
             f"started at a tile boundary; after = {info[PLACEMENT[1]]}, copies on the tiles "
             "that hold their IMAs:", ""]
    lines += _before_after(PLACEMENT_CASES, place_b, place_a)
    lines += ["", f"Chunks: before = {info[CHUNKS[0]]}, positions dealt in chunks of about "
              f"`P / (copies x CHUNKS_PER_COPY)` (`CHUNKS_PER_COPY` = {default}); after = "
              f"{info[CHUNKS[1]]}, single positions. In the before tree, VGG-16 on "
              f"{_name(CHUNK_CASES[0][0])} with `pimsim.sim.engine.CHUNKS_PER_COPY = K`, "
              f"interval µs (closed form {closed64[0] / 1e3:,.3f} µs):", "",
              "| K (chunks per copy) | " + " | ".join(str(k) for k in CHUNK_COUNTS) + " |",
              "|---|" + "---|" * len(CHUNK_COUNTS),
              "| interval µs | " + " | ".join(f"{s[0] / 1e3:,.3f}" for s in swept) + " |",
              "", "Default settings, before and after:", ""]
    lines += _before_after(CHUNK_CASES, chunk_b, chunk_a)
    lines += ["", "Engine work units per image (`configs/isaac.yaml`, `fast`; "
              "`Engine(...).units_per_image` at set-up), before and after single positions:",
              "", "| trace | units before | after |", "|---|---|---|"]
    lines += [f"| `{t}` | {x:,} | {y:,} |" for t, x, y in zip(UNIT_TRACES, units_b, units_a)]
    return "\n".join(lines + ["", "<!-- end generated -->"])
