"""statsmodels STL (period 12) with a robust z-score on the residual: the classic floor.

Configuration: ``STL(y, period=12).fit()`` with statsmodels' defaults (seasonal smoother of
7, robust=False), then the residual's robust z-score (median/MAD over the series), flagged
from |z| ≥ 3.5 (Iglewicz and Hoaglin). STL cannot take a missing month: leading and trailing
gaps are cut and inner gaps interpolated linearly (those months are never flagged). Series
with fewer than two years of months are left out (STL needs two full periods).
"""

from __future__ import annotations

import sys

import numpy as np
from common import Series, filled, main, outliers, per_series, robust_z
from statsmodels.tsa.seasonal import STL

PERIOD = 12
THRESHOLD = 3.5
CONFIG = {
    "model": "STL(period=12), statsmodels defaults (seasonal=7, robust=False)",
    "score": "|robust z| of the STL residual (median/MAD over the series)",
    "threshold": THRESHOLD,
    "missing months": "interpolated linearly (leading/trailing cut); never flagged",
}


def detect(s: Series) -> list[dict]:
    first, y = filled(s.values)
    if len(y) < 2 * PERIOD:
        return []
    fit = STL(y, period=PERIOD).fit()
    z = robust_z(fit.resid)
    expected = np.full(len(s.values), np.nan)
    expected[first : first + len(y)] = fit.trend + fit.seasonal + np.median(fit.resid)
    stat = np.zeros(len(s.values))
    stat[first : first + len(y)] = z
    return outliers(s.values, expected, stat, THRESHOLD)


if __name__ == "__main__":
    sys.exit(main("stl", per_series(detect), CONFIG, ("statsmodels", "numpy", "scipy")))
