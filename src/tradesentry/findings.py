"""Findings: the finding contract (README, "What it flags"), ranking, supersession and the
text people read.

Detectors return detections about panel rows and columns; ``assemble`` turns them into
findings with the series keys, ``YYYY-MM`` periods, a stable id, a severity and an
explanation, and drops findings that another finding explains; ``rank`` orders a scan's
findings by severity then money at stake (compared in US dollars where the store has the
currency's rates).

An annual series' findings keep the contract's ``YYYY-MM`` periods (the year's first
month, as the store keeps the year) and carry ``freq`` "A" beside them: their text and
every display name the year, and their id differs from a monthly finding of the same
series key and month.
"""

from __future__ import annotations

import hashlib
import io
import json
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

import duckdb
import numpy as np
import pandas as pd

from tradesentry.detectors import drivers
from tradesentry.detectors.base import MATERIAL_MONEY, Detector
from tradesentry.errors import InputError, StoreError
from tradesentry.panel import Panel
from tradesentry.schema import SEVERITY_RANK
from tradesentry.text import json_text, money, period_span, plural, printable

if TYPE_CHECKING:
    from tradesentry.store import Store

FINDING_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "reporter",
    "partner",
    "flow",
    "commodity",
    "period",
    "period_end",
    "observed",
    "expected",
    "currency",
    "impact",
    "score",
    "severity",
    "explanation",
    "evidence",
)
# Kept beside the contract's columns so a finding can be traced to its exact series: its
# classification, its breakdown and its frequency ("M" monthly, "A" annual).
EXTRA_COLUMNS: tuple[str, ...] = ("classification", "breakdown", "freq")
# The keys of a finding's record (``to_records``, JSON): the contract's, with the series'
# classification and breakdown after its commodity (a commodity held under HS and H5 is two
# series, whose findings JSON must tell apart) and its frequency after its periods, which
# are a year's first month when ``freq`` is "A".
RECORD_COLUMNS: tuple[str, ...] = (
    *FINDING_COLUMNS[: FINDING_COLUMNS.index("commodity") + 1],
    "classification",
    "breakdown",
    *FINDING_COLUMNS[
        FINDING_COLUMNS.index("commodity") + 1 : FINDING_COLUMNS.index("period_end") + 1
    ],
    "freq",
    *FINDING_COLUMNS[FINDING_COLUMNS.index("period_end") + 1 :],
)
MONTHLY = "M"
ANNUAL = "A"

HIGH, MEDIUM = 0.9, 0.7


def severity_of(score: np.ndarray) -> np.ndarray:
    """high from 0.9, medium from 0.7, low below: thresholds on the shared confidence scale."""
    score = np.asarray(score, dtype=float)
    return np.where(score >= HIGH, "high", np.where(score >= MEDIUM, "medium", "low"))


def figure_terms(finding: Mapping) -> tuple[str, str]:
    """What a finding's ``observed`` and ``expected`` hold, in words for a label: the
    month's figure and its expectation for most kinds; a level shift's new and old levels
    (medians a month), a mirror gap's record and the figure the partner's record implies
    for it at the pair's usual ratio, a gap's expectation (totals over the months it
    spans), a revision's figure and the earlier release's, an incoherent total and the sum
    of its parts. A journalist quoting the table's "observed" of a level shift as the month's
    figure quoted the median of the year after it; one quoting a mirror gap's "partner's
    record" quoted the implied figure, off the partner's own by the usual ratio (more than
    a tenth for half the gaps between EU members' records)."""
    unit = "year" if finding.get("freq") == "A" else "month"
    kind = finding.get("kind")
    total = ", total" if finding.get("period_end") not in (None, finding.get("period")) else ""
    if kind == "level_shift":
        return f"new level, a {unit}", f"old level, a {unit}"
    if kind == "mirror_gap":
        return f"this record{total}", f"as the partner's record implies{total}"
    if kind == "gap":
        return "recorded", f"expected{total}"
    if kind == "revision":  # the earlier figure is no expectation (and may be a release
        # before the one before: the last that gave it, in its currency)
        return f"this release{total}", f"earlier release{total}"
    if kind == "incoherent":
        return _incoherent_terms(finding)
    return "observed", "expected"


