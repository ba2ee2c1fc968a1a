"""The timing of one crossbar read, in one place (engine, closed form and replication).

A read drives the rows, settles and samples the columns into the sample-and-hold
(``crossbar.read``, ns); the crossbar's ``adc.per_crossbar`` ADCs then convert its used
columns, one sample each (``adc.convert``, ns), while the next read proceeds. So a group
of crossbars stepping together reads once per ``max(read, conversion)`` of its widest
crossbar (docs/engine.md, "Crossbar reads and the ADC pipeline"). A crossbar read OU
by OU converts one operation unit's used columns per read (``crossbar.ou_cols``), and
an ADC bank shared by ``adc.shared_by`` crossbars converts their reads one after another
(the crossbars of a copy read in lockstep; docs/mapping.md, operation units).
"""

from __future__ import annotations

import math


def read_ns(arch) -> float:
    """One crossbar read: drive, settle, sample and hold (ns)."""
    return arch.latency_ns("crossbar", "read")


def conversion_ns(used_cols: int, arch) -> float:
    """Converting one read of a crossbar with ``used_cols`` converted columns (pairs under
    ``differential``) on its ADCs (ns): one OU's conversions (all of them for whole-array
    reads), times the crossbars sharing the ADC bank; 0 for none."""
    if used_cols <= 0:
        return 0.0
    d = arch.design
    width = min(used_cols, d.ou_conversions)
    return (d.adc.shared_by * math.ceil(width / d.adc.per_crossbar)
            * arch.latency_ns("adc", "convert"))


def read_period_ns(used_cols: int, arch) -> float:
    """Time between reads of a crossbar group whose widest crossbar uses ``used_cols``."""
    return max(read_ns(arch), conversion_ns(used_cols, arch))
