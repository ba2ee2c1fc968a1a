"""The engine's :class:`~pimsim.result.Result`: per-image counts and energy (through
:mod:`pimsim.sim.accounting`), latency and interval from the image completions,
per-layer timing and stalls, utilization, and the timeline."""

from __future__ import annotations

import math
from dataclasses import replace

from pimsim.result import EngineStats, LayerTiming, Result
from pimsim.sim.accounting import CAUSES, per_image_counts, utilization
from pimsim.sim.analytic import build_result
from pimsim.sim.edram import spill_bits_per_image
from pimsim.sim.stages import Stage, bottleneck, stages
from pimsim.sim.weights import weight_load


def engine_result(eng) -> Result:
    """The Result of a finished :class:`pimsim.sim.engine.Engine` run (per image)."""
    arch, nmap, network = eng.arch, eng.nmap, eng.network
    images = eng.images                       # completed images
    counts, dyn, actions, run_counts = per_image_counts(eng.layers, nmap, arch,
                                                        eng.work_images)
    finish = eng.image_finish
    latency = finish[0]
    steady = eng.monitor.result()
    interval = steady.interval_ns if images > 1 else latency

    cycles, times, timings = [], [], []
    for L in eng.layers:
        lm = L.lm
        worth = L.computed / L.per_image or 1.0  # images' worth of its work computed
        times.append(float(L.copy_busy.max()) / worth if L.copy_busy.size else 0.0)
        # read cycles of the busiest copy per image (skipped cycles removed per unit)
        cycles.append(max(sum(u[3] for u in us) for us in L.units) if L.is_mvm else 0)
        timings.append(LayerTiming(
            name=lm.name, start_ns=float(L.start0 if L.start0 != math.inf else 0.0),
            finish_ns=float(L.finish0), busy_ns=L.busy / worth,
            stalls_ns={c: v / worth for c, v in L.stalls.items()}, buffer_rows=int(L.slots),
            buffer_remote_rows=sum(e.plan.remote for e in L.edges_in),
            buffer_spill_rows=sum(e.plan.spill for e in L.edges_in)))

    sim_time = max(max(finish), eng.env.now)
    run_tot = run_counts.sum(axis=0)
    busy, util = utilization(arch, nmap, run_tot,
                             [(role, s.busy_ns) for (role, _), s in eng.servers.items()],
                             eng.t_read, eng.t_sample, sim_time)
    stalls = {c: sum(t.stalls_ns[c] for t in timings) for c in CAUSES}
    trace = tuple(eng.trace_metadata() + eng.trace) if eng.trace is not None else ()
    stats = EngineStats(
        fidelity=eng.fidelity, images=images, sim_time_ns=float(sim_time),
        image_finish_ns=tuple(float(f) for f in finish), single_image_latency_ns=float(latency),
        interval_ns=float(interval), events=eng.events,
        component_ops={a: float(c) for a, c in zip(actions, run_tot)},
        component_busy_ns=busy, component_utilization=util, stalls_ns=stalls,
        layers=tuple(timings), timeline=trace, work_images=float(eng.work_images),
        converged=bool(steady.converged),
        fill_ns=float(steady.fill_ns if images > 1 else latency),
        noc=noc_stats(eng, interval), arbitration=eng.d.engine.arbitration)
    result = build_result(network, arch, nmap, counts, dyn, actions, cycles, times, latency,
                          interval, engine=eng.fidelity, engine_stats=stats,
                          spill=[L.spill_bits for L in eng.layers],
                          weight_load=weight_load(nmap, arch))
    fill = steady.fill_ns if images > 1 else latency
    neck = bottleneck(measured_stages(eng), interval)
    if neck:
        # the closed form's slowest stage (the contention-free interval of the same
        # pipeline where no ring turns slower: analytic's pace is not run here, it
        # would cost a row schedule per run), so a reader sees how much of the
        # interval is contention or a ring: the
        # bottleneck layer's stalls (engine_stats.layers) account for the rest
        # (with the spilled rows on the off-chip links, as pimsim.sim.analytic.evaluate)
        spill, _ = spill_bits_per_image(eng.buffers, len(nmap.layers))
        closed = max((st.busy_ns for st in stages(network, nmap, arch, spill=spill)[0]),
                     default=0.0)
        neck["closed_form_interval_ns"] = float(closed)
        neck.update(steady_split(eng, neck["layer"]))
    total = replace(result.total, fill_ns=float(fill), images=images,
                    converged=bool(steady.converged), bottleneck=neck)
    return replace(result, total=total)


