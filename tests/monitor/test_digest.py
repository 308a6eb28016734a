"""The digest of a release: coverage, moves, new findings with their context, revisions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV, plant_observations
from tests.monitor.conftest import demo_rows, vintage, write_rows
from tradesentry import api
from tradesentry.cli import app
from tradesentry.store import open_store

runner = CliRunner()
SEED = "China's exports to North Korea rose to $12.98 million in March 2021 from $3,000 in February"


@pytest.fixture
def vintages(store, tmp_path, tiny):
    """Release 1: the data to January 2021, scanned. Release 2: February and March 2021
    arrive and January's exports are revised from $29,000 to $30,000."""
    store.ingest(vintage(tmp_path / "to-2021-01.csv", until="2021-01"), published="2021-02-20")
    api.scan(store)
    store.ingest(
        vintage(
            tmp_path / "2021-03.csv",
            since="2021-01",
            until="2021-03",
            edits={("export", "2021-01"): 30000},
        ),
        published="2021-04-20",
    )
    return store


def test_the_seed_case(vintages):
    d = api.digest(vintages)
    assert d.release["id"] == 2 and d.latest_month == "2021-03"
    assert any(m.sentence.startswith(SEED) for m in d.latest)
    assert {m.period for m in d.moves} <= {"2021-02", "2021-03"}  # the months it brings
    feb = [f for f in d.findings if f["period"] == "2021-02" and f["flow"] == "export"]
    assert feb, d.findings
    assert feb[0]["context"] == (  # February in figures: the month before and the month after
        "China's exports to North Korea fell to $3,000 in February 2021 from $30,000 in January, "
        "down $27,000 (-90.0%), then rose to $12.98 million in March."
    )
    assert feb[0]["explanation"]
    assert d.baseline_scan_id == 1 and d.scan_id == 2  # the digest scanned the new release


def test_the_seed_case_as_docs_monitor_tells_it(store, tmp_path):
    """docs/monitor.md: the data to January 2021, scanned, then February and March as the
    press saw them. Two new findings: the fall of October 2020, dated once the months after
    it show the new level, and March's spike, whose text bounds what booking February late
    explains (an analyst's suspicion, in the seed article)."""
    store.ingest(vintage(tmp_path / "to-2021-01.csv", until="2021-01"), published="2021-02-20")
    api.scan(store)
    store.ingest(
        vintage(tmp_path / "2021-03.csv", since="2021-02", until="2021-03"),
        published="2021-04-20",
    )
    d = api.digest(store)
    new = [(f["kind"], f["period"]) for f in d.findings]
    assert new == [("level_shift", "2020-10"), ("spike", "2021-03")]
    march = d.findings[1]["explanation"]
    assert "It follows a low February 2021 ($3.0K against " in march
    assert "that explains at most about $250.0K of its $12.8M excess (2% of it)" in march


def test_coverage_and_revisions(vintages):
    d = api.digest(vintages)
    cov = d.coverage
    assert cov["reporters"] == ["CHN"] and cov["partners"] == ["PRK"]
    assert (cov["first_period"], cov["last_period"]) == ("2021-01", "2021-03")
    assert cov["revised"] == 1 and cov["new"] == 4 and cov["rows"] == 8
    assert d.summary[0].startswith("Release 2 (2021-03.csv, read as csv, published 20 April 2021)")
    assert "on the trade of China with North Korea: exports and imports" in d.summary[0]
    assert d.revisions_total == 1
    assert d.revisions[0].sentence == (
        "China's exports to North Korea for January 2021 were revised to $30,000 from $29,000 "
        "(release 1), up $1,000 (+3.4%)."
    )


def test_an_older_release_reads_as_it_did_on_its_day(vintages):
    d = api.digest(vintages, release=1)
    assert d.latest_month == "2021-01" and d.revisions_total == 0
    assert d.scan_id == 1 and d.baseline_scan_id is None
    jan = next(m for m in d.latest if m.flow == "export" and m.basis == "mom")
    assert "$29,000 in January 2021" in jan.sentence  # not the later $30,000


def test_moves_rank_by_money(demo_store, tiny):
    d = api.digest(demo_store)
    mom = d.section("pair", "mom")
    changes = [abs(m.change) for m in mom]
    assert changes == sorted(changes, reverse=True) and len(mom) == 5
    assert mom[0].sentence.startswith(
        "China's exports to North Korea fell to $10.35 million in February 2020 from "
        "$186.85 million in January"
    )
    assert d.section("commodity", "mom") == []  # the demo holds totals only


def test_every_format_renders(vintages):
    d = api.digest(vintages)
    md = d.render("md")
    assert md.startswith("# Release 2: 2021-03.csv") and SEED in md
    assert "## New findings" in md and "## Revisions" in md
    data = json.loads(d.render("json"))
    assert data["release"]["id"] == 2 and data["findings"][0]["headline"]
    html = d.render("html")
    assert html.startswith("<!doctype html>") and "$12.98 million" in html
    with pytest.raises(api.InputError):
        d.render("pdf")


def test_html_is_escaped(store, tmp_path, tiny):
    store.ingest(vintage(tmp_path / 'a<b onload="x()">&.csv', until="2021-02"))
    html = api.digest(store).to_html()
    assert "<b onload" not in html and "a&lt;b onload=&#34;x()&#34;&gt;&amp;.csv" in html
    assert "<b onload" not in api.digest(store).to_markdown()


def test_markdown_markup_in_a_file_name_stays_text(store, tmp_path, tiny):
    store.ingest(vintage(tmp_path / "**new**_[x](http:evil)_`c`.csv", until="2021-02"))
    md = api.digest(store).to_markdown()
    assert md.startswith(r"# Release 1: \*\*new\*\*\_\[x\](http:evil)\_\`c\`.csv")
    assert "[x](" not in md and "**new**" not in md
    ordinary = tmp_path / "cn_kp_2021.csv"  # an underscore inside a word makes no markup
    store.ingest(vintage(ordinary, until="2021-03"))
    assert api.digest(store).to_markdown().startswith("# Release 2: cn_kp_2021.csv")


