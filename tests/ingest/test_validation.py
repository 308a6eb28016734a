"""Validation defects: what used to land wrong, or crash, now quarantines or stops clearly.

Each bad record is quarantined with its line and a reason while the good records of the
same file land; a file that cannot be read as intended (a duplicated column, a mapping
that cannot mean anything) stops with one line naming the file, and nothing is stored.
Counts always reconcile: ``rows_read = rows_accepted + rows_quarantined``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import tradesentry
from tests.conftest import REPO
from tests.ingest.kit import FORMATS, LEGACY_HEADER, Record, record
from tradesentry.cli import app
from tradesentry.errors import InputError
from tradesentry.ingest.mapped import load_mapping

CANONICAL = "reporter,partner,flow,commodity,period,value"
SDMX = "DATAFLOW,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE\n"
MAPPING = """
[file]
{file}
[period]
column = "Date"
{period}
[values]
{values}
[fixed]
reporter = "CHN"
partner = "PRK"
flow = "export"
[columns]
value = "Value"
{columns}
"""


def mapping(file: str = "", period: str = "", values: str = 'currency = "USD"', columns=""):
    return MAPPING.format(file=file, period=period, values=values, columns=columns)


def ingest(store, tmp_path: Path, name: str, data: str | bytes, mapping_text: str | None = None):
    """Ingest ``data`` as file ``name``; the counts reconcile and each reason is one line."""
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    kwargs = {}
    if mapping_text is not None:
        kwargs["mapping"] = tmp_path / "mapping.toml"
        kwargs["mapping"].write_text(mapping_text)
    result = store.ingest(path, **kwargs)
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    for reason in store.quarantine().reason:
        assert "\n" not in reason and len(reason) < 200, reason
    return result


def quarantined(store) -> dict[int, str]:
    return dict(zip(store.quarantine().line, store.quarantine().reason, strict=True))


def assert_nothing_stored(store) -> None:
    assert store.releases().empty and store.observations().empty and store.quarantine().empty


# -- 1. a period and its frequency must agree -------------------------------------------------

YEAR_AS_MONTH = r"period '2021' is a year but the frequency is M"
MONTH_AS_YEAR = r"period '2021-03' is a month but the frequency is A"


def _year_record() -> Record:
    return record(month="", commodity="9999")  # Comtrade: period 2021 with freqCode M


@pytest.mark.parametrize(
    ("name", "data", "mapping_text", "bad_line", "reason"),
    [
        ("comtrade.csv", FORMATS["comtrade-csv"].write([record(), _year_record()]), None, 3,
         YEAR_AS_MONTH),
        ("comtrade.json", FORMATS["comtrade-json"].write([record(), _year_record()]), None, 2,
         YEAR_AS_MONTH),
        ("canonical-m.csv", f"{CANONICAL},freq\nCHN,PRK,export,TOTAL,2021-02,5,M\n"
         "CHN,PRK,export,TOTAL,2021,60,m\n", None, 3, YEAR_AS_MONTH),
        ("canonical-a.csv", f"{CANONICAL},freq\nCHN,PRK,export,TOTAL,2021-02,5,M\n"
         "CHN,PRK,export,TOTAL,2021-03,60,A\n", None, 3, MONTH_AS_YEAR),
        ("sdmx-m.csv", f"{SDMX}ESTAT:X,M,CN,KP,TOTAL,2,VALUE_IN_EUROS,2021-02,5\n"
         "ESTAT:X,M,CN,KP,TOTAL,2,VALUE_IN_EUROS,2021,60\n", None, 3, YEAR_AS_MONTH),
        ("sdmx-a.csv", f"{SDMX}ESTAT:X,M,CN,KP,TOTAL,2,VALUE_IN_EUROS,2021-02,5\n"
         "ESTAT:X,A,CN,KP,TOTAL,2,VALUE_IN_EUROS,2021-03,60\n", None, 3, MONTH_AS_YEAR),
        ("mapped.csv", "Date,Value\n2021-02,5\n2021,60\n",
         mapping(period='format = ["%Y-%m", "%Y"]'), 3, YEAR_AS_MONTH),
        ("mapped-a.csv", "Date,Value\n2021,5\n2021-03,60\n",
         mapping(period='format = ["%Y-%m", "%Y"]\nfreq = "A"'), 3, MONTH_AS_YEAR),
    ],
    ids=["comtrade-csv", "comtrade-json", "canonical M", "canonical A", "sdmx M", "sdmx A",
         "mapped M", "mapped A"],
)  # fmt: skip
def test_a_period_contradicting_its_frequency_is_quarantined(
    store, tmp_path, name, data, mapping_text, bad_line, reason
):
    result = ingest(store, tmp_path, name, data, mapping_text)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    bad = quarantined(store)
    assert list(bad) == [bad_line] and re.fullmatch(reason, bad[bad_line]), bad
    assert len(store.observations()) == 1


@pytest.mark.parametrize(
    "data",
    [f"{CANONICAL},freq\nCHN,PRK,export,TOTAL,2021,60,\nCHN,PRK,export,TOTAL,2021-03,5,\n",
     f"{CANONICAL}\nCHN,PRK,export,TOTAL,2021,60\nCHN,PRK,export,TOTAL,2021-03,5\n"],
    ids=["empty freq cell", "no freq column"],
)  # fmt: skip
def test_canonical_frequency_not_given_is_the_periods(store, tmp_path, data):
    """As docs/ingest.md says: an empty freq is taken from the period, as a missing column."""
    result = ingest(store, tmp_path, "release.csv", data)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 0)
    obs = store.observations().sort_values("period")
    assert list(zip(obs.freq, obs.period_months, obs.value, strict=True)) == [
        ("A", 12, 60.0),
        ("M", 1, 5.0),
    ]


@pytest.mark.parametrize(
    ("months", "freq", "reason"),
    [
        ("two", "M", "period_months 'two' is not a whole number"),
        ("Jan-Feb", "M", "period_months 'Jan-Feb' is not a whole number"),
        ("1.6", "M", "period_months '1.6' is not a whole number"),
        ("-1", "M", "period_months '-1' is not a whole number"),
        ("0", "M", "period_months must be 1 to 12"),
        ("13", "M", "period_months must be 1 to 12"),
        ("99999999999", "M", "period_months must be 1 to 12"),
        ("2", "A", r"period_months 2 with frequency A \(a year is 12 months\)"),
    ],
    ids=["two", "Jan-Feb", "1.6", "-1", "0", "13", "11 digits", "annual 2"],
)
def test_canonical_period_months_is_a_whole_number_of_months(store, tmp_path, months, freq, reason):
    period = "2021" if freq == "A" else "2021-01"
    data = (
        f"{CANONICAL},freq,period_months\n"
        "CHN,PRK,export,TOTAL,2021-01,5,M,2\n"
        "CHN,PRK,export,TOTAL,2020,60,A,12\n"
        f"CHN,PRK,import,TOTAL,{period},7,{freq},{months}\n"
    )
    result = ingest(store, tmp_path, "release.csv", data)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 1)
    bad = quarantined(store)
    assert list(bad) == [4] and re.fullmatch(reason, bad[4]), bad
    obs = store.observations().sort_values("period")
    assert list(zip(obs.freq, obs.period_months, strict=True)) == [("A", 12), ("M", 2)]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ('format = "%Y"\nfreq = "M"', "'period.freq' is M but period.format reads years only"),
        ('format = "%Y-%m"\nfreq = "A"', "'period.freq' is A but period.format reads months"),
        ('format = "%Y/%m%"', "'period.format' '%Y/%m%' is not a date format (Trailing format"),
        ('format = "%Q-%Y"', "'period.format' '%Q-%Y' is not a date format (Unrecognized format"),
        ('format = ""', "'period.format' '' is not a date format (Empty format string)"),
        ("format = []", "'period.format' must name at least one format"),
        ('format = "%m"', "'period.format' '%m' reads no year (%Y or %y)"),
        ('format = "%G/%m"', "'period.format' '%G/%m' reads weeks (%G, %V, %U, %W), not months"),
        ('format = "%Y/%W"', "'period.format' '%Y/%W' reads weeks (%G, %V, %U, %W), not months"),
        ('format = "%Y/%d"', "'period.format' '%Y/%d' reads a day but no month (%m, %b or %B)"),
    ],
)
def test_a_mapping_whose_period_format_cannot_work_is_refused(store, tmp_path, period, message):
    path = tmp_path / "mapping.toml"
    path.write_text(mapping(period=period))
    with pytest.raises(InputError) as err:
        load_mapping(path)
    assert str(err.value).startswith(f"{path}: {message}") and "\n" not in str(err.value)
    data = tmp_path / "table.csv"
    data.write_text("Date,Value\n2021,5\n")
    with pytest.raises(InputError, match=re.escape(message)):
        store.ingest(data, mapping=path)
    assert_nothing_stored(store)


# -- 2. a column named twice ------------------------------------------------------------------


def _comtrade_twice(first: str) -> str:
    """A website export (each data line one separator longer) giving primaryValue twice."""
    header, line = FORMATS["comtrade-csv"].write([record()]).decode().splitlines()
    return header.replace("primaryValue", first) + ",primaryValue\n" + line + "999,\n"


def _legacy_twice() -> str:
    header = [*LEGACY_HEADER, "trade value (us$)"]
    lines = FORMATS["legacy"].write([record()]).decode("latin-1").splitlines()
    return ",".join(header) + "\n" + lines[1] + ",999\n"


@pytest.mark.parametrize(
    ("name", "data", "mapping_text", "message"),
    [
        ("value.csv", f"{CANONICAL},value\nCHN,PRK,export,TOTAL,2021-01,100,999\n", None,
         "column 'value' is in the header twice (columns 6 and 7)"),
        ("reporter.csv", f"{CANONICAL},Reporter\nCHN,PRK,export,TOTAL,2021-01,100,JPN\n", None,
         "column 'Reporter' is in the header twice (columns 1 and 7)"),
        ("note.csv", f"{CANONICAL},note,note\nCHN,PRK,export,TOTAL,2021-01,100,a,b\n", None,
         "column 'note' is in the header twice (columns 7 and 8)"),
        ("comtrade.csv", _comtrade_twice("primaryValue"), None,
         "column 'primaryValue' is in the header twice (columns 44 and 48)"),
        ("comtrade.csv", _comtrade_twice("PrimaryValue"), None,
         "column 'primaryValue' is in the header twice (columns 44 and 48)"),
        ("legacy.csv", _legacy_twice(), None,
         "column 'trade value (us$)' is in the header twice (columns 32 and 36)"),
        ("sdmx.csv", SDMX.rstrip("\n") + ",obs_value\nESTAT:X,M,CN,KP,TOTAL,2,VALUE_IN_EUROS,"
         "2021-01,100,999\n", None, "column 'OBS_VALUE' is in the header twice (columns 9 and 10)"),
        ("mapped.csv", "Date,Value,Value\n2021-01,100,999\n", mapping(),
         "column 'Value' named by mapping.toml (columns.value) is in the header 2 times "
         "(columns 2, 3)"),
    ],
    ids=["canonical value", "canonical Reporter", "canonical provenance", "comtrade-csv",
         "comtrade-csv PrimaryValue", "legacy", "sdmx", "mapped"],
)  # fmt: skip
def test_a_column_named_twice_stops_the_ingest(store, tmp_path, name, data, mapping_text, message):
    with pytest.raises(InputError) as err:
        ingest(store, tmp_path, name, data, mapping_text)
    assert str(err.value) == f"{tmp_path / name}:1: {message}"
    assert_nothing_stored(store)


def test_empty_names_in_a_comtrade_header_are_not_a_column_twice(store, tmp_path):
    header, line = FORMATS["comtrade-csv"].write([record()]).decode().splitlines()
    result = ingest(store, tmp_path, "comtrade.csv", f"{header},,\n{line},\n")
    assert (result.rows_accepted, result.rows_quarantined) == (1, 0)


# -- 3. currency ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["canonical", "mapped"])
@pytest.mark.parametrize(
    ("currency", "reason"),
    [
        ("", "currency is missing"),
        ("dollars", "currency 'dollars' is not an ISO 4217 code (three letters)"),
        ("$", "currency '$' is not an ISO 4217 code (three letters)"),
        ("US$", "currency 'US$' is not an ISO 4217 code (three letters)"),
        ("EURO", "currency 'EURO' is not an ISO 4217 code (three letters)"),
        ("€", "currency '€' is not an ISO 4217 code (three letters)"),
        ("XYZ", "currency 'XYZ' is not an ISO 4217 code"),
        ("RMB", "currency 'RMB' is not an ISO 4217 code (the ISO code is CNY)"),
        ("ntd", "currency 'ntd' is not an ISO 4217 code (the ISO code is TWD)"),
    ],
    ids=["empty", "dollars", "$", "US$", "EURO", "€", "XYZ", "RMB", "ntd"],
)
def test_a_currency_cell_must_be_an_iso_code(store, tmp_path, fmt, currency, reason):
    rows = [("2021-01", "5", "JPY"), ("2021-02", "6", "usd"), ("2021-03", "7", currency)]
    if fmt == "canonical":
        data = f"{CANONICAL},currency\n" + "".join(
            f"CHN,PRK,export,TOTAL,{p},{v},{c}\n" for p, v, c in rows
        )
        mapping_text = None
    else:
        data = "Date,Value,Money\n" + "".join(f"{p},{v},{c}\n" for p, v, c in rows)
        mapping_text = mapping(values="", columns='currency = "Money"')
    result = ingest(store, tmp_path, "release.csv", data, mapping_text)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 1)
    assert quarantined(store) == {4: reason}
    assert sorted(store.observations().currency) == ["JPY", "USD"]


WITHDRAWN = [
    "DEM", "FRF", "ANG", "ZWL", "SLL", "CUC", "MRO", "STD", "BYR", "RUR", "GHC", "XEU", "BGN",
]  # fmt: skip


def test_a_withdrawn_currency_is_still_a_currency(store, tmp_path):
    """Figures of the 1990s in marks and francs, and of lately withdrawn currencies (the
    Antillean guilder in 2025, Zimbabwe's dollar in 2024, the Bulgarian lev for the euro in
    2026: its figures of 2025 were quarantined), which newer pycountry releases
    drop from the current list: ISO 4217 lists them as historic codes. "No currency" and
    the testing code are no currency a figure can be in."""
    codes = [*WITHDRAWN, "XXX", "XTS"]
    data = f"{CANONICAL},currency\n" + "".join(
        f"DEU,FRA,export,TOTAL,{1990 + i},5,{c}\n" for i, c in enumerate(codes)
    )
    result = ingest(store, tmp_path, "release.csv", data)
    assert (result.rows_accepted, result.rows_quarantined) == (len(WITHDRAWN), 2)
    assert sorted(store.observations().currency) == sorted(WITHDRAWN)


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        ("yen", "must be an ISO 4217 code such as USD, not 'yen' (the ISO code is JPY)"),
        ("XYZ", "must be an ISO 4217 code such as USD, not 'XYZ'"),
    ],
)
def test_a_mapping_currency_must_be_an_iso_code(tmp_path, currency, message):
    path = tmp_path / "mapping.toml"
    path.write_text(mapping(values=f'currency = "{currency}"'))
    with pytest.raises(InputError) as err:
        load_mapping(path)
    assert str(err.value) == f"{path}: 'values.currency' {message}"


def test_canonical_without_a_currency_column_is_in_us_dollars(store, tmp_path):
    result = ingest(store, tmp_path, "release.csv", f"{CANONICAL}\nCHN,PRK,export,TOTAL,2021,5\n")
    assert (result.rows_accepted, result.rows_quarantined) == (1, 0)
    assert list(store.observations().currency) == ["USD"]


# -- 4. numbers -------------------------------------------------------------------------------

NOT_NUMBERS = ["12 34", "1_000", "1__0", "1 000", "+-1"]  # DuckDB reads +-1 as -1
_NO_MARKS = [f for f in FORMATS.values() if f.name != "mapped"]


# a JSON value of 1_000 cannot be written as text by the kit (Python reads it as 1000)
_CASES = [
    (fmt, text)
    for fmt in _NO_MARKS
    for text in NOT_NUMBERS
    if not (fmt.name == "comtrade-json" and text == "1_000")
]


@pytest.mark.parametrize(("fmt", "text"), _CASES, ids=[f"{f.name}-{t}" for f, t in _CASES])
def test_a_number_without_marks_is_read_as_written(store, tmp_path, fmt, text):
    """No thousands mark is declared: nothing is dropped from a figure to make it a number."""
    records = [record(), record(commodity="9999", value=text), record(month="03")]
    result = ingest(store, tmp_path, f"release{fmt.suffix}", fmt.write(records),
                    fmt.mapping)  # fmt: skip
    lines = fmt.lines_per_record
    assert (result.rows_accepted, result.rows_quarantined) == (2 * lines, lines)
    line = 2 if fmt.name == "comtrade-json" else 2 + lines
    assert quarantined(store)[line] == f"value '{text}' is not a number"
    assert sorted(store.observations().value) == [3000.0, 3000.0]


def test_a_figure_without_marks_is_read_as_written(store, tmp_path):
    data = (
        f"{CANONICAL},net_weight_kg,quantity\n"
        "CHN,PRK,export,TOTAL,2021-01,5,1000,3\n"
        "CHN,PRK,export,TOTAL,2021-02,5,1_000,3\n"
        "CHN,PRK,export,TOTAL,2021-03,5,10,3 4\n"
    )
    result = ingest(store, tmp_path, "release.csv", data)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 2)
    assert quarantined(store) == {
        3: "net_weight_kg '1_000' is not a number",
        4: "quantity '3 4' is not a number",
    }


@pytest.mark.parametrize(
    ("marks", "good", "bad"),
    [
        ('thousands = ","', {"1,234,567.5": 1234567.5, "1187.5": 1187.5, "0.5": 0.5,
                             "12,345": 12345.0, "+1,000.25": 1000.25, "1e3": 1000.0},
         ["1.187,5", "1,18", "12 34", "1_000", "1,2345", ",123", "1,,234", "1,234.5.6",
          "1 234", "12,34,567"]),
        ('thousands = "."\ndecimal = ","', {"1.187,5": 1187.5, "1.234.567": 1234567.0,
                                            "0,5": 0.5, ",5": 0.5},
         ["1,187.5", "1.18", "1.5", "1_000", "12 34", "1.2345,6"]),
        ('thousands = " "', {"1 234 567.5": 1234567.5, "999": 999.0},
         ["12 34", "1,234", "1  234", "1_000"]),
        ('decimal = ","', {"1187,5": 1187.5, "3": 3.0},
         ["1.5", "1.187,5", "1 187,5", "1_000"]),
        ("thousands = \"'\"", {"1'234'567.5": 1234567.5, "12": 12.0}, ["1'23", "12'34.5"]),
    ],
    ids=["thousands ,", "thousands . decimal ,", "thousands space", "decimal ,", "thousands '"],
)  # fmt: skip
def test_a_mapped_number_keeps_to_its_marks(store, tmp_path, marks, good, bad):
    """A thousands mark groups the integer part in threes; anything else is not a number."""
    cells = [*good, *bad]
    data = "Date;Value\n" + "".join(f"{2000 + i}-01;{cell}\n" for i, cell in enumerate(cells))
    result = ingest(store, tmp_path, "table.csv", data, mapping(file=f'separator = ";"\n{marks}'))
    assert (result.rows_accepted, result.rows_quarantined) == (len(good), len(bad))
    obs = store.observations().sort_values("period")
    assert list(obs.value) == [pytest.approx(v) for v in good.values()]
    assert sorted(quarantined(store).values()) == sorted(
        f"value '{cell}' is not a number" for cell in bad
    )


def test_a_stray_quote_is_not_dropped_from_a_number(store, tmp_path):
    """A quote inside an unquoted field is a character of it, as Python's csv reads it:
    1"2 is no number (it was read as 12)."""
    data = f'{CANONICAL}\nCHN,PRK,export,TOTAL,2021-01,5\nCHN,PRK,export,TOTAL,2021-02,1"2\n'
    result = ingest(store, tmp_path, "release.csv", data)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    assert quarantined(store) == {3: "value '1\"2' is not a number"}


