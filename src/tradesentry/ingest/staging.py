"""The staged table every reader fills, and the SQL helpers readers share.

A reader turns its format into rows of ``staged``: one row per data record of the file,
with the canonical fields still unchecked. Checking, country codes, duplicates and the
split into observations and quarantine happen once, in ``validate``, for every format.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    # The frequency the period's own text implies: 'A' for a year, 'M' for a month (NULL:
    # the reader cannot tell; validation then takes a period of four digits for a year).
    "period_freq": "VARCHAR",
    "period_months_text": "VARCHAR",  # period_months as written: NULL months with text is bad
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


def scaled_sql(number: str, unit: float | str) -> str:
    """A figure (SQL ``number``) times its ``unit`` (thousand, million, 100 kg: a number, or
    SQL for one), to 15 significant digits: the double's product carries its last bits
    (8,383.3 million landed as 8,383,299,999.999999, 0.14 × 100 kg as 14.000000000000002
    kg), which the figure as written does not hold. A unit of 1 leaves the figure as it is."""
    if unit == 1:
        return number
    p = f"({number} * {unit!r})" if not isinstance(unit, str) else f"({number} * {unit})"
    # p written four times: DuckDB evaluates a common subexpression once
    return (
        f"CASE WHEN {p} = 0 OR NOT isfinite({p}) THEN {p} "
        f"ELSE round({p}, 15 - CAST(ceil(log10(abs({p}))) AS INTEGER)) END"
    )


def number_sql(text: str, decimal: str = ".", thousands: str = "") -> str:
    """SQL turning a text number into DOUBLE (NULL when it is not one), given the marks.

    Without marks a number is what DuckDB's cast reads (``12``, ``-1.5e3``, ``inf``, ``nan``:
    validation names the last two), except ``1_000`` and ``+-1``, which DuckDB reads as
    1000 and -1. With a
    thousands mark, the mark may only group the integer part in threes (``1,234,567.5``);
    the decimal mark is the one given. Anything else (``1.187,5`` or ``1,18`` with thousands
    ``,``, ``12 34``) is not a number: nothing is dropped to make it one.

    ``-0`` is zero: adding 0.0 turns the double's -0.0 into 0.0 (IEEE 754: -0 + 0 = +0) and
    leaves every other number as it is, so a figure written ``-0`` never lands as -0.0.
    """
    if decimal == "." and not thousands:  # the usual case: one cast, no regular expression
        # DuckDB's cast also reads 1_000 as 1000 and +-1 as -1: neither is a number
        return (
            f"CASE WHEN NOT (contains({text}, '_') OR contains({text}, '+-')) "
            f"THEN TRY_CAST({text} AS DOUBLE) + 0.0 END"
        )
    d = _regex_char(decimal)
    integer = "[0-9]+"
    if thousands:
        integer = f"([0-9]{{1,3}}({_regex_char(thousands)}[0-9]{{3}})+|[0-9]+)"
    number = f"[+-]?(({integer}({d}[0-9]*)?|{d}[0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)"
    pattern = f"\\s*{number}\\s*"  # the cast allows white space around, as without marks
    clean = text
    if thousands:
        clean = f"replace({clean}, {sql_literal(thousands)}, '')"
    if decimal != ".":
        clean = f"replace({clean}, {sql_literal(decimal)}, '.')"
    return (
        f"CASE WHEN regexp_full_match({text}, {sql_literal(pattern)}, 'i') "
        f"THEN TRY_CAST({clean} AS DOUBLE) + 0.0 END"
    )


def _regex_char(mark: str) -> str:
    """A number mark (one character) as it matches itself in a regular expression."""
    return "\\." if mark == "." else mark


def figure_sql(name: str, text: str, number: str) -> str:
    """SQL for a figure (``cif_value``…) and its text where the number is no good.

    The text as written is kept only where validation will quote it (not a number, not
    finite, negative), so millions of good figures are not stored twice.
    """
    good = f"coalesce({number} >= 0 AND isfinite({number}), false)"
    return f"{number} AS {name}, CASE WHEN NOT {good} THEN {text} END AS {name}_text"


def duplicate_column(names: list[str], known: Iterable[str] | None = None) -> str | None:
    """The first column name a header gives twice (in any case), else None.

    A reader that finds its columns by name would take one of the two and drop the other
    without a word; such a header is refused instead, naming the column. With ``known``
    (the names a reader matches in any case), other names are kept as written and are
    twice only when written alike (``Note`` and ``note`` are two provenance columns).
    """
    matched = None if known is None else {k.lower() for k in known}
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = name.lower() if matched is None or name.lower() in matched else name
        if not key:
            continue
        if key in seen:
            return f"column {name!r} is in the header twice (columns {seen[key]} and {position})"
        seen[key] = position
    return None


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
