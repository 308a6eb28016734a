"""Findings: the contract of DESIGN.md, ranking, supersession and the text people read.

Detectors return detections about panel rows and columns; ``assemble`` turns them into
findings with the series keys, ``YYYY-MM`` periods, a stable id, a severity and an
explanation, drops findings that another finding explains, and ranks by severity then
money at stake.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from tradesentry.detectors.base import Detector
from tradesentry.panel import Panel
from tradesentry.schema import SEVERITY_RANK

FINDING_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "reporter",
    "partner",
    "flow",
    "commodity",
    "period",
    "period_end",
    "observed",
    "expected",
    "currency",
    "impact",
    "score",
    "severity",
    "explanation",
    "evidence",
)
# Kept beside the contract's columns so a finding can be traced to its exact series.
EXTRA_COLUMNS: tuple[str, ...] = ("classification", "breakdown")

HIGH, MEDIUM = 0.9, 0.7


def severity_of(score: np.ndarray) -> np.ndarray:
    """high from 0.9, medium from 0.7, low below: thresholds on the shared confidence scale."""
    score = np.asarray(score, dtype=float)
    return np.where(score >= HIGH, "high", np.where(score >= MEDIUM, "medium", "low"))


def stable_id(kind: str, key: Sequence[str], period: str, period_end: str) -> str:
    text = "|".join([kind, *key, period, period_end])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def assemble(
    panel: Panel, frames: Sequence[pd.DataFrame], detectors: Sequence[Detector]
) -> pd.DataFrame:
    """Detections of one panel → findings frame (contract columns + classification, breakdown)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_findings()
    det = pd.concat(frames, ignore_index=True)
    det = _drop_superseded(det, detectors)
    keys = panel.keys.iloc[det["series"].to_numpy()].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "kind": det["kind"].to_numpy(),
            "reporter": keys["reporter"].to_numpy(),
            "partner": keys["partner"].to_numpy(),
            "flow": keys["flow"].to_numpy(),
            "commodity": keys["commodity"].to_numpy(),
            "classification": keys["classification"].to_numpy(),
            "breakdown": keys["breakdown"].to_numpy(),
            "period": panel.label(det["start"].to_numpy()),
            "period_end": panel.label(det["end"].to_numpy()),
            "observed": det["observed"].to_numpy(),
            "expected": det["expected"].to_numpy(),
            "currency": keys["currency"].to_numpy(),
            "impact": det["impact"].to_numpy(),
            "score": det["score"].to_numpy().round(3),
            "evidence": det["evidence"].to_numpy(),
        }
    )
    out["severity"] = severity_of(out["score"])
    out["id"] = [
        stable_id(
            r.kind,
            (r.reporter, r.partner, r.flow, r.classification, r.commodity, r.breakdown),
            r.period,
            r.period_end,
        )
        for r in out.itertuples()
    ]
    by_kind = {d.kind: d for d in detectors}
    out["explanation"] = [by_kind[rec["kind"]].explain(rec) for rec in out.to_dict("records")]
    return out[[*FINDING_COLUMNS, *EXTRA_COLUMNS]]


def _drop_superseded(det: pd.DataFrame, detectors: Sequence[Detector]) -> pd.DataFrame:
    """Drop findings that a finding of a superseding kind covers (same series, overlapping months)."""
    keep = np.ones(len(det), dtype=bool)
    for d in detectors:
        if not d.supersedes:
            continue
        winners = det[det["kind"] == d.kind]
        if winners.empty:
            continue
        losers = det[det["kind"].isin(d.supersedes)]
        if losers.empty:
            continue
        pairs = losers.reset_index().merge(winners, on="series", suffixes=("", "_w"))
        overlap = (pairs["start"] <= pairs["end_w"]) & (pairs["end"] >= pairs["start_w"])
        keep[pairs.loc[overlap, "index"].unique()] = False
    return det[keep].reset_index(drop=True)


def rank(findings: pd.DataFrame) -> pd.DataFrame:
    """Severity first (high before low), then money at stake, largest first."""
    if findings.empty:
        return findings
    order = findings["severity"].map(SEVERITY_RANK)
    return (
        findings.assign(_s=order)
        .sort_values(["_s", "impact", "id"], ascending=[True, False, True], kind="stable")
        .drop(columns="_s")
        .reset_index(drop=True)
    )


def empty_findings() -> pd.DataFrame:
    return pd.DataFrame(columns=[*FINDING_COLUMNS, *EXTRA_COLUMNS])


class Findings:
    """The result of a scan: a ranked frame of findings with the contract's columns."""

    def __init__(self, frame: pd.DataFrame, scan_id: int | None = None):
        self._frame = frame.reset_index(drop=True)
        self.scan_id = scan_id

    def __len__(self) -> int:
        return len(self._frame)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.to_records())

    def __getitem__(self, i: int) -> dict:
        return self.to_records()[i]

    def to_frame(self) -> pd.DataFrame:
        return self._frame.copy()

    def to_records(self) -> list[dict]:
        """Findings as plain dicts in the contract's shape (JSON-ready)."""
        records = []
        for rec in self._frame[list(FINDING_COLUMNS)].to_dict("records"):
            for k in ("observed", "expected", "impact", "score"):
                v = rec[k]
                rec[k] = (
                    None if v is None or (isinstance(v, float) and not np.isfinite(v)) else float(v)
                )
            rec["evidence"] = _jsonable(rec["evidence"])
            records.append(rec)
        return records

    def to_json(self, lines: bool = False) -> str:
        records = self.to_records()
        if lines:
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        return json.dumps(records, ensure_ascii=False, indent=1)

    def filter(self, **criteria) -> Findings:
        frame = self._frame
        for column, wanted in criteria.items():
            if wanted is None:
                continue
            values = wanted if isinstance(wanted, list | tuple | set) else [wanted]
            frame = frame[frame[column].isin(values)]
        return Findings(frame, self.scan_id)

    def _repr_html_(self) -> str:
        from html import escape

        cols = [
            "severity",
            "kind",
            "reporter",
            "partner",
            "flow",
            "commodity",
            "period",
            "impact",
            "explanation",
        ]
        head = "".join(f"<th>{escape(c)}</th>" for c in cols)
        rows = "".join(
            "<tr>" + "".join(f"<td>{escape(str(r[c]))}</td>" for c in cols) + "</tr>"
            for r in self._frame[cols].head(50).to_dict("records")
        )
        return f"<p>{len(self)} findings</p><table><tr>{head}</tr>{rows}</table>"

    def __repr__(self) -> str:
        return f"Findings({len(self)} findings, scan {self.scan_id})"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
