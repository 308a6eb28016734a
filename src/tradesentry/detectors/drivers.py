"""Where a change of an aggregate is: its details' parts of it (the drivers).

A finding on an aggregate series (partner ``WLD``, or commodity ``TOTAL`` or an HS
chapter) says the total moved; the reader's next question is where. The panel holds the
details beside it (the engines keep a reporter's partners, and a partner's total and
chapters, in one chunk), so each detail's part of the change is read from the same model:

- a month (``spike``, ``dip``, ``implausible``): each detail's figure that month against
  the model's expected value of it (``baseline``), as the aggregate's own finding reads;
- a change of level (``level_shift``): each detail's median over the months each of the
  aggregate's two levels is the median of.

A detail's share is its change over the aggregate's (observed − expected, or new level −
old level). The details named are those holding at least ``MIN_SHARE`` of it, the largest
first, at most ``MAX_NAMED``. A month a detail has no figure in, where the aggregate has
one, counts as nothing recorded (a partner with no row traded nothing the total holds).
Nothing is said where the details the chunk holds are not most of the aggregate (their
sum in a usual month under ``MIN_COVERAGE`` of it: a source listing a few partners, or a
group too large for one chunk), nor where they are in another currency. Details: an
aggregate's partners are the ISO 3166 countries beside ``WLD``; a ``TOTAL``'s are the HS
chapters (any edition or CN) of the same partner; a chapter's are the codes under it at the
first level the store holds (HS4, HS6 or CN8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradesentry.context import country_codes
from tradesentry.detectors.baseline import baseline
from tradesentry.panel import Panel
from tradesentry.schema import WORLD, hs_family
from tradesentry.text import joined, money, percent, plural, ratio

#: the kinds whose findings on an aggregate are read down to its details
KINDS: tuple[str, ...] = ("implausible", "spike", "dip", "level_shift")
#: a detail is named where it holds at least this share of the aggregate's change
MIN_SHARE = 0.1
MAX_NAMED = 3
#: no more details are named once those named hold this share of the change
ENOUGH = 0.9
#: the details must hold at least this share of the aggregate in a usual month
MIN_COVERAGE = 0.5

_CHAPTER = re.compile(r"\d{2}")


def attach(panel: Panel, det: pd.DataFrame) -> pd.DataFrame:
    """``det`` (detections of ``panel``) with ``evidence["drivers"]`` on the findings of
    ``KINDS`` on aggregate series whose details the panel holds."""
    if det.empty:
        return det
    aggregate = _aggregates(panel)
    wanted = det["kind"].isin(KINDS).to_numpy() & aggregate[det["series"].to_numpy()]
    if not wanted.any():
        return det
    details = _Details(panel)
    expected = baseline(panel).expected
    flagged = _flagged(det)
    evidence = det["evidence"].to_numpy().copy()
    for k in np.flatnonzero(wanted).tolist():
        row = det.iloc[k]
        found = [
            reading
            for by, rows in details.of(int(row["series"]))
            if (reading := _reading(panel, expected, row, by, rows, flagged)) is not None
        ]
        if found:
            evidence[k] = {**(evidence[k] or {}), "drivers": found}
    return det.assign(evidence=evidence)


def _aggregates(panel: Panel) -> np.ndarray:
    keys = panel.keys
    commodity = keys["commodity"].astype(str)
    return (
        (keys["partner"].astype(str) == WORLD)
        | (commodity == "TOTAL")
        | commodity.str.fullmatch(_CHAPTER.pattern)
    ).to_numpy()


class _Details:
    """The detail series of each aggregate series of a panel, by dimension."""

    def __init__(self, panel: Panel) -> None:
        keys = panel.keys.astype(str).reset_index(drop=True)
        self.keys = keys.assign(family=hs_family(keys["classification"]))
        self.countries = keys["partner"].isin(country_codes()).to_numpy()
        self.length = keys["commodity"].str.len().to_numpy()
        self.digits = keys["commodity"].str.fullmatch(r"\d+").to_numpy()

    def of(self, i: int) -> list[tuple[str, np.ndarray]]:
        """``[(dimension, rows)]``: the details of series ``i`` by partner and by product."""
        me = self.keys.iloc[i]
        out = []
        if me["partner"] == WORLD:
            same = self._same(me, ("reporter", "flow", "classification", "commodity"))
            out.append(("partner", np.flatnonzero(same & self.countries)))
        code = me["commodity"]
        if code == "TOTAL" or _CHAPTER.fullmatch(code):
            same = self._same(me, ("reporter", "partner", "flow", "family")) & self.digits
            if code == "TOTAL":
                under = same & (self.length == 2)
            else:
                under = same & self.keys["commodity"].str.startswith(code).to_numpy()
                under &= self.length > 2
                if under.any():  # the first level the store holds under the chapter
                    under &= self.length == self.length[under].min()
            out.append(("commodity", np.flatnonzero(under)))
        return [(by, rows) for by, rows in out if rows.size]

    def _same(self, me: pd.Series, columns: tuple[str, ...]) -> np.ndarray:
        same = np.ones(len(self.keys), dtype=bool)
        for name in (*columns, "breakdown", "currency"):
            same &= (self.keys[name] == me[name]).to_numpy()
        return same


def _flagged(det: pd.DataFrame) -> dict[int, list[tuple[int, int, str]]]:
    """Each series' findings as (start, end, kind)."""
    out: dict[int, list[tuple[int, int, str]]] = {}
    for s, a, b, kind in det[["series", "start", "end", "kind"]].itertuples(index=False):
        out.setdefault(int(s), []).append((int(a), int(b), str(kind)))
    return out


