"""The one facade: the CLI, the report and the dashboard read the store and run the
detectors through these functions, and keep to display (they also name a few pure
helpers of the core: the detectors' registry for the kinds' names, ``findings`` for a
period filter and dollars, ``level_shift.new_level_lasts`` for a chart's line).

No Typer, FastAPI or Jinja here: the functions take and return plain Python and pandas.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from tradesentry import arguments, context, schema
from tradesentry.detectors import default_detectors, drivers
from tradesentry.detectors.base import Detector
from tradesentry.errors import InputError, SeriesChoice
from tradesentry.findings import (
    Findings,
    empty_findings,
    ending_since,
    evidence_json,
    rank,
    saved_findings_sql,
    saved_frame,
    unconverted_currencies,
    unconverted_note,
    unpriced_currencies,
    unpriced_note,
    usd_rates_sql,
)
from tradesentry.held import first_unheld, not_held
from tradesentry.scope import ScanScope
from tradesentry.store import NEXT_SCAN_ID, Store


def check_selection(
    store: Store,
    filters: dict,
    source: str = "the store",
    since: str | None = None,
    stops: bool = False,
) -> None:
    """Filters that select no series of the store are a mistake to name (a code mistyped,
    a country the store does not hold), not a scan that found nothing; so is one value of
    several that selects none (``--reporter CHN --reporter CHNIA`` would otherwise read as
    a scan of both that found nothing for the second), and a ``since`` after the
    selection's last month (no finding can end after it: a monitor's scan with
    ``--fail-on`` would pass for good; with ``stops``, a scan reading series that stopped
    from the store, the selection's whole records, which such a gap runs to). ``source``
    names what is read in the message (the Spark engine's ``--input``: "the input")."""
    _check_filters(store, filters, source)
    if since:
        _check_since(store.con.cursor(), filters, since, source, stops)


def check_months(
    store: Store,
    since: str | None,
    until: str | None,
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    flow: str | list[str] | None = None,
    commodity: str | list[str] | None = None,
) -> None:
    """InputError where the months asked select nothing by themselves: ``since`` after
    the last month the selected series hold (their records' last, where a stop runs to
    it), or ``until`` before their first: the dashboard's filters are checked as ``scan``
    and ``findings`` check ``since``. A ``since`` after ``until`` is no mistake: it keeps
    the findings that span both."""
    from tradesentry.engines.local import series_filter_sql

    since, until = arguments.month(since, "since"), arguments.month(until, "until")
    filters = arguments.series_filters(reporter, partner, flow, commodity)
    con = store.con.cursor()
    if since:
        _check_since(con, filters, since, "the store", stops=True, option="since")
    if until:
        where, params = series_filter_sql(filters)
        first = con.execute(
            f"SELECT strftime(min(period), '%Y-%m') FROM observations WHERE {where}", params
        ).fetchone()[0]
        if first is not None and until < first:
            raise InputError(
                f"until {until} is before the first month {_selected('the store', filters)} "
                f"hold ({first}): no finding can start before it"
            )


def _check_since(
    con, filters: dict, since: str, source: str, stops: bool, option: str = "--since"
) -> None:
    """The selection's last month; with ``stops``, that of the records it belongs to: a
    series that stopped is a gap to its reporter's record's end, later than its own last
    month, so the check then reads every series of the selected reporters and flows."""
    from tradesentry.engines.local import series_filter_sql

    read = {k: v for k, v in filters.items() if k in ("reporter", "flow")} if stops else filters
    where, params = series_filter_sql(read)
    last = con.execute(
        "SELECT strftime(max(period + to_months(period_months - 1)), '%Y-%m') "
        f"FROM observations WHERE {where}",
        params,
    ).fetchone()[0]
    if last is not None and last < since:
        raise InputError(
            f"{option} {since} is after the last month {_selected(source, filters)} hold "
            f"({last}): no finding can end after it"
        )


def _selected(source: str, filters: dict) -> str:
    """The series a selection names, in words: "the store's series of flow export"."""
    if any(filters.values()):
        return f"{source}'s series of {arguments.describe(filters)}"
    return f"{source}'s series"


def _check_filters(store: Store, filters: dict, source: str) -> None:
    if not any(filters.values()):
        return
    several = (v for k, v in filters.items() if v and k != "flow" and not isinstance(v, str))
    if any(len(v) > 1 for v in several):
        unheld = _unheld_code(store.con.cursor(), filters, source)
        if unheld:
            column, code, held = unheld
            raise InputError(
                f"no series in {source} has {column} {code} (of {arguments.describe(filters)}): "
                f"{held}; leave it out to scan the others"
            )
    from tradesentry.engines.local import series_filter_sql

    where, params = series_filter_sql(filters)
    # Every series of ``observations`` is in the current view (its latest release's rows),
    # and this stops at the first match: no pass over the current view's window.
    sql = f"SELECT 1 FROM observations WHERE {where} LIMIT 1"
    if store.con.cursor().execute(sql, params).fetchone() is None:
        raise InputError(
            f"no series in {source} matches {arguments.describe(filters)}: "
            f"{not_held(store.con.cursor(), filters, source)}"
        )


def scan(
    store: Store | None,
    *,
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    flow: str | list[str] | None = None,
    commodity: str | list[str] | None = None,
    since: str | None = None,
    kinds: Iterable[str] | None = None,
    engine: str = "local",
    chunk_series: int | None = None,
    save: bool = True,
    progress: Callable[[int], None] | None = None,
    **engine_options,
) -> Findings:
    """Run the detectors over the store's current view and return ranked findings.

    Filters select whole series (their full history is always used): one code or a list,
    in any case (``chn`` is CHN; a country may be named), flows among ``schema.FLOWS``;
    filters that match no series of the store are an InputError. ``kinds`` is one
    detector kind or a list of them (None: every detector). ``since`` (YYYY-MM) keeps
    findings that end in or after that month (an annual finding ends in its year's
    December, whatever month its ``period_end`` names). ``engine_options`` go to the engine
    (``spark``: ``master``, ``input``, ``findings_out``); any other keyword is an
    InputError. The scan is saved in the store as it runs, chunk by chunk, in one
    transaction, so memory holds one chunk's findings, not the scan's (and the findings of
    the kinds that read context of findings until the scan ends: gaps, level shifts and
    single months, ``Detector.finding_needs``). The findings returned are read back into
    memory, and outlive the store, up to ``findings.IN_MEMORY_AT_MOST``; more are read from
    the store as they are used, while it is open (``Findings.of_scan``). With ``save=False``
    they are gathered and ranked in memory instead.

    A Spark scan of ``input`` reads data that are not the store's: it is never saved in
    the store (whatever ``save`` says), so the store's history (``new_findings``,
    ``resolved_findings``, ``covering_scan``, the digest) only ever holds scans of the
    store itself. ``store`` may then be None; the findings come back in memory, ranked by
    impact as given (the store's exchange rates are not the input's).
    """
    own = [p for p in inspect.signature(scan).parameters if p not in ("store", "engine_options")]
    arguments.check_engine(engine, engine_options, own)
    if store is not None:
        _a_store(store)
    # "--since": the command line's words, whose scan this is too (``Store.scan``, which
    # only Python calls, names the argument)
    since = arguments.month(since, "--since")
    chunk_series = arguments.whole_number(chunk_series, "chunk_series")
    save = arguments.flag(save, "save")
    progress = arguments.callback(progress, "progress", "the number of observations read")
    kinds = arguments.kinds(kinds)
    detectors = default_detectors(kinds)
    filters = arguments.series_filters(reporter, partner, flow, commodity)
    foreign = engine_options.get("input") is not None  # Spark's --input: not the store's data
    if store is None and not foreign:
        raise InputError("scan: a store is needed (only a Spark scan of input= reads none)")
    if not foreign:
        if save:
            store.check_writable("scan(save=False) reads it without saving")
        _check_figures(store)
        stops = any(type(d).from_store is not Detector.from_store for d in detectors)
        check_selection(store, filters, since=since, stops=stops)
    options = dict(engine_options)
    # what is completed from the store: by api after the local engine's last chunk, by the
    # Spark engine itself on the driver, before it writes --findings-parquet
    completing = detectors if engine == "local" else ()
    if engine == "spark":
        options["since"] = since
        if not foreign:
            options["complete"] = lambda frame: _completed(
                store.con.cursor(), detectors, frame, filters, since
            )
    engine_chunks = _scan_chunks(store, detectors, filters, engine, chunk_series, progress, options)
    # the engine is stopped on any exit (its reader joined, its cursor cleaned up), not when
    # a kept traceback lets go of it
    with _closed_at_exit(engine_chunks):
        chunks = (_since(frame, since) for frame in engine_chunks)
        if foreign:
            parts = list(chunks)
            frame = pd.concat(parts, ignore_index=True) if parts else empty_findings()
            return Findings(rank(frame, _input_rates(engine_options["input"])), None)
        if not save:
            parts = list(chunks)
            frame = pd.concat(parts, ignore_index=True) if parts else empty_findings()
            frame = _completed(store.con.cursor(), completing, frame, filters, since)
            return Findings(rank(frame, store.con.cursor()), None)
        scan_id = _save_scan(store, chunks, filters, since, kinds, engine, completing)
    return Findings.of_scan(store, scan_id)


def _check_figures(store: Store) -> None:
    """An InputError where the store holds no figures: its scan found nothing because there
    was nothing to look at, and "No findings" (a pipeline's ``--fail-on`` passing) would
    read as a clean bill (a mistyped store path makes a new, empty store)."""
    if store.con.cursor().execute("SELECT 1 FROM observations LIMIT 1").fetchone() is None:
        raise InputError(f"{store.path}: the store holds no figures: ingest a file first")


def _input_rates(path: str) -> duckdb.DuckDBPyConnection | None:
    """An in-memory connection holding the rates of an export given as Spark's ``input``,
    for ``rank`` (¥2.8T had outranked $82B there, as a scan of the store does not)."""
    from tradesentry.engines.spark import input_rates

    rates = input_rates(str(path))
    if rates is None:
        return None
    con = duckdb.connect()
    con.register("input_rates", rates)
    # a date, or text YYYY-MM(-DD) as a rates file writes it; other periods rank unconverted
    period = "CAST(period AS VARCHAR)"
    con.execute(
        f"CREATE TABLE rates AS SELECT currency, coalesce(TRY_CAST({period} AS DATE), "
        f"CAST(try_strptime({period}, '%Y-%m') AS DATE)) AS period, per_usd "
        "FROM input_rates"
    )
    con.unregister("input_rates")
    return con


@contextmanager
def _closed_at_exit(chunks: Iterator) -> Iterator[None]:
    """Close ``chunks`` (a generator's ``close``; an engine's list has none) on leaving."""
    try:
        yield
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _scan_chunks(
    store: Store, detectors, filters: dict, engine: str, chunk_series, progress, options: dict
) -> Iterator[pd.DataFrame]:
    """Unranked findings frames as the engine produces them (the local engine: per chunk).

    ``options`` are the engine's own, checked by ``arguments.check_engine``.
    """
    sizes = {"chunk_series": chunk_series} if chunk_series else {}
    if engine == "local":
        from tradesentry.engines import local

        return local.scan_chunks(store.con.cursor(), detectors, filters, progress=progress, **sizes)
    if engine == "spark":
        from tradesentry.engines import spark

        # Spark collects its findings on the driver: one frame, saved as one chunk.
        return iter([spark.scan(store, detectors, filters, **sizes, **options)])
    raise InputError(f"unknown engine {engine!r}; choose from {', '.join(arguments.ENGINES)}")


def _completed(
    con, detectors, frame: pd.DataFrame, filters: Mapping, since: str | None
) -> pd.DataFrame:
    """Findings with those no panel can hold (``Detector.from_store``: a series' months
    after its last report), then completed with the context of findings their detectors
    name (``Detector.finding_needs``, read from the store by ``context.FINDING_CONTEXT``):
    a gap's months have no rows for the panel to join the partner's record to. Once per
    scan, after every chunk: one read of the store, not one per chunk, within the scan's
    DuckDB memory budget (``engines.local.memory_budget``: uncapped, the read of every row
    for the stops took 3.4 GB at 10^7 rows)."""
    from tradesentry.engines.local import memory_budget

    with memory_budget(con):
        read = [_since(d.from_store(con, filters), since) for d in detectors]
        read = [f for f in read if len(f)]
        if read:
            frame = pd.concat([f for f in (frame, *read) if len(f)], ignore_index=True)
        read = _finding_context(con, detectors, frame)
        for detector in detectors:
            mine = set(frame.index[frame["kind"] == detector.kind])
            if not detector.finding_needs or not mine:
                continue
            found = {
                need: {i: record for i, record in read[need].items() if i in mine}
                for need in detector.finding_needs
            }
            frame = detector.complete(frame, found)
        # a world finding whose chunk was cut between its partners: read by partner here
        frame = drivers.completed_from_store(con, detectors, frame)
    return frame


def _finding_context(con, detectors, frame: pd.DataFrame) -> dict[str, dict]:
    """Each context of findings named by the detectors, read once for the findings of every
    detector that names it together, by index (``context.reporter_along`` counts a level
    shift, a dip and a figure near zero of one record and month as one move)."""
    read: dict[str, dict] = {}
    for need in dict.fromkeys(n for d in detectors for n in d.finding_needs):
        kinds = [d.kind for d in detectors if need in d.finding_needs]
        asked = frame[frame["kind"].isin(kinds)]
        read[need] = context.FINDING_CONTEXT[need](asked, con) if len(asked) else {}
    return read


def _since(frame: pd.DataFrame, since: str | None) -> pd.DataFrame:
    """Findings ending in or after ``since`` (an annual finding at its year's December);
    per chunk, so no chunk is kept to filter later."""
    if since and len(frame):
        return ending_since(frame, since)
    return frame


def _save_scan(
    store: Store,
    chunks: Iterable[pd.DataFrame],
    filters: dict,
    since,
    kinds,
    engine,
    detectors: Sequence[Detector] = (),
) -> int:
    """Write the scan row and each chunk's findings as they come (those completed from the
    store once every chunk is in: ``_completed``), in one transaction.

    An interrupted scan (an error, Ctrl-C) rolls back: the store keeps no scan row and no
    findings of it, as if it had not run. The scan's own cursor reads the observations
    meanwhile; this one only writes.
    """
    params = json.dumps(
        {**filters, "since": since, "kinds": list(kinds) if kinds else None, "engine": engine}
    )
    con = store.con.cursor()
    con.execute("BEGIN TRANSACTION")
    try:
        scan_id = con.execute(
            "INSERT INTO scans (id, started_at, parameters, findings, release) VALUES "
            f"({NEXT_SCAN_ID}, ?, ?, 0, (SELECT coalesce(max(id), 0) FROM releases)) RETURNING id",
            [datetime.now(), params],
        ).fetchall()[0][0]
        # the kinds completed from the store are held until every chunk is in (``_completed``),
        # and so are the world findings read by partner from the store, and what they name
        later = [d.kind for d in detectors if d.finding_needs]
        total, held = 0, []
        for frame in chunks:
            wait = frame["kind"].isin(later).to_numpy()
            if detectors:
                wait |= drivers.waiting(frame)
            held.append(frame[wait])
            total += _insert_findings(con, scan_id, frame[~wait])
        if detectors:
            waiting = pd.concat(held, ignore_index=True) if held else empty_findings()
            done = _completed(con, detectors, waiting, filters, since)
            total += _insert_findings(con, scan_id, done)
        con.execute("UPDATE scans SET findings = ? WHERE id = ?", [total, scan_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return scan_id


def _insert_findings(con, scan_id: int, frame: pd.DataFrame) -> int:
    """Append one chunk's findings (evidence as JSON text) to the store; their number."""
    if not len(frame):
        return 0
    rows = frame.assign(scan_id=scan_id, evidence=frame["evidence"].map(evidence_json))
    con.register("new_findings", rows)
    try:
        con.execute(
            "INSERT INTO findings BY NAME SELECT scan_id, id, kind, reporter, partner, flow, "
            "commodity, classification, breakdown, freq, period, period_end, observed, expected, "
            "currency, impact, score, severity, explanation, evidence FROM new_findings"
        )
    finally:
        con.unregister("new_findings")
    return len(frame)


def findings(
    store: Store,
    *,
    scan_id: int | None = None,
    kind: str | list[str] | None = None,
    severity: str | list[str] | None = None,
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    flow: str | list[str] | None = None,
    commodity: str | list[str] | None = None,
    classification: str | None = None,
    freq: str | None = None,
    since: str | None = None,
    **unknown: object,
) -> Findings:
    """Findings of a saved scan, filtered; no detector runs.

    The scan read is the latest saved (or ``scan_id``), whatever the filters: a filter
    narrows that scan's findings and never reads another scan (an older one may rest on
    figures since revised). Where that scan did not look at what is asked
    (``ScanScope.outside``: after a full scan and then ``scan(kinds="spike")``,
    ``kind="level_shift"``), that is an InputError saying what it was limited to, not
    "0 findings"; what a query leaves open it reads as the scan covered it (``scan_info``
    says how). With no scan saved at all, the answer is empty and of no scan
    (``scan_id`` None: nothing found so far).

    Codes are normalised as ``scan`` does; an unknown scan id, kind, severity, flow or
    freq is an InputError naming the choices (never an empty answer that reads "no
    findings"), and so is a keyword ``findings`` does not take. ``since`` (YYYY-MM) keeps
    the findings whose last month is in or after it (an annual finding's last month is its
    year's December: ``findings.last_month``).
    """
    own = [p for p in inspect.signature(findings).parameters if p not in ("store", "unknown")]
    arguments.check_keywords("findings", unknown, own)
    _a_store(store)
    since = arguments.month(since, "since")
    freq = None if freq is None else arguments.freq(freq)
    kind = arguments.kinds(kind, "kind")
    severity = arguments.severities(severity)
    filters = arguments.series_filters(reporter, partner, flow, commodity)
    con = store.con.cursor()
    if classification is not None:  # blank is none, as before the type was checked
        classification = arguments.stored_upper(
            arguments.text(classification, "classification").strip()
        )
        classification = classification or None
    _check_codes(con, filters, classification)
    if since:  # after every month the selection holds: a mistake, not "no findings"
        _check_since(con, filters, since, "the store", stops=True, option="since")
    latest = scan_id is None
    if latest:
        scan_id = _latest_scan(con)
        if scan_id is None:  # no scan saved yet: nothing found so far, no mistake
            return Findings(empty_findings(), None)
    else:
        _check_scan(con, scan_id)
    scope = ScanScope.of(scan_info(store, scan_id))
    outside = scope.outside(filters, kind, since)
    if outside:  # "0 findings" from a scan that never looked would read as a clean bill
        which = f"the latest scan, scan {scan_id}," if latest else f"scan {scan_id}"
        earlier = "; scan them, or name an earlier scan with scan_id=" if latest else ""
        raise InputError(
            f"{which} did not look at {'; '.join(outside)}: it was limited to "
            f"{', '.join(scope.terms())}{earlier}"
        )
    return _saved_findings(store, scan_id, filters, kind, severity, classification, freq, since)


def _saved_findings(
    store: Store,
    scan_id: int,
    filters: dict,
    kind: list[str] | None = None,
    severity: str | list[str] | None = None,
    classification: str | None = None,
    freq: str | None = None,
    since: str | None = None,
) -> Findings:
    """The findings of saved scan ``scan_id`` that the filters (read as ``findings`` reads
    them) keep, whatever the scan looked at."""
    # Only the rows asked for are read, so one series' or one kind's findings do not parse
    # the whole scan's evidence (values bound). ``freq`` is filtered once read: rows saved
    # before it was kept read as "M".
    where, params = "true", []
    asked = (*filters.items(), ("classification", classification))
    for column, value in (*asked, ("kind", kind), ("severity", severity)):
        if isinstance(value, str):
            where += f" AND {column} = ?"
            params.append(value)
        elif value:
            where += f" AND {column} IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(value))
    frame = saved_frame(store.con.cursor(), scan_id, where, params)
    found = Findings(frame, scan_id).filter(
        kind=kind, severity=severity, classification=classification, freq=freq, **filters
    )
    if since:
        found = Findings(ending_since(found.to_frame(), since), scan_id)
    return found


def _a_store(store) -> None:
    """An InputError for what is not an open store: a path given where a ``Store`` is
    wanted failed deep inside with "'str' object has no attribute 'con'"."""
    if not isinstance(store, Store):
        shown = repr(store)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise InputError(
            f"store: expected a Store, not {type(store).__name__} {shown}; "
            "open it with tradesentry.open_store(path)"
        )


def _unheld_code(con, filters: dict, source: str = "the store") -> tuple[str, str, str] | None:
    """The first code of ``filters`` no series of the store has (``held.first_unheld``);
    flows are checked against their choices already, and an absent one is no typo."""
    codes = {k: v for k, v in filters.items() if k != "flow" and v}
    return first_unheld(con, codes, source) if codes else None


def held_flows(store: Store) -> list[str]:
    """The flows the store holds series of, in ``schema.FLOWS`` order: what a form offers
    (a flow the store holds nothing of would list no findings, which reads as "none")."""
    rows = store.con.cursor().execute("SELECT DISTINCT flow FROM observations").fetchall()
    held = {r[0] for r in rows}
    return [flow for flow in schema.FLOWS if flow in held]


def check_codes(
    store: Store,
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    commodity: str | list[str] | None = None,
) -> None:
    """InputError where a code (one or a list, as ``findings`` takes them) is held by no
    series of the store: the dashboard's filters are checked as ``findings``' are."""
    filters = arguments.series_filters(reporter, partner, None, commodity)
    _check_codes(store.con.cursor(), filters, None)


def _check_codes(con, filters: dict, classification: str | None) -> None:
    """A code the store holds no series of is a mistake to name (``reporter="XYZ"``),
    not a filter that found nothing; a code held but without findings is no mistake."""
    unheld = _unheld_code(con, filters)
    if unheld:
        column, code, held = unheld
        raise InputError(f"no series in the store has {column} {code}: {held}")
    if classification is not None:
        rows = con.execute("SELECT DISTINCT classification FROM observations").fetchall()
        held_classes = sorted(str(r[0]) for r in rows)
        if classification not in held_classes:
            raise InputError(
                f"no series in the store has classification {classification}: the store "
                f"holds {', '.join(held_classes) or 'no series'}"
            )


def _no_scan(con, scan_id) -> str:
    """The mistake and what there is instead: no scan 999 in the store (scans 1 to 7)."""
    first, last, count = con.execute("SELECT min(id), max(id), count(*) FROM scans").fetchone()
    if not count:
        held = "no scan saved yet: run `tradesentry scan`"
    elif first == last:
        held = f"the only scan is {first}"
    else:
        held = f"scans {first} to {last}"
    return f"no scan {scan_id} in the store ({held})"


@dataclass(frozen=True)
class SeriesView:
    """One series as people look at it: its values, its findings and its releases."""

    key: dict  # reporter, partner, flow, commodity as the store keeps them (CHN, TOTAL)
    observations: pd.DataFrame  # current view: period, period_months, freq, value, net_weight_kg…
    findings: Findings
    history: pd.DataFrame  # every release's figure for every period (revision history)
    classification: str | None = None  # the nomenclature the series is held under (HS, H5…)
    breakdown: str = ""  # '' for the total; "partner2=0;customs=C00;mot=3200" for a part
    freq: str = "M"  # "M" monthly, "A" annual (its periods are its years' first months)


def series(
    store: Store,
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    *,
    classification: str | None = None,
    freq: str | None = None,
    breakdown: str | None = None,
    scan_id: int | None = None,
) -> SeriesView:
    """The series with its release history and its findings: from ``scan_id``, else from
    the latest saved scan that covered it (``covering_scan``), else from scanning it now.

    Codes are normalised as ``scan`` does (``chn prk export total`` is CHN PRK export
    TOTAL). A commodity held under several classifications (UN Comtrade's H5 and a
    table's HS for the same HS code) is several series: ``classification`` picks one,
    and without it that is an InputError naming them. So are the same codes held both
    monthly and annually (UN Comtrade's monthly and annual data): ``freq`` ("M" or "A", in
    any case) picks one. So is a flow that UN Comtrade breaks down by mode of transport,
    customs procedure or second partner: ``breakdown`` picks one
    (``partner2=0;customs=C00;mot=3200``, as the store keeps it), and without it the total
    ('') is the series where the store holds it. Each choice is a ``SeriesChoice`` naming
    what the store holds, made in that order (classification, frequency, breakdown).
    """
    _a_store(store)
    key = {
        "reporter": arguments.country_code(reporter, "reporter"),
        "partner": arguments.country_code(partner, "partner"),
        "flow": arguments.flow_name(flow),
        "commodity": arguments.commodity_code(commodity),
    }
    name = " ".join(key.values())
    con = store.con.cursor()
    where = "reporter = ? AND partner = ? AND flow = ? AND commodity = ?"
    params = list(key.values())
    held = con.execute(
        "SELECT DISTINCT classification, freq, breakdown FROM observations "
        f"WHERE {where} ORDER BY ALL",
        params,
    ).fetchall()
    if not held:
        raise InputError(f"no series {name} in the store: {not_held(con, key)}")
    freq = None if freq is None else arguments.freq(freq)
    classification = _classification(held, classification, freq, key)
    freq = _frequency(held, classification, freq, key)
    breakdown = _breakdown(held, breakdown, key, classification, freq)
    where += " AND classification = ? AND freq = ? AND breakdown = ?"
    params += [classification, freq, breakdown]
    obs = con.execute(
        f"SELECT {_VIEW_COLUMNS} FROM current_observations WHERE {where} "
        "ORDER BY period, period_months",
        params,
    ).df()
    history = con.execute(
        f"SELECT {_HISTORY_COLUMNS} FROM observations o JOIN releases r ON r.id = o.release_id "
        f"WHERE {where} ORDER BY o.period, o.period_months, o.release_id",
        params,
    ).df()
    if scan_id is None:
        full = {**key, "classification": classification, "freq": freq, "breakdown": breakdown}
        scan_id = covering_scan(store, full)
    if scan_id is None:  # no saved scan ran every detector over it: scan it now
        found = scan(store, save=False, **key)
    else:  # the scan named is read as it is: its scope is the caller's to say
        _check_scan(con, scan_id)
        found = _saved_findings(store, scan_id, key, classification=classification, freq=freq)
    found = found.filter(classification=classification, freq=freq, breakdown=breakdown)
    return SeriesView(key, obs, found, history, classification, breakdown, freq)


#: a series' figures in its view (``SeriesView.observations``), and its releases' (``history``)
_VIEW_COLUMNS = "period, period_months, freq, value, currency, net_weight_kg, release_id"
_HISTORY_COLUMNS = "o.period, o.period_months, o.freq, o.value, o.release_id, r.published, r.file"
#: the columns that name one series of the store, in the order of ``series_views``' keys
SERIES_COLUMNS = ("reporter", "partner", "flow", "commodity", "classification", "freq", "breakdown")


def series_views(
    store: Store, keys: Iterable[Sequence[str]], *, scan_id: int
) -> dict[tuple[str, ...], SeriesView]:
    """Many series at once, each as ``series(..., scan_id=scan_id)`` gives it.

    ``keys``: (reporter, partner, flow, commodity, classification, freq, breakdown) as the
    store keeps them (a finding's own, ``SERIES_COLUMNS``); a key no series of the store
    has is left out of the answer, as ``series`` refuses it. A report charts hundreds of
    findings: this reads the figures, the releases and the findings of all their series
    in three queries, where ``series`` takes four for each.
    """
    _a_store(store)
    wanted = pd.DataFrame([tuple(k) for k in keys], columns=list(SERIES_COLUMNS))
    wanted = wanted.drop_duplicates(ignore_index=True)
    if wanted.empty:
        return {}
    _check_scan(store.con.cursor(), scan_id)
    con = store.con.cursor()
    con.register("wanted_series", wanted)
    try:
        held, obs, history, found = _series_rows(con, scan_id)
    finally:
        con.unregister("wanted_series")
    return _views_of(held, obs, history, found, scan_id)


def _check_scan(con, scan_id: int) -> None:
    """An InputError naming the scans there are where ``scan_id`` is none of them (or no
    scan id at all: ``"x"``, ``True``, ``1.5``)."""
    (scan_id,) = _scan_ids(scan_id=scan_id)
    if con.execute("SELECT 1 FROM scans WHERE id = ?", [scan_id]).fetchone() is None:
        raise InputError(_no_scan(con, scan_id))


def _series_rows(con, scan_id: int):
    """The keys of ``wanted_series`` the store holds, their figures, their releases'
    figures and their findings of scan ``scan_id``, each one frame for all of them (the
    figures' frames with each row's key in ``_KEYED`` columns)."""
    names = ", ".join(SERIES_COLUMNS)
    held = con.execute(
        f"SELECT DISTINCT {names} FROM observations SEMI JOIN wanted_series USING ({names})"
    ).df()
    keyed = ", ".join(f"o.{c} AS {k}" for c, k in zip(SERIES_COLUMNS, _KEYED, strict=True))
    obs = con.execute(
        f"SELECT {keyed}, {_VIEW_COLUMNS} FROM current_observations o "
        f"SEMI JOIN wanted_series USING ({names}) "
        f"ORDER BY {', '.join(_KEYED)}, period, period_months"
    ).df()
    history = con.execute(
        f"SELECT {keyed}, {_HISTORY_COLUMNS} FROM observations o "
        f"JOIN releases r ON r.id = o.release_id SEMI JOIN wanted_series USING ({names}) "
        f"ORDER BY {', '.join(_KEYED)}, o.period, o.period_months, o.release_id"
    ).df()
    # the findings of the wanted codes; freq and breakdown are matched once read, as
    # ``series`` matches them (rows saved before findings kept their freq read as "M")
    codes = " AND ".join(f"w.{c} = findings.{c}" for c in SERIES_COLUMNS[:5])
    found = saved_frame(con, scan_id, f"EXISTS (SELECT 1 FROM wanted_series w WHERE {codes})")
    return held, obs, history, found


#: the columns of a series' key beside its figures in ``_series_rows``' frames
_KEYED = tuple(f"series_{c}" for c in SERIES_COLUMNS)


def _views_of(held, obs, history, found, scan_id: int) -> dict[tuple[str, ...], SeriesView]:
    """``SeriesView`` of each held key, from the frames of ``_series_rows``."""
    groups = {
        "obs": _by_key(obs, list(_KEYED)),
        "history": _by_key(history, list(_KEYED)),
        "found": _by_key(found, list(SERIES_COLUMNS)),
    }
    bare = {"obs": obs.drop(columns=list(_KEYED)), "history": history.drop(columns=list(_KEYED))}
    views = {}
    for key in held.itertuples(index=False, name=None):
        key = tuple(str(k) for k in key)
        rows = {name: group.get(key) for name, group in groups.items()}
        obs_rows, history_rows = (
            bare[n].iloc[:0] if rows[n] is None else rows[n].drop(columns=list(_KEYED))
            for n in ("obs", "history")
        )
        reporter, partner, flow, commodity, classification, freq, breakdown = key
        views[key] = SeriesView(
            {"reporter": reporter, "partner": partner, "flow": flow, "commodity": commodity},
            obs_rows.reset_index(drop=True),
            Findings(found.iloc[:0] if rows["found"] is None else rows["found"], scan_id),
            history_rows.reset_index(drop=True),
            classification,
            breakdown,
            freq,
        )
    return views


def _by_key(frame: pd.DataFrame, columns: list[str]) -> dict[tuple, pd.DataFrame]:
    """The rows of ``frame`` by the values of ``columns``, in their order."""
    if frame.empty:
        return {}
    return {
        tuple(str(v) for v in key): rows
        for key, rows in frame.groupby(columns, sort=False, dropna=False)
    }


def mirror_key(key: Sequence[str]) -> tuple[str, ...] | None:
    """The key of the partner's record of the same flow (``mirror``), None where a flow
    has none (re-exports) or the partner is the reporter itself."""
    reporter, partner, flow, commodity, classification, freq, breakdown = key
    mirror_flow = schema.MIRROR_FLOW.get(flow)
    if mirror_flow is None or partner == reporter:
        return None
    return (partner, reporter, mirror_flow, commodity, classification, freq, breakdown)


# What the store holds of four codes: (classification, freq, breakdown) triples.
_Held = list[tuple[str, str, str]]


def _freqs_named(freqs: Iterable[str]) -> str:
    """``M (monthly), A (annual)``: frequencies as a message names them."""
    return ", ".join(f"{f} ({arguments.FREQS.get(f, f)})" for f in freqs)


def _classification(held: _Held, wanted: str | None, freq: str | None, key: dict) -> str:
    """The classification of the series asked for: ``wanted``, else the only one the codes
    are held under (at ``freq``, when one is asked for); several is a ``SeriesChoice``."""
    name = " ".join(key.values())
    classifications = sorted({c for c, _, _ in held})
    choice = {"key": key, "classifications": classifications, "freq": freq}
    if wanted is not None:
        return arguments.held_classification(wanted, classifications, f"series {name}", **choice)
    candidates = sorted({c for c, f, _ in held if freq is None or f == freq})
    if not candidates:  # not held at the frequency asked for, under any classification
        freqs = sorted({f for _, f, _ in held}, key=_monthly_first)
        raise SeriesChoice(
            f"no series {name} at freq {_freqs_named([freq])} in the store; "
            f"it is held at {_freqs_named(freqs)}",
            **{**choice, "freq": None},
            param="freq",
            held=freqs,
            asked=freq,
            freqs=freqs,
        )
    if len(candidates) > 1:
        raise SeriesChoice(
            f"{name} is held under classifications {', '.join(candidates)}: pass --classification",
            **choice,
            param="classification",
            held=candidates,
        )
    return candidates[0]


def _monthly_first(freq: str) -> int:
    return list(arguments.FREQS).index(freq) if freq in arguments.FREQS else len(arguments.FREQS)


def _frequency(held: _Held, classification: str, wanted: str | None, key: dict) -> str:
    """The frequency of the series asked for: ``wanted``, else the only one the codes are
    held at under ``classification``; monthly and annual both is a ``SeriesChoice``."""
    name = " ".join(key.values())
    freqs = sorted({f for c, f, _ in held if c == classification}, key=_monthly_first)
    classifications = sorted({c for c, _, _ in held})
    under = f" under classification {classification}" if len(classifications) > 1 else ""
    about = {
        "key": key,
        "classifications": classifications,
        "param": "freq",
        "held": freqs,
        "classification": classification,
        "freqs": freqs,
    }
    if wanted is not None:
        if wanted not in freqs:
            raise SeriesChoice(
                f"no series {name}{under} at freq {_freqs_named([wanted])} in the store; "
                f"it is held at {_freqs_named(freqs)}",
                **about,
                asked=wanted,
            )
        return wanted
    if len(freqs) > 1:
        raise SeriesChoice(
            f"{name}{under} is held at frequencies {_freqs_named(freqs)}: pass --freq", **about
        )
    return freqs[0]


def _breakdown(held: _Held, wanted: str | None, key: dict, classification: str, freq: str) -> str:
    """The breakdown of the series asked for: ``wanted``, else the total ('') where the
    store holds it, else the only one; several and no total is a ``SeriesChoice``."""
    parts = sorted({b for c, f, b in held if c == classification and f == freq})
    name, shown = " ".join(key.values()), ", ".join(repr(b) for b in parts)
    about = {
        "key": key,
        "classifications": sorted({c for c, _, _ in held}),
        "param": "breakdown",
        "held": parts,
        "classification": classification,
        "freq": freq,
        "freqs": sorted({f for c, f, _ in held if c == classification}, key=_monthly_first),
    }
    if wanted is not None:
        if wanted not in parts:
            message = f"no series {name} with breakdown {wanted!r}; it has {shown}"
            raise SeriesChoice(message, **about, asked=wanted)
        return wanted
    if "" in parts or len(parts) == 1:
        return "" if "" in parts else parts[0]
    raise SeriesChoice(f"{name} is held only by breakdown ({shown}): pass --breakdown", **about)


# The newest release each series' findings could rest on: any row of the series (a release
# that only revises, or is backdated, is read by the revision check) and of its mirror (the
# partner's record of the same flow, read by the mirror check). Key columns are fixed;
# ``near`` keeps the rows of the reporters and partners asked (both ways: the mirrors).
def _seen_sql(near: str = "true") -> str:
    return f"""
    newest AS (
        SELECT reporter, partner, flow, classification, commodity, freq, breakdown,
               max(release_id) AS r
        FROM observations WHERE {near} GROUP BY ALL
    ),
    seen AS (
        SELECT n.reporter, n.partner, n.flow, n.classification, n.commodity, n.freq,
               n.breakdown, greatest(n.r, coalesce(max(m.r), n.r)) AS newest_release
        FROM newest n LEFT JOIN newest m
          ON m.reporter = n.partner AND m.partner = n.reporter
         AND m.flow = {context.mirror_flow_sql("n")}
         AND m.classification = n.classification AND m.commodity = n.commodity
         AND m.freq = n.freq AND m.breakdown = n.breakdown
        GROUP BY n.reporter, n.partner, n.flow, n.classification, n.commodity, n.freq,
                 n.breakdown, n.r
    )"""


def _near(reporter: str | None, partner: str | None) -> tuple[str, list]:
    """``_seen_sql``'s condition for a reporter and partner (either may be None: any):
    their rows and their mirrors' rows, with its ``?`` parameters."""
    if reporter and partner:
        both = "((reporter = ? AND partner = ?) OR (reporter = ? AND partner = ?))"
        return both, [reporter, partner, partner, reporter]
    code = reporter or partner
    return ("(reporter = ? OR partner = ?)", [code, code]) if code else ("true", [])


def covering_scan(store: Store, key: dict[str, str]) -> int | None:
    """The latest saved scan that ran every detector over the series ``key`` and kept all
    its findings (no ``since``): a scan filtered to other series or other kinds says
    nothing of this one, and reading it would show "No findings" for a flagged series; nor
    does a scan that ran before a release of the series' rows or of its mirror's. ``key``:
    reporter, partner, flow, commodity, and the series' classification, freq and
    breakdown where known."""
    con = store.con.cursor()
    where = " AND ".join(f"{column} = ?" for column in key)
    near, params = _near(key["reporter"], key["partner"])
    newest = con.execute(
        f"WITH {_seen_sql(near)} SELECT max(newest_release) FROM seen WHERE {where}",
        [*params, *key.values()],
    ).fetchone()[0]
    store_release = con.execute("SELECT max(id) FROM releases").fetchone()[0]
    rows = con.execute(
        f"SELECT id, parameters, {_watermark_column(con)} FROM scans ORDER BY id DESC"
    )
    for scan_id, parameters, release in rows.fetchall():
        p = json.loads(parameters) if parameters else {}
        scan = {"id": scan_id, "parameters": p, "release": release}
        scope = ScanScope.of({**scan, "store_release": store_release})
        # a scan before the series' newest figures arrived did not see them
        if scope.complete and scope.covers({**key, "newest_release": newest}):
            return scan_id
    return None


# -- views for the report and the dashboard -------------------------------------------


def mirror(
    store: Store,
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    *,
    classification: str | None = None,
    breakdown: str | None = None,
    scan_id: int | None = None,
    freq: str | None = None,
) -> SeriesView | None:
    """The partner's record of the same flow (B's imports from A beside A's exports to B).

    None when the store does not hold it: most series have no mirror, and that is no error.
    The mirror of a part of a flow (``breakdown``) is the partner's same part, never its
    total: a total drawn beside a part would read as a gap; the mirror of an annual series
    (``freq`` "A") is the partner's annual record, of a monthly one its monthly record.
    """
    mirror_flow = schema.MIRROR_FLOW.get(flow.strip().lower())
    if mirror_flow is None or arguments.country_code(partner) == arguments.country_code(reporter):
        return None
    try:
        return series(
            store,
            partner,
            reporter,
            mirror_flow,
            commodity,
            classification=classification,
            freq=freq,
            breakdown=breakdown or "",
            scan_id=scan_id,
        )
    except InputError:
        return None


def overview(store: Store, *, scan_id: int | None = None) -> dict:
    """What the store holds and what a scan found: the summary the report and dashboard open with.

    Money at stake is summed per currency (a total across currencies would mean nothing),
    each sum of money once: an export side's mirror gap is left out where the partner's
    import side has one over overlapping months (each side reports the gap from its own
    record); of the rest, a finding on an aggregate series (partner WLD, commodity TOTAL)
    and the findings on its details that overlap its months (same reporter, flow,
    breakdown, freq and currency; the same classification, or any HS edition or CN under
    TOTAL) count once, at the larger: the aggregate's is left out where its top-level
    details' add up to at least its money, else theirs are (a €70K spike of one product is
    inside a €600M level shift of the total; ``_ONCE_SQL``); and of the
    findings left, per series, findings whose months overlap count once, at the largest
    impact among them (a finding is left out where a larger one of its series overlaps
    it). Two findings of one series over months that do not overlap both count: a level
    shift's drop and a later recovery are two events, since each one's impact is the
    change from the level before it over the reported months of its own new segment
    (up to a year), which ends where the next shift starts, so no month's money is in
    both. Everything is counted in the store: a scan of any size is never loaded for it.
    """
    con = store.con.cursor()
    releases, observations = con.execute(
        "SELECT (SELECT count(*) FROM releases), (SELECT count(*) FROM observations)"
    ).fetchone()
    # The span of the monthly series where the store holds any (an annual series' year is
    # kept at its January: 2005 read beside months would be "2005-01"); the years apart.
    n_series, n_pairs, first, last, annual, first_year, last_year = con.execute(
        "SELECT count(DISTINCT (reporter, partner, flow, classification, commodity, freq, "
        "breakdown)), count(DISTINCT (reporter, partner)), "
        f"{_MONTHS_FIRST.format(agg='min')}, {_MONTHS_FIRST.format(agg='max')}, "
        "bool_and(freq = 'A'), min(period) FILTER (WHERE freq = 'A'), "
        "max(period) FILTER (WHERE freq = 'A') FROM current_observations"
    ).fetchone()
    sid = _latest_scan(con) if scan_id is None else scan_id
    counts = con.execute(
        "SELECT kind, severity, count(*) FROM findings WHERE scan_id = ? GROUP BY ALL", [sid]
    ).fetchall()
    return {
        "releases": int(releases),
        "observations": int(observations),
        "series": int(n_series),
        "pairs": int(n_pairs),
        "first_period": first.strftime("%Y-%m") if first else None,
        "last_period": last.strftime("%Y-%m") if last else None,
        # "A" when the store holds annual series only: its span is told in years
        "freq": "A" if annual else "M",
        # the years of its annual series beside monthly ones (None: none, or only those)
        "annual_span": (
            [first_year.strftime("%Y"), last_year.strftime("%Y")]
            if first_year is not None and not annual
            else None
        ),
        "scan": scan_info(store, sid),
        "findings": sum(n for _, _, n in counts),
        "by_kind": _totals(counts, 0),
        "by_severity": _totals(counts, 1),
        "by_kind_severity": _by_kind_severity(counts),
        "at_stake": (at_stake := _at_stake(con, sid)),
        # currencies the ranking compares as they are (no rate to the dollar), said beside it
        "unconverted": (unconverted := unconverted_currencies(at_stake, con)),
        "unconverted_note": unconverted_note(unconverted) if unconverted else None,
    }


# A span's end over the monthly rows where there are any, else over the annual ones.
_MONTHS_FIRST = "coalesce({agg}(period) FILTER (WHERE freq <> 'A'), {agg}(period))"


def ranking_note(store: Store, found: Findings) -> str | None:
    """Where ``found`` mixes currencies and some have no rate to the US dollar in the store,
    the sentence saying the ranking compared them as they are (``findings.unconverted_note``);
    and where any currency but the dollar has none, that severity weighed its money as it
    stands (``findings.unpriced_note``)."""
    currencies = found.currencies()
    missing = unconverted_currencies(currencies, store.con.cursor())
    unpriced = unpriced_currencies(currencies, store.con.cursor())
    notes = [unconverted_note(missing)] if missing else []
    notes += [unpriced_note(unpriced)] if unpriced else []
    return " ".join(notes) or None


def mirror_note(
    store: Store,
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    flow: str | list[str] | None = None,
    commodity: str | list[str] | None = None,
    kinds: str | list[str] | None = None,
) -> str | None:
    """Where the selected series hold figures whose partner recorded the same flow in
    another currency with no rate in the store to compare the two, the sentence saying how
    many ``mirror_gap`` could not compare (``context.unconverted_mirror_note``); None where
    there are none, or where the scan's kinds leave ``mirror_gap`` out. A month of the sort
    has no finding whatever its gap, and said nowhere else (a ×0.2 July 2024 of China's
    exports to Germany with no euro rate for July)."""
    from tradesentry.context import unconverted_mirror_months, unconverted_mirror_note
    from tradesentry.engines.local import series_filter_sql

    wanted = arguments.kinds(kinds) if kinds else None
    if wanted is not None and "mirror_gap" not in wanted:
        return None
    where, params = series_filter_sql(arguments.series_filters(reporter, partner, flow, commodity))
    return unconverted_mirror_note(unconverted_mirror_months(store.con.cursor(), where, params))


def _latest_scan(con) -> int | None:
    row = con.execute("SELECT max(id) FROM scans").fetchone()
    return row[0] if row else None


def scan_info(store: Store, scan_id: int | None = None) -> dict | None:
    """A saved scan's id, time, parameters and number of findings (the latest by default)."""
    con = store.con.cursor()
    scan_id = _latest_scan(con) if scan_id is None else scan_id
    if scan_id is None:
        return None
    row = con.execute(
        f"SELECT id, started_at, parameters, findings, {_watermark_column(con)} FROM scans "
        "WHERE id = ?",
        [scan_id],
    ).fetchone()
    if row is None:
        raise InputError(f"no scan {scan_id} in the store")
    return {
        "id": int(row[0]),
        "started_at": row[1].isoformat(timespec="seconds"),
        "parameters": json.loads(row[2]) if row[2] else {},
        "findings": int(row[3] or 0),
        # the newest release the store held when the scan ran, and the newest now: a
        # release ingested since is in no finding of this scan (``ScanScope.stale``)
        "release": None if row[4] is None else int(row[4]),
        "store_release": con.execute("SELECT max(id) FROM releases").fetchone()[0],
    }


def _watermark_column(con) -> str:
    """``release``, or NULL in a store opened read-only before scans kept their watermark."""
    held = {r[0] for r in con.execute("SELECT name FROM pragma_table_info('scans')").fetchall()}
    return "release" if "release" in held else "NULL"


def _totals(counts: list[tuple[str, str, int]], position: int) -> dict[str, int]:
    """Findings per kind (position 0) or per severity (1), from (kind, severity, n) rows."""
    out: dict[str, int] = {}
    for row in counts:
        out[str(row[position])] = out.get(str(row[position]), 0) + int(row[2])
    return dict(sorted(out.items()))


def _by_kind_severity(counts: list[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for kind, severity, n in sorted(counts):
        out.setdefault(str(kind), {})[str(severity)] = int(n)
    return out


# Money at stake counts each sum of money once (``overview`` states the rules): the
# export sides' mirror gaps the import side also reports (``mirrored``), then of an
# aggregate finding and its details' the smaller side (``detailed``, ``_ONCE_SQL``), then
# per series the findings a larger one overlaps (``outsized``) are left out. Months overlap where each finding starts no
# later than the other ends. Each rule is an equi-join on its keys (none on a key
# alone such as the reporter): about a second for half a million findings.
# The findings of ``{source}`` (with a ``size`` column) that a larger finding of the same
# series overlaps (equal sizes: the lower id is kept).
_OUTSIZED_SQL = """
    SELECT f.id FROM {source} f JOIN {source} g
      ON g.reporter = f.reporter AND g.partner = f.partner AND g.flow = f.flow
     AND g.classification = f.classification AND g.commodity = f.commodity
     AND g.breakdown = f.breakdown AND g.freq = f.freq
    WHERE g.period <= f.period_end AND g.period_end >= f.period
      AND (g.size > f.size OR (g.size = f.size AND g.id < f.id))
"""

# Whether a classification is of the HS family (HS, H0…H6, and CN, which extends it): a
# TOTAL under one and a detail under another are the same goods (Comext files its TOTAL
# under HS, its products under CN8).
_HS_FAMILY_SQL = f"{schema.hs_family_sql()} = 'HS'"

# Each finding of ``{source}`` (with ``hs`` and ``size`` columns) on a reporter–partner's
# total (TOTAL) beside each finding on one of its commodities that overlaps it (the same
# flow, breakdown and freq; the same classification, or the HS family: its editions and
# CN): (id, size, detail_id, detail_size).
_TOTAL_AND_DETAIL_SQL = """
    SELECT a.id, a.size, g.id AS detail_id, g.size AS detail_size
    FROM {source} a JOIN {source} g
      ON g.reporter = a.reporter AND g.partner = a.partner AND g.flow = a.flow
     AND g.breakdown = a.breakdown AND g.freq = a.freq AND g.currency = a.currency
    WHERE a.commodity = 'TOTAL' AND g.commodity <> 'TOTAL'
      AND g.period <= a.period_end AND g.period_end >= a.period
      AND (g.classification = a.classification OR (a.hs AND g.hs))
"""

# What an aggregate finding and the findings on its details leave out so that their money
# counts once, at the larger, from ``{pairs}`` (a SELECT of id, size, detail_id,
# detail_size; sizes in one currency): the aggregate where its details add up to at least
# its money (they count it), else the details inside it (it counts theirs). Only its
# top-level details are added up: a partner's total and a chapter of it are both details of
# the world's total, and the chapter's money is already in the partner's. A spike of €70K
# in one CN8 product does not account for a €600M level shift of Comext's TOTAL in its
# month; a €7.99M spike of crude oil nearly does an €8.1M spike of the total.
_ONCE_SQL = """
    WITH pairs AS ({pairs}),
    top AS (
        SELECT p.* FROM pairs p
        WHERE NOT EXISTS (
            SELECT 1 FROM pairs q JOIN pairs r ON r.id = q.detail_id
            WHERE q.id = p.id AND r.detail_id = p.detail_id
        )
    ),
    sums AS (SELECT id, size, sum(detail_size) AS details FROM top GROUP BY id, size)
    SELECT id FROM sums WHERE details >= size
    UNION
    SELECT p.detail_id FROM pairs p JOIN sums s ON s.id = p.id WHERE s.details < s.size
"""
_TOTAL_ONCE_SQL = _ONCE_SQL.format(pairs=_TOTAL_AND_DETAIL_SQL)

_AT_STAKE_SQL = """
    WITH f AS MATERIALIZED (
        SELECT id, kind, reporter, partner, flow, classification, commodity, breakdown,
               freq, period, period_end, currency, impact, coalesce(impact, 0) AS size,
               {hs} AS hs
        FROM {findings} WHERE scan_id = $scan
    ),
    mirrored AS (
        SELECT f.id FROM f JOIN f g
          ON g.reporter = f.partner AND g.partner = f.reporter
         AND g.classification = f.classification AND g.commodity = f.commodity
         AND g.breakdown = f.breakdown AND g.freq = f.freq
        WHERE f.kind = 'mirror_gap' AND f.flow IN ('export', 're-export')
          AND g.kind = 'mirror_gap' AND g.flow IN ('import', 're-import')
          AND g.period <= f.period_end AND g.period_end >= f.period
    ),
    -- the aggregate rule weighs what the mirror rule leaves
    unmirrored AS (SELECT * FROM f WHERE id NOT IN (SELECT id FROM mirrored)),
    world AS (SELECT * FROM unmirrored WHERE partner = 'WLD'),
    total AS (SELECT * FROM unmirrored WHERE commodity = 'TOTAL'),
    detail_pairs AS (
        SELECT a.id, a.size, g.id AS detail_id, g.size AS detail_size
        FROM world a JOIN unmirrored g
          ON g.reporter = a.reporter AND g.flow = a.flow
         AND g.classification = a.classification AND g.commodity = a.commodity
         AND g.breakdown = a.breakdown AND g.freq = a.freq AND g.currency = a.currency
        WHERE g.partner <> 'WLD' AND g.period <= a.period_end AND g.period_end >= a.period
        UNION {in_detail} UNION
        SELECT a.id, a.size, g.id, g.size FROM total a JOIN unmirrored g
          ON g.reporter = a.reporter AND g.flow = a.flow
         AND g.breakdown = a.breakdown AND g.freq = a.freq AND g.currency = a.currency
        WHERE a.partner = 'WLD' AND g.partner <> 'WLD' AND g.commodity <> 'TOTAL'
          AND g.period <= a.period_end AND g.period_end >= a.period
          AND (g.classification = a.classification OR (a.hs AND g.hs))
    ),
    detailed AS ({once}),
    kept AS MATERIALIZED (
        SELECT * FROM unmirrored WHERE id NOT IN (SELECT id FROM detailed)
    ),
    outsized AS ({outsized})
    SELECT currency, sum(impact) AS impact FROM kept
    WHERE id NOT IN (SELECT id FROM outsized)
    GROUP BY currency HAVING sum(impact) IS NOT NULL
    ORDER BY impact DESC
"""


def _at_stake(con, scan_id: int | None) -> dict[str, float]:
    """Money at stake per currency in a scan, each sum of money counted once (see above)."""
    sql = _AT_STAKE_SQL.format(
        findings=saved_findings_sql(con),
        hs=_HS_FAMILY_SQL,
        in_detail=_TOTAL_AND_DETAIL_SQL.format(source="unmirrored"),
        once=_ONCE_SQL.format(pairs="SELECT * FROM detail_pairs"),
        outsized=_OUTSIZED_SQL.format(source="kept"),
    )
    rows = con.execute(sql, {"scan": scan_id}).fetchall()
    return {str(currency): float(impact) for currency, impact in rows}


def _scan_findings_usd(con, where: str = "true") -> str:
    """A scan's findings (``?``: its id; then the parameters of ``where``, a condition on
    their columns), each with its series' ``freq``, and their impact in US dollars where
    the store has the currency's rate, as findings are ranked (``findings.usd_rates_sql``):
    the series and pair lists sum money at stake across series that may be in different
    currencies."""
    return f"""
        scan_findings AS (
            SELECT * FROM {saved_findings_sql(con)} WHERE scan_id = ? AND ({where})
        ),
        usd AS ({usd_rates_sql("scan_findings")}),
        priced AS MATERIALIZED (
            SELECT scan_findings.*, impact / coalesce(usd.per_usd, 1.0) AS impact_usd,
                   coalesce(impact, 0) AS size, {_HS_FAMILY_SQL} AS hs
            FROM scan_findings LEFT JOIN usd USING (currency, period)
        )"""


def series_index(
    store: Store,
    *,
    reporter: str | None = None,
    partner: str | None = None,
    limit: int | None = None,
    scan_id: int | None = None,
) -> pd.DataFrame:
    """Series of the current view with their span, latest figure and findings in a scan.

    Ordered by money at stake in their findings, then by key, so the series that matter
    come first when the list is cut. A series' money at stake counts its findings over
    overlapping months once, at the largest (a spike and a mirror gap of the same month
    are one sum of money), as ``overview`` does (``pairs`` also counts a total and its
    commodities once).
    """
    # codes as the store keeps them (chn is CHN); a code held by no series lists none
    reporter = None if reporter is None else arguments.country_code(reporter, "reporter")
    partner = None if partner is None else arguments.country_code(partner, "partner")
    con = store.con.cursor()
    sid = _latest_scan(con) if scan_id is None else scan_id
    near, near_params = _near(reporter, partner)
    # a series' findings are its pair's: only the pair's are priced and counted (the
    # report lists 50 pairs' series; pricing every finding of the scan for each was most
    # of its time)
    pair = [reporter, reporter, partner, partner]
    return con.execute(
        f"""
        WITH s AS (
            SELECT reporter, partner, flow, classification, commodity, freq, breakdown,
                   any_value(currency) AS currency, count(*) AS periods,
                   min(period) AS first_period, max(period) AS last_period,
                   arg_max(value, period) AS last_value
            FROM current_observations
            WHERE {_PAIR_SQL}
            GROUP BY ALL
        ), {_seen_sql(near)}, {_scan_findings_usd(con, _PAIR_SQL)},
        -- overview's rule within a series: overlapping findings count once, the largest
        outsized AS ({_OUTSIZED_SQL.format(source="priced")}),
        found AS (
            SELECT priced.*, id NOT IN (SELECT id FROM outsized) AS counted FROM priced
        ),
        f AS (
            SELECT reporter, partner, flow, classification, commodity, freq, breakdown,
                   count(*) AS findings, sum(impact) FILTER (WHERE counted) AS impact,
                   sum(impact_usd) FILTER (WHERE counted) AS impact_usd
            FROM found GROUP BY ALL
        )
        SELECT s.*, seen.newest_release, coalesce(f.findings, 0) AS findings,
               coalesce(f.impact, 0) AS impact
        FROM s LEFT JOIN f
          USING (reporter, partner, flow, classification, commodity, freq, breakdown)
        LEFT JOIN seen
          USING (reporter, partner, flow, classification, commodity, freq, breakdown)
        ORDER BY coalesce(f.impact_usd, 0) DESC, reporter, partner, flow, commodity, freq,
                 breakdown
        LIMIT ?
        """,
        [reporter, reporter, partner, partner, *near_params, sid, *pair, limit],
    ).df()


#: the rows of a reporter and a partner, either NULL for any (parameters: each one twice)
_PAIR_SQL = "(?::VARCHAR IS NULL OR reporter = ?) AND (?::VARCHAR IS NULL OR partner = ?)"


def pairs(store: Store, *, scan_id: int | None = None) -> pd.DataFrame:
    """Reporter–partner pairs with their number of series, findings and money at stake.

    Money at stake counts each sum once within the pair, by the overview's rules that
    apply inside one pair: a series' overlapping findings once, at the largest, and a
    finding on the pair's total (TOTAL) and the findings on its commodities that overlap it
    (the same classification, or the HS family) once, at the larger. The mirror rule joins
    two pairs
    (each side's record is its own pair) and does not apply."""
    con = store.con.cursor()
    sid = _latest_scan(con) if scan_id is None else scan_id
    return con.execute(
        f"""
        WITH s AS (
            SELECT reporter, partner, count(DISTINCT (flow, classification, commodity, freq,
                   breakdown)) AS series, {_MONTHS_FIRST.format(agg="min")} AS first_period,
                   {_MONTHS_FIRST.format(agg="max")} AS last_period,
                   -- A when every series of the pair is annual: its span is told in years
                   CASE WHEN bool_and(freq = 'A') THEN 'A' ELSE 'M' END AS freq
            FROM current_observations GROUP BY ALL
        ), {_scan_findings_usd(con)},
        total_once AS ({_TOTAL_ONCE_SQL.format(source="priced")}),
        -- as the overview: the total and its commodities first, then a series' own findings
        rest AS (SELECT * FROM priced WHERE id NOT IN (SELECT id FROM total_once)),
        rest_outsized AS ({_OUTSIZED_SQL.format(source="rest")}),
        pair_counted AS (SELECT id FROM rest WHERE id NOT IN (SELECT id FROM rest_outsized)),
        f AS (
            SELECT reporter, partner, count(*) AS findings,
                   sum(impact) FILTER (WHERE id IN (SELECT id FROM pair_counted)) AS impact,
                   sum(impact_usd) FILTER (WHERE id IN (SELECT id FROM pair_counted))
                       AS impact_usd,
                   count(*) FILTER (WHERE severity = 'high') AS high
            FROM priced GROUP BY ALL
        )
        SELECT s.*, coalesce(f.findings, 0) AS findings, coalesce(f.high, 0) AS high,
               coalesce(f.impact, 0) AS impact
        FROM s LEFT JOIN f USING (reporter, partner)
        ORDER BY high DESC, coalesce(f.impact_usd, 0) DESC, reporter, partner
        """,
        [sid],
    ).df()


# -- monitor: what is new since the last scan, and the digest of a release ---------------
if TYPE_CHECKING:
    from pathlib import Path

    from tradesentry.missing import MirrorView, MissingTrade
    from tradesentry.monitor import digest as monitor_digest
    from tradesentry.rates import RatesResult
    from tradesentry.revisions import ReleaseDiff


def new_findings(
    store: Store, scan_id: int | None = None, *, baseline: int | None = None
) -> Findings:
    """Findings of a scan (the latest by default) that its baseline did not have.

    The baseline is the previous scan with the same parameters, so a filtered scan is never
    compared with a scan of other series; ``baseline`` names another saved scan instead,
    and then only findings the baseline would have kept count (its series, kinds and
    months: ``same_scope`` says whether that limits anything). With no baseline, every
    finding is new.
    """
    from tradesentry.monitor import history

    scan_id, baseline = _scan_ids(scan_id=scan_id, baseline=baseline)
    return history.compare(store, scan_id, baseline)[0]


def resolved_findings(
    store: Store, scan_id: int | None = None, *, baseline: int | None = None
) -> Findings:
    """Findings of the baseline that a scan (the latest by default) no longer has.

    A revision that makes a figure plausible, or a later month that explains a dip, makes
    its finding go away; the rows come from the baseline scan, where they were last seen.
    Against a ``baseline`` of another scope, only findings the scan would have kept count:
    a scan of spikes alone does not resolve every other kind.
    """
    from tradesentry.monitor import history

    scan_id, baseline = _scan_ids(scan_id=scan_id, baseline=baseline)
    return history.compare(store, scan_id, baseline)[1]


def same_scope(store: Store, scan_id: int, baseline: int) -> bool:
    """Whether two saved scans selected the same series, kinds and months (where not,
    ``new_findings`` and ``resolved_findings`` compare them where both looked)."""
    from tradesentry.monitor import history

    scan_id, baseline = _scan_ids(scan_id=scan_id, baseline=baseline)
    return history.same_scope(store, scan_id, baseline)


def previous_scan(store: Store, scan_id: int | None = None) -> int | None:
    """The baseline ``new_findings`` and ``resolved_findings`` compare a scan with: the
    latest scan before it with the same parameters (None where there is none)."""
    from tradesentry.monitor import history

    (scan_id,) = _scan_ids(scan_id=scan_id)
    return history.previous_scan(store, scan_id)


def digest(
    store: Store, release: int | None = None, *, scan_id: int | None = None, limit: int = 5
) -> monitor_digest.Digest:
    """A briefing on a release (the newest by default): coverage, moves, new findings, revisions.

    Returns a ``tradesentry.monitor.Digest``; ``.render("md" | "html" | "json")`` writes it.
    Runs a scan first when no full scan has seen the newest release.
    """
    from tradesentry.monitor.digest import build

    release, scan_id = _scan_ids(release=release, scan_id=scan_id)
    limit = arguments.whole_number(limit, "limit", 0)
    return build(store, release, scan_id=scan_id, limit=limit)


def _scan_ids(**ids: object) -> tuple[int | None, ...]:
    """Each of ``ids`` a whole number or None, else an InputError naming it: a scan id of
    ``"x"`` reached the store's SQL and came back as DuckDB's conversion error."""
    return tuple(arguments.whole_number(value, name) for name, value in ids.items())


# -- cross checks: revisions, both sides of a pair, what is missing, exchange rates ----------
def revisions(
    store: Store,
    *,
    reporter: str | list[str] | None = None,
    partner: str | list[str] | None = None,
    flow: str | list[str] | None = None,
    commodity: str | list[str] | None = None,
    classification: str | None = None,
    breakdown: str | None = None,
    freq: str | None = None,
    tolerance: float | None = None,
    min_change: float | None = None,
) -> pd.DataFrame:
    """Every figure a release changed against the previous release that reported it.

    One row per revised cell: series, period, both values, the change, both releases and
    their publication dates. Tolerances default to the revision detector's. Codes are
    read as ``findings`` reads them, and a code the store holds no series of is an
    InputError (not an empty answer that reads "no revision"). ``classification``,
    ``breakdown`` and ``freq``, as the store keeps them (a ``SeriesView``'s), pick one
    series among those the codes name.
    """
    from tradesentry import revisions as rev

    con = store.con.cursor()
    filters = arguments.series_filters(reporter, partner, flow, commodity)
    if classification is not None:  # read as the store keeps it, as findings' filter does
        classification = arguments.stored_upper(
            arguments.text(classification, "classification").strip()
        )
    freq = None if freq is None else arguments.freq(freq)
    _check_codes(con, filters, classification)
    return rev.revisions(
        con,
        **filters,
        classification=classification,
        breakdown=breakdown,
        freq=freq,
        tolerance=rev.TOLERANCE if tolerance is None else tolerance,
        min_change=rev.MIN_CHANGE if min_change is None else min_change,
    )


def release_diff(store: Store, a: int, b: int) -> ReleaseDiff:
    """What release ``b`` changed against release ``a``: revised, appeared, vanished cells,
    and the months restated across the board (a ``revisions.ReleaseDiff``)."""
    from tradesentry import revisions as rev

    return rev.release_diff(store.con.cursor(), a, b)


def mirror_pair(
    store: Store,
    reporter: str,
    partner: str,
    commodity: str | None = None,
    *,
    classification: str | None = None,
    breakdown: str | None = None,
    freq: str | None = None,
) -> MirrorView:
    """Both records of a pair's trade month by month, with the usual ratio and its band.

    The reporter's exports beside the partner's imports from it, and its imports beside
    the partner's exports, in the reporter's currency (a ``missing.MirrorView``). A
    commodity held under several classifications is several series, as in ``series``:
    ``classification`` picks one, and without it that is a ``SeriesChoice`` naming them.
    Each flow is its total unless ``breakdown`` names a part (as the store keeps it).
    ``freq`` "A" compares the annual figures year by year; without it, the monthly figures
    where the store holds any for the pair, else the annual ones (``MirrorView.freq``).
    """
    from tradesentry.missing import mirror_view

    commodity = None if commodity is None else arguments.commodity_code(commodity)
    return mirror_view(
        store.con.cursor(),
        arguments.country_code(reporter, "reporter"),
        arguments.country_code(partner, "partner"),
        commodity,
        classification=classification,
        breakdown=breakdown,
        freq=freq,
    )


def missing_trade(
    store: Store,
    reporter: str,
    partner: str,
    start: str | None = None,
    end: str | None = None,
    *,
    classification: str | None = None,
    breakdown: str | None = None,
    freq: str | None = None,
) -> MissingTrade:
    """What the mirror and unit-value gaps imply is missing from the reporter's record of
    its trade with the partner, per commodity, with a low / central / high range and the
    method in words (a ``missing.MissingTrade``). ``start`` and ``end`` are YYYY-MM (a
    year is in the span when any of its months is); ``classification``, ``breakdown`` and
    ``freq`` as in ``mirror_pair``."""
    from tradesentry.missing import missing_trade as estimate

    start, end = _month_range(start, end)
    return estimate(
        store.con.cursor(),
        arguments.country_code(reporter, "reporter"),
        arguments.country_code(partner, "partner"),
        start,
        end,
        classification=classification,
        breakdown=breakdown,
        freq=freq,
    )


def _month_range(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """``--from`` and ``--to`` as YYYY-MM, the first not after the second."""
    start, end = arguments.month(start, "--from"), arguments.month(end, "--to")
    if start and end and start > end:
        raise InputError(f"--from {start} is after --to {end}")
    return start, end


def load_rates(store: Store, path: str | Path) -> RatesResult:
    """Read monthly exchange rates (currency,period,per_usd or the ECB layout) into the
    store, in one transaction (a ``rates.RatesResult``)."""
    from tradesentry.rates import load_rates as load

    store.check_writable("loading rates writes them into it")
    return load(store.con, path)


def rates(store: Store) -> pd.DataFrame:
    """The exchange rates in the store: currency, period, units per US dollar."""
    return store.con.cursor().execute("SELECT * FROM rates ORDER BY currency, period").df()
