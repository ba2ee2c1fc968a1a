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
the engine does not do. Beyond the tolerance the difference is also split in two
measured parts, each in % of ``I_a`` (:func:`with_interval_split`), from ``I_free``, the
engine's steady-state interval with every shared unit uncontended (``run_engine(...,
uncontended={"*"})``: the pace that the pipeline's dependencies and finite buffers allow
on their own -- a producer held by its consumer's full ring, a join waiting for its
other operand -- with no unit's capacity or queue): **uncontended** ``max(I_free, I_a) -
I_a``, what that pace adds to the closed form's slowest stage, and **contention**
``I_f - max(I_free, I_a)``, the rest: queueing at shared units, and its lengthening of
the time rows hold their slots. (Where ``I_free < I_a`` the closed form's bottleneck is
a shared unit whose capacity the uncontended run removes: all of it is contention.)

Latency rule: image 0's latency ``L_f`` (images fed behind it) agrees with the closed
form's ``L_a`` within ``TOLERANCE``. The closed form's latency is image 0's pipeline with
**no queueing at any shared unit** (:func:`pimsim.sim.stages.row_done_ns`): the engine
run with every server uncontended (``run_engine(..., uncontended={"*"})``,
:mod:`pimsim.sim.uncontended`) follows the same schedule. Otherwise the difference is
split in measured parts, each a percentage of ``L_a`` (they add up to the difference):

* **later images** ``L_f - L_alone``: image 0 with images fed behind it minus image 0
  alone (``run_engine(..., images=1, alone=True)``; usually >= 0: a later image's
  request goes first only when made earlier (at one instant the older image wins,
  :mod:`pimsim.sim.arbiter`), but first come, first served is not monotone and it can
  be negative: docs/engine.md, "Does a later image ever make an earlier one faster?");
* **contention** ``L_alone - L_free``: image 0 alone minus image 0 alone with every
  shared unit uncontended (``L_free``), and within it, per cause group
  (``CAUSE_GROUPS``: a group's servers made uncontended, the others not), the latency
  image 0 alone loses when only that group stops queueing; **joint** is the rest
  (contention that no single group removes: queueing moved from one unit to the next
  when only one is relieved; negative when relieving one group alone gains more than
  its share);
* **uncontended** ``L_free - L_a``: what the closed form and the engine still differ by
  with no queueing anywhere (hop counts, rounding).

The latency difference is explained by **contention** when ``L_f > (1 + TOLERANCE) L_a``
and ``|L_free / L_a - 1| <= TOLERANCE``; otherwise it is "open", and the output names the
layers where image 0's uncontended path departs from the closed form most.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pimsim.arch.compose import Arch
from pimsim.result import Result
from pimsim.workload.layer import Network

TOLERANCE = 0.05

#: Contention cause groups of the latency split: (name, server roles of
#: ``Engine.server``); ``unit_busy`` also takes every other digital unit role that the
#: network's non-MVM layers run on (:func:`cause_groups`).
CAUSE_GROUPS = (("buffer_bandwidth", ("edram", "bus")),      # tile eDRAM ports and bus
                ("shift_add", ("tile_shift_add",)),           # tile shift-and-add
                ("unit_busy", ("activation", "maxpool")),     # digital units
                ("network", ("router", "noc_link")),          # NoC injection ports, links
                ("offchip", ("offchip_link",)))               # off-chip links
SHOWN = 0.0005       # a cause below 0.05 % of the closed form's latency is left out


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
    path: tuple = ()                # LayerDelay per layer, image 0 uncontended vs closed form
    free_latency_ns: float = float("nan")    # image 0 alone, every shared unit uncontended
    contention: tuple = ()          # (group, ns): alone minus alone with the group uncontended
    free_interval_ns: float = float("nan")   # steady state, every shared unit uncontended

    @property
    def interval_diff(self) -> float:
        return self.fast_interval_ns / self.analytic_interval_ns - 1.0

    @property
    def latency_diff(self) -> float:
        return self.fast_latency_ns / self.analytic_latency_ns - 1.0

    @property
    def interval_verdict(self) -> str:
        """"agree", "contention" (explained by queueing at shared units: the engine with no
        unit's queue, ``free_interval_ns``, is within ``TOLERANCE`` of the closed form or
        below it) or "open" (also when the engine is faster, or no such run was made).
        A measured test, not the bottleneck's stall causes: the engine gives every idle
        moment a cause, so "stalls cover the excess" could hardly fail."""
        if abs(self.interval_diff) <= TOLERANCE:
            return "agree"
        if (self.interval_diff > TOLERANCE
                and self.free_interval_ns <= (1.0 + TOLERANCE) * self.analytic_interval_ns):
            return "contention"
        return "open"

    @property
    def later_images_ns(self) -> float:
        """Image 0's latency with images fed behind it minus alone (ns)."""
        return self.fast_latency_ns - self.alone_latency_ns

    @property
    def alone_diff(self) -> float:
        return self.alone_latency_ns / self.analytic_latency_ns - 1.0

    @property
    def contention_ns(self) -> float:
        """Image 0 alone minus image 0 alone with every shared unit uncontended (ns)."""
        return self.alone_latency_ns - self.free_latency_ns

    @property
    def joint_ns(self) -> float:
        """The contention that no single cause group's relief removes (ns)."""
        return self.contention_ns - sum(ns for _, ns in self.contention)

    @property
    def free_diff(self) -> float:
        """Image 0 alone and uncontended against the closed form."""
        return self.free_latency_ns / self.analytic_latency_ns - 1.0

    @property
    def latency_verdict(self) -> str:
        """"agree", "contention" (explained by queueing at shared units, the split in
        :func:`latency_cell`) or "open"."""
        if abs(self.latency_diff) <= TOLERANCE:
            return "agree"
        if self.latency_diff > TOLERANCE and abs(self.free_diff) <= TOLERANCE:
            return "contention"
        return "open"

    def departures(self, k: int = 2) -> list["LayerDelay"]:
        """The ``k`` layers that added the most (in size) to image 0's difference from the
        closed form on its own path."""
        return sorted(self.path, key=lambda d: -abs(d.added_ns))[:k]


@dataclass(frozen=True)
class LayerDelay:
    """One layer on image 0's path, the engine (image 0 alone) against the closed form."""

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
    latencies differ by more than ``TOLERANCE``, also split the difference
    (:func:`with_split`)."""
    from pimsim.sim.run import simulate

    g = from_results(simulate(network, arch, fidelity="analytic"),
                     simulate(network, arch, fidelity="fast"), trace, design)
    if abs(g.interval_diff) > TOLERANCE:
        g = with_interval_split(g, network, arch)
    if abs(g.latency_diff) > TOLERANCE:
        g = with_split(g, network, arch)
    return g


def with_interval_split(g: Agreement, network: Network, arch: Arch) -> Agreement:
    """``g`` with the engine's steady-state interval when no shared unit queues
    (``free_interval_ns``; a ``fast`` run to the steady state with every server
    uncontended): the interval difference splits into contention and uncontended."""
    from dataclasses import replace

    from pimsim.sim.engine import run_engine
    from pimsim.sim.uncontended import ALL_ROLES

    free = run_engine(network, arch, fidelity="fast", uncontended=(ALL_ROLES,))
    return replace(g, free_interval_ns=free.total.interval_ns)


def interval_cell(g: Agreement) -> str:
    """The interval's difference and verdict, and beyond the tolerance its split (module
    doc) in % of the closed form's interval."""
    text = f"{100 * g.interval_diff:+.1f} % {g.interval_verdict}"
    if g.free_interval_ns == g.free_interval_ns:        # split (not NaN)
        base = g.analytic_interval_ns
        pace = max(g.free_interval_ns, base)
        text += (f" (contention {100 * (g.fast_interval_ns - pace) / base:+.1f} %,"
                 f" uncontended {100 * (pace - base) / base:+.1f} %)")
    return text


