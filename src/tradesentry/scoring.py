"""Event-level scoring of detections against injected ground truth.

Shared by the accuracy benchmark and by any benchmark that scores another library with
the same rules, so every tool is graded by one ruler:

- an *event* is one injected anomaly: a series and a span of months (one month, two for a
  timing shift), with the kind it should be found as;
- a detection *hits* an event when it is on the same series and its span overlaps the
  event's span widened by ``tolerance`` months on each side (±1 by default);
- recall counts events hit by at least one detection; precision counts detections that hit
  at least one event. No point-adjust: a detection is credited for the event it touches,
  never for the months of a whole segment;
- *attribution* is the share of found events that a detection of the right kind hits (a
  timing shift called a timing shift, not a spike and a dip). An event may name a second
  acceptable kind in an optional ``also`` column (a dip that takes a month below 1 % of
  itself is also an implausible value);
- false alarms are detections on series left untouched, per 100 series-years of reported
  months.

Frames: ``truth`` has columns series, start, end, kind (plus anything to group by, such as
injection and size); ``found`` has series, start, end, kind. ``series`` is any hashable id
shared by both (a panel row, or a replicate and row pair encoded as one integer).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def match(
    truth: pd.DataFrame, found: pd.DataFrame, tolerance: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mark hits: ``truth`` gains ``found`` and ``right_kind``; ``found`` gains ``hit`` and
    ``hit_right_kind``."""
    truth = truth.reset_index(drop=True).copy()
    found = found.reset_index(drop=True).copy()
    if "also" not in truth:
        truth["also"] = ""
    pairs = (
        truth[["series", "start", "end", "kind", "also"]]
        .reset_index()
        .merge(
            found[["series", "start", "end", "kind"]].reset_index(),
            on="series",
            suffixes=("_t", "_f"),
        )
    )
    overlap = (pairs["start_f"] <= pairs["end_t"] + tolerance) & (
        pairs["end_f"] >= pairs["start_t"] - tolerance
    )
    pairs = pairs[overlap]
    same = (pairs["kind_t"] == pairs["kind_f"]) | (pairs["also"].fillna("") == pairs["kind_f"])
    truth["found"] = truth.index.isin(pairs["index_t"])
    truth["right_kind"] = truth.index.isin(pairs.loc[same, "index_t"])
    found["hit"] = found.index.isin(pairs["index_f"])
    found["hit_right_kind"] = found.index.isin(pairs.loc[same, "index_f"])
    return truth, found


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def kind_table(truth: pd.DataFrame, found: pd.DataFrame, kinds: Sequence[str] | None = None):
    """Per kind: events, recall, precision, F1 (any kind counts as found) and attribution,
    plus the strict recall/precision/F1 that need the right kind.

    ``truth`` and ``found`` are outputs of ``match``.
    """
    kinds = list(kinds) if kinds is not None else sorted(set(truth["kind"]))
    rows = []
    for kind in kinds:
        t = truth[truth["kind"] == kind]
        f = found[found["kind"] == kind]
        recall = t["found"].mean() if len(t) else np.nan
        strict_recall = t["right_kind"].mean() if len(t) else np.nan
        precision = f["hit"].mean() if len(f) else np.nan
        strict_precision = f["hit_right_kind"].mean() if len(f) else np.nan
        rows.append(
            {
                "kind": kind,
                "events": len(t),
                "detections": len(f),
                "recall": recall,
                "precision": precision,
                "f1": _f1(np.nan_to_num(precision), np.nan_to_num(recall)) if len(t) else np.nan,
                "attribution": strict_recall / recall if recall else np.nan,
                "strict_f1": _f1(np.nan_to_num(strict_precision), np.nan_to_num(strict_recall))
                if len(t)
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def size_table(truth: pd.DataFrame, found: pd.DataFrame, by: Sequence[str] = ("injection", "size")):
    """Per injection and size: events, recall (any kind) and strict recall (right kind).

    Precision is not defined per size (a false alarm has no size); the F1 column combines
    each size's recall with the precision of the kind over all sizes.
    """
    precision = found.groupby("kind")["hit"].mean()
    g = truth.groupby(list(by), sort=True)
    out = g.agg(
        kind=("kind", "first"),
        events=("found", "size"),
        recall=("found", "mean"),
        strict_recall=("right_kind", "mean"),
    ).reset_index()
    p = out["kind"].map(precision).fillna(0.0).to_numpy()
    r = out["recall"].to_numpy()
    out["f1"] = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    return out


def false_alarms(found: pd.DataFrame, series_years: float, by: str | None = "kind") -> pd.Series:
    """Detections per 100 series-years (``found`` holds the detections on untouched series)."""
    if series_years <= 0:
        return pd.Series(dtype=float)
    if by is None:
        return pd.Series({"all": 100.0 * len(found) / series_years})
    counts = found.groupby(by).size()
    out = 100.0 * counts / series_years
    out["all"] = 100.0 * len(found) / series_years
    return out
