"""Bounded load on the dashboard over loopback: errors and latency percentiles.

Starts `tradesentry serve` (one uvicorn worker, read-only) on a free 127.0.0.1 port over
the demo store (built in a temporary folder) or over --store, sends a fixed number of
requests from a fixed number of concurrent clients (httpx AsyncClient) cycling through
the pages and their JSON twins, stops the server and prints a table. It ends by itself:
the request count is fixed and every request has a timeout.

    python benchmarks/web_load.py                      # 5,000 requests, 50 concurrent
    python benchmarks/web_load.py --requests 20000 --concurrency 100 --store big.duckdb
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import httpx
import numpy as np

DEMO_PATHS = (
    "/",
    "/findings",
    "/findings?severity=high&sort=impact",
    "/api/findings",
    "/api/findings?flow=export",
    "/series/CHN/PRK/export/TOTAL",
    "/api/series/CHN/PRK/export/TOTAL",
    "/pair/CHN/PRK",
    "/api/releases",
    "/api/findings.csv",
)


def demo_store(folder: Path) -> Path:
    """The bundled China–North Korea release, ingested and scanned."""
    from tradesentry import api
    from tradesentry.store import open_store

    path = folder / "demo.duckdb"
    data = resources.files("tradesentry").joinpath("data/cn_kp_monthly_2019_2021h1.csv")
    with resources.as_file(data) as csv, open_store(path) as store:
        store.ingest(csv)
        api.scan(store)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(store: Path, port: int, log: Path):
    """`tradesentry serve` in a child process, its log in a file; stopped (by pid) on exit."""
    command = [sys.executable, "-m", "tradesentry.cli", "serve", "--port", str(port)]
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*command, "--store", str(store)], stdout=subprocess.DEVNULL, stderr=sink
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", proc, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(base: str, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-500:]}")
        try:
            if httpx.get(base + "/api/releases", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer within 30 s")


async def load(base: str, paths: list[str], total: int, concurrency: int, timeout: float):
    """``total`` requests from ``concurrency`` workers: (path, seconds, status) per request,
    the elapsed time, and what went wrong."""
    results: list[tuple[str, float, int]] = []
    failures: list[str] = []
    counter = iter(range(total))
    # idle connections let go before the server's keep-alive timeout (uvicorn's 5 s, as
    # httpx's own default): a request sent on a connection the server is closing at that
    # moment fails with a ReadError, a race of the two timeouts, not of the server
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:

        async def worker() -> None:
            for n in counter:
                path = paths[n % len(paths)]
                start = time.perf_counter()
                try:
                    response = await client.get(path)
                    await response.aread()
                    status = response.status_code
                    if status != 200:
                        failures.append(f"{path}: {status} {response.text[:200]}")
                except httpx.HTTPError as exc:
                    status = 0  # timeout, refused, reset: an error
                    failures.append(f"{path}: {_what_failed(exc)}")
                results.append((path, time.perf_counter() - start, status))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return results, elapsed, failures


def _what_failed(exc: BaseException) -> str:
    """'ReadError: [Errno 104] Connection reset by peer': httpx's transport errors often
    carry their reason only in the error they were raised from."""
    reason = str(exc) or str(exc.__cause__ or exc.__context__ or "") or "no reason given"
    return f"{type(exc).__name__}: {reason}"


def report(results, elapsed: float, args, store_name: str) -> str:
    seconds = np.array([r[1] for r in results]) * 1000
    errors = sum(1 for r in results if r[2] != 200)
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"store: {store_name}; {args.requests:,} requests, {args.concurrency} concurrent, "
        "one uvicorn worker, loopback",
        "",
        "| requests | errors | elapsed s | req/s | p50 ms | p90 ms | p99 ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {len(results):,} | {errors} | {elapsed:.1f} | {len(results) / elapsed:,.0f} "
        f"| {np.percentile(seconds, 50):.0f} | {np.percentile(seconds, 90):.0f} "
        f"| {np.percentile(seconds, 99):.0f} | {seconds.max():.0f} |",
        "",
        "| path | requests | errors | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    by_path = defaultdict(list)
    for path, s, status in results:
        by_path[path].append((s * 1000, status))
    for path, rows in by_path.items():
        ms = np.array([r[0] for r in rows])
        bad = sum(1 for r in rows if r[1] != 200)
        lines.append(
            f"| `{path}` | {len(rows):,} | {bad} | {np.percentile(ms, 50):.0f} "
            f"| {np.percentile(ms, 99):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--store", type=Path, help="a store to serve (default: the demo)")
    parser.add_argument(
        "--path", action="append", dest="paths", help="a path to request (repeat; default: a mix)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or demo_store(Path(tmp))
        log = Path(tmp) / "server.log"
        with server(store, free_port(), log) as base:
            paths = args.paths or list(DEMO_PATHS)
            results, elapsed, failures = asyncio.run(
                load(base, paths, args.requests, args.concurrency, args.timeout)
            )
        print(report(results, elapsed, args, store.name if args.store else "demo (CN–KP)"))
        for failure in failures[:10]:
            print("error:", failure, file=sys.stderr)
        if failures and log.stat().st_size:
            print("server log (end):", log.read_text()[-3000:], file=sys.stderr)
    errors = sum(1 for r in results if r[2] != 200)
    raise SystemExit(1 if errors else 0)


if __name__ == "__main__":
    main()
