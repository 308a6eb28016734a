"""The one facade: the CLI, the report and the dashboard call these functions and nothing else.

No Typer, FastAPI or Jinja here: the functions take and return plain Python and pandas.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from tradesentry.detectors import default_detectors
from tradesentry.errors import InputError
from tradesentry.findings import FINDING_COLUMNS, Findings, empty_findings, rank
from tradesentry.store import Store

ENGINES = ("local", "spark")


def _filters(reporter=None, partner=None, flow=None, commodity=None) -> dict:
    return {"reporter": reporter, "partner": partner, "flow": flow, "commodity": commodity}


def scan(
    store: Store,
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

    Filters select whole series (their full history is always used); ``since`` (YYYY-MM)
    keeps findings that end in or after that month. The scan is saved in the store.
    """
    since = _check_month(since, "--since")
    detectors = default_detectors(kinds)
    filters = _filters(reporter, partner, flow, commodity)
    if engine == "local":
        from tradesentry.engines import local

        options = {"chunk_series": chunk_series} if chunk_series else {}
        frame = local.scan(store.con.cursor(), detectors, filters, progress=progress, **options)
    elif engine == "spark":
        from tradesentry.engines import spark

        frame = spark.scan(store, detectors, filters, **engine_options)
    else:
        raise InputError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    if since and len(frame):
        frame = frame[frame["period_end"] >= since]
    frame = rank(frame)
    scan_id = _save_scan(store, frame, filters, since, kinds, engine) if save else None
    return Findings(frame, scan_id)


def _check_month(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").strftime("%Y-%m")
    except ValueError as exc:
        raise InputError(f"{option} {value!r}: expected a month as YYYY-MM") from exc


def _save_scan(store: Store, frame: pd.DataFrame, filters: dict, since, kinds, engine) -> int:
    params = json.dumps(
        {**filters, "since": since, "kinds": list(kinds) if kinds else None, "engine": engine}
    )
    con = store.con.cursor()
    con.execute("BEGIN TRANSACTION")
    try:
        scan_id = con.execute(
            "INSERT INTO scans (started_at, parameters, findings) VALUES (?, ?, ?) RETURNING id",
            [datetime.now(), params, len(frame)],
        ).fetchone()[0]
        if len(frame):
            rows = frame.assign(scan_id=scan_id, evidence=frame["evidence"].map(_evidence_json))
            con.register("new_findings", rows)
            con.execute(
                "INSERT INTO findings BY NAME SELECT scan_id, id, kind, reporter, partner, flow, "
                "commodity, classification, breakdown, period, period_end, observed, expected, "
                "currency, impact, score, severity, explanation, evidence FROM new_findings"
            )
            con.unregister("new_findings")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return scan_id


def _evidence_json(evidence) -> str:
    from tradesentry.findings import _jsonable

    return json.dumps(_jsonable(evidence or {}), ensure_ascii=False)


def findings(
    store: Store,
    *,
    scan_id: int | None = None,
    kind: str | list[str] | None = None,
    severity: str | list[str] | None = None,
    reporter: str | None = None,
    partner: str | None = None,
    flow: str | None = None,
    commodity: str | None = None,
    since: str | None = None,
) -> Findings:
    """Findings of a saved scan (the latest by default), filtered; no detector runs."""
    since = _check_month(since, "since")
    con = store.con.cursor()
    if scan_id is None:
        row = con.execute("SELECT max(id) FROM scans").fetchone()
        scan_id = row[0] if row else None
    if scan_id is None:
        return Findings(empty_findings(), None)
    frame = con.execute(
        f"SELECT {', '.join(FINDING_COLUMNS)}, classification, breakdown FROM findings "
        "WHERE scan_id = ?",
        [scan_id],
    ).df()
    frame["evidence"] = frame["evidence"].map(lambda s: json.loads(s) if s else {})
    found = Findings(rank(frame), scan_id).filter(
        kind=kind,
        severity=severity,
        reporter=reporter,
        partner=partner,
        flow=flow,
        commodity=commodity,
    )
    if since:
        found = Findings(found.to_frame().query("period_end >= @since"), scan_id)
    return found


@dataclass(frozen=True)
class SeriesView:
    """One series as people look at it: its values, its findings and its releases."""

    key: dict
    observations: pd.DataFrame  # current view: period, period_months, value, net_weight_kg…
    findings: Findings
    history: pd.DataFrame  # every release's figure for every period (revision history)


def series(
    store: Store,
    reporter: str,
    partner: str,
    flow: str,
    commodity: str,
    *,
    scan_id: int | None = None,
) -> SeriesView:
    """The series with its findings from the latest scan and its release history."""
    key = {"reporter": reporter, "partner": partner, "flow": flow, "commodity": commodity}
    con = store.con.cursor()
    where = "reporter = ? AND partner = ? AND flow = ? AND commodity = ?"
    params = list(key.values())
    obs = con.execute(
        f"SELECT period, period_months, value, currency, net_weight_kg, release_id "
        f"FROM current_observations WHERE {where} ORDER BY period, period_months",
        params,
    ).df()
    if obs.empty:
        raise InputError(
            f"no series {reporter} {partner} {flow} {commodity} in the store "
            "(see `tradesentry releases` and the codes it uses)"
        )
    history = con.execute(
        f"SELECT o.period, o.period_months, o.value, o.release_id, r.published, r.file "
        f"FROM observations o JOIN releases r ON r.id = o.release_id WHERE {where} "
        "ORDER BY o.period, o.period_months, o.release_id",
        params,
    ).df()
    found = findings(store, scan_id=scan_id, **key)
    return SeriesView(key, obs, found, history)
