"""What an expectation of the shared model came from, as evidence and in words.

A finding of a detector built on the model (``baseline.py``) carries the months its
expectation was taken from, the level and season behind it, and, where a strong seasonal
factor decides the finding, the reading without the season. The helpers here gather that
evidence for the few cells that are flagged (they loop over findings, not series) and turn
it into the plain words of the explanations. Also here: the single-month test that spikes
and dips share (``deviations``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradesentry.detectors.base import (
    confidence,
    context_array,
    detections,
    material_score,
    no_detections,
)
from tradesentry.detectors.baseline import (
    ORDINARY_SCALES,
    SEASON_SHOWN,
    Baseline,
    baseline,
    burst_partners,
    covered_by_combined,
    ordinary_nothing,
    side_scale,
)
from tradesentry.detectors.robust import nanmedian
from tradesentry.panel import Panel
from tradesentry.schema import WORLD, many_goods_code
from tradesentry.text import (
    about,
    joined,
    less_than,
    money,
    percent,
    period_name,
    period_unit,
    plural,
    times,
)
from tradesentry.text import factor as times_factor

# -- what an expectation came from ----------------------------------------------------------------


def sources(
    panel: Panel,
    model: Baseline,
    rows: np.ndarray,
    cols: np.ndarray,
    leave_out: np.ndarray | None = None,
    level: np.ndarray | None = None,
) -> list[dict]:
    """For each cell, the months its expectation was taken from (for evidence and text):
    ``level_months`` (the cell's own month left out, and the column ``leave_out`` where
    given, with ``level`` the log level taken without it: ``level_without``),
    ``level_window``, ``season_years``,
    ``seasonal_factor`` and ``regime_start``, the first month of the level-shift segment
    the level was taken within (None for the series' first segment).

    And the reading without the season, for the text to offer where the season decides a
    finding (a seasonal factor can come from other years' odd months): ``level_expected``,
    the expectation of the level alone in money (exp(level) − c), the month's
    ``level_ratio`` to it and ``level_z``, the month against it in the scale its ``z`` is
    measured in (the side scale of its deviation from the level, times ``support``); and
    ``season_values``, the same calendar month in the years behind the seasonal factor,
    each with its ``period``, ``value`` as recorded and ``level_expected``, the level of
    the months around it: the figures the seasonal factor was taken from.

    Loops over findings, not series: it runs only for the few cells that are flagged.
    """
    out = []
    T = panel.n_months
    rows, cols = np.asarray(rows), np.asarray(cols)
    skip = np.full(len(rows), -1) if leave_out is None else np.asarray(leave_out)
    shift_start = _regime_start(model, rows, cols)
    for k, (i, t) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        h = int(model.level_window[i, t])
        lo, hi = max(t - h, 0), min(t + h, T - 1)
        cand = np.arange(lo, hi + 1)
        seg = model.segment[i]
        kept = (cand != t) & (cand != skip[k])
        same = kept & (seg[cand] == seg[t])
        reported = same & np.isfinite(model.y[i, cand])
        odd = reported & model.trimmed[i, t]
        scale = side_scale((model.sigma_low, model.sigma_high), i, model.deviation[i, t])
        odd &= burst_partners(model.deviation[i, cand], model.deviation[i, t], scale)
        used, left_out = cand[reported & ~odd], cand[odd]
        # reported zeros the model leaves out as the series' habit: not "months reported"
        zeros = int(
            np.count_nonzero(same & (panel.values[i, cand] == 0) & np.isnan(model.y[i, cand]))
        )
        other = _season_months(model, i, t, panel.season)
        level_log = model.level[i].copy()
        if level is not None:
            level_log[t] = level[k]
        level_money = np.maximum(np.exp(level_log) - model.offset[i], 0.0)
        off_level = model.y[i, t] - level_log[t]
        side = model.sigma_high[i] if off_level >= 0 else model.sigma_low[i]
        out.append(
            {
                "level_months": [panel.label(int(c)) for c in used],
                **({"level_zeros_left_out": zeros} if zeros else {}),
                **_left_out_words(panel, model.deviation[i], left_out),
                # their level is the median of each net of its season: not theirs as read
                "level_adjusted": bool(np.any(np.abs(model.seasonal[i, used]) >= SEASON_SHOWN)),
                "level_window": h,
                "season_years": [panel.label(int(c))[:4] for c in other],
                # significant digits: a factor of 0.004 is not 0 (nor "no season")
                "seasonal_factor": float(f"{float(np.exp(model.seasonal[i, t])):.4g}"),
                "regime_start": panel.label(int(shift_start[k])) if shift_start[k] >= 0 else None,
                "level_expected": evidence_figure(level_money[t]),
                "level_ratio": _ratio(panel.values[i, t], level_money[t]),
                "level_z": evidence_figure(off_level / (side * model.support[i, t])),
                "season_values": [
                    {
                        "period": panel.label(int(c)),
                        "value": evidence_figure(panel.values[i, c]),
                        "level_expected": evidence_figure(level_money[c]),
                    }
                    for c in other
                ],
            }
        )
    return out


def _season_months(model: Baseline, i: int, t: int, season: int) -> np.ndarray:
    """The same calendar month in the other years that the seasonal term of cell (i, t)
    was taken from, as ``baseline._seasonal`` takes them: within ``max_season_years``,
    months that may lend a season (``season_source``: not a flow's first samples, on a
    level of enough months), and in another level segment only where that segment holds a
    level of its own (``thin_level_points`` such months). Naming every other year with a
    figure put a flow's opening €5 sample among the years "behind" a factor of ×2.1."""
    if model.season_years[i, t] <= 0:
        return np.arange(0)
    config = model.config
    other = np.arange(t % season, model.y.shape[1], season)
    other = other[(other != t) & (np.abs(other - t) <= season * config.max_season_years)]
    source, segment = model.season_source[i], model.segment[i]
    months = np.bincount(segment[source], minlength=int(segment.max()) + 1)
    regime = (segment[other] == segment[t]) | (months[segment[other]] >= config.thin_level_points)
    return other[source[other] & regime]


def _left_out_words(panel: Panel, deviation: np.ndarray, left_out: np.ndarray) -> dict:
    """Evidence of the months a thin level left out (``_ordinary_level``), by side."""
    side = np.sign(deviation[left_out])
    sides = {"level_left_out_above": 1, "level_left_out_below": -1}
    return {
        key: [panel.label(int(c)) for c in left_out[side == sign]]
        for key, sign in sides.items()
        if np.any(side == sign)
    }


def level_without(
    model: Baseline, rows: np.ndarray, cols: np.ndarray, other: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The level of each cell (``rows``, ``cols``) as the model takes it, the median of the
    deseasonalised reported months within its window and segment, its own month left out,
    with the month ``other`` left out too; and how many months it rests on. For the few
    cells of a pair test (``timing_shift``): one gather of ±12 months per cell."""
    T = model.y.shape[1]
    half = model.level_window[rows, cols]
    reach = min(max(model.config.wide_half_window, int(half.max(initial=0))), T)
    offsets = np.arange(-reach, reach + 1)
    at = cols[:, None] + offsets[None, :]
    inside = (at >= 0) & (at < T)
    at = np.clip(at, 0, T - 1)
    keep = inside & (np.abs(offsets)[None, :] <= half[:, None])
    keep &= (at != cols[:, None]) & (at != other[:, None])
    keep &= model.segment[rows[:, None], at] == model.segment[rows, cols][:, None]
    # a thin level taken without its burst's other month (``_ordinary_level``)
    cell = model.deviation[rows, cols]
    scale = side_scale((model.sigma_low, model.sigma_high), rows, cell)
    burst = burst_partners(model.deviation[rows[:, None], at], cell[:, None], scale[:, None])
    keep &= ~(model.trimmed[rows, cols][:, None] & burst)
    x = model.y[rows[:, None], at] - model.seasonal[rows[:, None], at]
    return nanmedian(np.where(keep, x, np.nan), overwrite=True)


# -- shared pieces of the detectors built on the model -----------------------------------------


#: months without a figure just before a month that its words name: half a year
SILENCE_MONTHS = 6


def deviation_evidence(
    panel: Panel, model: Baseline, rows: np.ndarray, cols: np.ndarray
) -> list[dict]:
    """Evidence of single-month findings: z, scale, expectation and what it came from, the
    month after it, and the periods without a row just before it where they hold
    ``SILENCE_MONTHS`` months or more (``silent_months``, periods of the series: years for
    an annual one, from ``silent_from`` to ``silent_to``)."""
    out = []
    last = last_held(panel)
    starts = set(zip(model.shifts.series.tolist(), model.shifts.start.tolist(), strict=True))
    shift_start_next = [(int(i), int(t) + 1) in starts for i, t in zip(rows, cols, strict=True)]
    scale = model.side_sigma(rows, cols)
    for k, src in enumerate(sources(panel, model, rows, cols)):
        i, t = int(rows[k]), int(cols[k])
        nxt = t + 1 if t + 1 <= last[i] else None
        src.update(
            {
                "z": evidence_figure(model.z[i, t]),
                "sigma": evidence_figure(scale[k]),
                "expected": evidence_figure(model.expected[i, t]),
                "ratio": _ratio(panel.values[i, t], model.expected[i, t]),
                "next_period": panel.label(nxt) if nxt is not None else None,
                "next_observed": evidence_figure(panel.values[i, nxt]) if nxt is not None else None,
                "next_expected": evidence_figure(model.expected[i, nxt])
                if nxt is not None
                else None,
                "next_z": evidence_figure(model.z[i, nxt]) if nxt is not None else None,
                "next_starts_level": bool(nxt is not None and shift_start_next[k]),
                # the month before, for a spike's reading of trade booked late in it
                **_month_before(panel, model, i, t),
            }
        )
        out.append(src)
    for src, silence in zip(out, silence_evidence(panel, rows, cols), strict=True):
        src.update(silence)
    return out


def silence_evidence(panel: Panel, rows: np.ndarray, cols: np.ndarray) -> list[dict]:
    """For each cell (a month, or a combined figure's first month), the periods without a
    row just before it where they hold ``SILENCE_MONTHS`` months or more: their count
    (``silent_months``, periods of the series: years for an annual one) and first and last
    (``silent_from``, ``silent_to``); {} where fewer."""
    silent = _silent_before(panel)[rows, cols]
    months_each = 12 if panel.freq == "A" else 1  # a year without a figure is twelve months
    return [
        {
            "silent_months": int(n),
            "silent_from": panel.label(int(t - n)),
            "silent_to": panel.label(int(t - 1)),
        }
        if n * months_each >= SILENCE_MONTHS
        else {}
        for n, t in zip(silent, cols, strict=True)
    ]


def _silent_before(panel: Panel) -> np.ndarray:
    """For each month, how many months without a row lie just before it, back to the
    series' previous row (0 before its first). Memoised in ``panel.cache``: dips, spikes,
    figures near zero and combined figures each ask."""
    if "silent_before" not in panel.cache:
        held = _held(panel)
        cols = np.arange(panel.n_months)
        last = np.maximum.accumulate(np.where(held, cols, -1), axis=1)
        previous = np.concatenate([np.full((len(held), 1), -1), last[:, :-1]], axis=1)
        panel.cache["silent_before"] = np.where(previous >= 0, cols - previous - 1, 0)
    return panel.cache["silent_before"]


def silence_text(finding: Mapping) -> str:
    """ " It follows 7 months without a figure (January to July 2022) …", or "". Where
    every month of its expectation is before the silence, the trade, or its record, had
    stopped before it: China's $144 of HS 380110 to Hong Kong in August 2022, after
    $293K–$1.6M a month to December 2021, read as a dip of "$540.4K at stake", as if August
    were the month the trade fell. Where every one is after it, a flow starting again may
    hold part of a month, as a first month does."""
    ev = finding.get("evidence") or {}
    months, start, end = ev.get("silent_months"), ev.get("silent_from"), ev.get("silent_to")
    if not months or not start or not end:
        return ""
    freq = finding_freq(finding)
    unit = period_unit(freq)
    span = period_name(start, freq)
    if end != start:  # one year without a figure is one year, not "2020 to 2020"
        span += f" to {period_name(end, freq)}"
    text = f" It follows {plural(int(months), unit)} without a figure ({span})"
    level = [str(m) for m in ev.get("level_months") or []]
    if level and max(level) < str(start):
        return text + (
            f": the trade, or its record, had stopped before this {unit}, and the {unit}s it "
            "is measured against are all before the silence."
        )
    if level and min(level) > str(finding.get("period")):
        return text + f": a flow starting again may hold part of a {unit}'s trade, as a first does."
    return text + "."


def unreported(panel: Panel, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Whether each cell is a month the series holds no row for (no figure, none withheld,
    no combined figure covering it) inside its own months, between its first and last held
    ones; False for a column outside the panel."""
    inside = (cols > first_held(panel)[rows]) & (cols < last_held(panel)[rows])
    return inside & ~_held(panel)[rows, np.clip(cols, 0, panel.n_months - 1)]


def _held(panel: Panel) -> np.ndarray:
    """Months each series holds a row for: a figure, a withheld one, or a month a combined
    figure covers. Memoised in ``panel.cache``."""
    if "held" not in panel.cache:
        panel.cache["held"] = (
            np.isfinite(panel.values) | panel.withheld() | covered_by_combined(panel)
        )
    return panel.cache["held"]


def first_held(panel: Panel) -> np.ndarray:
    """The first column each series holds a row for (a figure, a withheld one, or a month a
    combined figure covers). Memoised in ``panel.cache``: asked once per step back over a
    run of months."""
    if "first_held" not in panel.cache:
        panel.cache["first_held"] = np.argmax(_held(panel), axis=1)
    return panel.cache["first_held"]


def last_held(panel: Panel) -> np.ndarray:
    """The last column each series holds a row for (a figure, a withheld one, or a month a
    combined figure covers): the end of the series' own months. The month after a finding
    is evidence only up to there; past it is the chunk's, not the series', and the engines
    cut chunks anywhere (a series' last month named the month after it in one chunk and
    not in another). Memoised in ``panel.cache``: spikes, dips and implausible values ask."""
    if "last_held" not in panel.cache:
        held = _held(panel)
        panel.cache["last_held"] = panel.n_months - 1 - np.argmax(held[:, ::-1], axis=1)
    return panel.cache["last_held"]


def _regime_start(model: Baseline, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Column where the level-shift segment of each cell starts (-1 for the first segment)."""
    out = np.full(len(rows), -1, dtype=np.int64)
    sh = model.shifts
    for k, (i, t) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        starts = sh.start[(sh.series == i) & (sh.start <= t)]
        if starts.size:
            out[k] = starts.max()
    return out


def _month_before(panel: Panel, model: Baseline, i: int, t: int) -> dict:
    """The month before cell (``i``, ``t``) where the series reported it: its figure,
    expectation and z (``before_*``); {} where it did not."""
    if t < 1 or not np.isfinite(panel.values[i, t - 1]) or not np.isfinite(model.z[i, t - 1]):
        return {}
    return {
        "before_period": panel.label(t - 1),
        "before_observed": evidence_figure(panel.values[i, t - 1]),
        "before_expected": evidence_figure(model.expected[i, t - 1]),
        "before_z": evidence_figure(model.z[i, t - 1]),
    }


#: scales below its expectation from which the month before a spike reads as low: the
#: visible side of a timing shift (``TimingShift.min_side``, ``late.LATE_Z``); at −1 one
#: ordinary month in six was "low" ($900.0K against $919.0K expected)
LOW_BEFORE_Z = -2.0


def before_was_low(evidence: Mapping) -> bool:
    """Whether the month before a high one was low: ``LOW_BEFORE_Z`` scales or more below
    its expected value, by its figures as well as its deviation."""
    observed, expected = evidence.get("before_observed"), evidence.get("before_expected")
    if observed is None or expected is None:
        return False
    return (evidence.get("before_z") or 0.0) <= LOW_BEFORE_Z and observed < expected


#: scales above its expectation from which the month after a low one reads as high: the
#: mirror of ``LOW_BEFORE_Z``; at 1, "January 2025 was high (€13.0M against €12.7M
#: expected)" was read as taking part of a €4.7M shortfall
HIGH_AFTER_Z = -LOW_BEFORE_Z


def next_was_high(evidence: Mapping) -> bool:
    """Whether the month after a low one was high: ``HIGH_AFTER_Z`` scales or more above its
    expected value, and above it by the figures the text quotes (a month's ``z`` can come
    from another reading than its expected value, ``baseline``'s weak season, and "January
    was high (€664.3K against €812.2K expected)" contradicted itself)."""
    observed, expected = evidence.get("next_observed"), evidence.get("next_expected")
    if observed is None or expected is None:
        return False
    return (evidence.get("next_z") or 0.0) >= HIGH_AFTER_Z and observed > expected


def next_high_text(finding: Mapping, freq: str | None, whose: str) -> str:
    """The month after a low one (``next_was_high``) as where part of its trade may have
    been recorded, with how much of the finding's shortfall its excess can hold: "January
    2025 was high (€13.0M against €10.0M expected): part of this month's trade may have
    been recorded in January 2025; its excess, about €3.0M, is 64% of this month's
    shortfall" (of €4.7M). ``whose``: "this month's", "these months'"."""
    evidence, cur = finding.get("evidence") or {}, finding.get("currency") or ""
    shortfall = float(finding["expected"]) - float(finding["observed"])
    after = period_name(evidence["next_period"], freq)
    excess = float(evidence["next_observed"]) - float(evidence["next_expected"])
    if math.isfinite(shortfall) and shortfall > 0 and excess < shortfall:
        share = percent(excess / shortfall * 100, digits=0)
        bound = f"; its excess, {about(excess, cur)}, is {share} of {whose} shortfall"
    else:
        bound = f"; its excess, {about(excess, cur)}, would cover {whose} shortfall"
    return (
        f" {after} was high ({money(evidence['next_observed'], cur)} against "
        f"{less_than(evidence['next_expected'], cur)} expected): part of {whose} trade may "
        f"have been recorded in {after}{bound}."
    )


def evidence_figure(value) -> float | None:
    """A figure for the evidence: six decimals, and at least six significant digits, so
    that a tiny value (a ratio of 1/87,000,000, an expectation of a thousandth of a cent)
    keeps its size instead of reading 0."""
    value = float(value)
    if not math.isfinite(value):
        return None
    if value == 0.0:
        return 0.0
    return round(value, max(6, 5 - math.floor(math.log10(abs(value)))))


def _ratio(observed: float, expected: float) -> float | None:
    """Observed over expected for the evidence, kept as ``evidence_figure`` keeps figures (never 0 for
    a month that recorded something)."""
    if not (math.isfinite(observed) and math.isfinite(expected)) or expected <= 0:
        return None
    return evidence_figure(float(observed) / float(expected))


# -- words ----------------------------------------------------------------------------------------


def finding_freq(finding) -> str:
    """The frequency of a finding's series: "A" for an annual series, else "M" (findings
    saved before the frequency was kept are of monthly series)."""
    return "A" if finding.get("freq") == "A" else "M"


def has_partner_record(finding: Mapping) -> bool:
    """Whether a finding's series has a partner's record to point to: a flow between two
    countries; the world and UN Comtrade's special areas (``X`` and three digits) keep
    none ("the partner's mirror record would tell" of Portugal's exports to the world)."""
    partner = str(finding.get("partner") or "")
    return bool(partner) and partner != WORLD and not re.fullmatch(r"X\d{3}", partner)


def many_goods(finding: Mapping) -> bool:
    """Whether a finding's series is a total or a two-digit chapter, or a product's trade
    with the world: the trade of many goods or traders, whose moves are demand, prices and
    measures, not one shipment or contract (Korea's exports to China in December 2008, the
    trough of the crisis, read "a smaller shipment or contract than usual")."""
    return many_goods_code(finding.get("commodity")) or finding.get("partner") == WORLD


def expectation_source(evidence: dict, freq: str | None = "M") -> str:
    """Where an expected value came from, in words: months (years, for an annual series),
    segment and season."""
    unit = period_unit(freq)
    months = evidence.get("level_months") or []
    if months:
        first, last = period_name(months[0], freq), period_name(months[-1], freq)
        window = 2 * int(evidence.get("level_window") or 6)
        zeros = int(evidence.get("level_zeros_left_out") or 0)
        if len(months) >= window:
            text = f"the {window} {unit}s around it"
        elif zeros:  # the zeros were reported too: the months counted are those with trade
            text = f"the {plural(len(months), unit)} with trade from {first} to {last}"
        else:
            text = f"the {plural(len(months), f'reported {unit}')} from {first} to {last}"
    else:
        text, zeros = f"the series' recent {unit}s", 0
    notes = []
    if zeros:
        notes.append(f"{plural(zeros, unit)} at zero left out, a habit of the series")
    left_out = _left_out_note(evidence, freq)
    if left_out:
        notes.append(left_out)
    if months and evidence.get("level_adjusted"):  # their median is not the plain one
        notes.append("each net of its own season")
    if evidence.get("regime_start"):
        notes.append(
            f"within the level that started in {period_name(evidence['regime_start'], freq)}"
        )
    if notes:
        text += f" ({'; '.join(notes)})"
    years = evidence.get("season_years") or []
    factor = evidence.get("seasonal_factor") or 1.0
    # any factor that shows at two decimals is named, so the months stated reproduce the
    # expected value (a ×1.04 left unsaid did not)
    if years and round(factor, 2) != 1.0:
        names = ", ".join(years[:-1]) + f" and {years[-1]}" if len(years) > 1 else years[0]
        # two decimals from ×0.10 to ×10 (×1.62); beyond, as a ratio (×0.004, ×385)
        shown = f"×{factor:.2f}" if 0.095 <= factor < 9.995 else times_factor(factor)
        text += f", adjusted for the same month in {names} ({shown})"
    return text


def _left_out_note(evidence: Mapping, freq: str | None) -> str:
    """ "leaving out June 2024, itself far above the series' usual level, and May 2024, far
    below it": the months a thin level left out (``_ordinary_level``), or ""."""
    parts = []
    for key, side in (("level_left_out_above", "above"), ("level_left_out_below", "below")):
        left = evidence.get(key) or []
        if not left:
            continue
        names = joined([period_name(m, freq) for m in left])
        itself = "itself" if len(left) == 1 else "themselves"
        parts.append(
            f"{names}, far {side} it"
            if parts
            else f"{names}, {itself} far {side} the series' usual level"
        )
    return f"leaving out {', and '.join(parts)}" if parts else ""


#: Scales a seasonal factor must move a month by to be a strong one (|z − level_z|), and
#: within which of its level alone (|level_z|) a month is an ordinary one: what 95 % of
#: months do under normal noise, the least deviation a timing shift calls visible.
SEASON_SCALES = ORDINARY_SCALES  # the same bar: beyond it a month is no ordinary one


def strong_season(source: Mapping, z: float | None) -> bool:
    """Whether a month's seasonal factor moves it by at least ``SEASON_SCALES`` scales: its
    ``z`` against the expectation and its ``level_z`` against the level alone (``sources``
    above) differ by that much. False for evidence without the level reading."""
    level_z = source.get("level_z")
    if not source.get("season_values") or z is None or level_z is None:
        return False
    return abs(float(z) - float(level_z)) >= SEASON_SCALES


def season_decides(source: Mapping, z: float | None, threshold: float) -> bool:
    """Whether a single-month finding (``|z|`` ≥ ``threshold``) rests on a strong season:
    against the level alone the month would be within the threshold on either side."""
    return strong_season(source, z) and abs(float(source["level_z"])) < threshold


def season_figures(source: Mapping, currency: str, freq: str | None = "M") -> str:
    """The months a seasonal factor came from, in money, each against the level of the
    months around it: "January 2023 (€43 against a level of €9.2K in the months around it,
    each adjusted for its own season) and January 2025 (€8 against €3.4K)"; from four on,
    their range. The level is the median of the months around it once their own seasonal
    terms are taken out, not of the months as recorded (€176 from months recorded at €60
    and €1,465): the text says so, so that a reader does not look for the raw median."""
    unit = period_unit(freq)
    adjusted = "each adjusted for its own season"
    given = [v for v in source.get("season_values") or [] if isinstance(v, Mapping)]
    if len(given) > 3:
        values = sorted(float(v.get("value") or 0.0) for v in given)
        levels = sorted(float(v.get("level_expected") or 0.0) for v in given)
        return (
            f"the same {unit} in {len(given)} other years ({money(values[0], currency)} to "
            f"{money(values[-1], currency)} against levels of {money(levels[0], currency)} to "
            f"{money(levels[-1], currency)} in the {unit}s around them, {adjusted})"
        )
    parts = [
        f"{period_name(v.get('period'), freq)} ({money(v.get('value'), currency)} against "
        + (
            f"a level of {money(v.get('level_expected'), currency)} in the {unit}s around it, "
            f"{adjusted})"
            if k == 0
            else f"{money(v.get('level_expected'), currency)})"
        )
        for k, v in enumerate(given)
    ]
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]


def level_reading(source: Mapping, period: str, currency: str, freq: str | None = "M") -> str:
    """The month against the level alone: "without it, January 2024's expected value is
    €5.6K (the level of the months around it, adjusted likewise) and the month recorded 1.8
    times that" ("88% of that", "1/40 of that"; within ±5 % of it, "about as much as that",
    never "1.0 times that"). It follows ``season_figures``, which says how the months around
    are adjusted (each for its own season), so "likewise" points back to it."""
    unit = period_unit(freq)
    text = (
        f"without it, {period_name(period, freq)}'s expected value is "
        f"{money(source.get('level_expected'), currency)} (the level of the {unit}s around "
        "it, adjusted likewise)"
    )
    ratio = source.get("level_ratio")
    if not ratio:  # nothing expected, or nothing recorded: the figures say it
        return text
    if abs(ratio - 1.0) <= 0.05:  # a ratio that would read "1.0 times"
        share = "about as much as"
    elif 0.1 <= ratio < 1:
        share = percent(ratio * 100, digits=0) + " of"
    else:
        share = times(ratio)
    return f"{text} and the {unit} recorded {share} that"


def odd_ones(source: Mapping, freq: str | None = "M") -> str:
    """The condition of the other reading: "those other years' months were the odd ones";
    for a season from one other year, "that other year's month was the odd one"."""
    unit = period_unit(freq)
    if len(source.get("season_values") or []) > 1:
        return f"those other years' {unit}s were the odd ones"
    return f"that other year's {unit} was the odd one"


def season_reading(source: Mapping, period: str, currency: str, freq: str | None, kind: str) -> str:
    """Both readings of a single-month finding that rests on a strong season
    (``season_decides``): the other years' months behind the factor, the month against
    the level alone, and what it is if those other months were the odd ones: an ordinary
    month within ``SEASON_SCALES`` of its level, else above (below) it but no spike (dip)."""
    unit = period_unit(freq)
    level_z = float(source.get("level_z") or 0.0)
    if abs(level_z) < SEASON_SCALES:
        how, verdict = "within the series' usual variation", f"an ordinary {unit}"
    else:
        side = "above" if level_z > 0 else "below"
        how = f"{abs(level_z):.1f} times the series' usual variation {side} it"
        verdict = f"{side} the {unit}s around it but no {kind}"
    without = level_reading(source, period, currency, freq)
    return (
        f"The seasonal adjustment comes from {season_figures(source, currency, freq)}. "
        f"{without[:1].upper()}{without[1:]}, {how}: if {odd_ones(source, freq)}, "
        f"{period_name(period, freq)} is {verdict}."
    )


def first_months(panel: Panel) -> np.ndarray:
    """The first reported month of each series, and the months before its flow starts.

    A flow starts often in the middle of a month, so that its first month holds part of
    one; a month below its expectation there is no dip nor a figure near zero (China's
    first $3.0K of HS 380110 to Hungary in November 2017, against the $117K of the months
    after it, was a high ``implausible``). Nor are the samples before it starts
    (``baseline.samples_before_flow``, of the model's months: France's €33 and €13 of CN
    39204990 to Hungary in May and July 2023, before months of €44K–525K from December,
    read as a figure near zero, high). Memoised in ``panel.cache``: dips and implausible
    values ask."""
    if "first_months" not in panel.cache:
        reported = np.isfinite(panel.values)
        first = np.zeros(reported.shape, dtype=bool)
        rows = np.flatnonzero(reported.any(axis=1))
        first[rows, reported[rows].argmax(axis=1)] = True
        panel.cache["first_months"] = first | baseline(panel).samples
    return panel.cache["first_months"]


def deviations(panel: Panel, kind: str, direction: int, threshold: float) -> pd.DataFrame:
    """Single months beyond ``threshold`` scales above (+1) or below (-1) the expectation;
    below, not in a series' first month (``first_months``), nor a parcel where the line
    often ships nothing (``baseline.ordinary_nothing``); neither, in the samples before
    its flow starts (``baseline.samples_before_flow``: €93 among samples of €1–€11 before a
    flow of €20K a month was a spike)."""
    model = baseline(panel)
    judged = model.usable() & model.measured()[:, None] & ~model.samples
    if direction < 0:  # nor a parcel where the line often ships nothing
        judged &= ~first_months(panel) & ~ordinary_nothing(panel, model)
    z = np.where(judged, model.z * direction, -np.inf)
    rows, cols = np.nonzero(z >= threshold)
    if not rows.size:
        return no_detections()
    observed = panel.values[rows, cols]
    expected = model.expected[rows, cols]
    return detections(
        kind,
        rows,
        cols,
        observed=observed,
        expected=expected,
        impact=observed - expected,
        score=material_score(
            panel,
            rows,
            cols,
            confidence(np.abs(model.z[rows, cols]), threshold),
            observed - expected,
        ),
        evidence=deviation_evidence(panel, model, rows, cols),
    )


def with_previous_release(panel: Panel, found: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Single months whose figure this release revised from one the previous release held
    within ``threshold`` of the same expectation (context ``previous_value``): the month is
    unusual because of the revision, which the store already holds, so a later revision is
    not what would tell (evidence ``previous_release``: ``value``, ``release``, ``z``).
    Korea's exports to Viet Nam, March 2021: $212.5M in the first release, $425.0M in the
    second, a spike that said "a later revision … would tell them apart"."""
    previous = context_array(panel, "previous_value")
    if previous is None or found.empty:
        return found
    rows, cols = found["series"].to_numpy(), found["start"].to_numpy()
    single = (found["end"].to_numpy() == cols) & ~found["evidence"].map(
        lambda e: bool(e.get("combined"))
    ).to_numpy(dtype=bool)
    before = previous[rows, cols]
    now = panel.values[rows, cols]
    revised = single & np.isfinite(before) & (before >= 0) & (before != now)
    if not revised.any():
        return found
    model = baseline(panel)
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.log(before + model.offset[rows]) - model.expected_log[rows, cols]
        side = np.where(resid >= 0, model.sigma_high[rows], model.sigma_low[rows])
        z = resid / (side * model.support[rows, cols])
    revised &= np.abs(z) < threshold
    if not revised.any():
        return found
    release = context_array(panel, "previous_release")
    # the release that revised it, where a later one repeats its figure (a re-issue)
    revised_by, own = context_array(panel, "revised_by"), context_array(panel, "release")
    found = found.copy()
    evidence = list(found["evidence"])
    for k in np.flatnonzero(revised).tolist():
        reading = {"value": float(before[k]), "z": round(float(z[k]), 3)}
        if release is not None and np.isfinite(release[rows[k], cols[k]]):
            reading["release"] = int(release[rows[k], cols[k]])
        if revised_by is not None and own is not None:
            by, row = revised_by[rows[k], cols[k]], own[rows[k], cols[k]]
            if np.isfinite(by) and np.isfinite(row) and by != row:
                reading["revised_by"] = int(by)
        evidence[k] = {**evidence[k], "previous_release": reading}
    found["evidence"] = evidence
    return found


def previous_release_text(ev: Mapping, period: str, cur: str, freq: str) -> str:
    """The month as the previous release held it (``with_previous_release``): " The previous
    release, release 1, held $212.5M for March 2021, within the series' usual variation: this
    release's revision made the month unusual; the publisher's notes, or the partner's
    record, would tell which of the two figures is right." ("" where not revised)."""
    reading = ev.get("previous_release")
    if not isinstance(reading, Mapping) or reading.get("value") is None:
        return ""
    which = f", release {reading['release']}," if reading.get("release") is not None else ""
    by = reading.get("revised_by")
    if by is not None:  # a later release repeats the revising one's figure
        held = f"Release {reading['release']}" if which else "An earlier release"
        return (
            f" {held} held {money(reading['value'], cur)} for {period_name(period, freq)}, "
            f"within the series' usual variation: release {by}'s revision made the month "
            "unusual; the publisher's notes, or the partner's record, would tell which of "
            "the two figures is right."
        )
    return (
        f" The previous release{which} held {money(reading['value'], cur)} for "
        f"{period_name(period, freq)}, within the series' usual variation: this release's "
        "revision made the month unusual; the publisher's notes, or the partner's record, "
        "would tell which of the two figures is right."
    )
