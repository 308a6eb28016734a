"""mirror_gap: a reporter's record of a flow against the partner's record of the same flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradesentry.detectors.base import Detector, confidence, detections, no_detections
from tradesentry.detectors.baseline import finding_freq
from tradesentry.detectors.cross import context, row_center_spread, row_median, run_sum, runs
from tradesentry.panel import Panel
from tradesentry.text import about, money, money_pair, period_name, period_unit
from tradesentry.text import ratio as ratio_text

_EXPORT_SIDE = ("export", "re-export")


@dataclass(frozen=True)
class MirrorGap(Detector):
    """Each month's log ratio of the import record to the export record (B's imports from A
    over A's exports to B, converted to one currency with the store's monthly rates) is
    compared with the usual ratio of that commodity: the median and robust σ (1.4826 × MAD)
    of the ratio across every mirror pair and month in the store, shrunk towards the
    literature's CIF/FOB margin (about 6 %, none inside the EU) where the data hold few
    pairs. A month is outside the band when it is more than ``threshold`` σ from that
    median, or when the pair, usually close to the band, departs from its own usual ratio
    by more than ``break_threshold`` of its own σ (a one-off break); and only when the gap
    is at least ``materiality`` of the pair's usual monthly trade. Contiguous months
    outside the band, on the same side, are one finding over their span. The score grows
    with the distance from the band, but a gap g below ``small_gap`` US dollars scores at
    most g / ``small_gap`` (0.5 at $1,000, the smallest change ``revision`` reports in a
    dollar series): a pair whose whole trade is a few tens of euros passes the materiality
    test against its own size, and a zero on one side puts its ratio infinitely far, yet
    such a gap is the ordinary noise of small records (rounding, reporting thresholds).
    The gap is converted to dollars month by month with the store's rate for the series'
    currency (context ``own_per_usd``); a finding with a month the store has no rate for
    is capped in the series' own currency units instead (g / ``small_gap`` units), which
    for a currency worth far less than a dollar (JPY, KRW) caps almost nothing: load the
    rates (``tradesentry rates FILE``) to cap it in dollars. Why: imports are valued CIF
    and exports FOB, so the ratio is not 1, and mirror records of small monthly flows
    disagree a lot for ordinary reasons (timing, confidentiality, partner attribution);
    only a data-based band tells an unusual gap from that noise.
    """

    kind = "mirror_gap"
    needs = ("mirror", "mirror_margin")

    threshold: float = 3.5
    break_threshold: float = 5.0
    literature_margin: float = 0.06
    literature_spread: float = 0.3
    prior_weight: float = 30.0
    min_spread: float = 0.05
    pair_min_spread: float = 0.3
    min_pair_months: int = 12
    materiality: float = 0.2
    small_gap: float = 2000.0  # US dollars; currency units where the store has no rate

    def detect(self, panel: Panel) -> pd.DataFrame:
        c = self._cells(panel)
        if c is None:
            return no_detections()
        flagged = self._flag(c)
        rows, starts, ends = runs(flagged, c["usable"], np.where(c["gap"] > 0, 1, 2))
        if len(rows) == 0:
            return no_detections()
        observed = run_sum(np.where(flagged, c["own"], 0.0), rows, starts, ends)
        expected = run_sum(np.where(flagged, c["expected_own"], 0.0), rows, starts, ends)
        impact = expected - observed
        labels = panel.label(np.arange(panel.n_months))
        evidence, z = [], np.empty(len(rows))
        for i, (r, a, b) in enumerate(zip(rows, starts, ends, strict=True)):
            cols = np.arange(a, b + 1)
            cols = cols[flagged[r, cols]]
            z[i] = np.median(c["z"][r, cols])
            evidence.append(self._evidence(c, labels, r, cols))
        return detections(
            self.kind,
            rows,
            starts,
            ends,
            observed=observed,
            expected=expected,
            impact=impact,
            score=self._score(z, self._at_stake(c, flagged, (rows, starts, ends), impact)),
            evidence=evidence,
        )

    def _score(self, z: np.ndarray, gap: np.ndarray) -> np.ndarray:
        """Confidence from the distance, capped by the money at stake (``gap``, in US
        dollars where the rates are known): however far a ratio of tens of dollars is from
        the band, the gap is small-record noise, not high."""
        distance = confidence(self.threshold * z, self.threshold)
        return np.minimum(distance, gap / self.small_gap)

    def _at_stake(
        self, c: dict, flagged: np.ndarray, found: tuple[np.ndarray, ...], impact: np.ndarray
    ) -> np.ndarray:
        """Each finding's gap (its flagged months, all on one side; ``found``: the runs'
        rows, starts and ends) in US dollars; where a flagged month has no rate in the
        store, ``|impact|`` in the series' currency units.

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
        usd = run_sum(np.where(flagged & rated, np.abs(c["gap"]) / per_usd, 0.0), *found)
        unrated = run_sum((flagged & ~rated).astype(float), *found) > 0
        return np.where(unrated, np.abs(impact), usd)

    def _cells(self, panel: Panel) -> dict | None:
        """Both records of each cell, their log ratio import/export, and the usual band."""
        mirror = context(panel, "mirror_value")
        if mirror is None:
            return None
        own = panel.values
        usable = np.isfinite(own) & np.isfinite(mirror) & (own >= 0) & (mirror >= 0)
        usable &= (own > 0) | (mirror > 0)
        ok = context(panel, "mirror_currency_ok")
        if ok is not None:
            usable &= ok == 1
        if not usable.any():
            return None
        side = self._side(panel)  # +1: own is the export record; -1: the import record
        margin, spread, n_ref = self._band(panel)
        typical = row_median(np.where(usable, np.maximum(own, mirror), np.nan))
        floor = np.maximum(typical, 1e-300)[:, None] * 1e-6  # a reported zero: far, not -inf
        log_ratio = side * (np.log(np.maximum(mirror, floor)) - np.log(np.maximum(own, floor)))
        center, pair_spread, pair_n = row_center_spread(np.where(usable, log_ratio, np.nan))
        expected_own = mirror * np.exp(-side * margin)
        per_usd = _or(context(panel, "own_per_usd"), own.shape, np.nan)
        return {
            "own": own,
            "mirror": mirror,
            "usable": usable,
            "side": side,
            "margin": margin,
            "spread": spread,
            "n_ref": n_ref,
            "intra": _or(context(panel, "mirror_intra_eu"), own.shape, 0.0) == 1,
            "typical": typical,
            "log_ratio": np.where(usable, log_ratio, np.nan),
            "center": center,
            "pair_spread": np.maximum(pair_spread, self.pair_min_spread),
            "pair_n": pair_n,
            "expected_own": expected_own,
            "gap": expected_own - own,
            "per_usd": np.where(per_usd > 0, per_usd, np.nan),  # NaN: no rate in the store
        }

    def _flag(self, c: dict) -> np.ndarray:
        """Months outside the band (or breaking from the pair's usual ratio), material.

        Also sets ``c["z_band"]`` and ``c["z_break"]`` (each statistic over its threshold)
        and ``c["z"]``, the larger of the two.
        """
        c["z_band"], c["z_break"] = self._z(c)
        c["z"] = np.fmax(c["z_band"], c["z_break"])
        material = np.abs(c["gap"]) >= self.materiality * c["typical"][:, None]
        flagged = c["usable"] & material & (c["z"] > 1.0)
        return flagged & ~self._timing(c, flagged)

    def _z(self, c: dict) -> tuple[np.ndarray, np.ndarray]:
        """Distance of each month's log ratio from the commodity's band and from the pair's
        own usual ratio (only where the pair has a habit and moved away from the band), each
        over its threshold."""
        lr, margin = c["log_ratio"], c["margin"]
        z_band = np.abs(lr - margin) / c["spread"] / self.threshold
        z_break = np.abs(lr - c["center"][:, None]) / c["pair_spread"][:, None]
        broke = (c["pair_n"] >= self.min_pair_months)[:, None] & (
            np.abs(lr - margin) > np.abs(c["center"][:, None] - margin)
        )
        return z_band, np.where(broke, z_break / self.break_threshold, 0.0)

    def _timing(self, c: dict, flagged: np.ndarray) -> np.ndarray:
        """Flagged months whose neighbour has a matching opposite gap (at least half as large)
        and whose two-month totals agree: one record booked the shipment a month later than
        the other, no gap."""
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
        pair &= np.abs(lr2 - c["margin"][:, 1:]) <= self.threshold * c["spread"][:, 1:]
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
        n = _or(context(panel, "mirror_margin_n"), shape, 0.0)
        margin, spread = self.usual_band(
            _or(context(panel, "mirror_margin"), shape, 0.0),
            _or(context(panel, "mirror_margin_spread"), shape, 0.0),
            n,
            _or(context(panel, "mirror_intra_eu"), shape, 0.0) == 1,
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

    def _evidence(self, c: dict, labels: np.ndarray, r: int, cols: np.ndarray) -> dict:
        a = cols[0]
        own, mirror = c["own"][r, cols], c["mirror"][r, cols]
        m, s = c["margin"][r, a], c["spread"][r, a]
        side = c["side"][r, 0]
        return {
            "own_side": "export" if side > 0 else "import",
            "months": [
                {
                    "period": str(labels[t]),
                    "own": _round(o),
                    "mirror": _round(x),
                    "ratio": _round(_ratio(side, o, x), 4),
                }
                for t, o, x in zip(cols, own, mirror, strict=True)
            ],
            "own_total": _round(own.sum()),
            "mirror_total": _round(mirror.sum()),
            "ratio": _round(_ratio(side, own.sum(), mirror.sum()), 4),
            "zero_months": int(((own == 0) | (mirror == 0)).sum()),
            "usual_ratio": _round(np.exp(m), 4),
            "band": [
                _round(np.exp(m - self.threshold * s), 4),
                _round(np.exp(m + self.threshold * s), 4),
            ],
            "reference_pair_months": int(c["n_ref"][r, a]),
            "margin_source": _margin_source(c["n_ref"][r, a], self.prior_weight),
            "intra_eu": bool(c["intra"][r, a]),
            "pair_usual_ratio": _round(np.exp(c["center"][r]), 4),
            "pair_months": int(c["pair_n"][r]),
            "pair_band": self._pair_band(c, r),
            "outside": _outside(c["z_band"][r, cols] > 1.0, c["z_break"][r, cols] > 1.0),
        }

    def _pair_band(self, c: dict, r: int) -> list | None:
        """The band of the pair's own usual ratio, where it has enough months to have one."""
        if c["pair_n"][r] < self.min_pair_months:
            return None
        center, width = c["center"][r], self.break_threshold * c["pair_spread"][r]
        return [_round(np.exp(center - width), 4), _round(np.exp(center + width), 4)]

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or "USD"
        who = finding.get("reporter")
        own, mirror = money_pair(ev.get("own_total"), ev.get("mirror_total"), cur)
        own_text, mirror_text = _records(finding, ev, own, mirror)
        head = f"{_span(finding)} {own_text}, while {mirror_text}"
        unit = period_unit(finding_freq(finding))
        return (
            f"{head}: {self._against_band(ev, unit)}.{_zero_months(ev, unit)} At the usual "
            f"ratio {who}'s "
            f"figure would be {about(finding.get('expected'), cur)}, a gap of "
            f"{money(finding.get('impact'), cur)}."
        )

    def _against_band(self, ev: Mapping, unit: str = "month") -> str:
        """The ratio against the band that flagged it: the commodity's, or the pair's own.

        A month with one record at zero has no ratio: it is said so, never 'n/a'."""
        lo, hi = (ev.get("band") or [None, None])[:2]
        usual = f"usually {_r(ev.get('usual_ratio'))}, band {_r(lo)}–{_r(hi)}"
        if ev.get("intra_eu"):
            usual += ", inside the EU where no CIF/FOB margin applies"
        usual += f"; {ev.get('margin_source')}"
        ratio, pair_band = ev.get("ratio"), ev.get("pair_band")
        if ratio is None:
            return (
                "one side recorded nothing, so there is no import/export ratio to compare "
                f"with this commodity's ({usual})"
            )
        outside = ev.get("outside") if pair_band else "band"
        pair = (
            f"this pair's own usual band {_r(pair_band[0])}–{_r(pair_band[1])} (its usual "
            f"ratio {_r(ev.get('pair_usual_ratio'))} over {ev.get('pair_months')} {unit}s)"
            if pair_band
            else ""
        )
        if outside == "pair band":
            return (
                f"an import/export ratio of {_r(ratio)}, outside {pair}, though inside the "
                f"wider band of this commodity across all pairs ({usual})"
            )
        if outside == "both":
            return (
                f"an import/export ratio of {_r(ratio)}, each {unit} outside this commodity's "
                f"band ({usual}) or {pair}"
            )
        usual_pair = ev.get("pair_usual_ratio")
        habit = f"; this pair's own usual ratio is {_r(usual_pair)}" if pair_band else ""
        return f"an import/export ratio of {_r(ratio)} for this commodity ({usual}{habit})"


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


def _outside(band: np.ndarray, pair: np.ndarray) -> str:
    """Which band the run's months are outside: 'band' (the commodity's), 'pair band' (the
    pair's own usual ratio) or 'both' (some one, some the other)."""
    if band.all():
        return "band"
    return "pair band" if (pair & ~band).all() else "both"


def _zero_months(ev: Mapping, unit: str = "month") -> str:
    """In a run whose totals have a ratio, the months where one side recorded nothing."""
    zero, months = ev.get("zero_months") or 0, len(ev.get("months") or [])
    if not zero or ev.get("ratio") is None:
        return ""
    return f" In {zero} of these {months} {unit}s one side recorded nothing."


def _r(x) -> str:
    """A ratio as ``text.ratio`` writes it, with three significant figures below 100 (a
    CIF/FOB margin is 1.06, not 1.1): 1/5,000,000, 83.4, 4,200, 261 million."""
    return ratio_text(x, figures=3)


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
