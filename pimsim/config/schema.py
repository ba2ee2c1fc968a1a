"""The design-point schema: every YAML key, its type, unit, default and checks.

One dataclass per YAML section. Field metadata carries the unit and a one-line doc;
``pimsim.config.loader`` validates against these classes and ``docs/configuration.md``
is generated from them (``python -m pimsim.config.docs``), so code and docs cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AUTO = "auto"


def spec(default: Any, unit: str, doc: str, *, pow2: bool = False, positive: bool = True,
         choices: tuple | None = None, auto: bool = False, limits: tuple | None = None,
         typical: tuple | None = None, minimum: float | None = None):
    """A schema field: default value plus metadata the loader and doc generator read.

    ``limits=(lo, hi)``: values outside are errors (the models cannot evaluate them);
    ``typical=(lo, hi)``: values outside draw a warning (pimsim.config.ranges). A numeric
    field without ``limits`` gets ``DEFAULT_LIMITS`` (``minimum`` raises its lower end).
    """
    if limits is None and minimum is not None:
        limits = (minimum, DEFAULT_LIMITS[1])
    if limits is None and not isinstance(default, (bool, str)) or (auto and limits is None):
        limits = DEFAULT_LIMITS
    return field(default=default, metadata=dict(unit=unit, doc=doc, pow2=pow2, positive=positive,
                                                choices=choices, auto=auto, limits=limits,
                                                typical=typical))


DEFAULT_LIMITS = (0, 1e12)
"""Limits of a numeric key that declares none: finite, and far from float overflow even in
products of several such keys. Keys that multiply into counts declare tighter ones."""


@dataclass(frozen=True)
class Precision:
    weight_bits: int = spec(16, "bits", "weight precision stored in the crossbars",
                            limits=(1, 64), typical=(1, 16))
    input_bits: int = spec(16, "bits", "input activation precision streamed into the crossbars",
                           limits=(1, 64), typical=(1, 16))
    output_bits: int = spec(16, "bits", "precision of layer outputs written back to buffers",
                            limits=(1, 64), typical=(1, 32))
    signed_weights: str = spec("offset", "-", "signed-weight scheme: 'offset' (bias so all cells "
                               "are unsigned, ISAAC), 'differential' (positive/negative column pairs, "
                               "the pair's difference converted once) or 'differential_both' (pairs, "
                               "both columns converted and subtracted digitally)",
                               choices=("offset", "differential", "differential_both"))


@dataclass(frozen=True)
class Crossbar:
    rows: int = spec(128, "cells", "wordlines (inputs) per crossbar", pow2=True,
                     limits=(1, 16384), typical=(16, 1024))
    cols: int = spec(128, "cells", "bitlines (outputs) per crossbar", pow2=True,
                     limits=(1, 16384), typical=(16, 1024))
    bits_per_cell: int = spec(2, "bits", "bits stored in one ReRAM cell",
                              limits=(1, 16), typical=(1, 4))
    read_cycle_ns: float = spec(100.0, "ns", "one crossbar read: drive rows, settle, sample and hold",
                                limits=(1e-3, 1e6), typical=(1, 1e4))
    write_drivers: int = spec(1, "drivers", "write drivers per crossbar: rows programmed in parallel "
                              "during weight load (docs/engine.md)", limits=(1, 16384))
    ou_rows: Any = spec(AUTO, "rows", "operation unit (OU) height: wordlines activated together in "
                        "one read; 'auto' = rows (the whole array, ISAAC) (docs/mapping.md#operation-units)",
                        auto=True)
    ou_cols: Any = spec(AUTO, "cols", "OU width: bitlines sensed together in one read; 'auto' = cols",
                        auto=True)


@dataclass(frozen=True)
class DAC:
    bits: int = spec(1, "bits", "input bits applied per read cycle (1 = bit-serial streaming)",
                     limits=(1, 32), typical=(1, 8))


@dataclass(frozen=True)
class ADC:
    bits: Any = spec(AUTO, "bits", "ADC resolution; 'auto' = lossless for the OU by ISAAC's rule "
                     "(docs/components.md#adc-resolution); fewer bits clip (adc.clip)", auto=True,
                     limits=(1, 32), typical=(1, 14))
    clip: str = spec("none", "-", "an ADC below the lossless resolution: 'none' refuses it; "
                     "'saturate' accepts it and clamps a column sum above its range to full "
                     "scale (the accuracy cost is not modelled)", choices=("none", "saturate"))
    per_crossbar: int = spec(1, "ADCs", "ADCs shared by the columns of one crossbar",
                             limits=(1, 16384))
    shared_by: int = spec(1, "crossbars", "crossbars sharing one bank of adc.per_crossbar ADCs "
                          "(fewer ADCs per IMA; the bank converts their reads in turn)",
                          limits=(1, 4096))
    sample_rate_GSps: Any = spec(1.28, "GS/s", "conversions per ns of one ADC; 'auto' = SAR law: one "
                                 "conversion takes bits x the ADC table's bit-cycle "
                                 "(docs/components.md#adc)", auto=True,
                                 limits=(1e-6, 1e3), typical=(1e-3, 100))
    encoding: bool = spec(True, "-", "ISAAC's flipped-column weight encoding (saves one ADC bit)",
                          positive=False)


@dataclass(frozen=True)
class Activity:
    source: str = spec("trace", "-", "where the data statistics of every read come from: 'trace' "
                       "(the trace's sampled activations and weights when it has them, else the "
                       "defaults below) or 'default' (always the defaults) (docs/mapping.md#activity)",
                       choices=("trace", "default"))
    input_one_fraction: float = spec(1.0, "fraction", "default statistics: probability that an "
                                     "input bit is 1 (independent bits). 1.0 = every bit 1, "
                                     "ISAAC's peak accounting (an upper bound)", positive=False)
    cell_level_fraction: float = spec(0.5, "fraction", "default statistics: mean cell level / "
                                      "highest level (0.5 = levels uniform, the reference of "
                                      "crossbar read energy)", positive=False)
    skip_zero_inputs: bool = spec(False, "-", "the hardware skips an OU read whose input "
                                  "bit-slice is zero on all its rows (zero detectors; needs "
                                  "the zero_detector and sparsity_control roles)", positive=False)
    skip_zero_weights: bool = spec(False, "-", "the hardware skips an OU whose cells are all "
                                   "zero (OU index; needs the index_buffer role)", positive=False)


@dataclass(frozen=True)
class IMA:
    crossbars: int = spec(8, "crossbars", "crossbars in one in-situ multiply-accumulate unit (IMA)",
                          limits=(1, 4096), typical=(1, 256))
    shift_adds: int = spec(4, "units", "shift-and-add units per IMA", limits=(1, 4096))
    input_register_bytes: Any = spec(AUTO, "bytes", "input register; 'auto' = crossbars x rows x "
                                     "input_bits / 8", auto=True, limits=(1, 2**30))
    output_register_bytes: Any = spec(AUTO, "bytes", "output register; 'auto' = crossbars x "
                                      "(cols / cells per weight) x output_bits / 8", auto=True,
                                      limits=(1, 2**30))


@dataclass(frozen=True)
class Tile:
    imas: int = spec(12, "IMAs", "IMAs per tile", limits=(1, 4096), typical=(1, 256))
    edram_bytes: int = spec(65536, "bytes", "eDRAM buffer per tile", pow2=True, limits=(1, 2**34))
    activation_units: int = spec(2, "units", "activation (sigmoid/ReLU) units per tile",
                                 limits=(1, 4096))
    shift_adds: int = spec(1, "units", "tile-level shift-and-add units (merge partial sums across IMAs)",
                           limits=(1, 4096))
    maxpool_units: int = spec(1, "units", "max-pool units per tile", limits=(1, 4096))
    output_register_bytes: int = spec(3072, "bytes", "tile output register", limits=(1, 2**30))
    bus_width_bits: int = spec(384, "bits", "wires of the eDRAM-to-IMA bus", limits=(1, 65536))
    bus_request_positions: int = spec(1, "positions", "receptive fields fetched per eDRAM + "
                                      "bus request in the event fidelity (other IMAs' requests "
                                      "interleave between them); 0 = a unit's fields in one "
                                      "request, as fast books them", positive=False,
                                      limits=(0, 2**20))
    tiles_per_router: int = spec(4, "tiles", "tiles sharing one on-chip router", limits=(1, 4096))
    edram_ports: int = spec(1, "ports", "concurrent eDRAM accesses (engine: requests queue per port)",
                            limits=(1, 1024))
    edram_bandwidth_GBps: float = spec(38.4, "GB/s", "bandwidth of one eDRAM port (ISAAC: 256 bits "
                                       "per 1.2 GHz clock); the engine times buffer traffic with it",
                                       limits=(1e-3, 1e6), typical=(0.1, 1e4))


@dataclass(frozen=True)
class Chip:
    tiles: int = spec(168, "tiles", "tiles per chip", limits=(1, 65536), typical=(1, 4096))
    offchip_links: int = spec(4, "links", "off-chip (HyperTransport) links per chip", positive=False,
                              limits=(0, 1024))
    offchip_link_GBps: float = spec(6.4, "GB/s", "bandwidth of one off-chip link",
                                    limits=(1e-3, 1e6), typical=(0.1, 1e4))
    max_chips: int = spec(64, "chips", "largest number of chips a network may be spread over",
                          limits=(1, 65536))


@dataclass(frozen=True)
class NoC:
    routing: str = spec("xy", "-", "on-chip routing: 'xy' (dimension-order, x then y, on the "
                        "2-D mesh of routers; hops follow the placement and every link "
                        "contends) or 'average' (every transfer noc.avg_hops hops, no links)",
                        choices=("xy", "average"))
    avg_hops: float = spec(1.0, "hops", "routers passed by every inter-layer transfer when "
                           "noc.routing is 'average'; the peak-power roll-up's router traffic "
                           "(no placement) always uses it", limits=(1e-3, 1e4))
    flit_bits: int = spec(32, "bits", "router flit width", limits=(1, 65536))
    link_GBps: float = spec(17.28, "GB/s", "bandwidth of each tile's link into the NoC (engine); "
                            "default: ISAAC's roll-up router traffic, 221184 bits per 1600 ns per tile",
                            limits=(1e-3, 1e6), typical=(0.1, 1e4))
    mesh_link_GBps: Any = spec(AUTO, "GB/s", "bandwidth of each directed router-to-router link "
                               "of the mesh (noc.routing xy); 'auto' = tile.tiles_per_router x "
                               "link_GBps (a concentrated mesh's links carry what its tiles "
                               "inject)", auto=True, limits=(1e-3, 1e6), typical=(0.1, 1e4))


@dataclass(frozen=True)
class Mapping:
    replicate: bool = spec(True, "-", "replicate layers to balance the inter-layer pipeline (ISAAC)",
                           positive=False)
    max_replication: int = spec(1024, "copies", "upper bound on one layer's replication",
                                limits=(1, 2**20))
    attention: str = spec("digital", "-", "activation x activation matmuls (attention): "
                          "'digital' (multiply-adds on the tile's eltwise units) or "
                          "'crossbar_write' (one operand written into crossbars per "
                          "inference, then read like weights)",
                          choices=("digital", "crossbar_write"))


@dataclass(frozen=True)
class EngineOptions:
    arbitration: str = spec("oldest_first", "-", "how the engine's shared units (eDRAM ports, buses, "
                            "NoC, off-chip links, digital units, shared ADC banks) order "
                            "requests of different images: 'oldest_first' (a strict priority "
                            "by image: a younger image's transfer is served in the idle time "
                            "the older ones leave, pausing for them, so no image is delayed, "
                            "or sped up, by a younger one) or 'fifo' (first come, first "
                            "served in simulated time; at one instant the older image first; "
                            "a later image can then change an earlier one's latency either "
                            "way); docs/engine.md",
                            choices=("fifo", "oldest_first"))


@dataclass(frozen=True)
class NonIdeal:
    """Device and circuit non-idealities of the functional (accuracy) model, pimsim/functional.

    Every default is ideal; docs/functional.md gives each formula and its source. Level units:
    one cell level step, (G_on - G_off) / (2**bits_per_cell - 1).
    """

    g_off_frac: float = spec(0.0, "-", "G_off / G_on = 1 / on-off ratio; 0 = ideal (no off-state "
                             "current); the nominal off current is subtracted by a reference column",
                             positive=False)
    programming: str = spec("gaussian", "-", "programming-variation distribution: 'gaussian' "
                            "(additive, sigma x level range) or 'lognormal' (G x exp(sigma x N))",
                            choices=("gaussian", "lognormal"))
    programming_sigma: float = spec(0.0, "-", "programming (device-to-device) variation: std of "
                                    "the programmed conductance, relative to G_on - G_off "
                                    "(gaussian) or in log space (lognormal)", positive=False)
    read_noise_sigma: float = spec(0.0, "-", "read (cycle-to-cycle) noise: std of each cell's "
                                   "conductance at each read, relative to that conductance",
                                   positive=False)
    drift_nu: float = spec(0.0, "-", "conductance drift exponent: G(t) = G(t0) (t / t0)^-nu",
                           positive=False)
    drift_nu_sigma: float = spec(0.0, "-", "cell-to-cell std of the drift exponent", positive=False)
    drift_time_s: float = spec(1.0, "s", "time since programming at which inference runs",
                               positive=True)
    drift_t0_s: float = spec(1.0, "s", "reference time t0 at which the programmed value holds",
                             positive=True)
    stuck_off_rate: float = spec(0.0, "-", "fraction of cells stuck at G_off (stuck-at-0)",
                                 positive=False)
    stuck_on_rate: float = spec(0.0, "-", "fraction of cells stuck at G_on (stuck-at-1)",
                                positive=False)
    wire_resistance_ohm: float = spec(0.0, "ohm", "wire resistance of one cell-to-cell segment "
                                      "(first-order IR drop along the row and the column); 0 = ideal",
                                      positive=False)
    on_resistance_ohm: float = spec(1.0e4, "ohm", "LRS resistance 1 / G_on (sets the IR drop's "
                                    "scale)")
    adc_bits: Any = spec(AUTO, "bits", "ADC resolution the functional model converts with; "
                         "'auto' = adc.bits (a lower value studies accuracy only: energy and "
                         "area keep adc.bits)", auto=True)
    adc_range: str = spec("scale", "-", "ADC range when adc_bits is below lossless: 'scale' "
                          "(full column range, LSB = 2^(lossless - bits) levels) or 'clip' "
                          "(LSB = 1 level, larger sums saturate)", choices=("scale", "clip"))
    adc_offset_sigma_lsb: float = spec(0.0, "LSB", "std of each ADC's static input offset "
                                       "(drawn once per ADC and seed)", positive=False)
    adc_noise_sigma_lsb: float = spec(0.0, "LSB", "std of the ADC's input-referred noise, "
                                      "per conversion", positive=False)
    seed: int = spec(0, "-", "first Monte Carlo seed (seeds seed, seed + 1, ...)", positive=False)
    seeds: int = spec(1, "runs", "Monte Carlo repeats: accuracy is their mean, with their std")


SECTIONS: dict[str, type] = {
    "precision": Precision,
    "crossbar": Crossbar,
    "dac": DAC,
    "adc": ADC,
    "activity": Activity,
    "ima": IMA,
    "tile": Tile,
    "chip": Chip,
    "noc": NoC,
    "mapping": Mapping,
    "nonideal": NonIdeal,
    "engine": EngineOptions,
}

#: Top-level numeric keys: (limits, typical) as for section fields.
TOP_LEVEL_RANGES = {
    "technology_nm": ((1, 1000), (3, 250)),
    "clock_GHz": ((1e-3, 100), (0.05, 10)),
}

TOP_LEVEL = {
    "name": ("-", "design point name shown in tables"),
    "description": ("-", "free text"),
    "extends": ("path", "another design point (relative path) whose keys this one overrides"),
    "technology_nm": ("nm", "technology node; informational (component tables are per node)"),
    "clock_GHz": ("GHz", "digital clock of registers, shift-and-add, activation and pooling units"),
    "plugins": ("modules", "Python modules to import so their components register themselves"),
    "components": ("table", "one entry per component role: {model: NAME, ...reference values}"),
}


@dataclass(frozen=True)
class Design:
    """A fully resolved, validated design point ('auto' values filled in)."""

    name: str
    source: str
    technology_nm: float
    clock_GHz: float
    precision: Precision
    crossbar: Crossbar
    dac: DAC
    adc: ADC
    activity: Activity
    ima: IMA
    tile: Tile
    chip: Chip
    noc: NoC
    mapping: Mapping
    components: dict  # role -> {"model": name, **reference values}
    description: str = ""
    nonideal: NonIdeal = field(default_factory=NonIdeal)
    engine: EngineOptions = field(default_factory=EngineOptions)

    # Derived quantities used everywhere; formulas documented in docs/components.md.
    @property
    def slices_per_weight(self) -> int:
        """Bit slices of one weight: weight_bits / bits_per_cell (ISAAC: 8)."""
        return self.precision.weight_bits // self.crossbar.bits_per_cell

    @property
    def differential(self) -> bool:
        """Signed weights as positive/negative column pairs (either differential scheme)."""
        return self.precision.signed_weights in ("differential", "differential_both")

    @property
    def cells_per_weight(self) -> int:
        """Crossbar columns one weight occupies: its slices, doubled for differential pairs."""
        return self.slices_per_weight * (2 if self.differential else 1)

    @property
    def cells_per_conversion(self) -> int:
        """Columns behind one ADC conversion: 2 when a differential pair's difference is
        taken before conversion (``differential``), else 1 (docs/mapping.md)."""
        return 2 if self.precision.signed_weights == "differential" else 1

    @property
    def converted_columns(self) -> int:
        """Conversions one full crossbar read needs: cols / cells per conversion."""
        return self.crossbar.cols // self.cells_per_conversion

    @property
    def input_cycles(self) -> int:
        """Read cycles to stream one input: input_bits / DAC bits."""
        return self.precision.input_bits // self.dac.bits

    @property
    def weights_per_crossbar_row(self) -> int:
        """Whole weights one crossbar row holds (ISAAC: 128 / 8 = 16)."""
        return self.crossbar.cols // self.cells_per_weight

    @property
    def conversion_time_ns(self) -> float:
        """Time the crossbar's ADCs need to convert one OU read's converted columns (all
        of them when the OU is the whole array), times the crossbars sharing the bank (ns)."""
        per = self.adc.per_crossbar
        width = min(self.converted_columns, self.ou_conversions)
        return self.adc.shared_by * -(-width // per) / self.adc.sample_rate_GSps

    @property
    def ou_conversions(self) -> int:
        """Conversions of one OU read over its ``ou_cols`` cell columns (a differential
        pair converts once)."""
        return max(1, self.crossbar.ou_cols // self.cells_per_conversion)

    @property
    def cycle_ns(self) -> float:
        """Effective time of one (OU) read: read cycle, or ADC conversion time if longer."""
        return max(self.crossbar.read_cycle_ns, self.conversion_time_ns)

    @property
    def ou_lossless_adc_bits(self) -> int:
        """ADC bits that convert an OU's column sum without clipping (ISAAC's rule)."""
        from pimsim.config.loader import required_adc_bits

        return required_adc_bits(self.crossbar.ou_rows, self.dac.bits,
                                 self.crossbar.bits_per_cell, self.adc.encoding)

    @property
    def crossbars_per_chip(self) -> int:
        return self.ima.crossbars * self.tile.imas * self.chip.tiles
