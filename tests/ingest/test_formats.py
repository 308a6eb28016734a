"""Every reader: detection, the records it yields, and each format's own particulars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.kit import CURRENCY, FORMATS, comtrade_fields, record
from tradesentry.errors import InputError
from tradesentry.ingest import detect
from tradesentry.ingest.source import open_source

DATA = Path(__file__).parents[1] / "data"
GOOD = [
    record(),
    record(flow="import", value="1754000"),
    record(month="03", value="12978000.5"),
    record(partner="KOR", commodity="2701", value="0"),
    record(reporter="DEU", partner="FRA", flow="import", year="2020", month="12", value="1E6"),
]


def observed(store, release: int | None = None) -> list[tuple]:
    df = store.observations(release=release)
    return sorted(
        (r.reporter, r.partner, r.flow, r.commodity, r.period.strftime("%Y-%m"), r.value)
        for r in df.itertuples()
    )


def expected(records) -> list[tuple]:
    return sorted(
        (r["reporter"], r["partner"], r["flow"], r["commodity"], f"{r['year']}-{r['month']}",
         pytest.approx(float(r["value"]), rel=1e-12))
        for r in records
    )  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS)
def test_each_format_round_trips(store, tmp_path, fmt):
    path = fmt.file(tmp_path, GOOD)
    result = store.ingest(path, **fmt.ingest_args(tmp_path))
    assert result.source == fmt.reader
    assert result.rows_read == len(GOOD) * fmt.lines_per_record
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    assert result.rows_quarantined == 0, store.quarantine().to_string()
    assert observed(store) == expected(GOOD)
    assert set(store.observations().currency) == {CURRENCY[fmt.name]}


@pytest.mark.parametrize("fmt", [f for f in FORMATS.values() if f.reader != "mapped"], ids=str)
def test_each_format_is_detected_from_its_header(tmp_path, fmt):
    path = fmt.file(tmp_path, GOOD)
    assert detect(open_source(path, "latin-1" if fmt.name == "legacy" else None)) == fmt.reader


def test_gzip_is_read_as_it_is(store, tmp_path):
    import gzip

    path = tmp_path / "release.csv.gz"
    path.write_bytes(gzip.compress(FORMATS["comtrade-csv"].write(GOOD)))
    result = store.ingest(path)
    assert (result.source, result.rows_accepted) == ("comtrade", len(GOOD))


# -- Comtrade Plus ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["comtrade_plus.csv", "comtrade_plus_api.json"])
def test_comtrade_fixture(store, name):
    result = store.ingest(DATA / name)
    assert (result.source, result.rows_read, result.rows_accepted) == ("comtrade", 10, 9)
    obs = store.observations()
    february = obs[(obs.period.astype(str) == "2021-02-01") & (obs.flow == "export")]
    assert february.value.tolist() == [3000.0]  # the motivating case
    assert (obs.reporter.unique().tolist(), obs.partner.unique().tolist()) == (["CHN"], ["PRK"])
    assert sorted(obs.flow.unique()) == ["export", "import", "re-export"]
    # A breakdown by mode of transport is kept beside the total, not taken for a duplicate.
    march_total = obs[(obs.commodity == "TOTAL") & (obs.flow == "export")
                      & (obs.period.astype(str) == "2021-03-01")]  # fmt: skip
    assert sorted(march_total.breakdown) == ["", "partner2=0;customs=C00;mot=3200"]
    cereals = obs[obs.commodity == "10"].iloc[0]
    assert (cereals.net_weight_kg, cereals.quantity_unit, cereals["flags"]) == (
        4690000.0,
        "kg",
        "isQtyEstimated,isAggregate",
    )
    assert obs[obs.commodity == "TOTAL"].quantity.isna().all()  # qtyUnitAbbr N/A: no quantity
    (reason,) = store.quarantine().reason
    assert reason.startswith("Comtrade flow code DX (domestic export) has no canonical flow")


def test_comtrade_csv_and_json_agree(store):
    a = store.ingest(DATA / "comtrade_plus.csv").release_id
    b = store.ingest(DATA / "comtrade_plus_api.json").release_id
    cols = ["reporter", "partner", "flow", "commodity", "breakdown", "period", "value",
            "cif_value", "fob_value", "net_weight_kg", "quantity", "flags"]  # fmt: skip
    left, right = (
        store.observations(release=r)[cols].sort_values(cols[:6]).reset_index(drop=True)
        for r in (a, b)
    )
    assert left.equals(right)


def test_comtrade_json_line_is_position_and_raw_is_the_record(store, tmp_path):
    doc = json.loads((DATA / "comtrade_plus_api.json").read_text())
    doc["data"][3]["period"] = "202113"
    path = tmp_path / "api.json"
    path.write_text(json.dumps(doc))
    store.ingest(path)
    q = store.quarantine()
    bad = q[q.line == 4].iloc[0]
    assert bad.reason == "impossible period '202113'"
    assert json.loads(bad.raw)["period"] == "202113"


def test_comtrade_json_error_envelope_is_an_input_error(store, tmp_path):
    path = tmp_path / "error.json"
    path.write_text('{"elapsedTime": "0 secs", "count": 0, "data": [], "error": "quota exceeded"}')
    with pytest.raises(
        InputError, match=r"error\.json: the Comtrade API answered with an error: quota"
    ):
        store.ingest(path)


def test_comtrade_json_cut_off_is_an_input_error(store, tmp_path):
    text = (DATA / "comtrade_plus_api.json").read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match=r"cut\.json: not a readable Comtrade JSON response"):
        store.ingest(path)


def test_comtrade_annual_period(store, tmp_path):
    rec = {**record(), "month": ""}
    text = (
        FORMATS["comtrade-json"].write([rec]).decode().replace('"freqCode": "M"', '"freqCode": "A"')
    )
    path = tmp_path / "annual.json"
    path.write_text(text.replace('"refPeriodId": "202101"', '"refPeriodId": 20210101'))
    store.ingest(path)
    obs = store.observations().iloc[0]
    assert (obs.period.strftime("%Y-%m-%d"), obs.freq, obs.period_months) == ("2021-01-01", "A", 12)


@pytest.mark.parametrize(
    ("period", "reason"),
    [("20210101", None),
     ("20210301", "period '20210301' is a day within its year: UN Comtrade dates a year by its "
                  "first day (YYYY0101) or writes YYYY"),
     ("20210229", "impossible period '20210229'")],
    ids=["first-day", "within", "no-such-day"],
)  # fmt: skip
def test_a_comtrade_year_with_a_day_is_dated_by_its_first_day(store, tmp_path, period, reason):
    """A year's refPeriodId is its first day; 20210301 and 20210229 had landed as 2021."""
    rec = comtrade_fields(record()) | {"freqCode": "A", "period": period}
    path = tmp_path / "annual.json"
    path.write_text(json.dumps({"count": 1, "data": [rec], "error": ""}))
    store.ingest(path)
    assert list(store.quarantine().reason) == ([reason] if reason else [])
    assert store.observations().period.dt.strftime("%Y-%m-%d").tolist() == (
        [] if reason else ["2021-01-01"]
    )


