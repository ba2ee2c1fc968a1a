"""Run a sweep: plan it, skip what the store already holds, evaluate the rest in parallel.

Two backends run the same function, :func:`pimsim.sweep.point.run_point`, on plain-data
specs: a local process pool (spawn context, one process per core by default) and a Dask
distributed cluster (``scheduler`` address). Records are stored as they arrive, so an
interrupted sweep resumes where it stopped. A worker process that dies (crash, kill,
``os._exit``) breaks the pool: the points that were in flight are re-run one at a time in
a fresh single-worker pool, so the culprit is recorded as failed and the rest go on.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pimsim.errors import ConfigError, PimsimError
from pimsim.sweep.plan import (INVALID, PLANNED, POINT, SKIPPED, always_rejected, grid, iter_points,
                               plan_fingerprint)
from pimsim.sweep.point import FAILED, OK, run_point
from pimsim.sweep.progress import Progress
from pimsim.sweep.spec import Sweep
from pimsim.sweep.store import Store, current_record, read_manifest

WORKER_CRASH = "WorkerCrash"
CRASH_MESSAGE = ("the worker process evaluating this point died without a result (a crash, "
                 "os._exit, or killed, e.g. for memory); the rest of the sweep went on. "
                 "Re-run with --retry-failed to try it again")
CONNECT_TIMEOUT_S = 15
"""How long to wait for a Dask scheduler before giving up (s)."""


@dataclass
class Summary:
    """What a sweep run did (counts are of grid points, baselines apart)."""

    name: str
    out_dir: str
    points: int = 0            # grid points after 'where'
    excluded: int = 0          # removed by constraints.where
    skipped: int = 0           # rejected by the config loader, skip_invalid: true
    ok: int = 0
    failed: int = 0            # raised, crashed, or rejected by the loader without skip_invalid
    evaluated: int = 0         # evaluations run now (unique keys, baselines included)
    reused: int = 0            # unique keys found in the store
    elapsed_s: float = 0.0
    interrupted: bool = False
    backend: str = ""
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        state = "interrupted" if self.interrupted else "done"
        return (f"sweep '{self.name}' {state}: {self.points} points: {self.ok} ok, "
                f"{self.failed} failed, {self.skipped} skipped"
                + (f", {self.excluded} excluded by 'where'" if self.excluded else "")
                + f"; {self.evaluated} evaluated, {self.reused} reused, "
                f"{self.elapsed_s:.1f} s ({self.backend}); results in {self.out_dir}")

    def as_dict(self) -> dict:
        return asdict(self)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


PARENT_POLL_S = 0.5
"""How often a worker checks that its driver is still alive (s)."""


def _worker_init(parent_pid: int | None = None) -> None:
    # Ctrl-C reaches the whole process group; the driver alone handles it (shuts the pool
    # down and keeps what is stored), so workers ignore it instead of printing tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        die_with_parent(parent_pid)


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` dies (``kill -9`` of the sweep driver leaves no
    worker behind): the kernel's parent-death signal on Linux, and everywhere a daemon
    thread that polls the parent (it also covers a worker busy in Python code)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:      # died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    import threading

    threading.Thread(target=watch, name="pimsim-parent-watch", daemon=True).start()


def _crash_record(spec: dict, message: str = CRASH_MESSAGE, kind: str = WORKER_CRASH) -> dict:
    return {"key": spec.get("key"), "status": FAILED, "error": {"type": kind, "message": message},
            "fidelity": spec.get("fidelity"), "trace": Path(spec["trace"]).name}


def run_serial(specs: Iterable[dict]) -> Iterator[dict]:
    """In this process, one after another (``workers=0``: debugging, profiling)."""
    for spec in specs:
        yield run_point(spec)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    # spawn: no fork of a driver holding threads, locks or a Dask client; the same on all OSes.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))


def _isolated(suspects: list[dict]) -> Iterator[dict]:
    """Run each suspect alone in a single-worker pool: the one that breaks it is the culprit."""
    pool = None
    try:
        for spec in suspects:
            pool = pool or _new_pool(1)
            try:
                yield pool.submit(run_point, spec).result()
            except BrokenProcessPool:
                pool.shutdown(wait=True)
                pool = None
                yield _crash_record(spec)
    except BaseException:
        if pool is not None:
            _terminate(pool)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def run_local(specs: Iterable[dict], workers: int) -> Iterator[dict]:
    """A process pool, fed lazily: at most 2 x workers points in flight (so a crash has few
    suspects), and no pool at all when ``specs`` turns out empty."""
    source = iter(specs)
    first = next(source, None)
    if first is None:
        return
    source = itertools.chain([first], source)
    exhausted = False
    pool = None
    try:
        while True:
            pool = _new_pool(workers)
            inflight: dict = {}
            suspects: list[dict] = []
            while not suspects:
                while not exhausted and len(inflight) < 2 * workers:
                    spec = next(source, None)
                    if spec is None:
                        exhausted = True
                    else:
                        inflight[pool.submit(run_point, spec)] = spec
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    spec = inflight.pop(fut)
                    try:
                        record = fut.result()
                    except BrokenProcessPool:
                        suspects.append(spec)
                        continue
                    yield record
            if not suspects:
                return
            suspects += list(inflight.values())   # broken too, or about to be
            pool.shutdown(wait=True, cancel_futures=True)
            pool = None
            yield from _isolated(suspects)
    except BaseException:
        # Ctrl-C, or the consumer stopped: points in flight are abandoned, so do not wait
        # for them (an engine point may take minutes).
        if pool is not None:
            _terminate(pool)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop busy workers before Python 3.14
    # (terminate_workers); its process table is the only handle.
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


def run_dask(specs: Iterable[dict], address: str) -> Iterator[dict]:
    """A Dask distributed cluster at ``address``; a task that kills its workers repeatedly
    (Dask retries it on a fresh worker) comes back as KilledWorker and is recorded failed."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ConfigError("running on a Dask cluster needs dask.distributed",
                          where="--scheduler", found=address,
                          expected="pip install -e '.[dist]'") from None
    _probe_scheduler(address)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the address's fault
        raise ConfigError(f"cannot connect to the Dask scheduler: {type(exc).__name__}: "
                          f"{str(exc)[:200]}", where="--scheduler",
                          found=address, expected="the address 'dask scheduler' prints, "
                          "e.g. tcp://HOST:8786") from None
    futures = {}
    suspects = []
    try:
        for spec in specs:
            futures[client.submit(run_point, spec, pure=False)] = spec
        for fut in as_completed(list(futures), loop=client.loop):
            spec = futures.pop(fut)
            if fut.status == "error":
                suspects.append(spec)   # run_point never raises: its worker died
            else:
                yield fut.result()
        # A dying worker takes the tasks queued on it down too: re-run each suspect alone,
        # so only the point that kills its worker again is recorded as failed.
        for spec in suspects:
            fut = client.submit(run_point, spec, pure=False)
            futures[fut] = spec
            try:
                record = fut.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker and kin: the worker died
                record = _crash_record(spec, f"Dask reported {type(exc).__name__}: {exc}",
                                       type(exc).__name__)
            futures.pop(fut)
            yield record
    finally:
        if futures:
            client.cancel(list(futures))
        client.close()


