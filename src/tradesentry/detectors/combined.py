"""Figures that cover several months (China's January–February), read as the sum of them.

A combined figure has no month of its own: the panel keeps it at its first month
(``Panel.combined``) and leaves its months without a figure. The detectors that judge a
month against its expectation judge a combined figure against the sum of the expectations
of the months it covers (``combined_readings``), so that a January–February at twenty
times its expected sum is a spike as a January at twenty times its own would be. Where the
single months are published too, they are judged themselves, and the combined figure only
through them and against them (``incoherent``). Where a year publishes apart the months
the series' other years give as one figure, and no year gives them a season of their own,
each is no more unusual than their sum read as a combined figure is (the model's
``baseline._split_unknown``): their split is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradesentry.detectors.base import confidence, detections, material_score, no_detections
from tradesentry.detectors.baseline import Baseline, baseline, seasonal_at
from tradesentry.detectors.evidence import (
    evidence_figure,
    expectation_source,
    first_held,
    last_held,
    next_high_text,
    next_was_high,
    silence_evidence,
    sources,
)
from tradesentry.panel import Panel, covered_months
from tradesentry.text import factor, money, period_name, the_expected


@dataclass(frozen=True, eq=False)
class Combined:
    """Each combined figure of a panel against the sum of its months' expectations."""

    rows: np.ndarray  # panel row
    cols: np.ndarray  # the first month it covers
    span: np.ndarray  # how many months it covers
    value: np.ndarray
    expected: np.ndarray  # the months' expected sum, adjusted by ``usual``
    usual: np.ndarray  # log ratio the series' other combined figures of these months run at
    z: np.ndarray  # log residual against ``expected`` in the series' side scale
    sigma: np.ndarray  # that side scale
    published: np.ndarray  # a month it covers has a single figure of its own too


def combined_readings(panel: Panel) -> Combined:
    """Every combined figure of ``panel`` read against its months' expected sum.

    On the log scale with the series' offset once per month covered; adjusted for the
    series' other combined figures of the same months (their leave-one-out median ratio to
    their own expected sums, with the zero year, as the seasonal term is, across level
    shifts: China's January–February is low every year, and the model's January and
    February carry no season where the series never publishes them apart); measured in
    the series' side scale of single months, which for a sum of months errs on the wide
    side. Memoised in ``panel.cache``: implausible values, spikes, dips and level shifts
    ask."""
    if "combined_readings" not in panel.cache:
        panel.cache["combined_readings"] = _readings(panel, baseline(panel))
    return panel.cache["combined_readings"]


def _readings(panel: Panel, model: Baseline) -> Combined:
    rows, cols = np.nonzero(panel.combined_span > 0)
    span = panel.combined_span[rows, cols].astype(np.int64)
    value = panel.combined[rows, cols]
    expected = combined_expectation(model, rows, cols, span)
    c = model.offset[rows] * span
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(np.where(value >= 0, value, np.nan) + c) - np.log(expected + c)
    # across level shifts too: each ratio is to its own year's expectations, which know the
    # shift (and a segment's months, counted in the ratios, would be its pairs alone)
    usual = np.nan_to_num(seasonal_at(r, rows, cols, panel.n_months, panel.season, model.config))
    expected = np.exp(np.log(expected + c) + usual) - c
    resid = r - usual
    sigma = np.where(resid >= 0, model.sigma_high[rows], model.sigma_low[rows])
    return Combined(
        rows, cols, span, value, expected, usual, resid / sigma, sigma,
        _months_published(panel, rows, cols, span),
    )  # fmt: skip


def combined_expectation(
    model: Baseline, rows: np.ndarray, cols: np.ndarray, span: np.ndarray
) -> np.ndarray:
    """The model's expected values of the months each combined figure covers, summed in
    order (NaN where a month has no expectation)."""
    each = covered_months(model.expected, rows, cols, span, 0.0)
    return np.where(np.isfinite(each).all(axis=1), each.sum(axis=1), np.nan)


def _months_published(panel: Panel, rows, cols, span) -> np.ndarray:
    """Whether any month a figure covers has a figure of its own (China published January
    2020's imports beside their January–February): the figure is then its months'
    business, judged through them and against them (``incoherent``), not judged again."""
    reported = np.isfinite(panel.values).astype(float)
    return covered_months(reported, rows, cols, span, 0.0).any(axis=1)


