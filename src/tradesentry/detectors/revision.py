"""revision: a later release changed an earlier figure, or filled a month it had left out."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.detectors.base import (
    MONEY_NEEDS,
    Detector,
    confidence,
    detections,
    material_score,
    no_detections,
)
from tradesentry.detectors.cross import (
    as_int,
    context_array,
    iso_day,
    row_median,
    run_max,
    run_sum,
    runs,
)
from tradesentry.detectors.evidence import finding_freq
from tradesentry.panel import COMBINED_PREFIX, Panel
from tradesentry.revisions import MIN_CHANGE, TOLERANCE
from tradesentry.text import (
    money,
    money_pair,
    period_name,
    period_unit,
    plural,
    relative_change,
)

CHANGED, APPEARED = 1, 2


@dataclass(frozen=True)
class Revision(Detector):
    """Each figure of the current view is compared with the same cell in the last earlier
    release that gave it another figure (release order: publication date, then ingestion;
    ``context.previous_sql``), and a revision names the first release that gave the
    current figure: a re-issue that repeats it undoes no revision (a month filled in, and
    a combined figure split, are told against the release just before, and a re-issue
    still resolves them). A cell is
    revised when it moved by more than ``tolerance`` (relative) *and* more than
    ``min_change`` (in currency units): both, so that rounding of small figures and tiny
    relative moves of large ones stay quiet. A cell *appeared* when the earlier release
    reported the series in the months on both sides of it but not that month, and the
    later one does; what the panel cannot see (months an earlier release never covered) is
    not claimed. Contiguous cells revised by the same release are one finding; a combined
    figure (China's January–February) is compared with the same combined figure, one
    finding over the months it covers. Months that appeared where an earlier release gave
    one combined figure for exactly them, each given, are that figure split: their sum is
    compared with it on the same two bars (a split that keeps the total is more detail, not
    a revision; one that moves it revised it), told as a split, its money at stake the
    sum's change (it was "$2.1M for January 2020 to February 2020, a month for which
    release 1 gave no figure", all of it at stake, where release 1 had given $2.0M for the
    two); months that appeared inside such a figure without completing it are more detail
    too, no finding. The score
    grows with the relative change (0.5 at the tolerance, 0.84 at ten times it), capped
    by the money the revision moved as every detector's (``base.material_score``: less
    than 2,000, in US dollars where the store has the rate, scores at most its size /
    2,000, so that €1,001 doubled is not high). Why: revisions are facts, not estimates;
    what matters is their size against the figure, and then their money.
    """

    kind: ClassVar[str] = "revision"
    needs: ClassVar[tuple[str, ...]] = ("previous", *MONEY_NEEDS)  # the money cap in dollars
    #: runs up to this many months are told month by month, longer ones summarised
    listed_months: ClassVar[int] = 3

    tolerance: float = TOLERANCE  # the one bar ``api.revisions`` and ``releases diff`` use
    min_change: float = MIN_CHANGE

    def detect(self, panel: Panel) -> pd.DataFrame:
        parts = [self._months(panel), self._combined(panel)]
        parts = [p for p in parts if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else no_detections()

    def _changed(self, value: np.ndarray, prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cells moved beyond both tolerances, and their relative change."""
        change = value - prev
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(change) / np.abs(prev)
        changed = (
            np.isfinite(change) & (np.abs(change) > self.min_change) & ~(rel <= self.tolerance)
        )
        return changed, rel

    def _combined(self, panel: Panel) -> pd.DataFrame:
        """Revised combined figures (China's January–February): each one finding over the
        months it covers, compared with the same combined figure in the release before."""
        get = {name: context_array(panel, COMBINED_PREFIX + name) for name in _COMBINED_CONTEXT}
        if any(a is None for a in get.values()):
            return no_detections()
        value, prev = panel.combined, get["previous_value"]
        changed, rel = self._changed(value, prev)
        rows, cols = np.nonzero(changed)
        if not rows.size:
            return no_detections()
        moved = value[rows, cols] - prev[rows, cols]
        score = confidence(np.log(np.maximum(rel[rows, cols], 1e-12) / self.tolerance), 0.0)
        span = panel.combined_span[rows, cols].astype(np.int64)
        ends = np.minimum(cols + span - 1, panel.n_months - 1)
        labels = panel.label(np.arange(panel.n_months))
        evidence = [
            _combined_evidence(get, value, labels, r, t, int(n))
            for r, t, n in zip(rows, cols, span, strict=True)
        ]
        return detections(
            self.kind,
            rows,
            cols,
            ends,
            observed=value[rows, cols],
            expected=prev[rows, cols],
            impact=moved,
            score=material_score(panel, rows, cols, score, moved),
            evidence=evidence,
        )

    def _months(self, panel: Panel) -> pd.DataFrame:
        prev = context_array(panel, "previous_value")
        release = context_array(panel, "release")
        prev_release = context_array(panel, "previous_release")
        if prev is None or release is None or prev_release is None:
            return no_detections()
        if not np.isfinite(prev_release).any():  # no earlier release of any cell
            return no_detections()
        value = panel.values
        change = value - prev
        changed, rel = self._changed(value, prev)
        # a month filled in is told against the release its neighbours had just before
        # (``previous_row_release``); a revision names the first release that gave the
        # current figure (``revised_by``: a re-issue since repeats it)
        row_before = _or(context_array(panel, "previous_row_release"), prev_release)
        appeared, left_prev = _appeared(value, prev, release, row_before)
        # the earlier release listed the cell without a value (its row is there, its figure
        # is not): a figure disclosed, not a month it left out, whatever the later release
        # holds around it (a release may give that month alone); it names its own release
        listed = np.isfinite(value) & ~np.isfinite(prev) & np.isfinite(prev_release)
        appeared |= listed
        prev_release = np.where(appeared & ~listed, left_prev, prev_release)
        kind = np.where(changed, CHANGED, np.where(appeared, APPEARED, 0))
        flagged = kind > 0
        if not flagged.any():
            return no_detections()
        release = np.where(changed, _or(context_array(panel, "revised_by"), release), release)
        code = _code(release, prev_release, kind)
        rows, starts, ends = runs(flagged, np.isfinite(value), code)
        typical = row_median(np.where(np.isfinite(value), np.abs(value), np.nan))
        with np.errstate(divide="ignore", invalid="ignore"):
            size = np.where(appeared, np.abs(value) / typical[:, None], rel)
        size = np.where(flagged, np.minimum(np.nan_to_num(size, nan=1e6, posinf=1e6), 1e6), 0.0)
        observed = run_sum(np.where(flagged, value, 0.0), rows, starts, ends)
        before = run_sum(np.where(changed, prev, 0.0), rows, starts, ends)
        run_kind = kind[rows, starts]
        expected = np.where(run_kind == CHANGED, before, np.nan)
        moved = np.where(np.isfinite(change), np.abs(change), np.abs(value))
        impact = run_sum(np.where(flagged, moved, 0.0), rows, starts, ends)
        z = np.log(np.maximum(run_max(size, rows, starts, ends), 1e-12) / self.tolerance)
        # appeared months inside an earlier release's combined figure: its split, read
        # against it, where they are all of its months; else more detail, no revision
        first, whole, whole_release = _earlier_combined(panel, rows, starts, ends)
        inside = (run_kind == APPEARED) & (first >= 0)
        whole = np.where(inside, whole, np.nan)  # a revised month inside one splits nothing
        if inside.any():
            months = ends - starts + 1
            given = run_sum(np.isfinite(value).astype(float), rows, starts, ends)
            span = panel.combined_span[rows, np.maximum(first, 0)]
            split = inside & (first == starts) & (span == months) & (given == months)
            whole = np.where(split, whole, np.nan)
            moved_whole, rel_whole = self._changed(observed, whole)
            expected = np.where(split, whole, expected)
            impact = np.where(split, np.abs(observed - whole), impact)
            z = np.where(split, np.log(np.maximum(rel_whole, 1e-12) / self.tolerance), z)
            keep = ~inside | (split & moved_whole)
            rows, starts, ends, run_kind = rows[keep], starts[keep], ends[keep], run_kind[keep]
            observed, expected, impact, z = observed[keep], expected[keep], impact[keep], z[keep]
            whole, whole_release = whole[keep], whole_release[keep]
            if not rows.size:
                return no_detections()
        arrays = {"value": value, "prev": prev, "release": release, "prev_release": prev_release}
        arrays["listed"] = listed
        prev_published = context_array(panel, "previous_published")
        if prev_published is not None:  # an appeared cell's earlier release, as named above
            known = np.isfinite(prev) & np.isfinite(release)
            left = _fill(known, prev_published, forward=True)
            prev_published = np.where(appeared & ~listed, left, prev_published)
        arrays |= {
            "published": context_array(panel, "release_published"),
            "prev_published": prev_published,
            "withheld_between": context_array(panel, "previous_withheld"),
        }
        labels = panel.label(np.arange(panel.n_months))
        evidence = [
            _evidence(arrays, labels, r, a, b, k)
            for r, a, b, k in zip(rows, starts, ends, run_kind, strict=True)
        ]
        for k in np.flatnonzero(np.isfinite(whole)):
            evidence[k]["split_of"] = {
                "value": float(whole[k]),
                "release": as_int(whole_release[k]),
                "months": int(ends[k] - starts[k] + 1),
            }
        return detections(
            self.kind,
            rows,
            starts,
            ends,
            observed=observed,
            expected=expected,
            impact=impact,
            score=material_score(panel, rows, starts, confidence(z, 0.0), impact),
            evidence=evidence,
        )

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or "USD"
        new = _release_text(ev.get("release"), ev.get("release_published")).capitalize()
        old = _release_text(ev.get("previous_release"), ev.get("previous_published"))
        freq = finding_freq(finding)
        unit = period_unit(freq)
        if ev.get("change") == "appeared" and ev.get("withheld_before"):
            return (
                f"{new} reports {money(finding.get('observed'), cur)} for {_span(finding)}, "
                f"which {old} listed without a value (confidential, or not yet available)."
            )
        if ev.get("split_of"):
            return _split_text(finding, ev, new, cur)
        if ev.get("change") == "appeared":
            return (
                f"{new} reports {money(finding.get('observed'), cur)} for {_span(finding)}, "
                # the panel cannot tell a month left out from one listed without a value
                # (confidential): both are "no figure"
                f"a {unit} for which {old} gave no figure although it reported the {unit}s "
                "around it."
            )
        months = [m for m in ev.get("months") or [] if m.get("previous") is not None]
        if ev.get("combined") and months:
            return (
                f"{new} revised the combined figure for {_combined_name(months[0])} from "
                f"{_change_text(months[0], cur)}, against {old}."
            )
        between = ev.get("withheld_between")  # the release before the new one withheld it
        several = len(months) > 1 or finding.get("period") != finding.get("period_end")
        them = "them" if several else "it"
        withheld = f"; release {between} had listed {them} without a value" if between else ""
        if len(months) == 1:
            return f"{new} revised {_month_change(months[0], cur, freq)}, against {old}{withheld}."
        # evidence saved without its months can only be told by its net change
        what = _months_change(months, cur, self.listed_months, freq) if months else _span(finding)
        return (
            f"{new} revised {what}, against {old}: a net change from {_net(finding, cur)}"
            f"{_gross(finding, cur)}{withheld}."
        )


