"""Generated tables in docs/: one registry, one command to regenerate, one to check.

A generated part of a page sits between two marker lines::

    <!-- generated: NAME -->
    ... what the generator prints ...
    <!-- end generated -->

(whole generated pages, e.g. docs/validation.md, carry no markers). :data:`BLOCKS` names
every such block or page, its page and its generator (``"module:function"``, resolved only
when used, so checking a page's markers imports nothing heavy). Adding a table is one line
in :data:`BLOCKS` plus the two markers in the page.

::

    python -m pimsim.report.doc_tables --list             # every block, its page, its cost
    python -m pimsim.report.doc_tables --write            # regenerate the fast blocks
    python -m pimsim.report.doc_tables --write --slow     # ... and the slow ones (minutes)
    python -m pimsim.report.doc_tables --write NAME ...   # only these (slow ones too)
    python -m pimsim.report.doc_tables --check [--slow]   # exit 1 and a diff where stale

Three kinds of block:

* **fast** (seconds): regenerated and compared by ``tests/report/test_doc_tables.py`` on
  every test run;
* **slow** (full-network engine runs, minutes): regenerated and compared by
  ``--check --slow``; the test checks their markers and that their generator exists;
* **benchmark** (timing tables): their numbers depend on the machine and its load, so
  no check compares them; ``--check`` and the test compare the page's table header and
  first column with what the benchmark prints (``shape``), and ``--write NAME`` re-runs
  the benchmark, which writes the command, date and machine beside its table.

A table that compares two versions of the code (``benchmarks/cross_version.py``) names
both commits; its generator unpacks each commit's tree with ``git archive COMMIT | tar -x``
and raises :class:`Unavailable` where git, the clone or a commit is missing (``--write``
skips the block with the reason). Outside generated blocks, docs/ holds no table with
figures but the allow-listed ones of ``tests/report/test_doc_tables.py`` (parameters,
formulas, references): :func:`hand_tables` finds them.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python -m pimsim.report.doc_tables"
END = "<!-- end generated -->"
BEGIN_RE = re.compile(r"^<!-- generated: (?P<name>[A-Za-z0-9_.-]+) -->$", re.M)
END_RE = re.compile(r"^" + re.escape(END) + r"$", re.M)


def begin(name: str) -> str:
    """The opening marker line of block ``name``."""
    return f"<!-- generated: {name} -->"


@dataclass(frozen=True)
class Block:
    """One generated block (or whole page) of docs/."""

    name: str
    page: str                      # relative to the repository root
    generator: str                 # "module:function" -> the block's text, markers included
    slow: bool = False             # minutes: only with --slow (or when named)
    whole_page: bool = False       # the generator prints the whole page (no markers)
    shape: str | None = None       # benchmark: "module:function" -> (header, first column)
    note: str = ""                 # what it runs, for --list and docs

    @property
    def command(self) -> str:
        return f"{COMMAND} --write {self.name}"

    @property
    def benchmark(self) -> bool:
        return self.shape is not None


#: Every generated table of docs/. One line per block.
BLOCKS: tuple[Block, ...] = (
    Block("validation", "docs/validation.md", "pimsim.report.validation:render",
          whole_page=True, note="ISAAC roll-up vs the paper's Table I"),
    Block("configuration", "docs/configuration.md", "pimsim.config.docs:render",
          whole_page=True, note="schema and component classes"),
    Block("results", "docs/results.md", "pimsim.report.results_docs:render",
          whole_page=True, note="the shipped JSON Schema"),
    Block("techniques-compare", "docs/techniques.md",
          "pimsim.techniques.docs_tables:render_compare", slow=True,
          note="pimsim techniques compare on four traces, ~3-6 min "
               "(tests/techniques/test_docs_tables.py also re-checks the cnn_digits rows)"),
    Block("techniques-factors", "docs/techniques.md", "pimsim.techniques.factors:render",
          note="ERA-BS vs ISAAC factor by factor, ~1 min"),
    Block("techniques-curves", "docs/techniques.md",
          "pimsim.techniques.docs_tables:render_curves_block",
          note="pimsim techniques curves on cnn_digits"),
    Block("techniques-curves-resnet20", "docs/techniques.md",
          "pimsim.techniques.docs_tables:render_curves_resnet20", slow=True,
          note="pimsim techniques curves on resnet20_digits, ~4 min"),
    Block("techniques-finetune", "docs/techniques.md", "pimsim.report.finetune:render_saved",
          note="from docs/data/finetune.json (python -m pimsim.report.finetune --measure)"),
    Block("engine-steady-check", "docs/engine.md", "scripts.steady_check:render", slow=True,
          note="scripts/steady_check.py on every shipped trace, ISAAC, fast (one process per "
               "CPU: ~20-30 min on 2 cores) "
               "(tests/sim/test_steady.py re-checks the three quick traces' rows)"),
    Block("engine-steady-check-fifo", "docs/engine.md",
          "scripts.steady_check:render_fifo", slow=True,
          note="scripts/steady_check.py on every shipped trace, ISAAC with "
               "engine.arbitration fifo, fast (one process per CPU: ~20-30 min on 2 cores)"),
    Block("engine-oldest-first", "docs/engine.md", "scripts.arbitration_compare:render",
          slow=True, note="scripts/arbitration_compare.py: engine.arbitration fifo vs "
                          "oldest_first on seven traces, ISAAC, fast, ~3-5 min on 2 cores"),
    Block("engine-steady-history", "docs/engine.md", "scripts.steady_check:render_history",
          note="images to converge under the earlier rules, from the committed blocks (git)"),
    Block("engine-steady-pace", "docs/engine.md", "scripts.steady_check:render_pace",
          note="images and interval before and after the layers' pace check, from the "
               "committed blocks (git)"),
    Block("engine-agreement", "docs/engine.md", "pimsim.sim.agreement:render", slow=True,
          note="analytic vs fast on 11 traces x 4 designs (one process per CPU), ~6-15 min"),
    Block("engine-agreement-large", "docs/engine.md", "pimsim.sim.agreement:render_large",
          slow=True, note="the agreement table's rules on the five large shipped traces, "
                          "ISAAC and its 64/256/512 variants (one process per CPU: "
                          "~1 hour on 2 cores, ~5 min on 16)"),
    Block("engine-adc-count", "docs/engine.md", "scripts.adc_check:render", slow=True,
          note="scripts/adc_check.py: 1 / 2 / 4 ADCs per crossbar on lenet5, ResNet-18 "
               "and VGG-16, fast, ~5-10 min (tests/sim/test_stages.py re-checks lenet5)"),
    Block("engine-ring-relief", "docs/engine.md", "pimsim.sim.docs_tables:render_rings",
          slow=True, note="which ring limits the closed form's pace (minutes)"),
    Block("engine-chunks", "docs/engine.md", "pimsim.sim.docs_tables:render_chunks", slow=True,
          note="Work split: engine interval vs positions per chunk, 3 cases x 4 sizes, ~3-10 min"),
    Block("engine-chunks-history", "docs/engine.md",
          "benchmarks.cross_version:chunks_history_block", slow=True,
          note="Work split history: placement and chunk changes re-run in the commits "
               "before / after each (git archive), ~10-20 min; needs git and the commits"),
    Block("engine-event-fetches", "docs/engine.md", "scripts.event_fetches:render", slow=True,
          note="scripts/event_fetches.py: ImageNet ResNet-18 on ISAAC, fast and event with "
               "and without per-position fetches, ~3-6 min"),
    Block("engine-edram-fit", "docs/engine.md", "scripts.edram_fit:render",
          note="where every shipped trace's buffered rows live on ISAAC (mapping only, seconds)"),
    Block("crossbar-sizes", "docs/crossbar-sizes.md", "pimsim.report.crossbar_sizes:render",
          slow=True, note="roll-up + fast engine, 4 designs x 2 networks, ~2-5 min"),
    Block("training-resnet20-seed0", "docs/training.md",
          "pimsim.training.docs_tables:render_resnet20_seed0",
          note="from docs/data/endurance/resnet20_seed0.json (scripts/train_endurance.py)"),
    Block("training-resnet20-seed1", "docs/training.md",
          "pimsim.training.docs_tables:render_resnet20_seed1",
          note="from docs/data/endurance/resnet20_seed1.json"),
    Block("training-resnet20-masked", "docs/training.md",
          "pimsim.training.docs_tables:render_resnet20_masked",
          note="from docs/data/endurance/resnet20_masked.json"),
    Block("training-cnn-digits", "docs/training.md",
          "pimsim.training.docs_tables:render_cnn_digits",
          note="from docs/data/endurance/cnn_digits_seed0.json"),
    Block("training-targets", "docs/training.md", "pimsim.training.docs_tables:render_targets",
          note="section 9.3: the papers' claims beside the runs' figures"),
    Block("training-energy", "docs/training.md",
          "pimsim.training.docs_tables:render_energy",
          note="training energy and time per epoch, from the same JSON files"),
    Block("functional-sweeps", "docs/functional.md", "scripts.functional_sweeps:render",
          slow=True, note="accuracy vs each non-ideality, lenet5_mnist on isaac_8bit, "
                          "200 images, 2 seeds, ~2-10 min"),
    Block("functional-crosscheck", "docs/functional.md", "scripts.crosscheck_aihwkit:render",
          slow=True, note="pimsim vs aihwkit-lightning vs torch, lenet5_mnist, 500 images, "
                          "4 seeds, minutes (needs the aihw extra)"),
    Block("functional-noise-aware", "docs/functional.md", "scripts.noise_aware_training:render",
          slow=True, note="noise-aware fine-tuning of lenet5_mnist, two --rel settings, minutes "
                          "(needs torch and the mnist extra)"),
    Block("functional-speed", "docs/functional.md", "benchmarks.bench_functional:block",
          shape="benchmarks.bench_functional:shape",
          note="benchmark: functional kernel and 1,000 MNIST images (~1 min)"),
    Block("functional-mnist-traces", "docs/functional.md",
          "pimsim.workload.docs_tables:render_mnist_traces",
          note="the MNIST traces: MACs, size, recorded and 8-bit accuracy (~10 s)"),
    Block("robustness-units", "docs/robustness.md", "pimsim.sim.docs_tables:render_units",
          note="engine work units per shipped trace vs MAX_UNITS (set-up only, ~5-10 s)"),
    Block("robustness-fuzz-counts", "docs/robustness.md", "pimsim.report.fuzz_counts:render",
          note="from docs/data/fuzz-report.json (a long fuzz run, `make fuzz`-style)"),
    Block("trace-format-shipped", "docs/trace-format.md",
          "pimsim.workload.docs_tables:render_shipped",
          note="the shipped traces: MACs counted from each file (~1 s)"),
    Block("sweeps-shipped", "docs/sweeps.md", "pimsim.sweep.docs_tables:render_shipped",
          note="the shipped sweep files: axes, points, skipped, distinct (planning only)"),
    Block("performance-engine", "docs/performance.md", "benchmarks.run_all:engine_block",
          shape="benchmarks.run_all:engine_shape",
          note="benchmark: engine cases, each in a fresh process (~1 min)"),
    Block("performance-speedups", "docs/performance.md", "benchmarks.cross_version:speedups_block",
          shape="benchmarks.cross_version:speedups_shape",
          note="benchmark: issue 12's engine speed-ups, two commits' trees unpacked with "
               "git archive, interleaved (~5-10 min; needs git and the commits)"),
    Block("performance-startup", "docs/performance.md", "benchmarks.cross_version:startup_block",
          shape="benchmarks.cross_version:startup_shape",
          note="benchmark: pimsim run start-up, numba vs numpy op counts, two commits' trees "
               "(~1 min; needs git and the commits)"),
    Block("performance-steady-cost", "docs/performance.md",
          "benchmarks.cross_version:steady_block", shape="benchmarks.cross_version:steady_shape",
          note="benchmark: the former steady-state rule's commit against this tree, "
               "interleaved (~5-10 min; needs git and the commit)"),
    Block("performance-kernels", "docs/performance.md", "benchmarks.run_all:kernels_block",
          shape="benchmarks.run_all:kernels_shape",
          note="benchmark: numba kernels vs numpy references"),
    Block("performance-sweeps", "docs/performance.md", "benchmarks.bench_sweep:block",
          shape="benchmarks.bench_sweep:shape",
          note="benchmark: a 48-point sweep, analytic and fast, in one process and a pool"),
    Block("performance-mnsim", "docs/performance.md", "benchmarks.bench_mnsim:block",
          shape="benchmarks.bench_mnsim:shape",
          note="benchmark: pimsim vs MNSIM 2.0, whole processes (needs MNSIM; MNSIM_DIR)"),
    Block("performance-mnsim-1thread", "docs/performance.md",
          "benchmarks.bench_mnsim:block_one_thread", shape="benchmarks.bench_mnsim:shape",
          note="benchmark: the same with MNSIM on one thread"),
)


class Unavailable(RuntimeError):
    """Raised by a generator whose tool is not installed here (e.g. MNSIM 2.0 for the
    comparison benchmark): ``--write`` skips that block with the reason and goes on."""


def registry() -> dict[str, Block]:
    return {b.name: b for b in BLOCKS}


def resolve(spec: str) -> Callable[[], object]:
    """The function named by ``"module:function"`` (ImportError / AttributeError if absent)."""
    module, _, func = spec.partition(":")
    if str(ROOT) not in sys.path:          # benchmarks/ is a top-level folder of the repository
        sys.path.insert(0, str(ROOT))
    fn = getattr(importlib.import_module(module), func)
    if not callable(fn):
        raise TypeError(f"{spec} is not callable")
    return fn


# ---- markers ---------------------------------------------------------------------------

def blocks_in(text: str, page: str = "page") -> dict[str, str]:
    """``{name: block text, markers included}`` of every generated block in ``text``.

    Raises ``ValueError`` naming the page and line for an unclosed, nested or repeated
    block, or an end marker without a beginning."""
    out: dict[str, str] = {}
    events = sorted([(m.start(), "begin", m) for m in BEGIN_RE.finditer(text)]
                    + [(m.start(), "end", m) for m in END_RE.finditer(text)],
                    key=lambda e: e[0])
    open_at = None
    for pos, kind, m in events:
        line = text.count("\n", 0, pos) + 1
        if kind == "begin":
            if open_at is not None:
                raise ValueError(f"{page}:{line}: block {m['name']!r} starts inside block "
                                 f"{open_at[1]['name']!r} (missing {END})")
            if m["name"] in out:
                raise ValueError(f"{page}:{line}: block {m['name']!r} appears twice")
            open_at = (pos, m)
        else:
            if open_at is None:
                raise ValueError(f"{page}:{line}: {END} without a block before it")
            out[open_at[1]["name"]] = text[open_at[0]:m.end()]
            open_at = None
    if open_at is not None:
        line = text.count("\n", 0, open_at[0]) + 1
        raise ValueError(f"{page}:{line}: block {open_at[1]['name']!r} is never closed ({END})")
    return out


def splice(text: str, name: str, block: str, page: str = "page") -> str:
    """``text`` with block ``name`` replaced by ``block`` (markers included)."""
    current = blocks_in(text, page)
    if name not in current:
        raise ValueError(f"{page}: no {begin(name)} ... {END} block")
    block = block.rstrip("\n")
    if not (block.startswith(begin(name)) and block.endswith(END)):
        raise ValueError(f"the generator of {name!r} must print its block with both markers")
    i = text.index(current[name])
    return text[:i] + block + text[i + len(current[name]):]


def table_shape(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(header cells, first-column cells) of the first Markdown table in ``text``."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    if len(rows) < 2:
        return (), ()
    cells = [tuple(c.strip() for c in r.strip().strip("|").split("|")) for r in rows]
    return cells[0], tuple(c[0] for c in cells[2:])


# ---- hand-written tables --------------------------------------------------------------

_SEPARATOR_RE = re.compile(r"^\|\s*:?-{3,}")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class HandTable:
    """A Markdown table outside every generated block (and outside fenced code)."""

    page: str
    line: int                  # 1-based line of its header row
    header: str                # the header row, stripped
    digits: bool               # whether a body cell holds a digit


def hand_tables(text: str, page: str = "page") -> list[HandTable]:
    """Every Markdown table of ``text`` outside generated blocks and fenced code blocks.

    A table is a run of lines starting with ``|`` whose second line is a separator row
    (``|---|``). Generated blocks are blanked (their lines kept, so line numbers hold)."""
    for blk in blocks_in(text, page).values():
        text = text.replace(blk, "\n" * blk.count("\n"), 1)
    lines = text.split("\n")
    out: list[HandTable] = []
    fenced, i = False, 0
    while i < len(lines):
        line = lines[i]
        if _FENCE_RE.match(line):
            fenced = not fenced
        elif (not fenced and line.startswith("|") and i + 1 < len(lines)
              and _SEPARATOR_RE.match(lines[i + 1])):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            body = lines[i + 2:j]
            out.append(HandTable(page, i + 1, line.strip(),
                                 any(re.search(r"\d", b) for b in body)))
            i = j
            continue
        i += 1
    return out


# ---- generate and compare -------------------------------------------------------------

def read_page(block: Block) -> str:
    return (ROOT / block.page).read_text(encoding="utf-8")


def committed(block: Block) -> str:
    """What the page holds now for ``block``."""
    text = read_page(block)
    if block.whole_page:
        return text
    found = blocks_in(text, block.page)
    if block.name not in found:
        raise ValueError(f"{block.page}: no {begin(block.name)} ... {END} block")
    return found[block.name]


def generate(block: Block) -> str:
    """Run the block's generator: the page (whole_page) or the block, markers included."""
    out = resolve(block.generator)()
    if not isinstance(out, str):
        raise TypeError(f"{block.generator} returned {type(out).__name__}, not text")
    return out if block.whole_page else out.rstrip("\n")


