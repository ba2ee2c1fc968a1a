"""The Python API: one call per question, the same evaluation the CLI runs.

    >>> import pimsim
    >>> r = pimsim.run("configs/isaac.yaml", "traces/cnn_digits.npz", fidelity="analytic")
    >>> r.total.macs > 0
    True

``run`` returns a :class:`~pimsim.result.Result` (``r.as_dict()`` is the JSON of
``pimsim run --json``; ``r.to_frame()`` / ``r.layers_frame()`` need pandas);
``compare`` returns a :class:`Comparison` of Results; ``sweep`` runs a sweep file and
returns its rows. Design keys are overridden with ``overrides={"crossbar.rows": 256}`` or
keyword arguments that spell the dots as double underscores (``crossbar__rows=256``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from pimsim.result import Result
from pimsim.sim.fidelity import DEFAULT_FIDELITY

PathLike = str | os.PathLike


def _overrides(overrides: dict | None, kw: dict[str, Any]) -> dict[str, Any]:
    out = dict(overrides or {})
    out.update({k.replace("__", "."): v for k, v in kw.items()})
    return out


def evaluate_files(design: PathLike, trace: PathLike, *, fidelity: str = DEFAULT_FIDELITY,
                   overrides: dict[str, Any] | None = None, schedule: PathLike | None = None,
                   timeline: PathLike | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   images: int | None = None) -> Result:
    """Load the design point and the trace, simulate, and stamp the Result's identity
    (content hashes of design, network and trace file). What ``pimsim run`` does."""
    from pimsim.arch import build_arch
    from pimsim.config import load_design
    from pimsim.provenance import file_sha256
    from pimsim.sim import simulate
    from pimsim.mapping.activity import workload_overrides
    from pimsim.result import ResultError
    from pimsim.sim.run import identify
    from pimsim.workload.trace import load_trace

    design_obj = load_design(design, overrides or None)
    arch = build_arch(design_obj)
    loaded = load_trace(trace)
    network = loaded.network
    ov, transforms = None, None
    if schedule:
        from pimsim.techniques.apply import schedule_outcome

        outcome = schedule_outcome(trace, design_obj, schedule)
        ov, transforms = outcome.overrides, outcome.act_transforms
    # the trace's real activations and weights (or the design's default statistics):
    # zero skipping and value-dependent energy (docs/mapping.md#activity)
    ov = workload_overrides(loaded, design_obj, ov, act_transforms=transforms) or None
    kw = {} if images is None else {"images": images}
    try:
        result = simulate(network, arch, fidelity=fidelity, timeline=timeline,
                          progress=progress, overrides=ov, **kw)
    except ResultError as exc:      # name the design point whose parameters led there
        raise ResultError(exc.detail, file=str(design), where=exc.where,
                          found=exc.found) from None
    return identify(result, network, arch, design_file=str(design),
                    overrides=dict(overrides) if overrides else None, trace_file=str(trace),
                    trace_sha256=file_sha256(trace),
                    schedule_file=str(schedule) if schedule else None)


def run(design: PathLike, trace: PathLike, fidelity: str = DEFAULT_FIDELITY, *,
        overrides: dict[str, Any] | None = None, schedule: PathLike | None = None,
        timeline: PathLike | None = None, images: int | None = None, **design_keys) -> Result:
    """Evaluate one design point (YAML) on one trace (.npz).

    fidelity: ``"fast"`` (default, discrete-event engine), ``"event"`` or ``"analytic"``;
    overrides / ``section__key=value``: design keys changed on top of the file;
    schedule: a technique schedule applied to the workload; timeline: a path for a
    Chrome/Perfetto trace; images: images simulated in flight (engine fidelities).
    Errors in the inputs raise :class:`pimsim.errors.PimsimError` naming file and key.
    """
    return evaluate_files(design, trace, fidelity=fidelity,
                          overrides=_overrides(overrides, design_keys), schedule=schedule,
                          timeline=timeline, images=images)


class Comparison(list):
    """Results of several design points on one trace (a list of Result)."""

    def as_dict(self) -> dict:
        """The JSON of ``pimsim compare --json``."""
        from pimsim.report.documents import compare_document

        return compare_document([r.as_dict() for r in self])

    def to_frame(self):
        """One row of totals per design point (needs pandas)."""
        from pimsim.report.frames import compare_frame

        return compare_frame([r.as_dict() for r in self])

    def __repr__(self) -> str:
        from pimsim.report.run import compare_table
        from pimsim.report.tables import to_text

        return to_text(compare_table([r.as_dict() for r in self]))

    def _repr_html_(self) -> str:
        from pimsim.report.html import table_html
        from pimsim.report.run import compare_table

        return table_html(compare_table([r.as_dict() for r in self]))


def compare(designs: Sequence[PathLike], trace: PathLike, fidelity: str = DEFAULT_FIDELITY, *,
            overrides: dict[str, Any] | None = None, **design_keys) -> Comparison:
    """Evaluate each design point on ``trace``; the same overrides apply to all."""
    ov = _overrides(overrides, design_keys)
    return Comparison(evaluate_files(d, trace, fidelity=fidelity, overrides=ov) for d in designs)


def sweep(sweep_file: PathLike, out: PathLike | None = None, *, workers: int | None = None,
          scheduler: str | None = None, quiet: bool = True, report: bool = False) -> list[dict]:
    """Run a sweep file (docs/sweeps.md) into ``out`` (default ``sweep-results/NAME``),
    resumably; returns one row per planned point (``status``, ``axes``, ``trace``,
    ``total`` ...; the rows of ``pimsim report DIR --json``). ``report``: also write the
    tables, plots and HTML report into ``out``/report."""
    from pimsim.report.sweep_tables import load_sweep_rows
    from pimsim.sweep.commands import DEFAULT_OUT, write_report
    from pimsim.sweep.runner import run_sweep
    from pimsim.sweep.spec import load_sweep

    spec = load_sweep(sweep_file)
    out_dir = Path(out) if out else Path(DEFAULT_OUT) / spec.name
    out_dir.mkdir(parents=True, exist_ok=True)
    run_sweep(spec, out_dir, workers=workers, scheduler=scheduler, quiet=quiet)
    if report:
        write_report(out_dir)
    return load_sweep_rows(out_dir)[1]


__all__: Iterable[str] = ("run", "compare", "sweep", "evaluate_files", "Comparison")
