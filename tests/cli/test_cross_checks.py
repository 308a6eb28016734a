"""The cross-check commands through Typer's runner: releases --diff, series revisions,
mirror, gap and rates; effects checked through the API."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV
from tradesentry import api
from tradesentry.cli import app
from tradesentry.store import open_store

runner = CliRunner()
COMEXT = "raw/eurostat_comext_ds045409/CN_39206290.csv.gz"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def revised_demo(tmp_path) -> Path:
    """The China–North Korea demo as a first release and a second one with two figures changed."""
    frame = pd.read_csv(DEMO_CSV, dtype=str)
    frame["value"] = frame["value"].astype(float)
    exports = (frame["flow"] == "export") & (frame["partner"] == "PRK")
    target = exports & frame["period"].isin(["2020-09", "2020-10"])
    frame.loc[target, "value"] *= 1.5
    second = tmp_path / "cn_kp_revised.csv"
    frame.to_csv(second, index=False)
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", DEMO_CSV, "--published", "2021-04-20", "--store", db).exit_code == 0
    assert invoke("ingest", second, "--published", "2021-05-20", "--store", db).exit_code == 0
    return db


def test_releases_diff_summarises_what_changed(revised_demo):
    result = invoke("releases", "--diff", "1", "2", "--store", revised_demo)
    assert result.exit_code == 0, result.output
    assert "2 revised" in result.output and "2020-09" in result.output
    data = json.loads(
        invoke("releases", "--diff", "1", "2", "--format", "json", "--store", revised_demo).stdout
    )
    assert data["summary"]["revised"] == 2 and data["summary"]["appeared"] == 0
    assert data["b"]["published"] == "2021-05-20"
    assert {c["period"] for c in data["cells"]} == {"2020-09", "2020-10"}
    # as CSV, the changed figures, one a row (it printed the JSON)
    text = invoke("releases", "--diff", "1", "2", "--format", "csv", "--store", revised_demo).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["period"] for row in rows] == [c["period"] for c in data["cells"]]
    assert set(rows[0]) == set(data["cells"][0])


def test_releases_diff_of_an_unknown_release_exits_2(revised_demo):
    result = invoke("releases", "--diff", "1", "9", "--store", revised_demo)
    assert result.exit_code == 2 and "no release 9" in result.stderr
    # a release against itself ("0 revised") is refused, not reported
    same = invoke("releases", "--diff", "2", "2", "--store", revised_demo)
    assert same.exit_code == 2 and "a release against itself" in same.stderr


def test_series_shows_its_revised_figures(revised_demo):
    result = invoke("series", "CHN", "PRK", "export", "TOTAL", "--store", revised_demo)
    assert result.exit_code == 0, result.output
    assert "2 revised figures" in result.output
    assert "+50.0%" in result.output and "2021-04-20" in result.output


def test_a_large_revision_reads_as_a_multiple_as_in_every_text(tmp_path):
    """$3,000 revised to $150,000 is "50 times as much", as the digest says it, never
    "+4900.0%"."""
    frame = pd.read_csv(DEMO_CSV, dtype=str)
    frame["value"] = frame["value"].astype(float)
    feb = (frame["flow"] == "export") & (frame["period"] == "2021-02")
    frame.loc[feb, "value"] *= 50
    second = tmp_path / "cn_kp_revised.csv"
    frame.to_csv(second, index=False)
    db = tmp_path / "s.duckdb"
    invoke("ingest", DEMO_CSV, "--published", "2021-04-20", "--store", db)
    invoke("ingest", second, "--published", "2021-05-20", "--store", db)
    out = invoke("series", "CHN", "PRK", "export", "TOTAL", "--store", db).output
    assert "50 times as much" in out and "4900" not in out


def test_scan_finds_the_revisions(revised_demo):
    with open_store(revised_demo) as st:
        found = api.scan(st, kinds=["revision"], save=False).to_frame()
    assert list(zip(found["period"], found["period_end"], strict=True)) == [("2020-09", "2020-10")]


def _pair_store(tmp_path: Path) -> Path:
    months = pd.period_range("2022-01", "2023-12", freq="M").astype(str)
    values = [1e6 * (1 + 0.1 * (i % 5)) for i in range(len(months))]
    rows = [("USA", "DEU", "export", m, v, "USD") for m, v in zip(months, values, strict=True)]
    mirror = [
        v * 0.9 * 1.06 * (12 if m in ("2023-03", "2023-04") else 1)
        for m, v in zip(months, values, strict=True)
    ]
    rows += [("DEU", "USA", "import", m, v, "EUR") for m, v in zip(months, mirror, strict=True)]
    frame = pd.DataFrame(
        rows, columns=["reporter", "partner", "flow", "period", "value", "currency"]
    )
    frame.assign(commodity="TOTAL").to_csv(tmp_path / "pair.csv", index=False)
    pd.DataFrame({"currency": "EUR", "period": months, "per_usd": 0.9}).to_csv(
        tmp_path / "rates.csv", index=False
    )
    db = tmp_path / "pair.duckdb"
    assert invoke("ingest", tmp_path / "pair.csv", "--store", db).exit_code == 0
    return db


def test_mirror_and_gap_need_rates_then_show_both_sides(tmp_path):
    db = _pair_store(tmp_path)
    before = invoke("mirror", "USA", "DEU", "--store", db)
    assert before.exit_code == 0 and "tradesentry rates" in before.output
    loaded = invoke("rates", tmp_path / "rates.csv", "--store", db)
    assert loaded.exit_code == 0 and "24 monthly rates" in loaded.output
    shown = invoke("mirror", "USA", "DEU", "--commodity", "TOTAL", "--store", db)
    assert "USA exports vs DEU imports" in shown.output
    assert sum(line.rstrip().endswith("│ outside") for line in shown.output.splitlines()) == 2
    data = json.loads(invoke("gap", "USA", "DEU", "--format", "json", "--store", db).stdout)
    export = data["totals"]["export"]
    assert export["low"] <= export["central"] <= export["high"]
    # the partner recorded ×12 in two months: about 11 months' worth missing from USA's record
    assert export["central"] == pytest.approx(11 * (1.4e6 + 1.0e6), rel=0.01)
    assert "Mirror method" in data["method"]


def test_the_missing_rates_note_counts_only_the_months_compared(tmp_path):
    """The partner's record of a code the reporter does not hold is never compared with
    it: "285 months of the partner's record are in USD with no rate" counted China's
    mineral lines beside Japan's TOTAL."""
    db = _pair_store(tmp_path)
    months = pd.period_range("2022-01", "2023-06", freq="M").astype(str)
    lines = pd.DataFrame(
        {"reporter": "DEU", "partner": "USA", "flow": "import", "period": months,
         "value": 5e5, "currency": "EUR", "commodity": "281820"}
    )  # fmt: skip
    lines.to_csv(tmp_path / "lines.csv", index=False)
    assert invoke("ingest", tmp_path / "lines.csv", "--store", db).exit_code == 0
    note = invoke("mirror", "USA", "DEU", "--store", db).output
    assert "24 months of the partner's record are in EUR" in " ".join(note.split())