#: the Comtrade formats, each with the name it gives the commodity code's column
COMTRADE = {"comtrade-csv": "cmdCode", "comtrade-json": "cmdCode", "legacy": "Commodity Code"}
#: periods written with a day, and the reason each is quarantined for (None: it lands)
DAYS = {
    "20210201": None,  # the API's refPeriodId: a month's first day
    "20210230": "impossible period '20210230'",
    "20210299": "impossible period '20210299'",
    "20210315": "period '20210315' is a day within its month: UN Comtrade dates a month by "
    "its first day (YYYYMM01) or writes YYYYMM",
    "20200100": "impossible period '20200100'",
    "20210400": "impossible period '20210400'",
    "20201301": "impossible period '20201301'",
}


@pytest.mark.parametrize("fmt", [FORMATS[name] for name in COMTRADE], ids=str)
def test_a_comtrade_period_with_a_day_is_its_months_first_day(store, tmp_path, fmt):
    """The day of a YYYYMMDD period was never read: 20210230 and 20210315 landed as
    February and March 2021 (20210299 then quarantined as "same observation as line 2"),
    20200100 as January 2020. A month with a day is dated by its first (refPeriodId)."""
    records = [record(year=p[:4], month=p[4:], value=str(n)) for n, p in enumerate(DAYS, 1)]
    result = store.ingest(fmt.file(tmp_path, records))
    assert (result.rows_accepted, result.rows_quarantined) == (1, len(DAYS) - 1)
    assert sorted(store.quarantine().reason) == sorted(r for r in DAYS.values() if r)
    assert store.observations().period.dt.strftime("%Y-%m").tolist() == ["2021-02"]


@pytest.mark.parametrize("fmt", [FORMATS[name] for name in COMTRADE], ids=str)
def test_an_hs_code_that_lost_its_leading_zero_gets_it_back(store, tmp_path, fmt):
    """010110 written 10110 (a spreadsheet's or a JSON writer's number) had landed as a
    series of its own beside 010110, read as chapter 10; so had 1 for chapter 01. HS codes
    have 2, 4 or 6 digits: each gets its zero back, and the ingest says so. Codes of even
    length, and a code of another classification, stay as written."""
    codes = ["010110", "10110", "1", "101", "1011"]
    records = [record(commodity=c, month=f"{m:02d}") for m, c in enumerate(codes, 1)]
    path = fmt.file(tmp_path, records)
    sitc = record(commodity="101", month="12")
    if fmt.name == "comtrade-json":  # the API writes cmdCode as a number; a SITC code beside
        doc = json.loads(path.read_text())
        for rec in doc["data"]:
            rec["cmdCode"] = rec["cmdCode"] if rec["cmdCode"][0] == "0" else int(rec["cmdCode"])
        doc["data"].append(comtrade_fields(sitc) | {"classificationCode": "S3"})
        doc["count"] = len(doc["data"])
        path.write_text(json.dumps(doc))
    result = store.ingest(path)
    assert result.rows_quarantined == 0
    obs = store.observations().sort_values("period")
    assert obs.commodity.tolist()[: len(codes)] == ["010110", "010110", "01", "0101", "1011"]
    if fmt.name == "comtrade-json":
        assert (obs.classification.iloc[-1], obs.commodity.iloc[-1]) == ("S3", "101")
    assert result.notes == (
        "3 rows give an HS code without its leading zero, which was put back "
        f"({COMTRADE[fmt.name]} 10110 is stored as 010110; a spreadsheet or a program had "
        "taken the code for a number)",
    )


