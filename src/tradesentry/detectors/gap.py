"""Gap: a month missing where the series normally reports."""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

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
from tradesentry.detectors.baseline import (
    DEFAULT_CONFIG,
    NOTHING_SHARE,
    baseline,
    covered_by_combined,
)
from tradesentry.detectors.evidence import finding_freq, has_partner_record
from tradesentry.detectors.late import late_evidence, late_text
from tradesentry.detectors.level_shift import counted_months, local_levels
from tradesentry.panel import Panel
from tradesentry.text import about, joined, money, period_name, period_unit, plural

#: a stop is priced at its recent level where that is this share of its usual month or less
FALLEN = 0.5
#: calendar months a series' record must hold for its rate of trade to judge the rest of
#: the year: two thirds of it (a flow of one season says nothing of the months outside it,
#: ``off_season``)
YEAR_SHOWN = 8
#: a partner's record says the trade went on at the series' level only where its usual
#: month is within this factor of the series' (the level-shift reading's ×3)
SAME_SCALE = 3.0
#: a run's calendar month is judged by its own rate of trade in the series' other years,
#: shrunk toward the run's rate (the lower of the local and the series' rates) by a prior
#: worth this many of them (a Beta prior centred on that rate): two other years without
#: trade in that month halve the rate
SAME_MONTH_PRIOR = 2.0


