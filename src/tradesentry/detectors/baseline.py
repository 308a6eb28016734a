"""The shared robust seasonal model: what each month of each series should have held.

Every value-based detector (implausible, spike, dip, timing shift, level shift, gap) reads
one model of the panel, computed once and kept in ``panel.cache``:

- **Log scale with an offset.** ``y = log(v + c)`` with ``c`` = 1/100 of the series' low end
  (the 10th percentile of its positive values). Trade values are multiplicative (a month
  twice the usual is as unusual at $2K as at $2B), so deviations are measured as ratios; the
  offset keeps reported zeros finite, about 4.6 log units (×100) below the smallest values
  the series regularly reports: far enough to stand out, near enough not to dominate. It is
  tied to the low end rather than the median so that a series that spends months at 1/1000
  of its usual level (a border closure) is still measured on a log scale there. Because ``c``
  scales with the series, the model does not change when a series is multiplied by a
  constant (scale invariance).
- **Months without trade.** A reported zero is left out of the model, as a missing month
  is, where the series' other months without trade make one likely (``ordinary_zeros``):
  intermittent flows trade in some months and not in others, and their zeros are neither
  dips nor shifts. A zero in a series that otherwise trades every month stays in.
- **Local level.** The median of the reported months within ±6 months, leaving the month
  itself out (so an anomaly cannot hide in its own expectation), NaN-aware, and restricted
  to the month's level-shift segment so that months after a border closure are compared
  with the closure, not with the years before. Where fewer than 3 months report within ±6,
  the window widens to ±12.
- **Seasonal term.** For each month, the median over the other years' same calendar month
  (up to 5 years either side) of the detrended values (winsorised at 2.5 scales around
  the season the other years give unwinsorised, where two or more report the month, else
  around the season of the first pass, so one odd year is bounded and a December at ×5
  every year in a quiet series is learnt whole; with a zero pseudo-year that shrinks
  towards "no seasonality" when the years disagree, except where an odd number of them
  have a median beyond the 2.5 scales, which is then what most of them did; a month more
  than ×316 from its level, nearer a unit error than a season, lends neither), where at
  least 2 other years report
  that month; where only one does, half its deviation (the median of it and the zero
  year: halfway between "as last year" and "no season"), and only if that year's month
  lies in the same level segment as the month itself (across a level shift the other
  year was another regime, whose swings say nothing of this one's season). A year from
  another segment counts only where that segment holds 6 reported months or more (a
  shorter one has no level of its own: a flow's scattered first samples, €1–€220 around
  €21, had set a ×2.5 October for the regular flow after them). The samples before a flow
  starts (``samples_before_flow``) are no part of its season, nor of its scale. Level
  and season are estimated twice, each from the other. The level-shift search sees only
  the seasons two other years agree on, so one year's shift cannot pass into a season
  first.
- **Scale.** ``sigma`` = the larger of 1.4826 × the median absolute deviation of the
  residuals and their 90 % quantile ÷ 1.645 (equal for normal noise; the second widens
  the scale of lumpy series whose months often stray far, so that what a tenth of a
  series' months do is not called an anomaly), blended with a prior scale of 0.25 log
  units worth 3 observations (so a series of 8 points cannot claim to be noiseless), and
  floored at 0.05 (5 %: relative noise below that is rounding in trade data, not signal).
  A series whose scale rests on fewer than 6 residuals of its own (twice the prior's
  weight) has no measured usual variation: spikes, dips and timing shifts are not judged
  in it (``Baseline.measured``).
- **One scale for each side.** Trade series are often lopsided: a flow that runs steadily
  but has a thin month now and then (a late shipment, a part-month) strays far below its
  level and never far above, and a flow of occasional bulk cargoes the other way round.
  So ``z`` divides a residual above the expectation by ``sigma_high`` and one below by
  ``sigma_low``: the same MAD core, each widened by its own side's tail (the 95 % point
  of all the signed deviations, or of their negatives, ÷ 1.645: for normal noise the
  two-sided 90 % of ``sigma``), blended and floored alike. A series' habit of thin months
  then no longer hides its spikes, nor is each thin month called a dip; for symmetric
  noise the two scales equal ``sigma``.
- **An expectation from fewer months is less sure.** The residuals the scales come from
  are leave-one-out, so they already carry the uncertainty of a level taken from the
  series' usual number of months; a month whose level rests on fewer (beside a gap, at
  either end, in a sparse stretch) gets its scale widened by ``support`` =
  √((1 + (π/2)/n) / (1 + (π/2)/n_usual)), the standard error of a median of n months
  against that of the usual n (and narrowed as much where it rests on more). Three
  months where the series usually has twelve widen the scale by 16 %.
- **A weak season makes no anomaly.** Where a month's season rests on one or two other
  years (two odd months of one calendar month are the median of them and the zero year),
  a month ordinary against its level alone (within 2 scales) keeps that deviation, and
  with one other year, whose deviation the season halves, so does a month ordinary against
  that year's month repeated (``_weak_season``); where the level is thin, each of those
  readings is also checked against the thin level's reference (below), as the seasonal
  one is: a month ordinary once both doubts are allowed for is ordinary. Nor does such a
  season widen the scales: where all the one or two other years and the month itself are
  off beyond the season's winsor bound the same way (Decembers at ×3 in two years), the
  month counts in the scales by its distance from that range, not by the part of the
  season the model could not learn from so few years (``_net_of_weak_season``).
- **Months whose split is unknown.** A year that publishes apart the months the series'
  other years give as one figure (China's January and February), none of them with a
  season of its own, has each month's ``z`` bounded by their sum's reading, taken as a
  combined figure's is (``_split_unknown``).
- **Level shifts.** Before the final fit, lasting changes of level are searched on the
  deseasonalised series, with a local trend taken out where the series has a steady one
  (``shifts.py``); the series with shifts are then fitted again, each segment on its own.
- **A thin level must agree with its segment.** A month whose level rests on fewer than 6
  months (half a full window) keeps no more than its deviation from the median of its
  whole segment, on the same side (``thin_reference``, ``_agreed``), and one on the other side of
  its segment's median gets 0. A segment of fewer than 6 months is too short to be one:
  where its median is within 2 scales of the months within ±12 outside it, it is an
  episode of months the series has anyway, and those months are the reference; further
  off, a regime of its own (a closure), whose months keep their ``z`` (``thin_reference``).
  A median of three does not stand a two-month burst: in a series of a few shipments a year
  it followed the burst and called the ordinary months beside it dips. Widening the window
  instead, to ±24 months or the whole segment, measured edge and sparse months against
  levels years away, whose residuals widened the series' one scale and hid its real
  anomalies (and cost time growing with the square of the months).
- **A burst is not its own expectation.** The other way round, the months of a two-month
  burst in a sparse series were each other's level (two months at $3.1M among months of
  $120K, expected at $753K). Once the scales are measured, a month whose level is thin,
  far from its segment's median, between ordinary months of its segment, and with exactly
  one other month in its window off the same way and within 2 scales of it (the burst's
  other month), has its level taken again without that month (over ±6, ±12 or ±24
  months; ``_ordinary_level``; the evidence names the month left out). Not in a series
  with a steady trend, whose recent months all stand above its segment's median; and a
  run of more such months, or one that no ordinary month follows, is a level or an
  episode of its own, which keeps its level.

All of it is vectorised over the series of the chunk with NumPy: sliding windows and a
NaN-aware median by sorting, in blocks of 2048 series to bound memory; the only Python
loops run over a handful of lags, window lengths, segments or blocks. Every series is
fitted on its own, so the model of a series does not depend on the other series of the
chunk (the engines may cut chunks anywhere), and the blocks are fitted on a pool of
threads, one per CPU (NumPy's sorts and array arithmetic release the GIL).

Beside this module: ``robust.py`` (NaN-aware medians, quantiles, windows and the residual
scales), ``shifts.py`` (the level-shift search) and ``evidence.py`` (what an expectation
came from, as evidence and in words, for the detectors' findings).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from tradesentry.detectors.robust import (
    MEDIAN_SE,
    _sorted_median,
    nanmedian,
    nanquantile,
    residual_scales,
    robust_scale,
    windows,
)
from tradesentry.detectors.shifts import Shifts, find_shifts_in_order, segment_summary, trending
from tradesentry.errors import InputError
from tradesentry.panel import Panel, covered_months

#: the furthest a month's deviation is evidence of a season learnt from the other years as
#: they are, or lends a range to a month of one other year: ×316 (2.5 decades) either way,
#: nearer a unit error's ×1000 than any season; beyond it the winsorised season stands
#: (three Decembers at ×1000 had been a season of ×1,053, and none of them a unit slip)
SEASON_CEILING = 2.5 * math.log(10.0)
#: a seasonal term (log) from which a month's season is said to have moved it: 1 %
SEASON_SHOWN = 0.01


@dataclass(frozen=True)
class BaselineConfig:
    """Parameters of the shared model (documented in docs/detectors.md)."""

    offset_share: float = 1e-2
    half_window: int = 6
    wide_half_window: int = 12
    min_level_points: int = 3
    #: a level on fewer months must agree with its segment's median (``thin_reference``, ``_agreed``)
    thin_level_points: int = 6
    min_scale_points: int = 6  # residuals of its own a series' scale needs to judge a month
    min_season_years: int = 2
    max_season_years: int = 5
    winsor: float = 2.5
    sigma_floor: float = 0.05
    tail_quantile: float = 0.9
    sigma_prior: float = 0.25
    prior_weight: float = 3.0
    shift_windows: tuple[int, ...] = (6, 12)
    #: the window of a boundary where the longest of ``shift_windows`` holds too few
    #: reported months on a side (a sparse flow's new level): ``shifts.py``
    sparse_shift_window: int = 24
    shift_min_points: int = 3
    shift_threshold: float = 5.0
    no_trade_z: float = 2.5  # a month without trade with a chance above exp(-z²/2) is a habit
    shift_persistence: float = 0.6
    max_shifts: int = 4
    trend_lag: int = 12
    trend_min_diffs: int = 6
    block_rows: int = 2048


DEFAULT_CONFIG = BaselineConfig()


@dataclass(frozen=True, eq=False)
class Baseline:
    """The model of one panel: log values, expectation, residual scale and level shifts."""

    y: np.ndarray  # log(v + c); NaN where not reported (or negative)
    offset: np.ndarray  # c per series
    level: np.ndarray  # local level (log)
    level_points: np.ndarray  # reported months the level is the median of
    level_window: np.ndarray  # half-width of the window used (6 or 12; 24 for a burst's month)
    seasonal: np.ndarray  # seasonal term (log), 0 where the history does not allow one
    season_years: np.ndarray  # other years of the same month behind the seasonal term
    season_source: np.ndarray  # months that may lend a season (of the flow, a level of enough)
    expected_log: np.ndarray
    expected: np.ndarray  # in money: exp(expected_log) - c
    resid: np.ndarray  # y - expected_log
    sigma: np.ndarray  # residual scale per series (log units), both sides together
    sigma_low: np.ndarray  # residual scale below the expectation, per series
    sigma_high: np.ndarray  # residual scale above the expectation, per series
    scale_points: np.ndarray  # residuals the scales were measured on, per series
    z: np.ndarray  # resid / (the scale of its side × support); NaN where no expectation
    support: np.ndarray  # widening of the scale for the months behind the level (1 = usual)
    deviation: np.ndarray  # log deviation from the segment's median (rows with thin levels)
    trimmed: np.ndarray  # a thin level taken without its burst's other month
    segment: np.ndarray  # level-shift segment of each column (0, 1, …)
    samples: np.ndarray  # months before the series' flow starts (``samples_before_flow``)
    shifts: Shifts
    config: BaselineConfig

    def usable(self, min_points: int | None = None) -> np.ndarray:
        """Cells with an observed value and an expectation from enough months."""
        need = self.config.min_level_points if min_points is None else min_points
        return np.isfinite(self.z) & (self.level_points >= need)

    def measured(self) -> np.ndarray:
        """Series whose scale rests on at least ``min_scale_points`` residuals of their own.

        With fewer, the scale is mostly the prior's (0.25, worth 3 residuals): a series of
        four scattered months has no usual variation to be "20 times" off, so spikes, dips
        and timing shifts are judged only in measured series (the implausible readings,
        orders of magnitude off, are not)."""
        return self.scale_points >= self.config.min_scale_points

    def side_sigma(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The scale that ``z`` of each cell was measured in (its side's, times ``support``)."""
        above = self.resid[rows, cols] >= 0
        side = np.where(above, self.sigma_high[rows], self.sigma_low[rows])
        return side * self.support[rows, cols]