def measured_stages(eng) -> list[Stage]:
    """Busy time per image of every simulated resource, as the engine measured it in the
    steady state: each layer's busiest copy / worker (``crossbar`` or ``adc`` for an MVM
    layer, its digital unit's role otherwise) and every shared unit (by role; the layer
    that used it most)."""
    out = []
    for L in eng.layers:
        worth = L.computed / L.per_image or 1.0
        if not L.copy_busy.size:
            continue
        if L.is_mvm:
            role = "adc" if L.t_conv > eng.t_read else "crossbar"
        else:
            role = L.unit_role
        if role:
            out.append(Stage(L.lay.name, role, float(L.copy_busy.max()) / worth))
    # a shared unit's busy time per image: each requesting layer's share over the images'
    # worth of work *that layer* did (front layers are ahead of back ones when the run
    # stops, so dividing the total by the network's average work overstates the units
    # the front layers use: a share above 1)
    for (role, _), s in eng.servers.items():
        users = {k: v for k, v in s.by.items() if k >= 0}
        if not users:
            continue
        top = max(users, key=users.get)
        out.append(Stage(eng.layers[top].lay.name, role, busy_per_image(eng, s)))
    return out


def busy_per_image(eng, server) -> float:
    """A shared unit's busy time per image and port (ns): each requesting layer's share
    over the images' worth of work that layer did, over the unit's ports (they serve in
    parallel: the eDRAM's, a chip's off-chip links)."""
    work = eng.work_images or 1.0
    worth = [L.computed / L.per_image if L.computed else work for L in eng.layers]
    return (sum(v / (worth[k] if k >= 0 else work) for k, v in server.by.items())
            / len(server.cal))


def noc_stats(eng, interval_ns: float) -> dict:
    """The run's on-chip network figures: routing, hops of the mean bit (image 0's
    transfers: bits x hops / bits), directed links used of those on the used chips, and
    the busiest link with its busy time per image over the interval (``share``)."""
    d = eng.d
    bits = sum(L.router_bits for L in eng.layers)
    bit_hops = sum(L.router_bit_hops for L in eng.layers)
    links = [s for (role, _), s in eng.servers.items() if role == "noc_link"]
    out = {"routing": d.noc.routing, "mean_hops": bit_hops / bits if bits else 0.0,
           "links_used": len(links), "links": eng.noc.mesh.links * eng.nmap.chips}
    if links and interval_ns > 0.0:
        per_image = {s.name: busy_per_image(eng, s) for s in links}
        top = max(per_image, key=per_image.get)
        out["busiest_link"] = top
        out["busiest_link_share"] = per_image[top] / interval_ns
    return out


def steady_split(eng, layer: str) -> dict:
    """{"busy_ns", "stalls_ns"}: the layer's copies' / workers' busy time and idle time by
    cause per image (summed over them) after image 0 completed, i.e. without the fill's
    wait for the first input (which ``engine_stats.layers`` includes); empty when the run
    did no work after that."""
    L = next((x for x in eng.layers if x.lay.name == layer), None)
    if L is None or L.mark is None or L.computed <= L.mark[2]:
        return {}
    busy0, stalls0, done0 = L.mark
    worth = (L.computed - done0) / L.per_image
    return {"busy_ns": (L.busy - busy0) / worth,
            "stalls_ns": {c: (v - stalls0[c]) / worth for c, v in L.stalls.items()
                          if v - stalls0[c] > 0}}
