"""The digest of a release: what it covers, what moved, what looks wrong, what it revised.

Written for the people who follow customs releases: sentences with the figures in them,
every one generated from the store and the findings (``words`` holds the phrasing). The
numbers are computed in DuckDB over the release's observations and the view of the data
as it stood when the release landed (releases up to its vintage), so the digest of an
older release reads as it did on its day.

Which months are "moves": the months the release brings for the first time (for a
monthly release, the new month; for a first load, every month), or all of its months when
it only revises. Moves by reporter–partner pair use the ``TOTAL`` series; moves by
commodity use the others. Only single-month monthly figures are compared (a combined
January–February figure has no previous month to compare with).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from tradesentry.errors import InputError
from tradesentry.findings import (
    unconverted_currencies,
    unpriced_currencies,
    usd_impacts,
    usd_rates_sql,
)
from tradesentry.monitor import words
from tradesentry.store import Store, ordered_after
from tradesentry.text import joined, json_text

FORMATS = ("md", "html", "json")
_SERIES = ("reporter", "partner", "flow", "classification", "commodity")


@dataclass(frozen=True)
class Move:
    """One figure compared with the month before (``mom``) or a year before (``yoy``)."""

    level: str  # "pair" (TOTAL series) or "commodity"
    basis: str  # "mom" or "yoy"
    reporter: str
    partner: str
    flow: str
    classification: str
    commodity: str
    currency: str
    period: str
    base_period: str
    value: float
    base_value: float
    change: float
    pct: float | None
    sentence: str


@dataclass(frozen=True)
class Revision:
    """A figure of this release that differs from the previous release that reported it."""

    reporter: str
    partner: str
    flow: str
    classification: str
    commodity: str
    breakdown: str  # "" for the whole flow
    currency: str
    period: str
    period_months: int
    value: float | None
    previous_value: float | None
    previous_release: int
    change: float | None
    sentence: str


@dataclass(frozen=True)
class Digest:
    """A briefing on one release; ``to_markdown``, ``to_html`` and ``to_json`` render it."""

    release: dict
    coverage: dict
    summary: list[str]
    latest_month: str | None
    latest: list[Move]
    moves: list[Move]
    findings: list[dict]
    findings_total: int
    revisions: list[Revision]
    revisions_total: int
    scan_id: int | None
    baseline_scan_id: int | None
    #: new findings of the scan on series the release holds no figure of (not listed)
    findings_elsewhere: int = 0
    #: without a baseline, the last scan of other parameters that ran before the release
    #: (its findings are no baseline: it looked at other series or detectors)
    other_scan_before: int | None = None
    #: currencies of the new findings compared as they are: no rate to the US dollar
    unconverted: list[str] = field(default_factory=list)
    #: the newest release the scan had seen when it ran (None: not known); where it is
    #: newer than the digest's release, its findings may rest on later figures, and say so
    scan_release: int | None = None
    #: the scan's limits in words (``ScanScope.terms``; none for a scan of everything): a
    #: digest of a scan of some detectors read as the release's every new finding
    scan_limits: list[str] = field(default_factory=list)
    #: the last month earlier releases gave for the release's series, where it is after
    #: ``latest_month`` (a release that revises old months only): None otherwise
    earlier_releases_to: str | None = None
    #: the first and last month the moves were drawn from where they are the months the
    #: release brings new (None: all of its months, ``coverage``'s span)
    moves_months: tuple[str, str] | None = None
    #: each month the moves were drawn from (YYYY-MM): the headings name these, not the
    #: span from first to last ("May–July 2023" covered a June that brought nothing new)
    moves_periods: list[str] = field(default_factory=list)
    #: currencies of the moves and the latest month without a rate to the US dollar, where
    #: the release gives others too: each is ranked in a list of its own, after the rest
    #: (yen ranked as dollars had put every yen move first)
    moves_apart: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"Release {self.release['id']}: {self.release['file']}"

    def section(self, level: str, basis: str) -> list[Move]:
        return [m for m in self.moves if m.level == level and m.basis == basis]

    def to_dict(self) -> dict:
        return _plain(asdict(self))

    def to_json(self) -> str:
        # JSON escapes C0 controls itself; DEL and C1 (a terminal's CSI) are escaped too
        return json_text(self.to_dict(), indent=1)

    def to_markdown(self) -> str:
        from tradesentry.monitor.render import markdown

        return markdown(self)

    def to_html(self) -> str:
        from tradesentry.monitor.render import html

        return html(self)

    def render(self, format: str = "md") -> str:
        """The digest in ``md``, ``html`` or ``json``."""
        if format not in FORMATS:
            raise InputError(f"--format {format!r}: choose from {', '.join(FORMATS)}")
        return {"md": self.to_markdown, "html": self.to_html, "json": self.to_json}[format]()


def build(
    store: Store,
    release: int | None = None,
    *,
    scan_id: int | None = None,
    limit: int = 5,
    findings_limit: int = 10,
) -> Digest:
    """The digest of ``release`` (the newest by default); see ``tradesentry.api.digest``."""
    con = store.con.cursor()
    info = _release(con, release)
    rid = info["id"]
    info["published_after"] = _published_after(con, rid)
    cells = _cells(con, rid)
    left_out = _left_out(con, rid)
    omitted = _series_omitted(con, rid)
    latest_month, latest = _latest(con, rid, cells)
    # a move the latest month's section gives is not listed again: as many more are asked
    # for as it could take, so that each list still has ``limit`` lines
    wanted = limit + len(latest)
    moves = _moves(con, rid, new_only=True, limit=wanted)
    periods = _new_months(cells)
    if moves.empty and not _reissue(cells):  # a re-issue's moves are all old news
        moves = _moves(con, rid, new_only=False, limit=wanted)
        periods = _single_months(cells)  # all of the release's months
        moves_months = None
    else:
        moves_months = (periods[0], periods[-1]) if periods else None
    moves = _besides(moves, latest, limit)
    held_to = _held_to(con, rid, latest_month)
    current, baseline = _scans(store, rid, scan_id)
    found, total, elsewhere, unconverted = _new_findings(
        store, con, rid, current, baseline, findings_limit
    )
    revisions = _revisions(cells)
    return Digest(
        release=info,
        coverage={
            **_coverage(cells),
            "left_out": len(left_out),
            "series_omitted": len(omitted),
        },
        summary=_summary(info, cells, left_out, omitted, con=con),
        latest_month=latest_month,
        latest=latest,
        earlier_releases_to=held_to,
        moves=[_move(r) for r in moves.to_dict("records")],
        moves_months=moves_months,
        moves_periods=periods,
        moves_apart=unconverted_currencies(
            [*moves["currency"], *(m.currency for m in latest)], con
        ),
        findings=found,
        findings_total=total,
        findings_elsewhere=elsewhere,
        unconverted=unconverted,
        revisions=[_revision(r) for r in revisions.head(findings_limit).to_dict("records")],
        revisions_total=len(revisions),
        scan_id=current,
        baseline_scan_id=baseline,
        other_scan_before=None if baseline is not None else _last_scan_before(store, rid),
        scan_release=_scan_release(store, current),
        scan_limits=_scan_limits(store, current),
    )


# -- the release and its cells -------------------------------------------------------------


def _release(con, release: int | None) -> dict:
    if release is None:
        row = con.execute("SELECT max(id) FROM releases").fetchone()
        if row[0] is None:
            raise InputError("no release in the store yet: ingest a file first")
        release = int(row[0])
    names = ("id", "file", "source", "published", "ingested_at", "rows_read", "rows_quarantined")
    row = con.execute(f"SELECT {', '.join(names)} FROM releases WHERE id = ?", [release]).fetchone()
    if row is None:
        raise InputError(f"no release {release} in the store (see `tradesentry releases`)")
    return dict(zip(names, row, strict=True))


_CELLS_SQL = """
WITH ro AS (SELECT release_id, vintage FROM release_order),
me AS (SELECT vintage FROM ro WHERE release_id = $release),
cells AS (SELECT * FROM observations WHERE release_id = $release),
-- the cell in the last earlier release that gave it in its currency, as the scan's
-- revision compares (``context.previous_sql``): dollars are not revised by euros
prior AS (
    SELECT o.*, ro.vintage FROM observations o JOIN ro USING (release_id)
    SEMI JOIN cells c USING ({key}, currency)
    WHERE ro.vintage < (SELECT vintage FROM me)
    QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY ro.vintage DESC) = 1
),
-- an earlier release gave the cell, in any currency
seen AS (
    SELECT DISTINCT {key} FROM observations o JOIN ro USING (release_id)
    SEMI JOIN cells c USING ({key})
    WHERE ro.vintage < (SELECT vintage FROM me)
),
-- the last figure an earlier release gave in its currency, where the release just
-- before withheld it
figure AS (
    SELECT o.* FROM observations o JOIN ro USING (release_id)
    SEMI JOIN cells c USING ({key}, currency)
    WHERE ro.vintage < (SELECT vintage FROM me) AND o.value IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY ro.vintage DESC) = 1
)
SELECT c.reporter, c.partner, c.flow, c.classification, c.commodity, c.freq, c.breakdown,
       c.period, c.period_months, c.value, c.currency,
       p.value AS previous_value, p.release_id AS previous_release,
       s.period IS NOT NULL AS seen_before,
       f.value AS last_figure, f.release_id AS last_figure_release