def baseline(panel: Panel, config: BaselineConfig = DEFAULT_CONFIG) -> Baseline:
    """The model of ``panel``, computed once and memoised in ``panel.cache``.

    Zeros that the series' habit of months without trade explains (``ordinary_zeros``) are
    left out, as missing months are: the model is of the months that trade.
    """
    key = ("baseline", config)
    if key not in panel.cache:
        values = np.where(ordinary_zeros(panel, config), np.nan, panel.values)
        combined = (panel.combined, panel.combined_span) if panel.combined_span.any() else None
        panel.cache[key] = fit(values, panel.season, config, combined)
    return panel.cache[key]


def ordinary_zeros(panel: Panel, config: BaselineConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Reported zeros that the series' own habit of months without trade explains.

    A zero and a missing month say the same thing: no trade recorded that month. The
    chance of such a month is the series' rate of them over its span (first to last month
    with trade), the run of such months around the zero left out and Laplace-smoothed as
    for gaps: P = (other months without trade + ½)/(other months + 1). Where P exceeds the
    chance the gap detector flags (``no_trade_z`` = 2.5: 4.4 %, about one month in 23), a
    zero is what the series does now and then. A series that has traded in every other
    month keeps its zeros (P = 1.4 % over 36 months), as does one with a single other
    month without trade in 36 (P = 4.2 %), and so does a run of zeros after years of
    trade (the run is left out of its own rate, and zeros before the flow started are no
    part of it): the stop of a flow is news. A habit needs
    a precedent: a zero in a series with no other month without trade is never ordinary,
    however short the series (the smoothed P of a series of 8 months, 0.5/8, would
    otherwise pass the zero while flagging a month of $1K in its place).
    """
    chance = math.exp(-(config.no_trade_z**2) / 2.0)
    return _habitual(panel, panel.values == 0, chance)


#: below this share of its expectation a month holds next to nothing: in a series that
#: often has no trade at all, a parcel where the line usually ships nothing
NOTHING_SHARE = 0.1
#: a line without trade in at least this share of its months ships now and then: the gap
#: detector flags no missing month there either (it asks for trade in 75 % of the months)
INTERMITTENT_SHARE = 0.25
#: and in the year on each side of the month: a line sparse years before is regular now
HABIT_WINDOW = 12


def ordinary_nothing(panel: Panel, model: Baseline) -> np.ndarray:
    """Months of next to nothing (a figure below ``NOTHING_SHARE`` of its expectation, or
    zero) in a line shipped now and then: one whose other months are without trade, or
    next to none, at least ``INTERMITTENT_SHARE`` of the time (counted as
    ``ordinary_zeros`` counts them), where a small parcel says what a month without trade
    says (Sweden's exports of CN 48114900 to Portugal, with trade in 44 % of its months:
    €205 between months of €15.6K and €15.2K was a dip, "a real interruption (a closure, a
    lost contract)", high). A series that trades most months keeps them: China's $3,000 of
    February 2021 among months of millions; so does one that trades most months in the year
    on each side, however sparse before (China's exports of HS 380110 to Iran: $93 in July
    2024 among 13 straight months of $0.3–3.1M, two shipments in 2018). The samples before
    a flow starts
    (``samples_before_flow``) and the empty months among them are no part of its habit.
    Memoised in ``panel.cache`` for the panel's own model: dips and implausible values ask."""
    cached = panel.cache.get("ordinary_nothing")
    if cached is not None and cached[0] is model:
        return cached[1]
    v = panel.values
    with np.errstate(invalid="ignore"):
        quiet = (v >= 0) & (v < NOTHING_SHARE * model.expected)
    habit = _habitual(
        panel, quiet & ~model.samples, INTERMITTENT_SHARE, model.samples, window=HABIT_WINDOW
    )
    panel.cache["ordinary_nothing"] = (model, habit)
    return habit


