"""The store: one DuckDB file holding every release, observation, quarantined line and scan.

Every release is kept. A figure that a later release changes is a revision, never an
overwrite: ``current_observations`` shows, for each observation key, the row of the latest
release that reports it (by publication date where known, else by ingestion order).
An ingest is one transaction: it lands whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pandas as pd

from tradesentry.errors import InputError, StoreError
from tradesentry.schema import OBSERVATION_COLUMNS, latest_rows_sql

if TYPE_CHECKING:
    from tradesentry.findings import Findings
    from tradesentry.ingest import Prepared

T = TypeVar("T")

DEFAULT_STORE = "tradesentry.duckdb"
# 2: a release is identified by (sha256, reading), no longer by sha256 alone.
# 3: ... and by its publication date: the same figures published again are a release.
# 4: findings keep their series' frequency (``freq``; NULL in rows saved before: monthly).
SCHEMA_VERSION = 4
LOCK_WAIT_SECONDS = 30.0
# How long a writer waits for readers to close the store: a command that reads finishes in
# moments, and the dashboard (`serve`) never lets go.
READER_WAIT_SECONDS = 5.0

# ``reading``: what changes how the file was read ('' = as detected; see ingest.Prepared).
# The same bytes read another way (another mapping, --encoding) are another release, and
# so are the same bytes published on another date: a month revised and then revised back
# comes as the earlier file's bytes, and it is the latest vintage, not a no-op. A unique
# index, not a constraint, so that an undated release (NULL) counts as one date.
_RELEASES_DDL = """
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY DEFAULT nextval('release_ids'),
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    published DATE,
    ingested_at TIMESTAMP NOT NULL,
    rows_read BIGINT,
    rows_accepted BIGINT,
    rows_quarantined BIGINT,
    observations BIGINT,
    reading VARCHAR NOT NULL DEFAULT ''
);
"""
_RELEASE_IDENTITY = (
    "CREATE UNIQUE INDEX IF NOT EXISTS release_identity "
    "ON releases (sha256, reading, coalesce(published, DATE '0001-01-01'))"
)
# A new release's or scan's id follows on from the last one committed, not from the
# sequences: DuckDB does not give back a number a rolled-back transaction took, so an
# interrupted ingest left a hole in the ids. The sequences still advance with each id
# (``0 * nextval``), so that an older tradesentry sharing the store, which takes its ids
# from them, never takes one already used.
NEXT_RELEASE_ID = "(SELECT coalesce(max(id), 0) + 1 FROM releases) + 0 * nextval('release_ids')"
NEXT_SCAN_ID = "(SELECT coalesce(max(id), 0) + 1 FROM scans) + 0 * nextval('scan_ids')"
_V1_RELEASE_COLUMNS = ("id, source, file, sha256, published, ingested_at, rows_read, "
                       "rows_accepted, rows_quarantined, observations")  # fmt: skip

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE SEQUENCE IF NOT EXISTS release_ids START 1;
{_RELEASES_DDL.format(name="releases")}
{_RELEASE_IDENTITY};
CREATE TABLE IF NOT EXISTS observations (
    {", ".join(f"{name} {typ}" for name, typ in OBSERVATION_COLUMNS.items())}
);
CREATE TABLE IF NOT EXISTS quarantine (
    release_id INTEGER NOT NULL,
    line BIGINT NOT NULL,
    raw VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS rates (
    currency VARCHAR NOT NULL,
    period DATE NOT NULL,
    per_usd DOUBLE NOT NULL,
    PRIMARY KEY (currency, period)
);
CREATE SEQUENCE IF NOT EXISTS scan_ids START 1;
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY DEFAULT nextval('scan_ids'),
    started_at TIMESTAMP NOT NULL,
    parameters VARCHAR,
    findings BIGINT
);
-- The newest release the scan saw (max release id at scan time): what "new since" compares.
ALTER TABLE scans ADD COLUMN IF NOT EXISTS release INTEGER;
CREATE TABLE IF NOT EXISTS findings (
    scan_id INTEGER NOT NULL,
    id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    reporter VARCHAR, partner VARCHAR, flow VARCHAR, commodity VARCHAR,
    classification VARCHAR, breakdown VARCHAR,
    period VARCHAR, period_end VARCHAR,
    observed DOUBLE, expected DOUBLE, currency VARCHAR,
    impact DOUBLE, score DOUBLE, severity VARCHAR,
    explanation VARCHAR, evidence VARCHAR
);
-- The series' frequency, M or A (schema 4): rows saved before have NULL, a monthly series'.
ALTER TABLE findings ADD COLUMN IF NOT EXISTS freq VARCHAR;
CREATE OR REPLACE VIEW release_order AS
    SELECT id AS release_id,
           row_number() OVER (ORDER BY coalesce(published, ingested_at::DATE), id) AS vintage
    FROM releases;
CREATE OR REPLACE VIEW current_observations AS {latest_rows_sql()};
"""


