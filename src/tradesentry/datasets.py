"""Panels with anomalies of known kind, place and size: for tests, benchmarks and docs.

Two halves. *Generators* make realistic monthly trade series (log-normal levels spanning
orders of magnitude, seasonality, drift, heavy-tailed noise, optional zeros and missing
months). *Injections* change a values array in place at one series and month and return
the ground truth as a dict; they work on real series as well as generated ones, so the
accuracy benchmark and the tests share them:

- ``inject_near_zero``: the month becomes a tiny share of itself (or zero): $3K for $3M;
- ``inject_unit_slip``: the month is multiplied by 1000 (or divided): units mixed up;
- ``inject_spike`` / ``inject_dip``: the month moves by k × the series' robust residual
  scale on the log scale (×exp(±kσ));
- ``inject_timing_shift``: a share of the month is moved into the next month;
- ``inject_level_shift``: every month from t on is multiplied by a factor;
- ``inject_gap``: months are blanked (not reported).

``inject_plan`` applies a whole plan (one row per injection) and ``random_plan`` draws one
with a fixed seed, one anomaly per series and a share of series left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tradesentry.panel import KEY_COLUMNS, Panel

TRUTH_COLUMNS: tuple[str, ...] = ("series", "start", "end", "kind", "also", "injection", "size")

#: the detector kind each injection should be found as
INJECTION_KIND: dict[str, str] = {
    "near_zero": "implausible",
    "unit_slip": "implausible",
    "spike": "spike",
    "dip": "dip",
    "timing_shift": "timing_shift",
    "level_shift": "level_shift",
    "gap": "gap",
}

#: graded sizes of the accuracy benchmark (k × robust scale, share moved, factor, …)
DEFAULT_SIZES: dict[str, tuple[float, ...]] = {
    "near_zero": (1e-3, 1e-4, 0.0),
    "unit_slip": (1e3, 1e-3),
    "spike": (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0),
    "dip": (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0),
    "timing_shift": (0.3, 0.5, 0.7, 0.9),
    "level_shift": (0.05, 0.1, 0.25, 0.5, 2.0, 4.0, 5.0),
    "gap": (1.0, 2.0),
}


# -- generators -----------------------------------------------------------------------------


def synthetic_values(
    n_series: int = 200,
    n_months: int = 48,
    seed: int = 0,
    *,
    noise: tuple[float, float] = (0.08, 0.35),
    seasonal: float = 0.2,
    drift: float = 0.15,
    tail_df: float = 5.0,
    missing: float = 0.0,
    zeros: float = 0.0,
) -> np.ndarray:
    """Realistic clean series: log-normal level, seasonality, drift and Student-t noise.

    Args:
        noise: range of the per-series noise scale (log units), drawn uniformly.
        seasonal: scale of the fixed monthly pattern (log units).
        drift: scale of the yearly drift (log units per year).
        tail_df: degrees of freedom of the noise (heavy tails like real shipments).
        missing: share of months left unreported (NaN), at random.
        zeros: share of months reported as zero, at random.
    """
    rng = np.random.default_rng(seed)
    level = rng.uniform(np.log(1e3), np.log(1e9), n_series)[:, None]
    sigma = rng.uniform(*noise, n_series)[:, None]
    pattern = rng.normal(0.0, seasonal, (n_series, 12))
    month = np.arange(n_months) % 12
    trend = rng.normal(0.0, drift, n_series)[:, None] * np.arange(n_months)[None, :] / 12
    t_noise = rng.standard_t(tail_df, (n_series, n_months)) * np.sqrt((tail_df - 2) / tail_df)
    values = np.exp(level + pattern[:, month] + trend + sigma * t_noise)
    values[rng.random(values.shape) < zeros] = 0.0
    values[rng.random(values.shape) < missing] = np.nan
    return values


def make_panel(
    values: np.ndarray,
    start: str = "2019-01",
    keys: pd.DataFrame | None = None,
    freq: str = "M",
) -> Panel:
    """A panel around a values array (synthetic keys unless given)."""
    values = np.asarray(values, dtype=float)
    n, T = values.shape
    if keys is None:
        keys = synthetic_keys(n)
    return Panel(
        keys.reset_index(drop=True),
        np.datetime64(start, "M"),
        values,
        np.full((n, T), np.nan),
        np.full((n, T), np.nan),
        np.zeros((n, T), dtype=np.int8),
        freq,
    )


def synthetic_keys(n: int, reporter: str = "SYN") -> pd.DataFrame:
    """Series keys for generated series (partner P00000, P00001, …)."""
    keys = pd.DataFrame(
        {
            "reporter": reporter,
            "partner": [f"P{i:05d}" for i in range(n)],
            "flow": "export",
            "classification": "HS",
            "commodity": "TOTAL",
            "freq": "M",
            "breakdown": "",
            "currency": "USD",
        },
        index=range(n),
    )
    return keys[list(KEY_COLUMNS)]


def residual_scale(values: np.ndarray) -> np.ndarray:
    """The series' robust residual scale (log units), from the shared baseline model."""
    from tradesentry.detectors.baseline import fit

    return fit(np.asarray(values, dtype=float)).sigma


# -- injections -----------------------------------------------------------------------------


def _truth(i: int, t: int, end: int, injection: str, size: float, also: str = "") -> dict:
    return {
        "series": int(i),
        "start": int(t),
        "end": int(end),
        "kind": INJECTION_KIND[injection],
        "also": also,
        "injection": injection,
        "size": float(size),
    }


