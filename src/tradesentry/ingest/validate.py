"""Check staged records once for every format, and land them: observations or quarantine.

Each record gets the first reason that applies, in a fixed order, so the quarantine says
one clear thing per line. Records that pass become observations; the rest are kept in the
quarantine with their raw text, so ``rows_read = rows_accepted + rows_quarantined``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from tradesentry import currencies
from tradesentry.countries import normalise_many, why_unknown
from tradesentry.ingest.lines import HEADER_AGAIN, HEADER_GLUED, drop_lines
from tradesentry.schema import FLOW_SPELLINGS, FLOWS, OBSERVATION_COLUMNS, OBSERVATION_KEY
from tradesentry.text import plural

# Duplicates are judged on normalised codes: "CN" and "CHN" in one file are the same partner.
_CODED_KEY = ", ".join(
    {"reporter": "reporter_code", "partner": "partner_code"}.get(c, c) for c in OBSERVATION_KEY
)


# Figures beside the value, each with its text as written in staged (``<name>_text``).
_FIGURES = ("cif_value", "fob_value", "net_weight_kg", "quantity")
#: a tab or a line separator in a key's code, or a blank other than a space at its ends
#: (which the code's trim keeps), made a series no page could open: a code typed or in a
#: URL is read with every blank at its ends stripped
_UNREADABLE_CODE = r"'[\p{Cc}\p{Zl}\p{Zp}]|^\p{Z}|\p{Z}$'"


#: what a spreadsheet writes in a cell whose formula failed, never a commodity code
SPREADSHEET_ERROR = r"#(N/A|NAME\?|VALUE!|REF!|DIV/0!|NUM!|NULL!|SPILL!|CALC!)"
#: a long code a spreadsheet took for a number: 8.4713E+09 for 8471300000
SPREADSHEET_FLOAT = r"[0-9]([.,][0-9]+)?E[+-]?[0-9]+"


def _unreadable(column: str, written: str) -> str:
    """SQL: the quarantine reason where ``column``'s code is one no page nor command reads,
    quoting it as the file writes it (``written``)."""
    return f"""WHEN regexp_matches({column}, {_UNREADABLE_CODE})
               THEN '{column} ' || quoted({written}) || ' holds a control character or a '
                    || 'blank other than a space at its ends'"""


@dataclass(frozen=True)
class Landed:
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    observations: int
    #: what a reader can do about the file's quarantine, one line each (``_notes``)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Landing:
    """How a file's records land, where its mapping says more than every format does.

    ``sum_repeated``: records of one key (series, month) are summed into one observation
    (a table of declarations or shipments), instead of the first standing and the others
    quarantined. ``country_names``: names the file writes for countries, as given
    (matched in any case, blanks at the ends aside) -> the code each stands for, before
    the names tradesentry knows. ``mappable``: a table a mapping can read (the notes then
    say what a mapping can do; an SDMX or a Comtrade file takes none)."""

    sum_repeated: bool = False
    country_names: Mapping[str, str] = field(default_factory=dict)
    mappable: bool = False


def land(con: duckdb.DuckDBPyConnection, release_id: int, landing: Landing = Landing()) -> Landed:
    """Validate TEMP TABLE staged and insert it into observations and quarantine."""
    drop_lines(con)
    _register_countries(con, landing.country_names)
    _register_currencies(con)
    # A reason is one short line: quoted text is cut at 40 characters (a 1 MB field stays in raw).
    con.execute(
        "CREATE OR REPLACE TEMP MACRO quoted(x) AS "
        "chr(39) || left(x, 40) || CASE WHEN length(x) > 40 THEN '…' ELSE '' END || chr(39)"
    )
    flows = ", ".join(f"'{f}'" for f in FLOWS)
    spelled = " ".join(
        f"WHEN '{word}' THEN '{flow}'" for flow, words in FLOW_SPELLINGS.items() for word in words
    )
    # Commodity and classification codes are upper-cased, so they match in any case, as
    # country codes do (a table's "h5" is UN Comtrade's H5, and every lookup asks in upper
    # case). The
    # total of all goods belongs to no nomenclature: it is kept under HS whatever the source
    # calls it, so that UN Comtrade's total (H5) and a national table's (HS) are one series,
    # and each other's mirror.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE checked AS
        WITH coded AS (
            SELECT s.* REPLACE (
                       CASE WHEN s.flow IN ({flows}) THEN s.flow  -- as most readers give it
                            ELSE CASE lower(trim(s.flow)) {spelled} ELSE lower(trim(s.flow)) END
                       END AS flow,
                       CASE WHEN upper(trim(s.commodity)) IN ('TOTAL', 'ALL') THEN 'HS'
                            ELSE coalesce(nullif(upper(trim(s.classification)), ''), 'HS')
                       END AS classification,
                       CASE WHEN upper(trim(s.commodity)) IN ('TOTAL', 'ALL') THEN 'TOTAL'
                            ELSE upper(trim(s.commodity)) END AS commodity,
                       coalesce(s.breakdown, '') AS breakdown,
                       coalesce(upper(trim(s.freq)), 'M') AS freq,
                       coalesce(s.period_freq,
                                CASE WHEN length(s.period_text) = 4
                                      AND regexp_full_match(s.period_text, '[0-9]{{4}}')
                                     THEN 'A' END) AS period_freq,
                       coalesce(s.period_months, CASE WHEN s.period_months_text IS NULL THEN
                                CASE WHEN upper(trim(s.freq)) = 'A' THEN 12 ELSE 1 END END)
                           AS period_months,
                       upper(trim(s.currency)) AS currency),
                   r.code AS reporter_code, p.code AS partner_code, s.currency AS currency_text,
                   trim(s.flow) AS flow_text, trim(s.commodity) AS commodity_text,
                   trim(s.classification) AS classification_text,
                   r.note AS reporter_note, p.note AS partner_note
            FROM staged s
            LEFT JOIN country_codes r ON r.raw = s.reporter
            LEFT JOIN country_codes p ON p.raw = s.partner
        )
        SELECT * EXCLUDE (raw, period_freq, period_months_text, currency_text, reporter_note,
                          partner_note, flow_text, commodity_text, classification_text),
                 coalesce(reason,
          CASE WHEN main_line IS NOT NULL THEN NULL
               WHEN nullif(trim(reporter), '') IS NULL THEN 'reporter is missing'
               WHEN reporter_code IS NULL AND reporter_note IS NOT NULL
               THEN 'ambiguous reporter country ' || quoted(reporter) || ': ' || reporter_note
               WHEN reporter_code IS NULL THEN 'unknown reporter country ' || quoted(reporter)
               WHEN nullif(trim(partner), '') IS NULL THEN 'partner is missing'
               WHEN partner_code IS NULL AND partner_note IS NOT NULL
               THEN 'ambiguous partner country ' || quoted(partner) || ': ' || partner_note
               WHEN partner_code IS NULL THEN 'unknown partner country ' || quoted(partner)
               WHEN flow IS NULL THEN 'flow is missing'
               WHEN flow NOT IN ({flows}) THEN 'unknown flow ' || quoted(flow_text)
               WHEN nullif(commodity, '') IS NULL THEN 'commodity is missing'
               -- codes are quoted as the file writes them, not upper-cased: a reader
               -- searching the file for '=SUM(A1)' does not find its =sum(a1)
               WHEN regexp_full_match(commodity, '[.]+')
               THEN 'commodity ' || quoted(commodity_text) || ' is a mark for no code, not a code'
               WHEN regexp_full_match(commodity, '{SPREADSHEET_ERROR}')
               THEN 'commodity ' || quoted(commodity_text)
                    || ' is a spreadsheet''s error, not a code'
               WHEN starts_with(commodity, '=')
               THEN 'commodity ' || quoted(commodity_text)
                    || ' is a spreadsheet''s formula, not a code'
               WHEN regexp_full_match(commodity, '{SPREADSHEET_FLOAT}')
               THEN 'commodity ' || quoted(commodity_text) || ' is a number a spreadsheet wrote '
                    || 'in scientific notation: the code''s digits are lost (format the column '
                    || 'as text)'
               {_unreadable("commodity", "commodity_text")}
               {_unreadable("classification", "classification_text")}
               {_unreadable("breakdown", "breakdown")}
               WHEN period IS NULL AND nullif(trim(period_text), '') IS NULL
               THEN 'period is missing'
               WHEN period IS NULL THEN 'impossible period ' || quoted(coalesce(period_text, ''))
               WHEN freq NOT IN ('M', 'A') THEN 'unknown frequency ' || quoted(freq)
               WHEN period_freq = 'A' AND freq = 'M'
               THEN 'period ' || quoted(period_text) || ' is a year but the frequency is M'
               WHEN period_freq = 'M' AND freq = 'A'
               THEN 'period ' || quoted(period_text) || ' is a month but the frequency is A'
               WHEN period_months IS NULL
               THEN 'period_months ' || quoted(period_months_text) || ' is not a whole number'
               WHEN period_months NOT BETWEEN 1 AND 12 THEN 'period_months must be 1 to 12'
               WHEN freq = 'A' AND period_months <> 12
               THEN 'period_months ' || period_months || ' with frequency A (a year is 12 months)'
               -- a month that has not begun holds no trade yet (nor a combined figure's last
               -- month): a mistyped year (2120-12 for 2020-12) landed, stretched its series
               -- over a century of missing months and hid the series' real gap
               WHEN period + to_months(period_months - 1) > current_date
               THEN 'period ' || quoted(period_text) || ' has not begun (today is '
                    || strftime(current_date, '%Y-%m-%d') || ')'
               WHEN value IS NULL AND nullif(trim(value_text), '') IS NULL
                    AND NOT coalesce(withheld, false) THEN 'value is missing'
               {_figure_checks()}
               WHEN nullif(currency, '') IS NULL THEN 'currency is missing'
               WHEN NOT regexp_full_match(currency, '[A-Z]{{3}}')
               THEN 'currency ' || quoted(currency_text) || ' is not an ISO 4217 code (three letters)'
               WHEN currency NOT IN (SELECT code FROM iso_currencies)
               THEN 'currency ' || quoted(currency_text) || ' is not an ISO 4217 code'
                    || coalesce(' (the ISO code is ' || (SELECT iso FROM currency_spellings
                                                         WHERE spelling = currency) || ')', '')
          END) AS why
        FROM coded
        """
    )
    if landing.sum_repeated:
        _sum_repeated(con)
    _mark_duplicates(con)
    _mark_orphans(con)
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
    # The raw text stays in staged (copying it to checked costs a copy of the whole file);
    # (line, part) is unique there. A line holding several observations (``part``, a wide
    # table's columns) names the part in the reason.
    con.execute(
        "INSERT INTO quarantine (release_id, line, raw, reason) "
        "SELECT ?, c.line, coalesce(s.raw, ''), coalesce(c.part || ': ', '') || c.why "
        "FROM (SELECT line, part, why FROM checked WHERE why IS NOT NULL) c "
        "JOIN staged s ON s.line = c.line AND s.part IS NOT DISTINCT FROM c.part",
        [release_id],
    )
    # Counts are of input records: a line with several parts counts once, and is
    # quarantined when any of its parts is (its good parts are observations all the same).
    read, quarantined, observations = con.execute(
        "SELECT count(*) FILTER (WHERE part IS NULL), "
        "count(*) FILTER (WHERE why IS NOT NULL AND part IS NULL), "
        "count(*) FILTER (WHERE why IS NULL AND main_line IS NULL) FROM checked"
    ).fetchone()
    # (DISTINCT only over the parts, if any: over millions of plain lines it is costly.)
    part_lines, bad_part_lines = con.execute(
        "SELECT count(DISTINCT line), count(DISTINCT line) FILTER (WHERE why IS NOT NULL) "
        "FROM checked WHERE part IS NOT NULL"
    ).fetchone()
    read, quarantined = read + part_lines, quarantined + bad_part_lines
    notes = (*_staged_notes(con), *_notes(con, landing))
    for table in ("checked", "staged", "country_codes", "staged_notes"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return Landed(read, read - quarantined, quarantined, observations, notes)


def _figure_checks() -> str:
    """SQL WHEN clauses: the value, then each other figure given, is a finite number >= 0.

    An empty figure is NULL (not given); text that is not a number (NaN included), inf, a
    negative or a figure too small to hold (read as 0) quarantines the record, naming the
    column. Where a reader keeps no text (SDMX
    checks its own lines), the number is quoted.
    """
    clauses = []
    for name in ("value", *_FIGURES):
        text = f"coalesce({name}_text, {name}::VARCHAR)"
        clauses += [
            f"WHEN ({name} IS NULL AND nullif(trim({name}_text), '') IS NOT NULL) "
            f"OR isnan({name}) THEN '{name} ' || quoted({text}) || ' is not a number'",
            # a finite figure scaled by a mapping's unit (thousands) past what a float holds
            f"WHEN NOT isfinite({name}) AND isfinite(TRY_CAST(trim({name}_text) AS DOUBLE)) "
            f"THEN '{name} ' || quoted({text}) || ' is too large to hold in the unit the "
            "mapping gives (values.unit)'",
            f"WHEN NOT isfinite({name}) THEN '{name} ' || quoted({text}) || ' is not finite'",
            f"WHEN {name} < 0 THEN 'negative {name} ' || quoted({text})",
            # a figure written with a digit that is not 0 before its exponent, read as 0: a
            # float holds nothing that small (5e-400), and a zero is a figure of its own
            f"WHEN {name} = 0 AND regexp_matches(coalesce({name}_text, ''), '^[^eE]*[1-9]') "
            f"THEN '{name} ' || quoted({text}) || ' is too small for a number to hold: it "
            "would read as 0'",
        ]
    return "\n               ".join(clauses)


def _staged_notes(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """What the reader repaired as it staged the file (an HS code's lost leading zero put
    back), one note each: TEMP TABLE staged_notes, where the reader left one."""
    made = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'staged_notes'"
    ).fetchone()[0]
    if not made:
        return ()
    return tuple(note for (note,) in con.execute("SELECT note FROM staged_notes").fetchall())


def _notes(con: duckdb.DuckDBPyConnection, landing: Landing) -> tuple[str, ...]:
    """What the reader can do about the quarantine where a mapping can say more: records
    repeating a key (a table of declarations read as one of figures; counted by line, as
    the quarantine counts them) and countries written in a way tradesentry does not know
    (the first names given). Only for a table a mapping can read: an SDMX or a Comtrade
    file's reader knows its columns and codes, and a mapping on one is refused."""
    if not landing.mappable:
        return ()
    repeated, conflicting, countries = con.execute(
        "SELECT count(DISTINCT line) FILTER (WHERE why LIKE 'same observation as line %'), "
        "count(DISTINCT line) FILTER (WHERE why LIKE 'same observation as line %, with another %'), "
        "count(DISTINCT line) FILTER (WHERE why LIKE 'unknown % country %') FROM checked"
    ).fetchone()
    notes = []
    if conflicting and not landing.sum_repeated:  # copies of a row are no declarations
        notes.append(
            f"{plural(repeated, 'row')} {'repeats' if repeated == 1 else 'repeat'} another "
            f"row's series and month ({conflicting:,} with another figure), and only the "
            "first stands: if the file lists declarations or shipments, a mapping's "
            'repeated = "sum" under [file] adds them up'
        )
    if countries:
        # one name in any case and blanks at its ends, as [countries] matches it
        names = [
            row[0]
            for row in con.execute(
                "SELECT any_value(name) FROM (SELECT trim(CASE WHEN why LIKE 'unknown reporter%' "
                "THEN reporter ELSE partner END) AS name, line FROM checked "
                "WHERE why LIKE 'unknown % country %') GROUP BY lower(name) ORDER BY min(line)"
            ).fetchall()
        ]
        shown = ", ".join(f'"{n}"' for n in names[:NOTE_NAMES])
        more = f" (and {len(names) - NOTE_NAMES:,} more)" if len(names) > NOTE_NAMES else ""
        notes.append(
            f"{plural(countries, 'row')} {'names' if countries == 1 else 'name'} a country "
            "tradesentry does not know: a mapping's [countries] table maps each name as the "
            f'file writes it to its code ({shown}{more}, each = "ISO code")'
        )
    return tuple(notes)


#: the unknown country names an ingest's note gives
NOTE_NAMES = 3


#: the end of the reason of a record of a later part of two files joined (``_keep_first_part``)
JOINED = "two files joined, whose figures are not added up"


def _keep_first_part(con: duckdb.DuckDBPyConnection, same: str, good: str) -> None:
    """Where the file repeats its header, each later part is read as a copy or as a page.

    Two exports joined with ``cat`` repeat records: Guinea's declarations joined to
    themselves had landed every month doubled (its bauxite to China, December 2018: 216
    trillion francs for 108), the repeated header alone quarantined. An export printed in
    pages repeats its header on each page, and a month's declarations run on over the
    break. In a part that begins as an earlier part runs (``_copied_parts``), the records
    of keys an earlier part holds are quarantined naming the first part's record, and a
    key it alone holds lands (an export of the next months joined to the first). A page's
    records are summed with the rest of their key's: within one export, identical
    declarations are real shipments.
    """
    headers = [
        line
        for (line,) in con.execute(
            "SELECT line FROM checked WHERE why IN (?, ?) ORDER BY line",
            [HEADER_AGAIN, HEADER_GLUED],
        ).fetchall()
    ]
    if not headers:
        return
    # each line's part, once: the header line that opens it (0: the first part)
    con.register("header_lines", pd.DataFrame({"header": headers}))
    try:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE line_parts AS
               SELECT c.line, coalesce(h.header, 0) AS opening
               FROM (SELECT DISTINCT line FROM checked) c
               ASOF LEFT JOIN header_lines h ON c.line > h.header"""
        )
    finally:
        con.unregister("header_lines")
    _copied_parts(con)
    con.execute(
        f"""
        UPDATE checked SET why = 'same observation as line ' || d.first_line
            || ', before the header line again at line ' || p.opening || ': {JOINED}'
        FROM line_parts p JOIN copied_parts USING (opening),
             (SELECT {_CODED_KEY}, min(line) AS first_line, min(opening) AS part
              FROM checked JOIN line_parts USING (line) WHERE {good} GROUP BY ALL) d
        WHERE checked.line = p.line AND {good} AND {same} AND p.opening > d.part
        """
    )
    con.execute("DROP TABLE line_parts")
    con.execute("DROP TABLE copied_parts")


def _copied_parts(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP TABLE copied_parts: the openings of the parts that copy part of the file before.

    A part is a copy where it begins as an earlier part runs: its first three records are,
    text for text and in their order, consecutive records of an earlier part (as many as
    the shorter of the two holds, up to three, and at least two), a run of identical
    records counted as one. One record alike is no sign (a page that starts with the
    shipment the page before ended with, a tanker load again), nor two at the very end
    of the part before: Guinea's pages of 50 repeat the last two records of the page
    before at two of their 406 breaks (a pair of shipments to the Netherlands, and one to
    Senegal, declared twice). An export overlapping the first by its last two records
    only is therefore summed with it. Why: a second export of the same declarations, or
    one overlapping the first, starts with records the first holds in that order; a page
    starts with the next declarations, and identical ones recur (a tanker load of fuel to
    Turkey, the same kilograms and francs, four lines in a row), which had made pages read
    as copies when one record alike was enough."""
    headers = "SELECT line FROM checked WHERE why IN (?, ?)"
    # as many runs as the shorter part holds, up to three, and two at least: one record
    # repeated at a page's start is an identical shipment as often as a copy
    joins = " UNION ".join(
        f"SELECT s.opening FROM starts s JOIN grams e ON e.g{m} = s.g{m} "
        f"AND least(3, s.n, e.n) = {m} AND e.opening < s.opening"
        for m in (2, 3)
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE copied_parts AS
        WITH records AS (
            SELECT DISTINCT s.line, p.opening, trim(s.raw) AS text
            FROM staged s JOIN line_parts p ON p.line = s.line
            WHERE s.line NOT IN ({headers})
        ), runs AS (  -- a run of identical records, as one
            SELECT line, opening, text FROM records
            QUALIFY text IS DISTINCT FROM lag(text) OVER (PARTITION BY opening ORDER BY line)
        ), grams AS (
            SELECT opening, row_number() OVER w AS k, count(*) OVER (PARTITION BY opening) AS n,
                   text AS g1,
                   text || chr(0) || lead(text) OVER w AS g2,
                   text || chr(0) || lead(text) OVER w || chr(0) || lead(text, 2) OVER w AS g3
            FROM runs
            WINDOW w AS (PARTITION BY opening ORDER BY line)
        ), starts AS (SELECT * FROM grams WHERE k = 1 AND opening > 0)
        {joins}
        """,
        [HEADER_AGAIN, HEADER_GLUED],
    )


def _sum_repeated(con: duckdb.DuckDBPyConnection) -> None:
    """The good records of one key summed into the first of them; the others complete it
    (``main_line``: read and accepted, no observation of their own).

    A table of customs declarations lists each shipment: the month's figure is their sum.
    A weight, quantity, CIF or FOB value is summed where every record gives it (and, for a
    quantity, in one unit), else it is unknown: a sum over some of the shipments would
    read as the month's, and its unit value as the price. A key with a withheld record
    has no known total and lands withheld. Records of the key in another currency than
    most of its records' (the first's, on a tie) are quarantined: amounts in two
    currencies do not add up. A key with a quarantined record (a value that is not a
    number, one in another currency) then lands none of its records, each quarantined
    naming it: summed without it, the month would be short and read as complete.
    """
    key = _CODED_KEY.split(", ")
    same = " AND ".join(f"checked.{c} = d.{c}" for c in key)
    good = "checked.why IS NULL AND checked.main_line IS NULL"
    _keep_first_part(con, same, good)
    # the month's currency: the one most of its records are in (the first of them, on a
    # tie); the others are not added up
    con.execute(
        f"""
        UPDATE checked SET why = 'same observation as line ' || d.first_line
            || ' in another currency (' || quoted(checked.currency) || ' against '
            || quoted(d.currency) || '): amounts in two currencies do not add up'
        FROM (SELECT {_CODED_KEY}, arg_max(currency, weight) AS currency,
                     arg_max(first_line, weight) AS first_line
              FROM (SELECT {_CODED_KEY}, currency, min(line) AS first_line,
                           count(*) * 1e9 - min(line) AS weight
                    FROM checked WHERE why IS NULL AND main_line IS NULL GROUP BY ALL)
              GROUP BY ALL) d
        WHERE {good} AND {same} AND checked.currency <> d.currency
        """
    )
    con.execute(
        f"""
        UPDATE checked SET why = 'summed with line ' || d.bad_line || ' of its series and '
            || 'month, which is quarantined: without it the sum would be short'
        FROM (SELECT {_CODED_KEY}, min(line) AS bad_line FROM checked
              WHERE why IS NOT NULL AND main_line IS NULL
                -- a later part's copy leaves the first part's sum whole
                AND NOT ends_with(why, '{JOINED}')
              GROUP BY ALL) d
        WHERE {good} AND {same}
        """
    )

    def complete(name: str, unit_ok: str = "true") -> str:
        return f"CASE WHEN count({name}) = count(*) AND {unit_ok} THEN sum({name}) END"

    one_unit = "count(DISTINCT quantity_unit) <= 1"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE summed AS
        SELECT {_CODED_KEY}, min(line) AS first_line,
               bool_or(coalesce(withheld, false)) AS withheld,
               CASE WHEN NOT bool_or(coalesce(withheld, false)) THEN sum(value) END AS value,
               {complete("cif_value")} AS cif_value, {complete("fob_value")} AS fob_value,
               {complete("net_weight_kg")} AS net_weight_kg,
               {complete("quantity", one_unit)} AS quantity,
               CASE WHEN {one_unit} THEN any_value(quantity_unit) END AS quantity_unit
        FROM checked WHERE why IS NULL AND main_line IS NULL
        GROUP BY ALL HAVING count(*) > 1
        """
    )
    # a sum past the largest float is no figure: each record quarantined, none landing as
    # an infinite month (which read as a month without a figure)
    finite = " AND ".join(
        f"coalesce(isfinite(d.{c}), true)"
        for c in ("value", "cif_value", "fob_value", "net_weight_kg", "quantity")
    )
    con.execute(
        f"""
        UPDATE checked SET why = 'the records of its series and month (from line '
            || d.first_line || ') sum to a figure too large to hold'
        FROM summed d WHERE {good} AND {same} AND NOT ({finite})
        """
    )
    con.execute(
        f"""
        UPDATE checked SET value = d.value, withheld = d.withheld, cif_value = d.cif_value,
               fob_value = d.fob_value, net_weight_kg = d.net_weight_kg,
               quantity = d.quantity, quantity_unit = d.quantity_unit
        FROM summed d WHERE checked.line = d.first_line AND {good} AND {same}
        """
    )
    con.execute(
        f"""
        UPDATE checked SET main_line = d.first_line
        FROM summed d WHERE checked.line <> d.first_line AND {good} AND {same}
        """
    )
    con.execute("DROP TABLE summed")