@dataclass(frozen=True)
class IngestResult:
    """What one ``ingest`` did: the release it made (or found), and its counts."""

    release_id: int
    file: str
    source: str
    sha256: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    observations: int
    already_ingested: bool = False
    reading: str = ""  # how the file was read, when not as detected (ingest.Prepared)
    notes: tuple[str, ...] = ()  # what a reader can do about the quarantine (ingest.Landed)

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_store_path(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get("TRADESENTRY_STORE") or DEFAULT_STORE)


def connect(path: str | os.PathLike, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS):
    """Open the DuckDB file, waiting while another process holds its lock.

    DuckDB lets many processes read a file at once, or one write it. A writer waits up to
    ``wait`` for another writer (an ingest ends), but only READER_WAIT_SECONDS for readers:
    the dashboard holds the store for as long as it runs, and waiting would only delay the
    message saying so.
    """
    foreign = _foreign_file(Path(path))
    if foreign:
        raise StoreError(
            f"{path}: not a tradesentry store ({foreign}); nothing was read or written"
        )
    started = time.monotonic()
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"{path}: cannot open the store ({exc})") from exc
            waited = time.monotonic() - started
            if not read_only and _held_by_readers(path):
                if waited >= min(wait, READER_WAIT_SECONDS):
                    raise StoreError(_held_by_readers_message(path, _holder(exc))) from exc
            elif waited >= wait:
                raise StoreError(
                    f"{path}: the store is in use by another process{_holder(exc)}; "
                    "try again when it has finished"
                ) from exc
            time.sleep(0.2)
        except duckdb.ConnectionException as exc:
            return _connect_in_process(path, read_only, exc)
        except duckdb.Error as exc:
            raise StoreError(f"{path}: not a tradesentry store ({exc})") from exc


#: a DuckDB file's magic bytes, after its header's 8-byte checksum
_DUCKDB_MAGIC = (8, b"DUCK")


def is_duckdb_file(path: Path) -> bool:
    """Whether ``path`` is a DuckDB database file (by its magic bytes)."""
    try:
        with path.open("rb") as f:
            return _duckdb_head(f.read(64))
    except OSError:
        return False


def _duckdb_head(head: bytes) -> bool:
    at, magic = _DUCKDB_MAGIC
    return head[at : at + len(magic)] == magic


def _other_database(con: duckdb.DuckDBPyConnection) -> str | None:
    """The tables of a DuckDB database that is not a store (some of their names), else
    None: an empty database becomes a store, one with the store's ``releases`` (with their
    hashes, as every schema version kept them) or its ``meta`` saying a schema version is
    one, and any other (tables, views, in any schema) is someone's data, which making the
    store's tables in it would have changed ("mydata" beside "findings")."""
    tables = [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND NOT temporary UNION ALL SELECT view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND NOT internal AND NOT temporary "
            "ORDER BY 1"
        ).fetchall()
    ]
    if not tables or _has_column(con, "releases", "sha256"):
        return None
    if _has_column(con, "meta", "key") and _schema_version(con) > 0:
        return None
    return ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")


