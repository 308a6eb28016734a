"""Both records of a pair's trade, and what the gaps between them imply is missing.

``mirror_view`` lines up, month by month, a reporter's record of its trade with a partner
against the partner's record of the same flows (both converted into one currency, the one
the reporter's figures with the partner are most often in, at each month's rate in the
store), with the usual import/export ratio and its band, as the
``mirror_gap`` detector sees them. ``missing_trade`` sums, per commodity, what the mirror
gaps and the unit-value gaps imply is missing from the reporter's record, with a range and
the method in words.

A pair the store holds only by year (UN Comtrade's annual data) is compared year by year:
the unit of the tables is then a year (``period`` YYYY, ``freq`` "A"), and a currency is
converted at the mean of the year's monthly rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradesentry import arguments, context
from tradesentry.detectors.mirror_gap import QUARTILE, MirrorGap, smaller_share
from tradesentry.detectors.unit_value import PRICE_OUTLIER, UnitValue
from tradesentry.errors import InputError, SeriesChoice
from tradesentry.held import not_held
from tradesentry.schema import WORLD
from tradesentry.text import period_unit, plural

METHOD = (
    "Mirror method, month by month. Where both records exist, the reporter's figure implied "
    "by the partner's is the partner's figure adjusted by the usual import/export ratio, as "
    "the mirror_gap check uses it (imports are valued CIF, exports FOB): the pair's own "
    "(its median log ratio over the months both recorded, shrunk towards the commodity's) "
    "where it has at least 12 such months and its median lies inside the commodity's band "
    "and within 20 times of its usual ratio; "
    "otherwise the commodity's: the median log ratio across every mirror pair and month in "
    "the store, shrunk towards the literature's margin (6 %; none inside the EU) where the "
    "store holds few pairs. A pair whose own ratio lies outside the band, or 20 times or "
    "more off the commodity's usual ratio however wide the band, is a persistent gap, "
    "measured against the commodity's ratio. Which record is wrong the figures do not "
    "say, so each month's gap is the smaller of the two corrections that would reconcile "
    "them at that ratio: the reporter's figure moved to the one the partner's implies "
    "(implied − recorded), or the partner's moved to the one the reporter's implies (in the "
    "reporter's currency); summed over the months (positive: the reporter recorded less "
    "than its partner implies). "
    "low and high take the ratio at the quartiles of the band it rests on (the pair's own "
    "or the commodity's) instead of its median. "
    "central also adds the unit-value gaps of price outliers (the value the weight implies "
    "at the commodity's usual price, minus the declared value) in months without a partner "
    "record, so that no month is counted twice; high adds those above zero, low those "
    "below (the reporter declared more than the weight implies), so that low ≤ central ≤ "
    "high. high also adds the months the partner recorded and the reporter did not (the "
    "smaller correction again). Totals count TOTAL "
    "where reported, otherwise the top-level codes only, so that chapters and their "
    "headings are not added together."
)

# The same method for a pair compared by year (UN Comtrade's annual data).
METHOD_BY_YEAR = (
    METHOD.replace("Mirror method, month by month.", "Mirror method, year by year.")
    .replace("every mirror pair and month", "every mirror pair and period (month or year)")
    .replace("over the months both recorded", "over the years both recorded")
    .replace("at least 12 such months", "at least 12 such years")
    .replace("summed over the months", "summed over the years")
    .replace(
        "in months without a partner record, so that no month is counted twice",
        "in years without a partner record, so that no year is counted twice",
    )
    .replace("high also adds the months", "high also adds the years")
    .replace("each month's gap", "each year's gap")
)


@dataclass(frozen=True)
class MirrorView:
    """A pair's trade from both sides, month by month (see ``mirror_view``)."""

    reporter: str
    partner: str
    currency: str
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    freq: str = "M"  # "A": the pair compared by year (``period`` YYYY), each row a year


def mirror_ratio(rows: pd.DataFrame, flow: str) -> float | None:
    """The importer's record over the exporter's, summed over the periods of ``rows`` (a
    ``MirrorView`` frame's) that both recorded: ``mirror / own`` for the reporter's
    exports, ``own / mirror`` for its imports (imports are valued CIF, exports FOB); None
    where either sum is nothing."""
    both = rows["own"].notna() & rows["mirror"].notna()
    own, mirror = rows.loc[both, "own"].sum(), rows.loc[both, "mirror"].sum()
    if not own or not mirror:
        return None
    return float(mirror / own if flow == "export" else own / mirror)


