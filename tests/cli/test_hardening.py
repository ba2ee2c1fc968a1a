"""Regression tests of the hardening issue: one input of every class it lists, through the
command line. Each must end in one clear error (exit 2, one paragraph naming the file and
key) or a finite result, quickly. (Class 1, the YAML reader, is in tests/test_yamlio.py;
the kill -9 fault injection in tests/sweep/test_orphans.py; the generated inputs in
tests/fuzz/.)"""

from __future__ import annotations

import errno
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from pimsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
ISAAC = ROOT / "configs" / "isaac.yaml"
CNN = ROOT / "traces" / "cnn_digits.npz"
SHAPES = ROOT / "traces" / "resnet20_cifar_shapes.npz"
ISAAC_DOC = yaml.safe_load(ISAAC.read_text())


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def clean_error(capsys, *argv, needles=()) -> str:
    start = time.monotonic()
    code, _, err = run_cli(capsys, *argv)
    assert time.monotonic() - start < 30
    assert code == 2, err
    assert err.startswith("pimsim: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


def design(tmp_path: Path, **changes) -> Path:
    """isaac.yaml with dotted keys changed; returns the new file."""
    doc = json.loads(json.dumps(ISAAC_DOC))
    for dotted, value in changes.items():
        node = doc
        keys = dotted.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    path = tmp_path / "point.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# -- class 2: special files --------------------------------------------------------------

@pytest.mark.parametrize("kind", ["dev_zero", "urandom_link", "fifo", "directory"])
def test_special_files_as_design_trace_and_extends(tmp_path, capsys, kind):
    if kind == "dev_zero":
        path = Path("/dev/zero")
    elif kind == "urandom_link":
        path = tmp_path / "t.npz"
        path.symlink_to("/dev/urandom")
    elif kind == "fifo":
        path = tmp_path / "f.yaml"
        os.mkfifo(path)
    else:
        path = tmp_path
    needle = "is a directory" if kind == "directory" else "not a regular file"
    clean_error(capsys, "area", path, needles=(str(path), needle))
    clean_error(capsys, "run", ISAAC, "--trace", path, "--baseline", "none",
                needles=(str(path), needle))
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {path}\n")
    err = clean_error(capsys, "area", child, needles=("extends",))
    assert "missing file" not in err            # /dev/zero exists: say what it is


# -- class 3: bounded work ---------------------------------------------------------------

def _fan_in_trace(tmp_path: Path, n: int) -> Path:
    from pimsim.workload.trace import MANIFEST_MEMBER

    with zipfile.ZipFile(SHAPES) as zf:
        doc = json.loads(np.load(io.BytesIO(zf.read(MANIFEST_MEMBER))).tobytes())
    last = doc["layers"][-1]
    doc["layers"].append({"name": "fan", "type": "add", "inputs": [last["name"]] * n,
                          "in_shape": last["out_shape"], "out_shape": last["out_shape"]})
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(json.dumps(doc).encode(), np.uint8))
    path = tmp_path / "fan.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST_MEMBER, buf.getvalue())
    return path


def test_fan_in_of_10000_is_refused_at_once(tmp_path, capsys):
    path = _fan_in_trace(tmp_path, 10_000)
    assert path.stat().st_size < 5000           # a tiny file asking for unbounded work
    start = time.monotonic()
    clean_error(capsys, "run", ISAAC, "--trace", path, "--baseline", "none",
                needles=(str(path), "fan-in", "layer 'fan'"))
    assert time.monotonic() - start < 5


def test_engine_work_cap_names_the_way_out(capsys, monkeypatch):
    from pimsim.sim import engine

    monkeypatch.setattr(engine, "MAX_UNITS", 100)    # cnn_digits needs 456 units
    clean_error(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--fidelity", "fast",
                needles=("work units", "--fidelity analytic"))


def test_engine_deadlock_is_a_user_error_naming_the_cause(isaac_arch, monkeypatch):
    """The engine's stop condition, forced: a run whose last image never completes."""
    from pimsim.errors import EngineError
    from pimsim.sim import engine
    from pimsim.workload.trace import load_network

    original = engine.Engine.run

    def stuck(self):
        original(self)
        self.image_finish[-1] = float("nan")     # as if the last image never drained
        raise self._deadlock()

    monkeypatch.setattr(engine.Engine, "run", stuck)
    with pytest.raises(EngineError) as info:
        engine.run_engine(load_network(CNN), isaac_arch)
    message = str(info.value)
    assert "engine deadlock" in message and "cnn_digits" in message
    # not an undersized eDRAM (rows that do not fit spill off-chip): says so
    assert "eDRAM capacity is not the cause" in message and str(ISAAC) in message
    assert "--fidelity analytic" in message