def _mark_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    """A second good record with the same key is quarantined, naming the first one's line,
    and, where its value differs, both values: a conflicting figure is not a repeated one
    ("same observation as line 2" said nothing of 5000 against 3000).

    One narrow aggregate finds the (usually no) repeated keys; only their records are
    touched, which is far cheaper than a window over every wide record.
    """
    key = _CODED_KEY.split(", ")
    con.execute(
        f"""
        UPDATE checked SET why = 'same observation as line ' || d.first_line || CASE
            WHEN checked.value IS NOT DISTINCT FROM d.first_value THEN ''
            ELSE ', with another value: ' || quoted(coalesce(checked.value_text,
                 checked.value::VARCHAR, '')) || ' against '
                 || coalesce(quoted(d.first_text), 'no figure (withheld)')
            END
        -- the first record's figures joined back for the repeated keys alone: an ordered
        -- aggregate over every group cost as much as the rest of the check (and arg_min
        -- passes over a first record without a value, withheld, which is the first still)
        FROM (SELECT r.*, f.value AS first_value,
                     coalesce(f.value_text, f.value::VARCHAR) AS first_text
              FROM (SELECT {_CODED_KEY}, min(line) AS first_line FROM checked
                    WHERE why IS NULL AND main_line IS NULL
                    GROUP BY ALL HAVING count(*) > 1) AS r
              JOIN checked AS f ON f.line = r.first_line AND f.why IS NULL
                   AND f.main_line IS NULL AND {" AND ".join(f"f.{c} = r.{c}" for c in key)}
              ) AS d
        WHERE checked.why IS NULL AND checked.main_line IS NULL AND checked.line <> d.first_line
          AND {" AND ".join(f"checked.{c} = d.{c}" for c in key)}
        """
    )


