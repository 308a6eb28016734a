"""Ingest speed: tradesentry against one DuckDB ``read_csv`` pass over the same file.

Generates a Comtrade Plus CSV (the website's export format, all 47 fields) of ``--rows``
rows with DuckDB's COPY, then times, each in a fresh child process so that peak memory is
measured per step:

(a) DuckDB's own ``read_csv`` of the file into a table of a new database file: the floor;
(b) ``tradesentry ingest`` of the file into a new store: reading, validation, country
    codes, duplicate check, observations and quarantine, in one transaction.

Run: ``python benchmarks/ingest.py [--rows 5000000] [--dir DIR] [--profile]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from tradesentry.ingest.comtrade import FIELDS


def generate(path: Path, rows: int) -> None:
    """Write a Comtrade Plus CSV of ``rows`` distinct observations with DuckDB's COPY."""
    import country_converter

    codes = sorted(int(c) for c in country_converter.CountryConverter().data["ISOnumeric"].dropna())
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE TABLE m49 AS SELECT unnest(?::INTEGER[]) AS code", [codes])
    n_partners, n_cmds = 200, 100
    # i -> (reporter, flow, partner, commodity, month): distinct for every i.
    con.execute(
        f"""
        COPY (
          WITH c AS (SELECT list(code ORDER BY code) AS codes, count(*) AS n FROM m49),
          g AS (
            SELECT i, i % 12 + 1 AS month, (i // 12) % {n_cmds} AS cmd,
                   (i // {12 * n_cmds}) % {n_partners} AS partner,
                   (i // {12 * n_cmds * n_partners}) % 2 AS flow,
                   i // {24 * n_cmds * n_partners} AS reporter
            FROM range({rows}) t(i)
          )
          SELECT 'C' AS typeCode, 'M' AS freqCode,
                 (2021 * 10000 + month * 100 + 1) AS refPeriodId, 2021 AS refYear,
                 month AS refMonth, printf('2021%02d', month) AS period,
                 c.codes[1 + (reporter * 7) % c.n] AS reporterCode, '' AS reporterISO,
                 'Reporter' AS reporterDesc, CASE flow WHEN 0 THEN 'M' ELSE 'X' END AS flowCode,
                 CASE flow WHEN 0 THEN 'Import' ELSE 'Export' END AS flowDesc,
                 c.codes[1 + partner % c.n] AS partnerCode, '' AS partnerISO,
                 'Partner' AS partnerDesc, 0 AS partner2Code, 'W00' AS partner2ISO,
                 'World' AS partner2Desc, 'H5' AS classificationCode,
                 'HS' AS classificationSearchCode, 'True' AS isOriginalClassification,
                 printf('%04d', 101 + cmd * 97) AS cmdCode, 'Commodity, described' AS cmdDesc,
                 4 AS aggrLevel, 'False' AS isLeaf, 'C00' AS customsCode,
                 'TOTAL CPC' AS customsDesc, 0 AS mosCode, 0 AS motCode, 'TOTAL MOT' AS motDesc,
                 8 AS qtyUnitCode, 'kg' AS qtyUnitAbbr, (hash(i) % 1000000) / 10 AS qty,
                 'False' AS isQtyEstimated, -1 AS altQtyUnitCode, 'N/A' AS altQtyUnitAbbr,
                 0 AS altQty, 'False' AS isAltQtyEstimated, (hash(i) % 1000000) / 10 AS netWgt,
                 'False' AS isNetWgtEstimated, 0 AS grossWgt, 'False' AS isGrossWgtEstimated,
                 CASE flow WHEN 0 THEN (hash(i) % 100000000) / 100 END AS cifvalue,
                 CASE flow WHEN 1 THEN (hash(i) % 100000000) / 100 END AS fobvalue,
                 (hash(i) % 100000000) / 100 AS primaryValue, 0 AS legacyEstimationFlag,
                 'True' AS isReported, 'False' AS isAggregate
          FROM g, c
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    con.close()
    with path.open() as f:
        assert f.readline().strip() == ",".join(FIELDS), "columns differ from the API's"


def step_duckdb(csv: Path, db: Path) -> int:
    """The floor: DuckDB reads the CSV into a table of a new database file."""
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')")
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    return n


def step_tradesentry(csv: Path, db: Path, profile: bool) -> int:
    from tradesentry.store import open_store

    if profile:
        _trace_sql()
    with open_store(db) as store:
        result = store.ingest(csv)
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    return result.rows_accepted


def _trace_sql() -> None:
    """Print how long each SQL statement of the ingest takes (``--profile``)."""
    real_execute = duckdb.DuckDBPyConnection.execute

    def timed(self, sql, *args, **kwargs):
        # The wrapper adds a stack frame: let DuckDB find data frames in any caller's frame.
        real_execute(self, "SET python_scan_all_frames = true")
        start = time.perf_counter()
        out = real_execute(self, sql, *args, **kwargs)
        took = time.perf_counter() - start
        if took > 0.05:
            head = " ".join(str(sql).split())[:110]
            print(f"  {took:7.2f}s  {head}", file=sys.stderr)
        return out

    duckdb.DuckDBPyConnection.execute = timed  # type: ignore[method-assign]


def run_child(step: str, csv: Path, db: Path, profile: bool) -> tuple[float, int, float, float]:
    """Run one step in a child process: (seconds, rows, peak RSS in MiB, CPU seconds)."""
    cmd = [sys.executable, __file__, "--step", step, "--file", str(csv), "--db", str(db)]
    if profile:
        cmd.append("--profile")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"step {step} failed with status {status}")
    result = json.loads(out.strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return result["seconds"], result["rows"], usage.ru_maxrss / 1024, cpu


def machine() -> str:
    import psutil

    ram = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (nproc), "
        f"{ram:.0f} GiB RAM, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--dir", type=Path, help="where to write the CSV and databases")
    parser.add_argument("--profile", action="store_true", help="time each SQL step of the ingest")
    parser.add_argument("--step", choices=["duckdb", "tradesentry"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:  # child process: one timed step, result as JSON on stdout
        start = time.perf_counter()
        if args.step == "duckdb":
            rows = step_duckdb(args.file, args.db)
        else:
            rows = step_tradesentry(args.file, args.db, args.profile)
        print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
        return

    if args.dir is not None and not args.dir.is_dir():
        raise SystemExit(f"--dir {args.dir}: no such directory")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        csv = work / "comtrade_plus.csv"
        start = time.perf_counter()
        generate(csv, args.rows)
        size = csv.stat().st_size / 2**20
        print(
            f"generated {args.rows:,} rows ({size:,.0f} MiB) in {time.perf_counter() - start:.1f}s"
        )
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        floor = run_child("duckdb", csv, work / "floor.duckdb", False)
        ours = run_child("tradesentry", csv, work / "store.duckdb", args.profile)
        print(f"\nmachine: {machine()}\n")
        print(f"load average when it started: {load}\n")
        print(
            "| step | rows | seconds | rows/s | speed vs DuckDB | CPU s | CPU vs DuckDB | peak RSS |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, (secs, rows, rss, cpu) in (
            ("DuckDB read_csv into a table", floor),
            ("tradesentry ingest", ours),
        ):
            print(
                f"| {name} | {rows:,} | {secs:.2f} | {rows / secs:,.0f} | {floor[0] / secs:.2f} | "
                f"{cpu:.1f} | {floor[3] / cpu:.2f} | {rss:,.0f} MiB |"
            )


if __name__ == "__main__":
    main()
