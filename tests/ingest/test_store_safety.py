"""The store under stress: kill -9 mid-ingest, two ingests at once, the same file twice,
and a later release that revises a figure."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.cli.readers import held_read_only
from tests.conftest import DEMO_CSV
from tradesentry import api
from tradesentry import store as store_module
from tradesentry.errors import InputError, StoreError
from tradesentry.store import SCHEMA_VERSION, connect, open_store, read_else_write

REPO = Path(__file__).parents[2]


def big_csv(path: Path, rows: int) -> Path:
    """A canonical CSV of ``rows`` distinct observations, written by DuckDB (no Python loop)."""
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 'CHN' AS reporter, 'PRK' AS partner,
                         CASE WHEN i % 2 = 0 THEN 'export' ELSE 'import' END AS flow,
                         'HS' AS classification, (100000 + i // 24)::VARCHAR AS commodity,
                         printf('%d-%02d', 2000 + (i // 2) % 12, 1 + (i // 2) % 12) AS period,
                         (i % 99991) * 10.5 AS value, 'USD' AS currency
                  FROM range({rows}) t(i)) TO '{path}' (HEADER)"""
    )
    con.close()
    return path


def state(db: Path) -> tuple:
    """Everything an ingest could have changed, counted."""
    with open_store(db, read_only=True) as store:
        return store.con.execute(
            """SELECT (SELECT count(*) FROM releases), (SELECT count(*) FROM observations),
                      (SELECT count(*) FROM quarantine), (SELECT max(id) FROM releases)"""
        ).fetchone()


def spawn_ingest(db: Path, file: Path) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        from tradesentry.store import open_store
        store = open_store({str(db)!r})
        print("open", flush=True)
        print(store.ingest({str(file)!r}).release_id, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=REPO)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    return proc


@pytest.fixture(scope="module")
def big_ingest(tmp_path_factory) -> tuple[Path, float]:
    """A file of 10^6 rows and how long one ingest of it takes here (from the store's
    opening to the process's end), so that the kills below land at known points of it
    however fast the machine is."""
    work = tmp_path_factory.mktemp("big")
    big = big_csv(work / "big.csv", 1_000_000)
    proc = spawn_ingest(work / "timing.duckdb", big)
    started = time.perf_counter()  # the kills are timed from the same point: the store open
    assert proc.wait(timeout=300) == 0
    return big, time.perf_counter() - started


def kill_while_ingesting(db: Path, big: Path, delay: float) -> bool:
    """Start an ingest of ``big`` into ``db``, kill -9 it after ``delay`` seconds; False
    (and nothing killed) where it had already finished."""
    proc = spawn_ingest(db, big)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.05, 0.25, 0.5])
def test_kill_9_mid_ingest_leaves_the_store_as_it_was(tmp_path, big_ingest, share):
    """Killed at a share of the time an ingest takes here, the store holds what it held,
    or (a kill in the instant after the commit) the whole release: never a part. The
    machine's load moves the timing from run to run: an ingest that finished before its
    kill is tried again, on a fresh copy of the store, with half the delay."""
    big, seconds = big_ingest
    first = tmp_path / "before.duckdb"
    with open_store(first) as store:
        store.ingest(DEMO_CSV)
    before = state(first)
    for attempt in range(4):
        db = tmp_path / f"store{attempt}.duckdb"
        shutil.copy(first, db)
        if kill_while_ingesting(db, big, share * seconds / 2**attempt):
            break
    else:
        pytest.fail("every ingest finished before its kill")
    whole = (before[0] + 1, before[1] + 1_000_000, before[2], before[3] + 1)
    assert state(db) in (before, whole)
    if share < 0.5:  # so early that no commit can have come
        assert state(db) == before
    landed = state(db)[0]
    with open_store(db) as store:  # and takes the next ingest
        assert store.ingest(big_csv(tmp_path / "small.csv", 1_000)).rows_accepted == 1_000
    assert state(db)[0] == landed + 1