def _incoherent_terms(finding: Mapping) -> tuple[str, str]:
    """An incoherent finding's two figures by its check: a total and the sum of its parts,
    a combined figure and its single months', or two figures over shared months and their
    sum with those months counted once."""
    evidence = finding.get("evidence")
    check = evidence.get("check") if isinstance(evidence, Mapping) else None
    if check == "combined":
        return "combined figure", "its single months, summed"
    if check == "overlap":
        return "both figures, summed", "months counted once"
    return "total", "sum of its parts"


def stable_id(
    kind: str, key: Sequence[str], period: str, period_end: str, freq: str = MONTHLY
) -> str:
    """A hash of kind, series key and periods: the same finding gets the same id in every
    scan. An annual series' ids also hash its ``freq`` (its periods are a year's first
    month, which a monthly series of the same key has too); monthly ids hash no ``freq``,
    as they did before it was kept, so saved scans and their ids stay comparable."""
    parts = [kind, *key, period, period_end]
    if freq and freq != MONTHLY:
        parts.append(freq)
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def with_severity_and_id(found: pd.DataFrame) -> pd.DataFrame:
    """``found`` (findings with their keys, periods, ``freq`` and ``score``) with the
    severity of each score and each finding's ``stable_id``."""
    found = found.assign(severity=severity_of(found["score"]))
    found["id"] = [
        stable_id(
            r.kind,
            (r.reporter, r.partner, r.flow, r.classification, r.commodity, r.breakdown),
            r.period,
            r.period_end,
            r.freq,
        )
        for r in found.itertuples()
    ]
    return found


