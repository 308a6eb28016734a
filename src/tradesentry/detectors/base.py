"""The detector contract: what every detector is, takes and returns.

A detector is a small frozen dataclass with explicit keyword parameters and a ``kind``.
``detect(panel)`` looks at the whole chunk at once with NumPy (no loop per series), is
pure (no I/O, no global state) and returns a *detections* frame: one row per finding with
the series (row of the panel), the first and last column it covers, the observed and
expected values, the money at stake, a confidence score in [0, 1] and the evidence.
``explain(finding)`` turns one finding's evidence into a sentence a journalist could quote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.panel import COMBINED_PREFIX, Panel

DETECTION_COLUMNS: tuple[str, ...] = (
    "kind",
    "series",
    "start",
    "end",
    "observed",
    "expected",
    "impact",
    "score",
    "evidence",
)


@dataclass(frozen=True)
class Detector:
    """Base class. Subclasses set ``kind`` and implement ``detect`` and ``explain``."""

    kind: ClassVar[str] = ""
    #: kinds whose findings on the same series and months this detector's findings replace
    #: (a timing shift explains the dip and the spike it is made of).
    supersedes: ClassVar[tuple[str, ...]] = ()
    #: other records of the figure the detector compares with (see tradesentry.context):
    #: e.g. "mirror", "previous", "own_rate", "partners" (``context.NEEDS`` has them all).
    #: The engine adds them to the panel.
    needs: ClassVar[tuple[str, ...]] = ()
    #: what the findings' months hold in other records, read once the findings are known
    #: (a month a series did not report has no row to join it to), e.g. "mirror_months"
    finding_needs: ClassVar[tuple[str, ...]] = ()

    def detect(self, panel: Panel) -> pd.DataFrame:
        raise NotImplementedError

    def explain(self, finding: Mapping) -> str:
        raise NotImplementedError

    def superseding(self, found: pd.DataFrame) -> np.ndarray:
        """Which of this detector's detections (rows of ``found``) replace the findings of
        ``supersedes`` on their months: all, unless the detector's reading decides (a
        unit value off because its value is, not its weight, ``UnitValue``)."""
        return np.ones(len(found), dtype=bool)

    def complete(self, found: pd.DataFrame, context: Mapping[str, Mapping]) -> pd.DataFrame:
        """Findings of this kind (in ``found``, an assembled frame) with the context of
        findings the detector names in ``finding_needs`` (``context[need]``: by the
        finding's index, from ``tradesentry.context.FINDING_CONTEXT``), their explanations
        written again; pure, like ``detect``. Most detectors need none: as given."""
        return found

    def from_store(self, con, filters: Mapping) -> pd.DataFrame:
        """Findings no panel can hold, read from the store once per scan (a series' months
        after its last report: ``Gap``), as assembled findings; most detectors have none."""
        from tradesentry.findings import empty_findings

        return empty_findings()

    def parameters(self) -> dict:
        """The detector's tunable parameters (its dataclass fields, not the class-level
        ``kind``, ``supersedes`` and ``needs``), for the report's method section."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def detections(
    kind: str,
    series: np.ndarray,
    start: np.ndarray,
    end: np.ndarray | None = None,
    *,
    observed: np.ndarray,
    expected: np.ndarray,
    impact: np.ndarray,
    score: np.ndarray,
    evidence: list[dict] | None = None,
) -> pd.DataFrame:
    """Build a detections frame from parallel arrays (one element per finding)."""
    series = np.asarray(series, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    n = len(series)
    return pd.DataFrame(
        {
            "kind": np.full(n, kind, dtype=object),
            "series": series,
            "start": start,
            "end": start if end is None else np.asarray(end, dtype=np.int64),
            "observed": np.asarray(observed, dtype=float),
            "expected": np.asarray(expected, dtype=float),
            "impact": np.abs(np.asarray(impact, dtype=float)),
            "score": np.clip(np.asarray(score, dtype=float), 0.0, 1.0),
            "evidence": evidence if evidence is not None else [{} for _ in range(n)],
        },
        columns=list(DETECTION_COLUMNS),
    )


def no_detections() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in DETECTION_COLUMNS})


def confidence(z: np.ndarray, threshold: float) -> np.ndarray:
    """Map a test statistic to a score: 0.5 at the threshold, towards 1 as it grows.

    One shared scale so that scores from different detectors can be ranked together.
    """
    z = np.asarray(z, dtype=float)
    return np.clip(1.0 - 0.5 * np.exp(-(z - threshold) / 2.0), 0.0, 1.0)


