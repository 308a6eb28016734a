"""The local engine: DuckDB gathers whole series, NumPy scans them chunk by chunk.

The scan needs whole series together, not a total order, and there are two ways to them
(``gathered_series``), each the faster where it is used. Where the detectors asked for
need no context columns (``--kind gap``; ``incoherent`` where no world series is
scanned), DuckDB's hash aggregation with ``list()`` gathers every series' months in one
GROUP BY pass, close to the cost of the floor, where a sort on seven text columns would
cost twice as much. Where they need context (the partner's record, the previous release,
rates: every default scan), the context's fifteen more columns would make a list each for
every series, which costs more than sorting the rows: the rows are read in series order
and the lists are made in Arrow (``series_rows``). Either way each row of the result is
one whole series, and chunks are cut between series, never inside one.

Series are ordered by ``GROUP_KEY`` (reporter, flow, …) and a chunk holds whole groups
where it can, so the cross-series checks (details against totals, the world against the
partners) find a group's series together: a chunk is at most ``chunk_series`` series, made
of whole groups unless one group alone is larger. Such a group is cut between partners:
within a group a partner's series come together, its ``TOTAL`` and its chapters first (the
HS editions are one group, ``schema.hs_family_sql``), and a partner larger than a chunk is
cut after them, so the check of the chapters against the total holds in a store of any
size (the world's partners are summed over the whole store by the context,
``context.partners_sql``). Sorting the gathered series costs little: it sorts one row per
series, not one per observation.

In a store of more than ``GATHER_ROWS`` observations the selection is gathered reporter
range by reporter range (``key_ranges``), one query per range, so that DuckDB never holds
more than that many rows at once, whatever the size of the store; ranges follow the
series order, so the chunks and findings are the same as from one pass.

The current view is folded into the same pass: without context columns the engine reads
``observations`` with each row's release vintage and keeps, per cell, the latest release
(exactly the ``current_observations`` rule) in NumPy, instead of paying for the view's
window over every row. Detectors that need context (mirror, previous release…) read
``context.source_sql`` over the current view instead.

``series_frame`` turns a batch of series back into the long frame ``scan_frame`` takes;
the Spark engine feeds it the same Arrow batches, so both engines build identical panels.
"""

from __future__ import annotations

import os
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from functools import partial
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tradesentry import context
from tradesentry.detectors import Detector
from tradesentry.detectors.baseline import threads
from tradesentry.engines import scan_frame
from tradesentry.errors import InputError
from tradesentry.findings import empty_findings
from tradesentry.schema import SERIES_KEY, WORLD, hs_family, hs_family_sql

#: series per chunk: four blocks of the baseline's 2048 (two per thread on two cores); a
#: chunk with the cross checks' context holds some 200 MB of arrays at 50 months
DEFAULT_CHUNK_SERIES = 8192
#: DuckDB's memory during a scan ("1GB", "4GB"…; empty: DuckDB's own default)
DUCKDB_MEMORY_LIMIT = os.environ.get("TRADESENTRY_DUCKDB_MEMORY", "1GB")
#: series compared with each other (totals and details) share these, the classification by
#: its family (the HS editions are one); chunks keep them whole where they can
GROUP_KEY: tuple[str, ...] = ("reporter", "flow", "classification", "freq")
#: the order of the series, in SQL (DuckDB's and Spark's): by group, the classification by
#: its family; then a partner's series together, its ``TOTAL`` and two-digit chapters first
#: (a large group is cut between partners, a partner larger than a chunk after them); then
#: the rest of the key
SERIES_ORDER_SQL: tuple[str, ...] = (
    *("reporter", "flow", hs_family_sql(), "freq", "partner"),
    "CASE WHEN commodity = 'TOTAL' THEN 0 WHEN length(commodity) = 2 THEN 1 ELSE 2 END",
    *("classification", "commodity", "breakdown"),
)
#: ``GROUP_KEY`` in SQL, as the Spark engine partitions by it
GROUP_KEY_SQL: tuple[str, ...] = SERIES_ORDER_SQL[:4]
#: the per-row columns gathered into lists, besides any context columns
ROW_COLUMNS: tuple[str, ...] = ("period", "period_months", "value", "net_weight_kg")
VINTAGE = "vintage"
T = TypeVar("T")


