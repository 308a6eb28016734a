"""statsforecast AutoETS (season length 12) with in-sample 99 % intervals: Nixtla's recipe.

Configuration, as in Nixtla's anomaly-detection tutorial: ``StatsForecast(models=
[AutoETS(season_length=12)], freq="MS", n_jobs=1).forecast(df=..., h=1, fitted=True,
level=[99])``, then ``forecast_fitted_values()``; a month outside its in-sample 99 % interval
is an anomaly (score 1 at the interval's edge: |y − fitted| ÷ half-width). All series go
through one call, as the library is meant to be used; one process (n_jobs=1) like the other
tools. AutoETS cannot take a missing month: leading and trailing gaps are cut and inner gaps
interpolated linearly (those months are never flagged).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from common import Z99, Series, filled, main, outliers

LEVEL = 99
CONFIG = {
    "model": "AutoETS(season_length=12), freq='MS', n_jobs=1",
    "interval": "in-sample 99 % (forecast(h=1, fitted=True, level=[99]))",
    "score": "|y - fitted| / half-width of the 99 % interval",
    "threshold": "outside the interval",
    "missing months": "interpolated linearly (leading/trailing cut); never flagged",
}


def _frame(batch: list[Series]) -> pd.DataFrame:
    parts = []
    for s in batch:
        first, y = filled(s.values)
        if len(y) < 3:
            continue
        ds = pd.date_range(pd.Period(s.start, "M").to_timestamp(), periods=len(s.values), freq="MS")
        parts.append(pd.DataFrame({"unique_id": s.id, "ds": ds[first : first + len(y)], "y": y}))
    return pd.concat(parts, ignore_index=True)


def detect(batch: list[Series]) -> list[dict]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    sf = StatsForecast(models=[AutoETS(season_length=12)], freq="MS", n_jobs=1)
    sf.forecast(df=_frame(batch), h=1, fitted=True, level=[LEVEL])
    fitted = dict(tuple(sf.forecast_fitted_values().groupby("unique_id", sort=False)))
    out = []
    for s in batch:
        if s.id in fitted:
            out.extend({**f, "series": s.id} for f in _flags(s, fitted[s.id]))
    return out


def _flags(s: Series, f: pd.DataFrame) -> list[dict]:
    month = (f["ds"].dt.to_period("M") - pd.Period(s.start, "M")).map(lambda d: d.n).to_numpy()
    expected = np.full(len(s.values), np.nan)
    stat = np.zeros(len(s.values))
    half = (f[f"AutoETS-hi-{LEVEL}"] - f[f"AutoETS-lo-{LEVEL}"]).to_numpy() / 2.0
    fit = f["AutoETS"].to_numpy()
    expected[month] = fit
    with np.errstate(divide="ignore", invalid="ignore"):
        stat[month] = Z99 * np.abs(f["y"].to_numpy() - fit) / half
    return outliers(s.values, expected, stat, Z99)


if __name__ == "__main__":
    sys.exit(main("statsforecast", detect, CONFIG, ("statsforecast", "numpy", "pandas")))