# -- class 4 and 5: values the models cannot evaluate; accepted nonsense ------------------

@pytest.mark.parametrize("key, value, needle", [
    ("components__crossbar__ref_rows", 0, "must be positive"),
    ("components__adc__ref_bits", 0, "must be positive"),
    ("components__adc__ref_sample_rate_GSps", 0, "must be positive"),
    ("precision__input_bits", 1e308, "outside the range"),
    ("tile__imas", 2**62, "outside the range"),
    ("crossbar__read_cycle_ns", 1e300, "outside the range"),
    ("components__adc__convert_energy_pJ", 1e308, "outside the range"),
    ("components__crossbar__area_um2", 1e308, "outside the range"),
    ("chip__offchip_link_GBps", 1e308, "outside the range"),
    ("clock_GHz", 1e-300, "outside the range"),
    ("adc__bits", 1000, "outside the range"),
    ("crossbar__read_cycle_ns", float("nan"), "not a finite number"),
    ("precision__weight_bits", float("nan"), "wrong type"),
])
def test_values_are_range_checked_before_arithmetic(tmp_path, capsys, key, value, needle):
    path = design(tmp_path, **{key: value})
    where = key.replace("__", ".")
    for cmd in (["area", path], ["run", path, "--trace", CNN, "--baseline", "none"]):
        clean_error(capsys, *cmd, needles=(str(path), where, needle))


def test_non_scalar_key_is_an_error(tmp_path, capsys):
    path = tmp_path / "point.yaml"
    path.write_text(ISAAC.read_text() + "\n? [a, b]\n: 1\n")
    clean_error(capsys, "validate", path, needles=(str(path), "mapping key"))


def test_out_of_typical_range_is_a_warning_and_evaluated(tmp_path, capsys):
    path = design(tmp_path, adc__bits=16)       # 1..14 is what published ADCs span
    code, out, err = run_cli(capsys, "area", path, "--json")
    assert code == 0 and "pimsim: warning:" in err and "adc.bits" in err
    assert json.loads(out)["chip"]["area_mm2"] > 0


def test_results_never_carry_inf_or_nan():
    from pimsim.result import ResultError, check_figures

    check_figures({"a": 1.0, "b": [0, 2], "c": {"d": -1e-12}})          # rounding slack
    for bad in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ResultError, match="x.y"):
            check_figures({"x": {"y": bad}})


def test_json_output_is_strict(capsys):
    code, out, _ = run_cli(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--json")
    assert code == 0
    json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))


# -- class 6: file-system errors; damaged stores -----------------------------------------

def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/proc/mounts").exists()


def _tmpfs(mnt: Path, options: str):
    """Mount a 16 KiB tmpfs with ``options`` at ``mnt`` and unmount it afterwards
    (a context manager); skips where mounting needs root or is not permitted."""
    if not _can_mount():
        pytest.skip("mounting a tmpfs needs root")
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"{options},size=16k", "tmpfs", str(mnt)],
                      capture_output=True).returncode:
        pytest.skip("tmpfs mount not permitted here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.fixture
def tiny_fs(tmp_path):
    """A 16 KiB tmpfs (root only), unmounted afterwards."""
    yield from _tmpfs(tmp_path / "tiny", "rw")


def test_disk_full_on_out_is_one_paragraph(tiny_fs, capsys):
    out = tiny_fs / "out"
    err = clean_error(capsys, "run", ISAAC, "--trace", SHAPES, "--baseline", "none",
                      "--fidelity", "analytic", "--out", out, needles=("No space left",))
    assert str(tiny_fs) in err
    assert not [p for p in out.rglob("*.tmp")]   # no half-written temp file left


@pytest.fixture
def read_only_fs(tmp_path):
    """A read-only 16 KiB tmpfs (root only), unmounted afterwards."""
    yield from _tmpfs(tmp_path / "ro", "ro")


def test_read_only_directory(read_only_fs, capsys):
    mnt = read_only_fs
    clean_error(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--out", mnt,
                needles=(str(mnt), "Read-only file system"))
    clean_error(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--timeline",
                mnt / "t.json", needles=(str(mnt), "Read-only file system"))


def test_disk_full_during_sweep(tiny_fs, tmp_path, capsys):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump({"name": "full", "base": str(ISAAC), "baseline": "none", "fidelity": "analytic",
                                     "axes": {"crossbar.rows": [64, 128, 256],
                                              "trace": [str(SHAPES)]}}))
    (tiny_fs / "filler").write_bytes(b"x" * 12_000)
    clean_error(capsys, "sweep", sweep, "--workers", "0", "--out", tiny_fs / "out", "-q",
                needles=(str(tiny_fs), "No space left"))


