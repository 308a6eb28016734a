"""Incoherent: figures that contradict each other (combined months, details against totals)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.context import country_codes
from tradesentry.detectors.base import (
    MATERIAL_MONEY,
    MONEY_NEEDS,
    Detector,
    confidence,
    detections,
    in_dollars,
    material_cap,
    no_detections,
)
from tradesentry.detectors.combined import combined_name
from tradesentry.detectors.evidence import finding_freq
from tradesentry.panel import Panel, covered_months
from tradesentry.schema import WORLD, hs_family
from tradesentry.text import (
    money,
    money_pair,
    percent,
    period_name,
    period_unit,
    plural,
    times,
)

_CHAPTER = re.compile(r"^\d{2}$")
#: months (the flagged one among them) in which the details fall short of their total before
#: the shortfall reads as details not all in the store rather than a wrong figure
_RECURRING = 3


@dataclass(frozen=True)
class Incoherent(Detector):
    """Figures of one release that cannot all be true: parts that do not add up to the whole.

    Model: two checks, both against a relative ``tolerance`` (2 %) widened by the rounding of
    the figures: half a unit per figure (the total and each of its parts), the unit being the
    largest power of ten that divides every one of them. So $29K + $3K against $33K published
    in thousands is not flagged, nor 20 partners at 2,000 each against 49,000 (21 figures in
    thousands: ±10,500), while €6,345,678 + €3,654,322 against €20,000,000, exact to the
    euro, is. (a) A combined multi-month figure (China's January–February) against the sum
    of the single months it covers, where both were published. Where only some of its
    months were published singly, they sum to a lower bound of it: only their excess over
    it is judged, a part being unable to exceed its whole (a January of $28.8M beside a
    January–February of $19.6M had no finding); the months without a single figure are in
    the evidence (``missing_months``), and the money at stake is the excess, the
    difference as where all are published. (b) Details against totals
    held in the same panel: commodity ``TOTAL`` against the sum of its HS chapters (two-digit
    codes), and partner ``WLD`` against the sum of the individual partners, for the same
    reporter, flow and month. ``TOTAL`` belongs to no HS edition (the ingest keeps it under
    HS): it meets the chapters of every HS edition held beside it (HS, H0…H6, and CN8,
    whose two-digit codes are the HS chapters), each edition's chapters summed apart,
    never added to another's (one finding per total and month, the larger break). Details summing to more than the total are always incoherent
    (values are not negative); details summing to less are incoherent only where the detail
    set is complete in the series' other months (their median ratio to the total within the
    tolerance), since a partial set (the source lists only some partners) is not an error.
    Threshold: the score is 0.5 at the tolerance and rises with the multiple of it. A
    shortfall that recurs (the details short of the total beyond the allowance, or absent
    from the store beside a total, in this and at least two other months) reads first as
    details not all in the store (Comext files list the EU partners and China) rather
    than a wrong figure: its score is halved, below
    0.5 (low), since the explanation itself calls an error the less likely reading, and its
    impact is 0, the gap being trade the store does not hold rather than money a figure may
    have wrong (the difference stays in the evidence). Materiality, as every detector's: a
    break worth less than ``material_money`` scores at most its size / ``material_money``, so
    €81 between a total and its details is low however many tolerances it spans; in US
    dollars where the store has a rate for the series' currency (``base.in_dollars``,
    the series' nearest month's where the finding's month has no row to carry it: a
    combined figure's), else in its own units. Why:
    coherence is the publisher's own constraint, so any break beyond rounding is worth a
    question, and the money it moves says how urgent.
    Both checks of (b) hold in a store of any size: the partners' sums beside each world
    row come from the whole store (the ``partners`` context, in the world row's currency; a
    panel built without it sums its own series), and the engines keep a reporter–partner
    pair's ``TOTAL`` and its chapters of every HS edition in one chunk (``engines.local``:
    they come first among the partner's series). Where the context knows a partner's figure
    is withheld (confidential) that month, or in another currency than the total's, the
    others are a lower bound: only their excess over the total is judged, and the month
    counts for no usual ratio (for chapters as for partners). Duplicate
    rows never reach the detectors: the ingest quarantines them. (c) Two combined figures
    of a series that cover the same month (January–February and February–March): that
    month is counted twice. One finding per pair, over the months both cover (none where
    (a) runs over the same months: one id per kind, series and months); its money at stake
    is those months at the smaller of the two figures' monthly averages; its score is
    certain, capped by that money as (a)'s.
    """

    kind: ClassVar[str] = "incoherent"
    needs: ClassVar[tuple[str, ...]] = ("partners", *MONEY_NEEDS)  # the cap in dollars
    tolerance: float = 0.02
    min_months: int = 6
    material_money: float = MATERIAL_MONEY  # US dollars, or units of a currency without rate

    def detect(self, panel: Panel) -> pd.DataFrame:
        combined, overlapping = self._combined(panel), self._overlapping(panel)
        if len(combined) and len(overlapping):
            # over the same months as a combined figure set against its single months, the
            # overlap is that finding's to tell (one id per kind, series and months)
            span = ["series", "start", "end"]
            told = (
                overlapping[span]
                .merge(combined[span].drop_duplicates(), how="left", indicator=True)["_merge"]
                .eq("both")
                .to_numpy()
            )
            overlapping = overlapping[~told]
        parts = [combined, overlapping, *self._totals(panel)]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else no_detections()

    # -- (a) combined months ---------------------------------------------------------------
    def _combined(self, panel: Panel) -> pd.DataFrame:
        rows, cols = np.nonzero(panel.combined_span > 0)
        if not rows.size:
            return no_detections()
        span = panel.combined_span[rows, cols].astype(np.int64)
        parts = covered_months(panel.values, rows, cols, span, np.nan)
        covered = np.arange(parts.shape[1])[None, :] < span[:, None]
        published = np.isfinite(parts) & covered
        complete = (published | ~covered).all(1)
        total = panel.combined[rows, cols]
        summed = np.nansum(parts, axis=1)
        unit = _rounding_unit(total, parts)
        allowed = self._allowed(total, unit, np.isfinite(parts).sum(1) + 1)
        # Where a month it covers has no single figure, those published sum to a lower
        # bound of the combined figure: only their excess over it is judged (a part cannot
        # exceed its whole; values are not negative). A January of $28.8M beside a
        # January–February of $19.6M, February not published singly, had no finding.
        partial = ~complete & published.any(1)
        with np.errstate(invalid="ignore"):
            broken = np.where(complete, np.abs(total - summed), summed - total) > allowed
        keep = (complete | partial) & np.isfinite(total) & broken
        evidence = [
            {
                "parts": [float(x) for x in parts[j] if np.isfinite(x)],
                "months": [panel.label(int(cols[j]) + m) for m in range(int(span[j]))],
                **(
                    {"missing_months": _month_labels(panel, cols[j], span[j], ~published[j])}
                    if partial[j]
                    else {}
                ),
            }
            for j in np.flatnonzero(keep).tolist()
        ]
        return self._emit(
            panel,
            rows[keep],
            cols[keep],
            (cols + span - 1)[keep],
            total[keep],
            summed[keep],
            unit[keep],
            "combined",
            evidence,
        )

    # -- (c) combined figures that cover the same month ----------------------------------
    def _overlapping(self, panel: Panel) -> pd.DataFrame:
        rows, cols = np.nonzero(panel.combined_span > 0)
        if not rows.size:
            return no_detections()
        span = panel.combined_span[rows, cols].astype(np.int64)
        # every other combined figure that starts within this one's months after its first:
        # one finding per pair, over the months both cover
        starts = (panel.combined_span > 0).astype(float)
        later = covered_months(starts, rows, cols + 1, span - 1, 0.0) > 0
        pair, step = np.nonzero(later)
        if not pair.size:
            return no_detections()
        rows, cols, span = rows[pair], cols[pair], span[pair]
        other = cols + 1 + step
        other_span = panel.combined_span[rows, other].astype(np.int64)
        shared = np.minimum(cols + span, other + other_span) - other
        first, second = panel.combined[rows, cols], panel.combined[rows, other]
        known = np.isfinite(first) & np.isfinite(second)  # a withheld figure counts nothing
        if not known.any():
            return no_detections()
        rows, cols, span, other, other_span, shared, first, second = (
            a[known] for a in (rows, cols, span, other, other_span, shared, first, second)
        )
        twice = shared * np.minimum(first / span, second / other_span)
        evidence = [
            {
                "check": "overlap",
                "figures": [float(first[j]), float(second[j])],
                "months": _month_labels(panel, cols[j], span[j]),
                "other_months": _month_labels(panel, other[j], other_span[j]),
                "shared_months": _month_labels(panel, other[j], shared[j]),
                "counted_twice": float(twice[j]),
            }
            for j in range(len(rows))
        ]
        return detections(
            self.kind,
            rows,
            other,  # the months counted twice: what the finding is about
            np.minimum(other + shared - 1, panel.n_months - 1),
            observed=first + second,
            expected=first + second - twice,
            impact=twice,
            score=self._material(panel, rows, other, np.ones(len(rows)), twice),
            evidence=evidence,
        )

    # -- (b) details against totals -----------------------------------------------------------
    def _totals(self, panel: Panel) -> list[pd.DataFrame]:
        keys = panel.keys.astype(str)
        chapter = keys["commodity"].str.match(_CHAPTER.pattern)
        by_commodity = [c for c in keys.columns if c != "commodity"]
        by_partner = [c for c in keys.columns if c != "partner"]
        # TOTAL belongs to no HS edition (the ingest keeps it under HS): it meets the chapters
        # of any edition, each edition's chapters summed apart.
        edition_free = keys.assign(classification=hs_family(keys["classification"]))
        chapters = _panel_details(
            panel,
            _group_ids(keys, by_commodity),
            _group_ids(edition_free, by_commodity),
            keys["commodity"] == "TOTAL",
            chapter,
        )
        if "partners_sum" in panel.context:  # summed over the whole store, not the chunk
            partners = _context_details(panel, keys["partner"] == WORLD)
        else:
            partners = _panel_details(
                panel,
                _group_ids(keys, by_partner),
                _group_ids(keys, by_partner),
                keys["partner"] == WORLD,
                keys["partner"].isin(country_codes()),
            )
        return [
            self._judge(panel, details, level)
            for details, level in ((chapters, "commodity"), (partners, "partner"))
            if details is not None
        ]

    def _judge(self, panel: Panel, details: _Details, level: str) -> pd.DataFrame:
        """Each total's months against the sum of its details."""
        rows, edition = details.rows, details.edition
        total = panel.values[rows]
        detail_sum, n_details = details.sums, details.counts
        unit = np.minimum(details.units, _figure_units(total))
        unit = np.where(np.isfinite(unit), unit, 0.0)  # no figure but zeros: nothing rounded
        figures = n_details + np.isfinite(total)
        allowed = self._allowed(total, unit, figures)
        # where a detail's figure is unknown the others sum to a lower bound: only their
        # excess over the total can be judged, and the month says nothing of the usual ratio
        unknown = details.unknown
        whole_sum = np.where(unknown > 0, np.nan, detail_sum)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = whole_sum / total
        usual, months = _usual_ratio_without(ratio)  # each month's "other months"
        complete = (np.abs(usual - 1.0) <= self.tolerance) & (months >= self.min_months)
        gap = detail_sum - total
        with np.errstate(invalid="ignore"):
            over = gap > allowed
            under = complete & (whole_sum - total < -allowed)
        rounding = unit * figures / 2
        counted = _other_months(total, whole_sum, allowed, self.tolerance, rounding)
        with np.errstate(divide="ignore", invalid="ignore"):
            short_share = np.where(whole_sum - total < -rounding, (total - whole_sum) / total, 0.0)
        most = _largest_other(np.nan_to_num(short_share))
        # a total of 0 against details that hold trade is a break too (its ratio is not)
        p, t = np.nonzero((over | under) & np.isfinite(total) & np.isfinite(detail_sum))
        # one finding per total and month: where two editions' chapters both break with
        # the total, the larger break
        worst = np.lexsort((-np.abs(gap[p, t]) / np.maximum(allowed[p, t], 1e-300), t, rows[p]))
        first = np.ones(len(worst), dtype=bool)
        first[1:] = (np.diff(rows[p][worst]) != 0) | (np.diff(t[worst]) != 0)
        p, t = p[worst[first]], t[worst[first]]
        evidence = [
            {
                "details": int(n_details[i, j]),
                **({"details_unknown": int(unknown[i, j])} if unknown[i, j] else {}),
                "details_classification": str(edition[i]),
                "usual_ratio": float(usual[i, j]) if np.isfinite(usual[i, j]) else None,
                **{name: int(c[i, j]) for name, c in counted.items()},
                **({"other_below_most": round(float(most[i, j]), 6)} if most[i, j] > 0 else {}),
            }
            for i, j in zip(p.tolist(), t.tolist(), strict=True)
        ]
        # a shortfall that recurs reads as details not all in the store, not a wrong figure
        # and months whose total has no detail in the store at all say the same
        short = counted["other_short"][p, t] + counted["other_bare"][p, t] + 1
        partial = _partial(counted["other_below"][p, t], counted["other_months"][p, t])
        partial &= _within_reach(short_share[p, t], most[p, t])
        incomplete = (gap[p, t] < 0) & ((short >= _RECURRING) | partial)
        return self._emit(
            panel,
            rows[p],
            t,
            t,
            total[p, t],
            detail_sum[p, t],
            unit[p, t],
            level,
            evidence,
            incomplete,
        )

    # -- shared ----------------------------------------------------------------------------
    def _allowed(self, total: np.ndarray, unit: np.ndarray, figures: np.ndarray) -> np.ndarray:
        """The tolerance, or half a rounding unit per figure where that is more."""
        return np.maximum(self.tolerance * np.abs(total), unit * figures / 2)

    def _material(self, panel: Panel, rows, cols, score: np.ndarray, money) -> np.ndarray:
        """``score`` capped by the ``money`` at stake from the months ``cols`` (``material_cap``
        at ``material_money``), in US dollars where the store has a rate for the currency."""
        dollars = in_dollars(panel, rows, cols, money, nearest=True)
        return np.minimum(score, material_cap(dollars, self.material_money))

    def _emit(
        self,
        panel: Panel,
        rows: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        total: np.ndarray,
        summed: np.ndarray,
        unit: np.ndarray,
        check: str,
        evidence: list[dict],
        incomplete: np.ndarray | None = None,
    ) -> pd.DataFrame:
        if not len(rows):
            return no_detections()
        gap = np.abs(total - summed)
        multiple = gap / np.maximum(self.tolerance * np.abs(total), 1e-300)
        # materiality, as every detector's: a break of a few dollars is no more than low,
        # however many tolerances it spans
        score = self._material(panel, rows, start, confidence(4.0 * multiple, 4.0), gap)
        impact = gap
        if incomplete is not None:  # details more likely missing from the store than wrong
            score = np.where(incomplete, 0.5 * score, score)
            impact = np.where(incomplete, 0.0, gap)
        evidence = [
            {
                "check": check,
                "total": float(total[j]),
                "sum_of_parts": float(summed[j]),
                "difference": float(total[j] - summed[j]),
                "relative": float((total[j] - summed[j]) / total[j]) if total[j] else None,
                "tolerance": self.tolerance,
                "rounding_unit": float(unit[j]),
                **ev,
            }
            for j, ev in enumerate(evidence)
        ]
        return detections(
            self.kind,
            rows,
            start,
            end,
            observed=total,
            expected=summed,
            impact=impact,
            score=score,
            evidence=evidence,
        )

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or ""
        total, parts = money_pair(ev.get("total"), ev.get("sum_of_parts"), cur)
        freq = finding_freq(finding)
        if ev.get("check") == "overlap":
            return _overlap_text(finding, ev, cur)
        if ev.get("check") == "combined":
            singles = " + ".join(money(x, cur) for x in ev.get("parts", []))
            more = "more" if (ev.get("sum_of_parts") or 0) > (ev.get("total") or 0) else "less"
            apart = _apart(ev, more, "the combined figure")
            if ev.get("missing_months"):
                return _part_over_whole_text(finding, ev, total, parts, singles, apart)
            return (
                f"The combined figure for {combined_name(finding, ev)} is {total}, but the "
                f"single months published for them sum to {parts} ({singles}){apart}. One of "
                "the releases was revised or one of the figures is wrong."
            )
        commodity = ev.get("check") == "commodity"
        what = "its HS chapters" if commodity else "the individual partners"
        edition = ev.get("details_classification")
        if commodity and edition and edition != finding.get("classification"):
            what += f" ({edition})"  # the total is under HS, its chapters under an edition
        more = "more" if (ev.get("sum_of_parts") or 0) > (ev.get("total") or 0) else "less"
        n = int(ev.get("details") or 0)
        details = (
            f"the {n} figures for {what} sum to" if n != 1 else f"the one figure for {what} is"
        )
        unknown = int(ev.get("details_unknown") or 0)
        if unknown:  # only an excess is judged then: the parts known exceed the whole
            others = plural(unknown, "chapter" if commodity else "partner")
            details = (
                f"{details.removesuffix(' sum to').removesuffix(' is')} (besides {others} "
                "withheld or in another currency) " + ("sum to" if n != 1 else "is")
            )
        unit = period_unit(freq)
        text = (
            f"In {period_name(finding['period'], freq)} the total is {total} but "
            f"{details} {parts}{_apart(ev, more, 'the total')}"
            + (": parts cannot exceed the whole." if more == "more" else ".")
            + _other_months_text(ev, unit)
        )
        if more == "more":
            duplicated = "A figure duplicated or misrecorded among the details"
            return f"{text} {duplicated}, or a total not updated."
        return text + _shortfall_reading(ev, unit, "chapter" if commodity else "partner")


