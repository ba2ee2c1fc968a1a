"""Agreement of the closed form (``analytic``) and the engine (``fast``) on one design
point: interval and latency side by side, and whether a difference beyond the tolerance
is accounted for by named causes (docs/engine.md, "How the engine differs from the
closed form").

Interval rule (``TOLERANCE`` = 5 %): the engine's interval ``I_f`` agrees with the closed
form's ``I_a`` when ``|I_f / I_a - 1| <= TOLERANCE``; otherwise it is **explained** when
``I_f > I_a`` and the copies (or workers) of the engine's bottleneck layer are busy for
at most ``(1 + TOLERANCE) x I_a`` of each interval, i.e. the share of their time that
the bottleneck's steady-state ``stalls_ns`` (after image 0, ``total.bottleneck``) names
(input_wait, buffer_full, ...) covers the rest:
``stalled / (busy + stalled) x I_f >= I_f - (1 + TOLERANCE) x I_a``. An engine interval
*below* the closed form's is never explained: the closed form would be counting work
the engine does not do.

Latency rule: image 0's latency ``L_f`` (images fed behind it) agrees with the closed
form's ``L_a`` within ``TOLERANCE``; otherwise the engine is run once more with image 0
**alone** (no image behind it, ``run_engine(..., images=1, alone=True)``), which splits
the difference in two measured parts:

* **later images** ``L_f - L_alone`` (>= 0: shared units grant in time order, so later
  images can only delay image 0): queueing of image 0 behind the images injected after
  it at shared units (eDRAM ports, buses, routers, links);
* **image 0's own path** ``L_alone - L_a``: where image 0 alone falls behind (or gets
  ahead of) the closed form, layer by layer: each layer's image-0 finish time in the
  engine minus the closed form's (``pimsim.sim.stages.row_done_ns``), and the part of it
  that layer added (its difference minus the largest of its inputs'), with that layer's
  image-0 stalls by cause (``input_wait`` left out: the closed form waits for inputs too).

The latency difference is **explained by later images** when ``L_f > (1 + TOLERANCE)
L_a`` and image 0 alone agrees (``|L_alone / L_a - 1| <= TOLERANCE``); otherwise it is
"open", and the output names the layers where image 0's own path departs from the closed
form, with their stalls, so a reader sees where the two models differ.
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
    alone_latency_ns: float = float("nan")   # image 0 with no image behind it (engine)
    path: tuple = ()                # LayerDelay per layer, image 0 alone vs the closed form

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
    def later_images_ns(self) -> float:
        """Image 0's latency with images fed behind it minus alone (ns)."""
        return self.fast_latency_ns - self.alone_latency_ns

    @property
    def alone_diff(self) -> float:
        return self.alone_latency_ns / self.analytic_latency_ns - 1.0

    @property
    def latency_verdict(self) -> str:
        """"agree", "later images" (explained by queueing behind later images) or "open"."""
        if abs(self.latency_diff) <= TOLERANCE:
            return "agree"
        if self.latency_diff > TOLERANCE and abs(self.alone_diff) <= TOLERANCE:
            return "later images"
        return "open"

    def departures(self, k: int = 2) -> list["LayerDelay"]:
        """The ``k`` layers that added the most (in size) to image 0's difference from the
        closed form on its own path."""
        return sorted(self.path, key=lambda d: -abs(d.added_ns))[:k]


@dataclass(frozen=True)
class LayerDelay:
    """One layer on image 0's path, image 0 alone in the engine against the closed form."""

    layer: str
    closed_form_ns: float           # image 0's last output row of the layer, closed form
    engine_ns: float                # the same in the engine, image 0 alone
    added_ns: float                 # (engine - closed form) here minus the inputs' largest
    stalls_ns: dict                 # image 0's stalls at the layer by cause (input_wait out)
    workers: int                    # the layer's copies (MVM) or workers

    @property
    def behind_ns(self) -> float:
        return self.engine_ns - self.closed_form_ns


