"""Trivial baseline: the residual from a centred rolling median, scored by a MAD z-score.

What anyone would write in ten lines, to show what the task needs beyond the obvious. Runs
with the project's own interpreter (NumPy and pandas only), which is why the tests can drive
the adapter protocol through it without the anchors' environments.

Configuration: a 13-month centred median (a year around the month; at least 7 reported
months), z = robust z-score of the residual over the series, flagged from |z| ≥ 3.5
(Iglewicz and Hoaglin's cut for the modified z-score). Missing months are skipped by the
median and never flagged.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from common import Series, main, outliers, per_series, robust_z

WINDOW = 13
MIN_PERIODS = 7
THRESHOLD = 3.5
CONFIG = {
    "model": "centred rolling median, 13 months (at least 7 reported)",
    "score": "|robust z| of the residual (median/MAD over the series)",
    "threshold": THRESHOLD,
    "missing months": "skipped by the rolling median",
}


def detect(s: Series) -> list[dict]:
    level = pd.Series(s.values).rolling(WINDOW, center=True, min_periods=MIN_PERIODS).median()
    level = level.to_numpy()
    residual = s.values - level
    z = robust_z(residual)
    expected = level + np.nanmedian(residual) if np.isfinite(residual).any() else level
    return outliers(s.values, expected, z, THRESHOLD)


if __name__ == "__main__":
    sys.exit(main("trivial", per_series(detect), CONFIG, ("numpy", "pandas")))
