"""Any other delimited table, read through a TOML mapping (``--mapping MAP.toml``).

National customs tables come in every shape: ``;`` separators, ``1.234,5`` numbers, months
written ``2001/01``, ``2001.01`` or ``January 2001``, values in thousands, one column per
flow. The mapping says how to read one such table; everything after that (checks, country
codes, duplicates, the split into observations and quarantine) is the same as for every
other format. The reference is in docs/ingest.md; examples/ holds three real mappings.

Never detected automatically: a mapping is always named by the user.

Wide tables (``[wide]``: one value column per flow) give one observation per line and
column. The staged rows of one line share its line number and carry the column's name in
``part``, so a line still counts once in ``rows_read``; a bad cell quarantines that cell
(reason prefixed with the column) while the line's good cells are kept as observations.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from tradesentry import countries, currencies
from tradesentry.errors import InputError
from tradesentry.ingest.lines import column_names, field_sql, load_lines, provenance_sql
from tradesentry.ingest.source import SourceFile, encoding_name, split_header
from tradesentry.ingest.staging import (
    create_staged,
    figure_sql,
    number_sql,
    scaled_sql,
    sql_literal,
)
from tradesentry.schema import FLOWS

NAME = "mapped"

UNITS: dict[str, float] = {"one": 1.0, "unit": 1.0, "units": 1.0, "thousand": 1e3,
                           "thousands": 1e3, "million": 1e6, "millions": 1e6,
                           "billion": 1e9, "billions": 1e9}  # fmt: skip
# Canonical fields a column may be named for, and those that may be fixed for the file.
COLUMN_FIELDS = ("reporter", "partner", "flow", "classification", "commodity", "value",
                 "cif_value", "fob_value", "net_weight_kg", "quantity", "quantity_unit",
                 "flags", "currency")  # fmt: skip
FIXED_FIELDS = ("reporter", "partner", "flow", "classification", "commodity")
_SCHEMA: dict[str, dict[str, type | tuple[type, ...]] | None] = {
    "file": {"separator": str, "encoding": str, "decimal": str, "thousands": str,
             "skip_lines": int, "ignore": list, "repeated": str, "commodity_width": int},
    "period": {"column": str, "format": (str, list), "freq": str},
    "values": {"unit": (str, int, float), "currency": str},
    "fixed": dict.fromkeys(FIXED_FIELDS, str),
    "columns": dict.fromkeys(COLUMN_FIELDS, str),
    "flow_codes": None,  # any key: a code as written in the file -> a canonical flow
    "countries": None,  # any key: a country as the file writes it -> its code
    "wide": None,  # any key: a column name -> the flow its values are
}  # fmt: skip


@dataclass(frozen=True)
class MappingSpec:
    """A validated mapping: how to read one kind of table."""

    path: Path
    separator: str = ","
    encoding: str = "utf-8"
    decimal: str = "."
    thousands: str = ""
    skip_lines: int = 0
    ignore: tuple[str, ...] = ()
    period_column: str = ""
    date_formats: tuple[str, ...] = ("%Y-%m",)
    freq: str = "M"
    unit: float = 1.0
    currency: str | None = None
    fixed: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    flow_codes: dict[str, str] = field(default_factory=dict)
    wide: dict[str, str] = field(default_factory=dict)
    # added later: left out of a mapping's digest while they hold their default, so that a
    # file ingested before they existed is the same reading of it (``ingest._digest``)
    repeated: str = "quarantine"
    commodity_width: int = 0
    countries: dict[str, str] = field(default_factory=dict)


#: the keys a mapping's digest leaves out while they hold their defaults
LATER_KEYS = ("repeated", "commodity_width", "countries")
#: what ``[file] repeated`` may say of records of one key: the first stands and the others
#: are quarantined (a table of figures), or they are added up (a table of declarations)
REPEATED = ("quarantine", "sum")


def load_mapping(path: str | Path) -> MappingSpec:
    """Read and check a mapping file; InputError naming the file and the bad key."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{p}: no such mapping file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{p}: a folder, not a mapping file") from exc
    except OSError as exc:
        raise InputError(f"{p}: cannot read the mapping file ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a valid TOML mapping ({exc})") from exc
    _check_types(p, data)
    file, period, values = data.get("file", {}), data.get("period", {}), data.get("values", {})
    formats = period.get("format", "%Y-%m")
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    spec = MappingSpec(
        path=p,
        separator=file.get("separator", ","),
        encoding=_encoding(p, file.get("encoding", "utf-8")),
        decimal=file.get("decimal", "."),
        thousands=file.get("thousands", ""),
        skip_lines=file.get("skip_lines", 0),
        ignore=tuple(file.get("ignore", ())),
        period_column=period.get("column", ""),
        date_formats=formats,
        freq=period.get("freq") or ("M" if any(_is_monthly(f) for f in formats) else "A"),
        unit=_unit(p, values.get("unit", 1)),
        currency=values.get("currency"),
        fixed=dict(data.get("fixed", {})),
        columns=dict(data.get("columns", {})),
        flow_codes={str(k).strip().lower(): v for k, v in data.get("flow_codes", {}).items()},
        wide=dict(data.get("wide", {})),
        repeated=file.get("repeated", "quarantine"),
        commodity_width=file.get("commodity_width", 0),
        countries=_country_names(p, data.get("countries", {})),
    )
    _check_meaning(spec)
    return spec


