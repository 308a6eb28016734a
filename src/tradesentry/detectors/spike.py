"""Spike: a month far above what the series' own history and season expect."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.detectors.along import along_text, completed_along
from tradesentry.detectors.base import MONEY_NEEDS, Detector
from tradesentry.detectors.baseline import baseline
from tradesentry.detectors.combined import (
    combined_deviations,
    explain_deviation,
    with_combined,
)
from tradesentry.detectors.drivers import NEEDS as DRIVER_NEEDS
from tradesentry.detectors.evidence import (
    before_was_low,
    deviations,
    expectation_source,
    finding_freq,
    has_partner_record,
    many_goods,
    previous_release_text,
    season_decides,
    season_reading,
    unreported,
    with_previous_release,
)
from tradesentry.detectors.gap import run_expectations, run_sums
from tradesentry.detectors.late import late_evidence, late_text
from tradesentry.detectors.second_record import (
    AGREES,
    partner_text,
    shipped_text,
    with_second_records,
)
from tradesentry.panel import Panel
from tradesentry.text import (
    about,
    less_than,
    money,
    percent,
    period_name,
    period_unit,
    the_expected,
    times,
)


@dataclass(frozen=True)
class Spike(Detector):
    """A month whose value is more than ``threshold`` residual scales above its expectation.

    Model: the shared baseline (``baseline.py``): on the log scale, the expected value is
    the leave-one-out median of the months around it within its level-shift segment plus
    the same calendar month's effect in other years, and the scale is the robust scale of the
    series' residuals above the expectation (``sigma_high``: widened by the upper tail, so a
    habit of thin months does not hide a spike; floored at 5 %). Threshold: z ≥ 4.0. Why:
    under a normal model a 4-scale excess happens 3 times in 100,000 months; real trade
    residuals have heavier tails than the scale sees; at 4.0 the untouched real series of
    the accuracy benchmark give 0.7 spikes per 100 series-years, below the 1.2 dips the dip
    threshold gives, while 88 % of spikes of 4 to 20 scales are found (docs/accuracy.md).

    A seasonal factor can come from other years' odd months (a January at 1/200 of the
    months around it in three other years makes every January expected at 1/200), and then
    an ordinary month reads as a spike against it. Where the season decides the finding, the
    text also gives the reading without it (``season_reading``): the season is strong (it
    moves the month by at least ``evidence.SEASON_SCALES`` = 2 scales: |z − level_z| ≥ 2, where
    ``level_z`` is the month against the level alone in the same side scale) and against
    the level alone the month would not be flagged (|level_z| < ``threshold``). The finding
    stands: the month contradicts the same month of the other years, which agree.
    Where the months before have no figure and the excess is no more than they would hold
    and at least half of what one of them would, the text adds that (some of) their trade
    may have been recorded late, here (evidence ``late``, ``late.py``).
    Where the store holds the partner's record of the same flow, the month is read in it
    too: held (the reporter's figure is the one off) or moved with it (``second_record.py``).
    Where this release revised the month from a figure the previous release held within
    the threshold of the same expectation (context ``previous``), the text says so, and
    that the publisher's notes or the partner's record would tell which is right, not a
    later revision (``evidence.with_previous_release``).
    Where many of the reporter's series of the flow moved the same way in the month (a
    record or a measure that moved as a whole: ``context.reporter_along``, counted with
    the scan's level shifts and other single months of that record and month), the text
    says how many and which goods (``along.along_text``).
    Materiality, as every detector's: less than 2,000 at stake (US dollars where the store
    has the month's rate, ``own_rate``; else the series' currency units) scores at most its
    size / 2,000, so a figure of a few dollars is never high (``base.material_score``).
    """

    kind: ClassVar[str] = "spike"
    # money at stake in dollars; on a world series, every partner's sum (``drivers``)
    needs: ClassVar[tuple[str, ...]] = (*MONEY_NEEDS, "mirror", "previous", *DRIVER_NEEDS)
    # how many of the reporter's series moved with it, read once the scan's findings are in
    finding_needs: ClassVar[tuple[str, ...]] = ("reporter_along",)
    threshold: float = 4.0

    def detect(self, panel: Panel) -> pd.DataFrame:
        found = with_second_records(panel, deviations(panel, self.kind, +1, self.threshold))
        if len(found):
            found = _with_late_readings(panel, found)
            found = with_previous_release(panel, found, self.threshold)
        return with_combined(found, combined_deviations(panel, self.kind, +1, self.threshold))

    def complete(self, found: pd.DataFrame, context: Mapping[str, Mapping]) -> pd.DataFrame:
        """Each finding with how many of the reporter's series of the flow moved its way in
        its month (``context.reporter_along``), its explanation written again."""
        return completed_along(self, found, context)

    def explain(self, finding: Mapping) -> str:
        return self._explain(finding) + along_text(finding)

    def _explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        if ev.get("combined"):
            return explain_deviation(finding, times(ev.get("ratio")), "above")
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
        if season_decides(ev, ev.get("z"), self.threshold):
            text += " " + season_reading(ev, finding["period"], cur, freq, self.kind)
        text += late_text(ev.get("late"), cur, freq, "spike") or _after_low(finding, ev, cur, freq)
        partner, reading = partner_text(ev, finding)
        shipped, quantity = shipped_text(ev, finding, reading)
        revised = previous_release_text(ev, finding["period"], cur, freq)
        if revised:  # the store holds what a later revision would have told
            return text + revised + shipped + partner
        quoted = bool(partner) or not has_partner_record(finding)  # nothing left to point to
        closing = _closing(
            reading, quantity, period_unit(freq), quoted=quoted, many=many_goods(finding)
        )
        return text + shipped + partner + closing


def _after_low(finding: Mapping, ev: Mapping, cur: str, freq: str) -> str:
    """Where the month before was low, the reading of its trade booked in this one, with
    how much of the excess it can explain at most: its shortfall. China's exports to North
    Korea, March 2021, $13.0M against $148.0K expected after February's $3,000 against
    $253.0K: booking February late explains at most about $250K of it (an analyst
    suspected part of February's trade was booked in March; the figures bound that part)."""
    if not before_was_low(ev):
        return ""
    try:
        excess = float(finding["observed"]) - float(finding["expected"])
    except (KeyError, TypeError, ValueError):
        return ""
    if not (math.isfinite(excess) and excess > 0):
        return ""
    unit = period_unit(freq)
    before = period_name(ev["before_period"], freq)
    short = float(ev["before_expected"]) - float(ev["before_observed"])
    if short >= excess:  # the shortfall would cover the whole excess: a late month reads it
        bound = f"that may be all of its {money(excess, cur)} excess"
    else:
        share = percent(short / excess * 100, digits=0)
        bound = (
            f"that explains at most {about(short, cur)} of its {money(excess, cur)} excess "
            f"({share} of it)"
        )
    return (
        f" It follows a low {before} ({money(ev['before_observed'], cur)} against "
        f"{less_than(ev['before_expected'], cur)} expected): if part of {before}'s trade was "
        f"recorded in this {unit}, {bound}."
    )


def _closing(
    partner: str | None,
    quantity: str | None,
    unit: str,
    quoted: bool = False,
    many: bool = False,
) -> str:
    """The readings a spike leaves, as its partner's record and its weight narrow them;
    where the partner's record was ``quoted`` without settling them, a later revision is
    what would tell (not the record just given). A series of ``many`` goods or traders (a
    total, a chapter, the world: ``evidence.many_goods``) rises with its trade, not with
    one shipment: Poland's exports to the world, €48.5M for 25,406 t, were "a one-off
    shipment"."""
    if partner == "agrees":
        return AGREES
    if partner == "held":
        return (
            f" A misrecorded figure, or trade the partner recorded in another {unit}; a later "
            "revision would show the first."
        )
    record = "" if quoted else " or the partner's record"
    if quantity == "held":  # the usual tonnage at a higher price
        seen = ", seen on both sides," if partner == "moved" else ""
        tell = "" if partner == "moved" else f"; a later revision{record} would tell"
        goods = "another mix of goods" if many else "other goods under the code"
        shipped = "more goods shipped" if many else "a one-off shipment"
        return f" A price change, {goods}{seen} or a misrecorded value, more than {shipped}{tell}."
    more = f"More trade that {unit} (large contracts, prices, a catch-up after a disruption)"
    if partner == "moved":
        return (
            f" {more}, then."
            if many
            else f" A one-off shipment or a contract paid in one {unit}, then."
        )
    once = more if many else f"A one-off shipment, a contract paid in one {unit}"
    record = "" if quoted else " or the partner's mirror record"
    return f" {once}, or a misrecorded figure; a later revision{record} would tell them apart."


def _with_late_readings(panel: Panel, found: pd.DataFrame) -> pd.DataFrame:
    """Spikes that follow months the series holds no row for, read as those months' late
    figure where the terms of ``late.py`` hold (evidence ``late``)."""
    rows, cols = found["series"].to_numpy(), found["start"].to_numpy()
    first = cols.copy()
    after = unreported(panel, rows, first - 1)
    while after.any():  # back over the run of missing months: a handful of steps
        first = np.where(after, first - 1, first)
        after &= unreported(panel, rows, first - 1)
    runs = np.flatnonzero(first < cols)
    if not runs.size:
        return found
    model = baseline(panel)
    r, f, c = rows[runs], first[runs], cols[runs]
    each, _ = run_expectations(model.expected, model.offset, r, f, c - 1)
    late = dict(
        zip(runs.tolist(), late_evidence(panel, model, r, c, f, run_sums(each)), strict=True)
    )
    found = found.copy()
    found["evidence"] = [
        {**ev, "late": late[k]} if late.get(k) else ev for k, ev in enumerate(found["evidence"])
    ]
    return found