def cause_groups(nmap) -> list[tuple[str, tuple[str, ...]]]:
    """``CAUSE_GROUPS`` with ``unit_busy`` extended by the digital unit roles of the
    mapping's non-MVM layers (those not in another group)."""
    named = {r for _, roles in CAUSE_GROUPS for r in roles}
    extra = sorted({lm.unit_role for lm in nmap.layers
                    if not lm.is_mvm and lm.unit_role and lm.unit_role not in named})
    return [(g, roles + tuple(extra) if g == "unit_busy" else roles)
            for g, roles in CAUSE_GROUPS]


def with_split(g: Agreement, network: Network, arch: Arch) -> Agreement:
    """``g`` with image 0's latency split (module doc): image 0 alone, alone with every
    shared unit uncontended, and alone with each used cause group uncontended (engine
    runs of one image, ``fast``); when the uncontended run still differs from the closed
    form by more than ``TOLERANCE``, its path against the closed form, layer by layer."""
    from dataclasses import replace

    from pimsim.mapping import map_network
    from pimsim.sim.engine import run_engine
    from pimsim.sim.stages import row_done_ns
    from pimsim.sim.uncontended import ALL_ROLES

    def alone(roles=()) -> Result:
        return run_engine(network, arch, fidelity="fast", images=1, alone=True,
                          uncontended=roles)

    nmap = map_network(network, arch)
    a = alone()
    free = alone((ALL_ROLES,))
    used = {role for role, busy in a.engine_stats.component_busy_ns.items() if busy > 0.0}
    parts = tuple((name, a.total.latency_ns - alone(roles).total.latency_ns)
                  for name, roles in cause_groups(nmap) if used & set(roles))
    g = replace(g, alone_latency_ns=a.total.latency_ns,
                free_latency_ns=free.total.latency_ns, contention=parts)
    if abs(g.free_diff) > TOLERANCE:
        g = replace(g, path=tuple(layer_path(network, nmap, free,
                                             row_done_ns(network, nmap, arch))))
    return g


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
          "| latency split, % of the closed form's |\n"
          "|---|---|---|---|---|---|---|---|")


