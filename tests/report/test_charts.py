"""Where the charts put a finding: rings on the months a series reported, bands on gaps."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from tradesentry.api import SeriesView
from tradesentry.findings import Findings, empty_findings
from tradesentry.report.charts import series_figure

KEY = {"reporter": "DEU", "partner": "ROU", "flow": "import", "commodity": "32121000"}
TICKS = ("dtick", "tickvals", "ticktext")  # what the log/linear toggle sets on each axis
NO_VALUES = {"yaxis.tickvals": None, "yaxis.ticktext": None}


def _view(figures: dict[str, tuple[float, int]], findings: list[dict]) -> SeriesView:
    """A series from {"YYYY-MM": (value, months)} and findings in the contract's shape."""
    obs = pd.DataFrame(
        [
            {"period": pd.Timestamp(p + "-01"), "period_months": n, "value": v, "currency": "EUR"}
            for p, (v, n) in figures.items()
        ]
    )
    records = [
        {
            **KEY,
            "id": f"f{n}",
            "currency": "EUR",
            "score": 0.9,
            "severity": "high",
            "expected": None,
            "impact": 1.0,
            "explanation": "x",
            "evidence": {},
            **rec,
        }
        for n, rec in enumerate(findings)
    ]
    found = Findings(pd.DataFrame(records) if records else empty_findings())
    return SeriesView(KEY, obs, found, pd.DataFrame())


def _rings(spec: dict) -> list[tuple[str, float]]:
    rings = [t for t in spec["data"] if t["name"].startswith("Flagged")]
    return [(x[:7], y) for t in rings for x, y in zip(t["x"], t["y"], strict=True)]


# A mirror gap over Nov–Mar whose total is 45,803 while February was never reported: the
# QA case (DEU → ROU imports of 32121000 in Comext).
SPAN = {"kind": "mirror_gap", "period": "2023-11", "period_end": "2024-03", "observed": 45803.0}
SPAN_FIGURES = {
    "2023-11": (8840.0, 1),
    "2023-12": (28123.0, 1),
    "2024-01": (4294.0, 1),
    "2024-03": (8840.0, 1),
}
# China's January–February published as one figure: a finding on February sits on the
# dotted segment, at the per-month average.
COMBINED = {"kind": "dip", "period": "2021-02", "period_end": "2021-02", "observed": 3000.0}
COMBINED_FIGURES = {"2020-12": (10.0, 1), "2021-01": (40.0, 2), "2021-03": (30.0, 1)}


@pytest.mark.parametrize(
    ("figures", "finding", "rings"),
    [
        (
            SPAN_FIGURES,
            SPAN,
            [("2023-11", 8840.0), ("2023-12", 28123.0), ("2024-01", 4294.0), ("2024-03", 8840.0)],
        ),
        (COMBINED_FIGURES, COMBINED, [("2021-02", 20.0)]),
    ],
    ids=["span-with-a-missing-month", "combined-months"],
)
def test_rings_sit_on_reported_months_at_their_value(figures, finding, rings):
    spec = series_figure(_view(figures, [finding]))
    assert _rings(spec) == rings
    assert not spec["layout"].get("shapes")


def test_a_finding_on_months_without_figures_is_a_band_not_a_ring():
    gap = {"kind": "gap", "period": "2024-02", "period_end": "2024-02", "observed": None}
    spec = series_figure(_view(SPAN_FIGURES, [gap]))
    assert _rings(spec) == []
    (band,) = spec["layout"]["shapes"]
    assert band["x0"] < "2024-02-01" < band["x1"] < "2024-03-01"
    assert band["yref"] == "paper" and band["label"]["text"] == "gap"


