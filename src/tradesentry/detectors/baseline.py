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
  of the detrended values (winsorised at 2.5 scales around the season of the first pass,
  so a December at ×3 every year keeps most of it, ×2.7 where months vary by 20 %; in a
  quiet series the clip binds: ×2.1 at 10 %, ×1.6 at 5 %, and the scale above the
  expectation widens instead; with a zero pseudo-year that shrinks
  towards "no seasonality" when the years disagree), where at least 2 other years report
  that month; where only one does, half its deviation (the median of it and the zero
  year: halfway between "as last year" and "no season"), and only if that year's month
  lies in the same level segment as the month itself (across a level shift the other
  year was another regime, whose swings say nothing of this one's season). Level and
  season are estimated twice, each from the other. The level-shift search sees only the
  seasons two other years agree on, so one year's shift cannot pass into a season first.
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
  ``sigma_low``: the same MAD core, each widened by its own side's tail (the 95 %
  quantile of the deviations above, or below, ÷ 1.645, which for normal noise is the
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
- **Level shifts.** Before the final fit, lasting changes of level are searched on the
  deseasonalised series, with a local trend taken out where the series has a steady one
  (see ``find_shifts``); the series with shifts are then fitted again, each segment on its
  own.
- **A thin level must agree with its segment.** A month whose level rests on fewer than 6
  months (half a full window) keeps its deviation where the median of its whole segment
  agrees that it is unusual (beyond 2 scales, on the same side); a month within 2 scales
  of its segment is an ordinary one of the series and keeps no more than that, and one on
  the other side of its segment's median gets 0. A
  median of three does not stand a two-month burst: in a series of a few shipments a year
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
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tradesentry.detectors.base import confidence, detections, material_score, no_detections
from tradesentry.errors import InputError
from tradesentry.panel import Panel

#: a seasonal term (log) from which a month's season is said to have moved it: 1 %
SEASON_SHOWN = 0.01
MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution is 0.6745 sigma
MEDIAN_SE = math.sqrt(math.pi / 2)  # a median's standard error relative to a mean's


@dataclass(frozen=True)
class BaselineConfig:
    """Parameters of the shared model (documented in docs/detectors.md)."""

    offset_share: float = 1e-2
    half_window: int = 6
    wide_half_window: int = 12
    min_level_points: int = 3
    #: a level on fewer months must agree with its segment's median (``_agreed_with_segment``)
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
class Shifts:
    """Lasting changes of level, one element per change."""

    series: np.ndarray  # panel row
    start: np.ndarray  # first column of the new level
    old: np.ndarray  # log level before: median of the reported months of the previous segment
    new: np.ndarray  # log level after: median of the reported months of the new segment
    stat: np.ndarray  # (new - old) / its standard error
    persistence: np.ndarray  # share of the months on each side that stay on their side
    n_before: np.ndarray  # reported months of the previous segment
    n_after: np.ndarray  # reported months of the new segment
    end: np.ndarray  # last reported column of the new segment

    def __len__(self) -> int:
        return len(self.series)


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
        panel.cache[key] = fit(values, panel.season, config)
    return panel.cache[key]


def ordinary_zeros(panel: Panel, config: BaselineConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Reported zeros that the series' own habit of months without trade explains.

    A zero and a missing month say the same thing: no trade recorded that month. The
    chance of such a month is the series' rate of them over its span (first to last
    report), the run of such months around the zero left out and Laplace-smoothed as for
    gaps: P = (other months without trade + ½)/(other months + 1). Where P exceeds the
    chance the gap detector flags (``no_trade_z`` = 2.5: 4.4 %, about one month in 23), a
    zero is what the series does now and then. A series that has traded in every other
    month keeps its zeros (P = 1.4 % over 36 months), as does one with a single other
    month without trade in 36 (P = 4.2 %), and so does a run of zeros after years of
    trade (the run is left out of its own rate): the stop of a flow is news. A habit needs
    a precedent: a zero in a series with no other month without trade is never ordinary,
    however short the series (the smoothed P of a series of 8 months, 0.5/8, would
    otherwise pass the zero while flagging a month of $1K in its place).
    """
    v = panel.values
    zero = v == 0
    reported = (np.isfinite(v) & ~zero) | covered_by_combined(panel)
    seen = reported | zero
    T = v.shape[1]
    first = np.argmax(seen, axis=1)[:, None]
    last = T - 1 - np.argmax(seen[:, ::-1], axis=1)[:, None]
    inside = (np.arange(T) >= first) & (np.arange(T) <= last)
    without = inside & ~reported
    run = _run_lengths(without)
    other_months = inside.sum(axis=1, keepdims=True) - run
    other_without = without.sum(axis=1, keepdims=True) - run
    chance = (other_without + 0.5) / (other_months + 1.0)
    return zero & (other_without >= 1) & (chance > math.exp(-(config.no_trade_z**2) / 2.0))


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """For each True cell, the length of the run of True it belongs to (0 elsewhere)."""
    n, T = mask.shape
    flat = np.pad(mask, ((0, 0), (0, 1))).ravel()  # a False column keeps runs in their row
    starts = flat & ~np.concatenate([[False], flat[:-1]])
    ids = np.cumsum(starts) * flat
    lengths = np.bincount(ids)[ids] * flat
    return lengths.reshape(n, T + 1)[:, :T]


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


def fit(values: np.ndarray, season: int = 12, config: BaselineConfig = DEFAULT_CONFIG) -> Baseline:
    """Fit the model to ``values[n_series, n_months]`` (NaN = not reported).

    Rows are fitted in blocks of ``config.block_rows`` so that the sliding windows stay
    within a bounded memory whatever the chunk size; every row is independent of the others,
    so the blocks run on ``threads()`` threads and the result does not depend on how many.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    if n <= config.block_rows:
        return _fit_rows(values, season, config)
    blocks = [values[a : a + config.block_rows] for a in range(0, n, config.block_rows)]
    workers = min(threads(), len(blocks))
    if workers == 1:
        parts = [_fit_rows(block, season, config) for block in blocks]
    else:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda block: _fit_rows(block, season, config), blocks))
    return _concat(parts, config)


def threads() -> int:
    """Threads fitting blocks of series at once: TRADESENTRY_THREADS, else one per CPU."""
    wanted = os.environ.get("TRADESENTRY_THREADS", "").strip()
    if not wanted:
        return os.cpu_count() or 1
    if not wanted.isdigit() or int(wanted) < 1:
        raise InputError(f"TRADESENTRY_THREADS={wanted!r}: expected a whole number of threads")
    return int(wanted)