def _earlier_combined(
    panel: Panel, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run of cells: the first month of the combined figure of an earlier release than
    the run's own that holds all its months (-1 where none; a combined figure covers at
    most 12 months, as many offsets are tried), its value and its release (NaN where none)."""
    first = np.full(len(rows), -1)
    none = np.full(len(rows), np.nan)
    whole_release = context_array(panel, COMBINED_PREFIX + "release")
    release = context_array(panel, "release")
    if whole_release is None or release is None or not len(rows):
        return first, none, none
    for back in range(12):
        at = np.maximum(starts - back, 0)
        span = panel.combined_span[rows, at].astype(np.int64)
        ok = (first < 0) & (starts - back >= 0) & (span > back) & (at + span - 1 >= ends)
        ok &= whole_release[rows, at] < release[rows, starts]
        first = np.where(ok, at, first)
    held = first >= 0
    at = np.maximum(first, 0)
    return (
        first,
        np.where(held, panel.combined[rows, at], np.nan),
        np.where(held, whole_release[rows, at], np.nan),
    )


def _split_text(finding: Mapping, ev: Mapping, new: str, cur: str) -> str:
    """ "Release 2 (…) splits the combined figure release 1 gave for January–February 2020,
    $2.0M, into January 2020 $1.0M and February 2020 $1.1M: together $2.1M (+5.0%)." """
    whole = ev["split_of"]
    months = ev.get("months") or []
    name = _combined_name({"period": finding["period"], "months": whole.get("months")})
    parts = [f"{period_name(m['period'])} {money(m['current'], cur)}" for m in months]
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)
    total, before = money_pair(finding.get("observed"), whole.get("value"), cur)
    return (
        f"{new} splits the combined figure release {whole.get('release')} gave for {name}, "
        f"{before}, into {listed}: together {total}"
        f"{_bracketed(_pct(finding.get('observed'), whole.get('value')))}, so the split "
        "revised the total too."
    )