def test_gap_says_which_partner_months_no_rate_converts(tmp_path):
    """Japan's 18 years of exports to China in yen beside China's one year of imports, with
    rates for that year only, read "partner's record $171.3B (12)" over 2001–2019 without
    a word: the months no rate converts are said, and left out."""
    db = _pair_store(tmp_path)
    earlier = pd.period_range("2020-01", "2021-12", freq="M").astype(str)
    pd.DataFrame(
        {"reporter": "DEU", "partner": "USA", "flow": "import", "period": earlier,
         "value": 9e5, "currency": "EUR", "commodity": "TOTAL"}
    ).to_csv(tmp_path / "earlier.csv", index=False)  # fmt: skip
    assert invoke("ingest", tmp_path / "earlier.csv", "--store", db).exit_code == 0
    assert invoke("rates", tmp_path / "rates.csv", "--store", db).exit_code == 0  # 2022–2023
    text = " ".join(invoke("gap", "USA", "DEU", "--store", db).output.split())
    assert (
        "note: 24 months of the partner's record in which USA recorded nothing are in EUR "
        "with no rate to USD in the store: they are left out" in text
    ), text
    data = json.loads(invoke("gap", "USA", "DEU", "--format", "json", "--store", db).stdout)
    assert any("24 months of the partner's record" in n for n in data["notes"])
    # with every month's rate, nothing to say
    rates = pd.DataFrame({"currency": "EUR", "period": earlier, "per_usd": 0.9})
    rates.to_csv(tmp_path / "more_rates.csv", index=False)
    assert invoke("rates", tmp_path / "more_rates.csv", "--store", db).exit_code == 0
    assert "recorded nothing are in" not in invoke("gap", "USA", "DEU", "--store", db).output


def test_gap_with_a_month_range(tmp_path):
    db = _pair_store(tmp_path)
    invoke("rates", tmp_path / "rates.csv", "--store", db)
    result = invoke("gap", "USA", "DEU", "--from", "2022-01", "--to", "2022-12", "--store", db)
    assert result.exit_code == 0 and "Method:" in result.output
    rows = [line.split("│")[0].strip() for line in result.output.splitlines() if "│" in line]
    assert rows == ["TOTAL"]  # one row: no "total" line repeating it
    data = json.loads(
        invoke(
            "gap",
            "USA",
            "DEU",
            "--from",
            "2022-01",
            "--to",
            "2022-12",
            "--format",
            "json",
            "--store",
            db,
        ).stdout
    )
    assert abs(data["totals"]["export"]["central"]) < 0.01 * data["totals"]["export"]["own"]
    bad = invoke("gap", "USA", "DEU", "--from", "2022", "--store", db)
    assert bad.exit_code == 2 and "YYYY-MM" in bad.stderr


def test_rates_ecb_layout_and_listing(tmp_path):
    ecb = tmp_path / "ecb.csv"
    ecb.write_text(
        "KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE\n"
        "EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-01-02,1.0956\n"
        "EXR.D.USD.EUR.SP00.A,D,USD,EUR,SP00,A,2024-01-03,1.0919\n"
        "EXR.D.JPY.EUR.SP00.A,D,JPY,EUR,SP00,A,2024-01-02,155.52\n"
        "EXR.D.JPY.EUR.SP00.A,D,JPY,EUR,SP00,A,2024-01-03,155.89\n"
    )
    db = tmp_path / "s.duckdb"
    assert invoke("rates", ecb, "--store", db).exit_code == 0
    listed = json.loads(invoke("rates", "--format", "json", "--store", db).stdout)
    rate = {r["currency"]: r["per_usd"] for r in listed}
    usd_per_eur = (1.0956 + 1.0919) / 2
    assert rate["EUR"] == pytest.approx(1 / usd_per_eur)
    assert rate["JPY"] == pytest.approx((155.52 + 155.89) / 2 / usd_per_eur)
    assert listed[0]["period"] == "2024-01"  # a month, as every period reads


def test_a_bad_rates_file_is_rejected_whole(tmp_path):
    db = tmp_path / "s.duckdb"
    good = tmp_path / "good.csv"
    good.write_text("currency,period,per_usd\nEUR,2024-01,0.91\n")
    invoke("rates", good, "--store", db)
    bad = tmp_path / "bad.csv"
    bad.write_text("currency,period,per_usd\nEUR,2024-01,0.95\nJPY,2024-01,-3\n")
    result = invoke("rates", bad, "--store", db)
    assert result.exit_code == 2 and "line 3" in result.stderr
    with open_store(db) as st:
        assert api.rates(st)["per_usd"].tolist() == [0.91]  # nothing of the bad file landed


@pytest.fixture(scope="module")
def comext_store(tmp_path_factory, request):
    data = Path(request.config.rootpath).parent / "shared" / "data"
    db = tmp_path_factory.mktemp("comext") / "s.duckdb"
    with open_store(db) as st:
        st.ingest(data / COMEXT)
    return db


def test_mirror_and_gap_on_real_comext_pairs(comext_store):
    shown = invoke("mirror", "DEU", "FRA", "--commodity", "39206290", "--store", comext_store)
    assert shown.exit_code == 0, shown.output
    assert "DEU exports vs FRA imports" in shown.output and "intra-EU" in shown.output
    data = json.loads(
        invoke("mirror", "DEU", "FRA", "--format", "json", "--store", comext_store).stdout
    )
    months = pd.DataFrame(data["months"])
    assert set(months["flow"]) == {"export", "import"} and len(months) >= 60
    both = months.dropna(subset=["own", "mirror"])
    assert (both["intra_eu"]).all() and (both["reference_pair_months"] > 1000).all()
    gap = json.loads(
        invoke(
            "gap",
            "DEU",
            "FRA",
            "--from",
            "2024-01",
            "--to",
            "2024-12",
            "--format",
            "json",
            "--store",
            comext_store,
        ).stdout
    )
    for flow in ("export", "import"):
        t = gap["totals"][flow]
        assert t["low"] <= t["central"] <= t["high"] and t["months"] == 12


