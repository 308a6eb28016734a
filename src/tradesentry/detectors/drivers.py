"""Where a change of an aggregate is: its details' parts of it (the drivers).

A finding on an aggregate series (partner ``WLD``, or commodity ``TOTAL`` or an HS
chapter) says the total moved; the reader's next question is where. The panel holds the
details beside it (the engines keep a reporter's partners, and a partner's total and
chapters, in one chunk), so the change is split among them, and the rest:

- the *parts* are the details and the rest, the aggregate less its details (partners or
  codes the store does not list beside it): they add up to the aggregate in every month,
  a month a detail has no figure in counting as nothing recorded;
- a part's change is its figure against its usual one, each read the same way, so that
  the changes add up too: for a month (``spike``, ``dip``, ``implausible``, and a
  ``unit_value`` whose value is off: its weight's findings change no value), the month
  against the median of the months around it (±``AROUND``, itself left out); for a level
  shift, the median over the months of the new level against the median over those of
  the old one (the aggregate's own windows);
- a part's share is its change over the aggregate's, read the same way.

Models of the parts (their seasons, their levels) do not add up, and a first version that
read each detail against its own model made a chapter "8.2 times the shortfall" of a total
it is part of, and said the rest was "with products the store does not list" of a total
that is the exact sum of its chapters. Medians read no season, so where the aggregate's
change read so is not most of (at least ``AGREE`` of, the same way) the change its finding
reports, the finding rests on its season or its model, and nothing is said. Nor is it
where the details are not most of the aggregate over those months (their sum under
``MIN_COVERAGE`` of it), nor for a single detail that is the whole aggregate. A world
series whose chunk did not hold its partners (a group too large for one chunk, cut
between partners) is read once every chunk is in, from the store
(``completed_from_store``). Named are the parts with at least
``MIN_SHARE`` of the change, largest first, at most ``MAX_NAMED``. A withheld figure
(confidential) is unknown, not nothing: its detail's part and the rest's are unknown in
that month (over a level's window, the other months are read); the text names the
details withheld. Details in another currency than the aggregate's are part of the rest,
and counted. Details: an aggregate's partners are the ISO 3166 countries beside ``WLD``; a
``TOTAL``'s are the HS chapters (any edition or CN) of the same partner; a chapter's are
the codes under it at the first level the store holds (HS4, HS6 or CN8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradesentry.context import country_codes
from tradesentry.detectors.robust import nanmedian
from tradesentry.panel import Panel
from tradesentry.schema import WORLD, hs_family, many_goods_codes
from tradesentry.text import joined, money, percent, period_unit, plural, ratio

#: the kinds whose findings on an aggregate are read down to its details
KINDS: tuple[str, ...] = ("implausible", "spike", "dip", "level_shift", "unit_value")
#: what those detectors ask of the store for it: beside a world row, the sum of every
#: partner the store holds (``context.partners_sql``), to tell a panel that holds them all
#: from one a filter or a chunk's cut left some out of
NEEDS: tuple[str, ...] = ("partners",)
#: a part is named where it holds at least this share of the aggregate's change
MIN_SHARE = 0.1
MAX_NAMED = 3
#: a part whose share is at most minus this moved the other way (medians do not add up
#: exactly: a part of 1.1 times the change needs no other to have moved)
OPPOSITE = 0.05
#: the details must hold at least this share of the aggregate over the months compared:
#: partners (the store's are all read, ``NEEDS``; a source may list some), and the
#: chapters of a total or codes of a chapter, which are all of it where the store holds
#: them all (a filter, or a source listing a few codes, leaves the rest no driver)
MIN_COVERAGE = {"partner": 0.5, "chapter": 0.9, "code": 0.9}
#: the aggregate's change read against medians must be at least this share of its
#: finding's (obs − expected, or new − old level), and of the same sign
AGREE = 0.5
#: months either side of a month that make its usual value
AROUND = 6
#: the kinds of a detail's own finding worth pointing to (events of its values)
_POINTED = {
    "implausible": "an implausible value",
    "spike": "a spike",
    "dip": "a dip",
    "timing_shift": "a timing shift",
    "level_shift": "a level shift",
    "gap": "a gap",
}
REST = "rest"
_CHAPTER = re.compile(r"\d{2}")


def attach(panel: Panel, det: pd.DataFrame) -> pd.DataFrame:
    """``det`` (detections of ``panel``) with ``evidence["drivers"]`` on the findings of
    ``KINDS`` on aggregate series whose details the panel holds."""
    if det.empty:
        return det
    wanted = det["kind"].isin(KINDS).to_numpy() & _aggregates(panel)[det["series"].to_numpy()]
    if not wanted.any():
        return det
    details = _Details(panel)
    flagged = _flagged(det)
    evidence = det["evidence"].to_numpy().copy()
    for k in np.flatnonzero(wanted).tolist():
        row = det.iloc[k]
        found = [
            reading
            for by, rows, other in details.of(int(row["series"]))
            if (reading := _reading(panel, row, by, rows, other, flagged)) is not None
        ]
        if found:
            evidence[k] = {**(evidence[k] or {}), "drivers": found}
    return det.assign(evidence=evidence)


def _aggregates(panel: Panel) -> np.ndarray:
    """Series of many goods (``schema.many_goods_codes``) or with the world: their
    details, where the panel holds them, are what moved."""
    keys = panel.keys
    return (keys["partner"].astype(str) == WORLD).to_numpy() | many_goods_codes(keys["commodity"])


class _Details:
    """The detail series of each aggregate series of a panel, by dimension: the groups are
    made once per panel, so that each finding looks its details up (a chunk of 8,000
    aggregates with thousands of findings compared every series for each)."""

    def __init__(self, panel: Panel) -> None:
        keys = panel.keys.astype(str).reset_index(drop=True)
        code, partner = keys["commodity"], keys["partner"]
        numeric = code.str.fullmatch(r"\d+").to_numpy()
        length = code.str.len().to_numpy()
        family = pd.Series(hs_family(keys["classification"]), index=keys.index)
        # a partner's series under the world series of the same other keys
        flow = ["reporter", "flow", "breakdown"]
        by_partner = _joined(keys, [*flow, "classification", "commodity"])
        self.world = _groups(by_partner, partner.isin(country_codes()).to_numpy())
        # a chapter under its partner's TOTAL; a code under its chapter, at the first
        # level the store holds beneath it (HS4, else HS6 or CN8)
        pair = (_joined(keys, [*flow, "partner"]) + "|" + family).to_numpy()
        parent = np.where(length == 2, "TOTAL", code.str[:2].to_numpy())
        under = pd.Series(pair + "|" + parent)
        below = numeric & (length > 2)
        first = pd.Series(np.where(below, length, 99)).groupby(under.to_numpy()).transform("min")
        chapters = numeric & (length == 2)
        self.products = _groups(under, chapters | (below & (length == first.to_numpy())))
        self.world_key, self.product_key = by_partner.to_numpy(), pair + "|" + code.to_numpy()
        self.is_world, self.code = (partner == WORLD).to_numpy(), code.to_numpy()
        self.currency = keys["currency"].to_numpy()

    def of(self, i: int) -> list[tuple[str, np.ndarray, int]]:
        """``[(dimension, rows, in another currency)]``: the details of series ``i`` in its
        currency by partner and by product, and how many others are in another currency."""
        out = []
        if self.is_world[i]:
            out.append(("partner", self.world.get(self.world_key[i], _NONE)))
        if self.code[i] == "TOTAL" or _CHAPTER.fullmatch(self.code[i]):
            by = "chapter" if self.code[i] == "TOTAL" else "code"
            out.append((by, self.products.get(self.product_key[i], _NONE)))
        mine = [(by, rows, self.currency[rows] == self.currency[i]) for by, rows in out]
        return [(by, rows[same], int((~same).sum())) for by, rows, same in mine if same.any()]


_NONE = np.zeros(0, dtype=np.int64)


def _joined(keys: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The ``columns`` of each row as one key ("DEU|export||HS|TOTAL")."""
    out = keys[columns[0]]
    for name in columns[1:]:
        out = out + "|" + keys[name]
    return out