def test_an_empty_store_has_no_digest(store):
    with pytest.raises(api.InputError, match="no release"):
        api.digest(store)


@pytest.mark.parametrize("format", ["md", "html", "json"])
def test_a_release_whose_rows_all_went_to_the_quarantine_has_a_digest(vintages, tmp_path, format):
    """A release that landed nothing had a traceback for a digest (an empty list of flows
    joined), and `watch` failed its step: it says the release holds no figures, and why."""
    bad = tmp_path / "day.csv"
    bad.write_text(
        "reporter,partner,flow,commodity,period,value\n"
        "CHN,PRK,export,TOTAL,2021-03-15,5\nCHN,PRK,export,TOTAL,2021-04-31,5\n"
    )
    rid = vintages.ingest(bad).release_id
    digest = api.digest(vintages)
    assert digest.release["id"] == rid and digest.coverage["rows"] == 0
    (said,) = digest.summary
    assert said.startswith(f"Release {rid} (day.csv, read as csv, ingested ")
    assert said.endswith(
        "holds no figures. Of its 2 rows read, all 2 went to the quarantine "
        f"(`tradesentry quarantine --release {rid}` gives the reasons)."
    )
    assert digest.render(format)


def test_cli_digest(tmp_path, tiny):
    db = tmp_path / "s.duckdb"
    with open_store(db) as st:
        st.ingest(DEMO_CSV)
    md = runner.invoke(app, ["digest", "--store", str(db)])
    assert md.exit_code == 0 and md.stdout.startswith("# Release 1:")
    out = tmp_path / "d.html"
    html = runner.invoke(app, ["digest", "--format", "html", "--out", str(out), "--store", str(db)])
    assert html.exit_code == 0 and out.read_text().startswith("<!doctype html>")
    js = runner.invoke(app, ["digest", "--release", "1", "--format", "json", "--store", str(db)])
    assert json.loads(js.stdout)["release"]["file"] == DEMO_CSV.name
    missing = runner.invoke(app, ["digest", "--release", "9", "--store", str(db)])
    assert missing.exit_code == 2 and "no release 9" in missing.stderr


def test_the_demo_data_flags_february_2021(demo_store):
    d = api.digest(demo_store)
    flagged = [
        f
        for f in d.findings
        if f["flow"] == "export" and f["period"] <= "2021-02" <= f["period_end"]
    ]
    assert flagged, [f["headline"] for f in d.findings]
    assert flagged[0]["explanation"] and flagged[0]["context"]


def test_demo_ends_with_the_digest(tmp_path, tiny):
    result = runner.invoke(app, ["demo", "--store", str(tmp_path / "demo.duckdb")])
    assert result.exit_code == 0, result.output
    tail = result.stdout[result.stdout.index("# Release 1:") :]
    # the release's months, over which its largest moves are (a first load's go back years);
    # the press gave 24 of the 30 months
    assert "## Largest moves month on month, January 2019–June 2021 (24 months)\n" in tail
    assert "## New findings" in tail


def test_a_release_of_annual_figures_is_told_in_years(annual_store):
    """Its span and its findings' headlines name years, and an annual finding borrows no
    month's figures for its context."""
    text = api.digest(annual_store).render("md")
    assert "all goods, 2005–2021." in text
    assert "**Spike, 2016: China's imports from North Korea**" in text
    assert "**Gap, 2012: " in text and "January" not in text and "month" not in text


# Release 1 of small and annual figures, with control characters in the file's name and in a
# commodity code; release 2 revises them (QA's case).
_HEADER = "reporter,partner,flow,commodity,period,value,period_months,freq\n"
_SMALL = {"2017-01": 0.9, "2017-02": 0.48, "2017-03": 0.50, "2017-04": 1.35, "2018-05": 0.30}


def _small_releases(store, tmp_path):
    rows = [
        f"FRA,PRT,export,TOTAL,{y}-{m:02d},{_SMALL.get(f'{y}-{m:02d}', 1.2)},1,M\n"
        for y in (2017, 2018)
        for m in range(1, 13)
    ]
    rows += ["FRA,DEU,export,TOTAL,2018-03,0.5,1,M\n", "FRA,DEU,export,TOTAL,2018-04,0.004,1,M\n"]
    rows += [f"FRA,ESP,export,TOTAL,{y},{1e6 + y},12,A\n" for y in range(2005, 2018)]
    rows += ["FRA,ITA,export,\x1b[2JXX\x07,2017-03,5,1,M\n"]
    first = tmp_path / "r1\x1b]0;owned\x07.csv"
    first.write_text(_HEADER + "".join(rows), encoding="utf-8")
    store.ingest(first, published="2019-01-10")
    _plant_hostile_code(store, 1, 5.0)
    second = tmp_path / "r2\x9b2J.csv"  # a C1 control: CSI in some terminals
    second.write_text(
        _HEADER
        + "FRA,PRT,export,TOTAL,2017-03,2500.37,1,M\n"
        + "FRA,DEU,export,TOTAL,2018-04,1500.004,1,M\n"
        + "FRA,ESP,export,TOTAL,2017,1200000,12,A\n"
        + "FRA,ITA,export,\x1b[2JXX\x07,2017-03,7,1,M\n",
        encoding="utf-8",
    )
    store.ingest(second, published="2019-02-10")
    _plant_hostile_code(store, 2, 7.0)
    return store


def _plant_hostile_code(store, release_id: int, value: float) -> None:
    """The ingest quarantines a code with a control character; a store written before it
    did holds one, revised from 5 to 7 here, and every format must escape it."""
    row = {"partner": "ITA", "commodity": "\x1b[2JXX\x07", "period": "2017-03", "value": value}
    row |= {"freq": "M", "period_months": 1}  # whichever row of the release it copies
    plant_observations(store, release_id, [row])