FROM cells c LEFT JOIN prior p USING ({key}) LEFT JOIN seen s USING ({key})
LEFT JOIN figure f USING ({key})
"""


# Figures an earlier release gave for a series of this release, within the months this
# release gives for it, that this one does not list (the store keeps them: the current
# view is each cell's latest release).
_LEFT_OUT_SQL = """
WITH ro AS (SELECT release_id, vintage FROM release_order),
me AS (SELECT vintage FROM ro WHERE release_id = $release),
cells AS (SELECT * FROM observations WHERE release_id = $release),
-- a series' months: its own, widened to those the release gives of the same reporter's
-- goods (both flows, every partner): its newest month left out was not counted
goods AS (SELECT {goods}, min(period) AS lo, max(period) AS hi FROM cells GROUP BY ALL),
span AS (SELECT s.{series_s}, least(s.lo, g.lo) AS lo, greatest(s.hi, g.hi) AS hi
         FROM (SELECT {series}, min(period) AS lo, max(period) AS hi FROM cells GROUP BY ALL) s
         JOIN goods g USING ({goods})),
earlier AS (
    SELECT o.* FROM observations o JOIN ro USING (release_id) JOIN span s USING ({series})
    WHERE ro.vintage < (SELECT vintage FROM me) AND o.period BETWEEN s.lo AND s.hi
    QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY ro.vintage DESC) = 1
)
SELECT e.reporter, e.partner, e.flow, e.classification, e.commodity, e.freq, e.breakdown,
       e.period, e.period_months, e.value, e.currency, e.release_id
FROM earlier e ANTI JOIN cells c USING ({key})
ORDER BY abs(e.value) DESC NULLS LAST, e.period
"""


def _left_out(con, release: int) -> pd.DataFrame:
    """Earlier figures within this release's span of a series that it leaves out."""
    from tradesentry.schema import OBSERVATION_KEY, SERIES_KEY

    sql = _LEFT_OUT_SQL.format(
        series=", ".join(SERIES_KEY),
        series_s=", s.".join(SERIES_KEY),
        goods=", ".join(_GOODS),
        key=", ".join(OBSERVATION_KEY),
    )
    return con.execute(sql, {"release": release}).df()