def _foreign_file(path: Path) -> str | None:
    """What an existing file that is no DuckDB database holds, in words; None for a
    DuckDB file, an empty one, or none. DuckDB opens an existing .csv, .json or .parquet
    as a database in memory: an ingest into it said "release 1 … accepted" and kept
    nothing; and a SQLite file makes it fetch an extension from the internet."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        with path.open("rb") as f:
            head = f.read(64)
    except OSError:
        return None  # DuckDB's own error says why it cannot be read
    if _duckdb_head(head):
        return None
    if head.startswith(b"SQLite format 3\x00"):
        return "a SQLite database"
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip file"
    name = path.name.lower()
    for suffix, kind in ((".csv", "a CSV file"), (".json", "a JSON file"), (".tsv", "a TSV file")):
        if suffix in name:
            return kind
    return "its first bytes are not a DuckDB database's"


def _out_of_space(exc: BaseException) -> bool:
    """Whether DuckDB (or the OS) failed for want of disk space: its errors carry the OS's
    words ("No space left on device") whatever step of the write hit them."""
    return isinstance(exc, duckdb.Error | OSError) and "no space left" in str(exc).lower()


def _holder(exc: Exception) -> str:
    """ " (PID 4242, python3)": the lock's holder as DuckDB names it, which may be any
    program that opened the file, not only tradesentry; "" where it names none."""
    found = re.search(r"held in (.+?) \(PID (\d+)\)", str(exc))
    return f" (PID {found[2]}, {Path(found[1]).name})" if found else ""


def _held_by_readers(path: str | os.PathLike) -> bool:
    """Whether only readers hold the file: a read-only open succeeds beside readers alone."""
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error:
        return False
    return True


def _held_by_readers_message(path: str | os.PathLike, holder: str = "") -> str:
    return (
        f"{path}: the store is open read-only in another process{holder} (the dashboard, "
        "`tradesentry serve`, or a command reading it); stop it, or try again when it has finished"
    )


def _connect_in_process(
    path: str | os.PathLike, read_only: bool, exc: duckdb.ConnectionException
) -> duckdb.DuckDBPyConnection:
    """This process has the file open already, in the other mode (DuckDB allows one per process).

    A reader may share the process's writable database: it only reads. A writer cannot
    share a read-only one.
    """
    if "different configuration" not in str(exc):
        raise StoreError(f"{path}: cannot open the store ({exc})") from exc
    if read_only:
        try:
            return duckdb.connect(str(path))
        except duckdb.Error as again:
            raise StoreError(f"{path}: cannot open the store ({again})") from again
    raise StoreError(
        f"{path}: this process has the store open read-only; close it before writing"
    ) from exc


class ReadOnlyStore(StoreError):
    """A write asked of a store opened read-only (``read_else_write`` opens it again for
    writing on this, as on DuckDB's own refusal)."""


class Store:
    """A tradesentry store in one DuckDB file. Use ``tradesentry.open_store(path)``."""

    def __init__(self, path: str | os.PathLike | None = None, read_only: bool = False):
        self.path = resolve_store_path(path)
        # remembered: DuckDB says so only once a write is attempted, in its own words
        self.read_only = bool(read_only)
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no store here (ingest something first)")
        self.con = connect(self.path, read_only=read_only)
        other = _other_database(self.con)
        if other:
            self.con.close()
            raise StoreError(
                f"{self.path}: not a tradesentry store (a DuckDB database of other tables: "
                f"{other}); nothing was read or written"
            )
        if not read_only:
            try:
                _upgrade(self.con)
            except duckdb.Error as exc:  # a full disk shows first here, on opening
                self.con.close()
                reason = "no space left on the device" if _out_of_space(exc) else str(exc)
                raise StoreError(f"{self.path}: cannot open the store ({reason})") from exc
            except BaseException:  # Ctrl-C as it opens: the file is no one's to hold
                self.con.close()
                raise
        elif _schema_version(self.con) < SCHEMA_VERSION:
            self.con.close()  # DuckDB opens a file in one mode per process
            _upgrade_if_free(self.path)
            self.con = connect(self.path, read_only=True)

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check_writable(self, instead: str) -> None:
        """A ``ReadOnlyStore`` error where the store is open read-only, saying what to do
        ``instead``: DuckDB's own refusal ("Cannot execute statement of type INSERT on
        database … attached in read-only mode") came from deep inside a scan or an ingest."""
        if self.read_only:
            raise ReadOnlyStore(
                f"{self.path}: the store is open read-only: {instead}, or open it for "
                "writing (open_store(path))"
            )

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the same database, for one thread (the web server uses one per request)."""
        return self.con.cursor()

    # -- ingest ------------------------------------------------------------------------
    def ingest(
        self,
        path: str | os.PathLike,
        source: str = "auto",
        mapping: str | os.PathLike | None = None,
        published: date | str | None = None,
        encoding: str | None = None,
    ) -> IngestResult:
        """Read one file into a new release, in one transaction.

        Raises InputError when the file cannot be read at all; bad rows are not errors,
        they go to the quarantine with their line and reason.
        """
        from tradesentry.ingest import prepare

        self.check_writable("an ingest writes a release")
        published_date = checked_published(published)
        prepared = prepare(path, source, mapping, encoding)  # hashes; reads no rows yet
        con = self.con.cursor()
        con.execute("BEGIN TRANSACTION")
        try:
            existing = self._existing(con, prepared, published_date)
            if existing:
                con.execute("ROLLBACK")
                return existing
            result = self._land(con, prepared, published_date)
            con.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has rolled back already
                con.execute("ROLLBACK")
            if _out_of_space(exc):
                raise StoreError(
                    f"{self.path}: no space left on the device; nothing of {Path(path).name} "
                    "was kept (free some space and try again)"
                ) from exc
            if isinstance(exc, duckdb.TransactionException | duckdb.ConstraintException):
                raise StoreError(
                    f"{self.path}: another ingest wrote to the store at the same time "
                    f"({str(exc).splitlines()[0]}); nothing of {Path(path).name} was kept, try again"
                ) from exc
            if isinstance(exc, duckdb.IOException):
                raise StoreError(
                    f"{self.path}: cannot write the store ({str(exc).splitlines()[0]}); "
                    f"nothing of {Path(path).name} was kept"
                ) from exc
            raise
        finally:
            con.close()
        return result

    @staticmethod
    def _existing(
        con: duckdb.DuckDBPyConnection, prepared: Prepared, published: date | None
    ) -> IngestResult | None:
        """The release this file already is: same content (a gzip file's inflated: the same
        table compressed again is the same release), same reading, and, where the ingest
        gives a publication date, the same date. An undated ingest of content the store
        holds is that release, dated or not (the latest of them): a file read again without
        a date is no new publication, and as an undated release, dated the day of the
        ingest, it was the latest vintage and undid every later release's corrections. A
        gzip file is also known by the hash of its bytes, which stores made before content
        hashes hold."""
        src = prepared.src
        rows = con.execute(
            "SELECT id, source, rows_read, rows_accepted, rows_quarantined, observations "
            "FROM releases r JOIN release_order o ON o.release_id = r.id "
            "WHERE sha256 IN (?, ?) AND reading = ? "
            "AND (published IS NOT DISTINCT FROM ? OR ? IS NULL) ORDER BY vintage DESC",
            [src.sha256, src.file_sha256 or src.sha256, prepared.reading, published, published],
        ).fetchall()
        if not rows:
            return None
        rid, rsource, *counts = rows[0]
        return IngestResult(rid, src.name, rsource, src.sha256, *counts,
                            already_ingested=True, reading=prepared.reading)  # fmt: skip

    @staticmethod
    def _land(
        con: duckdb.DuckDBPyConnection, prepared: Prepared, published: date | None
    ) -> IngestResult:
        """Stage the file, record the release and land its rows, in the caller's transaction."""
        from tradesentry.ingest import land, landing, stage

        src = prepared.src
        stage(con, prepared)
        if con.execute("SELECT count(*) FROM staged").fetchone()[0] == 0:
            if src.is_json:  # a JSON response has records, not rows after a header
                raise src.fail("the response holds no data records")
            raise src.fail("no data rows after the header", src.header_line or None)
        release_id = con.execute(
            "INSERT INTO releases (id, source, file, sha256, reading, published, ingested_at) "
            f"VALUES ({NEXT_RELEASE_ID}, ?, ?, ?, ?, ?, ?) RETURNING id",
            [prepared.reader, src.name, src.sha256, prepared.reading, published, datetime.now()],
        ).fetchone()[0]
        landed = land(con, release_id, landing(prepared))
        counts = [landed.rows_read, landed.rows_accepted, landed.rows_quarantined,
                  landed.observations]  # fmt: skip
        con.execute(
            "UPDATE releases SET rows_read = ?, rows_accepted = ?, rows_quarantined = ?, "
            "observations = ? WHERE id = ?",
            [*counts, release_id],
        )
        return IngestResult(
            release_id,
            src.name,
            prepared.reader,
            src.sha256,
            *counts,
            reading=prepared.reading,
            notes=(*landed.notes, *_undated_after(con, release_id, published)),
        )

    # -- reading -----------------------------------------------------------------------
    def releases(self) -> pd.DataFrame:
        """Every release with its counts, oldest first, and how it was read (``reading``)."""
        # A store of schema 1 opened read-only has no reading column: all were read as detected.
        reading = "reading" if _has_column(self.con, "releases", "reading") else "''"
        return self.con.execute(
            "SELECT id, source, file, sha256, published, ingested_at, rows_read, rows_accepted, "
            f"rows_quarantined, observations, {reading} AS reading FROM releases ORDER BY id"
        ).df()

    def quarantine(self, release: int | None = None) -> pd.DataFrame:
        """Quarantined lines (release, line, raw text, reason), optionally of one release."""
        return self.con.execute(
            "SELECT release_id, line, raw, reason FROM quarantine "
            "WHERE ? IS NULL OR release_id = ? ORDER BY release_id, line",
            [release, release],
        ).df()

    def observations(
        self,
        *,
        reporter: str | None = None,
        partner: str | None = None,
        flow: str | None = None,
        commodity: str | None = None,
        release: int | None = None,
        current: bool = True,
        as_arrow: bool = False,
    ):
        """Observations matching the filters: the current view, or one release's rows."""
        table = "current_observations" if current and release is None else "observations"
        sql = f"SELECT * FROM {table} WHERE true"
        params: list = []
        for column, value in (
            ("reporter", reporter),
            ("partner", partner),
            ("flow", flow),
            ("commodity", commodity),
            ("release_id", release),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        sql += " ORDER BY reporter, partner, flow, commodity, period, period_months"
        rel = self.con.execute(sql, params)
        return rel.to_arrow_table() if as_arrow else rel.df()

    # -- analysis (the facade lives in api; these are conveniences) ---------------------
    def scan(self, **options: Any) -> Findings:
        """Run the detectors: see ``tradesentry.api.scan``."""
        from tradesentry import api, arguments

        # the month checked here under its Python name: ``api.scan`` names the command
        # line's flag, --since, as the command line calls it
        if options.get("since") is not None:
            options["since"] = arguments.month(options["since"], "since")
        return api.scan(self, **options)

    def findings(self, **options: Any) -> Findings:
        """Findings of a saved scan: see ``tradesentry.api.findings``."""
        from tradesentry import api

        return api.findings(self, **options)


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND table_name = ? AND column_name = ?",
            [table, column],
        ).fetchall()[0][0]
    )


