"""unit_value: value per kg far from the commodity's usual price, and the ×1000 slips."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

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
from tradesentry.detectors.baseline import DEFAULT_CONFIG
from tradesentry.detectors.cross import context_array, row_center_spread, row_median
from tradesentry.detectors.drivers import NEEDS as DRIVER_NEEDS
from tradesentry.detectors.evidence import finding_freq
from tradesentry.detectors.robust import MAD_TO_SIGMA, nanmedian
from tradesentry.detectors.second_record import partner_record, whole_kilograms
from tradesentry.detectors.shifts import Shifts, find_shifts
from tradesentry.panel import Panel
from tradesentry.schema import many_goods_codes
from tradesentry.text import (
    about,
    currency_symbol,
    figures_apart,
    money,
    money_pair,
    period_name,
    period_unit,
    plural,
    power_step,
    times,
    weight,
)

LN10 = math.log(10.0)
PAIRS_PER_BLOCK = 1 << 22  # month pairs compared at once (32 MB of float64)
VALUE_SLIP, WEIGHT_SLIP = "value slip", "weight slip"
WEIGHT_OUTLIER, PRICE_OUTLIER = "weight outlier", "price outlier"
#: a lasting change of the weight's record (``_weight_record_changes``)
WEIGHT_RECORD = "weight record change"
WEIGHT_PATTERNS = (WEIGHT_SLIP, WEIGHT_OUTLIER)  # the value is right: no money at stake
#: a lasting change of the unit value this many times either way is one of the record, not
#: of the price (``level_shift.UNIT_CHANGE``, of a value's change)
UNIT_CHANGE = 10.0
#: ... and of the weight's record where the weight carries at least this share of it (log
#: terms; ``level_shift.UNIT_SHARE``, the weight's most in a value's unit change, mirrored)
WEIGHT_CARRIES = 0.75
#: the partner's record of the month "agrees" where its value and its weight are each
#: within this factor of the series' own (a CIF/FOB margin, rounding, a few days' timing)
PARTNER_AGREES = 1.5
#: a pair's records are read against each other only where they usually agree, as a
#: month must to agree (×``PARTNER_AGREES``), in value and in weight, over at least
#: ``PAIR_MONTHS`` months both hold: a pair usually ×2.2 apart made a month ×1.9 from that
#: relation "agree"; and the partner's record points to the figure off where it agrees with
#: one of the series' value and weight and is ``PAIR_APART`` times or more from the other
PAIR_MONTHS = 6
PAIR_APART = 3.0
#: figures this small (in the series' currency) are the least a record can hold, not a copy
COPY_MIN_VALUE = 100.0
#: the highest score of a month whose partner's record agrees: low, a price confirmed by
#: two records, worth a look but no error of either
AGREED_SCORE = 0.6
#: a month at the price across partners (within ×``MARKET_AGREES``) in a series whose own
#: usual price is ×``HABIT_APART`` or more off it is off only a habit the market does not
#: share: not flagged (``_at_market``). Guinea's bauxite to China, July 2016, at 349 GNF/kg
#: where every partner paid 330, was "a value slip" of 11 trillion francs against the
#: series' usual 23,500, 71 times the market; then a low finding whose own text cleared it
#: (China's natural graphite to Hong Kong, February 2022, $1.19/kg where the market paid
#: $1.41: "the series' other months, or their weights, look off, not this one")
MARKET_AGREES = 3.0
HABIT_APART = 10.0
#: value and weight moved as far from their usual months where within this factor of each
#: other (log terms): the value's "about as usual" band
AS_FAR = 1.25
#: the highest score of a weight slip or outlier, the top of low: its value is right and
#: no money is at stake, however sure the weight's error. 557 of the Comext scan's high
#: findings were weights off at €0 at stake, ranked above the money that was; at the top
#: of medium, three of Korea's gallium weights of 2017 ($0 at stake) still ranked above
#: a level shift of $1.0B, low; among the low they rank by their money, last
WEIGHT_SCORE = 0.69
#: what a price outlier may be, as its texts say it
PRICE_READING = "a price outlier (misinvoicing, another product, or unrecorded quantities)"


@dataclass(frozen=True)
class UnitValue(Detector):
    """The log unit value (value per kg) of each cell is compared with the commodity's
    price that month, the median across every reporter and partner in the store (where at
    least ``min_reference`` figures make it), plus the series' own usual premium over it
    (the median over its months); the residual is scaled by the series' robust σ (1.4826 ×
    MAD over time, blended with a prior of ``prior_spread`` and floored at ``min_spread``).
    A cell is flagged beyond ``threshold`` σ when its unit value is also off the series' own
    usual unit value (its median over its tested months), on the same side, by more than
    ``own_threshold`` of the series' own robust σ of the log unit value (blended and floored
    as above), unless the series itself reports that unit value: at least ``habit_share``
    (10 %) of its other tested months, and at least ``habit_months`` (2) of them, are off its
    usual unit value too and within ``own_threshold`` of its own σ of the cell's (log
    terms), and it is not a power of ten off; and when its value, or the value its weight
    implies at the usual price, is material (``materiality`` of the series' usual month).
    Months whose quantities the source estimated from the values (most partners share one
    unit value, as in UN Comtrade's estimates) carry no price signal and are not tested.
    A deviation of about a power of ten (×100, ×1000…) from the market or from the series'
    own usual unit value, where one of value and weight is normal for the series and the
    other is off by that factor, is a *value slip* or a *weight slip*, where it is one of
    the month (``_slip_stands``): the months around it are at the usual price (no lasting
    change of the price, or of its record, that it belongs to) and the partner's unit value
    that month, where the store holds it, is not nearer the recorded price than the
    corrected one; otherwise, whichever
    of the two moved further from the series' usual month (in log terms) names it: the
    weight, a *weight outlier*; the value (or as far), a *price outlier* (misinvoicing, a
    different product, or unrecorded quantities). Why:
    prices of one product move together across partners, so a unit value far from both the
    market and the series' own habit is rare, and the value implied at the usual price
    measures the money at stake. The market test carries the rarity (5 σ); the own test
    only asks that the unit value be one the series does not itself report, by the
    detector's definition of normal for a series (robust z within 3, as ``normal_z`` for
    values and weights). It guards against a reference that moved while the series did not
    (other partners' quantities in another unit, a change in the mix of partners); 5 σ
    there would ask too much, since the own σ also holds the market's moves over the years
    that the residual is rid of, and would drop slips in series whose price drifted.
    A series can hold two habits (two grades or products under one code) that its median
    and MAD do not see: with a third of its months at a tenth of the usual unit value, the
    median and MAD describe the other two thirds and each of the third read as an outlier. A second habit is told by the months
    themselves: "near" is the own test's band around the cell (the band in which it calls a
    unit value usual), and the near months must be off the median themselves, since
    otherwise the series' ordinary months at the edge of its band would vouch for a cell
    just beyond it (for normal noise, a third of the months lie within 3 σ of a cell at
    3.5 σ), raising the own bar of every series. "Enough" is the shared baseline's rule
    that what a tenth of a series' months do is not an anomaly, and at least two other
    months, so that a lone outlier, or a pair of them, is still one. A unit value a power
    of ten (×100 or more) off the usual one is a unit error however often it is made and
    is not cleared; the text then counts the months that share it and, unless the price
    across partners that month agrees with the usual one (within ×3), says that the usual
    one, the majority's, may be the one in error (Guinea's gold to Switzerland: 5 of 22
    months at gold's price, the other 17 at a thousandth of it).

    Nor is a month at the price across partners (within ×``MARKET_AGREES``) in a series
    whose usual price is ×``HABIT_APART`` or more off it (``_at_market``) flagged: the
    market test there measures the series' premium, not the month, which the market sides
    with and whose value stands. What differs from the market is the series' usual price, a
    premium the model takes as the series' own (its grade, its product), not any month's
    error; a finding on the month read so of itself ("the series' other months … look off,
    not this one") and flagged the one month it cleared, while the series' other months at
    the market's price (the 20 or so bulk months of China's graphite to Hong Kong) were
    its habit and had none.

    A series whose weight's record changed for good (a lasting change of its unit value
    of ×10 or more that the weight carries: ``_weight_record_changes``) has usual prices on
    each side of the change, and the change is one finding (``weight record change``) at
    its first month, no money at stake, where each month of the minority's side had been a
    weight slip of its own.

    The partner's record of the same flow that month, where the store holds it with a
    weight, is a second declaration of the shipment: where its value and its weight are
    each within ×``PARTNER_AGREES`` (1.5) of the series' own, neither record is in error.
    A slip, an error of one record, is then none (a slip made again, the same, by the other
    customs office is not a reading anyone would give), and an outlier is at most low
    (``AGREED_SCORE``): a price two records confirm, goods unlike the series' usual ones or
    a price both sides declared, its text giving the partner's figures. The very same
    figures are one record copied into the other, not a second declaration, and confirm
    nothing.

    Where the value is what is off (a price outlier, a value slip) the finding replaces a
    spike or dip of the month, one event read against the market's price (Sweden's imports
    of CN 39204910 from the Netherlands, September 2024, were a low spike and a high price
    outlier); where the weight is, the value's own finding stays beside it. A month
    ``implausible`` reads (near zero, ×1000) is that finding alone. A total's or a
    chapter's value per kg moves with its mix of goods: there only slips are findings
    (``_mixes_goods``).

    Materiality, as every detector's: the score is capped at m /
    ``material_money``, m the money the finding is about in US dollars where the store has the
    month's rate for the series' currency (else in its own units): the gap for a price
    outlier or a value slip; for a weight slip or outlier, whose value is right, the value
    of the record (44,640 Guinean francs, about $5, is never high); and a weight slip or
    outlier is at most low (``WEIGHT_SCORE``): with the value right, no money is at
    stake, and findings rank by severity before money. €13 for 13 kg against a usual €10/kg is a price far off the market, and its
    €120 at stake is never high however far.
    """

    kind = "unit_value"
    # the partner's record of the month, its value and weight (``_partner_agrees``); on a
    # world series, every partner's sum (``drivers``: which partner's value is off)
    needs = ("reference_unit_value", *MONEY_NEEDS, "mirror", *DRIVER_NEEDS)
    #: where the value is what is off (a price outlier, a value slip), the month's spike or
    #: dip is this one event (``superseding``); a weight off leaves the value's own finding
    supersedes = ("spike", "dip")

    def superseding(self, found: pd.DataFrame) -> np.ndarray:
        value_off = (PRICE_OUTLIER, VALUE_SLIP)
        return np.array([(ev or {}).get("pattern") in value_off for ev in found["evidence"]], bool)

    threshold: float = 5.0
    own_threshold: float = 3.0
    min_spread: float = 0.25
    prior_spread: float = 0.5
    prior_weight: float = 3.0
    min_months: int = 6
    min_reference: int = 3
    materiality: float = 0.05
    slip_tolerance: float = 0.5
    normal_z: float = 3.0
    habit_share: float = 0.1
    habit_months: int = 2
    material_money: float = MATERIAL_MONEY  # US dollars; currency units where the store has no rate

    def detect(self, panel: Panel) -> pd.DataFrame:
        c = self._cells(panel)
        if c is None:
            return no_detections()
        # where a series' weight record changed, each side is read against its own prices:
        # searched in the series whose unit values span ×UNIT_CHANGE or more (a change of
        # ×12 held for a year is a habit of the series, never a flagged month)
        with np.errstate(invalid="ignore"):
            tested = np.where(c["tested"], c["log_uv"], np.nan)
            span = np.fmax.reduce(tested, axis=1) - np.fmin.reduce(tested, axis=1)
        rows = np.flatnonzero(span >= math.log(UNIT_CHANGE))
        changes = self._weight_record_changes(c, rows, self._levels(c, rows))
        flagged = self._flagged(c)
        found = [self._months(panel, c, flagged)]
        if changes is not None:
            found.append(self._record_changes(panel, c, changes))
        found = [f for f in found if len(f)]
        return pd.concat(found, ignore_index=True) if found else no_detections()

    def _flagged(self, c: dict) -> np.ndarray:
        """The cells off both the market's price and the series' own, material, and no
        habit of the series (``_reported``)."""
        rounding = c["rounding"]
        z = np.abs(c["resid"]) / np.hypot(c["spread"][:, None], rounding)
        own_z = c["own_resid"] / np.hypot(c["own_spread"][:, None], rounding)
        off_own = (np.abs(own_z) > self.own_threshold) & (np.sign(own_z) == np.sign(c["resid"]))
        material = np.fmax(c["value"], c["implied"]) >= self.materiality * c["typical"][:, None]
        flagged = c["tested"] & material & (z > self.threshold) & off_own
        habit, c["recurs"] = self._reported(c, flagged)
        c["z"] = z
        rows, cols = np.nonzero(flagged)
        market = np.zeros_like(flagged)
        market[rows, cols] = _at_market(c, rows, cols)
        return flagged & ~habit & ~market

    def _months(self, panel: Panel, c: dict, flagged: np.ndarray) -> pd.DataFrame:
        """One finding a flagged month: its pattern, its money at stake, its evidence."""
        z = c["z"]
        rows, cols = np.nonzero(flagged)
        if len(rows) == 0:
            return no_detections()
        mixes = _mixes_goods(panel)[rows]
        partner, agrees = _partner_agrees(panel, rows, cols)
        # a partner's record that agrees with both figures unmakes a slip below, as ever
        partner_price = np.where(agrees, np.nan, _partner_price(panel, c, rows, cols))
        pattern, factor, dv, dw, own_placed, weight_normal = self._patterns(
            c, rows, cols, partner_price
        )
        slip = np.isin(pattern, (VALUE_SLIP, WEIGHT_SLIP))
        # a total's or a chapter's value per kg moves with its mix of goods: only a power of
        # ten off is a slip there, an outlier is a change of the mix; and a slip in one
        # record is not made again, the same, in the partner's
        kept = (~mixes | slip) & ~(agrees & slip)
        if not kept.all():
            rows, cols, pattern, factor, dv, dw, own_placed, agrees, weight_normal = (
                a[kept]
                for a in (rows, cols, pattern, factor, dv, dw, own_placed, agrees, weight_normal)
            )
            partner = partner[kept]
            if not len(rows):
                return no_detections()
        reading = _partner_points(
            c, rows, cols, partner, agrees, pattern, factor, self.own_threshold
        )
        pattern = np.where(
            reading == "weight",
            WEIGHT_OUTLIER,
            np.where(reading == "value", PRICE_OUTLIER, pattern),
        ).astype(object)
        value = c["value"][rows, cols]
        # a price outlier's money at stake at the price across partners where the series'
        # own usual price is ten times or more off it: Singapore's bauxite, December 2018,
        # 176 t priced at the series' 15,350,000 GNF/kg (52,310 times the market's) put
        # 2.7 trillion francs at stake, fifth of the scan
        at_habit = c["implied"][rows, cols]
        market = c["weight"][rows, cols] * np.exp(c["log_ref"][rows, cols])
        priced_at_market = (pattern == PRICE_OUTLIER) & _habit_apart(c, rows, cols)
        # a price outlier whose weight is itself outside the series' swings is priced at
        # the nearer of its weight at the usual price and the series' usual month: Germany's
        # 826 kg of CN 85235990 to Croatia at €6.8K, the weight 4.6 times its usual month,
        # put €180.0K at stake, 4.4 times a usual month's whole value
        usual_month = value * np.exp(-dv)
        # ... unless the partner's record of the month holds the same weight: the weight is
        # then right and the value off, worth the weight at the usual price (Estonia's 4 kg
        # from Hungary at €1,157, Hungary's €82: "worth about €44, a gap of €515", the gap
        # to a usual month's value, €1,672, the other way)
        at_usual_month = (
            (pattern == PRICE_OUTLIER)
            & ~weight_normal
            & ~priced_at_market
            & (reading != "value")
            & (np.abs(usual_month - value) < np.abs(at_habit - value))
        )
        expected = np.select(
            [
                pattern == VALUE_SLIP,
                np.isin(pattern, WEIGHT_PATTERNS),
                priced_at_market,
                at_usual_month,
            ],
            [value / factor, value, market, usual_month],
            at_habit,
        )
        evidence = [
            self._evidence(c, r, t, p, f, own, by_own)
            for r, t, p, f, by_own, *own in zip(
                rows, cols, pattern, factor, own_placed, dv, dw, strict=True
            )
        ]
        for k in np.flatnonzero(reading != ""):
            evidence[k]["partner_value"] = _sig(partner[k, 0])
            evidence[k]["partner_weight_kg"] = _sig(partner[k, 1])
            evidence[k]["partner_reading"] = str(reading[k])
        for k in np.flatnonzero(priced_at_market):
            evidence[k]["value_at_market_price"] = _sig(market[k])
        for k in np.flatnonzero(at_usual_month):
            evidence[k]["value_of_usual_month"] = _sig(usual_month[k])
        return detections(
            self.kind,
            rows,
            cols,
            observed=value,
            expected=expected,
            impact=value - expected,
            score=np.minimum.reduce(
                [
                    np.where(agrees, AGREED_SCORE, 1.0),
                    np.where(np.isin(pattern, WEIGHT_PATTERNS), WEIGHT_SCORE, 1.0),
                    confidence(z[rows, cols], self.threshold),
                    material_cap(
                        in_dollars(
                            panel,
                            rows,
                            cols,
                            # what the finding is about: the record, where its value is right
                            np.where(
                                np.isin(pattern, WEIGHT_PATTERNS),
                                value,
                                value - expected,
                            ),
                        ),
                        self.material_money,
                    ),
                ]
            ),
            evidence=evidence,
        )

    def _levels(self, c: dict, rows: np.ndarray) -> Shifts | None:
        """Lasting changes of ``rows``' unit value (the level-shift search,
        ``shifts.find_shifts``, on the log unit value of the tested months), returned; and
        per cell the level of the months around it: the median, over its segment between
        those changes, of the log unit value less the market's where the series has one
        (``market_gap``, as the premium is), so that the market's own moves are no change
        (``c["level"]``; NaN in the other rows, whose unit values span less than ×10)."""
        c["level"] = np.full(c["value"].shape, np.nan)
        if not rows.size:
            return None
        x = np.where(c["tested"][rows], c["log_uv"][rows], np.nan)
        shifts, segment = find_shifts(x, DEFAULT_CONFIG)
        c["level"][rows] = _by_segment(c["market_gap"][rows], segment)[0]
        return shifts

    def _weight_record_changes(
        self, c: dict, rows: np.ndarray, shifts: Shifts | None
    ) -> dict | None:
        """Lasting changes of ``rows``' unit value by ×``UNIT_CHANGE`` or more either way
        that the weight carries (it moved at least ``WEIGHT_CARRIES`` of the change, log
        terms, the value at most the rest): the weight's record changed (its unit, or what
        is weighed), not the price. Found with
        the level-shift search (``shifts.find_shifts``) on the log unit value (``shifts``,
        ``_levels``); each becomes
        a segment of the series (``c["segment"]``), whose prices are fitted again
        (``_fit``). None where there is none."""
        if shifts is None:
            return None
        big = np.abs(shifts.new - shifts.old) >= math.log(UNIT_CHANGE)
        if not big.any():
            return None
        row, col, statistic = rows[shifts.series[big]], shifts.start[big], shifts.stat[big]
        sides = None
        for _ in range(3):  # the changes kept cut the series; judged again between them
            sides = _sides(c, row, col)
            kept = _weight_carries(sides)
            if kept.all():
                break
            row, col, statistic, sides = row[kept], col[kept], statistic[kept], None
            if not row.size:
                return None
        sides = sides if sides is not None else _sides(c, row, col)
        cut = np.zeros(c["value"].shape, dtype=bool)
        cut[row, col] = True
        c["segment"] = np.cumsum(cut, axis=1)
        self._fit(c, np.unique(row))
        return {"row": row, "col": col, "statistic": statistic, **sides}

    def _record_changes(self, panel: Panel, c: dict, ch: dict) -> pd.DataFrame:
        """One finding a change of the weight's record, at its first month; a change that
        the next undoes within ``SIDE_MONTHS`` months (back within ×``RETURN_RATIO``) is
        one finding over its months (``period_end`` its last). The value is right, so no
        money is at stake, and it is at most low (``WEIGHT_SCORE``)."""
        row, col, uv = ch["row"], ch["col"], ch["unit_value"]
        undone = np.zeros(len(row), dtype=bool)  # change k undone by change k + 1
        for k in range(len(row) - 1):
            if k and undone[k - 1]:
                continue  # the return of the change before
            undone[k] = (
                row[k] == row[k + 1]
                and col[k + 1] - col[k] <= SIDE_MONTHS
                and abs(math.log(uv[k + 1, 1] / uv[k, 0])) <= math.log(RETURN_RATIO)
            )
        told = ~np.concatenate([[False], undone[:-1]])  # a return is told with its change
        end = np.where(undone, ch["last"][:, 1], col).astype(np.int64)
        evidence = []
        for k in np.flatnonzero(told):
            ev = {
                "pattern": WEIGHT_RECORD,
                "unit_value_before": _sig(uv[k, 0]),
                "unit_value_after": _sig(uv[k, 1]),
                "value_before": _sig(ch["value"][k, 0]),
                "value_after": _sig(ch["value"][k, 1]),
                "weight_before_kg": _sig(ch["weight"][k, 0]),
                "weight_after_kg": _sig(ch["weight"][k, 1]),
                "months_before": int(ch["months"][k, 0]),
                "months_after": int(ch["months"][k, 1]),
                "before_from": panel.label(int(ch["first"][k, 0])),
                "before_to": panel.label(int(ch["last"][k, 0])),
                "after_to": panel.label(int(ch["last"][k, 1])),
                "statistic": round(float(ch["statistic"][k]), 3),
            }
            if undone[k]:
                ev["returned"] = panel.label(int(col[k + 1]))
                ev["unit_value_returned"] = _sig(uv[k + 1, 1])
            evidence.append(ev)
        score = np.minimum(
            WEIGHT_SCORE, confidence(np.abs(ch["statistic"]), DEFAULT_CONFIG.shift_threshold)
        )
        row, col = row[told], col[told]
        value = c["value"][row, col]
        return detections(
            self.kind,
            row,
            col,
            end[told],
            observed=value,
            expected=value,
            impact=np.zeros(len(row)),
            score=score[told],
            evidence=evidence,
        )

    def _cells(self, panel: Panel) -> dict | None:
        value, weight = panel.values, panel.weights
        if weight is None or weight.shape != value.shape:
            return None
        ok = np.isfinite(value) & np.isfinite(weight) & (value > 0) & (weight > 0)
        if not ok.any():
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            log_uv = np.where(ok, np.log(value / weight), np.nan)
        log_ref, has_ref = self._reference(panel, ok)
        estimated = self._estimated(panel, ok, log_uv, log_ref)
        tested = ok & ~estimated & (np.isfinite(log_ref) | ~has_ref[:, None])
        d = np.where(tested, log_uv - np.where(has_ref[:, None], log_ref, 0.0), np.nan)
        n = np.isfinite(d).sum(axis=1)
        tested &= (n >= self.min_months)[:, None]
        c = {
            "value": value,
            "weight": weight,
            "ok": ok,
            "tested": tested,
            "log_uv": log_uv,
            "log_ref": log_ref,
            "has_ref": has_ref,
            "market_gap": d,
            "segment": np.zeros(value.shape, dtype=np.int64),
            "typical": row_median(np.where(ok, value, np.nan)),
            "estimated_months": estimated.sum(axis=1),
            "rounding": _rounding(weight, ok),
        }
        self._fit(c, np.arange(len(value)))
        return c

    def _fit(self, c: dict, rows: np.ndarray) -> None:
        """The series' usual prices of ``rows``, each within its segment (``c["segment"]``:
        one per series, but where its weight's record changed, ``_weight_record_changes``):
        its premium over the market and its own usual unit value, per cell; the residuals
        from them; and their robust σ."""
        segment, tested = c["segment"][rows], c["tested"][rows]
        premium, raw, n = _by_segment(c["market_gap"][rows], segment)
        own_center, own_raw, _ = _by_segment(np.where(tested, c["log_uv"][rows], np.nan), segment)
        log_ref = np.where(c["has_ref"][rows, None], c["log_ref"][rows], 0.0)
        fitted = {
            "resid": c["market_gap"][rows] - premium,
            "premium": premium,
            "spread": self._spread(raw, n),
            "own_center": own_center,
            "own_resid": c["log_uv"][rows] - own_center,
            "own_spread": self._spread(own_raw, n),
            "usual": np.exp(log_ref + premium),
        }
        fitted["implied"] = c["weight"][rows] * fitted["usual"]
        for name, part in fitted.items():
            if name not in c:
                c[name] = np.full((len(c["value"]), *part.shape[1:]), np.nan)
            c[name][rows] = part

    def _reported(self, c: dict, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of ``cells`` the series itself reports: at least ``habit_share`` of the
        series' other tested months, and ``habit_months`` of them, are also off its usual
        unit value (beyond ``own_threshold`` of its own σ) and within ``own_threshold`` of
        its own σ of the cell's unit value (log terms); except a cell about a power of ten
        (×100 or more) off the usual one, whose recurrence is a unit error made again, not
        a habit. Also returns, per cell, the number of such other months. Pairwise over the
        months of the rows that hold a cell, in blocks of rows to bound memory (8,192
        series × 120 months at once would be 118M pairs)."""
        out = np.zeros_like(cells)
        count = np.zeros(cells.shape, dtype=np.int64)
        k, slip = self._power_of_ten(np.nan_to_num(c["own_resid"]))
        c["own_step"] = np.where(slip, k, 0.0)  # a power of ten off the series' usual one
        rows = np.flatnonzero(cells.any(axis=1))
        if len(rows) == 0:
            return out, count
        band = self.own_threshold * c["own_spread"]
        away = c["tested"] & (np.abs(c["own_resid"]) > band[:, None])
        need = np.maximum(self.habit_months, self.habit_share * (c["tested"].sum(axis=1) - 1))
        log_uv = np.where(c["tested"], c["log_uv"], np.nan)
        step = max(1, PAIRS_PER_BLOCK // log_uv.shape[1] ** 2)
        for start in range(0, len(rows), step):
            r = rows[start : start + step]
            x, other = log_uv[r], np.where(away[r], log_uv[r], np.nan)
            near = np.abs(x[:, :, None] - other[:, None, :]) <= band[r, None, None]
            count[r] = near.sum(axis=2) - away[r]  # not the month itself
            out[r] = cells[r] & (count[r] >= need[r, None])
        return out & ~slip, np.where(cells, count, 0)

    def _spread(self, raw: np.ndarray, n: np.ndarray) -> np.ndarray:
        """A row's robust σ blended with a prior of ``prior_spread`` worth ``prior_weight``
        months, floored at ``min_spread``."""
        w = self.prior_weight
        spread = np.sqrt((n * np.nan_to_num(raw) ** 2 + w * self.prior_spread**2) / (n + w))
        return np.maximum(spread, self.min_spread)

    def _estimated(self, panel: Panel, ok, log_uv, log_ref) -> np.ndarray:
        """Cells whose unit value is the one most partners share that month: quantities the
        source estimated from the value (UN Comtrade does), which carry no price signal."""
        same = context_array(panel, "reference_unit_value_same")
        if same is None:
            return np.zeros(ok.shape, dtype=bool)
        return ok & (same >= 0.5) & (np.abs(log_uv - log_ref) < 1e-6)

    def _reference(self, panel: Panel, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log cross-partner price per cell (NaN where too few figures) and, per series,
        whether it is used: where it covers at least 80 % of the series' months."""
        ref = context_array(panel, "reference_unit_value")
        ref_n = context_array(panel, "reference_unit_value_n")
        if ref is None:
            return np.full(ok.shape, np.nan), np.zeros(ok.shape[0], dtype=bool)
        enough = np.isfinite(ref) & (ref > 0)
        if ref_n is not None:
            enough &= ref_n >= self.min_reference
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ref = np.where(enough, np.log(ref), np.nan)
        covered = (ok & enough).sum(axis=1) >= 0.8 * np.maximum(ok.sum(axis=1), 1)
        return log_ref, covered

    def _patterns(
        self,
        c: dict,
        rows: np.ndarray,
        cols: np.ndarray,
        partner_price: np.ndarray,
    ):
        """Per flagged cell: which of value and weight is off, and by what power of ten.

        'value slip' / 'weight slip': the unit value is off the market's, or the series' own
        usual one, by about ×100, ×1000… (within a factor exp(``slip_tolerance``); where the
        reference is noisy, few partners reporting, the series' own one places the slip
        better), a slip of the month's own (``_slip_stands``; ``partner_price``, the
        partner's unit value of the month, ``_partner_price``), the other of value and
        weight is normal for the
        series (robust z within ``normal_z``) and the slipped one moved more; otherwise,
        which of the two moved further from the series' median, in log terms, decides:
        'weight outlier' when the weight did (the unit value's deviation is then mostly the
        weight's, and valuing that weight at the usual price would put a fiction at stake),
        'price outlier' when the value did (or as far: within ×``AS_FAR`` of the weight's
        move). Returns patterns, factors, the value's and the weight's log deviations from
        the series' medians, whether a slip was placed by the series' own price, and
        whether the weight is within the series' swings (robust z within ``normal_z``).
        """
        # a power of ten off the market or off the series' own usual unit value: where the
        # cross-partner reference is noisy (few partners), the series' own one places a slip
        k, near_market = self._power_of_ten(c["resid"][rows, cols])
        k_own, near_own = self._power_of_ten(c["own_resid"][rows, cols])
        k = np.where(near_market, k, k_own)
        near = (near_market | near_own) & self._slip_stands(c, rows, cols, k, partner_price)
        series, at = np.unique(rows, return_inverse=True)
        ok = c["ok"][series]
        segment = c["segment"][series]
        dv, zv = _own_deviation(np.log(np.where(ok, c["value"][series], np.nan)), segment)
        dw, zw = _own_deviation(np.log(np.where(ok, c["weight"][series], np.nan)), segment)
        dv, zv, dw, zw = dv[at, cols], zv[at, cols], dw[at, cols], zw[at, cols]
        value_normal, weight_normal = np.abs(zv) <= self.normal_z, np.abs(zw) <= self.normal_z
        value_slip = near & weight_normal & (np.abs(dv) > np.abs(dw))
        weight_slip = near & value_normal & (np.abs(dw) > np.abs(dv))
        # the weight moved further only where clearly further: 2.63 times its usual month
        # against a value at 1/2.58 of its own printed as the same move, named a weight
        # outlier with nothing at stake, while the month before at the same price was a
        # price outlier
        weight_moved_more = np.abs(dw) > np.abs(dv) + math.log(AS_FAR)
        pattern = np.select(
            [value_slip, weight_slip, weight_moved_more],
            [VALUE_SLIP, WEIGHT_SLIP, WEIGHT_OUTLIER],
            PRICE_OUTLIER,
        )
        factor = np.where(value_slip | weight_slip, np.exp(k * LN10), 1.0)
        # the price the slip's power of ten was read against, for its words: a factor read
        # against the series' own price set beside the market's "usual" one read as ×1/100
        # of a price it was 5.8 times (Korea's gallium, 2017)
        placed_by_own = ~near_market
        return pattern.astype(object), factor, dv, dw, placed_by_own, weight_normal

    def _slip_stands(
        self, c: dict, rows: np.ndarray, cols: np.ndarray, k: np.ndarray, partner: np.ndarray
    ) -> np.ndarray:
        """Whether a unit value 10^``k`` times the usual one can be a slip of the month: a
        slip says the month's price is the usual one but for one figure's power of ten.
        Not where the months around it (their level, ``_levels``, the market's moves taken
        out) are off the usual price, beyond ``own_threshold`` of the series' σ: the price,
        or its record, changed for good, and the usual price, the factor and the corrected
        figure are not the month's. Nor where the partner's unit value of the month
        (``partner``, ``_partner_price``) is nearer the recorded price than the corrected
        one: a second declaration of the price as recorded.

        Denmark's exports of CN 39199020 to Sweden, September 2025, €724 for 323 kg
        (€2.24/kg), were a high "value slip ×1/100" worth €72.4K corrected (€224/kg)
        against the usual €140/kg of 2023 to March 2025, while every month from April 2025
        was at €0.66–16/kg; the months beside it at 1/30 and 1/168 of the usual price were
        price outliers, it alone a slip.

        Months around it that moved by the slip's own power of ten (within
        ``slip_tolerance``) are the slip repeated, a record's change of units: they leave
        it a slip, as a run of months slipped together is (three months at ×1/100, the
        weight and the market as before, had read as price outliers "misinvoicing, another
        product" while the level shift said a change of units)."""
        recorded = c["log_uv"][rows, cols]
        with np.errstate(invalid="ignore"):  # NaN: no change, no partner's price
            moved = c["level"][rows, cols] - c["premium"][rows, cols]
            repeated = np.abs(moved - k * LN10) <= self.slip_tolerance
            changed = (np.abs(moved) > self.own_threshold * c["spread"][rows]) & ~repeated
            as_recorded = np.abs(partner - recorded) < np.abs(partner - (recorded - k * LN10))
        return ~changed & ~as_recorded

    def _power_of_ten(self, resid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nearest power of ten of each log deviation, and whether it is a slip's:
        ×100 or more, within a factor exp(``slip_tolerance``)."""
        k = np.round(resid / LN10)
        return k, (np.abs(k) >= 2) & (np.abs(resid - k * LN10) <= self.slip_tolerance)

    def _evidence(
        self, c: dict, r: int, t: int, pattern: str, factor: float, own, by_own: bool
    ) -> dict:
        """``own``: the value's and the weight's log deviations from the series' medians;
        ``by_own``: a slip's power of ten was read against the series' own usual price."""
        usual, spread = float(c["usual"][r, t]), float(c["spread"][r])
        value, weight = float(c["value"][r, t]), float(c["weight"][r, t])
        out = {
            # six figures: a price just outside its band must read apart from the edge
            "unit_value": _sig(value / weight, 6),
            "usual_unit_value": _sig(usual),
            "band": [
                _sig(usual * math.exp(-self.threshold * spread), 6),
                _sig(usual * math.exp(self.threshold * spread), 6),
            ],
            "ratio": _sig(value / weight / usual),
            "net_weight_kg": _sig(weight),
            "weight_at_usual_price": _sig(value / usual),
            "value_at_usual_price": _sig(weight * usual),
            "reference_unit_value": _sig(math.exp(c["log_ref"][r, t])) if c["has_ref"][r] else None,
            "series_premium": _sig(math.exp(c["premium"][r, t])) if c["has_ref"][r] else None,
            "series_unit_value": _sig(math.exp(c["own_center"][r, t])),
            "value_vs_usual_month": _sig(math.exp(own[0])),
            "weight_vs_usual_month": _sig(math.exp(own[1])),
            "pattern": pattern,
        }
        if pattern in (VALUE_SLIP, WEIGHT_SLIP):
            out["slip_factor"] = _sig(factor if pattern == VALUE_SLIP else 1.0 / factor)
            out["slip_against"] = "series" if by_own else "market"
            if pattern == WEIGHT_SLIP:
                out["corrected_weight_kg"] = _sig(weight * factor)
        if c["estimated_months"][r]:
            out["months_with_estimated_quantities"] = int(c["estimated_months"][r])
        if c["recurs"][r, t] >= self.habit_months:
            out["months_at_this_unit_value"] = int(c["recurs"][r, t])
            out["tested_months"] = int(c["tested"][r].sum())
            if c["own_step"][r, t]:
                out["own_power_step"] = float(10.0 ** c["own_step"][r, t])
        return out

    def explain(self, finding: Mapping) -> str:
        ev = finding.get("evidence") or {}
        cur = finding.get("currency") or "USD"
        if ev.get("pattern") == WEIGHT_RECORD:
            return _record_change_text(finding, ev, cur)
        uv, usual = ev.get("unit_value"), ev.get("usual_unit_value")
        lo, hi = (ev.get("band") or [None, None])[:2]
        freq = finding_freq(finding)
        unit = period_unit(freq)
        when = period_name(finding.get("period"), freq)
        fig = figures_apart(uv, (lo, hi), lambda x, f: _price(x, cur, f))

        def edge(x) -> str:  # more figures only where the edge reads as the price
            return _price(x, cur, fig if _price(x, cur) == _price(uv, cur) else 3)

        head = (
            f"{when}: {money(finding.get('observed'), cur)} for "
            f"{weight(ev.get('net_weight_kg'))} is {_price(uv, cur, fig)}, against a usual "
            f"{_price(usual, cur)} (band {edge(lo)}–{edge(hi)})"
        )
        pattern = ev.get("pattern")
        if ev.get("partner_reading") == "agrees":
            tail = _agreed(finding, ev, cur)
        elif ev.get("partner_reading") in ("weight", "value"):
            tail = _pointed(finding, ev, cur)
        elif pattern == WEIGHT_OUTLIER:
            tail = _weight_outlier(finding, ev, cur, unit)
        elif pattern == WEIGHT_SLIP:
            tail = (
                f"; {_normal_side(ev, 'value', unit)} but the weight is off by about "
                f"{power_step(ev.get('slip_factor'))}{_slip_against(ev, cur)}: a weight slip "
                f"({_corrected_weight(ev)})."
            )
        elif pattern == VALUE_SLIP:
            tail = (
                f"; {_normal_side(ev, 'weight', unit)} but the value is off by about "
                f"{power_step(ev.get('slip_factor'))}{_slip_against(ev, cur)}: a value slip "
                f"(corrected, {about(finding.get('expected'), cur)}{_worth(ev, cur)})."
            )
        elif ev.get("value_at_market_price") is not None:  # the habit far off the market
            tail = (
                f"; at the price across partners, {_price(ev.get('reference_unit_value'), cur)} "
                f"(the series' usual one is {times(ev.get('series_premium'))} it), this weight "
                f"would be worth {about(ev.get('value_at_market_price'), cur)}, a gap of "
                f"{money(finding.get('impact'), cur)}: {PRICE_READING}."
            )
        elif ev.get("value_of_usual_month") is not None:  # the weight off its usual too
            tail = (
                f"; at the usual price this weight would be worth "
                f"{about(ev.get('value_at_usual_price'), cur)}, but the weight is itself "
                f"{times(ev.get('weight_vs_usual_month'))} the series' usual {unit}: against "
                f"its usual {unit}'s value, {about(ev.get('value_of_usual_month'), cur)}, the "
                f"gap is {money(finding.get('impact'), cur)}: {PRICE_READING}, or a weight "
                "misrecorded too."
            )
        else:
            tail = (
                f"; at the usual price this weight would be worth "
                f"{about(ev.get('value_at_usual_price'), cur)}, a gap of "
                f"{money(finding.get('impact'), cur)}: {PRICE_READING}."
            )
        recurs = ev.get("months_at_this_unit_value")
        if recurs:
            tail += _recurs(ev, recurs, unit, cur)
        months = ev.get("months_with_estimated_quantities")
        if months:
            those = f"that {unit} is" if months == 1 else f"those {unit}s are"
            tail += (
                f" In {plural(months, unit)} of this series the quantities look estimated "
                f"by the source (one unit value for all partners); {those} not tested."
            )
        return head + tail


def _rounding(weight: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The log unit value's error from the weight's rounding, per cell: in a series whose
    weights are all whole kilograms (Comext gives hundreds of kilograms to two decimals),
    a weight w stands for anything within half a kilogram of it, a uniform error of
    standard deviation 1/√12 kg, 0.29/w on the log scale; 0 in other series. Added to the
    series' spread in quadrature, it takes a month of 1 kg (a unit value ±50 %) out of the
    reach of a band measured on tonnes: Luxembourg's imports of CN 48114900 from Austria
    had a usual €54/kg from parcels of €53 recorded as "1 kg", and 6 t at €2.34/kg were
    "weight probably over-recorded"."""
    whole = whole_kilograms(np.where(ok, weight, np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.log1p(1.0 / math.sqrt(12.0) / weight)
    return np.where(whole[:, None] & ok, error, 0.0)


def _partner_agrees(panel: Panel, rows: np.ndarray, cols: np.ndarray):
    """The partner's record of each cell (value in the series' currency, weight), as an
    ``(n, 2)`` array, and whether it agrees with the series' own: value and weight each
    within ×``PARTNER_AGREES`` of it. Finland declared €2,373 for 566 kg of CN 39206900
    to Belgium in May 2025 and Belgium €2,848 for 644 kg: a "weight slip ×100" in each
    record, against a series' usual price of €490/kg that was the odd one. The very same
    figures (to the unit) are no second declaration but one record copied into the other
    (Estonia's imports from Austria of CN 39204910, March 2025, €126,689 for 1,352 kg on
    both sides: Estonia's intra-EU imports equal the partner's exports to the euro in a
    third of its pair-months, no other importer in more than 7 %)."""
    mirror, _ = partner_record(panel)  # in the series' currency, NaN where not converted
    theirs = np.column_stack(
        [
            _cells_of(mirror, rows, cols),
            _cells_of(context_array(panel, "mirror_weight_kg"), rows, cols),
        ]
    )
    own = np.column_stack([panel.values[rows, cols], panel.weights[rows, cols]])
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.abs(np.log(theirs / own))
    copied = _copied(own[:, 0], own[:, 1], theirs[:, 0], theirs[:, 1])
    series, at = np.unique(rows, return_inverse=True)  # each series' pair read once
    comparable = _comparable_pairs(panel, series, mirror)[at]
    theirs[~comparable] = np.nan
    return theirs, (off <= math.log(PARTNER_AGREES)).all(axis=1) & ~copied & comparable


def _copied(own, own_kg, theirs, their_kg) -> np.ndarray:
    """Whether the partner's figures are the series' own to the unit, value and weight: one
    record copied into the other, no second declaration (Estonia's imports equal the
    partner's exports to the euro in a third of its months)."""
    with np.errstate(invalid="ignore"):
        same = (np.abs(theirs - own) < 0.5) & (np.abs(their_kg - own_kg) < 0.5)
        return same & (own >= COPY_MIN_VALUE)


def _partner_price(panel: Panel, c: dict, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The partner's log unit value of each cell, set to the series' by the pair's usual
    relation of unit values (the median of their log ratio over the months both hold, at
    least ``PAIR_MONTHS``); NaN where there is none, or where it is the series' own figures
    copied (``_partner_agrees``). A unit value is a ratio: a partner's record at another
    size (its coverage) still prices the goods, but a pair whose prices usually differ
    (Denmark's €140/kg of CN 39199020 to Sweden against Sweden's €5/kg) is read at its
    difference, so that a month the partner prices as usual vouches for the usual price,
    not for a slipped one."""
    out = np.full(len(rows), np.nan)
    mirror, _ = partner_record(panel)
    mirror_kg = context_array(panel, "mirror_weight_kg")
    if mirror is None or mirror_kg is None or not len(rows):
        return out
    series, at = np.unique(rows, return_inverse=True)
    own, own_kg = panel.values[series], panel.weights[series]
    theirs, their_kg = mirror[series], mirror_kg[series]
    with np.errstate(divide="ignore", invalid="ignore"):
        both = (own > 0) & (own_kg > 0) & (theirs > 0) & (their_kg > 0)
        copied = _copied(own, own_kg, theirs, their_kg)
        price = np.where(both & ~copied, np.log(theirs / their_kg), np.nan)
    relation, months = nanmedian(np.where(both, c["log_uv"][series], np.nan) - price)
    price += np.where(months >= PAIR_MONTHS, relation, np.nan)[:, None]
    return price[at, cols]


def _comparable_pairs(panel: Panel, series: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """For the ``series`` (panel rows), whether the partner's record (``mirror``, in the
    series' currency) usually runs at the series' own size: the medians
    of the two records' ratios, in value and in weight, over the months both hold, within
    ×``PARTNER_AGREES``, over ``PAIR_MONTHS`` months or more. Romania's record of the
    Netherlands' exports of CN 39209959 runs at a hundredth of them (€5.9K a month against
    €660K): its month is no measure of the Netherlands' value or weight."""
    mirror_kg = context_array(panel, "mirror_weight_kg")
    if mirror is None or mirror_kg is None:
        return np.zeros(len(series), dtype=bool)
    value, kilos = panel.values[series], panel.weights[series]
    theirs, their_kg = mirror[series], mirror_kg[series]
    with np.errstate(divide="ignore", invalid="ignore"):
        both = (value > 0) & (theirs > 0) & (kilos > 0) & (their_kg > 0)
        value_ratio = np.where(both, np.log(value / theirs), np.nan)
        weight_ratio = np.where(both, np.log(kilos / their_kg), np.nan)
    value_usual, months = nanmedian(value_ratio)
    weight_usual, _ = nanmedian(weight_ratio)
    scale = math.log(PARTNER_AGREES)
    return (
        (months >= PAIR_MONTHS) & (np.abs(value_usual) <= scale) & (np.abs(weight_usual) <= scale)
    )


def _partner_points(
    c: dict,
    rows: np.ndarray,
    cols: np.ndarray,
    partner: np.ndarray,
    agrees: np.ndarray,
    pattern: np.ndarray,
    factor: np.ndarray,
    own_threshold: float,
) -> np.ndarray:
    """What the partner's record of each cell says: "agrees" (``_partner_agrees``); for an
    outlier whose partner's record, of a pair whose records usually run at one size
    (``_comparable_pairs``), holds a usual price for the series (within ``own_threshold``
    of the series' own σ of its usual unit value) and agrees with one of the series'
    value and weight (×``PARTNER_AGREES``) while ×``PAIR_APART`` or more from the other,
    "weight" or "value", the figure off; else "". Italy's exports of CN 48114900 to
    Poland, December 2024, were a price outlier with €580K at stake, while Poland recorded
    the same value for eight times the weight at a usual price: Italy's weight was off. A first
    version compared raw figures of pairs whose records run at different sizes (Romania's
    record of the Netherlands' exports at a hundredth of them) and named the figure
    further from them "off", however far the other was too.

    A slip claims one figure off by its ``factor``: where the partner's figure is nearer
    the one recorded than the one corrected, and the other figure ×``PAIR_APART`` or more
    from the partner's, the other figure is the one off. Spain's exports of CN 85235910 to
    the Netherlands, January 2024, €557 for 300 kg (a weight Spain records on 70 small
    lines of the code), were a high "value slip" of €55K; the Netherlands recorded €3,007
    for 15 kg, a usual price: the weight is off."""
    out = np.where(agrees, "agrees", "").astype(object)
    if agrees.all():
        return out
    value, kilos = partner[:, 0], partner[:, 1]
    own_value, own_kg = c["value"][rows, cols], c["weight"][rows, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        price = np.log(value / kilos) - np.log(c["usual"][rows, cols])
        usual = np.abs(price) <= own_threshold * c["own_spread"][rows]
        off_value = np.abs(np.log(own_value / value))
        off_weight = np.abs(np.log(own_kg / kilos))
        # a slip's corrected figure against the partner's: nearer the figure as recorded,
        # the partner's record says it was not slipped
        value_stands = off_value < np.abs(np.log(own_value / factor / value))
        weight_stands = off_weight < np.abs(np.log(own_kg * factor / kilos))
    told = ~agrees & usual & np.isfinite(off_value) & np.isfinite(off_weight)
    agree, apart = math.log(PARTNER_AGREES), math.log(PAIR_APART)
    outlier = np.isin(pattern, (PRICE_OUTLIER, WEIGHT_OUTLIER))
    value_right = np.where(pattern == VALUE_SLIP, value_stands, outlier & (off_value <= agree))
    weight_right = np.where(pattern == WEIGHT_SLIP, weight_stands, outlier & (off_weight <= agree))
    out[told & value_right & (off_weight >= apart)] = "weight"
    out[told & weight_right & (off_value >= apart)] = "value"
    return out


def _pointed(finding: Mapping, ev: Mapping, cur: str) -> str:
    """The reading of an outlier whose partner's record holds a usual price
    (``_partner_points``): which of the series' value and weight is the figure off."""
    theirs_value, theirs_kg = float(ev["partner_value"]), float(ev["partner_weight_kg"])
    own_value, own_kg = float(finding.get("observed") or 0.0), float(ev["net_weight_kg"])
    whose = finding.get("partner") or "The partner"
    head = (
        f"; {whose}'s record of the same flow that month holds {money(theirs_value, cur)} for "
        f"{weight(theirs_kg)} ({_price(theirs_value / theirs_kg, cur)}, a usual price for this "
        "series): "
    )
    reporter = finding.get("reporter") or "this record"
    value_part = _beside(own_value / theirs_value, whose)
    weight_part = _beside(own_kg / theirs_kg, whose)
    if ev.get("partner_reading") == "weight":
        recorded = "under-recorded" if (ev.get("ratio") or 1.0) > 1.0 else "over-recorded"
        return (
            f"{head}{reporter}'s weight, {weight_part} where its value is {value_part}, is "
            f"the figure off, probably {recorded}."
        )
    return (
        f"{head}{reporter}'s value, {value_part} where its weight is {weight_part}, is the "
        f"figure off: at the usual price this weight would be worth "
        f"{about(ev.get('value_at_usual_price'), cur)}, a gap of "
        f"{money(finding.get('impact'), cur)} (misinvoicing, or a value misrecorded)."
    )


def _beside(ratio: float, whose: str) -> str:
    """One record's figure against the other's: "about EST's", "1/53 of EST's"."""
    if 0.8 <= ratio <= 1.25:
        return f"about {whose}'s"
    return f"{times(ratio)} {whose}'s"


def _cells_of(frame: np.ndarray | None, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A context array's cells (NaN where the panel has no such context)."""
    if frame is None:
        return np.full(len(rows), np.nan)
    return frame[rows, cols].astype(float)


def _agreed(finding: Mapping, ev: Mapping, cur: str) -> str:
    """The reading of a month whose partner's record agrees (``_partner_agrees``): two
    records of the shipment say the same, so neither is misrecorded."""
    theirs = money(ev.get("partner_value"), cur)
    kg = ev.get("partner_weight_kg")
    price = _price(float(ev["partner_value"]) / float(kg), cur) if kg else "n/a"
    partner = finding.get("partner")
    whose = f"{partner}'s" if partner else "The partner's"
    return (
        f". {whose} record of the same flow that month agrees: {theirs} "
        f"for {weight(kg)} ({price}), within ×{PARTNER_AGREES:g} of both figures. Two records "
        "of the shipment say the same, so neither is misrecorded: goods unlike the series' "
        "usual ones under this code, or a price both sides declared far from its usual one."
    )


def _weight_outlier(finding: Mapping, ev: Mapping, cur: str, unit: str = "month") -> str:
    """The two readings of a weight that moved further than the value, in the direction of
    the unit value: far above the usual price, the weight is under-recorded or the goods are
    over-invoiced; far below, the weight is over-recorded or the goods under-invoiced. The
    value's own move is named, and only a value within ×1.25 of usual is 'about as usual'."""
    kg = weight(ev.get("net_weight_kg"))
    declared, usual = money_pair(finding.get("observed"), ev.get("value_at_usual_price"), cur)
    high = (ev.get("ratio") or 1.0) > 1.0
    recorded, shipped, invoicing = (
        ("under-recorded", f"only {kg} was shipped", "over-invoicing")
        if high
        else ("over-recorded", f"{kg} really was shipped", "under-invoicing")
    )
    weight_moved, value_moved = ev.get("weight_vs_usual_month"), ev.get("value_vs_usual_month")
    if weight_moved and value_moved:  # evidence of scans before these were kept lacks them
        usual_value = 0.8 <= value_moved <= 1.25
        value_words, verdict = (
            ("about as usual", "the weight, not the value, is out of line")
            if usual_value
            else (f"{times(value_moved)} it", "the weight is further out of line than the value")
        )
        which = (
            f"; the weight is {times(weight_moved)} the series' usual {unit} and the value "
            f"{value_words}: {verdict}. It is probably "
        )
    else:
        which = (
            "; the value is normal for this series but the weight is not: the weight is probably "
        )
    return (
        f"{which}{recorded} (about {weight(ev.get('weight_at_usual_price'))} at the usual price), "
        f"unless {shipped} at the declared {declared} ({invoicing}: {kg} would be worth "
        f"{about(usual)} at the usual price)."
    )


def _record_change_text(finding: Mapping, ev: Mapping, cur: str) -> str:
    """A change of the weight's record (``_weight_record_changes``): from when (to when,
    where the next change undid it), by how much, the prices on each side and the value's
    own move, and what follows for the months on each side."""
    freq = finding_freq(finding)
    unit = period_unit(freq)
    when = period_name(finding.get("period"), freq)
    value_before, value_after = ev.get("value_before") or 0.0, ev.get("value_after") or 0.0
    # the weight against the value is the inverse of the value per kg: the factor is the
    # prices' own ratio, as the text gives them (not the weight's and the value's medians)
    price_after = max(ev.get("unit_value_after") or 0.0, 1e-300)
    factor = times((ev.get("unit_value_before") or 0.0) / price_after)
    months = (
        f"({plural(ev.get('months_after'), 'reported ' + unit)} from {when} to "
        f"{period_name(ev.get('after_to'), freq)})"
    )
    if 0.8 <= value_after / max(value_before, 1e-300) <= 1.25:
        value = (
            f"its value held (about {money(value_before, cur)} a {unit} before and "
            f"{money(value_after, cur)} after)"
        )
    else:
        value = (
            f"its value moved far less (from about {money(value_before, cur)} a {unit} to "
            f"{money(value_after, cur)})"
        )
    prices = (
        f"its value per kg went from about {_price(ev.get('unit_value_before'), cur)} "
        f"({plural(ev.get('months_before'), 'reported ' + unit)} from "
        f"{period_name(ev.get('before_from'), freq)} to "
        f"{period_name(ev.get('before_to'), freq)}) to about "
        f"{_price(ev.get('unit_value_after'), cur)} {months}"
    )
    returned = ev.get("returned")
    if returned:
        back = period_name(returned, freq)
        return (
            f"From {when} to {period_name(finding.get('period_end'), freq)} the weight in "
            f"this record was about {factor} what it was against its value, and from {back} "
            f"it is back: {prices}, then back to about "
            f"{_price(ev.get('unit_value_returned'), cur)}, while {value}. A weight recorded "
            f"in another unit (or of other goods) for those {unit}s, not a slip in each "
            f"{unit}: they are read against their own usual price. No money is at stake in "
            "it; a price read across them would be wrong."
        )
    return (
        f"From {when} the weight in this record is about {factor} what it was against its "
        f"value: {prices}, while {value}. A change in how the weight is recorded (its unit, "
        f"or what is weighed) or in the goods under the code, not a slip in each {unit}: the "
        f"{unit}s on each side are read against their own usual price. No money is at stake "
        "in it; a price read across the change would be wrong."
    )


def _habit_apart(c: dict, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Cells of series whose usual price is ×``HABIT_APART`` or more off the price across
    partners, where the cell has that price."""
    with np.errstate(invalid="ignore"):
        apart = np.abs(c["premium"][rows, cols]) >= math.log(HABIT_APART)
    return c["has_ref"][rows] & np.isfinite(c["log_ref"][rows, cols]) & apart


def _at_market(c: dict, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Cells at the price across partners (within ×``MARKET_AGREES``) of series whose
    usual price is ×``HABIT_APART`` or more off it (``_habit_apart``): the market sides
    with the month, not with the series' habit, and the month is not flagged."""
    with np.errstate(invalid="ignore"):
        near = np.abs(c["log_uv"][rows, cols] - c["log_ref"][rows, cols]) <= math.log(MARKET_AGREES)
    return _habit_apart(c, rows, cols) & near


def _recurs(ev: Mapping, months: int, unit: str, cur: str) -> str:
    """The sentence for a unit value that other months of the series share. A power of ten
    off the series' usual one (why it stays flagged): the error recurs; and unless the price
    across partners that month agrees with the usual one (within ×3), the majority of the
    months may be the ones in error. Otherwise: two products or grades now and then. A
    month at a power of ten that is no slip (``_slip_stands``: a price outlier or a weight
    outlier) names no error: the months that share its price are only counted."""
    head = (
        f" The series has about this unit value in {months} other {unit}s of the "
        f"{ev.get('tested_months')} tested"
    )
    step = ev.get("own_power_step")
    if not step:
        return head + ": it may mix two products or grades."
    apart = power_step(max(step, 1.0 / step))
    market, usual = ev.get("reference_unit_value"), ev.get("series_unit_value")
    agrees = market and usual and abs(math.log(market / usual)) <= math.log(3.0)
    if ev.get("pattern") not in (VALUE_SLIP, WEIGHT_SLIP):
        partners = f" (the price across partners is {_price(market, cur)})" if agrees else ""
        return head + f", about {apart} off its usual one{partners}."
    if agrees:
        return head + (
            f", about {apart} off its usual one: the error recurs (the price across "
            f"partners, {_price(market, cur)}, agrees with the usual one)."
        )
    return head + (
        f", about {apart} off its usual one: the error recurs, or the usual one, the "
        "majority's, is the one in error."
    )


def _slip_against(ev: Mapping, cur: str) -> str:
    """The price a slip's power of ten was read against where it is not the usual price the
    text has just given: the series' own (" against the series' own usual 14.76 USD/kg")."""
    own = ev.get("series_unit_value")
    if ev.get("slip_against") != "series" or own is None:
        return ""
    return f" against the series' own usual {_price(own, cur)}"


def _corrected_weight(ev: Mapping) -> str:
    """A weight slip's weight set right by the slip's factor ("about 1,757 t corrected"), the
    figure its words give; scans before it was kept give the weight at the usual price."""
    corrected = ev.get("corrected_weight_kg")
    if corrected is not None:
        return f"about {weight(corrected)} corrected"
    return f"about {weight(ev.get('weight_at_usual_price'))} at the usual price"


def _worth(ev: Mapping, cur: str) -> str:
    """What the weight is worth at the usual price, beside a value slip's corrected figure
    (the two differ: the corrected figure is the declared value over the slip)."""
    worth = ev.get("value_at_usual_price")
    if not worth or ev.get("slip_against") == "series":  # the slip's price is another one
        return ""
    return f"; at the usual price this weight would be worth {about(worth, cur)}"


def _normal_side(ev: Mapping, name: str, unit: str) -> str:
    """The slip's other figure, which is within the series' own swings (robust z ≤ 3) and
    moved less than the slipped one (in log terms), by the slip's definition: 'about as
    usual' only within ×1.25 of its usual month, else how far it is from it ("the weight
    is 15 times its usual month but the value is off by about ×1/1,000,000"): "within this
    series' usual swings" beside 15 times a usual month read as a contradiction, and
    "moved less (47 times its usual month)" as a slip of words."""
    moved = ev.get(f"{name}_vs_usual_month")
    if not moved:  # evidence of scans before these were kept lacks them
        return f"the {name} is normal for this series"
    if 0.8 <= moved <= 1.25:
        return f"the {name} is about as usual for this series"
    return f"the {name} is {times(moved)} its usual {unit}"


def _own_deviation(x: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deviation of each cell from its row's median within its segment (log scale) and its
    robust z (σ floored at 0.25)."""
    center, spread, _ = _by_segment(x, segment)
    spread = np.maximum(np.nan_to_num(spread), 0.25)
    deviation = x - center
    return deviation, deviation / spread[:, None]


#: a change of the weight's record undone by the next within ``SIDE_MONTHS`` months, back
#: to within this factor of the unit value before it, is one episode (one finding)
RETURN_RATIO = 1.5


def _weight_carries(sides: dict[str, np.ndarray]) -> np.ndarray:
    """Which changes of the unit value the weight carries: it moved at least
    ``WEIGHT_CARRIES`` of the unit value's change (log terms) and the value at most the
    rest. Each is held to the unit value's change, since each side's medians are of its
    own months (a line whose trade fell 59 times and its weight 49 times is no change of
    the weight's record, whatever its median prices)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.log(sides["unit_value"][:, 1] / sides["unit_value"][:, 0])
        weight = -np.log(sides["weight"][:, 1] / sides["weight"][:, 0]) / step
        value = np.abs(np.log(sides["value"][:, 1] / sides["value"][:, 0]) / step)
    # the search's levels are medians between every change it found; the months beside
    # this one must show the change too
    return (
        (np.abs(np.nan_to_num(step)) >= math.log(UNIT_CHANGE))
        & (np.nan_to_num(weight) >= WEIGHT_CARRIES)
        & (np.nan_to_num(value, nan=1.0) <= 1.0 - WEIGHT_CARRIES)
    )


#: reported months on each side of a change of the weight's record whose medians state it
#: (``level_shift.LEVEL_MONTHS``): the value's move around the change, not over years
SIDE_MONTHS = 12


def _sides(c: dict, row: np.ndarray, col: np.ndarray) -> dict[str, np.ndarray]:
    """For each change (row, first column of its segment): the medians of the unit value,
    the value and the weight over the last ``SIDE_MONTHS`` reported months of the segment
    before it and the first of its own (``[:, 0]`` and ``[:, 1]``), their counts and first
    and last columns. The segments are those the changes make (a few a series, a few
    series a chunk: one pass a change)."""
    cut = np.zeros(c["value"].shape, dtype=bool)
    cut[row, col] = True
    segment = np.cumsum(cut, axis=1)
    names = ("unit_value", "value", "weight", "months", "first", "last")
    out = {name: np.full((len(row), 2), np.nan) for name in names}
    for k, (r, t) in enumerate(zip(row, col, strict=True)):
        for side, s in enumerate((segment[r, t] - 1, segment[r, t])):
            months = np.flatnonzero(c["ok"][r] & (segment[r] == s))
            months = months[-SIDE_MONTHS:] if side == 0 else months[:SIDE_MONTHS]
            if not months.size:
                continue
            out["unit_value"][k, side] = math.exp(float(np.median(c["log_uv"][r, months])))
            out["value"][k, side] = float(np.median(c["value"][r, months]))
            out["weight"][k, side] = float(np.median(c["weight"][r, months]))
            out["months"][k, side] = months.size
            out["first"][k, side], out["last"][k, side] = months[0], months[-1]
    return out


def _by_segment(x: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell, the median of its row's finite values within its segment; per row, the
    robust σ (1.4826 × MAD) of the deviations from them, and the count of values. With one
    segment a row, ``cross.row_center_spread`` with the centre spread over the cells."""
    if not segment.any():
        center, spread, n = row_center_spread(x)
        return np.broadcast_to(center[:, None], x.shape).copy(), spread, n
    x = np.where(np.isfinite(x), x, np.nan)
    center = np.full(x.shape, np.nan)
    for s in range(int(segment.max()) + 1):  # a few segments: the weight's record changes
        inside = segment == s
        center = np.where(inside, row_median(np.where(inside, x, np.nan))[:, None], center)
    spread = MAD_TO_SIGMA * row_median(np.abs(x - center))
    return center, spread, np.isfinite(x).sum(axis=1)


def _sig(x: float, digits: int = 4) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return 0.0
    return round(x, -int(math.floor(math.log10(abs(x)))) + digits - 1)


def _price(x, currency: str, figures: int = 3) -> str:
    """A unit value to three significant ``figures``, never in scientific notation (a value
    slip's $0.000002/kg, not 2e-06), written as the other detectors write a price: €13/kg
    beside a dip's text had read 13 EUR/kg here; a currency without a symbol, 349 GNF/kg.
    From 1,000 a whole number, but with more ``figures`` than its digits (a price told
    from a band's edge, 1,234.6)."""
    if x is None:
        return "n/a"
    if x >= 1000:
        whole = len(f"{x:.0f}")
        digits = f"{x:,.{max(figures - whole, 0)}f}"
    else:
        digits = np.format_float_positional(
            x, precision=figures, unique=False, fractional=False, trim="-"
        )
    symbol = currency_symbol(currency)
    if symbol or not currency:
        return f"{symbol}{digits}/kg"
    return f"{digits} {currency}/kg"


def _mixes_goods(panel: Panel) -> np.ndarray:
    """Series whose commodity is a total or a chapter (``schema.many_goods_codes``): many
    goods at many prices, whose value per kg moves with their mix (Guinea's TOTAL to Germany, 114 t in a month its
    bauxite was not shipped, read as "weight under-recorded (about 9,395 t)")."""
    return many_goods_codes(panel.keys["commodity"])
