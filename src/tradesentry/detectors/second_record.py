"""A flagged month read twice more: in the partner's record of the same flow, and by weight.

A month far off its expectation is either the trade or the record. Two figures the store
often holds tell them apart better than any model of the series: the partner's record of
the same trade in the same month (context ``mirror_value``: B's imports from A beside A's
exports to B), and the weight shipped (a value that fell to next to nothing while the
kilograms stayed is a value that is wrong, not goods that stopped). The single-month
findings (implausible, spike, dip) carry both as evidence (``month_evidence``) and say
what they read (``partner_text``, ``weight_text``).

The bars are factors, not scales: the partner's record is a second noisy series of its own,
and what matters is whether it saw anything like the move. It "held" where its month is
within ×``HELD`` of its usual (a month of a lumpy series strays that far routinely; the
flagged month is ten to a thousand times off) and "moved with it" where it moved the same
way by at least half as far on the log scale, the rule the level shift applies to its two
sides (``level_shift._mirror_reading``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradesentry.detectors.base import context_array
from tradesentry.detectors.baseline import WEAK_SEASON_YEARS
from tradesentry.detectors.evidence import evidence_figure, finding_freq
from tradesentry.detectors.robust import nanmedian
from tradesentry.panel import Panel
from tradesentry.text import factor as factor_text
from tradesentry.text import money, period_name, period_unit, plural, times, weight

#: the partner's month within this factor of its usual month either way: it held
HELD = 2.0
#: the partner's usual month this factor or more off the series' expectation: the records
#: measure the trade differently, and a month where they agree is read as such
COMPARABLE = 3.0
#: months of the partner's record behind its usual month, at the least
USUAL_MONTHS = 3
#: a weight at least this share of the series' usual month: the goods moved
WEIGHT_KEPT = 0.5
#: a weight at most this share of it: the goods fell with the value
WEIGHT_FELL = 0.1


def month_evidence(panel: Panel, rows: np.ndarray, cols: np.ndarray, around: list) -> list[dict]:
    """For each cell, what the partner's record and the weight say of it.

    ``around`` holds each cell's months its expectation came from (``level_months``
    labels): the partner's usual month is its median over those it has a figure for
    (``partner_usual``, from ``partner_months`` months, at least ``USUAL_MONTHS``), beside
    its figure for the month itself (``partner_observed``; None where it has no row); where
    the record is in the store but holds fewer of those months, how many it holds of how
    many (``partner_months``, ``partner_months_asked``), so that the text says so instead of
    pointing to a record the store holds. A
    month of the partner's that could not be put in the series' currency, or is negative,
    leaves the partner's record out. The weight: the month's (``weight_kg``) and the median
    weight of those months (``weight_around_kg``). Keys are left out where the store holds
    too little."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    mirror, given = partner_record(panel)
    column = {label: t for t, label in enumerate(panel.label(np.arange(panel.n_months)))}
    out = []
    for k, (i, t) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        months = np.array([column[m] for m in around[k] or () if m in column], dtype=np.int64)
        ev: dict = {}
        readable = (
            mirror is not None and months.size and not (given[i, t] and np.isnan(mirror[i, t]))
        )
        if readable:
            usual, n = _median(mirror[i, months])
            if n >= USUAL_MONTHS and usual > 0:
                ev |= {
                    "partner_observed": evidence_figure(mirror[i, t]),
                    "partner_usual": evidence_figure(usual),
                    "partner_months": int(n),
                }
            elif np.isfinite(mirror[i]).any():  # held, but too thin there to read
                ev |= {
                    "partner_observed": evidence_figure(mirror[i, t]),
                    "partner_months": int(n),
                    "partner_months_asked": int(months.size),
                }
        usual_kg, n_kg = _median(panel.weights[i, months]) if months.size else (np.nan, 0)
        own_kg = panel.weights[i, t]
        if n_kg >= USUAL_MONTHS and usual_kg > 0 and np.isfinite(own_kg) and own_kg >= 0:
            ev |= {"weight_kg": float(own_kg), "weight_around_kg": float(usual_kg)}
        out.append(ev)
    return out


def with_second_records(panel: Panel, found: pd.DataFrame) -> pd.DataFrame:
    """``found`` (single-month findings of ``panel``) with ``month_evidence`` in their
    evidence."""
    if not len(found):
        return found
    evidence = list(found["evidence"])
    around = [ev.get("level_months") for ev in evidence]
    extra = month_evidence(panel, found["series"].to_numpy(), found["start"].to_numpy(), around)
    found = found.copy()
    found["evidence"] = [{**ev, **more} for ev, more in zip(evidence, extra, strict=True)]
    return found


