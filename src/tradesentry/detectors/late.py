"""A month that may hold the late figure of the unreported months just before it.

A month without a figure inside a series, then a high month: the missing month's trade may
have been recorded late, in the high one. ``gap`` gives that reading from the missing
months' side and ``spike`` from the high month's, from the same evidence (``late``) and on
the same terms: the high month is at least ``LATE_Z`` scales above its expectation, and its
excess is no more than the missing months would hold (a month cannot lend more than it
held, as for timing shifts), within the high month's noise (its excess at most what they
would hold × exp(σ above), never more than a tenth over: ``LEND_NOISE``), and at least
half of what one of them would (``LATE_MONTH``: less is a small part of a month, which
explains little of either). Where it makes up
less than half of the missing months, the text says "some of" their trade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tradesentry.detectors.baseline import Baseline
from tradesentry.panel import Panel
from tradesentry.text import about, less_than, money, percent, period_name, period_unit

#: scales above its expectation from which a month reads as a late figure: the visible side
#: of a timing shift (``TimingShift.min_side``)
LATE_Z = 2.0
#: the least excess, as a share of what one missing month would hold on average
LATE_MONTH = 0.5
#: the most by which a month may seem to lend more than it held, on the log scale: a
#: month's expectation is known to its noise, and without an allowance a whole month moved
#: into the next read as moved at 1.96 times a month and as a spike beside an empty month
#: at 2.04; but never more than a tenth over: a near-empty month beside one at twice what
#: the two should hold, "moved" in a noisy series, read as misleading on 41 Comext files
LEND_NOISE = math.log(1.1)


def lend_allowance(scale: np.ndarray) -> np.ndarray:
    """The factor by which a month may seem to lend more than it held: its noise ``scale``
    (log), never more than ``LEND_NOISE``. Timing shifts and late readings share it."""
    return np.exp(np.minimum(scale, LEND_NOISE))


def late_evidence(
    panel: Panel,
    model: Baseline,
    rows: np.ndarray,
    cols: np.ndarray,
    first: np.ndarray,
    held: np.ndarray,
) -> list[dict | None]:
    """For each month ``cols`` after missing months ``first`` .. ``cols - 1`` that would
    hold ``held`` (money), the evidence of the late reading, or None where it does not hold."""
    value, z = panel.values[rows, cols], model.z[rows, cols]
    expected = model.expected[rows, cols]
    months = cols - first
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (value - expected) / held
        ok = np.isfinite(value) & np.isfinite(z) & (z >= LATE_Z) & (held > 0)
        # the excess, as timing_shift's share
        within = value - expected <= held * lend_allowance(model.sigma_high[rows])
        ok &= (share * months >= LATE_MONTH) & within
    return [
        {
            "months": [str(panel.label(t)) for t in range(int(first[j]), int(cols[j]))],
            "period": str(panel.label(int(cols[j]))),
            "observed": float(value[j]),
            "expected": round(float(expected[j]), 2),
            "z": round(float(z[j]), 3),
            "held": round(float(held[j]), 2),
            "share": float(f"{share[j]:.4g}"),
        }
        if ok[j]
        else None
        for j in range(len(rows))
    ]


def late_text(late: Mapping | None, currency: str, freq: str, side: str) -> str:
    """The late reading in one sentence, from the missing months' ``side`` ("gap") or the
    high month's ("spike"); "" where there is none."""
    if not late:
        return ""
    unit = period_unit(freq)
    months = list(late.get("months") or [])
    name = period_name(late["period"], freq)
    excess = about(float(late["observed"]) - float(late["expected"]), currency)
    share = percent(float(late["share"]) * 100, digits=0)
    one = len(months) == 1
    some = "some of " if float(late["share"]) < 0.5 else ""  # a part of the missing months
    if side == "gap":
        missing = some + (f"the missing {unit}'s" if one else f"the missing {unit}s'")
        return (
            f" {name} recorded {money(late['observed'], currency)} against "
            f"{less_than(late['expected'], currency)} expected, {float(late['z']):.1f} times the "
            f"series' usual variation above its expected value: {missing} trade may have been "
            f"recorded late, in {name} (its excess, {excess}, is {share} of what "
            f"{'it' if one else 'they'} would hold)."
        )
    if one:
        before = f"{period_name(months[0], freq)}, which has no figure"
    else:
        before = (
            f"the {len(months)} {unit}s from {period_name(months[0], freq)} to "
            f"{period_name(months[-1], freq)}, which have no figures"
        )
    return (
        f" It follows {before}: the excess ({excess}) is {share} of what "
        f"{'it' if one else 'they'} would hold ({about(late['held'], currency)}), so "
        f"{some}{'its' if one else 'their'} trade may have been recorded late, in this {unit}."
    )