def _habitual(
    panel: Panel,
    quiet: np.ndarray,
    chance_above: float,
    left_out: np.ndarray | None = None,
    window: int | None = None,
) -> np.ndarray:
    """The ``quiet`` months (no trade, or next to none) that the series' rate of such
    months over its span explains: the smoothed chance of one, the run around it left out,
    above ``chance_above`` (``ordinary_zeros``). Months ``left_out`` are not seen, so the
    span starts after them where they lead it. With ``window``, the rate within that many
    months on each side must be above it too: a line sparse years before is regular now.
    Only the series with a quiet month are read (most have none; the others' answer is
    all False)."""
    habit = np.zeros(quiet.shape, dtype=bool)
    rows = np.flatnonzero(quiet.any(axis=1))
    if rows.size:
        covered = covered_by_combined(panel)[rows]
        reported = (np.isfinite(panel.values[rows]) & ~quiet[rows]) | covered
        if left_out is not None:
            reported &= ~left_out[rows]
        habit[rows] = _habit_of(quiet[rows], reported, chance_above, window)
    return habit


def _habit_of(
    quiet: np.ndarray, reported: np.ndarray, chance_above: float, window: int | None
) -> np.ndarray:
    """``_habitual`` for rows with a quiet month, ``reported`` their months with trade.

    The rate is read between the first and the last month with trade: a run without trade
    before a flow starts or after it stops is judged against that rate, and is no part of
    it. Six zeros before two years of $10M a month had made a habit of zeros, and the year
    of zeros after them (the stop of the flow) ordinary."""
    T = quiet.shape[1]
    first = np.argmax(reported, axis=1)[:, None]
    last = T - 1 - np.argmax(reported[:, ::-1], axis=1)[:, None]
    inside = (np.arange(T) >= first) & (np.arange(T) <= last) & reported.any(axis=1)[:, None]
    without = inside & ~reported
    run = _run_lengths(without)
    other_months = inside.sum(axis=1, keepdims=True) - run
    other_without = without.sum(axis=1, keepdims=True) - run
    chance = (other_without + 0.5) / (other_months + 1.0)
    habit = quiet & (other_without >= 1) & (chance > chance_above)
    if window is not None:
        months, quiet_months = _around_the_run(without, reported, window)
        habit &= (quiet_months + 0.5) / (months + 1.0) > chance_above
    return habit


