"""The HTML report: self-contained, complete, escaped; written by `report` and by `demo`."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_CSV, today
from tests.report.seed import (
    BY_ROAD,
    DEMO_FINDINGS,
    EVIL,
    EVIL_CODE,
    TWO_CLASSIFICATIONS,
    revise_february_2020,
    save_scan,
    two_classification_findings,
)
from tradesentry import api
from tradesentry.cli import app
from tradesentry.detectors import default_detectors
from tradesentry.report import build_report, render_report
from tradesentry.report.render import plotly_js_path
from tradesentry.store import open_store

runner = CliRunner()


class _Refs(HTMLParser):
    """Every URL the page would load by itself (scripts, styles, images, frames)."""

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "data", "poster"):
            if attrs.get(name):
                self.loads.append(attrs[name])
        if tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])


def _refs(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


def _chart_specs(html: str) -> list[dict]:
    found = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html, re.S)
    return [json.loads(text) for text in found]


def test_report_is_one_file_that_loads_nothing(seeded_store, tmp_path):
    path = build_report(seeded_store, tmp_path / "r.html")
    html = path.read_text(encoding="utf-8")
    refs = _refs(html)
    assert all(url.startswith("data:") for url in refs.loads), refs.loads
    assert plotly_js_path().read_text("utf-8")[:2000] in html  # plotly.js inlined as shipped
    assert "window.Plotly" in html
    assert path.stat().st_size < 6_000_000


def test_report_has_every_section(seeded_store, tmp_path):
    html = build_report(seeded_store, tmp_path / "r.html").read_text(encoding="utf-8")
    for anchor in ("summary", "findings", "pairs", "revisions", "method"):
        assert f'id="{anchor}"' in html
    assert "release kept" in html and "series scanned" in html  # one release
    assert "money at stake (USD)" in html
    # a journalist read "$390.5B money at stake" as money in question: the summary says what
    assert "not money in error. A sum two records hold is counted once" in html
    assert 'id="pair-CHN-PRK"' in html
    # ranked: severity, then money at stake (the level shift is worth the most)
    order = [
        html.index(f'<span class="kind">{k}</span>') for k in ("level_shift", "timing_shift", "dip")
    ]
    assert order == sorted(order)
    for detector in default_detectors():
        assert detector.kind in html
        for name in (f.name for f in dataclasses.fields(detector)):
            assert f"{name}=" in html


def test_charts_draw_the_evidence(seeded_store):
    specs = _chart_specs(render_report(seeded_store))
    assert len(specs) == 3
    level, timing, dip = specs
    names = {trace.get("name") for trace in level["data"]}
    assert {"Observed", "Level before", "Level after", "Flagged (high)"} <= names
    assert level["layout"]["yaxis"]["type"] == "log"  # $3K beside $200M
    moved = [a for a in timing["layout"].get("annotations", []) if "moved" in a["text"]]
    assert moved and "$1.6M" in moved[0]["text"]
    band = [t for t in dip["data"] if t.get("name") == "Expected (band)"]
    assert band and band[0]["error_y"]["array"][0] > 0


def test_top_limits_the_charts_and_lists_the_rest(seeded_store):
    html = render_report(seeded_store, top=1)
    assert len(_chart_specs(html)) == 1
    assert "More findings" in html and "dip" in html


def _section(html: str, start: str, end: str) -> str:
    """The text between two headings (or anchors) of the report."""
    first = html.index(start)
    return html[first : html.index(end, first)]


def test_top_0_lists_every_finding_without_saying_none(seeded_store):
    html = render_report(seeded_store, top=0)
    section = _section(html, 'id="findings"', 'id="pairs"')
    assert "No findings" not in section and "<code>--top 0</code>" in section
    assert "More findings" not in section and "Findings by rank" in section
    assert len(re.findall(r'<tr data-id="', section)) == len(DEMO_FINDINGS)
    assert _chart_specs(html) == []


def test_pairs_beyond_the_sections_are_more_pairs_not_quiet(pairs_store):
    html = render_report(pairs_store, pairs=1)
    assert 'id="pair-CHN-PRK"' in html and 'id="pair-CHN-RUS"' not in html
    more = _section(html, "<h3>More pairs</h3>", "<h3>Pairs without findings</h3>")
    assert "CHN → RUS (1 finding)" in more
    quiet = _section(html, "<h3>Pairs without findings</h3>", "</section>")
    assert "RUS → CHN (1 series)" in quiet and "CHN → RUS" not in quiet


def test_a_filtered_scan_says_what_it_covered(seeded_store):
    dip = DEMO_FINDINGS[2]  # the one finding on CHN's imports
    save_scan(seeded_store, [dip], {"flow": ["import"], "kinds": ["dip"]})
    html = render_report(seeded_store)
    summary = _section(html, 'id="summary"', 'id="findings"')
    assert '1</div><div class="l">series scanned of 2' in summary
    assert "was limited to flow: import; detectors: dip." in summary
    pairs = _section(html, 'id="pairs"', 'id="revisions"')
    export_row = _section(pairs, "CHN → PRK export TOTAL", "</tr>")
    assert "not scanned" in export_row and "Pairs without findings" not in pairs


def test_a_filtered_scan_leaves_unscanned_pairs_out_of_the_quiet_ones(pairs_store):
    save_scan(pairs_store, [DEMO_FINDINGS[2]], {"reporter": ["CHN"], "partner": ["PRK"]})
    html = render_report(pairs_store)
    pairs = _section(html, 'id="pairs"', 'id="revisions"')
    assert "Pairs without findings" not in pairs
    unscanned = _section(pairs, "<h3>Pairs not scanned</h3>", "</section>")
    assert "CHN → RUS (1 series)" in unscanned and "RUS → CHN (1 series)" in unscanned


def test_method_shows_docstrings_as_text_and_only_tunable_parameters(seeded_store):
    method = _section(render_report(seeded_store), 'id="method"', "</section>")
    table = _section(method, '<table class="detectors">', "</table>")
    for markup in ("``", "kind=", "supersedes=", "needs="):
        assert markup not in table
    texts = re.findall(r"<p>(.*?)</p>", table, re.S)
    assert len(texts) > len(default_detectors())  # paragraphs kept: a summary and the rest
    assert not [t for t in texts if "  " in t or "\n" in t]  # line wraps joined
    assert '<td class="kind">spike</td><td><p>A month whose value is more than threshold ' in table
    assert "<code>threshold=4</code>" in table


def test_revisions_come_from_the_series_history(seeded_store, tmp_path):
    revise_february_2020(seeded_store, tmp_path, today())
    html = render_report(seeded_store)
    section = html[html.index('id="revisions"') : html.index('id="method"')]
    assert 'class="revised"' in section and "$11.0M" in section and "$10.3M" in section


def test_markup_in_data_is_shown_as_text(evil_store):
    html = render_report(evil_store)
    assert EVIL not in html and EVIL_CODE not in html
    assert "&lt;SCRIPT&gt;ALERT(" in html  # the commodity (as stored: upper-cased), escaped
    assert "&lt;script&gt;alert(" in html  # the explanation, escaped
    for spec in _chart_specs(html):
        assert "<script" not in json.dumps(spec).lower()


def test_report_on_a_store_without_findings(store, tmp_path):
    store.ingest(DEMO_CSV)
    html = build_report(store, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No findings" in html and "run <code>tradesentry scan</code>" in html


def test_report_on_the_real_scan_of_the_demo(demo_store):
    found = api.scan(demo_store)
    html = render_report(demo_store)
    assert len(_chart_specs(html)) == min(len(found), 25)
    for rec in found.to_records()[:25]:
        assert f'id="f-{rec["id"]}"' in html


def test_cli_report_scans_first_when_needed(tmp_path):
    db = tmp_path / "s.duckdb"
    with open_store(db) as st:
        st.ingest(DEMO_CSV)
    out = tmp_path / "out" / "report.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--top", "5", "--store", str(db)])
    assert result.exit_code == 0, result.output
    assert out.is_file() and str(out) in result.stdout
    with open_store(db) as st:
        assert api.scan_info(st) is not None


def test_cli_report_without_a_store_exits_2(tmp_path):
    result = runner.invoke(
        app,
        ["report", "--scan", "7", "--store", str(tmp_path / "s.duckdb")],
        catch_exceptions=False,
    )
    assert result.exit_code == 2


def test_demo_writes_the_report_next_to_the_store(tmp_path):
    db = tmp_path / "out" / "demo.duckdb"
    db.parent.mkdir()
    result = runner.invoke(app, ["demo", "--store", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = Path(db.parent / "report.html")
    assert report.is_file()
    assert str(report) in result.stdout


def test_a_code_under_two_classifications_is_charted_for_each(two_classifications_store):
    """UN Comtrade's H5 and a table's HS for one HS code are two series: each finding is
    drawn on its own, where the report once dropped both charts."""
    html = render_report(two_classifications_store)
    specs = dict(
        re.findall(
            r'<script type="application/json" id="(chart-\d+)-spec">(.*?)</script>', html, re.S
        )
    )
    assert len(specs) == 2
    articles = html.split('<article class="finding')[1:]
    for rank, rec in enumerate(two_classification_findings(), start=1):  # the spike first
        figures = TWO_CLASSIFICATIONS[rec["classification"]]
        (observed,) = [
            t for t in json.loads(specs[f"chart-{rank}"])["data"] if t["name"] == "Observed"
        ]
        assert set(observed["y"]) == {float(figures["value"]), float(figures["outlier"])}
        (card,) = [a for a in articles if f'id="chart-{rank}"' in a]
        assert rec["explanation"] in card  # the chart of its own finding


def test_a_finding_on_a_part_of_a_flow_is_charted_on_that_part(breakdowns_store):
    html = render_report(breakdowns_store)
    (spec,) = _chart_specs(html)
    (observed,) = [t for t in spec["data"] if t["name"] == "Observed"]
    assert observed["y"] == [8_512_000.0]  # the road's March, not the total's $13.0M
    assert f"CHN → PRK export TOTAL ({BY_ROAD})" in html


def test_an_annual_series_is_reported_by_year(annual_store):
    """Findings of an annual series list their year and tell it in years; the series and
    its chart are by year."""
    html = render_report(annual_store)
    rows = re.findall(r'<tr data-id="[0-9a-f]+">(.*?)</tr>', html, re.S)
    periods = {re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[4] for row in rows}  # period
    assert {"2016", "2012"} <= periods and not any("-" in p for p in periods)
    listed = "".join(rows)
    assert "2016 recorded $900.0M" in listed and "No figure for 2012" in listed
    assert "January" not in listed and "month" not in listed
    assert "1 series, 2005 to 2021;" in html  # the pair's span
    (series_row,) = re.findall(r'<table class="series">.*?</table>', html, re.S)
    assert "<td>2005</td><td>2021</td>" in series_row
    specs = _chart_specs(html)
    hovers = [t["hovertemplate"] for spec in specs for t in spec["data"]]
    dated = [h for h in hovers if "%{x" in h]
    assert dated and all(h.startswith("%{x|%Y}") for h in dated)  # 2016, not Jan 2016


def test_a_series_held_monthly_and_annually_is_reported_as_two(both_freqs_store):
    """The pair's table gives each frequency its own findings and money at stake, and each
    finding is charted on its own frequency's series (an annual one with the year it flags)."""
    found = api.findings(both_freqs_store).to_records()
    html = render_report(both_freqs_store)
    (table,) = re.findall(r'<table class="series">.*?</table>', html, re.S)
    rows = {
        re.search(r"<td>(\d{4}(?:-\d\d)?)</td>", row).group(1): re.findall(
            r'<td class="num">([^<]*)</td>', row
        )[-2:]
        for row in re.findall(r"<tr><td>.*?</tr>", table, re.S)
    }
    assert {first: int(count) for first, (count, _) in rows.items()} == {
        "2005": sum(f["freq"] == "A" for f in found),  # the annual series, from 2005
        "2015-01": sum(f["freq"] == "M" for f in found),
    }
    assert rows["2005"][1] == "$90.0B" and rows["2015-01"][1] == "$8.0B"  # not $98.0B each
    specs = _chart_specs(html)
    assert len(specs) == len(found)
    for rec, spec in zip(found, specs, strict=True):
        (observed,) = [t for t in spec["data"] if t["name"] == "Observed"]
        assert len(observed["x"]) == (17 if rec["freq"] == "A" else 84)
        if rec["kind"] == "spike":
            assert max(y for y in observed["y"] if y is not None) == rec["observed"]


