"""The bad input of issue 2, each in every format it can occur in.

A file that cannot be read at all raises InputError with one line naming the file (and the
line where there is one). A bad record is quarantined with its physical line and one short
reason, and every good record of the same file still lands, exactly.
"""

from __future__ import annotations

import gzip
import os
import re
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ingest.kit import FIGURES, FORMATS, Format, record
from tests.trade_files import CSV_HEADER
from tradesentry import arguments
from tradesentry.errors import InputError
from tradesentry.store import open_store

GOOD = [
    record(),
    record(flow="import", value="1754000"),
    record(month="03", value="12978000"),
    record(partner="KOR", month="03", value="250.5"),
]


def observed(store) -> list[tuple]:
    return sorted(
        (r.reporter, r.partner, r.flow, r.commodity, r.period.strftime("%Y-%m"), r.value)
        for r in store.observations().itertuples()
    )


def expected(records) -> list[tuple]:
    return sorted(
        (r["reporter"], r["partner"], r["flow"], r["commodity"], f"{r['year']}-{r['month']}",
         pytest.approx(float(r["value"]), rel=1e-12))
        for r in records
    )  # fmt: skip


def first_line(fmt: Format, index: int) -> int:
    """Physical line (JSON: position) of record ``index`` of a file the kit wrote."""
    if fmt.name == "comtrade-json":
        return index + 1
    return 2 + index * fmt.lines_per_record


def ingest(store, tmp_path: Path, fmt: Format, path: Path, **kwargs):
    result = store.ingest(path, **fmt.ingest_args(tmp_path), **kwargs)
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    for reason in store.quarantine().reason:
        assert "\n" not in reason and len(reason) < 200, reason
    return result


def check_one_bad_record(store, tmp_path, fmt: Format, bad: dict, reason: str):
    """GOOD with ``bad`` (a key of its own) inserted second: it is quarantined, the rest
    lands; the ingest's result."""
    records = [GOOD[0], {**bad, "commodity": "9999"}, *GOOD[1:]]
    result = ingest(store, tmp_path, fmt, fmt.file(tmp_path, records))
    assert result.rows_read == len(records) * fmt.lines_per_record
    assert result.rows_quarantined == fmt.lines_per_record
    q = store.quarantine()
    line = first_line(fmt, 1)
    assert q.line.tolist()[0] == line
    assert re.search(reason, q.reason.iloc[0]), q.reason.iloc[0]
    if fmt.lines_per_record == 2:  # SDMX: the weight line goes with its value line
        assert q.reason.iloc[1] == f"completes line {line}, which is quarantined"
    assert observed(store) == expected(GOOD)
    return result


ALL = list(FORMATS.values())
LINES = [f for f in ALL if f.name != "comtrade-json"]  # formats with lines and fields


# -- files that cannot be read at all -------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n"], ids=["", "bom", "bom-lf"]
)
@pytest.mark.parametrize("source", ["auto", "comtrade", "sdmx", "csv"])
def test_empty_file(store, tmp_path, source, content):
    """A byte order mark alone is no text either (it read as an unknown format)."""
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: the file is empty$"):
        store.ingest(path, source=source)
    assert store.releases().empty


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_header_only(store, tmp_path, fmt):
    """No data: after a CSV's header, or in a JSON response (which has no header)."""
    path = fmt.file(tmp_path, [])
    said = (
        ": the response holds no data records"
        if fmt.suffix == ".json"
        else (":1: no data rows after the header")
    )
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}{said}$"):
        store.ingest(path, **fmt.ingest_args(tmp_path))
    assert store.releases().empty