def _around_the_run(
    without: np.ndarray, reported: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each month without trade, the months within ``window`` on each side, from the
    first month with trade there to the last (the months before a flow starts or after it
    ends are no part of its habit around the month), and those of them without trade, its
    own run left out."""
    n, T = without.shape
    cols = np.arange(T)
    lo = _first_within(reported, np.maximum(cols - window, 0), cols)
    hi = _last_within(reported, cols, np.minimum(cols + window, T - 1))
    span = np.maximum(hi - lo + 1, 0)
    quiet = _window_counts(without, lo, np.maximum(hi, lo - 1))
    # the run each month belongs to, clipped to the month's window
    length, position = _runs(without)
    run_lo = np.maximum(cols - position, lo)
    run_hi = np.minimum(cols - position + length - 1, hi)
    in_window = np.where(without, np.maximum(run_hi - run_lo + 1, 0), 0)
    return span - in_window, quiet - in_window


def _window_counts(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many True cells each row holds between columns ``lo`` and ``hi`` (inclusive; lo
    and hi per column, or per cell)."""
    cs = np.concatenate([np.zeros((len(mask), 1), np.int64), np.cumsum(mask, axis=1)], axis=1)
    rows = np.arange(len(mask))[:, None]
    lo, hi = np.broadcast_to(lo, mask.shape), np.broadcast_to(hi, mask.shape)
    return cs[rows, hi + 1] - cs[rows, lo]


def _first_within(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per cell, the first column from ``lo`` to ``hi`` (per column) where ``mask`` holds;
    ``hi`` + 1 where none does."""
    T = mask.shape[1]
    # the next True at or after each column, read at lo
    nxt = np.where(mask, np.arange(T), T)
    nxt = np.minimum.accumulate(nxt[:, ::-1], axis=1)[:, ::-1]
    first = nxt[:, lo]
    return np.where(first <= hi, first, hi + 1)


def _last_within(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per cell, the last column from ``lo`` to ``hi`` (per column) where ``mask`` holds;
    ``lo`` − 1 where none does."""
    prev = np.where(mask, np.arange(mask.shape[1]), -1)
    prev = np.maximum.accumulate(prev, axis=1)
    last = prev[:, hi]
    return np.where(last >= lo, last, lo - 1)


#: below this share of a series' typical month, its leading months are samples before the
#: flow starts (``implausible`` reads a month at 1 % of its expectation as near zero), where
#: the month after them is at least 1 / ``SAMPLE_SHARE`` times their median: a jump from
#: samples to trade, not a flow that grows
SAMPLE_SHARE = 1e-2


def samples_before_flow(values: np.ndarray) -> np.ndarray:
    """The months before each series' flow starts: where a series opens with figures below
    ``SAMPLE_SHARE`` of its typical month (the median of its positive months), and the
    month after them jumps to at least a hundred times their median: samples and trial
    shipments before regular trade (France's €33 and €13 of CN 39204990 to Hungary in May
    and July 2023, before €44K–525K a month). A flow that grows into its level is no such
    thing (China's graphite to Poland, $3K–$119K a month through 2017, then $200K and on
    to $12M). No month among the samples is judged alone (``evidence.first_months``,
    ``evidence.deviations``), and they are no part of the series' season nor of its usual
    variation: counted in its scale, the two took the scale below the expectation to 5 log
    units, and a later €13 among months of €120K–260K read as 2 scales below its
    expectation."""
    reported = np.isfinite(values)
    typical, _ = nanmedian(np.where(values > 0, values, np.nan))
    with np.errstate(invalid="ignore"):
        sample = reported & (values < SAMPLE_SHARE * typical[:, None])
    leading = np.logical_and.accumulate(sample | ~reported, axis=1) & sample
    rows = np.flatnonzero(leading.any(axis=1))
    if rows.size:
        after = reported[rows] & ~leading[rows]
        first_after = np.where(after.any(axis=1), after.argmax(axis=1), -1)
        level, _ = nanmedian(np.where(leading[rows], values[rows], np.nan))
        nxt = np.where(first_after >= 0, values[rows, np.maximum(first_after, 0)], np.nan)
        with np.errstate(invalid="ignore"):
            jump = nxt * SAMPLE_SHARE >= level
        leading[rows[~jump]] = False
    return leading


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """For each True cell, the length of the run of True it belongs to (0 elsewhere)."""
    return _runs(mask)[0]


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each True cell, the length of the run of True it belongs to and its place in
    it (0 for the run's first cell; both 0 elsewhere)."""
    n, T = mask.shape
    flat = np.pad(mask, ((0, 0), (0, 1))).ravel()  # a False column keeps runs in their row
    starts = flat & ~np.concatenate([[False], flat[:-1]])
    ids = np.cumsum(starts) * flat
    lengths = np.bincount(ids)[ids] * flat
    first_of = np.zeros(ids.max() + 1, dtype=np.int64)
    first_of[ids[starts]] = np.flatnonzero(starts)
    places = (np.arange(flat.size) - first_of[ids]) * flat
    return lengths.reshape(n, T + 1)[:, :T], places.reshape(n, T + 1)[:, :T]


def covered_by_combined(panel: Panel) -> np.ndarray:
    """Cells that a combined multi-month figure covers (they are reported, if not split).

    Memoised in ``panel.cache``: the model and the gap detector both ask.
    """
    if "covered" not in panel.cache:
        panel.cache["covered"] = _covered(panel)
    return panel.cache["covered"]


def _covered(panel: Panel) -> np.ndarray:
    covered = np.zeros(panel.values.shape, dtype=bool)
    span = panel.combined_span.astype(np.int64)
    T = panel.n_months
    for s in np.unique(span[span > 0]).tolist():  # a handful of spans (2, 3)
        rows, cols = np.nonzero(span == s)
        for j in range(s):
            ok = cols + j < T
            covered[rows[ok], cols[ok] + j] = True
    return covered


def fit(
    values: np.ndarray,
    season: int = 12,
    config: BaselineConfig = DEFAULT_CONFIG,
    combined: tuple[np.ndarray, np.ndarray] | None = None,
) -> Baseline:
    """Fit the model to ``values[n_series, n_months]`` (NaN = not reported), with the
    figures that cover several months, ``combined`` (``Panel.combined`` and
    ``combined_span``), for the search for level shifts to read (``_with_combined``) and
    to judge the months other years give only with them (``_split_unknown``).

    Rows are fitted in blocks of ``config.block_rows`` so that the sliding windows stay
    within a bounded memory whatever the chunk size; every row is independent of the others,
    so the blocks run on ``threads()`` threads and the result does not depend on how many.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    if n <= config.block_rows:
        return _fit_rows(values, season, config, combined)
    cut = [slice(a, a + config.block_rows) for a in range(0, n, config.block_rows)]
    blocks = [
        (values[b], None if combined is None else (combined[0][b], combined[1][b])) for b in cut
    ]
    workers = min(threads(), len(blocks))
    if workers == 1:
        parts = [_fit_rows(block, season, config, more) for block, more in blocks]
    else:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda b: _fit_rows(b[0], season, config, b[1]), blocks))
    return _concat(parts, config)


def threads() -> int:
    """Threads of a scan: TRADESENTRY_THREADS, else one per CPU. They fit blocks of series
    at once; with more than one, the local engine also gathers the next chunk while the
    detectors scan this one (``engines.local.read_ahead``)."""
    wanted = os.environ.get("TRADESENTRY_THREADS", "").strip()
    if not wanted:
        return os.cpu_count() or 1
    if not wanted.isdigit() or int(wanted) < 1:
        raise InputError(f"TRADESENTRY_THREADS={wanted!r}: expected a whole number of threads")
    return int(wanted)


def _fit_rows(
    values: np.ndarray,
    season: int,
    config: BaselineConfig,
    combined: tuple[np.ndarray, np.ndarray] | None = None,
) -> Baseline:
    y, offset = log_values(values, config.offset_share)
    flat = np.zeros(y.shape, dtype=np.int64)
    samples = samples_before_flow(values)
    fitted = _fit_segments(y, flat, season, config, samples, offset)
    # a level shift in the one other year would pass half into a season taken from it, so
    # the search sees only the seasons that at least two other years agree on
    agreed = fitted["season_years"] >= config.min_season_years
    x = y - np.where(agreed, fitted["seasonal"], 0.0)
    if combined is not None:
        x = _with_combined(x, fitted, offset, *combined, season, config)
    shifts, segment = find_shifts_in_order(x, config)
    rows = np.unique(shifts.series)
    if rows.size:  # refit the series with level shifts, each segment on its own
        again = _fit_segments(y[rows], segment[rows], season, config, samples[rows], offset[rows])
        for name, array in again.items():
            fitted[name][rows] = array
    expected = np.maximum(np.exp(fitted["expected_log"]) - offset[:, None], 0.0)
    if combined is not None:
        fitted["z"] = _split_unknown(values, expected, fitted, offset, *combined, season, config)
    return Baseline(
        y=y,
        offset=offset,
        expected=expected,
        segment=segment,
        samples=samples,
        shifts=shifts,
        config=config,
        **fitted,
    )


def _with_combined(
    x: np.ndarray,
    fitted: dict,
    offset: np.ndarray,
    combined: np.ndarray,
    span: np.ndarray,
    season: int,
    config: BaselineConfig,
) -> np.ndarray:
    """``x`` (deseasonalised log values) with the level each combined figure implies, at
    its first month, for the search for level shifts.

    China's January–February is one figure and no month: without it the search saw a
    change that came in January only from March, and the pair, already at the new level,
    was then judged against the old one. A figure C over months j, against the first fit's
    expectations e_j (level and season, log scale with the offset c), runs at
    r = log(C + k·c) − log Σ(e_j + c); the series' other figures of the same months run at
    their own r (their leave-one-out median with the zero year, ``usual``, as the seasonal
    term is: January–February is low every year, and where a series never publishes the
    months apart nothing else knows it). The level the figure implies is then
    log(C + k·c) − usual − log Σ exp(s_j), net of the months' seasons s_j. It stands once,
    at the first month, for it is one reading (two equal months would also hand the noise
    scale a difference of zero). Figures whose months are also published singly are left
    to those months.
    """
    rows, cols = np.nonzero((span > 0) & (combined >= 0))
    if not rows.size:
        return x
    k = span[rows, cols].astype(np.int64)
    alone = ~np.isfinite(covered_months(x, rows, cols, k, np.nan)).any(axis=1)

    def summed_exp(log_values: np.ndarray) -> np.ndarray:  # log Σ exp over a figure's months
        return np.log(np.exp(covered_months(log_values, rows, cols, k, -np.inf)).sum(axis=1))

    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.log(combined[rows, cols] + k * offset[rows])
        expected = summed_exp(fitted["expected_log"])
        seasons = summed_exp(fitted["seasonal"])
    usual = np.nan_to_num(seasonal_at(total - expected, rows, cols, x.shape[1], season, config))
    level = total - usual - seasons
    keep = alone & np.isfinite(level)
    x = x.copy()
    x[rows[keep], cols[keep]] = level[keep]
    return x


def _split_unknown(
    values: np.ndarray,
    expected: np.ndarray,
    fitted: dict,
    offset: np.ndarray,
    combined: np.ndarray,
    span: np.ndarray,
    season: int,
    config: BaselineConfig,
) -> np.ndarray:
    """``fitted["z"]`` with each month of a year that publishes apart the months the
    series' other years give as one figure (a January and a February where the other years
    give January–February) bounded by their sum's reading (``_agreed``), where none of
    those months has a season of its own: no other year published it singly.

    Their split is unknown: the model's January and February carry no season where the
    series never publishes them apart, so a February at half its January every year, the
    pair's sum what the combined figures always hold, was a high dip "45% below the
    $994.5K expected". The sum is read as a combined figure is (``combined.py``): against
    the months' expected sum, adjusted by the series' other figures of those months (their
    leave-one-out median ratio with the zero year, ``seasonal_at``), in the side scales;
    a month is then no more unusual than its sum, and none against it."""
    z = fitted["z"]
    fig_rows, fig_cols = np.nonzero((span > 0) & (combined >= 0))
    if not fig_rows.size:
        return z
    fig_k = span[fig_rows, fig_cols].astype(np.int64)
    T = values.shape[1]
    # the same months in the other years the season reaches
    lags = np.array([j * s for j in range(1, config.max_season_years + 1) for s in (-1, 1)])
    rows = np.repeat(fig_rows, len(lags))
    cols = np.repeat(fig_cols, len(lags)) + np.tile(lags * season, len(fig_rows))
    k = np.repeat(fig_k, len(lags))
    inside = (cols >= 0) & (cols + k <= T)
    rows, cols, k = rows[inside], cols[inside], k[inside]
    each = covered_months(values, rows, cols, k, 0.0)
    own = covered_months(fitted["season_years"].astype(float), rows, cols, k, 0.0)
    apart = np.isfinite(each).all(axis=1) & (own == 0).all(axis=1)
    apart &= np.isfinite(covered_months(z, rows, cols, k, 0.0)).all(axis=1)
    if not apart.any():
        return z
    found = np.unique(np.stack([rows[apart], cols[apart], k[apart]]), axis=1)
    rows, cols, k = found

    def ratio(total: np.ndarray, r: np.ndarray, t: np.ndarray, n: np.ndarray) -> np.ndarray:
        e = covered_months(expected, r, t, n, 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(total + n * offset[r]) - np.log(e + n * offset[r])

    figures = ratio(combined[fig_rows, fig_cols], fig_rows, fig_cols, fig_k)
    # the pairs' own cells first, so that a figure published beside its months wins its cell
    usual = seasonal_at(
        np.concatenate([np.full(len(rows), np.nan), figures]),
        np.concatenate([rows, fig_rows]),
        np.concatenate([cols, fig_cols]),
        T,
        season,
        config,
    )[: len(rows)]
    off = ratio(covered_months(values, rows, cols, k, 0.0).sum(axis=1), rows, cols, k)
    off -= np.nan_to_num(usual)
    bound = np.full(z.shape, np.nan)
    for j in range(int(k.max())):  # the months of a figure: two, for China's
        at = j < k
        bound[rows[at], cols[at] + j] = off[at]
    return _agreed(z, bound, (fitted["sigma_low"], fitted["sigma_high"]))


def _concat(parts: list[Baseline], config: BaselineConfig) -> Baseline:
    """One model from the models of consecutive row blocks."""
    starts = np.cumsum([0] + [len(p.offset) for p in parts])[:-1]
    arrays = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in Baseline.__dataclass_fields__
        if name not in ("shifts", "config")
    }
    shift_fields = {
        name: np.concatenate([getattr(p.shifts, name) for p in parts])
        for name in Shifts.__dataclass_fields__
    }
    shift_fields["series"] = np.concatenate(
        [p.shifts.series + a for p, a in zip(parts, starts, strict=True)]
    )
    return Baseline(shifts=Shifts(**shift_fields), config=config, **arrays)


# -- the model's steps -------------------------------------------------------------------------


def log_values(values: np.ndarray, share: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """``log(v + c)`` with ``c`` = ``share`` × the 10th percentile of the positive values."""
    v = np.asarray(values, dtype=float)
    low = nanquantile(np.where(v > 0, v, np.nan), 0.1)
    offset = np.where(np.isfinite(low), share * low, 1.0)
    with np.errstate(invalid="ignore"):
        y = np.log(np.where(v >= 0, v, np.nan) + offset[:, None])
    return y, offset


def local_level(x: np.ndarray, segment: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out median of the reported months within ±half in the same segment."""
    w = windows(x, half, half, np.nan).copy()
    w[..., half] = np.nan
    rows = np.flatnonzero(segment.any(axis=1))  # only rows with level shifts have segments
    if rows.size:
        same = windows(segment[rows], half, half, -1) == segment[rows][..., None]
        w[rows] = np.where(same, w[rows], np.nan)
    return nanmedian(w, overwrite=True)


def _level(x: np.ndarray, segment: np.ndarray, config: BaselineConfig):
    level, n = local_level(x, segment, config.half_window)
    width = np.full(x.shape, config.half_window, dtype=np.int16)
    thin = n < config.min_level_points
    rows = np.flatnonzero(thin.any(axis=1))
    if rows.size:
        wide, n_wide = local_level(x[rows], segment[rows], config.wide_half_window)
        use = thin[rows] & (n_wide > n[rows])
        level[rows] = np.where(use, wide, level[rows])
        n[rows] = np.where(use, n_wide, n[rows])
        width[rows] = np.where(use, config.wide_half_window, width[rows])
    return level, n, width


#: a month within this many scales of its segment's median is an ordinary month of the
#: series (what 95 % of months do under normal noise)
ORDINARY_SCALES = 2.0


#: a season from this many other years or fewer can be their coincidence: two odd months of
#: the same calendar month are the median of {0, a, b}
WEAK_SEASON_YEARS = 2


def _weak_season(
    z: np.ndarray,
    x: np.ndarray,
    others: tuple[np.ndarray, np.ndarray],
    years: np.ndarray,
    sides: tuple[np.ndarray, np.ndarray],
    support: np.ndarray,
    off: np.ndarray | None = None,
) -> np.ndarray:
    """``z`` where a month's season rests on one or two other years (``WEAK_SEASON_YEARS``)
    and the month is ordinary (within ``ORDINARY_SCALES``) by a reading that season allows:
    its deviation by that reading instead (``x``: the month's log deviation from its level
    alone; ``others``: the lowest and the highest deviation of those other years' months
    as they were, not winsorised, of the months within ``SEASON_CEILING`` of their level;
    ``years``: how many other years lend the season; each reading in the scale of its
    side × ``support``).

    - Against its level alone. With two other years the season is the median of them and
      the zero year, which two odd months of that calendar month make even where they
      agree (€15 and €28 in the Septembers of 2023 and 2025 of a flow of €65K a month,
      whose near-zero months fall in five calendar months, called the ordinary €62K of
      September 2024 1,697 times its expectation); with one, half a single month. So a
      month at its level after two Januaries at ×0.1 is no finding: two years cannot tell
      a season from a coincidence, and the odd Januaries are judged on their own.
    - Between its level and the other years' months. With one other year the season is
      half that year's deviation (between "as last year" and "no season"), so a month
      that repeats the whole of it read as the other half: in a quiet series whose
      Decembers are at ×0.5 every year, each December was expected at ×0.7 and called a
      dip of 30 %. With two that disagree the season is the median of them and the zero
      year, the nearer the level, so a month that repeats the other one read as a spike:
      three years whose Decembers were at ×5, ×5 and ×1 had both ×5 Decembers high spikes
      "4.1 times the expected", and the December at ×1 none. One or two other years
      cannot tell which of them is the season, so a month anywhere from its level to the
      furthest of their months (as they were, not winsorised: in a quiet series whose two
      Decembers were at ×4.75, the clipped one was ×1.4, and each December a spike
      against the other) is read by its distance from that range.

    Where the month's level is thin, each reading is also checked against the level's
    reference (``off``: the month's log deviation from it, without the season; NaN where
    there is none), as ``_agreed`` checks the seasonal one: a weak season
    and a thin level are two doubts, and a month ordinary once both are allowed for is
    ordinary. Each check alone had missed it: Guinea's exports of steel scrap to India,
    2 t lots of about 18M GNF, had November 2016's 18.2M a high dip "75% below the 72.5M
    expected", against a level of three months of a four-month episode at 36M and two
    Novembers of 4 t (×1.98).

    A month far from both readings keeps its ``z`` (June 2024's €211 where the level is
    €17K and June 2023 was at ×0.36 of its own). With three or more other years the season
    is what most years did, and a month that misses it stays unusual."""
    weak = (years >= 1) & (years <= WEAK_SEASON_YEARS) & np.isfinite(z)
    lowest, highest = others
    low_end, high_end = np.fmin(lowest, 0.0), np.fmax(highest, 0.0)
    level_z = side_z(x, sides, support)
    range_z = side_z(x - np.clip(x, low_end, high_end), sides, support)
    if off is not None:
        level_z = _agreed(level_z, off, sides)
        range_z = _agreed(range_z, off - np.clip(off, low_end, high_end), sides)
    out = np.where(weak & (np.abs(range_z) < ORDINARY_SCALES), range_z, z)
    return np.where(weak & (np.abs(level_z) < ORDINARY_SCALES), level_z, out)


def _net_of_weak_season(
    resid: np.ndarray,
    x: np.ndarray,
    others: tuple[np.ndarray, np.ndarray],
    years: np.ndarray,
    bound: np.ndarray,
) -> np.ndarray:
    """The residuals the scales are measured on: ``resid``, net of a weak season (one or
    two other years, ``years``) that all those years' months and the month itself show
    beyond ``bound`` (the season's winsor bound) the same way: there the month counts by
    its distance from the range ``_weak_season`` allows (``x``, ``others`` as there),
    where that is nearer. What the model itself reads as season is no noise.

    Such a season is learnt only in part (halved, winsorised), and the rest stood in the
    month's residual: in two years of a quiet series (5 %) whose Decembers are at ×3,
    each December kept a residual of ×2.2 that the weak-season reading calls ordinary, and
    the two took the scale above the expectation from 0.13 to 0.47, so that a March at ×5
    was no finding. Only where every other year shows the season: a range is a benefit of
    the doubt, not a measure of the noise, and a lumpy series' thin months that fell in
    one calendar month in two of three years (a March at 1/100 in 2023 and 2024, not 2025)
    would have narrowed its scale below to its ordinary months."""
    weak = (years >= 1) & (years <= WEAK_SEASON_YEARS)
    lowest, highest = others
    net = x - np.clip(x, np.fmin(lowest, 0.0), np.fmax(highest, 0.0))
    with np.errstate(invalid="ignore"):
        shared = ((x >= bound) & (lowest >= bound)) | ((x <= -bound) & (highest <= -bound))
        nearer = np.abs(net) < np.abs(resid)
    return np.where(weak & shared & nearer, net, resid)


def side_z(
    deviation: np.ndarray, sides: tuple[np.ndarray, np.ndarray], support: np.ndarray
) -> np.ndarray:
    """Log deviations (series × months) in the scale of their side: ``sides`` are each
    series' scales below and above its expectation, times the months' ``support``."""
    low, high = sides
    with np.errstate(invalid="ignore", divide="ignore"):
        return deviation / (np.where(deviation >= 0, high[:, None], low[:, None]) * support)


def thin_reference(
    x: np.ndarray,
    segment: np.ndarray,
    points: np.ndarray,
    sides: tuple[np.ndarray, np.ndarray],
    config: BaselineConfig,
) -> np.ndarray:
    """For each reported month whose level rests on fewer than ``thin_level_points`` months,
    the level it is checked against (``x``: deseasonalised log values); NaN elsewhere, and
    where there is none.

    The median of its whole segment, where that holds ``thin_level_points`` reported months
    or more (the month included, which in a median of 6 or more moves it by one rank at
    most). A shorter segment has a level of its own only where that level stands apart
    from the series around it: the median of the months within ±``wide_half_window`` of
    the month outside its segment (``thin_level_points`` of them or more). Where the
    segment's median is within ``ORDINARY_SCALES`` of it (in the series' scale of that
    side, ``sides``), the segment is an episode of months the series has anyway, and the
    months around are the reference; beyond, it is a regime of its own (China's exports to
    North Korea in the closure, ×1/100 of the months around, whose December 2020 spike is
    measured within it), and its months keep their ``z``. Guinea's exports of steel scrap
    to India, 2 t lots of about 18M GNF with a 4 t or 8 t month now and then, had a segment
    of four months (36M, 36M, 18.2M, 72.9M), ×2 the months around where the series' rises
    are 0.4 log units: its 18.2M, the series' most ordinary month, had kept its z against
    the other three, a high dip of 13.4 scales."""
    out = np.full(x.shape, np.nan)
    thin = np.isfinite(x) & (points < config.thin_level_points)
    rows = np.flatnonzero(thin.any(axis=1))
    if not rows.size:
        return out
    med, count, _ = segment_summary(x[rows], segment[rows])
    seg = segment[rows]
    r = np.arange(len(rows))[:, None]
    enough = count[r, seg] >= config.thin_level_points
    reference = np.where(enough, med[r, seg], np.nan)
    some = np.flatnonzero((thin[rows] & ~enough).any(axis=1))
    if some.size:  # the few series with a thin month in a short segment
        at = rows[some]
        half = config.wide_half_window
        outside = windows(segment[at], half, half, -1) != segment[at][..., None]
        around, n = nanmedian(np.where(outside, windows(x[at], half, half, np.nan), np.nan))
        episode = med[some[:, None], seg[some]] - around
        low, high = (side[at][:, None] for side in sides)
        with np.errstate(invalid="ignore"):
            ordinary = np.abs(episode / np.where(episode >= 0, high, low)) < ORDINARY_SCALES
        use = ~enough[some] & ordinary & (n >= config.thin_level_points)
        reference[some] = np.where(use, around, reference[some])
    out[rows] = np.where(thin[rows], reference, np.nan)
    return out


def _agreed(z: np.ndarray, off: np.ndarray, sides: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``z`` bounded by ``off``, the month's log deviation from a better founded reference
    (``thin_reference``, in the series' scale of its side, ``sides``; NaN: no reference,
    ``z`` stands): 0 where the two disagree in sign, else no more than the reference's
    reading. The thin local level stays the expectation; the reference says how unusual
    the month can be. China's exports of HS 811292 to Slovakia, $22.0K and $24.7K in May
    and August 2018 beside shipments of $12–25K over six years, were "9.3 times the $2.7K
    expected from the 3 reported months from January 2018 to January 2020", 13.3 scales
    (high), while 1.7 times its segment's median, 3 scales: a month off its segment by more
    than an ordinary month (``ORDINARY_SCALES``) had kept its own z, however thin the level
    that gave it."""
    low, high = (side[:, None] for side in sides)
    with np.errstate(invalid="ignore"):
        z_ref = off / np.where(off >= 0, high, low)
    same = np.sign(z) == np.sign(z_ref)
    agreed = np.where(same, np.sign(z) * np.fmin(np.abs(z), np.abs(z_ref)), 0.0)
    return np.where(np.isfinite(off) & np.isfinite(z), agreed, z)


#: the widest level a burst's month is taken from, either way
BURST_REACH = 24


def _ordinary_level(
    x: np.ndarray,
    level: np.ndarray,
    points: np.ndarray,
    width: np.ndarray,
    segment: np.ndarray,
    sides: tuple[np.ndarray, np.ndarray],
    config: BaselineConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Thin levels of a two-month burst taken again without the burst's other month.

    A level from fewer than ``thin_level_points`` months is a median of one to five, which
    cannot stand a burst: in a series of a few shipments a year, each month of a two-month
    burst is measured against the other (China's exports of HS 811292 to Belgium, $3.1M in
    August and September 2024 among months of about $120K, expected at $753K). A month is
    far off beyond ``ORDINARY_SCALES`` of its segment's median (in the series' scale of its
    side; in a segment of at least ``thin_level_points`` months). A thin month far off,
    between ordinary months of its segment (a burst ends), whose window holds exactly one
    other month off the same way and within ``ORDINARY_SCALES`` of it (the burst's other
    month: ``burst_partners``), has its level taken again without that month: over ±6, ±12 or ±``BURST_REACH`` months,
    the narrowest with ``min_level_points`` months left. More such months are a level or
    an episode of their own, not a burst (four months at 1/20 of a sparse series, Guinea's
    exports of 03031900 to China, became three dips against levels years away), and a
    series with a steady trend has none: its recent months all stand above its segment's
    median (Malaysia, same product). ``x``: deseasonalised log values. Returns the level, its months, its
    half-window, each month's deviation from its segment's median (log; NaN in the rows
    not looked at: it says which months a taken-again level left out), and the cells
    taken again.
    """
    deviation = np.full(x.shape, np.nan)
    trimmed = np.zeros(x.shape, dtype=bool)
    thin = np.isfinite(x) & (points < config.thin_level_points)
    rows = np.flatnonzero(thin.any(axis=1))
    # a growing series' recent months all stand above its segment's median: no bursts
    rows = rows[~trending(x[rows], segment[rows], config)]
    if not rows.size:
        return level, points, width, deviation, trimmed
    med, count, _ = segment_summary(x[rows], segment[rows])
    r = np.arange(len(rows))[:, None]
    enough = count[r, segment[rows]] >= config.thin_level_points
    deviation[rows] = np.where(enough, x[rows] - med[r, segment[rows]], np.nan)
    low, high = (side[rows][:, None] for side in sides)
    dev = deviation[rows]
    with np.errstate(invalid="ignore"):
        far = np.abs(dev / np.where(dev >= 0, high, low)) >= ORDINARY_SCALES
    ordinary = np.isfinite(dev) & ~far
    cell_row, col = np.nonzero(thin[rows] & far & _between_ordinary(ordinary, segment[rows]))
    row = rows[cell_row]
    scale = side_scale(sides, row, deviation[row, col])
    new_level, new_n, new_width, partners = _window_without(
        x, segment, deviation, row, col, width[row, col], scale, config
    )
    take = (partners == 1) & (new_n >= config.min_level_points)
    level, points, width = level.copy(), points.copy(), width.copy()
    at = row[take], col[take]
    level[at], points[at], width[at] = new_level[take], new_n[take], new_width[take]
    trimmed[at] = True
    return level, points, width, deviation, trimmed


def burst_partners(deviation: np.ndarray, cell: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Where ``deviation`` (months' log deviations from their segment's median) is off the
    same way as ``cell``'s, beyond ``ORDINARY_SCALES`` of ``scale`` (the series' scale on
    that side), and within as much of ``cell``'s: a month of the same burst, one the
    burst's own level would call ordinary."""
    bar = ORDINARY_SCALES * scale
    with np.errstate(invalid="ignore"):
        same = (np.sign(deviation) == np.sign(cell)) & (np.abs(deviation) >= bar)
        return same & (np.abs(deviation - cell) <= bar)


def side_scale(
    sides: tuple[np.ndarray, np.ndarray], rows: np.ndarray, deviation: np.ndarray
) -> np.ndarray:
    """The scale of each series (``rows`` of ``sides``, the scales below and above) on the
    side of its ``deviation``."""
    low, high = sides
    return np.where(deviation >= 0, high[rows], low[rows])


def _between_ordinary(ordinary: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Cells with an ``ordinary`` month of their own segment both before and after them."""
    out = np.zeros(ordinary.shape, dtype=bool)
    for s in range(int(segment.max(initial=0)) + 1):  # a handful of segments at most
        inside = ordinary & (segment == s)
        seen = np.cumsum(inside, axis=1)
        before, after = seen - inside, seen[:, -1:] - seen
        out |= (segment == s) & (before > 0) & (after > 0)
    return out


def _window_without(
    x: np.ndarray,
    segment: np.ndarray,
    deviation: np.ndarray,
    row: np.ndarray,
    col: np.ndarray,
    half_now: np.ndarray,
    scale: np.ndarray,
    config: BaselineConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each cell, its level without the months of its burst (``burst_partners``, in
    the cell's side ``scale``): the
    median over ±6, ±12 or ±``BURST_REACH`` months in its segment, the narrowest with
    ``min_level_points`` months; its months and half-window; and how many months of its
    burst the window used so far (``half_now``) holds."""
    offsets = np.arange(-BURST_REACH, BURST_REACH + 1)
    at = col[:, None] + offsets[None, :]
    inside = (at >= 0) & (at < x.shape[1])
    at = np.clip(at, 0, x.shape[1] - 1)
    r = row[:, None]
    near = inside & (at != col[:, None]) & (segment[r, at] == segment[row, col][:, None])
    near &= np.isfinite(x[r, at])
    burst = near & burst_partners(deviation[r, at], deviation[row, col][:, None], scale[:, None])
    kept = np.where(near & ~burst, x[r, at], np.nan)
    distance = np.abs(offsets)[None, :]
    level = np.full(len(row), np.nan)
    n = np.zeros(len(row), dtype=np.int64)
    half = np.zeros(len(row), dtype=np.int16)
    # widest first, so that the narrowest window with enough months has the last word
    for reach in (BURST_REACH, config.wide_half_window, config.half_window):
        med, count = nanmedian(np.where(distance <= reach, kept, np.nan))
        use = count >= config.min_level_points
        level = np.where(use, med, level)
        n = np.where(use, count, n)
        half = np.where(use, reach, half).astype(np.int16)
    partners = (burst & (distance <= half_now[:, None])).sum(axis=1)
    return level, n, half, partners


def level_support(points: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """How much wider a month's scale is for the months its level rests on (module doc).

    The variance of a median of n values is about (π/2)σ²/n, so a leave-one-out residual
    varies as σ²(1 + (π/2)/n); the series' scale was measured at its usual n (the median
    over the ``measured`` months: reported, with enough support), and each month is
    rescaled to its own n. Months outside the series' span never enter the usual n, so
    it does not depend on the panel's width.
    """
    c = MEDIAN_SE**2
    usual, _ = nanmedian(np.where(measured, points, np.nan).astype(float))
    n = np.maximum(points, 1)
    with np.errstate(invalid="ignore"):
        support = np.sqrt((1.0 + c / n) / (1.0 + c / usual[:, None]))
    return np.where(np.isfinite(support), support, 1.0)


def _seasonal(
    d: np.ndarray,
    season: int,
    config: BaselineConfig,
    segment: np.ndarray | None = None,
    extremes: bool = False,
):
    """Leave-one-out median of the same calendar month in other years (with a zero prior),
    the number of those years, and the season of most of them.

    Two other years or more: their median with the zero year. One: half its deviation (the
    median of it and the zero year), only where that year's month is in the same level
    segment as the month itself: across a level shift the other year was another regime.
    A year from another segment counts only where that segment holds ``thin_level_points``
    reported months or more: a shorter one has no level of its own to deviate from.
    The third: with an odd number of other years (three, five), their own median without
    the zero year, which ``_fit_segments`` takes where it lies beyond the noise (which the
    median of an odd number does only where most of them do): two Decembers at ×4.75 and
    one at ×1 in a quiet series are a season of ×4.75, where the zero year made it ×2.2 and
    each ×4.75 December a spike; elsewhere the first. Both medians come from one sort.
    With ``extremes``, also the lowest and the highest of the other years that lend the
    season (NaN where none does), for ``_weak_season``.
    """
    n, T = d.shape
    years = min(config.max_season_years, (T - 1) // season) if season > 1 else 0
    if years < 1:
        none = np.zeros_like(d), np.zeros(d.shape, dtype=np.int64), np.zeros_like(d)
        return (*none, np.full(d.shape, np.nan), np.full(d.shape, np.nan)) if extremes else none
    if segment is None:
        segment = np.zeros(d.shape, dtype=np.int64)
    # for column t, columns t - years·season .. t + years·season in steps of a season:
    # the same calendar month in the other years, and the month itself in the middle
    reach = years * season

    def same_month(a: np.ndarray, fill) -> np.ndarray:
        return windows(a, reach, reach, fill)[..., ::season]

    stack = same_month(d, np.nan).copy()
    stack[..., years] = np.nan  # the month itself out
    # other years in the month's own segment: all of them, in a series without level shifts
    rows = np.flatnonzero(segment.any(axis=1))
    in_segment = same_month(segment[rows], -1) == segment[rows][..., None]
    # another regime's year counts only where that regime has a level of its own: months of
    # a segment too short for one (a flow's scattered first samples) are no season's evidence
    _, segment_months, _ = segment_summary(d[rows], segment[rows])
    size = np.take_along_axis(segment_months, segment[rows], axis=1)
    thin = same_month(size, 0) < config.thin_level_points
    stack[rows] = np.where(~in_segment & thin, np.nan, stack[rows])
    same_in_rows = (np.isfinite(stack[rows]) & in_segment).sum(axis=-1)
    stack.sort(axis=-1)
    plain, count = _sorted_median(stack)
    med = _median_with_zero(stack, count)
    same = count.copy()
    same[rows] = same_in_rows
    use = (count >= config.min_season_years) | ((count == 1) & (same == 1))
    med = np.where(use, med, 0.0)
    of_most = np.where(use & (count >= 3) & (count % 2 == 1), plain, med)
    if not extremes:
        return med, count, of_most
    lowest = np.where(use & (count > 0), stack[..., 0], np.nan)
    last = np.maximum(count - 1, 0)[..., None]
    highest = np.where(use & (count > 0), np.take_along_axis(stack, last, axis=-1)[..., 0], np.nan)
    return med, count, of_most, lowest, highest


def _median_with_zero(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The median of each row of ``s`` (sorted along the last axis, NaN last, ``n`` values)
    with a 0 added, read from the sorted row: the merged row holds the row's negatives, the
    0, then the rest."""
    width = s.shape[-1]
    with np.errstate(invalid="ignore"):
        negative = (s < 0).view(np.uint8).astype(np.float32) @ np.ones(width, np.float32)
    negative = negative.astype(np.int64)
    flat = s.reshape(-1, width).ravel()
    at = (np.arange(flat.size // width) * width).reshape(n.shape)

    def merged(p: np.ndarray) -> np.ndarray:
        index = np.clip(np.where(p < negative, p, p - 1), 0, width - 1)
        return np.where(p == negative, 0.0, flat[at + index])

    return 0.5 * merged(n // 2) + 0.5 * merged((n + 1) // 2)


def seasonal_at(
    values: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    n_months: int,
    season: int,
    config: BaselineConfig,
) -> np.ndarray:
    """The seasonal term (``_seasonal``, without segments) of series that hold ``values`` at
    ``rows``, ``cols`` and nothing elsewhere, read at those cells: a ratio of each combined
    figure, whose usual ratio is that of the series' other figures of the same months.
    Only the rows holding a value are computed: each row's term is its own, and the few
    series with combined figures (China's January–February) were a whole panel's work."""
    held, row_of = np.unique(rows, return_inverse=True)
    a = np.full((len(held), n_months), np.nan)
    a[row_of, cols] = values
    return _seasonal(a, season, config, None)[0][row_of, cols]


def _within_a_season(y: np.ndarray, level: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Months within ``SEASON_CEILING`` of their level in money (not on the model's log
    scale, whose offset makes a month at a thousandth of its level ×1/100 there). Above
    the level the offset is negligible; below it the money is read again, only for months
    more than ×e under their level on the log scale (the rest are within the ceiling)."""
    d = y - level
    with np.errstate(invalid="ignore"):
        within = np.abs(d) < SEASON_CEILING
        rows, cols = np.nonzero(d < -1.0)
    if rows.size:
        c = offset[rows]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            money = np.log(np.exp(y[rows, cols]) - c) - np.log(np.exp(level[rows, cols]) - c)
        within[rows, cols] = np.abs(money) < SEASON_CEILING
    return within


def _fit_segments(
    y: np.ndarray,
    segment: np.ndarray,
    season: int,
    config: BaselineConfig,
    samples: np.ndarray,
    offset: np.ndarray,
) -> dict:
    """Level and season, each estimated from the other, twice; residuals and scale (not
    of the ``samples`` before a flow starts: ``samples_before_flow``)."""
    seasonal = np.zeros_like(y)
    years = np.zeros(y.shape, dtype=np.int64)
    for _ in range(2):
        level, points, width = _level(y - seasonal, segment, config)
        d = y - level
        scale = robust_scale(d - seasonal, config)
        # a month whose level rests on fewer months than a level needs has no deviation
        # from it to lend a season: a series of four months, one of them in September
        # 2023 at €1.1K, put its next September's level at that €1.1K and lent the first
        # a season of ×13 from the second (€40K); nor have the samples before a flow
        lent = np.where(samples | (points < config.min_level_points), np.nan, d)
        # winsorised around the season the other years give unwinsorised where two or more
        # give one (their median stands one odd year already), else around the season
        # found so far: the bound is a scale of the deseasonalised residuals, and a clip
        # around zero or the first pass's season cut a December at ×5 every year to ×1.5
        # in a quiet series
        bound = config.winsor * scale[:, None]
        # most other years beyond the noise the same way are the season (``_seasonal``);
        # a month past ``SEASON_CEILING``, a unit error's order, is no evidence of either
        seasonal_order = np.where(_within_a_season(y, level, offset), lent, np.nan)
        raw, raw_years, of_most, lowest, highest = _seasonal(
            seasonal_order, season, config, segment, extremes=True
        )
        beyond = np.abs(of_most) >= bound
        raw = np.where(beyond, of_most, raw)
        centre = np.where(raw_years >= config.min_season_years, raw, seasonal)
        clipped = np.clip(lent, centre - bound, centre + bound)
        seasonal, years, of_most = _seasonal(clipped, season, config, segment)
        seasonal = np.where(beyond, of_most, seasonal)
    other_years = years
    years = np.where(seasonal != 0, years, 0)
    expected_log = level + seasonal
    resid = y - expected_log
    enough = points >= config.min_level_points
    measured = _net_of_weak_season(resid, d, (lowest, highest), other_years, bound)
    counted = np.where(enough & ~samples, measured, np.nan)
    sigma, sigma_low, sigma_high = residual_scales(counted, config)
    # the scales are measured first, on the levels as they were: a burst's months measured
    # against ordinary ones would widen the very scale that is to judge them
    level, points, width, deviation, trimmed = _ordinary_level(
        y - seasonal, level, points, width, segment, (sigma_low, sigma_high), config
    )
    expected_log = level + seasonal
    resid = y - expected_log
    support = level_support(points, enough & np.isfinite(resid))
    # a level taken from months further away is never surer than the series' usual one
    support = np.where(trimmed, np.maximum(support, 1.0), support)
    z = side_z(resid, (sigma_low, sigma_high), support)
    # a thin level is checked against a better founded one, with the season and, where
    # the season is weak, without it (``_weak_season``)
    sides = (sigma_low, sigma_high)
    reference = thin_reference(y - seasonal, segment, points, sides, config)
    z = _agreed(z, y - seasonal - reference, sides)
    z = _weak_season(z, y - level, (lowest, highest), other_years, sides, support, y - reference)
    return {
        "level": level,
        "level_points": points,
        "level_window": width,
        "seasonal": seasonal,
        "season_years": years,
        "season_source": np.isfinite(clipped),
        "expected_log": expected_log,
        "resid": resid,
        "sigma": sigma,
        "sigma_low": sigma_low,
        "sigma_high": sigma_high,
        "scale_points": np.isfinite(counted).sum(axis=1),
        "z": z,
        "support": support,
        "deviation": deviation,
        "trimmed": trimmed,
    }
