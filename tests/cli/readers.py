"""Another process that holds a store read-only, as `tradesentry serve` does while it runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).parents[2]

_HOLD = textwrap.dedent(
    """
    import sys, time
    import duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)  # as it is: no upgrade of an old store
    print("open", flush=True)
    time.sleep(600)
    """
)


@contextmanager
def _running(args: list[str], ready: str) -> Iterator[subprocess.Popen]:
    """A Python process started with ``args``, once it has printed a line starting ``ready``."""
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # the ready line, not a buffer's worth
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(ready), f"the holder said {line!r}"
        yield proc
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def held_read_only(db: Path) -> Iterator[subprocess.Popen]:
    """A process that opens ``db`` read-only and keeps it open until the block ends."""
    with _running(["-c", _HOLD, str(db)], "open") as proc:
        yield proc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(db: Path) -> Iterator[subprocess.Popen]:
    """A real `tradesentry serve` on ``db``, once it has opened the store and says so."""
    args = ["-m", "tradesentry", "serve", "--store", str(db), "--port", str(free_port())]
    with _running(args, "tradesentry dashboard on") as proc:
        yield proc