def _upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the store to this version's schema (tables, columns, views); idempotent."""
    if _schema_version(con) < 3:
        _migrate_releases(con)
    con.execute(_DDL)  # schema 4's column of findings is one ALTER TABLE … IF NOT EXISTS
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema the store was last written with; 0 if it does not say."""
    try:
        # fetchall: a result left unfinished (fetchone) blocks the connection's next query
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:  # no meta table
        return 0
    return int(rows[0][0]) if rows and str(rows[0][0]).isdigit() else 0


def _upgrade_if_free(path: Path) -> None:
    """Upgrade an old store for a command that only reads, when no other process holds it.

    Commands that read expect this version's schema (a scan a digest runs first writes
    columns schema 1 lacked). An old store is upgraded once, as any command did when all
    opened the store for writing; held by a reader (the dashboard) or on a read-only disk,
    it is read as it is: the readers cope with schema 1.
    """
    try:
        con = connect(path, wait=0)
    except StoreError:
        return
    try:
        _upgrade(con)
    finally:
        con.close()


def _migrate_releases(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a ``releases`` table of schema 1 (sha256 UNIQUE, no ``reading``) or 2 (UNIQUE
    (sha256, reading)) to schema 3 (a unique index that also holds the publication date).

    DuckDB cannot drop a UNIQUE constraint, so the table is rebuilt, in one transaction,
    with ids kept. Schema-1 releases get reading '' (read as detected): the same file
    ingested again with no options is still a no-op; with another mapping or encoding,
    or another publication date, it is new.
    """
    if not _has_column(con, "releases", "sha256"):
        return  # a new store: the DDL makes the table
    columns = _V1_RELEASE_COLUMNS
    if _has_column(con, "releases", "reading"):
        columns += ", reading"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_RELEASES_DDL.format(name="releases_v3"))
        con.execute(f"INSERT INTO releases_v3 ({columns}) SELECT {columns} FROM releases")
        con.execute("DROP TABLE releases")
        con.execute("ALTER TABLE releases_v3 RENAME TO releases")
        con.execute(_RELEASE_IDENTITY)
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


