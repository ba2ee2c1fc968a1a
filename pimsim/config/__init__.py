"""Design points: YAML loading, schema validation, defaults and merging."""

from pimsim.config.loader import load_design, required_adc_bits
from pimsim.config.schema import Design

__all__ = ["Design", "load_design", "required_adc_bits"]
