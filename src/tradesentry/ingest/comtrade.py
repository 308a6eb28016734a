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

Breakdown codes (second partner, customs procedure, mode of transport) are part of the
observation key: a row by mode of transport is not a duplicate of the all-modes total.
"""

from __future__ import annotations

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
    """
    con.execute("DROP TABLE IF EXISTS comtrade_json")
    try:
        con.execute(
            """
            CREATE TEMP TABLE comtrade_json AS
            SELECT row_number() OVER () AS response, error::VARCHAR AS error, data,
                   CASE WHEN json_type(count) IN ('UBIGINT', 'BIGINT')
                        THEN TRY_CAST(count AS HUGEINT) END AS count
            FROM read_json(?, columns = {'data': 'JSON[]', 'error': 'JSON', 'count': 'JSON'},
                           format = 'auto', compression = ?, maximum_object_size = 2147483647)
            """,
            [src.read_path(), src.compression],
        )
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0].replace(src.read_path(), src.name)
        raise src.fail(f"not a readable Comtrade JSON response ({reason})") from exc
    responses = con.execute(
        "SELECT error, coalesce(len(data), 0), count FROM comtrade_json ORDER BY response"
    ).fetchall()
    for i, (error, records, count) in enumerate(responses, start=1):
        which = f" (response {i} of {len(responses)} in the file)" if len(responses) > 1 else ""
        error = (error or "").strip('"')
        if error and error != "null" and not records:
            raise src.fail(f"the Comtrade API answered with an error{which}: {error}")
        if count is not None and count != records:
            # Cut off between two records, a reply is still valid JSON: only its count tells.
            raise src.fail(
                f"an incomplete Comtrade JSON response{which}: its count says "
                f"{plural(int(count), 'record')} but its data holds {records:,} (cut off?); "
                "nothing was stored"
            )
    columns = ", ".join(f"nullif(trim(rec->>{sql_literal(f)}), '') AS {f}" for f in FIELDS)
    return f"""SELECT (before + position)::BIGINT AS line, rec::VARCHAR AS raw,
                      CASE WHEN json_type(rec) <> 'OBJECT'
                           THEN 'record is not a JSON object' END AS reason,
                      {columns}
               FROM (SELECT data, coalesce(sum(coalesce(len(data), 0)) OVER (
                                 ORDER BY response ROWS BETWEEN UNBOUNDED PRECEDING
                                 AND 1 PRECEDING), 0) AS before
                     FROM comtrade_json) AS responses,
                    unnest(responses.data) WITH ORDINALITY AS u(rec, position)"""


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
    """SQL for the first day of a Comtrade period: ``YYYY``, ``YYYYMM`` or ``YYYYMMDD``."""
    year = f"left({text}, 4)"
    return f"""CASE WHEN length({text}) NOT IN (4, 6, 8) OR TRY_CAST({text} AS UINTEGER) IS NULL
                    THEN NULL
                    WHEN length({text}) = 4 OR upper({freq}) = 'A' THEN {month_sql(year, "'1'")}
                    ELSE {month_sql(year, f"substr({text}, 5, 2)")} END"""