def test_write_errors_name_the_path(tmp_path, capsys, monkeypatch):
    """Disk full, read-only and name-too-long, by the errno the system would give (also
    as root, for whom a read-only directory is writable)."""
    from pimsim import fileio

    code = [errno.ENOSPC]
    real = fileio.tempfile.mkstemp

    def failing(*a, **kw):
        raise OSError(code[0], os.strerror(code[0]))

    monkeypatch.setattr(fileio.tempfile, "mkstemp", failing)
    for code[0], text in ((errno.ENOSPC, "No space left"), (errno.EROFS, "Read-only"),
                          (errno.EACCES, "Permission denied")):
        clean_error(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--out",
                    tmp_path / "o", needles=(str(tmp_path / "o"), text))
    monkeypatch.setattr(fileio.tempfile, "mkstemp", real)
    long_name = tmp_path / ("x" * 300 + ".json")
    clean_error(capsys, "run", ISAAC, "--trace", CNN, "--baseline", "none", "--timeline",
                long_name, needles=("File name too long",))


def _sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    # analytic: these tests check the store's handling of damaged lines, not the engine
    path.write_text(yaml.safe_dump({"name": "dmg", "base": str(ISAAC), "baseline": "none",
                                    "fidelity": "analytic",
                                    "axes": {"crossbar.rows": [64, 128], "trace": [str(SHAPES)]}}))
    return path


def test_damaged_store_lines_are_skipped_and_rerun(tmp_path, capsys):
    sweep, out = _sweep_file(tmp_path), tmp_path / "out"
    assert run_cli(capsys, "sweep", sweep, "--workers", "0", "--out", out, "-q", "--no-report")[0] == 0
    points = out / "points.jsonl"
    good = points.read_bytes().splitlines()
    first = json.loads(good[0])
    result = first["result"]
    nan_line = json.dumps({**first, "result": {**result, "total": {
        **result["total"], "energy_pJ": 1}}}).replace('"energy_pJ": 1', '"energy_pJ": NaN').encode()
    huge_line = json.dumps({**first, "result": {**result, "total": {
        **result["total"], "energy_pJ": 1}}}).replace('"energy_pJ": 1', '"energy_pJ": 1e999').encode()
    missing = json.dumps({"key": json.loads(good[1])["key"], "status": "ok"}).encode()
    points.write_bytes(b"\xff\xfe not utf-8\n" + nan_line + b"\n" + huge_line + b"\n"
                       + missing + b"\n")
    code, out_text, err = run_cli(capsys, "sweep", sweep, "--workers", "0", "--out", out, "-q",
                                  "--no-report")
    assert code == 0, err
    assert "ignored 4 unreadable line(s)" in err and "2 evaluated" in out_text
    # the re-run's records are valid: a third run reuses them and evaluates nothing (the
    # damaged lines stay in the append-only file and are still counted)
    code, out_text, err = run_cli(capsys, "sweep", sweep, "--workers", "0", "--out", out, "-q",
                                  "--no-report")
    assert code == 0 and "0 evaluated, 2 reused" in out_text, (out_text, err)
    # a record of an older schema (top-level totals) is readable, not damaged, and re-evaluated
    old = [json.loads(line) for line in points.read_bytes().splitlines()[-2:]]
    points.write_bytes(b"".join(json.dumps(
        {**{k: v for k, v in r.items() if k != "result"}, "schema_version": 0,
         "total": r["result"]["total"]}).encode() + b"\n" for r in old))
    code, out_text, err = run_cli(capsys, "sweep", sweep, "--workers", "0", "--out", out, "-q",
                                  "--no-report")
    assert code == 0 and "unreadable" not in err and "2 evaluated" in out_text, (out_text, err)
    code, _, err = run_cli(capsys, "report", out, "--no-plots", "-q")
    assert code == 0, err


