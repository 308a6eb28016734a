"""Level shift: a lasting change of level (border closure, sanctions, reopening)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.detectors.along import along_text, completed_along
from tradesentry.detectors.base import (
    MONEY_NEEDS,
    Detector,
    confidence,
    context_array,
    detections,
    material_score,
    no_detections,
)
from tradesentry.detectors.baseline import DEFAULT_CONFIG, Baseline, baseline
from tradesentry.detectors.combined import combined_name, spread_months
from tradesentry.detectors.drivers import NEEDS as DRIVER_NEEDS
from tradesentry.detectors.evidence import finding_freq, many_goods
from tradesentry.detectors.robust import MEDIAN_SE, nanmedian, robust_scale
from tradesentry.detectors.second_record import MIN_USUAL_KG, WEIGHT_HELD
from tradesentry.detectors.shifts import reported_first
from tradesentry.panel import Panel
from tradesentry.text import (
    about,
    factor,
    joined,
    less_than,
    money,
    percent,
    period_name,
    period_unit,
    plural,
    times,
    weight,
)

#: months on each side of a shift whose median states the old and the new level
LEVEL_MONTHS = 12
#: the new level "lasts" to the end of its segment where the median of the segment's last
#: ``LEVEL_MONTHS`` reported months after its first year is within ``LASTS_Z`` standard
#: errors of the new level (what noise alone gives about 19 times in 20) and within
#: ×``LASTS_RATIO`` of it either way (a difference a reader comparing the figures would not
#: call another level; in an irregular series the first holds for far larger ones)
LASTS_Z = 2.0
LASTS_RATIO = 1.5
#: the new level "does not hold" only where that median is beyond both bars and rests on
#: at least ``HOLDS_MONTHS`` reported months, as many as the shift test asks of each side
#: of a change: one or two late months are figures to give, not a level that replaced it
HOLDS_MONTHS = 3
#: the change of value is split, on the log scale, into the weight's part and the value per
#: kg's: the goods changed ("the weight moved with it") where the weight carries at least
#: ``WEIGHT_SHARE`` of it and the value per kg moved less than ``WEIGHT_WITH`` either way; the
#: record changed (a unit or currency change) where the weight carries at most
#: ``UNIT_SHARE`` of it and the value per kg moved ``UNIT_CHANGE`` times or more
WEIGHT_SHARE = 0.5
UNIT_SHARE = 0.25
WEIGHT_WITH = 2.0
UNIT_CHANGE = 10.0
#: the partner's record of the same flow "held" (within ×``LASTS_RATIO``) while the series
#: moved at least ×``RECORD_ONLY`` either way: the change is in the reporter's record
RECORD_ONLY = 3.0
#: a partner's record that moved the same way as the series by at most this share of its
#: change (log scale), and less than ×``RECORD_ONLY``, barely moved: it did not follow
BARELY = 0.1
#: the other reading, a timing shift, is offered only where the month before the change is
#: below ``PREVIOUS_LOW`` times the old level (the median the text has just given): a
#: month at the old level is no low month, whatever its own expectation was
PREVIOUS_LOW = 0.5


@dataclass(frozen=True)
class LevelShift(Detector):
    """A lasting change of level, with its first month and the size of the new level.

    Model: binary segmentation with local windows on the deseasonalised log series
    (``shifts.find_shifts``): at each month the median of the reported months in the 6
    (and 12) months before is compared with the median of those after, within the current
    segment, with at least 3 months on each side; the difference is standardised by the
    noise scale (consecutive differences ÷ √2, robust) and the medians' standard error
    (1.2533 σ √(1/n₁ + 1/n₂)); the strongest change is refined to the least-absolute-
    deviation split nearby between the two levels its test compared, so that its first
    month is on the new level's side of their midpoint (then once more with the levels next
    to that split too, ``shifts._refine``: a year's window may reach back across an earlier
    change), and kept if most months on each
    side (60 %; every one where the new level has fewer than 5 months to the series' end,
    ``shifts._persistence``) stay on their side of the midpoint; the search repeats in the
    new segments. A series fewer than half of whose reported months follow a reported month
    (an HS6 line shipped now and then) is searched over its reported months in order, its
    levels, where a calendar side holds fewer than 3 of its months, read over its 12 reported
    months on each side (``shifts.find_shifts_in_order``):
    calendar windows never held 3 of its months, and none of its changes was ever tested.
    Threshold: |statistic| ≥ 5.0
    (``BaselineConfig.shift_threshold``).
    Why: the statistic is scanned over every month and two window lengths of every series
    (roughly 10 to 20 effective tests per series), so a stricter bar than for one month
    keeps false shifts on the untouched benchmark series rare; the persistence rule keeps a
    pair of outliers from passing as a new level. The baseline then measures each month
    against its own segment, so the months of a new regime are not flagged again, and this
    finding replaces a spike or dip on its first month. The old and new levels reported
    are the medians of the values reported in the 12 months before and from the change,
    each within its own segment (``local_levels``), and the money at stake is their
    difference over the reported months of the new side, at most a year's (one year of an
    annual series, whose sides are 12 years): the change over up to a year of the new
    level, which a reader can check against the figures. Where either side's level is one
    of a month with trade (``_per_period``: a sparse side, or months at zero left out), each
    side is priced per calendar month, its level times its share of months with trade
    (``calendar_shares``), and the text gives that money: a median of 4 shipments in 12
    months is no money every month had. A change that the next one
    undoes within 12 months, back to within ×1.5 of the old level, is one temporary change
    (``undoing_shifts``; every month of it on the new level's side of the midpoint between the
    two levels): one finding over its months (``period_end`` its last reported month),
    the return in its evidence and words, its money at stake what its months held against
    the old level, month by month (per calendar month, as above, where a side trades in
    only some months), and its score the stronger of its two changes'. No
    further step found is not a level that holds: the explanation says the new level lasts
    to the end of its segment only where the median of the segment's last 12 reported
    months after its first year is within 2 standard errors and ×1.5 of it
    (``late_levels``), that it does not hold only where that median is beyond both and
    rests on at least 3 months, and otherwise gives that median (``late_level``) and its
    months without a verdict. A
    timing shift is offered as the other reading of a rise only where the month before it
    is unusually low (z ≤ −2), below half the old level, and no missing month lies between.
    Where the store has the partner's record of the same flow, the text says whether it
    followed; one that did not makes the change one of this record, not of the trade
    (``_mirror_reading``), as a value per kg that moved ten times does (``_weight_reading``).
    Where many of the reporter's series of the flow moved the same way in the change's
    month, beyond what the same month of other years shows (``context.reporter_along``,
    read once the changes are known), the text says how many and which goods: a record or
    a measure that moved as a whole (``along.along_text``).
    Materiality, as every detector's: less than 2,000 at stake (US dollars where the store
    has the month's rate, ``own_rate``; else the series' currency units) scores at most its
    size / 2,000, so a figure of a few dollars is never high (``base.material_score``).
    """

    kind: ClassVar[str] = "level_shift"
    # money at stake in dollars; the partner's record of the same flow, for the reading;
    # on a world series, every partner's sum (``drivers``)
    needs: ClassVar[tuple[str, ...]] = (*MONEY_NEEDS, "mirror", *DRIVER_NEEDS)
    supersedes: ClassVar[tuple[str, ...]] = ("spike", "dip")
    # how many of the reporter's series moved with it, read once the changes are known
    finding_needs: ClassVar[tuple[str, ...]] = ("reporter_along",)
    #: shifts are searched at the model's threshold (``BaselineConfig.shift_threshold``);
    #: a higher value here reports only the stronger ones.
    threshold: float = DEFAULT_CONFIG.shift_threshold

    def detect(self, panel: Panel) -> pd.DataFrame:
        model = baseline(panel)
        sh = model.shifts
        keep = np.flatnonzero(np.abs(sh.stat) >= self.threshold)
        if not keep.size:
            return no_detections()
        # the months the model counts: a zero the series has as a habit is no month of
        # trade (``baseline.ordinary_zeros``), nor a month of either level
        habit, traded, filled = counted_months(panel, model)
        rows, starts = sh.series[keep], sh.start[keep]
        sides = local_levels(traded, model.segment, rows, starts, left_out=habit)
        sides.update(late_levels(traded, model, rows, starts, sides, sh.end[keep]))
        evidence = [
            self._evidence(panel, model, k, {name: a[j] for name, a in sides.items()})
            | side_weights(panel, traded, int(sh.series[k]), int(sh.start[k]), sides, j)
            | side_mirror(panel, traded, int(sh.series[k]), int(sh.start[k]), sides, j)
            | _spread_evidence(panel, traded, filled, int(sh.series[k]), int(sh.start[k]), sides, j)
            for j, k in enumerate(keep)
        ]
        back = undoing_shifts(model, keep, sides, traded)
        for j, earlier in _after_a_short_change(model, keep, sides, back):
            evidence[j]["earlier_change"] = panel.label(int(sh.start[keep[earlier]]))
            evidence[j]["earlier_level"] = round(float(sides["old"][earlier]), 2)
        # the series' next change, reported or not (the model's segments end at each):
        # where the new level ended; a temporary change tells its own return
        later = _next_starts(sh.series, sh.start)[keep]
        for j in np.flatnonzero((later >= 0) & (back < 0)):
            evidence[j]["next_change"] = panel.label(int(later[j]))
        score = confidence(np.abs(sh.stat[keep]), DEFAULT_CONFIG.shift_threshold)
        end = sh.start[keep].copy()
        # a year of the new level: its reported months, at most a year's (the side's
        # LEVEL_MONTHS periods are 12 years of an annual series, whose change over 11
        # years was money at stake no text explained); or, for a temporary change, what
        # its periods held against the old level, period by period (one may be ordinary)
        impact = (sides["new"] - sides["old"]) * np.minimum(sides["n_after"], panel.season)
        for j in np.flatnonzero(back >= 0):  # the return is part of the change
            evidence[j].update(_return_evidence(panel, sides, sh.start[keep], back[j]))
            end[j] = sh.end[keep[j]]
            impact[j] = sides["after_sum"][j] - sides["old"][j] * sides["n_after"][j]
            score[j] = max(score[j], score[back[j]])  # the return is evidence of it too
        for j in range(len(keep)):
            t = int(sh.start[keep[j]])
            shares = calendar_shares(evidence[j], panel.label(t), panel.freq)
            if shares is None:  # both sides trade in (nearly) every month: priced as above
                continue
            # a level of a month with trade is money a calendar month only at its share of
            # them: FIN←FRA 35069110 had trade in 4 of 12 months at about €3.6K, and a
            # change's 6 small months read €19.8K short of it, more than its year's trade
            months = int(end[j] if back[j] >= 0 else sides["after_to"][j]) - t + 1
            before = float(sides["old"][j]) * shares[0]
            if back[j] >= 0:  # what the change's months held, over all of them
                after = float(sides["after_sum"][j]) / months
            else:
                after = float(sides["new"][j]) * shares[1]
                months = min(months, panel.season)
            impact[j] = (after - before) * months
            evidence[j].update(
                {
                    "trade_share_before": round(shares[0], 3),
                    "trade_share_after": round(shares[1], 3),
                    "per_month_before": round(before, 2),
                    "per_month_after": round(after, 2),
                }
            )
        shown = ~np.isin(np.arange(len(keep)), back[back >= 0])
        return detections(
            self.kind,
            sh.series[keep][shown],
            sh.start[keep][shown],
            end[shown],
            observed=sides["new"][shown],
            expected=sides["old"][shown],
            impact=impact[shown],
            score=material_score(
                panel,
                sh.series[keep][shown],
                sh.start[keep][shown],
                score[shown],
                impact[shown],
            ),
            evidence=[e for e, show in zip(evidence, shown, strict=True) if show],
        )

    @staticmethod
    def _evidence(panel: Panel, model, k: int, side: dict) -> dict:
        sh = model.shifts
        i, t = int(sh.series[k]), int(sh.start[k])
        old, new = float(side["old"]), float(side["new"])
        prev = int(side["before_to"])  # a shift has months on both sides: >= 0
        out = {
            "old_level": round(old, 2),
            "new_level": round(new, 2),
            # six significant figures: six decimals made a fall to 1/20,000,000 a ratio of 0
            "ratio": float(f"{new / old:.6g}") if old > 0 else None,
            "direction": "up" if sh.stat[k] > 0 else "down",
            "statistic": round(float(sh.stat[k]), 3),
            "persistence": round(float(sh.persistence[k]), 3),
            "months_before": int(side["n_before"]),
            "months_after": int(side["n_after"]),
            "before_from": panel.label(int(side["before_from"])),
            "before_to": panel.label(prev),
            "after_to": panel.label(int(side["after_to"])),
            "regime_end": panel.label(int(sh.end[k])),
            "first_value": float(panel.values[i, t]),
        }
        if side["zeros"]:  # months at zero the medians leave out, as the model does
            out["zeros_left_out"] = int(side["zeros"])
        if side["n_late"] > 0:  # the segment goes on after its first year
            late_z = float(side["late_z"])
            out.update(
                {
                    "late_level": round(float(side["late"]), 2),
                    "late_months": int(side["n_late"]),
                    "late_from": panel.label(int(side["late_from"])),
                    "late_z": round(late_z, 3) if np.isfinite(late_z) else None,
                }
            )
        out.update(_strays(panel, i, t, side, old, new))
        out.update(_previous_month(panel, model, i, prev))
        out["previous_adjacent"] = prev == t - 1  # no missing month between it and the shift
        # the months between hold no row at all (not zeros the medians left out)
        if prev < t - 1 and np.isnan(panel.values[i, prev + 1 : t]).all():
            out["unreported"] = [panel.label(prev + 1), panel.label(t - 1)]
        return out

    def complete(self, found: pd.DataFrame, context: Mapping[str, Mapping]) -> pd.DataFrame:
        """Each change with how many of the reporter's series of the flow moved its way in
        its month (``context.reporter_along``), its explanation written again."""
        return completed_along(self, found, context)

    def explain(self, finding: Mapping) -> str:
        return self._explain(finding) + along_text(finding)

    def _explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or ""
        freq = finding_freq(finding)
        unit = period_unit(freq)
        start = period_name(finding["period"], freq)
        after = _reported(ev.get("months_after"), unit, ev)
        before = _reported(ev.get("months_before"), unit, ev)
        first, last = (
            period_name(ev.get("before_from"), freq),
            period_name(ev.get("before_to"), freq),
        )
        since = f"{first} to {last}"
        old, new = finding.get("expected"), finding.get("observed")
        ratio = new / old if _positive(old) and _positive(new) else ev.get("ratio")
        if old == 0 and new != 0:  # no ratio to a level of nothing
            against = f"against nothing in most of the {before} before ({since})"
            size = ": it rose from nothing"
        else:
            against = f"against {about(old, cur)} in the {before} before ({since})"
            size = ": it fell to nothing" if new == 0 else f", {factor(ratio)}"
        a_before, traded_before = _per_period(
            ev.get("before_from"), ev.get("before_to"), ev.get("months_before"), ev, unit, freq
        )
        if traded_before and old != 0:  # the level before read by the same rule as the new
            against += f", {a_before} ({traded_before.removeprefix('; ')})"
        if ev.get("return_period"):  # a temporary change: its own words (``undoing_shifts``)
            return _temporary(ev, finding, against, size)
        a_month, traded = _per_month(finding, ev, unit, freq)
        text = (
            f"From {start} the series runs at a new level: {about(new, cur)} {a_month} "
            f"(median of the {after} from {start} to {period_name(ev.get('after_to'), freq)}"
            f"{traded}) {against}{size}."
        )
        text += _calendar_money(ev, finding, cur, freq)
        text += _earlier_level(ev, finding, cur, freq)
        text += _unreported_between(ev, finding, freq)
        text += _combined_note(ev) + _zeros_note(ev, unit) + _strays_note(ev, cur, freq)
        text += _regime_end(ev, cur, freq)
        mirror, record_only = _mirror_reading(ev, finding, cur, unit)
        weights, unit_change = _weight_reading(ev, unit, record_only)
        alternative = "" if unit_change or record_only else _alternative(ev, finding, cur)
        parts = (text, _against_trend(ev, unit), weights, mirror, alternative)
        return " ".join(part for part in parts if part).replace("  ", " ")


def _earlier_level(ev: Mapping, finding: Mapping, cur: str, freq: str) -> str:
    """Where the old level was a short change the other way (``_after_a_short_change``),
    the level before it and the new level against that: " Those months were themselves a
    fall, from about $449.2K a month before May 2020: against that level the new one is
    ×1.6." ("" otherwise)."""
    earlier, new = ev.get("earlier_level"), finding.get("observed")
    if not ev.get("earlier_change") or not _positive(earlier) or not _positive(new):
        return ""
    way = "rise" if ev.get("direction") == "down" else "fall"
    unit = period_unit(freq)
    return (
        f" Those {unit}s were themselves a {way}, from {about(earlier, cur)} a {unit} before "
        f"{period_name(ev['earlier_change'], freq)}: against that level the new one is "
        f"{factor(new / earlier)}."
    )