def _reading(panel, expected, row, by: str, rows: np.ndarray, flagged) -> dict | None:
    """The details' parts of one finding's change, or None where the details do not hold
    most of the aggregate or the change cannot be read from them."""
    i, t0, t1 = int(row["series"]), int(row["start"]), int(row["end"])
    v = panel.values
    if _coverage(v[i], v[rows]) < MIN_COVERAGE:
        return None
    # a withheld figure (confidential) is unknown, not nothing recorded
    details = np.where(panel.withheld()[rows], np.inf, np.nan_to_num(v[rows], nan=0.0))
    change = float(row["observed"]) - float(row["expected"])  # for a level: new − old
    if row["kind"] == "level_shift":
        windows = _level_windows(panel, row["evidence"] or {}, t0)
        if windows is None:
            return None
        before, after = windows
        figure = _window_medians(v[i], details, after)
        against = _window_medians(v[i], details, before)
    else:
        figure = np.where(np.isinf(details[:, t0]), np.nan, details[:, t0])
        usual = _trading(v[i], v[rows], t0) >= 0.5  # else its usual month is no trade
        against = np.where(usual, np.nan_to_num(expected[rows, t0], nan=0.0), 0.0)
    if not np.isfinite(change) or change == 0:
        return None
    share = (figure - against) / change
    known = np.isfinite(share)
    named = _named(np.where(known, share, -np.inf))
    codes = panel.keys[by].astype(str).to_numpy()[rows]
    return {
        "by": by,
        "change": round(change, 2),
        "details": int(rows.size),
        "explained": round(float(share[known].sum()), 4),
        **({"withheld": int((~known).sum())} if not known.all() else {}),
        "named": [
            {
                "code": str(codes[j]),
                "figure": round(float(figure[j]), 2),
                "against": round(float(against[j]), 2),
                "share": round(float(share[j]), 4),
                **({"flagged": kind} if (kind := _kind_at(flagged, rows[j], t0, t1)) else {}),
            }
            for j in named
        ],
    }


def _named(share: np.ndarray) -> list[int]:
    """The details to name, largest share first: each with at least ``MIN_SHARE``, at most
    ``MAX_NAMED``, and no more once those named hold ``ENOUGH`` of the change."""
    named, held = [], 0.0
    for j in np.argsort(-share, kind="stable")[:MAX_NAMED].tolist():
        if share[j] < MIN_SHARE or held >= ENOUGH:
            break
        named.append(j)
        held += float(share[j])
    return named


#: months either side of a month in which a detail's habit of trading is counted
AROUND = 6


def _trading(total: np.ndarray, details: np.ndarray, t: int) -> np.ndarray:
    """Each detail's share of the months around ``t`` (±``AROUND``, ``t`` left out) with
    trade, of those the aggregate has a figure in. The model expects a series' level when
    it trades; a detail that trades in fewer than half of the months around is expected
    to hold nothing in a month (its median month), so that a partner that traded once is
    no part of a shortfall."""
    cols = np.arange(max(t - AROUND, 0), min(t + AROUND + 1, total.size))
    cols = cols[(cols != t) & np.isfinite(total[cols])]
    if not cols.size:
        return np.ones(details.shape[0])
    return (details[:, cols] > 0).mean(axis=1)


def _coverage(total: np.ndarray, details: np.ndarray) -> float:
    """The details' sum as a share of the aggregate in a usual month (the median over the
    months the aggregate has trade)."""
    traded = np.isfinite(total) & (total > 0)
    if not traded.any():
        return 0.0
    summed = np.nansum(details[:, traded], axis=0)
    return float(np.median(summed / total[traded]))