@dataclass(frozen=True)
class Gap(Detector):
    """A run of missing months inside a series that trades nearly every month.

    Model: a month is missing when it has no figure of its own and no combined release
    (January–February) covers it; leading and trailing missing months are the series'
    start and end, not gaps. A reported zero, like a missing month, is a month without
    trade: it is not a gap, but it does not count as trade in the rate below either. For
    each run of L missing months, the trading rate p (the lower of the rate in the
    ``window`` months on each side and over the whole span, both Laplace-smoothed:
    (months with trade + ½)/(months + 1), the run left out), or for a month of the run the
    rate of its calendar month in the series' other years where that is lower (shrunk
    toward p by a prior worth two such months, ``SAME_MONTH_PRIOR``: a season's habit
    seen in other years, which one rate for the whole year would call a gap), gives the
    chance that so many consecutive months are missing by the series' usual irregularity,
    P = Π(1 − p_m), (1 − p)^L where no other year skips them. A
    series with k missing runs is k tests, so the chance is corrected to k·P (Bonferroni)
    before it becomes a score on the shared scale, z = √(−2 ln kP). Threshold: z ≥ 2.5
    (kP ≤ 4.4 %), with at least 3 months with trade and a 75 % trading rate on each side.
    Why: in a series that has traded 24 months in a row one missing month has P ≈ 2 % and
    is flagged (low severity), two in a row P ≈ 0.04 % (medium); in a series that skips a
    month in twenty or more, or reports zero as often, short runs are its habit, and a
    series with many runs would otherwise raise one of them by chance. The impact is the
    money the baseline expects in the missing months, from the series' own figures, with
    the level on each side carried across the middle of a run too long for the model to
    price (``run_expectations``).

    Where the month after the run is high (2 scales above its expectation) by no more than
    the run would hold and at least half of what one of its months would, and no month of
    it was withheld, the text reads it as the run's late figure (evidence ``late``,
    ``late.py``); a month above by more is a spike of its own.

    Where the series' record holds fewer than ``YEAR_SHOWN`` calendar months outside the
    run, and its season repeats on both sides of it, the longest stretch of the year it
    never shows may be its off season (``months_off_season``): the evidence and the text
    say how many of the run's months fall there, and where the others are no gap by
    themselves, nothing in the store says otherwise (either record's months without a
    value, the partner's trade, the line's other partners trading through:
    ``_off_season_refuted``) and the line's other partners were mostly silent in it too,
    the gap is low, months without trade the likelier reading (``_off_season_likelier``,
    in ``complete``).

    Materiality, as every detector's: a run whose expected money g is below
    ``material_money`` scores at most g / ``material_money`` (0.5 at 1,000; high only from
    1,800), so that the missing months of a flow of a few euros are never high however
    regular it was. g is in US dollars where the store has a rate for the series' currency
    (context ``own_rate``): a missing month has no row to carry its rate, so each is priced
    at the series' nearest month's (``base.nearest_rates``), and a stop at its first
    month's, as the ranking does (``findings.usd_rates_sql``); without a rate, in the
    series' own units (689K won, about $490, was high). An amount nothing could price is
    not capped.

    The partner's record of the same flow tells the readings apart, but a missing month has
    no row for the panel to join it to: once the gaps are found, the scan reads it from the
    store (``finding_needs``: ``context.mirror_months``) and ``complete`` writes it into the
    evidence and the text. Two records of a flow can differ many times over, so the
    partner's figures are weighed against its own usual month around the gap. Where it
    recorded the flow in the gap's months, the text gives its figures (converted at the
    store's rates) and reads the gap as a figure missing from the record, not months
    without trade, unless what it recorded is below half its usual for those months
    (``PARTNER_SHARE``: some trade, less than usual); where it has trade in most months
    around the gap in which the series has (``PARTNER_COVERAGE``, the gap's own 75 %) but
    none in it, no trade is the likelier reading, and the gap is low whatever its size
    (``NO_TRADE_SCORE``: Finland's imports of CN 39199020 from Poland, about €70 a month,
    had 16 such months high), and where it has trade in fewer its
    silence says little; no reading where either side withholds figures or a sum cannot
    be converted. Where the store holds no such record, the text says so, and to ingest it
    before the command that would set the two side by side (``tradesentry mirror``). A month whose row holds no
    figure was listed by the source without a value (Comext's confidential blank, "not
    available", or a weight line without its value line), not left out: the test is the
    same (its value is as unknown), and the text says the source listed it without a value
    (not that it was confidential: the reader cannot always tell).
    """

    kind: ClassVar[str] = "gap"
    needs: ClassVar[tuple[str, ...]] = MONEY_NEEDS  # the money cap in dollars
    finding_needs: ClassVar[tuple[str, ...]] = ("mirror_months", "sibling_months")
    threshold: float = DEFAULT_CONFIG.no_trade_z  # the model's zeros follow the same chance
    window: int = 12
    min_side: int = 3
    min_rate: float = 0.75
    material_money: float = MATERIAL_MONEY  # US dollars, or units of a currency without rate
    #: months after a series' last report that make it a stop: fewer may be a late figure
    min_stop: int = 3

    def detect(self, panel: Panel) -> pd.DataFrame:
        covered = covered_by_combined(panel)
        reported = np.isfinite(panel.values) | covered
        rows, start, end = missing_runs(~reported)
        if not rows.size:
            return no_detections()
        traded = (np.isfinite(panel.values) & (panel.values != 0)) | covered
        nb, ab, na, aa = self._side_counts(reported, traded, rows, start, end)
        length = end - start + 1
        with np.errstate(divide="ignore", invalid="ignore"):
            local = (nb + na + 0.5) / (ab + aa + 1.0)
            p = np.minimum(local, _series_rate(reported, traded, rows, length))
            runs = np.bincount(rows, minlength=panel.n_series)[rows]  # tests in the series
            rates, same_held, same_without = _same_month_rates(
                panel, reported, traded, rows, start, end, p
            )
            z = np.sqrt(np.maximum(-2.0 * (np.nansum(np.log1p(-rates), 1) + np.log(runs)), 0.0))
            # where a month's own rate counted: the other years made the run less surprising
            lowered = (np.nan_to_num(rates, nan=np.inf) < p[:, None]).any(axis=1)
            ok = (nb >= self.min_side) & (na >= self.min_side)
            ok &= (nb >= self.min_rate * ab) & (na >= self.min_rate * aa)
        keep = np.flatnonzero(ok & (z >= self.threshold))
        if not keep.size:
            return no_detections()
        rows, start, end, z = rows[keep], start[keep], end[keep], z[keep]
        off_months = months_off_season(panel, reported, rows, start, end)
        off = off_months.sum(axis=1)
        # the chance of the months outside what may be the off season alone
        misses = np.log1p(-rates[keep][:, : off_months.shape[1]])
        in_season = np.nansum(np.where(off_months, 0.0, misses), axis=1) + np.log(runs[keep])
        in_season = np.exp(np.minimum(in_season, 0.0))
        model = baseline(panel)
        each, carried = run_expectations(model.expected, model.offset, rows, start, end)
        each, capped = _season_capped(panel, model, rows, start, end, each)
        expected = run_sums(each)
        cols = np.minimum(start[:, None] + np.arange(each.shape[1]), end[:, None])
        dollars = run_sums(in_dollars(panel, rows[:, None], cols, each, nearest=True))
        without_season = _without_season(model, rows, start, end, expected)
        new_level, at_new = _at_the_new_level(panel, model, rows, start, end)
        withheld = _withheld_months(panel, rows, start, end)
        # the month after: its late figure, where no month of the run was withheld
        late = late_evidence(panel, model, rows, end + 1, start, np.where(withheld, 0, expected))
        evidence = [
            {
                **({"withheld_months": int(withheld[j])} if withheld[j] else {}),
                "months": [panel.label(int(t)) for t in range(s, e + 1)],
                "traded_before": int(nb[k]),
                "months_before": int(ab[k]),
                "traded_after": int(na[k]),
                "months_after": int(aa[k]),
                "chance": float(np.exp(-0.5 * z[j] ** 2)),
                **(
                    {
                        "same_months_other_years": int(same_held[k]),
                        "same_months_without_trade": int(same_without[k]),
                    }
                    # a run of a year or more is no season's habit: the test's terms only
                    if lowered[k] and same_without[k] and e - s + 1 < 12
                    else {}
                ),
                **(
                    {"off_season": int(off[j]), "chance_in_season": float(in_season[j])}
                    if off[j]
                    else {}
                ),
                "expected_each": [
                    round(float(x), 2) if np.isfinite(x) else None for x in each[j, : e - s + 1]
                ],
                "carried_across": int(carried[j]),
                **({"season_capped": int(capped[j])} if capped[j] else {}),
                **(
                    {"without_season": round(float(without_season[j]), 2)}
                    if np.isfinite(without_season[j])
                    else {}
                ),
                **({"late": late[j]} if late[j] else {}),
                **(
                    {
                        "new_level_from": panel.label(int(e) + 1),
                        "new_level": float(new_level[j]),
                        "at_new_level": float(at_new[j]),
                    }
                    if np.isfinite(at_new[j])
                    else {}
                ),
            }
            for j, (k, r, s, e) in enumerate(zip(keep, rows, start, end, strict=True))
        ]
        return detections(
            self.kind,
            rows,
            start,
            end,
            observed=np.full(len(rows), np.nan),
            expected=expected,
            impact=np.nan_to_num(expected),
            score=self._score(z, dollars),
            evidence=evidence,
        )

    def from_store(self, con, filters: Mapping) -> pd.DataFrame:
        """Findings of the series that stopped while the reporter's record of their flow
        went on: the months from a series' last report to the last month that record holds
        (``context.stopped_series``), tested as a run of missing months is, one test per
        series, where at least ``min_stop`` months are missing (fewer may be figures not
        yet processed). No row holds those months and a panel ends with its chunk's last
        month, so they are read from the store once per scan, for either engine. Priced at
        the series' usual month over the ``STOP_WINDOW`` months up to its last report, or
        at its recent level where it had fallen to half of that (``_tested_stops``)."""
        from tradesentry.context import stopped_series
        from tradesentry.findings import empty_findings, with_severity_and_id

        stops = self._tested_stops(stopped_series(con, filters, self.min_stop, NOTHING_SHARE))
        if stops.empty:
            return empty_findings()
        stops = stops.assign(per_usd=_stop_rates(con, stops))
        expected = stops["level"] * stops["priced"]
        score = self._score(stops["z"].to_numpy(), _dollars(expected, stops["per_usd"]))
        out = stops[["reporter", "partner", "flow", "commodity", "classification"]].assign(
            kind=self.kind,
            breakdown=stops["breakdown"],
            freq="M",
            period=stops["start"].dt.strftime("%Y-%m"),
            period_end=stops["end"].dt.strftime("%Y-%m"),
            observed=np.nan,
            expected=expected,
            currency=stops["currency"],
            impact=expected,
            score=score.round(3),
            evidence=[_stop_evidence(r) for r in stops.itertuples()],
        )
        out = with_severity_and_id(out)
        out["explanation"] = [self.explain(f) for f in out.to_dict("records")]
        return out[list(empty_findings().columns)].reset_index(drop=True)

    def _tested_stops(self, series: pd.DataFrame) -> pd.DataFrame:
        """The stopped series (``context.stopped_series``) whose run to the record's end
        passes the gap's test: a flow of its own first (six months with trade make a level,
        ``thin_level_points``), trade in ``min_rate`` of the months before it and none of
        them withheld, and a run the trading rate makes unlikely (``threshold``). With the
        run's ``start``, ``end`` and ``length``, the months ``before`` it and its ``z``, and
        the ``level`` it is priced at: the median of its last ``STOP_RECENT`` figures where
        that is ``FALLEN`` (half) of its usual month of the year before (``usual_level``) or
        less, a flow that had fallen before it stopped: China's graphite to Hungary, $780,
        $131, $74 and $267 after a year at $1.5K, was priced at $1.5K a month over 15
        months. A smaller difference is the noise of a median of six."""
        from tradesentry.context import STOP_WINDOW

        if series.empty:
            return series
        first, last, end = (
            pd.PeriodIndex(series[c], freq="M") for c in ("first", "last", "record_end")
        )
        length = np.array([d.n for d in end - last], dtype=float)
        span = np.array([d.n for d in last - first], dtype=float) + 1.0
        before = np.minimum(span, STOP_WINDOW)
        traded = series["traded_before"].to_numpy(float)
        p = np.minimum(
            (traded + 0.5) / (before + 1.0),
            (series["traded_all"].to_numpy(float) + 0.5) / (span + 1.0),
        )
        z = np.sqrt(np.maximum(-2.0 * _log_chance(length, p, 1.0), 0.0))
        ok = (traded >= DEFAULT_CONFIG.thin_level_points) & (traded >= self.min_rate * before)
        ok &= (z >= self.threshold) & (series["level"].to_numpy(float) > 0)
        ok &= series["withheld"].to_numpy() == 0
        return series.assign(
            start=(last + 1).to_timestamp(),
            end=end.to_timestamp(),
            length=length,
            # priced for no longer than the flow ran: nine months of trade say little of
            # the three years after them (unless it ran from the record's first month, and
            # may have run before it)
            priced=np.where(
                series["first"].to_numpy() > series["record_start"].to_numpy(),
                np.minimum(length, span),
                length,
            ),
            before=before,
            z=z,
            usual_level=series["level"],
            level=np.where(
                series["recent_level"] <= FALLEN * series["level"],
                series["recent_level"],
                series["level"],
            ),
        )[ok]

    def complete(self, found: pd.DataFrame, context: Mapping[str, Mapping]) -> pd.DataFrame:
        """Each gap with the partner's record of its months (``mirror_months``: the panel
        holds the partner's record only beside the series' own rows, and a missing month
        has none, so the scan reads it from the store once the gaps are known) and with what
        the reporter's other partners of the line recorded in them (``sibling_months``);
        a gap whose months may be its off season is read with them too, where the store
        holds neither (``_off_season_likelier``)."""
        from tradesentry.findings import explained

        records: dict[int, dict] = {}
        for need in self.finding_needs:
            for i, record in (context.get(need) or {}).items():
                records.setdefault(i, {}).update(record)
        mine = found.index[found["kind"] == self.kind] if "kind" in found else found.index
        for i in mine:
            if (found.at[i, "evidence"] or {}).get("off_season"):
                records.setdefault(i, {})
        if not records:
            return found
        found = found.copy()
        for i, record in records.items():
            evidence = {**(found.at[i, "evidence"] or {}), **record}
            found.at[i, "evidence"] = evidence
            if evidence.get("usual_level") and _partner_went_on(found.loc[i].to_dict()):
                self._priced_at_usual(found, i)
                evidence = found.at[i, "evidence"]
            silent = _partner_silent(evidence) and not _other_scale(found.loc[i].to_dict())
            seasonal = _off_season_likelier(found.loc[i].to_dict())
            if seasonal:
                found.at[i, "evidence"] = evidence = {**evidence, "off_season_likelier": True}
            elif evidence.get("off_season") and _off_season_refuted(found.loc[i].to_dict()):
                found.at[i, "evidence"] = evidence = {**evidence, "off_season_refuted": True}
            if (silent or seasonal) and not evidence.get("withheld_months"):
                # both records empty: months without trade are the likelier reading, a gap
                # in the record the less likely one, however long or large (low)
                found.at[i, "score"] = min(float(found.at[i, "score"]), NO_TRADE_SCORE)
                found.at[i, "severity"] = "low"
            found.at[i, "explanation"] = explained(self, found.loc[i].to_dict())
        return found

    def _score(self, z: np.ndarray, money: np.ndarray) -> np.ndarray:
        """A gap's score (a run's or a stop's): its confidence, capped by the money at stake
        (in US dollars where the store has the rate, else in the series' units)."""
        return np.minimum(confidence(z, self.threshold), material_cap(money, self.material_money))

    def _priced_at_usual(self, found: pd.DataFrame, i) -> None:
        """A stop priced at its recent level (``_tested_stops``) whose partner's record says
        the trade went on, priced at its usual month again: the fall was in the record,
        not in the trade (Sweden's exports of CN 32121000 to Romania, €163, €144, €23, €11
        and €75 before they stopped, "had fallen", while Romania recorded €8–31K a month
        throughout). The recent level stays in the evidence (``recent_level``)."""
        from tradesentry.findings import severity_of

        ev = dict(found.at[i, "evidence"])
        recent, usual = ev["level"], ev.pop("usual_level")
        priced = int(ev.get("priced_months") or len(ev.get("months") or []))
        ev.update(level=usual, recent_level=recent)
        ev["expected_each"] = [usual if x is not None else None for x in ev["expected_each"]]
        expected = usual * priced
        z = math.sqrt(max(-2.0 * math.log(max(float(ev["chance"]), 1e-300)), 0.0))
        dollars = _dollars(np.array([expected]), np.array([ev.get("per_usd", np.nan)]))
        score = float(self._score(np.array([z]), dollars)[0])
        found.at[i, "evidence"] = ev
        found.at[i, "expected"] = found.at[i, "impact"] = expected
        found.at[i, "score"] = round(score, 3)
        found.at[i, "severity"] = str(severity_of(np.array([score]))[0])

    def _side_counts(self, reported, traded, rows, start, end):
        """Months with trade, and months of the span, within ``window`` before and after each run."""
        n, T = reported.shape
        cs = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(traded, 1)], axis=1)
        first = np.argmax(reported, axis=1)
        last = T - 1 - np.argmax(reported[:, ::-1], axis=1)
        a = np.maximum(start - self.window, first[rows])
        b = np.minimum(end + 1 + self.window, last[rows] + 1)
        nb = cs[rows, start] - cs[rows, a]
        na = cs[rows, b] - cs[rows, end + 1]
        return nb, start - a, na, b - (end + 1)

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or ""
        freq = finding_freq(finding)
        unit = period_unit(freq)
        months = ev.get("months") or [finding["period"]]
        if ev.get("open_end"):
            return _explain_stop(finding, ev, months, unit)
        if len(months) == 1:
            what = f"No figure for {period_name(months[0], freq)}"
        else:
            what = (
                f"No figures for the {len(months)} {unit}s from {period_name(months[0], freq)} "
                f"to {period_name(months[-1], freq)}"
            )
        expected = finding.get("expected")
        one = len(months) == 1
        them, they = ("it", "it") if one else ("them", "they")
        worth = (
            f"; {about(expected, cur)} of trade would be expected there, judging by the "
            f"series' own figures around {them}"
            if expected is not None and expected == expected
            else ""
        )
        plain = ev.get("without_season")
        if worth and plain is not None:
            capped = ", no more than those years recorded" if ev.get("season_capped") else ""
            worth += (
                f" and the same {unit} in other years{capped} ({about(plain, cur)} from the "
                f"figures around {them} alone)"
            )
        if worth and ev.get("at_new_level") is not None:
            those = f"that {unit}" if one else f"those {unit}s"
            worth += (
                f"; a new level starts after {them} "
                f"({period_name(ev.get('new_level_from'), freq)}{_new_level_text(ev, cur, unit)})"
                f", and at that level{_new_season_text(ev, len(months))} {they} would "
                f"hold {about(ev['at_new_level'], cur)}: the change may have come in {those}"
            )
        carried = int(ev.get("carried_across") or 0)
        if worth and carried:
            worth += (
                f" (for {carried} of those {unit}s, too far from any reported one to price, "
                "the level on each side carried across)"
            )
        text = (
            f"{what}, although the series recorded trade in {ev.get('traded_before')} of the "
            f"{ev.get('months_before')} {unit}s before and {ev.get('traded_after')} of the "
            f"{ev.get('months_after')} after{worth}."
        ) + late_text(ev.get("late"), cur, freq, "gap")
        text += _same_months_text(ev, months)
        text += _siblings_text(finding, len(months), unit) + _off_season_text(ev, len(months), unit)
        withheld = int(ev.get("withheld_months") or 0)
        said, reading = _partner_reading(finding, len(months), unit, withheld)
        if withheld == len(months):
            them = "it" if len(months) == 1 else "them"
            text += (
                f" The source lists {them} without a value (confidential, not available, or "
                "a weight given without it: the trade was recorded, its value not published)"
            )
            if not said:
                return text + _partner_pointer(finding, "show its value")
            # what the withheld figures may hold, or that the partner has none: no reading
            return f"{text}. {said.rstrip('.')}."
        if withheld:
            text += f" The source lists {withheld} of them without a value."
        if said and reading and not withheld:  # withheld figures were recorded: no reading
            return f"{text} {said}: {reading}"
        if said and reading:
            return f"{text} {said}."
        likelier = " Its off season, months without trade, is the likelier reading."
        if said:
            return f"{text} {said}" + (likelier if ev.get("off_season_likelier") else "")
        if ev.get("off_season_likelier"):
            return text + likelier
        return (
            f"{text} Confidential or suppressed figures, a late report, or no trade at all in "
            "that time" + _partner_pointer(finding)
        )