def test_sub_dollar_figures_read_as_text_money_writes_them(store, tmp_path, tiny):
    """Cents under $10, "under $0.01" for less than a cent, "$0" only for nothing, and a
    huge rise as a grouped multiple."""
    _small_releases(store, tmp_path)
    first = api.digest(store, release=1)
    moves = " ".join(m.sentence for m in first.moves if m.partner == "PRT")
    assert "fell to $0.30 in May 2018 from $1.20 in May 2017, down $0.90 (-75.0%)" in moves
    second = api.digest(store)
    sentences = [r.sentence for r in second.revisions]
    assert any(
        "for March 2017 were revised to $2,500 from $0.50 (release 1)" in s for s in sentences
    )
    assert any(
        "revised to $1,500 from under $0.01 (release 1), up $1,500 (375,001 times" in s
        for s in sentences
    )
    rise = next(m.sentence for m in second.moves if m.partner == "PRT")
    assert "rose to $2,500 in March 2017 from $0.48 in February" in rise
    text = second.render("md")
    assert not re.search(r"\$0(?![.\d])|\$1(?![.,\d])", text), text


def test_annual_figures_read_as_years(store, tmp_path, tiny):
    _small_releases(store, tmp_path)
    first, second = api.digest(store, release=1), api.digest(store)
    assert first.summary[0].endswith(
        ", 2005–2017 (annual) and January 2017–December 2018 (monthly)."
    )
    assert second.summary[0].endswith(", 2017 (annual) and March 2017–April 2018 (monthly).")
    spain = next(r.sentence for r in second.revisions if r.partner == "ESP")
    assert spain.startswith("France's exports to Spain for 2017 were revised to $1.20 million")
    assert "January" not in spain


def test_control_characters_are_escaped_in_every_format(store, tmp_path, tiny):
    """ESC and BEL from a file name or a commodity code never reach the terminal (Markdown),
    the page (HTML) or a JSON reader raw."""
    _small_releases(store, tmp_path)
    for release in (1, 2):
        d = api.digest(store, release=release)
        for fmt in ("md", "html", "json"):
            out = d.render(fmt)
            assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out), (fmt, out)
    md, html = api.digest(store, release=1).render("md"), api.digest(store).render("html")
    assert r"r1\\x1b\]0;owned\\x07.csv" in md  # Markdown shows it as r1\x1b]0;owned\x07.csv
    assert "HS \\x1b[2JXX\\x07" in html and "r2\\x9b2J.csv" in html
    assert "r2\\u009b2J.csv" in api.digest(store).render("json")


def test_a_part_of_a_flow_is_told_apart_from_the_whole(store, tmp_path):
    """The by-road series and the whole flow are two series: a revision of one says which
    (both read "China's exports to North Korea for March 2021" before), and so does the
    webhook's text of a finding on it."""
    from tradesentry.monitor import webhook

    first = Path(__file__).parents[1] / "data" / "comtrade_plus.csv"
    raw = first.read_text(encoding="utf-8")
    store.ingest(first, published="2021-04-20")
    revised = tmp_path / "comtrade_plus_revised.csv"
    revised.write_text(raw.replace(",8512000,8512000,", ",9000000,9000000,"), encoding="utf-8")
    store.ingest(revised, published="2021-05-20")
    d = api.digest(store)
    assert [r.sentence for r in d.revisions] == [
        "China's exports to North Korea (mode of transport 3200) for March 2021 were revised "
        "to $9.00 million from $8.51 million (release 1), up $488,000 (+5.7%)."
    ]
    assert d.revisions[0].breakdown == "partner2=0;customs=C00;mot=3200"
    record = {
        **{k: "" for k in ("id", "explanation")},
        "kind": "spike",
        "reporter": "CHN",
        "partner": "PRK",
        "flow": "export",
        "commodity": "TOTAL",
        "classification": "H5",
        "breakdown": "partner2=0;customs=C00;mot=3200",
        "period": "2021-03",
        "period_end": "2021-03",
        "freq": "M",
        "severity": "high",
        "impact": 1e6,
        "currency": "USD",
    }
    assert "China's exports to North Korea (mode of transport 3200) (high" in (
        webhook.summary([record], [], [])
    )


def test_a_figure_the_release_withdrew_is_not_quoted(store, tmp_path):
    """A release listing February without a value (Comext's confidential blank) withdraws
    the figure of the one before: the digest's sentence on the new finding there must not
    quote that figure as February's."""
    from tests.ingest.kit import FORMATS, record

    def month(year: int, m: int, value: str) -> dict:
        return record("DEU", "FRA", "export", "39199020", str(year), f"{m:02d}", value)

    months = [(y, m) for y in (2019, 2020, 2021) for m in range(1, 13)]
    first = [month(y, m, str(100_000 + 1_000 * (m % 4))) for y, m in months]
    sdmx = FORMATS["sdmx"]
    store.ingest(sdmx.file(tmp_path, first, stem="r1"), published="2021-04-20")
    api.scan(store)
    again = [month(2020, 6, ""), month(2020, 7, "101000")]
    store.ingest(sdmx.file(tmp_path, again, stem="r2"), published="2021-05-20")
    d = api.digest(store)
    (june,) = [f for f in d.findings if f["period"] == "2020-06"]
    assert june["kind"] == "gap" and "June 2020" in june["explanation"]
    assert "102,000" not in june["context"] and "102,000" not in june["headline"]


def test_figures_a_release_leaves_out_are_said(store, tmp_path):
    """A release that gives January and March but not February's exports, which the
    release before gave: the digest says so (the store keeps the earlier figure)."""
    from tests.monitor.conftest import demo_rows, write_rows

    store.ingest(vintage(tmp_path / "r1.csv", until="2021-03"), published="2021-04-20")
    rows = [
        r
        for r in demo_rows()
        if "2021-01" <= r["period"] <= "2021-03"
        and not (r["flow"] == "export" and r["period"] == "2021-02")
    ]
    store.ingest(write_rows(tmp_path / "r2.csv", rows), published="2021-05-20")
    d = api.digest(store)
    assert d.coverage["left_out"] == 1
    assert (
        "It leaves out 1 figure that earlier releases gave within its months, which the store "
        "keeps as they were: China's exports to North Korea for February 2021 ($3,000, "
        "release 1)."
    ) in d.summary
    assert "It leaves out" in d.to_markdown()


