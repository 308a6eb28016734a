"""Scan history: which findings are new since the last scan, and which went away.

Every scan is saved with its parameters and a watermark, the newest release the store held
when it ran (``scans.release``). A finding keeps its stable id (kind, series, months)
across scans, so "new" is a set difference of ids between a scan and its baseline: the
latest earlier scan run with the same parameters. Comparing with a scan of other
filters would call every series the other scan did not look at "resolved"; the engine is
not a parameter, since both engines give the same findings.
"""

from __future__ import annotations

import json

import pandas as pd

from tradesentry.errors import InputError
from tradesentry.findings import Findings, rank
from tradesentry.scope import ScanScope
from tradesentry.store import Store

_SERIES_FILTERS = ("reporter", "partner", "flow", "commodity", "since", "kinds")


def scans(store: Store) -> pd.DataFrame:
    """Every saved scan: id, parameters (a dict without the engine) and watermark, oldest first.

    Scans saved before the watermark existed have ``release`` = NaN.
    """
    frame = store.con.cursor().execute("SELECT * FROM scans ORDER BY id").df()
    if "release" not in frame:  # a store opened read-only before its schema was upgraded
        frame["release"] = float("nan")
    frame["parameters"] = frame["parameters"].map(_parameters)
    return frame[["id", "started_at", "parameters", "release", "findings"]]


def _parameters(text: str | None) -> dict:
    """The scan's filters in a form two scans can be compared by (lists sorted, no engine;
    kinds naming every detector are no limit, as ``ScanScope`` reads them)."""
    from tradesentry.detectors import registry

    raw = json.loads(text) if text else {}
    out = {}
    for key in _SERIES_FILTERS:
        value = raw.get(key)
        if isinstance(value, str) and key != "since":
            value = [value]
        out[key] = sorted(value) if isinstance(value, list) else value
    if out["kinds"] and set(out["kinds"]) >= set(registry()):
        out["kinds"] = None
    return out


def is_full(parameters: dict) -> bool:
    """True for a scan of every series with every detector (what a digest wants)."""
    return all(parameters.get(key) in (None, []) for key in _SERIES_FILTERS)


def previous_scan(store: Store, scan_id: int | None = None) -> int | None:
    """The latest scan before ``scan_id`` (the latest scan by default) with the same parameters."""
    history = scans(store)
    scan_id = _resolve(history, scan_id)
    if scan_id is None:
        return None
    wanted = history.loc[history["id"] == scan_id, "parameters"].iat[0]
    earlier = history[(history["id"] < scan_id) & history["parameters"].map(wanted.__eq__)]
    return None if earlier.empty else int(earlier["id"].iat[-1])


def _resolve(history: pd.DataFrame, scan_id: int | None) -> int | None:
    if scan_id is None:
        return None if history.empty else int(history["id"].iat[-1])
    if scan_id not in set(history["id"]):
        raise InputError(f"no scan {scan_id} in the store (see the scans in `tradesentry scan`)")
    return int(scan_id)


def compare(
    store: Store, scan_id: int | None = None, baseline: int | None = None
) -> tuple[Findings, Findings]:
    """(new, resolved): findings of ``scan_id`` absent from ``baseline``, and the reverse.

    ``scan_id`` defaults to the latest scan and ``baseline`` to its previous scan with the
    same parameters; with no baseline every finding is new and none is resolved.
    """
    scan_id = _resolve(scans(store), scan_id)
    if scan_id is not None and baseline is None:
        baseline = previous_scan(store, scan_id)
    return diff(store, scan_id, baseline)


