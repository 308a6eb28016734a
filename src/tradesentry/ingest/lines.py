"""Read a delimited file into a DuckDB table of lines, with their physical line numbers.

DuckDB's CSV reader does the reading (in parallel, streaming, gzip included); each line
comes in whole as one text column so that a bad line keeps its raw text for the
quarantine. Lines that DuckDB itself rejects (invalid UTF-8, a line longer than the
limit) come back through its rejects table with their line numbers, and the good lines'
numbers are recovered around them, so every line of the file is accounted for.

A line is split as Python's ``csv`` module splits it: a quote opens a quoted field only at
the start of a field, and a quote inside an unquoted field is a character of it (``1"2``
stays ``1"2``, which is no number, and a note's inch mark ``12" screens`` stays in the note).
SQL splits the lines whose quotes all sit where quoting puts them; the few others go to
the ``csv`` module one by one.

A record is one line. A quoted field holding a line break (``"line1`` / ``line2"``) would
split its record in two; such a record is found (only in files with a line holding an odd
number of quotes) and quarantined whole, once, under its first line.
"""

from __future__ import annotations

import csv
import gzip

import duckdb
import pandas as pd

from tradesentry.ingest.source import (
    CRLF,
    MAX_LINE_BYTES,
    SourceFile,
    has_lone_cr,
    has_windows_1252_bytes,
    readable_copy,
    reader_text,
    rejected_lines_before,
    split_header,
)
from tradesentry.ingest.staging import sql_literal

# A record whose quoted field runs over more lines than this is not taken for one record:
# a stray quote must not swallow the good lines after it.
MAX_RECORD_LINES = 100
UNCLOSED = "a quoted field opens on this line and is not closed (a line break in quotes?)"
_UNIT_SEPARATOR = "\x1f"  # a byte no trade table uses, so a line arrives as one field
# A stray NUL byte in an otherwise text file (see source.looks_binary): that line only.
_NUL_REASON = (
    "CASE WHEN contains(raw, chr(0)) THEN 'NUL byte in the line: binary data, not text' END"
)
_TEMP = {
    "VIEW": ("lines", "lines_numbered"),
    "TABLE": (
        "lines_read",
        "lines_rejected",
        "lines_odd",
        "lines_joined",
        "lines_covered",
        "lines_rejects_raw",
        "lines_rejects_scan",
    ),
}


def load_lines(con: duckdb.DuckDBPyConnection, src: SourceFile, delimiter: str) -> None:
    """Create TEMP VIEW ``lines(line, raw, fields, reason)`` of the data records after the header.

    ``fields`` is the line split on ``delimiter`` with CSV quoting undone; ``reason`` is
    set where DuckDB could not read the line at all, or where a quoted field runs over
    several lines. Only the raw lines are stored (in ``lines_read``); ``lines`` is a view
    so that the split runs once, inside the reader's SELECT, and millions of field lists
    are never materialised.
    """
    drop_lines(con)
    _register_csv_fields(con)
    _read_raw_lines(con, src)
    _number_lines(con, src)
    width = len(split_header(src.header, delimiter)) if src.header else 0
    joined = _join_quoted_line_breaks(con, delimiter, width)
    _create_view(con, delimiter, joined)