#: below this share of the partner's usual money for the gap's months, what it recorded
#: is some trade, not the flow going on unseen (margins and timing differ, not by ×2)
PARTNER_SHARE = 0.5
#: the partner's silence in a gap suggests no trade only where its record has trade in
#: this share of the months around the gap in which the series has (the gap's own
#: ``min_rate``): a record seldom kept says nothing by its silence
PARTNER_COVERAGE = 0.75
#: the score of a gap the partner's record leaves empty too (``_partner_silent``): low
NO_TRADE_SCORE = 0.5


#: records of one flow this many times apart say little of each other's months (Italy
#: records about 1/60 of what Belgium records of some products, and is read)
OTHER_SCALE = 1000.0


def _other_scale(finding: Mapping) -> bool:
    """The partner's usual month and the gap's expected month are ``OTHER_SCALE`` times
    apart or more: Slovakia's record of Belgium's imports of CN 39204310, about €4 a
    month against €391K, read as "by its account trade went on" for €2.8K."""
    ev = finding.get("evidence") or {}
    usual, expected = ev.get("partner_usual"), finding.get("expected")
    months = len(ev.get("months") or [finding.get("period")])
    if not usual or expected is None or not math.isfinite(float(expected)) or expected <= 0:
        return False
    ratio = float(usual) / (float(expected) / months)
    return not 1.0 / OTHER_SCALE < ratio < OTHER_SCALE


