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