def test_a_figure_given_in_a_quarantined_row_is_not_only_left_out(store, tmp_path):
    """An office's read: release 2 gave February's exports as -5000, quarantined, and its
    digest said it "leaves out" the figure, and nothing of its quarantined rows."""
    from tests.monitor.conftest import demo_rows, write_rows

    store.ingest(vintage(tmp_path / "r1.csv", until="2021-03"), published="2021-04-20")
    rows = [
        {**r, "value": "-5000"}
        if r["flow"] == "export" and r["period"] == "2021-02" and r["period_months"] == "1"
        else r
        for r in demo_rows()
        if "2021-01" <= r["period"] <= "2021-03"
    ]
    store.ingest(write_rows(tmp_path / "r2.csv", rows), published="2021-05-20")
    d = api.digest(store)
    assert (
        "It leaves out 1 figure that earlier releases gave within its months (or gives "
        "them in rows the quarantine holds)"
    ) in " ".join(d.summary)
    assert (
        "1 row of its file went to the quarantine (`tradesentry quarantine --release 2` "
        "gives the reasons)."
    ) in d.summary


def _sdmx_release(store, tmp_path, stem: str, months: dict, published: str):
    """An SDMX release of DEU's exports to FRA of 39199020: {(year, month): value or ""}."""
    from tests.ingest.kit import FORMATS, record

    rows = [
        record("DEU", "FRA", "export", "39199020", str(y), f"{m:02d}", v)
        for (y, m), v in sorted(months.items())
    ]
    store.ingest(FORMATS["sdmx"].file(tmp_path, rows, stem=stem), published=published)


def test_a_move_is_never_told_from_a_month_the_release_withholds(store, tmp_path):
    """Release 2 withholds December 2020 and January 2020, which release 1 gave: January
    2021's moves cannot be told from them (the base months' figures are withdrawn)."""
    first = {(y, m): str(500_000 + 1_000 * m) for y in (2019, 2020) for m in range(1, 13)}
    _sdmx_release(store, tmp_path, "r1", first, "2021-01-20")
    second = {(2020, 12): "", (2020, 1): "", (2021, 1): "515000"}
    _sdmx_release(store, tmp_path, "r2", second, "2021-02-20")
    d = api.digest(store)
    told = " ".join(m.sentence for m in d.moves + d.latest)
    assert "December 2020" not in told and "January 2020" not in told


def test_a_disclosed_month_is_no_new_month(store, tmp_path):
    """Release 2 discloses May 2019 (withheld in release 1) and revises January 2020: it
    brings no new month, so its moves are over all of its months, the revision included."""
    first = {(y, m): str(500_000 + 1_000 * m) for y in (2019, 2020) for m in range(1, 13)}
    first[(2019, 5)] = ""
    _sdmx_release(store, tmp_path, "r1", first, "2021-01-20")
    _sdmx_release(store, tmp_path, "r2", {(2019, 5): "505000", (2020, 1): "900000"}, "2021-02-20")
    d = api.digest(store)
    assert d.coverage["new"] == 0
    assert any(m.period == "2020-01" for m in d.moves), [m.sentence for m in d.moves]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("505000", "where release 2 gave no figure, the same figure as release 1 gave."),
        ("650000", "where release 2 gave no figure; release 1 gave €505,000."),
    ],
    ids=["same", "other"],
)
def test_a_figure_given_again_names_the_last_one_published(store, tmp_path, given, said):
    """May 2019 given by release 1, withheld by release 2, given again by release 3. The
    scan's revision finding compares it with release 1's figure; the digest said only that
    release 2 gave none, as if the figure were new."""
    first = {(2019, m): str(500_000 + 1_000 * m) for m in range(1, 13)}
    _sdmx_release(store, tmp_path, "r1", first, "2021-01-20")
    _sdmx_release(store, tmp_path, "r2", {(2019, 5): ""}, "2021-02-20")
    _sdmx_release(store, tmp_path, "r3", {(2019, 5): given}, "2021-03-20")
    (revision,) = api.digest(store).revisions
    assert revision.sentence.endswith(said), revision.sentence


def test_new_findings_rank_by_money_in_dollars(store, tmp_path):
    """¥2.25 trillion (about $20 billion at 110 yen) is less at stake than $82.4 billion:
    the digest lists the dollars first, as every other list of findings does."""
    from tests.report.seed import yen_and_dollar_scan

    store.ingest(_japan_and_us(tmp_path))
    scan_id = yen_and_dollar_scan(store, tmp_path)
    digest = api.digest(store, scan_id=scan_id)
    assert [f["reporter"] for f in digest.findings] == ["USA", "JPN"]
    assert "usd" not in digest.findings[0]  # the contract's fields, their own currency kept
    assert digest.unconverted == []  # the store has the yen's rate


def _japan_and_us(tmp_path, name: str = "imports.csv"):
    """A release of Japan's (in yen) and the United States' (in dollars) imports from
    China in January 2021: the series of ``yen_and_dollar_scan``'s findings."""
    base = {"partner": "CHN", "flow": "import", "classification": "HS", "commodity": "TOTAL"}
    base |= {"period": "2021-01", "period_months": "1"}
    rows = [
        {"reporter": "JPN", **base, "value": "2.25e12", "currency": "JPY"},
        {"reporter": "USA", **base, "value": "8.24e10", "currency": "USD"},
    ]
    return write_rows(tmp_path / name, rows)