def test_unknown_format(store, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("date,ticker,close\n2021-01-04,ABC,12.5\n")
    with pytest.raises(InputError) as err:
        store.ingest(path)
    message = str(err.value)
    assert message.startswith(f"{path}:1: unknown format: the header matches no reader")
    assert "give --source or --mapping" in message and "\n" not in message


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("reporter,partner,flow,commodity,period",
         "not a canonical CSV: missing column(s) value (another table needs --mapping)"),
        ("Reporter,Flow,commodity,period,value",
         "not a canonical CSV: missing column(s) partner (another table needs --mapping)"),
        # the nearest reader's own words: these had read "unknown format", or as a
        # canonical CSV missing flow and value
        ("freqCode,period,reporterCode,partnerCode,flowCode,cmdCode,netWgt",
         "not a Comtrade Plus CSV: missing column(s) primaryValue"),
        ("Classification,Period,Trade Flow Code,Reporter Code,Partner Code,Trade Value (US$)",
         "not a legacy Comtrade CSV: missing column(s) Commodity Code"),
        ("DATAFLOW,freq,reporter,partner,product,flow,indicators,TIME_PERIOD",
         "not an SDMX-CSV file: missing column(s) OBS_VALUE"),
        # a header in quotes is read as the readers read it
        ('"reporter","partner","flow","commodity","period"',
         "not a canonical CSV: missing column(s) value (another table needs --mapping)"),
    ],
)  # fmt: skip
def test_a_file_short_of_a_column_names_it(store, tmp_path, header, said):
    """It read as an unknown format, as if no column were right; the reader whose header
    the file holds most of names what it lacks."""
    path = tmp_path / "almost.csv"
    path.write_text(f"{header}\nCHN,PRK,export,TOTAL,2021-01,1,2,3\n")
    with pytest.raises(InputError) as err:
        store.ingest(path)
    assert str(err.value) == f"{path}:1: {said}"


@pytest.mark.parametrize("garbage", ["random", "gzip", "png"])
def test_binary_garbage(store, tmp_path, garbage):
    path = tmp_path / "garbage.csv"
    data = {
        "random": os.urandom(4096) + b"\x00",
        "gzip": gzip.compress(b"reporter,partner\n")[:12] + b"\x00garbage",
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(256),
    }[garbage]
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        store.ingest(path)
    assert str(err.value).startswith(f"{path}: ")
    assert re.search(r"binary content|cannot be read as gzip", str(err.value))
    assert store.releases().empty