def _fit_rows(values: np.ndarray, season: int, config: BaselineConfig) -> Baseline:
    y, offset = log_values(values, config.offset_share)
    flat = np.zeros(y.shape, dtype=np.int64)
    fitted = _fit_segments(y, flat, season, config)
    # a level shift in the one other year would pass half into a season taken from it, so
    # the search sees only the seasons that at least two other years agree on
    agreed = fitted["season_years"] >= config.min_season_years
    shifts, segment = find_shifts(y - np.where(agreed, fitted["seasonal"], 0.0), config)
    rows = np.unique(shifts.series)
    if rows.size:  # refit the series with level shifts, each segment on its own
        again = _fit_segments(y[rows], segment[rows], season, config)
        for name, array in again.items():
            fitted[name][rows] = array
    expected = np.maximum(np.exp(fitted["expected_log"]) - offset[:, None], 0.0)
    return Baseline(
        y=y,
        offset=offset,
        expected=expected,
        segment=segment,
        shifts=shifts,
        config=config,
        **fitted,
    )


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


# -- building blocks -------------------------------------------------------------------------


def log_values(values: np.ndarray, share: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """``log(v + c)`` with ``c`` = ``share`` × the 10th percentile of the positive values."""
    v = np.asarray(values, dtype=float)
    low = nanquantile(np.where(v > 0, v, np.nan), 0.1)
    offset = np.where(np.isfinite(low), share * low, 1.0)
    with np.errstate(invalid="ignore"):
        y = np.log(np.where(v >= 0, v, np.nan) + offset[:, None])
    return y, offset


def nanquantile(a: np.ndarray, q: float) -> np.ndarray:
    """The lower ``q`` quantile over the last axis ignoring NaN (an observed value, no interpolation)."""
    n = np.count_nonzero(~np.isnan(a), axis=-1)
    if a.shape[-1] == 0:
        return np.full(a.shape[:-1], np.nan)
    s = np.sort(a, axis=-1)
    at = np.floor(q * np.maximum(n - 1, 0)).astype(np.int64)[..., None]
    return np.where(n > 0, np.take_along_axis(s, at, -1)[..., 0], np.nan)


def nanmedian(a: np.ndarray, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Median over the last axis ignoring NaN, and the count of values; NaN where none.

    Sorting puts NaN last, so the median is read at the middle of the valid part; no
    warnings for empty slices and much faster than ``np.nanmedian`` on many short rows.
    ``overwrite=True`` sorts ``a`` itself, sparing a copy, where the caller owns ``a`` and
    does not need the order of its rows.
    """
    if a.shape[-1] == 0:
        return np.full(a.shape[:-1], np.nan), np.zeros(a.shape[:-1], dtype=np.int64)
    if not overwrite:
        return _sorted_median(np.sort(a, axis=-1))
    a.sort(axis=-1)
    return _sorted_median(a)


def _sorted_median(s: np.ndarray, n: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``nanmedian`` of rows already sorted along the last axis (NaN last); ``n``, the
    count of values per row, where the caller knows it (counting costs as much as the rest).

    On the model's millions of short rows NumPy's reductions along a short last axis are
    slow, so the NaN are counted by a product with a vector of ones (exact in float32 for
    any row length here) and the two middle values are read by flat indices rather than
    ``take_along_axis``: together about three times faster than ``count_nonzero`` and two
    takes."""
    width = s.shape[-1]
    if n is None:
        missing = np.isnan(s).view(np.uint8).astype(np.float32) @ np.ones(width, np.float32)
        n = width - missing.astype(np.int64)
    flat = s.reshape(-1, width)
    at = np.arange(flat.shape[0]) * width
    lo = at + np.maximum((n - 1) // 2, 0).ravel()
    hi = at + np.minimum(n // 2, width - 1).ravel()
    values = flat.ravel()
    med = (0.5 * (values[lo] + values[hi])).reshape(n.shape)
    return np.where(n > 0, med, np.nan), n


def windows(a: np.ndarray, before: int, after: int, fill) -> np.ndarray:
    """View of shape (n, T, before + 1 + after): for column t, columns t-before .. t+after."""
    padded = np.pad(a, ((0, 0), (before, after)), constant_values=fill)
    return sliding_window_view(padded, before + 1 + after, axis=1)


def local_level(x: np.ndarray, segment: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out median of the reported months within ±half in the same segment."""
    w = windows(x, half, half, np.nan).copy()
    w[..., half] = np.nan
    rows = np.flatnonzero(segment.any(axis=1))  # only rows with level shifts have segments
    if rows.size:
        same = windows(segment[rows], half, half, -1) == segment[rows][..., None]
        w[rows] = np.where(same, w[rows], np.nan)
    return nanmedian(w, overwrite=True)


def robust_scale(r: np.ndarray, config: BaselineConfig, tail: bool = True) -> np.ndarray:
    """Robust residual scale per row (see the module doc).

    The larger of 1.4826 × MAD and the ``tail_quantile`` (90 %) of the absolute deviations
    divided by the normal quantile (1.645): the two agree on normal residuals, and the
    second widens the scale of a series whose months often stray far (lumpy shipments, a
    series with a low month every few months), so that what a tenth of its months do is not
    called an anomaly. Blended with the prior scale and floored. ``tail=False`` keeps the MAD
    alone (the level-shift noise scale, whose largest differences are the shifts themselves).
    """
    dev, mad, n = _deviations(r)
    raw = MAD_TO_SIGMA * mad
    if tail:
        q = nanquantile(np.abs(dev), config.tail_quantile) / _normal_quantile(config.tail_quantile)
        raw = np.fmax(raw, np.nan_to_num(q))
    return _blended(raw, n, config)


def residual_scales(
    r: np.ndarray, config: BaselineConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``robust_scale`` of ``r``, and the scales below and above its centre, each widened by
    its own side's tail instead of both: the one-sided quantile that matches the two-sided
    one for normal noise ((1 + 0.9) / 2 = 95 %), so all three agree on symmetric residuals.

    A side's 95 % point has a residual of its own beyond it only from ``1 / (1 - 0.95)`` =
    20 residuals on; with fewer it is the second largest deviation of the whole row, and a
    row with one large deviation on each side (two of six months) would have both sides
    narrowed to the quiet months and each large month called an anomaly. So a row of fewer
    residuals keeps each side at least as wide as both sides together.
    """
    dev, mad, n = _deviations(r)
    raw = MAD_TO_SIGMA * mad
    norm = _normal_quantile(config.tail_quantile)
    one_sided = (1.0 + config.tail_quantile) / 2.0
    tails = (
        nanquantile(np.abs(dev), config.tail_quantile),
        nanquantile(-dev, one_sided),
        nanquantile(dev, one_sided),
    )
    both, low, high = (_blended(np.fmax(raw, np.nan_to_num(q / norm)), n, config) for q in tails)
    few = n < round(1.0 / (1.0 - one_sided))
    return both, np.where(few, np.fmax(low, both), low), np.where(few, np.fmax(high, both), high)


def _deviations(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deviations from the row median, their median absolute value (0 if none) and count."""
    center, _ = nanmedian(r)
    dev = r - center[:, None]
    mad, n = nanmedian(np.abs(dev), overwrite=True)
    return dev, np.nan_to_num(mad), n


def _blended(raw: np.ndarray, n: np.ndarray, config: BaselineConfig) -> np.ndarray:
    """A raw scale from ``n`` residuals blended with the prior scale, then floored."""
    w = config.prior_weight
    blended = np.sqrt((n * raw**2 + w * config.sigma_prior**2) / (n + w))
    return np.maximum(blended, config.sigma_floor)


def _normal_quantile(p: float) -> float:
    """Two-sided: x with P(|Z| <= x) = p for a standard normal Z (bisection on erf)."""
    lo, hi = 0.0, 10.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if math.erf(mid / math.sqrt(2.0)) < p else (lo, mid)
    return 0.5 * (lo + hi)


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
#: series (what 95 % of months do under normal noise): a thin local level cannot make it an
#: anomaly (``_agreed_with_segment``)
ORDINARY_SCALES = 2.0


def _agreed_with_segment(
    z: np.ndarray,
    x: np.ndarray,
    segment: np.ndarray,
    points: np.ndarray,
    sides: tuple[np.ndarray, np.ndarray],
    config: BaselineConfig,
) -> np.ndarray:
    """``z`` where a month's level rests on fewer than ``thin_level_points`` months, checked
    against the median of its whole segment (``x`` the deseasonalised log values, in the
    series' scale below or above, ``sides``): 0 where the two disagree in sign; where the
    month is an ordinary one of its segment (within ``ORDINARY_SCALES``, what 95 % of months
    do under normal noise), no more than its deviation from the segment; else its own.
    The thin local level stays the expectation; the segment only says whether the month
    is one the series has anyway. A segment of fewer than ``thin_level_points`` reported
    months has no better reference: its months keep their ``z``. The segment's median
    includes the month, which in a median of 6 or more moves it by one rank at most."""
    thin = np.isfinite(z) & (points < config.thin_level_points)
    rows = np.flatnonzero(thin.any(axis=1))
    if not rows.size:
        return z
    med, count, _ = _segment_summary(x[rows], segment[rows])
    seg = segment[rows]
    r = np.arange(len(rows))[:, None]
    whole = med[r, seg]
    enough = count[r, seg] >= config.thin_level_points
    off = x[rows] - whole
    low, high = (side[rows][:, None] for side in sides)
    with np.errstate(invalid="ignore"):
        z_seg = off / np.where(off >= 0, high, low)
    zr = z[rows]
    same = np.sign(zr) == np.sign(z_seg)
    ordinary = ~(np.abs(z_seg) >= ORDINARY_SCALES)  # NaN (the month not reported) too
    capped = np.sign(zr) * np.fmin(np.abs(zr), np.abs(z_seg))
    agreed = np.where(same, np.where(ordinary, capped, zr), 0.0)
    out = z.copy()
    out[rows] = np.where(thin[rows] & enough, agreed, zr)
    return out


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
    med, count, _ = _segment_summary(x[rows], segment[rows])
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
    d: np.ndarray, season: int, config: BaselineConfig, segment: np.ndarray | None = None
):
    """Leave-one-out median of the same calendar month in other years (with a zero prior).

    Two other years or more: their median with the zero year. One: half its deviation (the
    median of it and the zero year), only where that year's month is in the same level
    segment as the month itself: across a level shift the other year was another regime.
    """
    n, T = d.shape
    years = min(config.max_season_years, (T - 1) // season) if season > 1 else 0
    if years < 1:
        return np.zeros_like(d), np.zeros(d.shape, dtype=np.int64)
    if segment is None:
        segment = np.zeros(d.shape, dtype=np.int64)
    # for column t, columns t - years·season .. t + years·season in steps of a season:
    # the same calendar month in the other years, and the month itself in the middle
    reach = years * season

    def same_month(a: np.ndarray, fill) -> np.ndarray:
        return windows(a, reach, reach, fill)[..., ::season]

    stack = same_month(d, np.nan).copy()
    stack[..., years] = 0.0  # the month itself out, the zero pseudo-year in
    # other years in the month's own segment: all of them, in a series without level shifts
    rows = np.flatnonzero(segment.any(axis=1))
    in_segment = same_month(segment[rows], -1) == segment[rows][..., None]
    same_in_rows = (np.isfinite(stack[rows]) & in_segment).sum(axis=-1) - 1
    med, count = nanmedian(stack, overwrite=True)
    count = count - 1
    same = count.copy()
    same[rows] = same_in_rows
    use = (count >= config.min_season_years) | ((count == 1) & (same == 1))
    return np.where(use, med, 0.0), count


def seasonal_term(
    d: np.ndarray, season: int, config: BaselineConfig, segment: np.ndarray | None = None
) -> np.ndarray:
    """The seasonal term of ``d`` by the model's rule (``_seasonal``), for other detectors."""
    return _seasonal(d, season, config, segment)[0]


def _fit_segments(y: np.ndarray, segment: np.ndarray, season: int, config: BaselineConfig) -> dict:
    """Level and season, each estimated from the other, twice; residuals and scale."""
    seasonal = np.zeros_like(y)
    years = np.zeros(y.shape, dtype=np.int64)
    for _ in range(2):
        level, points, width = _level(y - seasonal, segment, config)
        d = y - level
        scale = robust_scale(d - seasonal, config)
        # winsorised around the season found so far: the bound is a scale of the
        # deseasonalised residuals, so clipping the raw deviations would cut the season
        bound = config.winsor * scale[:, None]
        seasonal, years = _seasonal(
            np.clip(d, seasonal - bound, seasonal + bound), season, config, segment
        )
    years = np.where(seasonal != 0, years, 0)
    expected_log = level + seasonal
    resid = y - expected_log
    enough = points >= config.min_level_points
    counted = np.where(enough, resid, np.nan)
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
    z = resid / (np.where(resid >= 0, sigma_high[:, None], sigma_low[:, None]) * support)
    z = _agreed_with_segment(z, y - seasonal, segment, points, (sigma_low, sigma_high), config)
    return {
        "level": level,
        "level_points": points,
        "level_window": width,
        "seasonal": seasonal,
        "season_years": years,
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


# -- level shifts ------------------------------------------------------------------------------


def find_shifts(
    x: np.ndarray, config: BaselineConfig = DEFAULT_CONFIG
) -> tuple[Shifts, np.ndarray]:
    """Lasting changes of level in ``x`` (deseasonalised log values), and the segment ids.

    At each month t the median of the reported months in [t-k, t) is compared with the
    median of those in [t, t+k), for k = 6 and k = 12 (at least 3 months on each side, within
    the current segment), standardised by the noise scale and the medians' standard error
    (1.2533 σ √(1/n_before + 1/n_after)). The noise scale σ comes from the differences of
    consecutive reported months within segments (÷√2), which a level shift contaminates
    only once, unlike residuals around a level that does not know the shift yet. The
    strongest change per series is kept if it passes the threshold and persists (most
    months on each side stay on their side of the midpoint); its month is refined by the
    least-absolute-deviation split nearby; then σ is re-estimated and the search repeats
    inside the new segments (binary segmentation with local windows).
    """
    n, T = x.shape
    cp = np.zeros((n, T), dtype=bool)
    active = np.arange(n)
    for _ in range(config.max_shifts):
        if not active.size:
            break
        sub_x, sub_cp = x[active], cp[active]
        sigma = shift_scale(sub_x, sub_cp, config)
        t_best = _best_shift(sub_x, sub_cp, sigma, config)
        found = t_best >= 0
        if not found.any():
            break
        rows = active[found]
        t_best = _refine(x[rows], cp[rows], t_best[found], config)
        cp[rows, t_best] = True
        active = rows
    return _shift_table(x, cp, config)


def shift_scale(x: np.ndarray, cp: np.ndarray, config: BaselineConfig) -> np.ndarray:
    """Robust scale of consecutive reported differences within segments, divided by √2."""
    n, T = x.shape
    segment = np.cumsum(cp, axis=1)
    idx = np.where(np.isfinite(x), np.arange(T)[None, :], -1)
    last = np.maximum.accumulate(idx, axis=1)
    prev = np.concatenate([np.full((n, 1), -1), last[:, :-1]], axis=1)
    rows = np.arange(n)[:, None]
    safe = np.maximum(prev, 0)
    ok = (prev >= 0) & np.isfinite(x) & (segment[rows, safe] == segment)
    diff = np.where(ok, x - x[rows, safe], np.nan)
    return robust_scale(diff / math.sqrt(2.0), config, tail=False)


def _yearly_differences(x: np.ndarray, segment: np.ndarray, lag: int) -> np.ndarray:
    """``(x[t] - x[t - lag]) / lag`` where both months are in one segment, else NaN."""
    d = np.full(x.shape, np.nan)
    same = segment[:, lag:] == segment[:, :-lag]
    d[:, lag:] = np.where(same, (x[:, lag:] - x[:, :-lag]) / lag, np.nan)
    return d


def trending(
    x: np.ndarray, segment: np.ndarray, config: BaselineConfig, d: np.ndarray | None = None
) -> np.ndarray:
    """Series with a steady trend in some segment: the median of its 12-month differences
    at least twice its standard error, from at least 6 (``_trend_ok``)."""
    if config.trend_lag >= x.shape[1]:
        return np.zeros(len(x), dtype=bool)
    d = _yearly_differences(x, segment, config.trend_lag) if d is None else d
    out = np.zeros(len(x), dtype=bool)
    for s in range(int(segment.max(initial=0)) + 1):  # a handful of segments
        med, se, count = _median_and_se(np.where(segment == s, d, np.nan))
        out |= _trend_ok(med, se, count, config)
    return out


def local_slope(x: np.ndarray, cp: np.ndarray, config: BaselineConfig):
    """Robust local trend at each month and its standard error (both 0 where not used).

    The median of the 12-month differences ÷ 12 (which also cancels the season) within
    ±24 months in the same segment, leaving out the differences that straddle the month
    (they would contain a shift there). It is used only where at least 6 differences agree
    well enough for the trend to be twice its standard error (1.2533 × their robust spread
    ÷ √n): a steady trend, not the trace of other level shifts. To save work, the local
    trend is computed only for the series whose segments show such a trend overall.
    """
    n, T = x.shape
    slope, slope_se = np.zeros((n, T)), np.zeros((n, T))
    lag = config.trend_lag
    if lag >= T:
        return slope, slope_se
    segment = np.cumsum(cp, axis=1)
    d = _yearly_differences(x, segment, lag)
    rows = np.flatnonzero(trending(x, segment, config, d))
    if rows.size:
        w = windows(d[rows], 24, 24, np.nan).copy()
        w[..., 24 : 24 + lag] = np.nan  # s in [t, t+lag): x[s] - x[s-lag] straddles t
        w[windows(segment[rows], 24, 24, -1) != segment[rows][..., None]] = np.nan
        med, se, count = _median_and_se(w)
        use = _trend_ok(med, se, count, config)
        slope[rows], slope_se[rows] = np.where(use, med, 0.0), np.where(use, se, 0.0)
    return slope, slope_se


def _median_and_se(d: np.ndarray):
    """Median over the last axis, its standard error from the robust spread, the count.

    Sorts ``d`` in place (its callers pass arrays made for the call)."""
    med, count = nanmedian(d, overwrite=True)
    mad, _ = nanmedian(np.abs(d - med[..., None]), overwrite=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = MEDIAN_SE * MAD_TO_SIGMA * mad / np.sqrt(count)
    return med, se, count


def _trend_ok(med, se, count, config: BaselineConfig) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (count >= config.trend_min_diffs) & (np.abs(med) >= 2.0 * se)


def _side_stats(x, cp, sigma, k: int, config: BaselineConfig, trend):
    """For every boundary t and window k: standardised change, persistence, and the two
    levels compared (the medians of the detrended windows before and from t, with their
    counts: ``mb, nb, ma, na``).

    The windows are detrended with the local slope (``local_slope``), so that a steadily
    growing series is not cut into steps; the slope's own error enters the standard error.
    Persistence is measured only where the statistic reaches ``shift_threshold`` (0
    elsewhere), the only boundaries where it is asked: counting every window's months
    against its midpoint cost more than sorting the windows.
    """
    slope, slope_se = trend
    n, T = x.shape
    stat, persistence = np.full((n, T), np.nan), np.zeros((n, T))
    sides = (
        np.empty((n, T)),
        np.empty((n, T), np.int64),
        np.empty((n, T)),
        np.empty((n, T), np.int64),
    )
    # most series have neither a change point yet nor a trend: for them the after window of
    # t is the before window of t + k, so one sort of the sliding windows serves both sides
    plain = ~cp.any(axis=1) & ~slope.any(axis=1)
    for rows, is_plain in ((plain, True), (~plain, False)):
        if not rows.any():
            continue
        part = slice(None) if rows.all() else rows
        if is_plain:
            xb, mb, nb, xa, ma, na = _plain_side_windows(x[part], k)
        else:
            xb, mb, nb, xa, ma, na = _segment_side_windows(x[part], cp[part], k, slope[part])
        with np.errstate(divide="ignore", invalid="ignore"):
            var = (MEDIAN_SE * sigma[part, None]) ** 2 * (1.0 / nb + 1.0 / na)
            st = (ma - mb) / np.sqrt(var + (k * slope_se[part]) ** 2)
        enough = (nb >= config.shift_min_points) & (na >= config.shift_min_points)
        st = np.where(enough & np.isfinite(x[part]), st, np.nan)
        stat[part] = st
        for full, side in zip(sides, (mb, nb, ma, na), strict=True):
            full[part] = side
        i, t = np.nonzero(np.abs(st) >= config.shift_threshold)
        if i.size:
            persist = _persistence(xb[i, t], mb[i, t], nb[i, t], xa[i, t], ma[i, t], na[i, t])
            persistence[np.flatnonzero(rows)[i], t] = persist
    return stat, persistence, sides


def _persistence(xb, mb, nb, xa, ma, na) -> np.ndarray:
    """Share of the months on each side of a boundary that stay on their side of the
    midpoint between the two levels, the smaller of the two shares (``xb``, ``xa``: the
    windows, one row per boundary)."""
    mid = 0.5 * (ma + mb)[:, None]
    up = (ma > mb)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        stay_after = np.where(up, xa > mid, xa < mid).sum(-1) / na
        stay_before = np.where(up, xb < mid, xb > mid).sum(-1) / nb
    return np.nan_to_num(np.minimum(stay_after, stay_before))


def _plain_side_windows(x, k: int):
    """The k months before and from each boundary of rows without change points or trend:
    the windows (sorted), their medians and counts, before then after."""
    T = x.shape[1]
    padded = np.pad(x, ((0, 0), (k, k)), constant_values=np.nan)
    ordered = np.sort(
        sliding_window_view(padded, k, axis=1), axis=-1
    )  # window j: columns j-k .. j-1
    reported = np.cumsum(np.isfinite(padded), axis=1)
    count = (
        reported[:, k - 1 :] - np.pad(reported, ((0, 0), (1, 0)))[:, : reported.shape[1] - k + 1]
    )
    med, count = _sorted_median(ordered, count)
    before, after = slice(0, T), slice(k, k + T)
    return (
        ordered[:, before], med[:, before], count[:, before],
        ordered[:, after], med[:, after], count[:, after],
    )  # fmt: skip


def _segment_side_windows(x, cp, k: int, slope):
    """As ``_plain_side_windows`` for rows with change points or a trend: each window
    detrended to its boundary and kept within its segment."""
    n, T = x.shape
    segment = np.cumsum(cp, axis=1)
    before = windows(x, k, 0, np.nan)[..., :k]  # columns t-k .. t-1
    after = windows(x, 0, k, np.nan)[..., :k]  # columns t .. t+k-1
    before = before - slope[..., None] * np.arange(-k, 0)
    after = after - slope[..., None] * np.arange(0, k)
    seg_before = windows(segment, k, 0, -1)[..., :k]
    seg_after = windows(segment, 0, k, -1)[..., :k]
    prev_seg = np.concatenate([np.full((n, 1), -1), segment[:, :-1]], axis=1)
    xb = np.where(seg_before == prev_seg[..., None], before, np.nan)
    xa = np.where(seg_after == segment[..., None], after, np.nan)
    # sorted in place: the persistence counts that follow do not need the months' order
    return (xb, *nanmedian(xb, overwrite=True), xa, *nanmedian(xa, overwrite=True))


def _shift_evidence(x, cp, sigma, config) -> tuple[np.ndarray, np.ndarray]:
    """The strongest admissible statistic over the window lengths, and its persistence."""
    best = np.full(x.shape, np.nan)
    persist = np.zeros(x.shape)
    trend = local_slope(x, cp, config)
    for k in config.shift_windows:
        stat, persistence, _ = _side_stats(x, cp, sigma, k, config, trend)
        ok = (np.abs(stat) >= config.shift_threshold) & (persistence >= config.shift_persistence)
        stronger = ok & ~(np.abs(stat) <= np.abs(best))
        best = np.where(stronger, stat, best)
        persist = np.where(stronger, persistence, persist)
    return best, persist


def _best_shift(x, cp, sigma, config) -> np.ndarray:
    """Column of the strongest admissible new change per row, -1 where none."""
    stat, _ = _shift_evidence(x, cp, sigma, config)
    score = np.where(np.isfinite(stat) & ~cp, np.abs(stat), -1.0)
    best = np.argmax(score, axis=1)
    return np.where(score[np.arange(len(best)), best] > 0, best, -1)


def _compared_levels(
    x: np.ndarray, cp: np.ndarray, t: np.ndarray, config: BaselineConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two levels the test compared at column ``t`` of each row, and the local slope.

    The medians of the reported months in [t-k, t) and [t, t+k) within t's segment,
    detrended to t, for the window length k whose statistic ``_shift_evidence`` kept (the
    strongest admissible one); where none is admissible, the shortest with 3 months on
    each side. NaN where there is none either.
    """
    n = x.shape[0]
    rows = np.arange(n)
    trend = local_slope(x, cp, config)
    sigma = shift_scale(x, cp, config)
    old, new = np.full(n, np.nan), np.full(n, np.nan)
    best = np.full(n, -1.0)
    for k in config.shift_windows:
        stat, persistence, sides = _side_stats(x, cp, sigma, k, config, trend)
        mb, nb, ma, na = (a[rows, t] for a in sides)
        strength = np.abs(stat[rows, t])
        kept = (strength >= config.shift_threshold) & (
            persistence[rows, t] >= config.shift_persistence
        )
        enough = (nb >= config.shift_min_points) & (na >= config.shift_min_points)
        use = np.where(kept, strength > best, enough & (best < 0) & np.isnan(old))
        old, new = np.where(use, mb, old), np.where(use, ma, new)
        best = np.where(use & kept, strength, best)
    return old, new, trend[0][rows, t]


def _refine(x: np.ndarray, cp: np.ndarray, t: np.ndarray, config: BaselineConfig) -> np.ndarray:
    """Move each change within ±6 months to the least-absolute-deviation split between the
    two levels its test compared.

    The levels are the medians of the test's own windows at ``t`` (``_compared_levels``),
    held fixed while the split moves, so each month in between goes to the side whose
    level it is nearer: at the best split the first month of the new level is on the new
    level's side of the midpoint and the last month before on the old side (unless the
    best split is 6 months away). Medians re-estimated for each candidate over ±12 months
    did not ensure it: where those months also held the series' next change (a fall and
    a recovery within the year) the "new" median was the level after the recovery, and a
    month still at the old level joined the new one. The split may leave the new level
    fewer than 3 months, as where it was seen in 2: the test then no longer passes there
    and ``_shift_table`` drops it, rather than the shift starting a month early. Ties
    go to the candidate nearest the test's month, the earlier of two.
    """
    k, reach = max(config.shift_windows), max(config.shift_windows) // 2
    n, T = x.shape
    rows = np.arange(n)
    segment = np.cumsum(cp, axis=1)
    old, new, slope = _compared_levels(x, cp, t, config)
    offsets = np.arange(-k, k + 1)
    cols = t[:, None] + offsets[None, :]
    c = np.clip(cols, 0, T - 1)
    same = (cols >= 0) & (cols < T) & (segment[rows[:, None], c] == segment[rows, t][:, None])
    vals = np.where(same, x[rows[:, None], c] - slope[:, None] * offsets, np.nan)
    to_old, to_new = np.abs(vals - old[:, None]), np.abs(vals - new[:, None])
    best_t, best_cost = t.copy(), np.full(n, np.inf)
    for off in sorted(range(-reach, reach + 1), key=lambda o: (abs(o), o)):
        tau = t + off
        cost = np.nansum(np.where(offsets < off, to_old, to_new), axis=1)
        at = np.clip(tau, 0, T - 1)
        ok = (tau >= 0) & (tau < T) & np.isfinite(x[rows, at]) & ~cp[rows, at]
        ok &= segment[rows, at] == segment[rows, t]
        better = ok & (cost < best_cost - 1e-9)
        best_t = np.where(better, tau, best_t)
        best_cost = np.where(better, cost, best_cost)
    return best_t


def _shift_table(x, cp, config) -> tuple[Shifts, np.ndarray]:
    """The accepted changes with their final statistics; drops those that no longer pass."""
    n, T = x.shape
    stat = np.full((n, T), np.nan)
    persistence = np.zeros((n, T))
    rows = np.flatnonzero(cp.any(axis=1))
    for _ in range(3):
        if not rows.size:
            break
        sub = cp[rows]
        sigma = shift_scale(x[rows], sub, config)
        st, pe = _shift_evidence(x[rows], sub, sigma, config)
        stat[rows], persistence[rows] = st, pe
        keep = sub & np.isfinite(st)
        if (keep == sub).all():
            break
        cp[rows] = keep
    segment = np.cumsum(cp, axis=1)
    rows, cols = np.nonzero(cp)
    seg_median, seg_count, seg_last = _segment_summary(x, segment)
    new_id = segment[rows, cols]
    return (
        Shifts(
            series=rows,
            start=cols,
            old=seg_median[rows, new_id - 1],
            new=seg_median[rows, new_id],
            stat=stat[rows, cols],
            persistence=persistence[rows, cols],
            n_before=seg_count[rows, new_id - 1],
            n_after=seg_count[rows, new_id],
            end=seg_last[rows, new_id],
        ),
        segment,
    )


def _segment_summary(x: np.ndarray, segment: np.ndarray):
    """Per (row, segment): median of the reported values, their count and last column."""
    n, T = x.shape
    n_seg = int(segment.max()) + 1 if segment.size else 1
    median = np.full((n, n_seg), np.nan)
    count = np.zeros((n, n_seg), dtype=np.int64)
    last = np.zeros((n, n_seg), dtype=np.int64)
    cols = np.arange(T)[None, :]
    for s in range(n_seg):  # a handful of segments at most (max_shifts + 1)
        inside = (segment == s) & np.isfinite(x)
        median[:, s], count[:, s] = nanmedian(np.where(inside, x, np.nan), overwrite=True)
        last[:, s] = np.where(inside, cols, -1).max(axis=1) if T else 0
    return median, count, last


# -- what an expectation came from ----------------------------------------------------------------

# The words of the helpers below, beside them rather than at the top (the model's part).
from tradesentry.text import factor as times_factor  # noqa: E402
from tradesentry.text import (  # noqa: E402
    joined,
    money,
    percent,
    period_name,
    period_unit,
    plural,
    times,
)


def sources(
    panel: Panel,
    model: Baseline,
    rows: np.ndarray,
    cols: np.ndarray,
    leave_out: np.ndarray | None = None,
    level: np.ndarray | None = None,
) -> list[dict]:
    """For each cell, the months its expectation was taken from (for evidence and text):
    ``level_months`` (the cell's own month left out, and the column ``leave_out`` where
    given, with ``level`` the log level taken without it: ``level_without``),
    ``level_window``, ``season_years``,
    ``seasonal_factor`` and ``regime_start``, the first month of the level-shift segment
    the level was taken within (None for the series' first segment).

    And the reading without the season, for the text to offer where the season decides a
    finding (a seasonal factor can come from other years' odd months): ``level_expected``,
    the expectation of the level alone in money (exp(level) − c), the month's
    ``level_ratio`` to it and ``level_z``, the month against it in the scale its ``z`` is
    measured in (the side scale of its deviation from the level, times ``support``); and
    ``season_values``, the same calendar month in the years behind the seasonal factor,
    each with its ``period``, ``value`` as recorded and ``level_expected``, the level of
    the months around it: the figures the seasonal factor was taken from.

    Loops over findings, not series: it runs only for the few cells that are flagged.
    """
    out = []
    T = panel.n_months
    rows, cols = np.asarray(rows), np.asarray(cols)
    skip = np.full(len(rows), -1) if leave_out is None else np.asarray(leave_out)
    shift_start = _regime_start(model, rows, cols)
    for k, (i, t) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        h = int(model.level_window[i, t])
        lo, hi = max(t - h, 0), min(t + h, T - 1)
        cand = np.arange(lo, hi + 1)
        seg = model.segment[i]
        kept = (cand != t) & (cand != skip[k])
        same = kept & (seg[cand] == seg[t])
        reported = same & np.isfinite(model.y[i, cand])
        odd = reported & model.trimmed[i, t]
        scale = side_scale((model.sigma_low, model.sigma_high), i, model.deviation[i, t])
        odd &= burst_partners(model.deviation[i, cand], model.deviation[i, t], scale)
        used, left_out = cand[reported & ~odd], cand[odd]
        # reported zeros the model leaves out as the series' habit: not "months reported"
        zeros = int(
            np.count_nonzero(same & (panel.values[i, cand] == 0) & np.isnan(model.y[i, cand]))
        )
        other = np.arange(0)
        if model.season_years[i, t] > 0:
            s = panel.season
            reach = s * model.config.max_season_years
            other = np.arange(t % s, T, s)
            other = other[
                (other != t)
                & (np.abs(other - t) <= reach)
                & np.isfinite(model.y[i, other] - model.level[i, other])
            ]
        level_log = model.level[i].copy()
        if level is not None:
            level_log[t] = level[k]
        level_money = np.maximum(np.exp(level_log) - model.offset[i], 0.0)
        off_level = model.y[i, t] - level_log[t]
        side = model.sigma_high[i] if off_level >= 0 else model.sigma_low[i]
        out.append(
            {
                "level_months": [panel.label(int(c)) for c in used],
                **({"level_zeros_left_out": zeros} if zeros else {}),
                **_left_out_words(panel, model.deviation[i], left_out),
                # their level is the median of each net of its season: not theirs as read
                "level_adjusted": bool(np.any(np.abs(model.seasonal[i, used]) >= SEASON_SHOWN)),
                "level_window": h,
                "season_years": [panel.label(int(c))[:4] for c in other],
                # significant digits: a factor of 0.004 is not 0 (nor "no season")
                "seasonal_factor": float(f"{float(np.exp(model.seasonal[i, t])):.4g}"),
                "regime_start": panel.label(int(shift_start[k])) if shift_start[k] >= 0 else None,
                "level_expected": evidence_figure(level_money[t]),
                "level_ratio": _ratio(panel.values[i, t], level_money[t]),
                "level_z": evidence_figure(off_level / (side * model.support[i, t])),
                "season_values": [
                    {
                        "period": panel.label(int(c)),
                        "value": evidence_figure(panel.values[i, c]),
                        "level_expected": evidence_figure(level_money[c]),
                    }
                    for c in other
                ],
            }
        )
    return out


def _left_out_words(panel: Panel, deviation: np.ndarray, left_out: np.ndarray) -> dict:
    """Evidence of the months a thin level left out (``_ordinary_level``), by side."""
    side = np.sign(deviation[left_out])
    sides = {"level_left_out_above": 1, "level_left_out_below": -1}
    return {
        key: [panel.label(int(c)) for c in left_out[side == sign]]
        for key, sign in sides.items()
        if np.any(side == sign)
    }


def level_without(
    model: Baseline, rows: np.ndarray, cols: np.ndarray, other: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The level of each cell (``rows``, ``cols``) as the model takes it, the median of the
    deseasonalised reported months within its window and segment, its own month left out,
    with the month ``other`` left out too; and how many months it rests on. For the few
    cells of a pair test (``timing_shift``): one gather of ±12 months per cell."""
    T = model.y.shape[1]
    half = model.level_window[rows, cols]
    reach = min(max(model.config.wide_half_window, int(half.max(initial=0))), T)
    offsets = np.arange(-reach, reach + 1)
    at = cols[:, None] + offsets[None, :]
    inside = (at >= 0) & (at < T)
    at = np.clip(at, 0, T - 1)
    keep = inside & (np.abs(offsets)[None, :] <= half[:, None])
    keep &= (at != cols[:, None]) & (at != other[:, None])
    keep &= model.segment[rows[:, None], at] == model.segment[rows, cols][:, None]
    # a thin level taken without its burst's other month (``_ordinary_level``)
    cell = model.deviation[rows, cols]
    scale = side_scale((model.sigma_low, model.sigma_high), rows, cell)
    burst = burst_partners(model.deviation[rows[:, None], at], cell[:, None], scale[:, None])
    keep &= ~(model.trimmed[rows, cols][:, None] & burst)
    x = model.y[rows[:, None], at] - model.seasonal[rows[:, None], at]
    return nanmedian(np.where(keep, x, np.nan), overwrite=True)


# -- shared pieces of the detectors built on the model -----------------------------------------


def deviation_evidence(
    panel: Panel, model: Baseline, rows: np.ndarray, cols: np.ndarray
) -> list[dict]:
    """Evidence of single-month findings: z, scale, expectation and what it came from."""
    out = []
    T = panel.n_months
    starts = set(zip(model.shifts.series.tolist(), model.shifts.start.tolist(), strict=True))
    shift_start_next = [(int(i), int(t) + 1) in starts for i, t in zip(rows, cols, strict=True)]
    scale = model.side_sigma(rows, cols)
    for k, src in enumerate(sources(panel, model, rows, cols)):
        i, t = int(rows[k]), int(cols[k])
        nxt = t + 1 if t + 1 < T else None
        src.update(
            {
                "z": evidence_figure(model.z[i, t]),
                "sigma": evidence_figure(scale[k]),
                "expected": evidence_figure(model.expected[i, t]),
                "ratio": _ratio(panel.values[i, t], model.expected[i, t]),
                "next_period": panel.label(nxt) if nxt is not None else None,
                "next_observed": evidence_figure(panel.values[i, nxt]) if nxt is not None else None,
                "next_expected": evidence_figure(model.expected[i, nxt])
                if nxt is not None
                else None,
                "next_z": evidence_figure(model.z[i, nxt]) if nxt is not None else None,
                "next_starts_level": bool(nxt is not None and shift_start_next[k]),
            }
        )
        out.append(src)
    return out


def _regime_start(model: Baseline, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Column where the level-shift segment of each cell starts (-1 for the first segment)."""
    out = np.full(len(rows), -1, dtype=np.int64)
    sh = model.shifts
    for k, (i, t) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        starts = sh.start[(sh.series == i) & (sh.start <= t)]
        if starts.size:
            out[k] = starts.max()
    return out


def evidence_figure(value) -> float | None:
    """A figure for the evidence: six decimals, and at least six significant digits, so
    that a tiny value (a ratio of 1/87,000,000, an expectation of a thousandth of a cent)
    keeps its size instead of reading 0."""
    value = float(value)
    if not math.isfinite(value):
        return None
    if value == 0.0:
        return 0.0
    return round(value, max(6, 5 - math.floor(math.log10(abs(value)))))


def _ratio(observed: float, expected: float) -> float | None:
    """Observed over expected for the evidence, kept as ``evidence_figure`` keeps figures (never 0 for
    a month that recorded something)."""
    if not (math.isfinite(observed) and math.isfinite(expected)) or expected <= 0:
        return None
    return evidence_figure(float(observed) / float(expected))


# -- words ----------------------------------------------------------------------------------------


def finding_freq(finding) -> str:
    """The frequency of a finding's series: "A" for an annual series, else "M" (findings
    saved before the frequency was kept are of monthly series)."""
    return "A" if finding.get("freq") == "A" else "M"


def month_name(label: str | None, freq: str | None = "M") -> str:
    """'2021-02' → 'February 2021'; an annual series' '2016-01' → '2016' (see
    ``text.period_name``)."""
    return period_name(label, freq)


def expectation_source(evidence: dict, freq: str | None = "M") -> str:
    """Where an expected value came from, in words: months (years, for an annual series),
    segment and season."""
    unit = period_unit(freq)
    months = evidence.get("level_months") or []
    if months:
        first, last = period_name(months[0], freq), period_name(months[-1], freq)
        window = 2 * int(evidence.get("level_window") or 6)
        zeros = int(evidence.get("level_zeros_left_out") or 0)
        if len(months) >= window:
            text = f"the {window} {unit}s around it"
        elif zeros:  # the zeros were reported too: the months counted are those with trade
            text = f"the {plural(len(months), unit)} with trade from {first} to {last}"
        else:
            text = f"the {plural(len(months), f'reported {unit}')} from {first} to {last}"
    else:
        text, zeros = f"the series' recent {unit}s", 0
    notes = []
    if zeros:
        notes.append(f"{plural(zeros, unit)} at zero left out, a habit of the series")
    left_out = _left_out_note(evidence, freq)
    if left_out:
        notes.append(left_out)
    if months and evidence.get("level_adjusted"):  # their median is not the plain one
        notes.append("each net of its own season")
    if evidence.get("regime_start"):
        notes.append(
            f"within the level that started in {period_name(evidence['regime_start'], freq)}"
        )
    if notes:
        text += f" ({'; '.join(notes)})"
    years = evidence.get("season_years") or []
    factor = evidence.get("seasonal_factor") or 1.0
    # any factor that shows at two decimals is named, so the months stated reproduce the
    # expected value (a ×1.04 left unsaid did not)
    if years and round(factor, 2) != 1.0:
        names = ", ".join(years[:-1]) + f" and {years[-1]}" if len(years) > 1 else years[0]
        # two decimals from ×0.10 to ×10 (×1.62); beyond, as a ratio (×0.004, ×385)
        shown = f"×{factor:.2f}" if 0.095 <= factor < 9.995 else times_factor(factor)
        text += f", adjusted for the same month in {names} ({shown})"
    return text


def _left_out_note(evidence: Mapping, freq: str | None) -> str:
    """ "leaving out June 2024, itself far above the series' usual level, and May 2024, far
    below it": the months a thin level left out (``_ordinary_level``), or ""."""
    parts = []
    for key, side in (("level_left_out_above", "above"), ("level_left_out_below", "below")):
        left = evidence.get(key) or []
        if not left:
            continue
        names = joined([period_name(m, freq) for m in left])
        itself = "itself" if len(left) == 1 else "themselves"
        parts.append(
            f"{names}, far {side} it"
            if parts
            else f"{names}, {itself} far {side} the series' usual level"
        )
    return f"leaving out {', and '.join(parts)}" if parts else ""


#: Scales a seasonal factor must move a month by to be a strong one (|z − level_z|), and
#: within which of its level alone (|level_z|) a month is an ordinary one: what 95 % of
#: months do under normal noise, the least deviation a timing shift calls visible.
SEASON_SCALES = ORDINARY_SCALES  # the same bar: beyond it a month is no ordinary one


def strong_season(source: Mapping, z: float | None) -> bool:
    """Whether a month's seasonal factor moves it by at least ``SEASON_SCALES`` scales: its
    ``z`` against the expectation and its ``level_z`` against the level alone (``sources``
    in ``baseline.py``) differ by that much. False for evidence without the level reading."""
    level_z = source.get("level_z")
    if not source.get("season_values") or z is None or level_z is None:
        return False
    return abs(float(z) - float(level_z)) >= SEASON_SCALES


def season_decides(source: Mapping, z: float | None, threshold: float) -> bool:
    """Whether a single-month finding (``|z|`` ≥ ``threshold``) rests on a strong season:
    against the level alone the month would be within the threshold on either side."""
    return strong_season(source, z) and abs(float(source["level_z"])) < threshold


def season_figures(source: Mapping, currency: str, freq: str | None = "M") -> str:
    """The months a seasonal factor came from, in money, each against the level of the
    months around it: "January 2023 (€43 against a level of €9.2K in the months around it,
    each adjusted for its own season) and January 2025 (€8 against €3.4K)"; from four on,
    their range. The level is the median of the months around it once their own seasonal
    terms are taken out, not of the months as recorded (€176 from months recorded at €60
    and €1,465): the text says so, so that a reader does not look for the raw median."""
    unit = period_unit(freq)
    adjusted = "each adjusted for its own season"
    given = [v for v in source.get("season_values") or [] if isinstance(v, Mapping)]
    if len(given) > 3:
        values = sorted(float(v.get("value") or 0.0) for v in given)
        levels = sorted(float(v.get("level_expected") or 0.0) for v in given)
        return (
            f"the same {unit} in {len(given)} other years ({money(values[0], currency)} to "
            f"{money(values[-1], currency)} against levels of {money(levels[0], currency)} to "
            f"{money(levels[-1], currency)} in the {unit}s around them, {adjusted})"
        )
    parts = [
        f"{period_name(v.get('period'), freq)} ({money(v.get('value'), currency)} against "
        + (
            f"a level of {money(v.get('level_expected'), currency)} in the {unit}s around it, "
            f"{adjusted})"
            if k == 0
            else f"{money(v.get('level_expected'), currency)})"
        )
        for k, v in enumerate(given)
    ]
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]


def level_reading(source: Mapping, period: str, currency: str, freq: str | None = "M") -> str:
    """The month against the level alone: "without it, January 2024's expected value is
    €5.6K (the level of the months around it, adjusted likewise) and the month recorded 1.8
    times that" ("88% of that", "1/40 of that"; within ±5 % of it, "about as much as that",
    never "1.0 times that"). It follows ``season_figures``, which says how the months around
    are adjusted (each for its own season), so "likewise" points back to it."""
    unit = period_unit(freq)
    text = (
        f"without it, {period_name(period, freq)}'s expected value is "
        f"{money(source.get('level_expected'), currency)} (the level of the {unit}s around "
        "it, adjusted likewise)"
    )
    ratio = source.get("level_ratio")
    if not ratio:  # nothing expected, or nothing recorded: the figures say it
        return text
    if abs(ratio - 1.0) <= 0.05:  # a ratio that would read "1.0 times"
        share = "about as much as"
    elif 0.1 <= ratio < 1:
        share = percent(ratio * 100, digits=0) + " of"
    else:
        share = times(ratio)
    return f"{text} and the {unit} recorded {share} that"


def odd_ones(source: Mapping, freq: str | None = "M") -> str:
    """The condition of the other reading: "those other years' months were the odd ones";
    for a season from one other year, "that other year's month was the odd one"."""
    unit = period_unit(freq)
    if len(source.get("season_values") or []) > 1:
        return f"those other years' {unit}s were the odd ones"
    return f"that other year's {unit} was the odd one"


def season_reading(source: Mapping, period: str, currency: str, freq: str | None, kind: str) -> str:
    """Both readings of a single-month finding that rests on a strong season
    (``season_decides``): the other years' months behind the factor, the month against
    the level alone, and what it is if those other months were the odd ones: an ordinary
    month within ``SEASON_SCALES`` of its level, else above (below) it but no spike (dip)."""
    unit = period_unit(freq)
    level_z = float(source.get("level_z") or 0.0)
    if abs(level_z) < SEASON_SCALES:
        how, verdict = "within the series' usual variation", f"an ordinary {unit}"
    else:
        side = "above" if level_z > 0 else "below"
        how = f"{abs(level_z):.1f} times the series' usual variation {side} it"
        verdict = f"{side} the {unit}s around it but no {kind}"
    without = level_reading(source, period, currency, freq)
    return (
        f"The seasonal adjustment comes from {season_figures(source, currency, freq)}. "
        f"{without[:1].upper()}{without[1:]}, {how}: if {odd_ones(source, freq)}, "
        f"{period_name(period, freq)} is {verdict}."
    )


def first_months(values: np.ndarray) -> np.ndarray:
    """The first reported month of each series: where a flow starts, often in the middle
    of a month, so that it holds part of one. A month below its expectation there is no
    dip nor a figure near zero (China's first $3.0K of HS 380110 to Hungary in November
    2017, against the $117K of the months after it, was a high ``implausible``)."""
    reported = np.isfinite(values)
    first = np.zeros(values.shape, dtype=bool)
    rows = np.flatnonzero(reported.any(axis=1))
    first[rows, reported[rows].argmax(axis=1)] = True
    return first


def deviations(panel: Panel, kind: str, direction: int, threshold: float) -> pd.DataFrame:
    """Single months beyond ``threshold`` scales above (+1) or below (-1) the expectation;
    below, not in a series' first month (``first_months``)."""
    model = baseline(panel)
    judged = model.usable() & model.measured()[:, None]
    if direction < 0:
        judged &= ~first_months(panel.values)
    z = np.where(judged, model.z * direction, -np.inf)
    rows, cols = np.nonzero(z >= threshold)
    if not rows.size:
        return no_detections()
    observed = panel.values[rows, cols]
    expected = model.expected[rows, cols]
    return detections(
        kind,
        rows,
        cols,
        observed=observed,
        expected=expected,
        impact=observed - expected,
        score=material_score(
            panel,
            rows,
            cols,
            confidence(np.abs(model.z[rows, cols]), threshold),
            observed - expected,
        ),
        evidence=deviation_evidence(panel, model, rows, cols),
    )
