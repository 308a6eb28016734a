"""api.overview's money at stake counts each sum of money once (rules in its docstring)."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesentry import api

_SERIES = {
    "reporter": "CZE",
    "partner": "DEU",
    "flow": "import",
    "commodity": "39201081",
    "classification": "CN8",
    "breakdown": "",
    "freq": "M",
}


def _finding(kind: str, impact: float, period: str, period_end: str | None = None, **key):
    """One saved finding on the CZE←DEU series (``key`` overrides its fields)."""
    return {
        **_SERIES,
        **key,
        "id": f"{kind}-{impact}-{period}-{sorted(key.items())}",
        "kind": kind,
        "period": period,
        "period_end": period_end or period,
        "observed": 1.0,
        "expected": 1.0,
        "currency": "EUR",
        "impact": impact,
        "score": 0.9,
        "severity": "high",
        "explanation": "",
        "evidence": {},
    }


WLD = {"partner": "WLD"}
EXPORT_SIDE = {"reporter": "DEU", "partner": "CZE", "flow": "export"}

CASES = {
    # one series, one month, two kinds: the larger counts
    "same series, spike and unit value": (
        [_finding("spike", 450, "2023-04"), _finding("unit_value", 397, "2023-04")],
        450,
    ),
    "same series, unit value inside the import side's mirror gap": (
        [_finding("unit_value", 300, "2023-04"), _finding("mirror_gap", 900, "2023-01", "2023-06")],
        900,
    ),
    # a level shift's drop and its recovery: months that do not overlap, two events
    "same series, months that do not overlap": (
        [_finding("level_shift", 275, "2024-05"), _finding("level_shift", 839, "2024-09")],
        275 + 839,
    ),
    # no chaining: the two outer findings do not overlap each other, each counts
    "same series, a smaller finding overlapping two larger ones": (
        [
            _finding("mirror_gap", 20, "2023-01", "2023-03"),
            _finding("gap", 10, "2023-03", "2023-05"),
            _finding("mirror_gap", 20, "2023-05", "2023-07"),
        ],
        40,
    ),
    "world and a partner inside it, same month": (
        [_finding("spike", 441, "2023-04", **WLD), _finding("spike", 450, "2023-04")],
        450,
    ),
    # an aggregate and its details count once, at the larger: the aggregate's money holds
    # its details' where it is larger, theirs hold its where they add up to more
    "world larger than its partner's finding": (
        [_finding("unit_value", 900, "2023-04", **WLD), _finding("spike", 100, "2023-04")],
        900,
    ),
    "world and a partner, months that do not overlap": (
        [_finding("spike", 441, "2023-04", **WLD), _finding("spike", 450, "2023-06")],
        441 + 450,
    ),
    "world and another commodity's partner finding": (
        [
            _finding("spike", 441, "2023-04", **WLD),
            _finding("spike", 450, "2023-04", commodity="1"),
        ],
        441 + 450,
    ),
    "TOTAL and a chapter of another HS edition": (
        [
            _finding("level_shift", 500, "2023-04", commodity="TOTAL", classification="HS"),
            _finding("dip", 80, "2023-04", commodity="39", classification="H5"),
        ],
        500,
    ),
    "TOTAL and two chapters that add up to more": (
        [
            _finding("level_shift", 500, "2023-04", commodity="TOTAL", classification="HS"),
            _finding("dip", 300, "2023-04", commodity="39", classification="HS"),
            _finding("dip", 250, "2023-04", commodity="48", classification="HS"),
        ],
        550,
    ),
    "TOTAL (HS) and a Comext CN8 product": (
        [
            _finding("level_shift", 500, "2023-04", commodity="TOTAL", classification="HS"),
            _finding("dip", 80, "2023-04", commodity="39201081", classification="CN8"),
        ],
        500,
    ),
    "TOTAL and a code of another classification": (
        [
            _finding("level_shift", 500, "2023-04", commodity="TOTAL", classification="HS"),
            _finding("dip", 80, "2023-04", commodity="39", classification="SITC"),
        ],
        580,
    ),
    "world TOTAL and a partner's chapter": (
        [
            _finding("spike", 500, "2023-04", commodity="TOTAL", classification="HS", **WLD),
            _finding("spike", 80, "2023-04", commodity="39", classification="HS"),
        ],
        500,
    ),
    "mirror sides over overlapping months": (
        [
            _finding("mirror_gap", 700, "2023-01", "2023-06", **EXPORT_SIDE),
            _finding("mirror_gap", 600, "2023-03", "2023-09"),
        ],
        600,
    ),
    "mirror sides over months that do not overlap": (
        [
            _finding("mirror_gap", 700, "2023-01", "2023-02", **EXPORT_SIDE),
            _finding("mirror_gap", 600, "2023-03", "2023-09"),
        ],
        1300,
    ),
    "another reporter's series, same month": (
        [_finding("spike", 450, "2023-04"), _finding("spike", 397, "2023-04", reporter="AUT")],
        450 + 397,
    ),
    # nested details: the partner's chapter is in the partner's total, which is in the
    # world's; only the world's top-level details are added up against it
    "world total, a partner's total and its chapter": (
        [
            _finding("level_shift", 100, "2023-04", commodity="TOTAL", classification="HS", **WLD),
            _finding("level_shift", 50, "2023-04", commodity="TOTAL", classification="HS"),
            _finding("dip", 50, "2023-04", commodity="39", classification="HS"),
        ],
        100,
    ),
    "world total, a larger partner's total and its chapter": (
        [
            _finding("level_shift", 120, "2023-04", commodity="TOTAL", classification="HS", **WLD),
            _finding("level_shift", 100, "2023-04", commodity="TOTAL", classification="HS"),
            _finding("dip", 60, "2023-04", commodity="39", classification="HS"),
        ],
        120,
    ),
    # the export side the mirror rule leaves out is no detail that accounts for the world's
    "world total and a partner's mirror gap the import side reports": (
        [
            _finding("level_shift", 100, "2023-04", commodity="TOTAL", classification="HS",
                     **{**EXPORT_SIDE, "partner": "WLD"}),
            _finding("mirror_gap", 100, "2023-04", commodity="TOTAL", classification="HS",
                     **EXPORT_SIDE),
            _finding("mirror_gap", 10, "2023-04", commodity="TOTAL", classification="HS"),
        ],
        110,
    ),
    # a detail outside the total's months is no detail of it: it counts on its own, after
    # its series' overlapping finding went into the total
    "a total and two findings of a commodity, one outside its months": (
        [
            _finding("level_shift", 1000, "2023-04", commodity="TOTAL", classification="HS"),
            _finding("mirror_gap", 100, "2023-03", "2023-04", commodity="39",
                     classification="HS"),
            _finding("spike", 50, "2023-03", commodity="39", classification="HS"),
        ],
        1050,
    ),
}  # fmt: skip


@pytest.mark.parametrize(("found", "at_stake"), CASES.values(), ids=CASES.keys())
def test_money_at_stake_counts_overlapping_findings_once(store, found, at_stake):
    scan_id = api._save_scan(store, [pd.DataFrame(found)], {}, None, None, "local")
    summary = api.overview(store, scan_id=scan_id)
    assert summary["at_stake"] == {"EUR": pytest.approx(at_stake)}
    assert summary["findings"] == len(found)  # the counts still hold every finding


def test_an_aggregate_is_weighed_against_details_in_its_own_currency(store):
    """A world level shift of €600M and a chapter's ¥1 billion: sums in two currencies are
    not compared (each currency has its own line), and neither goes."""
    found = [
        _finding("level_shift", 6e8, "2023-04", commodity="TOTAL", classification="HS", **WLD),
        {**_finding("dip", 1e9, "2023-04", commodity="39", classification="HS"), "currency": "JPY"},
    ]
    scan_id = api._save_scan(store, [pd.DataFrame(found)], {}, None, None, "local")
    assert api.overview(store, scan_id=scan_id)["at_stake"] == {"EUR": 6e8, "JPY": 1e9}


def test_money_at_stake_is_per_currency_and_skips_a_currency_without_impact(store):
    found = [
        _finding("spike", 450, "2023-04"),
        {**_finding("spike", 40, "2023-04", reporter="USA"), "currency": "USD"},
        {**_finding("gap", float("nan"), "2023-04", reporter="GBR"), "currency": "GBP"},
    ]
    scan_id = api._save_scan(store, [pd.DataFrame(found)], {}, None, None, "local")
    assert api.overview(store, scan_id=scan_id)["at_stake"] == {"EUR": 450, "USD": 40}