def test_an_annual_series_is_drawn_by_year():
    """Its figures on a yearly axis (not as "combined months" at a twelfth of the year),
    its findings ringed at their year, and its dates hovered as years."""
    figures = {f"{y}-01": (1e8 if y != 2016 else 9e8, 12) for y in range(2010, 2021)}
    obs = _view(figures, []).observations.assign(freq="A")
    spike = {"kind": "spike", "period": "2016-01", "period_end": "2016-01", "freq": "A"}
    view = _view(figures, [{**spike, "observed": 9e8}])
    spec = series_figure(dataclasses.replace(view, observations=obs))
    (observed,) = [t for t in spec["data"] if t["name"] == "Observed"]
    assert observed["x"][:2] == ["2010-01-01", "2011-01-01"] and 9e8 in observed["y"]
    assert observed["hovertemplate"].startswith("%{x|%Y}")
    assert not [t for t in spec["data"] if t["name"].startswith("Combined")]
    assert _rings(spec) == [("2016-01", 9e8)]
    (ring,) = [t for t in spec["data"] if t["name"].startswith("Flagged")]
    assert "(high, 2016)" in ring["text"][0] and ring["hovertemplate"].startswith("%{x|%Y}")


def test_a_temporary_change_draws_the_level_it_returned_to():
    """Sweden's four months at €0.5M among months of €7.5M: the level before, the level of
    the four months, and the level it returned to, each over its own months."""
    months = pd.period_range("2023-05", "2025-08", freq="M").astype(str)
    figures = {m: (5.5e5 if "2024-05" <= m <= "2024-08" else 7.5e6, 1) for m in months}
    fall = {
        "kind": "level_shift",
        "period": "2024-05",
        "period_end": "2024-08",
        "observed": 5.5e5,
        "expected": 7.5e6,
        "evidence": {
            "old_level": 7.5e6,
            "new_level": 5.5e5,
            "before_from": "2023-05",
            "before_to": "2024-04",
            "regime_end": "2024-08",
            "return_period": "2024-09",
            "return_level": 7.4e6,
            "return_to": "2025-08",
        },
    }
    view = _view(figures, [fall])
    spec = series_figure(view, focus=view.findings.to_records()[0])
    levels = {t["name"]: (t["x"], t["y"]) for t in spec["data"] if t["name"].startswith("Level")}
    assert levels["Level after"] == (["2024-05-01", "2024-08-01"], [5.5e5, 5.5e5])
    assert levels["Level after the return"] == (["2024-09-01", "2025-08-01"], [7.4e6, 7.4e6])


def _shift(late: dict) -> dict:
    """The US exports to China's shift of October 2003 (``new_level`` $2.8B over its first
    year), with the figures of its segment's last months (``late``)."""
    return {
        "kind": "level_shift",
        "period": "2003-10",
        "period_end": "2003-10",
        "observed": 2.8e9,
        "expected": 1.9e9,
        "evidence": {
            "old_level": 1.9e9,
            "new_level": 2.8e9,
            "before_from": "2002-10",
            "before_to": "2003-09",
            "after_to": "2004-09",
            "regime_end": "2008-08",
            **late,
        },
    }


@pytest.mark.parametrize(
    ("late", "drawn"),
    [
        # the last months at ×2.1 of the new level: the text says it does not hold
        (
            {"late_level": 5.9e9, "late_months": 12, "late_from": "2007-09", "late_z": 9.0},
            {
                "Level after": (["2003-10-01", "2004-09-01"], [2.8e9, 2.8e9]),
                "Level of the last months": (["2007-09-01", "2008-08-01"], [5.9e9, 5.9e9]),
            },
        ),
        # the last months at the new level: it lasts, one line to the segment's end
        (
            {"late_level": 2.9e9, "late_months": 12, "late_from": "2007-09", "late_z": 0.5},
            {"Level after": (["2003-10-01", "2008-08-01"], [2.8e9, 2.8e9])},
        ),
    ],
    ids=["does-not-hold", "lasts"],
)
def test_the_new_level_is_drawn_as_far_as_the_text_says_it_holds(late, drawn):
    months = pd.period_range("2002-10", "2008-08", freq="M").astype(str)
    view = _view({m: (3e9, 1) for m in months}, [_shift(late)])
    spec = series_figure(view, focus=view.findings.to_records()[0])
    levels = {t["name"]: (t["x"], t["y"]) for t in spec["data"] if t["name"].startswith("Level")}
    assert levels.pop("Level before") == (["2002-10-01", "2003-09-01"], [1.9e9, 1.9e9])
    assert levels == drawn


