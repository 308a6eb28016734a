"""Dip: a month far below what the series' own history and season expect."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from tradesentry.detectors.along import along_text, completed_along
from tradesentry.detectors.base import MONEY_NEEDS, Detector
from tradesentry.detectors.baseline import NOTHING_SHARE
from tradesentry.detectors.combined import (
    combined_deviations,
    explain_deviation,
    with_combined,
)
from tradesentry.detectors.drivers import NEEDS as DRIVER_NEEDS
from tradesentry.detectors.evidence import (
    deviations,
    expectation_source,
    finding_freq,
    has_partner_record,
    many_goods,
    next_high_text,
    next_was_high,
    previous_release_text,
    season_decides,
    season_reading,
    silence_text,
    with_previous_release,
)
from tradesentry.detectors.second_record import (
    AGREES,
    partner_text,
    shipped_text,
    with_second_records,
)
from tradesentry.panel import Panel
from tradesentry.text import (
    money,
    percent,
    period_name,
    period_unit,
    the_expected,
    times,
)


@dataclass(frozen=True)
class Dip(Detector):
    """A month whose value is more than ``threshold`` residual scales below its expectation.

    Model: the shared baseline (``baseline.py``), as for spikes: the leave-one-out median of
    the months around it within its level-shift segment plus the calendar month's effect,
    on the log scale, with the series' robust residual scale below the expectation
    (``sigma_low``: MAD-based, widened by the lower tail, so a series' habit of thin months
    is part of its noise; floored at 5 %). Threshold: z ≤ -4.5. Why: a normal model gives
    3 such months in a million; real trade residuals are heavier-tailed below than above
    (part-shipments, late declarations), and 4.5 is where the untouched real series of the
    accuracy benchmark give about 1.2 dips per 100 series-years (2.8 at 4.0 when the
    thresholds were chosen; spikes give 0.7 at 4.0); most of those dips are
    visibly real (a month at 1/50 of its neighbours). A reported zero is not a dip
    where the series' months without trade (zeros or missing months) explain it
    (``baseline.ordinary_zeros``): intermittent flows trade in some months and not in others;
    nor is a month of next to nothing (below a tenth of its expectation) in a line without
    trade a quarter of its months or more, over its span and in the year around it
    (``baseline.ordinary_nothing``): a parcel where the line often ships nothing says what
    a month without trade says. Nor is a series' first reported month
    (``evidence.first_months``): a flow that starts late in a month holds part of it.

    Where a strong seasonal factor decides the dip (it moves the month by at least 2
    scales, and against the level alone the month is within the threshold: ``evidence``'s
    ``season_decides``), the text also gives the reading without the season: the other
    years' months behind the factor in money, and the month against the level alone.
    Where the store holds the partner's record of the same flow, the month is read in it
    too: held (the reporter's figure is the one off) or moved with it (``second_record.py``).
    Where this release revised the month from a figure the previous release held within
    the threshold of the same expectation (context ``previous``), the text says so, and
    that the publisher's notes or the partner's record would tell which is right, not a
    later revision (``evidence.with_previous_release``).
    A month after half a year or more without a figure says so, and which side of the
    silence its expectation comes from (``evidence.silence_text``): after it, the trade or
    its record had stopped before this month.
    Where many of the reporter's series of the flow moved the same way in the month (a
    record or a measure that moved as a whole: ``context.reporter_along``, counted with
    the scan's level shifts and other single months of that record and month), the text
    says how many and which goods (``along.along_text``).
    Materiality, as every detector's: less than 2,000 at stake (US dollars where the store
    has the month's rate, ``own_rate``; else the series' currency units) scores at most its
    size / 2,000, so a figure of a few dollars is never high (``base.material_score``).
    """

    kind: ClassVar[str] = "dip"
    # money at stake in dollars; on a world series, every partner's sum (``drivers``)
    needs: ClassVar[tuple[str, ...]] = (*MONEY_NEEDS, "mirror", "previous", *DRIVER_NEEDS)
    # how many of the reporter's series moved with it, read once the scan's findings are in
    finding_needs: ClassVar[tuple[str, ...]] = ("reporter_along",)
    threshold: float = 4.5

    def detect(self, panel: Panel) -> pd.DataFrame:
        found = with_second_records(panel, deviations(panel, self.kind, -1, self.threshold))
        found = with_previous_release(panel, found, self.threshold)
        return with_combined(found, combined_deviations(panel, self.kind, -1, self.threshold))

    def complete(self, found: pd.DataFrame, context: Mapping[str, Mapping]) -> pd.DataFrame:
        """Each finding with how many of the reporter's series of the flow moved its way in
        its month (``context.reporter_along``), its explanation written again."""
        return completed_along(self, found, context)

    def explain(self, finding: Mapping) -> str:
        return self._explain(finding) + silence_text(finding) + along_text(finding)

    def _explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        if ev.get("combined"):
            return explain_deviation(finding, _below(finding, ev), "below")
        cur = finding.get("currency") or ""
        freq = finding_freq(finding)
        unit = period_unit(freq)
        text = (
            f"{period_name(finding['period'], freq)} recorded {money(finding['observed'], cur)}, "
            f"{_below(finding, ev)} {the_expected(finding['expected'], cur)} from "
            f"{expectation_source(ev, freq)}; {abs(ev.get('z') or 0):.1f} times the series' usual "
            "variation below its expected values."
        )
        if season_decides(ev, ev.get("z"), self.threshold):
            text += " " + season_reading(ev, finding["period"], cur, freq, self.kind)
        partner, reading = partner_text(ev, finding)
        shipped, quantity = shipped_text(ev, finding, reading)
        revised = previous_release_text(ev, finding["period"], cur, freq)
        if revised:  # the store holds what a later revision would have told
            return text + revised + shipped + partner
        text += shipped + partner
        nxt = period_name(ev.get("next_period"), freq)
        if ev.get("next_starts_level"):
            text += (
                f" It is the last {unit} before the new level that starts in {nxt} "
                f"({money(ev.get('next_observed'), cur)}): part of this {unit}'s trade may have "
                f"been recorded in {nxt}, or trade was held back before it resumed."
            )
        elif next_was_high(ev):
            text += next_high_text(finding, freq, f"this {unit}'s")
        elif reading == "agrees":
            text += AGREES
        elif reading == "held":
            text += " Trade not yet recorded or misrecorded, then; a later revision would show it."
        elif reading == "moved" and quantity == "held":  # the usual tonnage, cheaper
            text += " A fall in price, seen on both sides, more than an interruption."
        elif reading == "moved" and _next_to_nothing(finding):
            text += f" A real interruption, then ({_halt(finding)}), on both sides."
        elif reading == "moved":
            text += f" A real fall, then, on both sides: {_smaller(finding)}."
        elif quantity == "held":
            text += (
                " A fall in price or a misrecorded value, more than an interruption; a later "
                f"revision{_or_partner(finding, partner)} would tell."
            )
        elif _next_to_nothing(finding):
            text += (
                f" A real interruption ({_halt(finding)}) or trade not yet recorded; "
                "a later revision would show the second."
            )
        else:  # some trade went on: a smaller month, not a stop
            smaller = _smaller(finding)
            text += (
                f" {smaller[:1].upper()}{smaller[1:]}, or part of the month's trade not "
                f"yet recorded; a later revision{_or_partner(finding, partner)} would tell them apart."
            )
        return text


def _or_partner(finding: Mapping, said: str = "") -> str:
    """ " or the partner's record", where the series has one to point to and the text has
    not just given what the store holds of it (``said``)."""
    return " or the partner's record" if has_partner_record(finding) and not said else ""


def _smaller(finding: Mapping) -> str:
    """A month smaller than usual, in the words of its series: one product's shipments, or
    a total's trade (``evidence.many_goods``)."""
    if many_goods(finding):
        return "less trade that month (demand, prices, a holiday or a disruption)"
    return "a smaller shipment or contract than usual"