#: a reporter's goods, whose months in a release are each of its series' months there
_GOODS = ("reporter", "classification", "commodity", "freq", "breakdown")

_SERIES_OMITTED_SQL = """
WITH ro AS (SELECT release_id, vintage FROM release_order),
me AS (SELECT vintage FROM ro WHERE release_id = $release),
cells AS (SELECT * FROM observations WHERE release_id = $release),
goods AS (SELECT {goods}, flow, min(period) AS lo, max(period) AS hi FROM cells GROUP BY ALL),
earlier AS (  -- cells, each once however many releases gave it
    SELECT o.{series_o}, count(DISTINCT (o.period, o.period_months)) AS figures,
           max(o.period) AS last
    FROM observations o JOIN ro USING (release_id) JOIN goods g USING ({goods}, flow)
    WHERE ro.vintage < (SELECT vintage FROM me) AND o.period BETWEEN g.lo AND g.hi
      AND o.value IS NOT NULL
    GROUP BY ALL
)
SELECT e.* FROM earlier e ANTI JOIN (SELECT DISTINCT {series} FROM cells) c USING ({series})
ORDER BY figures DESC, {series}
"""


def _series_omitted(con, release: int) -> pd.DataFrame:
    """The series of goods and flows the release gives that it gives no figure of, where
    earlier releases gave figures within its months: a partner dropped from a re-issue
    (Slovakia's 390 figures of a Comext file) had read as "It leaves out 1 figure"."""
    from tradesentry.schema import SERIES_KEY

    sql = _SERIES_OMITTED_SQL.format(
        series=", ".join(SERIES_KEY),
        series_o=", o.".join(SERIES_KEY),
        goods=", ".join(_GOODS),
    )
    return con.execute(sql, {"release": release}).df()


def _cells(con, release: int) -> pd.DataFrame:
    """The release's figures, each beside the previous release's figure for the same cell."""
    from tradesentry.schema import OBSERVATION_KEY

    sql = _CELLS_SQL.format(key=", ".join(OBSERVATION_KEY))
    cells = con.execute(sql, {"release": release}).df()
    # read once: the coverage, the summary, the moves' months and the revisions ask
    return cells.assign(status=_status(cells))


def _status(cells: pd.DataFrame) -> pd.Series:
    """new (no earlier release had the cell), other currency (earlier releases gave it in
    other currencies only: not compared, as ``context.previous_sql`` does not; dollars read
    as euros were "revised to €459,599 from €499,564"), revised, or unchanged (against the
    last earlier release that gave it in its currency)."""
    compared = cells["previous_release"].notna()
    seen = cells["seen_before"].astype(bool)
    same = (cells["value"] == cells["previous_value"]) | (
        cells["value"].isna() & cells["previous_value"].isna()
    )
    status = np.select([~seen, ~compared, same], ["new", "other currency", "unchanged"], "revised")
    return pd.Series(status, index=cells.index, dtype=object)


def _new_months(cells: pd.DataFrame) -> list[str]:
    """The single months the release brings new, oldest first: its moves' months (a
    release of October's figures and old revisions headed its moves "January
    2017–October 2024", every one of them October's)."""
    return _single_months(cells[cells["status"] == "new"])


def _single_months(cells: pd.DataFrame) -> list[str]:
    """The single months (monthly figures of one month) of ``cells``, oldest first: the
    only figures a move compares."""
    single = (cells["freq"] == "M") & (cells["period_months"] == 1)
    return sorted({_ym(p) for p in cells.loc[single, "period"]})


def _coverage(cells: pd.DataFrame) -> dict:
    status = cells["status"].value_counts()
    periods = cells["period"]
    return {
        "rows": len(cells),
        "reporters": sorted(cells["reporter"].unique().tolist()),
        "partners": sorted(cells["partner"].unique().tolist()),
        "flows": sorted(cells["flow"].unique().tolist()),
        "commodities": int(cells["commodity"].nunique()),
        "first_period": _ym(periods.min()) if len(cells) else None,
        "last_period": _ym(periods.max()) if len(cells) else None,
        "new": int(status.get("new", 0)),
        "revised": int(status.get("revised", 0)),
        "unchanged": int(status.get("unchanged", 0)),
        "other_currency": int(status.get("other currency", 0)),
    }


def _summary(
    info: dict,
    cells: pd.DataFrame,
    left_out: pd.DataFrame | None = None,
    omitted: pd.DataFrame | None = None,
    *,
    con=None,
) -> list[str]:
    cov = _coverage(cells)
    when = (
        f"published {_day(info['published'])}"
        if info["published"]
        else f"ingested {_day(info['ingested_at'])}"
    )
    release = f"Release {info['id']} ({info['file']}, read as {info['source']}, {when})"
    if not len(cells):
        return [f"{release} holds no figures. {_nothing_landed(info)}"]
    flows = joined([words._FLOW_PHRASE.get(f, (f,))[0] for f in cov["flows"]])
    first = (
        f"{release} holds "
        f"{words.count(cov['rows'], 'figure')} on the trade of "
        f"{words.names(_by_money(cells, 'reporter', con))} "
        f"with {words.names(_by_money(cells, 'partner', con))}: {flows}, {_goods(cells)}, "
        f"{_periods(cells)}."
    )
    lines = [first, _freshness(cov)]
    if info.get("published_after"):
        lines.append(_backdated_sentence(info))
    quarantined = info.get("rows_quarantined") or 0
    if left_out is not None and len(left_out):
        lines.append(_left_out_sentence(left_out, quarantined))
    if omitted is not None and len(omitted):
        lines.append(_omitted_sentence(omitted))
    if quarantined:
        lines.append(
            f"{words.count(quarantined, 'row').capitalize()} of its file went to the "
            f"quarantine (`tradesentry quarantine --release {info['id']}` gives the reasons)."
        )
    return lines


