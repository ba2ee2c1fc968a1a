"""Which crossbars share an ADC bank, for the ``event`` fidelity (docs/engine.md,
"Crossbar reads and the ADC pipeline").

A layer's crossbars are numbered copy by copy (copy ``k``'s crossbar ``j`` is number
``k x crossbars_per_copy + j``), as the mapping packs them into the layer's IMAs
(``pimsim.mapping.replication.imas_needed``: a layer starts on an IMA of its own). An ADC
bank serves ``adc.shared_by`` consecutive numbers (``b x shared_by`` up to
``(b + 1) x shared_by - 1``); the loader makes ``ima.crossbars`` a multiple of
``shared_by``, so a bank never spans two IMAs. Numbers past the layer's last crossbar are
idle crossbars of its last IMA.

A bank whose crossbars all belong to one copy serves only that copy (the copy's
crossbars read in lockstep, so its crossbars' conversions follow each other: the bank is
busy for the sum of their conversion times per read). A bank holding crossbars of two
copies is contended: the ``event`` engine makes it a one-port shared unit both copies
book under ``engine.arbitration`` (``pimsim.sim.arbiter``). Plain data, computed once before the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CopyBanks:
    """One copy's ADC banks (times in ns per read of the copy's crossbar group)."""

    own_ns: float = 0.0                  # longest own bank: sum of its crossbars' conversions
    # banks shared with another copy: (bank number within the layer, this copy's
    # crossbars' conversion time on it per read, converted one after another)
    shared: list[tuple[int, float]] = field(default_factory=list)


def copy_banks(conv_ns: list[float], copies: int, shared_by: int) -> list[CopyBanks]:
    """Bank layout of every copy of a layer.

    ``conv_ns[j]``: crossbar ``j`` of a copy's conversion time per read (ns,
    :func:`pimsim.arch.read_timing.crossbar_conversion_ns`); ``copies``: the layer's
    copies; ``shared_by``: crossbars per bank. Returns one :class:`CopyBanks` per copy.
    """
    nxb = len(conv_ns)
    s = max(1, shared_by)
    total = copies * nxb
    if s == 1 or nxb == 0:               # one crossbar per bank: every bank is a copy's own
        own = max(conv_ns, default=0.0)
        return [CopyBanks(own) for _ in range(copies)]
    out = []
    for k in range(copies):
        cb = CopyBanks()
        first, last = k * nxb, (k + 1) * nxb - 1
        sums: dict[int, float] = {}
        for j, c in enumerate(conv_ns):
            b = (first + j) // s
            sums[b] = sums.get(b, 0.0) + c
        for b, c in sums.items():
            lo, hi = b * s, min((b + 1) * s, total) - 1   # the layer's crossbars in bank b
            if lo < first or hi > last:
                if c > 0.0:                     # nothing to convert: no request
                    cb.shared.append((b, c))
            elif c > cb.own_ns:
                cb.own_ns = c
        out.append(cb)
    return out
