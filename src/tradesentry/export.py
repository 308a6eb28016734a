"""Export a store as Parquet for engines beyond one machine (Spark) and for data lakes.

One DuckDB ``COPY`` per table, streamed, partitioned by reporter (a Hive layout any engine
reads, and a natural unit of work: a reporter's series stay together). Layout::

    DIR/observations/reporter=CHN/data_0.parquet   canonical observation columns
    DIR/releases.parquet                           id, source, file, published, vintage
    DIR/rates.parquet                              currency, period, per_usd (when any)

By default the observations are the current view (the latest release of each figure),
which is all a scan of single releases needs. ``all_releases=True`` keeps every release's
rows with ``release_id`` and ``vintage`` (the release order), so that the engine reading
them can take the current view itself and compare releases (revisions).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from tradesentry.errors import InputError
from tradesentry.schema import OBSERVATION_COLUMNS

#: observation columns written (``line`` and ``provenance`` stay in the store)
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    c for c in OBSERVATION_COLUMNS if c not in ("release_id", "line", "provenance")
)


@dataclass(frozen=True)
class Exported:
    """What ``export_parquet`` wrote."""

    out: str
    observations: int
    releases: int
    rates: int
    all_releases: bool

    def to_dict(self) -> dict:
        return asdict(self)


def export_parquet(
    store, out: str | Path, *, all_releases: bool = False, partition_by: str | None = "reporter"
) -> Exported:
    """Write the store's observations (and releases, rates) as Parquet under ``out``.

    ``out`` must be a new or empty local directory; for object storage, export locally and
    copy, or point Spark's ``--input`` at any Parquet with the canonical columns.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out}: the directory is not empty; give a new one")
    out.mkdir(parents=True, exist_ok=True)
    con = store.con.cursor()
    try:
        n_obs = _copy(con, _observations_sql(all_releases), out / "observations", partition_by)
        n_rel = _copy(
            con,
            "SELECT r.id, r.source, r.file, r.published, r.ingested_at, o.vintage "
            "FROM releases r JOIN release_order o ON o.release_id = r.id",
            out / "releases.parquet",
        )
        n_rates = con.execute("SELECT count(*) FROM rates").fetchall()[0][0]
        if n_rates:
            _copy(con, "SELECT currency, period, per_usd FROM rates", out / "rates.parquet")
    finally:
        con.close()
    return Exported(str(out), n_obs, n_rel, n_rates, all_releases)


def _observations_sql(all_releases: bool) -> str:
    columns = ", ".join(f"o.{c}" for c in EXPORT_COLUMNS)
    if all_releases:
        return (
            f"SELECT o.release_id, r.vintage, {columns} FROM observations o "
            "JOIN release_order r USING (release_id)"
        )
    return f"SELECT {columns} FROM current_observations o"


def _copy(con, select: str, target: Path, partition_by: str | None = None) -> int:
    """COPY a query to Parquet (a partitioned directory when ``partition_by``); rows written."""
    literal = "'" + str(target).replace("'", "''") + "'"
    options = "FORMAT parquet, COMPRESSION zstd"
    if partition_by:
        options += f", PARTITION_BY ({partition_by})"
    result = con.execute(f"COPY ({select}) TO {literal} ({options})").fetchall()
    return int(result[0][0]) if result else 0
