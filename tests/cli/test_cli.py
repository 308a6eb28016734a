"""The command line through Typer's runner, in-process; effects checked through the API."""

from __future__ import annotations

import csv
import importlib
import io
import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV, today
from tests.test_api import two_classifications
from tradesentry import cli
from tradesentry.cli import app
from tradesentry.store import open_store

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_ingest_then_releases_json_reconciles(tmp_path):
    db = tmp_path / "s.duckdb"
    result = invoke("ingest", DEMO_CSV, "--store", db)
    assert result.exit_code == 0, result.output
    assert "release 1" in result.output
    releases = json.loads(invoke("releases", "--format", "json", "--store", db).stdout)
    assert len(releases) == 1
    r = releases[0]
    for key in (
        "id",
        "source",
        "file",
        "sha256",
        "published",
        "ingested_at",
        "rows_read",
        "rows_accepted",
        "rows_quarantined",
    ):
        assert key in r
    assert r["rows_read"] == r["rows_accepted"] + r["rows_quarantined"] == 47


def test_same_file_twice_is_a_no_op(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    again = invoke("ingest", DEMO_CSV, "--store", db)
    assert again.exit_code == 0
    assert "already ingested" in again.output
    with open_store(db) as st:
        assert len(st.releases()) == 1


def test_unreadable_file_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "garbage.bin"
    bad.write_bytes(bytes(range(256)) * 10)
    result = invoke("ingest", bad, "--store", tmp_path / "s.duckdb")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "garbage.bin" in lines[0]


def test_quarantine_lists_bad_lines_with_reasons(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "reporter,partner,flow,commodity,period,value,currency\n"
        "CHN,PRK,export,TOTAL,2021-01,100,USD\n"
        "CHN,PRK,export,TOTAL,2021-13,100,USD\n"
    )
    db = tmp_path / "s.duckdb"
    result = invoke("ingest", csv, "--store", db)
    assert result.exit_code == 0
    assert "bad.csv:3: impossible period '2021-13'" in result.stderr
    rows = json.loads(invoke("quarantine", "--format", "json", "--store", db).stdout)
    assert [(r["line"], r["reason"]) for r in rows] == [(3, "impossible period '2021-13'")]


def test_a_file_of_which_no_row_lands_exits_2_and_keeps_its_quarantine(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "reporter,partner,flow,commodity,period,value,currency\n"
        "CHN,PRK,export,TOTAL,2021-13,100,USD\n"
        "CHN,PRK,export,TOTAL,2021-02,abc,USD\n"
    )
    db = tmp_path / "s.duckdb"
    result = invoke("ingest", csv, "--store", db)
    assert result.exit_code == 2
    last = result.stderr.splitlines()[-1]
    assert last == (
        f"error: {csv}: no row landed: all 2 rows quarantined (tradesentry quarantine --release 1)"
    )
    rows = json.loads(invoke("quarantine", "--format", "json", "--store", db).stdout)
    assert [r["line"] for r in rows] == [2, 3]  # kept, for the reader to see why
    # the same file again fails again: a pipeline's retry had read exit 0, "nothing to do",
    # as the file going in
    again = invoke("ingest", csv, "--store", db)
    assert again.exit_code == 2
    assert "already ingested as release 1" in again.stdout
    assert again.stderr.splitlines()[-1] == last


# Every prefix csv_safe neutralises but "\r", which cannot start a line of the file.
@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t"])
def test_quarantine_csv_neutralises_formulas(tmp_path, prefix):
    line = f'{prefix}HYPERLINK("x"),PRK,export,TOTAL,2021-01,100,USD'
    path = tmp_path / "evil.csv"
    path.write_text(f"reporter,partner,flow,commodity,period,value,currency\n{line}\n")
    db = tmp_path / "s.duckdb"
    invoke("ingest", path, "--store", db)
    out = invoke("quarantine", "--format", "csv", "--store", db).stdout
    # (the tab itself is escaped, as every control character printed to a terminal)
    said = "'" + line.replace("\t", "\\x09")
    assert [row["raw"] for row in csv.DictReader(io.StringIO(out))] == [said]


def test_scan_json_follows_the_contract(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    result = invoke("scan", "--format", "json", "--store", db)
    assert result.exit_code == 0
    findings = json.loads(result.stdout)
    assert isinstance(findings, list) and findings  # the demo data has findings to check
    for f in findings:
        assert set(f) >= {
            "id",
            "kind",
            "reporter",
            "partner",
            "flow",
            "commodity",
            "period",
            "period_end",
            "observed",
            "expected",
            "currency",
            "impact",
            "score",
            "severity",
            "explanation",
            "evidence",
        }
        assert 0.0 <= f["score"] <= 1.0


def test_scan_rejects_a_bad_month(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    result = invoke("scan", "--since", "2021-13", "--store", db)
    assert result.exit_code == 2
    assert "--since" in result.stderr


@pytest.mark.parametrize(
    "key", [("CHN", "PRK", "export", "TOTAL"), ("chn", "prk", "EXPORT", "total")], ids=str
)
def test_series_shows_values(tmp_path, key):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    result = invoke("series", *key, "--store", db)
    assert result.exit_code == 0
    assert result.stdout.startswith("CHN → PRK export TOTAL (USD)\n")  # the codes as stored
    assert "$3.0K" in result.stdout and "2021-02" in result.stdout


def test_series_held_under_two_classifications_needs_one(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", two_classifications(tmp_path), "--store", db)
    result = invoke("series", "CHN", "PRK", "export", "8542", "--store", db)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "error: CHN PRK export 8542 is held under classifications H5, HS: pass --classification\n"
    )
    chosen = invoke(
        "series", "CHN", "PRK", "export", "8542", "--classification", "h5", "--store", db
    )
    assert chosen.exit_code == 0, chosen.output
    assert chosen.stdout.startswith("CHN → PRK export 8542 (H5, USD)\n")
    rows = [line.split()[:1] for line in chosen.stdout.splitlines()]
    assert rows.count(["2021-02"]) == 1  # each month once


def _comext_with_a_blank(tmp_path) -> str:
    """Comext as published: DE's exports to FR with June 2024 confidential (an empty
    OBS_VALUE, kept as NULL), FR's imports from DE with no line at all for March 2025."""
    lines = ["DATAFLOW,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE\n"]
    for i, month in enumerate(pd.period_range("2023-01", "2025-12", freq="M").astype(str)):
        value = 1_000_000 + 7_919 * (i % 11)
        shown = "" if month == "2024-06" else value
        lines.append(f"ESTAT:X,M,DE,FR,39201024,2,VALUE_IN_EUROS,{month},{shown}\n")
        if month != "2025-03":
            lines.append(f"ESTAT:X,M,FR,DE,39201024,1,VALUE_IN_EUROS,{month},{value + 5000}\n")
    path = tmp_path / "conf.csv"
    path.write_text("".join(lines))
    return str(path)


def test_series_shows_missing_and_withheld_months_as_rows(tmp_path):
    """Every month of the series' span has a row, so the month a gap is about can be seen:
    one the store does not hold with an empty value, one it holds without a figure (a
    confidential Comext blank) flagged withheld."""
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", _comext_with_a_blank(tmp_path), "--store", db).exit_code == 0
    rows = {}
    for key in (("DEU", "FRA", "export"), ("FRA", "DEU", "import")):
        shown = invoke("series", *key, "39201024", "--store", db)
        assert shown.exit_code == 0, shown.output
        cells = [[c.strip() for c in line.split("│")] for line in shown.stdout.splitlines()]
        table = [c for c in cells if len(c) == 4 and c[0][:2] == "20"]
        assert len(table) == 36  # 2023-01 to 2025-12, each once
        rows.update({(key[0], c[0]): c[1:] for c in table})
    assert rows["DEU", "2024-06"] == ["1", "", "withheld, gap"]
    assert rows["FRA", "2025-03"] == ["", "", "gap"]
    assert rows["FRA", "2025-04"][0] == "1" and rows["FRA", "2025-04"][1].startswith("€1.")


def test_series_shows_two_combined_figures_that_overlap_and_their_flag(tmp_path):
    """January–February and February–March in one release: February is counted twice. The
    text chart crashed on the month held by two figures; the scan flags them."""
    csv = tmp_path / "overlap.csv"
    csv.write_text(
        "reporter,partner,flow,commodity,period,period_months,value\n"
        "CHN,PRK,export,TOTAL,2020-01,2,2000000\n"
        "CHN,PRK,export,TOTAL,2020-02,2,2000000\n"
        "CHN,PRK,export,TOTAL,2020-04,1,1000000\n"
    )
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", csv, "--store", db).exit_code == 0
    assert invoke("scan", "--store", db).exit_code == 0
    shown = invoke("series", "CHN", "PRK", "export", "TOTAL", "--store", db)
    assert shown.exit_code == 0, shown.output
    cells = [[c.strip() for c in line.split("│")] for line in shown.stdout.splitlines()]
    table = {c[0]: c[1:] for c in cells if len(c) == 4 and c[0][:2] == "20"}
    assert table["2020-01…2020-02"] == ["2", "$2.0M", ""]
    assert table["2020-02…2020-03"] == ["2", "$2.0M", "incoherent"]  # the month counted twice
    assert "both cover February 2020" in shown.stdout.replace("\n", " ")


def test_series_labels_a_combined_figure_by_its_months(tmp_path):
    """China's January–February 2020, one figure published beside January's own: it was
    labelled 2020-01 as January was, read as a second January; the scan's headings write
    its span so."""
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, "--store", db).exit_code == 0
    shown = invoke("series", "CHN", "PRK", "export", "TOTAL", "--store", db)
    cells = [[c.strip() for c in line.split("│")] for line in shown.stdout.splitlines()]
    rows = [c[:3] for c in cells if len(c) == 4 and c[0][:4] in ("2020", "2021")]
    assert ["2020-01", "1", "$186.9M"] in rows and ["2020-01…2020-02", "2", "$197.4M"] in rows
    assert [r[0] for r in rows].count("2020-01") == 1


def _long_series(tmp_path, months: int = 228):
    """19 years of a flat series with a few per cent of noise (values 0.95M to 1.05M)."""
    periods = pd.period_range("2001-01", periods=months, freq="M").astype(str)
    lines = ["reporter,partner,flow,commodity,period,value\n"]
    lines += [
        f"JPN,CHN,export,TOTAL,{p},{1e6 + 25_000 * ((i * 7) % 5 - 2)}\n"
        for i, p in enumerate(periods)
    ]
    source = tmp_path / "long.csv"
    source.write_text("".join(lines))
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", source, "--store", db).exit_code == 0
    return db


@pytest.mark.parametrize(
    ("columns", "beside", "note"),
    [
        (80, "  $950.0K to $1.1M a month", "(each mark the median of 5 months)"),
        (40, "", "(each mark the median of 6 months)"),  # no room for the figures
    ],
)
def test_series_fits_its_chart_to_the_terminal(tmp_path, monkeypatch, columns, beside, note):
    """A 19-year series was drawn one mark a month, 228 marks that an 80-column terminal
    wrapped: it is drawn one mark for several months, saying so, with its lowest and
    highest figure beside it where there is room."""
    db = _long_series(tmp_path)
    monkeypatch.setattr(cli.out, "width", columns)  # as test_output's `wide` sets it
    shown = invoke("series", "JPN", "CHN", "export", "TOTAL", "--store", db)
    assert shown.exit_code == 0, shown.output
    chart, said = shown.stdout.splitlines()[1:3]
    assert len(chart) <= columns and chart.endswith(beside) and said == note
    assert set(chart.removesuffix(beside)) <= set("▃▄▅▆")  # 5 % noise draws small


def test_series_shows_a_stops_months_to_the_records_end(tmp_path):
    """A series that stopped while its record went on (Slovakia's exports of CN 35069110 to
    Czechia, nothing after December 2023): its table ended with its last figure, hiding
    the 23 months its stop is about. Every month the findings name has a row."""
    from tests.detectors.test_gap import _stopping_csv

    db = tmp_path / "s.duckdb"
    assert invoke("ingest", _stopping_csv(tmp_path, stop_after=14), "--store", db).exit_code == 0
    shown = invoke("series", "GIN", "ESP", "export", "26060000", "--store", db)
    assert shown.exit_code == 0, shown.output
    cells = [[c.strip() for c in line.split("│")] for line in shown.stdout.splitlines()]
    table = {c[0]: c[1:] for c in cells if len(c) == 4 and c[0][:2] == "20"}
    assert len(table) == 24 and table["2017-12"] == ["", "", "gap"]
    assert table["2017-03"][2] == ""


def test_unknown_series_exits_2(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    result = invoke("series", "CHN", "USA", "export", "TOTAL", "--store", db)
    assert result.exit_code == 2


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_scan_output_streams_in_batches_to_the_same_text(tmp_path, monkeypatch, fmt):
    """A saved scan is written batch by batch: the text does not depend on the batch size
    (the CSV has one header), and evidence is valid JSON (null, never NaN)."""
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    whole = invoke("scan", "--format", fmt, "--store", db).stdout
    monkeypatch.setattr(importlib.import_module("tradesentry.findings"), "_STREAM_BATCH", 2)
    assert invoke("scan", "--format", fmt, "--store", db).stdout == whole
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(whole)))
        assert len(rows) >= 5 and whole.count("id,kind,") == 1
        for row in rows:
            json.loads(row["evidence"])  # strict JSON
            assert "NaN" not in row["evidence"]


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "table"])
def test_scan_limit_keeps_the_worst_findings_in_any_format(tmp_path, fmt):
    """`--limit 2` writes the 2 worst findings whatever the format (it printed every one of
    17,135 in json); without it the exports write all, the table 30; the saved scan is
    whole either way."""
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    whole = json.loads(invoke("scan", "--format", "json", "--store", db).stdout)
    assert len(whole) > 2
    out = invoke("scan", "--format", fmt, "--limit", "2", "--store", db).stdout
    if fmt == "json":
        shown = [f["id"] for f in json.loads(out)]
    elif fmt == "jsonl":
        shown = [json.loads(line)["id"] for line in out.splitlines()]
    elif fmt == "csv":
        shown = [row["id"] for row in csv.DictReader(io.StringIO(out))]
    else:
        assert re.search(r"^ 2\. ", out, re.M) and not re.search(r"^ 3\. ", out, re.M)
        assert f"… {len(whole) - 2:,} more" in out
        shown = [f["id"] for f in whole[:2]]
    assert shown == [f["id"] for f in whole[:2]]
    saved = open_store(db).findings()
    assert len(saved) == len(whole)


