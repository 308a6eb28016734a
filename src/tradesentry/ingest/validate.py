"""Check staged records once for every format, and land them: observations or quarantine.

Each record gets the first reason that applies, in a fixed order, so the quarantine says
one clear thing per line. Records that pass become observations; the rest are kept in the
quarantine with their raw text, so ``rows_read = rows_accepted + rows_quarantined``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from tradesentry.countries import normalise_many
from tradesentry.schema import FLOWS, OBSERVATION_COLUMNS, OBSERVATION_KEY

# Duplicates are judged on normalised codes: "CN" and "CHN" in one file are the same partner.
_CODED_KEY = ", ".join(
    {"reporter": "reporter_code", "partner": "partner_code"}.get(c, c) for c in OBSERVATION_KEY
)


@dataclass(frozen=True)
class Landed:
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    observations: int


def land(con: duckdb.DuckDBPyConnection, release_id: int) -> Landed:
    """Validate TEMP TABLE staged and insert it into observations and quarantine."""
    _register_countries(con)
    con.execute("CREATE OR REPLACE TEMP MACRO quoted(x) AS chr(39) || x || chr(39)")
    flows = ", ".join(f"'{f}'" for f in FLOWS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        WITH coded AS (
            SELECT s.* REPLACE (
                       lower(trim(s.flow)) AS flow,
                       coalesce(nullif(trim(s.classification), ''), 'HS') AS classification,
                       CASE WHEN upper(trim(s.commodity)) IN ('TOTAL', 'ALL') THEN 'TOTAL'
                            ELSE trim(s.commodity) END AS commodity,
                       coalesce(s.breakdown, '') AS breakdown,
                       coalesce(upper(trim(s.freq)), 'M') AS freq,
                       coalesce(s.period_months, CASE WHEN upper(trim(s.freq)) = 'A' THEN 12 ELSE 1 END)
                           AS period_months,
                       upper(trim(s.currency)) AS currency),
                   r.code AS reporter_code, p.code AS partner_code
            FROM staged s
            LEFT JOIN country_codes r ON r.raw = s.reporter
            LEFT JOIN country_codes p ON p.raw = s.partner
        ), reasoned AS (
            SELECT *, coalesce(reason,
              CASE WHEN main_line IS NOT NULL THEN NULL
                   WHEN nullif(trim(reporter), '') IS NULL THEN 'reporter is missing'
                   WHEN reporter_code IS NULL THEN 'unknown reporter country ' || quoted(reporter)
                   WHEN nullif(trim(partner), '') IS NULL THEN 'partner is missing'
                   WHEN partner_code IS NULL THEN 'unknown partner country ' || quoted(partner)
                   WHEN flow IS NULL THEN 'flow is missing'
                   WHEN flow NOT IN ({flows}) THEN 'unknown flow ' || quoted(flow)
                   WHEN nullif(commodity, '') IS NULL THEN 'commodity is missing'
                   WHEN period IS NULL THEN 'impossible period ' || quoted(coalesce(period_text, ''))
                   WHEN freq NOT IN ('M', 'A') THEN 'unknown frequency ' || quoted(freq)
                   WHEN period_months NOT BETWEEN 1 AND 12 THEN 'period_months must be 1 to 12'
                   WHEN value IS NULL AND nullif(trim(value_text), '') IS NOT NULL
                        THEN 'value ' || quoted(left(value_text, 40)) || ' is not a number'
                   WHEN NOT isfinite(value) THEN 'value ' || quoted(value_text) || ' is not finite'
                   WHEN value < 0 THEN 'negative value ' || quoted(value_text)
                   WHEN net_weight_kg < 0 OR quantity < 0 THEN 'negative weight or quantity'
                   WHEN nullif(currency, '') IS NULL THEN 'currency is missing'
              END) AS why
            FROM coded
        ), deduplicated AS (
            SELECT * REPLACE (CASE
                WHEN why IS NULL AND main_line IS NULL AND
                     row_number() OVER (PARTITION BY why IS NULL AND main_line IS NULL, {_CODED_KEY}
                                        ORDER BY line) > 1
                THEN 'same observation as line ' || min(line) OVER (
                     PARTITION BY why IS NULL AND main_line IS NULL, {_CODED_KEY})
                ELSE why END AS why)
            FROM reasoned
        )
        SELECT d.* REPLACE (CASE WHEN d.main_line IS NOT NULL AND d.why IS NULL AND m.why IS NOT NULL
                                 THEN 'completes line ' || d.main_line || ', which is quarantined'
                                 WHEN d.main_line IS NOT NULL AND d.why IS NULL AND m.line IS NULL
                                 THEN 'completes line ' || d.main_line || ', which is missing'
                                 ELSE d.why END AS why)
        FROM deduplicated d LEFT JOIN deduplicated m ON m.line = d.main_line AND m.main_line IS NULL
        """
    )
    columns = [c for c in OBSERVATION_COLUMNS if c != "release_id"]
    select = ", ".join(
        {"reporter": "reporter_code AS reporter", "partner": "partner_code AS partner"}.get(c, c)
        for c in columns
    )
    con.execute(
        f"INSERT INTO observations (release_id, {', '.join(columns)}) "
        f"SELECT ?, {select} FROM checked WHERE why IS NULL AND main_line IS NULL",
        [release_id],
    )
    con.execute(
        "INSERT INTO quarantine (release_id, line, raw, reason) "
        "SELECT ?, line, coalesce(raw, ''), why FROM checked WHERE why IS NOT NULL",
        [release_id],
    )
    read, accepted, observations = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE why IS NULL), "
        "count(*) FILTER (WHERE why IS NULL AND main_line IS NULL) FROM checked"
    ).fetchone()
    for table in ("checked", "staged", "country_codes"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return Landed(read, accepted, read - accepted, observations)


def _register_countries(con: duckdb.DuckDBPyConnection) -> None:
    """Normalise the distinct country spellings of this file (a few hundred at most)."""
    distinct = con.execute(
        "SELECT DISTINCT reporter FROM staged WHERE reporter IS NOT NULL "
        "UNION SELECT DISTINCT partner FROM staged WHERE partner IS NOT NULL"
    ).fetchall()
    mapping = normalise_many([row[0] for row in distinct])
    frame = pd.DataFrame({"raw": list(mapping), "code": list(mapping.values())}, dtype="object")
    con.execute("DROP TABLE IF EXISTS country_codes")
    con.execute("CREATE TEMP TABLE country_codes (raw VARCHAR, code VARCHAR)")
    if len(frame):
        con.execute("INSERT INTO country_codes SELECT raw, code FROM frame")
