"""Zeros: a lone zero in a series that always trades is flagged; an intermittent series' zeros are not."""

from __future__ import annotations

import numpy as np
import pytest

from tests.detectors._helpers import as_cells, findings, keyed_panel
from tradesentry.detectors import default_detectors
from tradesentry.detectors.baseline import ordinary_zeros

MONTHS = 36
ZERO_AT = 20


def _series(rng: np.random.Generator, without_trade: list[int], missing: bool) -> np.ndarray:
    """A steady flow of about 50K a month, a zero at ZERO_AT, and other months without trade."""
    v = 50_000 * np.exp(rng.normal(0, 0.15, MONTHS))
    v[ZERO_AT] = 0.0
    v[without_trade] = np.nan if missing else 0.0
    return v


@pytest.mark.parametrize(
    ("without_trade", "missing", "kinds"),
    [
        ([], False, {"implausible"}),  # trades in every other month
        ([8], False, {"dip"}),  # one other zero in 35 months (P = 1.5/36 = 4.2 %): still rare
        ([8, 25], True, set()),  # two months without a record (P = 2.5/36 = 6.9 %): its habit
        ([8, 25], False, set()),  # two other zeros
        ([3, 9, 27, 31], True, set()),  # skips months now and then
    ],
)
def test_a_zero_is_flagged_only_where_months_without_trade_are_rare(without_trade, missing, kinds):
    rng = np.random.default_rng(5)
    panel = keyed_panel(_series(rng, without_trade, missing))
    cells = as_cells(panel, findings(panel, default_detectors()))
    at_zero = cells[(cells["start"] <= ZERO_AT) & (cells["end"] >= ZERO_AT)]
    assert set(at_zero["kind"]) & {"implausible", "dip", "spike", "timing_shift"} == kinds


def test_ordinary_zeros_follow_the_rate_of_months_without_trade():
    v = np.full((3, 48), 1000.0)
    v[:, 30] = 0.0
    v[1, 5] = 0.0  # one other zero in 47 months: 1.5/48 = 3.1 %, still rare
    v[2, [5, 12]] = np.nan  # two months without a record: 2.5/48 = 5.2 %, its habit
    ordinary = ordinary_zeros(keyed_panel(v))
    assert ordinary[:, 30].tolist() == [False, False, True]
    assert not ordinary[0].any()


@pytest.mark.parametrize(
    ("months", "kinds"),
    [
        (6, [["dip"], ["implausible"]]),
        (8, [["implausible"], ["implausible"]]),
        (11, [["implausible"], ["implausible"]]),
        (12, [["implausible"], ["implausible"]]),
    ],
)
def test_a_lone_zero_in_a_short_steady_series_is_flagged_as_a_small_figure_is(months, kinds):
    """No other month without trade: the zero has no precedent however short the series,
    so it is flagged as $1K in its place is (it was passed as a habit below 12 months):
    implausible where six other months make a usual level (``thin_level_points``), a dip
    below that, where $1K is still read as a ×1/1,000 slip."""
    steady = 1e6 * (1 + 0.03 * (np.arange(months) % 3))
    found = []
    for low in (0.0, 1000.0):
        v = steady.copy()
        v[months // 2] = low
        panel = keyed_panel(v)
        assert not ordinary_zeros(panel).any()
        cells = as_cells(panel, findings(panel, default_detectors()))
        found.append(cells.loc[cells["start"] == months // 2, "kind"].tolist())
    assert found == kinds


def test_a_stop_of_trade_is_a_level_shift_and_intermittent_zeros_are_not():
    rng = np.random.default_rng(8)
    stopped = 80_000 * np.exp(rng.normal(0, 0.1, MONTHS))
    stopped[24:] = 0.0  # trade stops for the last year: the zeros stay in the model
    intermittent = 3_000 * np.exp(rng.normal(0, 0.5, MONTHS))
    intermittent[rng.random(MONTHS) < 0.2] = 0.0  # trades in most months, not all
    panel = keyed_panel(np.vstack([stopped, intermittent]))
    cells = as_cells(panel, findings(panel, default_detectors()))
    assert set(cells.loc[cells["series"] == 0, "start"]) == {24}
    assert cells.loc[cells["series"] == 0, "kind"].tolist() == ["level_shift"]
    assert cells[cells["series"] == 1].empty
    assert ordinary_zeros(panel)[1].sum() == (intermittent == 0).sum()


def test_a_missing_month_is_a_gap_in_a_steady_series_not_in_one_that_skips_months():
    rng = np.random.default_rng(2)
    steady = 40_000 * np.exp(rng.normal(0, 0.1, 48))
    steady[30] = np.nan  # the only month without a figure
    skipping = 40_000 * np.exp(rng.normal(0, 0.1, 48))
    skipping[[4, 11, 19, 26, 38, 44]] = 0.0  # no trade one month in eight: reported as zero
    skipping[30] = np.nan  # once without a figure: the same habit (P = 14 %), not a gap
    panel = keyed_panel(np.vstack([steady, skipping]))
    cells = as_cells(panel, findings(panel, default_detectors()))
    gaps = cells[cells["kind"] == "gap"]
    assert gaps[["series", "start", "end"]].values.tolist() == [[0, 30, 30]]