@dataclass(frozen=True)
class MissingTrade:
    """What the gaps imply is missing from ``reporter``'s record of its trade with ``partner``."""

    reporter: str
    partner: str
    currency: str
    start: str | None  # the months asked for (None: from the first, to the last)
    end: str | None
    frame: pd.DataFrame  # per flow and commodity: records, low / central / high
    totals: dict  # per flow: low / central / high (TOTAL or top-level codes)
    method: str = METHOD
    notes: list[str] = field(default_factory=list)
    first: str | None = None  # the first and last month either side recorded in the span
    last: str | None = None
    freq: str = "M"  # "A": by year (``first``, ``last`` YYYY; the month counts count years)


# A commodity's records: one classification and one breakdown of each flow (see ``_chosen``).
KEYS = ["flow", "classification", "commodity", "breakdown"]


def mirror_view(
    con,
    reporter: str,
    partner: str,
    commodity: str | None = None,
    detector: MirrorGap | None = None,
    *,
    classification: str | None = None,
    breakdown: str | None = None,
    start: str | None = None,
    end: str | None = None,
    freq: str | None = None,
) -> MirrorView:
    """Both records of every month of the pair's exports and imports (monthly figures),
    from ``start`` to ``end`` (YYYY-MM, inclusive; None: all).

    One classification and one breakdown per commodity, as ``api.series`` picks a series:
    a commodity the store holds under several classifications needs ``classification``
    (a ``SeriesChoice`` names them), and each flow is its total ('') unless ``breakdown``
    names a part (where the store holds only parts, the only one, else a ``SeriesChoice``).

    ``freq`` "A" compares the pair's annual figures year by year (``period`` YYYY; a year
    is in the span when its months are: ``--from 2016-06`` keeps 2016); without it, the
    monthly figures where the store holds any for the pair, else the annual ones (a note
    says which).
    """
    detector = detector or MirrorGap()
    _no_world_partner(con, reporter, partner)
    currency = _currency(con, reporter, partner)
    what = f" in {commodity}" if commodity else ""
    freq, notes = _pair_freq(con, reporter, partner, commodity, freq)
    params = _pair_params(reporter, partner, commodity, currency)
    raw = con.execute(_pair_sql(commodity, freq), params).df()
    unit = arguments.FREQS[freq]
    raw["period"] = pd.to_datetime(raw["period"]).dt.strftime("%Y" if freq == "A" else "%Y-%m")
    held = f"{raw['period'].min()} to {raw['period'].max()}"
    everything, raw = raw, raw[_in_span(raw["period"], freq, start, end)]
    if raw.empty:
        asked = f"from {start} to {end}" if start and end else f"from {start}" if start else ""
        raise InputError(
            f"no {unit} trade between {reporter} and {partner}{what} "
            f"{asked or f'up to {end}'}; the store holds {held}"
        )
    key = {"reporter": reporter, "partner": partner, "commodity": commodity}
    # The usual ratios come from every month of the pair, as the detector's do.
    banded = _with_band(everything, detector).loc[raw.index]
    frame = _chosen(banded, key, classification, breakdown).reset_index(drop=True)
    notes += _unconverted_notes(frame, reporter, currency, freq)
    columns = [
        "flow",
        "classification",
        "commodity",
        "breakdown",
        "period",
        "own",
        "own_currency",
        "own_currency_ok",
        "mirror",
        "mirror_currency",
        "mirror_currency_ok",
        "ratio",
        "usual_ratio",
        "band_low",
        "band_high",
        "outside",
        "expected_own",
        "gap",
        "expected_ratio",
        "expected_spread",
        "pair_usual_ratio",
        "pair_months",
        "own_habit",
        "pair_band_low",
        "pair_band_high",
        "persistent",
        "margin",
        "spread",
        "intra_eu",
        "reference_pair_months",
    ]
    out = frame[columns].copy()
    # flags: 1 or 0, empty where the side has no figure (not 1.0 in a CSV)
    for flag in ("own_currency_ok", "mirror_currency_ok"):
        out[flag] = out[flag].astype("Int64")
    return MirrorView(reporter, partner, currency, out, notes, freq)


def every_period(
    rows: pd.DataFrame, freq: str, first: str | None = None, last: str | None = None
) -> pd.DataFrame:
    """One series' rows of a ``MirrorView`` frame with a row for every period from ``first``
    to ``last`` (YYYY-MM, or YYYY by year; None: its own first and last): empty, and not
    ``outside``, where neither side holds a figure, as ``series`` shows a month not
    reported. The frame holds the periods either side recorded; a table drawn from them
    closed up the rest (a series silent from March to August 2020 read 2020-02 then
    2020-09, its sparkline 30 marks for 36 months)."""
    periods = rows["period"]
    first, last = first or periods.min(), last or periods.max()
    yearly = freq == "A"
    index = pd.period_range(first, last, freq="Y" if yearly else "M")
    out = rows.set_index("period").reindex(index.strftime("%Y" if yearly else "%Y-%m"))
    out = out.rename_axis("period").reset_index()
    for key in KEYS:
        out[key] = rows[key].iloc[0]
    out["outside"] = out["outside"].eq(True)
    return out


