"""A scan's scope, read from its saved parameters: which series it looked at, in words."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesentry.detectors import registry
from tradesentry.scope import ScanScope

EXPORT = {"reporter": "CHN", "partner": "PRK", "flow": "export", "commodity": "TOTAL"}
IMPORT = {**EXPORT, "flow": "import"}


def _scan(**parameters) -> dict:
    return {"id": 7, "parameters": {"engine": "local", "since": None, **parameters}}


@pytest.mark.parametrize(
    ("scan", "covers", "terms"),
    [
        (None, (False, False), []),
        (_scan(), (True, True), []),
        (_scan(flow=["import"]), (False, True), ["flow: import"]),
        (_scan(flow="import", reporter=None), (False, True), ["flow: import"]),  # api.scan's form
        (_scan(reporter=["RUS", "CHN"]), (True, True), ["reporter: RUS, CHN"]),
        (_scan(kinds=["dip"]), (True, True), ["detectors: dip"]),
        (_scan(kinds=sorted(registry())), (True, True), []),  # every detector is no limit
        (_scan(since="2021-01"), (True, True), ["findings ending in or after 2021-01"]),
    ],
)
def test_scope_of_a_scan(scan, covers, terms):
    scope = ScanScope.of(scan)
    assert (scope.covers(EXPORT), scope.covers(IMPORT)) == covers
    assert scope.terms() == terms


def test_pairs_count_the_series_a_filtered_scan_covered():
    index = pd.DataFrame([EXPORT, IMPORT, {**EXPORT, "reporter": "RUS", "partner": "CHN"}])
    scope = ScanScope.of(_scan(flow=["import"]))
    pairs = [
        {"reporter": "CHN", "partner": "PRK", "series": 2},
        {"reporter": "RUS", "partner": "CHN", "series": 1},
    ]
    marked = scope.mark_pairs(pairs, index)
    assert [p["series_scanned"] for p in marked] == [1, 0]
    assert scope.summary(index, 3)["series_scanned"] == 1
    assert ScanScope.of(_scan()).summary(None, 3)["series_scanned"] == 3


def test_a_scan_before_the_latest_release_does_not_cover_its_figures():
    """Release 5 came after scan 1, which saw releases to 4: a series with figures from it
    is not scanned, whatever the filters; one without them still is."""
    scope = ScanScope.of({"id": 1, "parameters": {}, "release": 4, "store_release": 5})
    assert scope.stale and not scope.whole_store
    series = pd.DataFrame(
        {"reporter": ["CHN", "CHN"], "partner": ["PRK", "PRK"], "newest_release": [4, 5]}
    )
    assert scope.covered(series).tolist() == [True, False]
    assert [scope.covers(r) for r in series.to_dict("records")] == [True, False]
    summary = scope.summary(series, 2)
    assert (summary["series_scanned"], summary["after"], summary["filtered"]) == (1, (5, 5), True)


@pytest.mark.parametrize(("release", "store_release"), [(5, 5), (None, 5), (float("nan"), 5)])
def test_a_scan_of_the_latest_release_or_without_a_watermark_is_current(release, store_release):
    scope = ScanScope.of(
        {"id": 1, "parameters": {}, "release": release, "store_release": store_release}
    )
    assert not scope.stale and scope.whole_store
    assert scope.summary(None, 7)["series_scanned"] == 7


@pytest.mark.parametrize(
    ("scan", "query", "outside"),
    [
        (_scan(), {"flow": "export", "kinds": ["dip"], "since": "2020-01"}, []),
        (_scan(flow=["import"]), {"flow": "export"}, ["flow export"]),
        (_scan(flow=["import"]), {"flow": ["import", "export"]}, ["flow export"]),
        (_scan(flow=["import"]), {"reporter": "CHN"}, []),
        (_scan(kinds=["spike"]), {"kinds": ["level_shift"]}, ["kind level_shift"]),
        (_scan(kinds=["spike"]), {"flow": "export"}, []),
        (_scan(since="2021-01"), {"since": "2020-12"}, ["findings ending before 2021-01"]),
        (_scan(since="2021-01"), {"since": "2021-01"}, []),
        (_scan(since="2021-01"), {}, []),
    ],
)
def test_what_a_query_asks_beyond_a_scan(scan, query, outside):
    """``api.findings`` refuses a query that names what its scan did not look at; what the
    query leaves open it reads as the scan covered it."""
    scope = ScanScope.of(scan)
    filters = {k: v for k, v in query.items() if k not in ("kinds", "since")}
    assert scope.outside(filters, query.get("kinds"), query.get("since")) == outside