def test_directory_where_the_store_file_should_be(tmp_path, capsys):
    sweep, out = _sweep_file(tmp_path), tmp_path / "out"
    (out / "points.jsonl").mkdir(parents=True)
    clean_error(capsys, "sweep", sweep, "--workers", "0", "--out", out, "-q",
                needles=(str(out / "points.jsonl"), "is a directory"))
    (out / "points.jsonl").rmdir()
    (out / "sweep.json").mkdir()
    clean_error(capsys, "report", out, needles=("sweep.json",))


# -- class 7: distributed and process hygiene --------------------------------------------

@pytest.mark.parametrize("value", ["-5", "1000", "1" * 30, "x"])
def test_workers_are_range_checked(tmp_path, capsys, monkeypatch, value):
    monkeypatch.chdir(tmp_path)              # a regression must not write into the checkout
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(_sweep_file(tmp_path)), "--workers", value, "--out", "o"])
    assert info.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_scheduler_that_is_no_address_fails_at_once(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(_sweep_file(tmp_path)), "--scheduler", "not a url"])
    assert info.value.code == 2 and time.monotonic() - start < 2
    assert "not a Dask scheduler address" in capsys.readouterr().err


@pytest.mark.parametrize("greeting", [None, b"SSH-2.0-OpenSSH_9.0\r\n", b""])
def test_server_that_is_no_dask_scheduler_fails_fast(tmp_path, capsys, monkeypatch, greeting):
    """A silent server (HTTP waits for a request), a banner (SSH) and a closing one."""
    pytest.importorskip("dask.distributed")
    from pimsim.sweep import runner

    monkeypatch.setattr(runner, "PROBE_TIMEOUT_S", 1)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    conns = []

    def serve():
        conn, _ = server.accept()
        conns.append(conn)
        if greeting is not None:
            conn.sendall(greeting)
            if greeting == b"":
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    start = time.monotonic()
    try:
        clean_error(capsys, "sweep", _sweep_file(tmp_path), "--scheduler",
                    f"tcp://127.0.0.1:{port}", "--out", tmp_path / "o",
                    needles=("--scheduler", "cannot connect to the Dask scheduler"))
        assert time.monotonic() - start < 10
    finally:
        server.close()
        for c in conns:
            c.close()


# -- class 8: smaller --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "/abs"])
def test_sweep_name_cannot_choose_the_output_place(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path / "..")       # the default output place is relative to here
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": name, "base": str(ISAAC),
                                    "axes": {"crossbar.rows": [64], "trace": [str(SHAPES)]}}))
    for cmd in ("validate", "sweep"):
        clean_error(capsys, cmd, path, needles=(str(path), "name"))


def test_validate_refuses_what_sweep_refuses(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "big", "base": str(ISAAC),
                                    "axes": {"tile.imas": list(range(1, 101)),
                                             "chip.tiles": list(range(1, 101)),
                                             "noc.flit_bits": list(range(1, 101)),
                                             "trace": [str(SHAPES)]}}))
    for cmd in ("validate", "sweep"):
        clean_error(capsys, cmd, path, needles=("sweep too large", "1000000"))


def test_run_schedule_refuses_weight_q_that_validate_refuses(tmp_path, capsys):
    from pimsim.workload.trace import load_trace, tensor_key

    trace = load_trace(CNN)
    info = trace.info("_0", "weight_q")
    with zipfile.ZipFile(CNN) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    wq = np.load(io.BytesIO(members[info.member]))
    wq = wq.copy()
    assert info.bits == 8 and wq.dtype == np.int8
    wq.flat[0] = -128                        # outside +-127, the range of 8-bit weights
    buf = io.BytesIO()
    np.save(buf, wq)
    members[info.member] = buf.getvalue()
    bad = tmp_path / "bad_wq.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    assert tensor_key("_0", "weight_q") + ".npy" == info.member
    needle = "quantized weight out of range"
    clean_error(capsys, "validate", bad, needles=(needle,))
    clean_error(capsys, "run", ISAAC, "--trace", bad, "--baseline", "none", "--schedule",
                ROOT / "configs" / "schedules" / "era_bs_weights.yaml", needles=(needle,))


