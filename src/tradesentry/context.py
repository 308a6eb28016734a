"""Other records of the same figure, joined beside each observation for the cross checks.

A detector that compares a figure with another record of it declares what it ``needs``;
the engine then adds those columns to the rows it scans, computed here in one DuckDB
query, and the panel carries them as arrays aligned with ``values``:

- ``mirror_value``: the partner's record of the same flow (B's imports from A beside A's
  exports to B), converted into this series' currency with the store's monthly rates (a
  year's figure at the mean of its months' rates, ``PERIOD_RATES_SQL``, as every rate here);
- ``mirror_currency_ok``: 1 where the conversion was possible (same currency or a rate);
- ``mirror_weight_kg``: the partner's record's net weight of the same flow, where it has one;
- ``own_per_usd``: units of the observation's own currency per US dollar that month (1 for
  USD; NaN where the store has no rate), so the mirror and unit-value checks can weigh the
  money at stake in dollars (need ``mirror``, or ``own_rate`` alone);
- ``previous_value`` / ``previous_release`` / ``release``: the same cell in the last
  earlier release that gave it another figure (release order: publication date, then
  ingestion; ``previous_sql``), and the release of the current row; ``revised_by``: the
  first release that gave the current figure, which a revision names;
  ``previous_row_release``: the release just before the current row that gave the cell;
- ``release_published`` / ``previous_published``: the publication dates of the releases
  ``revised_by`` and ``previous_release`` name, as days since 1970-01-01 (NaN where
  unknown); ``previous_withheld``: the release between them that listed the cell without
  a value, where there is one;
- ``reference_unit_value``: the median value per kg of the commodity in that month across
  every reporter and partner in the store (in US dollars where the store has the month's
  rate, converted into this series' currency; else among the figures in this series' own
  currency), the price the unit-value check compares with,
  with ``reference_unit_value_n``, the number of figures that median is taken over, and
  ``reference_unit_value_same``, the share of them sharing one unit value (near 1 where
  the source estimated the quantities from the values, as UN Comtrade does);
- ``mirror_margin`` / ``mirror_margin_spread`` / ``mirror_margin_n``: the usual log ratio
  import/export (CIF/FOB margin) of the commodity across every mirror pair and month in the
  store (median, 1.4826 × MAD, count), computed separately for pairs inside the EU
  (``mirror_intra_eu`` = 1), whose records carry almost no margin, and once more without
  the broken pairs (``mirror_reference_sql``);
- ``partners_sum`` / ``partners_n`` / ``partners_unknown`` / ``partners_unit``: on a world
  row (partner ``WLD``), the sum of the individual partners' figures of the same reporter,
  flow, commodity and month in the world row's currency (countries only: aggregates such
  as EU are no details), how many there are, how many more partners have no figure in that
  currency (withheld, or in another one), and the largest power of ten every summed one is
  a multiple of (``figure_unit_sql``), for the incoherent check, whatever chunk the
  partners' series fall in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache

import numpy as np
import pandas as pd

from tradesentry.schema import MIRROR_FLOW, OBSERVATION_KEY, WORLD, latest_rows_sql

CONTEXT_COLUMNS: tuple[str, ...] = (
    "mirror_value",
    "mirror_currency_ok",
    "mirror_weight_kg",
    "own_per_usd",
    "previous_value",
    "previous_release",
    "release",
    "revised_by",
    "previous_row_release",
    "reference_unit_value",
    "reference_unit_value_n",
    "reference_unit_value_same",
    "release_published",
    "previous_published",
    "previous_withheld",
    "mirror_margin",
    "mirror_margin_spread",
    "mirror_margin_n",
    "mirror_intra_eu",
    "partners_sum",
    "partners_n",
    "partners_unknown",
    "partners_unit",
)
_NEEDS_TO_COLUMNS = {
    "mirror": ("mirror_value", "mirror_currency_ok", "mirror_weight_kg", "own_per_usd"),
    "previous": (
        "previous_value",
        "previous_release",
        "release",
        "revised_by",
        "previous_row_release",
        "release_published",
        "previous_published",
        "previous_withheld",
    ),
    "reference_unit_value": (
        "reference_unit_value",
        "reference_unit_value_n",
        "reference_unit_value_same",
    ),
    "mirror_margin": (
        "mirror_margin",
        "mirror_margin_spread",
        "mirror_margin_n",
        "mirror_intra_eu",
    ),
    "partners": ("partners_sum", "partners_n", "partners_unknown", "partners_unit"),
    "own_rate": ("own_per_usd",),
}
#: every context a detector can ask for
NEEDS: tuple[str, ...] = tuple(_NEEDS_TO_COLUMNS)


def mirror_flow_sql(alias: str) -> str:
    """The flow of the same goods in the partner's record, as SQL over ``alias``'s flow."""
    cases = " ".join(f"WHEN '{own}' THEN '{other}'" for own, other in MIRROR_FLOW.items())
    return f"CASE {alias}.flow {cases} END"


_MIRROR_FLOW_SQL = mirror_flow_sql("o")


def usd_rate_sql(obs: str, rate: str) -> str:
    """Units of the observation's currency per US dollar in its month (1 for USD itself)."""
    return f"coalesce({rate}.per_usd, CASE WHEN {obs}.currency = 'USD' THEN 1.0 END)"


#: units of each currency per US dollar in each period a figure can cover, by ``freq``: a
#: month's own rate ("M"), and a year's ("A", at its first month, where annual figures are
#: stored) the mean of the rates the store holds for its months. Why: an annual figure is
#: the year's trade, and January's rate had converted it (a year of Japan's imports from
#: China in yen at ¥121.0 a dollar, not the year's mean ¥125.2; a pair built at a ratio of
#: 1.08 read a median of 1.12). A year some of whose months have no rate takes the mean of
#: the others, as ``tradesentry mirror --freq A`` does; a year with none has no rate.
PERIOD_RATES_SQL = (
    "(SELECT currency, 'M' AS freq, period, per_usd FROM rates UNION ALL "
    "SELECT currency, 'A' AS freq, CAST(date_trunc('year', period) AS DATE) AS period, "
    "avg(per_usd) AS per_usd FROM rates "
    "GROUP BY currency, CAST(date_trunc('year', period) AS DATE))"
)


def rate_join_sql(rate: str, currency: str, obs: str) -> str:
    """``LEFT JOIN`` of the rate, as ``rate``, of ``currency`` (an SQL expression) in the
    period of the observation ``obs`` at its frequency (``PERIOD_RATES_SQL``)."""
    return (
        f"LEFT JOIN {PERIOD_RATES_SQL} {rate} ON {rate}.currency = {currency} "
        f"AND {rate}.freq = {obs}.freq AND {rate}.period = {obs}.period"
    )