def _read_raw_lines(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    """TEMP TABLE lines_read (n, raw) and the rejects DuckDB kept, in one streaming read; of
    a copy (``readable_copy``) where DuckDB would misread the file: latin-1 with a byte in
    0x80-0x9F, which its latin-1 refuses, or a CR LF file holding a lone CR, after which it
    drops a byte (``has_lone_cr``)."""
    to_utf8 = src.encoding == "latin-1" and has_windows_1252_bytes(src)
    lone_crs = has_lone_cr(src)
    try:
        if to_utf8 or lone_crs:
            with readable_copy(src, to_utf8=to_utf8, lone_crs=lone_crs) as copy:
                encoding = "utf-8" if to_utf8 else src.encoding
                _read_csv_lines(con, copy, encoding, "none", src.newline)
                _locate_rejects(con, copy, "none", src.newline)
        else:
            _read_csv_lines(con, src.read_path(), src.encoding, src.compression, src.newline)
            _locate_rejects(con, src.read_path(), src.compression, src.newline)
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise src.read_failure(exc) from exc


def _read_csv_lines(
    con: duckdb.DuckDBPyConnection, path: str, encoding: str, compression: str, newline: str
) -> None:
    con.execute(
        f"""
        CREATE TEMP TABLE lines_read AS
        SELECT row_number() OVER () AS n, raw
        FROM read_csv(?, columns = {{'raw': 'VARCHAR'}}, header = false, delim = '{_UNIT_SEPARATOR}',
                      quote = '', escape = '', auto_detect = false, encoding = ?,
                      compression = ?, new_line = ?, max_line_size = {MAX_LINE_BYTES},
                      strict_mode = false, store_rejects = true,
                      rejects_table = 'lines_rejects_raw', rejects_scan = 'lines_rejects_scan')
        """,
        [path, encoding, compression, newline],
    )


def _number_lines(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    """TEMP VIEW lines_numbered: every line after the header, numbered, rejects included."""
    # In CR LF mode DuckDB ends a line at the first CR of CR CR LF and starts the next with
    # the LF: it is dropped here (and the CR LF DuckDB puts before a rejected line).
    breaks = "chr(13) || chr(10)"
    advice = (  # a byte order mark makes the file UTF-8 whatever --encoding says
        "the file starts with UTF-8's byte order mark: save it as UTF-8 again, or remove the "
        "mark and pass --encoding latin-1"
        if src.raw.startswith(b"\xef\xbb\xbf")
        else "pass --encoding latin-1 for latin-1 files"
    )
    con.execute(
        f"""
        CREATE TEMP TABLE lines_rejected AS
        SELECT line, raw, row_number() OVER (ORDER BY line) AS k, reason
        FROM (SELECT coalesce(l.line, r.line::BIGINT) AS line,
                     -- DuckDB's text of an undecodable line has "?" for its bytes
                     CASE WHEN error_type = 'INVALID ENCODING' AND l.raw IS NOT NULL
                          THEN l.raw ELSE ltrim(csv_line, {breaks}) END AS raw,
                     CASE WHEN error_type = 'INVALID ENCODING'
                          THEN {sql_literal(f"invalid text: not valid UTF-8 ({advice})")}
                          WHEN error_type = 'LINE SIZE OVER MAXIMUM'
                          THEN 'line longer than 64 MB'
                          ELSE 'unreadable line: ' || error_message END AS reason
              FROM lines_rejects_raw r LEFT JOIN lines_rejects_at l USING (byte_position)
              QUALIFY row_number() OVER (PARTITION BY r.line ORDER BY byte_position) = 1)
        """
    )
    con.execute(
        "DROP TABLE lines_rejects_raw; DROP TABLE IF EXISTS lines_rejects_scan; "
        "DROP TABLE lines_rejects_at"
    )
    raw = "raw"
    if src.newline == CRLF:
        raw = f"CASE WHEN starts_with(raw, chr(10)) THEN ltrim(raw, {breaks}) ELSE raw END"
    header_row = _header_row(con, src, raw)
    # Good row n sits at physical line n + (rejected lines before it): a rejected line j
    # (in order) has (line_j - k_j) good lines before it, so it precedes good row n when
    # line_j - k_j < n. Consecutive rejected lines share line_j - k_j: the last one counts.
    good = f"SELECT n, n AS line, {raw} AS raw FROM lines_read"
    if con.execute("SELECT count(*) FROM lines_rejected").fetchone()[0]:
        good = f"""SELECT r.n, r.n + coalesce(j.k, 0) AS line, {raw} AS raw
            FROM lines_read r
            ASOF LEFT JOIN (SELECT line - k AS before, max(k) AS k FROM lines_rejected
                            GROUP BY ALL) j
              ON r.n - 1 >= j.before"""
    glued = _glued(con, src, header_row)
    # Good lines count from the header's own row, never from its number: the first data
    # line is kept whatever the lines before the header were.
    con.execute(
        f"""
        CREATE TEMP VIEW lines_numbered AS
        SELECT line, raw, coalesce({_NUL_REASON}, {_again(con, src, header_row)}, {glued})
            AS reason
        FROM ({good}) WHERE n > {header_row}
        UNION ALL
        SELECT line, raw, coalesce({glued}, reason) AS reason
        FROM lines_rejected WHERE line > {src.header_line}
        """
    )


#: at most this many rejected lines are located in the file for their number and bytes
MAX_LOCATED_LINES = 100_000
#: bytes of the file read at a time while locating them
LOCATE_BLOCK = 1 << 24


def _locate_rejects(con: duckdb.DuckDBPyConnection, path: str, compression: str, newline: str):
    """TEMP TABLE lines_rejects_at (byte_position, line, raw): each line DuckDB rejected,
    numbered and read from the file's own bytes at the position DuckDB gives, in one pass
    over the file up to the last of them (only where there are such lines).

    DuckDB's rejects table numbers a CR CR LF file's lines twice over (what Python's csv
    writer makes on Windows: a latin-1 line 30 of 48 was "line 59", and every good line
    after it one number too low), and writes each byte that is not UTF-8 as "?" and drops
    the characters after it ("Côte" in latin-1 was kept as "C??e"). A line is numbered by
    the breaks before its position, as the reader ends lines (``source._BREAKS``), and its
    bytes are read to its break, each undecodable byte written as its escape ("C\\xf4te").
    """
    positions = sorted(
        p
        for (p,) in con.execute(
            "SELECT DISTINCT byte_position FROM lines_rejects_raw "
            f"WHERE byte_position IS NOT NULL ORDER BY 1 LIMIT {MAX_LOCATED_LINES}"
        ).fetchall()
    )
    located = []
    if positions:
        opener = gzip.open if compression == "gzip" else open
        with opener(path, "rb") as f:
            located = _located(f, positions, newline == CRLF)
    con.execute(
        "CREATE TEMP TABLE lines_rejects_at (byte_position BIGINT, line BIGINT, raw VARCHAR)"
    )
    if located:  # one INSERT for them all, not one per line
        frame = pd.DataFrame(located, columns=["byte_position", "line", "raw"])
        con.register("lines_located", frame)
        try:
            con.execute("INSERT INTO lines_rejects_at SELECT * FROM lines_located")
        finally:
            con.unregister("lines_located")


def _located(f, positions: list[int], crlf: bool) -> list[tuple[int, int, str | None]]:
    """``(position, line, text)`` of the line each byte position falls in: its number is
    1 + the breaks that end at or before the position, its text the bytes from the last of
    them to the next break (None for a line longer than DuckDB reads, ``MAX_LINE_BYTES``).
    Breaks as the reader ends lines in its mode (``crlf``: CR CR LF, CR LF, CR and LF each
    one; else every CR and every LF), counted with ``bytes.count``, not a match a line.

    The file is read in blocks; the unfinished line at a block's end is carried into the
    next, and so are its trailing CRs, so that no break (CR | LF, CR | CR LF) is split."""
    out, wanted = [], iter(positions)
    p = next(wanted, None)
    lines, offset, carry = 0, 0, b""  # breaks before ``offset``; ``carry`` starts a line
    while p is not None:
        block = f.read(LOCATE_BLOCK)
        eof = not block
        data = carry + block
        limit = len(data) if eof else len(data.rstrip(b"\r"))
        cursor = start = 0  # breaks counted up to cursor; the last of them ended at start
        while p is not None and (p < offset + limit or eof):
            at = min(max(p - offset, cursor), len(data))
            lines, start = _breaks(data, cursor, at, crlf, lines, start)
            cursor = at
            end = _next_break(data, start, limit)
            too_long = len(data) - start > MAX_LINE_BYTES
            if end < 0 and not eof and not too_long:
                break  # the line runs into the next block
            text = None if end < 0 and too_long else data[start : end if end >= 0 else None]
            out.append(
                (p, lines + 1, None if text is None else text.decode("utf-8", "backslashreplace"))
            )
            p = next(wanted, None)
        if eof:
            break
        lines, start = _breaks(data, cursor, limit, crlf, lines, start)
        if len(data) - start > MAX_LINE_BYTES:  # a line no reader keeps: carry its CRs only
            start = limit
        offset, carry = offset + start, data[start:]
    return out


def _breaks(data: bytes, a: int, b: int, crlf: bool, lines: int, start: int) -> tuple[int, int]:
    """``lines`` plus the line breaks in ``data[a:b]``, and where the last of them ends
    (``start`` where there is none). In CR LF mode a CR LF and a CR CR LF are one break
    each: every LF and every CR, less the CRs that begin one of them."""
    part = data[a:b]
    n = part.count(b"\n") + part.count(b"\r")
    if crlf:
        n -= part.count(b"\r\n") + part.count(b"\r\r\n")
    last = max(part.rfind(b"\n"), part.rfind(b"\r"))
    return lines + n, (a + last + 1 if last >= 0 else start)


def _next_break(data: bytes, start: int, limit: int) -> int:
    """Where the first line break at or after ``start`` begins (before ``limit``), -1 if none."""
    found = [i for i in (data.find(b"\n", start, limit), data.find(b"\r", start, limit)) if i >= 0]
    return min(found) if found else -1


#: a line that repeats the header (two exports joined with ``cat``)
HEADER_AGAIN = "the header line again (two files joined?)"


def _again(con: duckdb.DuckDBPyConnection, src: SourceFile, header_row: int) -> str:
    """SQL: ``HEADER_AGAIN`` for a line that is the header once more (in any case, after
    a byte order mark, with its line break); each reader's own check named a field of it
    instead ("unknown reporter country 'reporter'", "Comtrade flow code 'flowCode' …").

    Asked of every line, the test cost a third of the ingest (lower() of each line); it is
    asked once of the file first, of the lines of about the header's length in bytes (a
    byte order mark, line breaks and up to some sixty blanks around it), and where no
    line after the header is one, the lines carry no test at all."""
    text = src.header.strip("\r\n ")  # the SQL side's trim set
    if not text:
        return "NULL"
    sizes = [len(t.encode()) for t in (text, text.lower(), text.upper())]
    line = "lower(trim(ltrim(raw, chr(65279)), chr(13) || chr(10) || ' '))"
    test = (
        f"strlen(raw) BETWEEN {min(sizes)} AND {max(sizes) + 64} "
        f"AND {line} = {sql_literal(text.lower())}"
    )
    again = f"SELECT 1 FROM lines_read WHERE n > {header_row} AND {test} LIMIT 1"
    if not con.execute(again).fetchall():
        return "NULL"
    return f"CASE WHEN {test} THEN {sql_literal(HEADER_AGAIN)} END"


#: a line that ends with the header: the last line of a file without its final line break,
#: the next file's header joined to it by ``cat``
HEADER_GLUED = "a record and the header line again on one line (two files joined, the first without its last line break?)"


def _glued(con: duckdb.DuckDBPyConnection, src: SourceFile, header_row: int) -> str:
    """SQL: ``HEADER_GLUED`` for a line that ends with the header as written, after more.

    Joined with ``cat``, a file that ends without a line break runs its last record into
    the next file's header; the line was quarantined for its fields, and without the
    header seen the second file's records had been summed with the first's (Guinea's
    declarations joined to themselves: every month doubled). The test (a suffix, as
    written) is asked of the file once, and of each line only where one line passes it."""
    text = src.header.strip("\r\n ")
    if not text:
        return "NULL"
    test = (
        f"strlen(raw) > {len(text.encode())} AND (ends_with(raw, {sql_literal(text)}) "
        f"OR ends_with(raw, {sql_literal(text + chr(13))}))"
    )
    glued = f"""SELECT 1 FROM lines_read WHERE n > {header_row} AND {test}
                UNION ALL SELECT 1 FROM lines_rejected WHERE line > {src.header_line} AND {test}
                LIMIT 1"""
    if not con.execute(glued).fetchall():
        return "NULL"
    return f"CASE WHEN {test} THEN {sql_literal(HEADER_GLUED)} END"


def _header_row(con: duckdb.DuckDBPyConnection, src: SourceFile, raw: str) -> int:
    """Which good row DuckDB read the header as (rows rejected before it do not count).

    The header was found in the sample, whose lines are the reader's lines
    (``source.reader_text``); the row is checked against it, so a disagreement is an
    error naming the line, never a first data line taken for the header and dropped.
    """
    if src.header_line <= 0:
        return 0
    rejected = rejected_lines_before(src, src.header_line)
    row = src.header_line - rejected
    if rejected > rejected_lines_before(src, src.header_line - 1):
        return row  # the header itself is a rejected line: the good rows before it are not data
    rows = con.execute(
        f"SELECT n, {raw} FROM lines_read WHERE n <= ? ORDER BY n", [src.header_line]
    ).fetchall()
    found = [n for n, text in rows if reader_text(text or "", src.newline) == src.header]
    if row in found:
        return row
    if found:
        return found[0]
    raise src.fail("the header line is not where DuckDB's reader finds it", src.header_line)


def _join_quoted_line_breaks(con: duckdb.DuckDBPyConnection, delimiter: str, width: int) -> bool:
    """TEMP TABLEs lines_joined and lines_covered: records whose quoted field holds a line break.

    A line with an odd number of quotes opens or closes such a field. A line that opens one
    (its last field starts with a quote not closed on the line) and the next line with an
    odd number of quotes are one record when, joined by line breaks, they are fields of
    which only quoted ones hold a line break, within MAX_RECORD_LINES lines. That record
    is quarantined once, under its first line (``lines_joined``), and all its lines
    (``lines_covered``) leave the view. An opening line that closes nowhere and has the
    header's ``width`` fields (or one more, an empty one) is quarantined on its own: half a
    record never lands. With another width the reader's own check names it (a truncated
    last line: ``expected N fields, found M``).
    """
    # an odd count of quotes, without splitting every line into a list to count them
    odd = "contains(raw, '\"') AND (strlen(raw) - strlen(replace(raw, '\"', ''))) % 2 = 1"
    con.execute(f"CREATE TEMP TABLE lines_odd AS SELECT line, raw FROM lines_numbered WHERE {odd}")
    if not con.execute("SELECT count(*) FROM lines_odd").fetchone()[0]:
        con.execute("DROP TABLE lines_odd")
        return False
    d = f"\\x{{{ord(delimiter):x}}}"  # RE2's escape of any character
    quoted = '"(?:[^"]|"")*"'
    unquoted = f'[^"{d}\\n][^{d}\\n]*'
    field = f"(?:{quoted}|{unquoted}|)"
    record = f"{field}(?:{d}{field})*"
    opener = f'(?:{field}{d})*"(?:[^"]|"")*'
    con.execute(
        f"""
        CREATE TEMP TABLE lines_joined AS
        WITH pairs AS (
            SELECT line AS first, lead(line) OVER (ORDER BY line) AS last,
                   regexp_full_match(raw, {sql_literal(opener)}) AS opens, raw
            FROM lines_odd
        ), spans AS (  -- the lines of each span by number: a range join was quadratic
            SELECT p.first, p.last, string_agg(coalesce(n.raw, ''), chr(10) ORDER BY n.line) AS raw
            FROM (SELECT first, last, unnest(range(first, last + 1)) AS line FROM pairs
                  WHERE opens AND last - first < {MAX_RECORD_LINES}) AS p
            JOIN lines_numbered n ON n.line = p.line
            GROUP BY p.first, p.last
        ), records AS (
            SELECT first, last, raw FROM spans WHERE regexp_full_match(raw, {sql_literal(record)})
            QUALIFY coalesce(lag(last) OVER (ORDER BY first) < first, true)
        )
        SELECT first AS line, last, raw,
               'a quoted field holds a line break (the record runs over lines ' || first
               || '-' || last || '): a record must be one line' AS reason
        FROM records
        UNION ALL
        SELECT first, first, raw, {sql_literal(UNCLOSED)}
        FROM ({_quotes_undone("pairs", delimiter)}) AS pairs
        WHERE opens AND len({_split_sql("raw", delimiter)}) IN ({width}, {width + 1})
          AND first NOT IN (SELECT unnest(range(first, last + 1)) FROM records)
        """
    )
    con.execute(
        "CREATE TEMP TABLE lines_covered AS "
        "SELECT DISTINCT unnest(range(line, last + 1)) AS line FROM lines_joined"
    )
    con.execute("DROP TABLE lines_odd")
    return True


def _create_view(con: duckdb.DuckDBPyConnection, delimiter: str, joined: bool) -> None:
    """TEMP VIEW lines: the records after the header, split into fields; blank lines left out."""
    records = "SELECT line, raw, reason FROM lines_numbered"
    if joined:
        records = """SELECT line, raw, reason FROM lines_numbered
                      WHERE line NOT IN (SELECT line FROM lines_covered)
                      UNION ALL SELECT line, raw, reason FROM lines_joined"""
    # blank: nothing but white space and delimiters (a spreadsheet's trailing ",,,,," rows,
    # a line of a tab); the second test trims only the lines that start blank or with one
    blank = sql_literal(" \t\r\f\v" + delimiter)
    kept = (
        f"(SELECT * FROM ({records}) WHERE raw <> '' AND "
        f"((ascii(raw) > 32 AND NOT starts_with(raw, {sql_literal(delimiter)})) "
        f"OR trim(raw, {blank}) <> ''))"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW lines AS
        SELECT line, raw, {_split_sql("raw", delimiter)} AS fields,
               CASE WHEN reason IS NOT NULL THEN reason
                    WHEN NOT in_place
                    THEN csv_problem(raw, {sql_literal(delimiter)}, len(parts) % 2 = 1) END
                   AS reason
        FROM ({_quotes_undone(kept, delimiter)})
        """
    )
    # field_sql turns the masked delimiters of quoted fields back into this one.
    con.execute(f"CREATE OR REPLACE TEMP MACRO lines_delimiter() AS {sql_literal(delimiter)}")


def drop_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Free what ``load_lines`` made (the raw lines), once ``staged`` holds what it needs."""
    for kind, names in _TEMP.items():
        for name in names:
            con.execute(f"DROP {kind} IF EXISTS {name}")
    con.execute("DROP MACRO IF EXISTS lines_delimiter")


def _quotes_undone(source: str, delimiter: str) -> str:
    """SQL: the rows of ``source`` (a table, or a parenthesised query with its WHERE) with
    ``parts``, the raw line split on the quote character, and ``masked``, the line with its
    quoting undone (NULL for a line without quotes), for ``_split_sql``.

    No regex (too slow for millions of lines). The even parts are inside quotes: their
    delimiters are masked with a unit separator (``field_sql`` unmasks the fields it
    extracts). An empty odd part between two others is an escaped quote. Any other odd
    part lies between a closing and an opening quote, so it must start with a delimiter
    (but the first part) and end with one (but the last), blanks aside (``a, "x,y"``):
    where it does not, a quote sits inside an unquoted field, and the part is marked with
    chr(30) for the ``csv`` module to read the line. Only the short parts are rewritten,
    which halves the cost of the split. ``in_place``: the line has no quotes, or an even
    number of them and no part marked.
    """
    d = sql_literal(delimiter)
    # s[1] and s[-1] first: trimming every part would cost three times the split
    # blanks alone are a part only before the first quote or after the last: between a
    # closing and an opening quote ("1" "234") they join two fields into one
    starts = f"""CASE WHEN i = 1 OR s[1] = {d} THEN true WHEN s[1] = ' ' THEN
        starts_with(ltrim(s, ' '), {d}) OR (i = len(parts) AND trim(s, ' ') = '') ELSE false END"""
    ends = f"""CASE WHEN i = len(parts) OR s[-1] = {d} THEN true WHEN s[-1] = ' ' THEN
        ends_with(rtrim(s, ' '), {d}) OR (i = 1 AND trim(s, ' ') = '') ELSE false END"""
    masked = f"""array_to_string(list_transform(parts, lambda s, i:
        CASE WHEN i % 2 = 0 THEN replace(s, {d}, chr(31))
             WHEN s = '' THEN CASE WHEN i > 1 AND i < len(parts) THEN '"' ELSE '' END
             WHEN ({starts}) AND ({ends}) THEN s
             ELSE chr(30) END), '')"""
    return f"""SELECT *, masked IS NULL OR (len(parts) % 2 = 1 AND NOT contains(masked, chr(30)))
            AS in_place
        FROM (SELECT *, CASE WHEN len(parts) > 1 THEN {masked} END AS masked
              FROM (SELECT *, string_split(raw, '"') AS parts FROM {source}))"""


def _split_sql(column: str, delimiter: str) -> str:
    """SQL splitting a CSV line into its fields, with CSV quoting undone, over the columns
    of ``_quotes_undone``: by the delimiter where the line's quotes are all in place, else
    by the ``csv`` module (``csv_fields``), one line at a time."""
    d = sql_literal(delimiter)
    return f"""CASE WHEN masked IS NULL THEN string_split({column}, {d})
        WHEN in_place THEN string_split(masked, {d})
        ELSE csv_fields({column}, {d}) END"""


#: why the csv module, reading strictly, refuses a line (its own words are cryptic)
_TEXT_AFTER_QUOTE = (
    "text follows the closing quote of a field (a quote inside a quoted field is doubled)"
)


def _csv_fields(raw: str | None, delimiter: str) -> list[str]:
    """The line's fields as the ``csv`` module reads it. A line it cannot read at all (a
    line break outside quotes, as in a record joined over lines, which is quarantined
    whatever its fields) is split on the delimiter alone: a function that raises would
    fail the whole file."""
    try:
        return next(csv.reader([raw or ""], delimiter=delimiter), [])
    except csv.Error:
        return (raw or "").split(delimiter)


def _csv_problem(raw: str | None, delimiter: str, even_quotes: bool | None) -> str | None:
    """Why the ``csv`` module, reading strictly, refuses the line, in a quarantine's words;
    None where it reads it. Text after a closing quote (``"1"2``, which the module reads
    leniently as 12) is refused on any line. A quoted field not closed is refused where the
    quote count is even (a stray quote hid it from ``_join_quoted_line_breaks``); with an
    odd count that search has judged the line already (a record over lines, or a line
    opening a field, named by its field count where that is not the header's)."""
    try:
        next(csv.reader([raw or ""], delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        if "end of data" not in str(exc):
            return _TEXT_AFTER_QUOTE
        return UNCLOSED if even_quotes else None
    return None


def _register_csv_fields(con: duckdb.DuckDBPyConnection) -> None:
    """SQL functions ``csv_fields(line, delimiter)`` and ``csv_problem(line, delimiter,
    even_quotes)`` (once per database: its connections share their functions)."""
    for name, function, arguments, returns in (
        ("csv_fields", _csv_fields, ["VARCHAR", "VARCHAR"], "VARCHAR[]"),
        ("csv_problem", _csv_problem, ["VARCHAR", "VARCHAR", "BOOLEAN"], "VARCHAR"),
    ):
        known = f"SELECT count(*) FROM duckdb_functions() WHERE function_name = '{name}'"
        if not con.execute(known).fetchall()[0][0]:
            con.create_function(
                name,
                function,
                arguments,
                returns,
                null_handling="special",  # csv_problem answers NULL: no problem
                side_effects=False,
            )


def field_sql(index: int, list_column: str = "fields") -> str:
    """SQL for the stripped text of field ``index`` (0-based); NULL when absent or empty."""
    return f"nullif(trim(replace({list_column}[{index + 1}], chr(31), lines_delimiter())), '')"


def column_names(names: list[str]) -> list[str]:
    """The header's names, a column with no name called ``column_N`` (its 1-based
    position, ``_`` added while the header has a column of that name)."""
    taken = {name.lower() for name in names}
    out = []
    for index, name in enumerate(names):
        if not name:
            name = f"column_{index + 1}"
            while name.lower() in taken:
                name += "_"
            taken.add(name.lower())
        out.append(name)
    return out


def provenance_sql(names: list[str], read: set[str]) -> str:
    """SQL for ``provenance``: a JSON object of the header's columns not in ``read`` (the
    names, as written, that the reader takes a field from), each under its name as written.

    A column with no name is kept too, as ``column_N`` (its 1-based position, ``_`` added
    while the header has a column of that name): the header gives nothing to call it, but
    its values are the source's all the same. ``read`` may name it so (a mapping's
    ``ignore``).
    """
    kept = [
        f"{sql_literal(name)}, {field_sql(index)}"
        for index, name in enumerate(column_names(names))
        if name not in read
    ]
    return f"json_object({', '.join(kept)})" if kept else "NULL"
