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


def crossbar_conversion_ns(used_cols: int, arch) -> float:
    """One crossbar's share of an ADC bank for one read (ns): its ``used_cols`` converted
    columns (pairs under ``differential``; one OU's for OU reads) converted one after
    another on the bank's ``adc.per_crossbar`` ADCs, ``ceil(width / ADCs)`` samples;
    0 for none. The ``event`` fidelity queues these per bank (pimsim.sim.adc_banks)."""
    if used_cols <= 0:
        return 0.0
    d = arch.design
    width = min(used_cols, d.ou_conversions)
    return math.ceil(width / d.adc.per_crossbar) * arch.latency_ns("adc", "convert")


def conversion_ns(used_cols: int, arch) -> float:
    """Converting one read of a crossbar with ``used_cols`` converted columns on an ADC
    bank whose ``adc.shared_by`` crossbars are all that wide and read in lockstep (ns):
    the bank converts them one after another (the aggregate that ``fast``, ``analytic``
    and replication use; an upper bound of what ``event`` queues); 0 for none."""
    return arch.design.adc.shared_by * crossbar_conversion_ns(used_cols, arch)


def read_period_ns(used_cols: int, arch) -> float:
    """Time between reads of a crossbar group whose widest crossbar uses ``used_cols``."""
    return max(read_ns(arch), conversion_ns(used_cols, arch))