def _ingest_rows(tmp_path: Path, rows: list[tuple], name: str = "rows") -> Path:
    """A store of canonical CSV rows (reporter, partner, flow, classification, commodity,
    period, value), all in US dollars."""
    columns = ["reporter", "partner", "flow", "classification", "commodity", "period", "value"]
    csv = tmp_path / f"{name}.csv"
    pd.DataFrame(rows, columns=columns).assign(currency="USD").to_csv(csv, index=False)
    db = tmp_path / f"{name}.duckdb"
    assert invoke("ingest", csv, "--store", db).exit_code == 0
    return db


def _one_sided_store(tmp_path: Path) -> Path:
    """DEU's exports to CHN of 27 and 72 over 2023; CHN records its imports of 27 from
    July only, and none of 72."""
    months = pd.period_range("2023-01", "2023-12", freq="M").astype(str)
    rows = [("DEU", "CHN", "export", "HS", "27", m, 1e6) for m in months]
    rows += [("DEU", "CHN", "export", "HS", "72", m, 2e6) for m in months]
    rows += [("CHN", "DEU", "import", "HS", "27", m, 1.06e6) for m in months[6:]]
    return _ingest_rows(tmp_path, rows, "one_sided")


def test_mirror_summary_gives_each_sides_own_record_not_zero(tmp_path):
    db = _one_sided_store(tmp_path)
    shown = invoke("mirror", "DEU", "CHN", "--store", db)
    assert shown.exit_code == 0, shown.output
    assert "DEU exports vs CHN imports, 2023-01 to 2023-12" in shown.output
    lines = {
        line.split()[0]: line for line in shown.output.splitlines() if line[:3] in (" 27", " 72")
    }
    # 27: DEU's twelve months, CHN's six, the ratio over the six both recorded
    assert "$12.0M (12)" in lines["27"] and "$6.4M (6)" in lines["27"]
    assert "1.06" in lines["27"] and "0/6" in lines["27"]
    assert "$24.0M (12)" in lines["72"] and "no record" in lines["72"]
    assert "$0" not in shown.output
    one = invoke("mirror", "DEU", "CHN", "--commodity", "72", "--store", db)
    words = " ".join(one.output.split())
    assert (
        "Totals: DEU exports $24.0M over 12 months (2023-01 to 2023-12); CHN imports: no record"
        in words
    )
    # with no pair of the commodity holding both records, the usual ratio is the margin's,
    # which a reader took for this pair's; 27's is measured on the six months both hold
    assert "usual import/export ratio 1.06 (the CIF/FOB margin: no pair in the store" in words
    assert "gap ┃ band" in words  # the column of months outside the band is named
    both = " ".join(
        invoke("mirror", "DEU", "CHN", "--commodity", "27", "--store", db).output.split()
    )
    assert "usual import/export ratio" in both and "CIF/FOB margin" not in both


def test_the_mirror_draws_both_records_on_one_scale(tmp_path):
    """FRA's imports of 271012 (about $2.1M, $5.9M for seven months) against DEU's exports
    ($1.9M to $2.1M): each line on its own range drew DEU's $2.1M as high as FRA's $5.9M.
    On one scale DEU's line stays as low as FRA's usual months."""
    months = pd.period_range("2019-01", "2021-12", freq="M").astype(str)
    rows = [
        ("DEU", "FRA", "export", "HS", "271012", m, 2e6 + 1e5 * (i % 3 - 1))
        for i, m in enumerate(months)
    ]
    rows += [
        ("FRA", "DEU", "import", "HS", "271012", m, 5.9e6 if 20 <= i < 27 else 2.1e6)
        for i, m in enumerate(months)
    ]
    db = _ingest_rows(tmp_path, rows, "pair")
    shown = invoke("mirror", "FRA", "DEU", "--commodity", "271012", "--store", db)
    assert shown.exit_code == 0, shown.output
    lines = [line.split() for line in shown.stdout.splitlines()]
    own, mirror = (next(w[1] for w in lines if w[:1] == [side]) for side in ("own", "mirror"))
    assert own[20:27] == "█" * 7 and max(mirror) <= own[0] <= "▂"  # $2.1M: $1.9M to $5.9M


def test_gap_gives_what_the_reporter_recorded_where_the_partner_has_no_record(tmp_path):
    demo = tmp_path / "demo.duckdb"
    assert invoke("ingest", DEMO_CSV, "--store", demo).exit_code == 0
    shown = invoke("gap", "CHN", "PRK", "--store", demo)
    assert shown.exit_code == 0, shown.output
    assert "Missing from CHN's exports to PRK, 2019-01 to 2021-06 (HS, USD)" in shown.output
    assert "$1.9B (23)" in shown.output and "no record" in shown.output
    assert "$0" not in shown.output  # nothing compared: no estimate, not a zero
    data = json.loads(invoke("gap", "CHN", "PRK", "--format", "json", "--store", demo).stdout)
    frame = pd.read_csv(DEMO_CSV)
    monthly = frame[(frame["period_months"] == 1) & (frame["flow"] == "export")]
    export = data["totals"]["export"]
    assert export["own"] == pytest.approx(monthly["value"].sum()) and export["own_months"] == 23
    assert export["mirror"] is None and export["mirror_months"] == 0 and export["months"] == 0
    # nothing to estimate from: unknown, not "nothing missing" (it gave 0.0 in JSON and CSV)
    assert (export["low"], export["central"], export["high"]) == (None, None, None)
    assert export["central_partner_terms"] is None
    assert all(r["central"] is None for r in data["commodities"])
    text = invoke("gap", "CHN", "PRK", "--format", "csv", "--store", demo).stdout
    assert {row["central"] for row in csv.DictReader(io.StringIO(text))} == {""}
    assert (data["first"], data["last"]) == ("2019-01", "2021-06")

    db = _one_sided_store(tmp_path)
    data = json.loads(invoke("gap", "DEU", "CHN", "--format", "json", "--store", db).stdout)
    rows = {r["commodity"]: r for r in data["commodities"]}
    assert (rows["27"]["own"], rows["27"]["own_months"]) == (12e6, 12)
    assert (rows["27"]["mirror"], rows["27"]["mirror_months"]) == (pytest.approx(6.36e6), 6)
    assert rows["27"]["months"] == 6 and rows["27"]["own_compared"] == 6e6  # comparable months
    assert rows["72"]["own"] == 24e6 and rows["72"]["mirror"] is None
    export = data["totals"]["export"]  # the top-level codes 27 and 72, months counted once
    assert (export["own"], export["own_months"], export["months"]) == (36e6, 12, 6)