def partner_month(
    panel: Panel, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The partner's figure for each cell and its usual month (the median of its positive
    figures in the row, at least ``USUAL_MONTHS`` of them); NaN where its record says
    nothing of the month."""
    mirror, _ = partner_record(panel)
    if mirror is None or not len(rows):
        return np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    usual, n = nanmedian(np.where(mirror[rows] > 0, mirror[rows], np.nan))
    month = mirror[rows, cols]
    ok = (n >= USUAL_MONTHS) & (usual > 0) & np.isfinite(month)
    return np.where(ok, month, np.nan), np.where(ok, usual, np.nan)


def whole_kilograms(weights: np.ndarray) -> np.ndarray:
    """Per series, whether every weight it holds is a whole number of kilograms, up to a
    unit conversion's rounding (2.05 × 100 kg read 204.99999999999997 kg): Comext gives
    hundreds of kilograms to two decimals."""
    known = np.where(np.isfinite(weights), weights, 0.0)
    return np.all(np.abs(known - np.round(known)) <= 1e-6 * np.maximum(known, 1.0), axis=1)


def partner_record(panel: Panel) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The partner's record in the series' currency (NaN where it could not be converted,
    or is negative), and where it has a row at all."""
    mirror = context_array(panel, "mirror_value")
    if mirror is None:
        return None, None
    ok = context_array(panel, "mirror_currency_ok")
    given = np.isfinite(mirror)
    usable = given & (mirror >= 0)
    if ok is not None:
        usable &= ok == 1
    return np.where(usable, mirror, np.nan), given


def _median(x: np.ndarray) -> tuple[float, int]:
    med, n = nanmedian(np.asarray(x, dtype=float)[None, :])
    return float(med[0]), int(n[0])


def _season(ev: Mapping) -> float:
    """The series' seasonal factor for the month (1 without one): the partner's record and
    the weight of the same goods follow the same season, so their usual months are set
    against the month as the series' own expectation is."""
    factor = ev.get("seasonal_factor")
    try:
        factor = float(factor)
    except (TypeError, ValueError):
        return 1.0
    return factor if math.isfinite(factor) and factor > 0 else 1.0


def _weight_season(ev: Mapping) -> float:
    """The seasonal factor the usual weight is set by: the series' (``_season``) where more
    than ``WEAK_SEASON_YEARS`` other years make it, else none. A season from one or two
    other years can be their odd months, as the value's own text then says: one August at
    €3 made Poland's imports of CN 39209928 from Spain expect ×0.11 in August 2024, and
    its weight read "17.6 t against 340 kg in the series' usual month", where the months
    around weighed 3.1 t."""
    years = ev.get("season_years") or []
    return _season(ev) if len(years) > WEAK_SEASON_YEARS else 1.0


def partner_reading(ev: Mapping, observed: float | None, expected: float | None) -> str | None:
    """'held' (within ×``HELD`` of its usual month for the season, where the series' month
    moved at least twice as far: ×4), 'moved' (the same way, at least half as far on the log
    scale), 'other', or None where there is nothing to read (no usual month, no
    expectation).

    'agrees': where the two records usually stand ×``COMPARABLE`` or more apart (a
    reporter that books ~€15K a month of what its partner books at €2.5M), the partner's
    month is near its usual and the series' figure is within ×``HELD`` of it: the month
    that stands out is the one the records agree on, and no verdict is read. A zero has
    no logarithm: a month at zero beside a partner's month near its usual held; beside one
    at half its usual or less (or zero) moved with it."""
    usual, seen = ev.get("partner_usual"), ev.get("partner_observed")
    if not usual or seen is None or not expected or observed is None or observed < 0:
        return None
    usual = usual * _season(ev)
    near = seen > 0 and abs(math.log(seen / usual)) <= math.log(HELD)
    apart = abs(math.log(usual / expected)) >= math.log(COMPARABLE)
    if apart and near and observed > 0 and abs(math.log(observed / seen)) <= math.log(HELD):
        return "agrees"
    if observed <= 0:
        return "held" if near else "moved" if seen <= usual / HELD else "other"
    if seen <= 0:
        return "moved" if observed < expected else "other"
    moved, own = math.log(seen / usual), math.log(observed / expected)
    if near and abs(own) >= 2.0 * math.log(HELD):
        return "held"
    return "moved" if own and moved / own >= 0.5 else "other"


