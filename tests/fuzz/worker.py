"""Fuzz worker: runs ``pimsim`` commands in this process, one per stdin line, under a memory
limit; prints one JSON line per command.

Started by ``harness.Worker`` as ``python tests/fuzz/worker.py MEM_BYTES``. A command that
hangs is killed from outside (the harness times every line); one that allocates past the
limit ends in MemoryError, reported as ``memory``. Each input line is a JSON list of argv.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
import traceback
import warnings


def main() -> None:
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from pimsim import cli

    out = sys.stdout
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        argv = json.loads(line)
        stdout, stderr = io.StringIO(), io.StringIO()
        start = time.perf_counter()
        outcome = {"tb": None}
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
                warnings.catch_warnings():
            warnings.simplefilter("default")
            try:
                outcome["rc"] = cli.main(argv)
            except SystemExit as exc:          # argparse usage errors
                outcome["rc"] = exc.code if isinstance(exc.code, int) else 1
            except MemoryError:
                outcome["rc"] = "memory"
                outcome["tb"] = "MemoryError"
            except BaseException:  # noqa: BLE001 - a traceback is what the fuzzer looks for
                outcome["rc"] = "traceback"
                outcome["tb"] = traceback.format_exc()[-3000:]
        outcome.update(stdout=stdout.getvalue()[-200_000:], stderr=stderr.getvalue()[-4000:],
                       elapsed=time.perf_counter() - start)
        print(json.dumps(outcome), file=out, flush=True)


if __name__ == "__main__":
    main()
