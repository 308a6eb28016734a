"""The store's connection is left ready for the caller's own queries, and stores of earlier
schemas open as they did."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.cli.readers import held_read_only
from tests.conftest import DEMO_CSV
from tradesentry import api
from tradesentry.errors import StoreError
from tradesentry.store import SCHEMA_VERSION, open_store, read_else_write


def test_a_store_opened_read_only_leaves_its_connection_free(demo_store):
    """Opening read-only asks the schema's version and which columns there are; an answer
    left half-read (DuckDB's fetchone) would refuse the caller's next query on ``con``."""
    path = demo_store.path
    demo_store.close()
    with open_store(path, read_only=True) as st:
        assert st.con.sql("SELECT count(*) FROM observations").fetchall()[0][0] > 0
        assert len(st.releases()) == 1
        assert st.con.sql("SELECT 1").fetchall() == [(1,)]


@pytest.mark.parametrize(
    ("write", "instead"),
    [
        (lambda st, _: st.scan(), "scan(save=False) reads it without saving"),
        (lambda st, _: st.ingest(DEMO_CSV), "an ingest writes a release"),
        (lambda st, rates: api.load_rates(st, rates), "loading rates writes them into it"),
    ],
    ids=["scan", "ingest", "rates"],
)
def test_a_store_opened_read_only_refuses_a_write_in_words(demo_store, tmp_path, write, instead):
    """DuckDB's own "Cannot execute statement of type INSERT on database … attached in
    read-only mode" came from deep inside; an ingest of a file the store holds already
    passed, and one of a new file did not; loading rates raised DuckDB's error itself."""
    path = demo_store.path
    demo_store.close()
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,period,per_usd\nEUR,2021-03,0.84\n", encoding="utf-8")
    with open_store(path, read_only=True) as st:
        with pytest.raises(StoreError) as err:
            write(st, rates)
        assert str(err.value) == (
            f"{path}: the store is open read-only: {instead}, or open it for writing "
            "(open_store(path))"
        )
        assert len(st.scan(save=False)) > 0  # reading is no write
    assert read_else_write(path, lambda st: st.scan().scan_id) == 1  # refused, then written


def schema_3_store(folder: Path) -> Path:
    """A store as schema 3 left it, with a saved scan: findings without ``freq``."""
    db = folder / "v3.duckdb"
    with open_store(db) as st:
        st.ingest(DEMO_CSV)
        api.scan(st)
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE findings DROP COLUMN freq")
    con.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    return db


def _version_and_freq_column(db: Path) -> tuple[str, bool]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        columns = con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'findings'"
        ).fetchall()
    finally:
        con.close()
    return version[0][0], ("freq",) in columns


def _saved_freqs(st) -> set[str]:
    found = api.findings(st)
    assert len(found) > 0
    return {r["freq"] for r in found} | set(found.to_frame()["freq"])


@pytest.mark.parametrize("mode", ["held by a reader", "read-only", "read-write"])
def test_a_schema_3_store_opens_and_reads_its_findings_as_monthly(tmp_path, mode):
    """Schema 4 keeps each finding's freq. A schema-3 store opened read-only beside a reader
    (the dashboard) is read as it is, its findings monthly; opened read-only by itself or
    for writing, it gains the column (NULL in its rows, read as "M") and its version."""
    db = schema_3_store(tmp_path)
    if mode == "held by a reader":
        with held_read_only(db), open_store(db, read_only=True) as st:
            assert _saved_freqs(st) == {"M"}
        assert _version_and_freq_column(db) == ("3", False)
        return
    with open_store(db, read_only=mode == "read-only") as st:
        assert _saved_freqs(st) == {"M"}
    assert _version_and_freq_column(db) == (str(SCHEMA_VERSION), True) == ("4", True)
    with open_store(db) as st:  # a new scan keeps its findings' freq
        scan_id = api.scan(st).scan_id
        rows = st.con.execute("SELECT DISTINCT freq FROM findings WHERE scan_id = ?", [scan_id])
        assert rows.fetchall() == [("M",)]


def _sqlite(path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()


def _other_duckdb(path: Path, name: str = "mydata", view: bool = False) -> None:
    con = duckdb.connect(str(path))
    what = "VIEW" if view else "TABLE"
    con.execute(f"CREATE {what} {name} AS SELECT 'k' AS k, 'v' AS v")
    con.close()


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        ("release_2021.csv", lambda p: p.write_bytes(DEMO_CSV.read_bytes()), "a CSV file"),
        # someone's own DuckDB file: the store's tables were made in it beside theirs
        ("mine.duckdb", _other_duckdb, "a DuckDB database of other tables: mydata"),
        (
            "meta.duckdb",
            lambda p: _other_duckdb(p, "meta"),
            "a DuckDB database of other tables: meta",
        ),
        (
            "views.duckdb",
            lambda p: _other_duckdb(p, "v", view=True),
            "a DuckDB database of other tables: v",
        ),
        ("rows.json", lambda p: p.write_text('{"data": []}'), "a JSON file"),
        ("lite.db", _sqlite, "a SQLite database"),
        (
            "rows.csv.gz",
            lambda p: p.write_bytes(__import__("gzip").compress(b"a,b\n")),
            "a gzip file",
        ),
        ("rows.parquet", lambda p: p.write_bytes(b"PAR1" + bytes(60) + b"PAR1"), "a Parquet file"),
        (
            "noise.duckdb",
            lambda p: p.write_bytes(bytes(range(200))),
            "its first bytes are not a DuckDB",
        ),
    ],
)
@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_that_is_no_store_is_refused_and_left_as_it_is(
    tmp_path, name, make, said, read_only
):
    """DuckDB opens an existing .csv or .json as a database in memory: an ingest into
    `--store release_2021.csv` said "release 1 … accepted" and kept nothing; a SQLite
    file made DuckDB fetch an extension from the internet."""
    from tradesentry.errors import StoreError

    path = tmp_path / name
    make(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=f"not a tradesentry store \\({said}"):
        open_store(path, read_only=read_only)
    assert path.read_bytes() == before


def test_a_new_path_with_any_name_becomes_a_store(tmp_path):
    with open_store(tmp_path / "new.csv") as store:
        assert store.ingest(DEMO_CSV).rows_accepted
    with open_store(tmp_path / "new.csv", read_only=True) as store:
        (accepted,) = store.con.execute("SELECT rows_accepted FROM releases").fetchall()
        assert accepted == (47,)


def test_only_a_store_without_a_release_is_removed_after_a_failed_command(tmp_path):
    """A failed or interrupted ingest removes the store it made; another ingest may have
    made the same store meanwhile and landed a release in it, which stays."""
    from tradesentry.store import remove_if_empty

    empty, held = tmp_path / "empty.duckdb", tmp_path / "held.duckdb"
    open_store(empty).close()
    with open_store(held) as store:
        store.ingest(DEMO_CSV)
    remove_if_empty(empty)
    remove_if_empty(held)
    assert not empty.exists() and held.exists()
    with open_store(held) as store:  # held by another process: left alone
        remove_if_empty(held)
    assert held.exists()


def test_the_id_sequences_keep_up_with_the_ids(demo_store):
    """Ids follow the last one committed; the sequences an older tradesentry takes its ids
    from advance with them, so that it never takes one already used."""
    api.scan(demo_store)
    con = demo_store.con
    for table, sequence in (("releases", "release_ids"), ("scans", "scan_ids")):
        (used,) = con.execute(f"SELECT max(id) FROM {table}").fetchone()
        (following,) = con.execute(f"SELECT nextval('{sequence}')").fetchone()
        assert following > used