def _unreported_between(ev: Mapping, finding: Mapping, freq: str) -> str:
    """Where the series has no figure between the old level's last month and the new
    level's first (evidence ``unreported``), the change came somewhere in those months,
    not in the first month after them: " The series has no figure from April 2020 to
    September 2020: the change came in those months or in October 2020." ("" where the
    two are adjacent, or the months between hold zeros: no trade, which the medians left
    out)."""
    span = ev.get("unreported")
    if not span:
        return ""
    first, final = (period_name(label, freq) for label in span)
    then = period_name(finding["period"], freq)
    if first == final:
        return f" The series has no figure for {first}: the change came then or in {then}."
    return (
        f" The series has no figure from {first} to {final}: the change came in those "
        f"{period_unit(freq)}s or in {then}."
    )


def _spread_evidence(
    panel: Panel, traded: np.ndarray, filled: np.ndarray, i: int, t: int, side: Mapping, j: int
) -> dict:
    """Where the levels counted months of a combined figure (``combined.spread_months``,
    its months without a figure of their own, ``filled``): ``combined_counted``, for each
    such figure in the two sides' windows, its ``months`` and those ``counted`` from it;
    and the first month's value as counted (where the change starts on one)."""
    lo, hi = int(side["before_from"][j]), int(side["after_to"][j])
    starts = np.flatnonzero(panel.combined_span[i, : hi + 1] > 0)
    figures = []
    for c in starts.tolist():
        months = range(c, min(c + int(panel.combined_span[i, c]), panel.n_months))
        counted = [m for m in months if filled[i, m] and lo <= m <= hi]
        if counted:
            figures.append(
                {
                    "months": [panel.label(m) for m in months],
                    "counted": [panel.label(m) for m in counted],
                }
            )
    if not figures:
        return {}
    return {"combined_counted": figures, "first_value": float(traded[i, t])}


