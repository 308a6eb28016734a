"""UN Comtrade Plus: the CSV the website exports and the API's JSON response.

Both carry the same fields under the same camelCase names (``reporterCode``, ``flowCode``,
``cmdCode``, ``primaryValue``…), so both are first turned into one relation of text
columns named after those fields, and a single SELECT maps that relation to ``staged``.

* CSV: one record a line after the header. The website's export ends every data line
  with a separator the header lacks, so a line may carry one empty field too many.
* JSON: ``{"elapsedTime", "count", "data": [...], "error"}``; each element of ``data`` is
  a record whose "line" is its 1-based position in the array and whose raw text is the
  element as JSON, so the quarantine can show it. ``count`` is the number of records in
  ``data``; a file where they disagree lost records (a reply cut off between two records
  is still valid JSON) and is refused whole. A file without a whole-number count is read
  as it is. A file of several responses one after another (pages appended) is read
  whole: each response is checked, and its records numbered on from the previous one's.
  A response whose ``error`` is set is refused, whatever ``data`` holds, as ``tradesentry
  fetch`` refuses it: records beside an error may be a partial answer. Records are read
  as Python's json reads them (and so as fetch stores them): a key given twice has its
  last value.

Breakdown codes (second partner, customs procedure, mode of transport) are part of the
observation key: a row by mode of transport is not a duplicate of the all-modes total.
"""

from __future__ import annotations

import json
import re

import duckdb

from tradesentry.ingest.lines import field_sql, load_lines
from tradesentry.ingest.source import SourceFile, split_header
from tradesentry.ingest.staging import (
    create_staged,
    duplicate_column,
    figure_sql,
    month_sql,
    number_sql,
    sql_literal,
)
from tradesentry.text import plural

NAME = "comtrade"

# The fields the API returns (``getFinalData``), in the order it returns them.
FIELDS: tuple[str, ...] = (
    "typeCode", "freqCode", "refPeriodId", "refYear", "refMonth", "period",
    "reporterCode", "reporterISO", "reporterDesc", "flowCode", "flowDesc",
    "partnerCode", "partnerISO", "partnerDesc", "partner2Code", "partner2ISO", "partner2Desc",
    "classificationCode", "classificationSearchCode", "isOriginalClassification",
    "cmdCode", "cmdDesc", "aggrLevel", "isLeaf", "customsCode", "customsDesc",
    "mosCode", "motCode", "motDesc", "qtyUnitCode", "qtyUnitAbbr", "qty", "isQtyEstimated",
    "altQtyUnitCode", "altQtyUnitAbbr", "altQty", "isAltQtyEstimated",
    "netWgt", "isNetWgtEstimated", "grossWgt", "isGrossWgtEstimated",
    "cifvalue", "fobvalue", "primaryValue", "legacyEstimationFlag", "isReported", "isAggregate",
)  # fmt: skip
_REQUIRED = ("reporterCode", "partnerCode", "flowCode", "cmdCode", "primaryValue")
#: what a CSV header must hold to be read so, and how a message names such a file
HEADER_COLUMNS, LABEL = _REQUIRED, "a Comtrade Plus CSV"
# Fields holding codes, compared as text. The API writes them as JSON integers; a writer
# that makes every number a float (156.0) means the same code, so a whole-number float is
# read as the integer. A fraction (156.5) stays as written: no code, an error.
_CODE_FIELDS = frozenset(
    {"reporterCode", "partnerCode", "partner2Code", "motCode", "cmdCode", "qtyUnitCode",
     "period", "refPeriodId"}
)  # fmt: skip
# SQL: does the record ``sent`` give a key twice? Its keys are those of a record as the API
# sends it (which repeats none) or are counted: comparing saves hashing every record's keys.
_REPEATS = (
    f"keys <> [{', '.join(sql_literal(f) for f in FIELDS)}] AND list_unique(keys) < len(keys)"
)
# The API's error, quoted in the one-line message that refuses a response, is cut here.
_ERROR_LENGTH = 200