def latency_cell(g: Agreement) -> str:
    """The latency split when it does not agree, each part in % of the closed form's
    latency: contention (image 0 alone) by cause group, largest first, and ``joint``;
    later images; uncontended (image 0 alone, no queueing, against the closed form); for
    an uncontended difference beyond ``TOLERANCE`` the two layers that added most to it."""
    if g.alone_latency_ns != g.alone_latency_ns:       # not split (NaN)
        return ""
    base = g.analytic_latency_ns
    pct = lambda ns: f"{100 * ns / base:+.1f} %"  # noqa: E731
    shown = [(c, ns) for c, ns in sorted(g.contention, key=lambda cn: -abs(cn[1]))
             if abs(ns) >= SHOWN * base]
    if abs(g.joint_ns) >= SHOWN * base:
        shown.append(("joint", g.joint_ns))
    text = f"contention {pct(g.contention_ns)}"
    if shown:
        text += " (" + ", ".join(f"{c} {pct(ns)}" for c, ns in shown) + ")"
    text += f"; later images {pct(g.later_images_ns)}; uncontended {pct(g.free_latency_ns - base)}"
    if g.path:
        text += ": " + ", ".join(f"{d.layer} {d.added_ns:+,.0f} ns" for d in g.departures())
    return text


def markdown_row(g: Agreement) -> str:
    """One row of the agreement table."""
    causes = ", ".join(f"{c} {100 * v:.1f} %"
                       for c, v in sorted(g.causes.items(), key=lambda cv: -cv[1]))
    return (f"| {g.network} | {g.design} | {g.analytic_interval_ns:,.1f} / "
            f"{g.analytic_latency_ns:,.0f} | {g.fast_interval_ns:,.1f} / "
            f"{g.fast_latency_ns:,.0f} | {interval_cell(g)} | "
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


def doc_table(root=None, traces: tuple[str, ...] = DOC_TRACES,
              designs: tuple[str, ...] = DOC_DESIGNS, jobs: int | None = None) -> str:
    """docs/engine.md's agreement table, regenerated (minutes: every trace x design runs
    ``analytic`` and ``fast``; the same as ``scripts/agreement.py``). The rows are
    independent runs, computed in ``jobs`` processes (default: one per CPU); the table
    does not depend on it."""
    from pathlib import Path

    root = Path(root) if root else Path(__file__).resolve().parents[2]
    return markdown(in_processes(_doc_row, [(str(root), t, c) for t in traces for c in designs],
                                 jobs))


def in_processes(fn, cases: list[tuple], jobs: int | None = None) -> list:
    """``[fn(*case) for case in cases]``, in order, computed in ``jobs`` processes (default:
    one per CPU, at most one per case; one: in this process). For independent slow runs
    of a generated table (``fn`` a module-level function), whose result does not depend
    on ``jobs``."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    jobs = max(1, min(len(cases), jobs or os.cpu_count() or 1))
    if jobs == 1:
        return [fn(*case) for case in cases]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(fn, *zip(*cases)))


def _doc_row(root: str, trace: str, design: str) -> Agreement:
    """One row of :func:`doc_table`: ``traces/TRACE.npz`` on ``configs/DESIGN.yaml``."""
    from pathlib import Path

    from pimsim.arch import build_arch
    from pimsim.config import load_design
    from pimsim.workload import load_network

    net = load_network(Path(root) / "traces" / f"{trace}.npz")
    return compare(net, build_arch(load_design(Path(root) / "configs" / f"{design}.yaml")),
                   trace, design)


DOC_BLOCK = "engine-agreement"


#: the shipped traces that take minutes each per design on 2 cores: a block of their own,
#: on the same designs
LARGE_TRACES = ("resnet50_shapes", "vit_tiny_shapes", "densenet121_shapes",
                "efficientnet_b0_shapes", "mobilenet_v2_shapes")
LARGE_BLOCK = "engine-agreement-large"


def render(block: str = DOC_BLOCK, table: str | None = None) -> str:
    """docs/engine.md's generated agreement block, markers included (minutes)."""
    table = doc_table() if table is None else table
    return "\n".join([f"<!-- generated: {block} -->", "",
                      f"Generated by `python -m pimsim.report.doc_tables --write {block}` "
                      "(the table `python scripts/agreement.py` prints for these traces and "
                      "designs; minutes: checked by `python -m pimsim.report.doc_tables "
                      "--check --slow`).", "", table.rstrip("\n"), "",
                      "<!-- end generated -->"])


def render_large() -> str:
    """docs/engine.md's agreement block of the large shipped traces on ISAAC and its
    64/256/512 variants (hours on 2 cores, minutes on 16: :func:`doc_table`'s processes)."""
    return render(LARGE_BLOCK, doc_table(traces=LARGE_TRACES))