def series_filter_sql(filters: dict) -> tuple[str, list]:
    """WHERE clause (with ? parameters) selecting series by key values; since filters nothing.

    A filter never cuts a series' history: ``since`` is applied to findings, not rows.
    """
    clauses, params = ["true"], []
    for column in ("reporter", "partner", "flow", "commodity", "classification"):
        wanted = filters.get(column)
        if wanted:
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    return " AND ".join(clauses), params


def _per_row(row_columns: Sequence[str], vintage: bool) -> tuple[str, ...]:
    """The columns gathered per row: the row columns, and each row's vintage if asked."""
    return (*row_columns, *([VINTAGE] if vintage else []))


def series_lists_sql(source: str, row_columns: Sequence[str], vintage: bool) -> str:
    """One row per series of ``source``: its key, its currency and a list per row column.

    The currency is that of the series' first cell (earliest period, latest release), the
    one the panel reports; per-row currencies would cost a text list for a constant.
    """
    order = "(period, period_months" + (f", -{VINTAGE})" if vintage else ")")
    lists = [f"list({c}) AS {c}" for c in _per_row(row_columns, vintage)]
    return (
        f"SELECT {', '.join(SERIES_KEY)}, arg_min(currency, {order}) AS currency, "
        f"{', '.join(lists)} FROM ({source}) AS scanned GROUP BY {', '.join(SERIES_KEY)} "
        f"ORDER BY {', '.join(SERIES_ORDER_SQL)}"
    )


def sorted_rows_sql(source: str, row_columns: Sequence[str], vintage: bool) -> str:
    """The rows of ``source`` in series order (``SERIES_ORDER_SQL``), each series' cells by
    period and, within a cell, the latest release first: ``series_rows`` turns them into
    what ``series_lists_sql`` gives, the first row of a series carrying its currency."""
    columns = [*SERIES_KEY, "currency", *_per_row(row_columns, vintage)]
    order = [
        *SERIES_ORDER_SQL,
        "period",
        "period_months",
        *([f"{VINTAGE} DESC"] if vintage else []),
    ]
    return f"SELECT {', '.join(columns)} FROM ({source}) AS scanned ORDER BY {', '.join(order)}"


def gathered_series(
    con,
    source: str,
    params: list,
    row_columns: Sequence[str],
    vintage: bool,
    context: bool,
    opened: list | None = None,
) -> Iterator[pa.RecordBatch]:
    """Batches of whole series, one row each, in series order, as ``series_lists_sql`` has them.

    Two ways to the same batches, each the faster where it is used (measured on 4×10^6
    rows): with the four row columns alone, DuckDB's hash aggregation of lists needs no
    sort and takes half the time of sorting the rows; with the context's fifteen more
    columns, filling a list per column for every series takes twice the time of sorting the
    rows, and the lists are then made in Arrow from the sorted rows (``series_rows``).

    The query's reader is appended to ``opened``: until it is closed (or read to its end)
    the cursor holds an open result and refuses any other statement, the scan's clean-up
    and the restore of its settings among them.
    """
    if not context:
        sql = series_lists_sql(source, row_columns, vintage)
        reader = _reader_within_memory(con, sql, params, _READ_BATCH)
    else:
        sql = sorted_rows_sql(source, row_columns, vintage)
        reader = _reader_within_memory(con, sql, params, _READ_ROWS)
    if opened is not None:
        opened.append(reader)
    return series_rows(reader, _per_row(row_columns, vintage)) if context else reader