def _groups(keys: pd.Series, member: np.ndarray) -> dict[str, np.ndarray]:
    """The rows of ``member`` series by their key."""
    rows = np.flatnonzero(member)
    if not rows.size:
        return {}
    return {k: v.to_numpy() for k, v in pd.Series(rows).groupby(keys.to_numpy()[rows])}


def _flagged(det: pd.DataFrame) -> dict[int, list[tuple[int, int, str]]]:
    """Each series' findings of the kinds worth pointing to, as (start, end, kind)."""
    out: dict[int, list[tuple[int, int, str]]] = {}
    for s, a, b, kind in det[["series", "start", "end", "kind"]].itertuples(index=False):
        if kind in _POINTED:
            out.setdefault(int(s), []).append((int(a), int(b), str(kind)))
    return out


def _reading(panel, row, by: str, rows: np.ndarray, other: int, flagged) -> dict | None:
    """The parts of one finding's change, or None where they cannot be read (see the
    module's doc for when)."""
    i, t0, t1 = int(row["series"]), int(row["start"]), int(row["end"])
    total = panel.values[i]
    parts = _parts(panel, total, rows)
    if row["kind"] == "level_shift":
        windows = _level_windows(panel, row["evidence"] or {}, t0)
        if windows is None:
            return None
        before, after = windows
    else:
        before, after = _around(total, t0), np.array([t0])
    compared = np.concatenate([before, after])
    coverage = _coverage(total, parts[:-1], compared)
    if rows.size == 1 and coverage > 0.95:
        return None  # a chapter of one code: the code is the chapter
    if coverage < MIN_COVERAGE[by]:
        return None
    if by == "partner" and not _every_partner(panel, i, parts[:-1], compared):
        return None
    figure, against = _medians(total, parts, after), _medians(total, parts, before)
    change = float(_medians(total, total[None, :], after)[0]) - float(
        _medians(total, total[None, :], before)[0]
    )
    reported = float(row["observed"]) - float(row["expected"])  # the finding's own change
    if not (np.isfinite(change) and np.isfinite(reported) and change * reported > 0):
        return None
    if abs(change) < AGREE * abs(reported):
        return None  # the finding rests on a season or a model medians do not read
    share = (figure - against) / change
    codes = [*panel.keys[by if by == "partner" else "commodity"].astype(str).to_numpy()[rows]]
    known = np.isfinite(share)
    order = [j for j in np.argsort(-np.where(known, share, -np.inf), kind="stable")[:MAX_NAMED]]
    named = [j for j in order if known[j] and share[j] >= MIN_SHARE]
    withheld = [codes[j] for j in np.flatnonzero(~known[:-1])]
    out = {"by": by, "change": round(change, 2), "details": int(rows.size)}
    if other:
        out["other_currency"] = other
    if (share[known] <= -OPPOSITE).any():  # a part moved the other way, measurably
        out["opposite"] = True
    if withheld:
        out["withheld"] = withheld
    out["named"] = [_named(codes, rows, j, figure, against, share, flagged, t0, t1) for j in named]
    return out