def _part_over_whole_text(
    finding: Mapping, ev: Mapping, total: str, parts: str, singles: str, apart: str
) -> str:
    """(a)'s sentence where some of the combined figure's months have no single figure:
    those published exceed it. "The combined figure for January–February 2020 is $19.6M,
    but the single month published for January 2020 is $28.8M, 46.9% more: a part cannot
    exceed its whole (February 2020 has no single figure). …"."""
    missing = set(ev.get("missing_months") or [])
    shown = [period_name(m) for m in ev.get("months") or [] if m not in missing]
    absent = [period_name(m) for m in ev.get("months") or [] if m in missing]
    if len(shown) == 1:
        published = f"the single month published for {shown[0]} is {parts}"
    else:
        published = (
            f"the single months published for {', '.join(shown[:-1])} and {shown[-1]} "
            f"sum to {parts} ({singles})"
        )
    has = "has" if len(absent) == 1 else "have"
    return (
        f"The combined figure for {combined_name(finding, ev)} is {total}, but {published}"
        f"{apart}: a part cannot exceed its whole ({' and '.join(absent)} {has} no single "
        "figure). One of the releases was revised or one of the figures is wrong."
    )


def _shortfall_reading(ev: Mapping, unit: str, kind: str) -> str:
    """Why details may fall short of their total. One short month in a set that otherwise
    adds up is a figure missing or a total not updated, or, for partners, trade with a
    partner the store does not hold (a Comext extract of the EU partners and China, whole
    to 2 % in 34 months, misses a month's one-off import from elsewhere); a shortfall that
    recurs (in this
    and at least two other months) is more likely a detail set that is not whole in the
    store (a source listing only some partners, such as Comext files holding the EU
    partners and China) than one wrong figure each time."""
    short = int(ev.get("other_short") or 0) + 1
    bare = int(ev.get("other_bare") or 0)
    below, others = int(ev.get("other_below") or 0), int(ev.get("other_months") or 0)
    if short + bare < _RECURRING and _partial(below, others):
        most = float(ev.get("other_below_most") or 0.0)
        said = (
            f" But in {below} of them the details fell short of the total too, beyond the "
            f"rounding of the figures, by at most {percent(100.0 * most, digits=2)} of it: "
            f"some of the total's {kind}s are not in the store"
        )
        shortfall = abs(float(ev.get("difference") or 0.0)) / abs(float(ev.get("total") or 1.0))
        if _within_reach(shortfall, most):
            return (
                f"{said}, and this {unit}'s shortfall is more likely trade with them than a "
                "wrong figure. Otherwise a figure is missing among the details, or the total "
                "was not updated."
            )
        return (
            f"{said}, though this {unit}'s shortfall is more than twice what they held in "
            f"any of them. A figure missing among the details, a total not updated, or a "
            f"large {unit} of trade with a {kind} whose figures are not in the store."
        )
    if short + bare < _RECURRING:
        if kind == "partner":  # a set whole in other months can still miss a rare partner
            return (
                " A figure missing among the details, a total not updated, or trade that "
                f"{unit} with a partner whose figures are not in the store."
            )
        return " A figure missing among the details, or a total not updated."
    months = plural(int(ev.get("other_months") or 0) + 1, unit)
    fall = f"fall short in {short} of the {months}"
    if bare:  # the months whose total has no detail were said just before
        fall += f", and are missing in {plural(bare, f'other {unit}')}"
    return (
        f" The details {fall}: more likely some of the "
        f"total's {kind}s are not in the store (a source listing only some of them) than "
        "one figure is wrong. Otherwise a figure is missing among the details, or the total "
        "was not updated."
    )


