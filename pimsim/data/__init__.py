"""Data shipped with pimsim: the JSON Schema of a result document (docs/results.md)."""
