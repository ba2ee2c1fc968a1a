"""ERA-BS against ISAAC factor by factor, on the real traces (docs/techniques.md section 8.2).

Every row adds one change to the row above it, from ISAAC to the shipped ERA-BS design
point (``configs/era_bs.yaml``): precision, differential cells, exponent quantization with
bit flips, OU-sequenced reads, zero skipping, the smaller lossless ADC. Each row is one
evaluation (``pimsim.sim.evaluate``) of the trace's network with the trace's own activity
(real activations and weights, ``pimsim.mapping.activity``) and, where a schedule is named,
the technique's change to the mapped workload; accuracy is measured by the numpy executor
on the held-out digits. PIM-Prune is evaluated the same way beside it.

Regenerate the section with ``python -m pimsim.techniques.factors --write docs/techniques.md``
or ``python -m pimsim.report.doc_tables --write techniques-factors`` (about a minute);
``tests/report/test_doc_tables.py`` checks it is current.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pimsim.arch import build_arch
from pimsim.config import load_design
from pimsim.mapping.activity import workload_overrides
from pimsim.sim import evaluate
from pimsim.techniques.accuracy import accuracy
from pimsim.techniques.apply import TECHNIQUES, metrics
from pimsim.techniques.schedule import load_schedule
from pimsim.workload.trace import load_trace

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
TRACES = ("traces/cnn_digits.npz", "traces/resnet20_digits.npz")
BEGIN, END = "<!-- generated: techniques-factors -->", "<!-- end generated -->"

#: ERA-BS's design point read like ISAAC: the whole array at once, an 8-bit ADC at
#: ISAAC's 1.28 GS/s, no skipping hardware.
ALL_ROWS = {"crossbar.ou_rows": "auto", "crossbar.ou_cols": "auto", "crossbar.read_cycle_ns": 100,
            "adc.bits": "auto", "adc.sample_rate_GSps": 1.28,
            "activity.skip_zero_inputs": False, "activity.skip_zero_weights": False}
OU_READS = {"adc.bits": 8, "adc.sample_rate_GSps": 1.28,
            "activity.skip_zero_inputs": False, "activity.skip_zero_weights": False}
SKIPPING = {"adc.bits": 8, "adc.sample_rate_GSps": 1.28}
WEIGHTS = "configs/schedules/era_bs_weights.yaml"


@dataclass(frozen=True)
class Step:
    label: str
    what: str
    config: str
    overrides: dict = field(default_factory=dict)
    schedule: str | None = None
    in_product: bool = True          # part of the ERA-BS product (False: a side row)


STEPS = (
    Step("ISAAC", "16-bit weights and inputs, offset cells, 128-row reads, 8-bit ADC",
         "configs/isaac.yaml"),
    Step("precision", "8-bit weights and inputs (the traces' precision)", "configs/isaac_8bit.yaml"),
    Step("differential cells", "a positive and a negative column per slice (zero weight = zero "
         "cells): 2x columns", "configs/era_bs.yaml", ALL_ROWS),
    Step("bit flip", "exponent quantization (2-bit mantissa) + adaptive bit flips; released "
         "columns packed", "configs/era_bs.yaml", ALL_ROWS, WEIGHTS),
    Step("OU reads", "16x16 operation units read one after another, 10 ns per OU read, "
         "8-bit ADC", "configs/era_bs.yaml", OU_READS, WEIGHTS),
    Step("OU zero skipping", "zero input bit-slices and all-zero weight OUs skipped (zero "
         "detectors, control, OU index charged)", "configs/era_bs.yaml", SKIPPING, WEIGHTS),
    Step("smaller ADCs", "5-bit SAR, lossless for 16 rows, 5 bit-cycles per conversion: "
         "configs/era_bs.yaml as shipped", "configs/era_bs.yaml", {}, WEIGHTS),
    Step("4-bit ADC (clipping)", "side row: below lossless (adc.clip: saturate); accuracy "
         "cost not modelled", "configs/era_bs.yaml", {"adc.bits": 4, "adc.clip": "saturate"}, WEIGHTS, False),
)
PIM_PRUNE = Step("PIM-Prune", "configs/pim_prune.yaml + 30 % crossbar rows pruned "
                 "(configs/schedules/pim_prune.yaml), no fine-tuning", "configs/pim_prune.yaml",
                 {}, "configs/schedules/pim_prune.yaml", False)
#: ERA-BS's published "up to" ratios (Liu et al., IEEE TC 2023, abstract).
PAPER_VS_ISAAC = {"energy": 43.0, "area": 78.0, "throughput": 73.0}
PAPER_VS_PIM_PRUNE = {"energy": 5.3, "area": 7.2, "throughput": 32.0}


def measure(trace_path: str | Path, steps=STEPS + (PIM_PRUNE,)) -> list[dict]:
    """One record per step: the step, its accuracy and its evaluation's metrics."""
    trace = load_trace(ROOT / trace_path if not Path(trace_path).is_absolute() else trace_path)
    base_acc = accuracy(trace)
    rows, acc_of = [], {}
    for step in steps:
        design = load_design(ROOT / step.config, step.overrides)
        arch = build_arch(design)
        overrides, transforms, acc = None, None, base_acc
        if step.schedule:
            sched = load_schedule(ROOT / step.schedule)
            # the weights a schedule leaves depend on the crossbar rows and cell scheme,
            # not on the OU or ADC: measure each schedule's accuracy once per cell scheme
            key = (step.schedule, design.crossbar.rows, design.precision.signed_weights)
            outcome = TECHNIQUES[sched.technique]().apply(trace, design, sched,
                                                           accuracy=key not in acc_of)
            acc_of.setdefault(key, outcome.accuracy_after)
            acc = acc_of[key]
            overrides, transforms = outcome.overrides, outcome.act_transforms
        ov = workload_overrides(trace, design, overrides, act_transforms=transforms) or None
        result = evaluate(trace.network, arch, ov)
        m = metrics(result, arch)
        adc = result.total.energy_breakdown_pJ.get("adc", 0.0)
        rows.append({"step": step, "accuracy": acc, "adc_bits": design.adc.bits,
                     "adc_share": adc / m["energy_dynamic_pJ"] if m["energy_dynamic_pJ"] else 0.0,
                     **m})
    return rows