def _two_classifications_store(tmp_path: Path) -> Path:
    """CHN's exports of rice (1006) to PRK as UN Comtrade gives them (H5) and as a national
    table does (HS), and PRK's imports under HS."""
    rows = [
        ("CHN", "PRK", "export", "H5", "1006", "2021-03", 2.1e6),
        ("CHN", "PRK", "export", "H5", "1006", "2021-04", 2.0e6),
        ("CHN", "PRK", "export", "HS", "1006", "2021-02", 500.0),
        ("CHN", "PRK", "export", "HS", "1006", "2021-03", 600.0),
        ("PRK", "CHN", "import", "HS", "1006", "2021-03", 700.0),
    ]
    return _ingest_rows(tmp_path, rows, "two_classifications")


def test_mirror_and_gap_of_a_commodity_held_under_two_classifications_ask_for_one(tmp_path):
    db = _two_classifications_store(tmp_path)
    message = "error: CHN PRK 1006 is held under classifications H5, HS: pass --classification"
    for args in (("mirror", "CHN", "PRK", "--commodity", "1006"), ("mirror", "CHN", "PRK")):
        result = invoke(*args, "--store", db)
        assert result.exit_code == 2 and result.stderr.strip() == message
    result = invoke("gap", "CHN", "PRK", "--store", db)
    assert result.exit_code == 2 and result.stderr.strip() == message
    with open_store(db, read_only=True) as st:
        hs = api.mirror_pair(st, "CHN", "PRK", "1006", classification="hs").frame
        h5 = api.mirror_pair(st, "CHN", "PRK", "1006", classification="H5").frame
        gap = api.missing_trade(st, "CHN", "PRK", classification="HS")
    assert hs["period"].tolist() == ["2021-02", "2021-03"] and hs["own"].tolist() == [500, 600]
    assert hs["mirror"].tolist()[1] == 700 and set(hs["classification"]) == {"HS"}
    assert h5["period"].tolist() == ["2021-03", "2021-04"] and h5["mirror"].isna().all()
    assert gap.totals["export"]["own"] == 1100 and gap.totals["export"]["mirror"] == 700


def test_gap_from_after_to_is_a_usage_error(tmp_path):
    db = _one_sided_store(tmp_path)
    result = invoke("gap", "DEU", "CHN", "--from", "2025-01", "--to", "2024-01", "--store", db)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --from 2025-01 is after --to 2024-01"
    empty = invoke("gap", "DEU", "CHN", "--from", "2030-01", "--store", db)
    assert empty.exit_code == 2 and "the store holds 2023-01 to 2023-12" in empty.stderr


def test_mirror_and_gap_take_the_classification_and_breakdown_options(tmp_path):
    db = _two_classifications_store(tmp_path)
    shown = invoke(
        "mirror", "CHN", "PRK", "--commodity", "1006", "--classification", "H5", "--store", db
    )
    assert shown.exit_code == 0, shown.output
    assert "1006 (H5; USD)" in shown.output and shown.output.count("2021-03") == 2  # row, totals
    gap = invoke("gap", "chn", "prk", "--classification", "hs", "--format", "json", "--store", db)
    assert json.loads(gap.stdout)["totals"]["export"]["own"] == 1100
    part = invoke("gap", "CHN", "PRK", "--classification", "HS", "--breakdown", "x", "--store", db)
    assert part.exit_code == 2 and "with breakdown 'x'; it has ''" in part.stderr


@pytest.fixture
def revised_both(tmp_path) -> Path:
    """USA → CAN exports by month and by year; a second release revises the year 2016 and
    January 2016, whose periods are the same YYYY-MM."""
    from tests.report.seed import BOTH_CSV

    first, second = tmp_path / "both.csv", tmp_path / "revised.csv"
    first.write_text(BOTH_CSV)
    second.write_text(
        "reporter,partner,flow,commodity,period,value,period_months,freq\n"
        "USA,CAN,export,TOTAL,2016,95000000000,12,A\n"
        "USA,CAN,export,TOTAL,2016-01,2000000000,1,M\n"
    )
    db = tmp_path / "s.duckdb"
    assert invoke("ingest", first, "--published", "2021-04-20", "--store", db).exit_code == 0
    assert invoke("ingest", second, "--published", "2021-05-20", "--store", db).exit_code == 0
    return db


def test_releases_diff_keeps_a_revised_year_apart_from_its_january(revised_both):
    result = invoke("releases", "--diff", "1", "2", "--store", revised_both)
    assert result.exit_code == 0, result.output
    rows = [line.split("│") for line in result.stdout.splitlines() if "│" in line]
    assert [(row[0].strip(), row[-1].strip()) for row in rows] == [
        ("2016-01", "+$980.0M"),
        ("2016", "+$5.0B"),
    ]
    assert "Months and years changed" in result.stdout
    data = json.loads(
        invoke("releases", "--diff", "1", "2", "--format", "json", "--store", revised_both).stdout
    )
    assert [(m["period"], m["freq"]) for m in data["by_month"]] == [
        ("2016-01", "M"),
        ("2016-01", "A"),
    ]


@pytest.mark.parametrize(
    ("freq", "period", "before", "after"),
    [("A", "2016", "$90.0B", "$95.0B"), ("M", "2016-01", "$1.0B", "$2.0B")],
)
def test_series_shows_its_own_revised_figures_by_its_own_periods(
    revised_both, freq, period, before, after
):
    result = invoke(
        "series", "USA", "CAN", "export", "TOTAL", "--freq", freq, "--store", revised_both
    )
    assert result.exit_code == 0, result.output
    revised = result.stdout[result.stdout.index("1 revised figure") :]
    rows = [line.split("│") for line in revised.splitlines() if "│" in line]
    assert [[cell.strip() for cell in row[:3]] for row in rows] == [[period, before, after]]


# DEU's and POL's records by year only: POL's imports of 2018 are 2.5 times DEU's exports.
ANNUAL_PAIR_CSV = "reporter,partner,flow,commodity,period,value,period_months,freq\n" + "".join(
    f"DEU,POL,export,TOTAL,{year},{5e10},12,A\n"
    f"POL,DEU,import,TOTAL,{year},{5e10 * 1.05 * (2.5 if year == 2018 else 1)},12,A\n"
    for year in range(2010, 2022)
)


@pytest.fixture
def annual_pair(tmp_path) -> Path:
    path = tmp_path / "annual_pair.csv"
    path.write_text(ANNUAL_PAIR_CSV)
    db = tmp_path / "annual_pair.duckdb"
    assert invoke("ingest", path, "--store", db).exit_code == 0
    return db