def _by_money(cells: pd.DataFrame, column: str, con=None) -> list[str]:
    """The codes of ``column`` (reporters, partners) largest first by the release's money
    with them: of the totals of all goods, then of every figure, in US dollars where the
    store has the rates; money in a currency without a rate counts after (yen are no
    dollars); ties in code order. Named in code order, a file of 39 partners read "with
    the United Arab Emirates, Australia, Austria and 36 others"."""
    whole = cells[cells["breakdown"].fillna("") == ""]
    amounts = pd.DataFrame(
        {
            "impact": whole["value"].abs().fillna(0.0),
            "currency": whole["currency"],
            "period": whole["period"].map(_ym),
        }
    )
    # their own cursor: ``con`` may hold a result the build has not read to its end
    cursor = con.cursor() if con is not None else None
    usd = usd_impacts(amounts, cursor).to_numpy() if len(amounts) else np.zeros(0)
    unrated = unpriced_currencies(set(whole["currency"].dropna()), cursor) if cursor else []
    rated = ~whole["currency"].isin(unrated).to_numpy()
    total = (whole["commodity"] == "TOTAL").to_numpy()
    money = pd.DataFrame(
        {
            "code": whole[column].to_numpy(),
            "total": np.where(rated & total, usd, 0.0),
            "all": np.where(rated, usd, 0.0),
            "unrated": np.where(rated, 0.0, np.where(total, usd, 0.0)),
        }
    )
    keys = ["total", "all", "unrated"]
    ranked = money.groupby("code")[keys].sum().reset_index()
    ranked = ranked.sort_values([*keys, "code"], ascending=[False, False, False, True])
    held = list(ranked["code"])
    return held + sorted(set(cells[column]) - set(held))  # codes of breakdowns only


def _published_after(con, release: int) -> list[dict]:
    """Releases the store held before this one landed that it orders after it and that
    give figures it gives too (``store.ordered_after``): ingested late, it slots in before
    them, which its own id does not say. (Every release published later had been named, a
    Eurostat file of other goods beside the China–North Korea figures, whose digest then
    said its figures were current "only where it gives none".)"""
    return ordered_after(con, release)


def _backdated_sentence(info: dict) -> str:
    """A release ingested after releases published later than it: its figures are current
    only where they give none, and their revisions are now read against it."""
    later = info["published_after"]
    names = joined(
        [
            f"release {r['id']} ({r['published']})"
            if r["published"]
            else f"release {r['id']} (no publication date; ingested {r['ingested']})"
            for r in later
        ]
    )
    them = "it" if len(later) == 1 else "they"
    came = "It came out before" if all(r["published"] for r in later) else "It is ordered before"
    return (
        f"{came} {names}, which the store already held: its figures are the "
        f"current ones only where {them} give{'s' if them == 'it' else ''} none, and "
        f"{'its' if them == 'it' else 'their'} revisions are now read against this release."
    )


def _nothing_landed(info: dict) -> str:
    """Why a release holds no figures: its rows went to the quarantine, or it had none."""
    read, quarantined = info.get("rows_read") or 0, info.get("rows_quarantined") or 0
    if quarantined:
        reasons = f"(`tradesentry quarantine --release {info['id']}` gives the reasons)"
        if read == 1:  # "Of its 1 row read, it went to the quarantine"
            return f"Its one row read went to the quarantine {reasons}."
        each = "it" if quarantined == 1 else f"all {quarantined:,}" if quarantined == read else ""
        return (
            f"Of its {words.count(read, 'row')} read, {each or f'{quarantined:,}'} went to the "
            f"quarantine {reasons}."
        )
    return f"Its file had {words.count(read, 'row')} of figures."


LEFT_OUT_NAMED = 3  # the largest figures left out are named; the rest counted


def _omitted_sentence(omitted: pd.DataFrame) -> str:
    """ "It gives no figure of 1 series of the goods and flows it gives, which earlier
    releases gave figures of within its months (the store keeps their 390 figures): …"."""
    named = []
    for row in omitted.head(LEFT_OUT_NAMED).to_dict("records"):
        named.append(f"{words.series_subject(row)} ({words.count(int(row['figures']), 'figure')})")
    more = len(omitted) - len(named)
    listed = joined(named + ([f"{more:,} more"] if more else []))
    figures = int(omitted["figures"].sum())
    return (
        f"It gives no figure of {words.count(len(omitted), 'series', 'series')} of the goods and flows "
        f"it gives, which earlier releases gave figures of within its months (the store "
        f"keeps their {words.count(figures, 'figure')}): {listed}."
    )


def _left_out_sentence(left_out: pd.DataFrame, quarantined: int = 0) -> str:
    """ "It leaves out 2 figures that earlier releases gave within its months: …"; where
    rows of the file went to the quarantine, that some may be among them (a figure given
    as -5,000 was "left out")."""
    named = []
    for row in left_out.head(LEFT_OUT_NAMED).to_dict("records"):
        who, months = _cell_words(row)
        value = _num(row["value"])
        figure = (
            "a figure without a value" if value is None else words.money(value, row["currency"])
        )
        named.append(f"{who} for {months} ({figure}, release {int(row['release_id'])})")
    more = len(left_out) - len(named)
    listed = joined(named + ([f"{more:,} more"] if more else []))
    given = " (or gives them in rows the quarantine holds)" if quarantined else ""
    return (
        f"It leaves out {words.count(len(left_out), 'figure')} that earlier releases gave "
        f"within its months{given}, which the store keeps as they were: {listed}."
    )