def _appeared(
    value: np.ndarray, prev: np.ndarray, release: np.ndarray, prev_release: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cells new in their release although the earlier release reported both neighbours.

    Returns the mask and, per cell, the earlier release seen on the left (to name it).
    """
    known = np.isfinite(prev) & np.isfinite(release)
    left_rel, left_prev = _fill(known, release, forward=True), _fill(known, prev_release, True)
    right_rel, right_prev = _fill(known, release, False), _fill(known, prev_release, False)
    appeared = (
        np.isfinite(value)
        & ~np.isfinite(prev)
        & (left_rel == release)
        & (right_rel == release)
        & (left_prev == right_prev)
    )
    return appeared, left_prev


def _or(given: np.ndarray | None, otherwise: np.ndarray) -> np.ndarray:
    """A context array where the panel has it and it holds a figure, else ``otherwise``
    (a store scanned with a context of an earlier version lacks the newer columns)."""
    if given is None:
        return otherwise
    return np.where(np.isfinite(given), given, otherwise)


def _fill(mask: np.ndarray, values: np.ndarray, forward: bool) -> np.ndarray:
    """Strictly-before (forward) or strictly-after values of ``values`` where ``mask``."""
    n, t = mask.shape
    if not forward:
        return _fill(mask[:, ::-1], values[:, ::-1], True)[:, ::-1]
    cols = np.where(mask, np.arange(t), -1)
    last = np.maximum.accumulate(cols, axis=1)
    last = np.concatenate([np.full((n, 1), -1), last[:, :-1]], axis=1)
    got = values[np.arange(n)[:, None], np.maximum(last, 0)]
    return np.where(last >= 0, got, np.nan)


def _code(release: np.ndarray, prev_release: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """One integer per (release, previous release, kind): runs never mix them."""
    r = np.nan_to_num(release, nan=0).astype(np.int64)
    p = np.nan_to_num(prev_release, nan=-1).astype(np.int64) + 1
    return ((r << 24) + p) * 4 + kind


def _evidence(arrays: dict, labels: np.ndarray, r: int, a: int, b: int, kind: int) -> dict:
    cols = np.arange(a, b + 1)
    value, prev = arrays["value"][r, cols], arrays["prev"][r, cols]
    months = [
        {
            "period": str(labels[t]),
            "previous": None if not np.isfinite(p) else float(p),
            "current": float(v),
            "change": None if not np.isfinite(p) else float(v - p),
            "change_share": round(float((v - p) / abs(p)), 6) if np.isfinite(p) and p else None,
        }
        for t, v, p in zip(cols, value, prev, strict=True)
        if np.isfinite(v)  # a month bridged inside the run (no current figure) is no revision
    ]
    published, prev_published = arrays["published"], arrays["prev_published"]
    withheld_before = kind == APPEARED and bool(arrays["listed"][r, cols].any())
    # the release that withheld the figure in between, where it did for every month told
    between = arrays.get("withheld_between")
    if between is not None and kind == CHANGED:
        told = between[r, cols][np.isfinite(value)]
        between = as_int(told[0]) if len(told) and (told == told[0]).all() else None
    else:
        between = None
    return {
        "change": "appeared" if kind == APPEARED else "revised",
        **({"withheld_before": True} if withheld_before else {}),
        **({"withheld_between": between} if between is not None else {}),
        "release": as_int(arrays["release"][r, a]),
        "release_published": None if published is None else iso_day(published[r, a]),
        "previous_release": as_int(arrays["prev_release"][r, a]),
        "previous_published": None if prev_published is None else iso_day(prev_published[r, a]),
        "months": months,
    }


def _release_text(release_id, published) -> str:
    if release_id is None:
        return "a later release"
    return f"release {release_id}" + (f" (published {published})" if published else "")


def _pct(observed, expected) -> str:
    """'+7.1%', '-99.97%', '5,001 times as much' (``text.relative_change``); '' from
    nothing (it read "from $0 to $1.8M (new)", as if the month were new)."""
    if observed is None or expected is None or not math.isfinite(expected):
        return "new"
    if not expected:
        return ""
    return relative_change(observed, expected)


def _bracketed(words: str) -> str:
    """' (+7.1%)', or '' for no words."""
    return f" ({words})" if words else ""


def _month_change(month: Mapping, cur: str, freq: str = "M") -> str:
    """'October 2020 from $1.4M to $1.5M (+7.1%)' ('2016 from …' in an annual series)."""
    return f"{period_name(month['period'], freq)} from {_change_text(month, cur)}"


def _change_text(month: Mapping, cur: str) -> str:
    """'$1.4M to $1.5M (+7.1%)'."""
    before, after = money_pair(month["previous"], month["current"], cur)
    return f"{before} to {after}{_bracketed(_pct(month['current'], month['previous']))}"


def _combined_name(month: Mapping) -> str:
    """'January–February 2020' for a figure covering two months from January 2020."""
    first = pd.Period(month["period"], "M")
    last = first + max(int(month.get("months") or 1), 1) - 1
    if first.year == last.year:
        return f"{first.strftime('%B')}–{last.strftime('%B %Y')}"
    return f"{first.strftime('%B %Y')}–{last.strftime('%B %Y')}"


# the context the combined figures carry for this check (``panel.COMBINED_PREFIX`` + name)
_COMBINED_CONTEXT = (
    "previous_value",
    "release",
    "previous_release",
    "release_published",
    "previous_published",
)


def _combined_evidence(
    get: dict, value: np.ndarray, labels: np.ndarray, r: int, t: int, months: int
) -> dict:
    """The evidence of one revised combined figure, shaped as a run of one month's."""
    v, p = float(value[r, t]), float(get["previous_value"][r, t])
    return {
        "change": "revised",
        "combined": True,
        "release": as_int(get["release"][r, t]),
        "release_published": iso_day(get["release_published"][r, t]),
        "previous_release": as_int(get["previous_release"][r, t]),
        "previous_published": iso_day(get["previous_published"][r, t]),
        "months": [
            {
                "period": str(labels[t]),
                "months": months,
                "previous": p,
                "current": v,
                "change": v - p,
                "change_share": round((v - p) / abs(p), 6) if p else None,
            }
        ],
    }


def _months_change(months: list[Mapping], cur: str, listed: int, freq: str = "M") -> str:
    """Each month of a short run, or a count of ups and downs and the largest change of a
    long one: a net figure alone hides revisions in opposite directions."""
    if len(months) <= listed:
        texts = [_month_change(m, cur, freq) for m in months]
        return ", ".join(texts[:-1]) + f" and {texts[-1]}"
    up = sum(m["change"] > 0 for m in months)
    down = sum(m["change"] < 0 for m in months)
    largest = max(months, key=lambda m: abs(m["change"]))
    first = period_name(months[0]["period"], freq)
    last = period_name(months[-1]["period"], freq)
    return (
        f"{plural(len(months), period_unit(freq))} from {first} to {last}, {up} up and {down} "
        f"down, the largest {_month_change(largest, cur, freq)}"
    )


def _gross(finding: Mapping, cur: str) -> str:
    """', while $450.0M changed in all' where revisions the other way offset part of the
    net change; nothing where every month moved the same way (the gross is then the net,
    and the clause read as a contrast that was none)."""
    impact, observed, expected = (finding.get(k) for k in ("impact", "observed", "expected"))
    try:
        net = abs(float(observed) - float(expected))
        same_way = abs(net - float(impact)) <= 0.005 * float(impact)
    except (TypeError, ValueError):
        same_way = False
    return "" if same_way else f", while {money(impact, cur)} changed in all"


def _net(finding: Mapping, cur: str) -> str:
    """'$2.52M to $2.50M (-1.0%)', the run's totals before and after."""
    observed, expected = finding.get("observed"), finding.get("expected")
    before, after = money_pair(expected, observed, cur)
    return f"{before} to {after}{_bracketed(_pct(observed, expected))}"


def _span(finding: Mapping) -> str:
    start, end, freq = finding.get("period"), finding.get("period_end"), finding_freq(finding)
    if start == end:
        return period_name(start, freq)
    return f"{period_name(start, freq)} to {period_name(end, freq)}"
