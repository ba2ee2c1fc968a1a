"""Content hashes that identify what a Result evaluated: the design point and the workload.

A hash is of the content, not the file name: two design files that resolve to the same
design point (``extends``, overrides, ``auto`` values filled in) hash alike, and a
rewritten trace gets a new hash. SHA-256, hex digits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

CHUNK_BYTES = 1 << 20
"""Read size when hashing a file (1 MiB)."""


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def design_sha256(design) -> str:
    """SHA-256 of the resolved design point (every section and component table; the
    source path left out, so a copy of a file hashes alike)."""
    data = dataclasses.asdict(design)
    data.pop("source", None)
    return hashlib.sha256(_canonical(data).encode()).hexdigest()


def network_sha256(network) -> str:
    """SHA-256 of the network's layer shapes in order (what the simulator maps)."""
    layers = [dataclasses.asdict(layer) for layer in network.layers]
    return hashlib.sha256(_canonical({"name": network.name, "layers": layers}).encode()).hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (a trace .npz)."""
    h = hashlib.sha256()
    with open(Path(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            h.update(chunk)
    return h.hexdigest()