def series_rows(
    batches: Iterable[pa.RecordBatch], lists: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    """One row per series (its key, its first row's currency, a list per column of
    ``lists``) from a stream of rows in series order; a series that a batch boundary cuts
    is carried over to the next batch."""
    held: pa.Table | None = None
    for batch in batches:
        if not batch.num_rows:
            continue
        table = pa.Table.from_batches([batch])
        if held is not None:
            table = pa.concat_tables([held, table])
        starts = _series_starts(table)
        last = int(starts[-1])  # the last series may go on in the next batch
        if last:
            yield _as_lists(table.slice(0, last), starts[:-1], lists)
        held = table.slice(last)
    if held is not None and held.num_rows:
        yield _as_lists(held, _series_starts(held), lists)


def _series_starts(table: pa.Table) -> np.ndarray:
    """Row positions where a series begins (0 first)."""
    n = table.num_rows
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    for name in SERIES_KEY:  # key columns are NOT NULL in the store
        column = table.column(name)
        changed = pc.not_equal(column.slice(1), column.slice(0, n - 1))
        starts[1:] |= changed.to_numpy(zero_copy_only=False)
    return np.flatnonzero(starts)


def _as_lists(rows: pa.Table, starts: np.ndarray, lists: Sequence[str]) -> pa.RecordBatch:
    """The series of ``rows`` (which begin at ``starts``) as one row each, cells as lists."""
    offsets = pa.array(np.append(starts, rows.num_rows).astype(np.int32))
    firsts = pa.array(starts)
    columns = {
        name: rows.column(name).take(firsts).combine_chunks() for name in (*SERIES_KEY, "currency")
    }
    for name in lists:
        columns[name] = pa.ListArray.from_arrays(offsets, rows.column(name).combine_chunks())
    return pa.RecordBatch.from_pydict(columns)


def _prepare(con, needs: Sequence[str]) -> tuple[int, dict[str, str]]:
    """Once per scan: the number of releases, and the context's tables where needed."""
    releases = con.execute("SELECT count(*) FROM releases").fetchall()[0][0]
    if not needs:
        return releases, {}
    _current_once(con, releases)
    return releases, _context_tables(con, needs, releases)


def _source(where: str, needs: Sequence[str], releases: int, tables: dict) -> tuple[str, bool]:
    """The rows to gather (SQL over ``where``), and whether they still need the vintage rule."""
    if needs:
        return context.source_sql(where, needs, tables), False
    if releases <= 1:  # one release: the current view is the table itself
        return f"SELECT * FROM observations WHERE {where}", False
    source = (
        "SELECT o.*, r.vintage FROM observations o "
        f"JOIN release_order r USING (release_id) WHERE {where}"
    )
    return source, True


#: rows one gathering query takes at most; a larger selection is gathered in reporter ranges
GATHER_ROWS = 4_000_000


def key_ranges(
    con, column: str, where: str, params: list, max_rows: int
) -> list[tuple[str, str] | None]:
    """Consecutive ranges of ``column`` of at most ``max_rows`` observations each ([None]: all).

    Gathering holds a hash table of lists per series until the last row is read, and the
    context's aggregates hold every group's values (medians are not spilled); with the
    context columns DuckDB cannot hold it all within its budget. Working range by range
    bounds what it holds by ``max_rows`` whatever the size of the store. A key larger than
    ``max_rows`` is a range of its own. The count reads one column, a fraction of the cost
    of the work it splits. ``column`` is one of the store's key columns, never user text.
    """
    total = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
    if total <= max_rows:
        return [None]
    counts = con.execute(
        f"SELECT {column}, count(*) FROM observations WHERE {where} GROUP BY ALL ORDER BY 1",
        params,
    ).fetchall()
    ranges: list[tuple[str, str] | None] = []
    first, last, held = None, None, 0
    for key, rows in counts:
        if first is not None and held + rows > max_rows:
            ranges.append((first, last))
            first, held = None, 0
        first = key if first is None else first
        last, held = key, held + rows
    if first is not None:
        ranges.append((first, last))
    return ranges


def _current_once(con, releases: int) -> None:
    """Shadow the current view, for this cursor only, by something cheaper to read.

    The context SQL reads ``current_observations`` up to five times (the rows, the mirror
    side, the mirror pairs twice, the reference prices), and each read would run the
    view's window over every observation. With one release the view is the table itself;
    with several it is computed once into a temporary table. Temporary objects belong to
    the cursor, so the store's other users still see the view.
    """
    if releases <= 1:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW current_observations AS SELECT * FROM main.observations"
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE current_observations AS "
            "SELECT * FROM main.current_observations"
        )