def _country_names(p: Path, names: dict[str, str]) -> dict[str, str]:
    """``[countries]``: each name as the file writes it (in lower case, blanks at its ends
    aside) -> the code tradesentry stores for the code or name it is mapped to; a code
    it does not know stops the ingest here, naming the key."""
    out: dict[str, str] = {}
    given: dict[str, str] = {}
    for name, code in names.items():
        folded = name.strip().lower()
        stored = countries.to_alpha3(code)
        if stored is None:
            why = countries.why_unknown(code)
            raise InputError(
                f"{p}: 'countries.{name}' maps to {code!r}, "
                + (f"which is ambiguous: {why}" if why else "no country code tradesentry knows")
            )
        if folded in out and out[folded] != stored:  # matched in any case: which stands?
            raise InputError(
                f"{p}: 'countries.{name}' and 'countries.{given[folded]}' are one name in any "
                f"case, mapped to {out[folded]} and {stored}: give it once"
            )
        given[folded], out[folded] = name, stored
    return out


def _check_types(p: Path, data: dict[str, Any]) -> None:
    for section, body in data.items():
        if section not in _SCHEMA:
            raise InputError(
                f"{p}: unknown section or key '{section}' (expected one of {', '.join(_SCHEMA)})"
            )
        if not isinstance(body, dict):
            raise InputError(f"{p}: '{section}' must be a table ([{section}])")
        keys = _SCHEMA[section]
        for key, value in body.items():
            if keys is None:
                if not isinstance(value, str):
                    raise InputError(f"{p}: '{section}.{key}' must be a string")
                continue
            if key not in keys:
                raise InputError(
                    f"{p}: unknown key '{section}.{key}' (expected one of {', '.join(keys)})"
                )
            if isinstance(value, bool) or not isinstance(value, keys[key]):
                raise InputError(
                    f"{p}: '{section}.{key}' has the wrong type ({type(value).__name__}: {value!r})"
                )
            if isinstance(value, list) and not all(isinstance(v, str) for v in value):
                raise InputError(f"{p}: '{section}.{key}' must be a list of strings")


