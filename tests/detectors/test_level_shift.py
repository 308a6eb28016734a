"""Level shifts: the levels a reader can check, the money at stake, the direction."""

from __future__ import annotations

import numpy as np

from tradesentry.detectors import default_detectors
from tradesentry.detectors.level_shift import LEVEL_MONTHS, LevelShift

from ._helpers import findings, keyed_panel


def _growing_then_falling(growth: float = 1.01, drop: float = 0.75) -> np.ndarray:
    """20 series growing 1 % a month for four years, cut to three quarters from month 30."""
    rng = np.random.default_rng(3)
    v = 1e6 * growth ** np.arange(48) * np.exp(rng.normal(0.0, 0.03, (20, 48)))
    v[:, 30:] *= drop
    return v


def test_levels_are_the_medians_of_the_year_on_each_side():
    v = _growing_then_falling()
    found = findings(keyed_panel(v), default_detectors(["level_shift"]))
    at = found[found["period"] == "2025-07"]
    assert len(at) >= 18
    for f in at.to_dict("records"):
        row = v[int(f["partner"][1:])]
        assert np.isclose(f["observed"], np.median(row[30 : 30 + LEVEL_MONTHS]))
        assert np.isclose(f["expected"], np.median(row[30 - LEVEL_MONTHS : 30]))
        # the money at stake: the change over the reported months of the new side
        assert np.isclose(abs(f["impact"]), abs(f["observed"] - f["expected"]) * LEVEL_MONTHS)
        ev = f["evidence"]
        assert ev["direction"] == "down" and ev["ratio"] < 1
        assert (ev["before_from"], ev["before_to"]) == ("2024-07", "2025-06")
        assert "12 reported months from July 2025 to June 2026" in f["explanation"]
        assert "closure" in f["explanation"]


def test_a_fall_against_a_rising_trend_is_called_a_fall():
    """Where the trend lifts the year after above the year before, the medians rise while
    the test (which takes the trend out) sees a fall: the text follows the test."""
    finding = {
        "period": "2008-11",
        "observed": 8.1e9,
        "expected": 7.5e9,
        "currency": "USD",
        "evidence": {
            "ratio": 1.08,
            "direction": "down",
            "months_after": 12,
            "months_before": 12,
            "after_to": "2009-10",
            "before_from": "2007-11",
            "before_to": "2008-10",
            "regime_end": "2009-10",
        },
    }
    text = LevelShift().explain(finding)
    assert "fall against the trend" in text
    assert "reopening" not in text and "closure" in text