# -- 5. a mapping's unit ----------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["inf", "-inf", "nan", "+nan", "0", "-1000", "0.0"])
def test_a_unit_that_is_not_a_finite_positive_number_stops_before_reading(tmp_path, unit):
    path = tmp_path / "mapping.toml"
    path.write_text(mapping(values=f'currency = "USD"\nunit = {unit}'))
    data = tmp_path / "table.csv"
    data.write_text("Date,Value\n2021-01,5\n")
    with pytest.raises(InputError) as err:
        load_mapping(path)
    assert str(err.value).startswith(
        f"{path}: 'values.unit' must be a finite positive number, not "
    )
    db = tmp_path / "s.duckdb"
    result = CliRunner().invoke(
        app, ["ingest", str(data), "--mapping", str(path), "--store", str(db)]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "mapping.toml" in lines[0] and "values.unit" in lines[0], lines


# -- 6. files that readers write -------------------------------------------------------------


def test_a_byte_order_mark_means_utf8_even_for_a_latin1_reader(store, tmp_path):
    """Excel's "CSV UTF-8" puts a byte-order mark before the header: the legacy Comtrade
    reader (which reads ISO-8859-1) reads such a file as UTF-8, header and all."""
    legacy = REPO / "tests" / "data" / "comtrade_legacy.csv"  # written in ISO-8859-1
    path = tmp_path / "legacy.csv"
    path.write_bytes(b"\xef\xbb\xbf" + legacy.read_bytes().decode("latin-1").encode("utf-8"))
    result = store.ingest(path)
    assert (result.rows_read, result.rows_quarantined) == (8, 0)
    saved = store.observations().sort_values(["partner", "period"]).reset_index(drop=True)
    plain = tradesentry.open_store(tmp_path / "plain.duckdb")
    plain.ingest(legacy)
    expected = plain.observations().sort_values(["partner", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        saved.drop(columns="release_id"), expected.drop(columns="release_id")
    )


def test_period_months_written_as_a_float_is_a_whole_number(store, tmp_path):
    """pandas writes an integer column with a gap as floats (2.0): still a whole number."""
    data = (
        f"{CANONICAL},period_months\n"
        "CHN,PRK,export,TOTAL,2021-01,5,2.0\n"
        "CHN,PRK,export,TOTAL,2021-03,7,1.0\n"
    )
    result = ingest(store, tmp_path, "release.csv", data)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 0)
    assert sorted(store.observations().period_months) == [1, 2]


@pytest.mark.parametrize(("fmt", "days"), [("%Y/%j", ("032", "060")), ("%Y/%-j", ("32", "60"))])
def test_a_day_of_the_year_is_read_as_a_date(store, tmp_path, fmt, days):
    """``%-j`` was read as a format of years only: 2021/32 landed as 2021's annual figure
    and 2021/60 was quarantined as a repeat of it. A day of the year is a full date, as
    ``%j``'s (three digits) is: a day within its year stands for no year."""
    data = "Date,Value\n" + "".join(f"2021/{day},{n}\n" for n, day in enumerate(days))
    result = ingest(store, tmp_path, "t.csv", data, mapping(period=f'format = "{fmt}"'))
    assert (result.rows_accepted, result.rows_quarantined) == (0, 2)
    assert set(quarantined(store).values()) == {
        f"period '2021/{day}' is a day within its year: a year is dated by its first or last day"
        for day in days
    }


def test_a_month_named_by_h_is_a_month(store, tmp_path):
    """``%h`` (the month's short name, as ``%b``) was not counted as a month: "2021 Feb"
    landed as the year 2021's figure."""
    result = ingest(
        store, tmp_path, "t.csv", "Date,Value\n2021 Feb,5\n2021 Mar,7\n",
        mapping(period='format = "%Y %h"'),
    )  # fmt: skip
    assert result.rows_quarantined == 0
    obs = store.observations()
    assert obs.period.dt.strftime("%Y-%m").tolist() == ["2021-02", "2021-03"]
    assert set(obs.freq) == {"M"}


@pytest.mark.parametrize(
    ("code", "reason"),
    [("#N/A", "commodity '#N/A' is a spreadsheet's error, not a code"),
     ("#name?", "commodity '#name?' is a spreadsheet's error, not a code"),
     ("=A1", "commodity '=A1' is a spreadsheet's formula, not a code"),
     ("=sum(a1)", "commodity '=sum(a1)' is a spreadsheet's formula, not a code"),
     ("8.4713E+09", "commodity '8.4713E+09' is a number a spreadsheet wrote in scientific "
                    "notation: the code's digits are lost (format the column as text)"),
     ("1.01e+03", "commodity '1.01e+03' is a number a spreadsheet wrote in scientific "
                  "notation: the code's digits are lost (format the column as text)")],
)  # fmt: skip
def test_a_spreadsheets_artefact_is_no_commodity_code(store, tmp_path, code, reason):
    """Excel's error values, a formula, and a long HS code Excel took for a number each
    landed as a series of their own; the good rows beside them land. The reason quotes the
    code as the file writes it (it had quoted '=SUM(A1)' for =sum(a1), which a search of
    the file does not find)."""
    path = tmp_path / "excel.csv"
    path.write_text(
        "reporter,partner,flow,commodity,period,value\n"
        f"CHN,PRK,export,{code},2021-01,5\nCHN,PRK,export,8471300000,2021-01,5\n"
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    assert list(store.quarantine().reason) == [reason]


@pytest.mark.parametrize("column", ["commodity", "classification"])
def test_a_code_a_page_cannot_open_is_quoted_as_written(store, tmp_path, column):
    """An ANSI colour code in a code was quoted upper-cased ('\\x1b[31MRED'), not as the
    file writes it."""
    path = tmp_path / "ansi.csv"
    codes = {"commodity": "8471", "classification": "HS", column: "\x1b[31mred"}
    path.write_text(
        "reporter,partner,flow,classification,commodity,period,value\n"
        f"CHN,PRK,export,{codes['classification']},{codes['commodity']},2021-01,5\n"
    )
    store.ingest(path)
    assert list(store.quarantine().reason) == [
        f"{column} '\x1b[31mred' holds a control character or a blank other than a space at "
        "its ends"
    ]


def test_a_figure_too_small_to_hold_is_not_read_as_zero(store, tmp_path):
    """5e-400 is written positive and a float reads it as 0.0: it landed as a zero, which
    the detectors read as a month without trade. Zeros written as zeros land."""
    path = tmp_path / "tiny.csv"
    path.write_text(
        "reporter,partner,flow,commodity,period,value\n"
        "CHN,PRK,export,TOTAL,2021-01,5e-400\nCHN,PRK,export,TOTAL,2021-02,0\n"
        "CHN,PRK,export,TOTAL,2021-03,0.000\nCHN,PRK,export,TOTAL,2021-04,0e5\n"
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (3, 1)
    assert list(store.quarantine().reason) == [
        "value '5e-400' is too small for a number to hold: it would read as 0"
    ]