@pytest.mark.parametrize(
    "fixture",
    [
        "seeded_store",
        "annual_store",
        "both_freqs_store",
        "breakdowns_store",
        "two_classifications_store",
        "evil_store",
    ],
)
def test_series_read_at_once_are_the_series_read_one_by_one(fixture, request):
    """``api.series_views`` (the report's charts, read in three queries) gives each series
    exactly as ``api.series`` does, the partner's record too; a key not held is left out."""
    store = request.getfixturevalue(fixture)
    sid = api.overview(store)["scan"]["id"]
    held = store.con.execute(
        f"SELECT DISTINCT {', '.join(api.SERIES_COLUMNS)} FROM observations"
    ).fetchall()
    keys = [
        *held,
        *(m for m in map(api.mirror_key, held) if m),
        ("XXX", "YYY", "export", "1", "HS", "M", ""),
    ]
    views = api.series_views(store, keys, scan_id=sid)
    assert set(views) == set(held)
    for key, view in views.items():
        reporter, partner, flow, commodity, classification, freq, breakdown = key
        one = api.series(
            store,
            reporter,
            partner,
            flow,
            commodity,
            classification=classification,
            freq=freq,
            breakdown=breakdown,
            scan_id=sid,
        )
        pd.testing.assert_frame_equal(view.observations, one.observations)
        pd.testing.assert_frame_equal(view.history, one.history)
        pd.testing.assert_frame_equal(view.findings.to_frame(), one.findings.to_frame())
        assert (view.key, view.classification, view.freq, view.breakdown) == (
            one.key,
            one.classification,
            one.freq,
            one.breakdown,
        )
    assert any(len(v.findings) for v in views.values())  # the findings were compared too