# -- lines that are broken -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", LINES, ids=str)
def test_truncated_last_line(store, tmp_path, fmt):
    path = fmt.file(tmp_path, GOOD)
    text = path.read_bytes().rstrip(b"\n")
    last = text.rfind(b"\n") + 1
    path.write_bytes(text[: last + (len(text) - last) // 2])  # cut mid-line, no newline
    result = ingest(store, tmp_path, fmt, path)
    total_lines = len(GOOD) * fmt.lines_per_record
    assert (result.rows_read, result.rows_quarantined) == (total_lines, 1)
    (row,) = store.quarantine().itertuples()
    assert row.line == total_lines + 1 and re.match(r"expected \d+ fields, found \d+$", row.reason)
    if fmt.lines_per_record == 2:  # the cut line was a weight: the value is kept without it
        assert observed(store) == expected(GOOD)
    else:
        assert observed(store) == expected(GOOD[:-1])


@pytest.mark.parametrize("fmt", LINES, ids=str)
@pytest.mark.parametrize("blank", ["\t", "   ", "{d}{d}{d}{d}{d}", " {d} {d}\t"])
def test_lines_of_nothing_but_blanks_and_delimiters_are_blank_lines(store, tmp_path, fmt, blank):
    """A line of a tab was quarantined ("expected 6 fields, found 1") where a line of
    spaces was skipped, and a spreadsheet's trailing ",,,,," rows each as "reporter is
    missing": lines that hold nothing are blank lines, neither read nor quarantined."""
    path = fmt.file(tmp_path, GOOD)
    delimiter = ";" if fmt.name == "mapped" else ","
    path.write_bytes(path.read_bytes() + blank.format(d=delimiter).encode() + b"\n")
    result = ingest(store, tmp_path, fmt, path)
    assert (result.rows_read, result.rows_quarantined) == (len(GOOD) * fmt.lines_per_record, 0)
    assert observed(store) == expected(GOOD)


@pytest.mark.parametrize("fmt", LINES, ids=str)
def test_wrong_number_of_fields(store, tmp_path, fmt):
    path = fmt.file(tmp_path, GOOD)
    lines = path.read_bytes().split(b"\n")
    delimiter = b";" if fmt.name == "mapped" else b","
    lines[2] = lines[2] + delimiter + b"surplus" + delimiter + b"fields"
    path.write_bytes(b"\n".join(lines))
    result = ingest(store, tmp_path, fmt, path)
    assert result.rows_quarantined == 1
    (row,) = store.quarantine().itertuples()
    assert row.line == 3 and re.match(r"expected (\d+) fields, found \d+$", row.reason)
    assert row.raw.endswith("surplus" + delimiter.decode() + "fields")
    if fmt.lines_per_record == 1:
        assert observed(store) == expected([GOOD[0], *GOOD[2:]])


# -- records that are wrong -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_value_not_a_number(store, tmp_path, fmt):
    check_one_bad_record(
        store, tmp_path, fmt, record(value="12x4"), r"^value '12x4' is not a number$"
    )


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_negative_value(store, tmp_path, fmt):
    check_one_bad_record(store, tmp_path, fmt, record(value="-5"), r"^negative value '-")


@pytest.mark.parametrize("fmt", [f for f in ALL if f.name != "sdmx"], ids=str)
def test_missing_value_is_quarantined(store, tmp_path, fmt):
    """An empty value (JSON: null) is no observation; SDMX's blank is confidential (test_sdmx)."""
    check_one_bad_record(store, tmp_path, fmt, record(value=""), r"^value is missing$")


# Each figure beside the value, spoilt each way once: (figure, as written, reason).
BAD_FIGURES = [
    ("net_weight_kg", "12kg", r"net_weight_kg '12kg' is not a number"),
    ("net_weight_kg", "1e999", r"net_weight_kg '1e999' is not finite"),
    ("quantity", "inf", r"quantity 'inf' is not finite"),
    ("quantity", "NaN", r"quantity 'NaN' is not a number"),
    ("cif_value", "-7", r"negative cif_value '-7'"),
    ("cif_value", "inf", r"cif_value 'inf' is not finite"),
    ("fob_value", "NaN", r"fob_value 'NaN' is not a number"),
    ("fob_value", "-7", r"negative fob_value '-7'"),
]
# SDMX carries a weight line, not these columns: see test_sdmx.
FIGURE_FORMATS = [f for f in ALL if f.name != "sdmx"]


@pytest.mark.parametrize("fmt", FIGURE_FORMATS, ids=str)
@pytest.mark.parametrize(("figure", "text", "reason"), BAD_FIGURES, ids=lambda v: str(v)[:14])
def test_figure_that_is_not_a_good_number_is_quarantined(
    store, tmp_path, fmt, figure, text, reason
):
    bad = {**record(), figure: text}
    check_one_bad_record(store, tmp_path, fmt, bad, f"^{reason}$")


@pytest.mark.parametrize("fmt", FIGURE_FORMATS, ids=str)
def test_empty_figures_are_null_and_good_ones_land(store, tmp_path, fmt):
    given = {"net_weight_kg": "1500", "quantity": "3", "cif_value": "2000", "fob_value": "1900"}
    records = [{**GOOD[0], **dict.fromkeys(FIGURES, "")}, {**GOOD[1], **given}, *GOOD[2:]]
    result = ingest(store, tmp_path, fmt, fmt.file(tmp_path, records))
    assert result.rows_quarantined == 0, store.quarantine().reason.tolist()
    obs = store.observations().set_index("value")
    empty, full = obs.loc[float(GOOD[0]["value"])], obs.loc[float(GOOD[1]["value"])]
    assert empty[list(FIGURES)].isna().all()
    scale = 1000 if fmt.name == "mapped" else 1  # the mapping's unit scales CIF and FOB
    assert (full.net_weight_kg, full.quantity) == (1500, 3)
    assert (full.cif_value, full.fob_value) == (2000 * scale, 1900 * scale)


@pytest.mark.parametrize("fmt", LINES, ids=str)
def test_a_stray_nul_byte_quarantines_its_line_only(store, tmp_path, fmt):
    """A text file with a NUL in one line is text: that line is quarantined, the rest lands."""
    path = fmt.file(tmp_path, GOOD)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"TOTAL", b"TO\x00TAL", 1)
    path.write_bytes(b"\n".join(lines))
    result = ingest(store, tmp_path, fmt, path)
    q = store.quarantine()
    assert q.line.iloc[0] == 3 and q.reason.iloc[0] == "NUL byte in the line: binary data, not text"
    assert result.rows_read == len(GOOD) * fmt.lines_per_record
    if fmt.lines_per_record == 1:
        assert observed(store) == expected([GOOD[0], *GOOD[2:]])


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_impossible_period(store, tmp_path, fmt):
    bad = record(year="2021", month="13")
    check_one_bad_record(
        store, tmp_path, fmt, bad, r"^impossible period '(2021-13|202113|13/2021)'$"
    )


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_a_period_that_has_not_begun(store, tmp_path, fmt):
    """2120-12 typed for 2020-12: it landed, and its series ran a century to it."""
    bad = record(year="2120", month="12")
    check_one_bad_record(
        store, tmp_path, fmt, bad, r"^period '(2120-12|212012|12/2120)' has not begun \(today is "
    )


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_unknown_country_code(store, tmp_path, fmt):
    """The note offers a mapping's [countries] table only for a table a mapping can read:
    an SDMX or a Comtrade file takes no mapping (it is refused on one)."""
    bad = record(partner="XXX")
    result = check_one_bad_record(
        store, tmp_path, fmt, bad, r"^unknown partner country '(XXX|999|QQ|Atlantis)'$"
    )
    offered = any("[countries]" in note for note in result.notes)
    assert offered is (fmt.reader in ("csv", "mapped"))


def test_a_combined_figure_whose_last_month_has_not_begun(store, tmp_path):
    """This month and the two after it as one figure: two of its months hold no trade yet.
    This month alone lands: it has begun."""
    from datetime import date

    this_month = date.today().strftime("%Y-%m")
    path = tmp_path / "ahead.csv"
    path.write_text(
        "reporter,partner,flow,commodity,period,period_months,value\n"
        f"CHN,PRK,export,TOTAL,{this_month},3,1000\n"
        f"CHN,PRK,export,TOTAL,{this_month},1,1000\n"
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    (reason,) = store.quarantine().reason
    assert reason.startswith(f"period '{this_month}' has not begun (today is ")


def test_a_canonical_csv_takes_the_flow_spellings_the_other_readers_take(store, tmp_path):
    """ "EXPORTS", "X" and "M" were refused by the canonical CSV (and quoted back
    lower-cased) while the mapped and UN Comtrade readers took them."""
    path = tmp_path / "flows.csv"
    path.write_text(
        "reporter,partner,flow,commodity,period,value\n"
        "CHN,PRK,EXPORTS,TOTAL,2021-01,1\n"
        "CHN,PRK,M,TOTAL,2021-01,2\n"
        "CHN,PRK,Re-Exports,TOTAL,2021-01,3\n"
        "CHN,PRK,Transit,TOTAL,2021-01,4\n"
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (3, 1)
    assert sorted(store.observations().flow) == ["export", "import", "re-export"]
    assert store.quarantine().reason.tolist() == ["unknown flow 'Transit'"]  # as written


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_unknown_flow(store, tmp_path, fmt):
    check_one_bad_record(store, tmp_path, fmt, record(flow="transit"),
                         r"^(unknown flow|Comtrade flow code|unknown legacy Comtrade trade flow code)"
                         r" 'transit'")  # fmt: skip


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_same_key_twice(store, tmp_path, fmt):
    records = [*GOOD, {**GOOD[1], "value": "99"}]
    result = ingest(store, tmp_path, fmt, fmt.file(tmp_path, records))
    assert result.rows_quarantined == fmt.lines_per_record
    q = store.quarantine()
    assert q.line.tolist()[0] == first_line(fmt, len(GOOD))
    # a conflicting figure says so, in the file's own spelling of both (the mapped table's
    # is in thousands with a decimal comma)
    assert re.fullmatch(
        rf"same observation as line {first_line(fmt, 1)}, with another value: "
        r"'(99|0,099)' against '(1754000|1754)'",
        q.reason.iloc[0],
    ), q.reason.iloc[0]
    assert observed(store) == expected(GOOD)  # the first one stands


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_the_same_record_twice(store, tmp_path, fmt):
    records = [*GOOD, GOOD[1]]
    result = ingest(store, tmp_path, fmt, fmt.file(tmp_path, records))
    assert result.rows_quarantined == fmt.lines_per_record
    reason = store.quarantine().reason.iloc[0]
    assert reason == f"same observation as line {first_line(fmt, 1)}"
    assert observed(store) == expected(GOOD)


@pytest.mark.parametrize("fmt", ALL, ids=str)
def test_one_megabyte_value_field(store, tmp_path, fmt):
    huge = "9" * (1 << 20)
    check_one_bad_record(
        store, tmp_path, fmt, record(value=huge), r"^value '9{40}…' is not finite$"
    )
    raw = store.quarantine().raw.iloc[0]
    assert huge in raw  # the raw text is kept whole


def test_one_megabyte_text_field_is_fine(store, tmp_path):
    """A huge description is no reason to refuse a good record."""
    fmt = FORMATS["comtrade-csv"]
    path = fmt.file(tmp_path, GOOD)
    text = path.read_text().replace("All Commodities, described", "x" * (1 << 20), 1)
    path.write_text(text)
    result = ingest(store, tmp_path, fmt, path)
    assert (result.rows_accepted, result.rows_quarantined) == (len(GOOD), 0)
    assert observed(store) == expected(GOOD)


# -- text encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt", [FORMATS["canonical"], FORMATS["comtrade-csv"], FORMATS["sdmx"]], ids=str
)
def test_invalid_utf8_line_is_quarantined_with_its_line(store, tmp_path, fmt):
    path = fmt.file(tmp_path, GOOD)
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3] + b"\xff\xfe broken"
    path.write_bytes(b"\n".join(lines))
    result = ingest(store, tmp_path, fmt, path)
    assert result.rows_quarantined >= 1
    q = store.quarantine()
    assert q.line.iloc[0] == 4
    assert q.reason.iloc[0].startswith("invalid text: not valid UTF-8")
    assert result.rows_accepted == result.rows_read - result.rows_quarantined


LATIN1 = "reporter,partner,flow,commodity,period,value,currency,note\n"


def test_latin1_file_is_read_as_latin1(store, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((LATIN1 + "CHN,Côte d'Ivoire,export,TOTAL,2021-01,5,USD,é\n"
                      "CHN,PRK,export,TOTAL,2021-01,6,USD,ü\n").encode("latin-1"))  # fmt: skip
    result = ingest(store, tmp_path, FORMATS["canonical"], path)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 0)
    assert set(store.observations().partner) == {"CIV", "PRK"}
    assert set(store.observations().provenance) == {'{"note":"é"}', '{"note":"ü"}'}


def test_a_one_line_latin1_file_is_read_as_latin1(store, tmp_path):
    """Its one bad byte sits near the file's end: that is latin-1, not a UTF-8 character
    cut by the end of the sample read."""
    path = tmp_path / "one.csv"
    path.write_bytes((LATIN1 + "CHN,PRK,export,TOTAL,2021-01,5,USD,café\n").encode("latin-1"))
    result = ingest(store, tmp_path, FORMATS["canonical"], path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 0)
    assert set(store.observations().provenance) == {'{"note":"café"}'}


def test_latin1_line_in_a_utf8_file_is_quarantined_then_read_when_told(store, tmp_path):
    rows = "".join(f"CHN,KOR,export,{c},2021-01,5,USD,ok\n" for c in range(10, 14))
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        (LATIN1 + rows).encode()
        + "CHN,Côte d'Ivoire,export,TOTAL,2021-01,5,USD,é\n".encode("latin-1")
    )
    result = ingest(store, tmp_path, FORMATS["canonical"], path)
    assert (result.rows_accepted, result.rows_quarantined) == (4, 1)
    (row,) = store.quarantine().itertuples()
    assert row.line == 6 and "pass --encoding latin-1" in row.reason
    with open_store(tmp_path / "other.duckdb") as other:
        told = other.ingest(path, encoding="latin-1")
        assert (told.rows_accepted, told.rows_quarantined) == (5, 0)
        assert "CIV" in set(other.observations().partner)


