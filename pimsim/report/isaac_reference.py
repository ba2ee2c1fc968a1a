"""ISAAC's published figures, used ONLY as references to compare against.

Source: Shafiee et al., "ISAAC: A Convolutional Neural Network Accelerator with In-Situ
Analog Arithmetic in Crossbars", ISCA 2016, corrected version of 5 Oct 2016: Table I
(per-component power and area, totals per IMA/tile/chip) and Table IV (peak CE and PE of
ISAAC-CE). The model never reads these: it computes its figures from component entries in
configs/isaac.yaml, and tests/docs put the two side by side.
"""

from __future__ import annotations

#: role -> (paper's label, spec, count, power mW for all units, area mm^2 for all units)
IMA_ROWS = {
    "adc": ("ADC", "8 bit, 1.28 GS/s", 8, 16.0, 0.0096),
    "dac": ("DAC", "1 bit", 8 * 128, 4.0, 0.00017),
    "sample_hold": ("sample & hold", "", 8 * 128, 0.01, 0.00004),
    "crossbar": ("memristor crossbar", "128 x 128, 2 bit/cell", 8, 2.4, 0.0002),
    "shift_add": ("shift & add", "", 4, 0.2, 0.00024),
    "input_register": ("input register", "2 KB", 1, 1.24, 0.0021),
    "output_register": ("output register", "256 B", 1, 0.23, 0.00077),
}
IMA_TOTAL = (24.09, 0.0131)

TILE_ROWS = {
    "edram": ("eDRAM buffer", "64 KB", 1, 20.7, 0.083),
    "bus": ("eDRAM-to-IMA bus", "384 wires", 1, 7.0, 0.090),
    "router": ("router", "32 flits, 8 ports, shared by 4 tiles", 0.25, 10.5, 0.151 / 4),
    "activation": ("sigmoid", "", 2, 0.52, 0.0006),
    "tile_shift_add": ("shift & add", "", 1, 0.05, 0.00006),
    "maxpool": ("max-pool", "", 1, 0.4, 0.00024),
    "tile_output_register": ("output register", "3 KB", 1, 1.68, 0.0032),
}
TILE_TOTAL = (330.0, 0.372)          # with its 12 IMAs

CHIP_ROWS = {
    "offchip_link": ("HyperTransport links", "4 links, 1.6 GHz, 6.4 GB/s", 4, 10400.0, 22.88),
}
CHIP_TOTAL = (65800.0, 85.4)         # 168 tiles + HyperTransport

#: Table IV (corrected version), ISAAC-CE: CE in GOPS/s/mm^2, PE in GOPS/W.
PEAK_CE = 478.95
PEAK_PE = 627.5

#: Acceptance tolerances of the reproduction (foundation issue).
TOTAL_TOLERANCE = 0.01
PEAK_TOLERANCE = 0.05