def columns_for(needs: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for need in needs:
        if need not in _NEEDS_TO_COLUMNS:
            raise ValueError(f"unknown context {need!r}; known: {', '.join(_NEEDS_TO_COLUMNS)}")
        out.extend(c for c in _NEEDS_TO_COLUMNS[need] if c not in out)
    return tuple(out)


def aggregates_sql(
    needs: Iterable[str],
    current: str = "current_observations",
    observations: str = "observations",
    mirrored: str | None = None,
) -> dict[str, str]:
    """The whole-store tables the context joins beside the rows, by name: their SELECTs.

    The previous release of every cell, the reference unit value of every commodity-month,
    the usual margin of every commodity, the series that are some series' mirror. ``source_sql`` joins them as subqueries unless it
    is given tables that already hold them (the local engine computes them first). Each
    reads the store through ``current`` and ``observations``; every group and join of them
    lies within one commodity, so the local engine may pass views of a range of commodities
    and compute the tables range by range. Where the engine has computed the mirrored
    series into a table first (``mirrored``), the margins pair only their rows: every mirror
    pair is of two such series, so the margins are the same, and a store where few series
    have a mirror (a reporter's own download, the generated data) no longer hashes every
    row of the store to find no pair.
    """
    needs = set(needs)
    out = {}
    if "mirror" in needs:
        out["mirrored"] = mirrored_series_sql(current)
    if "previous" in needs:
        out["previous"] = previous_sql(observations)
    if "reference_unit_value" in needs:
        out["reference_unit_value"] = reference_unit_value_sql(current)
    if "mirror_margin" in needs:
        paired = current
        if mirrored:
            paired = f"(SELECT x.* FROM {current} x JOIN {mirrored} s USING ({_SERIES_COLUMNS}))"
        out["mirror_margin"] = mirror_reference_sql(paired)
    if "partners" in needs:
        out["partners"] = partners_sql(current)
    return out


def source_sql(where: str, needs: Iterable[str], tables: Mapping[str, str] | None = None) -> str:
    """SELECT of the current observations matching ``where``, with the needed context columns.

    ``where`` is a clause over the observation columns with ``?`` parameters (never user
    text); without needs this is just the filtered current view. ``tables`` names tables
    holding some of ``aggregates_sql``'s results, joined instead of computing them inline.
    """
    needs = set(needs)
    aggregates = aggregates_sql(needs)

    def joined(name: str) -> str:
        return (tables or {}).get(name) or f"({aggregates[name]})"

    selects, joins = ["o.*"], []
    if "mirror" in needs:
        selects += [
            f"CASE WHEN m.currency = o.currency THEN m.value "
            f"ELSE m.value / {usd_rate_sql('m', 'rm')} * {usd_rate_sql('o', 'ro')} END AS mirror_value",
            f"CASE WHEN m.value IS NULL THEN NULL WHEN m.currency = o.currency "
            f"OR ({usd_rate_sql('m', 'rm')} IS NOT NULL AND {usd_rate_sql('o', 'ro')} IS NOT NULL) THEN 1 "
            f"ELSE 0 END AS mirror_currency_ok",
            "m.net_weight_kg AS mirror_weight_kg",
            f"{usd_rate_sql('o', 'ro')} AS own_per_usd",
        ]
        joins.append(
            f"""LEFT JOIN {_mirror_side(tables)} m ON {_MIRROR_ON}
            {rate_join_sql("rm", "m.currency", "o")}
            {rate_join_sql("ro", "o.currency", "o")}"""
        )
    if "own_rate" in needs and "mirror" not in needs:  # the mirror's join gives it too
        selects.append(f"{usd_rate_sql('o', 'ro')} AS own_per_usd")
        joins.append(rate_join_sql("ro", "o.currency", "o"))
    if "previous" in needs:
        key = " AND ".join(f"p.{c} = o.{c}" for c in (*OBSERVATION_KEY, "currency"))
        selects += [
            "p.value AS previous_value",
            "p.release_id AS previous_release",
            "o.release_id AS release",
            "coalesce(p.since_release, o.release_id) AS revised_by",
            "p.row_before AS previous_row_release",
            f"{_epoch_days('rc.published')} AS release_published",
            f"{_epoch_days('rp.published')} AS previous_published",
            "p.withheld_release AS previous_withheld",
        ]
        joins.append(
            f"""LEFT JOIN {joined("previous")} p ON {key}
            LEFT JOIN releases rc ON rc.id = coalesce(p.since_release, o.release_id)
            LEFT JOIN releases rp ON rp.id = p.release_id"""
        )
    if "reference_unit_value" in needs:
        selects += [
            f"u.reference_unit_value * coalesce({usd_rate_sql('o', 'ru')}, 1.0) AS reference_unit_value",
            "u.reference_unit_value_n",
            "u.reference_unit_value_same",
        ]
        joins.append(
            f"""{rate_join_sql("ru", "o.currency", "o")}
            LEFT JOIN {joined("reference_unit_value")} u
                ON u.flow = o.flow AND u.classification = o.classification
               AND u.commodity = o.commodity AND u.period = o.period
               AND u.period_months = o.period_months
               AND u.price_currency = {_price_currency("o", "ru")}"""
        )
    if "mirror_margin" in needs:
        selects += [
            "mm.margin AS mirror_margin",
            "mm.spread AS mirror_margin_spread",
            "mm.n AS mirror_margin_n",
            f"CASE WHEN {intra_eu_sql('o')} THEN 1 ELSE 0 END AS mirror_intra_eu",
        ]
        joins.append(
            f"""LEFT JOIN {joined("mirror_margin")} mm
               ON mm.classification = o.classification AND mm.commodity = o.commodity
              AND mm.intra_eu = {intra_eu_sql("o")}"""
        )
    if "partners" in needs:
        selects += [
            "pw.partners_sum",
            "pw.partners_n",
            "pw.partners_unknown",
            "pw.partners_unit",
        ]
        joins.append(
            f"""LEFT JOIN {joined("partners")} pw
               ON o.partner = '{WORLD}' AND pw.reporter = o.reporter AND pw.flow = o.flow
              AND pw.classification = o.classification AND pw.commodity = o.commodity
              AND pw.breakdown = o.breakdown AND pw.freq = o.freq AND pw.period = o.period
              AND pw.period_months = o.period_months AND pw.currency = o.currency"""
        )
    return (
        f"SELECT {', '.join(selects)} FROM (SELECT * FROM current_observations WHERE {where}) o "
        + " ".join(joins)
    )


_SERIES_COLUMNS = "reporter, partner, flow, classification, commodity, breakdown, freq"
#: the partner's record ``m`` of the observation ``o``: the same flow seen from the other side
_MIRROR_ON = f"""m.reporter = o.partner AND m.partner = o.reporter AND m.flow = {_MIRROR_FLOW_SQL}
               AND m.classification = o.classification AND m.commodity = o.commodity
               AND m.breakdown = o.breakdown AND m.freq = o.freq AND m.period = o.period
               AND m.period_months = o.period_months"""


def unconverted_mirror_months(con, where: str = "true", params: Sequence = ()) -> dict[str, int]:
    """The figures of the current observations matching ``where`` (as ``source_sql``'s)
    whose partner recorded the same flow in the same period in another currency, with no
    rate in the store to convert one into the other (``mirror_currency_ok`` 0): how many,
    by the currency that lacks the rate (the figure's own where both do). ``mirror_gap``
    cannot compare them, and its findings name them only inside a finding's span; a month
    of the sort alone, whatever its gap, has no finding (a ×0.2 month of China's exports to
    Germany, July 2024, where the store had no euro rate for July): a scan says how many
    there are, so that the rates can be loaded."""
    own, other = usd_rate_sql("o", "ro"), usd_rate_sql("m", "rm")
    rows = con.execute(
        f"""SELECT CASE WHEN {own} IS NULL THEN o.currency ELSE m.currency END AS currency,
                   count(*) AS months
            FROM (SELECT * FROM current_observations WHERE {where}) o
            JOIN current_observations m ON {_MIRROR_ON}
            {rate_join_sql("rm", "m.currency", "o")}
            {rate_join_sql("ro", "o.currency", "o")}
            WHERE o.value IS NOT NULL AND m.value IS NOT NULL AND m.currency <> o.currency
              AND ({own} IS NULL OR {other} IS NULL)
            GROUP BY 1 ORDER BY 1""",
        list(params),
    ).fetchall()
    return {str(currency): int(n) for currency, n in rows}


def unconverted_mirror_note(counts: Mapping[str, int]) -> str | None:
    """``unconverted_mirror_months``'s counts in words, for a scan's notes; None where none."""
    if not counts:
        return None
    n = sum(counts.values())
    figures = "1 figure" if n == 1 else f"{n:,} figures"
    return (
        f"mirror_gap could not compare {figures} with the partner's record of the same period: "
        f"the store has no {' or '.join(counts)} rate for {'it' if n == 1 else 'them'} "
        "(tradesentry rates FILE loads rates)."
    )


def current_rows_sql(keys: str) -> str:
    """The current view's rows of the series ``keys`` names (a table or subquery with the
    series key columns): the latest release's row of each cell, as ``current_observations``
    gives it, with the window run over those series' rows only, not over the store's."""
    return latest_rows_sql(
        f"observations o JOIN (SELECT DISTINCT {_SERIES_COLUMNS} FROM {keys}) k "
        f"USING ({_SERIES_COLUMNS})"
    )


def mirrored_series_sql(current: str = "current_observations") -> str:
    """The series that are some series' mirror (the partner's record of its flow).

    Only their rows can match in the mirror join; where partners seldom report (North
    Korea reports nothing) most rows have no mirror, and joining against these series'
    rows alone spares building a hash table of every row of the store.
    """
    series = f"(SELECT DISTINCT {_SERIES_COLUMNS} FROM {current})"
    return f"""
        SELECT DISTINCT t.reporter, t.partner, t.flow, t.classification, t.commodity,
               t.breakdown, t.freq
        FROM {series} o
        JOIN {series} t
          ON t.reporter = o.partner AND t.partner = o.reporter AND t.flow = {_MIRROR_FLOW_SQL}
         AND t.classification = o.classification AND t.commodity = o.commodity
         AND t.breakdown = o.breakdown AND t.freq = o.freq"""


def _mirror_side(tables: Mapping[str, str] | None) -> str:
    """What the mirror join reads: the current rows of the mirrored series where the engine
    has computed them into a table (``mirrored_series_sql``), else every current row."""
    mirrored = (tables or {}).get("mirrored")
    if not mirrored:
        return "current_observations"
    return f"(SELECT x.* FROM current_observations x JOIN {mirrored} s USING ({_SERIES_COLUMNS}))"


def previous_sql(observations: str = "observations") -> str:
    """The figure of every cell before the one its current row holds.

    Release order is ``release_order.vintage``. A current figure is compared with the last
    earlier release whose figure in its currency differs from it (by more than its
    rounding, ``SAME_FIGURE``), and ``since_release`` names the first release of those
    after it, each of which gave the current figure: a revision stays one until a release
    changes the figure again. Compared with the release just before, a release that
    repeats the history (Comext and most offices re-issue it every month) had undone every
    revision of the one before it, each then listed as resolved. Figures that drift by
    small steps are each compared with the one before (10.00M, 10.04M, 10.08M: two steps
    within the bar, no revision). Where every earlier figure is the current one, the cell
    is compared with the last earlier release that gave it a figure (no revision); a
    figure withheld in one release and published again in the next, unchanged, is no
    news. Where no earlier release gave a figure, and where the current row is itself
    withheld, it is compared with the release just before. Cells reported by one release
    only have no row here. ``row_before``: the release just before the current row that
    gave the cell a row, as the rule before re-issues were skipped picks it (a month
    filled in is told against the release its neighbours had before: ``revision``'s
    ``appeared``). ``withheld_release``: the release just before the current one where it
    listed the cell without a value and the figure compared with is an earlier release's
    (a revision "against release 1" said nothing of release 2's withholding), or just
    before ``since_release`` where the revision is an earlier release's than the current
    row's; NULL otherwise.
    """
    # within a currency: a release that gives the series in euros instead of dollars
    # restates no figure (dollars read as euros made each month an 8 % "revision")
    partition = ", ".join((*OBSERVATION_KEY, "currency"))
    cell = f"PARTITION BY {partition}"
    every = f"{cell} ORDER BY vintage DESC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    differs = f"abs(value - value_now) > greatest({SAME_FIGURE[0]!r}, {SAME_FIGURE[1]!r} * abs(value_now))"
    before = "CASE WHEN withheld_now OR figures < 2 THEN recency = 2 ELSE value IS NOT NULL AND recency_alike = 2 END"
    return f"""
        SELECT {", ".join(OBSERVATION_KEY)}, currency, value, release_id,
               CASE WHEN differs_at IS NULL THEN
                        CASE WHEN before_withheld AND before_release <> release_id
                             THEN before_release END
                    WHEN withheld_before_since <> release_id THEN withheld_before_since
               END AS withheld_release,
               since_release, row_before FROM (
          SELECT *, max(CASE WHEN vintage = before_since AND value IS NULL THEN release_id END)
                        OVER ({cell}) AS withheld_before_since FROM (
            SELECT *, max(CASE WHEN vintage = since_vintage THEN release_id END) OVER ({cell})
                          AS since_release,
                      max(CASE WHEN vintage < since_vintage THEN vintage END) OVER ({cell})
                          AS before_since FROM (
                SELECT *, min(CASE WHEN value IS NOT NULL AND vintage > differs_at
                                   THEN vintage END) OVER ({cell}) AS since_vintage FROM (
                    SELECT *, max(CASE WHEN value IS NOT NULL AND {differs} THEN vintage END)
                                  OVER ({cell}) AS differs_at,
                              max(CASE WHEN {before} THEN release_id END) OVER ({cell})
                                  AS row_before FROM (
                        SELECT ob.*, ro.vintage,
                               nth_value(ob.release_id, 2) OVER ({every}) AS before_release,
                               nth_value(ob.value IS NULL, 2) OVER ({every}) AS before_withheld,
                               row_number() OVER ({cell} ORDER BY vintage DESC) AS recency,
                               row_number() OVER ({cell}, ob.value IS NULL ORDER BY vintage DESC)
                                   AS recency_alike,
                               first_value(ob.value) OVER ({every}) AS value_now,
                               first_value(ob.value IS NULL) OVER ({every}) AS withheld_now,
                               count(ob.value) OVER ({cell}) AS figures,
                               count(*) OVER ({cell}) AS rows_of_cell
                        FROM {observations} ob JOIN release_order ro USING (release_id)
                    ) ranked WHERE rows_of_cell > 1
                ) compared
            ) since
          ) placed
        ) withheld
        WHERE CASE WHEN withheld_now OR figures < 2 THEN recency = 2
                   WHEN differs_at IS NOT NULL THEN vintage = differs_at
                   ELSE value IS NOT NULL AND recency_alike = 2 END"""


#: two figures of a cell are the same where they differ by at most this (currency units,
#: share of the figure): the rounding of one figure written twice, never a revision's
SAME_FIGURE = (0.5, 1e-6)


def _price_currency(obs: str, rate: str) -> str:
    """The currency a figure's unit value is compared in: US dollars where the store has
    the month's rate (or the figure is in dollars), else the figure's own."""
    return f"CASE WHEN {usd_rate_sql(obs, rate)} IS NULL THEN {obs}.currency ELSE 'USD' END"


def reference_unit_value_sql(current: str = "current_observations") -> str:
    """The median value per kg of each commodity-month across the store, and its support.

    In US dollars where the month's rate is in the store, else within each currency (one
    median over yen, won and dollars is no price: a store of Comext figures in members'
    own currencies had a reference of 9.12 "EUR"/kg where the euro figures' was 5.91);
    ``source_sql`` converts it into each series' currency. The distinct unit values are
    counted as the length of their distinct list, the same count as ``count(DISTINCT …)``
    (NULL left out, -0.0 and 0.0 one value), which took 1.3 s of the query's 1.7 s at
    4×10^6 rows, the list 0.6 s (Spark counts them as before: ``spark_dialect``)."""
    return f"""
        SELECT flow, classification, commodity, period, period_months, price_currency,
               median(unit_value) AS reference_unit_value,
               count(*) AS reference_unit_value_n,
               (count(*) - length(list_distinct(list(rounded_log))) + 1)
                   / count(*) AS reference_unit_value_same
        FROM (SELECT *, round(ln(unit_value), 6) AS rounded_log FROM (
              SELECT o.flow, o.classification, o.commodity, o.period, o.period_months,
                     {_price_currency("o", "r")} AS price_currency,
                     o.value / coalesce({usd_rate_sql("o", "r")}, 1.0) / o.net_weight_kg AS unit_value
              FROM {current} AS o
              {rate_join_sql("r", "o.currency", "o")}
              WHERE o.net_weight_kg > 0 AND o.value > 0) AS valued) AS priced
        GROUP BY ALL"""


def partners_sql(current: str = "current_observations") -> str:
    """Beside every world row (partner ``WLD``), the individual partners of the same
    reporter, flow, commodity and month: the sum of their figures in the world row's
    currency, how many, how many more the store holds no such figure of (withheld, or in
    another currency: a rate's month average is no customs conversion), and the rounding
    unit the summed ones share (NULL where all are 0). Only the series with a world series
    are read: most stores have none, or few, and summing every row cost a third of a whole
    scan."""
    countries = ", ".join(f"'{code}'" for code in sorted(country_codes()))
    cell = [c for c in OBSERVATION_KEY if c != "partner"]  # a world row's series and month
    same = "p.currency = w.currency"
    return f"""
        SELECT {", ".join(f"w.{c}" for c in cell)}, w.currency,
               sum(p.value) FILTER (WHERE {same}) AS partners_sum,
               count(p.value) FILTER (WHERE {same}) AS partners_n,
               count(*) FILTER (WHERE p.value IS NULL OR NOT {same}) AS partners_unknown,
               min({figure_unit_sql("p.value")}) FILTER (WHERE {same}) AS partners_unit
        FROM (SELECT DISTINCT {", ".join(cell)}, currency FROM {current}
              WHERE partner = '{WORLD}') AS w
        JOIN {current} AS p ON {" AND ".join(f"p.{c} = w.{c}" for c in cell)}
        WHERE p.partner IN ({countries})
        GROUP BY ALL"""


#: the powers of ten a figure's rounding unit can be (up to 10^9)
_POWERS = tuple(10**p for p in range(9, -1, -1))


def figure_unit_sql(column: str) -> str:
    """SQL of a figure's rounding unit, as ``incoherent._figure_units`` reads it in NumPy:
    the largest power of ten up to 10^9 it is a multiple of (within floating-point error,
    and no larger than the figure), 0 for a fraction, NULL for zero (a multiple of any)
    and for no figure."""
    whens = " ".join(
        f"WHEN abs({column}) >= {p} AND abs(round({column} / {p}) * {p} - {column}) <= {p * 1e-6} "
        f"THEN CAST({p} AS DOUBLE)"
        for p in _POWERS
    )
    return (
        f"CASE WHEN {column} IS NULL OR {column} = 0 THEN NULL {whens} ELSE CAST(0 AS DOUBLE) END"
    )


def world_and_partners(con, keys: pd.DataFrame) -> pd.DataFrame:
    """The current view's monthly rows of the world series and every partner's series of
    ``keys`` (reporter, flow, classification, commodity, breakdown), in series order and,
    within one, by period: for ``drivers.completed_from_store``. Only those series are
    read, and the current view is taken over them alone."""
    columns = ["reporter", "flow", "classification", "commodity", "breakdown"]
    con.register("world_keys", keys[columns])
    try:
        asked = (
            "observations o SEMI JOIN world_keys k USING "
            "(reporter, flow, classification, commodity, breakdown)"
        )
        several = con.execute("SELECT count(*) FROM releases").fetchone()[0] > 1
        current = latest_rows_sql(asked) if several else f"SELECT o.* FROM {asked}"
        return con.execute(
            f"""SELECT reporter, partner, flow, classification, commodity, freq, breakdown,
                       currency, period, period_months, value, net_weight_kg
                FROM ({current}) WHERE freq = 'M'
                ORDER BY reporter, flow, classification, commodity, breakdown, partner,
                         period, period_months"""
        ).df()
    finally:
        con.unregister("world_keys")


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166 alpha-3 codes of countries, those of countries that no longer exist
    included (ISO 3166-3: the Netherlands Antilles, Serbia and Montenegro, the USSR), which
    records of their years name as partners; aggregates such as WLD or EU are not details."""
    import pycountry

    return frozenset(c.alpha_3 for c in (*pycountry.countries, *pycountry.historic_countries))


def _epoch_days(column: str) -> str:
    return f"datediff('day', DATE '1970-01-01', {column})"


# EU membership over time, from country_converter's groupings (never a hand-written list):
# (first month of the period, group column). Intra-EU trade is recorded on both sides at
# invoice value (Intrastat), so its mirror pairs carry almost no CIF/FOB margin.
_EU_PERIODS: tuple[tuple[str, str], ...] = (
    ("1995-01-01", "EU15"),
    ("2004-05-01", "EU25"),
    ("2007-01-01", "EU27_2007"),
    ("2013-07-01", "EU28"),
    ("2021-01-01", "EU27"),
)


@cache
def _eu_members() -> tuple[tuple[str, tuple[str, ...]], ...]:
    import country_converter

    data = country_converter.CountryConverter().data
    return tuple(
        (since, tuple(sorted(data.loc[data[group].notna(), "ISO3"])))
        for since, group in _EU_PERIODS
    )


def intra_eu_sql(alias: str) -> str:
    """SQL condition: reporter and partner of ``alias`` were both EU members in that month."""
    members = _eu_members()
    clauses = []
    for i, (since, codes) in enumerate(members):
        until = members[i + 1][0] if i + 1 < len(members) else None
        listed = "[" + ", ".join(f"'{c}'" for c in codes) + "]"
        window = f"{alias}.period >= DATE '{since}'" + (
            f" AND {alias}.period < DATE '{until}'" if until else ""
        )
        clauses.append(
            f"({window} AND list_contains({listed}, {alias}.reporter) "
            f"AND list_contains({listed}, {alias}.partner))"
        )
    return "(" + " OR ".join(clauses) + ")"


def mirror_pairs_sql(current: str = "current_observations") -> str:
    """Every mirror pair in the current view: log(import record / export record) per month.

    One row per export-side figure whose partner reports the matching import, both positive
    and comparable (same currency, or both with a rate to the US dollar that month), with
    the export side's series key (the pair).
    """
    return f"""
        SELECT x.classification, x.commodity, x.period,
               x.reporter, x.partner, x.flow, x.breakdown, x.freq,
               {intra_eu_sql("x")} AS intra_eu,
               ln(CASE WHEN m.currency = x.currency THEN m.value / x.value
                       ELSE (m.value / {usd_rate_sql("m", "rm")}) / (x.value / {usd_rate_sql("x", "rx")}) END)
                   AS log_ratio
        FROM {current} x
        JOIN {current} m
          ON m.reporter = x.partner AND m.partner = x.reporter
         AND m.flow = CASE x.flow WHEN 'export' THEN 'import' WHEN 're-export' THEN 'import' END
         AND m.classification = x.classification AND m.commodity = x.commodity
         AND m.breakdown = x.breakdown AND m.freq = x.freq AND m.period = x.period
         AND m.period_months = x.period_months
        {rate_join_sql("rm", "m.currency", "x")}
        {rate_join_sql("rx", "x.currency", "x")}
        WHERE x.flow IN ('export', 're-export') AND x.value > 0 AND m.value > 0
"""


#: ``mirror_reference_sql`` leaves out of its second pass the pairs of at least
#: ``MIRROR_PAIR_MONTHS`` months whose median lies more than ``MIRROR_BAND_SIGMA`` robust σ
#: (floored at ``MIRROR_MIN_SPREAD``) from the first pass's median: the pairs ``mirror_gap``
#: calls persistent gaps, at its defaults (``min_pair_months``, ``threshold``, ``min_spread``)
MIRROR_PAIR_MONTHS = 12
MIRROR_BAND_SIGMA = 3.5
MIRROR_MIN_SPREAD = 0.05
#: a pair of at least ``MIRROR_PAIR_MONTHS`` months whose own median puts one record this
#: many times the other's, against the commodity's usual ratio, is a persistent gap however
#: wide the commodity's band: CIF/FOB margins are a few per cent, and timing, thresholds and
#: exchange rates do not make ×20 over a year. Where most pairs of a commodity disagree the
#: band holds ×0.0015–×4,000 (Comext CN 35069110, σ 2.1), and a pair whose importer books
#: 716 times its exporter's record, month after month, had passed as usual. Single months
#: are judged by the band alone, and the band's estimate leaves out only the pairs outside
#: it (``mirror_reference_sql``: where most pairs disagree, no robust estimate can call the
#: majority broken, though each pair's own year can be)
MIRROR_PERSISTENT_FACTOR = 20.0

_PAIR_COLUMNS = ("classification", "commodity", "intra_eu", "reporter", "partner", "flow")
_PAIR_KEY = (*_PAIR_COLUMNS, "breakdown", "freq")
_BAND_KEY = _PAIR_COLUMNS[:3]


def _on(left: str, right: str, columns: Iterable[str]) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in columns)


def mirror_reference_sql(
    current: str = "current_observations",
    *,
    pair_months: int = MIRROR_PAIR_MONTHS,
    band_sigma: float = MIRROR_BAND_SIGMA,
    min_spread: float = MIRROR_MIN_SPREAD,
) -> str:
    """The usual CIF/FOB log ratio per commodity and intra-EU flag, across pairs and months:
    median, 1.4826 × MAD, quartiles and count, re-estimated once without the broken pairs.

    The first pass takes every pair-month; the second leaves out each pair of at least
    ``pair_months`` months whose own median lies beyond ``band_sigma`` of the first pass's σ
    (floored at ``min_spread``) from its median, and its months are not counted in ``n``.
    Why: the band is to hold what ordinary pairs do, and a broken pair is not one. Its
    months are not independent errors but one habit, so a long broken pair weighed as 35
    outliers: 17 % of CN 48064010's pair-months (Comext) came from such pairs and widened
    the band's edge from ×5.6 to ×13.4, blunting the very findings it exists for (AUT←DEU,
    AUT booking 1/25 of DEU's exports: 20 of its 33 months beyond the band, a low score;
    31 without the broken pairs). The median and MAD resist them as single months, not as
    a sixth of the data all on one side. A pair is left out whole or not at all (an
    ordinary pair's months beyond the band are the noise the band must hold), and only
    where the first band, robust itself, already calls its median broken: the pairs
    ``mirror_gap`` judges as persistent gaps. One re-estimation, not iterated to convergence: each pass narrows the
    band and would go on eating its own tails. Where most pairs disagree (CN 39199020,
    35069110) no pair lies outside the first band and nothing changes: no robust estimate
    can call the majority broken. A pair whose own median is ``MIRROR_PERSISTENT_FACTOR``
    times off inside such a band is a persistent gap for ``mirror_gap`` all the same, and is
    kept here: the band is what single months are judged by, and stays as it was.
    """
    on_band = _on("p", "f", _BAND_KEY)
    band_cols = ", ".join(f"p.{c}" for c in _BAND_KEY)
    pair_cols = ", ".join(f"p.{c}" for c in _PAIR_KEY)
    return f"""
        WITH pairs AS (
            SELECT * FROM ({mirror_pairs_sql(current)}) all_pairs WHERE log_ratio IS NOT NULL
        ),
        first_pass AS (
            SELECT {", ".join(_BAND_KEY)}, median(log_ratio) AS margin,
                   1.4826 * mad(log_ratio) AS spread
            FROM pairs GROUP BY {", ".join(_BAND_KEY)}
        ),
        broken AS (
            SELECT {pair_cols}
            FROM pairs p JOIN first_pass f ON {on_band}
            GROUP BY {pair_cols}, f.margin, f.spread
            HAVING count(*) >= {int(pair_months)}
               AND abs(median(p.log_ratio) - f.margin)
                   > {float(band_sigma)!r} * greatest(f.spread, {float(min_spread)!r})
        ),
        kept AS (
            SELECT p.* FROM pairs p LEFT JOIN broken b ON {_on("p", "b", _PAIR_KEY)}
            WHERE b.reporter IS NULL
        ),
        second_pass AS (
            SELECT {", ".join(_BAND_KEY)}, median(log_ratio) AS margin
            FROM kept GROUP BY {", ".join(_BAND_KEY)}
        )
        SELECT {band_cols}, f.margin,
               1.4826 * median(abs(p.log_ratio - f.margin)) AS spread,
               quantile_cont(p.log_ratio, 0.25) AS q25,
               quantile_cont(p.log_ratio, 0.75) AS q75,
               count(*) AS n
        FROM kept p JOIN second_pass f ON {on_band}
        GROUP BY {band_cols}, f.margin"""


# -- context of findings: what a finding's months hold in other records --------------------
# Read once the findings are known, for the detectors that name it (``finding_needs``): a
# month a series did not report has no row for the panel to join another record to.

#: a partner's record is looked for this many months around a finding: held there, its
#: silence in the finding's months says something
PARTNER_REACH = 12

_MIRROR_MONTHS_SQL = f"""
    WITH asked AS (
        SELECT f.*, CAST(unnest(generate_series(f.first, f.last, INTERVAL 1 MONTH)) AS DATE)
               AS period
        FROM finding_months f
    ),
    m AS MATERIALIZED ({{current}}),
    -- each asked month beside the partner's rows that cover it: a month's own, or a
    -- combined figure (January–February) over it
    cells AS (
        SELECT a.i, a.period AS month, m.period, m.period_months, m.value, m.currency,
               CASE WHEN m.currency = a.currency THEN m.value
                    ELSE m.value / {{rate_m}} * {{rate_o}} END AS in_own
        FROM asked a
        JOIN m
          ON m.reporter = a.reporter AND m.partner = a.partner AND m.flow = a.flow
         AND m.classification = a.classification AND m.commodity = a.commodity
         AND m.breakdown = a.breakdown AND m.freq = a.freq
         AND m.period <= a.period
         AND a.period < m.period + to_months(CAST(m.period_months AS INTEGER))
        LEFT JOIN rates rm ON rm.currency = m.currency AND rm.period = m.period
        LEFT JOIN rates ro ON ro.currency = a.currency AND ro.period = m.period
    ),
    months AS (
        SELECT i, count(DISTINCT month) FILTER (WHERE value > 0) AS traded,
               count(DISTINCT month) FILTER (WHERE value IS NULL) AS withheld,
               bool_or(period_months > 1 AND value > 0) AS combined
        FROM cells GROUP BY i
    ),
    -- each of the partner's rows once, for the share of its months that are asked (a
    -- January–February figure counts half where only February is)
    covering AS (
        SELECT i, period, period_months, value, currency, in_own, count(*) AS covered
        FROM cells WHERE value > 0
        GROUP BY i, period, period_months, value, currency, in_own
    ),
    figures AS (
        SELECT i, sum(value * covered / period_months) AS value, min(currency) AS currency,
               count(DISTINCT currency) AS currencies,
               CASE WHEN count(in_own) = count(*)
                    THEN sum(in_own * covered / period_months) END AS in_own
        FROM covering GROUP BY i
    ),
    -- the partner's record around the finding (its months left out): how many months it
    -- has trade in, and its usual month (in the finding's currency)
    around AS (
        SELECT a.i,
               count(DISTINCT m.period) FILTER (WHERE m.value > 0) AS months,
               median(CASE WHEN m.currency = a.currency THEN m.value
                           ELSE m.value / {{rate_m}} * {{rate_o}} END)
                   FILTER (WHERE m.value > 0 AND m.period_months = 1) AS usual
        FROM (SELECT DISTINCT i, {_SERIES_COLUMNS}, currency, first, last FROM asked) a
        JOIN m
          ON m.reporter = a.reporter AND m.partner = a.partner AND m.flow = a.flow
         AND m.classification = a.classification AND m.commodity = a.commodity
         AND m.breakdown = a.breakdown AND m.freq = a.freq AND m.value IS NOT NULL
         AND m.period BETWEEN a.first - INTERVAL {PARTNER_REACH} MONTH
                          AND a.last + INTERVAL {PARTNER_REACH} MONTH
         AND (m.period < a.first OR m.period > a.last)
        LEFT JOIN rates rm ON rm.currency = m.currency AND rm.period = m.period
        LEFT JOIN rates ro ON ro.currency = a.currency AND ro.period = m.period
        GROUP BY a.i
    )
    SELECT around.i, coalesce(months.traded, 0) AS months,
           coalesce(months.withheld, 0) AS withheld, coalesce(months.combined, false) AS combined,
           figures.value, figures.currency, figures.currencies, figures.in_own,
           around.months AS around, around.usual
    FROM around LEFT JOIN months USING (i) LEFT JOIN figures USING (i)
"""


def mirror_months(found, con) -> dict:
    """What the partner recorded of the same flow in each finding's months (``period`` to
    ``period_end``, monthly series between two countries), from the store's current view,
    by the finding's index in ``found``: ``partner_months`` (months with trade in its
    record: a figure above zero, its own or a combined January–February figure over it,
    ``partner_combined``), ``partner_withheld`` (months it lists without a value), and
    ``partner_value`` (the sum of those figures, each once and a combined one for the share
    of its months that are the finding's, in the finding's currency at the store's rates,
    or in the partner's own, ``partner_currency``, where a rate is missing; none where its
    figures are in several currencies and one has no rate); and around the finding
    (within ``PARTNER_REACH`` months, its own months left out) ``partner_around`` (months
    with trade in the partner's record) and ``partner_usual`` (its median month there, in
    the finding's currency): what a reading of the partner's figures or silence weighs them
    by. Only findings whose partner's record holds rows within ``PARTNER_REACH`` months of
    them get an entry: elsewhere its silence says nothing (the store may not hold it)."""
    freq = found["freq"] if "freq" in found else pd.Series("M", index=found.index)
    partner = found["partner"].astype(str)
    mine = found[(partner != WORLD) & (partner.str.len() == 3) & (freq == "M")]
    if mine.empty:
        return {}
    # one row per finding, the partner's side of its key; the SQL spreads it over its months
    frame = pd.DataFrame(
        {
            "i": mine.index,
            "reporter": mine["partner"].to_numpy(),
            "partner": mine["reporter"].to_numpy(),
            "flow": mine["flow"].map(MIRROR_FLOW).fillna(mine["flow"]).to_numpy(),
            "classification": mine["classification"].to_numpy(),
            "commodity": mine["commodity"].to_numpy(),
            "breakdown": mine["breakdown"].to_numpy(),
            "freq": "M",
            "currency": mine["currency"].to_numpy(),
            "first": pd.to_datetime(mine["period"] + "-01").dt.date.to_numpy(),
            "last": pd.to_datetime(mine["period_end"] + "-01").dt.date.to_numpy(),
        }
    )
    con.register("finding_months", frame)
    try:
        sql = _MIRROR_MONTHS_SQL.format(
            current=current_rows_sql("finding_months"),
            rate_m=usd_rate_sql("m", "rm"),
            rate_o=usd_rate_sql("a", "ro"),
        )
        rows = con.execute(sql).df()
    finally:
        con.unregister("finding_months")
    return {int(r.i): _partner_record(r) for r in rows.itertuples()}


def _partner_record(r) -> dict:
    record = {"partner_months": int(r.months), "partner_around": int(r.around)}
    if pd.notna(r.usual):
        record["partner_usual"] = round(float(r.usual), 2)
    if r.withheld:
        record["partner_withheld"] = int(r.withheld)
    if not r.months:
        return record
    if r.combined:  # some of it from a figure over several months (January–February)
        record["partner_combined"] = True
    if pd.notna(r.in_own):  # every figure converted
        record["partner_value"] = round(float(r.in_own), 2)
    elif int(r.currencies) == 1:
        record["partner_value"] = round(float(r.value), 2)
        record["partner_currency"] = str(r.currency)
    return record


#: a partner of the same line counts as trading around a finding where it has trade in at
#: least ``SIBLING_MONTHS - 1`` of the ``SIBLING_MONTHS`` months on each side of it
SIBLING_MONTHS = 3
#: a partner's habit (the share of months it trades in) is read over this many months before
SIBLING_HABIT = 12
#: below this share of its usual month, a partner's figure is next to nothing
SIBLING_NOTHING = 0.1
#: partners named in the evidence, the largest first
SIBLING_NAMED = 3

_SIBLING_MONTHS_SQL = f"""
    WITH asked AS (SELECT * FROM finding_siblings),
    m AS MATERIALIZED ({{current}}),
    -- every partner's months (a combined January–February figure spread over its months)
    -- within reach of a finding on the same line
    months AS (
        SELECT a.i, m.partner, m.value / m.period_months AS value,
               CAST(unnest(generate_series(m.period,
                                           m.period + to_months(m.period_months - 1),
                                           INTERVAL 1 MONTH)) AS DATE) AS month,
               a.first, a.last, a.open_end
        FROM asked a
        JOIN m
          ON m.reporter = a.reporter AND m.flow = a.flow
         AND m.classification = a.classification AND m.commodity = a.commodity
         AND m.breakdown = a.breakdown AND m.freq = a.freq
         AND m.partner <> a.partner AND m.partner <> '{WORLD}' AND length(m.partner) = 3
         AND m.period <= a.last + INTERVAL {SIBLING_MONTHS} MONTH
         AND m.period + to_months(m.period_months) > a.first - INTERVAL {SIBLING_HABIT} MONTH
        WHERE m.value IS NOT NULL
    ),
    -- the partners trading around each finding, and their usual month there
    usual AS (
        SELECT i, partner,
               count(DISTINCT month) FILTER (WHERE value > 0 AND month < first
                   AND month >= first - INTERVAL {SIBLING_MONTHS} MONTH) AS before,
               count(DISTINCT month) FILTER (WHERE value > 0 AND month > last
                   AND month <= last + INTERVAL {SIBLING_MONTHS} MONTH) AS after,
               median(value) FILTER (WHERE value > 0 AND (month < first OR month > last))
                   AS usual
        FROM months GROUP BY i, partner
        HAVING before >= {SIBLING_MONTHS - 1}
           AND (after >= {SIBLING_MONTHS - 1} OR any_value(open_end))
    ),
    -- how many of the finding's months each of them has trade in (not next to nothing),
    -- and its habit: the share of its months with trade in the year before
    held AS (
        SELECT u.i, u.partner, u.usual,
               count(DISTINCT m.month) FILTER (WHERE m.month BETWEEN m.first AND m.last
                   AND m.value >= {SIBLING_NOTHING} * u.usual) AS held,
               any_value(datediff('month', m.first, m.last)) + 1 AS n,
               count(DISTINCT m.month) FILTER (WHERE m.month BETWEEN m.first AND least(m.last,
                   m.first + INTERVAL {SIBLING_MONTHS - 1} MONTH)
                   AND m.value >= {SIBLING_NOTHING} * u.usual) AS held_first,
               least(any_value(datediff('month', m.first, m.last)) + 1, {SIBLING_MONTHS})
                   AS n_first,
               count(DISTINCT m.month) FILTER (WHERE m.month BETWEEN m.first + to_months(m.edge)
                   AND m.last - to_months(m.edge)
                   AND m.value >= {SIBLING_NOTHING} * u.usual) AS held_heart,
               any_value(datediff('month', m.first, m.last)) + 1 - 2 * any_value(m.edge)
                   AS n_heart,
               count(DISTINCT m.month) FILTER (WHERE m.month < m.first
                   AND m.value >= {SIBLING_NOTHING} * u.usual)
               / greatest({SIBLING_MONTHS},
                          any_value(datediff('month', greatest(first_month, m.first
                              - INTERVAL {SIBLING_HABIT} MONTH), m.first))) AS habit
        FROM (SELECT *, min(month) FILTER (WHERE month < first) OVER (PARTITION BY i, partner)
                            AS first_month,
                     -- the gap's edges: its heart is the middle half of it
                     CAST((datediff('month', first, last) + 1) // 4 AS INTEGER) AS edge
              FROM months) m
        JOIN usual u USING (i, partner)
        GROUP BY u.i, u.partner, u.usual
    ),
    -- silent: trade in fewer than half the months its habit gives, over the finding and
    -- over its first months (a partner trading every other month is not silent in a year it
    -- trades in four months of eleven; one that fell silent five months into a gap did not
    -- stop with it); and over its heart alone, the middle half of it (a season's partners
    -- trade at its ends: India's and Viet Nam's cashews in August–September and March)
    judged AS (SELECT *, 2 * held < n * least(habit, 1.0)
                         AND 2 * held_first < n_first * least(habit, 1.0) AS quiet,
                      2 * held_heart < n_heart * least(habit, 1.0) AS quiet_heart FROM held)
    SELECT i, count(*) AS trading,
           count(*) FILTER (WHERE held = 0) AS silent_all,
           count(*) FILTER (WHERE quiet) AS silent,
           count(*) FILTER (WHERE quiet_heart) AS silent_heart,
           count(*) FILTER (WHERE held = n) AS held_all,
           list(partner ORDER BY usual DESC, partner) FILTER (WHERE quiet) AS named,
           coalesce(sum(usual) FILTER (WHERE quiet), 0) / sum(usual) AS silent_share,
           list(partner ORDER BY usual DESC, partner) FILTER (WHERE NOT quiet) AS going
    FROM judged
    GROUP BY i
"""


def _evidence(found: pd.DataFrame) -> list:
    """Each finding's evidence (None for a frame without the column)."""
    return list(found["evidence"]) if "evidence" in found else [None] * len(found)


def sibling_months(found, con) -> dict:
    """What the reporter recorded of the same line with its other partners in each
    finding's months, by the finding's index in ``found``: ``siblings_trading`` (the other
    partners it had trade with in at least 2 of the 3 months on each side of the finding,
    before it where the series stopped there, ``open_end``; the world and areas aside),
    ``siblings_silent`` (those of them with trade, not next to nothing (below a tenth of
    their usual month), in fewer than half the months their habit gives (their share of
    months with trade in the 12 before), over the finding and over its first 3 months: a
    partner trading every other month is not silent in a year it trades in four months of
    eleven, nor one that fell silent five months into a gap (Hungary's exports of CN
    85235910 to Germany, QA: "4 of the 5 other partners … have no figure" had counted both);
    ``siblings_silent_all``: in every one; ``siblings_silent_heart``: so over the middle
    half of the finding's months alone, whatever its first months, where a season's end
    and start lie: ``gap``'s off season), ``siblings_held`` (those with trade in every
    month of it), ``siblings_named`` (the largest of the silent, up to three),
    ``siblings_going`` (the largest of the others) and ``siblings_silent_share`` (the silent
    ones' share of the trading partners' usual months, summed). Many partners silent at
    once point away from the pair: the line stopped on the reporter's side, or the months
    are missing from its record. Only findings on a country partner with a partner trading around them get an
    entry (the world's partners are its parts)."""
    freq = found["freq"] if "freq" in found else pd.Series("M", index=found.index)
    partner = found["partner"].astype(str)
    # the world's partners are its parts, silent with it by construction: no reading
    mine = found[(freq == "M") & (partner != WORLD) & (partner.str.len() == 3)]
    if mine.empty:
        return {}
    frame = pd.DataFrame(
        {
            "i": mine.index,
            **{c: mine[c].to_numpy() for c in ("reporter", "partner", "flow")},
            **{c: mine[c].to_numpy() for c in ("classification", "commodity", "breakdown")},
            "freq": "M",
            "first": pd.to_datetime(mine["period"] + "-01").dt.date.to_numpy(),
            "last": pd.to_datetime(mine["period_end"] + "-01").dt.date.to_numpy(),
            # a series that stopped has no months after it: its partners are read before it
            "open_end": [bool((ev or {}).get("open_end")) for ev in _evidence(mine)],
        }
    )
    con.register("finding_siblings", frame)
    try:
        lines = "reporter, flow, classification, commodity, breakdown, freq"
        source = (
            f"observations o JOIN (SELECT DISTINCT {lines} FROM finding_siblings) k USING ({lines})"
        )
        rows = con.execute(_SIBLING_MONTHS_SQL.format(current=latest_rows_sql(source))).df()
    finally:
        con.unregister("finding_siblings")
    return {
        int(r.i): {
            "siblings_trading": int(r.trading),
            "siblings_silent": int(r.silent),
            "siblings_silent_all": int(r.silent_all),
            "siblings_silent_heart": int(r.silent_heart),
            "siblings_held": int(r.held_all),
            "siblings_silent_share": round(float(r.silent_share), 3),
            **({"siblings_named": list(r.named)[:SIBLING_NAMED]} if r.silent else {}),
            **({"siblings_going": list(r.going)[:SIBLING_NAMED]} if r.trading > r.silent else {}),
        }
        for r in rows.itertuples()
    }


# -- months after a series' last report: what no row holds -------------------------------

#: the months before a series' last report its usual trade is read from
STOP_WINDOW = 12
#: a month of a reporter's record holding less than this share of the series of its usual
#: month is not yet complete, and no stop runs into it
COMPLETE_SHARE = 0.5
#: the last figures with trade before a stop whose median is its recent level
STOP_RECENT = 6


def _record_span_sql(rows: str, month: str, keys: str, partial: int | None = None) -> str:
    """CTEs ending in ``record_spans``: for each record (``keys`` of the relation ``rows``,
    its months the column ``month``), its first month (``record_start``) and its last
    complete one (``record_end``): a month holding at least ``COMPLETE_SHARE`` of the
    series of its usual month over the ``STOP_WINDOW`` months before (a source publishes
    some partners first: Comext's December 2025 held China's lines alone, 2,243 where 7,800
    are usual). With ``partial``, only the record's latest ``partial`` months may be
    incomplete: a drop in coverage before them is a change of the record, not a late
    release, and it counts."""
    recent = "" if partial is None else f"OR month <= latest - INTERVAL {int(partial)} MONTH"
    return f"""
    record_months AS (SELECT {keys}, {month} AS month, count(*) AS series FROM {rows} GROUP BY ALL),
    record_usual AS (
        SELECT *, median(series) OVER (
                   PARTITION BY {keys} ORDER BY month
                   ROWS BETWEEN {STOP_WINDOW} PRECEDING AND 1 PRECEDING) AS usual,
               max(month) OVER (PARTITION BY {keys}) AS latest
        FROM record_months
    ),
    record_spans AS (
        SELECT {keys}, min(month) AS record_start,
               max(month) FILTER (WHERE usual IS NULL OR series >= {COMPLETE_SHARE} * usual
                   {recent}) AS record_end
        FROM record_usual GROUP BY ALL
    )"""


_SCANNED_SQL = f"""
    WITH cur AS NOT MATERIALIZED (
        SELECT {_SERIES_COLUMNS}, period, period_months, value, currency,
               commodity = 'TOTAL' AS total, period + to_months(period_months - 1) AS through
        FROM {{current}} WHERE freq = 'M'
    ),
    scanned AS (SELECT * FROM cur WHERE {{where}}),
"""

_ENDED_SQL = (
    _SCANNED_SQL
    + f"""
    -- how far the reporter's record of a flow runs (its totals apart from its products,
    -- which may come from another table)
    {_record_span_sql("cur", "through", "reporter, flow, classification, total")},
    spans AS (
        SELECT {_SERIES_COLUMNS}, total, arg_max(currency, period) AS currency,
               min(period) AS first, max(through) AS last
        FROM scanned GROUP BY ALL
    )
    SELECT s.*, r.record_end, r.record_start
    FROM spans s JOIN record_spans r USING (reporter, flow, classification, total)
    WHERE r.record_end >= s.last + INTERVAL {{min_months}} MONTH
"""
)

# The series that stopped (``_ENDED_SQL``, a few per thousand) are read back by a second
# query that joins them as a registered frame, and their rows once: DuckDB's estimate of
# each join with the store was millions of rows, and it built its hash tables on every row
# of the store instead (most of this context's time).
_STOPPED_SQL = (
    _SCANNED_SQL
    + f"""
    stopped_rows AS MATERIALIZED (
        SELECT e.*, c.period, c.period_months, c.value, c.through
        FROM stop_ended e JOIN scanned c USING ({_SERIES_COLUMNS})
    ),
    stopped AS (
        SELECT reporter, partner, flow, classification, commodity, breakdown,
               freq, currency, first, last, record_end, record_start,
               count(DISTINCT period) FILTER (WHERE value > 0
                   AND period > last - INTERVAL {STOP_WINDOW} MONTH) AS traded_before,
               count(DISTINCT period) FILTER (WHERE value > 0) AS traded_all,
               median(value / period_months) FILTER (WHERE value > 0
                   AND period > last - INTERVAL {STOP_WINDOW} MONTH) AS level,
               count(*) FILTER (WHERE value IS NULL
                   AND period > last - INTERVAL {STOP_WINDOW} MONTH) AS withheld
        FROM stopped_rows
        GROUP BY ALL
    ),
    -- its last month of an ordinary size (``small_share`` of its usual month or more) and
    -- the small figures of its window (the caller keeps those after that month)
    sized AS (
        SELECT s.*, c.through, c.value / c.period_months AS monthly,
               c.value / c.period_months >= {{small_share}} * s.level AS ordinary,
               row_number() OVER (
                   PARTITION BY {_SERIES_COLUMNS} ORDER BY c.through DESC
               ) AS recent
        FROM stopped s JOIN stopped_rows c USING ({_SERIES_COLUMNS})
        WHERE c.value > 0 AND c.period > s.last - INTERVAL {STOP_WINDOW} MONTH
    )
    SELECT * EXCLUDE (through, monthly, ordinary, recent),
           median(monthly) FILTER (WHERE recent <= {STOP_RECENT}) AS recent_level,
           max(through) FILTER (WHERE ordinary) AS last_ordinary,
           arg_max(monthly, through) FILTER (WHERE ordinary) AS last_ordinary_value,
           list(through ORDER BY through) FILTER (WHERE NOT ordinary) AS small_months,
           list(monthly ORDER BY through) FILTER (WHERE NOT ordinary) AS small_values
    FROM sized GROUP BY ALL
"""
)
# The store's rows are read afresh by each part (NOT MATERIALIZED): DuckDB streams an
# aggregate within its memory budget, where a materialised copy of every row took 3.4 GB at
# 10^7 rows. Only the stopped series' rows are kept (``stopped_rows``).


def stopped_series(
    con, filters: Mapping, min_months: int, small_share: float = 0.0
) -> pd.DataFrame:
    """The scanned series (``filters``, as the engines select them) whose last month in the
    store's current view is at least ``min_months`` before the last complete month the
    reporter's record of the same flow holds (``record_end``: over the reporter's monthly
    series of that flow and classification, its totals apart from its products; complete
    where it holds at least ``COMPLETE_SHARE`` of the series of its usual month over the
    year before): a series that stopped while its record went on. With each: its first and
    last month, the record's first (``record_start``), its months
    with trade in the ``STOP_WINDOW`` months up to its last (``traded_before``) and over
    its span (``traded_all``), their median month (``level``, in the series' currency),
    its figures listed without a value there (``withheld``), the median of its last
    ``STOP_RECENT`` figures with trade (``recent_level``), its last month of at least
    ``small_share`` of that level (``last_ordinary``, and its value) and the months and
    values of the window's smaller figures (``small_months``, ``small_values``)."""
    from tradesentry.engines.local import series_filter_sql

    where, params = series_filter_sql(filters)
    # with one release the current view is the table itself, without the view's window
    releases = con.execute("SELECT count(*) FROM releases").fetchall()[0][0]
    current = "observations" if releases <= 1 else "current_observations"
    ended_sql = _ENDED_SQL.format(where=where, current=current, min_months=int(min_months))
    ended = con.sql(ended_sql, params=params).to_arrow_table()
    con.register("stop_ended", ended)
    try:
        sql = _STOPPED_SQL.format(where=where, current=current, small_share=float(small_share))
        return con.execute(sql, params).df()
    finally:
        con.unregister("stop_ended")


# -- the reporter's other series around a change: one series, or the whole record ----------

#: reported months before a change's first month, and from it, whose medians say whether
#: another series of the reporter moved with it
ALONG_BEFORE, ALONG_AFTER = 6, 3
#: the kinds of a single month, read in that month alone (``ALONG_AFTER`` is a change's)
ALONG_SINGLE_MONTH = ("spike", "dip", "implausible")
#: moved the same way: to this factor's inverse or less (a fall), or this factor or more
ALONG_FACTOR = 2.0
#: the same month of other years, whose moves say what the season alone does
ALONG_CONTROLS = (-12, 12)
#: series that must trade around a month of another year for its moves to count as usual
ALONG_MIN_TRADING = 5
#: a record's latest months that may be partial (a release holding some partners first);
#: an incomplete month earlier than these is a change of the record, and is read
ALONG_PARTIAL = 2
#: the goods of the moved series named, the most common first
ALONG_GOODS = 3

_ALONG_CELLS_SQL = f"""
        SELECT o.reporter, o.flow, o.partner, o.classification, o.commodity, o.breakdown,
               o.period, o.value
        FROM ({{current}}) o
        WHERE o.freq = 'M' AND o.period_months = 1 AND o.value > 0
          AND o.partner <> '{WORLD}' AND length(o.partner) = 3 AND length(o.commodity) > 2
          -- a total, a chapter or a named group ("RARE EARTHS") sums others: only codes
          -- with a digit are counted (``schema.many_goods_code``)
          AND regexp_matches(o.commodity, '[0-9]')"""

_REPORTER_ALONG_SQL = f"""
    WITH asked AS (
        SELECT f.*, l.lag, f.first + to_months(l.lag) AS month
        FROM finding_along f
        CROSS JOIN (SELECT unnest([{{lags}}]) AS lag) l
    ),
    -- the reporter's series of the flow by country and product: the world, totals and
    -- chapters are sums of them
    cells AS ({_ALONG_CELLS_SQL}),
    -- a month is read only where the record holds its months after it, complete: beyond
    -- its last, every series would read as fallen, and so in a last month that holds only
    -- some of its series yet. Only the record's latest months may be partial: a drop in
    -- coverage before them is a change of the record, which the read is there to tell
    {_record_span_sql("cells", "period", "reporter, flow", partial=ALONG_PARTIAL)},
    around AS (
        SELECT a.c, a.lag, any_value(a.direction) AS direction, c.commodity,
               median(c.value) FILTER (WHERE c.period < a.month) AS before,
               count(*) FILTER (WHERE c.period < a.month) AS n_before,
               -- a month without a figure is a month without trade: zeros for them
               list_aggregate(list_concat(
                   coalesce(list(c.value) FILTER (WHERE c.period >= a.month), []),
                   list_resize([]::DOUBLE[],
                               any_value(a.span) - count(*) FILTER (WHERE c.period >= a.month),
                               0.0)
               ), 'median') AS after
        FROM asked a JOIN record_spans e USING (reporter, flow)
        JOIN cells c ON c.reporter = a.reporter AND c.flow = a.flow
         AND c.period >= a.month - INTERVAL {ALONG_BEFORE} MONTH
         AND c.period < a.month + to_months(a.span)
        WHERE a.month + to_months(a.span - 1) <= e.record_end
        GROUP BY a.c, a.lag, c.partner, c.classification, c.commodity, c.breakdown
        HAVING n_before >= 3
    )
    SELECT c, lag, count(*) AS trading,
           count(*) FILTER (WHERE moved) AS moved,
           list(commodity) FILTER (WHERE moved) AS moved_goods,
           -- their trade: a fall's before it, a rise's after it (a record's cells of a few
           -- euros that doubled are not its trade moving)
           sum(weight) FILTER (WHERE moved) / nullif(sum(weight), 0) AS moved_value,
           -- the record's own trade, after against before: series that moved the other way
           -- can hold as much (Estonia's imports, January 2025: 84 of 120 series halved,
           -- 16 doubled, the total ×1.11)
           sum(after) / nullif(sum(before), 0) AS total_ratio
    FROM (
        SELECT *, (direction < 0 AND after <= before / {ALONG_FACTOR})
                  OR (direction > 0 AND after >= before * {ALONG_FACTOR}) AS moved,
               CASE WHEN direction < 0 THEN before ELSE greatest(after, before) END AS weight
        FROM around
    )
    GROUP BY c, lag
"""


def reporter_along(found, con) -> dict:
    """How many of the reporter's series of the same flow moved the same way as each
    finding, by the finding's index in ``found`` (findings of monthly series: level
    shifts, their ``direction`` in the evidence, and single months, up where the figure
    is above its expectation, down where below; ``along_direction`` in the record), read
    once per record, month and direction (a record that moved as a whole shows as several
    changes, dips and figures near zero at once), where the record's months after the
    month are complete (its latest ``ALONG_PARTIAL`` months may be partial), and kept
    where the month could have moved as a whole (``along.could_have_moved``; only then
    are other years read): of its series by country and product with at least 3 months with trade in the
    ``ALONG_BEFORE`` months before the month (``along_trading``), those whose median of the
    ``ALONG_AFTER`` months from it (a month without a figure counting as nothing) is half
    that of the months before or less, for a fall, or twice it or more, for a rise
    (``along_moved``, the changed series among them; the commonest goods in
    ``along_goods``), their share of the record's trade (``along_value``: before the
    month for a fall, after it for a rise), and all those series' trade after against
    before (``along_total``); and the same shares in the same month of the
    years before and after (``ALONG_CONTROLS``), where ``ALONG_MIN_TRADING`` series traded
    (``along_usual``, ``along_usual_value``, the mean over those months, and
    ``along_usual_lags``). Many series of one record moving together in one month point at
    the record (its coverage, its processing, a late release) or at a measure or shock,
    more than at one trade: 44 of the 77 series of China's critical-mineral exports fell to
    half or less from December 2023, 62 % of their trade, when its graphite export controls
    began."""
    from tradesentry.detectors.along import could_have_moved

    freq = found["freq"] if "freq" in found else pd.Series("M", index=found.index)
    stated = found["evidence"].map(
        lambda ev: {"down": -1, "up": 1}.get((ev or {}).get("direction"), 0)
    )
    gap = pd.to_numeric(found["observed"], errors="coerce") - pd.to_numeric(
        found["expected"], errors="coerce"
    )
    direction = stated.where(stated != 0, (gap > 0).astype(int) - (gap < 0).astype(int))
    # a single month is read in its month alone: over the months from it, a month that
    # rose at once in five of a record's series (the Netherlands' exports of CN 85235910,
    # December 2023) never registered
    span = np.where(found["kind"].isin(ALONG_SINGLE_MONTH), 1, ALONG_AFTER)
    keys = ["reporter", "flow", "period", "direction", "span"]
    # (assigned before the cut: a column set on a frame of no rows takes the rows given)
    mine = found.assign(direction=direction, span=span)[(freq == "M") & (direction != 0)]
    if mine.empty:
        return {}
    # one read per (reporter, flow, month, direction), however many findings share it
    combo = mine.groupby(keys, sort=False).ngroup()
    combos = mine[keys].drop_duplicates()
    frame = combos.assign(
        c=combo[combos.index].to_numpy(), first=pd.to_datetime(combos["period"] + "-01").dt.date
    ).drop(columns="period")
    directions = dict(zip(frame["c"].astype(int), frame["direction"].astype(int), strict=True))
    # the records whose trade moved the finding's way at all, then the month itself; the
    # other years only where it could have moved as a whole (``along.could_have_moved``)
    frame = frame[_record_moved(con, frame)]
    if frame.empty:
        return {}
    own = _along_rows(con, frame, (0,))
    fell = own["c"].map(directions) < 0
    could = own[could_have_moved(own["trading"], own["moved"], own["moved_value"],
                                 own["total_ratio"], fell)]  # fmt: skip
    if could.empty:
        return {}
    controls = _along_rows(con, frame[frame["c"].isin(could["c"])], ALONG_CONTROLS)
    rows = pd.concat([could, controls], ignore_index=True)
    by_combo: dict[int, dict] = {}
    for c, group in rows.groupby("c"):
        own = group[group["lag"] == 0]
        record = {
            "along_direction": "down" if directions[int(c)] < 0 else "up",
            "along_trading": int(own["trading"].iat[0]),
            "along_moved": int(own["moved"].iat[0]),
            "along_value": round(float(own["moved_value"].fillna(0.0).iat[0]), 3),
            "along_total": _rounded(own["total_ratio"].iat[0]),
            # the commonest goods among them: one measure on a few products, or the record
            "along_goods": _most_common(own["moved_goods"].iat[0], ALONG_GOODS),
        }
        controls = group[(group["lag"] != 0) & (group["trading"] >= ALONG_MIN_TRADING)]
        if len(controls):
            usual = (controls["moved"] / controls["trading"]).mean()
            record["along_usual"] = round(float(usual), 3)
            record["along_usual_value"] = round(
                float(controls["moved_value"].fillna(0.0).mean()), 3
            )
            record["along_usual_lags"] = sorted(int(v) for v in controls["lag"])
        by_combo[int(c)] = record
    return {int(i): by_combo[int(c)] for i, c in combo.items() if int(c) in by_combo}


def _along_rows(con, frame: pd.DataFrame, lags: tuple[int, ...]) -> pd.DataFrame:
    """``_REPORTER_ALONG_SQL`` for the moves of ``frame`` (one row each: ``c``, reporter,
    flow, direction, first month) at each lag of ``lags`` from their month."""
    con.register("finding_along", frame)
    try:
        sql = _REPORTER_ALONG_SQL.format(
            current=_asked_current(con), lags=", ".join(map(str, lags))
        )
        return con.execute(sql).df()
    finally:
        con.unregister("finding_along")


def _asked_current(con) -> str:
    """The current view of the flows ``finding_along`` asks for only, as ``current_rows_sql``
    of series; with one release, the rows themselves (the view's window over every row of
    those flows was most of the read)."""
    asked = (
        "observations o SEMI JOIN (SELECT DISTINCT reporter, flow FROM finding_along) k "
        "USING (reporter, flow)"
    )
    releases = con.execute("SELECT count(*) FROM releases").fetchone()[0]
    return f"SELECT o.* FROM {asked}" if releases <= 1 else latest_rows_sql(asked)


#: a record's trade, the median of the months from a finding's against that of the
#: months before, moved the finding's way by at least this factor for the record to be
#: read (``_record_moved``): the words ask ``along.ALONG_TOTAL`` of the series read, and
#: the record's whole trade is a looser bar than theirs
ALONG_RECORD_MOVED = 1.1


def _record_moved(con, frame: pd.DataFrame) -> np.ndarray:
    """Per move of ``frame``, whether its record's trade (the sum of its cells a month,
    ``_ALONG_CELLS_SQL``) moved its way by ``ALONG_RECORD_MOVED`` or more: the median of
    the ``ALONG_AFTER`` months from it (a month without a figure counting as nothing)
    against that of the ``ALONG_BEFORE`` months before. One sum a record and month, where
    reading every series around every finding's month took 3.7 s of a scan of 10^7
    generated rows whose records never moved."""
    con.register("finding_along", frame)
    try:
        cells = _ALONG_CELLS_SQL.format(current=_asked_current(con))
        totals = con.execute(
            f"SELECT reporter, flow, period, sum(value) AS total FROM ({cells}) GROUP BY ALL"
        ).df()
    finally:
        con.unregister("finding_along")
    if totals.empty:
        return np.zeros(len(frame), dtype=bool)
    # records and months as grid positions: a month's number is year × 12 + month
    months = _month_numbers(totals["period"])
    first = months.min()
    n = int(months.max() - first) + 1
    keys = pd.MultiIndex.from_frame(totals[["reporter", "flow"]])
    records = keys.unique()
    grid = np.full((len(records), n), np.nan)
    grid[records.get_indexer(keys), months - first] = totals["total"].to_numpy(float)
    cols = _month_numbers(frame["first"]) - first
    r = records.get_indexer(pd.MultiIndex.from_frame(frame[["reporter", "flow"]]))
    from tradesentry.detectors.robust import nanmedian

    ok = (r >= 0) & (cols >= 0) & (cols < n)
    r, cols = np.where(ok, r, 0), np.where(ok, cols, 0)
    # the months before (those with a figure) and from the month (one without a figure
    # counting as nothing, as in the series read; none past the record's last)
    before_at = cols[:, None] + np.arange(-ALONG_BEFORE, 0)
    after_at = cols[:, None] + np.arange(ALONG_AFTER)
    within = np.arange(ALONG_AFTER)[None, :] < frame["span"].to_numpy()[:, None]
    before = np.where(before_at >= 0, grid[r[:, None], np.clip(before_at, 0, n - 1)], np.nan)
    after = np.where(
        (after_at < n) & within,
        np.nan_to_num(grid[r[:, None], np.clip(after_at, 0, n - 1)]),
        np.nan,
    )
    (before, _), (after, _) = nanmedian(before), nanmedian(after)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = after / before
    fell = frame["direction"].to_numpy() < 0
    moved = np.where(fell, ratio <= 1 / ALONG_RECORD_MOVED, ratio >= ALONG_RECORD_MOVED)
    return ok & moved & np.isfinite(ratio)


def _month_numbers(dates: pd.Series) -> np.ndarray:
    """Each date's month as year × 12 + month, for positions on a monthly grid."""
    stamps = pd.to_datetime(dates)
    return (stamps.dt.year * 12 + stamps.dt.month).to_numpy(np.int64)


def _rounded(value) -> float | None:
    """A ratio to four significant figures, None where there is none."""
    return None if value is None or pd.isna(value) else float(f"{float(value):.4g}")


def _most_common(values, n: int) -> list[list]:
    """The ``n`` most common of ``values`` with their counts, most first (ties by value);
    none where ``values`` is missing (SQL's NULL list where no series moved)."""
    items = [] if values is None or values is pd.NA else list(values)
    counts = pd.Series(items, dtype=object).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:n]
    return [[str(k), int(v)] for k, v in ordered]


#: the context of findings a detector may name in ``finding_needs``, by name
FINDING_CONTEXT = {
    "mirror_months": mirror_months,
    "sibling_months": sibling_months,
    "reporter_along": reporter_along,
}