#: the temporary tables ``_context_tables`` makes, by aggregate name
_CONTEXT_TABLE = "context_{}"


def _context_tables(con, needs: Sequence[str], releases: int) -> dict[str, str]:
    """Compute the context's whole-store aggregates first, each into a temporary table.

    Inline in the one context query, the aggregates (the previous release of every cell,
    the median unit value of every commodity-month, the margins over every mirror pair) are
    built inside the same plan as the rows, the mirror join and the gathering, and DuckDB
    has to hold all their hash tables at once: more than its budget at 10^7 rows. Built one
    at a time, and on a large store range of commodities by range (every group and join of
    them lies within one commodity), each runs within the budget, and the query that gathers
    the series joins tables of a few columns. With one release no cell has a previous
    figure, so that table is left empty rather than paying for a window over every
    observation.
    """
    ranges = key_ranges(con, "commodity", "true", [], GATHER_ROWS)
    # the mirrored series come first (dicts keep their order): the margins pair only theirs
    mirrored = _CONTEXT_TABLE.format("mirrored") if "mirror" in needs else None
    whole = context.aggregates_sql(needs, mirrored=mirrored)
    ranged = context.aggregates_sql(
        needs,
        _IN_RANGE.format("current_observations"),
        _IN_RANGE.format("observations"),
        mirrored=mirrored,
    )
    tables = {}
    for name in whole:
        table = tables[name] = _CONTEXT_TABLE.format(name)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {_empty(whole[name])}")
        if name == "previous" and releases <= 1:
            continue
        for bounds in ranges:
            if bounds is None:  # a store within one range: the whole-store SELECT
                sql, params = whole[name], {}
            else:
                sql, params = ranged[name], {"lo": bounds[0], "hi": bounds[1]}
            _within_memory(con, partial(con.execute, f"INSERT INTO {table} {sql}", params))
    return tables


def _empty(sql: str) -> str:
    """The columns of ``sql`` and no rows (the planner skips the work)."""
    return f"SELECT * FROM ({sql}) AS columns_only WHERE false"


# the store seen through one range of commodities (named parameters: used more than once)
_IN_RANGE = "(SELECT * FROM {} WHERE commodity BETWEEN $lo AND $hi)"


def _drop_shadow(con) -> None:
    """Drop what the scan made on its cursor: the current view's shadow, the context tables."""
    for kind in ("VIEW", "TABLE"):  # DROP of the other kind fails: nothing to drop then
        with suppress(duckdb.Error):
            con.execute(f"DROP {kind} IF EXISTS temp.current_observations")
    for name in context.aggregates_sql(context.NEEDS):
        with suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS temp.{_CONTEXT_TABLE.format(name)}")


