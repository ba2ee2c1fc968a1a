"""Accounting of the engine's run: operation counts (hence dynamic energy), busy time,
utilization and stall time by cause.

* :class:`LayerState` -- one layer's engine-side state: what it counted, how long its
  copies / workers were busy, and why they were idle (``CAUSES``);
* :func:`per_image_counts` -- the run's counts per image, with the technique hooks and
  dynamic energy per action (``pimsim.sim.analytic.with_hooks``, the closed form's code,
  so energy is priced in one place for every fidelity);
* :func:`utilization` -- busy time and utilization per component role.
"""

from __future__ import annotations

import math

import numpy as np

from pimsim.arch.compose import CHIP, IMA, TILE, Arch
from pimsim.arch.mesh import Mesh
from pimsim.kernels.counts import A_ADC, A_OFF, A_ROUTER, A_XB, N_ACTIONS
from pimsim.mapping import NetworkMap
from pimsim.sim.analytic import energy_vector, with_hooks
from pimsim.sim.buffers import Edge
from pimsim.workload.layer import Layer

#: Why a compute process (layer copy or non-MVM worker) is idle.
CAUSES = ("input_wait", "buffer_full", "buffer_bandwidth", "adc_busy", "network", "unit_busy")
STALL_EPS_NS = 1e-6          # float noise of closed-form times is not a stall


class LayerState:
    """Engine-side state of one layer (plain attributes; nothing leaks into the Result)."""

    def __init__(self, idx: int, lay: Layer, lm):
        self.idx, self.lay, self.lm = idx, lay, lm
        self.is_mvm = lm.is_mvm
        self.rows = lay.out_shape[1]
        self.width = lay.out_shape[2]
        if lm.is_mvm and lay.is_matmul:
            # a crossbar-written matmul: one MVM per row of its first operand (M positions)
            self.width = 1
        self.edges_in: list[Edge] = []
        self.edges_out: list[Edge] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.counts = np.zeros(N_ACTIONS)                 # image 0's (every image does the same work)
        self.scratch = np.zeros(N_ACTIONS)        # event fidelity: other images' counts
        self.done = 0                             # units (rows) finished, all images
        self.computed = 0                         # units (rows) whose compute is done
        self.per_image = 1                        # units (rows) per image
        self.img_left: list[int] = []             # per image: units (rows) not yet done
        self.img_finish: list[float] = []         # per image: when its last unit was done (ns)
        self.router_bits = 0                      # bits received over the NoC (image 0)
        self.router_bit_hops = 0.0                # those bits x the hops each took
        self.offchip_bits = 0
        self.stalls = {c: 0.0 for c in CAUSES}
        self.busy = 0.0
        self.copy_busy: np.ndarray = np.zeros(1)
        self.start0 = math.inf
        self.finish0 = 0.0
        self.sink = False
        self.host_out_share = 0.0   # results per unit sent to the host (sink layers)
        self.slots = 0
        self.spill_bits = 0.0       # per image: off-chip bits of its spilled input rows
        self.remote_bits = 0.0      # per image: NoC bits of its rows in other tiles' eDRAM
        self.tid = 0
        self.mark: tuple | None = None    # (busy, stalls, computed) when image 0 completed

    def stall(self, cause: str, dt: float) -> None:
        if dt > STALL_EPS_NS:
            self.stalls[cause] += dt

def units_on_chips(arch: Arch, role: str, chips: int) -> float:
    """Units of ``role`` on ``chips`` chips (from the design's unit counts)."""
    d = arch.design
    level, per = arch.counts[role]
    per_level = {IMA: d.tile.imas * d.chip.tiles, TILE: d.chip.tiles, CHIP: 1}[level]
    return per * per_level * chips


def per_image_counts(layers: list[LayerState], nmap: NetworkMap, arch: Arch,
                     images: float) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(counts per image [layers, actions], dynamic pJ per image, action keys, whole-run
    counts) from what the layers counted for image 0 (every image does the same work);
    the run's counts are those x ``images`` (the images' worth of work simulated)."""
    d = arch.design
    run_counts = np.zeros((len(layers), N_ACTIONS))
    for L in layers:
        run_counts[L.idx] = L.counts
        # router: bits received x the hops each transfer took (pimsim.sim.noc), plus rows
        # held in another tile's eDRAM: one more transfer at noc.avg_hops (pimsim.sim.edram)
        run_counts[L.idx, A_ROUTER] = L.router_bit_hops + L.remote_bits * d.noc.avg_hops
        run_counts[L.idx, A_OFF] = L.offchip_bits + L.spill_bits
    counts = run_counts
    run_counts = counts * images
    # technique hooks (skipped fractions, support roles' counts): the closed form's code
    # on the engine's dense counts, which equal the closed form's exactly
    counts, dyn, actions = with_hooks(nmap, arch, counts, energy_vector(arch))
    if any(lm.skip_reads or lm.skip_drives or lm.skip_conversions or lm.extra_counts
           for lm in nmap.layers):
        run_counts = counts * images      # whole-run ops with the hooks (else unchanged)
    return counts, dyn, actions, run_counts


def utilization(arch: Arch, nmap: NetworkMap, run_tot: np.ndarray, server_busy,
                t_read: float, t_sample: float,
                sim_time: float) -> tuple[dict[str, float], dict[str, float]]:
    """(busy ns per role over the run, busy / (units on the used chips x sim time))."""
    d = arch.design
    busy = {"crossbar": float(run_tot[A_XB]) * t_read,
            "adc": float(run_tot[A_ADC]) * t_sample}
    for role, b in server_busy:
        busy[role] = busy.get(role, 0.0) + b
    util = {}
    for role, b in busy.items():
        n_units = units_on_chips(arch, role, nmap.chips) if role in arch.counts else 0
        if role == "edram":
            n_units *= d.tile.edram_ports
        if role == "router":     # one injection port per tile (routers shared by tiles)
            n_units = nmap.chips * d.chip.tiles
        if role == "noc_link":   # directed links of the mesh (pimsim.arch.mesh)
            n_units = nmap.chips * Mesh.of(d).links
        util[role] = b / (n_units * sim_time) if n_units and sim_time else 0.0
    return busy, util
