"""The HTML report: one self-contained file that opens offline, from disk or an e-mail.

Everything it needs is inside it: the stylesheet, the chart script and plotly.js from
the installed plotly package. It shows a saved scan (the latest by default); charts are
drawn for the top ``top`` findings only, so a report of a big store stays small enough
to send.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from tradesentry import api
from tradesentry.report.render import (
    environment,
    inline_script,
    inline_style,
    plotly_js_path,
    static_text,
)
from tradesentry.report.sections import (
    SeriesCache,
    chart_for,
    finding_records,
    frame_records,
    method,
    release_records,
    revised_rows,
)
from tradesentry.scope import ScanScope
from tradesentry.store import Store

DEFAULT_TOP = 25
DEFAULT_PAIRS = 50
TABLE_LIMIT = 500  # findings listed beyond the charted ones
PAIR_FINDINGS = 20
PAIR_SERIES = 25

__all__ = ["DEFAULT_TOP", "build_report", "render_report"]


def build_report(
    store: Store,
    out_path: str | os.PathLike = "report.html",
    *,
    top: int = DEFAULT_TOP,
    pairs: int = DEFAULT_PAIRS,
    scan_id: int | None = None,
) -> Path:
    """Write the report of a saved scan (the latest by default) and return its path."""
    html = render_report(store, top=top, pairs=pairs, scan_id=scan_id)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def render_report(
    store: Store,
    *,
    top: int = DEFAULT_TOP,
    pairs: int = DEFAULT_PAIRS,
    scan_id: int | None = None,
) -> str:
    """The report as one HTML string."""
    context = report_context(store, top=top, pairs=pairs, scan_id=scan_id)
    return environment().get_template("report.html").render(**context)


def report_context(store: Store, *, top: int, pairs: int, scan_id: int | None) -> dict:
    """Everything the report template reads, from the api."""
    overview = api.overview(store, scan_id=scan_id)
    sid = overview["scan"]["id"] if overview["scan"] else None
    records = finding_records(api.findings(store, scan_id=sid)) if sid is not None else []
    cache = SeriesCache(store, sid)
    cache.prefetch(records[: max(top, 0)])
    charted = _charted(records[: max(top, 0)], cache)
    listed = records[len(charted) : len(charted) + TABLE_LIMIT]
    scope = ScanScope.of(overview["scan"])
    # Every series, read only when the scan's filter left some out (to tell them apart).
    index = None if scope.whole_store or not scope.scanned else api.series_index(store, scan_id=sid)
    return {
        "standalone": True,
        "root": "",
        "version": _version(),
        "store_name": store.path.name,
        "generated": datetime.now().isoformat(timespec="seconds"),
        "assets": _assets(),
        "ov": overview,
        "charted": charted,
        "charted_ids": {item["finding"]["id"] for item in charted},
        "listed": listed,
        "omitted": max(len(records) - len(charted) - len(listed), 0),
        "scope": scope.summary(index, overview["series"]),
        "pairs": _pair_sections(store, records, scope, index, pairs),
        "revisions": _revisions(charted, cache),
        "releases": release_records(store),
        "method": method(overview["scan"]),
    }


def _charted(records: Sequence[Mapping], cache: SeriesCache) -> list[dict]:
    out = []
    for rank, rec in enumerate(records, start=1):
        view = cache.view(rec)
        spec = chart_for(view, rec, cache.mirror(rec)) if view is not None else None
        out.append({"rank": rank, "finding": rec, "chart": spec, "chart_id": f"chart-{rank}"})
    return out


def _pair_sections(
    store: Store,
    records: Sequence[Mapping],
    scope: ScanScope,
    index: pd.DataFrame | None,
    limit: int,
) -> dict:
    """A section for each pair with findings (worst first, up to ``limit``; every pair the
    scan covered when the store holds no more than ``limit``); the rest in three lists:
    pairs with findings beyond the limit (``more``), pairs the scan covered that have none
    (``quiet``), and pairs outside the scan's filter (``unscanned``), never called quiet."""
    table = api.pairs(store, scan_id=scope.scan_id)
    rows = scope.mark_pairs(frame_records(table, months=("first_period", "last_period")), index)
    by_pair: dict[tuple[str, str], list[Mapping]] = {}
    for rec in records:
        by_pair.setdefault((rec["reporter"], rec["partner"]), []).append(rec)
    out: dict[str, list] = {"sections": [], "more": [], "quiet": [], "unscanned": []}
    for pair in rows:
        found = by_pair.get((pair["reporter"], pair["partner"]), [])
        wanted = found or (len(rows) <= limit and pair["series_scanned"])
        if wanted and len(out["sections"]) < limit:
            out["sections"].append(_pair_section(store, pair, found, scope))
        elif found:
            out["more"].append(pair)
        elif pair["series_scanned"]:
            out["quiet"].append(pair)
        else:
            out["unscanned"].append(pair)
    return out


def _pair_section(store: Store, pair: dict, found: Sequence[Mapping], scope: ScanScope) -> dict:
    """One pair's series (most at stake first) and its worst findings."""
    series = api.series_index(
        store,
        reporter=pair["reporter"],
        partner=pair["partner"],
        limit=PAIR_SERIES,
        scan_id=scope.scan_id,
    )
    listed = frame_records(series, months=("first_period", "last_period"))
    return {
        **pair,
        "findings_list": found[:PAIR_FINDINGS],
        "series_list": scope.mark_series(listed),
    }


def _revisions(charted: Sequence[Mapping], cache: SeriesCache) -> list[dict]:
    """Revised periods of the charted series (SeriesView.history), one block per series."""
    out, seen = [], set()
    for item in charted:
        key = cache.key(item["finding"])
        view = cache.view(item["finding"])
        if key in seen or view is None:
            continue
        seen.add(key)
        rows = revised_rows(view)
        if rows:
            currency = str(view.observations["currency"].iat[0])
            out.append({"series": item["finding"], "currency": currency, "rows": rows})
    return out


def _assets() -> dict:
    """The stylesheet, plotly.js and the chart script, inlined: the file fetches nothing."""
    return {
        "css": inline_style(static_text("app.css")),
        "plotly": inline_script(plotly_js_path().read_text("utf-8")),
        "app": inline_script(static_text("app.js")),
    }


def _version() -> str:
    from tradesentry import __version__

    return __version__