@pytest.mark.parametrize("command", ["mirror", "gap"])
def test_mirror_and_gap_compare_a_pair_held_only_by_year_year_by_year(annual_pair, command):
    result = invoke(command, "DEU", "POL", "--store", annual_pair)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "note: the store holds only annual figures for DEU and POL: each row is a year" in out
    assert not re.search(r"\d+ months|the months|any month|no month", out)  # years counted
    if command == "mirror":
        rows = [line.split("│") for line in result.stdout.splitlines() if "│" in line]
        assert [r[0].strip() for r in rows if "outside" in r[-1]] == ["2018"]
        assert "DEU exports $600.0B over 12 years (2010 to 2021)" in out
    else:
        assert "Missing from DEU's exports to POL, 2010 to 2021 (HS, USD)" in out
        assert "Mirror method, year by year" in out
    monthly = invoke(command, "DEU", "POL", "--freq", "m", "--store", annual_pair)
    assert monthly.exit_code == 2 and monthly.stderr.strip() == (
        "error: no monthly trade between DEU and POL in the store; it holds annual figures "
        "(--freq A)"
    )


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ({"persistent": False, "own_habit": False}, ""),
        (
            {"persistent": False, "own_habit": True, "expected_ratio": 1.1,
             "pair_usual_ratio": 1.1, "pair_band_low": 0.8, "pair_band_high": 1.5,
             "pair_months": 19, "unit": "year"},
            "; years judged by this pair's own band 0.8–1.5 around its usual ratio 1.1 "
            "over 19 years",
        ),
        (
            {"persistent": False, "own_habit": True, "expected_ratio": 5.04,
             "pair_usual_ratio": 11.1, "pair_band_low": 0.431, "pair_band_high": 59.0,
             "pair_months": 29, "period": "2025-09"},
            "; months judged by this pair's own band 0.431–59 around its usual ratio 5.04 "
            "over 29 months: its median, 11.1, shrunk towards the commodity's",
        ),
        (
            {"persistent": False, "own_habit": True, "expected_ratio": 0.977,
             "pair_usual_ratio": 0.977, "pair_band_low": 0.2, "pair_band_high": 4.7,
             "pair_months": 34, "period": "2024-01"},
            "; months judged by this pair's own band 0.2–4.7 around its usual ratio 0.977 "
            "over 34 months",
        ),
        (
            {"persistent": True, "pair_usual_ratio": 1 / 3000},
            "; this pair's own ratio, 1/3,000, lies outside the band: a persistent gap, "
            "judged by this commodity's band",
        ),
    ],
)  # fmt: skip
def test_the_mirror_table_says_which_ratio_its_gap_column_is_at(row, said):
    """The header gives the commodity's band; where mirror_gap's expected figure rests on
    the pair's own ratio, the header says so, so the gap column and the marks agree."""
    from tradesentry.cli_cross import _pair_basis

    assert _pair_basis(row, row.get("unit", "month")) == said  # by year: "years judged"


def test_releases_diff_says_which_revisions_are_small_or_withheld(tmp_path):
    from tests.ingest.kit import FORMATS, record

    def month(m: int, value: str) -> dict:
        return record("DEU", "FRA", "export", "39199020", "2024", f"{m:02d}", value)

    sdmx, db = FORMATS["sdmx"], tmp_path / "s.duckdb"
    first = sdmx.file(tmp_path, [month(m, "8197068000") for m in (1, 2, 3)], stem="a")
    second = [month(1, "8172477000"), month(2, ""), month(3, "9000000000")]
    for path in (first, sdmx.file(tmp_path, second, stem="b")):
        assert invoke("ingest", path, "--store", db).exit_code == 0
    result = invoke("releases", "--diff", "1", "2", "--store", db)
    text = " ".join(result.stdout.split())
    assert "3 revised (1 within the revision tolerance, 1 now withheld), 0 unchanged" in text
    # the withheld figure has no change to sum: the net change is the other two's alone
    assert "net change of the revised figures +€778.3M." in text, text


def _series_of_three_releases(tmp_path: Path, partner: str, releases) -> str:
    """`tradesentry series` (its words on one line) of Spain's exports of 39199020 to
    ``partner``, April–May 2025 steady and June and July as each of three SDMX releases
    gives them (``releases``: (June, July) values, "" for a figure withheld)."""
    from tests.ingest.kit import FORMATS, record

    def month(m: int, value: str) -> dict:
        return record("ESP", partner, "export", "39199020", "2025", f"{m:02d}", value)

    sdmx, db = FORMATS["sdmx"], tmp_path / "s.duckdb"
    steady = [month(m, "500000") for m in (4, 5)]
    for stem, (june, july) in zip("abc", releases, strict=True):
        path = sdmx.file(tmp_path, [*steady, month(6, june), month(7, july)], stem=stem)
        assert invoke("ingest", path, "--store", db).exit_code == 0
    series = invoke("series", "ESP", partner, "export", "39199020", "--store", db)
    return " ".join(series.stdout.split())


def test_series_compares_a_figure_given_again_with_the_last_one_published(tmp_path):
    """Spain's June 2025: €232,976, withheld by the next release, €291,220 in the one
    after. The history read "suppressed" and "disclosed", never the +25 % the scan
    reports; a figure given again unchanged is said to be the same."""
    releases = (("232976", "1000"), ("", ""), ("291220", "1000"))  # June, July
    out = _series_of_three_releases(tmp_path, "WLD", releases)
    # (the table wraps its cells at 80 columns)
    assert "disclosed, +25.0% on" in out and "release 1's €233.0K" in out, out
    assert "disclosed, release 1's" in out and "figure again" in out, out


def test_series_reads_a_revision_from_a_figure_of_zero(tmp_path):
    """€0, withheld, then €50K read "disclosed, n/a on release 1's €0"; €0 then €50K read
    "disclosed", a revision from a figure of 0 taken for one from none."""
    out = _series_of_three_releases(tmp_path, "FRA", (("0", "0"), ("", "0"), ("50000", "50000")))
    assert "disclosed; release 1" in out and "gave €0" in out, out  # (cells wrap)
    assert "│ €0 │ €50.0K │ from 0 │" in out, out
    assert "n/a on" not in out


def _release(tmp_path: Path, db: Path, name: str, rows: list[tuple], published: str) -> None:
    columns = ["reporter", "partner", "flow", "classification", "commodity", "period", "value"]
    frame = pd.DataFrame([r[:7] for r in rows], columns=columns)
    frame["currency"] = [r[7] for r in rows]
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    assert invoke("ingest", path, "--published", published, "--store", db).exit_code == 0


