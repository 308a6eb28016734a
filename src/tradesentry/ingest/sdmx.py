"""SDMX-CSV: Eurostat Comext first, and the IMF/OECD style as far as it maps to trade.

SDMX-CSV has one row per (series key, period, indicator): a Comext observation is two
lines, ``VALUE_IN_EUROS`` and ``QUANTITY_IN_100KG``. Lines with the same key (every column
but the indicator and the attributes) are joined into one observation:

* the anchor is the line of the primary value (VALUE_IN_EUROS; for IMF-style indicators
  the CIF import or FOB export value); without one, the first weight or quantity line;
* every other line of the key sets ``main_line`` to the anchor, so it counts as read and
  accepted but adds no observation of its own; a second line of the same indicator is a
  duplicate, quarantined with the line of the first;
* an empty OBS_VALUE (how Comext publishes a confidential figure) is NULL, never zero,
  and the observation is flagged ``confidential`` (``weight confidential`` for the weight);
  ``NaN``, ``NA`` and ``:`` are empty too, flagged ``not available`` (``weight not
  available``) unless the status says ``c``;
  such a value, or one never reported beside a weight, is ``withheld``, not missing.
* a figure other than the primary value that is not a number, not finite or negative
  quarantines its own line, naming the indicator; the primary value is checked with
  every other format's (``validate``).

Country codes are ISO-2 with Eurostat's own (EL, UK) and ``WORLD``; validation normalises
them. Indicators tradesentry cannot place (a trade balance, an index) are quarantined with
their name, as are quarterly periods.
"""

from __future__ import annotations

import duckdb

from tradesentry.ingest.comtrade import quoted
from tradesentry.ingest.lines import field_sql, load_lines
from tradesentry.ingest.source import SourceFile, guess_delimiter, split_header
from tradesentry.ingest.staging import (
    create_staged,
    duplicate_column,
    month_sql,
    number_sql,
    scaled_sql,
)

NAME = "sdmx"
#: what a header must hold to be read so, and how a message names such a file
HEADER_COLUMNS, LABEL = ("TIME_PERIOD", "OBS_VALUE"), "an SDMX-CSV file"

# Canonical role -> the SDMX-CSV column names that carry it (upper case, first match wins).
_ALIASES: dict[str, tuple[str, ...]] = {
    "dataflow": ("DATAFLOW", "STRUCTURE_ID"),
    "freq": ("FREQ",),
    "reporter": ("REPORTER", "REF_AREA", "REPORTING_COUNTRY", "COUNTRY", "GEO"),
    "partner": ("PARTNER", "COUNTERPART_AREA", "COUNTERPART_COUNTRY", "PARTNER_COUNTRY"),
    "flow": ("FLOW", "TRADE_FLOW"),
    "commodity": ("PRODUCT", "COMMODITY", "CMD", "PRODUCT_CODE", "HS"),
    "indicator": ("INDICATORS", "INDICATOR", "MEASURE"),
    "period": ("TIME_PERIOD",),
    "value": ("OBS_VALUE",),
    "status": ("OBS_FLAG", "OBS_STATUS", "CONF_STATUS"),
    "unit_mult": ("UNIT_MULT",),
    "currency": ("CURRENCY", "UNIT_MEASURE", "UNIT"),
}
_NEVER_LABELLED = {*_ALIASES["period"], *_ALIASES["value"]}
# Attributes that neither identify a series nor carry a value: not part of the join key.
_IGNORED = {"LAST UPDATE", "LAST_UPDATE", "DECIMALS", "ACTION", "STRUCTURE", "STRUCTURE_NAME",
            "OBS_PRE_BREAK", "COMMENT_OBS", "TIME_FORMAT", "DATAFLOW_NAME"}  # fmt: skip
_VALUE_ROLES = ("value", "cif", "fob")


def matches(src: SourceFile) -> bool:
    names = set(_names(src))
    return {"TIME_PERIOD", "OBS_VALUE"} <= names


def _written(src: SourceFile) -> list[str]:
    """Column names as written, without the labels of a ``labels=both`` export."""
    header = split_header(src.header, guess_delimiter(src.header))
    return [n.split(":")[0].strip() for n in header]


def _names(src: SourceFile) -> list[str]:
    """Column names, upper case. A column repeating an earlier name in other case is named
    '' and not read: OECD's "CSV with labels" puts each code's label beside its column under
    the same name (``MEASURE``, ``Measure``). Period and value columns have no labels: a
    second one in any case is a second column (refused in ``stage``)."""
    written = _written(src)
    names: list[str] = []
    for j, name in enumerate(written):
        upper = name.upper()
        label = upper in names and name not in written[:j] and upper not in _NEVER_LABELLED
        names.append("" if label else upper)
    return names