#: the earliest publication date taken: before it a date is a typo or a placeholder (and
#: 0001-01-01 is what the releases' unique key reads "no date" as)
EARLIEST_PUBLISHED = date(1900, 1, 1)


def checked_published(value: date | str | None) -> date | None:
    """A publication date, checked: a date in the future would stay the latest vintage
    for good, and one before 1900 is no publication of trade statistics."""
    if value is None:
        return None
    if isinstance(value, datetime):  # a datetime is a date too, but compares only with one
        value = value.date()
    if not isinstance(value, date | str):  # 20200301 is no date: a number is not guessed at
        raise InputError(f"published {value!r}: expected a date as 'YYYY-MM-DD'")
    if not isinstance(value, date):
        try:  # fromisoformat alone also reads 20210101 and weeks (2021W017)
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise ValueError(value)
            value = date.fromisoformat(value)
        except ValueError as exc:
            raise InputError(f"published {value!r}: expected a date as YYYY-MM-DD") from exc
    if value < EARLIEST_PUBLISHED:
        raise InputError(f"published {value.isoformat()}: before 1900, not a publication date")
    if value > date.today() + timedelta(days=1):  # a day's grace for time zones
        raise InputError(f"published {value.isoformat()}: in the future")
    return value


def remove_if_empty(path: str | os.PathLike) -> None:
    """Remove the store at ``path`` (and its write-ahead log) where it holds no release: a
    command that made it and then failed, or was interrupted, leaves none behind. Another
    command may have made it meanwhile and put a release in it, or hold it now: such a
    store is left alone."""
    path = Path(path)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return  # held by another process (or no database): not this command's to remove
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        held = "releases" in tables and con.execute("SELECT count(*) FROM releases").fetchone()[0]
    finally:
        con.close()
    if not held:
        for made in (path, path.with_name(path.name + ".wal")):
            made.unlink(missing_ok=True)


