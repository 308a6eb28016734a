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

from tradesentry.detectors.base import context
from tradesentry.detectors.evidence import evidence_figure, finding_freq
from tradesentry.detectors.robust import nanmedian
from tradesentry.panel import Panel
from tradesentry.text import money, period_name, period_unit, plural, weight

#: the partner's month within this factor of its usual month either way: it held
HELD = 2.0
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
    its figure for the month itself (``partner_observed``; None where it has no row). The
    weight: the month's (``weight_kg``) and the median weight of those months
    (``usual_weight_kg``). Keys are left out where the store holds too little."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    mirror = _partner_record(panel)
    column = {label: t for t, label in enumerate(panel.label(np.arange(panel.n_months)))}
    out = []
    for k, (i, t) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        months = np.array([column[m] for m in around[k] or () if m in column], dtype=np.int64)
        ev: dict = {}
        if mirror is not None and months.size:
            usual, n = _median(mirror[i, months])
            if n >= USUAL_MONTHS and usual > 0:
                ev |= {
                    "partner_observed": evidence_figure(mirror[i, t]),
                    "partner_usual": evidence_figure(usual),
                    "partner_months": int(n),
                }
        usual_kg, n_kg = _median(panel.weights[i, months]) if months.size else (np.nan, 0)
        own_kg = panel.weights[i, t]
        if n_kg >= USUAL_MONTHS and usual_kg > 0 and np.isfinite(own_kg) and own_kg >= 0:
            ev |= {"weight_kg": float(own_kg), "usual_weight_kg": float(usual_kg)}
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


def _partner_record(panel: Panel) -> np.ndarray | None:
    """The partner's record in the series' currency, NaN where it could not be converted."""
    mirror = context(panel, "mirror_value")
    if mirror is None:
        return None
    ok = context(panel, "mirror_currency_ok")
    usable = np.isfinite(mirror) & (mirror >= 0)
    if ok is not None:
        usable &= ok == 1
    return np.where(usable, mirror, np.nan)


def _median(x: np.ndarray) -> tuple[float, int]:
    med, n = nanmedian(np.asarray(x, dtype=float)[None, :])
    return float(med[0]), int(n[0])


def partner_reading(ev: Mapping, observed: float | None, expected: float | None) -> str | None:
    """'held' (within ×``HELD`` of its usual month, where the series' month moved at least
    twice as far: ×4), 'moved' (the same way, at least half as far on the log scale),
    'other', or None where there is nothing to read (no usual month, no expectation).

    A zero has no logarithm: a partner's zero beside a low month, or a month at zero beside
    a partner's month below its usual, moved with it."""
    usual, seen = ev.get("partner_usual"), ev.get("partner_observed")
    if not usual or seen is None or not expected or observed is None or observed < 0:
        return None
    low = observed < expected
    if seen <= 0 or observed <= 0:
        return "moved" if low and seen < usual else "other"
    moved, own = math.log(seen / usual), math.log(observed / expected)
    if abs(moved) <= math.log(HELD) and abs(own) >= 2.0 * math.log(HELD):
        return "held"
    return "moved" if own and moved / own >= 0.5 else "other"


def partner_text(ev: Mapping, finding: Mapping) -> tuple[str, str | None]:
    """The partner's record of the month in words, and its reading (``partner_reading``):
    "SWE's record of the same trade (its exports to DEU) shows €459.3K in August 2023, near
    its usual month (€683.5K, the median of the 11 months the expectation came from):
    the trade went on as SWE recorded it, so DEU's figure is the one off" (DEU's €56). Where the
    partner has no row for the month, says so and reads nothing (a source such as Comext
    keeps no row for a month without trade, and a row may also be late)."""
    if not ev.get("partner_usual"):
        return "", None
    cur = finding.get("currency") or ""
    freq = finding_freq(finding)
    when, unit = period_name(finding["period"], freq), period_unit(freq)
    partner, reporter = finding.get("partner"), finding.get("reporter")
    exported = finding.get("flow") in ("export", "re-export")
    record = f"{partner}'s record of the same trade (its {'imports from' if exported else 'exports to'} {reporter})"
    months = plural(int(ev.get("partner_months") or 0), unit)
    figure = (
        f"{money(ev['partner_usual'], cur)}, the median of the {months} the expectation came from"
    )
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
    return f"{shows}, against {usual}.", reading


#: a spike's or dip's weight within this factor of the usual month's: the quantity held
WEIGHT_HELD = 1.5
#: a usual month of at least this weight: below it, weights rounded to whole kilograms
#: (1 kg against 1 kg) cannot tell a quantity that held from one that moved
MIN_USUAL_KG = 10.0
#: … where the value moved at least this factor off its expectation
VALUE_MOVED = 2.0


def shipped_text(ev: Mapping, finding: Mapping) -> tuple[str, str | None]:
    """What the weight says of a spike or a dip: 'held' where it is within ×``WEIGHT_HELD``
    of the usual month's while the value moved ×``VALUE_MOVED`` or more (the value per kg
    moved, not the quantity: "a one-off shipment" does not fit a month of the usual
    tonnage at twice the price), 'moved' where it moved the same way at least half as far
    on the log scale (the quantity shipped changed), else nothing (and nothing where the
    usual month weighs under ``MIN_USUAL_KG``)."""
    kg, usual = ev.get("weight_kg"), ev.get("usual_weight_kg")
    observed, expected = finding.get("observed"), finding.get("expected")
    if not kg or not usual or not observed or not expected or observed <= 0 or expected <= 0:
        return "", None
    if usual < MIN_USUAL_KG:
        return "", None
    unit = period_unit(finding_freq(finding))
    figures = f"{weight(kg)} against {weight(usual)} in the series' usual {unit}"
    own, shipped = math.log(observed / expected), math.log(kg / usual)
    if abs(shipped) <= math.log(WEIGHT_HELD) and abs(own) >= math.log(VALUE_MOVED):
        return (
            f" The weight held ({figures}): the value per kg moved, not the quantity shipped.",
            "held",
        )
    if shipped / own >= 0.5:
        return f" The weight moved with it ({figures}): the quantity shipped changed.", "moved"
    return "", None


def weight_text(ev: Mapping, finding: Mapping) -> tuple[str, str | None]:
    """What the weight says of a month whose value is near nothing: 'kept' where it is at
    least ``WEIGHT_KEPT`` of the usual month's (the goods moved; the value is what is
    off), 'fell' where at most ``WEIGHT_FELL`` of it (little was shipped), else nothing
    (and nothing where the usual month weighs under ``MIN_USUAL_KG``)."""
    kg, usual = ev.get("weight_kg"), ev.get("usual_weight_kg")
    if kg is None or not usual or usual < MIN_USUAL_KG:
        return "", None
    unit = period_unit(finding_freq(finding))
    figures = f"{weight(kg)} against {weight(usual)} in the series' usual {unit}"
    if kg >= WEIGHT_KEPT * usual:
        return (
            f" The weight recorded, {figures}, did not fall with the value: goods were "
            f"shipped, and it is their recorded value that is off (a valuation or "
            f"recording error), not the trade.",
            "kept",
        )
    if kg <= WEIGHT_FELL * usual:
        return f" The weight fell with it ({figures}): little was shipped.", "fell"
    return "", None
