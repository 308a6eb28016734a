"""Evidence and counts as people read them, in the report and the dashboard's templates."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEMO_CSV
from tests.report.seed import DEMO_FINDINGS, EVIL, save_scan
from tradesentry.report import render_report
from tradesentry.report.render import environment, evidence_items, plain, series_path

NARROW = "\u202f"  # the thousands separator of evidence numbers


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "–"),
        (float("nan"), "–"),
        (float("inf"), "–"),
        (False, "no"),
        (np.bool_(True), "yes"),
        (66, "66"),
        (2024, "2024"),
        (2984815.0, f"2{NARROW}984{NARROW}815"),
        (3869290.709544, f"3{NARROW}869{NARROW}291"),
        (0.562975, "0.563"),
        (-17.598, "-17.6"),
        (0.001, "0.001"),
        (np.float64(1.0), "1"),
        (["2024-06", "2024-07"], "2024-06, 2024-07"),
        ([12245802.0, 7003.0], f"12{NARROW}245{NARROW}802, 7003"),
        ((1.421, None), "1.421, –"),
        ([], "–"),
        ("price outlier", "price outlier"),
    ],
)
def test_plain_reads_like_text_not_like_python(value, text):
    assert plain(value) == text


def test_nested_evidence_becomes_nested_rows():
    rows = evidence_items({"ratio": 0.5, "sources": [{"months": ["2023-05"]}], "at": {"z": None}})
    assert rows == [
        {"key": "ratio", "text": "0.5", "children": None},
        {
            "key": "sources",
            "text": "",
            "children": [
                {
                    "key": "1",
                    "text": "",
                    "children": [{"key": "months", "text": "2023-05", "children": None}],
                }
            ],
        },
        {"key": "at", "text": "", "children": [{"key": "z", "text": "–", "children": None}]},
    ]


def _evidence_block(html: str) -> str:
    return re.search(r'<dl class="evidence">.*?</details>', html, re.S).group(0)


def test_the_report_shows_evidence_values_not_python_reprs(store):
    store.ingest(DEMO_CSV)
    evidence = {
        "next_starts_level": False,
        "previous_z": None,
        "level_months": ["2024-06", "2024-07"],
        "ratio": 0.562975,
        "sources": [{"note": EVIL, "used": True}],
    }
    save_scan(store, [{**DEMO_FINDINGS[0], "evidence": evidence}])
    block = _evidence_block(render_report(store))
    for python in ("None", "False", "True", "[", "'"):
        assert python not in block
    assert "<dt>next_starts_level</dt><dd>no</dd>" in block
    assert "<dt>previous_z</dt><dd>–</dd>" in block
    assert "<dd>2024-06, 2024-07</dd>" in block and "<dd>0.563</dd>" in block
    assert "<dt>used</dt><dd>yes</dd>" in block  # nested: a list of mappings
    assert EVIL not in block and "&lt;script&gt;" in block


def test_one_finding_is_not_one_findings(store):
    store.ingest(DEMO_CSV)
    scan_id = save_scan(store, DEMO_FINDINGS[:1])
    html = render_report(store)
    assert f"finding (scan {scan_id})" in html and "1 findings" not in html
    assert "1 finding, 1 high." in html  # the pair's section
    assert "release kept" in html  # one release


def test_plural_filters():
    env = environment()
    text = "{{ 1 | plural('pair') }}, {{ 2 | plural('pair') }}, {{ 1 | noun('figure') }}"
    assert env.from_string(text).render() == "1 pair, 2 pairs, figure"


def test_a_series_path_names_the_classification_where_the_path_alone_is_ambiguous():
    rec = {"reporter": "CHN", "partner": "PRK", "flow": "export", "commodity": "85/42"}
    rec_h5 = {**rec, "classification": "H5"}
    plain_path = "/series/CHN/PRK/export/85%2F42"
    key = ("CHN", "PRK", "export", "85/42")
    assert series_path(rec_h5, ambiguous={key}) == plain_path + "?classification=H5"
    assert series_path(rec_h5, ambiguous=set()) == plain_path  # the ordinary case: readable
    assert series_path(rec_h5) == plain_path + "?classification=H5"  # not known: named
    assert series_path(rec) == plain_path  # nothing to name
    # With a finding: one query, then the fragment the caller adds.
    assert series_path(rec_h5, "ab&1", ambiguous={key}) == (
        plain_path + "?classification=H5&finding=ab%261"
    )
    assert series_path(rec_h5, "ab1", ambiguous=set()) == plain_path + "?finding=ab1"
    # The templates' series_path reads the page's ``ambiguous`` keys.
    template = environment().from_string("{{ series_path(rec) }}|{{ series_path(rec, 'f1') }}")
    assert template.render(rec=rec_h5, ambiguous={key}) == (
        f"{plain_path}?classification=H5|{plain_path}?classification=H5&amp;finding=f1"
    )
    assert template.render(rec=rec_h5, ambiguous=set()) == f"{plain_path}|{plain_path}?finding=f1"


_KEY = ("USA", "CAN", "export", "TOTAL")


@pytest.mark.parametrize(
    ("freq", "ambiguous", "query"),
    [
        ("A", {}, "?freq=A"),  # an annual series always says so
        ("A", {_KEY: {"freq"}}, "?freq=A"),
        ("M", {}, ""),  # monthly is the ordinary case: the short address
        ("M", {_KEY: {"freq"}}, "?freq=M"),  # held both ways: named
        ("M", {_KEY: {"classification"}}, "?classification=HS"),
        ("M", {_KEY: {"classification", "freq"}}, "?classification=HS&freq=M"),
        ("M", None, "?classification=HS&freq=M"),  # not known: everything named
        ("M", {_KEY}, "?classification=HS"),  # a plain set of keys: their classification
    ],
)
def test_a_series_path_names_the_frequency_of_an_annual_series_or_where_both_are_held(
    freq, ambiguous, query
):
    rec = {"reporter": "USA", "partner": "CAN", "flow": "export", "commodity": "TOTAL"}
    rec |= {"classification": "HS", "breakdown": "", "freq": freq}
    assert series_path(rec, ambiguous=ambiguous) == "/series/USA/CAN/export/TOTAL" + query


def test_a_series_path_names_a_part_of_a_flow_never_the_total():
    rec = {"reporter": "CHN", "partner": "PRK", "flow": "export", "commodity": "TOTAL"}
    path = "/series/CHN/PRK/export/TOTAL"
    part = {**rec, "classification": "HS", "breakdown": "partner2=0;customs=C00;mot=3200"}
    encoded = "breakdown=partner2%3D0%3Bcustoms%3DC00%3Bmot%3D3200"
    assert series_path(part, ambiguous=set()) == f"{path}?{encoded}"
    assert series_path(part, "f1", ambiguous=set()) == f"{path}?{encoded}&finding=f1"
    assert series_path({**part, "breakdown": ""}, ambiguous=set()) == path


@pytest.mark.parametrize(
    ("rec", "text"),
    [
        ({"period": "2021-02", "period_end": "2021-02"}, "2021-02"),
        ({"period": "2021-02", "period_end": "2021-03", "freq": "M"}, "2021-02 → 2021-03"),
        ({"period": "2016-01", "period_end": "2016-01", "freq": "A"}, "2016"),
        ({"period": "2015-01", "period_end": "2017-01", "freq": "A"}, "2015 → 2017"),
    ],
)
def test_a_findings_period_is_its_months_or_its_years(rec, text):
    assert environment().filters["span"](rec) == text


@pytest.mark.parametrize(
    ("value", "freq", "text"),
    [
        ("2016-01-01", "M", "2016-01"),
        ("2016-01-01", "A", "2016"),
        (pd.Timestamp("2016-01-01"), "A", "2016"),
        (None, "A", ""),
    ],
)
def test_a_period_is_a_month_or_a_year(value, freq, text):
    assert environment().filters["month"](value, freq) == text


@pytest.mark.parametrize("rated", [True, False])
def test_the_summary_says_amounts_without_a_rate_are_ranked_as_they_are(store, tmp_path, rated):
    """¥2.25 trillion and $82.4 billion: with the yen's rate the ranking compares dollars;
    without it the report (and the dashboard, which shares the summary) says so."""
    from tests.report.seed import yen_and_dollar_scan

    yen_and_dollar_scan(store, tmp_path)
    if not rated:
        store.con.execute("DELETE FROM rates")
    html = render_report(store)
    said = "Amounts in JPY are ranked beside the others as they are" in html
    assert said is not rated