def iter_chunks(
    con,
    filters: dict,
    chunk_series: int = DEFAULT_CHUNK_SERIES,
    needs: Iterable[str] = (),
    clean_up: bool = True,
) -> Iterator[pd.DataFrame]:
    """Long frames of whole series, ``chunk_series`` series each (the last may hold fewer).

    ``needs`` adds the context columns (mirror, previous release…) that detectors ask for.
    What the scan makes on ``con`` (the current view's shadow, the context's tables) is
    dropped at the end unless ``clean_up`` is False, where the caller does
    (``_drop_shadow``): a reader on another thread must not run SQL that the scan's
    thread may be interrupting.
    """
    where, params = series_filter_sql(filters)
    needs = _needed(con, needs, where, params)
    row_columns = (*ROW_COLUMNS, *context.columns_for(needs))
    opened: list = []  # the gathering queries' readers, closed before the clean-up
    try:
        releases, tables = _prepare(con, needs)
        # ranges of reporters follow SERIES_ORDER_SQL: series come in order, groups stay whole
        for bounds in key_ranges(con, "reporter", where, params, GATHER_ROWS):
            part, part_params = where, params
            if bounds is not None:
                part, part_params = f"{where} AND reporter BETWEEN ? AND ?", [*params, *bounds]
            source, vintage = _source(part, needs, releases, tables)
            batches = gathered_series(
                con, source, part_params, row_columns, vintage, bool(needs), opened
            )
            for table in whole_group_chunks(batches, chunk_series):
                yield series_frame(table, row_columns)
    finally:
        # a scan stopped early (an error, Ctrl-C, a caller that reads no further) leaves a
        # reader open: closed, the cursor takes the clean-up (and then the budget's restore)
        for reader in opened:
            with suppress(Exception):
                reader.close()
        if clean_up:
            _drop_shadow(con)


def _needed(con, needs: Iterable[str], where: str, params: list) -> list[str]:
    """The context the scan needs, sorted: the partners' sums only where a selected series
    is a world series. Most stores have none, and any context costs the scan the gathering
    of sorted rows and, with several releases, a copy of the current view (three times the
    time of an incoherent-only scan); without it the detector sums the panel's partners,
    of which no world row is then to be found."""
    needs = set(needs)
    if "partners" in needs:
        world = f"SELECT 1 FROM observations WHERE {where} AND partner = ? LIMIT 1"
        if not con.execute(world, [*params, WORLD]).fetchall():
            needs.discard("partners")
    return sorted(needs)


#: series per batch read from a gathering query of lists, rows per batch of sorted rows
_READ_BATCH = 10_000
_READ_ROWS = 100_000


def _reader_within_memory(con, sql: str, params: list, batch: int):
    """Run the gathering query as a stream of Arrow batches, within DuckDB's budget."""
    return _within_memory(con, lambda: con.sql(sql, params=params).to_arrow_reader(batch))


def _within_memory(con, run: Callable[[], T]) -> T:
    """``run()``; if DuckDB cannot do it in its budget, first give up threads, then memory.

    Gathering series alone spills and fits any budget. With the context columns (15 more
    lists per series) the gathering's hash tables, one per thread, do not spill enough:
    with one thread the same query fits the budget at 10^7 rows, at the cost of a slower
    gathering (the detectors take far longer anyway). Past that, doubling the budget (up
    to the machine's own default) trades the memory bound for a finished scan. Both steps
    say so on stderr; ``memory_budget`` restores both settings after the scan.
    """
    while True:
        try:
            return run()
        except duckdb.OutOfMemoryException:
            limit, threads = con.execute(
                "SELECT current_setting('memory_limit'), current_setting('threads')"
            ).fetchall()[0]
            if int(threads) > 1:
                print(f"tradesentry: DuckDB needs more than {limit}; one thread", file=sys.stderr)
                con.execute("SET threads = 1")
                continue
            larger = _doubled(limit)
            if larger is None:
                raise
            print(f"tradesentry: DuckDB needs more than {limit}; trying {larger}", file=sys.stderr)
            con.execute(f"SET memory_limit = '{larger}'")


def _doubled(limit: str) -> str | None:
    """Twice DuckDB's ``limit`` ("953.6 MiB"), or None past 80 % of the machine's memory."""
    units = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024**2}
    number, unit = limit.split()
    current = float(number) * units.get(unit, 1)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    return None if current * 2 > 0.8 * total else f"{int(current * 2)}MiB"