def _parts(panel: Panel, total: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The details' figures (a month without one: nothing recorded, 0; a withheld one:
    unknown, NaN) and, last, the rest: the aggregate less them."""
    details = np.nan_to_num(panel.values[rows], nan=0.0)
    details[panel.withheld()[rows]] = np.nan
    rest = total - details.sum(axis=0)  # NaN where a detail's figure is unknown
    return np.vstack([details, rest[None, :]])


def _every_partner(panel: Panel, i: int, details: np.ndarray, cols: np.ndarray) -> bool:
    """Whether the panel holds every partner the store holds beside world series ``i`` in
    the months ``cols``: their sum is the store's (``partners_sum``, in the world row's
    currency). A panel built without that context has nothing to check against."""
    store = panel.context.get("partners_sum")
    if store is None:
        return True
    held = store[i, cols]
    known = np.isfinite(held)
    here = np.nansum(details[:, cols], axis=0)
    return bool(np.allclose(here[known], held[known], rtol=1e-6, atol=0.5))


def _around(total: np.ndarray, t: int) -> np.ndarray:
    """The months within ±``AROUND`` of ``t`` (``t`` left out) the aggregate has a figure in."""
    cols = np.arange(max(t - AROUND, 0), min(t + AROUND + 1, total.size))
    return cols[(cols != t) & np.isfinite(total[cols])]


def _coverage(total: np.ndarray, details: np.ndarray, cols: np.ndarray) -> float:
    """The details' sum as a share of the aggregate in its median month of ``cols``."""
    cols = cols[np.isfinite(total[cols]) & (total[cols] > 0)]
    if not cols.size:
        return 0.0
    return float(np.median(np.nansum(details[:, cols], axis=0) / total[cols]))


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


