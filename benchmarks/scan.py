"""Speed benchmark: `tradesentry scan` end to end against the floor of one DuckDB pass.

For each size, generated Comtrade-like data (``tradesentry.generate``) is loaded into its
own store (``load_generated``, once, cached in --work), then two measurements run, each in
a fresh subprocess so their peaks are separate:

- floor: open the same store read-only and make one GROUP BY pass over the same rows
  (per series: count, sum, median), fetching the result;
- scan: ``api.scan(store, save=True)``: every registered detector over every series,
  findings ranked and saved in the store, as ``tradesentry scan`` does.

Printed: rows, series, seconds, rows per second, scan/floor ratio and peak RSS (psutil,
polled every 20 ms, and the child's own ru_maxrss; the larger is shown).

    python benchmarks/scan.py                    # 10^6 and 10^7 rows, 10^5 series × 50 months
    python benchmarks/scan.py --full             # adds 5×10^7 rows and 10^6 series × 50 months
    python benchmarks/scan.py --sizes 1e6 --series-sizes ""   # one quick size
    python benchmarks/scan.py --no-cross-checks  # only the detectors that need no context
    python benchmarks/scan.py --engine-only      # no detectors: reading, gathering, panels
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

FLOOR = """
import json, resource, sys, time
from tradesentry.store import open_store
t = time.perf_counter()
st = open_store(sys.argv[1], read_only=True)
rows = st.con.sql(
    "SELECT reporter, partner, flow, classification, commodity, freq, breakdown, "
    "count(*) AS n, sum(value) AS total, median(value) AS middle "
    "FROM observations GROUP BY ALL"
).to_arrow_table()
print(json.dumps({"seconds": time.perf_counter() - t, "groups": rows.num_rows,
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

SCAN = """
import json, resource, sys, time
from tradesentry import api
from tradesentry.store import open_store
t = time.perf_counter()
st = open_store(sys.argv[1])
found = api.scan(st, save=True, **json.loads(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - t, "findings": len(found),
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

# the engine with no detectors: ``api.scan`` refuses an empty list of kinds (it would
# select nothing), so the engine's own generator is driven as the scan drives it
ENGINE = """
import json, resource, sys, time
from tradesentry.engines.local import scan_chunks
from tradesentry.store import open_store
t = time.perf_counter()
st = open_store(sys.argv[1])
options = json.loads(sys.argv[2])
found = sum(len(f) for f in scan_chunks(st.con, [], **options))
print(json.dumps({"seconds": time.perf_counter() - t, "findings": found,
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


@dataclass(frozen=True)
class Case:
    name: str
    rows: int | None = None
    series: int | None = None


def parse_sizes(text: str) -> list[int]:
    return [int(float(s)) for s in text.split(",") if s.strip()]


def prepared_store(case: Case, work: Path, seed: int) -> tuple[Path, dict]:
    """Generate (Parquet) and load the case once; later runs reuse the store."""
    from tradesentry.generate import generate, load_generated
    from tradesentry.store import open_store

    data, store = work / f"{case.name}-seed{seed}", work / f"{case.name}-seed{seed}.duckdb"
    if not (data / "manifest.json").exists():
        t = time.perf_counter()
        generate(data, rows=case.rows, series=case.series, seed=seed)
        print(f"  generated {case.name} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    manifest = json.loads((data / "manifest.json").read_text())
    if not store.exists():
        t = time.perf_counter()
        with open_store(store) as st:
            load_generated(st, data)
        print(f"  loaded {case.name} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return store, manifest


def measure(script: str, *args: str) -> dict:
    """Run a measurement in a new process; its own timing plus its peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    watched, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"measurement failed ({proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss"] = max(peak, result.pop("maxrss"))
    return result


def run_case(
    case: Case, work: Path, seed: int, scan_options: dict, engine_only: bool = False
) -> dict:
    store, manifest = prepared_store(case, work, seed)
    floor = measure(FLOOR, str(store))
    scan = measure(ENGINE if engine_only else SCAN, str(store), json.dumps(scan_options))
    rows = manifest["rows"]
    return {
        "case": case.name,
        "rows": rows,
        "series": manifest["series"],
        "floor_s": floor["seconds"],
        "scan_s": scan["seconds"],
        "scan_rows_per_s": rows / scan["seconds"],
        "ratio": scan["seconds"] / floor["seconds"],
        "floor_rss_mb": floor["peak_rss"] / 2**20,
        "scan_rss_mb": scan["peak_rss"] / 2**20,
        "findings": scan["findings"],
    }


def table(results: list[dict]) -> str:
    head = (
        "| data | rows | series | floor s | scan s | scan rows/s | scan ÷ floor "
        "| floor peak RSS | scan peak RSS | findings |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {r['case']} | {r['rows']:,} | {r['series']:,} | {r['floor_s']:.1f} | "
        f"{r['scan_s']:.1f} | {r['scan_rows_per_s']:,.0f} | {r['ratio']:.1f}× | "
        f"{r['floor_rss_mb']:,.0f} MB | {r['scan_rss_mb']:,.0f} MB | {r['findings']:,} |"
        for r in results
    ]
    return "\n".join([head, *lines])


def machine() -> str:
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GB RAM, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start"
    )


def cases(args: argparse.Namespace) -> list[Case]:
    rows = parse_sizes(args.sizes) + ([50_000_000] if args.full else [])
    series = parse_sizes(args.series_sizes) + ([1_000_000] if args.full else [])
    return [Case(f"rows-{n:.0e}".replace("+0", ""), rows=n) for n in rows] + [
        Case(f"series-{n:.0e}".replace("+0", ""), series=n) for n in series
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="rows, comma-separated")
    parser.add_argument("--series-sizes", default="1e5", help="series × 50 months")
    parser.add_argument("--full", action="store_true", help="add 5e7 rows and 1e6 series")
    parser.add_argument("--work", default="out/bench-scan", help="cache of data and stores")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-series", type=int, default=None)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--no-cross-checks",
        action="store_true",
        help="only the detectors that need no whole-store context (mirror, releases, "
        "reference prices); the exchange rate of a series' own currency they may join",
    )
    parser.add_argument(
        "--engine-only",
        action="store_true",
        help="no detectors: the engine's own cost (read, gather, panels, save)",
    )
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    options: dict = {"chunk_series": args.chunk_series} if args.chunk_series else {}
    if args.no_cross_checks:
        from tradesentry.detectors import registry
        from tradesentry.detectors.base import MONEY_NEEDS

        # the rate of a series' own currency (the money cap) is a join, not a cross check
        options["kinds"] = [k for k, cls in registry().items() if set(cls.needs) <= {*MONEY_NEEDS}]
        print(f"detectors: {', '.join(options['kinds'])}")
    if args.engine_only:
        print("detectors: none (the engine alone)")
    print(machine())
    print(f"command: python benchmarks/scan.py {' '.join(sys.argv[1:])}")
    results = []
    for case in cases(args):
        print(f"running {case.name}", file=sys.stderr)
        results.append(run_case(case, work, args.seed, options, args.engine_only))
        print(table(results[-1:]).splitlines()[-1], file=sys.stderr)
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
