"""The one place for units and conversions.

pimsim's working units, used by every module, YAML key and result field:

==========  ======  =====================================================
quantity    unit    note
==========  ======  =====================================================
energy      pJ      picojoule
time        ns      nanosecond
power       mW      milliwatt; mW x ns = pJ exactly
area        mm^2    square millimetre (YAML tables may say ``area_um2``)
frequency   GHz     events per ns; sample rates in GS/s are the same unit
data        bits    unless a name says ``bytes``
==========  ======  =====================================================

Derived metrics: throughput in GOPS with 1 MAC = 2 ops; computational efficiency
(CE) in GOPS/mm^2; power efficiency (PE) in GOPS/W; energy per inference in uJ.
"""

from __future__ import annotations

import math

OPS_PER_MAC = 2
"""One multiply-accumulate counts as two operations (multiply + add), as ISAAC does."""

BITS_PER_BYTE = 8
UM2_PER_MM2 = 1e6
PJ_PER_UJ = 1e6
NS_PER_S = 1e9
MW_PER_W = 1e3


def um2_to_mm2(area_um2: float) -> float:
    """Square micrometres -> square millimetres."""
    return area_um2 / UM2_PER_MM2


def bytes_to_bits(n_bytes: float) -> float:
    return n_bytes * BITS_PER_BYTE


def energy_pJ(power_mW: float, time_ns: float) -> float:
    """Energy of ``power_mW`` held for ``time_ns``: mW x ns = pJ."""
    return power_mW * time_ns


def power_mW(energy_pJ_: float, time_ns: float) -> float:
    """Average power of ``energy_pJ_`` spent over ``time_ns``."""
    return energy_pJ_ / time_ns if time_ns > 0 else 0.0


def gops(macs: float, time_ns: float) -> float:
    """Throughput in GOPS of ``macs`` MACs done in ``time_ns``: ops per ns = GOPS."""
    return OPS_PER_MAC * macs / time_ns if time_ns > 0 else 0.0


def gops_per_W(gops_: float, power_mW_: float) -> float:
    return gops_ / (power_mW_ / MW_PER_W) if power_mW_ > 0 else 0.0


def per_s(time_ns: float) -> float:
    """Rate per second of something that takes ``time_ns``."""
    return NS_PER_S / time_ns if time_ns > 0 else 0.0


def ceil_log2(x: float) -> int:
    """Smallest integer n with 2**n >= x (x >= 1)."""
    return max(0, math.ceil(math.log2(x) - 1e-12))


def is_power_of_two(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0