def _other_months_text(ev: Mapping, unit: str) -> str:
    """' Of the other 34 months with a total and details, the details match the total
    (within 2%) in 23 and fall short of it in 11.' ('within 2% or the rounding of the
    figures' where some matched only within the rounding; nothing for findings saved
    without the counts)."""
    others = ev.get("other_months")
    if not others:
        return ""
    tol = percent((ev.get("tolerance") or 0.02) * 100, digits=0)
    rounding = " or the rounding of the figures" if ev.get("other_rounded") else ""
    counts = [
        f"match the total (within {tol}{rounding}) in {_count(ev.get('other_matching'))}",
        *(
            f"{verb} in {_count(ev.get(key))}"
            for verb, key in (("fall short of it", "other_short"), ("exceed it", "other_over"))
            if ev.get(key)
        ),
    ]
    said = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " and " + counts[-1]
    bare = ev.get("other_bare")
    without = (
        f" In {plural(int(bare), f'other {unit}')} the total has no detail in the store at all."
        if bare
        else ""
    )
    return (
        f" Of the other {plural(int(others), unit)} with a total and details, the details {said}."
        + without
    )


def _count(value) -> str:
    return "none" if not value else f"{int(value):,}"


def _apart(ev: Mapping, word: str, whole: str) -> str:
    """How far the parts are from the total: ', 3.3% more', ', 600 times the total',
    ', 1/40 of the total' (a percentage of thousands reads better as a multiple); nothing
    when the total is zero (no share of nothing)."""
    total, summed = ev.get("total") or 0.0, ev.get("sum_of_parts") or 0.0
    if total <= 0 or summed < 0:
        return ""
    multiple = summed / total
    if multiple >= 10 or 0 < multiple <= 0.1:
        return f", {times(multiple)} {whole}"
    return f", {percent(abs(summed - total) / total * 100)} {word}"