def _check_meaning(spec: MappingSpec) -> None:
    """The checks types cannot express: what must be given once, and what values mean."""

    def bad(key: str, problem: str) -> InputError:
        return InputError(f"{spec.path}: '{key}' {problem}")

    if len(spec.separator) != 1:
        raise bad("file.separator", f"must be one character, not {spec.separator!r}")
    if spec.decimal not in (".", ","):
        raise bad("file.decimal", f"must be '.' or ',', not {spec.decimal!r}")
    if spec.thousands not in ("", ",", ".", " ", "'", "\u00a0"):
        raise bad("file.thousands", f"must be '', ',', '.', ' ' or \"'\", not {spec.thousands!r}")
    if spec.thousands == spec.decimal:
        raise bad("file.thousands", "cannot be the same mark as file.decimal")
    if spec.skip_lines < 0:
        raise bad("file.skip_lines", "cannot be negative")
    if spec.repeated not in REPEATED:
        raise bad("file.repeated", f"must be one of {', '.join(REPEATED)}, not {spec.repeated!r}")
    if spec.commodity_width == 1 or not 0 <= spec.commodity_width <= 20:
        raise bad(
            "file.commodity_width",
            f"must be 0 (codes as written) or 2 to 20, not {spec.commodity_width}",
        )
    if not spec.period_column:
        raise bad("period.column", "is required: the column holding the month or year")
    if spec.freq not in ("M", "A"):
        raise bad("period.freq", f"must be 'M' or 'A', not {spec.freq!r}")
    _check_formats(spec, bad)
    # A year read as monthly would land as January, a month read as annual as a whole year.
    # A full date (2017-12-31) names a day, which stands for its month or its year alike.
    kinds = [_written_as(f) for f in spec.date_formats]
    if spec.freq == "M" and "A" in kinds and len(set(kinds)) == 1:
        raise bad("period.freq", "is M but period.format reads years only (no %m, %b or %B)")
    if spec.freq == "A" and "M" in kinds and len(set(kinds)) == 1:
        raise bad("period.freq", "is A but period.format reads months (%m, %b or %B, no day)")
    for name in ("reporter", "partner"):
        _exactly_one(spec, name, (name in spec.fixed, name in spec.columns))
    _exactly_one(spec, "flow", ("flow" in spec.fixed, "flow" in spec.columns, bool(spec.wide)))
    if ("value" in spec.columns) == bool(spec.wide):
        raise bad("columns.value", "or [wide] is required (one, not both)")
    if not spec.currency and "currency" not in spec.columns:
        raise bad("values.currency", "is required (or columns.currency)")
    if spec.currency and not currencies.is_iso(spec.currency):
        raise bad(
            "values.currency",
            f"must be an ISO 4217 code such as USD, not {spec.currency!r}"
            + currencies.iso_hint(spec.currency),
        )
    for side in ("reporter", "partner"):
        given = spec.fixed.get(side)
        if given is not None and countries.to_alpha3(given) is None:
            why = countries.why_unknown(given)
            raise bad(
                f"fixed.{side}",
                f"{given!r} is ambiguous: {why}"
                if why
                else f"{given!r} is no country code or name tradesentry knows",
            )
    for key, flow in [
        *(("wide." + c, f) for c, f in spec.wide.items()),
        *(("flow_codes." + c, f) for c, f in spec.flow_codes.items()),
        *([("fixed.flow", spec.fixed["flow"])] if "flow" in spec.fixed else []),
    ]:
        if flow not in FLOWS:
            raise bad(key, f"must be one of {', '.join(FLOWS)}, not {flow!r}")
    if len(set(spec.wide.values())) != len(spec.wide):
        raise bad("wide", "maps two columns to the same flow")


#: strptime codes of ISO weeks and week numbers: DuckDB reads a period written with them
#: without an error, as the wrong month or year (%G/%m landed 2001 as 1900, %Y/%W a month's
#: figure as a year's)
_WEEK_CODES = ("%G", "%V", "%U", "%W")
#: strptime codes of a month, and of a day within its month (a day of the year, %j, names
#: its month too)
_MONTH_CODES = ("%m", "%-m", "%b", "%B", "%h")
_DAY_CODES = ("%d", "%-d", "%e")
_DAY_OF_YEAR_CODES = ("%j", "%-j")


def _reads(fmt: str, codes: tuple[str, ...]) -> bool:
    return any(code in fmt for code in codes)


def _check_formats(spec: MappingSpec, bad) -> None:
    """Each period format one DuckDB's strptime reads and one that reads a year: a typo
    (a trailing %, %Q) otherwise surfaced as DuckDB's error in the middle of the ingest."""
    if not spec.date_formats:
        raise bad("period.format", "must name at least one format, such as '%Y-%m'")
    with duckdb.connect() as con:
        for fmt in spec.date_formats:
            try:
                con.execute(f"SELECT try_strptime('2000', {sql_literal(fmt)})")
            except duckdb.Error as exc:
                reason = str(exc).splitlines()[0].split(f"specifier {fmt}: ", 1)[-1]
                raise bad("period.format", f"{fmt!r} is not a date format ({reason})") from None
            if _reads(fmt, _WEEK_CODES):  # a week's year or number
                raise bad("period.format", f"{fmt!r} reads weeks (%G, %V, %U, %W), not months")
            if not _reads(fmt, ("%Y", "%y")):
                raise bad("period.format", f"{fmt!r} reads no year (%Y or %y)")
            # a day without its month read January's days and landed a month as a year
            if _reads(fmt, _DAY_CODES) and not _reads(fmt, (*_MONTH_CODES, *_DAY_OF_YEAR_CODES)):
                raise bad("period.format", f"{fmt!r} reads a day but no month (%m, %b or %B)")


def _exactly_one(spec: MappingSpec, name: str, given: tuple[bool, ...]) -> None:
    if sum(given) != 1:
        where = "fixed." + name + ", columns." + name + (" or [wide]" if len(given) > 2 else "")
        raise InputError(f"{spec.path}: give {name} exactly once: {where}")