def missing_trade(
    con,
    reporter: str,
    partner: str,
    start: str | None = None,
    end: str | None = None,
    *,
    classification: str | None = None,
    breakdown: str | None = None,
    freq: str | None = None,
) -> MissingTrade:
    """Per commodity and flow, what the partner's record implies the reporter did not record
    (by month, or by year for a pair compared by year: ``mirror_view``'s ``freq``)."""
    view = mirror_view(
        con,
        reporter,
        partner,
        classification=classification,
        breakdown=breakdown,
        start=start,
        end=end,
        freq=freq,
    )
    frame = view.frame
    uv = _unit_value_gaps(con, reporter, partner, start, end, view.freq, view.currency)
    months = _monthly_parts(frame, uv)
    table = _summarise(months)
    notes = [*view.notes, *_partner_only_unconverted(frame, view.currency, reporter, view.freq)]
    return MissingTrade(
        reporter,
        partner,
        view.currency,
        start,
        end,
        table,
        _totals(table, months),
        method=METHOD_BY_YEAR if view.freq == "A" else METHOD,
        notes=notes,
        first=frame["period"].min(),
        last=frame["period"].max(),
        freq=view.freq,
    )


def _unconverted_notes(frame: pd.DataFrame, reporter: str, currency: str, freq: str) -> list[str]:
    """A note per side naming the periods its record has no rate to ``currency`` for: the
    table reads `no rate` there (a month not recorded reads n/a), never a figure of another
    currency beside the others. The reporter's own periods all; the partner's only where
    the reporter recorded the period too: its record of a code the reporter does not hold
    (China's mineral lines beside Japan's TOTAL) is never compared, and ``gap`` names the
    periods only the partner recorded apart."""
    unit = period_unit(freq)
    recorded = frame["own_currency"].notna()
    notes = []
    for whose, side, where in (
        (f"{reporter}'s own record", "own", recorded),
        ("the partner's record", "mirror", recorded),
    ):
        off = where & (frame[f"{side}_currency_ok"] == 0)
        if not off.any():
            continue
        currencies = ", ".join(sorted(set(frame.loc[off, f"{side}_currency"]) - {currency}))
        periods = sorted(frame.loc[off, "period"].unique())  # a month once, whatever its codes
        verb = "is" if len(periods) == 1 else "are"
        notes.append(
            f"{plural(len(periods), unit)} of {whose} {verb} in {currencies} with no rate to "
            f"{currency} in the store ({_periods_named(periods, freq)}): shown as `no rate` and "
            "left out of the totals and the comparison; load monthly rates with "
            "`tradesentry rates FILE` to compare them"
        )
    return notes


def _periods_named(periods: list[str], freq: str) -> str:
    """'2024-07', '2020-03 to 2020-08, 2021-01': consecutive periods as one span."""
    index = sorted(pd.PeriodIndex(periods, freq="Y" if freq == "A" else "M"))
    runs: list[list[pd.Period]] = []
    for period in index:
        if runs and period == runs[-1][-1] + 1:
            runs[-1].append(period)
        else:
            runs.append([period])
    shown = "%Y" if freq == "A" else "%Y-%m"
    return _listed(
        [
            run[0].strftime(shown)
            if len(run) == 1
            else f"{run[0].strftime(shown)} to {run[-1].strftime(shown)}"
            for run in runs
        ]
    )


def _no_world_partner(con, reporter: str, partner: str) -> None:
    """The world is the sum of the reporter's partners, not a country: no one records its
    side of the trade, so there is no mirror record (``mirror DEU WLD`` had read "DEU
    exports vs WLD imports", each month "no record", with a band)."""
    if partner != WORLD:
        return
    partners = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT partner FROM current_observations WHERE reporter = ? "
            "AND partner <> ? ORDER BY partner",
            [reporter, WORLD],
        ).fetchall()
    ]
    held = f" (the store holds {reporter}'s trade with {_listed(partners)})" if partners else ""
    raise InputError(
        f"{WORLD} is the world, the sum of {reporter}'s partners, not a country: no one "
        f"records its side of the trade, so it has no mirror record to compare with; name a "
        f"partner country{held}"
    )


def _partner_only_unconverted(
    frame: pd.DataFrame, currency: str, reporter: str, freq: str
) -> list[str]:
    """A note on the partner's figures, in months the reporter recorded nothing, that no
    rate converts: they are left out of the partner's record and of the estimates (Japan's
    18 years of exports to China in yen, rates for one year loaded, read "partner's record
    $171.3B (12)" over 2001–2019 without a word; the mirror view's own note counts only
    the months both recorded)."""
    alone = (frame["mirror_currency_ok"] == 0) & frame["own_currency"].isna()
    if not alone.any():
        return []
    currencies = ", ".join(sorted(set(frame.loc[alone, "mirror_currency"]) - {currency}))
    periods = frame.loc[alone, "period"].nunique()  # a month once, whatever its codes
    verb = "is" if periods == 1 else "are"
    return [
        f"{plural(periods, period_unit(freq))} of the partner's record in which {reporter} "
        f"recorded nothing {verb} in {currencies} with no rate to {currency} in the store: "
        "they are left out of the partner's record and the estimates; load monthly rates "
        "with `tradesentry rates FILE` to count them"
    ]