# Comtrade flow codes with a canonical flow, and the others, named for the quarantine.
FLOW_CODES: dict[str, str] = {"M": "import", "X": "export", "RM": "re-import", "RX": "re-export"}
OTHER_FLOW_CODES: dict[str, str] = {
    "DX": "domestic export",
    "FM": "foreign import",
    "MIP": "import for inward processing",
    "MOP": "import after outward processing",
    "XIP": "export after inward processing",
    "XOP": "export for outward processing",
}
# Flags kept in ``flags`` when true, under the source's own names: the estimation flags, and
# isAggregate (a figure UN Comtrade summed from more detailed records, not one it was given).
FLAG_FIELDS: tuple[str, ...] = (
    "isQtyEstimated", "isAltQtyEstimated", "isNetWgtEstimated", "isGrossWgtEstimated",
    "isAggregate",
)  # fmt: skip


def matches(src: SourceFile) -> bool:
    """A JSON object with a ``data`` array, or a CSV header with the Comtrade Plus fields."""
    if _is_json(src):
        return '"data"' in src.sample
    names = {n.lower() for n in split_header(src.header, ",")}
    return {f.lower() for f in _REQUIRED} <= names


def stage(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    records = _json_records(con, src) if _is_json(src) else _csv_records(con, src)
    create_staged(con, staged_select(records))
    restore_zeros(con, records, "aggrLevel", ("cmdCode", "aggrLevel"))


def _is_json(src: SourceFile) -> bool:
    return src.sample.lstrip("\ufeff \t\r\n").startswith("{")


# -- the two ways in ------------------------------------------------------------------------


def _csv_records(con: duckdb.DuckDBPyConnection, src: SourceFile) -> str:
    """SQL of the CSV's records: line, raw, reason and one text column per known field."""
    names = split_header(src.header, ",")
    lower = [n.lower() for n in names]
    # Names match in any case: which one holds the data? (Empty names are skipped.)
    duplicate = duplicate_column(names)
    if duplicate:
        raise src.fail(duplicate, src.header_line)
    missing = [f for f in _REQUIRED if f.lower() not in lower]
    if missing:
        raise src.fail(
            f"not a Comtrade Plus CSV: missing column(s) {', '.join(missing)}", src.header_line
        )
    load_lines(con, src, ",")
    n = len(names)
    columns = ", ".join(
        f"{field_sql(lower.index(f.lower())) if f.lower() in lower else 'NULL'} AS {f}"
        for f in FIELDS
    )
    # The website's export ends each data line with a separator the header does not have.
    width = f"""CASE WHEN len(fields) = {n} OR (len(fields) = {n + 1} AND fields[{n + 1}] = '')
                     THEN NULL ELSE 'expected {n} fields, found ' || len(fields) END"""
    return f"SELECT line, raw, coalesce(reason, {width}) AS reason, {columns} FROM lines"


def _json_records(con: duckdb.DuckDBPyConnection, src: SourceFile) -> str:
    """SQL of the JSON response's records, read once by DuckDB's JSON reader and unnested.

    A file may hold several responses one after another (the pages of a query, appended):
    each is checked on its own, and records are numbered on from one response to the next,
    so that a record of page 2 is never taken for the record of page 1 at its position.
    A ``null`` element is SQL NULL once unnested: it is named as any other non-object.
    """
    _read_json(con, src)
    _check_responses(con, src)
    columns = ", ".join(f"nullif(trim({_json_text(f)}), '') AS {f}" for f in FIELDS)
    return f"""SELECT line, coalesce(sent::VARCHAR, 'null') AS raw,
                      CASE WHEN sent IS NULL OR json_type(sent) <> 'OBJECT'
                           THEN 'record is not a JSON object' END AS reason,
                      {columns}
               FROM (SELECT line, sent,
                            CASE WHEN {_REPEATS} THEN {_last_wins()} ELSE sent END AS rec
                     FROM (SELECT (before + position)::BIGINT AS line, sent,
                                  json_keys(sent) AS keys
                           FROM (SELECT data, coalesce(sum(coalesce(len(data), 0)) OVER (
                                        ORDER BY response ROWS BETWEEN UNBOUNDED PRECEDING
                                        AND 1 PRECEDING), 0) AS before
                                 FROM comtrade_json) AS responses,
                                unnest(responses.data) WITH ORDINALITY AS u(sent, position)))"""


def _read_json(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    """TEMP TABLE comtrade_json: one row per response of the file."""
    con.execute("DROP TABLE IF EXISTS comtrade_json")
    try:
        con.execute(
            """
            CREATE TEMP TABLE comtrade_json AS
            SELECT row_number() OVER () AS response, error::VARCHAR AS error, data,
                   CASE WHEN json_type(count) IN ('UBIGINT', 'BIGINT')
                        THEN TRY_CAST(count AS HUGEINT) END AS count
            FROM read_json(?, columns = {'data': 'JSON[]', 'error': 'JSON', 'count': 'JSON'},
                           format = 'unstructured', compression = ?,
                           maximum_object_size = 2147483647)
            """,
            [src.read_path(), src.compression],
        )
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0].replace(src.read_path(), src.name)
        repeated = re.search(r'has duplicate key "([^"]*)"', reason)
        if repeated:  # DuckDB's words name its own path through the file: say it plainly
            reason = f"a response gives its key {repeated[1]!r} twice"
        elif "Expected ARRAY" in reason:  # "data" that is no list of records
            reason = "its data is not a list of records"
        raise src.fail(f"not a readable Comtrade JSON response ({reason})") from exc


def _check_responses(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    """Refuse the file if a response reports an error or lost records (its count), or is
    no response at all (a ``null`` or an object without ``data`` appended to the pages:
    it was read as a response of no records)."""
    responses = con.execute(
        "SELECT error, coalesce(len(data), 0), count, data IS NULL "
        "FROM comtrade_json ORDER BY response"
    ).fetchall()
    for i, (error, records, count, no_data) in enumerate(responses, start=1):
        which = f" (response {i} of {len(responses)} in the file)" if len(responses) > 1 else ""
        said = _api_error(error)
        if said:
            # fetch refuses such an answer: records beside an error may be a partial answer
            beside = (
                f" ({plural(records, 'record')} beside it, not read: the answer may be partial)"
                if records
                else ""
            )
            raise src.fail(f"the Comtrade API answered with an error{which}: {said}{beside}")
        if no_data:
            raise src.fail(
                f"not a Comtrade JSON response{which}: it has no data array; nothing was stored"
            )
        if count is not None and count > records:
            # Cut off between two records, a reply is still valid JSON: only its count tells.
            raise src.fail(
                f"an incomplete Comtrade JSON response{which}: its count says "
                f"{plural(int(count), 'record')} but its data holds {records:,} (cut off?); "
                "nothing was stored"
            )
        if count is not None and count < records:  # records added, or a count edited
            raise src.fail(
                f"not a Comtrade JSON response as the API writes it{which}: its count says "
                f"{plural(int(count), 'record')} but its data holds {records:,}, more than "
                "it counts; nothing was stored"
            )


def _api_error(error: str | None) -> str:
    """The API's ``error`` (JSON text) as one line, cut to a sensible length; '' for none.

    As ``tradesentry fetch`` reads it: any value JSON calls true is an error (a message, an
    object), and ``""``, ``null``, ``false``, ``0``, ``{}`` are none; so is a blank message,
    which says nothing.
    """
    if error is None:
        return ""
    try:
        value = json.loads(error)
    except ValueError:  # DuckDB gives JSON text; should it not, the text is the message
        value = error
    text = value if isinstance(value, str) else json.dumps(value) if value else ""
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_LENGTH else text[: _ERROR_LENGTH - 1] + "…"


def _json_text(field: str) -> str:
    """SQL: the text of a record's field (NULL when absent); a code written as a
    whole-number float is the integer (``_CODE_FIELDS``)."""
    key = sql_literal(field)
    text = f"rec->>{key}"
    if field not in _CODE_FIELDS:
        return text
    number = f"TRY_CAST({text} AS DOUBLE)"
    # A float's text has a point or an exponent: the cheap test spares the integers the rest.
    return f"""CASE WHEN regexp_matches({text}, '[.eE]') AND json_type(rec->{key}) = 'DOUBLE'
                         AND {number} = trunc({number}) AND abs({number}) < 1e15
                    THEN CAST({number} AS BIGINT)::VARCHAR ELSE {text} END"""


def _last_wins() -> str:
    """SQL: the record ``sent`` rebuilt with the last value of each field it gives twice.

    DuckDB's ``->>`` takes a repeated key's first value, Python's json (and so ``tradesentry
    fetch``, which stores what it reads) the last. The last is found among the record's
    values (``$.*``, in key order) by the last position of its key in ``keys``.
    """
    pairs = ", ".join(
        f"{sql_literal(f)}, (sent->'$.*')[len(keys) + 1 - "
        f"list_position(list_reverse(keys), {sql_literal(f)})]"
        for f in FIELDS
    )
    return f"json_object({pairs})"


# -- from Comtrade fields to the staged columns -------------------------------------------


def staged_select(records: str) -> str:
    """The SELECT turning a relation of Comtrade Plus fields into ``staged`` columns."""
    known = ", ".join(sql_literal(c) for c in FLOW_CODES)
    flow = (
        "CASE upper(flowCode) "
        + " ".join(
            f"WHEN {sql_literal(code)} THEN {sql_literal(name)}"
            for code, name in FLOW_CODES.items()
        )
        + " END"
    )
    other = (
        "CASE upper(flowCode) "
        + " ".join(
            f"WHEN {sql_literal(code)} THEN {sql_literal(f'{code} ({name})')}"
            for code, name in OTHER_FLOW_CODES.items()
        )
        + f" ELSE {quoted('flowCode')} END"
    )
    flags = ", ".join(f"CASE WHEN {truthy(f)} THEN {sql_literal(f)} END" for f in FLAG_FIELDS)
    given = has_quantity("qtyUnitCode", "qtyUnitAbbr")
    quantity = figure_sql(
        "quantity",
        f"CASE WHEN {given} THEN qty END",
        f"CASE WHEN {given} THEN {number_sql('qty')} END",
    )
    return f"""
        SELECT line, raw,
               coalesce(reason,
                   CASE WHEN flowCode IS NOT NULL AND upper(flowCode) NOT IN ({known})
                        THEN 'Comtrade flow code ' || {other}
                             || ' has no canonical flow (only M, X, RM and RX are kept)'
                        WHEN upper(freqCode) = 'A' AND length(period_text) = 6
                        THEN 'period ' || {quoted("period_text")} || ' is a month but freqCode is A'
                        -- another notation ("2021-02", "2021M02"): say which UN Comtrade's is
                        WHEN nullif(trim(period_text), '') IS NOT NULL
                             AND NOT regexp_full_match(trim(period_text), '[0-9]{{4}}([0-9]{{2}}){{0,2}}')
                        THEN 'period ' || {quoted("period_text")} || ' is not UN Comtrade''s '
                             || 'YYYY, YYYYMM or YYYYMMDD'
                        {period_day_reason("period_text", "freqCode")}
                   END) AS reason,
               coalesce(reporterCode, reporterISO) AS reporter,
               coalesce(partnerCode, partnerISO) AS partner,
               {flow} AS flow,
               classificationCode AS classification,
               cmdCode AS commodity,
               {breakdown_sql("partner2Code", "customsCode", "motCode")} AS breakdown,
               period_text,
               {period_sql("period_text", "freqCode")} AS period,
               coalesce(upper(freqCode),
                        CASE WHEN length(period_text) = 4 THEN 'A' ELSE 'M' END) AS freq,
               primaryValue AS value_text, {number_sql("primaryValue")} AS value,
               'USD' AS currency,
               {figure_sql("cif_value", "cifvalue", number_sql("cifvalue"))},
               {figure_sql("fob_value", "fobvalue", number_sql("fobvalue"))},
               {figure_sql("net_weight_kg", "netWgt", number_sql("netWgt"))},
               {quantity},
               CASE WHEN {given} THEN qtyUnitAbbr END AS quantity_unit,
               nullif(concat_ws(',', {flags}), '') AS flags
        FROM (SELECT *, coalesce(period, refPeriodId) AS period_text FROM ({records}))
    """


def quoted(expr: str) -> str:
    """SQL: the text of ``expr`` in single quotes, cut at 40 characters, for a quarantine reason."""
    return (
        f"chr(39) || left({expr}, 40) || CASE WHEN length({expr}) > 40 THEN '…' ELSE '' END "
        "|| chr(39)"
    )


def truthy(column: str) -> str:
    """SQL: is a boolean field true, whether written true, True or 1."""
    return f"coalesce({column} IN ('true', 'True', 'TRUE', '1'), false)"


def has_quantity(code: str, abbr: str) -> str:
    """SQL: does the record give a quantity (Comtrade writes -1 / N/A when it does not)."""
    return f"coalesce({code}, '') <> '-1' AND coalesce(upper({abbr}), 'N/A') <> 'N/A'"


def breakdown_sql(partner2: str, customs: str, mot: str) -> str:
    """SQL for ``breakdown``: '' for the totals (0 / C00 / 0), else all three codes spelt out."""
    p2 = f"coalesce({partner2}, '0')"
    cu = f"upper(coalesce({customs}, 'C00'))"
    mo = f"coalesce({mot}, '0')"
    return f"""CASE WHEN {p2} = '0' AND {cu} = 'C00' AND {mo} = '0' THEN ''
                    ELSE 'partner2=' || {p2} || ';customs=' || {cu} || ';mot=' || {mo} END"""


def period_sql(text: str, freq: str) -> str:
    """SQL for the first day of a Comtrade period: ``YYYY``, ``YYYYMM`` or ``YYYYMMDD``.

    A period written with a day is the API's ``refPeriodId``, the first day of its period
    (20210201 February 2021; 20210101 the year 2021 where ``freq`` is A): any other day is
    NULL, a date that does not exist (20210230, 20200100) as one within the period
    (20210315). Reading the month alone had landed them as February and March.
    """
    year, day = f"left({text}, 4)", _day(text)
    return f"""CASE WHEN length({text}) NOT IN (4, 6, 8) OR TRY_CAST({text} AS UINTEGER) IS NULL
                    THEN NULL
                    WHEN length({text}) = 8 AND coalesce({day} <> date_trunc(
                         CASE WHEN upper({freq}) = 'A' THEN 'year' ELSE 'month' END, {day}),
                         true)
                    THEN NULL
                    WHEN length({text}) = 4 OR upper({freq}) = 'A' THEN {month_sql(year, "'1'")}
                    ELSE {month_sql(year, f"substr({text}, 5, 2)")} END"""


def _day(text: str) -> str:
    """SQL: the date a ``YYYYMMDD`` period writes, NULL where there is no such date."""
    return (
        f"TRY_CAST(left({text}, 4) || '-' || substr({text}, 5, 2) || '-' || substr({text}, 7, 2)"
        " AS DATE)"
    )


def period_day_reason(text: str, freq: str) -> str:
    """SQL WHEN clause: the reason a ``YYYYMMDD`` period that is a real date is no period
    (``period_sql``): a day other than its month's first (its year's, where ``freq`` is A).
    A date that does not exist is left to validation's "impossible period"."""
    day = _day(text)
    dated = f"length({text}) = 8 AND regexp_full_match({text}, '[0-9]{{8}}')"
    return f"""WHEN {dated} AND upper({freq}) = 'A' AND {day} <> date_trunc('year', {day})
                        THEN 'period ' || {quoted(text)} || ' is a day within its year: UN '
                             || 'Comtrade dates a year by its first day (YYYY0101) or writes YYYY'
                        WHEN {dated} AND {day} <> date_trunc('month', {day})
                        THEN 'period ' || {quoted(text)} || ' is a day within its month: UN '
                             || 'Comtrade dates a month by its first day (YYYYMM01) or writes '
                             || 'YYYYMM'"""


# -- HS codes that lost their leading zero -------------------------------------------------

#: UN Comtrade's HS classifications: HS as reported, and its editions H0 (1992) to H6 (2022)
HS_CLASSIFICATIONS: tuple[str, ...] = ("HS", "H0", "H1", "H2", "H3", "H4", "H5", "H6")


def restore_zeros(
    con: duckdb.DuckDBPyConnection, records: str, level: str, names: tuple[str, str]
) -> None:
    """Give an HS code of ``staged`` that lost its leading zero the zero back, and say so
    once for the file (TEMP TABLE staged_notes, which validation adds to the ingest's notes).

    UN Comtrade's HS codes have 2, 4 or 6 digits (chapter, heading, subheading), and
    chapters 01 to 09 begin with 0, which a spreadsheet or a JSON writer taking the code for
    a number drops: 010110 (live horses) written 10110 had landed as a series of its own
    beside 010110, and read as chapter 10. A code of digits of odd length, 5 at most, whose
    first digit is not 0, can be no other code than itself with a 0 before it: it gets the
    zero back where that makes the length of its aggregation level (the record's ``level``,
    where it gives 2, 4 or 6) or, where the record gives none (or 0, the total's), always.
    A code that does not fit the level it gives (10110 at level 4) is quarantined: which
    code was meant cannot be told. ``names``: the file's names of the code's and the
    level's columns, for the note and the reason.

    Such codes are rare, so ``staged`` is searched for them first, and the level read from
    ``records`` (the reader's relation of the file's fields, with ``line``) for their lines
    alone: a file without one is not read again.
    """
    code_name, level_name = names
    con.execute("CREATE OR REPLACE TEMP TABLE staged_notes (note VARCHAR)")
    hs = ", ".join(sql_literal(c) for c in HS_CLASSIFICATIONS)
    # (the readers trim their fields; the length spares most codes the expression)
    short = (
        f"reason IS NULL AND length(commodity) IN (1, 3, 5) "
        f"AND regexp_full_match(commodity, '[1-9]([0-9]{{2}}){{0,2}}') "
        f"AND upper(trim(classification)) IN ({hs})"
    )
    if not con.execute(f"SELECT count(*) FROM staged WHERE {short}").fetchone()[0]:
        return
    number = f"TRY_CAST(trim({level}) AS DOUBLE)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE short_codes AS
        SELECT line, commodity AS written, level,
               coalesce(level, length(commodity) + 1) = length(commodity) + 1 AS restored
        FROM (SELECT line, commodity FROM staged WHERE {short})
        JOIN (SELECT line, CASE WHEN {number} IN (2, 4, 6) THEN CAST({number} AS INTEGER) END
                           AS level
              FROM ({records}) WHERE line IN (SELECT line FROM staged WHERE {short})) USING (line)
        """
    )
    con.execute(
        f"""
        UPDATE staged SET reason = 'commodity ' || {quoted("s.written")} || ' has '
                || length(s.written) || CASE WHEN length(s.written) = 1 THEN ' digit' ELSE
                ' digits' END || ', but its {level_name} says ' || s.level
                || ': which HS code it stands for cannot be told'
        FROM short_codes s WHERE staged.line = s.line AND NOT s.restored
        """
    )
    con.execute(
        "UPDATE staged SET commodity = '0' || s.written "
        "FROM short_codes s WHERE staged.line = s.line AND s.restored"
    )
    restored, first = con.execute(
        "SELECT count(*), arg_min(written, line) FROM short_codes WHERE restored"
    ).fetchone()
    con.execute("DROP TABLE short_codes")
    if restored:
        con.execute(
            "INSERT INTO staged_notes VALUES (?)",
            [
                f"{plural(restored, 'row')} {'gives' if restored == 1 else 'give'} an HS code "
                f"without its leading zero, which was put back ({code_name} {first} is stored "
                f"as 0{first}; a spreadsheet or a program had taken the code for a number)"
            ],
        )
