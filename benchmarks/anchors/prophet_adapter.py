"""Prophet with in-sample 99 % intervals: a month outside its interval is an anomaly.

Configuration: ``Prophet(interval_width=0.99, yearly_seasonality=True,
weekly_seasonality=False, daily_seasonality=False, mcmc_samples=0)`` (what ``"auto"`` picks
for monthly series of two years and more), fitted on the reported months and predicted at
the same months, as Prophet's guide does for monthly data (``freq="MS"``). The intervals come
from Prophet's sampling of trend and noise (1000 draws); NumPy is seeded before each fit so
that every run gives the same flags. Score 1 at the interval's edge (|y − yhat| ÷
half-width). Prophet takes gaps: missing months are left out of the fit.
"""

from __future__ import annotations

import logging
import sys

import numpy as np
import pandas as pd
from common import Z99, Series, main, outliers, per_series

SEED = 0
CONFIG = {
    "model": "Prophet(interval_width=0.99, yearly_seasonality=True, weekly/daily off, "
    "mcmc_samples=0), freq='MS'",
    "interval": "in-sample 99 % (yhat_lower, yhat_upper; 1000 samples, numpy seeded)",
    "score": "|y - yhat| / half-width of the 99 % interval",
    "threshold": "outside the interval",
    "missing months": "left out of the fit (Prophet takes gaps)",
}


def _quiet() -> None:
    """cmdstanpy logs two INFO lines per fit: thousands of them drown the run's output.
    Its logger is configured on import, so it is silenced after importing Prophet."""
    import prophet  # noqa: F401

    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).disabled = True


def detect(s: Series) -> list[dict]:
    from prophet import Prophet

    ok = np.flatnonzero(np.isfinite(s.values))
    if ok.size < 3:
        return []
    months = pd.date_range(pd.Period(s.start, "M").to_timestamp(), periods=len(s.values), freq="MS")
    df = pd.DataFrame({"ds": months[ok], "y": s.values[ok]})
    np.random.seed(SEED)
    model = Prophet(
        interval_width=0.99,
        yearly_seasonality=True,
        weekly_seasonality=False,
        daily_seasonality=False,
        mcmc_samples=0,
    )
    model.fit(df)
    fc = model.predict(df[["ds"]])
    expected = np.full(len(s.values), np.nan)
    stat = np.zeros(len(s.values))
    half = (fc["yhat_upper"] - fc["yhat_lower"]).to_numpy() / 2.0
    expected[ok] = fc["yhat"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        stat[ok] = Z99 * np.abs(s.values[ok] - expected[ok]) / half
    return outliers(s.values, expected, stat, Z99)


if __name__ == "__main__":
    _quiet()
    sys.exit(
        main("prophet", per_series(detect), CONFIG, ("prophet", "cmdstanpy", "numpy", "pandas"))
    )