def whole_group_chunks(batches: Iterable[pa.RecordBatch], chunk_series: int) -> Iterator[pa.Table]:
    """Cut a stream of series rows (in ``SERIES_ORDER_SQL``) into chunks of whole groups.

    A chunk ends at the last group boundary within ``chunk_series`` series; a group larger
    than that is cut at the last boundary between partners, a partner larger than that into
    pieces of ``chunk_series``, the first of them holding at least its total and all its
    chapters (a chunk of fewer series than a partner's chapters had cut them apart, and
    each chapter left out read as a shortfall of the total). Both engines cut with this
    function.
    """
    chunk_series = max(1, chunk_series)
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        pending.append(batch)
        held += batch.num_rows
        while held > chunk_series:
            table = pa.Table.from_batches(pending)
            cut = _cut_point(table, chunk_series, final=False)
            if cut is None:  # a total and its chapters go on past what is held: read on
                break
            yield table.slice(0, cut)
            pending, held = table.slice(cut).to_batches(), held - cut
    while held:
        table = pa.Table.from_batches(pending)
        cut = _cut_point(table, chunk_series, final=True) if held > chunk_series else held
        yield table.slice(0, cut)
        pending, held = table.slice(cut).to_batches(), held - cut


def _cut_point(table: pa.Table, chunk_series: int, final: bool) -> int | None:
    """The last group boundary at or before ``chunk_series``; inside a larger group, the
    last boundary between partners; inside a larger partner, ``chunk_series`` or, where
    the partner's total and chapters (which come first) run past it, their end, so that a
    total always meets its chapters. None where that end is not yet held (not ``final``)."""
    window = table.slice(0, chunk_series + 1)
    starts = np.zeros(window.num_rows, dtype=bool)
    for name in GROUP_KEY:
        values = window.column(name).to_numpy(zero_copy_only=False)
        if name == "classification":  # by family: the HS editions are one group
            values = hs_family(values)
        starts[1:] |= values[1:] != values[:-1]
    boundaries = np.flatnonzero(starts)
    if not len(boundaries):
        partners = window.column("partner").to_numpy(zero_copy_only=False)
        boundaries = np.flatnonzero(partners[1:] != partners[:-1]) + 1
    if len(boundaries):
        return int(boundaries[-1])
    end = _totals_end(table)
    if end is None:
        return table.num_rows if final else None
    return max(chunk_series, end)


def _totals_end(table: pa.Table) -> int | None:
    """The row after the first partner's leading total and chapters (``SERIES_ORDER_SQL``
    puts them first): its first detail or the next partner; None where the table ends
    before either."""
    partners = table.column("partner").to_numpy(zero_copy_only=False)
    codes = pd.Series(table.column("commodity").to_numpy(zero_copy_only=False), dtype=object)
    detail = ((codes != "TOTAL") & (codes.str.len() != 2)).to_numpy()
    after = detail | (partners != partners[0])
    after[0] = False
    ends = np.flatnonzero(after)
    return int(ends[0]) if len(ends) else None


def series_frame(batch: pa.RecordBatch | pa.Table, row_columns: Sequence[str]) -> pd.DataFrame:
    """Long observations of a batch whose rows are whole series with their cells as lists.

    Key columns come out as categoricals (codes repeated, never a string per row) with a
    ``series_no`` column, which lets ``Panel.from_frame`` skip grouping on text. Where a
    ``vintage`` list is present, only the latest release's figure of each cell is kept.
    """
    lists = batch.column(row_columns[0])
    lengths = _list_lengths(lists)
    series_no = np.repeat(np.arange(batch.num_rows, dtype=np.int64), lengths)
    data: dict[str, object] = {}
    for name in (*SERIES_KEY, "currency"):
        data[name] = _repeat_categorical(batch.column(name), series_no)
    for name in row_columns:
        data[name] = _flat(batch.column(name))
    data["series_no"] = series_no
    frame = pd.DataFrame(data, copy=False)  # no copy into consolidated blocks: 0.3 ms, not 20
    if VINTAGE in batch.schema.names:
        frame = frame.iloc[_latest_release(series_no, frame, _flat(batch.column(VINTAGE)))]
        frame.index = pd.RangeIndex(len(frame))  # not reset_index: it copies every column
    return frame


