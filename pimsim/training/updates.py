"""The training update record: what a policy reprogrammed, step by step and per cell.

Written as one ``.npz`` (zip of ``.npy`` members, read and written without pickle,
written atomically: temp file + rename). Members:

==========================  ===========================================================
``manifest.npy``            uint8 UTF-8 JSON: format version, model, policy and its
                            parameters, seed, design point, write model, steps, epochs,
                            layers (name, groups, rows, cols, crossbars, structures, scale)
``step_cells``              int64 ``[steps]``: cell writes of each step (swaps included)
``step_rows``               int64 ``[steps]``: most rows written in one crossbar per step
``step_swap_cells``         int64 ``[steps]``: cell writes of row swaps at each step
``selected``                uint8 ``[steps, ceil(S / 8)]``: ``np.packbits`` of the mask of
                            the S structures (all layers, in order) updated at each step
``<layer>/cell_counts``     uint32 ``[crossbars, xb_rows, xb_cols]``: writes per physical cell
``<layer>/row_map``         int32 ``[crossbars, xb_rows]``: final logical -> physical rows
``<layer>/weight_updates``  uint32 ``[groups, rows, cols]``: times each weight's integer
                            value changed (logical reprogrammings)
``structure_counts``        int64 ``[S]``: times each structure was selected
==========================  ===========================================================

The per-step mask is the full record of *which* structures were reprogrammed; cells
within a selected structure are written when their level changed, which the per-cell
counts accumulate (a per-step per-cell record would be steps x cells: too large).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RECORD_VERSION = 1
MANIFEST = "manifest"
RECORD_FILE_MODE = 0o644


@dataclass
class UpdateRecord:
    """A training run's update record (plain data; see the module doc for the file)."""

    meta: dict
    layers: list[dict]
    step_cells: np.ndarray
    step_rows: np.ndarray
    step_swap_cells: np.ndarray
    selected: np.ndarray
    structure_counts: np.ndarray
    cell_counts: dict[str, np.ndarray] = field(default_factory=dict)
    row_maps: dict[str, np.ndarray] = field(default_factory=dict)
    weight_updates: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return int(self.step_cells.shape[0])

    def selected_mask(self, step: int) -> np.ndarray:
        """bool ``[S]``: structures updated at ``step``."""
        n = int(self.structure_counts.shape[0])
        return np.unpackbits(self.selected[step], count=n).astype(bool)


def save_record(path: str | Path, rec: UpdateRecord) -> Path:
    """Write ``rec`` atomically to ``path`` (``.npz``, no pickle)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format_version": RECORD_VERSION, "meta": rec.meta, "layers": rec.layers}
    arrays = {MANIFEST: np.frombuffer(json.dumps(doc).encode("utf-8"), np.uint8),
              "step_cells": rec.step_cells.astype(np.int64),
              "step_rows": rec.step_rows.astype(np.int64),
              "step_swap_cells": rec.step_swap_cells.astype(np.int64),
              "selected": rec.selected.astype(np.uint8),
              "structure_counts": rec.structure_counts.astype(np.int64)}
    for name, arr in rec.cell_counts.items():
        arrays[f"{name}/cell_counts"] = arr.astype(np.uint32)
    for name, arr in rec.row_maps.items():
        arrays[f"{name}/row_map"] = arr.astype(np.int32)
    for name, arr in rec.weight_updates.items():
        arrays[f"{name}/weight_updates"] = arr.astype(np.uint32)
    from pimsim.fileio import check_replaceable

    check_replaceable(path)       # never rename over a device or FIFO
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, RECORD_FILE_MODE)     # mkstemp makes 0600; records are ordinary outputs
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for key, arr in arrays.items():
                with zf.open(key + ".npy", "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_record(path: str | Path) -> UpdateRecord:
    """Read an update record written by :func:`save_record` (no pickle); PimsimError naming
    the file for anything that is not one."""
    from pimsim.errors import PimsimError

    try:
        return _load_record(path)
    except FileNotFoundError:
        raise PimsimError("file not found", file=path) from None
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise PimsimError(f"not a training update record ({exc})", file=path,
                          expected="a record written by 'pimsim train'") from None


def _load_record(path: str | Path) -> UpdateRecord:
    with np.load(path, allow_pickle=False) as z:
        doc = json.loads(z[MANIFEST].tobytes().decode("utf-8"))
        if doc.get("format_version") != RECORD_VERSION:
            raise ValueError(f"{path}: unsupported update-record version "
                             f"{doc.get('format_version')!r}")
        names = [lay["name"] for lay in doc["layers"]]
        return UpdateRecord(
            meta=doc["meta"], layers=doc["layers"], step_cells=z["step_cells"],
            step_rows=z["step_rows"], step_swap_cells=z["step_swap_cells"],
            selected=z["selected"], structure_counts=z["structure_counts"],
            cell_counts={n: z[f"{n}/cell_counts"] for n in names},
            row_maps={n: z[f"{n}/row_map"] for n in names},
            weight_updates={n: z[f"{n}/weight_updates"] for n in names})