def assemble(
    panel: Panel, frames: Sequence[pd.DataFrame], detectors: Sequence[Detector]
) -> pd.DataFrame:
    """Detections of one panel → findings frame (contract columns + classification,
    breakdown and freq, the panel's)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_findings()
    det = pd.concat(frames, ignore_index=True)
    det = drivers.attach(panel, _drop_superseded(det, detectors))
    keys = panel.keys.iloc[det["series"].to_numpy()].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "kind": det["kind"].to_numpy(),
            "reporter": keys["reporter"].to_numpy(),
            "partner": keys["partner"].to_numpy(),
            "flow": keys["flow"].to_numpy(),
            "commodity": keys["commodity"].to_numpy(),
            "classification": keys["classification"].to_numpy(),
            "breakdown": keys["breakdown"].to_numpy(),
            "freq": panel.freq,
            "period": panel.label(det["start"].to_numpy()),
            "period_end": panel.label(det["end"].to_numpy()),
            "observed": det["observed"].to_numpy(),
            "expected": det["expected"].to_numpy(),
            "currency": keys["currency"].to_numpy(),
            "impact": det["impact"].to_numpy(),
            "score": det["score"].to_numpy().round(3),
            "evidence": det["evidence"].to_numpy(),
        }
    )
    out = with_severity_and_id(out)
    by_kind = {d.kind: d for d in detectors}
    out["explanation"] = [explained(by_kind[rec["kind"]], rec) for rec in out.to_dict("records")]
    return out[[*FINDING_COLUMNS, *EXTRA_COLUMNS]]


def explained(detector: Detector, finding: Mapping) -> str:
    """The detector's explanation, then where an aggregate's change is (``drivers``): a
    finding's words, as assembled and as written again once completed from the store
    (``Detector.complete``)."""
    where = drivers.sentence(finding)
    return f"{detector.explain(finding)} {where}" if where else detector.explain(finding)


def _drop_superseded(det: pd.DataFrame, detectors: Sequence[Detector]) -> pd.DataFrame:
    """Drop findings that a finding of a superseding kind covers (same series, overlapping months)."""
    keep = np.ones(len(det), dtype=bool)
    for d in detectors:
        if not d.supersedes:
            continue
        winners = det[det["kind"] == d.kind]
        winners = winners[d.superseding(winners)]
        if winners.empty:
            continue
        losers = det[det["kind"].isin(d.supersedes)]
        if losers.empty:
            continue
        pairs = losers.reset_index().merge(winners, on="series", suffixes=("", "_w"))
        overlap = (pairs["start"] <= pairs["end_w"]) & (pairs["end"] >= pairs["start_w"])
        keep[pairs.loc[overlap, "index"].unique()] = False
    return det[keep].reset_index(drop=True)


#: The ranking, worst first, as (column, descending): severity (by ``SEVERITY_RANK``), then
#: money at stake in US dollars to the cent (``rank_impact``), then id; missing values last. ``rank``
#: sorts a frame by it and ``rank_sql`` orders the store's rows by it, so a saved scan reads
#: back in the order the scan ranked it in memory.
RANK_ORDER: tuple[tuple[str, bool], ...] = (
    ("severity", False),
    ("rank_impact", True),
    ("id", False),
)


def usd_rates_sql(keys: str, rates: str = "rates") -> str:
    """SELECT currency, period, per_usd: a rate for each (currency, period) of ``keys``.

    Impacts are in each finding's own currency, so ¥2.4T (about $22B) would outrank $23B;
    ranking compares them in US dollars. The rate is the finding's month's or, where the store
    lacks that month, the currency's nearest month's (the earlier on a tie): the order
    only needs the size. A currency without any rate gets no row, and its impact is
    ranked as it is, as is USD's.
    """
    month = "try_strptime(k.period, '%Y-%m')"
    distance = f"2 * abs(date_diff('month', r.period, {month})) + (r.period > {month})::INT"
    return f"""
        SELECT k.currency, k.period, arg_min(r.per_usd, {distance}) AS per_usd
        FROM (SELECT DISTINCT currency, period FROM {keys}) k
        JOIN {rates} r ON r.currency = k.currency
        GROUP BY k.currency, k.period"""


# The ranked impact from a finding's impact and its currency's rate (``usd_rates_sql``), to
# the cent: the two sides of a mirror pair differ in the last bits of a float, and each
# engine's arithmetic put them in another order (the id then decides, the same in both).
_RANK_IMPACT_SQL = "round(impact / coalesce(per_usd, 1.0), 2)"


def usd_impacts(findings: pd.DataFrame, con) -> pd.Series:
    """Each finding's impact in US dollars where ``con``'s store has a rate, else as it is."""
    if con is None:
        return _to_the_cent(findings["impact"])
    keys = findings[["currency", "period"]].dropna().drop_duplicates().astype(str)
    con.register("rank_keys", keys)
    try:
        rates = con.sql(usd_rates_sql("rank_keys")).df()
    finally:
        con.unregister("rank_keys")
    per_usd = findings[["currency", "period"]].merge(rates, how="left", on=["currency", "period"])
    return _to_the_cent(findings["impact"] / per_usd["per_usd"].fillna(1.0).to_numpy())


def _to_the_cent(amounts: pd.Series) -> pd.Series:
    """``amounts`` rounded to the cent, as ``_RANK_IMPACT_SQL`` does. From 10^15 on a
    float64 holds no cents to round (rounding a figure near its largest, 1.7e308, overflowed
    with a warning), and the amount stays as it is."""
    large = amounts.abs() >= 1e15
    return amounts.where(large, amounts.where(~large, 0.0).round(2))


def unconverted_currencies(currencies: Iterable[str], con) -> list[str]:
    """The currencies among ``currencies`` that a ranking compares as they are, sorted:
    where they are more than one, those other than the US dollar with no rate in ``con``'s
    store (¥2.25T, about $20B, then came before $82.4B). One currency alone is ranked
    right without rates."""
    held = {str(c) for c in currencies if c is not None and str(c)}
    return unpriced_currencies(held, con) if len(held) >= 2 else []


def unpriced_currencies(currencies: Iterable[str], con) -> list[str]:
    """The currencies among ``currencies``, other than the US dollar, with no rate in
    ``con``'s store, sorted: their findings' money is weighed for severity in their own
    units (``detectors.base.material_cap``), one currency alone included."""
    held = sorted({str(c) for c in currencies if c is not None and str(c) and str(c) != "USD"})
    if not held:
        return []
    rated = {r[0] for r in con.execute("SELECT DISTINCT currency FROM rates").fetchall()}
    return [c for c in held if c not in rated]


def unpriced_note(currencies: Sequence[str]) -> str:
    """What severity did with the money of ``currencies`` (``unpriced_currencies``): a
    store of Guinean francs alone had 'high' findings of about a dollar, said nowhere."""
    them = "it" if len(currencies) == 1 else "them"
    return (
        f"Severity weighs money in {', '.join(currencies)} as it stands, against a bar of "
        f"{MATERIAL_MONEY:,.0f} units meant as dollars: the store has no exchange rate for "
        f"{them}, so a finding worth a few dollars can be high (tradesentry rates FILE loads "
        "rates)."
    )


def unconverted_note(currencies: Sequence[str]) -> str:
    """What the ranking did with amounts of ``currencies`` (``unconverted_currencies``), in
    the words every output uses."""
    return (
        f"Amounts in {', '.join(currencies)} are ranked beside the others as they are: the "
        "store has no exchange rate for them (tradesentry rates FILE loads rates)."
    )


def _rank_key(column: pd.Series) -> pd.Series:
    return column.map(SEVERITY_RANK) if column.name == "severity" else column


def rank(findings: pd.DataFrame, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """Severity first (high before low), then money at stake, largest first, then id.

    ``con``, a connection to the store, converts the impacts to US dollars at the store's
    rates for the ordering (``usd_rates_sql``); without it they are compared as they are.
    The findings' own impact and currency are kept.
    """
    if findings.empty:
        return findings
    keyed = findings.assign(rank_impact=usd_impacts(findings, con))
    ordered = keyed.sort_values(
        [column for column, _ in RANK_ORDER],
        ascending=[not descending for _, descending in RANK_ORDER],
        kind="stable",
        key=_rank_key,
    )
    return ordered.drop(columns="rank_impact").reset_index(drop=True)


def rank_sql() -> str:
    """``RANK_ORDER`` as an ORDER BY list over ``read_saved``'s rows (findings and rate).

    ``rowid`` last: findings equal on every key keep the order they were written in, as
    the stable sort of ``rank`` keeps them in the frame's order.
    """
    severity = " ".join(f"WHEN '{s}' THEN {n}" for s, n in SEVERITY_RANK.items())
    expressions = {"severity": f"CASE severity {severity} END", "rank_impact": _RANK_IMPACT_SQL}
    terms = [
        f"{expressions.get(column, column)} {'DESC' if descending else 'ASC'} NULLS LAST"
        for column, descending in RANK_ORDER
    ]
    return ", ".join([*terms, "rowid"])


def read_saved(
    con, scan_id: int, where: str = "true", params: Sequence = (), limit: int | None = None
):
    """The findings of a saved scan matching ``where`` (``?`` parameters), ranked.

    Returns a DuckDB relation (nothing is read yet); ``saved_frame`` and ``Findings`` turn
    it into frames, whole or batch by batch. Rows saved before findings kept their series'
    ``freq`` (NULL), and a store of that schema opened read-only (no ``freq`` column), are
    of monthly series: their ``freq`` reads "M".
    """
    columns = ", ".join(_saved_column(c, con) for c in (*FINDING_COLUMNS, *EXTRA_COLUMNS))
    sql = (
        f"WITH f AS (SELECT *, rowid FROM findings WHERE scan_id = ? AND ({where})), "
        f"usd AS ({usd_rates_sql('f')}) "
        f"SELECT {columns} FROM f LEFT JOIN usd USING (currency, period) "
        f"ORDER BY {rank_sql()}" + ("" if limit is None else f" LIMIT {int(limit)}")
    )
    return con.sql(sql, params=[scan_id, *params])


def _saved_column(column: str, con) -> str:
    if column != "freq":
        return f"f.{column}"
    held = _keeps_freq(con)
    return f"coalesce(f.freq, '{MONTHLY}') AS freq" if held else f"'{MONTHLY}' AS freq"


def _keeps_freq(con) -> bool:
    """Whether the store's findings table has its ``freq`` column (schema 4)."""
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'main' "
            "AND table_name = 'findings' AND column_name = 'freq'"
        ).fetchall()[0][0]
    )