FINETUNE_DATA = ROOT / "docs" / "data" / "finetune.json"


def finetuned(network: str, schedule: str = WEIGHTS) -> dict | None:
    """The fine-tuning study's record of ``schedule`` on ``network`` (accuracy after
    fine-tuning with the flips fixed; ``python -m pimsim.report.finetune --measure`` writes
    docs/data/finetune.json), or None when it was not measured."""
    import json

    if not FINETUNE_DATA.is_file():
        return None
    data = json.loads(FINETUNE_DATA.read_text(encoding="utf-8"))
    for p in data.get(network, {}).get("points", []):
        if p.get("kind") == "schedule" and p.get("schedule") == schedule:
            return p
    return None


def _x(value: float) -> str:
    return f"{value:.3g}x"


def table(network: str, rows: list[dict]) -> str:
    """The Markdown factor table of one trace."""
    isaac = rows[0]
    out = [f"**{network}** (accuracy on the 360 held-out digits; energy = dynamic energy per "
           "image; area = tiles the mapping uses)", "",
           "| step | what changes | accuracy | ADC bits | energy / image (nJ) | ADC share | "
           "step factor (energy eff.) | energy eff. vs ISAAC | area eff. vs ISAAC | "
           "throughput vs ISAAC |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    prev = None
    for r in rows:
        s = r["step"]
        factor = "" if prev is None else _x(prev["energy_dynamic_pJ"] / r["energy_dynamic_pJ"])
        label = s.label if s.in_product else f"*{s.label}*"
        out.append(
            f"| {label} | {s.what} | {r['accuracy']:.3f} | {r['adc_bits']} | "
            f"{r['energy_dynamic_pJ'] / 1e3:,.1f} | {100 * r['adc_share']:.0f} % | {factor} | "
            f"{_x(isaac['energy_dynamic_pJ'] / r['energy_dynamic_pJ'])} | "
            f"{_x(r['mapped_gops_per_mm2'] / isaac['mapped_gops_per_mm2'])} | "
            f"{_x(r['throughput_images_per_s'] / isaac['throughput_images_per_s'])} |")
        if s.in_product:
            prev = r
    final = [r for r in rows if r["step"].in_product][-1]
    pp = [r for r in rows if r["step"] is PIM_PRUNE]
    ft = finetuned(network)
    if ft is None:
        out.append("| fine-tuning | retraining with the flipped bits fixed | not measured "
                   "| | | | | | | |")
    else:
        # fine-tuning keeps every flipped and released cell: the hardware work is the
        # product's; only the accuracy changes
        out.append(
            f"| fine-tuning | {ft['finetune']['epochs']} epochs after the flips, flipped bits "
            "fixed (accuracy: docs/data/finetune.json, `python -m pimsim.report.finetune "
            f"--measure`); same hardware work | {ft['accuracy_finetuned']:.3f} | "
            f"{final['adc_bits']} | {final['energy_dynamic_pJ'] / 1e3:,.1f} | "
            f"{100 * final['adc_share']:.0f} % | 1x | "
            f"{_x(isaac['energy_dynamic_pJ'] / final['energy_dynamic_pJ'])} | "
            f"{_x(final['mapped_gops_per_mm2'] / isaac['mapped_gops_per_mm2'])} | "
            f"{_x(final['throughput_images_per_s'] / isaac['throughput_images_per_s'])} |")
    out += ["", "| ERA-BS (configs/era_bs.yaml) | energy efficiency | area efficiency | "
            "throughput |", "|---|---|---|---|",
            f"| vs ISAAC, ours | {_x(isaac['energy_dynamic_pJ'] / final['energy_dynamic_pJ'])} | "
            f"{_x(final['mapped_gops_per_mm2'] / isaac['mapped_gops_per_mm2'])} | "
            f"{_x(final['throughput_images_per_s'] / isaac['throughput_images_per_s'])} |",
            f"| vs ISAAC, paper (up to) | {_x(PAPER_VS_ISAAC['energy'])} | "
            f"{_x(PAPER_VS_ISAAC['area'])} | {_x(PAPER_VS_ISAAC['throughput'])} |"]
    if pp:
        p = pp[0]
        out += [f"| vs PIM-Prune, ours | {_x(p['energy_dynamic_pJ'] / final['energy_dynamic_pJ'])}"
                f" | {_x(final['mapped_gops_per_mm2'] / p['mapped_gops_per_mm2'])} | "
                f"{_x(final['throughput_images_per_s'] / p['throughput_images_per_s'])} |",
                f"| vs PIM-Prune, paper | {_x(PAPER_VS_PIM_PRUNE['energy'])} | "
                f"{_x(PAPER_VS_PIM_PRUNE['area'])} | {_x(PAPER_VS_PIM_PRUNE['throughput'])} |"]
    return "\n".join(out)


def statistics_table(trace_path: str | Path,
                     configs=("configs/isaac.yaml", "configs/isaac_8bit.yaml",
                              "configs/era_bs.yaml")) -> str:
    """Dynamic energy per image with the trace's real statistics beside the stated default
    ones (``activity.source: default``: every input bit 1, mean cell levels), no schedule."""
    trace = load_trace(ROOT / trace_path)
    out = [f"| {trace.network.name}: design | energy / image, real data (nJ) | "
           "energy / image, default statistics (nJ) | default / real |", "|---|---|---|---|"]
    for config in configs:
        e = {}
        for source in ("trace", "default"):
            design = load_design(ROOT / config, {"activity.source": source})
            ov = workload_overrides(trace, design) or None
            e[source] = evaluate(trace.network, build_arch(design), ov).total.dynamic_energy_pJ
        out.append(f"| {config} | {e['trace'] / 1e3:,.1f} | {e['default'] / 1e3:,.1f} | "
                   f"{_x(e['default'] / e['trace'])} |")
    return "\n".join(out)


def render(traces=TRACES) -> str:
    """The generated part of docs/techniques.md section 8.2."""
    parts = [f"{BEGIN}",
             "Generated by `python -m pimsim.techniques.factors --write docs/techniques.md` "
             "(checked current by `tests/report/test_doc_tables.py`). Each row adds one "
             "change to the row above (rows in italics are beside the product, not part of "
             "it); \"step factor\" is the row above's dynamic energy over this row's.", ""]
    for path in traces:
        rows = measure(path)
        parts += [table(Path(path).stem, rows), ""]
    parts += ["Energy with the traces' real statistics beside the stated defaults (no schedule; "
              "docs/mapping.md, Activity):", ""]
    for path in traces:
        parts += [statistics_table(path), ""]
    parts.append(END)
    return "\n".join(parts)


def splice(doc: str, block: str) -> str:
    """``doc`` with the text between the markers (inclusive) replaced by ``block``."""
    if BEGIN not in doc or END not in doc:
        raise ValueError(f"the page has no {BEGIN} ... {END} block")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + block + tail


def current_block(doc: str) -> str:
    """The generated block as committed in ``doc``."""
    head, rest = doc.split(BEGIN, 1)
    return BEGIN + rest.split(END, 1)[0] + END


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pimsim.techniques.factors",
                                description="ERA-BS vs ISAAC factor table on the real traces")
    p.add_argument("--write", metavar="PAGE", help="splice the table into PAGE (between the "
                   f"{BEGIN} markers) instead of printing it")
    args = p.parse_args(argv)
    block = render()
    if args.write:
        from pimsim.fileio import write_atomic

        page = Path(args.write)
        write_atomic(page, splice(page.read_text(encoding="utf-8"), block))
    else:
        sys.stdout.write(block + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