def test_an_empty_scan_writes_the_csv_header_and_an_empty_json_array(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)  # one reporter: no mirror pairs
    out = invoke("scan", "--kind", "mirror_gap", "--format", "csv", "--store", db).stdout
    assert out.splitlines()[0].startswith("id,kind,") and len(out.splitlines()) == 1
    assert (
        invoke("scan", "--kind", "mirror_gap", "--format", "json", "--store", db).stdout == "[]\n"
    )


@pytest.mark.parametrize(
    "given", [["--limit", "0"], ["--limit", "2"], []], ids=["limit-0", "limit-2", "default"]
)
def test_scan_table_says_how_to_see_the_rest_in_a_way_that_works(tmp_path, monkeypatch, given):
    """The table's "… N more" offers only what shows them: it offered `--format json` after
    `--limit 0`, which applies in every format and so wrote `[]`."""
    monkeypatch.setattr(importlib.import_module("tradesentry.cli"), "TABLE_LIMIT", 2)
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    table = invoke("scan", *given, "--store", db).stdout
    hint = re.search(r"^… \d+ more \((.*) for all\)$", table, re.M)
    assert hint, table
    offered = [o.strip().split() for o in hint.group(1).split(", or ")]
    assert (["--format", "json"] in offered) == (given == [])
    whole = len(json.loads(invoke("scan", "--format", "json", "--store", db).stdout))
    for option in offered:  # each way offered, with the options given, lists every finding
        options = given + option if option[0] == "--format" else option + ["--format", "json"]
        assert len(json.loads(invoke("scan", *options, "--store", db).stdout)) == whole


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
@pytest.mark.parametrize("new", [False, True], ids=["scan", "new"])
def test_an_empty_export_says_so_on_stderr_alone(tmp_path, fmt, new):
    """An export of no finding wrote nothing at all in jsonl (and no word in json or csv):
    a note on stderr tells it from a failed run, and stdout stays the format's own."""
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)  # one reporter: no mirror pairs
    result = invoke(
        "scan", "--kind", "mirror_gap", "--format", fmt, *(["--new"] if new else []), "--store", db
    )
    assert result.exit_code == 0
    said = "scan 1: new since no earlier scan of these options" if new else "scan 1"
    assert result.stderr == f"note: no findings ({said})\n"
    assert result.stdout == {"json": "[]\n", "jsonl": ""}.get(fmt, result.stdout)
    if fmt == "csv":
        assert list(csv.DictReader(io.StringIO(result.stdout))) == []
    some = invoke("scan", "--format", fmt, "--store", db)  # findings: no note
    assert some.stdout and "note: no findings" not in some.stderr


