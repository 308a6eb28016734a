"""Pieces of a page built from api results, shared by the report and the dashboard.

Each function turns what the api returns into plain dicts and lists the templates read;
none of them decides anything about the data (that is the detectors' job).
"""

from __future__ import annotations

import inspect
import platform
import re
from collections.abc import Mapping, Sequence
from importlib import metadata

import pandas as pd

from tradesentry import api
from tradesentry.detectors import default_detectors
from tradesentry.errors import InputError
from tradesentry.findings import HIGH, MEDIUM, Findings
from tradesentry.report.charts import series_figure
from tradesentry.store import Store

_VERSIONED = ("tradesentry", "duckdb", "numpy", "pandas", "plotly", "jinja2")


def release_records(store: Store) -> list[dict]:
    """Releases as `tradesentry releases --format json` prints them."""
    frame = store.releases()
    records = []
    for row in frame.to_dict("records"):
        row["published"] = _iso(row["published"], "%Y-%m-%d")
        row["ingested_at"] = _iso(row["ingested_at"], "%Y-%m-%dT%H:%M:%S")
        records.append({k: _plain(v) for k, v in row.items()})
    return records


def _iso(value, fmt: str) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).strftime(fmt)


def _plain(value):
    """numpy scalars, NaN, NaT and timestamps as JSON's own types (dates as ISO text)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        # A timestamp at midnight is a date (a time object at midnight is still truthy).
        if value == value.normalize():
            return value.strftime("%Y-%m-%d")
        return value.isoformat(timespec="seconds")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def frame_records(
    frame: pd.DataFrame, months: Sequence[str] = (), dates: Sequence[str] = ()
) -> list[dict]:
    """A frame as JSON-ready dicts; ``months`` columns as YYYY-MM, ``dates`` as YYYY-MM-DD."""
    out = []
    for row in frame.to_dict("records"):
        for column in months:
            row[column] = _iso(row[column], "%Y-%m")
        for column in dates:
            row[column] = _iso(row[column], "%Y-%m-%d")
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def history_rows(view: api.SeriesView) -> list[dict]:
    """Every release's figure for each period, with ``revised`` where releases disagree."""
    history = view.history
    if history.empty:
        return []
    # a figure withheld (NaN) counts as a value of its own, as no figure is ever below 0
    rounded = history["value"].round(6).fillna(-1.0)
    values = rounded.groupby([history["period"], history["period_months"]]).transform("nunique")
    # ``published`` is a release date, as `releases` prints it (not a timestamp, not a month).
    return frame_records(
        history.assign(revised=values > 1), months=("period",), dates=("published",)
    )


def revised_rows(view: api.SeriesView) -> list[dict]:
    """Only the periods whose figure changed between releases (the revision history)."""
    return [row for row in history_rows(view) if row["revised"]]


def observation_rows(view: api.SeriesView) -> list[dict]:
    return frame_records(view.observations, months=("period",))


def chart_for(
    view: api.SeriesView,
    focus: Mapping | None,
    mirror: api.SeriesView | None,
    log: bool | None = None,
) -> dict:
    return series_figure(view, focus=focus, mirror=mirror, log=log)


def finding_records(found: Findings) -> list[dict]:
    """Findings as their records (``Findings.to_records``), which keep the
    ``classification`` and the ``breakdown`` of each finding's series beside the
    contract's columns: a store may hold a series under several classifications (H5 and
    HS), and a flow as its total ('') beside its parts (UN Comtrade's rows by mode of
    transport…), so a page that fetches or links a finding's series needs both."""
    return found.to_records()


def series_key(view: api.SeriesView) -> dict:
    """A view's key with its classification, breakdown and frequency: what a link to it
    and a finding's key name."""
    return {
        **view.key,
        "classification": view.classification,
        "breakdown": view.breakdown,
        "freq": view.freq,
    }