def test_amounts_without_a_rate_are_said_to_be_compared_as_they_are(store, tmp_path):
    """Without the yen's rate ¥2.25 trillion comes before $82.4 billion: the digest says
    the yen are compared as they are, and how to load rates."""
    from tests.report.seed import yen_and_dollar_scan

    store.ingest(_japan_and_us(tmp_path))
    scan_id = yen_and_dollar_scan(store, tmp_path)
    store.con.execute("DELETE FROM rates")
    digest = api.digest(store, scan_id=scan_id)
    assert digest.unconverted == ["JPY"]
    assert "Amounts in JPY are ranked beside the others as they are" in digest.to_markdown()


def test_new_findings_are_those_of_the_release_s_series(store, tmp_path):
    """A first scan of several releases finds every series' findings: the briefing on the
    last release lists those of its own series and counts the others (a digest of China's
    minerals had led with Japan's 2008 level shifts)."""
    from tests.report.seed import yen_and_dollar_scan

    store.ingest(_japan_and_us(tmp_path))
    store.ingest(vintage(tmp_path / "cn_kp.csv", until="2021-06"))
    scan_id = yen_and_dollar_scan(store, tmp_path)  # findings on Japan's and the US' series
    digest = api.digest(store, scan_id=scan_id)  # the newest release: China–North Korea
    assert digest.findings == [] and digest.findings_elsewhere == 2
    assert (
        "The scan has 2 other new findings, on series this release holds no figure of."
        in digest.to_markdown()
    )
    mine = api.digest(store, release=1, scan_id=scan_id)
    assert len(mine.findings) == 2 and mine.findings_elsewhere == 0


@pytest.mark.parametrize(
    ("before", "here", "ratio", "told"),
    [
        (186.85e6, 10.35e6, 0.098, True),  # North Korea, February 2020: the fall itself
        (25.22e9, 23.34e9, 1.3, False),  # US imports, February 2010: a dip under a rise
        (1.59e6, 1.68e6, 2.3, False),  # +5.7% under ×2.3: not the move the shift is
        (9.73e9, 9.19e9, 0.85, True),  # US exports, October 2018: -5.5% of a ×0.85 fall
        (None, 589005.0, 7568.0, False),  # no month before: "in April … from March"
    ],
    ids=["its-way", "the-other-way", "a-small-part", "a-quarter-of-it", "no-month-before"],
)
def test_a_level_shifts_first_month_is_told_only_where_it_moved_its_way(before, here, ratio, told):
    """The digest told "fell to $23.34 billion in February 2010" above a rise of ×1.3:
    a level shift's first month is its context only where it moved from the month before
    in the shift's direction by a quarter of its size or more."""
    from tradesentry.monitor import digest

    assert digest._moved_its_way({"evidence": {"ratio": ratio}}, before, here) is told


def test_findings_over_runs_of_months_are_told_without_their_first_months_move(demo_store):
    """A mirror gap of 30 months opened with "fell to €21 in February 2023 from €49 in
    January"; the demo's level shifts keep their first month's move, each the fall or rise
    itself."""
    from tradesentry.monitor import digest

    gap = {"kind": "gap", "period": "2020-10", "freq": "M"}
    assert digest._context(None, 1, gap, "China's exports to North Korea") == ""
    shifts = [f for f in api.digest(demo_store).findings if f["kind"] == "level_shift"]
    assert shifts and all(f["context"] for f in shifts)


def test_a_month_without_a_figure_before_it_is_told_first(store, tmp_path):
    """A dip in March 2017, after Korea's combined January–February, read "rose to $10.59
    billion in April 2017 from $6.99 billion in March": a reader quoted April's move as the
    finding's. The month comes first, then the month after."""
    from tradesentry.monitor import digest

    path = tmp_path / "kor.csv"
    path.write_text(
        "reporter,partner,flow,commodity,period,period_months,value,currency\n"
        "KOR,CHN,export,TOTAL,2017-01,2,21000000000,USD\n"
        "KOR,CHN,export,TOTAL,2017-03,1,6990000000,USD\n"
        "KOR,CHN,export,TOTAL,2017-04,1,10590000000,USD\n"
    )
    store.ingest(path)
    rec = {"kind": "dip", "period": "2017-03", "period_end": "2017-03", "currency": "USD"}
    rec |= {"reporter": "KOR", "partner": "CHN", "flow": "export", "classification": "HS"}
    rec |= {"commodity": "TOTAL", "breakdown": ""}
    said = digest._context(store.con, 1, rec, "South Korea's exports to China")
    assert said == (
        "South Korea's exports to China were $6.99 billion in March 2017 (no figure for "
        "February), then rose to $10.59 billion in April."
    )
    run = rec | {"kind": "revision", "period_end": "2017-04"}  # a run of revised months
    assert digest._context(store.con, 1, run, "South Korea's exports to China") == ""


def test_the_digests_revisions_come_largest_first_a_withheld_figure_by_its_size():
    """€325 now withheld was listed above €232,976 withheld and every real revision: a
    blank's change sorted first."""
    import pandas as pd

    from tradesentry.monitor import digest

    cells = pd.DataFrame(
        {
            "value": [None, None, 1_100.0, 52_000.0, 90_000.0],
            "previous_value": [325.0, 232_976.0, 1_000.0, 50_000.0, None],
            "previous_release": [1, 1, 1, 1, 2],
            "last_figure": [None, None, None, None, 90_000.0],  # given again, unchanged
            "currency": ["EUR"] * 5,
            "seen_before": [True] * 5,
            "period": ["2025-06"] * 5,
        }
    )
    cells = cells.assign(status=digest._status(cells))  # as ``_cells`` gives them
    order = digest._revisions(cells)["value"].fillna(0).tolist()
    # changes 232,976, 2,000, 325, 100, and 0 for the figure given again as it was
    assert order == [0.0, 52_000.0, 0.0, 1_100.0, 90_000.0]
    assert digest._revisions(cells)["previous_value"].tolist()[:3] == [232_976.0, 50_000.0, 325.0]