def test_releases_diff_sums_within_a_currency_names_new_months_and_reads_in_order(tmp_path):
    """A revision of +$2M and one of -¥200M were "net change -198,000,000"; the months a
    release added were counted but never named; and a diff of a release against one
    published after it read the newer figures as the older without a word."""
    db = tmp_path / "s.duckdb"
    first = [
        ("USA", "CHN", "import", "HS", "TOTAL", "2020-01", 10e6, "USD"),
        ("JPN", "CHN", "import", "HS", "TOTAL", "2020-01", 1000e6, "JPY"),
        ("USA", "CHN", "import", "HS", "TOTAL", "2020-02", 11e6, "USD"),
        ("JPN", "CHN", "import", "HS", "TOTAL", "2020-02", 900e6, "JPY"),
    ]
    second = [
        ("USA", "CHN", "import", "HS", "TOTAL", "2020-01", 12e6, "USD"),
        ("JPN", "CHN", "import", "HS", "TOTAL", "2020-01", 800e6, "JPY"),
        ("USA", "CHN", "import", "HS", "TOTAL", "2020-02", 11e6, "USD"),
        ("JPN", "CHN", "import", "HS", "TOTAL", "2020-02", 900e6, "JPY"),
        ("USA", "CHN", "import", "HS", "TOTAL", "2020-03", 13e6, "USD"),
    ]
    _release(tmp_path, db, "a", first, "2020-04-20")
    _release(tmp_path, db, "b", second, "2020-05-20")
    result = invoke("releases", "--diff", "1", "2", "--store", db)
    text = " ".join(result.stdout.split())
    assert "net change of the revised figures -¥200.0M, +$2.0M." in text, text
    rows = {line.split("│")[0].strip(): line.split("│") for line in result.stdout.splitlines()
            if "│" in line}  # fmt: skip
    assert rows["2020-01"][-1].strip() == "-¥200.0M, +$2.0M"
    assert rows["2020-03"][-2].strip() == "1"  # the new month, named
    assert "published before" not in text
    data = json.loads(invoke("releases", "--diff", "1", "2", "--format", "json",
                             "--store", db).stdout)  # fmt: skip
    summary = data["summary"]
    assert summary["total_change"] is None and summary["currency"] is None
    assert summary["change_by_currency"] == {
        "JPY": {"net": -200e6, "gross": 200e6},
        "USD": {"net": 2e6, "gross": 2e6},
    }
    assert [c["period"] for c in data["cells"] if c["status"] == "only_in_b"] == ["2020-03"]
    backwards = " ".join(invoke("releases", "--diff", "2", "1", "--store", db).stdout.split())
    assert "Release 1 was published before release 2" in backwards
    assert "`--diff 1 2` reads them in the order they came out" in backwards


def test_releases_diff_names_the_month_a_release_stops_before_the_other(tmp_path):
    """A release that ends a month earlier read "2 beyond release 2's coverage" and never
    said which month; a combined January–February figure ends in February."""
    db = tmp_path / "s.duckdb"
    rows = [("CHN", "PRK", flow, "HS", "TOTAL", month, 1e6, "USD")
            for month in ("2021-03", "2021-04", "2021-05", "2021-06")
            for flow in ("export", "import")]  # fmt: skip
    _release(tmp_path, db, "a", rows, "2021-07-20")
    _release(tmp_path, db, "b", [r for r in rows if r[5] != "2021-06"], "2021-08-20")
    text = " ".join(invoke("releases", "--diff", "1", "2", "--store", db).stdout.split())
    assert "2 beyond release 2's." in text
    assert (
        "Release 2's latest month is 2021-05, release 1's 2021-06: the months after 2021-05 are "
        "not in release 2 (counted beyond its coverage, not as vanished)." in text
    )
    backwards = " ".join(invoke("releases", "--diff", "2", "1", "--store", db).stdout.split())
    assert "Release 1's latest month is 2021-06, release 2's 2021-05." in backwards
    data = json.loads(
        invoke("releases", "--diff", "1", "2", "--format", "json", "--store", db).stdout
    )
    assert data["summary"]["latest_month"] == {"a": "2021-06", "b": "2021-05"}
    combined = tmp_path / "c.csv"  # January and February 2021 as one figure
    combined.write_text(
        "reporter,partner,flow,commodity,period,period_months,value,currency\n"
        "CHN,PRK,export,TOTAL,2021-01,2,2000000,USD\n"
    )
    assert invoke("ingest", combined, "--published", "2021-09-20", "--store", db).exit_code == 0
    data = json.loads(
        invoke("releases", "--diff", "2", "3", "--format", "json", "--store", db).stdout
    )
    assert data["summary"]["latest_month"] == {"a": "2021-05", "b": "2021-02"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("currency,period,rate\nEUR,2024-01,0.9\n", "bad.csv: missing column(s) per_usd"),
        ("currency,period,per_usd\nEUR,2024-01,0.9\nEUR,2024-13,0.9\n", "bad.csv: line 3: period"),
        (
            "currency,period,per_usd\nJPY,2024-02,150\nEUR,2024-01,0.9\nEUR,2024-01,0.8\n",
            "bad.csv: lines 3 and 4: two different rates for the same currency and month",
        ),
        # codes no figure can be in: the ingest keeps CNY for RMB and refuses XXX
        (
            "currency,period,per_usd\nRMB,2024-01,7.1\n",
            "bad.csv: line 2: currency 'RMB' is not an ISO 4217 code (the ISO code is CNY)",
        ),
        ("currency,period,per_usd\nXXX,2024-01,1\n", "currency 'XXX' is not an ISO 4217 code"),
        # each had loaded: a day that does not exist or within its month as the month's
        # rate, a month before any observation, a rate that made €1 $1e300
        (
            "currency,period,per_usd\nEUR,2021-01,0.8\nEUR,2021-02-30,0.8\n",
            "bad.csv: line 3: period '2021-02-30' is not a date: 2021-02 has 28 days",
        ),
        (
            "currency,period,per_usd\nEUR,2021-03-15,0.8\n",
            "bad.csv: line 2: period '2021-03-15' is a day within its month: a month's rate is "
            "dated by the month (YYYY-MM) or its first or last day",
        ),
        ("currency,period,per_usd\nEUR,1800-03,0.8\n", "line 2: period '1800-03' is before 1900"),
        ("currency,period,per_usd\nEUR,1600-03,0.8\n", "line 2: period '1600-03' is before 1900"),
        (
            "currency,period,per_usd\nEUR,2021-03,1e-300\n",
            "bad.csv: line 2: per_usd '1e-300' is no currency's rate (a rate is 1e-06 to 1e+15 "
            "units per dollar",
        ),
        ("currency,period,per_usd\nIRR,2021-03,4e20\n", "line 2: per_usd '4e20' is no curr"),
        (
            "CURRENCY,CURRENCY_DENOM,TIME_PERIOD,OBS_VALUE\nUSD,EUR,2024-02-30,1.08\n",
            "bad.csv: line 2: period '2024-02-30' is not a date: 2024-02 has 29 days",
        ),
    ],
)
def test_a_bad_rates_file_is_named_and_makes_no_store(tmp_path, text, said):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    db = tmp_path / "s.duckdb"
    result = invoke("rates", bad, "--store", db)
    assert result.exit_code == 2 and said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not db.exists()  # the store as it was: none


