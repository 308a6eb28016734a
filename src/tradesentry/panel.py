"""Series × months: the dense array every detector works on.

A panel is one chunk of series as a float64 array ``values[n_series, n_months]``: NaN
where a month was not reported, 0.0 where a zero was reported. A release that combines
several months (China's January–February) is not split: its value sits in ``combined`` at
its first month with its length in ``combined_span``, so detectors can check it against
the months it covers without a split being invented. Monthly and annual series are never
mixed in one panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradesentry.context import CONTEXT_COLUMNS
from tradesentry.schema import SERIES_KEY

KEY_COLUMNS: tuple[str, ...] = (*SERIES_KEY, "currency")
#: a context array marking (1) the cells whose row holds no figure: the source withheld it
#: (confidential), where a missing month has no row at all (NaN)
WITHHELD = "withheld"
#: a context array of the combined figures, at their first month, is named with this prefix
#: (``combined_previous_value``): only chunks holding combined figures carry them
COMBINED_PREFIX = "combined_"


@dataclass(frozen=True, eq=False)
class Panel:
    """A chunk of series on a common monthly (or annual) axis."""

    keys: pd.DataFrame  # one row per series: KEY_COLUMNS
    start: np.datetime64  # the first month of the axis, datetime64[M]
    values: np.ndarray  # float64 [n_series, n_months]; NaN = not reported
    weights: np.ndarray  # float64 [n_series, n_months]; net weight in kg, NaN = unknown
    combined: np.ndarray  # float64 [n_series, n_months]; multi-month value at its first month
    combined_span: np.ndarray  # int8 [n_series, n_months]; months that value covers, 0 = none
    freq: str = "M"
    #: other records of each cell, aligned with ``values`` (see tradesentry.context)
    context: dict[str, np.ndarray] = field(default_factory=dict)
    cache: dict = field(default_factory=dict, repr=False)  # derived arrays, computed once

    @property
    def n_series(self) -> int:
        return self.values.shape[0]

    @property
    def n_months(self) -> int:
        return self.values.shape[1]

    @property
    def season(self) -> int:
        """Periods per year: the lag at which the same calendar month comes back."""
        return 12 if self.freq == "M" else 1

    @property
    def periods(self) -> np.ndarray:
        """The month of each column (computed once: detectors ask for it per finding)."""
        if "periods" not in self.cache:
            step = np.timedelta64(1, "M") if self.freq == "M" else np.timedelta64(12, "M")
            self.cache["periods"] = self.start + step * np.arange(self.n_months)
        return self.cache["periods"]

    @property
    def calendar_month(self) -> np.ndarray:
        """0..11 for each column (0 = January)."""
        return (self.periods.astype(int) % 12).astype(np.int8)

    def label(self, t: int | np.ndarray) -> np.ndarray | str:
        """'YYYY-MM' of column(s) t."""
        if "labels" not in self.cache:
            self.cache["labels"] = np.datetime_as_string(self.periods, unit="M")
        out = self.cache["labels"][t]
        return out if isinstance(t, np.ndarray) else str(out)

    def withheld(self) -> np.ndarray:
        """The cells whose row holds no figure: the source withheld it (confidential), where
        a missing month has no row at all."""
        marks = self.context.get(WITHHELD)
        return marks == 1 if marks is not None else np.zeros(self.values.shape, dtype=bool)

    def take(self, rows: np.ndarray) -> Panel:
        """The panel of some of the series (in the given order)."""
        return Panel(
            self.keys.iloc[rows].reset_index(drop=True),
            self.start,
            self.values[rows],
            self.weights[rows],
            self.combined[rows],
            self.combined_span[rows],
            self.freq,
            {name: array[rows] for name, array in self.context.items()},
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, freq: str = "M") -> Panel:
        """Build a panel from long observations (the store's columns), without a loop per row."""
        wanted = frame["freq"].to_numpy() == freq
        if not wanted.all():  # a chunk mixing frequencies (copying the frame costs)
            frame = frame[wanted]
        if frame.empty:
            empty = np.empty((0, 0))
            return cls(
                pd.DataFrame(columns=list(KEY_COLUMNS)),
                np.datetime64("2000-01", "M"),
                empty,
                empty.copy(),
                empty.copy(),
                np.empty((0, 0), np.int8),
                freq,
            )
        series_no, keys = _factorize_series(frame)
        # no cache: deciding whether to keep one walks a tenth of the rows as Timestamps
        month = pd.to_datetime(frame["period"], cache=False).to_numpy().astype("datetime64[M]")
        start = month.min()
        step = 1 if freq == "M" else 12
        col = ((month - start).astype(int) // step).astype(np.int64)
        single = frame["period_months"].to_numpy() == (1 if freq == "M" else 12)
        # the axis runs to the last month any figure covers: a January–February that is
        # the newest figure has its February on it (its expected sum was January's alone)
        last = col if single.all() else col + np.where(single, 0, frame["period_months"] - 1)
        shape = (len(keys), int(last.max()) + 1)
        cells = _Cells(shape, series_no, col, single)
        values = cells.scatter(frame["value"].to_numpy())
        weights = cells.scatter(frame["net_weight_kg"].to_numpy(dtype=float, na_value=np.nan))
        combined = cells.scatter(frame["value"].to_numpy(), combined=True)
        span = np.zeros(shape, np.int8)
        span.reshape(-1)[cells.combined] = frame["period_months"].to_numpy()[~single]
        extra = {}
        blank = frame["value"].isna().to_numpy()
        if blank.any():
            extra[WITHHELD] = cells.scatter(blank.astype(float))
        for name in CONTEXT_COLUMNS:
            if name in frame.columns:
                data = frame[name].to_numpy(dtype=float, na_value=np.nan)
                extra[name] = cells.scatter(data)
                if len(cells.combined):  # the combined figures' own context (their revisions)
                    extra[COMBINED_PREFIX + name] = cells.scatter(data, combined=True)
        return cls(keys, start, values, weights, combined, span, freq, extra)


def covered_months(
    a: np.ndarray, rows: np.ndarray, cols: np.ndarray, span: np.ndarray, outside: float
) -> np.ndarray:
    """``a`` (series × months) at each month a combined figure covers, one row per figure
    (its first month at ``rows``, ``cols``, covering ``span`` months); ``outside`` past its
    span or the panel's last month. The model, the combined readings and ``incoherent``
    read a figure's months this way."""
    T = a.shape[1]
    steps = np.arange(int(span.max(initial=1)))[None, :]
    inside = (steps < span[:, None]) & (cols[:, None] + steps < T)
    at = np.minimum(cols[:, None] + steps, T - 1)
    return np.where(inside, a[rows[:, None], at], outside)


def _factorize_series(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Panel row of each observation, and the keys of each row.

    An engine that already knows each row's series (``series_no``: the local and Spark
    engines gather series whole) saves the grouping on seven text columns, the costliest
    step of a panel; rows then follow the order of ``series_no`` instead of the keys'.
    """
    if "series_no" in frame.columns:
        codes, _ = pd.factorize(frame["series_no"].to_numpy(), sort=True)
        first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if _sorted(codes) else None
        if first is None:
            first = pd.Series(np.arange(len(frame))).groupby(codes).first().to_numpy()
        keys = frame.iloc[first][list(KEY_COLUMNS)].reset_index(drop=True)
        return codes, keys.astype(object)
    codes = frame.groupby(list(SERIES_KEY), sort=True, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(frame))).groupby(codes).first().to_numpy()
    keys = frame.iloc[first][list(KEY_COLUMNS)].reset_index(drop=True)
    return codes, keys


def _sorted(codes: np.ndarray) -> bool:
    return bool(len(codes) == 0 or (codes[1:] >= codes[:-1]).all())


class _Cells:
    """Where each observation goes in the panel: flat positions, computed once per panel
    and shared by the value, weight and context arrays (a panel has up to 18 of them)."""

    def __init__(self, shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, single):
        self.shape = shape
        flat = rows * shape[1] + cols
        self.all_single = bool(single.all())
        self.single = single
        self.months = flat if self.all_single else flat[single]
        self.combined = flat[~single]

    def scatter(self, data: np.ndarray, combined: bool = False) -> np.ndarray:
        """A panel-shaped array holding the single-month (or the combined) observations'
        ``data``, NaN elsewhere."""
        out = np.full(self.shape, np.nan)
        data = np.asarray(data, dtype=float)
        flat = out.reshape(-1)  # a view: fancy assignment on 1-D is 3× faster than on 2-D
        if combined:
            flat[self.combined] = data[~self.single]
        else:
            flat[self.months] = data if self.all_single else data[self.single]
        return out
