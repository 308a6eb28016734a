"""mirror_gap: a reporter's record of a flow against the partner's record of the same flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from math import comb, exp, log
from statistics import NormalDist

import numpy as np
import pandas as pd

from tradesentry.context import (
    MIRROR_BAND_SIGMA,
    MIRROR_MIN_SPREAD,
    MIRROR_PAIR_MONTHS,
    MIRROR_PERSISTENT_FACTOR,
)
from tradesentry.detectors.base import (
    MATERIAL_MONEY,
    Detector,
    confidence,
    detections,
    no_detections,
)
from tradesentry.detectors.cross import context_array, row_center_spread, row_median, run_sum, runs
from tradesentry.detectors.evidence import evidence_figure, finding_freq
from tradesentry.panel import Panel
from tradesentry.text import (
    about,
    figures_apart,
    money,
    money_pair,
    percent,
    period_name,
    period_unit,
    plural,
)
from tradesentry.text import ratio as ratio_text

_EXPORT_SIDE = ("export", "re-export")
QUARTILE = 0.6745  # the quartiles of a normal distribution, in σ


@dataclass(frozen=True)
class MirrorGap(Detector):
    """Each month's log ratio of the import record to the export record (B's imports from A
    over A's exports to B, converted to one currency with the store's monthly rates) is
    judged against a usual ratio and a band, and the expected figure (the partner's record
    at that usual ratio) rests on the same usual ratio: the band's centre.

    The detector cannot tell which record is wrong, so the money at stake (``impact``) is
    the smaller of the two corrections that would reconcile the records at the usual ratio:
    the reporter's figure moved to the one the partner's implies, or the partner's figure
    moved to the one the reporter's implies (in the reporter's currency). A pair whose
    importer usually books 20 times its exporter's figure would otherwise put at stake 20
    times the exporter's slip. ``expected`` is the reporter's figure the partner's record
    implies, whichever correction is at stake (a figure either record could hold). The
    evidence keeps both corrections and each side's usual month (its median over the months
    compared outside the finding), and the explanation says which record moved against its
    own usual month, month for month, where at least ``min_usual_months`` such months make
    a usual one and the gap is not persistent (its usual months hold the gap itself).
    Materiality is judged on the smaller correction too, so the two sides of a pair agree
    on which months are a gap.

    The commodity's usual ratio and band: the median and robust σ (1.4826 × MAD) of the
    ratio across every mirror pair and month in the store, estimated once more without the
    pairs whose own median lies outside that band (``context.mirror_reference_sql``: a
    broken pair is one habit, not many slips, and widened the band that should show it),
    shrunk towards the literature's
    CIF/FOB margin (about 6 %, none inside the EU) where the data hold few pairs; a month
    is outside it beyond ``threshold`` σ. A pair with at least ``min_pair_months`` compared
    months has a usual ratio of its own: its median, shrunk towards the commodity's by
    precision (the median of n months, variance π/2 · σ² / n with the pair's robust σ
    floored at ``pair_min_spread``, against the commodity's σ across pairs). Intra-EU CN8
    codes show why: 39199020 and 35069110 mix pairs whose records agree at about 1 with
    pairs whose importer books several times more, and the commodity's median (1.95, 2.41)
    fits neither; a pair that has agreed at 0.976 for 34 months implies its reporter's
    figure at 0.976. Such a pair is judged by its own band: a month more than
    ``break_threshold`` of its own σ (at most the commodity's band half-width) from its
    usual ratio, and further from the commodity's than that usual ratio is (a month where
    the two records agree better than usual is no gap). Where the pair's median lies
    outside the commodity's band (more than half its months beyond it on one side), or
    ``persistent_factor`` times or more off the commodity's usual ratio however wide the
    band (one record 20 times the other over a year is no margin, timing or threshold:
    ``context.MIRROR_PERSISTENT_FACTOR``), the habit is itself the anomaly, a persistent
    gap: the pair is judged by the commodity's
    band and ratio, and each of its months whose ratio stays beyond the commodity's
    quartile on that side (median ∓ 0.674 σ) is part of the gap, although the wide band
    holds it and however small it is; its months back on the usual side are bridged (as
    months one side did not record are), so the pair is one finding. Pairs with fewer
    months are judged by the commodity's band and ratio. A month is flagged only when its
    gap is at least ``materiality`` of the pair's usual monthly trade (but for a persistent
    gap's months); and two adjacent months with opposite gaps of similar size (at least
    half) whose two-month totals would not be flagged are one shipment booked in different
    months, not a gap.

    Contiguous flagged months, on the same side, are one finding over their span; months
    where one side has no record are bridged, not counted, and the explanation says over
    how many months both recorded the totals are. The score grows
    with the distance from the band; a persistent gap's with the evidence that the pair's
    usual ratio lies outside it, the stronger of two readings: its median's distance, as a
    month's, and the sign test of that median (how many of the pair's months lie beyond the
    band's edge, against the half that would if its usual ratio sat on the edge), which
    grows with the months: 34 of 34 months just beyond it (3.8 σ) are far surer than one
    month as far (0.98, not 0.57, the median's distance alone having scored the pair as
    one month), while 20 of 35 (AUT←DEU 48064010) are barely surer than one (0.64, not
    0.59). But a gap g below ``material_money`` US dollars scores at
    most g / ``material_money`` (0.5 at $1,000, the smallest change ``revision`` reports in a
    dollar series): a pair whose whole trade is a few tens of euros passes the materiality
    test against its own size, and a zero on one side puts its ratio infinitely far, yet
    such a gap is the ordinary noise of small records (rounding, reporting thresholds).
    The gap is converted to dollars month by month with the store's rate for the series'
    currency (context ``own_per_usd``); a finding with a month the store has no rate for
    is capped in the series' own currency units instead (g / ``material_money`` units), which
    for a currency worth far less than a dollar (JPY, KRW) caps almost nothing: load the
    rates (``tradesentry rates FILE``) to cap it in dollars. Why: imports are valued CIF
    and exports FOB, so the ratio is not 1, and mirror records of small monthly flows
    disagree a lot for ordinary reasons (timing, confidentiality, partner attribution,
    classification); only a data-based band tells an unusual gap from that noise, and a
    pair's own history tells it best where the pair has one.
    """

    kind = "mirror_gap"
    needs = ("mirror", "mirror_margin")

    # the commodity's band and what makes a pair persistent: one setting shared with the
    # band's estimate, which leaves such pairs out (``context.mirror_reference_sql``)
    threshold: float = MIRROR_BAND_SIGMA
    break_threshold: float = 5.0
    literature_margin: float = 0.06
    literature_spread: float = 0.3
    prior_weight: float = 30.0
    min_spread: float = MIRROR_MIN_SPREAD
    pair_min_spread: float = 0.3
    min_pair_months: int = MIRROR_PAIR_MONTHS
    persistent_factor: float = MIRROR_PERSISTENT_FACTOR  # a pair this far off: persistent
    min_usual_months: int = 6  # compared months outside a finding that make a usual month
    materiality: float = 0.2
    material_money: float = MATERIAL_MONEY  # US dollars; currency units where the store has no rate

    def detect(self, panel: Panel) -> pd.DataFrame:
        c = self._cells(panel)
        if c is None:
            return no_detections()
        flagged = self._flag(c)
        # a persistent gap is one event: its months back on the usual side of the
        # commodity's quartile are bridged, as months one side did not record are
        judged = c["usable"] & ~(c["persistent"] & ~flagged)
        rows, starts, ends = runs(flagged, judged, np.where(c["gap"] > 0, 1, 2))
        if len(rows) == 0:
            return no_detections()
        found = (rows, starts, ends)
        observed = run_sum(np.where(flagged, c["own"], 0.0), *found)
        own_fix = run_sum(np.where(flagged, c["gap"], 0.0), *found)
        partner_fix = run_sum(np.where(flagged, c["k"] * c["gap"], 0.0), *found)
        partner = np.abs(partner_fix) < np.abs(own_fix)
        impact = np.where(partner, partner_fix, own_fix)
        expected = observed + own_fix  # the reporter's figure the partner's record implies
        labels = panel.label(np.arange(panel.n_months))
        evidence, z = [], np.empty(len(rows))
        for i, (r, a, b) in enumerate(zip(rows, starts, ends, strict=True)):
            span = np.arange(a, b + 1)
            cols = span[flagged[r, span]]
            z[i] = np.median(c["z"][r, cols])
            ev = self._evidence(c, labels, r, cols, span)
            ev["corrections"] = {
                "own": _round(own_fix[i]),
                "partner": _round(partner_fix[i]),
                "at_stake": "partner" if partner[i] else "own",
            }
            evidence.append(ev)
        return detections(
            self.kind,
            rows,
            starts,
            ends,
            observed=observed,
            expected=expected,
            impact=impact,
            score=self._score(z, self._at_stake(c, flagged, found, impact, partner)),
            evidence=evidence,
        )

    def _score(self, z: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Confidence from the distance, capped by the money at stake (``gap``, in US
        dollars where the rates are known): however far a ratio of tens of dollars is from
        the band, the gap is small-record noise, not high."""
        distance = confidence(self.threshold * z, self.threshold)
        return np.minimum(distance, gap / self.material_money)

    def _at_stake(
        self,
        c: dict,
        flagged: np.ndarray,
        found: tuple[np.ndarray, ...],
        impact: np.ndarray,
        partner: np.ndarray,
    ) -> np.ndarray:
        """Each finding's gap (its flagged months, all on one side; ``found``: the runs'
        rows, starts and ends; the smaller correction, the partner's where ``partner``) in
        US dollars; where a flagged month has no rate in the store, ``|impact|`` in the
        series' currency units.

        Each month's gap is converted at that month's rate and the months are summed: the
        gap is a sum of monthly amounts, each worth its own month's dollars (as the mirror
        figures themselves are converted month by month). Dividing the total by the run's
        median rate would be exact only for a steady rate: where the currency moved within
        the run (a devaluation), it would value the months holding most of the gap at
        other months' rates. Dollars and currency units do not add up, so a finding with a
        month lacking a rate is measured in units as a whole (only a pair whose two sides
        report in the same currency can lack one: converting the partner's figure into
        another currency needs the series' own rate for every month compared).
        """
        per_usd = c["per_usd"]
        rated = np.isfinite(per_usd)
        gap = np.abs(c["gap"])
        usd_own = run_sum(np.where(flagged & rated, gap / per_usd, 0.0), *found)
        usd_partner = run_sum(np.where(flagged & rated, c["k"] * gap / per_usd, 0.0), *found)
        usd = np.where(partner, usd_partner, usd_own)
        unrated = run_sum((flagged & ~rated).astype(float), *found) > 0
        return np.where(unrated, np.abs(impact), usd)

    def _cells(self, panel: Panel) -> dict | None:
        """Both records of each cell, their log ratio import/export, and the usual band."""
        mirror = context_array(panel, "mirror_value")
        if mirror is None:
            return None
        own = panel.values
        usable = np.isfinite(own) & np.isfinite(mirror) & (own >= 0) & (mirror >= 0)
        usable &= (own > 0) | (mirror > 0)
        ok = context_array(panel, "mirror_currency_ok")
        # both sides recorded the month, but no rate converts one into the other: not
        # compared, and said apart from the months one side did not record
        unrated = np.zeros(own.shape, dtype=bool) if ok is None else np.isfinite(own) & (ok == 0)
        if ok is not None:
            usable &= ok == 1
        if not usable.any():
            return None
        side = self._side(panel)  # +1: own is the export record; -1: the import record
        margin, spread, n_ref = self._band(panel)
        log_ratio, typical = self.pair_ratios(own, mirror, side, usable)
        habit = self.pair_usual(log_ratio, margin, spread)
        k = np.exp(side * habit["usual"])  # the partner's usual figure per unit of the own
        expected_own = mirror / k
        rates = context_array(panel, "own_per_usd")
        per_usd = _or(rates, own.shape, np.nan)
        return {
            "own": own,
            "mirror": mirror,
            "unrated": unrated,
            # of those, the months whose own currency has no rate (else the partner's has none)
            "own_unrated": unrated & (False if rates is None else ~np.isfinite(rates)),
            "usable": usable,
            "side": side,
            "margin": margin,
            "spread": spread,
            "n_ref": n_ref,
            "intra": _or(context_array(panel, "mirror_intra_eu"), own.shape, 0.0) == 1,
            "typical": typical,
            "log_ratio": log_ratio,
            **habit,
            "expected_own": expected_own,
            "gap": expected_own - own,
            "k": k,
            "per_usd": np.where(per_usd > 0, per_usd, np.nan),  # NaN: no rate in the store
        }

    def pair_ratios(
        self, own: np.ndarray, mirror: np.ndarray, side: np.ndarray, usable: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's log ratio import/export (NaN where not ``usable``; a reported zero
        at a millionth of the row's typical month: far, not -inf) and each row's typical
        month (the median of the larger record). ``side``: +1 where ``own`` is the export
        record, -1 where it is the import record."""
        typical = row_median(np.where(usable, np.maximum(own, mirror), np.nan))
        floor = np.maximum(typical, 1e-300)[:, None] * 1e-6
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = side * (np.log(np.maximum(mirror, floor)) - np.log(np.maximum(own, floor)))
        return np.where(usable, lr, np.nan), typical

    def pair_usual(
        self, log_ratio: np.ndarray, margin: np.ndarray, spread: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The pair's own usual ratio and the ratio its expected figures rest on.

        ``log_ratio``: each row's log ratios (NaN where not compared); ``margin`` and
        ``spread``: the commodity's usual log ratio and σ per cell. Returns per row
        ``center`` (the pair's median), ``pair_spread`` (its robust σ, floored) and
        ``pair_n`` (its compared months); per cell ``persistent`` (at least
        ``min_pair_months`` months, and the median beyond the edge: the commodity's band,
        more than half the months beyond it on one side, or ``persistent_factor`` times off
        its usual ratio where that is nearer), ``persistent_z`` (the evidence of that, in
        the commodity's σ and over ``threshold`` exactly where the pair is persistent: the
        median's distance over the edge's, or one plus the sign test's deviate of the months
        beyond the edge on its side over ``threshold``, the larger, times ``threshold``),
        ``own_habit`` (as many months, not
        persistent), ``pair_median``, ``pair_usual`` (the median shrunk towards
        the commodity's by precision: the median of n months, variance π/2 · σ² / n,
        against the commodity's σ), ``usual`` (``pair_usual`` where ``own_habit``, else
        the commodity's ratio) and ``pair_width`` (the half-width of the pair's own band:
        ``break_threshold`` of its σ, at most the commodity's ``threshold`` σ).
        """
        center, pair_spread, pair_n = row_center_spread(log_ratio)
        pair_spread = np.maximum(pair_spread, self.pair_min_spread)
        n, ps = pair_n[:, None].astype(float), pair_spread[:, None]
        own_center = np.where(n > 0, center[:, None], margin)
        enough = n >= self.min_pair_months
        # the edge a pair's median must pass to be persistent: the band's, or ×20 where the
        # band is wider (``context.MIRROR_PERSISTENT_FACTOR``); the evidence is read against
        # the same edge, so that it is over the threshold exactly where the pair is persistent
        edge = np.minimum(self.threshold * spread, np.log(self.persistent_factor))
        persistent = enough & (np.abs(own_center - margin) > edge)
        own_habit = enough & ~persistent
        weight = n / (np.pi / 2 * ps**2)
        prior = 1.0 / spread**2
        pair_usual = (weight * own_center + prior * margin) / (weight + prior)
        # the sign test of the median: how many of the pair's months lie beyond the band's
        # edge on its median's side, against a fair coin (a pair whose usual ratio sat on
        # the edge would have half of them beyond it)
        beyond = np.sign(own_center - margin) * (log_ratio - margin) > edge
        held = 1.0 + sign_test_z(pair_n, beyond.sum(axis=1))[:, None] / self.threshold
        return {
            "center": center,
            "pair_spread": pair_spread,
            "pair_n": pair_n,
            "pair_median": own_center,
            "pair_usual": pair_usual,
            "persistent": persistent,
            "persistent_z": self.threshold * np.maximum(np.abs(own_center - margin) / edge, held),
            "own_habit": own_habit,
            "usual": np.where(own_habit, pair_usual, margin),
            "pair_width": np.minimum(self.break_threshold * ps, self.threshold * spread),
        }

    def _flag(self, c: dict) -> np.ndarray:
        """Months outside the band their expected figure rests on (the pair's own, or the
        commodity's, or in a persistent gap), material; a persistent gap's months need not
        be material one by one (the pair as a whole is).

        Also sets ``c["z_band"]``, ``c["z_break"]`` and ``c["z_held"]`` (each statistic
        over its threshold) and ``c["z"]``, the one the month is judged by.
        """
        c["z"], (c["z_band"], c["z_break"], c["z_held"]) = self._z(c, c["log_ratio"])
        smaller = np.abs(c["gap"]) * smaller_share(c["k"])  # the same on both sides
        material = smaller >= self.materiality * c["typical"][:, None]
        flagged = c["usable"] & (material | (c["z_held"] > 1.0)) & (c["z"] > 1.0)
        return flagged & ~self._timing(c, flagged)

    def _z(
        self, c: dict, lr: np.ndarray, cols: slice = slice(None)
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The statistic each log ratio of ``lr`` (in the columns ``cols`` of the cells) is
        judged by, over its threshold, and its three parts: the distance from the
        commodity's band; from the pair's own usual ratio (where the pair has a habit
        inside the band, and only when the month moved further from the band's centre
        than the habit); in a persistent gap, the evidence that the pair's usual ratio is
        outside the band (``persistent_z``: n months beyond its edge say more than one)
        where the month stays beyond the commodity's quartile on the gap's side. A pair with a
        habit is judged by its own band, the others by the commodity's; a month of a
        persistent pair on the other side of the band's centre from the pair's habit by its
        break from that habit too: Austria's exports of CN 32121000 to Germany, usually 11
        times Germany's record of them, at 1/19 of it in August 2023 (€1.07M against
        €39.0K) had been high against the pair's habit, and read only by its distance
        from the band (medium) once a narrower band made the pair persistent."""
        margin, spread = c["margin"][:, cols], c["spread"][:, cols]
        usual, median = c["usual"][:, cols], c["pair_median"][:, cols]
        own_habit, persistent = c["own_habit"][:, cols], c["persistent"][:, cols]
        off = lr - margin
        z_band = np.abs(off) / spread / self.threshold
        habit_side = np.sign(median - margin)
        broke = (own_habit & (np.abs(off) > np.abs(usual - margin))) | (
            persistent & (np.sign(off) == -habit_side)
        )
        pair_usual = np.where(own_habit, usual, c["pair_usual"][:, cols])
        z_break = np.where(broke, np.abs(lr - pair_usual) / c["pair_width"][:, cols], 0.0)
        held = persistent & (np.sign(off) == habit_side) & (np.abs(off) > QUARTILE * spread)
        z_held = np.where(held, c["persistent_z"][:, cols] / self.threshold, 0.0)
        judged = np.where(own_habit, z_break, np.fmax(z_band, np.fmax(z_held, z_break)))
        return judged, (z_band, z_break, z_held)

    def judged(
        self,
        log_ratio: np.ndarray,
        margin: np.ndarray,
        spread: np.ndarray,
        habit: Mapping[str, np.ndarray],
    ) -> np.ndarray:
        """The statistic each month is judged by, over its threshold (> 1: outside the band
        it is judged by): ``log_ratio``, ``margin`` and ``spread`` per cell, ``habit`` as
        ``pair_usual`` returns it. For views that show the detector's verdict per month."""
        return self._z({"margin": margin, "spread": spread, **habit}, log_ratio)[0]

    def _timing(self, c: dict, flagged: np.ndarray) -> np.ndarray:
        """Flagged months whose neighbour has a matching opposite gap (at least half as
        large) and whose two-month totals would not themselves be flagged: one record
        booked the shipment a month later than the other, no gap. The gaps are those of
        the expected figure, at the ratio the months are judged by."""
        own, mirror, usable = np.nan_to_num(c["own"]), np.nan_to_num(c["mirror"]), c["usable"]
        pair = (
            (flagged[:, :-1] | flagged[:, 1:])
            & usable[:, :-1]
            & usable[:, 1:]
            & (np.sign(c["gap"][:, :-1]) != np.sign(c["gap"][:, 1:]))
        )
        g1, g2 = np.abs(c["gap"][:, :-1]), np.abs(c["gap"][:, 1:])
        pair &= np.minimum(g1, g2) >= 0.5 * np.maximum(g1, g2)  # the excess matches the shortfall
        with np.errstate(divide="ignore", invalid="ignore"):
            lr2 = c["side"] * np.log((mirror[:, :-1] + mirror[:, 1:]) / (own[:, :-1] + own[:, 1:]))
        pair &= self._z(c, lr2, slice(1, None))[0] <= 1.0
        timing = np.zeros_like(flagged)
        timing[:, :-1] |= pair
        timing[:, 1:] |= pair
        return timing

    def _side(self, panel: Panel) -> np.ndarray:
        exports = panel.keys["flow"].isin(_EXPORT_SIDE).to_numpy()
        return np.where(exports, 1.0, -1.0)[:, None]

    def _band(self, panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Usual log ratio and its σ per cell: the data's, shrunk towards the literature's."""
        shape = panel.values.shape
        n = _or(context_array(panel, "mirror_margin_n"), shape, 0.0)
        margin, spread = self.usual_band(
            _or(context_array(panel, "mirror_margin"), shape, 0.0),
            _or(context_array(panel, "mirror_margin_spread"), shape, 0.0),
            n,
            _or(context_array(panel, "mirror_intra_eu"), shape, 0.0) == 1,
        )
        return margin, spread, n

    def usual_band(
        self, data_margin: np.ndarray, data_spread: np.ndarray, n: np.ndarray, intra: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The usual log ratio import/export and its σ, from the store's mirror pairs
        (``n`` pair-months) shrunk towards the literature (``prior_weight`` pair-months of
        a 6 % margin, none inside the EU, with σ ``literature_spread``)."""
        prior_margin = np.where(intra, 0.0, np.log1p(self.literature_margin))
        w = self.prior_weight
        margin = (n * data_margin + w * prior_margin) / (n + w)
        spread = np.sqrt((n * data_spread**2 + w * self.literature_spread**2) / (n + w))
        return margin, np.maximum(spread, self.min_spread)

    def _evidence(
        self, c: dict, labels: np.ndarray, r: int, cols: np.ndarray, span: np.ndarray
    ) -> dict:
        """The run's flagged months (``cols``) of the months of its ``span``."""
        a = cols[0]
        own, mirror = c["own"][r, cols], c["mirror"][r, cols]
        m, s = c["margin"][r, a], c["spread"][r, a]
        side = c["side"][r, 0]
        persistent_pair = bool(c["persistent"][r, a])
        # a month of a persistent pair whose gap runs the other way is no part of that gap
        habit_side = np.sign(c["pair_median"][r, a] - m)
        persistent = persistent_pair and bool(
            (np.sign(c["log_ratio"][r, cols] - c["margin"][r, cols]) == habit_side).any()
        )
        basis = "pair" if c["own_habit"][r, a] else "persistent" if persistent else "commodity"
        unrated = c["unrated"][r, span]
        one_sided = (
            ~np.isfinite(c["own"][r, span]) | ~np.isfinite(c["mirror"][r, span])
        ) & ~unrated
        quartile = m + np.sign(c["pair_median"][r, a] - m) * QUARTILE * s
        outside_band = c["z_band"][r, cols] > 1.0
        return {
            "own_side": "export" if side > 0 else "import",
            "months": [
                {
                    "period": str(labels[t]),
                    "own": _round(o),
                    "mirror": _round(x),
                    "ratio": evidence_figure(_ratio(side, o, x)),
                }
                for t, o, x in zip(cols, own, mirror, strict=True)
            ],
            "span_months": len(span),
            "one_sided_months": int(one_sided.sum()),
            # recorded by both, not compared for want of an exchange rate: which, and whose
            "unconverted_months": int(unrated.sum()),
            "unconverted_periods": [str(p) for p in labels[span[unrated]]],
            "unconverted_rate": _unconverted_rate(unrated, c["own_unrated"][r, span]),
            "own_total": _round(own.sum()),
            "mirror_total": _round(mirror.sum()),
            "ratio": evidence_figure(_ratio(side, own.sum(), mirror.sum())),
            "zero_months": int(((own == 0) | (mirror == 0)).sum()),
            "usual_ratio": evidence_figure(np.exp(m)),
            "band": [
                evidence_figure(np.exp(m - self.threshold * s)),
                evidence_figure(np.exp(m + self.threshold * s)),
            ],
            "reference_pair_months": int(c["n_ref"][r, a]),
            "margin_source": _margin_source(c["n_ref"][r, a], self.prior_weight),
            "intra_eu": bool(c["intra"][r, a]),
            "pair_usual_ratio": evidence_figure(np.exp(c["center"][r])),
            "persistent_pair": persistent_pair,
            **self._usual_months(c, r, span, cols),
            "pair_months": int(c["pair_n"][r]),
            "pair_band": self._pair_band(c, r, a),
            "expected_ratio": evidence_figure(np.exp(c["usual"][r, a])),
            "expected_basis": basis,
            "outside": _outside(basis, outside_band),
            "band_months": int(outside_band.sum()),
            "quartile": evidence_figure(np.exp(quartile)) if persistent else None,
        }

    def _usual_months(self, c: dict, r: int, span: np.ndarray, cols: np.ndarray) -> dict:
        """Each side's usual month (the median over the months compared outside the
        finding's span) and its median over the finding's months, for the sentence on
        which record moved; None where fewer than ``min_usual_months`` make a usual one."""
        outside = c["usable"][r].copy()
        outside[span] = False
        enough = outside.sum() >= self.min_usual_months
        out = {"usual_months": int(outside.sum())}
        for side in ("own", "mirror"):
            values = c[side][r]
            out[f"{side}_usual_month"] = _round(np.median(values[outside])) if enough else None
            out[f"{side}_month_median"] = _round(np.median(values[cols]))
        return out

    def _pair_band(self, c: dict, r: int, a: int) -> list | None:
        """The band of the pair's own usual ratio, where it has a habit inside the
        commodity's band (the break test's band)."""
        if not c["own_habit"][r, a]:
            return None
        center, width = c["pair_usual"][r, a], c["pair_width"][r, a]
        return [evidence_figure(np.exp(center - width)), evidence_figure(np.exp(center + width))]

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or "USD"
        who = finding.get("reporter")
        own, mirror = money_pair(ev.get("own_total"), ev.get("mirror_total"), cur)
        own_text, mirror_text = _records(finding, ev, own, mirror)
        unit = period_unit(finding_freq(finding))
        head = f"{_span(finding)}{_compared(finding, ev, unit)} {own_text}, while {mirror_text}"
        text = f"{head}: {self._against_band(ev, unit)}.{_zero_months(ev, unit)} "
        fixes = ev.get("corrections")
        if not fixes:  # a finding saved before both corrections were kept
            return text + (
                f"{_at_ratio(ev)} {who}'s figure would be {about(finding.get('expected'), cur)}, "
                f"a gap of {money(finding.get('impact'), cur)}."
            )
        return text + _corrections(finding, ev, fixes, cur, unit) + _moved(finding, ev, cur, unit)

    def _far_off(self, ev: Mapping, unit: str = "month") -> str:
        """Where a persistent pair's own usual ratio lies inside the commodity's band (a
        band wider than ``persistent_factor`` either way: the pair is persistent for being
        that far off), how far off it is, in words; "" where it lies outside the band."""
        pair, usual = ev.get("pair_usual_ratio"), ev.get("usual_ratio")
        lo, hi = (ev.get("band") or [None, None])[:2]
        if not pair or not usual or lo is None or hi is None or not lo <= pair <= hi:
            return ""
        factor = pair / usual
        times = f"{_r(factor)} times" if factor >= 1 else f"1/{_r(1 / factor)} of"
        return (
            f"{times} this commodity's usual one (one record {self.persistent_factor:g} times "
            f"the other, {unit} after {unit}, is no CIF/FOB margin, timing or threshold)"
        )

    def _against_band(self, ev: Mapping, unit: str = "month") -> str:
        """The ratio against the band that flagged it: the commodity's, or the pair's own,
        or the pair's own usual ratio outside the commodity's (a persistent gap).

        A month with one record at zero has no ratio: it is said so, never 'n/a'. The
        ratio and the edges it is compared with are written with the figures that tell
        them apart (0.01349 outside a band from 0.01352, never 0.0135 and 0.0135)."""
        lo, hi = (ev.get("band") or [None, None])[:2]
        ratio, pair_band, quartile = ev.get("ratio"), ev.get("pair_band"), ev.get("quartile")
        fig = figures_apart(ratio, (lo, hi, *(pair_band or ()), quartile), _r)

        def edge(x) -> str:  # more figures only where the edge reads as the ratio
            return _r(x, fig if _r(x) == _r(ratio) else 3)

        usual = f"usually {_r(ev.get('usual_ratio'))}, band {edge(lo)}–{edge(hi)}"
        if ev.get("intra_eu"):
            usual += ", inside the EU where no CIF/FOB margin applies"
        usual += f"; {ev.get('margin_source')}"
        if ratio is None:
            return (
                "one side recorded zero, so there is no import/export ratio to compare "
                f"with this commodity's ({usual})"
            )
        ratio_text = f"an import/export ratio of {_r(ratio, fig)}"
        median = _r(ev.get("pair_usual_ratio"))
        own_usual = f"{median} over {ev.get('pair_months')} {unit}s"
        if ev.get("expected_basis") == "pair" and _r(ev.get("expected_ratio")) != median:
            own_usual = (
                f"{_r(ev.get('expected_ratio'))} over {ev.get('pair_months')} {unit}s: its "
                f"median, {median}, shrunk towards this commodity's"
            )
        months, outside = len(ev.get("months") or []), ev.get("outside")
        if outside == "persistent":
            inside = months - (ev.get("band_months") or 0)
            low = (quartile or 0) < (ev.get("usual_ratio") or 0)
            still = (
                f"; in {inside} of the gap's {months} {unit}s the ratio was inside the band but "
                f"still {'below' if low else 'above'} {edge(quartile)}, the "
                f"{'lower' if low else 'upper'} quartile of this commodity's ratios"
                if inside
                else ""
            )
            off = self._far_off(ev, unit)
            if off:
                return (
                    f"{ratio_text}, and this pair's own usual ratio, {own_usual}, is {off}: a "
                    f"persistent gap, though inside this commodity's wide band ({usual}){still}"
                )
            return (
                f"{ratio_text}, and this pair's own usual ratio, {own_usual}, is itself outside "
                f"this commodity's band ({usual}): a persistent gap{still}"
            )
        if not pair_band or outside == "band":
            habit = f"; this pair's own usual ratio is {own_usual}" if pair_band else ""
            if ev.get("persistent_pair"):
                off = self._far_off(ev, unit)
                where = f"is {off}" if off else "lies outside the band"
                habit = (
                    f"; this pair's own usual ratio, {own_usual}, {where} on the other side: a "
                    "persistent gap the other way"
                )
            return f"{ratio_text} for this commodity ({usual}{habit})"
        pair = (
            f"this pair's own usual band {edge(pair_band[0])}–{edge(pair_band[1])} (its usual "
            f"ratio {own_usual})"
        )
        if outside == "pair band":
            return (
                f"{ratio_text}, outside {pair}, though inside the wider band of this commodity "
                f"across all pairs ({usual})"
            )
        also = ev.get("band_months")
        if also is None:  # a finding saved before band_months was kept
            return f"{ratio_text}, each {unit} outside this commodity's band ({usual}) or {pair}"
        if also == months:
            return f"{ratio_text}, outside {pair} and this commodity's band too ({usual})"
        return (
            f"{ratio_text}, outside {pair}; in {also} of these {months} {unit}s also outside "
            f"this commodity's band ({usual})"
        )


def _at_ratio(ev: Mapping) -> str:
    """The ratio the expected figure rests on, in words: the pair's usual ratio (the one
    its band is centred on; the band's text says where shrinking moved it), or the
    commodity's."""
    basis = ev.get("expected_basis")
    if basis == "pair":
        return f"At this pair's usual ratio, {_r(ev.get('expected_ratio'))},"
    if basis in ("commodity", "persistent"):
        return "At this commodity's usual ratio,"
    return "At the usual ratio,"  # a finding saved before the basis was kept


def _corrections(
    finding: Mapping, ev: Mapping, fixes: Mapping, cur: str, unit: str = "month"
) -> str:
    """Both records' corrections at the usual ratio, the smaller one the gap (the money
    at stake): which record is wrong, the figures alone do not say."""
    who, other = finding.get("reporter"), finding.get("partner")
    own_fix, partner_fix = abs(fixes.get("own") or 0.0), abs(fixes.get("partner") or 0.0)
    own_to = about((ev.get("own_total") or 0.0) + (fixes.get("own") or 0.0), cur)
    partner_to = about((ev.get("mirror_total") or 0.0) - (fixes.get("partner") or 0.0), cur)
    at = _at_ratio(ev)
    if np.isclose(own_fix, partner_fix, rtol=0.005, atol=0.5):
        return (
            f"{at} {who}'s figure would be {own_to}, or {other}'s {partner_to}: a gap of "
            f"{money(own_fix, cur)}."
        )
    at_stake = fixes.get("at_stake")
    odd = _odd_side(ev)
    if odd is not None and odd != at_stake:  # the larger correction is the one the usual
        # months point to: it comes first, so that a reader quotes the record that moved
        odd_name, odd_to, odd_fix = (
            (other, partner_to, partner_fix) if odd == "partner" else (who, own_to, own_fix)
        )
        small_name, small_to, small_fix = (
            (who, own_to, own_fix) if odd == "partner" else (other, partner_to, partner_fix)
        )
        return (
            f"{at} {odd_name}'s figure would be {odd_to}, a correction of "
            f"{money(odd_fix, cur)}: its record is the one far off its usual {unit} "
            f"(see below); or {small_name}'s {small_to}, a gap of {money(small_fix, cur)}, the "
            "smaller correction and the money at stake."
        )
    if at_stake == "partner":
        return (
            f"{at} {other}'s figure would be {partner_to}, a gap of {money(partner_fix, cur)}, "
            f"the smaller correction; or {who}'s {own_to}, a correction of {money(own_fix, cur)}."
        )
    return (
        f"{at} {who}'s figure would be {own_to}, a gap of {money(own_fix, cur)}, the smaller "
        f"correction; or {other}'s {partner_to}, a correction of {money(partner_fix, cur)}."
    )


#: a record is "the one that moved" where its month is at least ``ODD_FACTOR`` times its
#: usual month, or at most its ``1/ODD_FACTOR``, while the other's is within ×``STEADY_FACTOR``
#: of its own, or moved at most ``STEADY_SHARE`` as far on the log scale
ODD_FACTOR = 5.0
STEADY_FACTOR = 2.0
STEADY_SHARE = 1.0 / 3.0


def _odd_side(ev: Mapping) -> str | None:
    """ "own" or "partner": the record far off its own usual month while the other is near
    its own (as ``_moved`` words them), or moved a third as far or less (France's imports
    of CN 85235990 from Spain, €8.1M in six months at 120 times its usual month, against
    Spain's €559 at 1/2.35 of its own: "Spain's figure would be about €838.0K, the smaller
    correction" led, 3,700 times Spain's usual month); None where both or neither moved,
    where too few months make a usual one, or in a persistent gap."""
    if ev.get("outside") == "persistent" or ev.get("persistent_pair") or not ev.get("months"):
        return None
    off = {}
    for side, month, usual in (
        ("own", ev.get("own_month_median"), ev.get("own_usual_month")),
        ("partner", ev.get("mirror_month_median"), ev.get("mirror_usual_month")),
    ):
        if month is None or usual is None or usual <= 0:
            return None
        off[side] = np.inf if month <= 0 else abs(np.log(month / usual))
    odd = np.log(ODD_FACTOR)
    for side, other in (("own", "partner"), ("partner", "own")):
        steady = np.log(STEADY_FACTOR)
        if np.isfinite(off[side]):  # a record of zero: the other near its own usual month
            steady = max(steady, STEADY_SHARE * off[side])
        if off[side] >= odd and off[other] <= steady:
            return side
    return None


def _moved(finding: Mapping, ev: Mapping, cur: str, unit: str = "month") -> str:
    """Each record against its own usual month, month for month (the finding's median month
    against the median of the months compared outside it), so that a reader sees which
    side to question; nothing where too few other months make a usual one, or in a
    persistent gap, whose usual months hold the gap itself."""
    if ev.get("outside") == "persistent" or ev.get("persistent_pair"):
        return ""
    n = len(ev.get("months") or [])
    parts = [
        _against_usual(name, month, usual, n, cur, unit)
        for name, month, usual in (
            (finding.get("partner"), ev.get("mirror_month_median"), ev.get("mirror_usual_month")),
            (finding.get("reporter"), ev.get("own_month_median"), ev.get("own_usual_month")),
        )
        if month is not None and usual is not None and n
    ]
    return f" {'; '.join(parts)}." if parts else ""


def _against_usual(who: str, month: float, usual: float, n: int, cur: str, unit: str) -> str:
    """'FRA's €677.9K is 1,221 times its usual month (€555)'; over several months, 'FRA's
    median month here, €40.0K, is 12.1 times its usual month (€3.3K)'. 'About' only within
    ×1.25, as in ``unit_value``: €65.0K against a usual €33.3K had read "about its usual
    month"; it is twice it."""
    figure = "zero" if month == 0 else money(month, cur)
    subject = f"{who}'s {figure}" if n == 1 else f"{who}'s median {unit} here, {figure},"
    its = f"its usual {unit} ({money(usual, cur)})"
    if usual <= 0:
        return f"{subject} against a usual {unit} of zero"
    factor = month / usual
    if factor == 0:
        most = "" if n == 1 else f" in most of these {unit}s"
        return f"{who} recorded zero{most}, against {its}"
    if 0.8 <= factor <= 1.25:
        return f"{subject} is about {its}"
    if factor > 1:
        times = f"{_r(factor)} times"
    elif factor >= 0.5:  # '63% of', as text.times writes it
        times = f"{percent(factor * 100, digits=0)} of"
    else:
        times = f"1/{_r(1 / factor)} of"
    return f"{subject} is {times} {its}"


def sign_test_z(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The one-sided normal deviate of ``k`` or more heads in ``n`` tosses of a fair coin
    (the sign test of a median): 0 where half are, growing with ``n`` where all are (3.5 for
    12 of 12 months beyond a band's edge, 6.4 for 34 of 34), negative where few are; 0
    where ``n`` is 0. Elementwise over arrays of counts."""
    n, k = np.broadcast_arrays(np.asarray(n, dtype=np.int64), np.asarray(k, dtype=np.int64))
    pairs, at = np.unique(np.stack([n.ravel(), k.ravel()], axis=1), axis=0, return_inverse=True)
    z = np.array([_sign_test_z(int(a), int(b)) for a, b in pairs])
    return z[np.ravel(at)].reshape(n.shape) if len(pairs) else np.zeros(n.shape)


@cache
def _sign_test_z(n: int, k: int) -> float:
    if n <= 0:
        return 0.0
    k = min(max(k, 0), n)
    log_p = log(sum(comb(n, j) for j in range(k, n + 1))) - n * log(2)  # exact in integers
    return -NormalDist().inv_cdf(min(max(exp(log_p), 1e-300), 1 - 1e-12))


def smaller_share(k: np.ndarray) -> np.ndarray:
    """The share of the reporter's correction that is the smaller of the two corrections:
    where the partner's usual figure is ``k`` times the reporter's, moving the partner's
    record corrects k times the reporter's gap, so the smaller is min(1, k) of it. The one
    rule of the detector's impact and materiality, and of the ``gap`` command's ranges."""
    return np.minimum(1.0, k)


def _unconverted_rate(unrated: np.ndarray, own_unrated: np.ndarray) -> str | None:
    """Whose currency lacks a rate in a span's unconverted months: "own" where the series'
    own does in any of them, else "partner"; None where every month was converted."""
    if not unrated.any():
        return None
    return "own" if own_unrated.any() else "partner"


def _compared(finding: Mapping, ev: Mapping, unit: str = "month") -> str:
    """Which months the totals are over, where the span holds months not compared; months
    both sides recorded that no rate converts are named apart (a month with no EUR rate had
    read as one "both recorded" left out, its gap dropped without a word)."""
    months, span = len(ev.get("months") or []), ev.get("span_months")
    if not span or months >= span:
        return ""
    unconverted = ev.get("unconverted_months") or 0
    if ev.get("one_sided_months") == span - months - unconverted:
        which = "both recorded" if not unconverted else "compared"
    elif ev.get("outside") == "persistent":  # the others bridged: on the usual side
        which = "of the gap"
    else:
        which = "compared"
    return f", in the {plural(months, unit)} {which}{_unconverted(finding, ev)},"


def _unconverted(finding: Mapping, ev: Mapping) -> str:
    """' (July 2024 not converted: no rate in the store for DEU's currency)', or '' where
    every month both recorded was converted."""
    periods = ev.get("unconverted_periods") or []
    if not ev.get("unconverted_months") or not periods:
        return ""
    freq = finding_freq(finding)
    if len(periods) <= 3:
        named = [period_name(p, freq) for p in periods]
        said = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    else:
        said = plural(len(periods), period_unit(freq))
    if ev.get("unconverted_rate") == "own":
        why = f"no {finding.get('currency')} rate in the store"
    else:
        why = f"no rate in the store for {finding.get('partner')}'s currency"
    return f" ({said} not converted: {why})"


def _records(finding: Mapping, ev: Mapping, own: str, mirror: str) -> tuple[str, str]:
    """What each side recorded, in words; a zero as 'recorded no imports from …'."""
    who, other, flow = finding.get("reporter"), finding.get("partner"), finding.get("flow")
    if ev.get("own_side") == "import":
        own_flow, mirror_flow = f"imports from {other}", f"exports to {who}"
    else:
        own_flow, mirror_flow = f"{flow}s to {other}", f"imports from {who}"
    return (
        _record(who, own_flow, own, ev.get("own_total") == 0),
        _record(other, mirror_flow, mirror, ev.get("mirror_total") == 0),
    )


def _record(who: str, flow: str, amount: str, nothing: bool) -> str:
    return f"{who} recorded no {flow}" if nothing else f"{who} recorded {flow} of {amount}"


def _outside(basis: str, band: np.ndarray) -> str:
    """Which band the run's months left: 'band' (the commodity's), 'pair band' (the pair's
    own, inside the commodity's), 'both' (the pair's own, and the commodity's in some or
    all of the months: ``band``) or 'persistent' (the pair's usual ratio is outside the
    commodity's band)."""
    if basis == "persistent":
        return "persistent"
    if basis != "pair":
        return "band"
    return "both" if band.any() else "pair band"


def _zero_months(ev: Mapping, unit: str = "month") -> str:
    """In a run whose totals have a ratio, the months where one side recorded zero."""
    zero, months = ev.get("zero_months") or 0, len(ev.get("months") or [])
    if not zero or ev.get("ratio") is None:
        return ""
    return f" In {zero} of these {months} {unit}s one side recorded zero."


def _r(x, figures: int = 3) -> str:
    """A ratio as ``text.ratio`` writes it, with three significant figures below 100 (a
    CIF/FOB margin is 1.06, not 1.1): 1/5,000,000, 83.4, 4,200, 261 million; with more
    ``figures`` where a ratio must be told from a band edge (1/12,760)."""
    if figures > 3 and x is not None and 0 < x <= 1e-3:
        return f"1/{float(f'{1.0 / x:.{figures - 1}g}'):,.0f}"
    return ratio_text(x, figures=figures)


def _ratio(side: np.ndarray | float, own, mirror):
    """Import record / export record, from the own and mirror figures; NaN where either is
    zero: a record of nothing has no ratio (and an infinite or zero one misleads)."""
    own, mirror = np.asarray(own, dtype=float), np.asarray(mirror, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.asarray(side) > 0, mirror / own, own / mirror)
    return np.where((own > 0) & (mirror > 0), ratio, np.nan)


def _or(array: np.ndarray | None, shape: tuple[int, int], default: float) -> np.ndarray:
    if array is None:
        return np.full(shape, default)
    return np.where(np.isfinite(array), array, default)


def _round(value, digits: int = 2) -> float | None:
    value = float(value)
    return round(value, digits) if np.isfinite(value) else None


def _margin_source(n: float, prior_weight: float) -> str:
    n = int(n)
    if n == 0:
        return "from the literature: no mirror pairs of this commodity in the store"
    if n >= 20 * prior_weight:
        return f"from {n:,} mirror pair-months of this commodity in the store"
    return (
        f"from {n:,} mirror pair-months of this commodity in the store, "
        f"shrunk towards the literature's margin ({prior_weight:g} pair-months' weight)"
    )


def _span(finding: Mapping) -> str:
    """'In November 2024' or 'From September to October 2023', as the other kinds say it
    ('In 2016', 'From 2015 to 2017' in an annual series)."""
    start, end, freq = finding.get("period"), finding.get("period_end"), finding_freq(finding)
    if start == end:
        return f"In {period_name(start, freq)}"
    return f"From {period_name(start, freq)} to {period_name(end, freq)}"