PROBE_TIMEOUT_S = 5
"""How long a TCP scheduler address may take to accept and greet (s)."""
MAX_GREETING_BYTES = 1 << 24
"""A Dask scheduler's first message (its handshake) is a few hundred bytes."""


def _probe_scheduler(address: str) -> None:
    """Fail fast, with a clear error, when a TCP address is no Dask scheduler.

    A Dask scheduler writes its handshake as soon as a client connects: an 8-byte frame
    length, then the frames. A server that says nothing (HTTP), closes, or sends text (SSH
    banner) would otherwise hang the client or make it allocate a nonsense frame length.
    """
    import re
    import socket
    import struct

    m = re.match(r"^(?:tcp://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d+)/?$", address.strip())
    if not m:
        return                      # tls://, ucx://, inproc://: leave it to Dask
    host, port = m.group(1).strip("[]"), int(m.group(2))

    def fail(why: str):
        return ConfigError(f"cannot connect to the Dask scheduler: {why}", where="--scheduler",
                           found=address, expected="the address 'dask scheduler' prints, "
                           "e.g. tcp://HOST:8786")

    try:
        sock = socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S)
    except OSError as exc:
        raise fail(f"cannot connect ({exc.strerror or exc})") from None
    try:
        sock.settimeout(PROBE_TIMEOUT_S)
        head = b""
        while len(head) < 8:
            chunk = sock.recv(8 - len(head))
            if not chunk:
                raise fail("the server closed the connection without a Dask handshake")
            head += chunk
    except TimeoutError:
        raise fail(f"the server sent no Dask handshake within {PROBE_TIMEOUT_S} s") from None
    except OSError as exc:
        raise fail(f"connection failed ({exc.strerror or exc})") from None
    finally:
        sock.close()
    (length,) = struct.unpack("<Q", head)
    if not 0 < length <= MAX_GREETING_BYTES:
        raise fail(f"the server's first bytes {head[:8]!r} are no Dask handshake")


