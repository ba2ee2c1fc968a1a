"""The ``pimsim`` command line: run, compare, area, validate, sweep, report, export, import.

User mistakes (bad YAML, bad trace) print one paragraph and exit with status 2; a bug
still shows its traceback.
"""

from __future__ import annotations

import argparse
import errno
import sys
import time
import warnings
from pathlib import Path

from pimsim.argtypes import int_in
from pimsim.sim.fidelity import DEFAULT_FIDELITY
from pimsim.errors import PimsimError

DEFAULT_BASELINE = Path(__file__).resolve().parent.parent / "configs" / "isaac.yaml"
EXIT_USER_ERROR = 2


def _images(text: str):
    """``--accuracy-images``: 'all' or a positive integer."""
    return "all" if text == "all" else int_in(1)(text)


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")


def _load_arch(path: str):
    from pimsim.arch import build_arch
    from pimsim.config import load_design

    return build_arch(load_design(path))


class _ProgressBar:
    """``callable(done, total)`` for the engine: a bar on stderr once a run passes
    ``DELAY_S`` (tqdm when installed, else a plain line); silent when stderr is no terminal."""

    DELAY_S = 1.5

    def __init__(self, desc: str):
        self.desc, self.start, self.bar = desc, time.monotonic(), None
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or (self.bar is None and time.monotonic() - self.start < self.DELAY_S):
            return
        if self.bar is None:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=self.desc, unit="unit", leave=False)
            except ImportError:
                self.bar = False
        if self.bar:
            self.bar.update(done - self.bar.n)
        else:
            sys.stderr.write(f"\r{self.desc}: {100 * done / max(total, 1):5.1f}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar:
            self.bar.close()
        elif self.bar is False:
            sys.stderr.write("\n")


def _evaluate(config: str, trace: str, args, timeline: str | None = None,
              schedule: str | None = None) -> dict:
    """Evaluate one design point on one trace (:func:`pimsim.api.evaluate_files`, with a
    progress bar); returns ``Result.as_dict()`` plus ``area_breakdown_mm2``.

    ``schedule``: a technique schedule applied to the trace on this design point first
    (its ``LayerOverride``s, no accuracy evaluation), then simulated with them.
    """
    from pimsim.api import evaluate_files
    from pimsim.arch.rollup import area_by_role

    label = f" + {Path(schedule).stem}" if schedule else ""
    bar = _ProgressBar(f"{Path(config).stem}{label} on {Path(trace).stem} ({args.fidelity})")
    try:
        result = evaluate_files(config, trace, fidelity=args.fidelity, timeline=timeline,
                                progress=bar, schedule=schedule,
                                images=getattr(args, "images", None))
    finally:
        bar.close()
    data = result.as_dict()
    data["area_breakdown_mm2"] = area_by_role(_load_arch(config), result.total.chips)
    return data


def _wrote(paths, json_mode: bool = False) -> None:
    """Say where every output file went (stderr when stdout carries JSON)."""
    stream = sys.stderr if json_mode else sys.stdout
    for path in paths:
        stream.write(f"wrote {path}\n")


def _check_outputs(planned: dict[str, list[Path]]) -> None:
    """Two options must never write the same file: exit 2 before anything runs."""
    seen: dict[Path, str] = {}
    for option, paths in planned.items():
        for path in paths:
            key = Path(path).resolve()
            if key in seen and seen[key] != option:
                raise PimsimError(f"{seen[key]} and {option} would both write this file; give "
                                  "them different names", file=path, where=option)
            seen[key] = option


def _run_outputs(args) -> dict[str, list[Path]]:
    from pimsim.report.output import planned_files

    planned: dict[str, list[Path]] = {}
    if args.out:
        planned["--out"] = planned_files(args.out, "run", RUN_TABLE_SLUGS)
    if args.timeline:
        planned["--timeline"] = [Path(args.timeline)]
    if getattr(args, "html", None):
        planned["--html"] = [Path(args.html)]
    return planned


#: The tables ``pimsim run --out`` writes (file ``run_<slug>.csv`` each).
RUN_TABLE_SLUGS = ("totals", "energy", "layers")


def cmd_area(args) -> int:
    from pimsim.arch import rollup
    from pimsim.report.area import area_tables
    from pimsim.report.documents import area_document
    from pimsim.report.output import write_tables
    from pimsim.report.tables import to_json
    from pimsim.report.views import render

    roll = rollup(_load_arch(args.config))
    data = area_document(roll.as_dict())
    tables = area_tables(roll)
    if args.json:
        _print(to_json(data))
    else:
        text = render(tables)
        if text is not None:
            _print(text)
    if args.out:
        _wrote(write_tables(args.out, "area", tables, data), args.json)
    return 0


def cmd_run(args) -> int:
    if args.timeline and args.fidelity == "analytic":
        raise PimsimError("the analytic fidelity has no timeline: use --fidelity fast or event",
                          where="--timeline")
    for option in ("timeline", "html"):
        value = getattr(args, option, None)
        if value and Path(value).is_dir():
            raise PimsimError("is a directory; give a file name", file=value,
                              where=f"--{option}")
    _check_outputs(_run_outputs(args))
    from pimsim.report.documents import run_document
    from pimsim.report.output import write_tables
    from pimsim.report.run import energy_table, run_table
    from pimsim.report.tables import to_json
    from pimsim.report.views import (bottleneck_line, fidelity_line, layers_table, render,
                                     spill_line)

    result = _evaluate(args.config, args.trace, args, timeline=args.timeline,
                       schedule=args.schedule)
    accuracy = None if args.no_accuracy or args.schedule else _accuracy(args)
    if accuracy is not None:
        result["total"]["accuracy"] = accuracy
    written = [Path(args.timeline)] if args.timeline else []
    baseline = None
    same = args.baseline and Path(args.baseline).resolve() == Path(args.config).resolve()
    if args.schedule:         # the baseline is the plain design point, without the schedule
        same = False
    baseline_failed = False
    if args.baseline and args.baseline.lower() != "none" and not same:
        try:
            baseline = _evaluate(args.baseline, args.trace, args)
        except PimsimError as exc:
            # Print the design point's own figures, then fail: the baseline was asked for.
            sys.stderr.write(f"pimsim: error: baseline not evaluated: {exc}\n")
            baseline_failed = True
    tables = [run_table(result, baseline), energy_table(result), layers_table(result)]
    if accuracy is not None:
        from pimsim.report.accuracy import accuracy_table
        tables.append(accuracy_table(accuracy, result.get("design", "design")))
    doc = run_document(result, baseline)
    if args.out:
        written += write_tables(args.out, "run", tables, doc)
    if getattr(args, "html", None):
        from pimsim.report.html import run_html
        from pimsim.report.output import write_atomic

        written.append(write_atomic(args.html, run_html(doc)))
    if args.json:
        _print(to_json(doc))
    else:
        shown = tables[:2] + ([tables[2]] if args.layers else []) + tables[3:]
        text = render(shown)
        if text is not None:
            _print(text)
        _print(fidelity_line(result))
        _print(bottleneck_line(result))
        from pimsim.report.run import noc_line
        if noc_line(result):
            _print(noc_line(result))
        if spill_line(result):
            _print(spill_line(result))
    _wrote(written, args.json)
    return EXIT_USER_ERROR if baseline_failed else 0


def _accuracy(args) -> dict | None:
    """Hardware vs software accuracy of the run's trace on its design (docs/functional.md)."""
    from pimsim.config import load_design
    from pimsim.functional.run import run_accuracy
    from pimsim.workload.trace import load_trace

    bar = _ProgressBar("accuracy (functional crossbar model)")
    try:
        images = args.accuracy_images
        return run_accuracy(load_trace(args.trace), load_design(args.config),
                            images=None if images == "all" else images,
                            all_images=images == "all", seeds=args.seeds, progress=bar)
    finally:
        bar.close()


def cmd_compare(args) -> int:
    from pimsim.report.documents import compare_document
    from pimsim.report.output import write_tables
    from pimsim.report.run import compare_table
    from pimsim.report.tables import to_json
    from pimsim.report.views import bottleneck_line, render

    results = [_evaluate(c, args.trace, args) for c in args.configs]
    table = compare_table(results)
    doc = compare_document(results)
    if args.json:
        _print(to_json(doc))
    else:
        text = render([table])
        if text is not None:
            _print(text)
        for r in results:
            _print(f"{r['design']}: {bottleneck_line(r)}")
    if args.out:
        _wrote(write_tables(args.out, "compare", [table], doc), args.json)
    return 0


def cmd_validate(args) -> int:
    path = Path(args.file)
    if path.suffix.lower() in (".yaml", ".yml"):
        from pimsim.arch import rollup
        from pimsim.config.loader import read_yaml

        kind = _yaml_kind(read_yaml(path))
        if kind != "design point":
            _print(_validate_other(path, kind))
            return 0

        roll = rollup(_load_arch(str(path)))
        _print(f"{path}: OK: design point '{roll.design_name}', chip {roll.chip_area_mm2:.4g} mm2, "
               f"{roll.chip_power_mW / 1e3:.4g} W peak")
        return 0
    from pimsim.workload.trace import validate_trace

    trace = validate_trace(path)
    net = trace.network
    _print(f"{path}: OK: network '{net.name}', {len(net)} layers, {net.macs:,} MACs, "
           f"{'with' if trace.has_tensors else 'without'} tensors")
    return 0


def _yaml_kind(data: dict) -> str:
    """Which of pimsim's YAML files this is, from its top-level keys."""
    if "axes" in data and "base" in data:
        return "sweep file"
    if "technique" in data:
        return "schedule"
    if set(data) <= {"endurance", "training", "policies"} and "endurance" in data:
        return "endurance settings"
    return "design point"


def _validate_other(path: Path, kind: str) -> str:
    if kind == "sweep file":
        from pimsim.sweep.spec import load_sweep

        sweep = load_sweep(path)
        return f"{path}: OK: sweep file '{sweep.name}' ({len(sweep.axes)} axes; run it with pimsim sweep)"
    if kind == "schedule":
        from pimsim.techniques.schedule import load_schedule

        sched = load_schedule(path)
        return (f"{path}: OK: schedule for technique '{sched.technique}' (use it with pimsim run "
                "--schedule or pimsim techniques apply)")
    from pimsim.endurance.lifetime import load_endurance_config

    load_endurance_config(path)
    return f"{path}: OK: endurance settings (use them with --endurance-config)"


def cmd_export(args) -> int:
    from pimsim.workload.export import export_command

    if Path(args.out).is_dir():
        raise PimsimError("is a directory; give a file name such as model.npz", file=args.out,
                          where="--out")
    kw = {"weight_bits": args.weight_bits, "act_bits": args.act_bits}
    if args.samples == 0:
        kw["weights"] = False          # shape-only: no tensors, no sampled activations
    else:
        kw["samples"] = args.samples
    path = export_command(args.model, args.out, **kw)
    _wrote([path])
    return 0


def cmd_import(args) -> int:
    from pimsim.workload.onnx_import import import_onnx

    if Path(args.out).is_dir():
        raise PimsimError("is a directory; give a file name such as model.npz", file=args.out,
                          where="--out")
    path = import_onnx(args.model, args.out, weights=not args.shapes_only,
                       weight_bits=args.weight_bits)
    _print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pimsim", description="Cycle-level simulator of ReRAM PIM "
                                "accelerators. Units: energy pJ, time ns, power mW, area mm2.")
    sub = p.add_subparsers(dest="command", required=True)

    def engine(sp):
        sp.add_argument("--fidelity", choices=("fast", "event", "analytic"),
                        default=DEFAULT_FIDELITY,
                        help="fast (default): discrete-event engine, one event per copy's output "
                             "row; event: one per crossbar read cycle (small networks); analytic: "
                             "closed form of the same pipeline")
        sp.add_argument("--images", type=int_in(1), metavar="N", default=None,
                        help="images to complete (fast, event; more are fed behind them so "
                             "the pipeline stays full); default: until the completion "
                             "interval converges (docs/engine.md)")

    def outputs(sp, json_help="print one JSON object instead of tables"):
        sp.add_argument("--json", action="store_true", help=json_help)
        sp.add_argument("--out", metavar="DIR", help="also write CSV, JSON and Markdown tables to DIR")

    sp = sub.add_parser("run", help="evaluate a design point on a trace, beside the ISAAC baseline")
    sp.add_argument("config", help="design point YAML (configs/*.yaml)")
    sp.add_argument("--trace", required=True, help="trace .npz (traces/*.npz)")
    sp.add_argument("--baseline", default=str(DEFAULT_BASELINE),
                    help="baseline design point (default configs/isaac.yaml; 'none' to skip)")
    sp.add_argument("--timeline", metavar="FILE",
                    help="write a Chrome/Perfetto trace-event JSON of the run (fast or event)")
    sp.add_argument("--layers", action="store_true",
                    help="also print the per-layer table (time, share of the interval, "
                         "crossbars, copies, energy, utilization, stalls)")
    sp.add_argument("--html", metavar="FILE",
                    help="write a self-contained HTML report (totals vs baseline, per-layer "
                         "table, energy and area breakdowns, timeline summary)")
    sp.add_argument("--schedule", metavar="YAML",
                    help="apply a technique schedule (configs/schedules/) to the trace on this "
                         "design point and simulate its changed workload (no accuracy: see "
                         "'pimsim techniques apply'); the baseline runs without it")
    sp.add_argument("--accuracy-images", type=_images, default=None, metavar="N|all",
                    help="held-out images for the accuracy of a trace with weights and samples "
                         "(default: as many as the trace has samples; 'all': the whole split)")
    sp.add_argument("--seeds", type=int_in(1, 1000), default=None, metavar="K",
                    help="Monte Carlo repeats of the device non-idealities (default "
                         "nonideal.seeds)")
    sp.add_argument("--no-accuracy", action="store_true",
                    help="skip the functional (accuracy) model")
    engine(sp)
    outputs(sp)
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("compare", help="one table, a column per design point")
    sp.add_argument("configs", nargs="+", help="design point YAMLs, one column each")
    sp.add_argument("--trace", required=True, help="trace .npz")
    engine(sp)
    outputs(sp)
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser("area", help="area and peak power per component for IMA, tile and chip")
    sp.add_argument("config", help="design point YAML")
    outputs(sp)
    sp.set_defaults(func=cmd_area)

    sp = sub.add_parser("validate", help="check a design point (.yaml) or a trace (.npz)")
    sp.add_argument("file", help="design point, sweep file or schedule (.yaml), or trace (.npz)")
    sp.set_defaults(func=cmd_validate)

    from pimsim.sweep.commands import (REPORT_HELP, SWEEP_HELP, add_report_arguments,
                                       add_sweep_arguments, report_command, sweep_command)

    sp = sub.add_parser("sweep", help=SWEEP_HELP)
    add_sweep_arguments(sp)
    sp.set_defaults(func=sweep_command)

    sp = sub.add_parser("report", help=REPORT_HELP)
    add_report_arguments(sp)
    sp.set_defaults(func=report_command)

    from pimsim.techniques.cli_args import add_parser as add_techniques
    from pimsim.training.cli_args import (add_endurance_arguments, add_train_arguments,
                                          endurance, train)

    add_techniques(sub)

    sp = sub.add_parser("train", help="train a zoo model in the loop with an update policy "
                        "(endurance); needs the torch extra")
    add_train_arguments(sp)
    sp.set_defaults(func=train)

    sp = sub.add_parser("endurance", help="per-cell write tables and lifetime from saved "
                        "training update records")
    add_endurance_arguments(sp)
    sp.set_defaults(func=endurance)

    sp = sub.add_parser("export", help="export a PyTorch model to a trace (needs the torch extra)")
    sp.add_argument("model", help="zoo model name or module:function returning (model, example_input)")
    sp.add_argument("--out", required=True, metavar="PATH", help="trace file to write (.npz)")
    sp.add_argument("--samples", type=int_in(0, 4096), default=0,
                    help="0 (default): shape-only trace; N: weights plus N real held-out "
                         "samples (digits zoo models; other models: call export_torch in Python)")
    sp.add_argument("--weight-bits", type=int_in(2, 32), default=8, help="2..32 (default 8)")
    sp.add_argument("--act-bits", type=int_in(1, 32), default=8, help="1..32 (default 8)")
    sp.set_defaults(func=cmd_export)

    sp = sub.add_parser("import", help="import an ONNX model as a trace (needs the onnx extra)")
    sp.add_argument("model", metavar="MODEL.onnx", help="an ONNX file (untrusted input: capped, "
                    "no external data)")
    sp.add_argument("--out", required=True, metavar="PATH",
                    help="the trace file to write (.npz; written atomically)")
    sp.add_argument("--shapes-only", action="store_true",
                    help="write a shape-only trace (no weights)")
    sp.add_argument("--weight-bits", type=int_in(2, 32), default=8, help="2..32 (default 8)")
    sp.set_defaults(func=cmd_import)
    return p


#: errno values of file-system failures a user can cause or fix (disk full, read-only,
#: permissions, names too long, quota, a directory where a file should be, ...).
FS_ERRNOS = frozenset(getattr(errno, n) for n in (
    "ENOSPC", "EROFS", "EACCES", "EPERM", "ENAMETOOLONG", "EDQUOT", "EISDIR", "ENOTDIR",
    "EEXIST", "ENOENT", "EFBIG", "EMFILE", "ENFILE", "ELOOP", "EIO") if hasattr(errno, n))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"pimsim: warning: {message}\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return args.func(args)
    except PimsimError as exc:
        sys.stderr.write(f"pimsim: error: {exc}\n")
        return EXIT_USER_ERROR
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.errno not in FS_ERRNOS:
            raise
        where = exc.filename if exc.filename is not None else "a file"
        sys.stderr.write(f"pimsim: error: {where}: {exc.strerror or exc} (the command stopped; "
                         "files it wrote completely are kept, none is half-written)\n")
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