def _periods(cells: pd.DataFrame) -> str:
    """The span of the release's periods: "January 2019–June 2021"; annual figures cover
    years, not their Januaries ("2005–2021"), and a release of both says each
    ("2005–2017 (annual) and January 2017–December 2018 (monthly)")."""
    if not len(cells):
        return "no period"
    spans = {
        freq: words.month_span(_ym(group["period"].min()), _ym(group["period"].max()), freq)
        for freq, group in cells.groupby(cells["freq"].where(cells["freq"] == "A", "M"))
    }
    if len(spans) == 1:
        return next(iter(spans.values()))
    return f"{spans['A']} (annual) and {spans['M']} (monthly)"


def _goods(cells: pd.DataFrame) -> str:
    codes = set(cells["commodity"])
    detail = len(codes - {"TOTAL"})
    if not detail:
        return "all goods"
    text = words.count(detail, "commodity code")
    return f"all goods and {text}" if "TOTAL" in codes else text


def _reissue(cells: pd.DataFrame) -> bool:
    """Whether every figure of the release repeats an earlier one unchanged: a re-issue,
    whose months' moves are no news (a QA read: an identical re-issue listed the whole
    history's largest moves as if new)."""
    return bool(len(cells)) and bool((cells["status"] == "unchanged").all())


def _freshness(cov: dict) -> str:
    """How much is new: "All 47 figures are new …", "Of these, 4 are new, 1 revises …"."""
    if cov["unchanged"] == cov["rows"] and cov["rows"]:
        if cov["rows"] == 1:
            return "Its figure repeats an earlier one unchanged: a re-issue, with nothing new."
        each = (
            "Both its figures" if cov["rows"] == 2 else f"All {words.count(cov['rows'], 'figure')}"
        )
        return f"{each} repeat earlier figures unchanged: a re-issue, with nothing new."
    if cov["new"] == cov["rows"]:
        every = {1: "The figure is", 2: "Both figures are"}.get(cov["rows"])
        return f"{every or 'All ' + words.count(cov['rows'], 'figure') + ' are'} new to the store."
    parts = []
    for n, one, many in (
        (cov["new"], "is new", "are new"),
        (cov["revised"], "revises an earlier figure", "revise earlier figures"),
        (cov["unchanged"], "repeats an earlier figure", "repeat earlier figures unchanged"),
        (
            cov["other_currency"],
            "gives an earlier figure in another currency (not compared)",
            "give earlier figures in another currency (not compared)",
        ),
    ):
        if n:
            parts.append(f"{n:,} {one if n == 1 else many}")
    return f"Of these, {joined(parts)}."


# -- moves -------------------------------------------------------------------------------

_MOVES_SQL = """
WITH ro AS (SELECT release_id, vintage FROM release_order),
me AS (SELECT vintage FROM ro WHERE release_id = $release),
series AS (
    SELECT DISTINCT {series} FROM observations
    WHERE release_id = $release AND freq = 'M' AND period_months = 1 AND breakdown = ''
),
-- every row, a figure or one listed without a value: a month listed withheld was seen
-- (disclosing it later brings no new month), and withholds the figure before it
monthly AS (
    SELECT o.reporter, o.partner, o.flow, o.classification, o.commodity, o.currency,
           o.period, o.value, o.release_id, ro.vintage
    FROM observations o JOIN ro USING (release_id) SEMI JOIN series USING ({series})
    WHERE o.freq = 'M' AND o.period_months = 1 AND o.breakdown = ''
      AND ro.vintage <= (SELECT vintage FROM me)
),
first_seen AS (SELECT {series}, period, min(vintage) AS first_vintage FROM monthly GROUP BY ALL),
as_of AS (
    SELECT * FROM (
        SELECT * FROM monthly
        QUALIFY row_number() OVER (PARTITION BY {series}, period ORDER BY vintage DESC) = 1
    ) WHERE value IS NOT NULL
),
focus AS (
    SELECT a.* FROM as_of a JOIN first_seen f USING ({series}, period)
    WHERE a.release_id = $release
      AND (NOT $new_only OR f.first_vintage = (SELECT vintage FROM me))
      AND ($month IS NULL OR a.period = $month)
),
lags AS (SELECT * FROM (VALUES ('mom', 1), ('yoy', 12)) t(basis, months)),
moves AS (
    SELECT CASE WHEN s.commodity = 'TOTAL' THEN 'pair' ELSE 'commodity' END AS level,
           lags.basis, s.reporter, s.partner, s.flow, s.classification, s.commodity,
           s.currency, s.period, b.period AS base_period, s.value, b.value AS base_value,
           s.value - b.value AS change,
           CASE WHEN b.value <> 0 THEN (s.value - b.value) / abs(b.value) * 100 END AS pct
    FROM focus s CROSS JOIN lags
    JOIN as_of b ON b.reporter = s.reporter AND b.partner = s.partner AND b.flow = s.flow
         AND b.classification = s.classification AND b.commodity = s.commodity
         AND b.period = s.period - to_months(lags.months)
         -- a month in euros after one in dollars is no move of "€5.00 million"
         AND b.currency = s.currency
),
-- ranked in US dollars where the store has rates: ¥290 billion (about $2.6 billion) had
-- outranked a fall of $8.3 billion; a currency without any rate (``apart``) is ranked in
-- a list of its own, after the others, since its amounts cannot be weighed against them
keys AS (SELECT DISTINCT currency, strftime(period, '%Y-%m') AS period FROM moves),
usd AS ({rates}),
ranked AS (
    SELECT m.*, coalesce(u.per_usd, 1.0) AS per_usd,
           CASE WHEN u.per_usd IS NULL AND m.currency <> 'USD' THEN m.currency END AS apart
    FROM moves m
    LEFT JOIN usd u ON u.currency = m.currency AND u.period = strftime(m.period, '%Y-%m')
)
SELECT * EXCLUDE (per_usd) FROM ranked
QUALIFY row_number() OVER (
    PARTITION BY level, basis, apart
    ORDER BY {order}, period DESC, reporter, partner, flow, commodity
) <= $limit
ORDER BY level DESC, basis, apart NULLS FIRST, {order}
"""