def test_a_months_rate_is_dated_by_the_month_or_its_first_or_last_day(tmp_path):
    """A table of months (pandas' resample labels a month by its last day, a database by its
    first) loads; the ECB's daily rates, any day, are averaged over their month."""
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "currency,period,per_usd\nEUR,2021-01,0.82\nEUR,2021-02-01,0.83\nEUR,2021-03-31,0.84\n"
        "XAU,2021-03,0.00058\n"  # gold's ounce: the dearest unit, well inside the range
    )
    db = tmp_path / "s.duckdb"
    assert invoke("rates", rates, "--store", db).exit_code == 0
    listed = json.loads(invoke("rates", "--format", "json", "--store", db).stdout)
    assert [(r["currency"], r["period"]) for r in listed] == [
        ("EUR", "2021-01"), ("EUR", "2021-02"), ("EUR", "2021-03"), ("XAU", "2021-03")
    ]  # fmt: skip
    ecb = tmp_path / "ecb.csv"
    ecb.write_text(
        "CURRENCY,CURRENCY_DENOM,TIME_PERIOD,OBS_VALUE\nUSD,EUR,2024-02-15,1.08\n"
        "USD,EUR,2024-02-29,1.10\n"
    )
    assert invoke("rates", ecb, "--store", db).exit_code == 0


def test_gap_says_when_its_central_figure_is_the_partners_correction(tmp_path):
    """CZE books 19 times what FRA records of the flow; FRA's one month at 1,234 times its
    usual is FRA's slip: the central gap is FRA's correction, and the table says so rather
    than leave it read as trade missing from CZE's imports."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = ["reporter,partner,flow,commodity,period,value,currency"]
    for m in range(36):
        period = f"{2022 + m // 12}-{m % 12 + 1:02d}"
        fra = 1000 * np.exp(rng.normal(0, 0.1))
        cze = 19 * fra * np.exp(rng.normal(0, 0.1))
        fra = 677_858 if m == 24 else fra
        rows += [
            f"CZE,FRA,import,39204910,{period},{cze:.0f},EUR",
            f"FRA,CZE,export,39204910,{period},{fra:.0f},EUR",
        ]
    data, db = tmp_path / "pair.csv", tmp_path / "s.duckdb"
    data.write_text("\n".join(rows) + "\n")
    assert invoke("ingest", data, "--store", db).exit_code == 0
    said = " ".join(invoke("gap", "CZE", "FRA", "--store", db).stdout.split())
    assert "of the mirror gaps'" in said and "is in FRA's terms" in said
    cze = json.loads(invoke("gap", "CZE", "FRA", "--format", "json", "--store", db).stdout)
    (row,) = cze["commodities"]
    assert row["central_partner_terms"] == pytest.approx(row["central"])
    fra = json.loads(invoke("gap", "FRA", "CZE", "--format", "json", "--store", db).stdout)
    assert fra["commodities"][0]["central_partner_terms"] == 0  # CZE's records are the larger


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("currency;period;per_usd\nEUR;2024-01;0,9\n", "bad.csv: the file is separated by ';'"),
        ("currency,period,per_usd\nEUR,2024-01,0.9,7\n", "bad.csv: line 2: 4 fields where the"),
    ],
)
def test_a_rates_file_of_another_shape_is_one_line_not_a_traceback(tmp_path, text, said):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    db = tmp_path / "s.duckdb"
    result = invoke("rates", bad, "--store", db)
    assert result.exit_code == 2 and said in result.stderr and not db.exists()


@pytest.mark.parametrize(
    ("central", "unit_value_gap", "theirs", "said"),
    [
        (3300.0, -965.0, 4265.0, "of the mirror gaps' €4.3K, all is in NLD's terms"),
        (5900.0, 0.0, -1400.0, None),  # the other sign: no part of the gap
        (10_000.0, 0.0, 2000.0, None),  # a fifth: the gap is mostly the reporter's
    ],
)
def test_the_partner_terms_note_never_claims_more_than_the_gap(
    central, unit_value_gap, theirs, said
):
    from types import SimpleNamespace

    from tradesentry.cli_cross import _partner_terms_notes

    frame = pd.DataFrame(
        [
            {
                "commodity": "39204910",
                "flow": "export",
                "central": central,
                "unit_value_gap": unit_value_gap,
                "central_partner_terms": theirs,
            }
        ]
    )
    result = SimpleNamespace(frame=frame, currency="EUR", reporter="EST", partner="NLD")
    notes = _partner_terms_notes(result)
    assert (notes[0].split(": ", 1)[1].startswith(said)) if said else notes == []


def test_the_mirror_csv_writes_its_currency_flag_as_the_json_does(tmp_path):
    """`mirror --format csv` wrote the flag 1.0 where the JSON has 1."""
    import csv
    import io

    db = _pair_store(tmp_path)
    invoke("rates", tmp_path / "rates.csv", "--store", db)
    alone = tmp_path / "alone.csv"  # a month USA records and DEU does not: no flag
    alone.write_text(
        "reporter,partner,flow,commodity,period,value\nUSA,DEU,export,TOTAL,2024-01,1e6\n"
    )
    assert invoke("ingest", alone, "--store", db).exit_code == 0
    text = invoke("mirror", "USA", "DEU", "--format", "csv", "--store", db).stdout
    flags = [row["mirror_currency_ok"] for row in csv.DictReader(io.StringIO(text))]
    assert set(flags) == {"1", ""} and flags[-1] == ""


@pytest.mark.parametrize(
    ("revised", "compared", "said"),
    [(1, 427, "0.23%"), (0, 418, "0%"), (2, 4, "50%"), (1, 2_000_000, "<0.01%"),
     (999, 1000, ">99.5%"), (0, 0, "")],  # 0 of 0: a month of one release only
)  # fmt: skip
def test_releases_diff_gives_each_months_share_it_can(revised, compared, said):
    """One of 427 cells revised read "0%", and a month only one release has "0 of 0, 0%"."""
    from tradesentry.cli_cross import _share

    assert _share(revised, compared) == said


def _cells(output: str, period: str) -> list[str]:
    """The cells of a mirror table's row of ``period``."""
    (row,) = (line for line in output.splitlines() if line.strip().startswith(f"{period} "))
    return [cell.strip() for cell in row.split("│")]