@pytest.mark.slow
def test_two_ingests_at_once_wait_or_fail_clearly_never_corrupt(tmp_path):
    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        store.ingest(DEMO_CSV)
    big = big_csv(tmp_path / "big.csv", 600_000)
    small = big_csv(tmp_path / "small.csv", 1_000)
    first = spawn_ingest(db, big)
    # A second process that will not wait is told why, in one line.
    with pytest.raises(StoreError, match=r"store is in use by another process \(PID \d+, "):
        connect(db, wait=0.2)
    # One that waits gets its turn when the first has finished.
    second = spawn_ingest(db, small)
    assert first.wait(timeout=120) == 0 and second.wait(timeout=120) == 0
    releases, observations, quarantined, _ = state(db)
    assert (releases, observations, quarantined) == (3, 47 + 600_000 + 1_000, 0)


def test_two_threads_ingesting_the_same_file_never_corrupt(store, tmp_path):
    big = big_csv(tmp_path / "big.csv", 100_000)
    outcomes: list = []

    def run() -> None:
        try:
            outcomes.append(store.ingest(big).rows_read)
        except StoreError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 100_000 in outcomes
    for other in outcomes:
        assert other == 100_000 or "another ingest wrote to the store at the same time" in other
    assert len(store.releases()) == 1
    assert store.con.execute("SELECT count(*) FROM observations").fetchone()[0] == 100_000


def counts(store) -> tuple:
    """``state`` of a store this process holds open."""
    return store.con.execute(
        """SELECT (SELECT count(*) FROM releases), (SELECT count(*) FROM observations),
                  (SELECT count(*) FROM quarantine), (SELECT max(id) FROM releases)"""
    ).fetchone()


@pytest.mark.parametrize("interruption", [RuntimeError("disk gone"), KeyboardInterrupt()],
                         ids=["error", "ctrl-c"])  # fmt: skip
def test_an_ingest_interrupted_after_landing_rows_keeps_none_of_them(
    store, tmp_path, monkeypatch, interruption
):
    """An error or a Ctrl-C once the rows are in the store's tables, before the commit,
    leaves the store as it was: no release, no observation, no quarantined line."""
    from tradesentry import ingest

    store.ingest(DEMO_CSV)
    before = counts(store)
    path = tmp_path / "release.csv"
    path.write_text(MIXED + "CHN,XXX,export,TOTAL,2021-01,5,USD,bad\n")
    real_land = ingest.land
    landed = []

    def land_then_fail(con, release_id, landing):
        landed.append(real_land(con, release_id, landing))  # the rows are written...
        raise interruption  # ...and the ingest is cut short

    monkeypatch.setattr(ingest, "land", land_then_fail)
    with pytest.raises(type(interruption)):
        store.ingest(path)
    assert (landed[0].rows_accepted, landed[0].rows_quarantined) == (4, 1)  # it got that far
    assert counts(store) == before
    monkeypatch.undo()
    again = store.ingest(path)  # the same file, retried, is a new release, whole
    assert not again.already_ingested and (again.rows_accepted, again.rows_quarantined) == (4, 1)
    assert counts(store)[:3] == (before[0] + 1, before[1] + 4, before[2] + 1)
    # and it takes the next number: the release cut short left no hole in the ids
    assert again.release_id == before[3] + 1


FULL_DISK = 'IO Error: Could not write file "store.duckdb.wal": No space left on device'


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (duckdb.IOException(FULL_DISK), "no space left on the device; nothing of release.csv was "
         "kept (free some space and try again)"),
        (duckdb.IOException("IO Error: Input/output error"), "cannot write the store (IO Error: "
         "Input/output error); nothing of release.csv was kept"),
    ],
    ids=["disk-full", "io-error"],
)  # fmt: skip
def test_a_failed_write_is_one_line_naming_the_store(
    store, tmp_path, monkeypatch, failure, message
):
    """A full disk during an ingest was DuckDB's traceback (exit 1); it is one line naming
    the store, and the store is as it was."""
    from tradesentry import ingest

    store.ingest(DEMO_CSV)
    before = counts(store)
    path = tmp_path / "release.csv"
    path.write_text(MIXED)

    def land_then_fail(con, release_id, landing):
        raise failure

    monkeypatch.setattr(ingest, "land", land_then_fail)
    with pytest.raises(StoreError) as err:
        store.ingest(path)
    assert str(err.value) == f"{store.path}: {message}"
    assert counts(store)[:3] == before[:3]