def test_a_month_recorded_as_zero_stays_on_a_log_axis():
    """A log axis has no place for 0 and Plotly drops such points: Romania's €0 of imports
    of 32121000 from the Netherlands in June 2024, the month of a mirror-gap finding,
    vanished with its ring. It is drawn at the axis' foot, labelled 0, its hover €0."""
    figures = {"2024-04": (1200.0, 1), "2024-05": (5.0e5, 1), "2024-06": (0.0, 1)}
    figures |= {"2024-07": (9.0e4, 1)}
    gap = {"kind": "mirror_gap", "period": "2024-06", "period_end": "2024-06", "observed": 0.0}
    spec = series_figure(_view(figures, [gap]))
    assert spec["layout"]["yaxis"]["type"] == "log"
    foot = 1200.0 / 10
    (observed,) = [t for t in spec["data"] if t["name"] == "Observed"]
    assert observed["y"][2] == foot and observed["customdata"][2].split("<br>")[0] == "€0"
    assert _rings(spec) == [("2024-06", foot)]
    (label,) = [a for a in spec["layout"]["annotations"] if a.get("text") == "0"]
    assert label["y"] == pytest.approx(math.log10(foot)) and label["xref"] == "paper"


def test_a_zero_on_a_linear_axis_is_drawn_at_zero():
    figures = {"2024-04": (1200.0, 1), "2024-05": (1500.0, 1), "2024-06": (0.0, 1)}
    dip = {"kind": "dip", "period": "2024-06", "period_end": "2024-06", "observed": 0.0}
    spec = series_figure(_view(figures, [dip]))
    assert spec["layout"]["yaxis"]["type"] == "linear"
    assert _rings(spec) == [("2024-06", 0.0)]
    (observed,) = [t for t in spec["data"] if t["name"] == "Observed"]
    assert observed["y"] == [1200.0, 1500.0, 0.0]
    assert not [a for a in spec["layout"]["annotations"] if a.get("text") == "0"]


def test_a_series_of_zeros_alone_asked_on_a_log_axis_is_drawn_linear():
    """A pair page draws all its series on one scale: ROU→POL's one figure, €0, asked on
    the log axis its other series need, had no positive figure to place it by and made the
    page a 500."""
    spec = series_figure(_view({"2024-06": (0.0, 1)}, []), log=True)
    assert spec["layout"]["yaxis"]["type"] == "linear"
    (observed,) = [t for t in spec["data"] if t["name"] == "Observed"]
    assert observed["y"] == [0.0]


def test_the_money_axis_writes_amounts_as_the_text_does():
    """Billions as B and the currency's sign before them (€10B beside "€38.9B" in the
    text; Plotly's SI wrote 10G, with no sign)."""
    spec = series_figure(_view(SPAN_FIGURES, [SPAN]))
    axis = spec["layout"]["yaxis"]
    assert (axis["exponentformat"], axis["tickprefix"]) == ("B", "€")


def _expected(spec: dict) -> list[tuple[str, float | None]]:
    traces = [t for t in spec["data"] if t["name"].startswith("Expected")]
    return [(x[:7], y) for t in traces for x, y in zip(t["x"], t["y"], strict=True)]


@pytest.mark.parametrize(
    ("figures", "finding", "expected"),
    [
        # a combined January–February figure at 1.6 times its months' expected $2.0M: the
        # line draws $1.6M a month, so the expectation is $1.0M a month, not $2.0M
        (
            {"2019-12": (1.0e6, 1), "2020-01": (3.2e6, 2), "2020-03": (1.0e6, 1)},
            {
                "kind": "spike",
                "period": "2020-01",
                "period_end": "2020-02",
                "observed": 3.2e6,
                "expected": 2.0e6,
                "evidence": {"combined": True, "months": ["2020-01", "2020-02"]},
            },
            [("2020-01", 1.0e6), ("2020-02", 1.0e6)],
        ),
        # a gap's months, each priced alone, not the run's total at its first month
        (
            {"2023-12": (8.0e4, 1), "2024-04": (8.0e4, 1)},
            {
                "kind": "gap",
                "period": "2024-01",
                "period_end": "2024-03",
                "observed": None,
                "expected": 2.4e5,
                "evidence": {"expected_each": [7.9e4, 8.0e4, None]},
            },
            [("2024-01", 7.9e4), ("2024-02", 8.0e4), ("2024-03", None)],
        ),
    ],
    ids=["combined-figure", "gap-of-three-months"],
)
def test_an_expectation_over_several_months_is_drawn_a_month_at_a_time(figures, finding, expected):
    view = _view(figures, [finding])
    (rec,) = view.findings.to_records()
    spec = series_figure(view, focus=rec)
    assert _expected(spec) == expected