def _moves(
    con,
    release: int,
    *,
    new_only: bool,
    limit: int,
    month: date | None = None,
    order: str = "abs(change / per_usd) DESC",
) -> pd.DataFrame:
    """The largest moves (by money, in US dollars where the store has the rates) of the
    release's months against a month and a year before; the moves in a currency without a
    rate (``apart``) are ranked among themselves, after the others."""
    sql = _MOVES_SQL.format(series=", ".join(_SERIES), order=order, rates=usd_rates_sql("keys"))
    params = {"release": release, "new_only": new_only, "limit": limit, "month": month}
    frame = con.execute(sql, params).df()
    return frame


def _latest(con, release: int, cells: pd.DataFrame) -> tuple[str | None, list[Move]]:
    """The newest month of the release: its biggest pair series against May and a year ago."""
    monthly = cells[(cells["freq"] == "M") & (cells["period_months"] == 1)]
    if monthly.empty:
        return None, []
    newest = pd.Timestamp(monthly["period"].max()).date()
    frame = _moves(
        con, release, new_only=False, limit=3, month=newest, order="abs(value / per_usd) DESC"
    )
    frame = frame[frame["level"] == "pair"]
    return _ym(newest), [_move(r) for r in frame.to_dict("records")]


_HELD_TO_SQL = """
WITH me AS (SELECT vintage FROM release_order WHERE release_id = $release),
series AS (SELECT DISTINCT {series} FROM observations WHERE release_id = $release AND freq = 'M')
SELECT max(o.period) FROM observations o JOIN release_order ro USING (release_id)
SEMI JOIN series USING ({series})
WHERE o.freq = 'M' AND ro.vintage < (SELECT vintage FROM me)
"""


#: what tells one move from another: its section, series and month
_MOVE_KEY = ("level", "basis", *_SERIES, "currency", "period")


def _besides(moves: pd.DataFrame, latest: list[Move], limit: int) -> pd.DataFrame:
    """The ``limit`` largest moves of each list (level, basis and, for a currency without a
    rate, its currency) that the latest month's section does not already give: the lists
    had dropped those when shown, after they were cut, and came up short."""
    if moves.empty:
        return moves
    shown = {tuple(getattr(m, k) for k in _MOVE_KEY) for m in latest}
    keys = moves[list(_MOVE_KEY)].assign(period=moves["period"].map(_ym))
    fresh = moves[[tuple(k) not in shown for k in keys.itertuples(index=False)]]
    return fresh.groupby(["level", "basis", "apart"], dropna=False, sort=False).head(limit)


def _held_to(con, release: int, latest: str | None) -> str | None:
    """The last month earlier releases gave for the release's series, where it is after the
    release's own latest month: a release that only revises March 2019 is not the news of
    "the latest month" of a record that runs to June 2020."""
    if latest is None:
        return None
    row = con.execute(_HELD_TO_SQL.format(series=", ".join(_SERIES)), {"release": release})
    held = row.fetchone()[0]
    return _ym(held) if held is not None and _ym(held) > latest else None


def _move(row: dict) -> Move:
    who = words.subject(
        row["reporter"], row["partner"], row["flow"], row["commodity"], row["classification"]
    )
    period, base = _ym(row["period"]), _ym(row["base_period"])
    text = words.move(who, row["value"], period, row["base_value"], base, row["currency"])
    pct = row["pct"]
    return Move(
        **{k: row[k] for k in ("level", "basis", *_SERIES, "currency")},
        period=period,
        base_period=base,
        value=float(row["value"]),
        base_value=float(row["base_value"]),
        change=float(row["change"]),
        pct=None if pct is None or pd.isna(pct) else round(float(pct), 2),
        sentence=text,
    )


# -- revisions -------------------------------------------------------------------------


