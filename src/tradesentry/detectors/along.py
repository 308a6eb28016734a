"""A reporter's record that moved as a whole in a finding's month: the words, and the
findings completed with them.

Where many of a reporter's series of one flow move the same way in one month, each
change, dip or figure near zero among them is less likely its own trade's story than the
record's (its coverage, its processing, a late release) or a measure's: China's graphite
exports in December 2023, when its export controls began, fell in 44 of its 77 series in
the store at once. ``context.reporter_along`` counts them, once per scan, for the
findings of every detector that names ``reporter_along`` in its ``finding_needs``
together (a level shift, a dip and a figure near zero of one month are the same move);
this module says it in the finding's words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from tradesentry.text import factor, joined, percent

if TYPE_CHECKING:
    from tradesentry.detectors.base import Detector

#: a record moved as a whole where the share of its series that moved a finding's way in
#: its month, and the share of their trade, are each at least ``ALONG_SHARE`` and this many
#: times the share in the same month of other years or more, and the count is beyond
#: ``ALONG_Z`` binomial standard errors of the usual (series of one record move together
#: more than coins, and one other year is a thin yardstick: wide bars)
ALONG_SHARE = 0.2
ALONG_RATIO = 1.5
ALONG_Z = 5.0
#: and the record's own trade (the series read, after against before) moved that way by
#: this factor or more: where as many series moved the other way, trade moved between
#: them and the record did not fall or rise (Estonia's imports in January 2025, ×1.11;
#: Slovenia's exports in July 2023, ×0.88 as a quarter of them doubled and another halved)
ALONG_TOTAL = 1.25


def along_text(finding: Mapping) -> str:
    """ " At the same time 34 of the 77 series of CHN's exports in the store … fell to half
    or less too …", where the reporter's record moved as a whole, in its series and in
    their trade (``ALONG_SHARE``, ``ALONG_RATIO``, ``ALONG_Z``), or ""."""
    ev = finding.get("evidence") or {}
    trading, moved, usual = ev.get("along_trading"), ev.get("along_moved"), ev.get("along_usual")
    if not trading or moved is None or usual is None:
        return ""
    share, value = moved / trading, float(ev.get("along_value") or 0.0)
    usual_value = float(ev.get("along_usual_value") or 0.0)
    if share < max(ALONG_SHARE, ALONG_RATIO * usual):
        return ""
    if value < max(ALONG_SHARE, ALONG_RATIO * usual_value):  # its cells of a few euros
        return ""
    spread = math.sqrt(trading * usual * (1.0 - usual)) or 1.0
    if (moved - trading * usual) / spread < ALONG_Z:
        return ""
    fell = (ev.get("along_direction") or ev.get("direction") or "down") == "down"
    total = ev.get("along_total")  # None in evidence saved before it was read
    if total is not None and (total > 1.0 / ALONG_TOTAL if fell else total < ALONG_TOTAL):
        return ""
    reporter, flow = finding.get("reporter"), finding.get("flow")
    how = "fell to half or less" if fell else "doubled or more"
    # a change's own months moved as the others did; a single month's need not have
    how += " too" if finding.get("kind") == "level_shift" else ""
    goods = [f"{code} ({count})" for code, count in ev.get("along_goods") or [] if count > 1]
    among = f"; the commonest {joined(goods)}" if goods else ""
    among += f"; all the series' trade {factor(total)}" if total is not None else ""
    when = _other_years(str(finding.get("period") or ""), ev.get("along_usual_lags") or [])
    pct = lambda x: percent(100 * x, digits=0)  # noqa: E731
    return (
        f" At the same time {moved:,} of the {trading:,} series of {reporter}'s {flow}s in the "
        f"store that traded in the months before {how} ({pct(share)} of them, "
        f"{pct(value)} of their trade{among}), where in {when} {pct(usual)} did "
        f"({pct(usual_value)} of their trade): something moved {reporter}'s {flow}s at once, "
        "in the record (its coverage, its processing, a late release) or in the trade (a "
        "measure, a shock), more likely than a change in this trade alone."
    )


def could_have_moved(
    trading: pd.Series, moved: pd.Series, value: pd.Series, total: pd.Series, fell: pd.Series
) -> pd.Series:
    """Whether a record's reading of its own month could still say it moved as a whole once
    the same month of other years is read: ``along_text``'s tests that need no other year
    (a fifth of its series and of their trade moved the finding's way, and its trade by
    ``ALONG_TOTAL``). ``context.reporter_along`` reads the other years only where it
    could: the read of every month of a record, whichever findings a scan holds, costs a
    third of reading them all."""
    # a hair looser than ``along_text``, which reads the figures rounded for the evidence
    # (a share of trade of 0.1996 is stored as 0.2): a pre-filter must not drop what the
    # words would say
    slack = 1.0 - ALONG_SLACK
    share = moved / trading.where(trading > 0)
    fall, rise = total <= 1.0 / (ALONG_TOTAL * slack), total >= ALONG_TOTAL * slack
    way = total.isna() | fall.where(fell, rise)
    return (
        (share >= ALONG_SHARE * slack)
        & (value.fillna(0.0) >= ALONG_SHARE * slack)
        & way.astype(bool)
    )


#: the pre-filter's slack against the words' bars (``could_have_moved``)
ALONG_SLACK = 0.01


def moved_as_a_whole(finding: Mapping) -> bool:
    """Whether the finding's evidence shows its reporter's record moving with it."""
    return bool(along_text(finding))


def _other_years(period: str, lags: list) -> str:
    """ "December 2022", "December 2022 and 2024": the months the usual share is of."""
    try:
        month = pd.Period(period, "M")
    except ValueError:
        return "the same month of other years"
    years = [str((month + int(lag)).year) for lag in lags]
    if not years:
        return "the same month of other years"
    return f"{month.strftime('%B')} {joined(years)}"


def completed_along(
    detector: Detector, found: pd.DataFrame, context: Mapping[str, Mapping]
) -> pd.DataFrame:
    """``found`` with each finding that ``context["reporter_along"]`` holds a record for
    (by index) carrying it in its evidence and explained again (``findings.explained``:
    the detector's words and an aggregate's drivers): what a ``Detector.complete`` that
    names ``reporter_along`` does. The frame given is left as it was, and no other
    finding changes."""
    from tradesentry.findings import explained

    along = context.get("reporter_along") or {}
    if not along:
        return found
    found = found.copy()
    for i, record in along.items():
        found.at[i, "evidence"] = {**(found.at[i, "evidence"] or {}), **record}
        found.at[i, "explanation"] = explained(detector, found.loc[i].to_dict())
    return found