def _mark_orphans(con: duckdb.DuckDBPyConnection) -> None:
    """A record completing another (SDMX quantity, a declaration summed into the first of
    its series and month) follows it into the quarantine: the record of its own part (a
    wide table's column), not any part of that line."""
    if not con.execute("SELECT count(*) FROM checked WHERE main_line IS NOT NULL").fetchone()[0]:
        return
    con.execute(
        """
        UPDATE checked SET why = 'completes line ' || o.main_line || CASE WHEN o.found
                                 THEN ', which is quarantined' ELSE ', which is missing' END
        FROM (SELECT c.line, c.part, c.main_line, m.line IS NOT NULL AS found
              FROM (SELECT line, part, main_line FROM checked
                    WHERE main_line IS NOT NULL AND why IS NULL) AS c
              LEFT JOIN (SELECT line, part, why FROM checked WHERE main_line IS NULL) AS m
                ON m.line = c.main_line AND m.part IS NOT DISTINCT FROM c.part
              WHERE m.line IS NULL OR m.why IS NOT NULL) AS o
        WHERE checked.line = o.line AND checked.part IS NOT DISTINCT FROM o.part
          AND checked.main_line IS NOT NULL
        """
    )


def _register_currencies(con: duckdb.DuckDBPyConnection) -> None:
    """The ISO 4217 codes a figure may be in, and the national spellings of some."""
    codes = pd.DataFrame({"code": sorted(currencies.iso_codes())})
    spellings = pd.DataFrame(
        {"spelling": list(currencies.SPELLINGS), "iso": list(currencies.SPELLINGS.values())}
    )
    for name, frame in (("iso_currencies", codes), ("currency_spellings", spellings)):
        con.register(f"{name}_frame", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")
        con.unregister(f"{name}_frame")


def _register_countries(con: duckdb.DuckDBPyConnection, names: Mapping[str, str]) -> None:
    """Normalise the distinct country spellings of this file (a few hundred at most); the
    mapping's own ``names`` first (checked codes, keyed in lower case)."""
    distinct = con.execute(
        "SELECT DISTINCT reporter FROM staged WHERE reporter IS NOT NULL "
        "UNION SELECT DISTINCT partner FROM staged WHERE partner IS NOT NULL"
    ).fetchall()
    raw = [row[0] for row in distinct]
    given = {v: names.get(v.strip().lower()) for v in raw}
    mapping = normalise_many([v for v in raw if given[v] is None])
    mapping |= {v: code for v, code in given.items() if code is not None}
    frame = pd.DataFrame(
        {
            "raw": list(mapping),
            "code": list(mapping.values()),
            "note": [None if code else why_unknown(raw) for raw, code in mapping.items()],
        },
        dtype="object",
    )
    con.execute("DROP TABLE IF EXISTS country_codes")
    con.execute("CREATE TEMP TABLE country_codes (raw VARCHAR, code VARCHAR, note VARCHAR)")
    if len(frame):
        con.execute("INSERT INTO country_codes SELECT raw, code, note FROM frame")
