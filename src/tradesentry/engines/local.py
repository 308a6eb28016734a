"""The local engine: stream the store's current view in series order, scan chunk by chunk.

One ordered DuckDB query is read as Arrow batches; batches are cut at series boundaries
into chunks of about ``chunk_series`` series, so memory is bounded by the chunk size and
not by the data size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import pandas as pd

from tradesentry import context
from tradesentry.detectors import Detector
from tradesentry.engines import scan_frame
from tradesentry.findings import empty_findings
from tradesentry.schema import SERIES_KEY

DEFAULT_CHUNK_SERIES = 20_000
_BATCH_ROWS = 200_000
_PANEL_COLUMNS = (*SERIES_KEY, "currency", "period", "period_months", "value", "net_weight_kg")


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


def iter_chunks(
    con, filters: dict, chunk_series: int = DEFAULT_CHUNK_SERIES, needs: Iterable[str] = ()
) -> Iterator[pd.DataFrame]:
    """Long frames of whole series, about ``chunk_series`` series each, in key order.

    ``needs`` adds the context columns (mirror, previous release…) that detectors ask for.
    """
    where, params = series_filter_sql(filters)
    columns = (*_PANEL_COLUMNS, *context.columns_for(needs))
    order = ", ".join((*SERIES_KEY, "period", "period_months"))
    reader = con.sql(
        f"SELECT {', '.join(columns)}, "
        f"dense_rank() OVER (ORDER BY {', '.join(SERIES_KEY)}) AS series_no "
        f"FROM ({context.source_sql(where, needs)}) AS scanned ORDER BY {order}",
        params=params,
    ).to_arrow_reader(_BATCH_ROWS)
    pending: list[pd.DataFrame] = []
    first = None
    for batch in reader:
        if batch.num_rows == 0:
            continue
        frame = batch.to_pandas()
        pending.append(frame)
        first = pending[0]["series_no"].iat[0] if first is None else first
        last = frame["series_no"].iat[-1]
        if last - first >= chunk_series:
            whole = pd.concat(pending, ignore_index=True)
            done = whole["series_no"] < last  # the last series may go on in the next batch
            yield whole[done].drop(columns="series_no")
            pending, first = [whole[~done]], last
    if pending:
        whole = pd.concat(pending, ignore_index=True)
        if len(whole):
            yield whole.drop(columns="series_no")


def scan(
    con,
    detectors: Sequence[Detector],
    filters: dict | None = None,
    chunk_series: int = DEFAULT_CHUNK_SERIES,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Findings of all series selected by ``filters``, one chunk at a time."""
    parts = []
    needs = sorted({need for d in detectors for need in d.needs})
    for chunk in iter_chunks(con, filters or {}, chunk_series, needs):
        found = scan_frame(chunk, detectors)
        if len(found):
            parts.append(found)
        if progress:
            progress(len(chunk))
    return pd.concat(parts, ignore_index=True) if parts else empty_findings()