def test_the_moves_headings_name_the_months_the_moves_come_from(store, tmp_path):
    """A release of October's figures with old months revised headed its moves "By
    commodity, month on month, January 2024–October 2024", every one of them October's."""
    from tradesentry.monitor import render

    def release(name: str, months: range, march: float, published: str) -> None:
        lines = ["reporter,partner,flow,commodity,period,value,currency"]
        for code, base in (("TOTAL", 9e8), ("250410", 3e6), ("380110", 5e6)):
            for m in months:
                value = base * (1 + 0.05 * m) * (march if m == 3 else 1.0)
                lines.append(f"CHN,JPN,export,{code},2024-{m:02d},{value:.0f},USD")
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        store.ingest(tmp_path / name, published=published)

    release("sep.csv", range(1, 10), 1.0, "2024-10-20")
    release("oct.csv", range(1, 11), 1.1, "2024-11-20")  # March revised, October new
    d = api.digest(store)
    assert d.moves_months == ("2024-10", "2024-10")
    headings = [section.heading for section in render.sections(d)]
    assert headings and not [h for h in headings if "January 2024" in h], headings
    assert api.digest(store, release=1).moves_months == ("2024-01", "2024-09")  # a first load
    assert "By commodity, month on month, January–September 2024" in [
        section.heading for section in render.sections(api.digest(store, release=1))
    ]


def test_the_moves_headings_name_only_the_months_that_are_new(store, tmp_path):
    """A release of May, June (as before) and July headed its moves "May–July 2023": June
    brought nothing new."""
    from tradesentry.monitor import render

    def release(name: str, months: list[int]) -> None:
        lines = ["reporter,partner,flow,commodity,period,value,currency"]
        for code, base in (("TOTAL", 9e8), ("250410", 3e6)):
            lines += [
                f"KOR,CHN,export,{code},2023-{m:02d},{base * (1 + m / 9):.0f},USD" for m in months
            ]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        store.ingest(tmp_path / name)

    release("to-june.csv", [1, 2, 3, 4, 6])  # May not yet given
    release("to-july.csv", [5, 6, 7])
    d = api.digest(store)
    headings = [section[0] for section in render.sections(d)]
    assert "By commodity, month on month, May and July 2023" in headings, headings
    assert d.moves_periods == ["2023-05", "2023-07"]


def _two_currency_months(tmp_path, march: bool = False) -> Path:
    """Japan's (in yen) and the United States' (in dollars) imports from China, January and
    February 2021: ¥290 billion of change (about $2.6 billion at 110 yen) against $8.3
    billion; with ``march``, March too (¥150 billion up, $3 billion up), the latest month."""
    base = {"partner": "CHN", "flow": "import", "classification": "HS", "commodity": "TOTAL"}
    months = [
        ("JPN", "JPY", "2021-01", "1.54e12"),
        ("JPN", "JPY", "2021-02", "1.25e12"),
        ("USA", "USD", "2021-01", "4.13e10"),
        ("USA", "USD", "2021-02", "3.30e10"),
    ]
    if march:
        months += [("JPN", "JPY", "2021-03", "1.40e12"), ("USA", "USD", "2021-03", "3.60e10")]
    rows = [
        {"reporter": r, **base, "period": p, "period_months": "1", "value": v, "currency": c}
        for r, c, p, v in months
    ]
    return write_rows(tmp_path / "imports.csv", rows)


def test_moves_and_the_latest_month_rank_in_dollars(store, tmp_path):
    """ "Largest moves" ranked ¥290 billion (about $2.6 billion) above a fall of $8.3
    billion, and the latest month put ¥1.25 trillion ahead of $33 billion."""
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,period,per_usd\nJPY,2021-01,110\nJPY,2021-03,110\n")
    api.load_rates(store, rates)
    store.ingest(_two_currency_months(tmp_path, march=True))
    digest = api.digest(store)
    assert [m.reporter for m in digest.latest if m.basis == "mom"] == ["USA", "JPN"]
    assert [m.reporter for m in digest.section("pair", "mom")] == ["USA", "JPN"]
    assert digest.moves_apart == [] and "listed after the others" not in digest.to_markdown()


@pytest.mark.parametrize("format", ["md", "html"])
def test_moves_in_a_currency_without_a_rate_are_ranked_apart_and_said(store, tmp_path, format):
    """Without the yen's rate, ¥290 billion came before a fall of $8.3 billion in "Largest
    moves" (and ¥1.40 trillion before $36 billion in the latest month), as if yen were
    dollars, and nothing said so: the yen are listed after the dollars, ranked on their
    own, and each section says so."""
    from tradesentry.monitor import render

    store.ingest(_two_currency_months(tmp_path, march=True))
    digest = api.digest(store)
    assert [m.reporter for m in digest.latest if m.basis == "mom"] == ["USA", "JPN"]
    assert [m.reporter for m in digest.section("pair", "mom")] == ["USA", "JPN"]
    assert digest.moves_apart == ["JPY"]
    note = "Amounts in JPY are listed after the others, ranked on their own"
    assert [section[0] for section in render.sections(digest) if note in section[2]] == [
        "March 2021, the latest month",
        "Largest moves month on month, January–March 2021",
    ]
    assert digest.render(format).count(note) == 2


def test_a_release_of_old_months_only_is_not_the_latest_month(store, tmp_path):
    """A release that only revises May 2019 headed its digest "May 2019, the latest
    month" of a record that runs to June 2021."""
    store.ingest(vintage(tmp_path / "all.csv", until="2021-06"), published="2021-07-20")
    rows = [r for r in demo_rows() if r["period"] == "2019-05" and r["period_months"] == "1"]
    revised = write_rows(tmp_path / "march.csv", [{**r, "value": "1.5e8"} for r in rows])
    store.ingest(revised, published="2021-08-20")
    digest = api.digest(store)
    assert digest.earlier_releases_to == "2021-06"
    assert (
        "## May 2019, the latest month of this release (earlier releases run to June 2021)"
        in digest.to_markdown()
    )
    assert api.digest(store, release=1).earlier_releases_to is None