def _combined_note(ev: Mapping) -> str:
    """' January–February 2021 was published as one figure: its months count at its
    average.' For a figure beside one of its months' own: ' February 2020 counts as
    what January–February 2020 holds beyond January 2020's own figure.'"""
    figures = ev.get("combined_counted") or []
    whole = [f for f in figures if f["counted"] == f["months"]]
    text = ""
    if whole:
        names = joined([combined_name({}, f) for f in whole])
        one = len(whole) == 1
        text += (
            f" {names} {'was' if one else 'were each'} published as one figure: "
            f"{'its' if one else 'their'} months count at {'its' if one else 'their'} average."
        )
    for f in figures:
        if f in whole:
            continue
        own = [period_name(m) for m in f["months"] if m not in f["counted"]]
        counted = joined([period_name(m) for m in f["counted"]])
        verb = "counts" if len(f["counted"]) == 1 else "count"
        text += (
            f" {counted} {verb} as what {combined_name({}, f)} holds beyond "
            f"{joined(own)}'s own figure."
        )
    return text


#: a side's months nearer the other level are told where they are at least this share of it
STRAY_SHARE = 0.25
#: … in a change of at least this ratio either way (months of a smaller one straddle the
#: midpoint by noise, and no reader misquotes a ×0.83)
STRAY_RATIO = 3.0


def _strays(panel: Panel, i: int, t: int, side: Mapping, old: float, new: float) -> dict:
    """The months of each side's window nearer the other side's level (beyond the two
    levels' geometric midpoint), where they are at least ``STRAY_SHARE`` of the side's
    months with trade, in a change of at least ×``STRAY_RATIO`` either way:
    ``before_near_new`` and ``after_near_old``, each [{period, value}].
    The persistence test lets up to 40 % of a side stray, and the median of such a side
    is no level a reader can quote alone: Italy's imports of CN 48064010 from Spain ran
    "at about €87 … before, ×762" with two of those five months at €32.7K and €44.7K."""
    if not (old > 0 and new > 0) or max(new / old, old / new) < STRAY_RATIO:
        return {}
    mid, rise = np.sqrt(old) * np.sqrt(new), new > old  # old * new may pass float64
    x = panel.values[i]
    out = {}
    for name, lo, hi, near_new in (
        ("before_near_new", int(side["before_from"]), int(side["before_to"]), True),
        ("after_near_old", t, int(side["after_to"]), False),
    ):
        cols = np.arange(lo, hi + 1)
        cols = cols[np.isfinite(x[cols]) & (x[cols] > 0)]
        stray = cols[(x[cols] > mid) == (rise == near_new)]
        if cols.size and stray.size >= STRAY_SHARE * cols.size:
            out[name] = [
                {"period": panel.label(int(m)), "value": float(x[m])} for m in stray.tolist()
            ]
    return out


def _strays_note(ev: Mapping, cur: str, freq: str) -> str:
    """The months of either side nearer the other level, named with their figures (at
    most three each): " 2 of the months before were already nearer the new level (February
    2023: €32.7K; May 2023: €44.7K)." """
    out = ""
    for name, which, other in (
        ("before_near_new", "before", "already nearer the new level"),
        ("after_near_old", "from the change", "still nearer the old level"),
    ):
        months = ev.get(name) or []
        if not months:
            continue
        shown = "; ".join(
            f"{period_name(m['period'], freq)}: {money(m['value'], cur)}" for m in months[:3]
        )
        more = f"; and {len(months) - 3} more" if len(months) > 3 else ""
        count = f"{len(months)} of the {period_unit(freq)}s {which}"
        out += f" {count} {'was' if len(months) == 1 else 'were'} {other} ({shown}{more})."
    return out