def saved_findings_sql(con) -> str:
    """The store's findings table as a subquery whose every row has its ``freq``: "M" for
    rows saved before findings kept it (NULL) and in a store of that schema opened
    read-only (no column), as ``read_saved`` reads them."""
    if _keeps_freq(con):
        return f"(SELECT * REPLACE (coalesce(freq, '{MONTHLY}') AS freq) FROM findings)"
    return f"(SELECT *, '{MONTHLY}' AS freq FROM findings)"


def last_month(frame: pd.DataFrame) -> pd.Series:
    """The last month each finding covers, YYYY-MM: its ``period_end``, or for an annual
    finding (``freq`` "A", whose ``period_end`` is its last year's first month) that year's
    December. "Findings ending in or after a month" compares this, so the year 2016 counts
    as ending in December 2016, not in January."""
    end = frame["period_end"].astype(str).str[:7]
    if "freq" not in frame.columns:
        return end
    return end.where(frame["freq"] != ANNUAL, end.str[:4] + "-12")


#: the orders findings are shown in besides their rank: the columns, and whether ascending
SORTS: dict[str, tuple[list[str], bool]] = {
    "impact": (["impact_usd"], False),  # in US dollars where the store has the rate
    "score": (["score"], False),
    "period": (["period", "period_end"], False),
    "kind": (["kind"], True),
    "series": (["reporter", "partner", "flow", "commodity", "period"], True),
}
#: every display order's name, the rank first: the dashboard's choices and its form's
SORT_NAMES: tuple[str, ...] = ("rank", *SORTS)


