"""Lasting changes of level, which the shared model (``baseline.py``) searches for before
its final fit and then fits segment by segment.

Binary segmentation with local windows on the deseasonalised log values (``find_shifts``):
the median of the months before each month against that of the months from it, over 6
and 12 months (24 where a side of 12 holds fewer than 3 reported months), standardised by a noise scale taken from consecutive months; the strongest
change that passes and persists is kept, its month refined, and the search repeats inside
the new segments. Where a series has a steady trend, the windows are detrended with a
robust local slope (``local_slope``) so that growth is not cut into steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tradesentry.detectors.robust import (
    MAD_TO_SIGMA,
    MEDIAN_SE,
    _sorted_median,
    nanmedian,
    robust_scale,
    windows,
)

if TYPE_CHECKING:
    from tradesentry.detectors.baseline import BaselineConfig


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


def find_shifts(x: np.ndarray, config: BaselineConfig) -> tuple[Shifts, np.ndarray]:
    """Lasting changes of level in ``x`` (deseasonalised log values), and the segment ids.

    At each month t the median of the reported months in [t-k, t) is compared with the
    median of those in [t, t+k), for k = 6 and k = 12 (at least 3 months on each side, within
    the current segment; k = 24 where k = 12 has fewer: ``_window_stats``), standardised by the noise scale and the medians' standard error
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