def _halt(finding: Mapping) -> str:
    """What interrupts a series' trade: a total's is a closure or a halt, not a contract."""
    return "a closure, a halt of trade" if many_goods(finding) else "a closure, a lost contract"


def _next_to_nothing(finding: Mapping) -> bool:
    """A month below a tenth of its expectation (``baseline.NOTHING_SHARE``): an
    interruption; above it some trade went on (Poland's imports of CN 35069110 from Sweden,
    €822 for 100 kg against €3.0K, was "a real interruption (a closure, a lost contract)")."""
    observed, expected = finding.get("observed"), finding.get("expected")
    try:
        return float(observed) < NOTHING_SHARE * float(expected)
    except (TypeError, ValueError):
        return True


def _below(finding: Mapping, ev: Mapping) -> str:
    """How far below its expectation the month is: '56% below', '99.7% below'; from a
    thousandth down a fraction, '1/87,000,000 of' (never '100% below' for a month that
    recorded something). The ratio of the figures themselves where both are known, else
    the evidence's."""
    observed, expected = finding.get("observed"), finding.get("expected")
    try:
        ratio = float(observed) / float(expected)
    except (TypeError, ValueError, ZeroDivisionError):
        ratio = float(ev.get("ratio") or 0.0)
    if not math.isfinite(ratio):
        ratio = float(ev.get("ratio") or 0.0)
    if 0 < ratio < 1e-3:
        return times(ratio)
    return f"{percent((1 - ratio) * 100, digits=0)} below"