def test_a_store_that_cannot_be_prepared_for_want_of_space_says_so(tmp_path, monkeypatch):
    def full(con):
        raise duckdb.TransactionException(
            f"TransactionContext Error: Failed to commit: {FULL_DISK}"
        )

    monkeypatch.setattr(store_module, "_upgrade", full)
    with pytest.raises(StoreError) as err:
        open_store(tmp_path / "s.duckdb")
    path = tmp_path / "s.duckdb"
    assert str(err.value) == f"{path}: cannot open the store (no space left on the device)"


def test_the_same_table_compressed_again_is_the_same_release(store, tmp_path):
    """Eurostat serves .gz: a table downloaded again has another time in its gzip header,
    and each download was a new release of the same figures (and an undated one became the
    latest vintage again). The release is the inflated content: the same table, whether
    gzipped (at any level, at any time) or plain, is one release."""
    table = DEMO_CSV.read_bytes()
    copies = {
        "a.csv.gz": gzip.compress(table, mtime=1),
        "b.csv.gz": gzip.compress(table, compresslevel=1, mtime=2),
        "c.csv": table,
    }
    results = []
    for name, data in copies.items():
        (tmp_path / name).write_bytes(data)
        results.append(store.ingest(tmp_path / name))
    assert [r.already_ingested for r in results] == [False, True, True]
    assert len(store.releases()) == 1


def test_a_gzip_file_a_store_knows_by_its_bytes_is_not_ingested_again(store, tmp_path):
    """Stores made before content hashes hold a gzip file's release by the hash of its bytes."""
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(DEMO_CSV.read_bytes(), mtime=1))
    first = store.ingest(path)
    file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    store.con.execute("UPDATE releases SET sha256 = ? WHERE id = ?", [file_hash, first.release_id])
    assert store.ingest(path).already_ingested


def test_same_file_twice_is_a_no_op(store, tmp_path):
    first = store.ingest(DEMO_CSV)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(DEMO_CSV.read_bytes())
    again = store.ingest(copy)  # same content under another name: the same release
    assert again.already_ingested and not first.already_ingested
    assert (again.release_id, again.rows_read, again.rows_accepted) == (
        first.release_id, first.rows_read, first.rows_accepted)  # fmt: skip
    assert len(store.releases()) == 1
    assert store.con.execute("SELECT count(*) FROM observations").fetchone()[0] == 47


def test_a_revision_is_kept_beside_the_old_figure_and_the_current_view_is_the_latest(
    store, tmp_path
):
    header = "reporter,partner,flow,commodity,period,value,currency\n"
    old = tmp_path / "march.csv"
    old.write_text(
        header
        + "CHN,PRK,export,TOTAL,2021-02,3000,USD\nCHN,PRK,export,TOTAL,2021-03,12978000,USD\n"
    )
    new = tmp_path / "april.csv"
    new.write_text(
        header
        + "CHN,PRK,export,TOTAL,2021-02,3500,USD\nCHN,PRK,export,TOTAL,2021-04,28751000,USD\n"
    )
    store.ingest(old, published="2021-03-20")
    store.ingest(new, published="2021-04-20")
    history = store.observations(current=False)
    feb = history[history.period.astype(str).str.startswith("2021-02")]
    assert sorted(feb.value) == [3000.0, 3500.0]  # both vintages kept
    current = store.observations().set_index(store.observations().period.dt.strftime("%Y-%m")).value
    assert current.to_dict() == {"2021-02": 3500.0, "2021-03": 12978000.0, "2021-04": 28751000.0}


# -- what makes a release: the bytes, and how they are read ---------------------------------

JAPAN = "Date;Exports;Imports\n2001/01;231700220;586529635\n2001/02;250000000;600000000\n"
JAPAN_MAPPING = """
[file]
separator = ";"
[period]
column = "Date"
format = "{format}"
[values]
unit = "thousand"
currency = "JPY"
[fixed]
reporter = "JPN"
partner = "CHN"
[wide]
Exports = "export"
Imports = "import"
"""


