"""The staged table every reader fills, and the SQL helpers readers share.

A reader turns its format into rows of ``staged``: one row per data record of the file,
with the canonical fields still unchecked. Checking, country codes, duplicates and the
split into observations and quarantine happen once, in ``validate``, for every format.
"""

from __future__ import annotations

import duckdb

# Column, DuckDB type. A reader's SELECT must produce these names; any it leaves out are NULL.
STAGED_COLUMNS: dict[str, str] = {
    "line": "BIGINT",  # physical line of the record (JSON: position in the data array)
    "raw": "VARCHAR",  # the record as read, for the quarantine
    "reason": "VARCHAR",  # set by the reader when it already knows the record is bad
    "main_line": "BIGINT",  # set on a record that only completes another one (SDMX quantity)
    "part": "VARCHAR",  # one of several observations a line holds (a wide table's column)
    "reporter": "VARCHAR",
    "partner": "VARCHAR",
    "flow": "VARCHAR",
    "classification": "VARCHAR",
    "commodity": "VARCHAR",
    "breakdown": "VARCHAR",
    "period_text": "VARCHAR",
    "period": "DATE",
    "freq": "VARCHAR",
    "period_months": "INTEGER",
    "value_text": "VARCHAR",  # the value as written: a NULL value with text is not a number
    "value": "DOUBLE",
    "withheld": "BOOLEAN",  # the source marks a missing value as withheld (SDMX confidential)
    "currency": "VARCHAR",
    # The other figures, each as written beside its number, checked like the value.
    "cif_value_text": "VARCHAR",
    "cif_value": "DOUBLE",
    "fob_value_text": "VARCHAR",
    "fob_value": "DOUBLE",
    "net_weight_kg_text": "VARCHAR",
    "net_weight_kg": "DOUBLE",
    "quantity_text": "VARCHAR",
    "quantity": "DOUBLE",
    "quantity_unit": "VARCHAR",
    "flags": "VARCHAR",
    "provenance": "VARCHAR",
}


def create_staged(
    con: duckdb.DuckDBPyConnection, select_sql: str, params: list | None = None
) -> None:
    """CREATE TEMP TABLE staged from a reader's SELECT, filling absent columns with NULL."""
    available = _columns_of(con, select_sql, params)
    exprs = [
        f"CAST({name} AS {typ}) AS {name}" if name in available else f"NULL::{typ} AS {name}"
        for name, typ in STAGED_COLUMNS.items()
    ]
    con.execute("DROP TABLE IF EXISTS staged")
    con.execute(
        f"CREATE TEMP TABLE staged AS SELECT {', '.join(exprs)} FROM ({select_sql}) AS reader",
        params or [],
    )


def _columns_of(con: duckdb.DuckDBPyConnection, select_sql: str, params: list | None) -> set[str]:
    rel = con.execute(f"DESCRIBE SELECT * FROM ({select_sql}) AS reader LIMIT 0", params or [])
    return {row[0] for row in rel.fetchall()}


def number_sql(text: str, decimal: str = ".", thousands: str = "") -> str:
    """SQL turning a text number into DOUBLE (NULL when it is not one), given the marks."""
    expr = f"trim({text})"
    if thousands:
        expr = f"replace({expr}, {sql_literal(thousands)}, '')"
    if decimal != ".":
        expr = f"replace({expr}, {sql_literal(decimal)}, '.')"
    slow = f"TRY_CAST(replace({expr}, ' ', '') AS DOUBLE)"
    if decimal == "." and not thousands:  # the usual case: cast first, clean only what fails
        return f"coalesce(TRY_CAST({text} AS DOUBLE), {slow})"
    return slow


def figure_sql(name: str, text: str, number: str) -> str:
    """SQL for a figure (``cif_value``…) and its text where the number is no good.

    The text as written is kept only where validation will quote it (not a number, not
    finite, negative), so millions of good figures are not stored twice.
    """
    good = f"coalesce({number} >= 0 AND isfinite({number}), false)"
    return f"{number} AS {name}, CASE WHEN NOT {good} THEN {text} END AS {name}_text"


def sql_literal(text: str) -> str:
    """A SQL string literal (quotes doubled), for the few values a reader writes into SQL."""
    return "'" + text.replace("'", "''") + "'"


def month_sql(year: str, month: str) -> str:
    """SQL for the first day of a month from text year and month; NULL when impossible."""
    return (
        f"CASE WHEN TRY_CAST({month} AS INTEGER) BETWEEN 1 AND 12 "
        f"AND TRY_CAST({year} AS INTEGER) BETWEEN 1900 AND 2200 "
        f"THEN make_date(TRY_CAST({year} AS INTEGER), TRY_CAST({month} AS INTEGER), 1) END"
    )