def stage(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    names = _names(src)
    duplicate = duplicate_column(names)  # labels aside: which of two holds the data?
    if duplicate:
        raise src.fail(duplicate, src.header_line)
    labelled = ":" in src.header  # labels=both: 'freq: Time frequency', values 'M: Monthly'
    col = {
        role: next((n for n in aliases if n in names), None) for role, aliases in _ALIASES.items()
    }
    for role in ("reporter", "period", "value"):
        if col[role] is None:
            raise src.fail(
                f"SDMX-CSV without a {role} column ({' or '.join(_ALIASES[role])})", src.header_line
            )
    known = {c for c in col.values() if c}
    extras = [n for n in names if n not in known and n not in _IGNORED and n]
    delimiter = guess_delimiter(src.header)
    load_lines(con, src, delimiter)

    def field(name: str | None) -> str:
        if name is None:
            return "NULL"
        sql = field_sql(names.index(name))
        dimension = name not in {col["value"], col["period"], col["dataflow"]}
        return f"trim(split_part({sql}, ':', 1))" if labelled and dimension else sql

    fields = ", ".join(f"{field(c)} AS {role}" for role, c in col.items())
    extra = ", ".join(f"{field(n)} AS x_{i}" for i, n in enumerate(extras))
    records = f"""SELECT line, raw, reason, len(fields) AS width, {fields}
                         {", " + extra if extra else ""} FROM lines"""
    key = ["dataflow", "reporter", "partner", "flow_name", "commodity", "freq", "period"]
    key += [f"x_{i}" for i in range(len(extras))]
    create_staged(con, _staged_sql(records, len(names), key))


def _role_sql() -> str:
    """SQL CASE: what a line's indicator is (value, cif, fob, weight, quantity or NULL)."""
    return """CASE WHEN indicator IS NULL THEN 'value'
                   WHEN upper(indicator) IN ('VALUE_IN_EUROS', 'VALUE') THEN 'value'
                   WHEN upper(indicator) IN ('QUANTITY_IN_100KG', 'QUANTITY_IN_KG',
                                             'NET_MASS', 'WEIGHT') THEN 'weight'
                   WHEN upper(indicator) = 'SUPPLEMENTARY_QUANTITY' THEN 'quantity'
                   WHEN regexp_matches(upper(indicator), '^T?MG_CIF') THEN 'cif'
                   WHEN regexp_matches(upper(indicator), '^T?[MX]G_FOB') THEN 'fob'
              END"""


#: SQL: a blank OBS_VALUE that is a mark for "not available" (NaN, NA, ":"), not Comext's
#: empty confidential figure, unless its status says confidential
_MARK = """(NOT (coalesce(lower(status) = 'c', false)
                 OR (status IS NULL AND nullif(trim(value), '') IS NULL)))"""


#: a unit of money: a currency code, or a code of thousands, millions or billions of it
#: (Eurostat's THS_EUR, MIO_EUR, BIO_EUR), which ``_UNIT_SCALE`` multiplies out
_MONEY_UNIT = "((THS|MIO|BIO)_)?[A-Z]{3}"
#: SQL: the multiplier a unit of money's prefix stands for; MIO_EUR had landed as euros
_UNIT_SCALE = """CASE upper(left(trim(coalesce(currency, '')), 4))
                     WHEN 'THS_' THEN 1e3 WHEN 'MIO_' THEN 1e6 WHEN 'BIO_' THEN 1e9 ELSE 1 END"""


def _staged_sql(records: str, width: int, key: list[str]) -> str:
    """The SELECT joining indicator lines into observations (see the module docstring)."""
    over = f"PARTITION BY {', '.join(key)}"
    blank = "(value IS NULL OR upper(value) IN ('NAN', 'NA', ':'))"
    mult = "CASE WHEN upper(indicator) = 'QUANTITY_IN_100KG' THEN 100.0 ELSE 1.0 END"
    scale = f"power(10, coalesce(TRY_CAST(unit_mult AS INTEGER), 0)) * {_UNIT_SCALE}"
    indicator_flow = """CASE WHEN regexp_matches(upper(indicator), '^T?MG_') THEN 'import'
                             WHEN regexp_matches(upper(indicator), '^T?XG_') THEN 'export' END"""
    flow_name = f"""coalesce(CASE WHEN upper(flow) IN ('1', 'M', 'IMP', 'IMPORT', 'IMPORTS') THEN 'import'
                                   WHEN upper(flow) IN ('2', 'X', 'EXP', 'EXPORT', 'EXPORTS') THEN 'export'
                                   ELSE lower(flow) END, {indicator_flow})"""
    period = _period_sql("period")
    reason = f"""coalesce(reason,
        CASE WHEN width <> {width} THEN 'expected {width} fields, found ' || width
             WHEN role IS NULL THEN 'indicator ' || {quoted("indicator")}
                  || ' is not a trade value, weight or quantity tradesentry reads'
             WHEN regexp_matches(period, '^\\d{{4}}-?Q\\d$') OR upper(freq) = 'Q'
             THEN 'quarterly period ' || {quoted("period")} || ': only monthly and annual data'
             -- weeks, half-years, two-month periods, days: named, not "impossible"
             WHEN regexp_full_match(period, '\\d{{4}}-?[WSBHD]\\d{{1,3}}')
                  OR upper(freq) IN ('W', 'S', 'B', 'H', 'D')
             THEN 'period ' || {quoted("period")} || ' is not a month or a year: only monthly and '
                  || 'annual data'
             WHEN flow_name IS NULL THEN 'no flow: neither a FLOW column nor a trade indicator'
             WHEN nullif(trim(unit_mult), '') IS NOT NULL
                  AND NOT regexp_full_match(trim(unit_mult), '[+-]?[0-9]{{1,2}}([.]0*)?')
             THEN 'UNIT_MULT ' || {quoted("unit_mult")}
                  || ' is not a power of ten (a whole number such as 3, for thousands)'
             WHEN coalesce(TRY_CAST(unit_mult AS DOUBLE), 0) <> 0 AND {_UNIT_SCALE} <> 1
             THEN 'unit ' || {quoted("currency")} || ' and UNIT_MULT ' || {quoted("unit_mult")}
                  || ' both scale the value: which one does is not said'
             WHEN role IN {_VALUE_ROLES} AND nullif(trim(currency), '') IS NOT NULL
                  AND NOT regexp_full_match(upper(trim(currency)), '{_MONEY_UNIT}')
             THEN 'unit ' || {quoted("currency")} || ' is not an amount of money (a currency '
                  || 'code, or THS_, MIO_ or BIO_ and one)'
             WHEN role <> 'value' AND NOT blank AND num IS NULL
             THEN indicator || ' ' || {quoted("value")} || ' is not a number'
             WHEN role <> 'value' AND NOT isfinite(num)
             THEN indicator || ' ' || {quoted("value")} || ' is not finite'
             WHEN role <> 'value' AND num < 0
             THEN 'negative ' || indicator || ' ' || {quoted("value")}
        END)"""
    # The anchor of a key: the first line of its first role, primary value before weight.
    priority = """CASE role WHEN 'value' THEN 0
                            WHEN 'cif' THEN CASE flow_name WHEN 'import' THEN 1 ELSE 2 END
                            WHEN 'fob' THEN CASE flow_name WHEN 'import' THEN 2 ELSE 1 END
                            WHEN 'weight' THEN 3 ELSE 4 END"""

    def first(role: str, what: str = "num") -> str:
        return f"max({what}) FILTER (WHERE role = '{role}' AND nth = 1) OVER ({over})"

    num = scaled_sql(number_sql("value"), f"{mult} * {scale}")
    return f"""
    WITH parsed AS (
        SELECT *, {_role_sql()} AS role, {flow_name} AS flow_name, {blank} AS blank,
               CASE WHEN NOT {blank} THEN {num} END AS num  -- a mark is no figure, NaN too
        FROM ({records})
    ), checked AS (
        SELECT *, {reason} AS why FROM parsed
    ), good AS (
        SELECT *, row_number() OVER ({over}, role ORDER BY line) AS nth, {priority} AS priority
        FROM checked WHERE why IS NULL
    ), joined AS (
        SELECT *,
               first_value(line) OVER ({over} ORDER BY nth > 1, priority, line) AS anchor,
               min(line) OVER ({over}, role) AS first_of_role,
               first_value(value) OVER ({over}, role ORDER BY line) AS first_value_of_role,
               first_value(num) OVER ({over}, role ORDER BY line) AS first_num_of_role,
               {first("cif")} AS cif_num, {first("fob")} AS fob_num,
               {first("weight")} AS weight_num, {first("quantity")} AS quantity_num,
               bool_or(blank) FILTER (WHERE role = 'weight' AND nth = 1) OVER ({over}) AS weight_blank,
               bool_or(blank AND {_MARK}) FILTER (WHERE role = 'weight' AND nth = 1)
                   OVER ({over}) AS weight_marked,
               {first("value", "indicator")} AS value_indicator,
               max(regexp_extract(indicator, '_([A-Z]{{3}})$', 1)) OVER ({over}) AS indicator_currency
        FROM good
    )
    SELECT line, raw,
           CASE WHEN nth > 1 THEN 'same observation as line ' || first_of_role || CASE
                WHEN num IS NOT DISTINCT FROM first_num_of_role THEN ''
                ELSE ', with another value: ' || {quoted("coalesce(value, '')")} || ' against '
                     || {quoted("coalesce(first_value_of_role, '')")} END END AS reason,
           CASE WHEN nth = 1 AND line <> anchor THEN anchor END AS main_line,
           reporter, coalesce(partner, 'WORLD') AS partner, flow_name AS flow,
           CASE WHEN dataflow LIKE 'ESTAT:%' THEN 'CN8' ELSE 'HS' END AS classification,
           coalesce(commodity, 'TOTAL') AS commodity,
           period AS period_text, {period} AS period,
           coalesce(upper(freq), CASE WHEN length(period) = 4 THEN 'A' ELSE 'M' END) AS freq,
           {_period_freq_sql("period")} AS period_freq,
           CASE WHEN role IN {_VALUE_ROLES} AND NOT blank THEN value END AS value_text,
           CASE WHEN role IN {_VALUE_ROLES} AND NOT blank THEN num END AS value,
           NOT (role IN {_VALUE_ROLES} AND NOT blank) AS withheld,
           coalesce(CASE WHEN regexp_full_match(upper(trim(currency)), '{_MONEY_UNIT}')
                         THEN right(upper(trim(currency)), 3) END,
                    nullif(indicator_currency, ''),
                    CASE WHEN upper(indicator) LIKE '%EUROS%' OR dataflow LIKE 'ESTAT:%'
                         THEN 'EUR' END) AS currency,
           cif_num AS cif_value, fob_num AS fob_value, weight_num AS net_weight_kg,
           quantity_num AS quantity,
           CASE WHEN quantity_num IS NOT NULL THEN 'supplementary unit' END AS quantity_unit,
           nullif(concat_ws(',',
               CASE WHEN role NOT IN {_VALUE_ROLES} AND value_indicator IS NULL
                    THEN 'value not reported'
                    WHEN role IN {_VALUE_ROLES} AND blank
                    -- Comext's confidential figure is an empty OBS_VALUE; NaN, NA and ":"
                    -- are marks for "not available", unless the status says confidential
                    THEN CASE WHEN {_MARK} THEN 'not available' ELSE 'confidential' END END,
               CASE WHEN weight_marked THEN 'weight not available'
                    WHEN weight_blank THEN 'weight confidential' END,
               CASE WHEN status IS NOT NULL THEN 'status=' || status END), '') AS flags
    FROM joined
    UNION ALL
    SELECT line, raw, why AS reason, NULL AS main_line, reporter, partner, flow_name AS flow,
           NULL AS classification, commodity, period AS period_text, NULL AS period, freq,
           NULL AS period_freq,
           value AS value_text, NULL AS value, NULL AS withheld, NULL AS currency, NULL AS cif_value,
           NULL AS fob_value, NULL AS net_weight_kg, NULL AS quantity, NULL AS quantity_unit,
           NULL AS flags
    FROM checked WHERE why IS NOT NULL
    """


def _month_sql(text: str) -> str:
    """SQL for the month of an SDMX period as written ('' when it names no month)."""
    return f"regexp_extract({text}, '^\\d{{4}}-?M?(\\d{{2}})(-01)?$', 1)"


def _period_freq_sql(text: str) -> str:
    """SQL: the frequency an SDMX period is written in, 'A' for 2023, 'M' for 2023-01."""
    return f"""CASE WHEN regexp_full_match({text}, '\\d{{4}}') THEN 'A'
                    WHEN {_month_sql(text)} <> '' THEN 'M' END"""


def _period_sql(text: str) -> str:
    """SQL for the first day of an SDMX period: 2023-01, 2023-M01, 2023M01, 2023 or 2023-01-01."""
    month = _month_sql(text)
    return f"""CASE WHEN regexp_full_match({text}, '\\d{{4}}') THEN {month_sql(text, "'1'")}
                    WHEN {month} <> '' THEN {month_sql(f"left({text}, 4)", month)} END"""