def open_store(path: str | os.PathLike | None = None, read_only: bool = False) -> Store:
    """Open (or create) the store at ``path``, ``$TRADESENTRY_STORE`` or ./tradesentry.duckdb."""
    return Store(path, read_only=read_only)


def read_else_write(path: str | os.PathLike | None, work: Callable[[Store], T]) -> T:
    """``work(store)`` on the store opened read-only; again opened for writing if it must write.

    Whether some work writes depends on the store (a digest scans first when no scan has
    seen the newest release). Trying read-only first lets it run beside the dashboard
    whenever it only reads; the read-only try leaves nothing behind when it is refused.
    An old store left as it is (another process holds it) may fail otherwise than by a
    refusal, on a column it lacks: opened for writing, it is upgraded first.
    """
    with open_store(path, read_only=True) as store:
        try:
            return work(store)
        except ReadOnlyStore:
            pass  # refused before writing: written below
        except duckdb.Error as exc:
            refused = isinstance(exc, duckdb.InvalidInputException) and "read-only" in str(exc)
            if not refused and _schema_version(store.con) >= SCHEMA_VERSION:
                raise
    with open_store(path) as store:
        return work(store)


def ordered_after(con: duckdb.DuckDBPyConnection, release_id: int) -> list[dict]:
    """The releases the store held before ``release_id`` landed that it orders after it
    (``release_order``: publication date, a release without one by the day it was
    ingested, a tie by id) and that give figures of cells it gives too: where both give
    one, theirs is the current figure. A release of other series neither overrides it nor
    is revised by it. Each as {"id", "published" (None: no date), "ingested"}."""
    from tradesentry.schema import OBSERVATION_KEY

    rows = con.execute(
        f"""SELECT r.id, r.published, r.ingested_at::DATE FROM releases r
            JOIN release_order o ON o.release_id = r.id
            WHERE r.id < $release
              AND o.vintage > (SELECT vintage FROM release_order WHERE release_id = $release)
              AND EXISTS (SELECT 1 FROM observations a JOIN observations b
                          USING ({", ".join(OBSERVATION_KEY)})
                          WHERE a.release_id = $release AND b.release_id = r.id)
            ORDER BY o.vintage""",
        {"release": release_id},
    ).fetchall()
    return [
        {"id": int(r), "published": None if p is None else str(p), "ingested": str(day)}
        for r, p, day in rows
    ]


def _undated_after(
    con: duckdb.DuckDBPyConnection, release_id: int, published: date | None
) -> tuple[str, ...]:
    """A note where an earlier release without a publication date, ordered by the day it
    was ingested, comes after this dated one and gives figures of the same cells: its
    figures stay the current ones. (A QA read: the first release ingested without a date
    and the second dated three months later, the first's figures stayed current and its
    ×10 corrections read as reverted, with no word at either ingest.)"""
    if published is None:
        return ()
    rows = [r for r in ordered_after(con, release_id) if r["published"] is None]
    if not rows:
        return ()
    them = ", ".join(f"release {r['id']} (ingested {r['ingested']})" for r in rows)
    one = len(rows) == 1
    return (
        f"{them} {'has' if one else 'have'} no publication date and {'is' if one else 'are'} "
        f"ordered by the day {'it was' if one else 'they were'} ingested, after this release "
        f"(published {published.isoformat()}): where both give a figure, "
        f"{'its' if one else 'theirs'} stays the current one. A store orders releases by "
        "publication date where each has one: ingest every release with --published.",
    )