@pytest.mark.parametrize(
    ("rated", "said", "unrated"),
    [
        (
            lambda m: m != "2023-06",
            "1 month of the partner's record is in EUR with no rate to USD in the store "
            "(2023-06): shown as `no rate`",
            ["2023-06"],
        ),
        (
            lambda m: m < "2023-01",
            "12 months of the partner's record are in EUR with no rate to USD in the store "
            "(2023-01 to 2023-12): shown as `no rate`",
            ["2023-01", "2023-12"],
        ),
    ],
)
def test_the_mirror_table_tells_a_month_with_no_rate_from_one_not_recorded(
    tmp_path, rated, said, unrated
):
    """Both read n/a, and the note said "2 months … with no rate" without naming them (or
    "1 months")."""
    db = _pair_store(tmp_path)
    rates = pd.read_csv(tmp_path / "rates.csv")
    rates[rates["period"].map(rated)].to_csv(tmp_path / "some_rates.csv", index=False)
    assert invoke("rates", tmp_path / "some_rates.csv", "--store", db).exit_code == 0
    shown = invoke("mirror", "USA", "DEU", "--store", db)
    assert shown.exit_code == 0, shown.output
    assert f"note: {said}" in " ".join(shown.output.split())
    for period in unrated:  # the partner's figure, and no ratio
        assert _cells(shown.stdout, period)[2:4] == ["no rate", ""]
    assert "n/a" not in shown.stdout


def test_the_reporters_own_months_with_no_rate_read_no_rate(tmp_path):
    """USA's figures of 27 in yuan, beside its TOTAL in dollars, with no yuan rate: neither
    shown as dollars nor as not recorded."""
    months = pd.period_range("2023-01", "2023-12", freq="M").astype(str)
    longer = pd.period_range("2022-01", "2023-12", freq="M").astype(str)  # most in dollars
    rows = [("USA", "DEU", "export", "HS", "TOTAL", m, 1e6, "USD") for m in longer]
    rows += [("USA", "DEU", "export", "HS", "27", m, 7e6, "CNY") for m in months]
    rows += [("DEU", "USA", "import", "HS", "27", m, 1.06e6, "USD") for m in months]
    columns = ["reporter", "partner", "flow", "classification", "commodity", "period"]
    pd.DataFrame(rows, columns=[*columns, "value", "currency"]).to_csv(
        tmp_path / "yuan.csv", index=False
    )
    db = tmp_path / "yuan.duckdb"
    assert invoke("ingest", tmp_path / "yuan.csv", "--store", db).exit_code == 0
    shown = invoke("mirror", "USA", "DEU", "--commodity", "27", "--store", db)
    assert shown.exit_code == 0, shown.output
    assert _cells(shown.stdout, "2023-03")[1:3] == ["no rate", "$1.1M"]
    words = " ".join(shown.output.split())
    assert "USA exports: no rate to USD for any month" in words
    assert "12 months of USA's own record are in CNY with no rate to USD" in words
    gap = invoke("gap", "USA", "DEU", "--store", db)
    assert _cells(gap.stdout, "27")[1] == "no rate"  # recorded


def test_mirror_shows_every_month_of_the_span(tmp_path):
    """A series silent from March to August 2020 jumped from 2020-02 to 2020-09, and its
    sparkline was 30 marks for 36 months."""
    months = pd.period_range("2020-01", "2022-12", freq="M").astype(str)
    held = [m for m in months if not "2020-03" <= m <= "2020-08"]
    rows = [
        ("USA", "DEU", "export", "HS", "TOTAL", m, 1e6 * (1 + i % 3)) for i, m in enumerate(held)
    ]
    rows += [
        ("DEU", "USA", "import", "HS", "TOTAL", m, 1.06e6 * (1 + i % 3)) for i, m in enumerate(held)
    ]
    db = _ingest_rows(tmp_path, rows, "silent")
    shown = invoke("mirror", "USA", "DEU", "--store", db)
    assert shown.exit_code == 0, shown.output
    table = [line.split("│")[0].strip() for line in shown.stdout.splitlines() if "│" in line]
    assert table == list(months)
    assert _cells(shown.stdout, "2020-05")[1:] == ["n/a", "n/a", "", "", ""]
    own = next(line for line in shown.stdout.splitlines() if line.startswith("  own "))
    marks = own[len("  own    ") :]
    assert len(marks) == 36 and marks[2:8] == " " * 6, repr(marks)


@pytest.mark.parametrize("command", ["mirror", "gap"])
def test_the_world_as_partner_has_no_mirror_record(tmp_path, command):
    """`mirror DEU WLD` read "DEU exports vs WLD imports", each month n/a, with a band, as if
    the world could record its side; `mirror WLD DEU` said it is no reporter."""
    months = pd.period_range("2023-01", "2023-12", freq="M").astype(str)
    rows = [
        ("DEU", partner, "export", "HS", "TOTAL", m, 1e6)
        for m in months
        for partner in ("WLD", "FRA")
    ]
    db = _ingest_rows(tmp_path, rows, "world")
    result = invoke(command, "DEU", "WLD", "--store", db)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: WLD is the world, the sum of DEU's partners, not a country: no one records "
        "its side of the trade, so it has no mirror record to compare with; name a partner "
        "country (the store holds DEU's trade with FRA)"
    )


@pytest.mark.parametrize(
    ("gap", "said"),
    [(-0.004, "under €0.01"), (0.004, "under €0.01"), (-0.36, "-€0.36"), (0.0, "€0"),
     (None, ""), (float("nan"), "")],
)  # fmt: skip
def test_a_gap_under_a_cent_reads_under_a_cent_whatever_its_sign(gap, said):
    """It read "above -€0.01"."""
    from tradesentry.cli_cross import _gap

    assert _gap(gap, "EUR") == said


@pytest.mark.parametrize(
    ("kinds", "said"),
    [
        ((), "mirror_gap could not compare 2 figures"),
        (("--kind", "mirror_gap"), "mirror_gap could not compare 2 figures"),
        (("--kind", "spike"), None),
    ],
    ids=["every-kind", "mirror-gap", "no-mirror-gap"],
)
def test_scan_says_how_many_figures_no_rate_let_the_mirror_check_compare(tmp_path, kinds, said):
    """A month whose two records no rate converts has no mirror-gap finding whatever its
    gap, and a scan said nothing of it: now a note on stderr, where the scan ran the check."""
    db = _pair_store(tmp_path)
    rates = pd.read_csv(tmp_path / "rates.csv")
    rates[rates["period"] != "2023-06"].to_csv(tmp_path / "some_rates.csv", index=False)
    assert invoke("rates", tmp_path / "some_rates.csv", "--store", db).exit_code == 0
    result = invoke("scan", *kinds, "--format", "json", "--store", db)
    assert result.exit_code == 0, result.output
    note = " ".join(result.stderr.split())
    if said is None:
        assert "mirror_gap could not compare" not in note
    else:  # USA's June and DEU's June: one figure on each side of the pair
        assert f"note: {said}" in note and "no EUR rate" in note
