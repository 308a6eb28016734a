"""Helpers shared by the cross checks (revision, mirror_gap, unit_value); not a detector.

Robust row statistics, runs of flagged months merged into one finding, and sums over
those runs: all vectorised over the whole chunk, no loop per series.
"""

from __future__ import annotations

import numpy as np

from tradesentry.detectors.base import context_array  # noqa: F401 - the cross checks' import
from tradesentry.detectors.robust import MAD_TO_SIGMA, nanmedian


def row_median(x: np.ndarray) -> np.ndarray:
    """Median of each row ignoring NaN; NaN for an all-NaN row (without a warning)."""
    return nanmedian(x)[0]


def row_center_spread(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, robust σ (1.4826 × MAD) and count of the finite values of each row."""
    x = np.where(np.isfinite(x), x, np.nan)
    center = row_median(x)
    spread = MAD_TO_SIGMA * row_median(np.abs(x - center[:, None]))
    return center, spread, np.isfinite(x).sum(axis=1)


def runs(
    flagged: np.ndarray, observed: np.ndarray, code: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of flagged cells per row: (row, first column, last column), sorted.

    A run is a stretch of flagged cells with the same ``code`` (e.g. the sign of a gap);
    cells that were not ``observed`` (no test possible) are bridged, so one missing month
    does not split a persistent gap, while an observed cell that is not flagged ends it.
    """
    n, t = flagged.shape
    if n == 0 or t == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    label = np.ones((n, t), dtype=np.int64) if code is None else code.astype(np.int64)
    status = np.where(observed, np.where(flagged & observed, label, 0), -1)
    cols = np.broadcast_to(np.arange(t), (n, t))
    last_seen = np.maximum.accumulate(np.where(observed, cols, 0), axis=1)
    rows = np.arange(n)[:, None]
    filled = status[rows, last_seen]
    filled = np.where(filled < 0, 0, filled)
    prev = np.concatenate([np.zeros((n, 1), np.int64), filled[:, :-1]], axis=1)
    nxt = np.concatenate([filled[:, 1:], np.zeros((n, 1), np.int64)], axis=1)
    start_r, start_c = np.nonzero((filled > 0) & (filled != prev))
    end_r, end_c = np.nonzero((filled > 0) & (filled != nxt))
    return start_r, start_c, last_seen[end_r, end_c]


def run_sum(
    values: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Sum of ``values`` (NaN counted as 0) over each run's columns."""
    if len(rows) == 0:
        return np.empty(0)
    total = np.nancumsum(np.where(np.isfinite(values), values, 0.0), axis=1)
    before = np.where(starts > 0, total[rows, np.maximum(starts - 1, 0)], 0.0)
    return total[rows, ends] - before


def run_max(
    values: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Maximum of ``values`` (NaN ignored) over each run's columns."""
    if len(rows) == 0:
        return np.empty(0)
    n, t = values.shape
    flat = np.append(np.where(np.isfinite(values), values, -np.inf).ravel(), -np.inf)
    bounds = np.empty(2 * len(rows), dtype=np.int64)
    bounds[0::2] = rows * t + starts
    bounds[1::2] = rows * t + ends + 1
    return np.maximum.reduceat(flat, bounds)[0::2]


def iso_day(days: float) -> str | None:
    """Days since 1970-01-01 → 'YYYY-MM-DD' (None when unknown)."""
    if days is None or not np.isfinite(days):
        return None
    return str(np.datetime64(int(days), "D"))


def as_int(value: float) -> int | None:
    return int(value) if value is not None and np.isfinite(value) else None
