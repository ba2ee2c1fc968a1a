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
         choices: tuple | None = None, auto: bool = False, minimum: float | None = None):
    """A schema field: default value plus metadata the loader and doc generator read."""
    return field(default=default, metadata=dict(unit=unit, doc=doc, pow2=pow2, positive=positive,
                                                choices=choices, auto=auto, minimum=minimum))


@dataclass(frozen=True)
class Precision:
    weight_bits: int = spec(16, "bits", "weight precision stored in the crossbars")
    input_bits: int = spec(16, "bits", "input activation precision streamed into the crossbars")
    output_bits: int = spec(16, "bits", "precision of layer outputs written back to buffers")
    signed_weights: str = spec("offset", "-", "signed-weight scheme: 'offset' (bias so all cells "
                               "are unsigned, ISAAC), 'differential' (positive/negative column pairs, "
                               "the pair's difference converted once) or 'differential_both' (pairs, "
                               "both columns converted and subtracted digitally)",
                               choices=("offset", "differential", "differential_both"))


@dataclass(frozen=True)
class Crossbar:
    rows: int = spec(128, "cells", "wordlines (inputs) per crossbar", pow2=True)
    cols: int = spec(128, "cells", "bitlines (outputs) per crossbar", pow2=True)
    bits_per_cell: int = spec(2, "bits", "bits stored in one ReRAM cell")
    read_cycle_ns: float = spec(100.0, "ns", "one crossbar read: drive rows, settle, sample and hold")
    write_drivers: int = spec(1, "drivers", "write drivers per crossbar: rows programmed in parallel "
                              "during weight load (docs/engine.md)")


@dataclass(frozen=True)
class DAC:
    bits: int = spec(1, "bits", "input bits applied per read cycle (1 = bit-serial streaming)")


@dataclass(frozen=True)
class ADC:
    bits: Any = spec(AUTO, "bits", "ADC resolution; 'auto' applies ISAAC's rule "
                     "(docs/components.md#adc-resolution)", auto=True)
    per_crossbar: int = spec(1, "ADCs", "ADCs shared by the columns of one crossbar")
    sample_rate_GSps: float = spec(1.28, "GS/s", "conversions per ns of one ADC")
    encoding: bool = spec(True, "-", "ISAAC's flipped-column weight encoding (saves one ADC bit)",
                          positive=False)


@dataclass(frozen=True)
class IMA:
    crossbars: int = spec(8, "crossbars", "crossbars in one in-situ multiply-accumulate unit (IMA)")
    shift_adds: int = spec(4, "units", "shift-and-add units per IMA")
    input_register_bytes: Any = spec(AUTO, "bytes", "input register; 'auto' = crossbars x rows x "
                                     "input_bits / 8", auto=True)
    output_register_bytes: Any = spec(AUTO, "bytes", "output register; 'auto' = crossbars x "
                                      "(cols / cells per weight) x output_bits / 8", auto=True)


@dataclass(frozen=True)
class Tile:
    imas: int = spec(12, "IMAs", "IMAs per tile")
    edram_bytes: int = spec(65536, "bytes", "eDRAM buffer per tile", pow2=True)
    activation_units: int = spec(2, "units", "activation (sigmoid/ReLU) units per tile")
    shift_adds: int = spec(1, "units", "tile-level shift-and-add units (merge partial sums across IMAs)")
    maxpool_units: int = spec(1, "units", "max-pool units per tile")
    output_register_bytes: int = spec(3072, "bytes", "tile output register")
    bus_width_bits: int = spec(384, "bits", "wires of the eDRAM-to-IMA bus")
    tiles_per_router: int = spec(4, "tiles", "tiles sharing one on-chip router")
    edram_ports: int = spec(1, "ports", "concurrent eDRAM accesses (engine: requests queue per port)")
    edram_bandwidth_GBps: float = spec(38.4, "GB/s", "bandwidth of one eDRAM port (ISAAC: 256 bits "
                                       "per 1.2 GHz clock); the engine times buffer traffic with it")


@dataclass(frozen=True)
class Chip:
    tiles: int = spec(168, "tiles", "tiles per chip")
    offchip_links: int = spec(4, "links", "off-chip (HyperTransport) links per chip", positive=False)
    offchip_link_GBps: float = spec(6.4, "GB/s", "bandwidth of one off-chip link")
    max_chips: int = spec(64, "chips", "largest number of chips a network may be spread over")


@dataclass(frozen=True)
class NoC:
    avg_hops: float = spec(1.0, "hops", "mean router hops of one inter-layer transfer")
    flit_bits: int = spec(32, "bits", "router flit width")
    link_GBps: float = spec(17.28, "GB/s", "bandwidth of each tile's link into the NoC (engine); "
                            "default: ISAAC's roll-up router traffic, 221184 bits per 1600 ns per tile")


@dataclass(frozen=True)
class Mapping:
    replicate: bool = spec(True, "-", "replicate layers to balance the inter-layer pipeline (ISAAC)",
                           positive=False)
    max_replication: int = spec(1024, "copies", "upper bound on one layer's replication")


SECTIONS: dict[str, type] = {
    "precision": Precision,
    "crossbar": Crossbar,
    "dac": DAC,
    "adc": ADC,
    "ima": IMA,
    "tile": Tile,
    "chip": Chip,
    "noc": NoC,
    "mapping": Mapping,
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
    ima: IMA
    tile: Tile
    chip: Chip
    noc: NoC
    mapping: Mapping
    components: dict  # role -> {"model": name, **reference values}
    description: str = ""

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
        """Time the crossbar's ADCs need to convert all its converted columns once (ns)."""
        return self.converted_columns / (self.adc.per_crossbar * self.adc.sample_rate_GSps)

    @property
    def cycle_ns(self) -> float:
        """Effective crossbar cycle: read cycle, or ADC conversion time if that is longer."""
        return max(self.crossbar.read_cycle_ns, self.conversion_time_ns)

    @property
    def crossbars_per_chip(self) -> int:
        return self.ima.crossbars * self.tile.imas * self.chip.tiles