def _list_lengths(lists: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Number of elements of each list (0 for a null list)."""
    return pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)


def _flat(lists: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The elements of a list column as one NumPy array (nulls as NaN / NaT)."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    values = lists.flatten()
    if pa.types.is_date(values.type):
        return values.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    if pa.types.is_integer(values.type) and values.null_count == 0:
        return values.to_numpy()
    return values.to_numpy(zero_copy_only=False)


def _repeat_categorical(
    column: pa.Array | pa.ChunkedArray, series_no: np.ndarray
) -> pd.Categorical:
    codes, uniques = pd.factorize(column.to_numpy(zero_copy_only=False))
    return pd.Categorical.from_codes(codes[series_no], uniques)


def _latest_release(series_no: np.ndarray, frame: pd.DataFrame, vintage: np.ndarray) -> np.ndarray:
    """Row positions of the latest release's figure of each (series, period, months) cell."""
    period = frame["period"].to_numpy().astype("datetime64[D]").astype(np.int64)
    months = frame["period_months"].to_numpy()
    order = np.lexsort((-vintage.astype(np.int64), months, period, series_no))
    key = np.stack([series_no[order], period[order], months[order]])
    first = np.ones(len(order), dtype=bool)
    first[1:] = (key[:, 1:] != key[:, :-1]).any(axis=0)
    return np.sort(order[first])


@contextmanager
def memory_budget(con, limit: str | None = DUCKDB_MEMORY_LIMIT) -> Iterator[None]:
    """Cap DuckDB's memory for the scan (it spills to disk beyond), then restore the setting.

    DuckDB's default is 80 % of the machine: its hash tables would then grow with the data.
    Capped, the process peak stays flat across sizes: DuckDB's budget plus one chunk.
    """
    if not limit:
        yield
        return
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit):
        raise InputError(f"TRADESENTRY_DUCKDB_MEMORY={limit!r}: expected a size such as 1GB")
    restore_limit = _restorer(con, "memory_limit")
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:  # _within_memory may have changed both
        con.execute(restore_limit)
        con.execute(f"SET threads = {int(threads)}")


def _restorer(con, name: str) -> str:
    """SQL putting setting ``name`` back as it is now.

    DuckDB shows a memory limit rounded ("18.6 GiB"): setting that text back would shrink
    the limit a little at every scan, so where the setting is DuckDB's default it is RESET.
    """
    read = f"SELECT current_setting('{name}')"
    before = con.execute(read).fetchall()[0][0]
    con.execute(f"RESET {name}")
    if con.execute(read).fetchall()[0][0] == before:
        return f"RESET {name}"
    con.execute(f"SET {name} = '{before}'")
    return f"SET {name} = '{before}'"


def scan_chunks(
    con,
    detectors: Sequence[Detector],
    filters: dict | None = None,
    chunk_series: int = DEFAULT_CHUNK_SERIES,
    progress: Callable[[int], None] | None = None,
) -> Iterator[pd.DataFrame]:
    """Findings of the series selected by ``filters``, one frame per chunk (empty ones left out).

    A generator, so that a caller writing each frame away (``api.scan`` saving to the
    store) holds one chunk's findings at a time, never the whole scan's.
    """
    needs = sorted({need for d in detectors for need in d.needs})
    with memory_budget(con):
        chunks = iter_chunks(con, filters or {}, chunk_series, needs, clean_up=False)
        if threads() > 1:
            chunks = read_ahead(chunks, con)
        try:
            with closing(chunks):  # the reader stopped and its queries closed, on any exit
                for chunk in chunks:
                    found = scan_frame(chunk, detectors)
                    if progress:
                        progress(len(chunk))
                    if len(found):
                        yield found
        finally:
            _drop_shadow(con)  # on this thread, once the reader is done: never interrupted


