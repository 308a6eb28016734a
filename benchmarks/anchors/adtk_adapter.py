"""ADTK SeasonalAD for single months and LevelShiftAD for level shifts, in one environment.

ADTK 0.6.2 needs pandas 1.5.3 and NumPy 1.26 (the current pandas breaks it), hence its own
environment. Configuration, ADTK's defaults for each detector:

- ``SeasonalAD(freq=12, c=3.0)`` (trend=False): the residual from the calendar month's mean,
  flagged when |residual| exceeds Q3 + c · IQR of |residual|; score = (|r| − Q3) / IQR ÷ c.
- ``LevelShiftAD(window=5, c=6.0)`` (the window of ADTK's own example): the difference of the
  medians of the 5 months before and after each month, flagged beyond Q3 + c · IQR of the
  differences; consecutive flagged months are one change point, at the largest difference.

The scores are read from the detectors' own intermediate series (``pipe_.detect(...,
return_intermediate=True)``), so score ≥ 1 is exactly what ADTK flags at its default c.
ADTK cannot take a missing month inside a series: inner gaps are interpolated linearly
(leading and trailing ones cut), and interpolated months are never flagged as outliers.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
from common import LOOSEST, SCORE_CAP, Series, change, filled, main, outliers, per_series

SEASONAL_C = 3.0
SHIFT_C = 6.0
SHIFT_WINDOW = 5
CONFIG = {
    "outliers": "SeasonalAD(freq=12, c=3.0, trend=False)",
    "level shifts": "LevelShiftAD(window=5, c=6.0)",
    "score": "(|x| - Q3) / IQR over the detector's own statistic, / c",
    "threshold": "ADTK's default c",
    "missing months": "interpolated linearly (leading/trailing cut); never flagged",
}


def _iqr_score(x: pd.Series) -> np.ndarray:
    """ADTK's InterQuartileRangeAD high side as a statistic: (x − Q3) / IQR."""
    q1, q3 = x.quantile(0.25), x.quantile(0.75)
    iqr = q3 - q1
    if not iqr > 0:
        return np.where(x.to_numpy() > q3, SCORE_CAP, 0.0)
    return ((x - q3) / iqr).to_numpy()


def detect(s: Series) -> list[dict]:
    from adtk.detector import LevelShiftAD, SeasonalAD

    first, y = filled(s.values)
    if len(y) < 24:
        return []
    index = pd.date_range(pd.Period(s.start, "M").to_timestamp(), periods=len(s.values), freq="MS")
    series = pd.Series(y, index=index[first : first + len(y)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _seasonal(s, series, first, SeasonalAD(freq=12, c=SEASONAL_C)) + _shifts(
            series, first, LevelShiftAD(window=SHIFT_WINDOW, c=SHIFT_C)
        )


def _seasonal(s: Series, series: pd.Series, first: int, det) -> list[dict]:
    det.fit(series)
    inter = det.pipe_.detect(series, return_intermediate=True)
    residual = inter["deseasonal_residual"].to_numpy()
    stat = np.zeros(len(s.values))
    stat[first : first + len(series)] = np.nan_to_num(_iqr_score(inter["abs_residual"]))
    expected = np.full(len(s.values), np.nan)
    expected[first : first + len(series)] = series.to_numpy() - residual
    return outliers(s.values, expected, stat, SEASONAL_C)


def _shifts(series: pd.Series, first: int, det) -> list[dict]:
    det.fit(series)
    inter = det.pipe_.detect(series, return_intermediate=True)
    score = np.nan_to_num(_iqr_score(inter["diff_abs"])) / SHIFT_C
    above = score >= LOOSEST
    out = []
    t = 0
    while t < len(score):  # one change point per run of flagged months
        if not above[t]:
            t += 1
            continue
        end = t
        while end + 1 < len(score) and above[end + 1]:
            end += 1
        best = t + int(np.argmax(score[t : end + 1]))
        out.append({**change(first + best, score[best] * SHIFT_C), "score": float(score[best])})
        t = end + 1
    return out


if __name__ == "__main__":
    sys.exit(main("adtk", per_series(detect), CONFIG, ("adtk", "pandas", "numpy", "statsmodels")))
