"""Commands beside the dashboard: another process holds the store read-only, as `serve` does.

Commands that only read open the store read-only and run beside it; commands that must
write fail within seconds, in one line saying who holds the store (exit code 2).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tests.cli.readers import held_read_only, serving
from tests.conftest import DEMO_CSV
from tradesentry import cli, store
from tradesentry.store import LOCK_WAIT_SECONDS

runner = CliRunner()
HELD = "the store is open read-only in another process"


def invoke(*args, db: Path):
    return runner.invoke(cli.app, [*map(str, args), "--store", str(db)], catch_exceptions=False)


def assert_held_error(result) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and HELD in lines[0], result.stderr
    assert "stop it, or try again" in lines[0]


@pytest.fixture
def quick_readers(monkeypatch):
    """Writers give up on readers at once: these tests check the message, not the wait."""
    monkeypatch.setattr(store, "READER_WAIT_SECONDS", 0.2)


def _store(tmp_path: Path, scanned: bool) -> Path:
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, db=db).exit_code == 0
    if scanned:
        assert invoke("scan", "--format", "json", db=db).exit_code == 0
    return db


@pytest.fixture
def scanned_db(tmp_path) -> Path:
    """The demo release and a saved scan: every reading command has what it needs."""
    return _store(tmp_path, scanned=True)


READING = [
    ["releases"],
    ["releases", "--format", "json"],
    ["quarantine"],
    ["series", "CHN", "PRK", "export", "TOTAL"],
    ["mirror", "CHN", "PRK"],
    ["gap", "CHN", "PRK"],
    ["rates"],
    ["digest"],
]


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_commands_that_read_run_beside_a_reader(scanned_db, args):
    with held_read_only(scanned_db):
        result = invoke(*args, db=scanned_db)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_release_diff_reads_beside_a_reader(scanned_db):
    """The store holds one release: its diff against itself is refused for what it asks,
    not for the reader's lock."""
    with held_read_only(scanned_db):
        result = invoke("releases", "--diff", "1", "1", db=scanned_db)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --diff 1 1: a release against itself; give two releases"


def test_report_and_export_of_a_saved_scan_run_beside_a_reader(scanned_db, tmp_path):
    with held_read_only(scanned_db):
        report = invoke("report", "--out", tmp_path / "r.html", db=scanned_db)
        export = invoke("export", "--parquet", tmp_path / "parquet", db=scanned_db)
    assert report.exit_code == 0 and (tmp_path / "r.html").stat().st_size > 0, report.output
    assert export.exit_code == 0 and (tmp_path / "parquet" / "releases.parquet").exists()


def test_series_never_scanned_runs_beside_a_reader(tmp_path):
    """No saved scan covers the series: it is scanned in memory, which only reads."""
    db = _store(tmp_path, scanned=False)
    with held_read_only(db):
        result = invoke("series", "CHN", "PRK", "export", "TOTAL", db=db)
    assert result.exit_code == 0, result.output
    assert "implausible" in result.stdout  # the findings, from the scan in memory
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM scans").fetchone() == (0,)


@pytest.mark.parametrize(
    "args",
    [["scan"], ["scan", "--new"], ["ingest", DEMO_CSV], ["rates", "RATES"]],
    ids=lambda args: " ".join(map(str, args)),
)
def test_commands_that_write_say_a_reader_holds_the_store(
    scanned_db, tmp_path, quick_readers, args
):
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,period,per_usd\nEUR,2021-01,0.82\n")
    args = [rates if a == "RATES" else a for a in args]
    with held_read_only(scanned_db):
        assert_held_error(invoke(*args, db=scanned_db))


@pytest.mark.parametrize("args", [["report", "--out", "r.html"], ["digest"]], ids=" ".join)
def test_report_and_digest_that_must_scan_first_say_a_reader_holds_the_store(
    tmp_path, quick_readers, args
):
    db = _store(tmp_path, scanned=False)
    with held_read_only(db):
        assert_held_error(invoke(*args, db=db))


def test_a_writer_gives_up_on_readers_well_before_the_lock_wait(scanned_db):
    """The dashboard never lets go: waiting the full lock wait would only delay the message."""
    with held_read_only(scanned_db):
        started = time.monotonic()
        result = invoke("scan", db=scanned_db)
        waited = time.monotonic() - started
    assert_held_error(result)
    assert waited < LOCK_WAIT_SECONDS / 2, waited


def test_beside_a_real_dashboard(scanned_db, tmp_path, quick_readers):
    with serving(scanned_db):
        releases = invoke("releases", "--format", "json", db=scanned_db)
        report = invoke("report", "--out", tmp_path / "r.html", db=scanned_db)
        scan = invoke("scan", db=scanned_db)
    assert releases.exit_code == 0 and '"id":1' in releases.stdout, releases.output
    assert report.exit_code == 0, report.output
    assert_held_error(scan)


def test_a_reading_command_on_no_store_is_an_error(tmp_path):
    db = tmp_path / "none.duckdb"
    result = invoke("releases", db=db)
    assert result.exit_code == 2 and "no store here" in result.stderr
    assert not db.exists()