@pytest.mark.parametrize(
    ("figures", "axis"),
    [
        ({"2021-06": (12345.0, 1)}, ("2021-05-01", "2021-07-01", "M1", "%b %Y")),
        ({"2021-01": (40.0, 2)}, ("2020-12-01", "2021-03-01", "M1", "%b %Y")),
        ({"2021-01": (1.0, 1), "2021-09": (2.0, 1)}, None),
    ],
    ids=["one-month", "one-combined-figure", "months-apart"],
)
def test_a_chart_of_a_month_or_two_has_ticks_of_months(figures, axis):
    """A series of one figure got ticks of milliseconds ("23:59:59.999 May 31, 2021"), one
    combined figure ticks of days."""
    xaxis = series_figure(_view(figures, []))["layout"]["xaxis"]
    if axis is None:
        assert "dtick" not in xaxis and "range" not in xaxis
    else:
        assert (*xaxis["range"], xaxis["dtick"], xaxis["tickformat"]) == axis


def test_a_partners_record_in_another_currency_has_an_axis_of_its_own_money():
    """Ticks of "1.0, 1.0, 0.9" with no sign, clipped by the margin, and a log toggle that
    left the partner's axis linear."""
    view = _view({"2021-01": (1.0e6, 1), "2021-02": (1.1e6, 1), "2021-03": (0.9e6, 1)}, [])
    mirror = _view({"2021-01": (1.0e6, 1), "2021-02": (1.04e6, 1), "2021-03": (0.96e6, 1)}, [])
    mirror.observations["currency"] = "USD"
    mirror = dataclasses.replace(mirror, key={**KEY, "reporter": "ROU", "partner": "DEU"})
    layout = series_figure(view, mirror=mirror)["layout"]
    assert layout["yaxis2"]["tickprefix"] == "$" and layout["yaxis2"]["exponentformat"] == "B"
    assert layout["margin"]["r"] >= 60
    toggles = [b["args"][0] for b in layout["updatemenus"][0]["buttons"]]
    # less than a decade: plotly's own ticks
    steps = {f"{axis}.{key}": None for axis in ("yaxis", "yaxis2") for key in TICKS}
    assert toggles == [
        {"yaxis.type": "log", "yaxis2.type": "log", **steps},
        {"yaxis.type": "linear", "yaxis2.type": "linear", **steps},
    ]
    assert layout["yaxis2"]["type"] == layout["yaxis"]["type"]


def test_the_partners_log_axis_writes_its_own_money():
    """Ticks given by value are written here (plotly.js drops the tickprefix from them): the
    partner's axis in its own sign, opened and once toggled."""
    view = _view({"2021-01": (2.0e5, 1), "2021-02": (1.0e6, 1), "2021-03": (6.0e6, 1)}, [])
    mirror = _view({"2021-01": (3.0e5, 1), "2021-02": (9.0e5, 1), "2021-03": (5.0e6, 1)}, [])
    mirror.observations["currency"] = "USD"
    mirror = dataclasses.replace(mirror, key={**KEY, "reporter": "ROU", "partner": "DEU"})
    layout = series_figure(view, mirror=mirror, log=True)["layout"]
    on_log = layout["updatemenus"][0]["buttons"][0]["args"][0]
    for axis, sign in (("yaxis", "€"), ("yaxis2", "$")):
        texts = layout[axis]["ticktext"]
        assert f"{sign}1M" in texts
        assert all(t.startswith(sign) for t in texts) and on_log[f"{axis}.ticktext"] == texts