def _usual_ratio_without(ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each month (rows × months), the median of the row's finite ratios in its other
    months and their count: a month's own break never votes in the usual ratio it is
    judged by (with five other complete months, a sixth 30 % short counted itself among
    the six a usual ratio needs). A month without a ratio has all the row's."""
    finite = np.isfinite(ratio)
    n = finite.sum(axis=1, keepdims=True)
    order = np.argsort(np.where(finite, ratio, np.inf), axis=1, kind="stable")
    s = np.take_along_axis(np.where(finite, ratio, np.nan), order, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(ratio.shape[1])[None, :], axis=1)
    m = np.where(finite, n - 1, n)  # the values left once the month's own is out
    rank = np.where(finite, rank, ratio.shape[1])  # a month without one leaves none out

    def at(j: np.ndarray) -> np.ndarray:  # the j-th of the values left, by its place in s
        place = np.where(j >= rank, j + 1, j)
        return np.take_along_axis(s, np.clip(place, 0, s.shape[1] - 1), axis=1)

    lo, hi = np.maximum((m - 1) // 2, 0), np.maximum(m // 2, 0)
    med = 0.5 * (at(lo) + at(hi))
    return np.where(m > 0, med, np.nan), m


@dataclass(frozen=True)
class _Details:
    """Totals and their details, one element per (total, detail group): the total's panel
    row, the details' sum, count and shared rounding unit in each month (rows × months; inf
    where every detail is 0), the details' classification, and how many details have no
    figure the sum could take (withheld by the source, or in another currency)."""

    rows: np.ndarray
    sums: np.ndarray
    counts: np.ndarray
    units: np.ndarray
    edition: np.ndarray
    unknown: np.ndarray  # details whose figure is withheld or in another currency, per month


def _panel_details(
    panel: Panel, gid: np.ndarray, mid: np.ndarray, is_total: pd.Series, is_detail: pd.Series
) -> _Details | None:
    """Details summed from the panel's own series: ``gid`` groups the details that add up
    together, ``mid`` matches a total with every detail group of its own ``mid``."""
    if not (is_total.any() and is_detail.any()):
        return None
    detail_rows = np.flatnonzero(is_detail.to_numpy())
    values = panel.values[detail_rows]
    by = gid[detail_rows]
    sums = pd.DataFrame(values).groupby(by).sum(min_count=1)
    counts = pd.DataFrame(np.isfinite(values)).groupby(by).sum()
    units = pd.DataFrame(_figure_units(values)).groupby(by).min()
    unknown = pd.DataFrame(panel.withheld()[detail_rows]).groupby(by).sum()
    # a row of each detail group: the match key and classification it shares
    one = detail_rows[pd.Series(np.arange(len(by))).groupby(by).first().loc[sums.index]]
    groups = pd.DataFrame({"group": sums.index, "match": mid[one], "one": one})
    total_rows = np.flatnonzero(is_total.to_numpy())
    pairs = pd.DataFrame({"row": total_rows, "match": mid[total_rows]}).merge(
        groups, on="match", sort=True
    )
    if pairs.empty:
        return None
    group = pairs["group"].to_numpy()
    return _Details(
        rows=pairs["row"].to_numpy(),
        sums=sums.loc[group].to_numpy(dtype=float),
        counts=counts.loc[group].to_numpy(),
        units=units.loc[group].to_numpy(dtype=float),
        edition=panel.keys["classification"].astype(str).to_numpy()[pairs["one"].to_numpy()],
        unknown=unknown.loc[group].to_numpy(),
    )


def _context_details(panel: Panel, is_total: pd.Series) -> _Details | None:
    """Details the engine summed over the whole store (``context.partners_sql``), beside
    each total's months: a total meets its details whatever chunk they fall in."""
    rows = np.flatnonzero(is_total.to_numpy())
    if not rows.size:
        return None
    counts = np.nan_to_num(panel.context["partners_n"][rows]).astype(np.int64)
    # to a millionth: the engines' SQL adds the partners in different orders, and the sums
    # differed in the last bit (1068715.9000000001 and 1068715.9), and so the findings
    sums = np.round(panel.context["partners_sum"][rows], 6)
    return _Details(
        rows=rows,
        sums=np.where(counts > 0, sums, np.nan),
        counts=counts,
        units=np.nan_to_num(panel.context["partners_unit"][rows], nan=np.inf),
        edition=panel.keys["classification"].astype(str).to_numpy()[rows],
        unknown=np.nan_to_num(panel.context["partners_unknown"][rows]),
    )


def _group_ids(keys: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each series' group: the series that share ``columns``."""
    return keys.groupby(columns, sort=False, dropna=False).ngroup().to_numpy()


#: a month's shortfall is "what the partners not in the store hold" up to this many times
#: their largest share of the total in the other months
PARTIAL_REACH = 2.0


def _largest_other(x: np.ndarray) -> np.ndarray:
    """Per cell, the largest of its row's other cells."""
    if x.shape[1] < 2:
        return np.zeros_like(x)
    top2 = -np.partition(-x, 1, axis=1)[:, :2]
    return np.where(x >= top2[:, :1], top2[:, 1:2], top2[:, :1])


def _partial(below, months):
    """Whether a total's details are a part of it in most of its other months: below it
    by more than the rounding of the figures (``other_below``), if within the tolerance, in
    at least half of them (``months``) and ``_RECURRING`` or more: a detail set missing
    some small partner or chapter every month."""
    return (below >= _RECURRING) & (2 * below >= months)


def _within_reach(share, most):
    """Whether a month's shortfall (a ``share`` of its total) is one the details missing in
    the other months hold: up to ``PARTIAL_REACH`` times the largest share they held there
    (``other_below_most``). Finland's imports of CN 35069110 from the world, April 2024,
    13.5 % short where no other month was 2 % short, are not."""
    return share <= PARTIAL_REACH * most


def _other_months(
    total: np.ndarray,
    detail_sum: np.ndarray,
    allowed: np.ndarray,
    tolerance: float,
    rounding: np.ndarray,
) -> dict[str, np.ndarray]:
    """How the details compare with the total in each cell's other months: how many hold
    both figures, and in how many the details match the total within the allowance the
    cell itself is judged by (the tolerance or the rounding; ``other_rounded`` of them only
    within the rounding), fall short of it or exceed it, fall below it by more than the
    figures' ``rounding`` (``other_below``, within the tolerance or not), and how many
    months hold a total without any detail (``other_bare``; the cell's own month left
    out)."""
    both = np.isfinite(total) & np.isfinite(detail_sum)
    gap = np.where(both, detail_sum - total, 0.0)
    with np.errstate(invalid="ignore"):
        matching = both & (np.abs(gap) <= allowed)
        cells = {
            "other_months": both,
            "other_matching": matching,
            "other_rounded": matching & (np.abs(gap) > tolerance * np.abs(total)),
            "other_short": both & (gap < -allowed),
            "other_over": both & (gap > allowed),
            "other_below": both & (gap < -rounding),
            # a total with no detail at all in the store, within the span the store holds
            # details for (outside it, a total fetched over a longer span says nothing)
            "other_bare": np.isfinite(total)
            & ~np.isfinite(detail_sum)
            & (total > allowed)
            & _within_span(np.isfinite(detail_sum)),
        }
    return {name: c.sum(1, keepdims=True) - c for name, c in cells.items()}


def _within_span(held: np.ndarray) -> np.ndarray:
    """Cells between the first and the last ``held`` cell of their row."""
    seen = np.cumsum(held, axis=1)
    return (seen > 0) & (seen < seen[:, -1:]) | held


def _figure_units(figures: np.ndarray) -> np.ndarray:
    """Each figure's largest power of ten (up to 10^9) it is a multiple of: 0 for a figure
    that is no multiple of one (a fraction), infinite for zero or a missing figure (a
    multiple of any, it bounds nothing).

    A figure below the step is no multiple of it (300 is not a number of billions): only
    its floating-point error may be forgiven, not the figure itself.
    """
    unit = np.where(np.isfinite(figures) & (figures != 0), 0.0, np.inf)
    for power in range(10):  # ten powers of ten
        step = 10.0**power
        with np.errstate(invalid="ignore"):
            rem = np.abs(np.round(figures / step) * step - figures)
            multiple = (np.abs(figures) >= step) & (rem <= 1e-6 * step)
        unit = np.where(multiple, step, unit)
    return unit


def _rounding_unit(total: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Largest power of ten (up to 10^9) that divides every nonzero figure of each check
    (0 where there is none: nothing rounded to forgive)."""
    figures = np.column_stack([total, parts.reshape(len(total), -1)])
    unit = _figure_units(figures).min(1)
    return np.where(np.isfinite(unit), unit, 0.0)


def _month_labels(panel: Panel, first: int, n: int, which=None) -> list[str]:
    """The labels of ``n`` months from panel month ``first``, past the panel's last month
    too (a combined figure may run beyond it); ``which``: only the months it marks."""
    start = pd.Period(panel.label(int(first)), "M")
    return [str(start + m) for m in range(int(n)) if which is None or which[m]]


def _overlap_text(finding: Mapping, ev: Mapping, cur: str) -> str:
    """(c)'s sentence: the two combined figures, the months both cover, the money twice."""
    first, second = ev.get("figures") or [None, None]
    months, others = ev.get("months") or [], ev.get("other_months") or []
    shared = [period_name(m) for m in ev.get("shared_months") or []]
    one = len(shared) == 1
    both = shared[0] if one else f"{shared[0]} to {shared[-1]}"
    counted = "that month is" if one else "those months are"
    return (
        f"The combined figure for {combined_name(finding, {'months': months})} "
        f"({money(first, cur)}) and the one for {combined_name(finding, {'months': others})} "
        f"({money(second, cur)}) both cover {both}: {counted} "
        f"counted twice (about {money(ev.get('counted_twice'), cur)} at the smaller figure's "
        "monthly average). One of the two is misdated, or the record double-counts."
    )