def _partner_went_on(finding: Mapping) -> bool:
    """The partner's record of the same flow, its usual month within ×``SAME_SCALE`` of the
    series' usual month, recorded trade in at least half of the gap's months, at half its
    usual month or more, withholding none of them: by its account the trade went on at the
    series' level. A record tens of times larger than the series' (Portugal's of Denmark's
    imports of CN 39206290, 30 times), or one figure of €190 in six months (Cyprus's,
    beside Greece's own recent €39–203), is no measure of the level the series left."""
    ev = finding.get("evidence") or {}
    k, value, usual = (
        int(ev.get("partner_months") or 0),
        ev.get("partner_value"),
        ev.get("partner_usual"),
    )
    if not k or value is None or not usual or ev.get("partner_withheld"):
        return False
    if "partner_currency" in ev or _other_scale(finding):
        return False
    # a stop's usual month; a run's, what its months were expected to hold each
    own = ev.get("usual_level") or ev.get("level") or _expected_month(finding)
    if not own or not 1.0 / SAME_SCALE <= usual / own <= SAME_SCALE:
        return False
    return 2 * k >= len(ev.get("months") or []) and value >= PARTNER_SHARE * usual * k


def _expected_month(finding: Mapping) -> float | None:
    """A run's expected money a month (None where nothing priced it)."""
    expected = finding.get("expected")
    months = len((finding.get("evidence") or {}).get("months") or [finding.get("period")])
    if expected is None or not math.isfinite(float(expected)) or expected <= 0:
        return None
    return float(expected) / months


def _same_months_text(ev: Mapping, months: list) -> str:
    """The run's calendar months without trade (no figure, or zero) in the series' other
    years too, where that made the chance larger (``_same_month_rates``)."""
    without = int(ev.get("same_months_without_trade") or 0)
    if not without:
        return ""
    held = int(ev.get("same_months_other_years") or 0)
    if len(months) > 1:
        return (
            f" In its other years, {without} of the {held} months at the same time of year "
            "recorded no trade either, which makes such a run less surprising."
        )
    name = pd.Period(months[0], "M").strftime("%B")
    which = f"its one other {name}" if held == 1 else f"{without} of its {held} other {name}s"
    return (
        f" The series recorded no trade in {which} either, which makes a missing {name} less "
        "surprising."
    )


def _off_season_text(ev: Mapping, n_months: int, unit: str) -> str:
    """ " 12 of these 18 months fall in the part of the year the series has never reported:
    perhaps its off season.", or ""."""
    off = int(ev.get("off_season") or 0)
    if not off or ev.get("off_season_refuted"):  # the store says they were no off season
        return ""
    where = "in the part of the year the series has never reported: perhaps its off season."
    if n_months == 1:
        return f" It falls {where}"
    share = "All" if off == n_months else str(off)
    return f" {share} of these {plural(n_months, unit)} {'falls' if off == 1 else 'fall'} {where}"