def test_a_release_ingested_after_one_published_later_says_where_it_slots_in(store, tmp_path):
    """A backdated file, ingested after a release that came out after it, is read before
    that release: its digest says so, since the new findings then include that release's
    revisions read against it."""
    store.ingest(vintage(tmp_path / "to-2020-06.csv", until="2020-06"), published="2020-07-20")
    api.scan(store)
    store.ingest(vintage(tmp_path / "to-2020-08.csv", until="2020-08"), published="2020-09-20")
    api.scan(store)
    mid = vintage(tmp_path / "to-2020-07.csv", until="2020-07", edits={("export", "2020-03"): 2e8})
    store.ingest(mid, published="2020-08-20")
    digest = api.digest(store)
    assert digest.release["id"] == 3
    assert [r["id"] for r in digest.release["published_after"]] == [2]
    text = " ".join(digest.to_markdown().split())
    assert (
        "It came out before release 2 (2020-09-20), which the store already held: its "
        "figures are the current ones only where it gives none, and its revisions are now "
        "read against this release." in text
    )
    assert api.digest(store, release=2).release["published_after"] == []


def test_a_release_published_later_of_other_series_is_not_where_it_slots_in(store, tmp_path):
    """A file of other series published later is no release it slots in before: the
    China–North Korea figures' digest said they were current "only where it gives none"
    of a Eurostat file of other goods (no cell in both)."""
    other = tmp_path / "other.csv"
    other.write_text(
        "reporter,partner,flow,commodity,period,value,currency\n"
        + "".join(f"DEU,FRA,export,3921,2020-{m:02d},1000000,EUR\n" for m in range(1, 7))
    )
    store.ingest(other, published="2026-02-13")
    store.ingest(vintage(tmp_path / "to-2020-06.csv", until="2020-06"), published="2020-07-20")
    digest = api.digest(store)
    assert digest.release["published_after"] == []
    assert "It came out before" not in digest.to_markdown()


def test_a_month_in_another_currency_is_no_move(store, tmp_path):
    """A release in euros after releases in dollars read "fell to €4.60 million in July
    2024 from €5.00 million in June", June's figure being dollars."""
    header = "reporter,partner,flow,commodity,period,value,currency\n"
    months = "".join(f"CHN,THA,export,TOTAL,2024-{m:02d},5000000,USD\n" for m in range(1, 7))
    (tmp_path / "usd.csv").write_text(header + months)
    (tmp_path / "eur.csv").write_text(header + "CHN,THA,export,TOTAL,2024-07,4600000,EUR\n")
    store.ingest(tmp_path / "usd.csv", published="2024-07-20")
    store.ingest(tmp_path / "eur.csv", published="2024-08-20")
    d = api.digest(store)
    assert not [m for m in d.moves + d.latest if m.basis == "mom"]
    text = d.to_markdown()
    assert "from €5.00 million" not in text and "from $5.00 million" not in text


def test_a_mirror_gap_is_told_once_with_the_other_records_finding_named(store, tmp_path):
    """The two records of one flow that disagree are a mirror-gap finding on each side's
    series, the same gap and money: the top two new findings of a Comext release were one
    gap between France and the Netherlands, €11.8M each. The digest tells it once, naming
    the other side's finding, and still counts both."""
    rng = np.random.default_rng(1)
    lines = ["reporter,partner,flow,commodity,period,value,currency"]
    for t in range(36):
        period, value = f"{2023 + t // 12}-{t % 12 + 1:02d}", 1e6 * rng.lognormal(0, 0.1)
        imports = value * (1.05 if t < 24 else 0.05)  # FRA's record collapses in 2025
        lines += [
            f"NLD,FRA,export,3921,{period},{value:.0f},EUR",
            f"FRA,NLD,import,3921,{period},{imports:.0f},EUR",
        ]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    store.ingest(tmp_path / "t.csv")
    found = api.scan(store).to_frame()
    gaps = found[found["kind"] == "mirror_gap"]
    assert sorted(gaps["reporter"]) == ["FRA", "NLD"]
    digest = api.digest(store)
    assert digest.findings_total == len(found)
    told = [f for f in digest.findings if f["kind"] == "mirror_gap"]
    assert len(told) == 1
    other = gaps[gaps["id"] != told[0]["id"]].iloc[0]
    assert told[0]["also"].endswith(f"(finding {other['id']}).")
    text = digest.to_markdown()
    assert "every finding is new (a mirror gap once, with the other record's finding" in text
    assert "the first" not in text.split("## New findings")[1].split("\n\n")[1]


def test_a_series_or_a_newest_month_a_release_drops_is_said(store, tmp_path):
    """QA: a re-issue that dropped the newest month of China's exports, or a whole partner
    (Slovakia's 390 figures of a Comext file), was not said: "left out" was judged within
    each series' own months in the release. A series' months are now those the release
    gives of the reporter's goods (both flows, every partner), and a series of those goods
    and flows it gives no figure of is counted apart."""
    from tests.monitor.conftest import demo_rows, write_rows

    rows = [r for r in demo_rows() if "2021-01" <= r["period"] <= "2021-03"]
    korea = [{**r, "partner": "KOR"} for r in rows]
    store.ingest(write_rows(tmp_path / "r1.csv", rows + korea), published="2021-04-20")
    # given again: its cells count once (they had been counted for each release)
    store.ingest(write_rows(tmp_path / "r1.csv", rows + korea), published="2021-04-27")
    newest = [r for r in rows if not (r["flow"] == "export" and r["period"] == "2021-03")]
    store.ingest(write_rows(tmp_path / "r2.csv", newest), published="2021-05-20")
    d = api.digest(store)
    assert (d.coverage["left_out"], d.coverage["series_omitted"]) == (1, 2)
    text = " ".join(d.summary)
    assert "China's exports to North Korea for March 2021" in text, text
    assert (
        "It gives no figure of 2 series of the goods and flows it gives, which earlier "
        "releases gave figures of within its months (the store keeps their "
    ) in text, text
    assert "China's exports to South Korea (3 figures)" in text, text


