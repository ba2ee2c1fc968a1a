"""Closed-form whole-network metrics: counts x energies, stage times, pipelined rate.

``evaluate(network, arch)`` maps the network, counts every operation per image with the
numba kernel, and derives (docs/mapping.md; the timing is the closed form of the
pipeline the engine simulates, ``pimsim.sim.stages``):

* every resource's busy time per image (a layer's copies incl. fetch and OU reads, a non-MVM layer's
  busiest worker, each tile's eDRAM / bus / shift-and-add / activation / max-pool units
  and NoC link, each chip's off-chip links); a layer's stage time is the largest it uses;
* pipelined interval = the slowest stage, or the pipeline's pace with no queueing where a
  ring of row slots turns slower (``pimsim.sim.pace``: the row schedule below run image
  after image; :func:`closed_form_interval`); ``total.bottleneck`` names what sets it;
  throughput = 1e9 / interval images/s;
* single-image latency = the overlapped fill, row by row, each copy's units in order
  with no queueing at shared units, a producer waiting for a free row slot in its
  consumers' finite buffers (image 0 of the pace's schedule,
  ``pimsim.sim.stages.row_done_ns``: the engine's schedule with every server uncontended; the engine's queueing is split by cause in ``pimsim.sim.agreement``);
* energy per image = dynamic (sum of count x energy per action) + static (every unit's
  static power over the interval; a power-gated unit only over its busy time:
  ``pimsim.arch.power``); off-chip bits, the host's input and results included, occupy
  the ``offchip_link`` ports.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pimsim.arch.compose import Arch
from pimsim.arch.power import static_energy_pJ
from pimsim.arch.rollup import rollup
from pimsim.errors import ConfigError
from typing import Mapping

from pimsim.kernels.counts import (ACTIONS, A_ADC, A_EDRAM, A_OFF, A_ROUTER, A_SA, A_TSA, A_XB,
                                   SCALARS, apply_skips, layer_counts, max_steps)
from pimsim.mapping import NetworkMap, map_network
from pimsim.mapping.digital import units_per_tile
from pimsim.mapping.network_map import LayerOverride
from pimsim.result import LayerResult, Result, TotalResult
from pimsim.sim.edram import plan_buffers, spill_bits_per_image
from pimsim.sim.noc import Traffic, traffic
from pimsim.sim.pace import RING, Pace, pipeline_pace, reliefs, relieve
from pimsim.sim.stages import bottleneck, stages
from pimsim.units import gops, gops_per_W, per_s, power_mW
from pimsim.workload.layer import Network

_SPLIT = [a.split(".") for a in ACTIONS]
#: relative margin by which the pace must exceed the slowest stage to set the interval:
#: float noise of the schedule's event times (the pace of a pipeline whose rings never
#: bind equals its slowest stage to ~1e-12, tests/sim/test_pace.py)
PACE_NOISE = 1e-9


def kernel_inputs(nmap: NetworkMap) -> tuple[np.ndarray, ...]:
    """Flat arrays for :func:`pimsim.kernels.counts.layer_counts`."""
    layers = nmap.layers
    sizes = np.array([lm.xb_rows.size for lm in layers], dtype=np.int64)
    ptr = np.zeros(len(layers) + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])

    def cat(attr: str) -> np.ndarray:
        parts = [getattr(lm, attr) for lm in layers]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    scalars = np.array([[getattr(lm, s) for s in SCALARS] for lm in layers],
                       dtype=np.int64).reshape(len(layers), len(SCALARS))
    return ptr, cat("xb_rows"), cat("xb_cols"), cat("xb_outs"), scalars


def count_matrix(nmap: NetworkMap) -> np.ndarray:
    """[layers, ACTIONS] operation counts per image."""
    counts = dense_count_matrix(nmap)
    skips = np.array([[lm.skip_reads, lm.skip_drives, lm.skip_conversions] for lm in nmap.layers])
    if skips.size and skips.any():      # technique hook; no-op (identical counts) otherwise
        counts = apply_skips(counts, skips[:, 0], skips[:, 1], skips[:, 2])
    return counts


def dense_count_matrix(nmap: NetworkMap) -> np.ndarray:
    """[layers, ACTIONS] counts per image without the technique hooks; the router column
    is bits x ``noc.avg_hops`` (no placement): :func:`evaluate` replaces it with the
    mesh's bits x hops (:func:`pimsim.sim.noc.traffic`)."""
    d = nmap.design
    return layer_counts(*kernel_inputs(nmap), d.input_cycles, d.precision.input_bits,
                        d.precision.output_bits, float(d.noc.avg_hops), d.crossbar.ou_rows,
                        d.ou_conversions)