def partner_text(ev: Mapping, finding: Mapping) -> tuple[str, str | None]:
    """The partner's record of the month in words, and its reading (``partner_reading``):
    "SWE's record of the same trade (its exports to DEU) shows €459.3K in August 2023, near
    its usual month (€683.5K, the median of its figures in the months the expectation came
    from): the trade went on as SWE recorded it, so DEU's figure is the one off" (DEU had
    recorded €56). Where the partner has no row for the month, says so and reads nothing
    (a source such as Comext keeps no row for a month without trade, and a row may also be
    late)."""
    asked = ev.get("partner_months_asked")
    if not ev.get("partner_usual") and not asked:
        return "", None
    cur = finding.get("currency") or ""
    freq = finding_freq(finding)
    when, unit = period_name(finding["period"], freq), period_unit(freq)
    partner, reporter = finding.get("partner"), finding.get("reporter")
    exported = finding.get("flow") in ("export", "re-export")
    its = "imports from" if exported else "exports to"
    record = f"{partner}'s record of the same trade (its {its} {reporter})"
    if not ev.get("partner_usual"):  # held in the store, too thin around the month to read
        seen = ev.get("partner_observed")
        month = f"no figure for {when}" if seen is None else f"{money(seen, cur)} in {when}"
        n, months = int(ev.get("partner_months") or 0), plural(int(asked), unit)
        held = f"none in the {months}" if n == 0 else f"figures in only {n} of the {months}"
        return (
            f" {record} has {month}, and {held} the expectation came from: too few to set "
            "the month against its usual one.",
            None,
        )
    figure = f"{money(ev['partner_usual'], cur)}, the median of its figures in the {unit}s the expectation came from"
    factor = _season(ev)
    if abs(math.log(factor)) >= math.log(1.1):
        figure += f"; {factor_text(factor)} for the season, as the series' expectation is"
    usual = f"its usual {unit} ({figure})"
    seen = ev.get("partner_observed")
    if seen is None:
        return f" {record} has no figure for {when} (its usual {unit}: {figure}).", None
    reading = partner_reading(ev, finding.get("observed"), finding.get("expected"))
    shows = f" {record} shows {money(seen, cur)} in {when}"
    if reading == "held":
        return (
            f"{shows}, near {usual}: the trade went on as {partner} recorded it, so "
            f"{reporter}'s figure is the one off.",
            reading,
        )
    if reading == "moved":
        return f"{shows}, against {usual}: both records show the change.", reading
    if reading == "agrees":
        ratio = float(finding.get("expected") or 0) / (ev["partner_usual"] * factor)
        return (
            f"{shows}, against {usual}: this {unit} {reporter}'s figure agrees with it, where "
            f"its expected value is {times(ratio)} {partner}'s usual {unit}.",
            reading,
        )
    return f"{shows}, against {usual}.", reading


#: a spike's or dip's weight within this factor of the usual month's: the quantity held
WEIGHT_HELD = 1.5
#: a usual month of at least this weight: below it, weights rounded to whole kilograms
#: (1 kg against 1 kg) cannot tell a quantity that held from one that moved
MIN_USUAL_KG = 10.0
#: … where the value moved at least this factor off its expectation
VALUE_MOVED = 2.0
#: a weight that moved, but carried at most ``PRICE_SHARE`` of the value's move (log
#: scale) while the value per kg moved ``PER_KG_MOVED`` times or more, is read as the
#: weight that held is: the price or the recorded value moved, not the quantity
PRICE_SHARE = 0.25
PER_KG_MOVED = 10.0


def _weights(
    ev: Mapping, finding: Mapping, around: bool = False
) -> tuple[float, float, str] | None:
    """The month's weight, the usual month's for the season, and both in words; None
    where there is too little to read. The usual weight is the median of the months the
    expectation came from (``weight_around_kg``), and with ``around`` the words say so:
    "2 t against 4 t in the months around it" (spikes and dips, ``shipped_text``): Guinea's
    steel scrap to India, 2 t lots in 25 of its 33 months, read "2 t against 4 t in the
    series' usual month" where the months around it were an episode of 4 t and 8 t lots."""
    kg, usual = ev.get("weight_kg"), ev.get("weight_around_kg")
    if kg is None or not usual or usual < MIN_USUAL_KG:
        return None
    unit = period_unit(finding_freq(finding))
    factor = _weight_season(ev)
    usual = usual * factor
    seasoned = factor != 1.0
    if around:
        where = f"in the {unit}s around it" + (", for the season" if seasoned else "")
    else:
        where = f"in the series' usual {unit}" + (" for the season" if seasoned else "")
    return kg, usual, f"{weight(kg)} against {weight(usual)} {where}"


#: the closing reading where the flagged month agrees with a partner whose record is far
#: apart in the series' other months
AGREES = (
    " The two records part in the series' other months, not in this one: which of them is "
    "complete, the figures do not say."
)