def _log_chance(months: np.ndarray, p: np.ndarray, runs) -> np.ndarray:
    """The log of the chance of so many months without trade at a trading rate ``p``, a
    series of ``runs`` missing runs being as many tests (a stop's log kP, one rate for
    every month: on the log scale, so that a long run's chance does not underflow)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return months * np.log1p(-p) + np.log(runs)


def _off_season_likelier(finding: Mapping) -> bool:
    """The gap's months outside what may be its series' off season (``off_season``) are no
    gap by themselves (their chance, ``chance_in_season``, above the threshold's), nothing
    in the store says otherwise (``_off_season_refuted``), and the line's other partners
    trading around it (two or more) were mostly silent in its heart too
    (``_siblings_in_season``): their season, seen beyond this series, where the gap alone
    is no evidence of one (Hungary's exports of CN 39199020 to Sweden, traded in the first
    halves of 2024 and 2025 only, its one other partner trading through the second). Months
    without trade are then the likelier reading, as where the partner's record is silent:
    Singapore's imports of Guinea's cashews, April to July 2016 and 2017, had the 8 months
    between as a medium gap of 140.2B GNF, while the line's other partners fell silent from
    October to February."""
    ev = finding.get("evidence") or {}
    if not ev.get("off_season") or _off_season_refuted(finding):
        return False
    # the months of the rest of the year are a gap by themselves: the off season explains
    # only part of it (24 months missing, 12 of them in the season)
    if float(ev.get("chance_in_season", 1.0)) <= math.exp(-(DEFAULT_CONFIG.no_trade_z**2) / 2):
        return False
    trading, silent = _siblings_in_season(ev)
    return trading >= 2 and 2 * silent >= trading


def _siblings_in_season(ev: Mapping) -> tuple[int, int]:
    """The line's other partners trading around a gap, and those of them silent through
    its heart (``siblings_silent_heart``: the middle half of its months; ``siblings_silent``
    in evidence read before it was kept). A season's partners trade at its ends, which fall
    a month or two apart: silence from the gap's first months, which keeps a partner that
    stopped months into a gap from reading as the line stopping with it, had India's and
    Viet Nam's cashews, shipped in August and September 2016 and then nothing to March
    2017, trading through Singapore's off season (medium again)."""
    silent = ev.get("siblings_silent_heart", ev.get("siblings_silent"))
    return int(ev.get("siblings_trading") or 0), int(silent or 0)


def _off_season_refuted(finding: Mapping) -> bool:
    """The store says the gap's months were no off season: either record lists them
    without a value (recorded, not without trade), the partner's record of the same flow,
    at the series' scale, has trade in some of them, or most of the line's other partners
    trading around it (two or more) traded through its heart (``_siblings_in_season``)."""
    ev = finding.get("evidence") or {}
    if ev.get("withheld_months") or ev.get("partner_withheld"):
        return True
    if int(ev.get("partner_months") or 0) and not _other_scale(finding):
        return True
    trading, silent = _siblings_in_season(ev)
    return trading >= 2 and 2 * silent < trading


def _partner_silent(ev: Mapping) -> bool:
    """The partner's record of the same flow shows no trade in the gap's months and
    withholds none of them, though it has trade in most months around the gap in which the
    series has (``PARTNER_COVERAGE``): months without trade are the likelier reading."""
    if "partner_months" not in ev or int(ev["partner_months"]):
        return False
    if int(ev.get("partner_withheld") or 0):
        return False
    around = int(ev.get("partner_around") or 0)
    own = int(ev.get("traded_before") or 0) + int(ev.get("traded_after") or 0)
    return own > 0 and around >= PARTNER_COVERAGE * own


def _stop_evidence(stop) -> dict:
    """A stop's evidence (a row of ``Gap._tested_stops``): its months as a gap's, and the
    month it was last reported, its usual month there and that it runs to the record's
    end (``open_end``); where its last figures were small (each below a tenth of its usual
    month, ``baseline.NOTHING_SHARE``), those figures (``small_before``) and its last month
    of an ordinary size (``last_ordinary``, ``last_ordinary_value``): the flow may have
    ended there, and the figures after it been stray consignments."""
    months = pd.period_range(stop.start, stop.end, freq="M")
    return {
        **_small_before(stop),
        "open_end": True,
        "months": [str(m) for m in months],
        "last_reported": str(pd.Period(stop.last, freq="M")),
        "traded_before": int(stop.traded_before),
        "months_before": int(stop.before),
        "traded_after": 0,
        "months_after": 0,
        "chance": float(np.exp(-0.5 * stop.z**2)),
        "level": round(float(stop.level), 2),
        **_fallen(stop),
        "priced_months": int(stop.priced),
        "expected_each": [
            round(float(stop.level), 2) if k < stop.priced else None for k in range(len(months))
        ],
    }


def _fallen(stop) -> dict:
    """Where a stop is priced at its recent level, below its usual month of the year before,
    that month (``usual_level``) and how many figures the recent one is of, with the units
    of its currency per US dollar its money was weighed at (``per_usd``, where the store has
    a rate), for ``Gap._priced_at_usual`` to weigh it again; else {}."""
    from tradesentry.context import STOP_RECENT

    if not stop.level < stop.usual_level:
        return {}
    rated = np.isfinite(stop.per_usd) and stop.per_usd > 0
    return {
        "usual_level": round(float(stop.usual_level), 2),
        "recent_figures": STOP_RECENT,
        **({"per_usd": float(stop.per_usd)} if rated else {}),
    }


def _stop_rates(con, stops: pd.DataFrame) -> np.ndarray:
    """Units of each stop's currency per US dollar at its first month, the nearest month's
    where the store lacks it, as the ranking takes it (``findings.usd_rates_sql``); 1 for
    the dollar, NaN where the store has no rate for the currency."""
    from tradesentry.findings import usd_rates_sql

    keys = pd.DataFrame(
        {"currency": stops["currency"].astype(str), "period": stops["start"].dt.strftime("%Y-%m")}
    )
    con.register("gap_stop_keys", keys.drop_duplicates())
    try:
        rates = con.sql(usd_rates_sql("gap_stop_keys")).df()
    finally:
        con.unregister("gap_stop_keys")
    per_usd = keys.merge(rates, how="left", on=["currency", "period"])["per_usd"].to_numpy(float)
    return np.where(keys["currency"].to_numpy() == "USD", 1.0, per_usd)


def _dollars(money, per_usd) -> np.ndarray:
    """``money`` in US dollars at ``per_usd`` where that is a rate, else as it is."""
    money, per_usd = np.asarray(money, dtype=float), np.asarray(per_usd, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isfinite(per_usd) & (per_usd > 0), money / per_usd, money)


def _small_before(stop) -> dict:
    """The small figures after a stop's last ordinary month, as ``[month, value]`` pairs,
    with that month and its value; {} where its last figure was of an ordinary size."""
    last = pd.Timestamp(stop.last_ordinary)
    if pd.isna(last) or last >= pd.Timestamp(stop.last):
        return {}
    months, values = stop.small_months, stop.small_values
    if not isinstance(months, list | np.ndarray):  # no small figure: zeros or withheld after it
        return {}
    small = [
        [str(pd.Period(m, freq="M")), round(float(v), 2)]
        for m, v in zip(months, values, strict=True)
        if pd.Timestamp(m) > last
    ]
    if not small:
        return {}
    return {
        "last_ordinary": str(pd.Period(last, freq="M")),
        "last_ordinary_value": round(float(stop.last_ordinary_value), 2),
        "small_before": small,
    }


def _explain_stop(finding: Mapping, ev: Mapping, months: list, unit: str) -> str:
    """A series that stopped while the reporter's record of its flow went on
    (``Gap.from_store``)."""
    cur = finding.get("currency") or ""
    reporter, flow = finding.get("reporter"), finding.get("flow")
    text = (
        f"No figures since {period_name(ev.get('last_reported'))}: the {len(months)} {unit}s "
        f"from {period_name(months[0])} to {period_name(months[-1])}, the latest complete {unit} of "
        f"{reporter}'s record of {flow}s in the store, although the series recorded trade in "
        f"{ev.get('traded_before')} of the {ev.get('months_before')} {unit}s before; "
        f"{about(finding.get('expected'), cur)} of trade would be expected there at "
        f"{_level_text(ev, cur, unit)}{_priced(ev, len(months), unit)}."
    )
    text += _small_text(ev, cur, unit)
    text += _siblings_text(finding, len(months), unit)
    said, reading = _partner_reading(finding, len(months), unit)
    if said and reading:
        return f"{text} {said}: {reading}"
    readings = (
        "The flow stopped (a closure, sanctions, a lost contract), or it is recorded under "
        "another code or partner from then, or its figures are late"
    )
    if said:  # the partner's record given, without a reading of its own
        return f"{text} {said} {readings}."
    return f"{text} {readings}{_partner_pointer(finding)}"


def _level_text(ev: Mapping, cur: str, unit: str) -> str:
    """The level a stop is priced at, in words: its usual month of that time, or its recent
    level where the flow had fallen below it before it stopped (``Gap._tested_stops``)."""
    level = about(ev.get("level"), cur)
    if ev.get("recent_level"):  # priced at its usual month again: the partner's went on
        return (
            f"its usual {unit} of that time ({level}), though its last "
            f"{ev.get('recent_figures')} figures had fallen to a median of "
            f"{about(ev['recent_level'], cur)}"
        )
    if not ev.get("usual_level"):
        return f"its usual {unit} of that time ({level})"
    return (
        f"the median of its last {ev.get('recent_figures')} figures ({level}), below its "
        f"usual {unit} of the year before ({about(ev['usual_level'], cur)}): the flow had "
        "fallen before it stopped"
    )


def _small_text(ev: Mapping, cur: str, unit: str) -> str:
    """Where a stop's last figures were small, one sentence: the flow may have ended at its
    last ordinary month ("" where its last figure was of an ordinary size)."""
    small = ev.get("small_before") or []
    if not small or not ev.get("last_ordinary"):
        return ""
    listed = joined([f"{money(v, cur)} in {period_name(m)}" for m, v in small])
    if len(small) == 1:
        which, each = "figure was", ""
    else:
        which, each = f"{plural(len(small), 'figure')} were", "each "
    return (
        f" Its last {which} small: {listed}, {each}under a tenth of its usual {unit}; "
        f"its last {unit} above a tenth of it was {period_name(ev['last_ordinary'])} "
        f"({money(ev.get('last_ordinary_value'), cur)}), and the flow may have ended then."
    )


def _priced(ev: Mapping, n_months: int, unit: str) -> str:
    """Where a stop is priced for fewer months than it runs: for as long as the flow ran."""
    priced = int(ev.get("priced_months") or n_months)
    if priced >= n_months:
        return ""
    return f", over its first {priced} {unit}s, as long as the flow had run"


def _siblings_text(finding: Mapping, n_months: int, unit: str) -> str:
    """What the reporter's other partners of the same line recorded in the gap's months
    (``context.sibling_months``): many of them empty at once point away from the pair, to
    the reporter's side: the line stopped there, or the months are missing from its record
    (Denmark's exports of CN 39206900 to 13 of 18 partners from mid-2023). Every one of
    them trading through the gap makes it the pair's own. Where the silent ones carry less
    than ``SIBLINGS_SHARE`` of their usual trade, the text names those that went on and
    draws no reading (Guinea's bauxite to Spain, Germany, Canada, Ireland and France fell
    silent in January–March 2017 while China's, 98 % of the line, went on). Nothing where
    fewer than ``SIBLINGS_FOR_READING`` partners traded around it, or fewer than half of
    them (at least two) fell silent: a few quiet partners of many are the line's usual
    turnover."""
    ev = finding.get("evidence") or {}
    trading, silent = int(ev.get("siblings_trading") or 0), int(ev.get("siblings_silent") or 0)
    if trading < SIBLINGS_FOR_READING:
        return ""
    reporter, partner = finding.get("reporter"), finding.get("partner")
    commodity = finding.get("commodity")
    goods = "goods" if commodity in (None, "", "TOTAL") else str(commodity)
    verb = "imported" if finding.get("flow") in ("import", "re-import") else "exported"
    towards = "from" if verb == "imported" else "to"
    them = f"that {unit}" if n_months == 1 else f"those {unit}s"
    partners = f"other partners {reporter} {verb} {goods} {towards} around {them}"
    if int(ev.get("siblings_held") or 0) == trading:
        return f" Each of the {trading} {partners} has trade in {them}: the gap is this flow's own."
    if silent < 2 or 2 * silent < trading:  # a few quiet partners of many: the line's turnover
        return ""
    names = joined(list(ev.get("siblings_named") or []))
    more = "" if silent <= len(ev.get("siblings_named") or []) else ", among others"
    where = them if int(ev.get("siblings_silent_all") or 0) == silent else f"most of {them}"
    count = f"All {trading}" if silent == trading else f"{silent} of the {trading}"
    said = f" {count} {partners} have no figure, or next to nothing, in {where} too ({names}{more})"
    if float(ev.get("siblings_silent_share", 1.0)) < SIBLINGS_SHARE:
        going = joined(list(ev.get("siblings_going") or []))
        return f"{said}, though those that went on ({going}) carry most of the line's trade."
    stopped = "its trade" if goods == "goods" else "the line"
    if ev.get("off_season_likelier"):  # the line's own season
        return f"{said}: the line's off season, it seems."
    return (
        f"{said}: a change on {reporter}'s side ({stopped} stopped, or {them} missing from its "
        f"record) is likelier than a break between {reporter} and {partner} alone."
    )


#: the other partners of the line trading around a gap that make their silence a reading
SIBLINGS_FOR_READING = 3
#: and the share of their usual trade the silent ones must carry for the reading: where the
#: partners that went on carry most of it, the line did not stop (Guinea's bauxite to
#: China, 98 % of the line, went on while five smaller buyers fell silent)
SIBLINGS_SHARE = 0.5


def _at_the_new_level(panel: Panel, model, rows, start, end) -> tuple[np.ndarray, np.ndarray]:
    """Where a level shift starts in the month after a run (the months before it and after
    it in two segments), the new level a month and what the run's months would hold at
    it, each month with its own season; NaN elsewhere. The model prices the run at the old
    level, its segment's: the change may have come anywhere in it.

    The new level is the one the level shift itself reports (``level_shift.local_levels``,
    the median of the months from it, as that detector reads them), not the model's local
    level in its first month: a gap saying "at that level" beside a level shift of "about
    2.7B GNF a month" had priced Guinea's 13 missing months of fish to Korea at the model's
    3.0B, 41.5B where 13 of the shift's months and their season make 37.3B."""
    inside = (start > 0) & (end + 1 < panel.n_months)
    before, after = np.where(inside, start - 1, 0), np.where(inside, end + 1, 0)
    changed = inside & (model.segment[rows, before] != model.segment[rows, after])
    level = np.full(len(rows), np.nan)
    if changed.any():
        habit, traded, _ = counted_months(panel, model)  # the months the level shift counts
        level[changed] = local_levels(
            traded, model.segment, rows[changed], after[changed], left_out=habit
        )["new"]
    # the run's months left-aligned, as ``run_expectations`` has them
    offsets = np.arange(int((end - start).max()) + 1)[None, :]
    cols = np.minimum(start[:, None] + offsets, end[:, None])
    offset = model.offset[rows][:, None]
    with np.errstate(invalid="ignore"):
        each = (level[:, None] + offset) * np.exp(model.seasonal[rows[:, None], cols]) - offset
    each = np.maximum(each, 0.0)
    total = np.where(offsets <= (end - start)[:, None], each, 0.0).sum(axis=1)
    ok = changed & np.isfinite(level)
    return np.where(ok, np.round(level, 2), np.nan), np.where(ok, np.round(total, 2), np.nan)


def _new_level_text(ev: Mapping, cur: str, unit: str) -> str:
    """The new level a month, as the level shift on the same series states it ("" in
    evidence from before it was kept)."""
    level = ev.get("new_level")
    return "" if level is None else f": {about(level, cur)} a {unit}"


#: the season moves a run's price at the new level from its months × the level by more than
#: this share, and the text says so: a season the model fits from three years of noise moves
#: such a sum by a percent or two, and 1 % had named "the season of other years" for a
#: series without one; within 5 % the months × the level is what "about" gives
NEW_SEASON_SHARE = 0.05


def _new_season_text(ev: Mapping, n_months: int) -> str:
    """Where the months' season moves what they would hold at the new level away from so
    many months of it, the words that say so: the reader multiplies the level the text (and
    the level shift) gives by the months, and 37.3B GNF for 13 months at 2.7B reads as a
    slip unless the season is named ("" where it is not, or the level is not given)."""
    level, held = ev.get("new_level"), ev.get("at_new_level")
    if level is None or held is None or not level > 0:
        return ""
    if abs(float(held) - n_months * float(level)) <= NEW_SEASON_SHARE * n_months * float(level):
        return ""
    return ", with the season of other years,"


def _withheld_months(panel: Panel, rows, start, end) -> np.ndarray:
    """Months of each run the source withheld (``Panel.withheld``)."""
    counts = np.zeros((panel.n_series, panel.n_months + 1), dtype=np.int64)
    np.cumsum(panel.withheld(), axis=1, out=counts[:, 1:])
    return counts[rows, end + 1] - counts[rows, start]


def _partner_reading(
    finding: Mapping, n_months: int, unit: str, own_withheld: int = 0
) -> tuple[str, str]:
    """What the partner's record of the same flow holds of the gap's months, where the store
    holds it around them (``context.mirror_months``), and what that suggests: ("", "")
    where it does not. Its figures are weighed against its own usual month, not the
    series' (two records of a flow can differ many times over); its silence suggests no
    trade only where it records the flow in most months the series does
    (``PARTNER_COVERAGE``). No reading where the figures cannot be weighed: withheld on
    either side, in a currency the store has no rate for, or a record seldom kept."""
    ev = finding.get("evidence") or {}
    if "partner_months" not in ev:
        return "", ""
    reporter, partner, flow = finding.get("reporter"), finding.get("partner"), finding.get("flow")
    them = f"that {unit}" if n_months == 1 else f"those {unit}s"
    if _other_scale(finding):
        cur = finding.get("currency") or "USD"
        return (
            f"{partner}'s record of the same flow runs at another scale (its usual {unit} "
            f"{about(ev['partner_usual'], cur)}, {reporter}'s expected {unit} here "
            f"{about(finding['expected'] / n_months, cur)}): it says little of {them}.",
            "",
        )
    theirs = (
        f"imports from {reporter}" if flow in ("export", "re-export") else f"exports to {reporter}"
    )
    k, hidden = int(ev["partner_months"]), int(ev.get("partner_withheld") or 0)
    too = " too" if own_withheld else ""
    if not k and hidden:
        some = them if hidden == n_months else f"{hidden} of {them}"
        return f"{partner}'s record of the same flow lists {some} without a value{too}.", ""
    around = int(ev.get("partner_around") or 0)
    own = int(ev.get("traded_before") or 0) + int(ev.get("traded_after") or 0)
    if not k:
        either = "" if own_withheld else " either"
        said = f"{partner}'s record of the same flow shows no trade in {them}{either}"
        near = f"{plural(around, unit)} around {'it' if n_months == 1 else 'them'}"
        if not _partner_silent(ev):  # a record seldom kept: its silence here says little
            return (
                f"{said}, but it has trade in only {near}, where {reporter}'s has {own}, so "
                "its silence says little.",
                "",
            )
        return (
            f"{said}, though it has trade in {near}, where {reporter}'s has {own}",
            "no trade in that time is the likelier reading, or both records left it out.",
        )
    value = ev.get("partner_value")
    currency = ev.get("partner_currency") or finding.get("currency") or "USD"
    amount = f" of {money(value, currency)}" if value is not None else ""
    where = f"for {them}" if k == n_months else f"in {k} of {them}"
    combined = (
        "; some of it a share of a figure over several months" if ev.get("partner_combined") else ""
    )
    said = f"{partner} recorded {theirs}{amount} {where} (its record of the same flow{combined}"
    if hidden:  # what it withheld may hold the rest: nothing to weigh
        return f"{said}), and lists {hidden} of them without a value{too}.", ""
    usual = ev.get("partner_usual")
    if value is None or "partner_currency" in ev or not usual:
        return said + ").", ""  # nothing to weigh it against
    said += f"; its usual {unit} about {money(usual, currency)})"
    if value < PARTNER_SHARE * usual * k:  # below its usual for the months it recorded
        return (
            said,
            "by its account some trade went on, well below its usual, so a quiet time with "
            "figures left out is as likely as a figure missing from the record.",
        )
    if k < n_months:
        return (
            said,
            f"by its account trade went on in {k} of them, so figures confidential, "
            f"suppressed or late in {reporter}'s record are the likelier reading there.",
        )
    return (
        said,
        f"by its account the trade went on, so a figure confidential, suppressed or late in "
        f"{reporter}'s record is the likelier reading than "
        f"{plural(n_months, unit) if n_months > 1 else 'a ' + unit} without trade.",
    )


def _partner_pointer(finding: Mapping, would: str = "tell") -> str:
    """Where the partner's record would tell the readings apart (or what it ``would`` do),
    said where the store holds none of it around the gap (with one, ``_partner_reading``
    reads it): a flow between two countries has one, and the mirror command sets the pair's
    records side by side once it is ingested (it had been offered alone, and printed n/a).
    Areas (World, X-codes) keep none."""
    reporter, partner = finding.get("reporter"), finding.get("partner")
    if not reporter or not has_partner_record(finding):
        return "."
    unit = period_unit(finding_freq(finding))  # an annual series' gap is in years
    return (
        f": {partner}'s record of the same flow would {would}; the store holds none of it "
        f"around these {unit}s (ingest {partner}'s records, then {_mirror_command(finding)})."
    )


def _mirror_command(finding: Mapping) -> str:
    """The mirror command that opens the finding's own series, to copy into a shell.

    Built of reporter, partner and commodity alone it failed for a commodity the store
    holds under two classifications ("pass --classification"), and showed a flow's total
    for a gap in one of its parts (a mode of transport) where no month is missing: the
    series' classification is always named (the store cannot be asked here whether it
    holds another), its breakdown where it is a part, and ``--freq A`` for an annual
    series (without it, mirror compares monthly figures where the store has any). Every
    value is shell-quoted: a code is the source's text, and a ``;`` in it (or a breakdown's
    ``partner2=0;customs=C00``) would end the command in a shell."""
    words = ["tradesentry", "mirror", finding.get("reporter"), finding.get("partner")]
    words += ["--commodity", finding.get("commodity")]
    if finding.get("classification"):
        words += ["--classification", finding.get("classification")]
    if finding.get("breakdown"):  # '' is the flow's total, mirror's default
        words += ["--breakdown", finding.get("breakdown")]
    if finding_freq(finding) == "A":
        words += ["--freq", "A"]
    return " ".join(shlex.quote(str(word)) for word in words)


def _series_rate(
    reported: np.ndarray, traded: np.ndarray, rows: np.ndarray, length: np.ndarray
) -> np.ndarray:
    """(months with trade + ½)/(months + 1) over the series' span from first to last report,
    the run itself left out."""
    T = reported.shape[1]
    first = np.argmax(reported, axis=1)
    last = T - 1 - np.argmax(reported[:, ::-1], axis=1)
    span = last - first + 1
    return (traded.sum(axis=1)[rows] + 0.5) / (span[rows] - length + 1.0)


def _same_month_rates(
    panel: Panel, reported: np.ndarray, traded: np.ndarray, rows, start, end, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each month of each run (runs × longest run, NaN past a run's end) at the lower of the
    run's rate ``p`` and its calendar month's own: (months of that calendar month with trade
    + ``SAME_MONTH_PRIOR``·p)/(such months + ``SAME_MONTH_PRIOR``) over the series' span,
    the run left out; with, per run, how many such months its months have in other years
    and how many of those were without trade. A month no other year holds is at p; an
    annual series has no calendar months, and all its months are at p."""
    length = end - start + 1
    k = np.arange(int(length.max()))[None, :]
    inside = k < length[:, None]
    at_p = np.where(inside, p[:, None], np.nan)
    none = np.zeros(len(rows), dtype=np.int64)
    if panel.freq != "M":
        return at_p, none, none
    T = reported.shape[1]
    month = panel.calendar_month.astype(np.int64)
    first = np.argmax(reported, axis=1)[:, None]
    last = T - 1 - np.argmax(reported[:, ::-1], axis=1)[:, None]
    cols = np.arange(T)[None, :]
    in_span = (cols >= first) & (cols <= last)
    of_month = (month[:, None] == np.arange(12)[None, :]).astype(np.int64)  # T × 12
    held = in_span.astype(np.int64) @ of_month  # series × calendar month
    with_trade = (traded & in_span).astype(np.int64) @ of_month
    calendar = month[np.minimum(start[:, None] + k, T - 1)]
    # the run's own months of that calendar month, all in the span and without trade
    own = (length[:, None] - 1 - k) // 12 + k // 12 + 1
    other = np.where(inside, held[rows[:, None], calendar] - own, 0)
    other_trade = np.where(inside, with_trade[rows[:, None], calendar], 0)
    rate = (other_trade + SAME_MONTH_PRIOR * p[:, None]) / (other + SAME_MONTH_PRIOR)
    rate = np.where(inside, np.minimum(rate, p[:, None]), np.nan)
    return rate, other.sum(axis=1), (other - other_trade).sum(axis=1)


def months_off_season(panel: Panel, reported: np.ndarray, rows, start, end) -> np.ndarray:
    """Which months of each run (runs × longest run) fall in what may be its series' off
    season: where the
    span (first to last report) outside the run holds fewer than ``YEAR_SHOWN`` calendar
    months, the longest stretch of the year it never shows (``off_season``), of which its
    rate of trade, measured in the rest of the year, says nothing; and only where the
    season repeats, a calendar month of the span held both before the run and after it
    (a flow seen in one year only shows no season: its months may be anything). None in an
    annual series. The series' own record decides, never the panel's first month: a
    series scanned alone or in any chunk reads the same."""
    length = end - start + 1
    if panel.freq != "M" or not rows.size:
        return np.zeros((len(rows), int(length.max(initial=1))), dtype=bool)
    T = reported.shape[1]
    cols = np.arange(T)[None, :]
    first = np.argmax(reported[rows], axis=1)[:, None]
    last = T - 1 - np.argmax(reported[rows, ::-1], axis=1)[:, None]
    month = panel.calendar_month
    before = (cols >= first) & (cols < start[:, None])
    after = (cols > end[:, None]) & (cols <= last)
    # the span's calendar months on each side of the run, per run
    held_before = np.stack([before[:, month == m].any(axis=1) for m in range(12)], axis=1)
    held_after = np.stack([after[:, month == m].any(axis=1) for m in range(12)], axis=1)
    repeats = (held_before & held_after).any(axis=1)
    k = np.arange(int(length.max()))[None, :]
    inside = k < length[:, None]
    run_month = month[np.minimum(start[:, None] + k, T - 1)]
    off = np.take_along_axis(off_season(held_before | held_after), run_month, axis=1) & inside
    return off & repeats[:, None]


def off_season(held: np.ndarray) -> np.ndarray:
    """The calendar months (columns, January first) that may be a series' off season, per
    row of ``held`` (the calendar months its record shows): where it shows fewer than
    ``YEAR_SHOWN``, the longest stretch of the year (around December too) it never shows,
    where one stretch is the longest; else none. Guinea's cotton to Pakistan, February to
    April and August to October 2016, leaves May–July and November–January: neither is the
    off season, and the three months missing between are judged; its cashews to Singapore,
    April to July, leave August to March, which is."""
    free = ~held
    ring = np.concatenate([free, free, free], axis=1)  # a stretch may run past December
    ahead, behind = np.zeros(ring.shape, np.int64), np.zeros(ring.shape, np.int64)
    for c in range(ring.shape[1]):  # 36 columns, every row at once
        behind[:, c] = np.where(ring[:, c], (behind[:, c - 1] if c else 0) + 1, 0)
        r = ring.shape[1] - 1 - c
        ahead[:, r] = np.where(ring[:, r], (ahead[:, r + 1] if c else 0) + 1, 0)
    stretch = np.where(free, np.minimum(ahead[:, 12:24] + behind[:, 12:24] - 1, 12), 0)
    starts = free & ~np.roll(free, 1, axis=1)  # each stretch counted once, at its first month
    longest = stretch.max(axis=1, initial=0)
    alone = (starts & (stretch == longest[:, None])).sum(axis=1) == 1
    short = held.sum(axis=1) < YEAR_SHOWN
    return free & (stretch == longest[:, None]) & (alone & short)[:, None]


def missing_runs(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first, last) of each interior run of True (not touching the row's ends)."""
    n, T = missing.shape
    if T == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    prev = np.pad(missing, ((0, 0), (1, 0)))[:, :-1]
    nxt = np.pad(missing, ((0, 0), (0, 1)))[:, 1:]
    r0, s = np.nonzero(missing & ~prev)
    r1, e = np.nonzero(missing & ~nxt)  # same runs, same row-major order
    interior = (s > 0) & (e < T - 1)
    return r0[interior], s[interior], e[interior]


#: the season is named where it moves a run's expected money beyond this factor, as a
#: record is "about its usual month" only within it (mirror_gap, unit_value)
SEASON_NAMED = 1.25


def _without_season(model, rows, start, end, expected: np.ndarray) -> np.ndarray:
    """Each run's expected money from the level alone, where the calendar months' effects
    move it beyond ``SEASON_NAMED`` either way (NaN elsewhere): the text then says the
    same months of other years are behind the figure, and what the months around give."""
    level = np.exp(model.expected_log - model.seasonal) - model.offset[:, None]
    each, _ = run_expectations(level, model.offset, rows, start, end)
    plain = run_sums(each)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = expected / plain
    named = np.isfinite(ratio) & ((ratio > SEASON_NAMED) | (ratio < 1 / SEASON_NAMED))
    return np.where(named, plain, np.nan)


def _season_capped(
    panel: Panel, model, rows: np.ndarray, start: np.ndarray, end: np.ndarray, each: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each run month's expectation (``run_expectations``' ``each``) where a calendar
    month's effect raised it beyond ``SEASON_NAMED`` times the level alone, capped at the
    larger of the level alone and the most that calendar month recorded in the series'
    other years; and how many months of each run were capped.

    A season's factor is a ratio, read where the series ran at another level: two
    Septembers of €4–5K among months of €4–100 made a factor of about 68, which a year at
    €3.6K a month turned into €244.7K expected for its missing September, 15 times the
    largest month the series ever recorded. The other years' same months are the evidence
    for the season: a missing month is priced at no more than they held."""
    length = end - start + 1
    offsets = np.arange(each.shape[1])[None, :]
    inside = offsets < length[:, None]
    cols = np.minimum(start[:, None] + offsets, end[:, None])
    series = rows[:, None]  # the level alone at the runs' months only, not the whole chunk
    plain = np.exp(model.expected_log[series, cols] - model.seasonal[series, cols])
    plain -= model.offset[series]
    most = np.full(each.shape, np.nan)
    if panel.season > 1:  # an annual series has no calendar month's effect
        values, T = panel.values[rows], panel.n_months
        r = np.arange(len(rows))[:, None]
        for lag in range(panel.season, T, panel.season):  # as many lags as years
            for other in (cols - lag, cols + lag):
                held = values[r, np.clip(other, 0, T - 1)]
                most = np.fmax(most, np.where((other >= 0) & (other < T), held, np.nan))
    cap = np.fmax(plain, most)
    # a season that moves the month less than ``SEASON_NAMED`` is not named, nor capped
    over = inside & np.isfinite(each) & np.isfinite(cap) & (each > cap)
    over &= each > SEASON_NAMED * plain
    return np.where(over, cap, each), over.sum(axis=1)


def run_expectations(
    expected: np.ndarray, offset: np.ndarray, rows: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The expected value of each month of each run, left-aligned (NaN beyond its end), and
    how many of them were carried across from the run's edges.

    The model prices a month from the reported months within a year of it, so the middle of
    a run longer than two years has no expectation of its own: there the level on each side
    is carried across, interpolated by distance on the model's log scale (``offset`` is its
    per-series constant), so that five missing years of a steady $1M a month are worth
    about $60M, not the $24M of their edges.
    """
    length = end - start + 1
    offsets = np.arange(int(length.max()))[None, :]
    inside = offsets < length[:, None]
    cols = np.minimum(start[:, None] + offsets, end[:, None])
    each = np.where(inside, expected[rows[:, None], cols], np.nan)
    c = offset[rows][:, None]
    log_each = np.log(each + c)
    priced = np.isfinite(each)
    position = np.broadcast_to(offsets, each.shape)
    never = np.iinfo(np.int64).max
    left = np.maximum.accumulate(np.where(priced, position, -1), axis=1)
    right = np.flip(np.minimum.accumulate(np.flip(np.where(priced, position, never), 1), 1), 1)
    has_left, has_right = left >= 0, right != never
    r = np.arange(len(rows))[:, None]
    at_left = log_each[r, np.maximum(left, 0)]
    at_right = log_each[r, np.where(has_right, right, 0)]
    share = np.where(has_left & has_right, (position - left) / np.maximum(right - left, 1), 0.0)
    share = np.where(has_left, share, 1.0)  # only the right side known: carry it
    carried = np.maximum(np.exp(at_left + share * (at_right - at_left)) - c, 0.0)
    carried = np.where(has_left, carried, np.maximum(np.exp(at_right) - c, 0.0))
    fill = ~priced & inside & (has_left | has_right)
    return np.where(fill, carried, each), fill.sum(axis=1)


def run_sums(each: np.ndarray) -> np.ndarray:
    """Sum of each left-aligned run (NaN where nothing is priced).

    A running sum adds the months in order, so a run's total does not depend on how long
    the other runs of the chunk are (a pairwise sum's grouping would), nor on where the
    chunk's axis starts: the same series gives the same figure to the last bit in any chunk.
    """
    if each.shape[1] == 0:
        return np.full(each.shape[0], np.nan)
    total = np.cumsum(np.nan_to_num(each), axis=1)[:, -1]
    return np.where(np.isfinite(each).any(axis=1), total, np.nan)