def test_the_same_file_with_another_mapping_is_a_new_release(store, tmp_path):
    data = tmp_path / "japan.csv"
    data.write_text(JAPAN)
    wrong, right = tmp_path / "wrong.toml", tmp_path / "right.toml"
    wrong.write_text(JAPAN_MAPPING.format(format="%Y-%m"))
    right.write_text(JAPAN_MAPPING.format(format="%Y/%m"))
    first = store.ingest(data, mapping=wrong)
    assert (first.rows_accepted, first.rows_quarantined) == (0, 2)
    fixed = store.ingest(data, mapping=right)
    assert not fixed.already_ingested and (fixed.rows_accepted, fixed.observations) == (2, 4)
    # The same mapping again, renamed and with a comment, reads the file the same way.
    renamed = tmp_path / "renamed.toml"
    renamed.write_text("# Japan's customs\n" + right.read_text())
    again = store.ingest(data, mapping=renamed)
    assert again.already_ingested and again.release_id == fixed.release_id
    releases = store.releases()
    assert len(releases) == 2 and releases.sha256.nunique() == 1
    assert releases.reading.str.startswith("mapping=").all() and releases.reading.nunique() == 2


MIXED = "reporter,partner,flow,commodity,period,value,currency,note\n" + "".join(
    f"CHN,KOR,export,{c},2021-01,5,USD,ok\n" for c in range(10, 14)
)


def test_the_same_file_with_another_encoding_is_a_new_release(store, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED.encode() + "CHN,CIV,export,TOTAL,2021-01,5,USD,é\n".encode("latin-1"))
    first = store.ingest(path)
    assert (first.rows_accepted, first.rows_quarantined) == (4, 1)
    told = store.ingest(path, encoding="latin-1")  # as the quarantine reason suggests
    assert not told.already_ingested and (told.rows_accepted, told.rows_quarantined) == (5, 0)
    assert told.reading == "encoding=latin-1"
    assert store.ingest(path, encoding="latin-1").already_ingested
    # Options that change nothing (the detected encoding and reader) are the same reading.
    same = store.ingest(path, encoding="utf-8", source="csv")
    assert same.already_ingested and same.release_id == first.release_id
    assert len(store.releases()) == 2


def test_the_same_figures_published_again_are_the_latest_release(store, tmp_path):
    """A month revised and then revised back comes as the earlier file's bytes: published
    on a later date it is the latest vintage (and a revision of the one between), while
    the same file on the same date, or undated, stays a no-op."""
    first, revised = tmp_path / "first.csv", tmp_path / "revised.csv"
    first.write_text(MIXED.splitlines()[0] + "\nCHN,PRK,export,TOTAL,2021-02,3000,USD,a\n")
    revised.write_text(MIXED.splitlines()[0] + "\nCHN,PRK,export,TOTAL,2021-02,9000,USD,b\n")
    a = store.ingest(first, published="2021-04-01")
    b = store.ingest(revised, published="2021-05-01")
    again = store.ingest(first, published="2021-06-01")
    assert not again.already_ingested and again.release_id == a.release_id + 2
    assert store.observations()["value"].tolist() == [3000.0]  # back to the first figure
    changed = api.revisions(store)
    assert changed[["previous_value", "value"]].values.tolist() == [[3000, 9000], [9000, 3000]]
    assert store.ingest(first, published="2021-06-01").already_ingested
    assert store.ingest(first, published="2021-04-01").release_id == a.release_id
    assert len(store.releases()) == 3
    # read again without a date, a file the store holds is that release, not a new one
    undated = store.ingest(revised)
    assert undated.already_ingested and undated.release_id == b.release_id
    assert store.ingest(first).release_id == again.release_id  # its latest release
    assert len(store.releases()) == 3
    assert store.observations()["value"].tolist() == [3000.0]


def test_a_file_read_again_without_a_date_does_not_undo_later_releases(store, tmp_path):
    """A statistical office's read: releases of August dated 15 November, 15 December and
    15 January, then the December file ingested again without --published. As an undated
    release, dated the day of the ingest, it became the latest vintage: the ×10 error
    January corrected was current again, and the scan blamed a new release for the
    change back."""
    header = MIXED.splitlines()[0]
    files = {}
    for name, value in (("nov", 3744790), ("dec", 3744790), ("jan", 374479)):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(f"{header}\nITA,CHN,export,TOTAL,2025-08,{value},EUR,{name}\n")
    for name, day in (("nov", "2025-11-15"), ("dec", "2025-12-15"), ("jan", "2026-01-15")):
        store.ingest(files[name], published=day)
    again = store.ingest(files["dec"])
    assert again.already_ingested and again.release_id == 2
    assert len(store.releases()) == 3
    assert store.observations()["value"].tolist() == [374479.0]