def local_slope(
    x: np.ndarray, cp: np.ndarray, config: BaselineConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Robust local trend at each month and its standard error (both 0 where not used).

    The median of the 12-month differences ÷ 12 (which also cancels the season) within
    ±24 months in the same segment, leaving out the differences that straddle the month
    (they would contain a shift there). It is used only where at least 6 differences agree
    well enough for the trend to be twice its standard error (1.2533 × their robust spread
    ÷ √n): a steady trend, not the trace of other level shifts. Where fewer than 6 are left
    (the middle of a series or segment of two years or less), the trend is read within the
    12 months on each side instead (``_side_slopes``), where it agrees with the median of
    every 12-month difference of the segment within ±24 months, those straddling the month
    too (a season moves the one, not the other; a step at the month moves the other, not
    the one). To save work, the local trend is
    computed only for the series whose segments show such a trend overall.
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
        w[windows(segment[rows], 24, 24, -1) != segment[rows][..., None]] = np.nan
        whole = w.copy()  # every difference within the segment, those straddling t too
        w[..., 24 : 24 + lag] = np.nan  # s in [t, t+lag): x[s] - x[s-lag] straddles t
        med, se, count = _median_and_se(w)
        use = _trend_ok(med, se, count, config)
        short = count < config.trend_min_diffs
        if short.any():
            m1, se1, n1 = _side_slopes(x[rows], cp[rows], short, config)
            # the sides' slope must be the year-on-year one, which no season moves: within
            # a year a season's rise reads as a trend as well (two years of summer peaks,
            # no season yet to take out, were cut into steps)
            m12, se12, n12 = _median_and_se(whole)
            with np.errstate(invalid="ignore"):
                yearly = (n12 >= config.shift_min_points) & (
                    np.abs(m1 - m12) <= 3.0 * np.sqrt(se1**2 + se12**2)
                )
            med, se = np.where(short, m1, med), np.where(short, se1, se)
            side_ok = _trend_ok(m1, se1, n1, config, SIDE_POINTS) & yearly
            use = np.where(short, side_ok, use)
        slope[rows], slope_se[rows] = np.where(use, med, 0.0), np.where(use, se, 0.0)
    return slope, slope_se


#: the reported months on the two sides of a month a trend read within them needs
#: (``_side_slopes``): a year's
SIDE_POINTS = 12
#: the months on each side of a month within which ``_side_slopes`` reads a trend
SIDE_MONTHS = 12
#: the pairs of months on one side of a month: (earlier, later) positions in its window
_PAIRS = np.array(
    [(i, j) for side in (0, SIDE_MONTHS) for i in range(side, side + SIDE_MONTHS)
     for j in range(i + 1, side + SIDE_MONTHS)]
).T  # fmt: skip
#: cells read at a time: a cell holds 132 pairs
_CELLS_AT_ONCE = 50_000


def _side_slopes(x: np.ndarray, cp: np.ndarray, cells: np.ndarray, config: BaselineConfig):
    """The trend at the ``cells`` where too few 12-month differences leave the month out
    (the middle of a series or segment of two years or less, whose every 12-month
    difference straddles it): the Theil–Sen slope of the 12 months before the month and
    of the 12 from it, pooled (the median over the pairs of months on one side of it of
    their difference per month; no pair straddles the month, so a shift there is in none),
    its standard error (that of a least-squares slope over the same months, σ/√Σ(t − t̄)²
    within each side, × 1.2533 for a median's efficiency, σ from the consecutive
    differences as ``shift_scale`` takes it) and the count of months. 0, inf and 0
    elsewhere. A series of 24 months growing 5 % a month had no trend at its middle months
    and read as a level shift ×1.8 there; differences of consecutive months alone were too
    noisy to tell a trend in 5 % noise. A trend needs months on both sides of the month
    (as many as the test's own windows need, ``shift_min_points``) and the two sides'
    own slopes to agree (the same sign, within two standard errors of their difference):
    the count is 0 elsewhere."""
    n, T = x.shape
    slope, se, count = np.zeros((n, T)), np.full((n, T), np.inf), np.zeros((n, T), np.int64)
    segment = np.cumsum(cp, axis=1)
    sigma = shift_scale(x, cp, config)
    r_all, t_all = np.nonzero(cells)
    for at in range(0, r_all.size, _CELLS_AT_ONCE):
        r, t = r_all[at : at + _CELLS_AT_ONCE], t_all[at : at + _CELLS_AT_ONCE]
        cols = t[:, None] + np.arange(-SIDE_MONTHS, SIDE_MONTHS)[None, :]
        inside = (cols >= 0) & (cols < T)
        c = np.clip(cols, 0, T - 1)
        same = inside & (segment[r[:, None], c] == segment[r, t][:, None])
        w = np.where(same, x[r[:, None], c], np.nan)
        i, j = _PAIRS
        pair = (w[:, j] - w[:, i]) / (j - i)
        half = pair.shape[1] // 2  # the pairs before the month, then those from it
        before, _ = nanmedian(pair[:, :half].copy(), overwrite=True)
        after, _ = nanmedian(pair[:, half:].copy(), overwrite=True)
        med, _ = nanmedian(pair, overwrite=True)
        finite = np.isfinite(w)
        spread = [_spread(finite[:, side : side + SIDE_MONTHS]) for side in (0, SIDE_MONTHS)]
        with np.errstate(divide="ignore", invalid="ignore"):
            err = MEDIAN_SE * sigma[r] / np.sqrt(spread[0] + spread[1])
            apart = MEDIAN_SE * sigma[r] * np.sqrt(1.0 / spread[0] + 1.0 / spread[1])
            # a trend of the series runs on both sides of the month, the same: one side's
            # alone (a new level's first year, falling on) is that side's, and detrending
            # the test's window by it took the US tariffs' fall of January 2019 away; two
            # that disagree are a season's rise and fall (two years of summer peaks, no
            # season yet to take out, read as a trend and cut into steps)
            agree = (np.sign(before) == np.sign(after)) & (np.abs(before - after) <= 2.0 * apart)
        sides = finite[:, :SIDE_MONTHS].sum(axis=1), finite[:, SIDE_MONTHS:].sum(axis=1)
        both = (np.minimum(*sides) >= config.shift_min_points) & agree
        slope[r, t], se[r, t] = np.nan_to_num(med), err
        count[r, t] = np.where(both, sides[0] + sides[1], 0)
    return slope, se, count


def _spread(finite: np.ndarray) -> np.ndarray:
    """Σ (t − t̄)² over the finite positions of each row."""
    t = np.arange(finite.shape[1], dtype=float)[None, :]
    n = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, t, 0.0).sum(axis=1) / n
    return np.where(finite, (t - np.nan_to_num(mean)[:, None]) ** 2, 0.0).sum(axis=1)


