"""Revisions: what each release changed in the figures of the ones before it.

``revisions`` lists, cell by cell, every figure a release changed against the previous
release that reported the same cell (release order: publication date, then ingestion).
``release_diff`` compares two releases as wholes: cells revised, unchanged, appeared and
vanished, and the months restated across the board. ``revisions`` uses the revision
detector's tolerance (a change counts when it exceeds both the relative and the absolute
threshold); ``release_diff`` counts every change of a figure as revised, as the digest
does, and says how many of them are within that tolerance (``small``): a diff that called
a change of $24.6M "unchanged" because it is 0.3 % of the figure would hide it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tradesentry.errors import InputError
from tradesentry.schema import OBSERVATION_KEY, SERIES_KEY
from tradesentry.text import period_label

#: the bar a revision must pass, relative and in currency units (both): the revision
#: detector's defaults, so that scans, `api.revisions` and `releases diff` agree
TOLERANCE = 0.005
MIN_CHANGE = 1000.0
#: a month counts as restated when at least this share of its common cells was revised…
RESTATED_SHARE = 0.5
#: …and at least this many cells.
RESTATED_MIN_CELLS = 5

_KEY = ", ".join(OBSERVATION_KEY)


def _changed_sql(new: str, old: str) -> str:
    """SQL condition: the figure moved beyond both tolerances (or was suppressed/disclosed)."""
    return (
        f"(({new} IS NULL) <> ({old} IS NULL) OR (abs({new} - {old}) > ? "
        f"AND ({old} = 0 OR abs({new} - {old}) / abs({old}) > ?)))"
    )


def revisions(
    con,
    *,
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    flow: str | list[str] | None = None,
    commodity: str | list[str] | None = None,
    classification: str | None = None,
    breakdown: str | None = None,
    freq: str | None = None,
    tolerance: float = TOLERANCE,
    min_change: float = MIN_CHANGE,
) -> pd.DataFrame:
    """Every figure a release changed against the release before it that reported the cell.

    One row per revised cell and release: the series, the period, both values, the change
    (absolute and relative), both release ids and their publication dates. A filter is a
    code or a list of codes (values bound, never spliced into the SQL); ``classification``,
    ``breakdown`` and ``freq`` pick one series among those a code names (HS and H5, a part
    of the flow, annual beside monthly), as the store keeps them.
    """
    clauses, params = ["true"], []
    for column, value in (
        ("reporter", reporter),
        ("partner", partner),
        ("flow", flow),
        ("commodity", commodity),
        ("classification", classification),
        ("breakdown", breakdown),
        ("freq", freq),
    ):
        if isinstance(value, str):
            clauses.append(f"o.{column} = ?")
            params.append(value)
        elif value is not None:
            clauses.append(f"o.{column} IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(value))
    frame = con.execute(
        f"""
        WITH seq AS (
            SELECT o.*, ro.vintage,
                   lag(o.value) OVER w AS previous_value,
                   lag(o.release_id) OVER w AS previous_release,
                   lag(o.value IGNORE NULLS) OVER w AS last_figure,
                   lag(CASE WHEN o.value IS NOT NULL THEN o.release_id END IGNORE NULLS)
                       OVER w AS last_figure_release
            FROM observations o JOIN release_order ro USING (release_id)
            WHERE {" AND ".join(clauses)}
            -- a figure is compared with the last one in its own currency: a release that
            -- gives the series in euros instead of dollars restates no figure
            WINDOW w AS (PARTITION BY {", ".join(f"o.{c}" for c in OBSERVATION_KEY)}, o.currency
                         ORDER BY ro.vintage)
        )
        SELECT {", ".join(SERIES_KEY)}, s.period, s.period_months, s.currency,
               s.previous_release, pr.published AS previous_published,
               s.release_id AS release, r.published AS published,
               s.previous_value, s.value, s.value - s.previous_value AS change,
               (s.value - s.previous_value) / nullif(abs(s.previous_value), 0) AS change_share,
               -- a figure given again after a release withheld it: the last one published,
               -- which the scan's revision compares it with (€233.0K withheld, then
               -- €291.2K, read only "suppressed" and "disclosed")
               CASE WHEN s.previous_value IS NULL AND s.value IS NOT NULL
                    THEN s.last_figure END AS last_figure,
               CASE WHEN s.previous_value IS NULL AND s.value IS NOT NULL
                    THEN s.last_figure_release END AS last_figure_release
        FROM seq s
        JOIN releases r ON r.id = s.release_id
        LEFT JOIN releases pr ON pr.id = s.previous_release
        WHERE s.previous_release IS NOT NULL
          AND {_changed_sql("s.value", "s.previous_value")}
        ORDER BY {", ".join(SERIES_KEY)}, s.period, s.period_months, s.vintage
        """,
        [*params, min_change, tolerance],
    ).df()
    return frame


@dataclass(frozen=True)
class ReleaseDiff:
    """Two releases compared cell by cell."""

    a: dict  # id, file, published of the older release
    b: dict
    summary: dict  # counts: common, revised, unchanged, appeared, vanished, …
    # per period (YYYY-MM) and frequency (M; A: the year of an annual series, apart from
    # the month of the same YYYY-MM): cells, revised, share, appeared, vanished, restated
    by_month: pd.DataFrame
    # the revised, appeared and vanished cells, and the new ones beyond a's coverage
    cells: pd.DataFrame = field(repr=False)

    def restated_months(self) -> list[str]:
        """The periods restated across the board: 2016-01 for a month, 2016 for a year."""
        if self.by_month.empty:
            return []
        restated = self.by_month[self.by_month["restated"]]
        return [period_label(r.period, r.freq) for r in restated.itertuples()]


def release_diff(
    con, a: int, b: int, *, tolerance: float = TOLERANCE, min_change: float = MIN_CHANGE
) -> ReleaseDiff:
    """What release ``b`` changed against release ``a``.

    ``revised``: cells of both whose figure differs at all (``small``: within the revision
    detector's ``tolerance`` and ``min_change``, which the scan does not flag; ``withheld``:
    a figure now listed without a value; ``disclosed``: the reverse). ``appeared``: cells of b that a did not hold although a reported that series in the
    months around them; ``vanished``: the reverse. Cells outside the other release's
    coverage (a later month, a new series) are counted as ``only_in_a`` / ``only_in_b``,
    not as revisions.
    """
    info = {r: _release(con, r) for r in (a, b)}
    if a == b:  # "0 revised" of a release against itself reads as a finding
        raise InputError(f"--diff {a} {b}: a release against itself; give two releases")
    cells = con.execute(_diff_sql(), [a, b, a, b, min_change, tolerance]).df()
    cells["period"] = pd.to_datetime(cells["period"]).dt.strftime("%Y-%m")
    statuses = ("revised", "unchanged", "other_currency", "appeared", "vanished")
    summary = {
        status: int((cells["status"] == status).sum())
        for status in (*statuses, "only_in_a", "only_in_b")
    }
    summary["common"] = summary["revised"] + summary["unchanged"] + summary["other_currency"]
    revised = cells["status"] == "revised"
    summary["small"] = int((revised & ~cells["material"].astype(bool)).sum())
    summary["withheld"] = int((revised & cells["value_b"].isna()).sum())
    summary["disclosed"] = int((revised & cells["value_a"].isna()).sum())
    changed = _summed(cells)
    # sums only within a currency: ¥-200M and $2M are not "-198,000,000"
    sums = changed.assign(gross=changed["change"].abs()).groupby("currency")[["change", "gross"]]
    summary["change_by_currency"] = {
        str(cur): {"net": float(row.change), "gross": float(row.gross)}
        for cur, row in sums.sum().iterrows()
    }
    currencies = cells["currency"].dropna().unique()
    summary["currency"] = str(currencies[0]) if len(currencies) == 1 else None
    one = len(summary["change_by_currency"]) <= 1
    summary["total_change"] = float(changed["change"].sum()) if one else None
    summary["gross_change"] = float(changed["change"].abs().sum()) if one else None
    # ``--diff 3 2`` where release 3 came out first reads the newer figures as the older
    dates = (info[a]["published"], info[b]["published"])
    summary["b_published_first"] = None not in dates and dates[1] < dates[0]
    summary["latest_month"] = _latest_months(con, a, b)
    by_month = _by_month(cells)
    summary["restated_months"] = int(by_month["restated"].sum()) if len(by_month) else 0
    # the new cells, not those a release left out: a release of a few revised months
    # leaves out every other month of the series, each "beyond its coverage"
    shown = cells[~cells["status"].isin(("unchanged", "only_in_a"))]
    return ReleaseDiff(info[a], info[b], summary, by_month, shown.reset_index(drop=True))


def _release(con, release_id: int) -> dict:
    row = con.execute(
        "SELECT id, file, published, source FROM releases WHERE id = ?", [release_id]
    ).fetchone()
    if row is None:
        raise InputError(f"no release {release_id} in the store (see `tradesentry releases`)")
    published = None if row[2] is None else row[2].isoformat()
    return {"id": row[0], "file": row[1], "published": published, "source": row[3]}


def _latest_months(con, a: int, b: int) -> dict[str, str | None]:
    """Each release's latest month (YYYY-MM; None without monthly figures), the last month
    of a combined figure counted: a release that stops a month earlier leaves that month
    "beyond its coverage", a count that does not say which month it is."""
    rows = con.execute(
        "SELECT release_id, strftime(max(period + to_months(period_months - 1)), '%Y-%m') "
        "FROM observations WHERE release_id IN (?, ?) AND freq = 'M' GROUP BY release_id",
        [a, b],
    ).fetchall()
    latest = dict(rows)
    return {"a": latest.get(a), "b": latest.get(b)}


def _diff_sql() -> str:
    series = ", ".join(SERIES_KEY)
    return f"""
        WITH a AS (SELECT * FROM observations WHERE release_id = ?),
             b AS (SELECT * FROM observations WHERE release_id = ?),
             cover_a AS (SELECT {series}, min(period) AS lo, max(period) AS hi FROM observations
                         WHERE release_id = ? GROUP BY ALL),
             cover_b AS (SELECT {series}, min(period) AS lo, max(period) AS hi FROM observations
                         WHERE release_id = ? GROUP BY ALL),
             cells AS (
                SELECT {", ".join(f"coalesce(b.{c}, a.{c}) AS {c}" for c in OBSERVATION_KEY)},
                       coalesce(b.currency, a.currency) AS currency, a.currency AS currency_a,
                       a.value AS value_a, b.value AS value_b,
                       a.line IS NOT NULL AS in_a, b.line IS NOT NULL AS in_b
                FROM a FULL OUTER JOIN b USING ({_KEY})
             )
        SELECT c.* EXCLUDE (in_a, in_b),
               -- a figure given in another currency is not compared: dollars less euros
               -- made every month of a release in euros an 8 % "revision"
               CASE WHEN currency_a = currency THEN value_b - value_a END AS change,
               coalesce(currency_a = currency AND {_changed_sql("value_b", "value_a")}, false)
                   AS material,
               CASE
                 WHEN in_a AND in_b AND currency_a IS DISTINCT FROM currency THEN 'other_currency'
                 WHEN in_a AND in_b THEN
                   CASE WHEN value_b IS DISTINCT FROM value_a THEN 'revised' ELSE 'unchanged' END
                 WHEN in_b AND ca.lo IS NOT NULL AND c.period BETWEEN ca.lo AND ca.hi THEN 'appeared'
                 WHEN in_b THEN 'only_in_b'
                 WHEN cb.lo IS NOT NULL AND c.period BETWEEN cb.lo AND cb.hi THEN 'vanished'
                 ELSE 'only_in_a'
               END AS status
        FROM cells c
        LEFT JOIN cover_a ca USING ({series})
        LEFT JOIN cover_b cb USING ({series})
        ORDER BY {_KEY}
    """


def _by_month(cells: pd.DataFrame) -> pd.DataFrame:
    """Per period and frequency: an annual series' year (freq A, its period the year's first
    month) is never counted with the month of the same YYYY-MM. Months first, then years."""
    if cells.empty:
        return pd.DataFrame(
            columns=["period", "freq", "common", "revised", "share_revised", "other_currency"]
            + ["appeared", "vanished", "only_in_b", "net_change", "net_changes", "restated"]
        )
    flags = pd.DataFrame(
        {
            "period": cells["period"],
            "freq": cells["freq"],
            # cells in both, as the summary's ``common``: those in another currency too
            "common": cells["status"].isin(("revised", "unchanged", "other_currency")),
            "revised": cells["status"] == "revised",
            "other_currency": cells["status"] == "other_currency",
            "appeared": cells["status"] == "appeared",
            "vanished": cells["status"] == "vanished",
            # cells beyond a's coverage: a new month, a new series
            "only_in_b": cells["status"] == "only_in_b",
            "net_change": cells["change"].where(cells["status"] == "revised", 0.0),
        }
    )
    out = flags.groupby(["freq", "period"], as_index=False).sum()
    out["net_changes"] = _net_changes(cells, out)
    out = out.sort_values(["freq", "period"], key=_months_first, kind="stable")
    out = out[out[["common", "appeared", "vanished", "only_in_b"]].gt(0).any(axis=1)]
    # the share of the cells compared: one given in another currency is neither
    compared = out["common"] - out["other_currency"]
    out["share_revised"] = (out["revised"] / compared.where(compared > 0)).fillna(0.0)
    out["restated"] = (out["share_revised"] >= RESTATED_SHARE) & (
        out["revised"] >= RESTATED_MIN_CELLS
    )
    # a month whose revised figures are in several currencies has no one net change
    mixed = out["net_changes"].map(len) > 1
    out["net_change"] = out["net_change"].where(~mixed)
    columns = ["period", "freq", "common", "revised", "share_revised", "other_currency"]
    columns += ["appeared", "vanished", "only_in_b", "net_change", "net_changes", "restated"]
    return out[columns].reset_index(drop=True)


def _net_changes(cells: pd.DataFrame, months: pd.DataFrame) -> list[dict]:
    """Per row of ``months``: the net change of its revised cells by currency."""
    revised = _summed(cells)
    sums = revised.groupby(["freq", "period", "currency"])["change"].sum()
    per_month: dict = {}
    for (freq, period, currency), net in sums.items():
        per_month.setdefault((freq, period), {})[str(currency)] = float(net)
    return [
        per_month.get((f, p), {}) for f, p in zip(months["freq"], months["period"], strict=True)
    ]


def _summed(cells: pd.DataFrame) -> pd.DataFrame:
    """The revised cells whose change can be summed: a figure now withheld (or disclosed)
    has none ("net change $0" it was not)."""
    return cells[(cells["status"] == "revised") & cells["change"].notna()]


def _months_first(column: pd.Series) -> pd.Series:
    return column.ne("M") if column.name == "freq" else column