def test_run_checks_member_crcs(tmp_path, capsys):
    sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
    from strategies import corrupt_crc

    bad = tmp_path / "crc.npz"
    bad.write_bytes(CNN.read_bytes())
    corrupt_crc(bad, "_3/weight.npy")
    clean_error(capsys, "run", ISAAC, "--trace", bad, "--baseline", "none",
                needles=(str(bad), "_3/weight.npy", "corrupt", "CRC"))


def test_techniques_without_scikit_learn_name_the_extra(capsys, monkeypatch):
    from pimsim.workload import datasets

    datasets.digits_split.cache_clear()
    for mod in ("sklearn", "sklearn.datasets", "sklearn.model_selection"):
        monkeypatch.setitem(sys.modules, mod, None)          # import raises ImportError
    # -q: without it the command first says what it runs (one line on stderr), then errs
    clean_error(capsys, "techniques", "apply",
                ROOT / "configs" / "schedules" / "era_bs_weights.yaml", CNN, "-q",
                needles=("scikit-learn", ".[torch]"))
    datasets.digits_split.cache_clear()


def test_paths_with_a_nul_character(tmp_path, capsys):
    """Found by the fuzzer: a NUL in a path from YAML raised ValueError from the OS layer."""
    child = tmp_path / "child.yaml"
    child.write_text(yaml.safe_dump({"extends": "isaac\0.yaml"}))
    clean_error(capsys, "area", child, needles=(str(child), "extends"))
    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump({"name": "nul", "base": str(ISAAC),
                                     "axes": {"trace": ["t\0.npz"]}}))
    clean_error(capsys, "validate", sweep, needles=(str(sweep), "axes.trace[0]"))


@pytest.mark.parametrize("rng", [{"start": 6.3e247, "stop": 6.1e16, "step": -1.5e-114},
                                 {"start": -1e308, "stop": 1e308, "step": 1e-308},
                                 {"start": 1, "stop": 1e308, "factor": 1.0000001}])
def test_sweep_ranges_with_extreme_numbers(tmp_path, capsys, rng):
    """Found by the fuzzer: an arithmetic range whose length overflows a float."""
    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump({"name": "rng", "base": str(ISAAC),
                                     "axes": {"adc.sample_rate_GSps": rng, "trace": [str(SHAPES)]}}))
    clean_error(capsys, "validate", sweep, needles=(str(sweep), "range too long"))


def test_denormal_reference_value(tmp_path, capsys):
    """Found by the fuzzer: ref_bytes of 2e-313 passed '> 0' and made the area infinite."""
    path = design(tmp_path, components__input_register__ref_bytes=2.2250738585e-313)
    clean_error(capsys, "run", path, "--trace", CNN, "--baseline", "none", "--json",
                needles=(str(path), "components.input_register.ref_bytes"))


def test_result_error_names_the_design_point(tmp_path, capsys, monkeypatch):
    """Should a figure still come out non-finite, the error names the design point file."""
    from pimsim.components import register_file

    monkeypatch.setattr(register_file.Register, "area_scale", lambda self: float("inf"))
    path = design(tmp_path)
    clean_error(capsys, "run", path, "--trace", CNN, "--baseline", "none", "--json",
                needles=(str(path), "area_mm2", "not a finite"))


def test_mangled_npy_header(tmp_path, capsys):
    """Found by the fuzzer: a header that ends mid-token raised tokenize.TokenError."""
    members = {}
    with zipfile.ZipFile(CNN) as zf:
        for n in zf.namelist():
            members[n] = zf.read(n)
    data = bytearray(members["_0/weight.npy"])
    header_end = data.index(b"\n")
    data[header_end - 60:header_end] = b"{'descr': '<f4', 'shape': ((((" + b" " * 30
    members["_0/weight.npy"] = bytes(data)
    bad = tmp_path / "hdr.npz"
    with zipfile.ZipFile(bad, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    clean_error(capsys, "validate", bad, needles=(str(bad), "not a valid .npy member"))