class _Failed:
    """What the reading thread raised, handed to the scan's thread to raise again."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def read_ahead(chunks: Iterator[T], con) -> Iterator[T]:
    """``chunks``, read one chunk ahead on a thread of their own.

    Gathering a chunk is mostly DuckDB and Arrow, which release the GIL, while much of the
    detectors' work on the chunk before runs on one thread: reading ahead runs the two at
    once. The reader starts a chunk only once the scan has taken the one before, so a scan
    holds at most one chunk more. The order, and so every finding, is that of ``chunks``.
    Where the scan stops early (an error, Ctrl-C, a caller that reads no further) the
    reader is told to stop, its DuckDB query on ``con`` is interrupted, and it closes
    ``chunks`` before this generator returns; ``chunks`` should leave any clean-up by SQL
    to the caller (``iter_chunks(clean_up=False)``), which runs it once the reader is done.
    """
    handed: queue.Queue = queue.Queue(maxsize=1)
    slot = threading.Semaphore(1)  # released by the scan as it takes a chunk
    stop, finished = threading.Event(), threading.Event()

    def wait_for(done: Callable[[], bool]) -> bool:
        """``done()`` (False after its timeout) retried until it succeeds, or the scan stops."""
        while not stop.is_set():
            if done():
                return True
        return False

    def put(item: object) -> bool:
        try:
            handed.put(item, timeout=0.05)
        except queue.Full:
            return False
        return True

    def hand(item: object) -> bool:
        return wait_for(lambda: put(item))

    def read() -> None:
        try:
            while wait_for(lambda: slot.acquire(timeout=0.05)):
                chunk = next(chunks, _END)
                if chunk is _END or not hand(chunk):
                    break
        except BaseException as error:  # raised again in the scan's thread
            hand(_Failed(error))
        finally:
            with suppress(BaseException):
                chunks.close()  # type: ignore[attr-defined]
            hand(_END)
            finished.set()

    reader = threading.Thread(target=read, name="tradesentry-read-ahead", daemon=True)
    reader.start()
    ended = False  # the reader said it is done: nothing of its to interrupt
    try:
        while (item := handed.get()) is not _END:
            if isinstance(item, _Failed):
                ended = True
                raise item.error
            slot.release()  # the next chunk is read while this one is scanned
            yield item
        ended = True
    finally:
        stop.set()
        _stop_reader(reader, finished, None if ended else con)


def _stop_reader(reader: threading.Thread, finished: threading.Event, con) -> None:
    """Wait for the reader to finish, interrupting its DuckDB query on ``con`` meanwhile
    (None: it has ended): a query may start after an interrupt, so interrupt again. A
    second Ctrl-C meanwhile is raised only once the reader is done: its cursor is used
    next (the clean-up, the budget's restore), and a thread still in DuckDB when the
    process exits aborts it."""
    pending: BaseException | None = None
    while not finished.is_set():
        try:
            if con is not None:
                with suppress(duckdb.Error):
                    con.interrupt()
            finished.wait(0.05)
        except KeyboardInterrupt as again:
            pending = again
    try:
        reader.join(1.0)  # it has only to return
    except KeyboardInterrupt as again:
        pending = again
    if pending is not None:
        raise pending


def scan(
    con,
    detectors: Sequence[Detector],
    filters: dict | None = None,
    chunk_series: int = DEFAULT_CHUNK_SERIES,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Findings of all series selected by ``filters``, gathered into one (unranked) frame."""
    parts = list(scan_chunks(con, detectors, filters, chunk_series, progress))
    return pd.concat(parts, ignore_index=True) if parts else empty_findings()