def test_an_empty_scan_names_its_scan_for_a_later_baseline(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    out = invoke("scan", "--kind", "mirror_gap", "--store", db).stdout
    assert out.strip() == "No findings (scan 1)."


def _ids(result) -> set[str]:
    assert result.exit_code == 0, result.output
    return {f["id"] for f in json.loads(result.stdout)}


def test_resolved_compares_with_the_scan_given_by_baseline(tmp_path):
    """`scan --new` is a saved scan itself, so a `--resolved` after it compares with it;
    --baseline names the scan from before the revision instead."""
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    before = _ids(invoke("scan", "--format", "json", "--store", db))  # scan 1
    revised = tmp_path / "revised.csv"  # February 2021 revised to a plausible month
    lines = DEMO_CSV.read_text(encoding="utf-8").splitlines()
    lines = [lines[0], *(ln.replace(",3000.0,", ",190000.0,") for ln in lines if ",2021-02," in ln)]
    revised.write_text("\n".join(lines) + "\n", encoding="utf-8")
    invoke("ingest", revised, "--published", today(), "--store", db)
    scan = ("scan", "--format", "json", "--store", db)
    new = _ids(invoke(*scan, "--new"))  # scan 2, against scan 1
    assert _ids(invoke(*scan, "--resolved")) == set()  # scan 3, against scan 2: nothing
    resolved = _ids(invoke(*scan, "--resolved", "--baseline", "1"))  # scan 4, against scan 1
    assert resolved and resolved <= before
    with open_store(db) as st:
        assert resolved == {f["id"] for f in st.findings(scan_id=1)} - {
            f["id"] for f in st.findings(scan_id=4)
        }
        assert new == {f["id"] for f in st.findings(scan_id=2)} - before
    assert _ids(invoke(*scan, "--new", "--baseline", "1")) == new  # scan 5
    # the table's heading says what the findings are: not scan 1's own, which they come from
    table = invoke("scan", "--resolved", "--baseline", "1", "--store", db).stdout  # scan 6
    assert f"{len(resolved)} finding" in table and "(scan 6: gone since scan 1)" in table
    assert "(scan 7: new since scan 6)" in invoke("scan", "--new", "--store", db).stdout


# UN Comtrade's annual data: one series by year, a spike in 2016 and no figure for 2012.
ANNUAL_CSV = "reporter,partner,flow,commodity,period,value,period_months,freq\n" + "".join(
    f"CHN,PRK,import,TOTAL,{year},{9e8 if year == 2016 else 1e8 * (1 + (year % 3) / 50)},12,A\n"
    for year in range(2005, 2022)
    if year != 2012
)


@pytest.fixture
def annual_db(tmp_path):
    path = tmp_path / "annual.csv"
    path.write_text(ANNUAL_CSV)
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", path, "--store", db).exit_code == 0
    return db


def test_an_annual_series_is_shown_by_year(annual_db):
    """The finding's heading and text, and the series' rows, name the year: never 2016-01,
    January 2016 or "12 reported months"."""
    scan = invoke("scan", "--store", annual_db).stdout
    assert "spike  CHN→PRK import TOTAL  2016  $" in scan
    assert "gap  CHN→PRK import TOTAL  2012  $" in scan
    assert "2016 recorded $900.0M" in scan and "No figure for 2012" in scan
    assert "-01" not in scan and "January" not in scan and "month" not in scan
    series = invoke("series", "CHN", "PRK", "import", "TOTAL", "--store", annual_db)
    assert series.exit_code == 0, series.output
    rows = [line.split("│") for line in series.stdout.splitlines() if "│" in line]
    assert [row[0].strip() for row in rows[:3]] == ["2005", "2006", "2007"]
    assert [row[-1].strip() for row in rows if row[0].strip() == "2016"] == ["spike"]
    assert "-01" not in series.stdout


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_scan_output_carries_the_series_freq(annual_db, fmt):
    out = invoke("scan", "--format", fmt, "--store", annual_db).stdout
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
    elif fmt == "json":
        rows = json.loads(out)
    else:
        rows = [json.loads(line) for line in out.splitlines()]
    assert rows and {r["freq"] for r in rows} == {"A"}
    assert {r["period"] for r in rows} >= {"2016-01", "2012-01"}  # the contract's YYYY-MM


@pytest.fixture
def both_db(tmp_path):
    """USA → CAN exports held monthly (2015-2021) and annually (2005-2021), scanned."""
    from tests.report.seed import BOTH_CSV

    path = tmp_path / "both.csv"
    path.write_text(BOTH_CSV)
    db = tmp_path / "both.duckdb"
    assert invoke("ingest", path, "--store", db).exit_code == 0
    assert invoke("scan", "--store", db).exit_code == 0
    return db


@pytest.mark.parametrize(
    ("freq", "first", "flagged", "findings"),
    [
        ("a", ["2005", "2006", "2007"], {"2016": "spike", "2012": "gap"}, ["2016", "2012"]),
        ("M", ["2015-01", "2015-02", "2015-03"], {"2017-05": "spike"}, ["2017-05"]),
    ],
)
def test_series_shows_the_monthly_or_the_annual_series_asked_for(
    both_db, freq, first, flagged, findings
):
    shown = invoke("series", "USA", "CAN", "export", "TOTAL", "--freq", freq, "--store", both_db)
    assert shown.exit_code == 0, shown.output
    rows = [line.split("│") for line in shown.stdout.splitlines() if "│" in line]
    periods = [row[0].strip() for row in rows]
    assert periods[:3] == first and len(periods) == (17 if freq == "a" else 84)  # 2012 too
    assert {row[0].strip(): row[-1].strip() for row in rows if row[-1].strip()} == flagged
    listed = re.findall(r"USA→CAN export TOTAL  (\S+)  ", shown.stdout)
    assert listed == findings


def test_series_held_monthly_and_annually_asks_which(both_db):
    shown = invoke("series", "USA", "CAN", "export", "TOTAL", "--store", both_db)
    assert shown.exit_code == 2
    assert shown.stderr.strip() == (
        "error: USA CAN export TOTAL is held at frequencies M (monthly), A (annual): pass --freq"
    )


@pytest.mark.parametrize(
    ("since", "periods"),
    [
        ("2016-06", [("annual", "2016"), ("monthly", "2017-05")]),
        ("2016-12", [("annual", "2016"), ("monthly", "2017-05")]),
        ("2017-01", [("monthly", "2017-05")]),
    ],
)
def test_scan_since_keeps_an_annual_finding_until_its_year_ends(both_db, since, periods):
    """The headings say which of the two series each finding is of, where both are listed."""
    out = invoke("scan", "--since", since, "--store", both_db).stdout
    listed = re.findall(r"USA→CAN export TOTAL(?: \((\w+)\))?  (\S+)  ", out)
    assert sorted(listed) == (periods if len(periods) > 1 else [("", p) for _, p in periods])


def test_the_releases_table_fits_a_terminal_and_json_keeps_everything(tmp_path):
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--store", db)
    full = json.loads(invoke("releases", "--format", "json", "--store", db).stdout)[0]
    narrow = runner.invoke(app, ["releases", "--store", str(db)], env={"COLUMNS": "80"})
    lines = narrow.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "quarantined" in line)  # no heading wraps
    assert all(word in header for word in ("id", "file", "published", "read", "accepted"))
    assert full["sha256"][:12] not in narrow.stdout  # in json and csv
    assert lines[-1].startswith("* the day it was ingested")  # no --published: marked
    assert len(full["sha256"]) == 64 and "rows_quarantined" in full