def _backend(workers: int | None, scheduler: str | None) -> tuple[str, Callable]:
    if scheduler:
        return f"dask {scheduler}", lambda specs: run_dask(specs, scheduler)
    n = default_workers() if workers is None else workers
    if n <= 0:
        return "in-process", run_serial
    return f"{n} local process{'es' if n > 1 else ''}", lambda specs: run_local(specs, n)


def manifest(sweep: Sweep, points: list[dict], excluded: int, fingerprint: str | None) -> dict:
    """The plan as stored in ``sweep.json``: everything reports need besides the records.
    ``fingerprint`` is set only for a complete plan (a rerun may then reuse it)."""
    return {"name": sweep.name, "description": sweep.description, "sweep_file": str(sweep.source),
            "base": str(sweep.base), "baseline": str(sweep.baseline) if sweep.baseline else None,
            "fidelity": sweep.fidelity, "metrics": list(sweep.metrics),
            "axes": [{"name": a.name, "keys": list(a.keys), "kind": a.kind,
                      "values": [Path(v).stem if a.kind != "config" else v for v in a.values]}
                     for a in sweep.axes],
            "skip_invalid": sweep.skip_invalid, "where": [c.text for c in sweep.where],
            "excluded": excluded, "plan_fingerprint": fingerprint, "points": points}


def _stored_plan(store: Store, fingerprint: str) -> list[dict] | None:
    try:
        old = read_manifest(store.dir)
    except PimsimError:
        return None
    if old.get("plan_fingerprint") == fingerprint and isinstance(old.get("points"), list):
        return old["points"]
    return None


def run_sweep(sweep: Sweep, out_dir: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, quiet: bool = False, retry_failed: bool = False,
              on_record: Callable[[dict], None] | None = None) -> Summary:
    """Plan, resume from ``out_dir``, evaluate what is missing; returns the :class:`Summary`.

    ``workers``: local processes (default: the CPUs this process may use; 0 runs in this
    process). ``scheduler``: a Dask scheduler address (overrides ``workers``; default the
    sweep file's ``scheduler``). ``retry_failed``: run points stored as failed again.
    ``on_record`` is called after each record is stored. Ctrl-C stops the sweep, keeps
    every stored point and returns with ``interrupted`` set.

    Planning (loading each point's design) is streamed into the backend, so evaluation
    starts with the first new point; a rerun of an unchanged sweep reuses the stored plan.
    """
    t0 = time.monotonic()
    g = grid(sweep)
    fingerprint = plan_fingerprint(sweep)
    scheduler = scheduler or sweep.scheduler
    backend_name, backend = _backend(workers, scheduler)
    summary = Summary(name=sweep.name, out_dir=str(out_dir), excluded=g.excluded,
                      backend=backend_name)
    points: list[dict] = []
    planned = False
    with Store(out_dir) as store:
        records = store.read()
        stored = _stored_plan(store, fingerprint)
        progress = Progress(g.size(sweep), quiet=quiet, desc=sweep.name)

        def todo() -> Iterator[dict]:
            nonlocal planned
            seen: set[str] = set()
            for p in stored if stored is not None else iter_points(sweep, g):
                points.append(p)
                key = p.get("key")
                if p["status"] == PLANNED and key not in seen:
                    seen.add(key)
                    rec = records.get(key)
                    if rec is None or not current_record(rec) or (
                            retry_failed and rec.get("status") != OK):
                        yield p["spec"]
                        continue
                    summary.reused += 1
                progress.update(evaluated=False)  # stored, skipped, or a duplicate design
            planned = True
            store.write_manifest(manifest(sweep, points, g.excluded, fingerprint))

        try:
            for record in backend(todo()):
                store.append(record)
                records[record["key"]] = record
                summary.evaluated += 1
                progress.update(failed=record.get("status") != OK)
                if on_record is not None:
                    on_record(record)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            progress.close()
            if not planned:             # interrupted while planning: keep what was planned
                store.write_manifest(manifest(sweep, points, g.excluded, None))
    summary.notes = always_rejected(sweep, points)
    _count(summary, points, records)
    summary.points = len(g.combos)     # also when interrupted before all were planned
    summary.elapsed_s = time.monotonic() - t0
    return summary


def _count(summary: Summary, points: list[dict], records: dict[str, dict]) -> None:
    grid = [p for p in points if p["role"] == POINT]
    summary.points = len(grid)
    for p in grid:
        if p["status"] == SKIPPED:
            summary.skipped += 1
        elif p["status"] == INVALID:
            summary.failed += 1
        else:
            status = records.get(p["key"], {}).get("status")
            summary.ok += status == OK
            summary.failed += status == FAILED