def _median_and_se(d: np.ndarray):
    """Median over the last axis, its standard error from the robust spread, the count.

    Sorts ``d`` in place (its callers pass arrays made for the call)."""
    med, count = nanmedian(d, overwrite=True)
    mad, _ = nanmedian(np.abs(d - med[..., None]), overwrite=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = MEDIAN_SE * MAD_TO_SIGMA * mad / np.sqrt(count)
    return med, se, count


def _trend_ok(med, se, count, config: BaselineConfig, least: int | None = None) -> np.ndarray:
    least = config.trend_min_diffs if least is None else least
    with np.errstate(invalid="ignore"):
        return (count >= least) & (np.abs(med) >= 2.0 * se)


def _side_stats(x, cp, sigma, k: int, config: BaselineConfig, trend, strict: bool = False):
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
    # the months from each to the series' end, for the final check's rule (``_persistence``)
    to_end = np.cumsum(np.isfinite(x)[:, ::-1], axis=1)[:, ::-1] if strict else None
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
            series = np.flatnonzero(rows)[i]  # the rows of ``x`` the part's rows ``i`` are
            at_end = to_end[series, t] < SHORT_NEW_LEVEL if strict else np.zeros(i.size, bool)
            persist = _persistence(
                xb[i, t], mb[i, t], nb[i, t], xa[i, t], ma[i, t], na[i, t], at_end
            )
            persistence[series, t] = persist
    return stat, persistence, sides


#: a new level with fewer reported months than this to the series' end must hold in every
#: one of them (``_persistence``)
SHORT_NEW_LEVEL = 5


def _persistence(xb, mb, nb, xa, ma, na, at_end) -> np.ndarray:
    """Share of the months on each side of a boundary that stay on their side of the
    midpoint between the two levels, the smaller of the two shares (``xb``, ``xa``: the
    windows, one row per boundary).

    A new level with fewer than ``SHORT_NEW_LEVEL`` reported months to the series' end
    (``at_end``) must hold in every one of them: two months of three are no level but a
    pair of odd months, and no later month can confirm them. China's graphite exports to
    Sweden, $8, $446 and then $80K after months of $139K–200K, were a high "new level" of
    three months whose last was back. The rule judges the changes as placed (``strict`` in
    ``_side_stats``, from ``_shift_table``), not the search's candidates, which the
    refinement then moves. Tried and not kept: the same rule for any side of fewer than 5
    months (a new level short within its segment, an old side short in its window). It
    took out false levels inside series too, but dropping one change re-judged its
    neighbours against the merged segments and dropped real ones with it: a five-month
    episode at 100 times Sweden's usual exports of CN 85235990 to France, and a lasting
    rise of Spain's imports of CN 39201081 from France, were lost with their findings.
    """
    mid = 0.5 * (ma + mb)[:, None]
    up = (ma > mb)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        stay_after = np.where(up, xa > mid, xa < mid).sum(-1) / na
        stay_before = np.where(up, xb < mid, xb > mid).sum(-1) / nb
    stay_after = np.where(at_end, np.floor(stay_after), stay_after)  # all of them, or none
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


def _window_stats(x, cp, sigma, config, trend, strict: bool = False):
    """``_side_stats`` for each window length: (k, stat, persistence, sides), the regular
    windows first, then the sparse window (``sparse_shift_window``) only at the boundaries
    where the longest regular one holds fewer than ``shift_min_points`` reported months on
    a side and it holds enough (NaN statistic elsewhere). A flow that fell from $400K a
    month to a few months of $1K over two years had no year after the fall with three
    figures, and no change was dated: the new level's median mixed the old months in."""
    out = []
    for k in config.shift_windows:
        out.append((k, *_side_stats(x, cp, sigma, k, config, trend, strict)))
    k = config.sparse_shift_window
    if not k or not out or k <= out[-1][0]:
        return out
    _, _, (_, nb, _, na) = out[-1][1:]
    thin = ((nb < config.shift_min_points) | (na < config.shift_min_points)) & np.isfinite(x)
    thin &= _reported_within(x, k, before=True) >= config.shift_min_points
    thin &= _reported_within(x, k, before=False) >= config.shift_min_points
    rows = np.flatnonzero(thin.any(axis=1))
    stat, persistence = np.full(x.shape, np.nan), np.zeros(x.shape)
    sides = tuple(np.zeros(x.shape, a.dtype) for a in out[-1][3])
    if rows.size:
        part = (a[rows] for a in trend)
        st, pe, si = _side_stats(x[rows], cp[rows], sigma[rows], k, config, tuple(part), strict)
        stat[rows] = np.where(thin[rows], st, np.nan)
        persistence[rows] = np.where(thin[rows], pe, 0.0)
        for full, side in zip(sides, si, strict=True):
            full[rows] = side
    out.append((k, stat, persistence, sides))
    return out


def _reported_within(x: np.ndarray, k: int, before: bool) -> np.ndarray:
    """Reported months in [t - k, t) (``before``) or [t, t + k) of each column t."""
    T = x.shape[1]
    cs = np.concatenate([np.zeros((len(x), 1), np.int64), np.cumsum(np.isfinite(x), axis=1)], 1)
    t = np.arange(T)
    lo, hi = (np.maximum(t - k, 0), t) if before else (t, np.minimum(t + k, T))
    return cs[:, hi] - cs[:, lo]


def _shift_evidence(x, cp, sigma, config, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The strongest admissible statistic over the window lengths, and its persistence."""
    best = np.full(x.shape, np.nan)
    persist = np.zeros(x.shape)
    trend = local_slope(x, cp, config)
    for _, stat, persistence, _ in _window_stats(x, cp, sigma, config, trend, strict):
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
    windows: list, t: np.ndarray, config: BaselineConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two levels the test compared at column ``t`` of each row, from ``_window_stats``,
    and which window they are from (its index there, -1 where none).

    The medians of the reported months in [t-k, t) and [t, t+k) within t's segment,
    detrended to t, for the window length k whose statistic ``_shift_evidence`` kept (the
    strongest admissible one); where none is admissible, the shortest with 3 months on
    each side. NaN where there is none either.
    """
    rows = np.arange(len(t))
    old, new = np.full(len(t), np.nan), np.full(len(t), np.nan)
    best, which = np.full(len(t), -1.0), np.full(len(t), -1)
    for w, (_, stat, persistence, sides) in enumerate(windows):
        mb, nb, ma, na = (a[rows, t] for a in sides)
        strength = np.abs(stat[rows, t])
        kept = (strength >= config.shift_threshold) & (
            persistence[rows, t] >= config.shift_persistence
        )
        enough = (nb >= config.shift_min_points) & (na >= config.shift_min_points)
        use = np.where(kept, strength > best, enough & (best < 0) & np.isnan(old))
        old, new = np.where(use, mb, old), np.where(use, ma, new)
        which = np.where(use, w, which)
        best = np.where(use & kept, strength, best)
    return old, new, which


def _nearest_levels(
    windows: list, t: np.ndarray, config: BaselineConfig, which: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The levels next to column ``t``: on each side the median of the shortest window of
    ``_window_stats`` holding 3 reported months there, detrended to t (NaN where none);
    with ``which``, of that window of each row only (its index in ``windows``)."""
    rows = np.arange(len(t))
    old, new = np.full(len(t), np.nan), np.full(len(t), np.nan)
    for w, (_, _, _, sides) in enumerate(windows):
        mb, nb, ma, na = (a[rows, t] for a in sides)
        here = np.isnan(old) if which is None else which == w
        old = np.where(here & (nb >= config.shift_min_points), mb, old)
        here = np.isnan(new) if which is None else which == w
        new = np.where(here & (na >= config.shift_min_points), ma, new)
    return old, new


def _refine(x: np.ndarray, cp: np.ndarray, t: np.ndarray, config: BaselineConfig) -> np.ndarray:
    """Move each change within ±6 months to the least-absolute-deviation split between the
    two levels its test compared, then once more with the levels next to that split too.

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

    The test's window may be a year that reaches back across an earlier change not found
    yet: its median is then a level two steps back, and the months of the level just
    before the change lie near the midpoint. Guinea's gold to Switzerland ran at about 1B
    GNF a month to October 2015, 13B from December 2015 to April 2016 and 141B–245B from
    September 2016 after four months without figures; the year before April held both
    earlier levels (median 1.3B), April's 14.2B lay just on the new side of the midpoint
    with 165B, and the rise was dated April. So the split is refined once more where the
    first pass put it, each side with two levels, the test window's and the one next to
    the split (``_nearest_levels``): a month joins the side with a level it is near. The
    levels next to the split alone, read at the test's month, straddled the change where
    that month was months off it (a fall and its return within the year). The second
    pass moves the split only where that saves more than one month's noise (σ, as
    ``shift_scale`` reads it) of absolute deviation: a level read from as few as 3
    months otherwise moved changes of noisy series by its own noise.
    """
    rows = np.arange(len(t))
    trend = local_slope(x, cp, config)
    sigma = shift_scale(x, cp, config)
    windows = _window_stats(x, cp, sigma, config, trend)
    old, new, which = _compared_levels(windows, t, config)
    first, _ = _split(x, cp, t, old[:, None], new[:, None], trend[0][rows, t], config)
    # the test's window read again at the first split, detrended to it
    test_old, test_new = _nearest_levels(windows, first, config, which)
    near_old, near_new = _nearest_levels(windows, first, config)
    olds, news = np.stack([test_old, near_old], 1), np.stack([test_new, near_new], 1)
    again, gain = _split(x, cp, first, olds, news, trend[0][rows, first], config)
    levels = np.isfinite(olds).any(axis=1) & np.isfinite(news).any(axis=1)
    return np.where(levels & (gain > sigma) & _both_sides_hold(x, cp, again, config), again, first)


def _both_sides_hold(x: np.ndarray, cp: np.ndarray, t: np.ndarray, config: BaselineConfig):
    """Whether a split at column ``t`` leaves ``shift_min_points`` reported months on each
    side within its segment. The second pass of ``_refine`` may not leave fewer: a split
    the first pass placed between two levels was moved next to the series' next change,
    leaving a side of one month, and the final test dropped both changes (Hungary's exports
    of CN 85235910 to Czechia lost the fall of their unit value ×1/80 in March 2025)."""
    rows, cols = np.arange(len(t)), np.arange(x.shape[1])[None, :]
    segment = np.cumsum(cp, axis=1)
    inside = np.isfinite(x) & (segment == segment[rows, t][:, None])
    before = (inside & (cols < t[:, None])).sum(axis=1)
    after = (inside & (cols >= t[:, None])).sum(axis=1)
    return (before >= config.shift_min_points) & (after >= config.shift_min_points)


def _split(
    x: np.ndarray,
    cp: np.ndarray,
    t: np.ndarray,
    old: np.ndarray,
    new: np.ndarray,
    slope: np.ndarray,
    config: BaselineConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """The least-absolute-deviation split within ±6 months of ``t`` between levels held
    fixed, and what it saves against the split at ``t``.

    ``old`` and ``new`` hold one or more levels per row (log, detrended to ``t`` by
    ``slope``; NaN for none): each month costs its distance to the nearest of its side's.
    """
    k, reach = max(config.shift_windows), max(config.shift_windows) // 2
    n, T = x.shape
    rows = np.arange(n)
    segment = np.cumsum(cp, axis=1)
    offsets = np.arange(-k, k + 1)
    cols = t[:, None] + offsets[None, :]
    c = np.clip(cols, 0, T - 1)
    same = (cols >= 0) & (cols < T) & (segment[rows[:, None], c] == segment[rows, t][:, None])
    vals = np.where(same, x[rows[:, None], c] - slope[:, None] * offsets, np.nan)
    # the nearer level of each side; a side without a level costs nothing (NaN)
    to_old = np.fmin.reduce(np.abs(vals[:, :, None] - old[:, None, :]), axis=2)
    to_new = np.fmin.reduce(np.abs(vals[:, :, None] - new[:, None, :]), axis=2)
    reported = _next_reported(x)
    best_t, best_cost = t.copy(), np.full(n, np.inf)
    at_t = np.full(n, np.inf)
    for off in sorted(range(-reach, reach + 1), key=lambda o: (abs(o), o)):
        # a split inside months without figures starts the new level at the first month
        # reported after them: a change across a six-month gap had to start on one of its
        # sides within ±6 months of the test's month, and was dated to the last month
        # before the gap, still at the old level, where the test's month lay before it
        tau = reported[rows, np.clip(t + off, 0, T - 1)]
        tau = np.where((t + off >= 0) & (t + off < T), tau, -1)
        cost = np.nansum(np.where(offsets < off, to_old, to_new), axis=1)
        if off == 0:
            at_t = cost
        at = np.clip(tau, 0, T - 1)
        ok = (tau >= 0) & ~cp[rows, at]
        ok &= segment[rows, at] == segment[rows, t]
        better = ok & (cost < best_cost - 1e-9)
        best_t = np.where(better, tau, best_t)
        best_cost = np.where(better, cost, best_cost)
    return best_t, at_t - best_cost


def _next_reported(x: np.ndarray) -> np.ndarray:
    """For each month, the first month at or after it with a figure (-1 where none)."""
    n, T = x.shape
    at = np.where(np.isfinite(x), np.arange(T), T)
    first = np.minimum.accumulate(at[:, ::-1], axis=1)[:, ::-1]
    return np.where(first < T, first, -1)


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
        st, pe = _shift_evidence(x[rows], sub, sigma, config, strict=True)
        stat[rows], persistence[rows] = st, pe
        keep = sub & np.isfinite(st)
        if (keep == sub).all():
            break
        cp[rows] = keep
    segment = np.cumsum(cp, axis=1)
    rows, cols = np.nonzero(cp)
    seg_median, seg_count, seg_last = segment_summary(x, segment)
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


def segment_summary(
    x: np.ndarray, segment: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


#: a series fewer than this share of whose reported months follow a reported month is
#: searched for shifts over its reported months in order (``find_shifts_in_order``)
SPARSE_SHARE = 0.5


def find_shifts_in_order(x: np.ndarray, config: BaselineConfig) -> tuple[Shifts, np.ndarray]:
    """``find_shifts``, with the windows of a sparse series counted in its reported months.

    The test's windows are 6 and 12 calendar months with at least 3 reported months on
    each side: a series reporting one month in five (an HS6 line shipped now and then)
    never has 3 in a window, and no change of it is ever tested. China's exports of HS
    811292 to Slovakia, 17 shipments in 82 months, went from about $15K a shipment to
    $142K–190K from July 2023 with no finding. A series fewer than ``SPARSE_SHARE`` of
    whose reported months follow a reported month (shipments now and then, not a gap here
    and there, nor one long gap, whose sides the calendar windows read) is searched over
    its reported months in order (``reported_first``), the 6th reported month before a
    month standing for the 6th month before it, without a trend (a year is no fixed
    number of its reports); the changes found are placed at their months.
    """
    reported = np.isfinite(x)
    # reported months whose month before was reported too: most, in a series with a gap
    # here and there or one long gap; few in a line shipped now and then
    followed = (reported[:, 1:] & reported[:, :-1]).sum(axis=1)
    sparse = followed < SPARSE_SHARE * np.maximum(reported.sum(axis=1) - 1, 0)
    if not sparse.any():
        return find_shifts(x, config)
    dense_rows, sparse_rows = np.flatnonzero(~sparse), np.flatnonzero(sparse)
    parts = []
    if dense_rows.size:
        parts.append((dense_rows, *find_shifts(x[dense_rows], config)))
    order, packed = reported_first(x[sparse_rows])
    found, _ = find_shifts(packed, replace(config, trend_lag=x.shape[1]))
    parts.append((sparse_rows, *_placed(found, order)))
    return _merged(parts, x.shape)


def reported_first(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's reported months first, in their order, the rest after: the columns in
    that order, and ``x`` in it (a stable sort of "not reported")."""
    order = np.argsort(~np.isfinite(x), axis=1, kind="stable")
    return order, np.take_along_axis(x, order, axis=1)


def _placed(shifts: Shifts, order: np.ndarray) -> tuple[Shifts, np.ndarray]:
    """Shifts found over packed rows (reported months first; ``order``: their columns) at
    their columns, and each row's segment ids over its columns (a month between two
    reported ones in the earlier one's segment)."""
    rows = shifts.series
    start, end = order[rows, shifts.start], order[rows, shifts.end]
    starts = np.zeros(order.shape, dtype=bool)
    starts[rows, start] = True
    return replace(shifts, start=start, end=end), np.cumsum(starts, axis=1)


def _merged(parts, shape) -> tuple[Shifts, np.ndarray]:
    """One ``Shifts`` (ordered by row, then month) and one segment array from ``parts`` of
    (the rows, their shifts, their segments)."""
    segment = np.zeros(shape, dtype=np.int64)
    fields = {name: [] for name in Shifts.__dataclass_fields__}
    for rows, shifts, seg in parts:
        segment[rows] = seg
        for name in fields:
            value = getattr(shifts, name)
            fields[name].append(rows[value] if name == "series" else value)
    joined = {name: np.concatenate(values) for name, values in fields.items()}
    ordered = np.lexsort((joined["start"], joined["series"]))
    return Shifts(**{name: value[ordered] for name, value in joined.items()}), segment