# -- legacy Comtrade ------------------------------------------------------------------------


def test_legacy_fixture_latin1(store):
    result = store.ingest(DATA / "comtrade_legacy.csv")
    assert (result.source, result.rows_read, result.rows_accepted) == ("comtrade-legacy", 8, 8)
    obs = store.observations()
    assert set(obs.partner) == {"PRK", "CIV", "WLD"}  # Côte d'Ivoire, in ISO-8859-1
    assert set(obs.flow) == {"import", "export", "re-export"}
    coal = obs[obs.commodity == "2701"].iloc[0]
    assert (coal.net_weight_kg, coal["flags"]) == (4100000.0, "isNetWgtEstimated")
    annual = obs[obs.freq == "A"].iloc[0]
    assert (annual.period.strftime("%Y-%m-%d"), annual.period_months, annual.value) == (
        "2019-01-01",
        12,
        2.57e9,
    )


def test_unknown_format_names_the_readers(store, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InputError, match=r"other\.csv:1: unknown format.*comtrade.*sdmx"):
        store.ingest(path)


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS)
def test_commodity_codes_are_stored_upper_case(store, tmp_path, fmt):
    """Codes match in any case: a national code written "ab12" is the series "AB12"."""
    path = fmt.file(tmp_path, [record(commodity="ab12"), record(commodity="Total", month="03")])
    store.ingest(path, **fmt.ingest_args(tmp_path))
    assert sorted(store.observations()["commodity"]) == ["AB12", "TOTAL"]


def test_a_classification_is_stored_upper_case(store, tmp_path):
    """A table's "h5" is UN Comtrade's H5: stored in upper case, as every lookup (the
    series page, the pair page, the report's charts) asks for it."""
    rows = "reporter,partner,flow,classification,commodity,period,value\n"
    rows += "CHN,PRK,export,h5,8542,2021-01,100\nCHN,PRK,export, hs ,8542,2021-02,200\n"
    path = tmp_path / "lower.csv"
    path.write_text(rows)
    store.ingest(path)
    assert sorted(store.observations()["classification"]) == ["H5", "HS"]


def test_a_total_is_one_series_whatever_nomenclature_the_source_names(store, tmp_path):
    """UN Comtrade calls its total H5, a plain CSV names none: the total of all goods is the
    same figure, so the later release revises the earlier one instead of standing beside it."""
    store.ingest(DATA / "comtrade_plus.csv")
    comtrade = store.observations()
    total = comtrade[(comtrade["commodity"] == "TOTAL") & (comtrade["flow"] == "export")]
    assert set(total["classification"]) == {"HS"}
    assert set(comtrade.loc[comtrade["commodity"] != "TOTAL", "classification"]) == {"H5"}
    month = total["period"].iloc[0].strftime("%m")
    csv = FORMATS["canonical"].file(tmp_path, [record(month=month, value="12345")])
    store.ingest(csv)
    current = store.con.execute(
        "SELECT classification, value FROM current_observations "
        "WHERE commodity = 'TOTAL' AND flow = 'export' AND strftime(period, '%m') = ?",
        [month],
    ).fetchall()
    assert current == [("HS", 12345.0)]


def test_a_canonical_period_on_a_months_first_day_is_that_month(store, tmp_path):
    """2021-03-01 is March 2021, as spreadsheets export a month; 2021-03-15 is no month."""
    path = tmp_path / "days.csv"
    path.write_text(
        "reporter,partner,flow,commodity,period,value\n"
        "CHN,PRK,export,TOTAL,2021-03-01,5\nCHN,PRK,export,TOTAL,2021-04-15,7\n"
    )
    result = store.ingest(path)
    assert (result.rows_accepted, result.rows_quarantined) == (1, 1)
    assert str(store.observations()["period"].iloc[0])[:7] == "2021-03"
    assert store.quarantine()["reason"].tolist() == [
        "period '2021-04-15' is not a month (YYYY-MM, or YYYY-MM-01) nor a year (YYYY)"
    ]


@pytest.mark.parametrize("written", ["2021M02", "202102", "Feb 2021", "2021-2"])
def test_a_canonical_period_in_another_notation_says_which_it_takes(store, tmp_path, written):
    """ "impossible period '202102'" said nothing of what a period should look like."""
    path = tmp_path / "notation.csv"
    path.write_text(
        f"reporter,partner,flow,commodity,period,value\nCHN,PRK,export,TOTAL,{written},5\n"
    )
    assert store.ingest(path).rows_quarantined == 1
    assert store.quarantine()["reason"].tolist() == [
        f"period '{written}' is not a month (YYYY-MM, or YYYY-MM-01) nor a year (YYYY)"
    ]
