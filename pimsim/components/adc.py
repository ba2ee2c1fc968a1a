"""Analog-to-digital converter shared by crossbar columns.

Resolution laws (pluggable by the table's ``law`` key; reports name the one used):

* ``saberi`` (default): ISAAC-style SAR at 32 nm. Energy and area per resolution from the
  table below, scaled in Accelergy's hwcomponents-library from Kull et al. (ISSCC 2013,
  8 b 1.2 GS/s SAR in 32 nm SOI) after Saberi et al. (IEEE TCAS-I 2011, capacitive-DAC
  power in SAR ADCs); log-linear between points, last slope beyond them.
* ``walden``: constant Walden figure of merit, E = FoM x 2^bits: energy and area double
  per bit (a survey-fitted model, Murmann's ADC survey; grows much faster than ``saberi``).

Sample-rate law (both): energy per conversion is rate-independent (the Walden FoM has no
rate term); area scales with rate / reference rate (time-interleaving more channels; the
table gives every resolution at the reference rate).

Timing law (SAR): a conversion resolves one bit per bit-cycle (Kull et al. 2013), so at the
reference bit-cycle ``1 / (ref_sample_rate x ref_bits)`` a ``b``-bit conversion takes
``b`` bit-cycles: ``adc.sample_rate_GSps: auto`` is ``ref_sample_rate x ref_bits / b``
(:meth:`SarADC.channel_rate_GSps`), so fewer bits convert faster.
"""

from __future__ import annotations

import math

from pimsim.components.base import Component, Param
from pimsim.components.registry import register
from pimsim.errors import ConfigError

#: bits -> (energy pJ, area um^2) of the ISAAC-style SAR ADC at 32 nm, 1.2 GS/s
#: (hwcomponents-library, library/isaac.py, from Kull 2013 / Saberi 2011).
SABERI_TABLE = {4: (0.79, 361.04), 5: (0.99, 476.91), 6: (1.20, 626.91), 7: (1.42, 845.18),
                8: (1.67, 1200.0), 9: (1.969078145, 1827.911647), 10: (2.379022742, 3002.008032)}
LAWS = ("saberi", "walden")


def _saberi(bits: float, column: int) -> float:
    """Log-linear interpolation in SABERI_TABLE (column 0 = energy, 1 = area)."""
    keys = sorted(SABERI_TABLE)
    lo = max(min(int(math.floor(bits)), keys[-2]), keys[0])
    hi = lo + 1
    y0, y1 = math.log(SABERI_TABLE[lo][column]), math.log(SABERI_TABLE[hi][column])
    return math.exp(y0 + (y1 - y0) * (bits - lo))


@register("sar_adc")
class SarADC(Component):
    PARAMS = {
        "ref_bits": Param("bits", "resolution at the reference point", 8, limits=(1, 32)),
        "ref_sample_rate_GSps": Param("GS/s", "sample rate at the reference point", 1.28),
        "law": Param("-", "resolution law: 'saberi' or 'walden'", "saberi"),
    }
    ACTIONS = {"convert": "one conversion"}
    INSTANCE = {"bits": "bits", "sample_rate_GSps": "GS/s"}

    @classmethod
    def check_table(cls, entry, *, file, where):
        out = super().check_table(entry, file=file, where=where)
        if out["law"] not in LAWS:
            raise ConfigError("unknown ADC law", file=file, where=f"{where}.law", found=out["law"],
                              expected=" or ".join(LAWS))
        return out

    def _bits_ratio(self, column: int) -> float:
        bits, ref = self.inst["bits"], self.ref["ref_bits"]
        if self.ref["law"] == "walden":
            return 2.0 ** (bits - ref)
        return _saberi(bits, column) / _saberi(ref, column)

    def channel_rate_GSps(self) -> float:
        """Conversions per ns of one SAR channel at the instance's bits (bits x bit-cycle)."""
        return self.ref["ref_sample_rate_GSps"] * self.ref["ref_bits"] / self.inst["bits"]

    def area_scale(self) -> float:
        rate = self.inst["sample_rate_GSps"] / self.ref["ref_sample_rate_GSps"]
        return self._bits_ratio(1) * rate

    def energy_scale(self, action: str) -> float:
        return self._bits_ratio(0)

    def latency_ns(self, action: str) -> float:
        return 1.0 / self.inst["sample_rate_GSps"]
