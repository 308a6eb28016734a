"""Level shift: a lasting change of level (border closure, sanctions, reopening)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.detectors.base import Detector, confidence, detections, no_detections
from tradesentry.detectors.baseline import DEFAULT_CONFIG, baseline, month_name
from tradesentry.panel import Panel
from tradesentry.text import money


@dataclass(frozen=True)
class LevelShift(Detector):
    """A lasting change of level, with its first month and the size of the new level.

    Model: binary segmentation with local windows on the deseasonalised log series
    (``baseline.find_shifts``): at each month the median of the reported months in the 6
    (and 12) months before is compared with the median of those after, within the current
    segment, with at least 3 months on each side; the difference is standardised by the
    noise scale (consecutive differences ÷ √2, robust) and the medians' standard error
    (1.2533 σ √(1/n₁ + 1/n₂)); the strongest change is refined to the least-absolute-
    deviation split nearby and kept if most months on each side (60 %) stay on their side of
    the midpoint; the search repeats in the new segments. Threshold: |statistic| ≥ 5.0
    (``BaselineConfig.shift_threshold``).
    Why: the statistic is scanned over every month and two window lengths of every series
    (roughly 10 to 20 effective tests per series), so a stricter bar than for one month
    keeps false shifts on the untouched benchmark series rare; the persistence rule keeps a
    pair of outliers from passing as a new level. The baseline then measures each month
    against its own segment, so the months of a new regime are not flagged again, and this
    finding replaces a spike or dip on its first month. The new and old levels are the
    medians of the reported months of the two segments.
    """

    kind: ClassVar[str] = "level_shift"
    supersedes: ClassVar[tuple[str, ...]] = ("spike", "dip")
    #: shifts are searched at the model's threshold (``BaselineConfig.shift_threshold``);
    #: a higher value here reports only the stronger ones.
    threshold: float = DEFAULT_CONFIG.shift_threshold

    def detect(self, panel: Panel) -> pd.DataFrame:
        model = baseline(panel)
        sh = model.shifts
        keep = np.flatnonzero(np.abs(sh.stat) >= self.threshold)
        if not keep.size:
            return no_detections()
        c = model.offset[sh.series]
        old = np.maximum(np.exp(sh.old) - c, 0.0)
        new = np.maximum(np.exp(sh.new) - c, 0.0)
        months = sh.end - sh.start + 1
        evidence = [self._evidence(panel, model, k, float(old[k]), float(new[k])) for k in keep]
        return detections(
            self.kind,
            sh.series[keep],
            sh.start[keep],
            observed=new[keep],
            expected=old[keep],
            impact=((new - old) * months)[keep],
            score=confidence(np.abs(sh.stat[keep]), DEFAULT_CONFIG.shift_threshold),
            evidence=evidence,
        )

    @staticmethod
    def _evidence(panel: Panel, model, k: int, old: float, new: float) -> dict:
        sh = model.shifts
        i, t = int(sh.series[k]), int(sh.start[k])
        seg = model.segment[i]
        reported = np.flatnonzero(np.isfinite(model.y[i]))
        before = reported[seg[reported] == seg[t] - 1]
        prev = int(before[-1]) if before.size else None
        out = {
            "old_level": round(old, 2),
            "new_level": round(new, 2),
            "ratio": round(new / old, 6) if old > 0 else None,
            "statistic": round(float(sh.stat[k]), 3),
            "persistence": round(float(sh.persistence[k]), 3),
            "months_before": int(sh.n_before[k]),
            "months_after": int(sh.n_after[k]),
            "before_from": panel.label(int(before[0])) if before.size else None,
            "before_to": panel.label(prev) if prev is not None else None,
            "regime_end": panel.label(int(sh.end[k])),
            "first_value": float(panel.values[i, t]),
        }
        if prev is not None:
            out.update(_previous_month(panel, model, i, prev))
        return out

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or ""
        start = month_name(finding["period"])
        ratio = ev.get("ratio") or 0.0
        size = f"×{ratio:.2g}" if ratio < 10 else f"×{ratio:,.0f}"
        text = (
            f"From {start} the series runs at a new level: about {money(finding['observed'], cur)} "
            f"a month (median of the {ev.get('months_after')} reported months from {start} to "
            f"{month_name(ev.get('regime_end'))}) against about {money(finding['expected'], cur)} "
            f"in the {ev.get('months_before')} reported months before "
            f"({month_name(ev.get('before_from'))} to {month_name(ev.get('before_to'))}), {size}."
        )
        return text + " " + _alternative(ev, finding, cur)


def _previous_month(panel: Panel, model, i: int, prev: int) -> dict:
    """The last reported month before the shift, against its own segment's expectation."""
    v, e = float(panel.values[i, prev]), float(model.expected[i, prev])
    z = float(model.z[i, prev])
    return {
        "previous_period": panel.label(prev),
        "previous_value": v,
        "previous_expected": round(e, 2) if np.isfinite(e) else None,
        "previous_z": round(z, 3) if np.isfinite(z) else None,
    }


def _alternative(ev: dict, finding: Mapping, cur: str) -> str:
    """The other reading of the change, in words."""
    start = month_name(finding["period"])
    up = (ev.get("ratio") or 0.0) > 1
    pz, pe, pv = ev.get("previous_z"), ev.get("previous_expected"), ev.get("previous_value")
    if up and pz is not None and pz <= -2.0 and pe is not None and pv is not None:
        moved = max(pe - pv, 0.0)
        first = ev.get("first_value") or 0.0
        share = moved / first * 100 if first > 0 else 0.0
        return (
            f"It follows an unusually low {month_name(ev.get('previous_period'))} "
            f"({money(pv, cur)} against {money(pe, cur)} expected). If part of that month's "
            f"trade was recorded in {start} (a timing shift), at most about {money(moved, cur)} "
            f"moved, {share:.0f}% of {start}'s {money(first, cur)}; the months after staying at "
            "the new level point to a real change, such as a reopening."
        )
    if up:
        return (
            "A reopening, a new contract or a new trade route; or a change in what is recorded "
            "(coverage, classification) that the source's notes would show."
        )
    return (
        "A closure, sanctions or lost business; or a change in what is recorded (coverage, "
        "a reclassification moving goods to another code) that the source's notes would show."
    )
