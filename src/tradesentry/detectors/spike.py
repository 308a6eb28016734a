"""Spike: a month far above what the series' own history and season expect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from tradesentry.detectors.base import Detector
from tradesentry.detectors.baseline import deviations, expectation_source, finding_freq
from tradesentry.panel import Panel
from tradesentry.text import money, period_name, period_unit, the_expected, times


@dataclass(frozen=True)
class Spike(Detector):
    """A month whose value is more than ``threshold`` residual scales above its expectation.

    Model: the shared baseline (``baseline.py``): on the log scale, the expected value is
    the leave-one-out median of the months around it within its level-shift segment plus
    the same calendar month's effect in other years, and the scale is the robust scale of the
    series' residuals above the expectation (``sigma_high``: widened by the upper tail, so a
    habit of thin months does not hide a spike; floored at 5 %). Threshold: z ≥ 4.0. Why:
    under a normal model a 4-scale excess happens 3 times in 100,000 months; real trade
    residuals have heavier tails than the scale sees, and 4.0 is where the untouched real
    series of the accuracy benchmark give about 1.2 spikes per 100 series-years, the rate
    the dip threshold gives below (docs/detectors.md), while 87 % of spikes of 4 to 20 scales
    are found (docs/accuracy.md).
    """

    kind: ClassVar[str] = "spike"
    threshold: float = 4.0

    def detect(self, panel: Panel) -> pd.DataFrame:
        return deviations(panel, self.kind, +1, self.threshold)

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or ""
        freq = finding_freq(finding)
        ratio = ev.get("ratio")
        if ratio:
            against = f"{times(ratio)} {the_expected(finding['expected'], cur)}"
        else:
            against = "where next to nothing was expected"
        text = (
            f"{period_name(finding['period'], freq)} recorded {money(finding['observed'], cur)}, "
            f"{against} from {expectation_source(ev, freq)}; {ev.get('z') or 0:.1f} times the "
            "series' usual variation above its expected values."
        )
        return text + (
            f" A one-off shipment, a contract paid in one {period_unit(freq)}, or a misrecorded "
            "figure; a later revision or the partner's mirror record would tell them apart."
        )