class SeriesCache:
    """Series views of one page, fetched once each (many findings share a series)."""

    def __init__(self, store: Store, scan_id: int | None):
        self.store, self.scan_id = store, scan_id
        self._views: dict[tuple, api.SeriesView | None] = {}
        self._mirrors: dict[tuple, api.SeriesView | None] = {}

    @staticmethod
    def key(rec: Mapping) -> tuple[str | None, ...]:
        """The series of a finding: its classification (one HS code may be held under H5
        and HS, two series), its breakdown (a part of the flow beside its total) and its
        frequency (the same codes may be held monthly and annually, two series)."""
        return tuple(rec.get(column) for column in api.SERIES_COLUMNS)

    def prefetch(self, records: Sequence[Mapping]) -> None:
        """Read the series of ``records`` and their mirrors at once (``api.series_views``):
        one chart after another, each read alone, took a minute for a thousand charts."""
        if self.scan_id is None:
            return
        keys = [self.key(rec) for rec in records]
        keys = [k for k in dict.fromkeys(keys) if k not in self._views and None not in k]
        mirrors = {k: api.mirror_key(k) for k in keys}
        wanted = keys + [m for m in mirrors.values() if m is not None]
        views = api.series_views(self.store, wanted, scan_id=self.scan_id)
        for key, mirror in mirrors.items():
            self._views[key] = views.get(key)
            self._mirrors[key] = None if mirror is None else views.get(mirror)

    def view(self, rec: Mapping) -> api.SeriesView | None:
        key = self.key(rec)
        if key not in self._views:
            *series, classification, freq, breakdown = key
            try:
                self._views[key] = api.series(
                    self.store,
                    *series,
                    classification=classification,
                    freq=freq,
                    breakdown=breakdown,
                    scan_id=self.scan_id,
                )
            except InputError:  # a finding whose series has left the current view
                self._views[key] = None
        return self._views[key]

    def mirror(self, rec: Mapping) -> api.SeriesView | None:
        """The partner's record of the flow, of the same part of it at the same frequency
        (``api.mirror``)."""
        key = self.key(rec)
        if key not in self._mirrors:
            *series, classification, freq, breakdown = key
            self._mirrors[key] = api.mirror(
                self.store,
                *series,
                classification=classification,
                breakdown=breakdown,
                scan_id=self.scan_id,
                freq=freq,
            )
        return self._mirrors[key]


def method(scan: Mapping | None) -> dict:
    """The detectors that ran with their parameters, the severity scale and the versions."""
    kinds = (scan or {}).get("parameters", {}).get("kinds")
    try:
        ran = default_detectors(kinds)
    except InputError:  # the scan ran a detector this version no longer has
        ran = default_detectors()
    detectors = []
    for d in ran:
        paragraphs = doc_paragraphs(type(d).__doc__)
        detectors.append(
            {
                "kind": d.kind,
                "name": type(d).__name__,
                "about": paragraphs[0] if paragraphs else "",
                "details": paragraphs[1:],
                "parameters": tunable_parameters(d),
                "supersedes": list(d.supersedes),
            }
        )
    return {
        "detectors": detectors,
        "severity": {"high": HIGH, "medium": MEDIUM},
        "versions": versions(),
        "scan": scan,
    }


def tunable_parameters(detector) -> dict:
    """The detector's own settings (``Detector.parameters()``), as text."""
    return {k: _plain(v) for k, v in detector.parameters().items()}


# RST markup of the detectors' docstrings: ``literal``, *emphasis*, **strong**.
_RST_LITERAL = re.compile(r"``(.+?)``", re.S)
_RST_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}(?=\S)(.+?)(?<=\S)\*{1,2}(?![\w*])", re.S)


def doc_paragraphs(doc: str | None) -> list[str]:
    """A docstring as plain-text paragraphs: markup removed, line wraps and the runs of
    spaces of its indentation joined into single spaces, blank lines kept as breaks."""
    text = inspect.cleandoc(doc or "")
    text = _RST_EMPHASIS.sub(r"\1", _RST_LITERAL.sub(r"\1", text))
    paragraphs = re.split(r"\n\s*\n", text)
    return [" ".join(p.split()) for p in paragraphs if p.strip()]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