# The releases table as schema 2 made it: one release per (sha256, reading), whatever its date.
V2_RELEASES = """
CREATE SEQUENCE release_ids START 1;
CREATE TABLE releases (
    id INTEGER PRIMARY KEY DEFAULT nextval('release_ids'), source VARCHAR NOT NULL,
    file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, published DATE,
    ingested_at TIMESTAMP NOT NULL, rows_read BIGINT, rows_accepted BIGINT,
    rows_quarantined BIGINT, observations BIGINT, reading VARCHAR NOT NULL DEFAULT '',
    UNIQUE (sha256, reading));
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO meta VALUES ('schema_version', '2');
INSERT INTO releases (source, file, sha256, published, ingested_at, rows_read,
                      rows_accepted, rows_quarantined, observations, reading)
VALUES ('csv', 'mixed.csv', ?, DATE '2021-04-01', now(), 5, 4, 1, 4, 'encoding=latin-1');
"""


def _old_store(tmp_path, name: str, releases_sql: str):
    """A mixed-encoding file and a store whose releases table an older schema made, holding
    that file as its release 1."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(MIXED.encode() + "CHN,CIV,export,TOTAL,2021-01,5,USD,é\n".encode("latin-1"))
    db = tmp_path / name
    con = duckdb.connect(str(db))
    con.execute(releases_sql, [hashlib.sha256(path.read_bytes()).hexdigest()])
    con.close()
    return path, db


def test_a_schema_2_store_is_migrated_and_takes_a_republication(tmp_path):
    path, db = _old_store(tmp_path, "v2.duckdb", V2_RELEASES)
    with open_store(db) as store:
        kept = store.ingest(path, encoding="latin-1", published="2021-04-01")
        assert kept.already_ingested and kept.release_id == 1
        later = store.ingest(path, encoding="latin-1", published="2021-06-01")
        assert not later.already_ingested and later.release_id == 2
        assert store.releases()["reading"].tolist() == ["encoding=latin-1"] * 2
    assert schema_version(db) == str(SCHEMA_VERSION) == "4"


# The releases table as schema 1 made it: one release per sha256.
V1_RELEASES = """
CREATE SEQUENCE release_ids START 1;
CREATE TABLE releases (
    id INTEGER PRIMARY KEY DEFAULT nextval('release_ids'), source VARCHAR NOT NULL,
    file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL UNIQUE, published DATE,
    ingested_at TIMESTAMP NOT NULL, rows_read BIGINT, rows_accepted BIGINT,
    rows_quarantined BIGINT, observations BIGINT);
INSERT INTO releases (source, file, sha256, ingested_at, rows_read, rows_accepted,
                      rows_quarantined, observations)