def ending_since(frame: pd.DataFrame, since: str) -> pd.DataFrame:
    """The findings of ``frame`` whose last month (``last_month``) is ``since`` or later."""
    return frame[(last_month(frame) >= since).to_numpy(dtype=bool)] if len(frame) else frame


def _decoded(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame of stored findings with evidence parsed back from JSON text."""
    frame["evidence"] = frame["evidence"].map(lambda s: json.loads(s) if s else {})
    return frame


def saved_frame(
    con, scan_id: int, where: str = "true", params: Sequence = (), limit: int | None = None
) -> pd.DataFrame:
    """``read_saved`` as one ranked frame, evidence as dicts (the shape ``rank`` gives)."""
    return _decoded(read_saved(con, scan_id, where, params, limit).df())


#: the findings' numbers: an empty frame gives them its dtype, as a saved scan's empty read
#: does (object columns of no rows would not sum or compare as numbers)
_NUMBER_COLUMNS = ("observed", "expected", "impact", "score")


def empty_findings() -> pd.DataFrame:
    columns = [*FINDING_COLUMNS, *EXTRA_COLUMNS]
    return pd.DataFrame(
        {c: pd.Series(dtype=float if c in _NUMBER_COLUMNS else object) for c in columns}
    )


_STREAM_BATCH = 10_000
#: the most findings a saved scan hands back in memory (``Findings.of_scan``): about 7 KB
#: each once their evidence is parsed, and a tenth of a millisecond each to read
IN_MEMORY_AT_MOST = 10_000


class Findings:
    """The result of a scan: ranked findings with the contract's columns.

    Either a frame in memory, or a saved scan in the store (``from_store``): a large scan's
    findings then stay on disk until something needs them. ``len`` counts in SQL, iteration
    reads batch by batch and ``head`` reads only its rows; anything else loads the whole
    ranked frame once, on first use, and needs the store open.
    """

    def __init__(self, frame: pd.DataFrame, scan_id: int | None = None):
        self._loaded: pd.DataFrame | None = frame.reset_index(drop=True)
        self.scan_id = scan_id
        self._store: Store | None = None
        self._count: int | None = None
        self._too_many: int | None = None  # the count that kept a scan in the store

    @classmethod
    def from_store(cls, store: Store, scan_id: int) -> Findings:
        """The findings of saved scan ``scan_id``, read from ``store`` only when needed.

        The store must stay open while they are used.
        """
        found = cls(empty_findings(), scan_id)
        found._loaded, found._store = None, store
        return found

    @classmethod
    def of_scan(cls, store: Store, scan_id: int) -> Findings:
        """What a scan saved in ``store`` returns: its findings in memory, as ``findings``
        returns a saved scan's, so that they outlive the store, as a pandas frame does
        (``with open_store(p) as store: found = store.scan()`` then ``found.to_frame()`` had
        failed once the store was closed); a scan of more than ``IN_MEMORY_AT_MOST``
        findings stays in the store (``from_store``), where memory holds a batch of them at
        a time, and is used while the store is open, as a DuckDB relation is."""
        count = store.cursor().execute("SELECT count(*) FROM findings WHERE scan_id = ?", [scan_id])
        (total,) = count.fetchone()
        if total <= IN_MEMORY_AT_MOST:
            return cls(saved_frame(store.cursor(), scan_id), scan_id)
        found = cls.from_store(store, scan_id)
        found._too_many = total
        return found

    @property
    def _frame(self) -> pd.DataFrame:
        if self._loaded is None:
            self._loaded = saved_frame(self._cursor(), self.scan_id)
        return self._loaded

    def _cursor(self):
        try:
            return self._store.cursor()
        except duckdb.ConnectionException as exc:
            many = (
                ""
                if self._too_many is None
                else f", {self._too_many:,} (more than {IN_MEMORY_AT_MOST:,} are not held in "
                "memory),"
            )
            raise StoreError(
                f"the findings of scan {self.scan_id}{many} are read from the store as they "
                "are used, and it was closed: use them before closing it, or open it again "
                f"and read them with store.findings(scan_id={self.scan_id})"
            ) from exc

    def _stored(self) -> bool:
        """True while the findings are in the store only (not loaded into a frame)."""
        return self._loaded is None

    def currencies(self) -> list[str]:
        """The currencies of the findings' amounts, sorted (read from the store while the
        findings are only there)."""
        if self._stored():
            rows = self._cursor().execute(
                "SELECT DISTINCT currency FROM findings WHERE scan_id = ? AND currency IS NOT NULL",
                [self.scan_id],
            )
            return sorted(str(r[0]) for r in rows.fetchall())
        return sorted({str(c) for c in self._loaded["currency"].dropna()})

    def __len__(self) -> int:
        if not self._stored():
            return len(self._loaded)
        if self._count is None:
            self._count = (
                self._cursor()
                .execute("SELECT count(*) FROM findings WHERE scan_id = ?", [self.scan_id])
                .fetchone()[0]
            )
        return self._count

    def __iter__(self) -> Iterator[dict]:
        if not self._stored():
            return iter(self.to_records())
        return self._stream()

    def _stream(self) -> Iterator[dict]:
        """Records of the saved scan, ranked, a batch at a time (memory of one batch)."""
        for frame in self.frames():
            yield from _records(frame)

    def frames(self) -> Iterator[pd.DataFrame]:
        """The ranked findings as frames of at most 10,000 rows, at least one (empty when
        there are none): a saved scan is read a batch at a time, so memory holds one batch
        whatever the size of the scan (findings held in memory are cut alike)."""
        if not self._stored():
            frame = self._frame
            for start in range(0, max(len(frame), 1), _STREAM_BATCH):
                yield frame.iloc[start : start + _STREAM_BATCH].copy()
            return
        reader = read_saved(self._cursor(), self.scan_id).to_arrow_reader(_STREAM_BATCH)
        empty = True
        for batch in reader:
            if batch.num_rows:
                empty = False
                yield _decoded(batch.to_pandas())
        if empty:
            yield empty_findings()

    def __getitem__(self, i: int) -> dict:
        return self.to_records()[i]

    def head(self, n: int) -> Findings:
        """The ``n`` worst findings (for a saved scan, only those rows are read)."""
        from tradesentry import arguments

        # checked once, for both: a saved scan gave n to SQL's LIMIT, a frame to pandas
        if n is None:
            raise InputError("n None: expected a whole number, 0 or more")
        n = arguments.whole_number(n, "n", 0)
        if self._stored():
            return Findings(saved_frame(self._cursor(), self.scan_id, limit=n), self.scan_id)
        return Findings(self._frame.head(n), self.scan_id)

    def to_frame(self) -> pd.DataFrame:
        """The findings as a frame, its columns in the order of the JSON and CSV outputs
        (``RECORD_COLUMNS``): a frame written out, or set beside a file, reads the same."""
        frame = self._frame
        order = [c for c in RECORD_COLUMNS if c in frame.columns]
        return frame[[*order, *(c for c in frame.columns if c not in order)]].copy()

    def to_records(self) -> list[dict]:
        """Findings as plain dicts in the contract's shape (JSON-ready)."""
        return _records(self._frame)

    def to_json(self, lines: bool = False) -> str:
        out = io.StringIO()
        self.write_json(out, lines)
        return out.getvalue()

    def write_json(self, out: TextIO, lines: bool = False) -> None:
        """Write the findings as one JSON array (``json.dumps(records, indent=1)``'s text) or
        as JSON lines, record by record: a saved scan streams from the store."""
        if lines:
            for record in self:
                out.write(json_text(record) + "\n")
            return
        out.write("[")
        written = 0
        for record in self:
            text = json_text(record, indent=1)
            out.write(("," if written else "") + "\n" + textwrap.indent(text, " "))
            written += 1
        out.write("\n]" if written else "]")

    def filter(self, **criteria) -> Findings:
        """The findings whose columns hold the values given (one value or a list; None:
        any), read as ``scan`` reads its filters: codes in any case or a country's name, a
        kind, severity, flow or freq among the choices. An unknown value, or a keyword no
        column answers to, is an InputError naming the choices: ``filter(kind="spikes")``
        and ``filter(reporter="chn")`` answered "no findings", ``filter(foo=1)`` a KeyError."""
        from tradesentry import arguments

        unknown = sorted(set(criteria) - set(FILTERS))
        if unknown:
            raise InputError(f"filter: no column {unknown[0]!r}; filter by {', '.join(FILTERS)}")
        key = arguments.series_filters(
            *(criteria.get(k) for k in ("reporter", "partner", "flow", "commodity"))
        )
        criteria |= {k: v for k, v in key.items() if k in criteria}
        readers = {
            "kind": lambda v: arguments.kinds(v, "kind"),
            "severity": arguments.severities,
            "freq": lambda v: arguments.each(v, arguments.freq, "freq"),
            # kept in upper case, as the store keeps them
            "classification": lambda v: arguments.each(v, str.upper, "classification"),
            "currency": lambda v: arguments.each(v, str.upper, "currency"),
        }
        for name, read in readers.items():
            if criteria.get(name) is not None:
                criteria[name] = read(criteria[name])
        frame = self._frame
        for column, wanted in criteria.items():
            if wanted is None:
                continue
            values = wanted if isinstance(wanted, list | tuple | set) else [wanted]
            frame = frame[frame[column].isin(values)]
        return Findings(frame, self.scan_id)

    def in_months(self, since: str | None = None, until: str | None = None) -> Findings:
        """The findings that end in or after ``since`` (``YYYY-MM``; an annual finding ends
        in its year's December) and start in or before ``until``: the months a reader asks
        about, as ``scan --since`` keeps them."""
        from tradesentry import arguments

        since, until = arguments.month(since, "since"), arguments.month(until, "until")
        frame = self._frame
        if since:
            frame = ending_since(frame, since)
        if until:
            frame = frame[frame["period"] <= until]
        return Findings(frame, self.scan_id)

    def sorted_by(
        self,
        sort: str = "rank",
        order: str | None = None,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> Findings:
        """The ranked findings re-ordered for display: ``sort`` one of ``SORTS`` (``rank``,
        as they are), ``order`` ``asc`` or ``desc`` (None: the sort's own); ties keep their
        rank order. Money at stake is compared in US dollars at ``con``'s store's rates, as
        the rank compares it (¥2.25 trillion is not more than $82 billion)."""
        if sort not in SORT_NAMES:
            raise InputError(f"sort: {sort!r} is none of {', '.join(SORT_NAMES)}")
        if order not in (None, "asc", "desc"):
            raise InputError(f"order: {order!r} is none of asc, desc")
        frame = self._frame
        if sort == "rank" or frame.empty:
            return Findings(frame.iloc[::-1] if order == "asc" else frame, self.scan_id)
        columns, ascending = SORTS[sort]
        if order is not None:
            ascending = order == "asc"
        keyed = frame.assign(impact_usd=usd_impacts(frame, con)) if sort == "impact" else frame
        ordered = keyed.sort_values(columns, ascending=ascending, kind="stable", na_position="last")
        return Findings(ordered.drop(columns="impact_usd", errors="ignore"), self.scan_id)

    def _repr_html_(self) -> str:
        from html import escape

        cols = [
            "severity",
            "kind",
            "reporter",
            "partner",
            "flow",
            "commodity",
            "period",
            "impact",
            "explanation",
        ]
        try:
            total, head = len(self), self.head(_HTML_ROWS).to_frame()
        except StoreError:  # a notebook shows what it holds whatever became of the store
            return f"<p>{escape(self._closed())}</p>"
        named = _series_names(head)
        shown = []
        for r, name in zip(_records(head), named, strict=True):  # a year for an annual one
            r["period"] = period_span(r["period"], r["period_end"], r["freq"], "…")
            r["impact"] = money(r["impact"], r["currency"] or "")
            r["commodity"] = name
            shown.append("".join(f"<td>{escape(printable(r[c]))}</td>" for c in cols))
        rows = "".join(f"<tr>{row}</tr>" for row in shown)
        said = plural(total, "finding")
        if total > len(shown):  # the table is cut: never read as all there is
            said = f"{said}: the {len(shown)} worst shown"
        head_row = "".join(f"<th>{escape(c)}</th>" for c in cols)
        return f"<p>{escape(said)}</p><table><tr>{head_row}</tr>{rows}</table>"

    def __repr__(self) -> str:
        try:
            return f"Findings({plural(len(self), 'finding')}, scan {self.scan_id})"
        except StoreError:  # a repr that raises breaks a notebook's display and a traceback
            return self._closed()

    def _closed(self) -> str:
        return f"Findings(scan {self.scan_id}; its store is closed)"


#: the rows ``Findings._repr_html_`` shows, the worst first
_HTML_ROWS = 50
#: the columns that tell apart series of the same reporter, partner, flow and commodity
_SERIES_APART = ("classification", "breakdown", "freq")


def series_apart(frame: pd.DataFrame) -> list[str]:
    """For each finding, what tells its series apart from the others of its reporter,
    partner, flow and commodity among ``frame``'s findings (" (H5, annual)": the same code
    under H5 yearly and under HS monthly read as one row twice), or, where none shares its
    codes, its part of the flow (a part is never read as the whole); "" otherwise. The
    command line's table and the notebook's say it alike."""
    from tradesentry.monitor import words

    if frame.empty:
        return []
    keys = ["reporter", "partner", "flow", "commodity"]
    apart = frame.reindex(columns=[*keys, *_SERIES_APART]).fillna(
        {"classification": "", "breakdown": "", "freq": MONTHLY}
    )
    counts = apart.groupby(keys)[list(_SERIES_APART)].transform("nunique")
    out = []
    for row, differ in zip(apart.to_dict("records"), counts.to_dict("records"), strict=True):
        said = {
            "classification": row["classification"],
            "breakdown": row["breakdown"] or "whole flow",
            "freq": "annual" if row["freq"] == ANNUAL else "monthly",
        }
        several = [said[c] for c in _SERIES_APART if differ[c] > 1]
        if several:
            out.append(f" ({', '.join(several)})")
        else:
            out.append(words.part(row["breakdown"]) if row["breakdown"] else "")
    return out


def _series_names(frame: pd.DataFrame) -> list[str]:
    """Each finding's commodity and what tells its series apart (``series_apart``)."""
    return [
        f"{commodity}{apart}"
        for commodity, apart in zip(frame.get("commodity", []), series_apart(frame), strict=True)
    ]


#: what ``Findings.filter`` takes: the series' key and the finding's kind and severity
FILTERS = (
    "kind",
    "severity",
    "reporter",
    "partner",
    "flow",
    "commodity",
    "classification",
    "breakdown",
    "freq",
    "currency",
)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows of a findings frame as plain dicts in the contract's shape, with the series'
    classification, breakdown ("" for the whole flow) and ``freq`` ("M" where a frame lacks
    it), JSON-ready."""
    records = []
    frame = frame.assign(
        **{
            k: v
            for k, v in (("freq", MONTHLY), ("classification", None), ("breakdown", ""))
            if k not in frame.columns
        }
    )
    for rec in frame[list(RECORD_COLUMNS)].to_dict("records"):
        rec["freq"] = rec["freq"] if isinstance(rec["freq"], str) and rec["freq"] else MONTHLY
        rec["breakdown"] = rec["breakdown"] if isinstance(rec["breakdown"], str) else ""
        for k in ("observed", "expected", "impact", "score"):
            v = rec[k]
            rec[k] = (
                None if v is None or (isinstance(v, float) and not np.isfinite(v)) else float(v)
            )
        rec["evidence"] = _jsonable(rec["evidence"])
        records.append(rec)
    return records


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Findings as the rows of every CSV the tool writes (``scan --format csv``, the web's
    findings.csv): the records' columns in their order, as JSON has them, with the evidence
    as JSON text. (Formulas are neutralised by the writer: ``text.csv_safe``.)"""
    out = pd.DataFrame(_records(frame), columns=list(RECORD_COLUMNS))
    out["evidence"] = out["evidence"].map(evidence_json)
    return out


def evidence_json(evidence) -> str:
    """A finding's evidence as JSON text, the one encoding every output uses: NaN and
    infinities as null (JSON has no NaN), NumPy values as plain numbers, anything else
    unknown as its text."""
    return json.dumps(_jsonable(evidence or {}), ensure_ascii=False, default=str)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