@pytest.mark.parametrize(
    ("low", "log", "dtick"), [(3.0e3, True, 1), (6.7e5, False, None)], ids=["decades", "narrow"]
)
def test_a_money_axis_labels_amounts_and_starts_at_zero(low, log, dtick):
    """A log axis labelled "€10M" and then the bare digits "2 3 4 5 7" between, which read
    as amounts: over decades only its powers of ten are labelled, by default and once
    toggled. A linear axis from €0.67M to €1.05M drew ordinary months as swings: it starts
    at zero."""
    figures = {"2021-01": (low, 1), "2021-02": (1.0e6, 1), "2021-03": (1.05e6, 1)}
    layout = series_figure(_view(figures, []))["layout"]
    assert (layout["yaxis"]["type"] == "log") is log
    assert layout["yaxis"].get("dtick") == dtick
    assert layout["yaxis"]["rangemode"] == "tozero"
    on_log = layout["updatemenus"][0]["buttons"][0]["args"][0]
    assert on_log == {"yaxis.type": "log", "yaxis.dtick": dtick} | NO_VALUES


def test_the_levels_of_a_shift_are_told_apart_in_the_legend():
    """ "Level before" and "Level after" were drawn in one colour and one dash."""
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    figures = {m: (1e6 if i < 6 else 3e6, 1) for i, m in enumerate(months)}
    shift = {
        "kind": "level_shift",
        "period": "2023-07",
        "period_end": "2023-12",
        "observed": 3e6,
        "expected": 1e6,
        "evidence": {"old_level": 1e6, "new_level": 3e6},
    }
    view = _view(figures, [shift])
    spec = series_figure(view, focus=view.findings.to_records()[0])
    dashes = {t["name"]: t["line"]["dash"] for t in spec["data"] if t["name"].startswith("Level")}
    assert set(dashes) == {"Level before", "Level after"}
    assert dashes["Level before"] != dashes["Level after"]


def test_a_timing_shift_across_a_combined_figure_is_drawn_month_by_month():
    """January–February's expected sum was drawn at January, twice the line, and March's
    expectation lent to February; the arrow ran level from March at March's own figure."""
    figures = {"2017-01": (26.5e9, 2), "2017-03": (7.0e9, 1), "2017-04": (10.6e9, 1)}
    shift = {
        "kind": "timing_shift",
        "period": "2017-01",
        "period_end": "2017-03",
        "observed": 26.5e9,
        "expected": 19.9e9,
        "evidence": {
            "moved": -4.9e9,
            "direction": "earlier",
            "observed": [26.5e9, 7.0e9],
            "expected": [19.9e9, 10.9e9],
            "combined": {"months": ["2017-01", "2017-02"], "first": True},
        },
    }
    view = _view(figures, [shift])
    spec = series_figure(view, focus=view.findings.to_records()[0])
    (expected,) = [t for t in spec["data"] if t["name"] == "Expected"]
    assert [x[:7] for x in expected["x"]] == ["2017-01", "2017-02", "2017-03"]
    assert expected["y"] == [9.95e9, 9.95e9, 10.9e9]
    (arrow,) = [a for a in spec["layout"]["annotations"] if "moved" in a.get("text", "")]
    assert (arrow["ax"][:7], arrow["x"][:7]) == ("2017-03", "2017-02")  # March into February
    assert arrow["y"] == pytest.approx(13.25e9)  # the pair at its monthly average


def test_a_ringed_months_observed_point_carries_its_findings_in_its_hover():
    """At a ringed point's centre plotly.js shows the observed trace's hover: "Observed Feb
    2021: $3.0K" alone, the finding's words only from the ring's rim (QA in Chromium)."""
    figures = {"2024-01": (100.0, 1), "2024-02": (3.0, 1), "2024-03": (120.0, 1)}
    finding = {"kind": "implausible", "period": "2024-02", "period_end": "2024-02",
               "observed": 3.0, "explanation": "February recorded €3"}  # fmt: skip
    spec = series_figure(_view(figures, [finding]))
    (observed,) = [t for t in spec["data"] if t["name"] == "Observed"]
    hover = dict(zip(observed["x"], observed["customdata"], strict=True))
    assert hover["2024-02-01"] == "€3<br>implausible (high): February recorded €3", hover
    assert hover["2024-01-01"] == "€100"  # a month no finding covers
