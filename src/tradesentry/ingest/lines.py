"""Read a delimited file into a DuckDB table of lines, with their physical line numbers.

DuckDB's CSV reader does the reading (in parallel, streaming, gzip included); each line
comes in whole as one text column so that a bad line keeps its raw text for the
quarantine. Lines that DuckDB itself rejects (invalid UTF-8, a line longer than the
limit) come back through its rejects table with their line numbers, and the good lines'
numbers are recovered around them, so every line of the file is accounted for.
"""

from __future__ import annotations

import duckdb

from tradesentry.ingest.source import SourceFile
from tradesentry.ingest.staging import sql_literal

MAX_LINE_BYTES = 64 << 20
_UNIT_SEPARATOR = "\x1f"  # a byte no trade table uses, so a line arrives as one field
# A stray NUL byte in an otherwise text file (see source.looks_binary): that line only.
_NUL_REASON = (
    "CASE WHEN contains(raw, chr(0)) THEN 'NUL byte in the line: binary data, not text' END"
)


def load_lines(con: duckdb.DuckDBPyConnection, src: SourceFile, delimiter: str) -> None:
    """Create TEMP VIEW ``lines(line, raw, fields, reason)`` of the data lines after the header.

    ``fields`` is the line split on ``delimiter`` with CSV quoting undone; ``reason`` is
    set where DuckDB could not read the line at all. Only the raw lines are stored (in
    ``lines_read``); ``lines`` is a view so that the split runs once, inside the reader's
    SELECT, and millions of field lists are never materialised.
    """
    drop_lines(con)
    _read_raw_lines(con, src)
    _number_lines(con, src, delimiter)


def _read_raw_lines(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    """TEMP TABLE lines_read (n, raw) and the rejects DuckDB kept, in one streaming read."""
    sql = f"""
        CREATE TEMP TABLE lines_read AS
        SELECT row_number() OVER () AS n, raw
        FROM read_csv(?, columns = {{'raw': 'VARCHAR'}}, header = false, delim = '{_UNIT_SEPARATOR}',
                      quote = '', escape = '', auto_detect = false, encoding = ?,
                      compression = ?, max_line_size = {MAX_LINE_BYTES}, strict_mode = false,
                      store_rejects = true, rejects_table = 'lines_rejects_raw',
                      rejects_scan = 'lines_rejects_scan')
        """
    try:
        con.execute(sql, [src.read_path(), src.encoding, src.compression])
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise src.read_failure(exc) from exc


def _number_lines(con: duckdb.DuckDBPyConnection, src: SourceFile, delimiter: str) -> None:
    """TEMP VIEW lines: every physical line after the header, numbered, rejects included."""
    con.execute(
        """
        CREATE TEMP TABLE lines_rejected AS
        SELECT line::BIGINT AS line, csv_line AS raw,
               row_number() OVER (ORDER BY line) AS k,
               CASE WHEN error_type = 'INVALID ENCODING'
                    THEN 'invalid text: not valid UTF-8 (pass --encoding latin-1 for latin-1 files)'
                    WHEN error_type = 'LINE SIZE OVER MAXIMUM'
                    THEN 'line longer than 64 MB'
                    ELSE 'unreadable line: ' || error_message END AS reason
        FROM lines_rejects_raw
        """
    )
    # Good row n sits at physical line n + (rejected lines before it): a rejected line j
    # (in order) has (line_j - k_j) good lines before it, so it precedes good row n when
    # line_j - k_j < n.
    split = _split_sql("raw", delimiter)
    good = f"SELECT n AS line, raw, {_NUL_REASON} AS reason FROM lines_read"
    if con.execute("SELECT count(*) FROM lines_rejected").fetchone()[0]:
        good = f"""SELECT r.n + coalesce(j.k, 0) AS line, r.raw, {_NUL_REASON} AS reason
            FROM lines_read r
            ASOF LEFT JOIN (SELECT line - k AS before, k FROM lines_rejected) j
              ON r.n - 1 >= j.before"""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW lines AS
        WITH numbered AS (
            {good}
            UNION ALL
            SELECT line, raw, reason FROM lines_rejected
        )
        SELECT line, raw, {split} AS fields, reason
        FROM (SELECT *, string_split(raw, '"') AS parts FROM numbered
              WHERE line > {src.header_line} AND raw <> ''
                AND (ascii(raw) > 32 OR trim(raw) <> ''))  -- trims only lines starting blank
        """
    )
    # field_sql turns the masked delimiters of quoted fields back into this one.
    con.execute(f"CREATE OR REPLACE TEMP MACRO lines_delimiter() AS {sql_literal(delimiter)}")
    con.execute("DROP TABLE lines_rejects_raw; DROP TABLE IF EXISTS lines_rejects_scan")


def drop_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Free what ``load_lines`` made (the raw lines), once ``staged`` holds what it needs."""
    con.execute(
        "DROP VIEW IF EXISTS lines; DROP TABLE IF EXISTS lines_read; "
        "DROP TABLE IF EXISTS lines_rejected; DROP MACRO IF EXISTS lines_delimiter"
    )


def _split_sql(column: str, delimiter: str) -> str:
    """SQL splitting a CSV line into its fields, with CSV quoting undone.

    No regex (too slow for millions of lines). ``parts`` is the line split on the quote
    character: the even parts are inside quotes, and their delimiters are masked with a
    unit separator (``field_sql`` unmasks the fields it extracts); an empty odd part
    between two others is an escaped quote. The line is then split on the delimiter. Only
    the short quoted parts are rewritten, which halves the cost of the split.
    """
    d = sql_literal(delimiter)
    masked = f"""array_to_string(list_transform(parts, lambda s, i:
        CASE WHEN i % 2 = 0 THEN replace(s, {d}, chr(31))
             WHEN s = '' AND i > 1 AND i < len(parts) THEN '"' ELSE s END), '')"""
    return f"""CASE WHEN len(parts) = 1 THEN string_split({column}, {d})
        ELSE string_split({masked}, {d}) END"""


def field_sql(index: int, list_column: str = "fields") -> str:
    """SQL for the stripped text of field ``index`` (0-based); NULL when absent or empty."""
    return f"nullif(trim(replace({list_column}[{index + 1}], chr(31), lines_delimiter())), '')"