def test_a_latin1_line_at_the_top_of_a_utf8_file_does_not_make_it_latin1(store, tmp_path):
    """One latin-1 line right under the header made the whole file latin-1: the UTF-8
    "Réunion" read "RÃ©union" (quarantined as an unknown country, the cause hidden) and
    provenance was stored garbled. The file's other lines are UTF-8: it is UTF-8, and the
    latin-1 line is the one quarantined."""
    path = tmp_path / "mixed_top.csv"
    path.write_bytes(
        LATIN1.encode()
        + "CHN,Curaçao,export,TOTAL,2021-01,5,USD,latin\n".encode("latin-1")
        + "CHN,Réunion,export,TOTAL,2021-01,6,USD,naïve café\n".encode()
        + "CHN,Côte d'Ivoire,export,TOTAL,2021-01,7,USD,x\n".encode()
    )
    result = ingest(store, tmp_path, FORMATS["canonical"], path)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 1)
    (row,) = store.quarantine().itertuples()
    assert row.line == 2 and "pass --encoding latin-1" in row.reason
    obs = store.observations()
    assert set(obs.partner) == {"REU", "CIV"}
    assert '{"note":"naïve café"}' in set(obs.provenance)


def test_a_latin1_file_ending_on_its_accented_byte_is_read_as_latin1(store, tmp_path):
    """No final newline: the é is the file's last byte, which reads as a UTF-8 character
    cut short; the whole file was read, so nothing was cut."""
    path = tmp_path / "end.csv"
    path.write_bytes((LATIN1 + "CHN,PRK,export,TOTAL,2021-01,5,USD,café").encode("latin-1"))
    result = ingest(store, tmp_path, FORMATS["canonical"], path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 0)