def shipped_text(
    ev: Mapping, finding: Mapping, partner: str | None = None
) -> tuple[str, str | None]:
    """What the weight says of a spike or a dip: 'held' where it is within ×``WEIGHT_HELD``
    of the usual month's while the value moved ×``VALUE_MOVED`` or more (the value per kg
    moved, not the quantity: "a one-off shipment" does not fit a month of the usual
    tonnage at twice the price), 'moved' where it moved the same way at least half as far
    on the log scale (the quantity shipped changed), 'held' too where it moved the same way
    but carried at most ``PRICE_SHARE`` of the value's move while the value per kg moved
    ×``PER_KG_MOVED`` or more (the value per kg said), 'held' where it moved beyond
    ×``WEIGHT_HELD`` the other way, 'partly' where it moved that far the same way but less
    than half as far as the value (the quantity and the value per kg both moved), else
    nothing (and nothing where the usual month weighs under ``MIN_USUAL_KG``). Where the
    ``partner``'s record held, the weight is that record's, off with its value: it is given
    without a verdict."""
    weights = _weights(ev, finding, around=True)
    observed, expected = finding.get("observed"), finding.get("expected")
    if weights is None or not observed or not expected or observed <= 0 or expected <= 0:
        return "", None
    kg, usual, figures = weights
    # the value against its expectation on the weight's footing: without a season the
    # weight's usual month does not take (``_weight_season``)
    expected = expected / _season(ev) * _weight_season(ev)
    own = math.log(observed / expected)
    shipped = math.log(kg / usual) if kg > 0 else -math.inf
    if partner == "held":
        return f" The weight in the record: {figures}.", None
    if abs(shipped) <= math.log(WEIGHT_HELD) and abs(own) >= math.log(VALUE_MOVED):
        return (
            f" The weight held ({figures}): the value per kg moved, not the quantity shipped.",
            "held",
        )
    if own and shipped / own >= 0.5:
        return f" The weight moved with it ({figures}): the quantity shipped changed.", "moved"
    far_less = own and kg > 0 and 0 <= shipped / own <= PRICE_SHARE
    if far_less and abs(own - shipped) >= math.log(PER_KG_MOVED):
        # Guinea's bauxite to China, June 2016: 32 times the expected value at 1.6 times
        # the usual tonnage (29 times the series' usual value per kg) read "a one-off
        # shipment". No factor is said: against a seasonal expectation and the weight's
        # usual month it read ×20, which a reader set against the series' usual price
        return (
            f" The weight moved far less than the value ({figures}): the value per kg moved, "
            "not the quantity shipped.",
            "held",
        )
    if not own or kg <= 0 or abs(shipped) <= math.log(WEIGHT_HELD):
        return "", None  # a weight within the usual month's swings says nothing either way
    if shipped / own < 0:
        # Italy's exports of CN 48219010, August 2025: €2.9M, 3.5 times its expectation, for
        # 315 t against a usual 525 t read "more trade that month", the weight unsaid
        return (
            f" The weight moved the other way ({figures}): the value per kg moved, not the "
            "quantity shipped.",
            "held",
        )
    if shipped / own < 0.5:
        # Guinea's parts to Taiwan, May 2016: the value at 1/5 of its expectation, the weight
        # at half its usual month, said nothing of the weight ("a smaller shipment")
        way = "fell" if own < 0 else "rose"
        return (
            f" The weight {way} less than the value ({figures}): the quantity shipped and the "
            f"value per kg both {way}.",
            "partly",
        )
    return "", None


def weight_text(
    ev: Mapping, finding: Mapping, partner: str | None = None
) -> tuple[str, str | None]:
    """What the weight says of a month whose value is near nothing: 'kept' where it is at
    least ``WEIGHT_KEPT`` of the usual month's (the goods moved; the value is what is
    off), 'fell' where at most ``WEIGHT_FELL`` of it (the record holds little of the goods:
    no valuation error, but an incomplete record and a real stop both read so), else nothing
    (and nothing where the usual month weighs under ``MIN_USUAL_KG``). Where the
    ``partner``'s record held, a weight that fell is that record's, given without a
    verdict."""
    weights = _weights(ev, finding)
    if weights is None:
        return "", None
    kg, usual, figures = weights
    if kg >= WEIGHT_KEPT * usual:
        return (
            f" The weight recorded, {figures}, did not fall with the value: goods were "
            f"shipped, and it is their recorded value that is off (a valuation or "
            f"recording error), not the trade.",
            "kept",
        )
    if kg <= WEIGHT_FELL * usual:
        if partner == "held":
            return f" The weight in the record fell with it ({figures}).", None
        # an incomplete record (declarations not yet processed, or booked in another
        # month) holds less of both too: the weight rules out a wrong value, not that
        return (
            f" The weight fell with it ({figures}): the record holds little of the goods "
            "too, so their value is not what is off.",
            "fell",
        )
    return "", None