def _revisions(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells whose figure differs from the previous release's, largest change first."""
    revised = cells[cells["status"] == "revised"].copy()
    revised["change"] = revised["value"] - revised["previous_value"]
    # a figure now withheld (or disclosed) changes by all of it: €325 withheld had come
    # before €232,976 withheld and every real revision; one given again after a release
    # withheld it, by its change from the last figure published (the same figure again
    # had led the list at its whole value)
    again = revised["value"] - revised["last_figure"]
    revised["_size"] = (
        revised["change"]
        .abs()
        .fillna(again.abs())
        .fillna(revised["previous_value"].abs().fillna(revised["value"].abs()))
    )
    return revised.sort_values(["_size", "period"], ascending=[False, False], na_position="last")


def _cell_words(row: dict) -> tuple[str, str]:
    """A cell's series as a sentence's subject and its months ("January–February 2021";
    a year reads "2017")."""
    who = words.series_subject(row)
    start = pd.Timestamp(row["period"])
    end = start + pd.DateOffset(months=int(row["period_months"]) - 1)
    return who, words.month_span(_ym(start), _ym(end), row.get("freq"))


def _revision(row: dict) -> Revision:
    who, months = _cell_words(row)
    start = pd.Timestamp(row["period"])
    value, before, currency = _num(row["value"]), _num(row["previous_value"]), row["currency"]
    source = f"release {int(row['previous_release'])}"
    if value is None:
        was = words.money(before, currency)
        text = f"{who} for {months}: the figure of {was} ({source}) is now withheld."
    elif before is None:
        now = words.money(value, currency)
        text = f"{who} for {months}: now {now}, where {source} gave no figure"
        text += _last_figure(row, value, currency) + "."
    else:
        now, was = words.money_pair(value, before, currency)
        text = (
            f"{who} for {months} were revised to {now} from {was} ({source}), "
            f"{words.change(value, before, currency)}."
        )
    return Revision(
        **{k: row[k] for k in (*_SERIES, "currency")},
        breakdown=row.get("breakdown") or "",
        period=_ym(start),
        period_months=int(row["period_months"]),
        value=value,
        previous_value=before,
        previous_release=int(row["previous_release"]),
        change=None if value is None or before is None else value - before,
        sentence=words.sentence(text),
    )


def _last_figure(row: dict, value: float, currency: str) -> str:
    """ ", the same figure as release 1 gave" (or "release 1 gave €150,000"): the figure an
    earlier release gave before the one just before withheld it, as the scan's revision
    finding compares with (``context.previous_sql``); "" where none did."""
    last = _num(row.get("last_figure"))
    if last is None or pd.isna(row.get("last_figure_release")):
        return ""
    source = f"release {int(row['last_figure_release'])}"
    if last == value:
        return f", the same figure as {source} gave"
    return f"; {source} gave {words.money(last, currency)}"


# -- findings --------------------------------------------------------------------------


def _last_scan_before(store: Store, release: int) -> int | None:
    from tradesentry.monitor import history

    return history.last_scan_before(store, release)


def _scans(store: Store, release: int, scan_id: int | None) -> tuple[int | None, int | None]:
    """The scan whose findings the digest reports, and the baseline they are new against.

    The first full scan that saw the release against the last scan with its parameters
    that ran before the release landed (``history.scans_for_release``), so re-scans leave
    the digest as it was. With no full scan that saw the newest release, one is run now, so
    a digest is never stale and never changes once written. ``scan_id`` names the scan
    instead (the watch passes the one it just ran); its baseline is found the same way.
    """
    from tradesentry import api
    from tradesentry.monitor import history

    if scan_id is not None:
        return scan_id, history.baseline_for(store, release, scan_id)
    current, baseline = history.scans_for_release(store, release)
    newest = store.con.cursor().execute("SELECT max(id) FROM releases").fetchone()[0]
    if release == newest and not _is_full(store, current):
        api.scan(store)
        current, baseline = history.scans_for_release(store, release)
    return current, baseline


def _scan_limits(store: Store, scan_id: int | None) -> list[str]:
    """The scan's limits in words: its filters, detectors and ``since``."""
    from tradesentry import api
    from tradesentry.scope import ScanScope

    return [] if scan_id is None else ScanScope.of(api.scan_info(store, scan_id)).terms()


def _scan_release(store: Store, scan_id: int | None) -> int | None:
    """The newest release ``scan_id`` had seen when it ran (its watermark)."""
    from tradesentry import api

    info = api.scan_info(store, scan_id) if scan_id is not None else None
    return None if info is None else info["release"]


def _is_full(store: Store, scan_id: int | None) -> bool:
    from tradesentry.monitor import history

    if scan_id is None:
        return False
    frame = history.scans(store)
    return history.is_full(frame.loc[frame["id"] == scan_id, "parameters"].iat[0])


def _new_findings(
    store: Store, con, release: int, current: int | None, baseline: int | None, limit: int
) -> tuple[list[dict], int, int, list[str]]:
    """New findings on the series the release holds figures of, ranked by money at stake
    (in US dollars where the store has the rate, as every list of findings compares
    money), each with a sentence on the months around it; their number, the number of the
    scan's other new findings (on series the release holds no figure of: a first scan of
    several releases found them all, and a briefing on the last one led with another
    file's series), and the currencies compared as they are."""
    from tradesentry.monitor import history

    if current is None:
        return [], 0, 0, []
    new, _ = history.diff(store, current, baseline)
    frame = new.to_frame()
    if frame.empty:
        return [], 0, 0, []
    held = frame.merge(
        _release_series(con, release), on=_FINDING_SERIES, how="left", indicator=True
    )
    mine = (held["_merge"] == "both").to_numpy()
    elsewhere = int((~mine).sum())
    frame = frame[mine]
    if frame.empty:
        return [], 0, elsewhere, []
    unconverted = unconverted_currencies(frame["currency"], con)
    frame = (
        frame.assign(usd=usd_impacts(frame, con))
        .sort_values(["usd", "id"], ascending=[False, True], na_position="last")
        .drop(columns="usd")
    )
    total = len(frame)
    frame, twins = _one_side_of_each_gap(frame)
    records = []
    for rec in frame.head(limit).to_dict("records"):
        records.append(_finding(con, release, rec, twins.get(rec["id"])))
    return records, total, elsewhere, unconverted


def _one_side_of_each_gap(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The ranked findings with one side of each mirror gap: a pair whose two records
    disagree is one finding on each side's series, the same gap and the same money at
    stake (the top two new findings of a Comext release were one gap between France and
    the Netherlands, €11.8M each). The side ranked first stays, and names the other
    (``twins``: by the id kept, the other's id and series)."""
    from tradesentry.schema import MIRROR_FLOW

    gaps = frame[frame["kind"] == "mirror_gap"]
    if gaps.empty:
        return frame, {}
    seen: dict[tuple, str] = {}
    twins: dict[str, dict] = {}
    for rec in gaps.to_dict("records"):
        same = (rec["commodity"], rec["breakdown"], rec["period"], rec["period_end"])
        mine = (rec["reporter"], rec["partner"], rec["flow"], *same)
        theirs = (rec["partner"], rec["reporter"], MIRROR_FLOW.get(rec["flow"]), *same)
        if theirs in seen and seen[theirs] not in twins:
            twins[seen[theirs]] = rec
        else:
            seen[mine] = rec["id"]
    dropped = {rec["id"] for rec in twins.values()}
    return frame[~frame["id"].isin(dropped)], twins


#: a finding's series, as the store's observations name it
_FINDING_SERIES = [
    "reporter",
    "partner",
    "flow",
    "classification",
    "commodity",
    "breakdown",
    "freq",
]


def _release_series(con, release: int) -> pd.DataFrame:
    """The series the release holds figures (or withheld cells) of."""
    return con.execute(
        f"SELECT DISTINCT {', '.join(_FINDING_SERIES)} FROM observations WHERE release_id = ?",
        [release],
    ).df()


def _finding(con, release: int, rec: dict, twin: dict | None = None) -> dict:
    """A new finding as the digest tells it; with ``twin``, the other side's finding of
    the same mirror gap (``_one_side_of_each_gap``), named in ``also``."""
    who = words.series_subject(rec)
    out = {k: _plain(rec[k]) for k in rec}
    out["subject"] = words.sentence(who)
    out["headline"] = words.headline(rec)
    out["at_stake"] = words.money(_num(rec["impact"]), rec["currency"] or "USD", approx=True)
    out["context"] = _context(con, release, rec, who)
    if twin is not None:
        out["also"] = (
            f"The same gap is a finding on the other record too, {words.series_subject(twin)} "
            f"(finding {twin['id']})."
        )
    return out


# Each month as the release's day had it: its latest row, then only a figure (a row the
# latest release lists without a value withdraws the earlier figure: no month to quote).
_AROUND_SQL = """
WITH ro AS (SELECT release_id, vintage FROM release_order),
latest AS (
  SELECT o.period, o.value, o.currency FROM observations o JOIN ro USING (release_id)
  WHERE o.reporter = $reporter AND o.partner = $partner AND o.flow = $flow
    AND o.classification = $classification AND o.commodity = $commodity
    AND o.breakdown = coalesce($breakdown, '') AND o.freq = 'M' AND o.period_months = 1
    AND o.period BETWEEN $first AND $last
    AND ro.vintage <= (SELECT vintage FROM ro WHERE release_id = $release)
  QUALIFY row_number() OVER (PARTITION BY o.period ORDER BY ro.vintage DESC) = 1
)
-- the months beside in the finding's currency only: dollars beside euros are no move
SELECT period, value FROM latest WHERE value IS NOT NULL AND currency = $currency
ORDER BY period
"""


def _context(con, release: int, rec: dict, who: str) -> str:
    """The flagged month in figures: the move into it, then the month after (months in
    the finding's currency only).

    "… fell to $3,000 in February 2021 from $29,000 in January, down $26,000 (-89.7%),
    then rose to $12.98 million in March." Months the store lacks are left out, and so is
    an annual series' finding: its year is no month (a monthly series of the same key
    would lend it January's figures). So are the findings whose first month's move is not
    what they are about: a run of months (a gap, a mirror gap), and a level shift whose
    first month did not move its way by a quarter of its size at least (the United States' imports
    from China "fell to $23.34 billion in February 2010" above a rise of ×1.3, its
    Chinese New Year's month).
    """
    if rec.get("freq") == "A" or rec.get("kind") in _RUNS:
        return ""
    if rec.get("kind") == "revision" and rec.get("period_end") not in (None, rec["period"]):
        return ""  # a run of revised months: its first month's move is not what it is about
    try:
        start = pd.Period(rec["period"], freq="M")
    except (TypeError, ValueError):
        return ""
    keys = {k: rec[k] for k in ("reporter", "partner", "flow", "classification", "commodity")}
    currency = rec["currency"] or "USD"
    params = {
        **keys,
        "breakdown": rec.get("breakdown"),
        "first": (start - 1).to_timestamp().date(),
        "last": (start + 1).to_timestamp().date(),
        "release": release,
        "currency": currency,
    }
    values = {_ym(p): v for p, v in con.execute(_AROUND_SQL, params).fetchall()}
    before, here, after = (values.get(str(start + k)) for k in (-1, 0, 1))
    if here is None or (rec.get("kind") == "level_shift" and not _moved_its_way(rec, before, here)):
        return ""
    if before is None and after is None:
        return ""
    if before is None:  # the month first: "rose to … in April" read as the finding's move
        text = words.sentence(
            f"{who} were {words.money(here, currency)} in {words.month(str(start))} (no "
            f"figure for {words.month(str(start - 1), after=str(start))})."
        )
    else:
        text = words.move(who, here, str(start), before, str(start - 1), currency)
    if after is None:
        return text
    verb = "rose to" if after > here else "fell to" if after < here else "held at"
    then = words.month(str(start + 1), after=str(start))
    return f"{text[:-1]}, then {verb} {words.money_pair(after, here, currency)[0]} in {then}."


#: findings over a run of months, whose first month's move says nothing of them
_RUNS = ("gap", "mirror_gap")


def _moved_its_way(rec: dict, before: float | None, here: float) -> bool:
    """Whether a level shift's first month moved from the month before in the shift's
    direction by at least a quarter of the shift's size (log scale): the United States'
    exports to China fell 5.5 % into October 2018, the first month of a fall of ×0.85."""
    ratio = _num((rec.get("evidence") or {}).get("ratio"))
    if before is None or not before > 0 or not here > 0 or not ratio or not ratio > 0:
        return False
    move, shift = math.log(here / before), math.log(ratio)
    return move * shift > 0 and abs(move) >= abs(shift) / 4


# -- helpers -----------------------------------------------------------------------------


def _ym(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def _day(value) -> str:
    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp.strftime('%B %Y')}"


def _num(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return None
    return float(value)


def _plain(value):
    """JSON-ready: dates as ISO text, NaN as None, NumPy scalars as Python."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
