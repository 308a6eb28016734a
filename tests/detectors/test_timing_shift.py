"""Timing shifts: what may be read as value recorded in the wrong month, and what may not."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.detectors import default_detectors
from tradesentry.detectors.baseline import baseline, expectation_source
from tradesentry.detectors.timing_shift import TimingShift, pair_statistics

from ._helpers import findings, keyed_panel


def _pair(first: float, second: float, noise: float, n: int = 40) -> np.ndarray:
    """Flat series (log noise σ = ``noise``) whose months 20 and 21 become ``first`` × and
    ``second`` × the series' level (1e5)."""
    rng = np.random.default_rng(5)
    v = 1e5 * np.exp(rng.normal(0.0, noise, (n, 36)))
    v[:, 20], v[:, 21] = first * 1e5, second * 1e5
    return v


@pytest.mark.parametrize("first, second", [(0.1, 1.9), (0.05, 1.8)])
def test_a_moved_month_is_one_timing_shift(first, second):
    found = findings(keyed_panel(_pair(first, second, noise=0.15)), default_detectors())
    at = found[found["period"].isin(["2024-09", "2024-10"])]
    assert (at["kind"] == "timing_shift").mean() >= 0.8
    moved = at.loc[at["kind"] == "timing_shift", "evidence"].map(lambda e: e["share_moved"])
    assert moved.between(0.0, 1.0).all()


def test_no_month_lends_more_than_it_held():
    """Month 20 at a tenth, month 21 at four times its level: 'moving' 300 % of month 20
    is no timing shift, whatever the noise lets the two-month sum pass for."""
    panel = keyed_panel(_pair(0.1, 4.0, noise=0.6))
    stats = pair_statistics(panel.values, baseline(panel))
    assert (stats["share"][:, 20] > 1.0).all()
    detector = default_detectors(["timing_shift"])[0]
    out = detector.detect(panel)
    assert not out["start"].isin([20]).any()
    lax = type(detector)(max_share=np.inf).detect(panel)
    assert lax["start"].isin([20]).any()  # the rule, not another one, is what declines them


def _sources(months: list[str], factor: float = 1.0, years: tuple[str, ...] = ()) -> dict:
    return {
        "level_months": months,
        "level_window": 12,
        "season_years": list(years),
        "seasonal_factor": factor,
    }


_JUNE = _sources(["2017-10", "2018-07", "2018-08"])
_JULY = _sources(["2017-10", "2018-06", "2018-08"])


@pytest.mark.parametrize(
    ("sources", "says"),
    [
        (  # Guinea → United Kingdom, 2606: each month's three months hold the other month
            [_JUNE, _JULY],
            [
                "Each month's expected value is from the 3 reported months from October 2017 "
                "to August 2018. Each leaves out its own figure and includes the other month's "
                "figure."
            ],
        ),
        (
            [_JUNE, _sources(["2017-10", "2018-06", "2018-08"], 0.5, ("2016", "2017"))],
            [
                "June 2018's expected value is from the 3 reported months from October 2017 "
                "to August 2018; July 2018's is from the 3 reported months from October 2017 "
                "to August 2018, adjusted for the same month in 2016 and 2017 (×0.50). Each "
                "includes the other month's figure."
            ],
        ),
        (  # the other month in another level segment: neither counts it
            [_sources(["2018-01", "2018-05"]), _sources(["2018-08", "2018-09", "2018-10"])],
            [
                "June 2018's expected value is from the 2 reported months from January 2018 "
                "to May 2018; July 2018's is from the 3 reported months from August 2018 to "
                "October 2018. The alternative"
            ],
        ),
        (
            [_sources(["2018-05", "2018-07"]), _sources(["2018-08", "2018-09", "2018-10"])],
            ["2018. June 2018's includes July 2018's figure. The alternative"],
        ),
    ],
)
def test_each_month_says_where_its_expected_value_comes_from(sources, says):
    """Each month of the pair has its own expectation: one phrase when both read the same,
    one each otherwise, and whether each counts the other month of the pair."""
    finding = {
        "period": "2018-06",
        "period_end": "2018-07",
        "currency": "GNF",
        "evidence": {
            "moved": 2.8e6,
            "direction": "later",
            "share_moved": 0.94,
            "observed": [9003.0, 2959479.0],
            "expected": [2950220.0, 204563.78],
            "sum_observed": 2968482.0,
            "sum_expected": 3154783.78,
            "sources": sources,
        },
    }
    text = TimingShift().explain(finding)
    for said in says:
        assert said in text, text
    assert "Expected values from" not in text


def test_a_found_timing_shift_names_both_months_sources():
    found = findings(keyed_panel(_pair(0.1, 1.9, noise=0.15)), default_detectors())
    shifts = found[found["kind"] == "timing_shift"].to_dict("records")
    assert shifts
    for f in shifts:
        first, second = f["evidence"]["sources"]
        for source in (first, second):
            assert expectation_source(source) in f["explanation"]
        assert f["period_end"] in first["level_months"] and f["period"] in second["level_months"]
        assert "includes the other month's figure" in f["explanation"]