#: codes with a control character or a blank other than a space; the legacy files are
#: Latin-1, which has no line separator
ODD_CODES = [
    (fmt, code)
    for fmt in ALL
    for code in ("8471\x0b", "84\u202871", "\u00a08471", "\x858471", "8471\t")
    if not (fmt.name == "legacy" and code == "84\u202871")
]


@pytest.mark.parametrize("odd", ["\tHS", "HS\x1c", "\u2028X\u2029", "H\x85S"])
def test_a_classification_a_page_cannot_open_is_quarantined(store, tmp_path, odd):
    """A classification with a tab or a line separator landed (the ingest trims spaces
    only), and every lookup, which strips such blanks, missed its series: its findings
    were listed by the scan and "No findings." on its page and in `series`."""
    path = tmp_path / "odd.csv"
    rows = ["HS,TOTAL,2021-01", "HS,TOTAL,2021-02", f"{odd},1005,2021-02"]
    path.write_text(
        f"{CSV_HEADER}\n"
        + "".join(
            f"CHN,PRK,export,{c},{k},{m},1,3000,USD\n" for c, k, m in (r.split(",") for r in rows)
        ),
        encoding="utf-8",
    )
    result = ingest(store, tmp_path, FORMATS["canonical"], path)
    assert (result.rows_accepted, result.rows_quarantined) == (2, 1)
    (reason,) = store.quarantine().reason
    assert reason.startswith("classification ") and reason.endswith(
        "holds a control character or a blank other than a space at its ends"
    )
    assert set(store.observations().classification) == {"HS"}


