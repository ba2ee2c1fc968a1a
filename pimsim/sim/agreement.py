"""Agreement of the closed form (``analytic``) and the engine (``fast``) on one design
point: interval and latency side by side, and whether a difference beyond the tolerance
is accounted for by the engine's named stall causes (docs/engine.md, "How the engine
differs from the closed form").

Rule (``TOLERANCE`` = 5 %): the engine's interval ``I_f`` agrees with the closed form's
``I_a`` when ``|I_f / I_a - 1| <= TOLERANCE``; otherwise it is **explained** when
``I_f > I_a`` and the copies (or workers) of the engine's bottleneck layer are busy for
at most ``(1 + TOLERANCE) x I_a`` of each interval, i.e. the share of their time that
the bottleneck's steady-state ``stalls_ns`` (after image 0, ``total.bottleneck``) names (input_wait, buffer_full, ...) covers the
rest: ``stalled / (busy + stalled) x I_f >= I_f - (1 + TOLERANCE) x I_a``. An engine
interval *below* the closed form's is never explained: the closed form would be counting
work the engine does not do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pimsim.arch.compose import Arch
from pimsim.result import Result
from pimsim.workload.layer import Network

TOLERANCE = 0.05


@dataclass(frozen=True)
class Agreement:
    """One trace on one design: both fidelities' interval and latency (ns)."""

    network: str
    design: str
    analytic_interval_ns: float
    analytic_latency_ns: float
    fast_interval_ns: float
    fast_latency_ns: float
    bottleneck: str                 # the engine's: "layer resource"
    stalled_share: float            # of the bottleneck layer's copies' time
    causes: dict = field(default_factory=dict)   # cause -> share of the copies' time

    @property
    def interval_diff(self) -> float:
        return self.fast_interval_ns / self.analytic_interval_ns - 1.0

    @property
    def latency_diff(self) -> float:
        return self.fast_latency_ns / self.analytic_latency_ns - 1.0

    @property
    def interval_verdict(self) -> str:
        """"agree", "stalls" (explained by the named stall causes) or "open"."""
        if abs(self.interval_diff) <= TOLERANCE:
            return "agree"
        excess = self.fast_interval_ns - (1.0 + TOLERANCE) * self.analytic_interval_ns
        if excess > 0 and self.stalled_share * self.fast_interval_ns >= excess:
            return "stalls"
        return "open"

    @property
    def latency_verdict(self) -> str:
        return "agree" if abs(self.latency_diff) <= TOLERANCE else "open"


def compare(network: Network, arch: Arch, trace: str = "", design: str = "") -> Agreement:
    """Run ``analytic`` and ``fast`` (to the steady state) and compare them."""
    from pimsim.sim.run import simulate

    return from_results(simulate(network, arch, fidelity="analytic"),
                        simulate(network, arch, fidelity="fast"), trace, design)


def from_results(analytic: Result, fast: Result, trace: str = "",
                 design: str = "") -> Agreement:
    """The agreement of two finished results (``analytic``, ``fast``) of one design point."""
    a, f = analytic.total, fast.total
    b = f.bottleneck or {}
    share, causes = 0.0, {}
    if "busy_ns" in b:                # the bottleneck layer's steady-state split
        spent = b["busy_ns"] + sum(b["stalls_ns"].values())
        if spent > 0:
            share = sum(b["stalls_ns"].values()) / spent
            causes = {c: v / spent for c, v in b["stalls_ns"].items() if v > 0}
    return Agreement(trace or fast.network, design or fast.design, a.interval_ns,
                     a.latency_ns, f.interval_ns, f.latency_ns,
                     f"{b.get('layer', '')} {b.get('resource', '')}".strip(), share, causes)


HEADER = ("| trace | design | analytic interval / latency (ns) | fast interval / latency (ns) "
          "| interval | latency | engine bottleneck: stalled share (causes) |\n"
          "|---|---|---|---|---|---|---|")


def markdown_row(g: Agreement) -> str:
    """One row of the agreement table."""
    causes = ", ".join(f"{c} {100 * v:.1f} %"
                       for c, v in sorted(g.causes.items(), key=lambda cv: -cv[1]))
    return (f"| {g.network} | {g.design} | {g.analytic_interval_ns:,.1f} / "
            f"{g.analytic_latency_ns:,.0f} | {g.fast_interval_ns:,.1f} / "
            f"{g.fast_latency_ns:,.0f} | {100 * g.interval_diff:+.1f} % {g.interval_verdict} | "
            f"{100 * g.latency_diff:+.1f} % {g.latency_verdict} | {g.bottleneck}: "
            f"{100 * g.stalled_share:.1f} %" + (f" ({causes})" if causes else "") + " |")


def markdown(rows: list[Agreement]) -> str:
    """The agreement table (markdown)."""
    return "\n".join([HEADER] + [markdown_row(g) for g in rows])


#: The designs and traces of docs/engine.md's agreement table (issue 12's acceptance:
#: ISAAC and its 64/256/512 variants; the traces the table was run on).
DOC_DESIGNS = ("isaac", "isaac_xbar64", "isaac_xbar256", "isaac_xbar512")
DOC_TRACES = ("cnn_digits", "lenet5_mnist", "resnet8_mnist", "resnet20_digits",
              "resnet20_cifar_shapes", "mnsim_resnet18_shapes", "mnsim_vgg16_shapes",
              "lstm_lm_shapes", "bert_base_layer_shapes", "resnet18_shapes", "vgg16_shapes")


def doc_table(root=None) -> str:
    """docs/engine.md's agreement table, regenerated (minutes: every trace x design runs
    ``analytic`` and ``fast``; the same as ``scripts/agreement.py``)."""
    from pathlib import Path

    from pimsim.arch import build_arch
    from pimsim.config import load_design
    from pimsim.workload import load_network

    root = Path(root) if root else Path(__file__).resolve().parents[2]
    rows = []
    for t in DOC_TRACES:
        net = load_network(root / "traces" / f"{t}.npz")
        for c in DOC_DESIGNS:
            rows.append(compare(net, build_arch(load_design(root / "configs" / f"{c}.yaml")),
                                t, c))
    return markdown(rows)


DOC_BLOCK = "engine-agreement"


def render() -> str:
    """docs/engine.md's generated agreement block, markers included (minutes)."""
    return "\n".join([f"<!-- generated: {DOC_BLOCK} -->", "",
                      f"Generated by `python -m pimsim.report.doc_tables --write {DOC_BLOCK}` "
                      "(the table `python scripts/agreement.py` prints for these traces and "
                      "designs; minutes: checked by `python -m pimsim.report.doc_tables "
                      "--check --slow`).", "", doc_table().rstrip("\n"), "",
                      "<!-- end generated -->"])

