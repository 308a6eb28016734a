"""Timing shifts: what may be read as value recorded in the wrong month, and what may not."""

from __future__ import annotations

import numpy as np
import pytest

from tradesentry.detectors import default_detectors
from tradesentry.detectors.baseline import baseline
from tradesentry.detectors.timing_shift import pair_statistics

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