def test_a_breakdown_a_page_cannot_open_is_quarantined(store, tmp_path):
    """A Comtrade mode of transport ending in a tab made a breakdown no page could open:
    the finding's own link redirected to a 404."""
    lines = (REPO / "tests" / "data" / "comtrade_plus.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[lines[0].split(",").index("motCode")] = "3200\t"
    path = tmp_path / "plus.csv"
    path.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n", "utf-8")
    result = store.ingest(path)
    # the file's own DX line (a flow no canonical flow stands for) is quarantined too
    assert (result.rows_accepted, result.rows_quarantined) == (len(lines) - 3, 2)
    row = store.quarantine().iloc[0]
    assert row.line == 2 and row.reason.startswith("breakdown 'partner2=0;customs=C00;mot=3200")
    assert "\t" not in "".join(store.observations().breakdown)


@pytest.mark.parametrize(
    ("fmt", "code"), ODD_CODES, ids=lambda v: str(v) if isinstance(v, Format) else repr(v)
)
def test_a_stored_commodity_code_is_one_a_page_can_open(store, tmp_path, fmt, code):
    """A code ending in a vertical tab landed as it was (the ingest trims spaces only) and
    no page could open it: a code typed or in a URL is read with every blank at its ends
    stripped, and the pair's page, listing it, failed for every series of the pair. Such a
    record is quarantined (a reader that splits the line there quarantines both parts),
    or lands with the blank trimmed; the good records land either way."""
    records = [GOOD[0], record(commodity=code), *GOOD[1:]]
    ingest(store, tmp_path, fmt, fmt.file(tmp_path, records))
    codes = set(store.observations().commodity)
    assert all(arguments.commodity_code(c) == c for c in codes), codes
    assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for c in codes for ch in c)
    good = [r for r in observed(store) if r[3] == "TOTAL"]
    assert good == expected(GOOD)


@pytest.mark.parametrize("where", ["header", "note"])
def test_a_field_longer_than_the_csv_modules_limit_is_read(store, tmp_path, where):
    """The csv module refuses a field over 131,072 characters: a header field that long
    was a traceback (exit 1, an empty store left), and a note that long, its inch mark
    kept, was quarantined for text after a quote."""
    long = "n" * 131_100
    extra = long if where == "header" else "note"
    note = "x" if where == "header" else f'12" {long}'
    path = tmp_path / "long.csv"
    path.write_text(
        f"reporter,partner,flow,commodity,period,value,{extra}\n"
        f"CHN,PRK,export,TOTAL,2021-01,1,{note}\n",
        encoding="utf-8",
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 0)