def _medians(total: np.ndarray, parts: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Each part's median over the months of ``cols`` the aggregate has a figure in, its
    unknown (withheld) months left out; NaN where it knows fewer than half of them."""
    cols = cols[np.isfinite(total[cols])]
    if not cols.size:
        return np.full(parts.shape[0], np.nan)
    middle, known = nanmedian(parts[:, cols])
    return np.where(known * 2 >= cols.size, middle, np.nan)


def _named(codes, rows, j: int, figure, against, share, flagged, t0: int, t1: int) -> dict:
    rest = j == len(rows)
    out = {
        "code": REST if rest else str(codes[j]),
        "figure": round(float(figure[j]), 2),
        "against": round(float(against[j]), 2),
        "share": round(float(share[j]), 4),
    }
    kind = None if rest else _kind_near(flagged, rows[j], t0, t1)
    return out | ({"flagged": kind} if kind else {})


def _kind_near(flagged, series: int, t0: int, t1: int) -> str | None:
    """The kind of the finding of ``series`` nearest t0..t1, one that covers them first,
    else one within a month (a detail's own level shift may be dated a month from the
    aggregate's): the first within a month had named February's dip for a March the
    detail's gap covered."""
    near = [
        (max(a - t1, t0 - b, 0), kind)
        for a, b, kind in flagged.get(int(series), ())
        if a <= t1 + 1 and b >= t0 - 1
    ]
    return min(near, key=lambda found: found[0])[1] if near else None


def sentence(finding: Mapping) -> str:
    """The drivers in words, one sentence per dimension ('' without them): "By partner,
    most of the shortfall is in POL (€1.2M against its usual €3.4M: 64% of it, itself
    flagged as a dip) and CZE (…)." """
    ev = finding.get("evidence") or {}
    cur = finding.get("currency") or ""
    level = finding.get("kind") == "level_shift"
    unit = period_unit(finding.get("freq") or "M")  # "month", or "year" for annual series
    return " ".join(_in_words(r, level, cur, unit) for r in ev.get("drivers") or ())


_BY = {"partner": ("partner", "partners"), "chapter": ("chapter", "chapters")}


def _in_words(reading: Mapping, level: bool, cur: str, unit: str) -> str:
    by = reading["by"]
    one, many = _BY.get(by, ("code", "codes"))
    rise = float(reading.get("change") or 0.0) > 0
    what = ("rise" if rise else "fall") if level else ("excess" if rise else "shortfall")
    named = reading.get("named") or []
    usual = (
        "" if level else f" (each against its median of the {unit}s around{_whole(reading, cur)})"
    )
    if named:
        held = sum(d["share"] for d in named)
        lead = "most of the" if held >= 0.5 else "the largest parts of the"
        verb = "is" if held >= 0.5 or len(named) == 1 else "are"
        if held < 0.5 and len(named) == 1:
            lead = "the largest part of the"
        parts = joined([_one(d, by, cur, level, what, unit) for d in named])
        text = f"By {one}{usual}, {lead} {what} {verb} in {parts}"
        if reading.get("opposite"):
            text += f"; other {many} moved the other way"
    else:
        text = f"By {one}, the {what} is spread: no {one}, nor the rest, holds a tenth of it"
    if any(d["code"] == REST for d in named):
        other = bool(reading.get("other_currency"))
        verb = "are" if by == "chapter" else "is"
        text += f"; {_rest_name(by)} {verb} {_rest_definition(by, int(reading['details']), other)}"
    withheld = reading.get("withheld") or []
    if withheld:
        text += f"; {joined(withheld)}'s figures are withheld (confidential) there"
    other = int(reading.get("other_currency") or 0)
    if other:
        text += f"; {plural(other, one, many)} in another currency counted in the rest"
    return text + "."


def _whole(reading: Mapping, cur: str) -> str:
    """The aggregate's own change read against its median, the base of the shares: the
    finding's text gives its change against its expectation, with its season, and "100%
    of it" of another base read as a mistake (79% of the excess the text had quoted)."""
    change = reading.get("change")
    if not change:
        return ""
    side = "above" if change > 0 else "below"
    return f", as the whole is: {money(abs(float(change)), cur)} {side} its own"


def _rest_name(by: str) -> str:
    """The rest, as a part: "partners not listed" read as partners the text had not named,
    and "partners the store does not hold" was false where details in another currency
    are counted in it."""
    return "codes in no chapter" if by == "chapter" else "the rest"


def _rest_definition(by: str, count: int, other_currency: bool = False) -> str:
    own = " in its currency" if other_currency else ""
    return {
        "partner": f"the world figure less the {count:,} partners the store holds{own}",
        "chapter": f"the total less its {count:,} chapters",
    }.get(by, f"the chapter less the {count:,} of its codes the store holds{own}")


def _one(d: Mapping, by: str, cur: str, level: bool, what: str, unit: str) -> str:
    code = d["code"]
    name = _rest_name(by) if code == REST else f"chapter {code}" if by == "chapter" else code
    if level and d["figure"] == 0:
        figures = f"nothing recorded, against about {money(d['against'], cur)} a {unit}"
    elif level:
        figures = f"about {money(d['figure'], cur)} a {unit} against {money(d['against'], cur)}"
    else:
        figures = f"{money(d['figure'], cur)} against {money(d['against'], cur)}"
    if d["share"] > 1.05:  # the others moved the other way
        share = f"{ratio(d['share'])} times the {what}"
    else:  # up to 105% as a share (DEU's 104% of Italy's rise had read "100% of it")
        share = f"{percent(d['share'] * 100, digits=0)} of it"
    kind = _POINTED.get(d.get("flagged"), "")
    return f"{name} ({figures}: {share}{f', itself flagged as {kind}' if kind else ''})"


def waiting(found: pd.DataFrame) -> np.ndarray:
    """Which of a chunk's findings ``completed_from_store`` reads once every chunk is in:
    the monthly world findings of ``KINDS`` without a reading by partner, and the findings
    of the kinds a reading names (``_POINTED``)."""
    if found.empty:
        return np.zeros(0, dtype=bool)
    return (_unread_by_partner(found) | found["kind"].isin(list(_POINTED))).to_numpy()


def _unread_by_partner(found: pd.DataFrame, kinds=KINDS) -> pd.Series:
    """The monthly world findings of ``kinds`` whose evidence holds no reading by partner
    (a world ``TOTAL`` may hold one by chapter alone: its chunk kept its chapters, cut
    away its partners)."""
    world = (found["partner"] == WORLD) & (found["freq"] == "M") & found["kind"].isin(kinds)
    by_partner = found.loc[world, "evidence"].map(  # the world's findings only: a few
        lambda ev: any(r.get("by") == "partner" for r in (ev or {}).get("drivers") or [])
    )
    return world & ~by_partner.reindex(found.index, fill_value=False).astype(bool)


def completed_from_store(con, detectors, found: pd.DataFrame) -> pd.DataFrame:
    """``found`` (a scan's assembled findings) with the reading by partner of each world
    finding whose chunk did not hold its partners, made from the store: a group larger
    than a chunk is cut between partners, and a world series and its partners of one
    product are then in different chunks (on a store of UN Comtrade at HS6, every one),
    so the reading depended on the chunks. The world series and every partner's series of
    its product are read from the store's current view (``context.world_and_partners``)
    into one panel, with the scan's findings on them to point to, and read as a chunk
    reads them (``attach``); the reading by partner is put first among the finding's
    readings, as ``attach`` gives them, and the finding explained again. Monthly series;
    a finding the reading leaves out in its own chunk is read again here, to the same
    result."""
    from tradesentry.context import world_and_partners
    from tradesentry.findings import explained

    by_kind = {d.kind: d for d in detectors if d.kind in KINDS}
    if found.empty or not by_kind:
        return found
    asked = _unread_by_partner(found, list(by_kind))
    if not asked.any():
        return found
    key = ["reporter", "flow", "classification", "commodity", "breakdown"]
    wanted = found.loc[asked, key].drop_duplicates()
    rows = world_and_partners(con, wanted)
    if rows.empty:
        return found
    panel = Panel.from_frame(rows, "M")
    held = found.merge(wanted, on=key, how="left", indicator=True)["_merge"].to_numpy() == "both"
    read = attach(panel, _as_detections(panel, found[held], key))
    found = found.copy()
    for i, ev in zip(read.index, read["evidence"], strict=True):
        partner = [r for r in (ev or {}).get("drivers") or [] if r.get("by") == "partner"]
        if not asked.get(i, False) or not partner:
            continue
        evidence = found.at[i, "evidence"] or {}
        others = [r for r in evidence.get("drivers") or [] if r.get("by") != "partner"]
        found.at[i, "evidence"] = {**evidence, "drivers": [*partner, *others]}
        record = found.loc[i].to_dict()
        found.at[i, "explanation"] = explained(by_kind[record["kind"]], record)
    return found


def _as_detections(panel: Panel, found: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The findings of ``found`` on the series of ``panel`` as detections of it (series
    row, first and last column), indexed as in ``found``: the world findings to read and
    their partners' findings to point to."""
    series = panel.keys[[*key, "partner"]].astype(str).assign(series=np.arange(panel.n_series))
    at = found[[*key, "partner"]].astype(str).reset_index().merge(series, on=[*key, "partner"])
    labels = pd.Series(np.arange(panel.n_months), index=panel.label(np.arange(panel.n_months)))
    mine = found.loc[at["index"].to_numpy()]
    start = mine["period"].astype(str).map(labels).to_numpy()
    end = mine["period_end"].astype(str).map(labels).to_numpy()
    ok = ~(pd.isna(start) | pd.isna(end))
    mine = mine[ok]
    return pd.DataFrame(
        {
            "series": at["series"].to_numpy()[ok].astype(np.int64),
            "start": start[ok].astype(np.int64),
            "end": end[ok].astype(np.int64),
            "kind": mine["kind"].to_numpy(),
            "observed": mine["observed"].to_numpy(dtype=float),
            "expected": mine["expected"].to_numpy(dtype=float),
            "evidence": mine["evidence"].to_numpy(),
        },
        index=mine.index,
    )