def _chosen(raw: pd.DataFrame, key: dict, classification: str | None, breakdown: str | None):
    """The rows of one classification, and of one breakdown per flow and commodity.

    A code held under several classifications (UN Comtrade's H5 and a table's HS) is
    several series: their months would be listed and summed twice. A flow's parts (by mode
    of transport…) are parts of its total, never more figures of it.
    """
    name = " ".join(v for v in key.values() if v)
    held = sorted(raw["classification"].unique())
    choice = {"key": key, "classifications": held}
    if classification is not None:
        classification = arguments.held_classification(
            classification, held, f"trade {name}", **choice
        )
        raw = raw[raw["classification"] == classification]
    else:
        per_code = raw.groupby("commodity")["classification"].nunique()
        several = sorted(per_code.index[per_code > 1])
        if several:
            shared = sorted(raw.loc[raw["commodity"].isin(several), "classification"].unique())
            codes = "" if key["commodity"] else " " + _listed(several)
            verb = "is" if len(several) == 1 else "are"
            raise SeriesChoice(
                f"{name}{codes} {verb} held under classifications {', '.join(shared)}: "
                "pass --classification",
                **choice,
                param="classification",
                held=shared,
            )
    about = {**choice, "param": "breakdown", "classification": classification}
    if breakdown is not None:
        parts = sorted(raw["breakdown"].unique())
        if breakdown not in parts:
            shown = ", ".join(repr(b) for b in parts)
            raise SeriesChoice(
                f"no trade {name} with breakdown {breakdown!r}; it has {shown}",
                **about,
                held=parts,
                asked=breakdown,
            )
        return raw[raw["breakdown"] == breakdown]
    keys = [raw["flow"], raw["classification"], raw["commodity"]]
    has_total = (raw["breakdown"] == "").groupby(keys).transform("any").astype(bool)
    only_parts = ~has_total & (raw["breakdown"].groupby(keys).transform("nunique") > 1)
    if only_parts.any():
        first = raw[only_parts].iloc[0]
        parts = sorted(raw.loc[only_parts, "breakdown"].unique())
        shown = ", ".join(repr(b) for b in parts)
        raise SeriesChoice(
            f"{key['reporter']} {key['partner']} {first['flow']} {first['commodity']} is held "
            f"only by breakdown ({shown}): pass --breakdown",
            **about,
            held=parts,
        )
    return raw[(raw["breakdown"] == "") | ~has_total]


def _listed(codes: list[str], most: int = 5) -> str:
    shown = ", ".join(codes[:most])
    return shown if len(codes) <= most else f"{shown} and {len(codes) - most} more"


# -- the pair's records --------------------------------------------------------------------
# The figures a pair is compared by: single months, or years (UN Comtrade's annual data).
_SINGLE = {"M": "freq = 'M' AND period_months = 1", "A": "freq = 'A'"}


def _pair_freq(
    con, reporter: str, partner: str, commodity: str | None, wanted: str | None
) -> tuple[str, list[str]]:
    """The frequency the pair is compared by, and a note where it is not the only one:
    ``wanted``, else monthly where either side holds monthly figures, else annual."""
    only = " AND commodity = ?" if commodity else ""
    sides = f"((reporter = ? AND partner = ?) OR (reporter = ? AND partner = ?)){only}"
    single = " OR ".join(f"({clause})" for clause in _SINGLE.values())
    held = {
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT freq FROM current_observations WHERE {sides} "
            f"AND flow IN ('export', 'import') AND ({single})",
            [reporter, partner, partner, reporter, *([commodity] if commodity else [])],
        ).fetchall()
    }
    what = f" in {commodity}" if commodity else ""
    if not held:
        raise InputError(
            f"no monthly or annual trade between {reporter} and {partner}{what} in the store"
        )
    if wanted is not None:
        wanted = arguments.freq(wanted)
        if wanted not in held:
            (other,) = held
            raise InputError(
                f"no {arguments.FREQS[wanted]} trade between {reporter} and {partner}{what} "
                f"in the store; it holds {arguments.FREQS[other]} figures (--freq {other})"
            )
        return wanted, []
    if "M" in held:
        also = ["the store also holds annual figures for the pair: --freq A compares them"]
        return "M", also if "A" in held else []
    return "A", [
        f"the store holds only annual figures for {reporter} and {partner}: "
        "each row is a year (rates: the mean of the year's months)"
    ]