def _next_starts(rows: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per change, the first month of the same series' next change (-1 for its last)."""
    order = np.lexsort((starts, rows))
    out = np.full(len(rows), -1, dtype=np.int64)
    same = rows[order][1:] == rows[order][:-1]
    out[order[:-1][same]] = starts[order][1:][same]
    return out


def _regime_end(ev: dict, cur: str, freq: str) -> str:
    """What the new level did up to the end of its segment (the next shift or the series'
    end), only as far as the segment's last reported months show it: that it lasts (within
    ``LASTS_Z`` standard errors and ×``LASTS_RATIO``), that it does not hold (beyond both,
    from ``HOLDS_MONTHS`` late months on: a drift, or a collapse or surge the test did not
    date, the ratio to the new level says which; where a rise went on rising, that the
    series went on rising), that the series' swings are too wide to call another level
    (beyond ×``LASTS_RATIO`` but within the standard errors), or else
    the figures alone: a difference beyond the noise but within ×``LASTS_RATIO`` is no other
    level a reader would see, and one or two months are too few to call one."""
    end = ev.get("regime_end")
    if end and end == ev.get("after_to") and ev.get("next_change"):
        # the new level's months are its whole segment: it ended with the next change,
        # which a reader of this finding alone did not learn (Guinea's gold to
        # Switzerland: "from April 2016 … a new level", which ended in January 2017)
        nxt = period_name(ev["next_change"], freq)
        return f" It holds to {period_name(end, freq)}; from {nxt} the series changes again."
    if not end or end == ev.get("after_to"):
        return ""
    unit = period_unit(freq)
    last = period_name(end, freq)
    z, late, new = ev.get("late_z"), ev.get("late_level"), ev.get("new_level")
    if z is None or late is None or new is None:  # no figures (or saved before them)
        return f" No further change of level is found up to {last}."
    if new_level_lasts(ev):
        return f" The new level lasts to {last}."
    # the late months follow the new level's side: a year of a monthly series, 12 years
    # of an annual one (an annual text said "after its first year" of its twelfth)
    first = "its first year" if freq != "A" else f"its first {plural(LEVEL_MONTHS, unit)}"
    if ev.get("late_months") == 1:
        months = f"{last}, the one reported {unit} after {first}, has {money(late, cur)}"
    else:
        months = (
            f"the {_reported(ev.get('late_months'), unit)} from "
            f"{period_name(ev.get('late_from'), freq)} to {last} have a median of "
            f"{about(late, cur) if late else money(late, cur)} a {unit}"
        )
    if late > 0 and new > 0:
        months += f" ({times(late / new)} the new level)"
    back = _back_towards_old(late, new, ev.get("old_level"))
    far = back or not _within(late, new, LASTS_RATIO)
    if abs(z) > LASTS_Z and far and (ev.get("late_months") or 0) >= HOLDS_MONTHS:
        old = ev.get("old_level")
        if not back and old is not None and late > new > old:
            # a rise that went on: US exports to China, ×1.4 from October 2003 and 2.1
            # times that by 2008, had "the new level does not hold", which reads as a
            # reversal (a fall that went on, to a stop, is a level that did not hold)
            return (
                f" No further change of level is dated up to {last}; the series went on "
                f"rising: {months}."
            )
        return (
            f" No further change of level is dated up to {last}, but the new level does not "
            f"hold: {months}{_nearer_the_old(late, new, ev['old_level'], cur) if back else ''}."
        )
    if abs(z) <= LASTS_Z:  # beyond ×LASTS_RATIO, within the noise
        return (
            f" No further change of level is dated up to {last}; {months}, a difference the "
            "series' swings are too wide to call another level."
        )
    return f" No further change of level is dated up to {last}; {months}."


def undoing_shifts(
    model: Baseline, keep: np.ndarray, sides: Mapping[str, np.ndarray], traded: np.ndarray
) -> np.ndarray:
    """For each shift of ``keep``, the position in ``keep`` of the shift that undoes it, or
    -1: the next change of the same series, the other way, within ``LEVEL_MONTHS`` of it,
    back to within ×``LASTS_RATIO`` of the old level (the bar of "the new level lasts": a
    difference a reader comparing the figures would not call another level). Such a pair
    is one event, a temporary change (an interruption, a few months of exceptional
    trade): reported as two level shifts, the return read as a "new level" whose money at
    stake was a year of ordinary trade (€83.9M at the top of the Comext scan, for Sweden's
    exports of HS 39201024 back at €7.5M a month after four months at €553K). A return
    to part of the old level is a new level of its own (North Korea's partial reopening in
    March 2021, $12.6M a month against $21.8M before the closure). And every month of the
    change (``traded``: its figures, habitual zeros left out) must be on the new level's
    side of the midpoint between the two levels (log scale): a month at the old level
    inside it (Romania's €14.5K from Luxembourg in August 2024 among months of €22–€100)
    is no interruption of the series but a series that swings between two levels."""
    sh = model.shifts
    rows, starts = sh.series[keep], sh.start[keep]
    c = model.offset[rows]
    old, new = np.log(sides["old"] + c), np.log(sides["new"] + c)
    out = np.full(len(keep), -1, dtype=np.int64)
    a, b, turn = _next_the_other_way(model, keep)
    back = np.abs(new[b] - old[a]) <= np.log(LASTS_RATIO)
    pair = turn & (starts[b] - starts[a] <= LEVEL_MONTHS) & back
    pair &= _held_throughout(traded, rows, starts, old, new, c, a, b)
    # a return does not start another pair: down, up, down is a pair and a new change
    for j in np.flatnonzero(pair):
        if j == 0 or out[j - 1] != j:
            out[j] = j + 1
    return out


def _after_a_short_change(
    model: Baseline, keep: np.ndarray, sides: Mapping[str, np.ndarray], back: np.ndarray
) -> list[tuple[int, int]]:
    """(j, j − 1) for each shift of ``keep`` whose old level is a change the other way
    that lasted less than ``LEVEL_MONTHS`` reported months and that it does not undo
    (``undoing_shifts``): the old level it is measured against is then a short episode,
    and the level before that episode is what a reader compares it with. Thailand's
    graphite from China fell from about $449.2K a month to $54.1K for four months in
    2020 and came back at $714.9K: the return read "×13" against the four months alone."""
    a, b, turn = _next_the_other_way(model, keep)
    short = (sides["n_before"][b] < LEVEL_MONTHS) & (sides["old"][a] > 0)
    mask = turn & short & (back[a] != b)
    return list(zip(b[mask].tolist(), a[mask].tolist(), strict=True))


def _next_the_other_way(
    model: Baseline, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each shift of ``keep`` but the last (``a``) and the one after it (``b``), and
    whether ``b`` is the same series' next change and goes the other way: the pairs a
    return (``undoing_shifts``) and a change after a short episode
    (``_after_a_short_change``) are read from."""
    sh = model.shifts
    rows, starts = sh.series[keep], sh.start[keep]
    a, b = np.arange(len(keep) - 1), np.arange(1, len(keep))
    following = (rows[a] == rows[b]) & (
        model.segment[rows[b], starts[b]] == model.segment[rows[a], starts[a]] + 1
    )
    return a, b, following & (np.sign(sh.stat[keep[a]]) != np.sign(sh.stat[keep[b]]))


def _held_throughout(traded, rows, starts, old, new, c, a, b) -> np.ndarray:
    """For each pair (a, b) of shifts, whether every month with a figure from a's start to
    b's is on a's new side of the midpoint between its old and new level (log scale)."""
    T = traded.shape[1]
    cols = np.arange(T)[None, :]
    inside = (cols >= starts[a][:, None]) & (cols < starts[b][:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.log(traded[rows[a]] + c[a][:, None])
        side = (y - ((old[a] + new[a]) / 2.0)[:, None]) * np.sign(new[a] - old[a])[:, None]
    return ~(inside & np.isfinite(y) & ~(side > 0)).any(axis=1)


def _zeros_note(ev: Mapping, unit: str) -> str:
    """ " The medians leave out 2 months at zero, a habit of the series.", or ""."""
    zeros = ev.get("zeros_left_out")
    if not zeros:
        return ""
    return f" The medians leave out {plural(int(zeros), unit)} at zero, a habit of the series."


def _temporary(ev: Mapping, finding: Mapping, against: str, size: str) -> str:
    """The words of a temporary change of level: its months, the level before, the level
    it returned to, and the money the months of the change were short (or over)."""
    cur, freq = finding.get("currency") or "", finding_freq(finding)
    unit = period_unit(freq)
    start, end = (period_name(finding[key], freq) for key in ("period", "period_end"))
    back = period_name(ev["return_period"], freq)
    months = _ordinal(finding["period_end"], freq) - _ordinal(finding["period"], freq)
    span = plural(months + 1, unit)
    counted = ev.get("months_after")
    given = "the level before would have given"
    calendar = ev.get("per_month_before") is not None  # priced over all its months
    if counted is not None and int(counted) < months + 1:  # the money is of those only
        # a month at zero the medians left out has a figure, but no trade
        have = "have trade" if ev.get("zeros_left_out") else "have a figure"
        span += f", of which {int(counted)} {have}"
        given += "" if calendar else f" in those {int(counted)}"
    if calendar:
        given += f": {_calendar_before(ev, finding, cur, freq)}"
    # the span just said how many of the change's periods count: no second count of them
    a_period, _ = _per_period(finding["period"], finding["period_end"], counted, ev, unit, freq)
    returned = (ev.get("return_period"), ev.get("return_to"), ev.get("return_months"))
    a_return, traded = _per_period(*returned, ev, unit, freq)
    fall = (ev.get("direction") or "down") == "down"
    text = (
        f"From {start} to {end} the series ran at {about(finding.get('observed'), cur)} "
        f"{a_period} (median of the {_reported(counted, unit, ev)}) {against}{size}; "
        f"from {back} it is back at {about(ev.get('return_level'), cur)} {a_return} (median "
        f"of the {_reported(ev.get('return_months'), unit, ev)} from {back} to "
        f"{period_name(ev.get('return_to'), freq)}{traded}). "
        f"A temporary {'fall' if fall else 'rise'} "
        f"over {span}: {about(finding.get('impact'), cur)} {'less' if _less(ev, fall) else 'more'} "
        f"than {given}."
    ) + _zeros_note(ev, unit)
    mirror, record_only = _mirror_reading(ev, finding, cur, unit)
    text += f" {mirror}" if mirror else ""
    if record_only:
        return text
    if fall:
        return text + (
            " An interruption (a closure, a strike, a halted plant or route), or figures "
            f"missing from these {unit}s' records that a revision may add."
        )
    return text + (
        f" A few {unit}s of exceptional trade (a one-off contract, stockpiling), or goods "
        f"recorded under this code for those {unit}s only, which the source's notes would show."
    )


def _less(ev: Mapping, fall: bool) -> bool:
    """Whether the money at stake is short of the level before: a fall's, unless it was
    priced per calendar month (``calendar_shares``) and its months held more a calendar
    month than the sparser side before them."""
    before, after = ev.get("per_month_before"), ev.get("per_month_after")
    if before is None or after is None:
        return fall
    return after < before


def _calendar_before(ev: Mapping, finding: Mapping, cur: str, freq: str) -> str:
    """The level before as money a calendar period, and how it was read: "about €1.2K a
    calendar month, €3.6K in 4 of its 12 months" ("about €3.6K a calendar month" where
    every period of its side had trade)."""
    text = f"{about(ev.get('per_month_before'), cur)} a calendar {period_unit(freq)}"
    words = _share_words(finding.get("expected"), _before_side(ev, freq), cur, freq)
    return f"{text}, {words}" if words else text


def _before_side(ev: Mapping, freq: str) -> tuple[int, int, bool] | None:
    """``_side_share`` of the side before a change."""
    return _side_share(
        ev.get("before_from"), ev.get("before_to"), ev.get("months_before"), ev, freq
    )


def _share_words(level, side: tuple[int, int, bool] | None, cur: str, freq: str) -> str:
    """ "€3.6K in 4 of its 12 months": what the money a calendar period of a side whose
    median is ``level`` (``_side_share``: ``side``) is made of; "" where every period of
    it had trade."""
    if side is None or side[0] >= side[1]:
        return ""
    return f"{money(level, cur)} in {side[0]} of its {plural(side[1], period_unit(freq))}"


def _calendar_money(ev: Mapping, finding: Mapping, cur: str, freq: str) -> str:
    """Where a new level was priced per calendar period (``calendar_shares``), that money
    on each side and the change over up to a year of it, which the levels alone do not
    give: " Per calendar month that is about €1.6K (€3.9K in 5 of its 12 months) against
    about €1.2K before (€3.6K in 4 of its 12 months): about €4.8K more over a year." ("" for
    a change priced as its levels read)."""
    before, after = ev.get("per_month_before"), ev.get("per_month_after")
    if before is None or after is None:
        return ""
    unit = period_unit(freq)
    side = _side_share(finding.get("period"), ev.get("after_to"), ev.get("months_after"), ev, freq)
    after_words = _share_words(finding.get("observed"), side, cur, freq)
    before_words = _share_words(finding.get("expected"), _before_side(ev, freq), cur, freq)
    season = 12 if freq == "M" else 1  # the new level's money is priced over up to a year
    span = (
        "over a year" if side is None or side[1] >= season else f"over its {plural(side[1], unit)}"
    )
    return (
        f" Per calendar {unit} that is {about(after, cur)}"
        f"{f' ({after_words})' if after_words else ''} against {about(before, cur)} before"
        f"{f' ({before_words})' if before_words else ''}: {about(finding.get('impact'), cur)} "
        f"{'less' if after < before else 'more'} {span}."
    )


def _return_evidence(
    panel: Panel, sides: Mapping[str, np.ndarray], starts: np.ndarray, j: int
) -> dict:
    """The level a temporary change returned to: from the shift ``j`` that undid it."""
    return {
        "return_period": panel.label(int(starts[j])),
        "return_level": round(float(sides["new"][j]), 2),
        "return_months": int(sides["n_after"][j]),
        "return_to": panel.label(int(sides["after_to"][j])),
    }


def new_level_lasts(ev: Mapping) -> bool:
    """Whether a level shift's evidence shows its new level lasting to the end of its
    segment: the segment's last months within ``LASTS_Z`` standard errors and
    ×``LASTS_RATIO`` of the new level, or no such months to tell (the segment ends within
    the new level's first year, or the finding was saved before they were kept). The
    explanation says "the new level lasts" exactly then, and the chart draws the new level
    to the segment's end only then."""
    z, late, new = ev.get("late_z"), ev.get("late_level"), ev.get("new_level")
    if z is None or late is None or new is None:
        return True
    back = _back_towards_old(late, new, ev.get("old_level"))
    return abs(z) <= LASTS_Z and _within(late, new, LASTS_RATIO) and not back


def _back_towards_old(late: float, new: float, old: float | None) -> bool:
    """The late months' median past the midpoint between the new level and the old, on the
    log scale (or beyond the old level): a change smaller than ×``LASTS_RATIO`` undone.
    Korea's exports to China fell ×0.83 in November 2008 and were back above the old level
    by September 2009 (×1.4 the new level, 12 standard errors), but a ratio bar of ×1.5 is
    no bar for a change of ×1.2: the text called the fall a new level."""
    if old is None or not (late > 0 and new > 0 and old > 0) or old == new:
        return False
    return (math.log(late) - math.log(new)) / (math.log(old) - math.log(new)) > 0.5


def _nearer_the_old(late: float, new: float, old: float, cur: str) -> str:
    """Where the late months went, for ``_back_towards_old``: ", back beyond the old level
    (about $8.2B)", or ", nearer the old level (about $8.2B) than the new"."""
    if (late - old) * (old - new) > 0:  # past the old level, from the new one's side
        return f", back beyond the old level ({about(old, cur)})"
    return f", nearer the old level ({about(old, cur)}) than the new"


def _within(a: float, b: float, ratio: float) -> bool:
    """``a`` within ×``ratio`` of ``b`` either way (two zeros are equal)."""
    if a == b:
        return True
    return a > 0 and b > 0 and 1.0 / ratio <= a / b <= ratio


def _positive(x) -> bool:
    return x is not None and bool(np.isfinite(x)) and x > 0


def _per_month(finding: Mapping, ev: Mapping, unit: str, freq: str) -> tuple[str, str]:
    """How the new level is per month: "a month"; in a series with trade in fewer than half
    the months of its new side, "in a month with trade", with how many ("; trade in 4 of
    its 13 months"): China's HS 811292 to Kazakhstan, "about $983.2K a month" from 4
    shipments in 13 months, read as $11.8M a year to a reader who multiplied it. So too
    where the medians left out months at zero (``zeros_left_out``) and the new side has
    months without trade: its median is of the months with trade whatever their share,
    and "about $5.2M a month" from 8 of 11 months had a reader count 11 of them."""
    return _per_period(
        finding.get("period"), ev.get("after_to"), ev.get("months_after"), ev, unit, freq
    )


def _per_period(first, last, reported, ev: Mapping, unit: str, freq: str) -> tuple[str, str]:
    """``_per_month`` of a level that is the median of ``reported`` periods from the period
    labelled ``first`` to ``last`` (the level before, a temporary change's, and the level
    it returned to: each by its own side's months)."""
    side = _side_share(first, last, reported, ev, freq)
    if side is None or not side[2]:
        return f"a {unit}", ""
    return f"in a {unit} with trade", f"; trade in {side[0]} of its {side[1]} {unit}s"


def _side_share(first, last, reported, ev: Mapping, freq: str) -> tuple[int, int, bool] | None:
    """A side's periods with trade (``reported``), its periods from ``first`` to ``last``,
    and whether its median is of a period with trade (``_per_month``'s rule); None where the
    evidence does not give them (saved before it did)."""
    try:
        months = _ordinal(str(last), freq) - _ordinal(str(first), freq) + 1
        reported = int(reported)
    except (TypeError, ValueError):
        return None
    if months < 1:
        return None
    zeros_out = bool(ev.get("zeros_left_out")) and reported < months
    return reported, months, 2 * reported < months or zeros_out


def calendar_shares(ev: Mapping, period: str, freq: str) -> tuple[float, float] | None:
    """The shares of its periods with trade of the side before a change (starting in
    ``period``) and of the side from it, where either side's level is one of a period with
    trade (``_per_period``); None where both are levels of a period, which are priced as
    they read. A median of the months with trade is money a calendar month only at the
    share of them that have trade: the money at stake of such a change is priced per
    calendar month (``LevelShift``), and its words say so (``_calendar_money``)."""
    old = _side_share(ev.get("before_from"), ev.get("before_to"), ev.get("months_before"), ev, freq)
    new = _side_share(period, ev.get("after_to"), ev.get("months_after"), ev, freq)
    if old is None or new is None or not (old[2] or new[2]):
        return None
    return old[0] / old[1], new[0] / new[1]


def _ordinal(label: str, freq: str) -> int:
    """A period label's number: the year of an annual one ("2021"), else months."""
    year = int(label[:4])
    return year if freq == "A" else 12 * year + int(label[5:7]) - 1


def _reported(count, unit: str, ev: Mapping | None = None) -> str:
    """'11 reported months' ('1 reported year'); the count as evidence saved it. Where the
    medians left zeros out (``ev``'s ``zeros_left_out``), '11 months with trade', as the
    model's expectations say it."""
    if ev is not None and ev.get("zeros_left_out"):
        if count is None:
            return f"{unit}s with trade"
        return f"{plural(int(count), unit)} with trade"
    if count is None:
        return f"reported {unit}s"
    return plural(int(count), f"reported {unit}")


def local_levels(
    values: np.ndarray,
    segment: np.ndarray,
    rows: np.ndarray,
    starts: np.ndarray,
    left_out: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The level before and after each shift as a reader can check it: the median of the
    values reported in the ``LEVEL_MONTHS`` months before the shift (within the segment
    that ends there) and from it on (within the new segment), with their counts and the
    first and last reported months of each side, and how many months of those windows
    ``left_out`` marks (zeros the series has as a habit, NaN in ``values``). Local windows,
    not whole segments: a regime of ten years has no single level in a growing series.

    A series too sparse for that (fewer than 3 reported months on a side: a change the
    search found over its reported months in order, ``shifts.find_shifts_in_order``) is
    read over its ``LEVEL_MONTHS`` reported months on each side instead."""
    sides = _calendar_levels(values, segment, rows, starts, left_out)
    thin = np.flatnonzero((sides["n_before"] < HOLDS_MONTHS) | (sides["n_after"] < HOLDS_MONTHS))
    if thin.size:
        ordered = _reported_levels(values, segment, rows[thin], starts[thin])
        if left_out is not None:  # the months left out between the two sides' ends
            ordered["zeros"] = _left_out_between(
                left_out, rows[thin], ordered["before_from"], ordered["after_to"]
            )
        for name, value in ordered.items():
            sides[name][thin] = value
    return sides


def _left_out_between(
    left_out: np.ndarray, rows: np.ndarray, first: np.ndarray, last: np.ndarray
) -> np.ndarray:
    """How many months ``left_out`` marks from column ``first`` to ``last`` of each row (the
    sides of a change read over reported months in order: Hungary's exports of CN 48064090
    to Croatia, "about €18 in the 4 reported months before (January 2023 to November
    2024)", had 12 months at zero between them, left out unsaid)."""
    cols = np.arange(left_out.shape[1])[None, :]
    between = (cols >= first[:, None]) & (cols <= last[:, None])
    return (left_out[rows] & between).sum(axis=1)


def _reported_levels(
    values: np.ndarray, segment: np.ndarray, rows: np.ndarray, starts: np.ndarray
) -> dict[str, np.ndarray]:
    """``_calendar_levels`` over each row's reported months in order (the months between
    them left out), its months named by their columns."""
    order, packed = reported_first(values[rows])
    packed_segment = np.take_along_axis(segment[rows], order, axis=1)
    at = np.argsort(order, axis=1)[np.arange(rows.size), starts]  # each start's place
    sides = _calendar_levels(packed, packed_segment, np.arange(rows.size), at, None)
    T = values.shape[1]
    for name in ("before_from", "before_to", "after_to"):
        place = sides[name]
        found = (place >= 0) & (place < T)
        column = order[np.arange(rows.size), np.clip(place, 0, T - 1)]
        sides[name] = np.where(found, column, place)
    return sides


def _calendar_levels(
    values: np.ndarray,
    segment: np.ndarray,
    rows: np.ndarray,
    starts: np.ndarray,
    left_out: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """``local_levels`` over the ``LEVEL_MONTHS`` calendar months on each side."""
    k, T = LEVEL_MONTHS, values.shape[1]
    offsets = np.arange(-k, k)
    cols = starts[:, None] + offsets[None, :]
    inside = (cols >= 0) & (cols < T)
    c = np.clip(cols, 0, T - 1)
    r = rows[:, None]
    seg = segment[r, c]
    new_seg = segment[rows, starts][:, None]
    v = values[r, c]
    reported = inside & np.isfinite(v)
    before = reported & (offsets < 0) & (seg == new_seg - 1)
    after = reported & (offsets >= 0) & (seg == new_seg)
    old, n_before = nanmedian(np.where(before, v, np.nan))
    new, n_after = nanmedian(np.where(after, v, np.nan))
    dropped = inside & (left_out[r, c] if left_out is not None else False)
    dropped &= ((offsets < 0) & (seg == new_seg - 1)) | ((offsets >= 0) & (seg == new_seg))
    dropped &= (cols >= np.where(before, cols, T).min(axis=1)[:, None]) & (
        cols <= np.where(after, cols, -1).max(axis=1)[:, None]
    )
    return {
        "old": old,
        "new": new,
        "zeros": dropped.sum(axis=1),
        "after_sum": np.where(after, v, 0.0).sum(axis=1),
        "n_before": n_before,
        "n_after": n_after,
        "before_from": np.where(before, cols, T).min(axis=1),
        "before_to": np.where(before, cols, -1).max(axis=1),
        "after_to": np.where(after, cols, -1).max(axis=1),
    }


def late_levels(
    values: np.ndarray,
    model: Baseline,
    rows: np.ndarray,
    starts: np.ndarray,
    sides: Mapping[str, np.ndarray],
    ends: np.ndarray,
) -> dict[str, np.ndarray]:
    """Whether each new level still holds at the end of its segment: the median of the
    segment's last ``LEVEL_MONTHS`` reported months after the new level's first year (up
    to ``ends``, the segment's last reported month), their count and first month, and
    their difference from the new level in standard errors: on the log scale, over
    1.2533 σ √(1/n_after + 1/n_late), σ the robust scale (MAD only) of the series'
    residuals. A count of 0 where the segment ends within its first year."""
    T = values.shape[1]
    cols = np.arange(T)[None, :]
    v = values[rows]
    late = (
        (model.segment[rows] == model.segment[rows, starts][:, None])
        & np.isfinite(v)
        & (cols > sides["after_to"][:, None])
        & (cols <= ends[:, None])
    )
    from_end = np.cumsum(late[:, ::-1], axis=1)[:, ::-1]  # such months from each on
    late &= from_end <= LEVEL_MONTHS
    level, n = nanmedian(np.where(late, v, np.nan))
    c = model.offset[rows]
    # the bulk of the residuals, not their tails, sets how much a median of months varies
    sigma = robust_scale(model.resid[rows], model.config, tail=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = MEDIAN_SE * sigma * np.sqrt(1.0 / sides["n_after"] + 1.0 / n)
        z = (np.log(level + c) - np.log(sides["new"] + c)) / se
    return {
        "late": level,
        "n_late": n,
        "late_from": np.where(late, cols, T).min(axis=1),
        "late_z": z,
    }


def _against_trend(ev: dict, unit: str = "month") -> str:
    """Where the two medians move the other way than the test, because of a trend: say so."""
    ratio, direction = ev.get("ratio"), ev.get("direction")
    if ratio is None or direction is None or (ratio > 1) == (direction == "up"):
        return ""
    if direction == "down":
        return (
            f"The series was growing: the {unit}s from the change are below what its trend "
            "before would have reached, so this is a fall against the trend."
        )
    return (
        f"The series was falling: the {unit}s from the change are above what its trend before "
        "would have reached, so this is a rise against the trend."
    )


def _previous_month(panel: Panel, model, i: int, prev: int) -> dict:
    """The last reported month before the shift, against its own segment's expectation
    (``_alternative`` also measures it against the old level)."""
    v, e = float(panel.values[i, prev]), float(model.expected[i, prev])
    z = float(model.z[i, prev])
    return {
        "previous_period": panel.label(prev),
        "previous_value": v,
        "previous_expected": round(e, 2) if np.isfinite(e) else None,
        "previous_z": round(z, 3) if np.isfinite(z) else None,
    }


def side_weights(panel: Panel, traded: np.ndarray, i: int, t: int, sides: dict, j: int) -> dict:
    """The median net weight of the months each side's level is the median of (where a
    month has both a value and a weight; at least ``HOLDS_MONTHS`` on each side), for the
    reading of the change (``_weight_reading``); {} where the store has too few weights."""
    usable = np.isfinite(traded[i]) & (panel.weights[i] > 0)
    return _side_medians("weight", panel.weights[i], usable, traded[i], t, sides, j)


def counted_months(panel: Panel, model: Baseline) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The months a level counts: a zero the series has as a habit is no month of trade
    (``baseline.ordinary_zeros``), nor a month of either level (``habit``); a pair
    published as one figure counts at its monthly average (``traded``, and ``filled``,
    the months so filled: ``combined.spread_months``)."""
    habit = (panel.values == 0) & np.isnan(model.y)
    traded, filled = spread_months(panel, np.where(habit, np.nan, panel.values))
    return habit, traded, filled


def _side_medians(
    name: str,
    x: np.ndarray,
    usable: np.ndarray,
    traded: np.ndarray,
    t: int,
    sides: dict,
    j: int,
    coverage: float = 0.0,
) -> dict:
    """``{name}_before`` and ``{name}_after``: the medians of ``x`` over the ``usable``
    months of the windows each side's level is the median of, where each side has at
    least ``HOLDS_MONTHS`` of them and ``coverage`` of the months the series counts there
    (``traded``); {} where either has too few."""
    out = {}
    counted = np.isfinite(traded)
    for side, first, last in (
        ("before", int(sides["before_from"][j]), int(sides["before_to"][j])),
        ("after", t, int(sides["after_to"][j])),
    ):
        level = _covered_median(x, usable, counted, first, last, coverage)
        if level is None:
            return {}
        out[f"{name}_{side}"] = level
    return out


#: the partner's record is read only where it gives at least this share of the months each
#: side's level is the median of: a month it lacks may be a month it recorded no trade (a
#: source such as Comext keeps no row for those), and a median of the rest would hold
MIRROR_COVERAGE = 0.75


def side_mirror(panel: Panel, traded: np.ndarray, i: int, t: int, sides: dict, j: int) -> dict:
    """The median of the partner's record of the same flow (context ``mirror_value``, in
    the series' currency) over the months each side's level is the median of (``traded``:
    the series' figures, habitual zeros left out, as for the levels), ``mirror_before`` and
    ``mirror_after``: each side read on its own months, where it gives at least
    ``HOLDS_MONTHS`` of them and ``MIRROR_COVERAGE`` of them. A side too thin leaves the
    other one standing: ``_mirror_reading`` reads an after-side alone against the series'
    old level, with the median and count of what months the partner has before
    (``mirror_before_thin``, ``mirror_before_thin_months``).

    Where the partner's record has a change of its own inside a side's window
    (``_own_change``), that side's median is read over its months next to the series'
    change only, and the evidence says where the partner's own change came and, where
    its months give it, the partner's level beyond it: ``mirror_before_from`` and
    ``mirror_earlier`` (it changed before the series did), ``mirror_after_to``,
    ``mirror_later_from`` and ``mirror_later`` (after). A median over both of the
    partner's levels is none of them: Germany's imports of CN 39201081 from the
    Netherlands rose ×58 from January 2025 and read "NLD's record … went from about
    €497.9K a month before to about €5.6K after", while the Netherlands' record held at
    about €500K until April 2025 and fell from May; the Netherlands' fall in May, beside
    Germany's record at €206.7K–285.8K from January and €351.5K after, read "a closure"
    for want of eight of Germany's twelve months before (three quarters)."""
    mirror = context_array(panel, "mirror_value")
    if mirror is None:
        return {}
    usable = np.isfinite(traded[i]) & np.isfinite(mirror[i]) & (mirror[i] >= 0)
    ok = context_array(panel, "mirror_currency_ok")
    if ok is not None:
        usable &= ok[i] == 1
    counted, x = np.isfinite(traded[i]), mirror[i]
    out: dict = {}
    lo, hi = int(sides["before_from"][j]), int(sides["after_to"][j])
    for side, first, last in (("before", lo, int(sides["before_to"][j])), ("after", t, hi)):
        cols = first + np.flatnonzero(usable[first : last + 1])
        split = _own_change(x[cols])
        if split is None:
            near, far = (first, last), None
        elif side == "before":  # the months from the partner's own change are next to it
            near, far = (int(cols[split]), last), (first, int(cols[split - 1]))
        else:
            near, far = (first, int(cols[split - 1])), (int(cols[split]), last)
        level = _covered_median(x, usable, counted, *near)
        if level is None:
            if side == "before" and cols.size:  # what it has, for the after-side alone
                out["mirror_before_thin"] = round(float(np.median(x[cols])), 2)
                out["mirror_before_thin_months"] = int(cols.size)
            continue
        out[f"mirror_{side}"] = level
        if far is None:
            continue
        beyond = _covered_median(x, usable, counted, *far)
        if side == "before":
            out["mirror_before_from"] = panel.label(near[0])
            if beyond is not None:
                out["mirror_earlier"] = beyond
        else:
            out["mirror_after_to"] = panel.label(near[1])
            out["mirror_later_from"] = panel.label(far[0])
            if beyond is not None:
                out["mirror_later"] = beyond
    return out


def _covered_median(
    x: np.ndarray,
    usable: np.ndarray,
    counted: np.ndarray,
    first: int,
    last: int,
    coverage: float = MIRROR_COVERAGE,
) -> float | None:
    """The median of ``x`` over the ``usable`` months from column ``first`` to ``last``,
    where they are at least ``HOLDS_MONTHS`` and ``coverage`` of the months the series
    counts there (``counted``); None where they are fewer."""
    given = usable[first : last + 1]
    if given.sum() < max(HOLDS_MONTHS, coverage * counted[first : last + 1].sum()):
        return None
    return round(float(np.median(x[first : last + 1][given])), 2)


def _own_change(x: np.ndarray) -> int | None:
    """Where a run of a partner's figures (in order) changes level: the place of the first
    figure of the new level, or None. The least-absolute-deviation split (log scale) into
    two runs of at least ``HOLDS_MONTHS`` figures each, kept where their medians are
    ×``RECORD_ONLY`` or more apart and every figure of each run is on its run's side of
    the midpoint between them (as ``undoing_shifts`` asks of a temporary change): a
    partner's record that changed level, not one that swings."""
    n = x.size
    if n < 2 * HOLDS_MONTHS:
        return None
    y = np.log1p(x)  # a zero is a month at nothing: as low as any figure, and finite
    cost = [
        np.abs(y[:k] - np.median(y[:k])).sum() + np.abs(y[k:] - np.median(y[k:])).sum()
        for k in range(HOLDS_MONTHS, n - HOLDS_MONTHS + 1)
    ]
    k = HOLDS_MONTHS + int(np.argmin(cost))
    a, b = np.median(x[:k]), np.median(x[k:])
    if max(a, b) <= 0 or max(a, b) < RECORD_ONLY * min(a, b):
        return None
    mid = (np.median(y[:k]) + np.median(y[k:])) / 2.0
    up = b > a
    if ((y[:k] < mid) == up).all() and ((y[k:] > mid) == up).all():
        return k
    return None


def _mirror_reading(ev: Mapping, finding: Mapping, cur: str, unit: str) -> tuple[str, bool]:
    """What the partner's record of the same flow says of the change, and whether it reads
    as a change in the reporter's record rather than in the trade.

    Where the partner's record held (within ×``LASTS_RATIO``, the bar of "the new level
    lasts"), or moved the other way by less than ×``RECORD_ONLY`` (Spain's exports of CN
    39204910 to Sweden rose ×1.7 while Sweden's record of them fell to €18 a month), or
    barely moved (its way, by at most a tenth of the change on the log scale, ``BARELY``,
    and less than ×``RECORD_ONLY``: ×0.65 beside ×1/300), while
    the series moved ×``RECORD_ONLY`` or more, the trade went on as the
    partner recorded it, and that reading replaces the closure's or the reopening's: the
    Netherlands' imports of CN 39206290 from Lithuania fell ×0.031 in February 2025 and
    read "a closure, sanctions or lost business", while Lithuania recorded exports to the
    Netherlands of about €98K a month before and €71K after. Where it moved the same way by
    at least half as much (log scale), both sides saw the change; otherwise (a partner's
    record that moved the other way, or part of the way: the records crossed, and which
    is right the figures do not say) its figures are given without a verdict. A first
    version read a partner's record that moved less than a quarter of the change, or the
    other way, as "did not follow: the trade went on"; a QA read found it said so of a
    partner whose record rose ×52 while the series fell ×0.14.

    Where the partner's record moved otherwise, the two records' levels are compared: a
    change after which they agree (within ×``LASTS_RATIO``) where before they were
    ×``RECORD_ONLY`` or more apart, the partner's record itself moving less than that,
    brought the reporter's record into line with the partner's: the change is in the
    record. (Not the reverse: records that agreed and then
    parted, the partner's moving too, crossed, and which is right the figures do not say.)
    A QA read found Estonia's imports of CN 39206900 from Poland "a closure,
    sanctions or lost business" from January 2025 (€19.7K a month to about €400), while
    Poland had recorded €817 a month before and €394 after, and Estonia's 2025 figures
    equal Poland's to the euro. So does a change after which they agree where each moved
    toward the other (Germany's imports of CN 39204910 from Sweden rose ×21, from €468 to
    €9.9K a month, while Sweden's record of them fell from €47.3K to €9.1K: "a reopening,
    a new contract or a new trade route" had closed its text).

    Each of the partner's sides is read on its own months (``side_mirror``). Where only
    its months after the change are enough, they are read against the series' own old
    level: within ×``LASTS_RATIO`` of it while the series moved ×``RECORD_ONLY`` or more,
    the partner recorded the trade going on at the level this record had, and the change
    is this record's. (The Netherlands' exports of CN 39201081 to Germany fell ×0.0058
    from May 2025 and read "the quantity shipped changed. A closure …", while Germany
    recorded imports from the Netherlands of €108K–641K in each month after.) Where the
    partner's record changed level itself within a side (``_own_change``), its level
    next to the series' change is the one compared, and where and how it moved besides is
    said (``_partner_own_change``), not hidden in a median of both its levels.
    """
    before, after = ev.get("mirror_before"), ev.get("mirror_after")
    ratio = ev.get("ratio")
    if after is None or not _positive(ratio) or ratio == 1:
        return "", False
    partner, reporter = finding.get("partner"), finding.get("reporter")
    exported = finding.get("flow") in ("export", "re-export")
    its = "imports from" if exported else "exports to"
    record = f"{partner}'s record of the same trade (its {its} {reporter})"
    freq = finding_freq(finding)
    until = ev.get("mirror_after_to")
    after_to = f", to {period_name(until, freq)}" if until else ""
    if before is None:  # too few of its months before: against this record's old level
        return _mirror_after_alone(ev, finding, record, cur, unit, after_to)
    since = ev.get("mirror_before_from")
    before_from = f", since {period_name(since, freq)}," if since else ""
    text, record_only = _mirror_verdict(ev, finding, record, cur, unit, before_from, after_to)
    return text + _partner_own_change(ev, partner, cur, unit, freq), record_only


def _mirror_after_alone(
    ev: Mapping, finding: Mapping, record: str, cur: str, unit: str, after_to: str
) -> tuple[str, bool]:
    """``_mirror_reading`` where the partner's record gives only the months after the
    change: its level there against the series' old level (``expected``), and against the
    median of what months it has before (``mirror_before_thin``), which must not say it
    moved: a partner whose records run apart from the series' is no witness of its old
    level."""
    after, ratio, old = ev.get("mirror_after"), ev.get("ratio"), finding.get("expected")
    partner, reporter = finding.get("partner"), finding.get("reporter")
    if not (_positive(after) and _positive(old) and _within(after, old, LASTS_RATIO)):
        return "", False
    some = ev.get("mirror_before_thin")  # the few months it has before must not say otherwise
    if some is not None and not _within(after, some, LASTS_RATIO):
        return "", False
    if abs(np.log(ratio)) < np.log(RECORD_ONLY):
        return "", False
    return (
        f"{record} had {about(after, cur)} a {unit} after{after_to}, near {reporter}'s own "
        f"level before the change ({about(old, cur)}; {partner}'s has too few {unit}s before "
        f"it to compare): the trade went on as {partner} recorded it, so the change is in "
        f"{reporter}'s record (its coverage, a reclassification, or misrecorded figures) "
        "more than in the trade itself.",
        True,
    )


def _partner_own_change(ev: Mapping, partner: str, cur: str, unit: str, freq: str) -> str:
    """Where the partner's record changed level within a side (``side_mirror``), when and
    to or from what: " NLD's record itself fell from May 2025, to about €3.1K a month.",
    " DEU's record had itself risen to that level in January 2025, from about €4.9K a
    month." ("" otherwise)."""
    text = ""
    since, before = ev.get("mirror_before_from"), ev.get("mirror_before")
    if since:
        earlier = ev.get("mirror_earlier")
        month = period_name(since, freq)
        if earlier is None or before is None:
            text += f" {partner}'s record had itself moved to that level in {month}."
        else:
            way = "risen" if before > earlier else "fallen"
            text += (
                f" {partner}'s record had itself {way} to that level in {month}, from "
                f"{about(earlier, cur)} a {unit}."
            )
    later_from, after = ev.get("mirror_later_from"), ev.get("mirror_after")
    if later_from:
        later = ev.get("mirror_later")
        month = period_name(later_from, freq)
        if later is None or after is None:
            text += f" {partner}'s record itself changed level from {month}."
        else:
            way = "rose" if later > after else "fell"
            text += (
                f" {partner}'s record itself {way} from {month}, to {about(later, cur)} a {unit}."
            )
    return text


def _mirror_verdict(
    ev: Mapping,
    finding: Mapping,
    record: str,
    cur: str,
    unit: str,
    before_from: str = "",
    after_to: str = "",
) -> tuple[str, bool]:
    """``_mirror_reading`` from the partner's levels on both sides (``before_from`` and
    ``after_to``: where they were read over part of a side, which part)."""
    before, after = ev.get("mirror_before"), ev.get("mirror_after")
    ratio = ev.get("ratio")
    partner, reporter = finding.get("partner"), finding.get("reporter")
    figures = (
        f"{about(before, cur)} a {unit} before{before_from} and {about(after, cur)} after{after_to}"
    )
    if not (_positive(before) and _positive(after)):
        return f"{record} had {figures}.", False
    moved = after / before
    along = np.log(moved) / np.log(ratio)  # the partner's part of the change
    held = _within(after, before, LASTS_RATIO)
    # the other way, within what a reader calls the same level: Spain's exports of CN
    # 39204910 to Sweden rose ×1.7 as Sweden's record of them fell to €18 a month
    against = along < 0 and _within(after, before, RECORD_ONLY)
    # or a small part of the way: Sweden's record of Belgium's exports of CN 39209959 fell
    # ×0.65 while Belgium's fell ×1/300, and no reading was given
    barely = 0 <= along <= BARELY and _within(after, before, RECORD_ONLY)
    if (held or against or barely) and abs(np.log(ratio)) >= np.log(RECORD_ONLY):
        how = "held" if held else "moved the other way" if against else "barely moved"
        return (
            f"{record} {how} ({figures}, {factor(moved)}): the trade went on as {partner} "
            f"recorded it, so the change is in {reporter}'s record (its coverage, a "
            "reclassification, or misrecorded figures) more than in the trade itself.",
            True,
        )
    if along >= 0.5:  # the same way, at least half as far
        return f"{record} moved with it ({figures}, {factor(moved)}): both sides saw it.", False
    went = (
        f"{record} went from {about(before, cur)} a {unit} before{before_from} to "
        f"{about(after, cur)} after{after_to}, {factor(moved)}"
    )
    own_before, own_after = finding.get("expected"), finding.get("observed")
    if not (_positive(own_before) and _positive(own_after)):
        return f"{went}.", False
    partner_steady = _within(after, before, RECORD_ONLY)  # a partner that moved ×3 saw a change too
    if (
        partner_steady
        and _within(own_after, after, LASTS_RATIO)
        and not _within(own_before, before, RECORD_ONLY)
    ):
        return (
            f"{went}: after the change the two records agree, where before {reporter}'s was "
            f"{times(own_before / before)} {partner}'s. The change brought {reporter}'s record "
            f"into line with {partner}'s: it is in the record (its coverage, a "
            "reclassification or a correction) more than in the trade.",
            True,
        )
    if (
        along < 0
        and _within(own_after, after, LASTS_RATIO)
        and not _within(own_before, before, RECORD_ONLY)
    ):  # each moved toward the other: no new trade, where the partner's record fell
        return (
            f"{went}: after the change the two records agree, where before {reporter}'s was "
            f"{times(own_before / before)} {partner}'s. The records came into line, each "
            "moving toward the other: the change is in how the trade is recorded (coverage, "
            "a reclassification or a correction) more than in the trade.",
            True,
        )
    return f"{went}.", False


def _weight_reading(ev: Mapping, unit: str, record_only: bool = False) -> tuple[str, bool]:
    """What the weight says of the change, and whether it reads as a change of units.

    The change of value (log) is the weight's change plus the value per kg's. Where the
    weight carries at most ``UNIT_SHARE`` of it (or moved the other way) and the value per
    kg moved ``UNIT_CHANGE`` times or more, the change is in the recorded value of the
    goods rather than in their quantity: Guinea's bauxite to China fell ×0.02 in value
    from February 2016 while its weight rose ×3.9 (the value per kg from about 100,000 to
    290 francs, the price every other partner paid), and read as "a closure, sanctions or
    lost business". That reading then replaces the closure's or the reopening's. Where the
    weight carries at least ``WEIGHT_SHARE`` of it and the value per kg stayed within
    ×``WEIGHT_WITH``, the quantity shipped changed, and the text says so. Where the weight
    carries at most ``UNIT_SHARE`` of it and itself stayed within ×``WEIGHT_HELD`` (as
    a spike's weight holds: ×0.6 beside a value ×2.6 did not), the
    quantity held and the price moved (Guinea's exports of wheat, 10084000, to the
    Netherlands: "the weight went from 6.3 t to 6.3 t, ×1.0", then "a closure, sanctions or
    lost business"): that reading replaces the closure's too. Where the weight moved the
    other way at least half as far as the value (log scale) and the value per kg
    ``UNIT_CHANGE`` times or more, either figure may be in another unit, and that reading
    replaces the closure's (Guinea's gold to Switzerland, July 2017: the value ×0.031, the
    weight ×33). Where the weight moved the value's way but further, the value per kg
    ``UNIT_CHANGE`` times or more the other way, it says so and what may explain it,
    beside the usual reading. Otherwise it gives both weights (a value ×982 with its
    weight ×49: neither reading holds). Weights of a few
    kilograms (under ``MIN_USUAL_KG`` on either side: "1 kg to 1 kg") give no reading. Where the partner's record says the change is in the
    reporter's record (``record_only``), a weight that moved with the value is part of
    that record, not a change of the goods shipped, and is given without a verdict.
    """
    before, after = ev.get("weight_before"), ev.get("weight_after")
    ratio = ev.get("ratio")
    if not (_positive(before) and _positive(after) and _positive(ratio) and ratio != 1):
        return "", False
    if min(before, after) < MIN_USUAL_KG:  # a kilogram or two: rounding, not a reading
        return "", False
    moved = after / before
    per_kg = ratio / moved
    share = np.log(moved) / np.log(ratio)  # the weight's part of the change
    weights = f"{weight(before)} a {unit} before and {weight(after)} after"
    # the weight moved the other way as far as the value, or further: which of the two is
    # in another unit the figures do not say (Guinea's gold to Switzerland, July 2017: the
    # value ×0.031 and the weight ×33, read as the value's unit)
    against = share < 0 and abs(np.log(moved)) >= abs(np.log(ratio)) / 2
    if against and abs(np.log(per_kg)) >= np.log(UNIT_CHANGE):
        return (
            f"The weight moved the other way ({weights}, {factor(moved)}): the value per kg "
            f"moved {factor(per_kg)}. A change of the value's or the weight's unit in the "
            "record, or other goods under the code, more than a change of trade.",
            True,
        )
    if share <= UNIT_SHARE and abs(np.log(per_kg)) >= np.log(UNIT_CHANGE):
        return (
            f"The weight did not follow ({weights}, {factor(moved)}): the value per kg "
            f"moved {factor(per_kg)}. The change is in the recorded value of the goods more "
            "than in their quantity: a change of units or currency in the record (thousands "
            "for units, another currency), or other goods under the code, rather than a "
            "change of trade.",
            True,
        )
    if share <= UNIT_SHARE and abs(np.log(moved)) < np.log(WEIGHT_HELD) and not record_only:
        return (
            f"The weight held ({weights}, {factor(moved)}): the value per kg moved "
            f"{factor(per_kg)}, a change of price or of the goods under the code, not of the "
            "quantity shipped.",
            True,
        )
    if share >= WEIGHT_SHARE and abs(np.log(per_kg)) < np.log(WEIGHT_WITH):
        if record_only:
            return f"The weight in the record moved with the value ({weights}).", False
        return f"The weight moved with it ({weights}): the quantity shipped changed.", False
    went = f"The weight went from {weight(before)} to {weight(after)} a {unit}, {factor(moved)}"
    if share > 1 and abs(np.log(per_kg)) >= np.log(UNIT_CHANGE):
        # the weight moved the value's way, and so much further that the value per kg
        # moved ten times or more: the record's weight, or the goods it weighs, changed
        # (China's gallium and germanium group, January 2018: 20 to 100 times the weight
        # for every partner, the value ×1.8, read as "a reopening" without a word of it)
        lots = "bulk trade after small lots" if moved > 1 else "small lots after bulk trade"
        why = (
            "Other goods under the code or a change of the weight's unit in the record"
            if record_only
            else f"Other goods under the code, a change of the weight's unit, or {lots}"
        )
        return (
            f"{went}, far more than the value: the value per kg moved {factor(per_kg)}. {why}.",
            False,
        )
    return f"{went}.", False


def _alternative(ev: dict, finding: Mapping, cur: str) -> str:
    """The other reading of the change, in words. For a rise, a timing shift (part of the
    month before recorded in the first month) only where the month before is low twice
    over: unusually low against its own expectation (z ≤ −2) and below ``PREVIOUS_LOW``
    (half) the old level it belongs to, the median the text has just given. The first
    alone is not enough: a month at the old level, whose expectation the months around it
    pulled up, would read "unusually low (€23 against €184 expected)" right after "against
    about €23 before". Of 50 rises after a month at z ≤ −2 in real Comext, Comtrade and
    Guinean customs series, that month is at or near the old level in 10 (eight at it, the
    median of three months before; the others at 0.5 and 0.63 of it) and well below it in 40
    (at most 0.42 of it, 28 under 0.2): the half falls in the gap. And only where that
    month is the one just before the change: a December followed by three missing months
    is not where April's trade came from."""
    freq = finding_freq(finding)
    unit = period_unit(freq)
    start = period_name(finding["period"], freq)
    up = ev.get("direction", "up" if (ev.get("ratio") or 0.0) > 1 else "down") == "up"
    pz, pe, pv = ev.get("previous_z"), ev.get("previous_expected"), ev.get("previous_value")
    old = ev.get("old_level", finding.get("expected"))
    low = pz is not None and pz <= -2.0 and pv is not None and _positive(old)
    # trade moves into the next month only: not across months the series did not report
    low = low and ev.get("previous_adjacent", True)
    if up and low and pe is not None and pv < PREVIOUS_LOW * old:
        moved = max(pe - pv, 0.0)
        first = ev.get("first_value") or 0.0
        share = moved / first * 100 if first > 0 else 0.0
        return (
            f"It follows an unusually low {period_name(ev.get('previous_period'), freq)} "
            f"({money(pv, cur)} against {less_than(pe, cur)} expected). If part of that {unit}'s "
            f"trade was recorded in {start} (a timing shift), at most {about(moved, cur)} "
            f"moved, {percent(share, digits=0)} of {start}'s {money(first, cur)}; the {unit}s "
            "after staying at the new level point to a real change, such as a reopening."
        )
    if up and finding.get("expected") == 0:  # from nothing: a flow that starts (as said)
        cause = (
            "Trade that starts: a reopening or a measure lifted"
            if many_goods(finding)
            else "A new flow: a first contract, a new supplier or a new trade route"
        )
        return (
            f"{cause}; or a change in what is recorded (coverage, goods newly classified "
            "under this code) that the source's notes would show."
        )
    if up:
        cause = (
            "A rise in demand or prices (a recovery, where trade had fallen), a reopening or "
            "a measure lifted"
            if many_goods(finding)
            else "A new contract, a new supplier or trade route, or a reopening"
        )
        return (
            f"{cause}; or a change in what is recorded (coverage, classification) that the "
            "source's notes would show."
        )
    cause = (
        "A fall in demand or prices (a recession, tariffs), a closure or sanctions"
        if many_goods(finding)
        else "A closure, sanctions or lost business"
    )
    return (
        f"{cause}; or a change in what is recorded (coverage, a reclassification moving goods "
        "to another code) that the source's notes would show."
    )
