"""Implausible: a value that no real flow explains (near zero against millions, ×1000, negative)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from tradesentry.detectors.along import along_text, completed_along, moved_as_a_whole
from tradesentry.detectors.base import (
    MONEY_NEEDS,
    Detector,
    confidence,
    detections,
    material_score,
    no_detections,
)
from tradesentry.detectors.baseline import DEFAULT_CONFIG, baseline, ordinary_nothing
from tradesentry.detectors.combined import (
    combined_name,
    combined_readings,
    expected_sum,
    with_combined,
)
from tradesentry.detectors.drivers import NEEDS as DRIVER_NEEDS
from tradesentry.detectors.evidence import (
    deviation_evidence,
    evidence_figure,
    expectation_source,
    finding_freq,
    first_held,
    first_months,
    has_partner_record,
    next_was_high,
    silence_evidence,
    silence_text,
)
from tradesentry.detectors.robust import nanmedian
from tradesentry.detectors.second_record import (
    month_evidence,
    partner_month,
    partner_text,
    weight_text,
    whole_kilograms,
)
from tradesentry.panel import Panel
from tradesentry.text import (
    about,
    money,
    money_pair,
    period_name,
    period_unit,
    power_step,
    the_expected,
    times,
    weight,
)

REASONS = ("negative", "zero", "near_zero", "unit_slip")
#: months with both a value and a weight that a series' usual unit value needs
MIN_UNIT_VALUE_MONTHS = 3
#: a unit value within this factor of the series' usual one moved with the value; within
#: it of the usual one times the slip's step, it stayed where it was
UNIT_VALUE_BAND = 5.0
#: beyond the band, the weight moved "most of the way" with the value where it carries at
#: least this share of the step on the log scale (a unit value within a third of the step's
#: decades of the usual one: ×10 for a ×1000 step), a unit error none of it
MOST_OF_THE_STEP = 2.0 / 3.0
#: a unit value within this factor of the step's is "about" the step; further, the text
#: gives its own ratio (the band above lets it be five times off the step)
STEP_ITSELF = 1.25


@dataclass(frozen=True)
class Implausible(Detector):
    """A figure that is not a plausible amount of trade, only an error or a stop.

    Model: the shared baseline's expectation and z (``baseline.py``). Three readings, the
    first two asking the month to be far outside the noise (|z| ≥ ``threshold``, or for the
    tiny months below 2 scales under their expectation and 4.5 under the typical month, so a
    series that swings ×100 every month is never called implausible; either z in the
    series' two-sided scale too, ``_two_sided``, so three ×1000 months in 36 are not each
    other's noise; or, for a slip up, a hundred times every other month of its series,
    ``_alone_high``, which a lumpy line's wide scale hid): a *unit slip*, the
    log10 ratio of observed to expected within ±0.3 (or 2 residual scales, when the series
    is noisier, at most 1) of ±3 or ±6 (a ×1000 or ×1e6 error between units, thousands and
    millions), with the value nearer the slipped level than the series' typical month (at
    least half as many decades from it), and not one of a series' tiny months standing apart
    where another of them fits no slip (``_habit_of_tiny``); *near zero*, either at most 1 %
    of the expected value with |z| ≥ 4.5 while no other month of the series comes within a
    factor 10 of it, or below a thousandth of the series' typical month (its median) in the
    only month that low, or one of a few such positive figures (at most one month in five)
    with no month of the series between a thousandth and a tenth of its typical month
    (``_tiny_apart``), at least 4.5 scales below the typical month and 2 below its
    expectation, and no same calendar month of another year as low (within ×10: the series'
    season, ``_season_as_low``) (a zero in a series that never reports zero; $3K in a series
    of millions, even inside a closure whose months swing too much for the first test),
    except a zero in a series whose months without trade (zeros or missing months) are
    frequent enough to explain it (``baseline.ordinary_zeros``: more than one in 23), or a
    month of next to nothing in a line without trade a quarter of its months or more, over
    its span and in the year around it (``baseline.ordinary_nothing``: a parcel where the
    line often ships nothing), or where fewer than six other months have trade (no usual
    level for "no other month comes near it"), or in the series' first reported month (a
    flow that starts late in a month holds part of it) or a sample before its flow starts
    (``evidence.first_months``; a first month a thousandth of the flow still reads as a unit
    slip, one of several samples only with its weight at the flow's: ``_weighed_slips``); and a *negative* value, which trade values cannot be. A series too short for a
    scale of its own (``Baseline.measured``) is read for these orders of magnitude only
    where its other months agree within ×10 (``_others_agree``): five months at €4, €81,
    €5,826, €1 and €53 have no usual level to be ×1000 off. Threshold: |z| ≥ 4.5, the dip
    threshold (see ``Dip``). Why: these are the figures an analyst calls "simply not
    realistic"; a series that often runs that low (intermittent trade, a closure of several
    months) is excluded by the "no other month" rules, and naming the reading tells the
    publisher what to check, so this finding replaces the spike or dip on the same month. A
    combined figure (January–February) is read the same way against the summed expectations
    of its months (``_combined``). The month is read in the partner's record of the same
    flow where the store holds it, and a month at next to nothing by its weight
    (``second_record.py``): goods shipped while the value fell point at the record, a
    partner's month that fell too at the trade. A month about ×1000 or ×1/1000 off whose
    weight moved with its value (its unit value the series' usual one, ``weight_reading``)
    is a shipment of that size, not a unit error, which changes the value and not the
    kilograms: a month next to nothing where the near-zero rules hold (read with its weight,
    as any), else no finding here (the spike or dip reads it). A month after half a year or
    more without a figure says so (``evidence.silence_text``). Where many of the reporter's
    series of the flow moved the same way in the month (a record or a measure that moved
    as a whole: ``context.reporter_along``, counted with the scan's level shifts and other
    single months of that record and month), the text says how many and which goods
    (``along.along_text``), and a month next to nothing is not called an implausible
    amount of trade: China's graphite to the US, $2,246 in December 2023 among months of
    millions, the month its export controls began. Materiality, as every detector's: less than 2,000 at stake (US dollars where the store has the month's rate,
    ``own_rate``; else the series' currency units) scores at most its size / 2,000, so a
    figure of a few dollars is never high (``base.material_score``)."""

    kind: ClassVar[str] = "implausible"
    # money at stake in dollars; on a world series, every partner's sum (``drivers``)
    needs: ClassVar[tuple[str, ...]] = (*MONEY_NEEDS, "mirror", *DRIVER_NEEDS)
    # how many of the reporter's series moved with it, read once the scan's findings are in
    finding_needs: ClassVar[tuple[str, ...]] = ("reporter_along",)
    # a month's unit value is off when its value is: one event, read here with its weight
    supersedes: ClassVar[tuple[str, ...]] = ("spike", "dip", "unit_value")
    threshold: float = 4.5
    near_zero_share: float = 0.01
    tiny_share: float = 1e-3
    min_below: float = 2.0
    slip_tolerance: float = 0.3
    max_slip_tolerance: float = 1.0
    min_other_months: int = DEFAULT_CONFIG.thin_level_points

    def detect(self, panel: Panel) -> pd.DataFrame:
        model = baseline(panel)
        return with_combined(self._months(panel, model), self._combined(panel))

    def _months(self, panel: Panel, model) -> pd.DataFrame:
        v, e, z = panel.values, model.expected, model.z
        z = np.where(model.usable(), z, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            below = (np.log(typical_level(v) + model.offset)[:, None] - model.y) / model.sigma[
                :, None
            ]
        # a series of a few scattered months has no usual level to be ×1000 off unless
        # its other months agree (``_others_agree``)
        judged = model.measured()[:, None] | _others_agree(v)
        z = np.where(judged, z, np.nan)
        first = first_months(panel)
        # a parcel where the line often ships nothing is no more implausible than none
        parcels = ordinary_nothing(panel, model)
        habit = first | parcels
        z_both = _two_sided(z, model)
        apart_high = _alone_high(v)
        reason, factor, alone, n_tiny, low = self._classify(
            v, e, z, below, model.sigma[:, None], habit, panel.season, z_both, apart_high
        )
        reason, partner_held = _weighed_slips(panel, reason, factor, low, model.samples, parcels)
        rows, cols = np.nonzero(reason >= 0)
        if not rows.size:
            return no_detections()
        observed, expected = v[rows, cols], e[rows, cols]
        zz = np.abs(np.nan_to_num(z[rows, cols], nan=self.threshold + 10.0))
        typical = typical_level(v)[rows]
        zz = np.where(reason[rows, cols] >= 1, np.fmax(zz, np.nan_to_num(below[rows, cols])), zz)
        # a slip or tiny month found in the two-sided scale is scored in it too: two years
        # ×1000 of a 14-year series, $100B at stake, scored 0 in their side's scale
        zz = np.fmax(zz, np.abs(np.nan_to_num(z_both[rows, cols])))
        # a slip a hundred times every other month (``_alone_high``) passed the bar on that
        # ground: scored at the bar plus its distance above the series' largest other month
        # in the scale above its expectation
        apart = apart_high[rows, cols] & (reason[rows, cols] == 3)
        zz = np.where(
            apart, np.fmax(zz, self.threshold + _above_the_rest(v, model)[rows, cols]), zz
        )
        evidence = deviation_evidence(panel, model, rows, cols)
        around = [ev.get("level_months") for ev in evidence]
        for ev, more, r in zip(
            evidence, month_evidence(panel, rows, cols, around), reason[rows, cols], strict=True
        ):
            if REASONS[int(r)] == "unit_slip":  # its own weights: ``slip_evidence``
                more = {k: v for k, v in more.items() if not k.startswith("weight_")}
            ev.update(more)
        for ev, r, f, ty, a, nt in zip(
            evidence,
            reason[rows, cols],
            factor[rows, cols],
            typical,
            alone[rows, cols],
            n_tiny[rows],
            strict=True,
        ):
            ev["reason"] = REASONS[int(r)]
            if REASONS[int(r)] in ("zero", "near_zero"):  # which "no other month" rule held
                ev["low_rule"] = "alone" if a else "tiny"
                if not a and nt > 1:
                    ev["tiny_months"] = int(nt)
            ev["factor"] = float(f) if np.isfinite(f) else None
            ev["typical"] = float(ty) if np.isfinite(ty) else None
        slips = np.flatnonzero(reason[rows, cols] == 3)
        for k, extra in zip(slips, slip_evidence(panel, rows[slips], cols[slips]), strict=True):
            evidence[k].update(extra)
            if partner_held[rows[k], cols[k]]:  # why a slip whose weight moved stands
                evidence[k]["partner_held"] = True
        impact = np.where(np.isfinite(expected), observed - expected, observed)
        return detections(
            self.kind,
            rows,
            cols,
            observed=observed,
            expected=expected,
            impact=impact,
            score=material_score(
                panel,
                rows,
                cols,
                confidence(np.where(reason[rows, cols] == 0, 99.0, zz), self.threshold),
                impact,
            ),
            evidence=evidence,
        )

    def _combined(self, panel: Panel) -> pd.DataFrame:
        """Combined figures (China's January–February), each read as the sum of its months.

        A combined figure has no month of its own, so it is compared with the sum of the
        model's expectations for the months it covers (``combined.combined_readings``).
        The same readings apply, measured in the series' side scale: near zero (at most 1 %
        of the expected sum, at least ``threshold`` scales below, and more than ten times
        below any month of the series per month covered), a unit slip (within the slip
        tolerance of ×1000 or ×1e6, and nearer the slipped level than the series' typical
        months), negative. And on most of a single month's terms (not the samples before a
        flow, nor a line's habit of months at next to nothing, read month by month): only
        in a series with a
        scale of its own or whose months agree within ×10 (``_others_agree``: Sweden's
        exports of HS 811292 held a $273 pair and two months of $12K and $43K, and a single
        month there is not judged), never near zero as the series' first figure (a flow that
        starts within the pair, as ``evidence.first_months`` for months). A figure beside a
        month of its own published singly is left to its months and to ``incoherent``,
        which sets it against them: one wrong pair was two findings, and its money counted
        twice.
        """
        found = combined_readings(panel)
        if not len(found.rows):
            return no_detections()
        rows, cols, span, value = found.rows, found.cols, found.span, found.value
        judged = baseline(panel).measured()[rows] | _others_agree(panel.values)[rows, cols]
        judged &= ~found.published
        expected, usual, z, sigma = found.expected, found.usual, found.z, found.sigma
        typical = typical_level(panel.values)[rows] * span
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = np.log10(value / expected)
            from_typical = np.log10(value / typical)
            positive = np.where(panel.values[rows] > 0, panel.values[rows], np.inf)
            least = positive.min(axis=1)  # NaN where none (nanmin warned on every scan)
            least = np.where(np.isfinite(least), least, np.nan)
        tol = np.clip(2.0 * sigma / np.log(10.0), self.slip_tolerance, self.max_slip_tolerance)
        # orders of magnitude in the two-sided scale too, as a single month's (``_two_sided``)
        with np.errstate(invalid="ignore", divide="ignore"):
            far = np.fmax(np.abs(z), np.abs(z * sigma / baseline(panel).sigma[rows]))
        slip = np.full(len(rows), np.nan)
        for power in (3, 6):
            up = (z > 0) & (far >= self.threshold) & (np.abs(lr - power) <= tol)
            up &= from_typical >= power / 2
            down = (z < 0) & (far >= self.threshold) & (np.abs(lr + power) <= tol)
            down &= from_typical <= -power / 2
            slip = np.where(up, 10.0**power, np.where(down, 10.0**-power, slip))
        with np.errstate(invalid="ignore"):
            low = (z <= -self.threshold) & (value <= self.near_zero_share * expected)
            low &= ~(value / span * 10.0 >= least)  # no month of the series comes near it
            low &= cols > first_held(panel)[rows]
        reason = np.full(len(rows), -1, dtype=np.int64)
        reason[np.isfinite(slip)] = 3
        reason[low & np.isnan(slip) & (value > 0)] = 2
        reason[low & np.isnan(slip) & (value == 0)] = 1
        reason[~judged] = -1
        reason[(value < 0) & ~found.published] = 0  # never trade, judged or not
        keep = np.flatnonzero(reason >= 0)
        if not keep.size:
            return no_detections()
        silences = silence_evidence(panel, rows[keep], cols[keep])
        evidence = [
            {
                "combined": True,
                "months": [panel.label(int(cols[k] + j)) for j in range(int(span[k]))],
                "reason": REASONS[int(reason[k])],
                "factor": float(slip[k]) if np.isfinite(slip[k]) else None,
                "typical": float(typical[k] / span[k]) if np.isfinite(typical[k]) else None,
                "z": float(z[k]) if np.isfinite(z[k]) else None,
                "sigma": float(sigma[k]),
                "usual_factor": round(float(np.exp(usual[k])), 4),
                **silence,
            }
            for k, silence in zip(keep, silences, strict=True)
        ]
        zz = np.abs(np.nan_to_num(z[keep], nan=self.threshold + 10.0))
        impact = np.where(np.isfinite(expected[keep]), value[keep] - expected[keep], value[keep])
        return detections(
            self.kind,
            rows[keep],
            cols[keep],
            cols[keep] + span[keep] - 1,
            observed=value[keep],
            expected=expected[keep],
            impact=impact,
            score=material_score(
                panel,
                rows[keep],
                cols[keep],
                confidence(np.where(reason[keep] == 0, 99.0, zz), self.threshold),
                impact,
            ),
            evidence=evidence,
        )

    def _classify(self, v, e, z, below, sigma, ordinary, season: int, z_both, apart_high):
        """Reason code per cell (index into REASONS, -1 = plausible), the slip factor,
        whether a low month is one that no other month comes within ×10 of (else it is the
        only one below a thousandth of the series' typical month), how many months are below
        that thousandth, and where a month is low by the near-zero rules, slip or not.

        ``below``: how many scales the month is under the series' typical month;
        ``ordinary``: months that cannot be low (a series' first months, where a flow that
        starts late in a month holds part of it, and parcels where the line often ships
        nothing, ``baseline.ordinary_nothing``); ``season``: months a year; ``z_both``: ``z``
        in the series' two-sided scale (``_two_sided``), which a slip or a tiny month may
        pass instead of its side's; ``apart_high``: months a hundred times every other
        month of their series (``_alone_high``), which a slip up passes on too.
        """
        typical = typical_level(v)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = np.log10(v / e)
            from_typical = np.log10(v / typical)
        far_up, far_down = z >= self.threshold, z <= -self.threshold
        # orders of magnitude are read in the two-sided scale too (``_two_sided``), and a
        # month a hundred times every other month of the series is past any lumpy flow's
        # noise whatever the scale says (``_alone_high``)
        slip_up = far_up | (z_both >= self.threshold) | (apart_high & np.isfinite(z))
        slip_down = far_down | (z_both <= -self.threshold)
        slip = np.full(v.shape, np.nan)
        # the expected value is itself uncertain by the series' noise (2 scales), but past
        # a decade either way "×1000" no longer describes the ratio
        tol = np.clip(2.0 * sigma / np.log(10.0), self.slip_tolerance, self.max_slip_tolerance)
        for power in (3, 6):
            # and the value must be nearer the slipped level than the series' typical
            # month: a month as large as the series usually runs is no unit error, however
            # low its expectation (a seasonal term from thin months in other years)
            up = slip_up & (np.abs(lr - power) <= tol) & (from_typical >= power / 2)
            down = slip_down & (np.abs(lr + power) <= tol) & (from_typical <= -power / 2)
            slip = np.where(up, 10.0**power, np.where(down, 10.0**-power, slip))
        local = far_down & (v <= self.near_zero_share * e) & _alone_low(v, 10.0)
        tiny = v <= self.tiny_share * typical
        only = tiny.sum(axis=1, keepdims=True) == 1
        # a few positive figures apart; zeros have the rule of months without trade
        series = tiny & (only | (_tiny_apart(v, tiny, typical) & (v > 0)))
        series &= np.fmin(z, z_both) <= -self.min_below
        series &= below >= self.threshold
        series &= ~_season_as_low(v, season, 10.0)
        # "no other month comes near it" needs other months to say so: four shipments of
        # €3.3K–9.6K and one of €32 are no usual level (a level of its own needs six)
        trading = v > 0
        others = trading.sum(axis=1, keepdims=True) - trading
        low = (local | series) & ~ordinary & (others >= self.min_other_months)
        slip = np.where(_habit_of_tiny(v, tiny, slip, series & low), np.nan, slip)
        reason = np.full(v.shape, -1, dtype=np.int64)
        reason[np.isfinite(slip)] = 3
        reason[low & np.isnan(slip) & (v > 0)] = 2
        reason[low & np.isnan(slip) & (v == 0)] = 1
        reason[v < 0] = 0
        return reason, slip, local, tiny.sum(axis=1), low

    def complete(self, found: pd.DataFrame, context: Mapping[str, Mapping]) -> pd.DataFrame:
        """Each finding with how many of the reporter's series of the flow moved its way in
        its month (``context.reporter_along``), its explanation written again."""
        return completed_along(self, found, context)

    def explain(self, finding: Mapping) -> str:
        return self._explain(finding) + silence_text(finding) + along_text(finding)

    def _explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        if ev.get("combined"):
            return _explain_combined(finding, ev, self.slip_tolerance)
        cur = finding.get("currency") or ""
        freq = finding_freq(finding)
        unit = period_unit(freq)
        when = period_name(finding["period"], freq)
        obs, exp = money(finding["observed"], cur), money(finding["expected"], cur)
        source = expectation_source(ev, freq)
        reason = ev.get("reason")
        if reason == "negative":
            return f"{when} recorded {obs}: a negative value of trade is not possible."
        partner, reading = partner_text(ev, finding)
        if reason == "unit_slip":
            return (
                f"{when} recorded {obs}, {times_expected(finding['observed'], finding['expected'])} "
                f"{the_expected(finding['expected'], cur)} from {source}"
                + _slip_reading(finding, ev, unit, self.slip_tolerance, reading in SETTLED)
                + partner
                + _against_typical(ev, cur, unit)
            )
        what = "zero" if reason == "zero" else obs
        typical = ev.get("typical")
        scale = f", and the series' typical {unit} is {money(typical, cur)}" if typical else ""
        weights, shipped = weight_text(ev, finding, reading)
        text = (
            f"{when} recorded {what}, where {about(exp)} was expected from {source}{scale}. "
            f"{_only_low(ev, unit)}{_verdict(finding, reading)}.{weights}{partner}"
        )
        nxt = period_name(ev.get("next_period"), freq)
        if ev.get("next_starts_level") or next_was_high(ev):
            return text + (
                f" {nxt} recorded {money(ev.get('next_observed'), cur)}: part of this {unit}'s "
                f"trade may have been recorded in {nxt} (a timing shift), or trade really "
                "stopped and then resumed."
            )
        return text + _low_reading(reading, shipped, unit)


def _verdict(finding: Mapping, partner: str | None = None) -> str:
    """ ": not a plausible amount of trade", unless the reporter's record moved as a whole
    that month (``along.moved_as_a_whole``): then the month is the record's story, told
    after (``along_text``), and a plausible one; nor where the partner's record moved with
    it (``partner`` "moved"), which the text then reads as trade that really was next to
    nothing (Austria's €4 of CN 39204990 to Poland, May 2025, Poland's record €4 too, was
    "not a plausible amount of trade" and, two sentences on, "trade then really was next
    to nothing")."""
    if moved_as_a_whole(finding) or partner == "moved":
        return ""
    return ": not a plausible amount of trade"


#: a partner's month within this factor of its usual one did not move with a slip
PARTNER_AS_USUAL = 3.0


def _weighed_slips(
    panel: Panel,
    reason: np.ndarray,
    factor: np.ndarray,
    low: np.ndarray,
    samples: np.ndarray,
    parcels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Reasons with each slip whose weight moved with its value read again: a shipment of
    that size at the usual price, not a unit error, which changes the value and not the
    kilograms (€4 for 1 kg before months of €6K–53K at the same €4/kg was "close to
    ×1/1,000, the signature of a unit error"). Below, a month next to nothing where the
    near-zero rules hold (``low``), else no finding here; above, none (the spike reads
    it). So is one whose weight moved further than its value. Unless the partner's record,
    at the series' own scale (its usual month within ×10 of the series' typical one),
    stayed within ×``PARTNER_AS_USUAL`` of its usual month (×10 kept samples before a flow
    whose partner's month was at ×0.2): then value and weight were both entered wrong
    (Poland's €492.3K for 105 t of CN 48064090 to Germany, whose record of the month shows
    €152 against its usual €318, Poland's typical month €507), and the slip stands, its
    weight read in the text (the cells returned beside the reasons). A record at another
    scale (Hungary's €418 a month of Spain's €79K) says nothing of it.

    Among several samples before a flow starts (``baseline.samples_before_flow``), a slip
    stands only where its weight stayed at the flow's (``weight_reading`` "steady"): samples
    of €15 to €2,120 hold one near a thousandth of the flow by chance (Hungary's exports of
    CN 39209959 to Poland, €2,120 for 4.8 t in January 2025 before €1.7M–2.1M a month from
    March, was a high "signature of a unit error"). A lone leading month at a thousandth
    has no other samples to be one of, and still reads as a slip. So, on the same terms, is
    a slip down in a line that often ships next to nothing (``parcels``,
    ``baseline.ordinary_nothing``, which keeps such a month from the near-zero reading):
    a parcel is no more a unit error than it is an implausible month (Guinea's printed
    matter to the Emirates, in a line of banknotes at face value, read as ×1/1,000 slips)."""
    held = np.zeros(reason.shape, dtype=bool)
    rows, cols = np.nonzero(reason == 3)
    if not rows.size:
        return reason, held
    steps = factor[rows, cols]
    readings = [
        weight_reading(ev, observed, step)
        for ev, observed, step in zip(
            slip_evidence(panel, rows, cols), panel.values[rows, cols], steps, strict=True
        )
    ]
    moved = np.isin(readings, ["moved", "mostly", "further"])
    among_samples = samples[rows, cols] & (samples[rows].sum(axis=1) >= 2)
    a_parcel = parcels[rows, cols] & (steps < 1)
    by_chance = (among_samples | a_parcel) & ~np.isin(readings, ["steady"])
    theirs, usual = partner_month(panel, rows, cols)
    with np.errstate(divide="ignore", invalid="ignore"):
        comparable = np.abs(np.log10(usual / typical_level(panel.values)[rows])) < 1.0
        as_usual = comparable & (np.abs(np.log(theirs / usual)) < np.log(PARTNER_AS_USUAL))
    held[rows[moved & as_usual], cols[moved & as_usual]] = True
    moved &= ~as_usual
    reason = reason.copy()
    reason[rows[by_chance], cols[by_chance]] = -1  # a sample: no near-zero reading either
    moved &= ~by_chance
    rows, cols, steps = rows[moved], cols[moved], steps[moved]
    reason[rows, cols] = np.where(low[rows, cols] & (steps < 1), REASONS.index("near_zero"), -1)
    return reason, held


def _low_reading(partner: str | None, shipped: str | None, unit: str) -> str:
    """The closing reading of a month at next to nothing: the record's fault where the
    partner's record held or the weight did not fall (and neither says the opposite), the
    trade's where the partner's record fell with it, else both readings. A weight that
    fell with the value is no reading of the trade: a record missing declarations holds
    less of both (France's exports of CN 48219090 to the world, €56 after eight months
    without a figure, were read as "trade really was next to nothing")."""
    record = partner == "held" or shipped == "kept"
    trade = partner == "moved"
    if record and not trade:
        return (
            f" The figure is then incomplete or misrecorded (trade recorded in another {unit}, "
            "not yet processed, or valued wrongly)."
        )
    if trade and not record:
        return f" Trade then really was next to nothing that {unit}."
    return (
        f" Either the figure is incomplete (trade recorded in another {unit} or not yet "
        f"processed) or trade really stopped that {unit}."
    )


def _only_low(ev: Mapping, unit: str) -> str:
    """Which "no other month" rule the low month passed, in words: no other month within
    ×10 of it, or the only one below a thousandth of the typical month (which another month
    may come near: HKG's $38 beside an $84 among months of $63.1K)."""
    if ev.get("low_rule") == "alone":
        return f"No other {unit} of the series comes within a factor 10 of it"
    if ev.get("low_rule") == "tiny" and (ev.get("tiny_months") or 1) > 1:
        return (
            f"It is one of {ev['tiny_months']} {unit}s of the series below a thousandth of its "
            f"typical {unit}, and no {unit} lies between those and a tenth of it"
        )
    if ev.get("low_rule") == "tiny":
        return f"It is the only {unit} of the series below a thousandth of its typical {unit}"
    return f"No other {unit} of the series is that low"  # saved before the rule was kept


def _explain_combined(finding: Mapping, ev: dict, tolerance: float) -> str:
    cur = finding.get("currency") or ""
    months = ev.get("months") or [finding["period"], finding["period_end"]]
    name = combined_name(finding, ev)
    obs = money(finding["observed"], cur)
    expected = expected_sum(finding, ev)
    reason = ev.get("reason")
    if reason == "negative":
        return (
            f"The combined figure for {name} is {obs}: a negative value of trade is not possible."
        )
    if reason == "unit_slip":
        return (
            f"The combined figure for {name} is {obs}, "
            f"{times_expected(finding['observed'], finding['expected'])} {expected}"
            + _slip_reading(finding, ev, "figure", tolerance)
        )
    what = "zero" if reason == "zero" else obs
    typical = ev.get("typical")
    scale = f"; the series' typical month is {money(typical, cur)}" if typical else ""
    verdict = (
        ""
        if moved_as_a_whole(finding)
        else f": not a plausible amount of trade for {len(months)} months"
    )
    return (
        f"The combined figure for {name} is {what}, against {expected}{scale}. No month of "
        f"the series is anywhere near that low{verdict}. The figure may be incomplete or "
        "misrecorded; the single months, where published, or a later revision would tell."
    )


#: what the partner's record says that settles a reading (``second_record.partner_reading``)
SETTLED = ("held", "moved")


def _slip_reading(
    finding: Mapping, ev: Mapping, unit: str, tolerance: float, settled: bool = False
) -> str:
    """What a unit slip's ratio says, after the ratio itself.

    Within ``tolerance`` of the step (the detector's ``slip_tolerance``, 0.3 decades: a
    factor 2 either way, the ratio a unit error gives to a month that runs within a factor
    2 of its expectation), it is "the signature of a unit error". Further off, the finding
    rests on the tolerance widened to the series' noise, and "close to ×1/1,000" would not
    be true of 1/150: the text says what the month would have been were it a unit error
    (€217.0K, 6.8 times its expected value), and how far outside the series' own range
    that figure falls where it does by more than ×2 (``_beyond_range``), and leaves the
    reader to weigh the readings. Where the store holds the month's weight and the series
    a usual unit value, what the quantity shows replaces "the quantity would tell them
    apart" (``_weight_text``); where the partner's record, given next, ``settled`` the
    readings, the text says that it does instead of that it would.
    """
    cur = finding.get("currency") or ""
    step = float(ev.get("factor") or 1000.0)
    observed, expected = finding.get("observed"), finding.get("expected")
    kind = "one-off" if step > 1 else "fall"
    what = "thousands, millions or units mixed up"
    tell = (
        "partner's record tells them apart."
        if settled
        else "quantity or the partner's record would tell them apart."
        if has_partner_record(finding)
        else "quantity would tell them apart."
    )
    near = _near_step(observed, expected, step, tolerance)
    on_weight = _weight_text(finding, ev, step, unit, settled)
    # a slip a hundred times every other month passed the bar on that ground: said in
    # either reading (``_alone_high``)
    apart = _above_every_other(observed, ev, cur, unit, step)
    if near:
        head = f": close to {power_step(step)}, the signature of a unit error ({what}){apart}"
        if on_weight is None:
            return f"{head}. A genuine {kind} of that size is the alternative; the {tell}"
    else:
        unslipped = float(observed) / step
        head = (
            f". Read as a unit error ({power_step(step)}: {what}), the {unit} would have been "
            f"{money(unslipped, cur)}, {times_expected(unslipped, float(expected))} its "
            f"expected value{_beyond_range(unslipped, ev, cur, unit)}{apart}"
        )
        if on_weight is None:
            return f"{head}; a genuine {kind} of that size is the other reading. The {tell}"
    return f"{head}.{on_weight}"


def _above_every_other(observed, ev: Mapping, cur: str, unit: str, step: float) -> str:
    """'; as recorded, it is 130 times the largest other month of the series ($1.5M)'
    where an upward slip lies ``APART_HIGH`` times above every other month
    (``_alone_high``), the ground it passed on in a series too lumpy for its scale to say
    so; nothing otherwise."""
    largest = ev.get("largest")
    if step < 1 or not largest or not observed or observed < APART_HIGH * largest:
        return ""
    ratio = times_rounded(observed / largest)
    largest_said = money(largest, cur)
    return f"; as recorded, it is {ratio} the largest other {unit} of the series ({largest_said})"


def _beyond_range(unslipped: float, ev: Mapping, cur: str, unit: str) -> str:
    """' and 6.1 times the largest month the series has recorded (€325.7K)' where a
    unit-error reading's figure is more than ×2 above the series' other months (or below
    them: 'and 1/40 of the smallest …'); nothing inside that range or without it."""
    largest, smallest = ev.get("largest"), ev.get("smallest")
    if largest and unslipped > 2.0 * largest:
        edge, name = largest, "largest"
    elif smallest and unslipped < 0.5 * smallest:
        edge, name = smallest, "smallest"
    else:
        return ""
    return (
        f" and {times_rounded(unslipped / edge)} the {name} {unit} the series has recorded "
        f"({money(edge, cur)})"
    )


def weight_reading(ev: Mapping, observed: float | None, step: float) -> str | None:
    """What the month's weight says of a slip, from its unit value against the series' usual
    one (within ``UNIT_VALUE_BAND``, a factor 5, read as "about"):

    - 'moved': about the usual unit value, the weight moved with the value, as a real
      change in the quantity shipped moves it;
    - 'steady': about the usual one times the step, the weight stayed where it was, as
      under a unit error, which changes the value and not the kilograms;
    - 'further': off the usual one on the side away from the step, the weight moved further
      than the value (1,700 times its usual month where the value rose 300 times), which a
      unit error in the value does not explain either;
    - 'mostly': beyond the band, but the weight carried at least ``MOST_OF_THE_STEP`` of
      the step on the log scale: China's graphite to Japan in December 2023, $7.0K for 20 t
      at $0.35/kg, 1/580 of its expected month with a weight 150 times lower (other
      partners paid $0.33–0.52/kg that month: the export controls, not a unit error);
    - 'unsettled': anywhere else (the weight moved, but less than two thirds of the way);
    - None without a weight and a usual unit value to read.

    A weight of 0 kg in a series whose weights are whole kilograms is under half a
    kilogram, a unit value of at least twice the value: 'moved' if that reaches the band,
    'further' below a fall; a 0 kg of unrounded weights is no reading.
    """
    usual, weight = ev.get("usual_unit_value"), ev.get("net_weight_kg")
    if not usual or weight is None or not observed or observed <= 0:
        return None
    band, power = math.log10(UNIT_VALUE_BAND), math.log10(step)
    if weight <= 0:
        if not ev.get("whole_kg"):
            return None
        off = math.log10(observed / 0.5 / usual)  # the least unit value 0 kg allows
        if off <= band:
            return "moved"
        return "further" if power < 0 else "unsettled"
    off = math.log10(observed / weight / usual)
    if abs(off) <= band:
        return "moved"
    if abs(off - power) <= band:
        return "steady"
    if off * power < 0:
        return "further"
    return "mostly" if abs(off) <= (1.0 - MOST_OF_THE_STEP) * abs(power) else "unsettled"


def _weight_text(
    finding: Mapping, ev: Mapping, step: float, unit: str, settled: bool = False
) -> str | None:
    """The sentences on the month's weight after a slip's reading (``weight_reading``), or
    None where there is none: the weight against the series' typical month (the median of
    its weights, as its typical month's value is: "usual month" named the months around
    the finding in the same text), the unit value against the usual one, and which reading
    that supports."""
    observed = finding.get("observed")
    reading = weight_reading(ev, observed, step)
    if reading is None:
        return None
    cur = finding.get("currency") or ""
    kind = "one-off" if step > 1 else "fall"
    kilos, usual_kilos = float(ev["net_weight_kg"]), ev.get("usual_weight_kg")
    if kilos > 0:
        price, usual_price = money_pair(ev.get("unit_value"), ev["usual_unit_value"], cur)
        month = (
            f"{weight(kilos)}, {times_rounded(ev['weight_vs_usual_month'])} the series' typical "
            f"{unit} ({weight(usual_kilos)})"
        )
        figures = f"{month}, at {price}/kg against the usual {usual_price}/kg"
    else:
        usual_price = money(ev["usual_unit_value"], cur)
        at_usual = weight(float(observed) / float(ev["usual_unit_value"]))
        figures = (
            f"0 kg (under half a kilogram: the series' weights are whole kilograms) against "
            f"{weight(usual_kilos)} in the series' typical {unit}, where {money(observed, cur)} at "
            f"the usual {usual_price}/kg would weigh {at_usual}"
        )
    record = "the partner's record"
    tells = f"{record} tells them apart" if settled else f"{record} would tell them apart"
    likelier = (
        "so a real change in the quantity shipped is the likelier reading, a unit error the "
        f"alternative; {tells}."
    )
    if ev.get("partner_held"):  # the slip stands on the partner's record (``_weighed_slips``)
        likelier = (
            "but the partner's record of the month did not move with them (below): value and "
            "weight entered wrong together is the likelier reading, a real change the "
            "alternative."
        )
    if reading == "moved":
        return (
            f" But the weight moved with the value: {figures}. A unit error changes the value, "
            f"not the kilograms, {likelier}"
        )
    if reading == "mostly":
        return (
            f" But the weight moved most of the way with the value: {figures}, far nearer the "
            f"usual unit value than {power_step(step)} of it. A unit error changes the value, "
            f"not the kilograms, {likelier}"
        )
    if reading == "further":
        return (
            f" But the weight moved too, further than the value: {figures}. A unit error "
            f"changes the value, not the kilograms, {likelier}"
        )
    if reading == "steady":
        kilos_ratio = ev.get("weight_vs_usual_month") or 1.0
        moved = abs(math.log(kilos_ratio)) > math.log(UNIT_VALUE_BAND)
        # 45 times the typical month's weight has moved, far less than the value did
        held = "moved far less than the value" if moved else "did not move with the value"
        return (
            f" The weight {held}: {month}, so the unit value, {price}/kg, "
            f"{_against_step(ev, step, usual_price)}. The quantity supports a unit error; a "
            f"genuine {kind} of that size is the alternative, which {record} "
            f"{'settles' if settled else 'would confirm or rule out'}."
        )
    return (
        f" A genuine {kind} of that size is the other reading, and the weight does not settle "
        f"it: {figures}, neither the usual unit value nor {power_step(step)} of it. "
        f"{tells[0].upper()}{tells[1:]}."
    )


def _against_step(ev: Mapping, step: float, usual_price: str) -> str:
    """The unit value against the usual one, as a unit error's step: its own ratio where
    that is not the step itself (1/1,707 of the usual price had read "about ×1/1,000")."""
    ratio = float(ev["unit_value"]) / float(ev["usual_unit_value"])
    if abs(math.log(ratio / step)) <= math.log(STEP_ITSELF):
        return f"is about {power_step(step)} of the usual {usual_price}/kg, as a unit error would make it"
    # within the band of the step is nearer it than the usual price, not near it: 216
    # times the usual price read "near the ×1,000", a third of the way to ×100
    return (
        f"is {times(ratio)} the usual {usual_price}/kg, nearer the {power_step(step)} a unit "
        "error would make than the usual price"
    )


def _near_step(observed, expected, step: float, tolerance: float) -> bool:
    """Whether observed/expected is within ``tolerance`` decades of ``step`` (true when
    there is no ratio to weigh)."""
    try:
        lr = math.log10(float(observed) / float(expected))
    except (TypeError, ValueError, ZeroDivisionError):
        return True
    return abs(lr - math.log10(step)) <= tolerance + 1e-9


def slip_evidence(panel: Panel, rows: np.ndarray, cols: np.ndarray) -> list[dict]:
    """What the series' other months say of each slipped month, vectorised over the cells.

    ``largest`` and ``smallest``: the series' other reported months (non-negative), the
    range a unit-error reading's figure is set against. Where the month has a weight and
    the series' other months give at least ``MIN_UNIT_VALUE_MONTHS`` with both a positive
    value and a positive weight (the month itself left out of its yardstick):
    ``net_weight_kg``; ``unit_value`` (value/weight; None at 0 kg); ``usual_unit_value``
    and ``usual_weight_kg``, the medians of those months' value/weight and weight;
    ``weight_vs_usual_month``, the weight over that usual one; and ``whole_kg``, whether
    every weight of the series is a whole number (a 0 then stands for under half a kilogram).
    """
    k = len(rows)
    if not k:
        return []
    at = np.arange(k)
    values = panel.values[rows]
    weights = panel.weights[rows]
    own_value, own_weight = values[at, cols], weights[at, cols]
    other = values.copy()
    other[at, cols] = np.nan  # the month is not its own yardstick
    with np.errstate(invalid="ignore", divide="ignore"):
        reported = np.where(other >= 0, other, np.nan)
        both = (other > 0) & (weights > 0)
        usual_price, months = nanmedian(np.where(both, other / weights, np.nan))
        unit_value = own_value / own_weight
    usual_weight, _ = nanmedian(np.where(both, weights, np.nan))
    largest, smallest = np.fmax.reduce(reported, axis=1), np.fmin.reduce(reported, axis=1)
    whole = whole_kilograms(weights)
    has = np.isfinite(own_weight) & (own_weight >= 0) & (months >= MIN_UNIT_VALUE_MONTHS)
    out = []
    for j in range(k):
        ev: dict = {
            "largest": evidence_figure(largest[j]),
            "smallest": evidence_figure(smallest[j]),
        }
        if has[j]:
            ev |= {
                "net_weight_kg": evidence_figure(own_weight[j]),
                "unit_value": evidence_figure(unit_value[j]) if own_weight[j] > 0 else None,
                "usual_unit_value": evidence_figure(usual_price[j]),
                "usual_weight_kg": evidence_figure(usual_weight[j]),
                "weight_vs_usual_month": evidence_figure(own_weight[j] / usual_weight[j]),
                "whole_kg": bool(whole[j]),
            }
        out.append(ev)
    return out


def times_expected(observed: float, expected: float) -> str:
    """'31 times' or '1/5,100 of': the ratio as measured, in words, to two significant
    figures (the expectation is not known closer)."""
    if not expected or not observed or expected <= 0 or observed <= 0:
        return "against"
    return times_rounded(observed / expected)


def times_rounded(ratio: float) -> str:
    """``times`` of a ratio to two significant figures as the reader sees it: a fraction's
    denominator is what is rounded (1/46,800 reads 1/47,000; rounding the ratio first and
    inverting it again read 1/48,000, and 3 kg of 2,222 kg 1/769 instead of 1/740). From a
    half to 1 ``times`` gives a percentage, which rounds itself."""
    if ratio >= 1:
        return times(_round2(ratio))
    if ratio >= 0.5:
        return times(ratio)
    return times(1.0 / _round2(1.0 / ratio))


def _round2(x: float) -> float:
    """Two significant figures: 5,123 → 5,100."""
    return float(f"{x:.2g}")


def _against_typical(ev: dict, cur: str, unit: str = "month") -> str:
    """The series' typical month as a sentence of its own (in brackets after an expectation
    that ends in its seasonal factor's own brackets it read "(×1.35) (the series' …)")."""
    typical = ev.get("typical")
    return f" The series' typical {unit} is {money(typical, cur)}." if typical else ""


def typical_level(v: np.ndarray) -> np.ndarray:
    """The series' typical month: the median of its reported non-negative values."""
    med, _ = nanmedian(np.where(np.isfinite(v) & (v >= 0), v, np.nan))
    return med


#: at most this share of a series' reported months may lie below a thousandth of its typical
#: month for each of them to be implausible (``_tiny_apart``)
FEW_TINY_SHARE = 0.2


def _tiny_apart(v: np.ndarray, tiny: np.ndarray, typical: np.ndarray) -> np.ndarray:
    """Rows whose months below a thousandth of the typical month (``tiny``) are a few (at
    most ``FEW_TINY_SHARE`` of the reported months) standing apart: no month of the
    series lies between a thousandth and a tenth of its typical month. An
    intermittent flow runs at every size below its typical month; a series at about
    €100K a month with two months at €8 and €47 and nothing in between has two figures
    that are not trade (Czechia's exports of CN 85235910 to Austria, where one such month
    hid the other)."""
    n = tiny.sum(axis=1, keepdims=True)
    reported = np.isfinite(v).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        between = (~tiny & (v < 0.1 * typical)).any(axis=1, keepdims=True)
    return (n <= FEW_TINY_SHARE * reported) & ~between


def _habit_of_tiny(
    v: np.ndarray, tiny: np.ndarray, slip: np.ndarray, apart: np.ndarray
) -> np.ndarray:
    """Downward slips that a series' habit of tiny figures explains better: cells of
    ``apart`` (tiny months standing apart, read as near zero) in a series where another
    such month is no slip. A unit error multiplies one figure by a power of ten; figures
    a thousandth of the usual month and below at every size (a sample declared in a month
    whose shipments were not) land within a slip's tolerance (±tol decades, 0.3 to 1.0) of
    ×1/1,000 or ×1/1,000,000 by chance 2·tol/3 of the time: one time in five at the
    default 0.3, one in three at 0.5. Ireland's imports of Guinea's bauxite held €27.6K,
    €9.3K and €45.0K in months of about 100B GNF: two were read as "a unit error
    (×1/1,000,000)", the third as not a plausible amount of trade."""
    down = np.isfinite(slip) & (slip < 1)
    unexplained = (apart & ~down & (v > 0)).any(axis=1, keepdims=True)
    return down & apart & tiny & unexplained


def _season_as_low(v: np.ndarray, season: int, factor: float) -> np.ndarray:
    """Cells whose same calendar month in another year is as low, within ×``factor`` (or
    at zero): the series' season, not a figure no trade explains. Portugal's exports of
    CN 35069110 to Italy run near nothing every August (€85, €26, €176 among months of
    about €30K); the €26 was "the only month below a thousandth of the typical month"."""
    out = np.zeros(v.shape, dtype=bool)
    if season < 2:
        return out
    with np.errstate(invalid="ignore", over="ignore"):  # a product past 1.8e308 is inf
        for lag in range(season, v.shape[1], season):  # one step a year: a handful
            out[:, lag:] |= v[:, :-lag] <= factor * v[:, lag:]
            out[:, :-lag] |= v[:, lag:] <= factor * v[:, :-lag]
    return out


def _others_agree(v: np.ndarray, factor: float = 10.0) -> np.ndarray:
    """Cells whose series' other positive months lie within ×``factor`` of each other.

    In a series of five months at €4, €81, €5,826, €1 and €53 (too few for a scale of its
    own), €5,826 read as a ×1000 slip and €1 as one the other way, its expectation taken
    from the €5,826: figures all over the place say nothing of which is off.
    """
    _, low, high, n = _other_extremes(v)
    with np.errstate(invalid="ignore"):
        return (n[:, None] >= 3) & (high <= factor * low)


def _other_extremes(v: np.ndarray):
    """Each cell's series' smallest and largest positive month other than the cell itself
    (NaN where there is none), with the cells' positive values (NaN elsewhere) and each
    series' count of positive months: one sort the rules of "no other month" share."""
    pos = np.where(np.isfinite(v) & (v > 0), v, np.nan)
    n = np.isfinite(pos).sum(axis=1)
    if v.shape[1] < 2:
        nothing = np.full(v.shape, np.nan)
        return pos, nothing, nothing, n
    order = np.sort(pos, axis=1)  # NaN last
    at = np.arange(len(v))
    lo1, lo2 = order[:, :1], order[:, 1:2]
    hi1 = order[at, np.maximum(n - 1, 0)][:, None]
    hi2 = order[at, np.maximum(n - 2, 0)][:, None]
    return pos, np.where(pos == lo1, lo2, lo1), np.where(pos == hi1, hi2, hi1), n


def _two_sided(z: np.ndarray, model) -> np.ndarray:
    """``z`` in the series' two-sided scale (``sigma``) instead of its side's.

    A side's scale is widened by the 95 % point of all deviations, so three ×1000 months
    in 36 (8 %) made that side's scale their own and hid each other; the two-sided scale
    is widened by the 90 % point of the deviations either way, so what a tenth of the
    months do is still a habit of the series, never an error. A ×1000 step is no
    lumpy flow's habit short of that."""
    side = np.where(z >= 0, model.sigma_high[:, None], model.sigma_low[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return z * side / model.sigma[:, None]


#: a month this many times every other month of its series stands apart from its noise
APART_HIGH = 100.0


def _alone_high(v: np.ndarray, factor: float = APART_HIGH) -> np.ndarray:
    """Cells at least ×``factor`` above every other reported month of their series, in a
    series with ``Implausible.min_other_months`` other months with trade or more. An
    intermittent line shipping $32K–$1.48M (70 % of its months without trade) had a ×1000
    month, $190.5M, read as a low spike "4.1 times the series' usual variation": its scale,
    wide from the lumpy shipments, kept it under the slip's bar, though it was 128 times
    the largest month the line ever had. Two decades above the series' whole range is no
    shipment's size by chance (the unit-slip reading still asks the step's ratio to the
    expectation, and the weight's reading may still clear it)."""
    pos, _, largest_other, n = _other_extremes(v)
    with np.errstate(invalid="ignore", over="ignore"):
        return (pos >= factor * largest_other) & (n[:, None] > Implausible.min_other_months)


def _above_the_rest(v: np.ndarray, model) -> np.ndarray:
    """How many scales above its expectation (``sigma_high``) each month lies above the
    largest other month of its series (log scale with the model's offset; 0 below it)."""
    pos, _, other, _ = _other_extremes(v)
    c = model.offset[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = (np.log(pos + c) - np.log(other + c)) / model.sigma_high[:, None]
    return np.clip(np.nan_to_num(gap), 0.0, None)


def _alone_low(v: np.ndarray, factor: float) -> np.ndarray:
    """Cells whose value no other reported month of the series comes within ×factor of."""
    with np.errstate(invalid="ignore", over="ignore"):  # a product past 1.8e308 is inf
        low = np.where(np.isfinite(v) & (v >= 0), v, np.nan)
        order = np.sort(low, axis=1)  # NaN last
        second = order[:, 1] if v.shape[1] > 1 else np.full(v.shape[0], np.nan)
        # alone if the second smallest value of the series exceeds 10 × this one
        # (the smallest is the cell itself when the cell is the minimum)
        is_min = low == order[:, :1]
        return is_min & ~(second[:, None] <= factor * low)
