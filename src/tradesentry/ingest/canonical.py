"""The canonical CSV: a header of tradesentry's own column names, no mapping needed.

Periods are ``YYYY-MM`` (or ``YYYY-MM-DD``, the first of the month) for months and ``YYYY``
for years. Columns beyond the canonical ones (a ``source_url``, say) are kept as provenance,
under their names as written (canonical names match in any case), a column without a name
as ``column_N``.
"""

from __future__ import annotations

import duckdb

from tradesentry.ingest.comtrade import quoted
from tradesentry.ingest.lines import field_sql, load_lines, provenance_sql
from tradesentry.ingest.source import SourceFile, split_header
from tradesentry.ingest.staging import (
    create_staged,
    duplicate_column,
    figure_sql,
    month_sql,
    number_sql,
)
from tradesentry.schema import CANONICAL_CSV_COLUMNS, REQUIRED_CSV_COLUMNS

NAME = "csv"
#: what a header must hold to be read so, and how a message names such a file
HEADER_COLUMNS, LABEL = REQUIRED_CSV_COLUMNS, "a canonical CSV"


def matches(src: SourceFile) -> bool:
    return not missing_columns(src)


def missing_columns(src: SourceFile) -> list[str]:
    """The canonical columns the header lacks (in any case), in their order."""
    names = {n.lower() for n in split_header(src.header, ",")}
    return [c for c in REQUIRED_CSV_COLUMNS if c not in names]


def stage(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    header = split_header(src.header, ",")
    names = [n.lower() for n in header]
    # canonical names match in any case (which one holds the data?); others as written
    duplicate = duplicate_column(header, CANONICAL_CSV_COLUMNS)
    if duplicate:
        raise src.fail(duplicate, src.header_line)
    missing = missing_columns(src)
    if missing:
        raise src.fail(
            f"not a canonical CSV: missing column(s) {', '.join(missing)}", src.header_line
        )
    load_lines(con, src, ",")
    col = {name: field_sql(i) for i, name in enumerate(names) if name in CANONICAL_CSV_COLUMNS}
    # Canonical names match in any case; the other columns keep their names as written.
    read = {name for name in header if name.lower() in CANONICAL_CSV_COLUMNS}
    period = col["period"]
    year, month = f"left({period}, 4)", f"substr({period}, 6, 2)"
    is_year = f"regexp_full_match({period}, '\\d{{4}}')"
    is_month = f"regexp_full_match({period}, '\\d{{4}}-\\d{{2}}(-01)?')"
    # The frequency a period is written in; an empty freq cell is the period's, as a missing
    # column is, and one that contradicts the period is quarantined (validate).
    period_freq = f"CASE WHEN {is_year} THEN 'A' WHEN {is_month} THEN 'M' END"
    freq = f"coalesce({col['freq']}, {period_freq})" if "freq" in col else period_freq
    months = col.get("period_months", "NULL")
    # A currency column, empty in a row, is a missing currency (validate); none at all is USD.
    currency = col.get("currency", "'USD'")

    def figure(name: str) -> str:
        if name not in col:
            return f"NULL AS {name}"
        return figure_sql(name, col[name], number_sql(col[name]))

    create_staged(
        con,
        f"""
        SELECT line, raw,
               coalesce(reason, CASE WHEN len(fields) <> {len(names)}
                   THEN 'expected {len(names)} fields, found ' || len(fields)
                   -- another notation ("2021M02", "202102", "Feb 2021"): say which this one is
                   WHEN nullif(trim({period}), '') IS NOT NULL AND NOT {is_year}
                        AND NOT {is_month}
                   THEN 'period ' || {quoted(period)} || ' is not a month (YYYY-MM, or '
                        || 'YYYY-MM-01) nor a year (YYYY)' END) AS reason,
               {col["reporter"]} AS reporter, {col["partner"]} AS partner, {col["flow"]} AS flow,
               {col.get("classification", "NULL")} AS classification,
               {col["commodity"]} AS commodity,
               {period} AS period_text,
               CASE WHEN {is_year} THEN {month_sql(period, "'1'")}
                    WHEN {is_month} THEN {month_sql(year, month)} END AS period,
               {freq} AS freq, {period_freq} AS period_freq,
               {months} AS period_months_text,
               -- a whole number, also as a spreadsheet or pandas writes it (2.0); too many
               -- digits: out of range
               CASE WHEN regexp_full_match({months}, '[0-9]+([.]0*)?')
                    THEN coalesce(TRY_CAST(split_part({months}, '.', 1) AS INTEGER), 2147483647)
                    END AS period_months,
               {col["value"]} AS value_text, {number_sql(col["value"])} AS value,
               {currency} AS currency,
               {figure("cif_value")}, {figure("fob_value")},
               {figure("net_weight_kg")}, {figure("quantity")},
               {col.get("quantity_unit", "NULL")} AS quantity_unit,
               {col.get("flags", "NULL")} AS flags,
               {provenance_sql(header, read)} AS provenance
        FROM lines
        """,
    )
