"""Fixtures for trace tests: a small valid trace, and a way to rewrite it into a bad one."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from pimsim.errors import TraceError
from pimsim.workload.layer import Layer, Network
from pimsim.workload.trace import (MANIFEST_MEMBER, TensorData, load_trace, save_trace,
                                   validate_trace)


def small_network() -> Network:
    """conv -> relu -> conv -> add(residual) -> maxpool -> flatten -> linear."""
    L = Layer
    layers = (
        L("c1", "conv", ("input",), (1, 8, 8), (4, 8, 8), kernel=(3, 3), padding=(1, 1), bias=True),
        L("r1", "relu", ("c1",), (4, 8, 8), (4, 8, 8)),
        L("c2", "conv", ("r1",), (4, 8, 8), (4, 8, 8), kernel=(3, 3), padding=(1, 1), groups=2),
        L("a1", "add", ("c2", "r1"), (4, 8, 8), (4, 8, 8)),
        L("p1", "maxpool", ("a1",), (4, 8, 8), (4, 4, 4), kernel=(2, 2), stride=(2, 2)),
        L("f", "flatten", ("p1",), (4, 4, 4), (64, 1, 1)),
        L("fc", "linear", ("f",), (64, 1, 1), (10, 1, 1), bias=True),
    )
    return Network("small", (1, 8, 8), layers)


def small_tensors(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    f32 = np.float32
    return {
        "c1": {"weight": rng.standard_normal((4, 1, 3, 3)).astype(f32),
               "bias": rng.standard_normal(4).astype(f32),
               "weight_q": TensorData(rng.integers(-127, 128, (4, 1, 3, 3)).astype(np.int8),
                                      0.01, 8, 0),
               "act": TensorData(rng.integers(0, 256, (3, 1, 8, 8)).astype(np.uint8), 0.02, 8, 0)},
        "c2": {"weight": rng.standard_normal((4, 2, 3, 3)).astype(f32)},
        "fc": {"weight": rng.standard_normal((10, 64)).astype(f32),
               "bias": np.zeros(10, f32),
               "act": TensorData(rng.integers(0, 16, (3, 64, 1, 1)).astype(np.uint8), 0.5, 4, 0)},
    }


@pytest.fixture
def good_trace(tmp_path: Path) -> Path:
    """A valid trace with tensors, written by save_trace."""
    return save_trace(tmp_path / "good.npz", small_network(), small_tensors(),
                      meta={"source": "test", "seed": 0})


def npy_bytes(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


@pytest.fixture
def rewrite(tmp_path: Path) -> Callable[..., Path]:
    """``rewrite(src, mutate=None, members=None, drop=(), raw_manifest=None) -> bad.npz``.

    ``mutate(doc)`` edits the parsed manifest in place; ``members`` maps member name to
    bytes or array (added or replaced); ``drop`` removes members; ``raw_manifest`` replaces
    the manifest's JSON text with the given bytes.
    """
    def _rewrite(src: Path, mutate=None, members=None, drop=(), raw_manifest=None,
                 name: str = "bad.npz") -> Path:
        with zipfile.ZipFile(src) as zf:
            content = {n: zf.read(n) for n in zf.namelist()}
        doc_arr = np.load(io.BytesIO(content[MANIFEST_MEMBER]), allow_pickle=False)
        doc = json.loads(doc_arr.tobytes())
        if mutate is not None:
            mutate(doc)
        text = raw_manifest if raw_manifest is not None else json.dumps(doc).encode()
        content[MANIFEST_MEMBER] = npy_bytes(np.frombuffer(text, np.uint8))
        for k, v in (members or {}).items():
            content[k] = v if isinstance(v, bytes) else npy_bytes(v)
        for k in drop:
            content.pop(k, None)
        out = tmp_path / name
        with zipfile.ZipFile(out, "w") as zf:
            for k, v in content.items():
                zf.writestr(k, v)
        return out
    return _rewrite


@pytest.fixture
def small_net() -> Network:
    return small_network()


def expect(path: Path, *parts: str, full: bool = False) -> TraceError:
    """Load (or fully validate) ``path``; the error must name the file and every part."""
    with pytest.raises(TraceError) as info:
        (validate_trace if full else load_trace)(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for part in parts:
        assert part in msg, f"{part!r} not in: {msg}"
    return info.value


def layer(doc: dict, name: str) -> dict:
    """The manifest entry of layer ``name``."""
    return next(lay for lay in doc["layers"] if lay["name"] == name)