def _level_windows(panel: Panel, ev: Mapping, start: int) -> tuple[np.ndarray, ...] | None:
    """The columns each of a level shift's two levels is the median of (the new level's
    from the shift's first month ``start``)."""
    labels = list(panel.label(np.arange(panel.n_months)))
    try:
        a, b = labels.index(ev["before_from"]), labels.index(ev["before_to"])
        end = labels.index(ev["after_to"])
    except (KeyError, ValueError):
        return None
    return np.arange(a, b + 1), np.arange(start, end + 1)


def _window_medians(total: np.ndarray, details: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Each detail's median over the months of ``cols`` the aggregate has a figure in
    (``details``: a month without a figure is 0, nothing recorded; a withheld one inf,
    unknown: a detail with one is unknown, NaN)."""
    cols = cols[np.isfinite(total[cols])]
    if not cols.size:
        return np.full(details.shape[0], np.nan)
    window = details[:, cols]
    return np.where(np.isinf(window).any(axis=1), np.nan, np.median(window, axis=1))


def _kind_at(flagged, series: int, t0: int, t1: int) -> str | None:
    """The kind of a finding of ``series`` over any of the months t0..t1."""
    for a, b, kind in flagged.get(int(series), ()):
        if a <= t1 and b >= t0:
            return kind
    return None


def sentence(finding: Mapping) -> str:
    """The drivers in words, one sentence per dimension ('' without them): "By partner,
    most of the shortfall is in POL (€1.2M against €3.4M expected: 64% of it, itself
    flagged as a dip) and CZE (…)." """
    ev = finding.get("evidence") or {}
    cur = finding.get("currency") or ""
    out = []
    for reading in ev.get("drivers") or ():
        out.append(_in_words(reading, finding["kind"], cur))
    return " ".join(out)


def _in_words(reading: Mapping, kind: str, cur: str) -> str:
    by = "partner" if reading["by"] == "partner" else "product"
    level = kind == "level_shift"
    rise = float(reading.get("change") or 0.0) > 0
    what = ("rise" if rise else "fall") if level else ("excess" if rise else "shortfall")
    count = plural(int(reading["details"]), by)
    named = reading.get("named") or []
    held = percent(max(float(reading.get("explained") or 0.0), 0.0) * 100, digits=0)
    withheld = int(reading.get("withheld") or 0)
    unknown = f", {plural(withheld, 'figure')} withheld" if withheld else ""
    if not named and float(reading.get("explained") or 0.0) >= 0.5:
        return (
            f"By {by}, the {what} is spread: the {count} hold {held} of it{unknown}, none a tenth."
        )
    if not named:
        return (
            f"By {by}, the {count} in the store hold {held} of the {what}{unknown}, none a "
            f"tenth: the rest is with {by}s the store does not list."
        )
    parts = [_one(d, by, cur, level, what) for d in named]
    most = sum(d["share"] for d in named) >= 0.5
    lead = "most of the" if most else "the largest parts of the"
    text = f"By {by}, {lead} {what} {'is' if most else 'are'} in {joined(parts)}"
    if float(reading.get("explained") or 0.0) < 0.5 or withheld:
        text += f"; the {count} in the store hold {held} of it{unknown}"
    return text + "."


def _one(d: Mapping, by: str, cur: str, level: bool, what: str) -> str:
    code = d["code"]
    name = f"chapter {code}" if by == "product" and len(code) == 2 else code
    if level:
        figures = f"about {money(d['figure'], cur)} a month against {money(d['against'], cur)}"
    else:
        figures = f"{money(d['figure'], cur)} against {money(d['against'], cur)} expected"
    if d["share"] > 1.05:  # the others moved the other way
        share = f"{ratio(d['share'])} times the {what}"
    else:
        share = f"{percent(d['share'] * 100, digits=0)} of it"
    kind = _FLAGGED.get(d.get("flagged"), "")
    return f"{name} ({figures}: {share}{f', itself flagged as {kind}' if kind else ''})"


#: a detail's own finding, as the sentence names it
_FLAGGED = {
    "implausible": "an implausible value",
    "spike": "a spike",
    "dip": "a dip",
    "timing_shift": "a timing shift",
    "level_shift": "a level shift",
    "gap": "a gap",
    "incoherent": "incoherent",
    "revision": "a revision",
    "mirror_gap": "a mirror gap",
    "unit_value": "a unit-value outlier",
}