def spread_months(panel: Panel, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` with each combined figure spread over its months that have no figure of
    their own, and where it was: for the levels a reader checks (``level_shift``'s medians
    and sums). What the figure holds beyond its published months (none, for most pairs)
    is shared evenly among the others: January 2020's imports published at $10.3M beside
    a January–February of $10.7M leave February $0.4M, not both months at $5.35M (which
    overwrote January's own figure). A figure below its published months says nothing of
    the others (``incoherent`` flags it)."""
    found = combined_readings(panel)
    if not len(found.rows):
        return values, np.zeros(values.shape, dtype=bool)
    rows, cols, span = found.rows, found.cols, found.span
    own = covered_months(np.nan_to_num(values), rows, cols, span, 0.0).sum(axis=1)
    open_months = covered_months(np.isnan(values).astype(float), rows, cols, span, 0.0).sum(axis=1)
    rest = found.value - own
    keep = (found.value >= 0) & (open_months > 0) & (rest >= 0)
    spread = values.copy()
    filled = np.zeros(values.shape, dtype=bool)
    for j in range(int(span.max())):  # the months of a figure: two, for China's
        at = np.flatnonzero(keep & (j < span) & (cols + j < panel.n_months))
        at = at[np.isnan(values[rows[at], cols[at] + j])]
        spread[rows[at], cols[at] + j] = rest[at] / open_months[at]
        filled[rows[at], cols[at] + j] = True
    return spread, filled


def combined_deviations(panel: Panel, kind: str, direction: int, threshold: float) -> pd.DataFrame:
    """Combined figures beyond ``threshold`` scales above (+1) or below (-1) their months'
    expected sum, as ``evidence.deviations`` judges single months: in measured series,
    on an expectation from enough months, below not as a series' first figure. Two of the
    single months' exclusions are not read for a pair: the samples before a flow starts
    and, for a dip, a line's habit of months at next to nothing (both are read month by
    month, and a pair's months have no figure of their own). A figure beside a month of
    its own published singly is left to its months (``published``)."""
    found = combined_readings(panel)
    if not len(found.rows):
        return no_detections()
    model = baseline(panel)
    rows, cols = found.rows, found.cols
    judged = model.measured()[rows] & ~found.published & (found.value >= 0)
    judged &= model.level_points[rows, cols] >= model.config.min_level_points
    if direction < 0:
        judged &= cols > first_held(panel)[rows]
    with np.errstate(invalid="ignore"):
        keep = np.flatnonzero(judged & (found.z * direction >= threshold))
    if not keep.size:
        return no_detections()
    rows, cols, span = rows[keep], cols[keep], found.span[keep]
    value, expected, z = found.value[keep], found.expected[keep], found.z[keep]
    impact = value - expected
    after = cols + span  # the month after the figure, evidence only within the series
    after = np.where(after <= last_held(panel)[rows], after, -1)
    return detections(
        kind,
        rows,
        cols,
        cols + span - 1,
        observed=value,
        expected=expected,
        impact=impact,
        score=material_score(panel, rows, cols, confidence(np.abs(z), threshold), impact),
        evidence=[
            {
                **{k: v for k, v in src.items() if k in SOURCE_KEYS},
                "combined": True,
                "months": [panel.label(int(cols[k] + j)) for j in range(int(span[k]))],
                "z": float(z[k]),
                "sigma": float(found.sigma[keep][k]),
                "ratio": float(value[k] / expected[k]) if expected[k] > 0 else None,
                "usual_factor": round(float(np.exp(found.usual[keep][k])), 4),
                **_month_after(panel, model, int(rows[k]), int(after[k])),
                **silence,
            }
            for k, (src, silence) in enumerate(
                zip(
                    sources(panel, model, rows, cols),
                    silence_evidence(panel, rows, cols),
                    strict=True,
                )
            )
        ],
    )


def with_combined(months: pd.DataFrame, combined: pd.DataFrame) -> pd.DataFrame:
    """A detector's single-month findings and its combined figures' together."""
    if not len(combined):
        return months
    return combined if not len(months) else pd.concat([months, combined], ignore_index=True)


def _month_after(panel: Panel, model: Baseline, i: int, t: int) -> dict:
    """The month after a figure (``next_*``, as a single month's evidence has them), for
    the reading of a low pair whose trade went into March; none past the series' end."""
    if t < 0:
        return {}
    return {
        "next_period": panel.label(t),
        "next_observed": evidence_figure(panel.values[i, t]),
        "next_expected": evidence_figure(model.expected[i, t]),
        "next_z": evidence_figure(model.z[i, t]),
    }


#: what ``sources`` says of the first month's expectation that holds for the figure: the
#: months the level was taken from, not the single month's season or its own readings
SOURCE_KEYS = (
    "level_months",
    "level_zeros_left_out",
    "level_left_out_above",
    "level_left_out_below",
    "level_adjusted",
    "level_window",
    "regime_start",
)


def combined_name(finding: Mapping, ev: Mapping) -> str:
    """'January–February 2021' (or 'December 2020–January 2021' across a year end)."""
    months = ev.get("months") or [finding["period"], finding["period_end"]]
    first, last = period_name(months[0]), period_name(months[-1])
    if first.split()[-1] == last.split()[-1]:
        return f"{first.split()[0]}–{last}"
    return f"{first}–{last}"


def expected_sum(finding: Mapping, ev: Mapping) -> str:
    """'the $15.3M expected for its 2 months (the sum of their expected values, adjusted as
    the series' other combined figures for these months run (×0.8))'."""
    cur = finding.get("currency") or ""
    usual = ev.get("usual_factor") or 1.0
    adjusted = (
        f", adjusted as the series' other combined figures for these months run ({factor(usual)})"
        if abs(np.log(usual)) >= 0.05
        else ""
    )
    months = len(ev.get("months") or [finding["period"], finding["period_end"]])
    return (
        f"{the_expected(finding['expected'], cur)} for its {months} months (the sum of "
        f"their expected values{adjusted})"
    )


def explain_deviation(finding: Mapping, how: str, side: str) -> str:
    """A combined figure's spike or dip in words: ``how`` far off it is ('20 times', '95%
    below'), on which ``side`` of its expected sum ("above", "below"); below, with a high
    month after it, that the pair's trade may have been recorded then (a timing shift)."""
    ev = finding.get("evidence") or {}
    cur = finding.get("currency") or ""
    text = (
        f"The combined figure for {combined_name(finding, ev)} is "
        f"{money(finding['observed'], cur)}, {how} {expected_sum(finding, ev)} from "
        f"{expectation_source(ev)}; {abs(ev.get('z') or 0):.1f} times the series' usual "
        f"variation {side} its expected values."
    )
    if side == "below" and next_was_high(ev):
        return text + next_high_text(finding, "M", "these months'")
    return text + (
        " The single months, where published, or a later revision would show which of them "
        "holds the difference."
    )