def _in_span(periods: pd.Series, freq: str, start: str | None, end: str | None) -> pd.Series:
    """Which periods (YYYY-MM, or YYYY for a year) fall in ``start`` to ``end`` (YYYY-MM,
    None: open): a year does when any of its months does."""
    first, last = (periods + "-01", periods + "-12") if freq == "A" else (periods, periods)
    keep = pd.Series(True, index=periods.index)
    if start:
        keep &= last >= start
    if end:
        keep &= first <= end
    return keep


def _currency(con, reporter: str, partner: str) -> str:
    """The tables' one currency: the one most of the reporter's figures with the partner are
    in (on a tie, the first by code: a record half restated in yuan reads the same each run)."""
    row = con.execute(
        "SELECT currency FROM current_observations WHERE reporter = ? AND partner = ? "
        "GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1",
        [reporter, partner],
    ).fetchone()
    if row is None or row[0] is None:
        raise InputError(
            f"{reporter} reports no trade with {partner} in the store: "
            f"{not_held(con, {'reporter': reporter, 'partner': partner})}"
        )
    return row[0]


def _pair_params(reporter: str, partner: str, commodity: str | None, currency: str) -> list:
    extra = [commodity] if commodity else []
    return [reporter, partner, *extra, partner, reporter, *extra, reporter, partner, currency]


def _pair_sql(commodity: str | None, freq: str = "M") -> str:
    only = " AND commodity = ?" if commodity else ""
    single = f"{_SINGLE[freq]} AND flow IN ('export', 'import')"
    rate = "coalesce({t}.per_usd, CASE WHEN {c} = 'USD' THEN 1.0 END)"
    # Both records in the table's one currency at each month's rate: the reporter's own
    # figures too, which may change currency by commodity or over time (China's restated in
    # yuan beside its dollars), so that no figure is summed with another currency's; NULL,
    # and the flag 0, where the store has no rate for the month.
    table = rate.format(t="rc", c="cur.currency")

    def in_table(side: str, t: str) -> str:
        """The side's figure in the table's currency, and whether it converted (1/0)."""
        its_rate, raw = rate.format(t=t, c=f"j.{side}_currency"), f"j.{side}_raw"
        same = f"j.{side}_currency = cur.currency"
        return (
            f"CASE WHEN {same} THEN {raw} ELSE {raw} / {its_rate} * {table} END AS {side}, "
            f"CASE WHEN {raw} IS NULL THEN NULL WHEN {same} OR ({its_rate} IS NOT NULL "
            f"AND {table} IS NOT NULL) THEN 1 ELSE 0 END AS {side}_currency_ok"
        )

    # A year's figure is converted at the mean of its months' rates.
    rates = (
        "rates"
        if freq == "M"
        else "(SELECT currency, date_trunc('year', period)::DATE AS period, "
        "avg(per_usd) AS per_usd FROM rates GROUP BY ALL)"
    )
    return f"""
        WITH own AS (SELECT * FROM current_observations
                     WHERE reporter = ? AND partner = ?{only} AND {single}),
             mir AS (SELECT * FROM current_observations
                     WHERE reporter = ? AND partner = ?{only} AND {single}),
             pair_rates AS (SELECT * FROM {rates}),
             j AS (
                SELECT ? AS reporter, ? AS partner,
                       coalesce(o.flow, CASE m.flow WHEN 'import' THEN 'export' ELSE 'import' END)
                           AS flow,
                       coalesce(o.classification, m.classification) AS classification,
                       coalesce(o.commodity, m.commodity) AS commodity,
                       coalesce(o.breakdown, m.breakdown) AS breakdown,
                       coalesce(o.period, m.period) AS period,
                       o.value AS own_raw, o.currency AS own_currency,
                       m.value AS mirror_raw, m.currency AS mirror_currency
                FROM own o FULL OUTER JOIN mir m
                  ON m.flow = CASE o.flow WHEN 'export' THEN 'import' ELSE 'export' END
                 AND m.classification = o.classification AND m.commodity = o.commodity
                 AND m.breakdown = o.breakdown AND m.period = o.period
             ),
             cur AS (SELECT ?::VARCHAR AS currency)
        SELECT j.*, cur.currency,
               {in_table("own", "ro")},
               {in_table("mirror", "rm")},
               {context.intra_eu_sql("j")} AS intra_eu,
               coalesce(mm.margin, 0) AS data_margin, coalesce(mm.spread, 0) AS data_spread,
               coalesce(mm.n, 0) AS reference_pair_months
        FROM j CROSS JOIN cur
        LEFT JOIN pair_rates ro ON ro.currency = j.own_currency AND ro.period = j.period
        LEFT JOIN pair_rates rm ON rm.currency = j.mirror_currency AND rm.period = j.period
        LEFT JOIN pair_rates rc ON rc.currency = cur.currency AND rc.period = j.period
        LEFT JOIN ({context.mirror_reference_sql()}) mm
          ON mm.classification = j.classification AND mm.commodity = j.commodity
         AND mm.intra_eu = {context.intra_eu_sql("j")}
        ORDER BY flow, classification, commodity, breakdown, period
    """


