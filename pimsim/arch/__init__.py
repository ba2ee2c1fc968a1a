"""IMA / tile / chip composition and the area and peak-power roll-up."""

from pimsim.arch.compose import Arch, build_arch
from pimsim.arch.rollup import Rollup, mvm_period_ns, peak_activity, rollup

__all__ = ["Arch", "Rollup", "build_arch", "mvm_period_ns", "peak_activity", "rollup"]