VALUES ('csv', 'mixed.csv', ?, now(), 5, 4, 1, 4);
"""


def test_a_schema_1_store_is_migrated_and_keeps_its_releases(tmp_path):
    path, db = _old_store(tmp_path, "old.duckdb", V1_RELEASES)
    with open_store(db) as store:
        assert store.ingest(path).already_ingested  # an old release counts as read as detected
        told = store.ingest(path, encoding="latin-1")
        assert (told.release_id, told.rows_accepted) == (2, 5)
        releases = store.releases()
        assert releases[["id", "reading"]].values.tolist() == [[1, ""], [2, "encoding=latin-1"]]
        version = store.con.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        assert version.fetchone() == (str(SCHEMA_VERSION),)


def schema_1_store(tmp_path: Path) -> Path:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(V1_RELEASES, ["0" * 64])
    con.close()
    return db


def schema_version(db: Path) -> str | None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "meta" not in tables:
            return None
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def test_a_read_only_open_upgrades_an_old_store_no_one_holds(tmp_path):
    """As when every command opened the store for writing: commands that read expect the
    current schema (a digest that scans first writes columns schema 1 lacks)."""
    db = schema_1_store(tmp_path)
    with open_store(db, read_only=True) as old:
        assert old.releases().reading.tolist() == [""]
        with pytest.raises(duckdb.Error, match="read-only"):  # and it is still read-only
            old.con.execute("DELETE FROM releases")
    assert schema_version(db) == str(SCHEMA_VERSION)


def test_an_old_store_held_by_a_reader_is_read_as_it_is(tmp_path):
    db = schema_1_store(tmp_path)
    with held_read_only(db), open_store(db, read_only=True) as old:
        assert old.releases().reading.tolist() == [""]
    assert schema_version(db) is None  # left for a writer to upgrade


# -- beside readers: the dashboard holds the store read-only for as long as it runs ----------


@pytest.fixture
def demo_db(tmp_path) -> Path:
    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        store.ingest(DEMO_CSV)
    return db


def test_readers_share_the_store_and_a_writer_is_told_who_holds_it(demo_db):
    with held_read_only(demo_db):
        with open_store(demo_db, read_only=True) as reader:
            assert len(reader.releases()) == 1
        started = time.monotonic()
        with pytest.raises(
            StoreError, match=r"open read-only in another process \(PID \d+, .*stop it"
        ):
            open_store(demo_db)
        waited = time.monotonic() - started
    assert store_module.READER_WAIT_SECONDS <= waited < store_module.LOCK_WAIT_SECONDS / 2
    with open_store(demo_db) as writer:  # the reader gone, the writer gets in
        assert len(writer.releases()) == 1


def test_a_writer_still_waits_for_readers_that_finish(demo_db):
    """A command that reads ends in moments: a writer waits for it, as for another writer."""
    code = (
        "import sys; from tradesentry.store import open_store; print('opening', flush=True); "
        "open_store(sys.argv[1]).close(); print('written')"
    )
    reader = connect(demo_db, read_only=True)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(demo_db)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "opening"
        time.sleep(1.0)  # the writer finds the reader, and waits
    finally:
        reader.close()
    assert proc.communicate(timeout=60)[0].strip() == "written" and proc.returncode == 0


def test_one_process_may_read_what_it_writes_but_not_write_what_it_reads(demo_db):
    with open_store(demo_db) as writer, open_store(demo_db, read_only=True) as reader:
        assert len(reader.releases()) == len(writer.releases()) == 1
    with (
        open_store(demo_db, read_only=True),
        pytest.raises(StoreError, match="this process has the store open read-only"),
    ):
        open_store(demo_db)


def test_read_else_write_reads_beside_a_reader_and_writes_when_it_must(demo_db, monkeypatch):
    monkeypatch.setattr(store_module, "READER_WAIT_SECONDS", 0.2)
    with held_read_only(demo_db):
        assert len(read_else_write(demo_db, lambda st: st.releases())) == 1
        with pytest.raises(StoreError, match="open read-only in another process"):
            read_else_write(demo_db, lambda st: api.scan(st).scan_id)
    assert read_else_write(demo_db, lambda st: api.scan(st).scan_id) == 1  # refused, then written


@pytest.mark.parametrize(
    ("published", "message"),
    [
        ("0001-01-01", "published 0001-01-01: before 1900, not a publication date"),
        ("1899-12-31", "published 1899-12-31: before 1900, not a publication date"),
        ("2999-01-01", "published 2999-01-01: in the future"),
        (datetime.datetime(2999, 1, 1, 12), "published 2999-01-01: in the future"),
        # ISO 8601's other forms, which fromisoformat reads, are no YYYY-MM-DD
        ("20210101", "published '20210101': expected a date as YYYY-MM-DD"),
        ("2021W017", "published '2021W017': expected a date as YYYY-MM-DD"),
        # padded: refused before the stricter check as after it (no strip was added)
        (" 2021-01-05", "published ' 2021-01-05': expected a date as YYYY-MM-DD"),
    ],
)
def test_a_publication_date_must_be_one(store, published, message):
    """0001-01-01 is what the releases' key reads "no date" as (its ingest failed as "another
    ingest wrote to the store at the same time"), and 2999-01-01 stayed the latest vintage
    for good. Nothing is stored."""
    with pytest.raises(InputError) as err:
        store.ingest(DEMO_CSV, published=published)
    assert str(err.value) == message
    assert counts(store)[:3] == (0, 0, 0)