def _encoding(p: Path, name: str) -> str:
    return encoding_name(name, f"{p}: 'file.encoding'")


def _unit(p: Path, unit: str | int | float) -> float:
    if isinstance(unit, str):
        if unit.lower() in UNITS:
            return UNITS[unit.lower()]
        raise InputError(
            f"{p}: 'values.unit' must be one of {', '.join(UNITS)} or a number, not {unit!r}"
        )
    if not math.isfinite(unit) or unit <= 0:  # TOML has inf and nan
        raise InputError(f"{p}: 'values.unit' must be a finite positive number, not {unit!r}")
    return float(unit)


def _is_monthly(fmt: str) -> bool:
    return _reads(fmt, _MONTH_CODES)


def _written_as(fmt: str) -> str | None:
    """'M' for a format that reads months, 'A' for one that reads years only, None for a
    full date (a day: its month or its year, as the mapping's frequency says)."""
    if _reads(fmt, (*_DAY_CODES, *_DAY_OF_YEAR_CODES)):
        return None
    return "M" if _is_monthly(fmt) else "A"


# -- staging ---------------------------------------------------------------------------------


def matches(src: SourceFile) -> bool:
    """Never: a mapping is chosen by the user, not guessed."""
    return False


def stage(con: duckdb.DuckDBPyConnection, src: SourceFile) -> None:
    spec: MappingSpec | None = src.options.get("mapping")
    if spec is None:
        raise InputError("--source mapped needs --mapping MAP.toml")
    src = _skip(src, spec.skip_lines)
    names = split_header(src.header, spec.separator)
    col = _resolve(src, spec, names)
    load_lines(con, src, spec.separator)
    base = _base_columns(spec, col, names)
    width = f"CASE WHEN len(fields) <> {len(names)} THEN 'expected {len(names)} fields, found ' || len(fields) END"
    width = (
        f"coalesce({width}, {_written_period_sql(col['period'], spec)}, "
        f"{_within_period_sql(col['period'], spec)})"
    )
    if spec.wide:
        selects = [
            f"""SELECT line, raw, coalesce(reason, {width}) AS reason, {base},
                       {sql_literal(column) if len(spec.wide) > 1 else "NULL"} AS part,
                       {sql_literal(flow)} AS flow, {_money(col[f"wide.{column}"], spec, col)}
                FROM lines"""
            for column, flow in spec.wide.items()
        ]
        sql = " UNION ALL ".join(selects)
    else:
        sql = f"""SELECT line, raw, coalesce(reason, {width}) AS reason, {base},
                         {_flow_sql(spec, col)} AS flow, {_money(col["value"], spec, col)}
                  FROM lines"""
    create_staged(con, sql)


def _skip(src: SourceFile, skip: int) -> SourceFile:
    """The source with its header on the first non-blank line after ``skip`` lines."""
    if not skip:
        return src
    for number, line in enumerate(src.sample.splitlines(), start=1):
        if number > skip and line.strip():
            return replace(src, header_line=number, header=line)
    raise src.fail(f"no header after the {skip} lines that file.skip_lines skips")


def _resolve(src: SourceFile, spec: MappingSpec, names: list[str]) -> dict[str, str]:
    """Canonical field -> SQL of its column (wide columns under their own names).

    Every column the mapping names must be in the header: InputError otherwise.
    """
    wanted = {f"columns.{k}": v for k, v in spec.columns.items()}
    wanted["period.column"] = spec.period_column
    wanted |= {f"wide.{c}": c for c in spec.wide}
    col: dict[str, str] = {}
    # a column to ignore that is not there: a mapping for another table, or a typo
    missing = [column for column in spec.ignore if column not in column_names(names)]
    if missing:
        raise src.fail(
            f"column {missing[0]!r} that {spec.path.name} ignores (file.ignore) is not in the "
            f"header ({', '.join(names)})",
            src.header_line,
        )
    for key, column in wanted.items():
        if column not in names:
            raise src.fail(
                f"column {column!r} named by {spec.path.name} ({key}) is not in the header "
                f"({', '.join(names)})",
                src.header_line,
            )
        where = [str(i) for i, n in enumerate(names, start=1) if n == column]
        if len(where) > 1:  # which of them would hold the data?
            raise src.fail(
                f"column {column!r} named by {spec.path.name} ({key}) is in the header "
                f"{len(where)} times (columns {', '.join(where)})",
                src.header_line,
            )
        section, name = key.split(".", 1)
        col[{"columns": name, "period": "period", "wide": f"wide.{name}"}[section]] = field_sql(
            names.index(column)
        )
    return col


