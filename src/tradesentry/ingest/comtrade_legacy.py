"""The legacy UN Comtrade CSV (comtrade.un.org/db, the API before Comtrade Plus).

Header: ``Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow
Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,…,Commodity Code,Commodity,
Qty Unit Code,Qty Unit,Qty,…,Netweight (kg),Gross weight (kg),Trade Value (US$),CIF Trade
Value (US$),FOB Trade Value (US$),Flag``. The service served it as ISO-8859-1, which
``stage_file`` already forces for this reader. Trade flow codes: 1 import, 2 export,
3 re-export, 4 re-import. ``Flag`` is the estimation flag: 2 quantity, 4 net weight,
6 both estimated. Periods are ``YYYYMM`` (monthly) or ``YYYY`` (annual); a ``YYYYMMDD`` is
read as Comtrade Plus reads it (``comtrade.period_sql``), and an HS code that lost its
leading zero gets it back at its ``Aggregate Level`` (``comtrade.restore_zeros``).
"""

from __future__ import annotations

import duckdb

from tradesentry.ingest.comtrade import (
    breakdown_sql,
    period_day_reason,
    period_sql,
    quoted,
    restore_zeros,
)
from tradesentry.ingest.lines import field_sql, load_lines
from tradesentry.ingest.source import SourceFile, split_header
from tradesentry.ingest.staging import create_staged, duplicate_column, figure_sql, number_sql

NAME = "comtrade-legacy"

_REQUIRED = ("Trade Flow Code", "Reporter Code", "Partner Code", "Commodity Code", "Period",
             "Trade Value (US$)")  # fmt: skip
#: what a header must hold to be read so, and how a message names such a file
HEADER_COLUMNS, LABEL = _REQUIRED, "a legacy Comtrade CSV"
# Column -> name in the SELECT; the breakdown columns appear only in the full extract.
_COLUMNS = {
    "Classification": "classification",
    "Period": "period",
    "Trade Flow Code": "flow_code",
    "Trade Flow": "flow_name",
    "Reporter Code": "reporter_code",
    "Reporter": "reporter_name",
    "Partner Code": "partner_code",
    "Partner": "partner_name",
    "2nd Partner Code": "partner2",
    "Customs Proc. Code": "customs",
    "Mode of Transport Code": "mot",
    "Commodity Code": "commodity",
    "Aggregate Level": "aggr_level",
    "Qty Unit Code": "qty_unit_code",
    "Qty Unit": "qty_unit",
    "Qty": "qty",
    "Netweight (kg)": "net_weight",
    "Trade Value (US$)": "trade_value",
    "CIF Trade Value (US$)": "cif_value",
    "FOB Trade Value (US$)": "fob_value",
    "Flag": "flag",
}
_FLOWS = {"1": "import", "2": "export", "3": "re-export", "4": "re-import"}


def matches(src: SourceFile) -> bool:
    names = {n.lower() for n in split_header(src.header, ",")}
    return {c.lower() for c in _REQUIRED} <= names


def stage(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    header = split_header(src.header, ",")
    names = [n.lower() for n in header]
    duplicate = duplicate_column(header)  # names match in any case: which one holds the data?
    if duplicate:
        raise src.fail(duplicate, src.header_line)
    missing = [c for c in _REQUIRED if c.lower() not in names]
    if missing:
        raise src.fail(
            f"not a legacy Comtrade CSV: missing column(s) {', '.join(missing)}", src.header_line
        )
    load_lines(con, src, ",")
    columns = ", ".join(
        f"{field_sql(names.index(c.lower())) if c.lower() in names else 'NULL'} AS {alias}"
        for c, alias in _COLUMNS.items()
    )
    flow = "CASE flow_code " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _FLOWS.items())
    flow += " ELSE lower(flow_name) END"
    given = "coalesce(qty_unit_code, '1') <> '1'"  # unit 1 is "No Quantity"
    quantity = figure_sql(
        "quantity",
        f"CASE WHEN {given} THEN qty END",
        f"CASE WHEN {given} THEN {number_sql('qty')} END",
    )
    records = f"SELECT line, raw, reason, fields, {columns} FROM lines"
    create_staged(
        con,
        f"""
        SELECT line, raw,
               coalesce(reason,
                   CASE WHEN len(fields) <> {len(names)}
                        THEN 'expected {len(names)} fields, found ' || len(fields)
                        WHEN flow_code NOT IN ('1', '2', '3', '4')
                        THEN 'unknown legacy Comtrade trade flow code ' || {quoted("flow_code")}
                        {period_day_reason("period", "'M'")}
                   END) AS reason,
               coalesce(reporter_code, reporter_name) AS reporter,
               coalesce(partner_code, partner_name) AS partner,
               {flow} AS flow,
               classification, commodity,
               {breakdown_sql("partner2", "customs", "mot")} AS breakdown,
               period AS period_text,
               {period_sql("period", "CASE WHEN length(period) = 4 THEN 'A' END")} AS period,
               CASE WHEN length(period) = 4 THEN 'A' ELSE 'M' END AS freq,
               trade_value AS value_text, {number_sql("trade_value")} AS value,
               'USD' AS currency,
               {figure_sql("cif_value", "cif_value", number_sql("cif_value"))},
               {figure_sql("fob_value", "fob_value", number_sql("fob_value"))},
               {figure_sql("net_weight_kg", "net_weight", number_sql("net_weight"))},
               {quantity},
               CASE WHEN {given} THEN qty_unit END AS quantity_unit,
               CASE flag WHEN '2' THEN 'isQtyEstimated' WHEN '4' THEN 'isNetWgtEstimated'
                         WHEN '6' THEN 'isQtyEstimated,isNetWgtEstimated' END AS flags
        FROM ({records})
        """,
    )
    restore_zeros(con, records, "aggr_level", ("Commodity Code", "Aggregate Level"))
