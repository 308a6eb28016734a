"""Recall and precision of each detector on generated series with injected ground truth.

The series are realistic (log-normal levels from $1K to $1B, seasonality, drift, Student-t
noise of 5–30 %); each test injects one kind at sizes the detector is meant to find and
grades the findings with the benchmark's own scoring (±1 month, no point-adjust).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesentry.datasets import inject_plan, make_panel, random_plan, synthetic_values
from tradesentry.detectors import default_detectors
from tradesentry.scoring import kind_table, match

from ._helpers import as_cells, findings

MINE = ("implausible", "spike", "dip", "timing_shift", "level_shift", "gap", "incoherent")


def _run(values, plan):
    injected, truth = inject_plan(values, plan)
    panel = make_panel(injected)
    found = as_cells(panel, findings(panel, default_detectors(MINE)))
    return match(truth, found)


def _scores(values, injection, sizes, seed=0, untouched=0.3):
    plan = random_plan(
        values, seed=seed, injections=(injection,), sizes={injection: sizes}, untouched=untouched
    )
    truth, found = _run(values, plan)
    table = kind_table(truth, found).set_index("kind")
    return truth, found, table


def test_clean_series_raise_few_alarms(clean_values):
    panel = make_panel(clean_values)
    found = findings(panel, default_detectors(MINE))
    series_years = clean_values.size / 12
    assert 100 * len(found) / series_years <= 2.0  # per 100 series-years


@pytest.mark.parametrize("injection", ["spike", "dip"])
def test_spikes_and_dips_of_eight_scales(clean_values, injection):
    truth, found, table = _scores(clean_values, injection, (8.0,))
    row = table.loc[injection]
    assert row["recall"] >= 0.9
    assert truth["right_kind"].mean() >= 0.85
    assert row["precision"] >= 0.85


@pytest.mark.parametrize("injection", ["near_zero", "unit_slip"])
def test_implausible_values(clean_values, injection):
    sizes = (1e-3, 1e-4, 0.0) if injection == "near_zero" else (1e3, 1e-3)
    truth, found, table = _scores(clean_values, injection, sizes)
    assert truth["right_kind"].mean() >= 0.95
    assert table.loc["implausible", "precision"] >= 0.95


def test_timing_shifts_are_called_timing_shifts():
    values = synthetic_values(300, 48, seed=21, noise=(0.04, 0.12))
    truth, found, table = _scores(values, "timing_shift", (0.6, 0.8))
    assert table.loc["timing_shift", "recall"] >= 0.9
    assert truth["right_kind"].mean() >= 0.8
    assert table.loc["timing_shift", "precision"] >= 0.9
    # the separate dip and spike of a found timing shift are not reported again
    hit = truth[truth["right_kind"]]
    pairs = found.merge(hit[["series", "start", "end"]], on="series", suffixes=("", "_t"))
    inside = pairs[(pairs["start"] >= pairs["start_t"]) & (pairs["end"] <= pairs["end_t"])]
    assert not inside["kind"].isin(["dip", "spike"]).any()


def test_amount_moved_is_estimated():
    values = synthetic_values(60, 48, seed=4, noise=(0.03, 0.06))
    v = values.copy()
    moved = 0.7 * v[:, 20]
    v[:, 20] -= moved
    v[:, 21] += moved
    out = default_detectors(["timing_shift"])[0].detect(make_panel(v))
    got = out[out["start"] == 20].set_index("series")["impact"]
    assert len(got) >= 55
    rel = np.abs(got.to_numpy() / moved[got.index.to_numpy()] - 1)
    assert np.median(rel) < 0.1


def test_level_shifts_start_and_size(clean_values):
    truth, found, table = _scores(clean_values, "level_shift", (0.1, 0.25, 4.0, 5.0))
    assert truth["right_kind"].mean() >= 0.9
    assert table.loc["level_shift", "precision"] >= 0.85
    # the months of the new regime are not flagged one by one
    shifted = truth["series"].unique()
    per_series = found[found["series"].isin(shifted)].groupby("series").size()
    assert per_series.quantile(0.95) <= 2


def test_level_shift_reports_the_new_level():
    values = synthetic_values(50, 48, seed=9, noise=(0.05, 0.1))
    v = values.copy()
    v[:, 24:] *= 0.2
    panel = make_panel(v)
    out = default_detectors(["level_shift"])[0].detect(panel)
    at = out[out["start"].between(23, 25)]
    assert at["series"].nunique() >= 49
    # a drifting series sometimes passes for a second shift: 145 in 1,000 series over seeds
    # 9-28 (123 before the season was winsorised around itself, which narrowed the noise)
    assert len(out) - len(at) <= 8
    ratio = at["observed"] / at["expected"]
    assert ratio.between(0.12, 0.33).mean() >= 0.9


def test_gaps(clean_values):
    truth, found, table = _scores(clean_values, "gap", (1.0, 2.0))
    assert truth["right_kind"].mean() >= 0.95
    assert table.loc["gap", "precision"] >= 0.95


def test_a_combined_month_covers_its_months():
    values = synthetic_values(3, 36, seed=2)
    values[:, 12:14] = np.nan
    panel = make_panel(values)
    panel.combined[:, 12] = 1e6
    panel.combined_span[:, 12] = 2
    out = default_detectors(["gap"])[0].detect(panel)
    assert len(out) == 0


def test_scores_rank_all_kinds_on_one_scale(clean_values):
    plan = pd.DataFrame(
        {
            "series": [0, 1, 2, 3],
            "start": [20, 20, 20, 20],
            "injection": ["near_zero", "spike", "level_shift", "timing_shift"],
            "size": [1e-4, 30.0, 0.05, 0.9],
        }
    )
    values = synthetic_values(4, 48, seed=2, noise=(0.05, 0.06))
    truth, found = _run(values, plan)
    assert truth["right_kind"].all()