def _base_columns(spec: MappingSpec, col: dict[str, str], names: list[str]) -> str:
    """SQL for the staged columns every row of a line shares (all but flow and money)."""

    def text(name: str, default: str | None = None) -> str:
        if name in col:
            return col[name]
        value = spec.fixed.get(name, default)
        return sql_literal(value) if value is not None else "NULL"

    period = col["period"]
    start = "month" if spec.freq == "M" else "year"
    used = {spec.period_column, *spec.columns.values(), *spec.wide, *spec.ignore}
    provenance = provenance_sql(names, used)
    currency = col.get("currency", sql_literal(spec.currency or ""))
    return f"""{text("reporter")} AS reporter, {text("partner")} AS partner,
               {text("classification")} AS classification,
               {_commodity_sql(text("commodity", "TOTAL"), spec.commodity_width)} AS commodity,
               {period} AS period_text,
               {_period_sql(period, spec.date_formats, start)} AS period,
               '{spec.freq}' AS freq, {_period_freq_sql(period, spec)} AS period_freq,
               {currency} AS currency,
               {_figure("net_weight_kg", spec, col)}, {_figure("quantity", spec, col)},
               {text("quantity_unit")} AS quantity_unit, {text("flags")} AS flags,
               {provenance} AS provenance"""


def _period_sql(period: str, formats: tuple[str, ...], start: str) -> str:
    """SQL: the month (or year) a period is, NULL (an impossible period) where it is read
    but its year is outside 1900–2200, as the other readers hold (``staging.month_sql``):
    "%m/%Y" reads "06/20" as June of the year 20, which landed and ran its series two
    thousand years back."""
    parsed = _parsed_sql(period, formats)
    return (
        f"CASE WHEN year({parsed}) BETWEEN 1900 AND 2200 "
        f"THEN date_trunc('{start}', {parsed})::DATE END"
    )


def _parsed_sql(period: str, formats: tuple[str, ...]) -> str:
    """SQL: the period read by the first format that writes it as it is written, NULL if
    none does. DuckDB's strptime takes a number of fewer digits than its code writes
    (``%m`` reads ``2001.1`` as January), and a spreadsheet that saved ``2001.10`` as a
    number wrote ``2001.1``: October landed as January. Only case and blanks may differ
    (strptime reads ``JAN`` for ``%b``, and any run of blanks for one)."""
    return "coalesce(" + ", ".join(_exact_sql(period, f) for f in formats) + ")"


def _exact_sql(period: str, fmt: str) -> str:
    parsed = f"try_strptime({period}, {sql_literal(fmt)})"
    written = [f"strftime({parsed}, {sql_literal(v)})" for v in _widths(fmt)]
    alike = ", ".join(_blanks_and_case(w) for w in written)
    # as written first: the text's blanks and case are set alike only where it is not
    return (
        f"CASE WHEN {period} IN ({', '.join(written)}) THEN {parsed} "
        f"WHEN {_blanks_and_case(period)} IN ({alike}) THEN {parsed} END"
    )


def _blanks_and_case(text: str) -> str:
    return f"lower(trim(regexp_replace({text}, '\\s+', ' ', 'g')))"


def _widths(fmt: str) -> list[str]:
    """The ways ``fmt`` may write a period: a code of no padding (``%-m``, ``%-d``) reads
    one digit or two, so each such code is tried as itself and padded (``%m``)."""
    parts = re.split(r"(%-[A-Za-z])", fmt.replace("%%", "\0"))
    choices = [[p, "%" + p[2:]] if re.fullmatch(r"%-[A-Za-z]", p) else [p] for p in parts]
    return ["".join(c).replace("\0", "%%") for c in itertools.product(*choices)]


