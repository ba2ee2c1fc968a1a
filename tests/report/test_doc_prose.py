"""Figures quoted in the prose of docs/ (outside generated blocks) are what the command
beside them prints now: each test recomputes a paragraph's figures and looks for them,
formatted as the paragraph writes them, in that paragraph. A failure means the prose is
stale: rerun the command beside it and rewrite the paragraph (its argument too, where the
new figures no longer carry it).

The steady-state figures of docs/engine.md are kept by tests/sim/test_steady.py
(``*_figures_of_the_doc``, ``test_image0_latency_never_falls_with_a_larger_batch``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from doctext import paragraph  # noqa: E402

from pimsim.arch import build_arch  # noqa: E402
from pimsim.config import load_design  # noqa: E402
from pimsim.sim import simulate  # noqa: E402
from pimsim.workload.trace import load_network  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_paragraph_finds_a_wrapped_figure_and_only_in_its_paragraph(tmp_path):
    doc = tmp_path / "page.md"
    doc.write_text("First: 1,234.5\nns here.\n\nSecond: 6.61 hours.\n")
    assert "1,234.5 ns" in paragraph(doc, "First:")
    assert "6.61" not in paragraph(doc, "First:")
    with pytest.raises(AssertionError):
        paragraph(doc, "Third:")


@pytest.fixture(scope="module")
def bert():
    """BERT-base's encoder layer on ISAAC with attention on the digital units and written
    into crossbars, with the closed form (the two `pimsim run ... --fidelity analytic`
    commands of docs/components.md, "Attention: activation x activation matmuls")."""
    net = load_network(ROOT / "traces" / "bert_base_layer_shapes.npz")
    return {name: simulate(net, build_arch(load_design(ROOT / "configs" / f"{name}.yaml")),
                           fidelity="analytic")
            for name in ("isaac", "isaac_attention_write")}


def test_attention_write_figures_of_components_md(bert):
    dig, wr = bert["isaac"], bert["isaac_attention_write"]
    uj = lambda r, role: r.total.energy_breakdown_pJ[role] / 1e6   # noqa: E731
    us = {r: sorted(lr.time_ns / 1e3 for lr in res.layers if lr.kind == "matmul")
          for r, res in bert.items()}
    digital, stages = us["isaac"], us["isaac_attention_write"]
    assert len(digital) == len(stages) == 2 and digital[0] == digital[1]
    para = paragraph(DOCS / "components.md", "the digital mapping spends")
    quoted = [
        f"spends {uj(dig, 'eltwise'):.1f} uJ per image on the `eltwise` units (the two "
        f"matmuls' {sum(lr.macs for lr in dig.layers if lr.kind == 'matmul') / 1e6:.1f} M MACs",
        f"each matmul stage takes {digital[0]:.1f} us",
        f"costs {wr.total.counts['write_driver.write']:,.0f} cell writes "
        f"({uj(wr, 'write_driver'):.2f} uJ) per image",
        f"the two stages take {stages[0]:.1f} us and {stages[1]:.1f} us",
        f"the image costs {wr.total.energy_pJ / 1e6:.0f} uJ instead of "
        f"{dig.total.energy_pJ / 1e6:.0f} uJ",
        f"save {uj(dig, 'eltwise') - uj(wr, 'eltwise'):.1f} uJ of `eltwise` work but add "
        f"{uj(wr, 'adc') - uj(dig, 'adc'):.0f} uJ of ADC conversions",
        f"the same {dig.total.static_energy_pJ / 1e6:.1f} uJ per image",
    ]
    assert dig.total.static_energy_pJ == pytest.approx(wr.total.static_energy_pJ)
    for q in quoted:
        assert q in para, f"docs/components.md 'Attention' is stale: {q}"
    # the endurance: 1e8 writes per cell at one write per inference, as the command there
    # prints (1e8 / throughput / 3600)
    rate = 1e9 / wr.total.interval_ns                    # images per second
    assert rate == pytest.approx(wr.total.throughput_images_per_s, rel=1e-12)
    hours = f"{1e8 / rate / 3600:.2f} hours of continuous inference ({rate:,.1f} images/s"
    assert hours in paragraph(DOCS / "components.md", "hours of continuous inference"), \
        f"docs/components.md 'Attention' is stale: {hours}"


def test_mnsim_resnet18_run_lines_of_engine_and_performance_md():
    # `pimsim run configs/isaac.yaml --trace traces/mnsim_resnet18_shapes.npz`: its
    # on-chip network line in docs/engine.md ("On-chip network", Result), its first
    # completion gaps under fifo (docs/engine.md, 'Why "the pace held"') and the closed
    # form's slowest stage of its bottleneck line in docs/performance.md. ~6 s.
    from pimsim.api import evaluate_files
    from pimsim.report.run import noc_line

    r = evaluate_files(str(ROOT / "configs" / "isaac.yaml"),
                       str(ROOT / "traces" / "mnsim_resnet18_shapes.npz"), fidelity="fast")
    d = r.as_dict()
    line = noc_line(d)
    assert line in paragraph(DOCS / "engine.md", "`pimsim run` prints it as the last line"), \
        f"docs/engine.md 'On-chip network' shows a stale line; the command prints:\n{line}"
    # 'Why "the pace held"': the exact plateaus at the start of its completion gaps (the
    # first two runs of at least 3 equal gaps; image k's gap is gaps[k - 1]) under
    # engine.arbitration fifo, which that section's figures were measured under
    f = evaluate_files(str(ROOT / "configs" / "isaac.yaml"),
                       str(ROOT / "traces" / "mnsim_resnet18_shapes.npz"), fidelity="fast",
                       overrides={"engine.arbitration": "fifo"}).engine_stats.image_finish_ns
    gaps = [round(b - a, 2) for a, b in zip(f, f[1:])]
    runs, k = [], 0
    while k < len(gaps) and len(runs) < 2:
        end = k
        while end + 1 < len(gaps) and gaps[end + 1] == gaps[k]:
            end += 1
        if end - k >= 2:
            runs.append(f"{end - k + 1} {'gaps ' if not runs else ''}of {gaps[k]:,.2f} ns "
                        f"at images {k + 1} to {end + 1}")
        k = end + 1
    quoted = " and ".join(runs)
    assert quoted in paragraph(DOCS / "engine.md", 'Why "the pace held"'), \
        f"docs/engine.md 'Why \"the pace held\"' is stale: {quoted}"
    closed = d["total"]["bottleneck"]["closed_form_interval_ns"]
    quoted = f"the closed form's interval ({closed / 1e3:.2f} us"
    assert quoted in paragraph(DOCS / "performance.md", "What the steady state costs here"), \
        f"docs/performance.md is stale: {quoted}"