def test_the_demos_releases_table_fits_a_terminal(tmp_path, monkeypatch):
    """The demo's table was headed with the store's column names, which split
    `rows_quarantine`/`d` and folded the file name on an 80-column terminal."""
    monkeypatch.setattr(cli.out, "width", 80)
    shown = invoke("demo", "--store", tmp_path / "demo.duckdb")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    table = lines[lines.index("Releases") : lines.index("Releases") + 6]
    assert max(len(line) for line in lines[: lines.index("Releases") + 6]) <= 80
    header = next(line for line in table if "quarantined" in line)
    assert " ".join(header.split()) == "┃ id ┃ source ┃ file ┃ read ┃ accepted ┃ quarantined ┃"
    assert any("cn_kp_monthly_2019_2021h1.csv" in line for line in table)  # never folded


def test_releases_of_a_store_without_any_is_an_empty_table(tmp_path):
    """A store made by `rates` alone (or by a fetch that got nothing) has no release: the
    releases command crashed on it (an empty column has no string methods)."""
    db = tmp_path / "s.duckdb"
    open_store(db).close()
    for fmt in ("table", "json", "csv"):
        result = invoke("releases", "--format", fmt, "--store", db)
        assert result.exit_code == 0, result.output
    assert "Releases" in invoke("releases", "--store", db).stdout


def test_help_shows_on_off_flags_without_a_value():
    """``--new`` takes no value (``--new true`` is an error), so its help line must not
    show one: Typer 0.29 drew every flag as ``<bool>``."""
    result = runner.invoke(app, ["scan", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    flags = [line for line in result.output.splitlines() if "--new" in line or "--help" in line]
    assert flags and not any("<bool>" in line or "BOOLEAN" in line for line in flags)