def stale(block: Block) -> str | None:
    """None if the page is current, else a short diff (benchmarks: the table's shape)."""
    have = committed(block)
    if block.benchmark:
        want = resolve(block.shape)()
        got = table_shape(have)
        if tuple(map(tuple, want)) == got:
            return None
        return (f"{block.page} [{block.name}]: the table's header / rows are\n  {got}\n"
                f"the benchmark prints\n  {tuple(map(tuple, want))}")
    fresh = generate(block)
    if fresh == have:
        return None
    diff = difflib.unified_diff(have.splitlines(), fresh.splitlines(), f"{block.page} (committed)",
                                f"{block.page} ({block.name}, regenerated)", lineterm="", n=1)
    lines = list(diff)
    return "\n".join(lines[:60] + ([f"... {len(lines) - 60} more diff lines"]
                                   if len(lines) > 60 else []))


def write(block: Block) -> Path:
    from pimsim.fileio import write_atomic

    path = ROOT / block.page
    fresh = generate(block)
    text = fresh if block.whole_page else splice(read_page(block), block.name, fresh, block.page)
    write_atomic(path, text)
    return path


def selected(names: list[str], slow: bool) -> list[Block]:
    reg = registry()
    unknown = [n for n in names if n not in reg]
    if unknown:
        raise SystemExit(f"unknown block(s) {', '.join(unknown)}; known: {', '.join(reg)}")
    if names:
        return [reg[n] for n in names]
    return [b for b in BLOCKS if slow or not b.slow]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=COMMAND, description="Regenerate or check the generated "
                                "tables of docs/ (see the module docstring).")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these blocks (default: all "
                   "fast blocks; with --slow all blocks)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate the blocks in place")
    mode.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    mode.add_argument("--list", action="store_true", help="list the blocks")
    p.add_argument("--slow", action="store_true", help="include the slow blocks (minutes; "
                   "with --write this re-runs the benchmarks too)")
    a = p.parse_args(argv)
    if a.list or not (a.write or a.check):
        for b in BLOCKS:
            cost = "benchmark" if b.benchmark else "slow" if b.slow else "fast"
            sys.stdout.write(f"{b.name:26} {cost:9} {b.page:24} {b.note}\n")
        return 0
    blocks = selected(a.names, a.slow)
    bad = 0
    for i, b in enumerate(blocks, 1):
        sys.stderr.write(f"[{i}/{len(blocks)}] {b.name} ({b.page})\n")
        if a.write:
            if b.benchmark and not (a.slow or b.name in a.names):
                continue
            try:
                write(b)
            except Unavailable as e:
                sys.stderr.write(f"skipped {b.name}: {e}\n")
        else:
            why = stale(b)
            if why:
                bad += 1
                sys.stdout.write(f"STALE {b.name}: regenerate with `{b.command}`\n{why}\n")
    if a.check:
        sys.stdout.write(f"{len(blocks) - bad} of {len(blocks)} blocks current\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
