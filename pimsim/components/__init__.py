"""Leaf component models; importing this package registers the built-in ones."""

from pimsim.components import (  # noqa: F401  (imported to register the models)
    adc, crossbar, dac, digital_unit, interconnect, register_file, sample_hold, shift_add,
    support, write_driver,
)
from pimsim.components.base import Component, Param
from pimsim.components.registry import REQUIRED_ROLES, lookup, register

__all__ = ["Component", "Param", "REQUIRED_ROLES", "lookup", "register"]