def diff(store: Store, scan_id: int | None, baseline: int | None) -> tuple[Findings, Findings]:
    """(new, resolved) of ``scan_id`` against exactly ``baseline``: None is no baseline.

    Unlike ``compare``, a missing baseline is not looked up: every finding is new. The
    digest needs this, since its baseline is the last scan before a release landed, and a
    release no scan preceded has none, whatever scans ran since.
    """
    from tradesentry.api import findings, scan_info

    if scan_id is None:
        empty = findings(store, scan_id=None)
        return empty, empty
    current = findings(store, scan_id=scan_id).to_frame()
    if baseline is None:
        return Findings(current, scan_id), Findings(current.iloc[0:0], scan_id)
    before = findings(store, scan_id=baseline).to_frame()
    # only what both scans looked at: a finding outside the other scan's filters, kinds or
    # months is neither new nor gone (`scan --kind spike` against a full scan had every
    # other kind "resolved")
    now, then = (ScanScope.of(scan_info(store, s)) for s in (scan_id, baseline))
    new = current[~_events(current).isin(set(_events(before))) & then.holds(current)]
    gone = before[~before["id"].isin(set(current["id"])) & now.holds(before)]
    con = store.con.cursor()
    return Findings(rank(new, con), scan_id), Findings(rank(gone, con), baseline)


def _events(frame: pd.DataFrame) -> pd.Series:
    """Each finding's event: its id, and for a revision the release that made it. A
    revision's id is its kind, series and months (the contract's), so a second revision of
    a month by a later release (May 2021 revised 2.7M → 3.0M, then 3.0M → 30M) had the first
    one's id and was never new: not in a digest's new findings, nor in the watch's post."""
    release = frame["evidence"].map(lambda ev: (ev or {}).get("release"))
    revision = frame["kind"] == "revision"
    return frame["id"].where(~revision, frame["id"] + "@" + release.astype(str))


def same_scope(store: Store, scan_id: int, baseline: int) -> bool:
    """Whether two saved scans looked at the same series, kinds and months: the parameters
    ``previous_scan`` compares (``diff`` compares findings only where both looked)."""
    history = scans(store)
    a, b = (history.loc[history["id"] == s, "parameters"] for s in (scan_id, baseline))
    return not a.empty and not b.empty and a.iat[0] == b.iat[0]


def scans_for_release(store: Store, release: int) -> tuple[int | None, int | None]:
    """(current, baseline) scans for a digest of ``release``; either may be None.

    Current: the first scan that saw the release, so a re-scan that saw no newer release
    leaves the digest as it was. Scans that saw the release and not the next one come
    first, and among them full scans (every series, every detector); failing those, the
    first scan that saw it at all, full scans again first. Baseline: see ``baseline_for``.
    """
    history = scans(store).dropna(subset=["release"])
    saw = history[history["release"] >= release]
    next_release = (
        store.con.cursor()
        .execute("SELECT min(id) FROM releases WHERE id > ?", [release])
        .fetchone()[0]
    )
    own = saw[saw["release"] < next_release] if next_release is not None else saw
    for pool in (own, saw):
        full = pool[pool["parameters"].map(is_full)]
        chosen = full if not full.empty else pool
        if not chosen.empty:
            current = int(chosen["id"].iat[0])
            return current, _baseline(history, release, current)
    return None, None


def last_scan_before(store: Store, release: int) -> int | None:
    """The last scan, of any parameters, that ran before ``release`` landed (None: none)."""
    history = scans(store).dropna(subset=["release"])
    before = history[history["release"] < release]
    return None if before.empty else int(before["id"].iat[-1])


def baseline_for(store: Store, release: int, scan_id: int) -> int | None:
    """The last scan with ``scan_id``'s parameters that ran before ``release`` landed.

    None when no such scan ran (or ``scan_id`` has no watermark to tell).
    """
    history = scans(store)
    _resolve(history, scan_id)
    return _baseline(history.dropna(subset=["release"]), release, scan_id)


def _baseline(history: pd.DataFrame, release: int, scan_id: int) -> int | None:
    row = history[history["id"] == scan_id]
    if row.empty:
        return None
    wanted = row["parameters"].iat[0]
    before = history[
        (history["release"] < release)
        & (history["id"] < scan_id)
        & history["parameters"].map(wanted.__eq__)
    ]
    return None if before.empty else int(before["id"].iat[-1])