def _written_period_sql(period: str, spec: MappingSpec) -> str:
    """SQL: the reason a period that a format reads is not written as any format writes
    it (``_parsed_sql``): ``2001.1`` for ``%Y.%m``. NULL for every other period (one no
    format reads, or read outside 1900–2200, is an impossible period)."""
    loose = "try_strptime({}, [{}])".format(
        period, ", ".join(sql_literal(f) for f in spec.date_formats)
    )
    formats = " or ".join(repr(f) for f in spec.date_formats)
    number = (
        ": a spreadsheet that saved the dates as numbers dropped a zero (2001.10, "
        "October, is written 2001.1): format the column as text"
    )
    digits = " (%m, %d and %y write two digits, %j three; %-m, %-d read one digit or two)"
    return (
        f"CASE WHEN {_parsed_sql(period, spec.date_formats)} IS NULL "
        f"AND year({loose}) BETWEEN 1900 AND 2200 "
        f"THEN 'period ' || chr(39) || left({period}, 40) || chr(39) "
        f"|| {sql_literal(f' is not written as {formats} writes a period')} "
        f"|| CASE WHEN regexp_full_match(trim({period}), '[0-9]+[.,][0-9]+') "
        f"THEN {sql_literal(number)} ELSE {sql_literal(digits)} END END"
    )


def _within_period_sql(period: str, spec: MappingSpec) -> str:
    """SQL: the reason a period read by a format with a day is no month (or year) of the
    table: a day other than its first or last (2017-02-15: a figure dated within a month
    is no monthly figure, as the canonical reader holds; 2017-03-31 is March). NULL for
    every other period, and for a table of declarations (``repeated = "sum"``), dated by
    the day and summed into their month."""
    with_day = [f for f in spec.date_formats if _written_as(f) is None]
    if not with_day or spec.repeated == "sum":  # declarations, dated by day, sum to months
        return "NULL"
    day = _parsed_sql(period, tuple(with_day))
    unit = "month" if spec.freq == "M" else "year"
    return (
        f"CASE WHEN {day} IS NOT NULL AND {day}::DATE <> date_trunc('{unit}', {day})::DATE "
        f"AND {day}::DATE <> (date_trunc('{unit}', {day}) + INTERVAL 1 {unit} "
        f"- INTERVAL 1 DAY)::DATE THEN 'period ' || chr(39) || left({period}, 40) || chr(39) "
        f"|| ' is a day within its {unit}: a {unit} is dated by its first or last day' END"
    )


def _commodity_sql(code: str, width: int) -> str:
    """SQL: the commodity code, a code of digits shorter than ``width`` given back its
    leading zeros (a spreadsheet writes HS 03034900 as the number 3034900, chapter 30's
    place); as written with no width, and any code holding other than digits."""
    if not width:
        return code
    return (
        f"CASE WHEN regexp_full_match(trim({code}), '[0-9]{{1,{width - 1}}}') "
        f"THEN lpad(trim({code}), {width}, '0') ELSE {code} END"
    )


def _period_freq_sql(period: str, spec: MappingSpec) -> str:
    """SQL: the frequency a period is written in, from the format that reads it (a full
    date is written in the mapping's own frequency)."""
    kinds = {f: _written_as(f) or spec.freq for f in spec.date_formats}
    if len(set(kinds.values())) == 1:  # one kind of format: checked on loading
        return f"'{spec.freq}'"
    cases = " ".join(
        f"WHEN {_exact_sql(period, f)} IS NOT NULL THEN '{kind}'" for f, kind in kinds.items()
    )
    return f"CASE {cases} END"


def _figure(name: str, spec: MappingSpec, col: dict[str, str], unit: float = 1.0) -> str:
    """SQL for a figure and its text (``figure_sql``), times ``unit``; NULL when not mapped."""
    if name not in col:
        return f"NULL AS {name}"
    number = number_sql(col[name], spec.decimal, spec.thousands)
    return figure_sql(name, col[name], scaled_sql(number, unit))


def _money(value: str, spec: MappingSpec, col: dict[str, str]) -> str:
    """SQL for value_text, the value and CIF/FOB values, scaled to whole currency units."""
    scaled = scaled_sql(number_sql(value, spec.decimal, spec.thousands), spec.unit)
    money = [f"{value} AS value_text", f"{scaled} AS value"]
    money += [_figure(name, spec, col, spec.unit) for name in ("cif_value", "fob_value")]
    return ", ".join(money)


def _flow_sql(spec: MappingSpec, col: dict[str, str]) -> str:
    """SQL for the flow: fixed, or a column read through the mapping's flow_codes. The
    usual words (``schema.FLOW_SPELLINGS``) are read by ``validate``, as for every reader;
    anything else is passed as written, for the quarantine to quote the file."""
    if "flow" not in col:
        return sql_literal(spec.fixed["flow"])
    if not spec.flow_codes:
        return f"trim({col['flow']})"
    codes = spec.flow_codes.items()
    cases = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in codes)
    return f"CASE lower(trim({col['flow']})) {cases} ELSE trim({col['flow']}) END"