def ou_steps(nmap: NetworkMap) -> np.ndarray:
    """int64 [layers]: OU reads per input bit-slice of each layer's slowest crossbar."""
    d = nmap.design
    ptr, xr, xc, _, _ = kernel_inputs(nmap)
    return max_steps(ptr, xr, xc, d.crossbar.ou_rows, d.ou_conversions)


def extra_count_matrix(nmap: NetworkMap) -> tuple[list[str], np.ndarray]:
    """Plug-in support roles' ``"role.action"`` keys and their per-layer counts."""
    keys = sorted({k for lm in nmap.layers for k, _ in lm.extra_counts})
    out = np.zeros((len(nmap.layers), len(keys)))
    for i, lm in enumerate(nmap.layers):
        for k, v in lm.extra_counts:
            out[i, keys.index(k)] += v
    return keys, out


def with_hooks(nmap: NetworkMap, arch: Arch, counts: np.ndarray,
               e: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Technique hooks on dense per-layer counts [layers, ACTIONS] (per image).

    Scales the skipped fractions out (:func:`apply_skips`; a no-op without skips) and
    appends the support roles' ``extra_counts`` columns. Returns (counts, dynamic pJ,
    action keys). The closed form and the engine both call this, so their counts and
    dynamic energy agree exactly whenever their dense counts do. ConfigError when a
    counted support role is not in the design.
    """
    d = arch.design
    skips = np.array([[lm.skip_reads, lm.skip_drives, lm.skip_conversions] for lm in nmap.layers])
    if skips.size and skips.any():      # technique hook; no-op (identical counts) otherwise
        counts = apply_skips(counts, skips[:, 0], skips[:, 1], skips[:, 2])
    dyn = counts * e                                     # [layers, actions] pJ
    scale = np.array([lm.read_energy_scale for lm in nmap.layers])
    if scale.size and (scale != 1.0).any():   # value-dependent read energy (activity)
        dyn[:, A_XB] *= scale
    xkeys, xcounts = extra_count_matrix(nmap)
    for key in xkeys:
        if key.split(".")[0] not in arch.parts:
            raise ConfigError(f"the mapped workload counts '{key}' but the design has no such "
                              "component role", file=d.source, where="components",
                              expected=f"a '{key.split('.')[0]}' entry (a support role)")
    if xkeys:
        ex = np.array([arch.energy_pJ(*k.split(".")) for k in xkeys])
        xdyn = xcounts * ex
        counts = np.concatenate([counts, xcounts], axis=1)
        dyn = np.concatenate([dyn, xdyn], axis=1)
    return counts, dyn, list(ACTIONS) + xkeys


def energy_vector(arch: Arch) -> np.ndarray:
    """pJ per action, aligned with ``ACTIONS`` (0 for a role the design lacks)."""
    return np.array([arch.energy_pJ(r, a) if r in arch.parts else 0.0 for r, a in _SPLIT])


def stage_times_ns(nmap: NetworkMap, arch: Arch,
                   spill: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(crossbar read cycles (OU reads) per copy, stage time in ns) per layer; ``spill``:
    bits per layer written to off-chip memory and read back (pimsim.sim.edram)."""
    d = arch.design
    cycles = np.zeros(len(nmap.layers), dtype=np.int64)
    times = np.zeros(len(nmap.layers))
    links = d.chip.offchip_links
    if nmap.chips > 1 and links == 0:
        raise ConfigError(f"network '{nmap.network}' needs {nmap.chips} chips but the chips "
                          "have no off-chip links", file=d.source, where="chip.offchip_links",
                          found=0, expected="at least 1 link")
    link_ns = arch.latency_ns("offchip_link", "transfer") / links if links else 0.0
    steps = ou_steps(nmap)
    for i, lm in enumerate(nmap.layers):
        if lm.is_mvm:
            cycles[i] = -(-lm.positions // lm.replication) * d.input_cycles * int(steps[i])
            if lm.skip_cycles:          # technique hook: skipped zero bit-slice cycles
                cycles[i] = int(np.ceil(cycles[i] * (1.0 - lm.skip_cycles)))
            t = cycles[i] * d.cycle_ns + lm.write_ns   # a written operand is programmed first
        else:
            # the generic unit path: the layer's ops on its role's units of the host tiles
            t = 0.0
            if lm.unit_ops:
                t = (lm.unit_ops * arch.latency_ns(lm.unit_role, lm.unit_action)
                     / (units_per_tile(arch, lm.unit_role) * lm.host_tiles))
        # inter-chip bits delay the layer's stage; the host's bits are a stage of their own
        spilled = float(spill[i]) if spill is not None else 0.0
        times[i] = t + (lm.offchip_bits - lm.host_bits + spilled) * link_ns
    return cycles, times


def evaluate(network: Network, arch: Arch,
             overrides: Mapping[str, LayerOverride] | None = None) -> Result:
    """Closed-form energy, latency and throughput of ``network`` on ``arch`` (one image).

    ``overrides`` (layer name -> ``LayerOverride``) is a technique's change to the mapped
    workload (``pimsim.techniques``); without it this is the plain evaluation.
    """
    nmap = map_network(network, arch, overrides)
    noc = traffic(network, nmap, arch)
    # input rows that do not fit on chip: spilled off-chip (written and read back) or held
    # in other tiles' eDRAM (one more NoC transfer, at noc.avg_hops hops: the holding
    # tile is not placed on the mesh), pimsim.sim.edram
    spill, remote = spill_bits_per_image(plan_buffers(network, nmap, arch.design),
                                         len(nmap.layers))
    dense = dense_count_matrix(nmap)
    dense[:, A_ROUTER] = noc.bit_hops + remote * arch.design.noc.avg_hops
    dense[:, A_OFF] += spill
    counts, dyn, actions = with_hooks(nmap, arch, dense, energy_vector(arch))
    cycles, _ = stage_times_ns(nmap, arch, spill)
    stage_list, times = stages(network, nmap, arch, noc, spill)
    slowest = float(times.max()) if times.size else 0.0
    pace, _ = checked_pace(network, nmap, arch, noc, slowest)   # image 0: the latency
    latency = pace.latency_ns
    interval, neck = closed_form_interval(stage_list, slowest, pace)
    result = build_result(network, arch, nmap, counts, dyn, actions, cycles, times, latency,
                          interval, engine="analytic", spill=spill)
    total = replace(result.total, fill_ns=float(latency), images=0,
                    converged=pace.converged, bottleneck=neck)
    return replace(result, total=total)


def checked_pace(network: Network, nmap: NetworkMap, arch: Arch, noc: Traffic,
                 slowest_ns: float) -> tuple[Pace, list[tuple[dict, float]]]:
    """(the pipeline's pace with no queueing, the rings tried: :func:`pimsim.sim.pace.reliefs`).
    Where the pace is above the slowest stage (``slowest_ns``) by more than float noise,
    the ring it names is checked (:func:`pimsim.sim.pace.relieve`: the one whose relief
    lowers it most); elsewhere nothing is tried."""
    setup: dict = {}                    # the schedule's set-up, made once for all runs
    pace = pipeline_pace(network, nmap, arch, noc=noc, setup=setup)
    if pace.interval_ns <= slowest_ns * (1.0 + PACE_NOISE) or not pace.candidates:
        return pace, []
    tried = reliefs(network, nmap, arch, pace, noc, floor_ns=slowest_ns, setup=setup)
    return replace(pace, ring=relieve(pace, tried)), tried


def closed_form_interval(stage_list, slowest_ns: float, pace: Pace) -> tuple[float, dict]:
    """(interval in ns, ``total.bottleneck``) of the closed form: the slowest stage, or the
    pipeline's pace with no queueing (:mod:`pimsim.sim.pace`) where that is slower by more
    than float noise (``PACE_NOISE``, relative). The bottleneck is then the ring that limits
    the pace: resource ``buffer_slots`` at its consumer layer, with the operand, its input,
    its slots, the producer's wait per image (ns) and the stage bound
    (``slowest_stage_ns``); its share is the ring's slot occupancy. A pace above the stages
    with no producer waiting for a slot past the fill (no ring named) keeps the slowest
    stage as the bottleneck, its share below 1 (its busy time over the interval)."""
    if pace.interval_ns > slowest_ns * (1.0 + PACE_NOISE):
        interval = pace.interval_ns
        if pace.ring:
            neck = {"layer": pace.ring["layer"], "resource": RING,
                    "share": pace.ring["share"], "operand": pace.ring["operand"],
                    "input": pace.ring["input"], "slots": pace.ring["slots"],
                    "wait_ns": pace.ring["wait_ns"], "slowest_stage_ns": slowest_ns}
            if "relieved_pace_ns" in pace.ring:
                neck["relieved_interval_ns"] = max(slowest_ns, pace.ring["relieved_pace_ns"])
            return interval, neck
        return interval, bottleneck(stage_list, interval)
    return slowest_ns, bottleneck(stage_list, slowest_ns)


def build_result(network: Network, arch: Arch, nmap: NetworkMap, counts: np.ndarray,
                 dyn: np.ndarray, actions: list[str], cycles, times_ns, latency: float,
                 interval: float, engine: str, spill=None, **extra) -> Result:
    """The Result of an evaluation from per-image counts and per-action dynamic energy
    ([layers, actions]), per-layer read cycles and stage times, latency and interval (ns).

    One function for the closed form and the engine, so both report alike; ``extra`` are
    engine-only Result fields; ``spill``: bits per layer spilled off-chip (part of the
    off-chip counts). Static energy: every unit's static power over one interval
    on the used chips, gated units over their busy time (:mod:`pimsim.arch.power`).
    """
    d = arch.design
    roles = [a.split(".")[0] for a in actions]
    tot = counts.sum(axis=0)
    static_role = static_energy_pJ(arch, nmap.chips, dict(zip(actions, tot)), interval)
    dyn_role = {r: 0.0 for r in arch.parts}
    for role, pj in zip(roles, dyn.sum(axis=0)):
        dyn_role[role] = dyn_role.get(role, 0.0) + float(pj)
    breakdown = {r: dyn_role[r] + static_role.get(r, 0.0) for r in dyn_role}
    e_dyn, e_static = float(dyn.sum()), float(sum(static_role.values()))
    e_total = e_dyn + e_static

    layers = []
    for i, (lay, lm) in enumerate(zip(network, nmap.layers)):
        row = counts[i]
        by_role: dict[str, float] = {}
        for role, pj in zip(roles, dyn[i]):
            by_role[role] = by_role.get(role, 0.0) + float(pj)
        layers.append(LayerResult(
            name=lm.name, kind=lm.kind, macs=lay.macs, crossbars=lm.crossbars,
            crossbars_per_copy=lm.crossbars_per_copy, replication=lm.replication, imas=lm.imas,
            chip=lm.chip, cycles=int(cycles[i]), time_ns=float(times_ns[i]),
            energy_pJ=float(dyn[i].sum()), crossbar_reads=float(row[A_XB]),
            adc_conversions=float(row[A_ADC]), shift_add_ops=float(row[A_SA] + row[A_TSA]),
            buffer_bits=float(row[A_EDRAM]), noc_bits=float(row[A_ROUTER]),
            offchip_bits=float(row[A_OFF]),
            counts={a: float(c) for a, c in zip(actions, row)}, energy_breakdown_pJ=by_role,
            spill_bits=float(spill[i]) if spill is not None else 0.0))

    macs = network.macs
    g = gops(macs, interval)
    area = rollup(arch).chip_area_mm2 * nmap.chips
    p_mW = power_mW(e_total, interval)
    mapped = nmap.crossbars
    busy_ns = float(tot[A_XB]) * d.cycle_ns
    total = TotalResult(
        macs=macs, crossbars=mapped, crossbars_available=nmap.crossbars_available,
        imas=nmap.imas, tiles=nmap.tiles, chips=nmap.chips, latency_ns=float(latency),
        interval_ns=float(interval), throughput_images_per_s=per_s(interval), gops=g,
        area_mm2=area, power_mW=p_mW, gops_per_mm2=g / area if area else 0.0,
        gops_per_W=gops_per_W(g, p_mW), energy_pJ=e_total, dynamic_energy_pJ=e_dyn,
        static_energy_pJ=e_static, energy_breakdown_pJ=breakdown,
        dynamic_breakdown_pJ=dyn_role, static_breakdown_pJ=static_role,
        crossbar_utilization=mapped / nmap.crossbars_available,
        time_utilization=busy_ns / (mapped * interval) if mapped and interval else 0.0,
        crossbar_reads=float(tot[A_XB]), adc_conversions=float(tot[A_ADC]),
        shift_add_ops=float(tot[A_SA] + tot[A_TSA]), buffer_bits=float(tot[A_EDRAM]),
        noc_bits=float(tot[A_ROUTER]), offchip_bits=float(tot[A_OFF]),
        counts={a: float(c) for a, c in zip(actions, tot)},
        spill_bits=float(sum(spill)) if spill is not None else 0.0)
    return Result(design=d.name, network=network.name, engine=engine, layers=tuple(layers),
                  total=total, **extra)