def _also_implausible(factor: float, scale: float = 0.0) -> str:
    """A change so large that the month is also an implausible value (see Implausible):
    below 1 % of itself, or a ×1000 / ×1e6 step (±0.3 in log10, or 2 scales if wider)."""
    if factor <= 0.01:
        return "implausible"
    lf = abs(np.log10(factor))
    tol = max(0.3, 2.0 * scale / np.log(10.0))
    return "implausible" if min(abs(lf - 3), abs(lf - 6)) <= tol else ""


def inject_near_zero(values: np.ndarray, i: int, t: int, share: float = 1e-3) -> dict:
    """Month t becomes ``share`` of itself (0 gives a reported zero)."""
    values[i, t] = values[i, t] * share
    return _truth(i, t, t, "near_zero", share)


def inject_unit_slip(values: np.ndarray, i: int, t: int, factor: float = 1e3) -> dict:
    """Month t is multiplied by ``factor`` (1000: thousands read as units)."""
    values[i, t] = values[i, t] * factor
    return _truth(i, t, t, "unit_slip", factor)


def inject_spike(values: np.ndarray, i: int, t: int, k: float, scale: float) -> dict:
    """Month t rises by k × ``scale`` on the log scale."""
    factor = float(np.exp(k * scale))
    values[i, t] = values[i, t] * factor
    return _truth(i, t, t, "spike", k, _also_implausible(factor, scale))


def inject_dip(values: np.ndarray, i: int, t: int, k: float, scale: float) -> dict:
    """Month t falls by k × ``scale`` on the log scale."""
    factor = float(np.exp(-k * scale))
    values[i, t] = values[i, t] * factor
    return _truth(i, t, t, "dip", k, _also_implausible(factor, scale))


def inject_timing_shift(values: np.ndarray, i: int, t: int, share: float = 0.5) -> dict:
    """``share`` of month t is recorded in month t+1 instead (the sum is unchanged)."""
    moved = values[i, t] * share
    values[i, t] -= moved
    values[i, t + 1] += moved
    return _truth(i, t, t + 1, "timing_shift", share)


def inject_level_shift(values: np.ndarray, i: int, t: int, factor: float = 0.25) -> dict:
    """Every month from t on is multiplied by ``factor``."""
    values[i, t:] = values[i, t:] * factor
    return _truth(i, t, t, "level_shift", factor)


def inject_gap(values: np.ndarray, i: int, t: int, length: int = 1) -> dict:
    """Months t .. t+length-1 become unreported."""
    length = int(length)
    values[i, t : t + length] = np.nan
    return _truth(i, t, t + length - 1, "gap", length)


def inject_plan(
    values: np.ndarray, plan: pd.DataFrame, scale: np.ndarray | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Apply every row of ``plan`` (series, start, injection, size) to a copy of ``values``."""
    out = np.array(values, dtype=float, copy=True)
    if scale is None and plan["injection"].isin(["spike", "dip"]).any():
        scale = residual_scale(values)
    rows = []
    for r in plan.itertuples(index=False):  # one per injection, not per series or month
        i, t, size = int(r.series), int(r.start), float(r.size)
        if r.injection in ("spike", "dip"):
            fn = inject_spike if r.injection == "spike" else inject_dip
            rows.append(fn(out, i, t, size, float(scale[i])))
        else:
            rows.append(_INJECTORS[r.injection](out, i, t, size))
    truth = pd.DataFrame(rows, columns=list(TRUTH_COLUMNS))
    return out, truth


_INJECTORS = {
    "near_zero": inject_near_zero,
    "unit_slip": inject_unit_slip,
    "timing_shift": inject_timing_shift,
    "level_shift": inject_level_shift,
    "gap": inject_gap,
}


def random_plan(
    values: np.ndarray,
    seed: int = 0,
    *,
    injections: Sequence[str] = tuple(DEFAULT_SIZES),
    sizes: dict[str, Sequence[float]] | None = None,
    untouched: float = 0.25,
    margin: int = 6,
) -> pd.DataFrame:
    """One anomaly in each of ``1 - untouched`` of the series, at a month where it can be seen.

    The month is drawn among those at least ``margin`` months from either end whose value
    (and the next month's, for a timing shift) is reported and positive; a gap is put only
    where the months around it are reported. Injection and size are drawn uniformly.
    """
    sizes = sizes or DEFAULT_SIZES
    rng = np.random.default_rng(seed)
    n, T = values.shape
    ok = np.isfinite(values) & (values > 0)
    rows = []
    for i in rng.permutation(n)[: int(round(n * (1 - untouched)))].tolist():
        injection = str(rng.choice(list(injections)))
        size = float(rng.choice(list(sizes[injection])))
        cand = _candidates(ok[i], injection, size, margin)
        if cand.size:
            rows.append((i, int(rng.choice(cand)), injection, size))
    plan = pd.DataFrame(rows, columns=["series", "start", "injection", "size"])
    return plan.sort_values(["series", "start"]).reset_index(drop=True)


def _candidates(ok: np.ndarray, injection: str, size: float, margin: int) -> np.ndarray:
    T = len(ok)
    t = np.arange(margin, max(T - margin, margin))
    if not t.size:
        return t
    good = ok[t]
    if injection == "timing_shift":
        good &= ok[np.minimum(t + 1, T - 1)] & (t + 1 < T)
    if injection == "gap":
        length = int(size)
        for j in range(-1, length + 1):
            good &= ok[np.clip(t + j, 0, T - 1)]
    return t[good]