def test_a_release_without_a_date_ingested_before_a_dated_one_is_said_at_both_ends(store, tmp_path):
    """QA: release 1 ingested without a date (ordered by the day it was ingested) and
    release 2 published months before that day: release 1's figures stayed the current
    ones, its corrections read as reverted, with no word at the ingest nor in the digest
    (whose "came out before" compared publication dates only)."""
    store.ingest(vintage(tmp_path / "to-2020-06.csv", until="2020-06"))
    result = store.ingest(
        vintage(tmp_path / "to-2020-08.csv", until="2020-08"), published="2020-09-20"
    )
    (note,) = result.notes
    assert (
        note.startswith("release 1 (ingested ")
        and (
            "has no publication date and is ordered by the day it was ingested, after this "
            "release (published 2020-09-20): where both give a figure, its stays the current one."
        )
        in note
    ), note
    text = " ".join(api.digest(store).to_markdown().split())
    assert "It is ordered before release 1 (no publication date; ingested " in text, text
    # published the day the undated one was ingested: the tie goes by id, this one last
    same_day = open_store(tmp_path / "same-day.duckdb")
    same_day.ingest(vintage(tmp_path / "c.csv", until="2020-06"))
    today = same_day.releases()["ingested_at"].iat[0].date().isoformat()
    assert (
        same_day.ingest(vintage(tmp_path / "d.csv", until="2020-08"), published=today).notes == ()
    )
    # dated the other way round, nothing to say
    other = open_store(tmp_path / "other.duckdb")
    other.ingest(vintage(tmp_path / "a.csv", until="2020-06"), published="2020-07-20")
    assert other.ingest(vintage(tmp_path / "b.csv", until="2020-08")).notes == ()


def test_a_release_of_one_quarantined_row_says_so_in_plain_words(vintages, tmp_path):
    bad = tmp_path / "day.csv"
    bad.write_text(
        "reporter,partner,flow,commodity,period,value\nCHN,PRK,export,TOTAL,2021-03-15,5\n"
    )
    rid = vintages.ingest(bad).release_id
    (said,) = api.digest(vintages).summary
    assert said.endswith(
        f"holds no figures. Its one row read went to the quarantine "
        f"(`tradesentry quarantine --release {rid}` gives the reasons)."
    ), said


def test_the_digests_own_command_is_a_code_span_in_markdown(vintages, tmp_path):
    """The Markdown digest escaped the backticks of its own command, which then showed as
    characters: "(\\`tradesentry quarantine --release 3\\` …)". A file name's stay escaped."""
    bad = tmp_path / "a`b`.csv"
    bad.write_text(
        "reporter,partner,flow,commodity,period,value\nCHN,PRK,export,TOTAL,2021-03-15,5\n"
    )
    rid = vintages.ingest(bad).release_id
    md = api.digest(vintages).to_markdown()
    assert f"(`tradesentry quarantine --release {rid}` gives the reasons)" in md, md
    assert "a\\`b\\`.csv" in md, md


def test_a_re_issue_says_so_and_lists_no_old_moves_as_news(store, tmp_path):
    """An identical re-issue said "52 repeat earlier figures unchanged" and then listed the
    whole history's largest moves as if they were news (QA)."""
    store.ingest(DEMO_CSV, published="2021-07-20")
    store.ingest(DEMO_CSV, published="2021-08-20")
    d = api.digest(store)
    assert d.release["id"] == 2
    assert "All 47 figures repeat earlier figures unchanged: a re-issue, with nothing new." in (
        " ".join(d.summary)
    )
    assert "Largest moves" not in d.to_markdown()
    assert "Largest moves" in api.digest(store, release=1).to_markdown()


def test_a_list_of_moves_has_its_five_lines_beside_the_latest_month(demo_store, tiny):
    """The largest fall year on year, October 2020's, is the latest month's too: the list
    of moves dropped it after it had been cut to five, and came up with four."""
    from tradesentry.monitor import render

    store = demo_store
    store.con.execute("DELETE FROM observations WHERE period > DATE '2020-10-01'")
    digest = api.digest(store)
    assert digest.latest_month == "2020-10"
    yoy = [s for s in render.sections(digest) if s[0].startswith("Largest moves year on year")]
    (sentences,) = [s[1] for s in yoy]
    latest = {m.sentence for m in digest.latest}
    assert len(sentences) == 5 and not latest & set(sentences)
    assert any("in October 2020 from $270.90 million in October 2019" in s for s in latest)
    changes = [abs(m.change) for m in digest.section("pair", "yoy")]
    assert changes == sorted(changes, reverse=True)


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        (  # in code order: "with the United Arab Emirates, Australia and Austria"
            [("KOR", "ARE", 1e6, "USD"), ("KOR", "AUS", 5e8, "USD"), ("KOR", "AUT", 9e8, "USD")],
            "the trade of South Korea with Austria, Australia and the United Arab Emirates",
        ),
        (  # yen without a rate are no dollars: ¥1.4 trillion had come first
            [
                ("JPN", "CHN", 1.4e12, "JPY"),
                ("USA", "CHN", 3.6e10, "USD"),
                ("KOR", "CHN", 1.2e10, "USD"),
            ],
            "the trade of the United States, South Korea and Japan with China",
        ),
    ],
)
def test_the_summary_names_countries_largest_first(store, tmp_path, rows, said):
    lines = ["reporter,partner,flow,commodity,period,value,currency"]
    lines += [f"{r},{p},export,TOTAL,2021-03,{v:.0f},{c}" for r, p, v, c in rows]
    (tmp_path / "march.csv").write_text("\n".join(lines) + "\n")
    store.ingest(tmp_path / "march.csv")
    assert said in api.digest(store).summary[0]
