"""Incoherent: figures that contradict each other (combined months, details against totals)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.detectors.base import Detector, confidence, detections, no_detections
from tradesentry.detectors.baseline import finding_freq
from tradesentry.panel import Panel
from tradesentry.schema import WORLD
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


@dataclass(frozen=True)
class Incoherent(Detector):
    """Figures of one release that cannot all be true: parts that do not add up to the whole.

    Model: two checks, both against a relative ``tolerance`` (2 %) widened by the rounding of
    the figures (half a unit per figure of the largest power of ten that divides all of them, so that
    $29K + $3K against $33K published in thousands is not flagged). (a) A combined
    multi-month figure (China's January–February) against the sum of the single months it
    covers, where both were published. (b) Details against totals held in the same panel:
    commodity ``TOTAL`` against the sum of its HS chapters (two-digit codes), and partner
    ``WLD`` against the sum of the individual partners, for the same reporter, flow and
    month. Details summing to more than the total are always incoherent (values are not
    negative); details summing to less are incoherent only where the detail set is complete
    in the series' other months (their median ratio to the total within the tolerance), since
    a partial set (the source lists only some partners) is not an error. Threshold: the
    score is 0.5 at the tolerance and rises with the multiple of it. Why: coherence is the
    publisher's own constraint, so any break beyond rounding is worth a question.
    Limits: a group is checked only when the chunk holds both its total and its details
    (the local engine reads series in key order, which keeps a reporter's series together
    for modest sizes); duplicate rows never reach the detectors, the ingest quarantines them.
    """

    kind: ClassVar[str] = "incoherent"
    tolerance: float = 0.02
    min_months: int = 6

    def detect(self, panel: Panel) -> pd.DataFrame:
        parts = [self._combined(panel), *self._totals(panel)]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else no_detections()

    # -- (a) combined months ---------------------------------------------------------------
    def _combined(self, panel: Panel) -> pd.DataFrame:
        rows, cols = np.nonzero(panel.combined_span > 0)
        if not rows.size:
            return no_detections()
        span = panel.combined_span[rows, cols].astype(np.int64)
        T = panel.n_months
        parts = np.full((len(rows), int(span.max())), np.nan)
        for j in range(parts.shape[1]):  # a handful of months per combined figure
            inside = (j < span) & (cols + j < T)
            parts[inside, j] = panel.values[rows[inside], cols[inside] + j]
        covered = np.arange(parts.shape[1])[None, :] < span[:, None]
        complete = (np.isfinite(parts) | ~covered).all(1)
        total = panel.combined[rows, cols]
        summed = np.nansum(parts, axis=1)
        cand = complete & np.isfinite(total)
        return self._emit(
            panel,
            rows[cand],
            cols[cand],
            (cols + span - 1)[cand],
            total[cand],
            summed[cand],
            parts[cand],
            "combined",
            span[cand],
        )

    # -- (b) details against totals -----------------------------------------------------------
    def _totals(self, panel: Panel) -> list[pd.DataFrame]:
        keys = panel.keys.astype(str)
        chapter = keys["commodity"].str.match(_CHAPTER.pattern)
        partner = keys["partner"].isin(_countries())
        by_commodity = [c for c in keys.columns if c != "commodity"]
        by_partner = [c for c in keys.columns if c != "partner"]
        return [
            self._group_check(
                panel, keys, by_commodity, keys["commodity"] == "TOTAL", chapter, "commodity"
            ),
            self._group_check(
                panel, keys, by_partner, keys["partner"] == WORLD, partner, "partner"
            ),
        ]

    def _group_check(self, panel, keys, group_cols, is_total, is_detail, level) -> pd.DataFrame:
        if not (is_total.any() and is_detail.any()):
            return no_detections()
        gid = keys.groupby(group_cols, sort=False, dropna=False).ngroup().to_numpy()
        detail_rows = np.flatnonzero(is_detail.to_numpy())
        sums = pd.DataFrame(panel.values[detail_rows]).groupby(gid[detail_rows]).sum(min_count=1)
        counts = (
            pd.DataFrame(np.isfinite(panel.values[detail_rows])).groupby(gid[detail_rows]).sum()
        )
        total_rows = np.flatnonzero(is_total.to_numpy())
        total_rows = total_rows[np.isin(gid[total_rows], sums.index)]
        if not total_rows.size:
            return no_detections()
        detail_sum = sums.loc[gid[total_rows]].to_numpy(dtype=float)
        n_details = counts.loc[gid[total_rows]].to_numpy()
        total = panel.values[total_rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = detail_sum / total
        usual, months = _usual_ratio(ratio)
        complete = (np.abs(usual - 1.0) <= self.tolerance) & (months >= self.min_months)
        tol = self.tolerance * total
        over = detail_sum > total + tol
        under = complete[:, None] & (detail_sum < total - tol)
        r, t = np.nonzero((over | under) & np.isfinite(ratio))
        rows = total_rows[r]
        extra = {"level": level, "details": n_details[r, t], "usual_ratio": usual[r]}
        extra.update(self._other_months(total, detail_sum, r, t))
        return self._emit(
            panel, rows, t, t, total[r, t], detail_sum[r, t], None, level, None, extra
        )

    def _other_months(
        self, total: np.ndarray, detail_sum: np.ndarray, r: np.ndarray, t: np.ndarray
    ) -> dict[str, np.ndarray]:
        """How the details compare with the total in each flagged cell's other months: how
        many hold both figures, and in how many the details match the total within the
        tolerance, fall short of it or exceed it (the flagged cell's own month left out)."""
        both = np.isfinite(total) & np.isfinite(detail_sum)
        with np.errstate(invalid="ignore"):
            gap = np.where(both, detail_sum - total, 0.0)
            allowed = self.tolerance * np.abs(total)
        cells = {
            "other_months": both,
            "other_matching": both & (np.abs(gap) <= allowed),
            "other_short": both & (gap < -allowed),
            "other_over": both & (gap > allowed),
        }
        return {name: c.sum(1)[r] - c[r, t] for name, c in cells.items()}

    # -- shared ----------------------------------------------------------------------------
    def _emit(self, panel, rows, start, end, total, summed, parts, check, span, extra=None):
        if not len(rows):
            return no_detections()
        unit = _rounding_unit(total, summed if parts is None else parts)
        n_terms = 2 if parts is None else np.isfinite(parts).sum(1) + 1
        allowed = np.maximum(self.tolerance * np.abs(total), unit * n_terms / 2)
        gap = np.abs(total - summed)
        keep = gap > allowed
        if not keep.any():
            return no_detections()
        idx = np.flatnonzero(keep)
        multiple = gap[idx] / np.maximum(self.tolerance * np.abs(total[idx]), 1e-300)
        evidence = []
        for j in idx.tolist():
            ev = {
                "check": check,
                "total": float(total[j]),
                "sum_of_parts": float(summed[j]),
                "difference": float(total[j] - summed[j]),
                "relative": float((total[j] - summed[j]) / total[j]) if total[j] else None,
                "tolerance": self.tolerance,
                "rounding_unit": float(unit[j]),
            }
            if parts is not None:
                ev["parts"] = [float(x) for x in parts[j] if np.isfinite(x)]
                ev["months"] = [panel.label(int(start[j]) + m) for m in range(int(span[j]))]
            if extra is not None:
                ev["details"] = int(extra["details"][j])
                ev["usual_ratio"] = (
                    float(extra["usual_ratio"][j]) if np.isfinite(extra["usual_ratio"][j]) else None
                )
                for name in ("other_months", "other_matching", "other_short", "other_over"):
                    ev[name] = int(extra[name][j])
            evidence.append(ev)
        return detections(
            self.kind,
            rows[idx],
            start[idx],
            end[idx],
            observed=total[idx],
            expected=summed[idx],
            impact=gap[idx],
            score=confidence(4.0 * multiple, 4.0),
            evidence=evidence,
        )

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or ""
        total, parts = money_pair(ev.get("total"), ev.get("sum_of_parts"), cur)
        freq = finding_freq(finding)
        if ev.get("check") == "combined":
            months = ev.get("months") or []
            names = " and ".join(period_name(m, freq) for m in months)
            singles = " + ".join(money(x, cur) for x in ev.get("parts", []))
            apart = _apart(ev, "apart", "the combined figure")
            return (
                f"The combined figure for {names} is {total}, but the single months published "
                f"for them sum to {parts} ({singles}){apart}. One of the releases "
                "was revised or one of the figures is wrong."
            )
        commodity = ev.get("check") == "commodity"
        what = "its HS chapters" if commodity else "the individual partners"
        more = "more" if (ev.get("sum_of_parts") or 0) > (ev.get("total") or 0) else "less"
        n = int(ev.get("details") or 0)
        details = (
            f"the {n} figures for {what} sum to" if n != 1 else f"the one figure for {what} is"
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


def _shortfall_reading(ev: Mapping, unit: str, kind: str) -> str:
    """Why details may fall short of their total. One short month in a set that otherwise
    adds up is a figure missing or a total not updated; a shortfall that recurs (in this
    and at least two other months) is more likely a detail set that is not whole in the
    store (a source listing only some partners, such as Comext files holding the EU
    partners and China) than one wrong figure each time."""
    short = int(ev.get("other_short") or 0) + 1
    if short < 3:
        return " A figure missing among the details, or a total not updated."
    months = plural(int(ev.get("other_months") or 0) + 1, unit)
    return (
        f" The details fall short in {short} of the {months}: more likely some of the "
        f"total's {kind}s are not in the store (a source listing only some of them) than "
        "one figure is wrong. Otherwise a figure is missing among the details, or the total "
        "was not updated."
    )


def _other_months_text(ev: Mapping, unit: str) -> str:
    """' Of the other 34 months with a total and details, the details match the total
    (within 2%) in 23 and fall short of it in 11.' (nothing for findings saved without the
    counts)."""
    others = ev.get("other_months")
    if not others:
        return ""
    tol = percent((ev.get("tolerance") or 0.02) * 100, digits=0)
    counts = [
        f"match the total (within {tol}) in {_count(ev.get('other_matching'))}",
        *(
            f"{verb} in {_count(ev.get(key))}"
            for verb, key in (("fall short of it", "other_short"), ("exceed it", "other_over"))
            if ev.get(key)
        ),
    ]
    said = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " and " + counts[-1]
    return (
        f" Of the other {plural(int(others), unit)} with a total and details, the details {said}."
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


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """ISO 3166 alpha-3 codes of countries (aggregates such as WLD or EU are not details)."""
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.countries)


def _usual_ratio(ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of the finite ratios per row and their count."""
    finite = np.isfinite(ratio)
    months = finite.sum(1)
    s = np.sort(np.where(finite, ratio, np.nan), axis=1)
    lo = np.maximum((months - 1) // 2, 0)
    hi = np.maximum(months // 2, 0)
    r = np.arange(len(ratio))
    med = 0.5 * (s[r, np.minimum(lo, s.shape[1] - 1)] + s[r, np.minimum(hi, s.shape[1] - 1)])
    return np.where(months > 0, med, np.nan), months


def _rounding_unit(total: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Largest power of ten (up to 10^9) that divides every nonzero figure of each check.

    A figure below the step is no multiple of it (300 is not a number of billions): only
    its floating-point error may be forgiven, not the figure itself.
    """
    figures = np.column_stack([total, parts.reshape(len(total), -1)])
    unit = np.zeros(len(total))
    for power in range(10):  # ten powers of ten
        step = 10.0**power
        with np.errstate(invalid="ignore"):
            rem = np.abs(np.round(figures / step) * step - figures)
            multiple = (np.abs(figures) >= step) & (rem <= 1e-6 * step)
        divides = np.where(np.isfinite(figures) & (figures != 0), multiple, True)
        unit = np.where(divides.all(1) & np.isfinite(figures).any(1), step, unit)
    return unit