def _with_band(raw: pd.DataFrame, detector: MirrorGap) -> pd.DataFrame:
    """Add the usual ratio, its band, the ratio, the ratio the expected own figure rests on
    (the pair's own or the commodity's, as ``mirror_gap`` takes it), the expected own
    figure and the gap. ``raw``: every month of the pair, so that each series' own usual
    ratio is over all its months, as the detector's."""
    f = raw.copy()
    n = f["reference_pair_months"].to_numpy(dtype=float)
    margin, spread = detector.usual_band(
        f["data_margin"].to_numpy(dtype=float),
        f["data_spread"].to_numpy(dtype=float),
        n,
        f["intra_eu"].to_numpy(dtype=bool),
    )
    side = np.where(f["flow"] == "export", 1.0, -1.0)
    own = f["own"].to_numpy(dtype=float)
    mirror = f["mirror"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(side > 0, mirror / own, own / mirror)
    k = detector.threshold
    f["margin"], f["spread"] = margin, spread
    f["ratio"] = ratio
    f["usual_ratio"] = np.exp(margin)
    f["band_low"], f["band_high"] = np.exp(margin - k * spread), np.exp(margin + k * spread)
    both = np.isfinite(own) & np.isfinite(mirror)
    habit = _pair_habit(f, side, margin, spread, detector)
    # outside the band the month is judged by, as mirror_gap judges it (its statistic)
    f["outside"] = both & (habit["judged"] > 1.0)
    f["pair_usual_ratio"] = np.exp(habit["center"])
    f["pair_months"] = habit["pair_n"]
    f["own_habit"] = habit["own_habit"]
    width = np.where(habit["own_habit"], habit["pair_width"], np.nan)
    f["pair_band_low"] = np.exp(habit["usual"] - width)
    f["pair_band_high"] = np.exp(habit["usual"] + width)
    f["persistent"] = habit["persistent"]
    f["expected_ratio"] = np.exp(habit["usual"])
    # the σ of the band the expected figure rests on: the pair's own (its half-width over
    # break_threshold), or the commodity's
    pair_sigma = habit["pair_width"] / detector.break_threshold
    f["expected_spread"] = np.where(habit["own_habit"], pair_sigma, spread)
    f["expected_own"] = mirror * np.exp(-side * habit["usual"])
    # the smaller of the two corrections, as mirror_gap's impact: the reporter's figure
    # moved to the partner's, or the partner's to the reporter's (in its currency)
    f["gap"] = (f["expected_own"] - f["own"]) * smaller_share(np.exp(side * habit["usual"]))
    return f


def _pair_habit(
    f: pd.DataFrame, side: np.ndarray, margin: np.ndarray, spread: np.ndarray, detector: MirrorGap
) -> dict[str, np.ndarray]:
    """Per row, ``detector.pair_usual`` of its series (flow and commodity) over its months,
    as the detector computes it (one row of a grid per series, one column per period)."""
    own = f["own"].to_numpy(dtype=float)
    mirror = f["mirror"].to_numpy(dtype=float)
    usable = np.isfinite(own) & np.isfinite(mirror) & (own >= 0) & (mirror >= 0)
    converted = f["mirror_currency_ok"].fillna(0).to_numpy(dtype=float) == 1
    usable &= ((own > 0) | (mirror > 0)) & converted
    series = f.groupby(KEYS, sort=False).ngroup().to_numpy()
    period, periods = pd.factorize(f["period"])
    shape = (int(series.max()) + 1 if len(f) else 0, len(periods))

    def grid(values: np.ndarray, fill) -> np.ndarray:
        out = np.full(shape, fill, dtype=np.asarray(values).dtype)
        out[series, period] = values
        return out

    row_side = np.zeros(shape[0])
    row_side[series] = side
    lr, _ = detector.pair_ratios(
        grid(own, np.nan), grid(mirror, np.nan), row_side[:, None], grid(usable, False)
    )
    habit = detector.pair_usual(lr, grid(margin, 0.0), grid(spread, 1.0))
    habit["judged"] = detector.judged(lr, grid(margin, 0.0), grid(spread, 1.0), habit)
    cell = {k: v[series, period] for k, v in habit.items() if v.ndim == 2}
    row = {k: v[series] for k, v in habit.items() if v.ndim == 1}
    return cell | row


# -- what is missing -------------------------------------------------------------------------


def _unit_value_gaps(
    con, reporter: str, partner: str, start, end, freq: str = "M", currency: str = "USD"
) -> pd.DataFrame:
    """Price outliers of the reporter's series with the partner at ``freq`` (by year: their
    period YYYY, as the mirror view's): value at usual price − declared, in ``currency`` as
    the mirror view converts the records (NaN where the store has no rate: the finding is
    in its series' currency, which a sum in ``currency`` cannot take as it is)."""
    from tradesentry.engines import local

    found = local.scan(con, [UnitValue()], {"reporter": reporter, "partner": partner})
    if found.empty:
        return pd.DataFrame(columns=[*KEYS, "period", "uv_gap"])
    pattern = found["evidence"].map(lambda e: (e or {}).get("pattern"))
    found = found[(pattern == PRICE_OUTLIER) & (found["freq"] == freq)]
    period = found["period"].str[:4] if freq == "A" else found["period"]
    keep = _in_span(period, freq, start, end)
    found, period = found[keep], period[keep]
    gap = found["expected"] - found["observed"]  # in the finding's (its series') currency
    return pd.DataFrame(
        {
            **{k: found[k] for k in KEYS},
            "period": period,
            "uv_gap": _in_currency(con, gap, found["currency"], period, currency, freq),
        }
    )


def _in_currency(
    con, amounts: pd.Series, currencies: pd.Series, periods: pd.Series, currency: str, freq: str
) -> np.ndarray:
    """``amounts``, each in its currency, in ``currency`` at its period's rate (a year's:
    the mean of its months'), as ``_pair_sql`` converts; NaN where the store has none."""
    shown = "%Y" if freq == "A" else "%Y-%m"
    rates = con.execute(
        f"SELECT currency, strftime(period, '{shown}') AS period, avg(per_usd) AS per_usd "
        "FROM rates GROUP BY ALL"
    ).fetchall()
    per_usd = {(c, p): r for c, p, r in rates}

    def rate(c: str, p: str) -> float:
        return per_usd.get((c, p), 1.0 if c == "USD" else np.nan)

    return np.array(
        [
            a if c == currency else a / rate(c, p) * rate(currency, p)
            for a, c, p in zip(amounts, currencies, periods, strict=True)
        ],
        dtype=float,
    )


#: the partner's correction is "its terms" where it is below 1/1.25 of the reporter's
#: (as a record is "about its usual month" only within x1.25: mirror_gap, unit_value)
PARTNER_TERMS = 1.25


def _monthly_parts(frame: pd.DataFrame, uv: pd.DataFrame) -> pd.DataFrame:
    """Per commodity and month: each side's record, the gaps, and which months they count."""
    f = frame.merge(uv, on=[*KEYS, "period"], how="left")
    own, mirror = f["own"].to_numpy(float), f["mirror"].to_numpy(float)
    has_own, has_mirror = np.isfinite(own), np.isfinite(mirror)
    side = np.where(f["flow"] == "export", 1.0, -1.0)
    usual = np.log(f["expected_ratio"].to_numpy(float))
    spread = f["expected_spread"].to_numpy(float)
    both = has_own & has_mirror
    only_mirror = ~has_own & has_mirror & (mirror > 0)
    gaps = {  # the smaller of the two corrections at each ratio, as mirror_gap's impact
        name: np.where(
            both,
            (mirror * np.exp(-side * (usual + q * spread)) - own)
            * smaller_share(np.exp(side * (usual + q * spread))),
            0.0,
        )
        for name, q in (("at_q1", -QUARTILE), ("at_median", 0.0), ("at_q3", QUARTILE))
    }
    uv_gap = np.where(~both, pd.to_numeric(f["uv_gap"]).fillna(0.0).to_numpy(float), 0.0)
    # A unit-value gap is the least certain part of the estimate (a price outlier may be a
    # real price), so each end of the range takes only the gaps that move it its way: high
    # the positive ones (value below what the weight implies), low the negative ones (the
    # reporter declared more than the weight implies), central all of them. A month's
    # mirror gap only falls as the ratio rises, so the median's lies between the
    # quartiles': low ≤ central ≤ high in every month, whatever the gaps' signs, with no
    # clamp (which had added a negative gap to high and pulled low down to it).
    # Where the partner's usual figure is well below the reporter's (CZE books 19 times
    # what FRA records of the same flow), the smaller correction moves the partner's
    # record: the gap is then the partner's figures out of line, in its terms, as much as
    # trade missing from the reporter's. Counted apart, so the table can say so.
    partner_terms = both & (np.exp(side * usual) < 1 / PARTNER_TERMS)
    return pd.DataFrame(
        {
            **{k: f[k] for k in KEYS},
            "period": f["period"],
            "own": np.where(has_own, own, 0.0),
            "own_months": has_own.astype(int),
            "mirror": np.where(has_mirror, mirror, 0.0),
            "mirror_months": has_mirror.astype(int),
            # a side recorded the month, in a currency the store has no rate for
            "own_unconverted_months": f["own_currency_ok"].fillna(1).eq(0).astype(int),
            "mirror_unconverted_months": f["mirror_currency_ok"].fillna(1).eq(0).astype(int),
            "months": both.astype(int),
            "own_compared": np.where(both, own, 0.0),
            "mirror_compared": np.where(both, mirror, 0.0),
            "months_outside_band": f["outside"].astype(int),
            "central": gaps["at_median"] + uv_gap,
            "central_partner_terms": np.where(partner_terms, gaps["at_median"], 0.0),
            "low": np.minimum(gaps["at_q1"], gaps["at_q3"]) + np.minimum(uv_gap, 0.0),
            "high": np.maximum(gaps["at_q1"], gaps["at_q3"])
            + np.maximum(uv_gap, 0.0)
            + np.where(only_mirror, mirror * smaller_share(np.exp(-side * usual)), 0.0),
            "unit_value_gap": uv_gap,
            "unit_value_months": (uv_gap != 0).astype(int),
            "mirror_only_months": only_mirror.astype(int),
            "mirror_only_value": np.where(only_mirror, mirror, 0.0),
        }
    )


# Summed per commodity: money, and month counts (each month of a commodity is one row).
_SUMMED = [
    "own",
    "own_months",
    "mirror",
    "mirror_months",
    "own_unconverted_months",
    "mirror_unconverted_months",
    "months",
    "own_compared",
    "mirror_compared",
    "months_outside_band",
    "central",
    "central_partner_terms",
    "low",
    "high",
    "unit_value_gap",
    "unit_value_months",
    "mirror_only_months",
    "mirror_only_value",
]


def _summarise(parts: pd.DataFrame) -> pd.DataFrame:
    """Per flow and commodity: each side's total over the months it recorded (None: no
    record), the totals over the months both recorded (``months``), and the gaps."""
    out = parts.groupby(KEYS, as_index=False, sort=True).agg(
        first=("period", "min"), last=("period", "max"), **{c: (c, "sum") for c in _SUMMED}
    )
    out["own"] = out["own"].where(out["own_months"] > 0)
    out["mirror"] = out["mirror"].where(out["mirror_months"] > 0)
    # nothing to estimate from (no month both records hold, no price outlier, no month of
    # the partner's alone): unknown, not "nothing missing" (JSON and CSV said 0.0)
    for k in ("low", "central", "high", "central_partner_terms"):
        out[k] = out[k].where(_estimated(out))
    return out.sort_values(["flow", "central"], ascending=[True, False], key=_abs_key)


def _estimated(row: pd.Series | pd.DataFrame):
    """Whether a row (or each row) has anything the gap is estimated from."""
    return (row["months"] > 0) | (row["unit_value_months"] > 0) | (row["mirror_only_months"] > 0)


def _abs_key(column: pd.Series) -> pd.Series:
    return column.abs() if column.dtype.kind == "f" else column


def _totals(table: pd.DataFrame, parts: pd.DataFrame) -> dict:
    """Per flow, over TOTAL, or over top-level codes when no TOTAL: each side's record
    (None: no record) and the months it covers, the months both recorded, low / central /
    high. Months are calendar months: one where any of the codes was recorded counts once."""
    out = {}
    for flow, rows in table.groupby("flow"):
        codes = set(rows["commodity"])
        if "TOTAL" in codes:
            top = rows[rows["commodity"] == "TOTAL"]
        else:
            top = rows[[not _has_parent(c, codes) for c in rows["commodity"]]]
        months = parts.merge(top[KEYS], on=KEYS).groupby("period")
        counted = months[
            [
                "own_months",
                "mirror_months",
                "months",
                "months_outside_band",
                "unit_value_months",
                "mirror_only_months",
            ]
        ].max()
        total = {k: float(top[k].sum()) for k in ("own_compared", "mirror_compared")}
        total |= {
            k: float(top[k].sum(min_count=1))
            for k in ("low", "central", "high", "central_partner_terms")
        }
        total |= {k: int((counted[k] > 0).sum()) for k in counted.columns}
        if not _estimated(pd.Series(total)):
            total |= dict.fromkeys(("low", "central", "high", "central_partner_terms"))
        total["own"] = float(top["own"].sum()) if total["own_months"] else None
        total["mirror"] = float(top["mirror"].sum()) if total["mirror_months"] else None
        for side in ("own", "mirror"):
            total[f"{side}_unconverted_months"] = int(top[f"{side}_unconverted_months"].sum())
        total["first"], total["last"] = top["first"].min(), top["last"].max()
        total["commodities"] = int(len(top))
        out[flow] = total
    return out


def _has_parent(code: str, codes: set[str]) -> bool:
    return any(other != code and code.startswith(other) for other in codes)