def compare(network: Network, arch: Arch, trace: str = "", design: str = "") -> Agreement:
    """Run ``analytic`` and ``fast`` (to the steady state) and compare them; when the
    latencies differ by more than ``TOLERANCE``, also image 0 alone (``fast``)."""
    from pimsim.sim.run import simulate

    g = from_results(simulate(network, arch, fidelity="analytic"),
                     simulate(network, arch, fidelity="fast"), trace, design)
    if abs(g.latency_diff) > TOLERANCE:
        g = with_path(g, network, arch)
    return g


def with_path(g: Agreement, network: Network, arch: Arch) -> Agreement:
    """``g`` with image 0 alone (``fast``, no image behind it) and its path, layer by
    layer, against the closed form's row schedule."""
    from dataclasses import replace

    from pimsim.mapping import map_network
    from pimsim.sim.engine import run_engine
    from pimsim.sim.stages import row_done_ns

    alone = run_engine(network, arch, fidelity="fast", images=1, alone=True)
    nmap = map_network(network, arch)
    done = row_done_ns(network, nmap, arch)
    return replace(g, alone_latency_ns=alone.total.latency_ns,
                   path=tuple(layer_path(network, nmap, alone, done)))


def layer_path(network: Network, nmap, alone: Result, done: dict) -> list[LayerDelay]:
    """Each layer's image-0 finish in ``alone`` (an engine run of image 0 alone) against
    the closed form's (``done``: :func:`pimsim.sim.stages.row_done_ns`), in network order;
    ``nmap``: the mapping (copies or workers per layer)."""
    from pimsim.sim.noc import worker_tiles

    timing = {t.name: t for t in alone.engine_stats.layers}
    behind: dict[str, float] = {}
    out = []
    for lay, lm in zip(network, nmap.layers):
        t = timing[lay.name]
        closed = float(done[lay.name].max()) if done[lay.name].size else 0.0
        behind[lay.name] = t.finish_ns - closed
        before = max((behind[s] for s in lay.inputs if s in behind), default=0.0)
        workers = (lm.replication if lm.is_mvm
                   else len(worker_tiles(lm, max(1, lay.out_shape[1]))))
        out.append(LayerDelay(lay.name, closed, t.finish_ns, behind[lay.name] - before,
                              {c: v for c, v in t.stalls_ns.items()
                               if c != "input_wait" and v > 0.0}, max(1, workers)))
    return out


def from_results(analytic: Result, fast: Result, trace: str = "",
                 design: str = "") -> Agreement:
    """The agreement of two finished results (``analytic``, ``fast``) of one design point
    (without image 0 alone: :func:`with_path` adds it)."""
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
          "| interval | latency | engine bottleneck: stalled share (causes) "
          "| latency: later images; image 0 alone, where it departs |\n"
          "|---|---|---|---|---|---|---|---|")


def latency_cell(g: Agreement) -> str:
    """The latency split when it does not agree: later images' part (ns), image 0 alone
    against the closed form, and the layers that added most to its difference, each with
    its image-0 stalls by cause (``input_wait`` left out; mean per copy or worker, ns)."""
    if not g.path:
        return ""
    worst = []
    for d in g.departures():
        st = ", ".join(f"{c} {v / d.workers:,.0f}"
                       for c, v in sorted(d.stalls_ns.items(), key=lambda cv: -cv[1]))
        worst.append(f"{d.layer} {d.added_ns:+,.0f} ns" + (f" (stalls per copy: {st})"
                                                           if st else ""))
    return (f"later images {g.later_images_ns:+,.0f} ns; alone {100 * g.alone_diff:+.1f} %: "
            + ", ".join(worst))


def markdown_row(g: Agreement) -> str:
    """One row of the agreement table."""
    causes = ", ".join(f"{c} {100 * v:.1f} %"
                       for c, v in sorted(g.causes.items(), key=lambda cv: -cv[1]))
    return (f"| {g.network} | {g.design} | {g.analytic_interval_ns:,.1f} / "
            f"{g.analytic_latency_ns:,.0f} | {g.fast_interval_ns:,.1f} / "
            f"{g.fast_latency_ns:,.0f} | {100 * g.interval_diff:+.1f} % {g.interval_verdict} | "
            f"{100 * g.latency_diff:+.1f} % {g.latency_verdict} | {g.bottleneck}: "
            f"{100 * g.stalled_share:.1f} %" + (f" ({causes})" if causes else "")
            + f" | {latency_cell(g)} |")


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