#: the materiality scale: a finding about m of money scores at most m / ``MATERIAL_MONEY``,
#: so below 1,800 (``HIGH`` of it) it cannot be high however far its figures are (currency
#: units of the series, or US dollars where a detector converts): ``material_cap``
MATERIAL_MONEY = 2000.0


def material_cap(money: np.ndarray, material_money: float = MATERIAL_MONEY) -> np.ndarray:
    """The highest score ``money`` at stake allows: |money| / ``material_money`` (0.5 at 1,000,
    high only from 1,800); no cap where the money is unknown (an unknown amount is not a
    small one). The materiality rule of every detector."""
    money = np.abs(np.asarray(money, dtype=float))
    return np.where(np.isfinite(money), money / material_money, np.inf)


#: the context a detector needs for its money cap in dollars: the rate of the series' own
#: currency (``in_dollars``), a join rather than a cross check
MONEY_NEEDS: tuple[str, ...] = ("own_rate",)


def context_array(panel: Panel, name: str) -> np.ndarray | None:
    """The panel's context array ``name``, or None when the engine did not supply it."""
    array = panel.context.get(name)
    if array is None or array.shape != panel.values.shape:
        return None
    return np.asarray(array, dtype=float)


def in_dollars(
    panel: Panel, rows: np.ndarray, cols: np.ndarray, money: np.ndarray, *, nearest: bool = False
) -> np.ndarray:
    """``money`` of the cells in US dollars where the store has the month's rate for the
    series' currency (context ``own_per_usd``), else as it is (currency units). With
    ``nearest``, a cell whose month has no row to carry the rate takes the series' nearest
    month's (``nearest_rates``): a missing month (``gap``), a combined figure's months."""
    if nearest:
        rate = nearest_rates(panel, rows, cols)
    else:
        per_usd = context_array(panel, "own_per_usd")
        if per_usd is None:
            return np.asarray(money, dtype=float)
        rate = per_usd[rows, cols]
    return np.where(np.isfinite(rate) & (rate > 0), money / rate, money)


def nearest_rates(panel: Panel, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Units of the series' currency per US dollar at the cells (``rows``, ``cols``, which
    broadcast): the month's rate where a row of the series carries it (context
    ``own_per_usd``, a combined figure's too), else that of the series' nearest month that
    has one, the earlier on a tie, as the ranking prices a finding's money
    (``findings.usd_rates_sql``); NaN where the series has none. The context joins a rate
    to a row, and a month the series did not report has no row: its rate is its
    neighbours'."""
    rows, cols = np.broadcast_arrays(np.asarray(rows, np.int64), np.asarray(cols, np.int64))
    known = np.full(panel.values.shape, np.nan)
    for name in ("own_per_usd", COMBINED_PREFIX + "own_per_usd"):
        array = context_array(panel, name)
        if array is not None:
            known = np.where(np.isfinite(known), known, array)
    if not rows.size or not np.isfinite(known).any():
        return np.full(rows.shape, np.nan)
    series, at = np.unique(rows, return_inverse=True)
    held = np.isfinite(known[series]) & (known[series] > 0)
    n_months = held.shape[1]
    month = np.arange(n_months)
    before = np.maximum.accumulate(np.where(held, month, -1), axis=1)
    after = np.flip(np.minimum.accumulate(np.flip(np.where(held, month, n_months), 1), 1), 1)
    at, col = at.reshape(rows.shape), np.clip(cols, 0, n_months - 1)
    b, a = before[at, col], after[at, col]
    take = np.where((b >= 0) & ((a >= n_months) | (col - b <= a - col)), b, a)
    rate = known[series[at], np.clip(take, 0, n_months - 1)]
    return np.where((take >= 0) & (take < n_months), rate, np.nan)


def material_score(
    panel: Panel, rows: np.ndarray, cols: np.ndarray, score: np.ndarray, money: np.ndarray
) -> np.ndarray:
    """``score`` capped by the money at stake (``material_cap``, in US dollars where the
    store has the rate): a month of 12 Guinean francs (about $1) where 9,197 were expected
    is no high finding, however many scales off; ranked by severity first, it came before
    a level shift with $150M at stake."""
    return np.minimum(score, material_cap(in_dollars(panel, rows, cols, money)))
